#!/bin/sh
# core-highest.sh — the anti-rollback serial moves only with a policy in force: a bundle a plugin cannot apply (reverted) leaves it where it was (issue 13).
. "$(dirname "$0")/lib.sh"
need_cmd minisign

make_key admin
start_daemon --plugins=demo
highest() { ctl policy show | sed -n 's/^highest: *//p'; }

write_policy "$T/p10.yaml" 10 "demo: { label: ten }"; sign "$T/p10.yaml" admin
drop "$T/p10.yaml"
wait_for '[ "$(serial_in_force)" = 10 ]' || fail "serial 10 not applied"
[ "$(highest)" = 10 ] || fail "highest is $(highest) after serial 10 went in force, expected 10"
ok "a policy in force raises highest"

# Serial 200 verifies but the plugin cannot apply it: reverted to 10.
write_policy "$T/p200.yaml" 200 "demo: { label: broken, fail-apply: true }"; sign "$T/p200.yaml" admin
drop "$T/p200.yaml"
wait_audit '"reason":"apply-failed"' || fail "failed apply not reported"
[ "$(serial_in_force)" = 10 ] || fail "did not revert to serial 10"
[ "$(highest)" = 10 ] || fail "highest is $(highest) after a reverted serial 200, expected 10"
ok "a reverted apply leaves highest at 10"

# So a fixed bundle with a serial below the failed one still installs (running daemon and after a restart).
write_policy "$T/p150.yaml" 150 "demo: { label: fixed }"; sign "$T/p150.yaml" admin
drop "$T/p150.yaml"
wait_for '[ "$(serial_in_force)" = 150 ]' || fail "serial 150 refused after the reverted 200: $(tail -n 1 "$T/log/audit.log")"
[ "$(highest)" = 150 ] || fail "highest is $(highest), expected 150"
ok "serial 150 goes in force after the reverted 200"

write_policy "$T/p300.yaml" 300 "demo: { label: broken, fail-apply: true }"; sign "$T/p300.yaml" admin
drop "$T/p300.yaml"
wait_audit '"reason":"apply-failed"' 2 || fail "second failed apply not reported"
stop_daemon
start_daemon --plugins=demo
[ "$(serial_in_force)" = 150 ] || fail "restart is not on serial 150"
[ "$(highest)" = 150 ] || fail "highest is $(highest) after a restart, expected 150"
write_policy "$T/p160.yaml" 160 "demo: { label: later }"; sign "$T/p160.yaml" admin
drop "$T/p160.yaml"
wait_for '[ "$(serial_in_force)" = 160 ]' || fail "serial 160 refused after a restart: $(tail -n 1 "$T/log/audit.log")"
ok "after a restart too, the reverted serial 300 blocks nothing below it"

# Rollback protection holds all the same: an older serial than the one in force is refused.
drop "$T/p10.yaml"
wait_audit '"reason":"serial-not-newer"' || fail "serial 10 was not refused as older: $(tail -n 1 "$T/log/audit.log")"
[ "$(serial_in_force)" = 160 ] || fail "the policy in force changed"
ok "older serial still refused"
stop_daemon
