#!/bin/sh
# core-daemon.sh — life cycle: embedded default, profiles through the demo plugin, SIGHUP, runtime revert, seccomp, --check-config.
. "$(dirname "$0")/lib.sh"
need_cmd minisign

make_key admin
start_daemon --plugins=demo
applied="$T/state/demo/applied"

# The embedded default is in force from the first start.
[ "$(serial_in_force)" = 0 ] || fail "embedded default not in force"
grep -q '"source":"embedded","state":"default"' "$T/state/status.json" || fail "status does not say embedded/default"
grep -q "label=(none)" "$applied" || fail "demo plugin did not get the default"
ok "embedded default in force at first start"

# Seccomp is active in the running daemon.
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "seccomp filter not active"
ok "seccomp mode 2"

# A policy with profiles: the demo plugin asks for "travel", whose overlay the core merges into every section.
write_policy "$T/p.yaml" 10 "demo:
  label: office
  level: 3
profiles:
  travel:
    demo: { label: abroad }
  quarantine:
    demo: { level: 9 }"
sign "$T/p.yaml" admin
drop "$T/p.yaml"
wait_for "grep -q 'label=office' '$applied'" || fail "policy 10 not applied to the plugin"
grep -q "level=3" "$applied" || fail "level not applied"
ok "policy applied to the plugin"

write_policy "$T/p2.yaml" 11 "demo:
  label: office
  level: 3
  request-profile: travel
profiles:
  travel:
    demo: { label: abroad }
  quarantine:
    demo: { level: 9 }"
sign "$T/p2.yaml" admin
drop "$T/p2.yaml"
wait_for "grep -q 'label=abroad' '$applied'" || fail "travel profile overlay not applied"
grep -q '"profiles":\["travel"\]' "$T/state/status.json" || fail "status does not list the travel profile"
grep -q '"event":"profile.requested".*"profile":"travel","by":"demo"' "$T/log/audit.log" || fail "profile request not audited"
ok "plugin-requested profile re-applied to every plugin"

# SIGHUP re-reads the installed policy and re-applies it.
count=$(sed -n 's/count=//p' "$applied")
kill -HUP "$DAEMON_PID"
wait_for "[ \$(sed -n 's/count=//p' '$applied') -gt $count ]" || fail "SIGHUP did not re-apply"
grep -q '"event":"policy.reloaded"' "$T/log/audit.log" || fail "reload not audited"
ok "SIGHUP reloads"

# Runtime revert: a verified bundle that a plugin cannot apply is undone and its serial remembered as bad.
write_policy "$T/bad.yaml" 12 "demo:
  label: broken
  fail-apply: true"
sign "$T/bad.yaml" admin
drop "$T/bad.yaml"
wait_audit '"reason":"apply-failed"' || fail "failed apply not reported"
[ "$(serial_in_force)" = 11 ] || fail "did not revert to serial 11"
grep -q 'label=abroad' "$applied" || fail "plugin not back on serial 11"
grep -qx 12 "$T/state/bad-serials" || fail "serial 12 not remembered as bad"
ok "runtime revert to the last good policy"

# The bad serial stays refused even re-signed; a newer one is accepted.
drop "$T/bad.yaml"
wait_audit '"reason":"serial-known-bad"' || fail "known-bad serial accepted again"
ok "bad serial refused on re-push"

# A restart keeps serial 11 (the bad one is skipped).
stop_daemon
start_daemon --plugins=demo
[ "$(serial_in_force)" = 11 ] || fail "restart did not come back on serial 11"
grep -q '"source":"installed"' "$T/state/status.json" || fail "serial 11 not reported as installed"
ok "restart keeps the last good policy"

# An installed policy that no longer verifies (edited on disk) is not used: previous good one instead.
stop_daemon
sed -i 's/label: office/label: evil/' "$T/state/policies/11/policy.yaml"
start_daemon --plugins=demo
[ "$(serial_in_force)" = 10 ] || fail "tampered installed policy not replaced by the previous good one"
grep -q '"source":"previous"' "$T/state/status.json" || fail "previous not reported"
grep -q 'fallback-reason":"[^"]*signature does not match' "$T/log/audit.log" || fail "fallback reason not audited"
ok "tampered installed policy falls back to the previous good one"

# --check-config names the problem.
out=$("$SEKISHOD" --check-config --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" 2>&1 || true)
echo "$out" | grep -q "signature does not match" || fail "--check-config did not report the tampered policy: $out"
echo "$out" | grep -q "FAILED" || fail "--check-config did not fail"
printf 'terminal-id: [x\n' >"$T/bad.conf"
out=$("$SEKISHOD" --check-config --config "$T/bad.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" 2>&1 || true)
echo "$out" | grep -q "bad.conf:2:1: YAML syntax error" || fail "--check-config did not name the config error: $out"
ok "--check-config reports errors with file:line:col"
stop_daemon
out=$("$SEKISHOD" --check-config --config "$T/sekisho.conf" --state-dir "$T/fresh" --keys-dir "$T/keys.d" 2>&1)
echo "$out" | tail -n 1 | grep -qx OK || fail "--check-config not OK on a clean state: $out"
ok "--check-config prints OK"

# The sandbox kills a daemon that tries to execute a program.
if grep -q 'define ENABLE_FAULT_INJECTION 1' "$top_builddir/config.h"; then
        set +e
        SEKISHO_TEST_SECCOMP_PROBE=execve "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" \
                --keys-dir "$T/keys.d" --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none >"$T/probe.log" 2>&1
        rc=$?
        set -e
        [ $rc = 159 ] || fail "execve after the sandbox: exit $rc, expected 159 (SIGSYS)"
        grep -q "was not stopped" "$T/probe.log" && fail "execve was not stopped"
        ok "execve after start-up is killed by seccomp (SIGSYS)"
fi

# SIGTERM stops cleanly and the log records it.
start_daemon --plugins=demo
stop_daemon
tail -n 1 "$T/log/audit.log" | grep -q '"event":"daemon.stopped"' || fail "stop not audited"
ctl --audit-log "$T/log/audit.log" audit verify >/dev/null || fail "audit chain broken"
ok "clean stop; audit chain intact"
