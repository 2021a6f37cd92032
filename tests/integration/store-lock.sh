#!/bin/sh
# store-lock.sh — one sekishod per state directory: the second names the holder and exits non-zero, touching nothing.
. "$(dirname "$0")/lib.sh"

start_daemon --plugins=demo
records=$(wc -l <"$T/log/audit.log")

# A second daemon on the same state directory (its own log, so only the lock can stop it).
rc=0
timeout 20 "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
        --inbox "$T/inbox" --audit-log "$T/log/second.log" --bus=none --plugins=demo >"$T/second.out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "a second sekishod on the same state directory exited 0"
[ $rc -ne 124 ] || fail "a second sekishod on the same state directory kept running"
grep -q "Another sekishod (pid $DAEMON_PID) runs on $T/state" "$T/second.out" ||
        fail "the second daemon does not name the holder: $(cat "$T/second.out")"
[ ! -s "$T/log/second.log" ] || fail "the second daemon wrote audit records before giving up"
[ "$(wc -l <"$T/log/audit.log")" = "$records" ] || fail "the first daemon's log changed"
ok "second daemon refused, holder pid $DAEMON_PID named"

# The lock goes with the process: after a SIGKILL the next daemon starts.
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
start_daemon --plugins=demo
stop_daemon
ok "lock released by the kernel when its holder dies"
