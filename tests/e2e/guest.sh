#!/bin/sh
# guest.sh — runs inside the e2e guest (chroot of the host root): starts udevd and sekishod, runs the scenarios, prints E2E-RESULT lines.
echo "E2E-RESULT boot ok kernel $(uname -r) uptime $(cut -d' ' -f1 /proc/uptime)s"
