#!/bin/sh
# core-trust-root.sh — the signed trust root: provisioning, a 2-of-3 policy threshold, root rotation by the old root's threshold and its own, revocation, the recovery from a mistaken huge serial.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
for k in root1 root2 o1 o2 o3 ts; do make_key $k untrusted; done
setup_dirs

keyid() { sed -n 's/.*public key \([0-9A-F]*\).*/\1/p' "$T/keys/$1.pub"; }
publine() { sed -n 2p "$T/keys/$1.pub"; }
key_entry() { printf '  - id: %s\n    public: %s\n    name: %s\n    roles: [%s]\n' "$(keyid $1)" "$(publine $1)" "$1" "$2"; }
# write_root FILE VERSION ROOTKEY POLICY-THRESHOLD "POLICYKEYS" [EXTRA-YAML]
write_root() {
        {
                echo "sekisho-root: 1"
                echo "version: $2"
                echo "issued: $(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
                echo "expires: $(date -u -d '+5 years' +%Y-%m-%dT%H:%M:%SZ)"
                echo "keys:"
                key_entry "$3" root
                for k in $5; do key_entry "$k" policy; done
                key_entry ts timestamp
                echo "roles:"
                echo "  root: { threshold: 1 }"
                echo "  policy: { threshold: $4 }"
                echo "  timestamp: { threshold: 1, description: reserved for sekisho-fetch }"
                [ $# -ge 6 ] && printf '%s\n' "$6"
        } >"$1"
        return 0
}
rsign() { ctl trust sign --key "$T/keys/$2.key" "$1" >/dev/null </dev/null; }
expect_exit() {
        want=$1; shift
        set +e; out=$("$@" 2>&1); rc=$?; set -e
        [ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $out"
}

# Provisioning: one command with the root file; the .pub files beside it no longer count.
make_key legacy
write_root "$T/root.yaml" 1 root1 2 "o1 o2 o3"
rsign "$T/root.yaml" root1
ctl trust install "$T/root.yaml" >/dev/null || fail "trust install: $(ctl trust install "$T/root.yaml" 2>&1)"
ctl trust show | grep -q "trust root: version 1" || fail "trust show: $(ctl trust show)"
ok "provisioning: trust install of a self-signed root"

start_daemon --plugins=demo
wait_audit '"trust.root-accepted"' 1 || fail "no trust.root-accepted record"
# 2 of 3: one officer's signature is refused; two are accepted.
write_policy "$T/p3.yaml" 3 "demo: { label: two-officers }"
sign "$T/p3.yaml" o1
expect_exit 11 ctl policy verify "$T/p3.yaml"
echo "$out" | grep -q "signed by 1 trusted policy key, the trust root requires 2" || fail "one signature: $out"
drop "$T/p3.yaml"
wait_audit '"policy.refused"' 1 || fail "one of 2-of-3 signatures was not refused"
write_policy "$T/legacy.yaml" 3; sign "$T/legacy.yaml" legacy
expect_exit 11 ctl policy verify "$T/legacy.yaml"
ok "threshold 2 of 3: one signature refused; a keys.d .pub no longer counts"
minisign -S -s "$T/keys/o1.key" -m "$T/p3.yaml" -x "$T/s1" -t t1 >/dev/null </dev/null
minisign -S -s "$T/keys/o3.key" -m "$T/p3.yaml" -x "$T/s3" -t t3 >/dev/null </dev/null
cat "$T/s1" "$T/s3" >"$T/p3.yaml.minisig"
ctl policy verify "$T/p3.yaml" >/dev/null || fail "two signatures: $(ctl policy verify "$T/p3.yaml")"
drop "$T/p3.yaml"
wait_for '[ "$(serial_in_force)" = 3 ]' 100 || fail "2 of 3 signatures not applied"
ok "two officers' minisign -S signatures, concatenated, meet the threshold"

# Rotation of the root key and revocation of o1, without reload: root2 replaces root1.
write_root "$T/root2.yaml" 2 root2 2 "o2 o3" "revoked:
  - id: $(keyid o1)
    reason: laptop lost"
rsign "$T/root2.yaml" root2
expect_exit 11 ctl trust check "$T/root2.yaml"
echo "$out" | grep -q "signed by 0 of the current root's root keys, 1 needed" || fail "root signed only by its own key: $out"
rsign "$T/root2.yaml" root1
ctl trust check "$T/root2.yaml" >/dev/null || fail "trust check: $(ctl trust check "$T/root2.yaml" 2>&1)"
write_root "$T/old.yaml" 1 root1 1 "o1"; rsign "$T/old.yaml" root1
expect_exit 11 ctl trust check "$T/old.yaml"
ctl trust install "$T/root2.yaml" >/dev/null
wait_audit '"trust.root-accepted"' 2 || fail "the daemon did not accept root version 2 without reload"
[ "$(serial_in_force)" = 3 ] || fail "rotating the root dropped the policy in force (serial $(serial_in_force))"
ok "a new root needs the old root's threshold and its own; installed, it is seen without reload; the policy stays"
# The installed policy was signed by o1 (now revoked) and o3 (still trusted): it stays across a restart.
stop_daemon
start_daemon --plugins=demo
[ "$(serial_in_force)" = 3 ] || fail "restart after revoking o1 dropped the policy signed also by o3"
write_policy "$T/p4.yaml" 4
minisign -S -s "$T/keys/o1.key" -m "$T/p4.yaml" -x "$T/s1" >/dev/null </dev/null
minisign -S -s "$T/keys/o2.key" -m "$T/p4.yaml" -x "$T/s2" >/dev/null </dev/null
cat "$T/s1" "$T/s2" >"$T/p4.yaml.minisig"
expect_exit 11 ctl policy verify "$T/p4.yaml"
ok "a revoked key's signature no longer counts"

# A mistaken huge serial, then the recovery: a root-signed lower-serial.
write_policy "$T/huge.yaml" 4000000000
minisign -S -s "$T/keys/o2.key" -m "$T/huge.yaml" -x "$T/s2" >/dev/null </dev/null
minisign -S -s "$T/keys/o3.key" -m "$T/huge.yaml" -x "$T/s3" >/dev/null </dev/null
cat "$T/s2" "$T/s3" >"$T/huge.yaml.minisig"
drop "$T/huge.yaml"
wait_for '[ "$(serial_in_force)" = 4000000000 ]' 100 || fail "huge serial not applied"
write_policy "$T/p5.yaml" 5
minisign -S -s "$T/keys/o2.key" -m "$T/p5.yaml" -x "$T/s2" >/dev/null </dev/null
minisign -S -s "$T/keys/o3.key" -m "$T/p5.yaml" -x "$T/s3" >/dev/null </dev/null
cat "$T/s2" "$T/s3" >"$T/p5.yaml.minisig"
expect_exit 15 ctl policy verify "$T/p5.yaml"
write_root "$T/root3.yaml" 3 root2 2 "o2 o3" "lower-serial: 4
revoked:
  - id: $(keyid o1)
    reason: laptop lost"
rsign "$T/root3.yaml" root2
ctl trust install "$T/root3.yaml" >/dev/null
wait_audit '"trust.serial-lowered"' 1 || fail "no trust.serial-lowered record"
grep '"trust.serial-lowered"' "$T/log/audit.log" | grep -q '"to":"4"' || fail "the record lacks the new serial"
# A restart before the corrected bundle arrives keeps the lowered serial (the huge one stays in force, uncounted).
stop_daemon
start_daemon --plugins=demo
[ "$(serial_in_force)" = 4000000000 ] || fail "the policy in force changed at restart after the recovery"
ctl policy verify "$T/p5.yaml" >/dev/null || fail "after lower-serial: $(ctl policy verify "$T/p5.yaml")"
drop "$T/p5.yaml"
wait_for '[ "$(serial_in_force)" = 5 ]' 100 || fail "serial 5 not applied after the recovery"
ok "a root's lower-serial recovers from a mistaken huge serial, audited"
ctl trust show --json | grep -q '"version":3' || fail "trust show --json: $(ctl trust show --json)"

# A root that cannot be: refused with FILE:LINE:COL before any signature counts.
write_root "$T/bad.yaml" 4 root2 5 "o2 o3"
expect_exit 1 ctl trust sign --key "$T/keys/root2.key" "$T/bad.yaml"
minisign -S -s "$T/keys/root2.key" -m "$T/bad.yaml" >/dev/null </dev/null
expect_exit 11 ctl trust check "$T/bad.yaml"
echo "$out" | grep -q "bad.yaml:[0-9]*:[0-9]*: role 'policy' needs 5 signatures but has 2 keys" || fail "bad threshold: $out"
# An older root put back into keys.d is refused; the anchor (version 3) stays in force, loudly.
cp "$T/root2.yaml" "$T/keys.d/root.yaml.new"; cp "$T/root2.yaml.minisig" "$T/keys.d/root.yaml.minisig"
mv "$T/keys.d/root.yaml.new" "$T/keys.d/root.yaml"
wait_for "grep -q 'version 2 is not newer than the trusted version 3' '$T/log/audit.log'" 100 ||
        fail "an older root in keys.d was not refused: $(tail -n 3 "$T/log/audit.log")"
ctl policy verify "$T/p5.yaml" | grep -q "already installed" || fail "the older root changed the trust"
ok "a root with an impossible threshold, and an older root put back, are refused; the anchor stays"

# The auditor's view: the report names the trust root, its keys and roles, version and expiry.
ctl report --bus=none >"$T/report.txt" 2>&1 || true
grep -q "^trust:     trust root version 3, expires" "$T/report.txt" || fail "report: $(grep -A1 '^trust' "$T/report.txt")"
grep -q "$(keyid o2)(policy)" "$T/report.txt" || fail "the report does not list policy key o2"
grep -q "revoked: 0*$(keyid o1)" "$T/report.txt" || fail "the report does not list the revoked key"
ctl report --json --bus=none | grep -q '"trust":{"root_version":3' || fail "report --json has no trust object"
ok "the report shows the trust root: keys, roles, thresholds, version, expiry, revoked keys"

# An expired trust root anchors the chain still, but no bundle is installed under it (never fail open).
write_policy "$T/p6.yaml" 6
minisign -S -s "$T/keys/o2.key" -m "$T/p6.yaml" -x "$T/s2" >/dev/null </dev/null
minisign -S -s "$T/keys/o3.key" -m "$T/p6.yaml" -x "$T/s3" >/dev/null </dev/null
cat "$T/s2" "$T/s3" >"$T/p6.yaml.minisig"
expect_exit 11 env SEKISHO_TEST_NOW="$(date -u -d '+6 years' +%Y-%m-%dT%H:%M:%SZ)" "$SEKISHOCTL" --state-dir "$T/state" \
        --keys-dir "$T/keys.d" --config "$T/sekisho.conf" policy verify "$T/p6.yaml"
echo "$out" | grep -q "the trust root (version 3) expired at" || fail "an expired root: $out"
ok "under an expired trust root no bundle is installed"
stop_daemon
