#!/bin/sh
# usb-profiles.sh — profiles are inherited from the embedded default: a bundle without profiles still has travel, the stick goes on the trip's profile, usb list and the report follow the daemon; unknown profiles are refused.
. "$(dirname "$0")/lib.sh"
need_cmd minisign dbus-daemon
. "$(dirname "$0")/usb-lib.sh"
start_private_bus
start_usb_bed
bed_laptop
make_key admin
start_usb_daemon usb session
wait_for "grep -q 'enforcing' '$T/daemon.log'" || fail "daemon did not reach enforcing"
bctl() { ctl --bus=session "$@"; }
usbctl() { LD_PRELOAD="libumockdev-preload.so.0" UMOCKDEV_DIR="$DIR" ctl --bus=session usb "$@"; }

# A signed bundle that lets every device in and says nothing about profiles.
write_policy "$T/allow.yaml" 1 "usb: { default: block, rules: [allow] }"
sign "$T/allow.yaml" admin
out=$(bctl policy apply "$T/allow.yaml") || fail "policy apply: $out"
expect_attr usb1/1-2 authorized 1
ok "the allow-all bundle lets the stick in"

# The travel profile is the embedded default's: the stick is de-authorized at once.
out=$(bctl profile on travel "trip to a high-risk region" 2>&1) || fail "profile on travel: $out"
expect_attr usb1/1-2 authorized 0
expect_attr usb1/1-1 authorized 1
bctl status | grep -q "travel" || fail "status does not show the travel profile: $(bctl status)"
ok "a bundle without profiles keeps the default's travel profile: stick de-authorized"

# sekishoctl usb list shows the decisions the daemon makes on the trip.
out=$(usbctl list) || fail "usb list: $out"
echo "$out" | grep -q 'profiles: travel' || fail "usb list does not say the travel profile is active: $out"
echo "$out" | grep -q '^1-2 0781:5567 "Cruzer" block' || fail "usb list while travelling: the stick is not blocked: $out"
echo "$out" | grep -q '^1-1 046d:c31c "Keyboard" allow' || fail "usb list while travelling: keyboard: $out"
ok "usb list while travelling shows the daemon's decisions"

# A profile the policy does not define is refused, loudly.
set +e; out=$(bctl profile on nosuch 2>&1); rc=$?; set -e
[ $rc != 0 ] || fail "profile on nosuch exited 0: $out"
echo "$out" | grep -q "no such profile" || fail "profile on nosuch said: $out"
ok "profile on nosuch: exit $rc, '$out'"

bctl profile off travel >/dev/null || fail "profile off travel"
expect_attr usb1/1-2 authorized 1
ok "back from the trip: the bundle's own rules again"
