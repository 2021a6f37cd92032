#!/bin/sh
# usb-daemon.sh — the real sekishod with the usb plugin on a umockdev testbed: closed controllers, present and hot-plugged devices, per-interface decisions, revocation through signed bundles, audit chain.
. "$(dirname "$0")/lib.sh"
need_cmd umockdev-wrapper minisign
BED="$top_builddir/tests/integration/usb-bed"
[ -x "$BED" ] || skip "usb-bed was not built (no libumockdev)"

# The testbed lives in its own process; we talk to it over two fifos.
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

# Before the daemon: a controller, a keyboard and a stick the kernel already let in.
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
        --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --plugins=usb) >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for "grep -q 'enforcing' '$T/daemon.log'" || fail "daemon did not reach enforcing"

expect_attr usb1 authorized_default 0
expect_attr usb1 interface_authorized_default 0
expect_attr usb1 authorized 1
expect_attr usb1/1-1 authorized 1
expect_attr usb1/1-1/1-1:1.0 authorized 1
expect_attr usb1/1-1/1-1:1.1 authorized 1
expect_attr usb1/1-2 authorized 0
wait_audit '"event":"usb.device.blocked".*"port":"1-2"' || fail "no audit record for the stick"
ok "present devices decided on the embedded default; controller closed"

# Hot insert: a mouse (interfaces only after it is authorized) and a BadUSB.
bed dev 1-3 usb1 046d c077 0 Mouse 03:01:02
expect_attr usb1/1-3 authorized 1
bed iface 1-3 0 03:01:02
expect_attr usb1/1-3/1-3:1.0 authorized 1
bed dev 1-4 usb1 1234 5678 0 Keyboard 03:01:01,08:06:50
wait_audit '"event":"usb.device.blocked".*"port":"1-4"' || fail "BadUSB not blocked"
expect_attr usb1/1-4 authorized 0
ok "hot-plugged mouse allowed, keyboard+storage blocked whole"

# A signed bundle lets that device's keyboard in, never its storage.
B="$T/b"; mkdir -p "$B"
write_policy "$B/p1.yaml" 1 "usb:
  default: block
  rules:
    - allow id 1234:5678 block-interfaces { 08:*:* }
    - block with-interface one-of { 08:*:* }
    - allow with-interface one-of { 03:*:* 0b:*:* 09:*:* } allow-interfaces { 03:*:* 0b:*:* 09:*:* }"
sign "$B/p1.yaml" admin
drop "$B/p1.yaml"
wait_audit '"event":"policy.applied"' || fail "bundle 1 not applied"
expect_attr usb1/1-4 authorized 1
bed iface 1-4 0 03:01:01
bed iface 1-4 1 08:06:50
expect_attr usb1/1-4/1-4:1.0 authorized 1
expect_attr usb1/1-4/1-4:1.1 authorized 0
wait_audit '"event":"usb.interface.blocked".*"interface":"1-4:1.1"' || fail "no audit record for the blocked interface"
ok "per-interface: keyboard authorized, storage interface blocked"

# The next bundle drops that rule: the attached device is revoked at once.
write_policy "$B/p2.yaml" 2 "usb:
  default: block
  rules:
    - block with-interface one-of { 08:*:* }
    - allow with-interface one-of { 03:*:* }"
sign "$B/p2.yaml" admin
drop "$B/p2.yaml"
wait_audit '"event":"policy.applied"' 2 || fail "bundle 2 not applied"
expect_attr usb1/1-4 authorized 0
expect_attr usb1/1-3 authorized 1
ok "policy change revoked the attached device"

# sekishoctl usb list, offline, decides under the installed policy (serial 2).
out=$(LD_PRELOAD="libumockdev-preload.so.0" UMOCKDEV_DIR="$DIR" ctl usb list)
echo "$out" | grep -q 'installed policy (serial 2)' || fail "usb list: not the installed policy: $out"
echo "$out" | grep -q '^1-4 1234:5678 "Keyboard" block (rule 1: block with-interface one-of { 08:\*:\* })' ||
        fail "usb list: wrong decision for 1-4: $out"
echo "$out" | grep -q '^1-3 046d:c077 "Mouse" allow' || fail "usb list: wrong decision for 1-3: $out"
LD_PRELOAD="libumockdev-preload.so.0" UMOCKDEV_DIR="$DIR" ctl usb generate-rules >"$T/gen.yaml"
grep -q "allow id 1234:5678 serial \"\" name \"Keyboard\"" "$T/gen.yaml" || fail "generate-rules: $(cat "$T/gen.yaml")"
ok "sekishoctl usb list / generate-rules"

# A bad rule never reaches the plugin: the bundle is refused, the policy stays.
write_policy "$B/p3.yaml" 3 "usb:
  rules:
    - allow id 1234:5678 if true"
sign "$B/p3.yaml" admin
drop "$B/p3.yaml"
wait_audit '"event":"policy.refused"' || fail "bundle with a condition not refused"
grep '"event":"policy.refused"' "$T/log/audit.log" | grep -q 'conditions' || fail "refusal does not name the condition"
expect_attr usb1/1-3 authorized 1
ok "rule with a condition refused with its position"

# A figure, not a threshold (umockdev's preload library is part of it here).
echo "info: sekishod (usb plugin only, on umockdev) $(grep VmRSS /proc/$DAEMON_PID/status | tr -s ' \t' ' ')"

# The daemon stops: controllers stay closed, a new device stays out.
stop_daemon
expect_attr usb1 authorized_default 0
bed dev 1-5 usb1 046d c31c 0 Keyboard 03:01:01
sleep 0.2
[ "$(attr usb1/1-5 authorized)" = 0 ] || fail "a device was authorized with no daemon running"
ctl audit verify "$T/log/audit.log" >/dev/null || fail "audit chain broken"
ok "fail-closed after stop; audit chain intact"
