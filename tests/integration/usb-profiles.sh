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

# r1 FILE: R1's status and the usb row's reason, from report --json.
r1() { python3 -c 'import json,sys; q={x["id"]:x for x in json.load(open(sys.argv[1]))["requirements"]}["R1"]; print(q["status"]); print(" | ".join(r["plugin"]+":"+r["state"]+":"+r["reason"] for r in q.get("rows", [])) or q["detail"])' "$1"; }
bctl report --json >"$T/allow.json" || fail "report --json failed"
[ "$(r1 "$T/allow.json" | head -1)" = not-enforced ] || fail "R1 with an allow-all policy: $(r1 "$T/allow.json")"
r1 "$T/allow.json" | grep -q "mass storage is not blocked: a USB stick is authorized: rule 1 (allow) allows it" ||
        fail "R1 does not say why: $(r1 "$T/allow.json")"
bctl report | grep -q "R1 .*" || fail "text report"
ok "report: R1 not enforced under the allow-all policy, with the reason"

# The travel profile is the embedded default's: the stick is de-authorized at once.
out=$(bctl profile on travel "trip to a high-risk region" 2>&1) || fail "profile on travel: $out"
expect_attr usb1/1-2 authorized 0
expect_attr usb1/1-1 authorized 1
bctl status | grep -q "travel" || fail "status does not show the travel profile: $(bctl status)"
ok "a bundle without profiles keeps the default's travel profile: stick de-authorized"

bctl report --json >"$T/trip.json" || fail "report --json on the trip failed"
grep -q '"profiles":\["travel"\]' "$T/trip.json" || fail "the report does not show the travel profile: $(head -c 600 "$T/trip.json")"
[ "$(r1 "$T/trip.json" | head -1)" = enforced ] || fail "R1 on the trip: $(r1 "$T/trip.json")"
r1 "$T/trip.json" | grep -q "all 3 attached device(s) were decided under this policy" || fail "R1 on the trip: $(r1 "$T/trip.json")"
ok "report on the trip: profile travel active, R1 enforced: $(r1 "$T/trip.json" | tail -1)"

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

# With the daemon down the rows are judged from the policy in force, and say they are not live.
stop_daemon
ctl --bus=session report --json >"$T/down.json" || fail "report with the daemon down failed"
[ "$(r1 "$T/down.json" | head -1)" = not-enforced ] || fail "R1 with the daemon down: $(r1 "$T/down.json")"
grep -q '"plugin":"usb","clause":"6.1.2(2)-1","state":"not-enforced","live":false' "$T/down.json" ||
        fail "the usb row does not say it is not live: $(cat "$T/down.json")"
ok "daemon down: R1 judged from the policy in force, not live"
