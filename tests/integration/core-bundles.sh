#!/bin/sh
# core-bundles.sh — every refusal of a bundle, with real minisign keys: precise reason, exit code, policy unchanged.
. "$(dirname "$0")/lib.sh"
need_cmd minisign

setup_dirs
make_key admin
make_key rogue untrusted
B="$T/b"; mkdir -p "$B"

# verify_exit FILE CODE [MESSAGE-PATTERN]
verify_exit() {
        set +e
        out=$(ctl policy verify "$1" 2>&1)
        rc=$?
        set -e
        [ "$rc" = "$2" ] || fail "policy verify $(basename "$1"): exit $rc, expected $2: $out"
        if [ $# -ge 3 ]; then echo "$out" | grep -q -- "$3" || fail "policy verify $(basename "$1"): '$out' lacks '$3'"; fi
        ok "verify $(basename "$1") -> $2 ($out)"
}

write_policy "$B/good.yaml" 5 "description: first"
sign "$B/good.yaml" admin
verify_exit "$B/good.yaml" 0 "OK, serial 5"

# sekishoctl policy sign writes what minisign -V accepts, and refuses to sign a broken policy.
write_policy "$B/ours.yaml" 5 "description: signed by sekishoctl"
ctl policy sign --key "$T/keys/admin.key" "$B/ours.yaml" >/dev/null || fail "policy sign failed"
minisign -Vm "$B/ours.yaml" -p "$T/keys/admin.pub" -q || fail "minisign -V rejects sekishoctl's signature"
verify_exit "$B/ours.yaml" 0 "OK, serial 5"
write_policy "$B/broken.yaml" 5 "usbb: {}"
ctl policy sign --key "$T/keys/admin.key" "$B/broken.yaml" 2>"$T/err" && fail "signed a malformed policy"
grep -q "broken.yaml:5:1: unknown key 'usbb'" "$T/err" || fail "policy sign did not say why: $(cat "$T/err")"
[ ! -e "$B/broken.yaml.minisig" ] || fail "signature written for a malformed policy"
ok "policy sign: minisign -V accepts it; malformed policies are not signed"

start_daemon --plugins=demo
drop "$B/good.yaml"
wait_audit '"event":"policy.applied"' || fail "good bundle not applied"
wait_for '[ "$(serial_in_force)" = 5 ]' || fail "serial 5 not in force"
ok "good bundle applied through the inbox"

n=0
# refuse NAME CODE REASON-ID MESSAGE-PATTERN: verify offline, then drop it on the running daemon.
refuse() {
        verify_exit "$B/$1" "$2" "$4"
        n=$((n + 1))
        drop "$B/$1"
        wait_audit '"event":"policy.refused"' $n || fail "$1: no refusal in the audit log"
        tail -n 1 "$T/log/audit.log" | grep -q "\"reason\":\"$3\"" || fail "$1: audit reason is not $3: $(tail -n 1 "$T/log/audit.log")"
        [ "$(serial_in_force)" = 5 ] || fail "$1: the policy in force changed"
        # The record is written before the pair is moved to refused/: wait for the move.
        wait_for "[ ! -e '$T/inbox/$1' ]" || fail "$1: left in the inbox"
}

# Tampered policy byte.
write_policy "$B/tampered.yaml" 6; sign "$B/tampered.yaml" admin
sed -i 's/serial: 6/serial: 7/' "$B/tampered.yaml"
refuse tampered.yaml 10 bad-signature "signature does not match the file"

# Tampered trusted comment.
write_policy "$B/comment.yaml" 6; sign "$B/comment.yaml" admin
sed -i 's/^trusted comment: .*/trusted comment: serial 999/' "$B/comment.yaml.minisig"
refuse comment.yaml 10 bad-signature "trusted comment does not match"

# Signed by a key that is not trusted here.
write_policy "$B/rogue.yaml" 6; sign "$B/rogue.yaml" rogue
refuse rogue.yaml 11 unknown-key "not a trusted key"

# Legacy non-prehashed signature.
write_policy "$B/legacy.yaml" 6
minisign -S -l -s "$T/keys/admin.key" -m "$B/legacy.yaml" >/dev/null </dev/null
refuse legacy.yaml 10 bad-signature "legacy"

# Truncated and garbage signature files.
write_policy "$B/trunc.yaml" 6; sign "$B/trunc.yaml" admin
head -c 60 "$B/trunc.yaml.minisig" >"$B/t" && mv "$B/t" "$B/trunc.yaml.minisig"
refuse trunc.yaml 10 bad-signature "trunc.yaml.minisig"
write_policy "$B/garbage.yaml" 6
head -c 300 /dev/urandom >"$B/garbage.yaml.minisig"
refuse garbage.yaml 10 bad-signature "garbage.yaml.minisig"

# No signature at all (offline only: the inbox waits for the other half).
write_policy "$B/unsigned.yaml" 6
verify_exit "$B/unsigned.yaml" 10 "missing signature"

# Oversized file: refused before it is read.
write_policy "$B/big.yaml" 6 "description: $(head -c 5000000 /dev/zero | tr '\0' x)"
sign "$B/big.yaml" admin
refuse big.yaml 17 too-large "larger than the limit"

# Older serial, equal serial with other bytes, equal serial with the same bytes.
write_policy "$B/older.yaml" 4; sign "$B/older.yaml" admin
refuse older.yaml 15 serial-not-newer "serial 4 is older than the installed 5"
write_policy "$B/conflict.yaml" 5 "description: other"; sign "$B/conflict.yaml" admin
refuse conflict.yaml 16 serial-conflict "already installed with different content"
verify_exit "$B/good.yaml" 0 "already installed"

# Expired, and issued in the future.
cat >"$B/expired.yaml" <<P
sekisho: 1
serial: 6
issued: 2020-01-01T00:00:00+09:00
expires: 2021-01-01T00:00:00+09:00
P
sign "$B/expired.yaml" admin
refuse expired.yaml 13 not-valid-now "expired at 2020-12-31T15:00:00Z"
cat >"$B/future.yaml" <<P
sekisho: 1
serial: 6
issued: $(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
expires: $(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
P
sign "$B/future.yaml" admin
refuse future.yaml 13 not-valid-now "in the future"

# Not targeted at this terminal (groups takeout, test).
write_policy "$B/byod.yaml" 6 "applies-to: [group:byod, host:other-terminal]"; sign "$B/byod.yaml" admin
refuse byod.yaml 14 not-targeted "does not name this terminal"

# Malformed policies: YAML syntax, unknown key, wrong types. Each names FILE:LINE:COL.
write_policy "$B/syntax.yaml" 6 "demo: [unclosed"; sign "$B/syntax.yaml" admin
refuse syntax.yaml 12 malformed-policy "syntax.yaml:6:1: YAML syntax error"
write_policy "$B/unknown.yaml" 6 "usbb: {}"; sign "$B/unknown.yaml" admin
refuse unknown.yaml 12 malformed-policy "unknown.yaml:5:1: unknown key 'usbb'"
write_policy "$B/types.yaml" 6 "demo:
  level: high"; sign "$B/types.yaml" admin
refuse types.yaml 12 malformed-policy "types.yaml:6:10: 'level' must be an integer"
printf 'sekisho: 1\nserial: abc\nissued: 2026-01-01T00:00:00Z\nexpires: 2099-01-01T00:00:00Z\n' >"$B/serial.yaml"
sign "$B/serial.yaml" admin
refuse serial.yaml 12 malformed-policy "serial.yaml:2:9: 'serial' must be an integer"

# After all that, a newer good bundle still goes in, and the audit chain is intact.
write_policy "$B/next.yaml" 6 "description: second"; sign "$B/next.yaml" admin
drop "$B/next.yaml"
wait_for '[ "$(serial_in_force)" = 6 ]' || fail "serial 6 not applied after the refusals"
ok "newer bundle applied after $n refusals"
stop_daemon
ctl --audit-log "$T/log/audit.log" audit verify >/dev/null || fail "audit chain broken"
ctl policy show | grep -q "serial:   6" || fail "policy show does not say serial 6"
ok "audit chain intact; policy show agrees"
