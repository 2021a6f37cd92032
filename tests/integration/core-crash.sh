#!/bin/sh
# core-crash.sh — SIGKILL at every step of an install: afterwards exactly the old or the new policy is in force.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
grep -q 'define ENABLE_FAULT_INJECTION 1' "$top_builddir/config.h" || skip "built without --enable-fault-injection"

make_key admin
serial=1
write_policy "$T/p1.yaml" 1 "description: one"; sign "$T/p1.yaml" admin
start_daemon --plugins=demo
drop "$T/p1.yaml"
wait_for '[ "$(serial_in_force)" = 1 ]' || fail "first bundle not applied"
stop_daemon

# step EXPECTED: where the install dies, and which policy must be in force after it.
for step in install-written:old install-published:old install-switched:new install-serial:new apply-installed:new; do
        name=${step%%:*}
        want=${step##*:}
        old=$serial
        new=$((serial + 1))
        write_policy "$T/p$new.yaml" $new "description: step $name"
        sign "$T/p$new.yaml" admin

        SEKISHO_FAULT=$name start_daemon --plugins=demo
        pid=$DAEMON_PID
        drop "$T/p$new.yaml"
        wait_for "! kill -0 $pid 2>/dev/null" || fail "$name: fault hook did not fire"
        wait "$pid" 2>/dev/null || true
        DAEMON_PID=
        grep -q "fault injection at $name" "$T/daemon.log" || fail "$name: died elsewhere"

        # What the store holds right after the crash (offline, re-verified).
        in_store=$(ctl policy show | sed -n 's/^serial: *//p')
        [ "$want" = old ] && expect=$old || expect=$new
        [ "$in_store" = "$expect" ] || fail "$name: store has serial $in_store, expected $expect ($want)"
        ctl policy show | grep -q "source:   installed" || fail "$name: store does not use the installed policy"

        # The daemon restarts on the same policy (inbox emptied, so it cannot re-apply the bundle).
        rm -f "$T/inbox/"*.yaml*
        start_daemon --plugins=demo
        [ "$(serial_in_force)" = "$expect" ] || fail "$name: daemon runs serial $(serial_in_force), expected $expect"
        stop_daemon
        ctl --audit-log "$T/log/audit.log" audit verify >/dev/null || fail "$name: audit chain broken"

        # Pushing the same bundle again converges on the new policy (or is a no-op).
        start_daemon --plugins=demo
        drop "$T/p$new.yaml"
        wait_for "[ \"\$(serial_in_force)\" = $new ]" || fail "$name: bundle $new does not apply after the crash"
        stop_daemon
        serial=$new
        ok "killed at $name: $want policy in force after restart, store consistent"
done
ls "$T/state/policies" | grep -q tmp && fail "temporary install directories left behind"
ctl --audit-log "$T/log/audit.log" audit verify || fail "audit chain broken at the end"
