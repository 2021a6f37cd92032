#!/bin/sh
# posture-bus.sh — on a private bus the real daemon signals PostureChanged for a non-compliant fixture root and shows the posture in its Plugins property.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon dbus-send dbus-monitor

start_private_bus
dbus-monitor --session "type='signal',interface='org.sekisho.Sekisho1'" >"$T/signals" 2>&1 &
MONITOR_PID=$!
at_exit "kill $MONITOR_PID"
sleep 0.2 # let the monitor subscribe before the daemon starts

cp -a "$top_srcdir/tests/data/posture/qbittorrent" "$T/root"
start_daemon --plugins=posture --bus=session --sysroot "$T/root"
# The check at start runs before the bus is up; change the system so the
# re-check (dpkg rewrites its status: inotify) has something to signal.
rm -rf "$T/root/home/taro/.wine/drive_c/Winny"
cp "$T/root/var/lib/dpkg/status" "$T/root/var/lib/dpkg/status-new"
mv "$T/root/var/lib/dpkg/status-new" "$T/root/var/lib/dpkg/status"
wait_for "grep -q 'member=PostureChanged' '$T/signals'" || fail "no PostureChanged signal: $(cat "$T/signals")"
wait_for "grep -A24 'member=PostureChanged' '$T/signals' | grep -q '\"software.forbidden\"'" ||
        fail "PostureChanged lacks the failed check: $(cat "$T/signals")"
grep -A24 'member=PostureChanged' "$T/signals" | grep -q '"compliant"' || fail "PostureChanged lacks compliant"
ok "PostureChanged signalled with the failed checks"

dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 \
        org.freedesktop.DBus.Properties.Get string:org.sekisho.Sekisho1 string:Plugins >"$T/plugins"
grep -q 'string "posture"' "$T/plugins" || fail "Plugins lacks posture: $(cat "$T/plugins")"
grep -q 'string "compliant"' "$T/plugins" || fail "posture status lacks compliant: $(cat "$T/plugins")"
ok "posture status in the Plugins property"
stop_daemon
