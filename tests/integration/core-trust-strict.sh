#!/bin/sh
# core-trust-strict.sh — OpenSSH's StrictModes for keys.d: a directory others can write, a key file root does not own or others can write, refused by name in the status, the audit log, trust show and policy verify.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
need_root # chown to another user: the refusal of a key root does not own is real only as root
make_key admin
start_daemon --plugins=demo
write_policy "$T/p5.yaml" 5; sign "$T/p5.yaml" admin
drop "$T/p5.yaml"
wait_for '[ "$(serial_in_force)" = 5 ]' 100 || fail "serial 5 not applied"

# StrictModes: keys.d writable by others, then a key file owned by nobody with mode 0666.
write_policy "$T/p6.yaml" 6; sign "$T/p6.yaml" admin
chmod 0777 "$T/keys.d"
wait_audit '"trust.refused"' 1 || fail "no trust.refused record for keys.d mode 0777"
grep '"trust.refused"' "$T/log/audit.log" | grep -q "keys.d: writable by others (mode 0777)" ||
        fail "the record does not name keys.d and its mode: $(grep trust.refused "$T/log/audit.log")"
wait_for "grep -q '\"trust-refused\":\\[\".*keys.d: writable by others' '$T/state/status.json'" 50 ||
        fail "the status does not show keys.d refused: $(cat "$T/state/status.json")"
set +e; out=$(ctl policy verify "$T/p6.yaml" 2>&1); rc=$?; set -e
[ $rc = 11 ] || fail "policy verify with keys.d 0777 exit $rc: $out"
echo "$out" | grep -q "writable by others" || fail "policy verify gives no reason: $out"
drop "$T/p6.yaml"
wait_audit '"policy.refused"' 1 || fail "a bundle was not refused with keys.d 0777"
[ "$(serial_in_force)" = 5 ] || fail "the policy in force changed"
ok "keys.d mode 0777 is refused, loudly, and the policy in force stays: $(echo "$out" | head -1)"

chmod 0755 "$T/keys.d"
chown nobody "$T/keys.d/admin.pub"; chmod 0666 "$T/keys.d/admin.pub"
wait_for "grep -q 'admin.pub: owned by uid' '$T/log/audit.log'" 100 || fail "no record for a key file owned by nobody"
set +e; out=$(ctl policy verify "$T/p6.yaml" 2>&1); rc=$?; set -e
[ $rc = 11 ] || fail "policy verify with admin.pub owned by nobody exit $rc: $out"
chown root "$T/keys.d/admin.pub"
wait_for "grep -q 'admin.pub: writable by others (mode 0666)' '$T/log/audit.log'" 100 || fail "no record for a key file mode 0666"
ctl trust show >"$T/show" 2>&1 && fail "trust show exits 0 with a refused key file"
grep -q "refused: .*admin.pub: writable by others" "$T/show" || fail "trust show: $(cat "$T/show")"
chmod 0644 "$T/keys.d/admin.pub"
wait_for "ctl policy verify '$T/p6.yaml'" 50 || fail "the key is not trusted again once fixed"
mv "$T/inbox/refused/"*p6.yaml "$T/p6b.yaml"; sign "$T/p6b.yaml" admin
drop "$T/p6b.yaml"
wait_for '[ "$(serial_in_force)" = 6 ]' 100 || fail "once keys.d is fixed the daemon still refuses (serial $(serial_in_force))"
ok "a key file owned by nobody, or mode 0666, is refused and named; fixed, it is trusted again without reload"
stop_daemon
