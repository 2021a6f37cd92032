#!/bin/sh
# usb-operator.sh — the operator's USB verbs against the real sekishod on a umockdev testbed: explain, temporary allow/block that survive a restart and end with the travel profile, the register (per user), generate-rules as a complete policy, import-rules, offline unlock codes.
. "$(dirname "$0")/lib.sh"
need_cmd minisign dbus-daemon
. "$(dirname "$0")/usb-lib.sh"
start_private_bus
start_usb_bed
bed_laptop
make_key admin
# The terminal's own files: its machine-id and who sits at seat0 (uid 0: root, in every passwd).
ROOT="$T/root"; mkdir -p "$ROOT/etc" "$ROOT/run/systemd/seats"
echo 0123456789abcdef0123456789abcdef >"$ROOT/etc/machine-id"
printf 'ACTIVE=c1\nACTIVE_UID=0\n' >"$ROOT/run/systemd/seats/seat0"
# start_usb_daemon, with this terminal's files under --sysroot.
start_op_daemon() {
        setup_dirs
        (export LD_PRELOAD="libumockdev-preload.so.0${LD_PRELOAD:+:$LD_PRELOAD}" UMOCKDEV_DIR="$DIR"
         exec "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=session --plugins=usb --sysroot "$ROOT") >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
}
start_op_daemon
wait_for "grep -q 'enforcing' '$T/daemon.log'" || fail "daemon did not reach enforcing"
usbctl() { SEKISHO_SYSROOT="$ROOT" LD_PRELOAD="libumockdev-preload.so.0" UMOCKDEV_DIR="$DIR" ctl --bus=session usb "$@"; }
expect_attr usb1/1-2 authorized 0

# explain: which rule decided, and that nothing else had a say.
out=$(usbctl explain 1-2) || fail "explain: $out"
echo "$out" | grep -q '^decision: block, by rule 1: block with-interface one-of { 08:\*:\* }' || fail "explain: $out"
echo "$out" | grep -q '^not in the register' || fail "explain (register): $out"
echo "$out" | grep -q '^no temporary permit' || fail "explain (permit): $out"
ok "explain names the rule that blocks the stick"

# A temporary permit: the stick comes in at once, audited, and survives a restart.
out=$(usbctl allow 1-2 --for 2h) || fail "allow: $out"
expect_attr usb1/1-2 authorized 1
wait_audit '"event":"usb.permit.granted".*"source":"ctl"' || fail "no audit record for the permit"
wait_audit '"event":"usb.device.allowed".*"port":"1-2".*"permit":"ctl"' || fail "the stick's record does not name the permit"
usbctl explain 1-2 | grep -q '^decision: allow, by the temporary allow' || fail "explain with a permit: $(usbctl explain 1-2)"
usbctl list-rules | grep -q 'permit 1: allow .* until ' || fail "list-rules: $(usbctl list-rules)"
ok "usb allow --for 2h: stick authorized, audited, explained, listed"
stop_daemon
bed dev 1-3 usb1 0781 5567 1 Cruzer-B 08:06:50
start_op_daemon
wait_audit '"event":"usb.device.allowed".*"port":"1-2"' 2 || fail "permit lost over a restart"
expect_attr usb1/1-2 authorized 1
expect_attr usb1/1-3 authorized 0
ok "the permit survives a daemon restart (and names one stick: another of the same model, other descriptors, stays out)"

# block: the stick goes out at once.
usbctl block 1-2 >/dev/null || fail "block"
expect_attr usb1/1-2 authorized 0
wait_audit '"event":"usb.permit.block"' || fail "no audit record for the block"
ok "usb block: de-authorized at once"

# The travel profile ends every permit at once.
usbctl allow 1-2 --for 1h >/dev/null || fail "allow again"
expect_attr usb1/1-2 authorized 1
ctl --bus=session profile on travel "trip" >/dev/null || fail "profile on travel"
expect_attr usb1/1-2 authorized 0
wait_audit '"event":"usb.permit.ended".*turns temporary permits off' || fail "travel did not end the permit"
set +e; out=$(usbctl allow 1-2 --for 1h 2>&1); rc=$?; set -e
[ $rc = 1 ] && echo "$out" | grep -q 'turns temporary permits off' || fail "allow while travelling: $rc $out"
ctl --bus=session profile off travel >/dev/null || fail "profile off travel"
expect_attr usb1/1-2 authorized 0
ok "travel ends the permit at once and refuses new ones; it does not come back after the trip"

# The register: the entry 'usb register' prints, for root (the seat's user), read-only.
usbctl register 1-2 --name "soumu-3" --read-only --user root --expires 2099-12-31 >"$T/entry.yaml" || fail "register"
grep -q 'hash: "' "$T/entry.yaml" || fail "register: $(cat "$T/entry.yaml")"
write_policy "$T/reg.yaml" 1 "usb:
  default: block
  rules:
    - block with-interface one-of { 08:*:* }
    - allow with-interface one-of { 03:*:* }
  register:
$(grep -v '^  #' "$T/entry.yaml")"
ctl policy check "$T/reg.yaml" >/dev/null || fail "policy check of the register: $(ctl policy check "$T/reg.yaml" 2>&1)"
sign "$T/reg.yaml" admin
drop "$T/reg.yaml"
wait_audit '"event":"policy.applied"' || fail "register bundle not applied"
expect_attr usb1/1-2 authorized 1
expect_attr usb1/1-3 authorized 0
wait_audit '"event":"usb.device.allowed".*"port":"1-2".*"register":"soumu-3","read-only":"yes"' ||
        fail "the stick's record does not name its register entry"
usbctl explain 1-2 | grep -q 'register entry 1 "soumu-3": this device; applies (read-only)' || fail "explain: $(usbctl explain 1-2)"
usbctl explain 1-3 | grep -q 'register entry 1 "soumu-3" has this id but another' || fail "explain 1-3: $(usbctl explain 1-3)"
ok "register: the registered stick is allowed read-only, its twin model is not"
# Someone else takes the seat (as logind writes it: a new file moved over the old).
printf 'ACTIVE=c2\nACTIVE_UID=65534\n' >"$ROOT/run/systemd/seats/.seat0.tmp"
mv "$ROOT/run/systemd/seats/.seat0.tmp" "$ROOT/run/systemd/seats/seat0"
expect_attr usb1/1-2 authorized 0
printf 'ACTIVE=c1\nACTIVE_UID=0\n' >"$ROOT/run/systemd/seats/.seat0.tmp"
mv "$ROOT/run/systemd/seats/.seat0.tmp" "$ROOT/run/systemd/seats/seat0"
expect_attr usb1/1-2 authorized 1
ok "the stick registered for root goes out when another user takes the seat, and back when root does"
sed -i 's/users: \["root"\]/users: ["tanaka"]/' "$T/reg.yaml"
usbctl explain 1-2 --policy "$T/reg.yaml" | grep -q 'does not apply: for users tanaka only, not root' ||
        fail "explain for another user: $(usbctl explain 1-2 --policy "$T/reg.yaml")"
ok "explain says why an entry for another user does not apply"

# generate-rules: a complete policy that policy check accepts, with a warning for the stick.
usbctl generate-rules >"$T/gen.yaml" 2>"$T/gen.err" || fail "generate-rules"
ctl policy check "$T/gen.yaml" >/dev/null || fail "policy check refuses generate-rules: $(ctl policy check "$T/gen.yaml" 2>&1)"
grep -q 'warning: 1-2 0781:5567 "Cruzer" is USB mass storage' "$T/gen.err" || fail "no warning: $(cat "$T/gen.err")"
grep -q 'warning: 1-3 ' "$T/gen.err" || fail "no warning for 1-3: $(cat "$T/gen.err")"
grep -q 'warning: 1-1 ' "$T/gen.err" && fail "a keyboard was called storage"
ok "generate-rules: policy check accepts it; each storage device warned about"

# import-rules: a usbguard rules.conf as it is.
cat >"$T/rules.conf" <<'CONF'
# Generated by usbguard generate-policy
allow id 1d6b:0002 serial "0000:00:14.0" name "xHCI Host Controller" with-interface 09:00:00

allow id 046d:c31c name "Keyboard" with-interface { 03:01:01 03:00:00 } # the desk's keyboard
block with-interface one-of { 08:*:* }
CONF
usbctl import-rules "$T/rules.conf" >"$T/imported.yaml" || fail "import-rules"
write_policy "$T/imp.yaml" 2 "$(cat "$T/imported.yaml")"
ctl policy check "$T/imp.yaml" >/dev/null || fail "policy check refuses import-rules: $(cat "$T/imp.yaml")"
grep -q '# Generated by usbguard generate-policy' "$T/imported.yaml" || fail "comment lost: $(cat "$T/imported.yaml")"
usbctl list --policy "$T/imp.yaml" | grep -q '^1-1 046d:c31c "Keyboard" allow (rule 2' || fail "imported rules: $(usbctl list --policy "$T/imp.yaml")"
printf 'allow id 1234:5678\nallow nmae "x"\n' >"$T/bad.conf"
set +e; out=$(usbctl import-rules "$T/bad.conf" 2>&1); rc=$?; set -e
[ $rc = 1 ] && echo "$out" | grep -q "bad.conf:2:7: unknown attribute 'nmae'" || fail "bad rules.conf: $rc $out"
ok "import-rules: comments kept, rules decide, a bad line named by file:line:col"

# Offline unlock codes: the officer makes one for this terminal and the stick; used once.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/master.key"
usbctl unlock-code --master "$T/master.key" --terminal 0123456789abcdef0123456789abcdef --terminal-key |
        usbctl unlock-key --install >/dev/null || fail "unlock-key --install"
[ "$(stat -c %a "$T/state/usb/unlock.key")" = 600 ] || fail "unlock.key is not 0600"
hash=$(grep 'hash:' "$T/entry.yaml" | sed 's/.*"\(.*\)"/\1/')
# The notice gives the person a 5-character device code to read out; the officer may use it or the hash.
dcode=$(grep '"event":"usb.device.blocked".*"port":"1-2"' "$T/log/audit.log" | tail -1 | sed -n 's/.*"device-code":"\([^"]*\)".*/\1/p')
[ ${#dcode} = 5 ] || fail "no device code in the blocked record: '$dcode'"
usbctl explain 1-2 | grep -q "(device code $dcode)" || fail "explain does not show the device code $dcode"
code=$(usbctl unlock-code --master "$T/master.key" --terminal 0123456789abcdef0123456789abcdef --device "$dcode" --for 1h 2>/dev/null)
[ ${#code} = 16 ] || fail "code '$code' is not 16 characters"
other=$(usbctl unlock-code --master "$T/master.key" --terminal ffffffffffffffffffffffffffffffff --device "$hash" --for 1h 2>/dev/null)
set +e; out=$(usbctl unlock "$other" 2>&1); rc=$?; set -e
[ $rc = 1 ] && echo "$out" | grep -q 'not a code for this terminal' || fail "a code for another terminal: $rc $out"
write_policy "$T/noreg.yaml" 3 "usb: { default: block, rules: ['block with-interface one-of { 08:*:* }', 'allow with-interface one-of { 03:*:* }'] }"
sign "$T/noreg.yaml" admin; drop "$T/noreg.yaml"
expect_attr usb1/1-2 authorized 0
out=$(usbctl unlock "$(echo "$code" | tr 'A-Z' 'a-z' | sed 's/..../&-/g; s/-$//')") || fail "unlock: $out"
expect_attr usb1/1-2 authorized 1
wait_audit '"event":"usb.permit.granted".*"source":"unlock"' || fail "no audit record for the unlock"
set +e; out=$(usbctl unlock "$code" 2>&1); rc=$?; set -e
[ $rc = 1 ] && echo "$out" | grep -q 'used already' || fail "second use: $rc $out"
ok "unlock code: another terminal's refused, this one's works once (typed in lower case with dashes)"
# The person at the terminal is not root: the code goes to sekishod through its drop directory.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        [ "$(stat -c %a "$T/state/usb/unlock-requests")" = 1733 ] || fail "unlock-requests is not 1733"
        chmod o+rx "$T" "$T/state" "$T/state/usb"; chmod o+r "$T/sekisho.conf"
        kbd=$(usbctl unlock-code --master "$T/master.key" --terminal 0123456789abcdef0123456789abcdef --keyboards --for 30m 2>/dev/null)
        out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
                "$SEKISHOCTL" --state-dir "$T/state" --keys-dir "$T/keys.d" --config "$T/sekisho.conf" --bus=session \
                usb unlock "$kbd" 2>&1) || fail "unlock as nobody: $out"
        echo "$out" | grep -q 'unlocked: keyboards and mice until' || fail "unlock as nobody said: $out"
        wait_audit "\"event\":\"usb.permit.granted\".*\"uid\":\"$(id -u nobody)\",\"source\":\"unlock\"" ||
                fail "no audit record naming the user who unlocked"
        [ -z "$(ls -A "$T/state/usb/unlock-requests")" ] || fail "requests left behind: $(ls -A "$T/state/usb/unlock-requests")"
        ok "a user who is not root unlocks keyboards and mice through sekishod, audited with their uid"
else
        skip_part "the non-root unlock needs setpriv and a nobody user"
fi
for i in 1 2 3 4; do usbctl unlock AAAAAAAAAAAAAAAA >/dev/null 2>&1 && fail "a made-up code worked"; done
set +e; out=$(usbctl unlock AAAAAAAAAAAAAAAA 2>&1); rc=$?; set -e
echo "$out" | grep -q 'too many wrong codes' || fail "no rate limit after 5 failures: $out"
kbd=$(usbctl unlock-code --master "$T/master.key" --terminal 0123456789abcdef0123456789abcdef --keyboards --for 1h 2>/dev/null)
set +e; out=$(usbctl unlock "$kbd" 2>&1); rc=$?; set -e
echo "$out" | grep -q 'too many wrong codes' || fail "a good code got past the rate limit: $out"
ok "after 5 wrong codes even a good one waits (the count is in the state dir)"

ctl audit verify "$T/log/audit.log" >/dev/null || fail "audit chain broken"
ok "audit chain intact"
