#!/usr/bin/env python3
# boot.py — one boot of the reset tier's guest: QEMU's serial console on stdio, logged; kills QEMU (a power cut) on the first console line matching --kill-on, types --passphrase at the LUKS prompt, and exits with what ended the boot.
"""Exit 0: QEMU ended by itself (the guest rebooted or powered off, -no-reboot);
3: killed on --kill-on; 4: timeout (QEMU killed); 5: --fail-on seen (QEMU
killed). The console goes to --log (appended) and the last 40 lines to stderr
when the boot did not end as --expect says."""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--kill-on", default="")
    ap.add_argument("--fail-on", default="")
    ap.add_argument("--passphrase", default="")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.qemu[1:] if a.qemu and a.qemu[0] == "--" else a.qemu
    kill_on = re.compile(a.kill_on) if a.kill_on else None
    fail_on = re.compile(a.fail_on) if a.fail_on else None
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log = open(a.log, "ab", buffering=0)
    deadline = time.monotonic() + a.timeout
    buf, tail, rc, typed = b"", [], None, False
    while rc is None:
        left = deadline - time.monotonic()
        if left <= 0:
            rc = 4
            break
        r, _, _ = select.select([p.stdout], [], [], min(left, 1.0))
        if not r:
            if p.poll() is not None:
                rc = 0
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            p.wait()
            rc = 0
            break
        log.write(chunk)
        buf += chunk
        # the passphrase prompt has no newline
        if a.passphrase and not typed and b"Please unlock disk" in buf:
            p.stdin.write(a.passphrase.encode() + b"\n")
            p.stdin.flush()
            typed = True
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace").rstrip("\r")
            tail = (tail + [text])[-40:]
            if kill_on and kill_on.search(text):
                rc = 3
                break
            if fail_on and fail_on.search(text):
                rc = 5
                break
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)  # the power cut: nothing the guest did not flush survives
        p.wait()
    if rc in (4, 5):
        sys.stderr.write("\n".join(tail[-40:]) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
