#!/bin/sh
# store-rotate.sh — the daemon rotates its audit log by size; the series verifies oldest first, and restarts raise no false alarm.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
make_key admin
LOG="$T/log/audit.log"

start_daemon --plugins=demo --audit-max-size 4096
for n in $(seq 1 12); do
        write_policy "$T/p$n.yaml" $n "description: rotation $n"; sign "$T/p$n.yaml" admin
        drop "$T/p$n.yaml"
        wait_for "[ \"\$(serial_in_force)\" = $n ]" || fail "bundle $n not applied"
        # A restart in between: the daemon's memory of the log follows it across files.
        [ $n = 6 ] && { stop_daemon; start_daemon --plugins=demo --audit-max-size 4096; }
done
stop_daemon
[ -s "$LOG.1" ] && [ -s "$LOG.2" ] || fail "the log was not rotated: $(ls "$T/log")"
head -n 1 "$LOG" | grep -q '"event":"audit.continued"' || fail "the new file does not start with audit.continued"
grep -q "was cut" "$T/daemon.log" && fail "a rotation was taken for a cut"
series=$(ls "$T/log"/audit.log.* | grep -v head | sort -t. -k3 -rn | tr '\n' ' ')
ctl audit verify $series "$LOG" >"$T/v" || fail "the rotated series does not verify: $(cat "$T/v")"
ok "rotated into $(echo $series | wc -w) older files; the series verifies: $(sed 's/.*: //' "$T/v")"
ctl audit verify "$LOG" >"$T/v" || fail "the newest file alone does not verify: $(cat "$T/v")"
grep -q "continuing a rotated file not given" "$T/v" || fail "verify of one file does not say it continues another"
# A file left out of the middle of the series breaks it.
set -- $series
[ $# -ge 2 ] || fail "need two rotated files"
ctl audit verify "$1" "$LOG" >"$T/v" && fail "a series with a file left out verifies"
ok "the newest file alone verifies as a continuation; a series with a hole does not"
