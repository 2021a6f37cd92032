#!/bin/sh
# travel-usb.sh — R1 end to end: a signed high-risk trip turns the travel profile on, and the usb plugin blocks an already attached stick that the office policy allowed; the keyboard stays.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_cmd umockdev-wrapper minisign
BED="$top_builddir/tests/integration/usb-bed"
[ -x "$BED" ] || skip "usb-bed was not built (no libumockdev)"

# The usb plugin's umockdev testbed (see usb-daemon.sh), talked to over two fifos.
mkfifo "$T/bed.in" "$T/bed.out"
umockdev-wrapper "$BED" <"$T/bed.in" >"$T/bed.out" &
BED_PID=$!
exec 3>"$T/bed.in" 4<"$T/bed.out"
at_exit "exec 3>&-; kill $BED_PID"
read -r _ DIR <&4
bed() {
        echo "$*" >&3
        read -r reply <&4
        case "$reply" in ok*) ;; *) fail "testbed: $* -> $reply" ;; esac
}
SYS="$DIR/sys/devices/0000:00:14.0"
attr() { cat "$SYS/$1/$2" 2>/dev/null || echo missing; }
expect_attr() { wait_for "[ \"\$(attr $1 $2)\" = '$3' ]" || fail "$1/$2 is '$(attr "$1" "$2")', expected '$3'"; }

bed root usb1
bed dev 1-1 usb1 046d c31c 1 Keyboard 03:01:01,03:00:00
bed iface 1-1 0 03:01:01
bed iface 1-1 1 03:00:00
bed dev 1-2 usb1 0781 5567 1 Cruzer 08:06:50
bed iface 1-2 0 08:06:50

setup_dirs
make_key admin
(export LD_PRELOAD="libumockdev-preload.so.0${LD_PRELOAD:+:$LD_PRELOAD}" UMOCKDEV_DIR="$DIR"
 exec "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
        --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --plugins=usb,travel) >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for "grep -q 'enforcing' '$T/daemon.log'" || fail "daemon did not reach enforcing"
d() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# bundle FILE SERIAL [TRIP-START TRIP-END]: the office allows the registered stick; the travel profile does not.
bundle() {
        write_policy "$1" "$2" "usb:
  default: block
  rules:
    - allow id 0781:5567
    - allow with-interface one-of { 03:*:* } allow-interfaces { 03:*:* }
travel:
  high-risk-regions: [CN]
  trips: [${3:+{id: t1, destination: CN, start: $3, end: $4\}}]
profiles:
  travel:
    usb:
      default: block
      rules:
        - allow with-interface one-of { 03:*:* } allow-interfaces { 03:*:* }"
}
bundle "$T/p10.yaml" 10
sign "$T/p10.yaml" admin
drop "$T/p10.yaml"
wait_audit '"event":"policy.applied"' || fail "office bundle not applied"
expect_attr usb1/1-2 authorized 1
expect_attr usb1/1-1 authorized 1
ok "at home: the registered stick is allowed"

bundle "$T/p11.yaml" 11 "$(d '-1 hour')" "$(d '+3 days')"
sign "$T/p11.yaml" admin
drop "$T/p11.yaml"
wait_audit '"event":"profile.requested".*"profile":"travel","by":"travel"' || fail "travel profile not requested"
expect_attr usb1/1-2 authorized 0
expect_attr usb1/1-1 authorized 1
expect_attr usb1/1-1/1-1:1.0 authorized 1
wait_audit '"event":"usb.device.blocked".*"port":"1-2"' || fail "no audit record for the stick"
grep -q '^phase=travelling' "$T/state/travel/state" || fail "not travelling"
ok "high-risk trip: the attached stick is blocked by the travel profile, the keyboard stays"

# a stick plugged in abroad stays out too
bed dev 1-3 usb1 0781 5567 0 Cruzer 08:06:50
wait_audit '"event":"usb.device.blocked".*"port":"1-3"' || fail "new stick not blocked"
expect_attr usb1/1-3 authorized 0
ctl audit verify "$T/log/audit.log" >/dev/null || fail "audit chain broken"
ok "a stick plugged in during the trip is blocked"
