#!/bin/sh
# core-trust-rotate.sh — rotating the officer key (new key in, old key out, reload, restart) keeps the installed policy in force: a permitted stick stays allowed.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
. "$(dirname "$0")/usb-lib.sh"
start_usb_bed
bed_laptop
make_key old
RULES="usb:
  default: block
  rules:
    - allow id 0781:5567
    - allow with-interface one-of { 03:*:* }"
start_usb_daemon usb
wait_for "grep -q ' enforcing: ' '$T/daemon.log'" || fail "daemon did not reach enforcing"
expect_attr usb1/1-2 authorized 0
ok "the embedded default blocks the stick"

write_policy "$T/p1.yaml" 1 "$RULES"
sign "$T/p1.yaml" old
drop "$T/p1.yaml"
expect_attr usb1/1-2 authorized 1
ok "the bundle signed with the old key permits the stick"

# The officer's rotation: the new key in, the old one out, reload.
make_key new
rm "$T/keys.d/old.pub"
kill -HUP "$DAEMON_PID"
wait_audit '"policy.reloaded"' 1 || fail "no reload record"
sleep 1
expect_attr usb1/1-2 authorized 1
[ "$(serial_in_force)" = 1 ] || fail "rotation dropped the installed policy (serial $(serial_in_force))"
ok "after the rotation and reload the permitted stick is still allowed"

stop_daemon
start_usb_daemon usb
wait_for "[ \$(grep -c ' enforcing: ' '$T/daemon.log') -ge 2 ]" || fail "daemon did not restart"
expect_attr usb1/1-2 authorized 1
[ "$(serial_in_force)" = 1 ] || fail "after a restart the policy signed by the rotated-out key is gone"
ok "and after a restart"

# The new key signs the next bundle; the old one signs nothing new.
write_policy "$T/p2.yaml" 2 "$RULES"
sign "$T/p2.yaml" old
ctl policy verify "$T/p2.yaml" >/dev/null 2>&1 && fail "the rotated-out key still signs new bundles"
sign "$T/p2.yaml" new
drop "$T/p2.yaml"
wait_for '[ "$(serial_in_force)" = 2 ]' 100 || fail "the new key's bundle was not applied"
expect_attr usb1/1-2 authorized 1
ok "the new key signs the next bundle; the old one is refused for new bundles"
stop_daemon
