#!/bin/sh
# store-audit.sh — the audit log against cuts and full disks: truncation reported, head and start checked, write-ahead records, ENOSPC refuses changes.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
LOG="$T/log/audit.log"
verify() { ctl --audit-log "$LOG" audit verify "$@"; }

make_key admin
start_daemon --plugins=demo
for n in 1 2 3 4 5; do
        write_policy "$T/p$n.yaml" $n "description: p$n"; sign "$T/p$n.yaml" admin
        drop "$T/p$n.yaml"
        wait_for "[ \"\$(serial_in_force)\" = $n ]" || fail "bundle $n not applied"
done
stop_daemon
verify >/dev/null || fail "chain not intact to begin with"
cp "$LOG" "$T/log.orig"; cp "$LOG.head" "$T/head.orig"; cp "$T/state/audit.anchor" "$T/anchor.orig" 2>/dev/null || true
# Back to the intact log, and the daemon's memory of it, between cases.
restore() { cp "$T/log.orig" "$LOG"; cp "$T/head.orig" "$LOG.head"; cp "$T/anchor.orig" "$T/state/audit.anchor" 2>/dev/null || true; }
total=$(wc -l <"$LOG")

# 1. Cut the last 3 records and the head that would betray it: the daemon reports it at start.
head -n $((total - 3)) "$T/log.orig" >"$LOG"; rm "$LOG.head"
verify >"$T/v" && fail "a log without its head verifies: $(cat "$T/v")"
grep -q "is missing: the end of the log cannot be checked" "$T/v" || fail "verify does not say the head is gone: $(cat "$T/v")"
start_daemon --plugins=demo
stop_daemon
grep -q "was cut while sekishod was not running: the log ends at record $((total - 3)) but $total was written last" \
        "$T/daemon.log" || fail "the daemon did not say the log was cut"
grep -q "\"event\":\"audit.truncated\",\"clause\":\"[^\"]*\",\"missing-from\":\"$((total - 2))\",\"missing-to\":\"$total\"" "$LOG" ||
        fail "no audit.truncated record with the missing range"
ls "$T/state/"audit.anchor.evidence-$total >/dev/null || fail "the old anchor is not kept as evidence"
verify >"$T/v" && fail "a cut log verifies after a restart: $(cat "$T/v")"
grep -q "records $((total - 2))-$total removed or replaced" "$T/v" || fail "verify does not name the cut: $(cat "$T/v")"
ok "records cut while stopped: audit.truncated $((total - 2))-$total at start, verify fails naming them"

# 2. Cut at the start (the first 4 records dropped): verify says so.
restore
sed -i 1,4d "$LOG"
verify >"$T/v" && fail "a log cut at the start verifies: $(cat "$T/v")"
grep -q "the log starts at record 5, not at record 1" "$T/v" || fail "cut at start not named: $(cat "$T/v")"
ok "cut at the start detected"

# 3. The collector's checkpoints (here the daemon's own log stands for syslog) catch a redone chain.
restore
grep -q 'sekisho-checkpoint seq=' "$T/daemon.log" || fail "no checkpoints in the journal"
verify --checkpoints "$T/daemon.log" >"$T/v" || fail "checkpoints do not match an intact log: $(cat "$T/v")"
head -n $((total - 3)) "$T/log.orig" >"$LOG"
printf %s "$(sed -n "$((total - 3))p" "$T/log.orig")" | b2sum -l 256 | { read -r h _; echo "$((total - 3)) $h" >"$LOG.head"; }
verify >/dev/null || fail "the forged head should fool a plain verify (the point of checkpoints)"
verify --checkpoints "$T/daemon.log" >"$T/v" && fail "a cut at the end passes the collector's checkpoints"
grep -q "but the collector holds a checkpoint of record" "$T/v" || fail "checkpoints do not name the cut: $(cat "$T/v")"
ok "checkpoints held by a collector detect a cut at the end with a forged head"
restore

# 3b. A torn last line (power lost mid-write): repaired at start by a record that names it, never silently.
printf '{"seq":%d,"time":"2026-' $((total + 1)) >>"$LOG"
verify >"$T/v" && fail "a torn line verifies: $(cat "$T/v")"
start_daemon --plugins=demo
stop_daemon
grep -q "\"event\":\"audit.repaired\",\"torn-offset\":\"[0-9]*\",\"torn-bytes\":\"2[0-9]\"" "$LOG" || fail "no audit.repaired record for the torn line"
verify >"$T/v" || fail "a repaired log does not verify: $(cat "$T/v")"
grep -q "1 torn write(s) repaired" "$T/v" || fail "verify does not mention the repair: $(cat "$T/v")"
ok "torn last line repaired at start by an audit.repaired record; verify accepts it and says so"
restore

# 4. Killed right after the switch: at restart the policy in force gets its record, marked recovered.
if grep -q 'define ENABLE_FAULT_INJECTION 1' "$top_builddir/config.h"; then
        write_policy "$T/p6.yaml" 6 "description: p6"; sign "$T/p6.yaml" admin
        SEKISHO_FAULT=install-switched start_daemon --plugins=demo
        pid=$DAEMON_PID
        drop "$T/p6.yaml"
        wait_for "! kill -0 $pid 2>/dev/null" || fail "fault hook did not fire"
        wait "$pid" 2>/dev/null || true; DAEMON_PID=
        grep -q '"event":"policy.applying".*"serial":"6"' "$LOG" || fail "no write-ahead record before the switch"
        rm -f "$T/inbox/"*.yaml*
        start_daemon --plugins=demo
        [ "$(serial_in_force)" = 6 ] || fail "serial 6 not in force after the restart"
        stop_daemon
        grep -q '"event":"policy.applied".*"serial":"6".*"recovered":"yes' "$LOG" ||
                fail "serial 6 in force without a policy.applied record after the restart"
        verify >"$T/v" || fail "chain broken after the recovery: $(cat "$T/v")"
        ok "killed after the switch: write-ahead record before it, recovered policy.applied after"
else
        echo "# built without --enable-fault-injection: kill-after-switch case not run"
fi

# 5. The log's file system full (a tmpfs in a private mount namespace): no policy change without its record.
need_root
need_cmd unshare nsenter
cat >"$T/wrap.sh" <<WRAP
mount -t tmpfs -o size=128k sekisho-test "$T/log" && cp "$T/log.keep/"* "$T/log/" && exec "\$@"
WRAP
mkdir -p "$T/log.keep"; cp "$LOG" "$LOG.head" "$T/log.keep/"
DAEMON_WRAP="unshare -m --propagation private sh $T/wrap.sh" start_daemon --plugins=demo
inns() { nsenter -t "$DAEMON_PID" -m "$@"; }
inns sh -c "dd if=/dev/zero of='$T/log/fill' bs=1k 2>/dev/null; true"
# The log's last page may still have room for a few records: push until one is refused.
refused=
last=$(serial_in_force)      # the start's own records (daemon.started, heartbeat) may have taken the last room
for n in $(seq 9 40); do
        write_policy "$T/p$n.yaml" $n "description: p$n"; sign "$T/p$n.yaml" admin
        drop "$T/p$n.yaml"
        wait_for "[ \"\$(serial_in_force)\" = $n ] || grep -q 'p$n.yaml: the audit log .* cannot be written' '$T/daemon.log'" ||
                fail "bundle $n neither applied nor refused"
        if grep -q "p$n.yaml: the audit log .* cannot be written (No space left on device)" "$T/daemon.log"; then
                refused=$n; break
        fi
        inns grep -q "\"event\":\"policy.applied\".*\"serial\":\"$n\"" "$LOG" || fail "serial $n applied without its record"
        last=$n
done
[ -n "$refused" ] || fail "a full log disk never refused a policy change"
[ "$(serial_in_force)" = "$last" ] || fail "serial $refused was put in force with no record of it"
grep -q '"audit-error":"No space left on device"' "$T/state/status.json" || fail "status does not show the audit failure"
ctl report --bus=none >"$T/report" 2>&1 || true
grep -q "audit log cannot be written: No space left on device" "$T/report" || fail "the report does not show the audit failure"
inns rm "$T/log/fill"
drop "$T/p$refused.yaml"
wait_for "[ \"\$(serial_in_force)\" = $refused ]" || fail "serial $refused not applied once the disk has room"
inns "$SEKISHOCTL" --audit-log "$LOG" audit verify >"$T/v" || fail "chain broken by the full disk: $(cat "$T/v")"
grep -q '"audit-error"' "$T/state/status.json" && fail "status still shows the audit failure"
stop_daemon
ok "full log disk: policy change refused, status and report say ENOSPC; applied once there is room, chain intact"

# 6. An audit log that cannot even be opened: the policy in force stays enforced, nothing changes, the status says why.
mkdir -p "$T/not-a-file"
start_daemon --plugins=demo --audit-log "$T/not-a-file"
before=$(serial_in_force)
write_policy "$T/p50.yaml" 50 "description: no log"; sign "$T/p50.yaml" admin
drop "$T/p50.yaml"
wait_for "grep -q 'p50.yaml: the audit log .* cannot be written' '$T/daemon.log'" || fail "no refusal without an audit log"
[ "$(serial_in_force)" = "$before" ] || fail "a policy was changed with no audit log at all"
grep -q '"audit-error":"the audit log cannot be opened"' "$T/state/status.json" || fail "status does not say the log cannot be opened"
stop_daemon
ok "no audit log at all: the policy in force stays, no change, the status says why"
