#!/bin/sh
# core-policy-issued.sh — policy check and policy sign refuse what every terminal refuses (no issued, no expires), with the terminal's own message.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
setup_dirs
make_key admin

printf 'sekisho: 1\nserial: 4\nexpires: 2099-01-01T00:00:00Z\n' >"$T/noissued.yaml"
set +e; out=$(ctl policy check "$T/noissued.yaml" 2>&1); rc=$?; set -e
[ $rc = 1 ] || fail "policy check accepted a policy without issued (exit $rc): $out"
echo "$out" | grep -q "noissued.yaml:1:1: missing required key 'issued'" || fail "policy check said: $out"
check_msg=$(echo "$out" | grep "missing required key")
set +e; out=$(ctl policy sign --key "$T/keys/admin.key" "$T/noissued.yaml" 2>&1); rc=$?; set -e
[ $rc = 1 ] || fail "policy sign signed a policy without issued (exit $rc): $out"
[ ! -e "$T/noissued.yaml.minisig" ] || fail "policy sign wrote a signature for it"
ok "policy check and policy sign refuse a policy without issued: $check_msg"

# The terminal gives the same message for the same bundle.
sign "$T/noissued.yaml" admin
set +e; out=$(ctl policy verify "$T/noissued.yaml" 2>&1); rc=$?; set -e
[ $rc = 12 ] || fail "policy verify exit $rc: $out"
echo "$out" | grep -qF "$check_msg" || fail "the terminal's message ($out) is not policy check's ($check_msg)"
ok "policy verify refuses it with the same message"

printf 'sekisho: 1\nserial: 4\nissued: 2026-01-01T00:00:00Z\n' >"$T/noexpires.yaml"
ctl policy check "$T/noexpires.yaml" >"$T/out" 2>&1 && fail "policy check accepted a policy without expires"
grep -q "missing required key 'expires'" "$T/out" || fail "policy check said: $(cat "$T/out")"
write_policy "$T/good.yaml" 5
ctl policy check "$T/good.yaml" | grep -qx OK || fail "a complete bundle is not OK"
ok "no expires is refused; a complete bundle is OK"
