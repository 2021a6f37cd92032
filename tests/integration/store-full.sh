#!/bin/sh
# store-full.sh — a full state directory (a tmpfs in a private mount namespace): the refusal says no-space, nothing half-written stays.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd minisign unshare nsenter
make_key admin
LOG="$T/log/audit.log"

setup_dirs
cat >"$T/wrap.sh" <<WRAP
mount -t tmpfs -o size=256k sekisho-test "$T/state" && exec "\$@"
WRAP
DAEMON_WRAP="unshare -m --propagation private sh $T/wrap.sh" start_daemon --plugins=demo
inns() { nsenter -t "$DAEMON_PID" -m "$@"; }
# The state directory is only visible inside the daemon's mount namespace.
serial_in_force() { inns sed -n 's/.*"policy":{"serial":\([0-9]*\).*/\1/p' "$T/state/status.json"; }
inns sh -c "dd if=/dev/zero of='$T/state/fill' bs=1k 2>/dev/null; true"

write_policy "$T/p1.yaml" 1 "description: does not fit"; sign "$T/p1.yaml" admin
drop "$T/p1.yaml"
wait_audit '"event":"policy.refused"' || fail "the bundle was not refused on a full state directory"
grep '"event":"policy.refused"' "$LOG" | grep -q '"reason":"no-space","message":"[^"]*No space left on device' ||
        fail "the refusal does not say no-space: $(grep policy.refused "$LOG")"
grep -q '"reason":"unreadable"' "$LOG" && fail "a full disk is reported as unreadable"
inns find "$T/state" -name '*.tmp*' >"$T/ls"
[ -s "$T/ls" ] && fail "temporary files left behind: $(cat "$T/ls")"
[ "$(serial_in_force)" = 0 ] || fail "serial $(serial_in_force) in force after a failed install"
ok "full state directory: refused as no-space (ENOSPC), no .tmp left, the policy in force stays"

inns rm "$T/state/fill"
drop "$T/p1.yaml"
wait_for '[ "$(serial_in_force)" = 1 ]' || fail "the bundle does not apply once there is room"
stop_daemon
ctl --audit-log "$LOG" audit verify >/dev/null || fail "audit chain broken"
ok "applied once there is room"
