#!/bin/sh
# core-keys-encrypted.sh — sekishoctl signs with keys made by Debian's own `minisign -G`: encrypted (password file) and unencrypted (-W).
. "$(dirname "$0")/lib.sh"
need_cmd minisign
setup_dirs
mkdir -p "$T/keys"

# The README's first step: a password-protected key pair, as minisign makes it.
printf 'correct horse\ncorrect horse\n' | minisign -G -p "$T/keys/officer.pub" -s "$T/keys/officer.key" >/dev/null 2>&1 ||
        fail "minisign -G failed"
grep -q "encrypted secret key" "$T/keys/officer.key" || fail "minisign -G made no encrypted key"
cp "$T/keys/officer.pub" "$T/keys.d/"
printf 'correct horse\n' >"$T/pw"
printf 'wrong horse\n' >"$T/badpw"

write_policy "$T/p.yaml" 3
out=$(ctl policy sign --key "$T/keys/officer.key" --password-file "$T/pw" "$T/p.yaml" 2>&1) ||
        fail "policy sign with an encrypted minisign -G key and --password-file: $out"
minisign -V -p "$T/keys/officer.pub" -m "$T/p.yaml" >/dev/null || fail "minisign -V does not accept the signature"
out=$(ctl policy verify "$T/p.yaml") || fail "policy verify: $out"
ok "an encrypted minisign -G key signs with --password-file; minisign -V and policy verify accept it"

rm -f "$T/p.yaml.minisig"
set +e; out=$(ctl policy sign --key "$T/keys/officer.key" --password-file "$T/badpw" "$T/p.yaml" 2>&1); rc=$?; set -e
[ $rc = 1 ] || fail "a wrong password exited $rc: $out"
echo "$out" | grep -q "wrong password" || fail "a wrong password said: $out"
[ ! -e "$T/p.yaml.minisig" ] || fail "a wrong password still wrote a signature"
set +e; out=$(ctl policy sign --key "$T/keys/officer.key" "$T/p.yaml" 2>&1 </dev/null); rc=$?; set -e
[ $rc = 1 ] || fail "no password, no terminal exited $rc: $out"
echo "$out" | grep -q "encrypted: give --password-file" || fail "no password said: $out"
ok "a wrong or missing password is refused with its reason, nothing written"

# The unencrypted kind (minisign -G -W) still signs without any password.
minisign -G -W -p "$T/keys/plain.pub" -s "$T/keys/plain.key" >/dev/null
cp "$T/keys/plain.pub" "$T/keys.d/"
out=$(ctl policy sign --key "$T/keys/plain.key" "$T/p.yaml" </dev/null 2>&1) || fail "policy sign with a -W key: $out"
minisign -V -p "$T/keys/plain.pub" -m "$T/p.yaml" >/dev/null || fail "minisign -V does not accept the -W signature"
ok "an unencrypted minisign -G -W key signs without a password"

# On a terminal the password is asked for, without echo (a pseudo-terminal from script(1)).
if command -v script >/dev/null 2>&1; then
        rm -f "$T/p.yaml.minisig"
        mkfifo "$T/tty.in"
        script -qec "'$SEKISHOCTL' --state-dir '$T/state' --keys-dir '$T/keys.d' policy sign --key '$T/keys/officer.key' '$T/p.yaml'" \
                /dev/null <"$T/tty.in" >"$T/tty.out" 2>&1 &
        SCRIPT_PID=$!
        exec 5>"$T/tty.in"
        wait_for "grep -q 'Password:' '$T/tty.out'" 300 || fail "no password prompt on the terminal: $(cat "$T/tty.out")"
        printf 'correct horse\n' >&5
        exec 5>&-
        wait $SCRIPT_PID || fail "policy sign on a terminal failed: $(cat "$T/tty.out")"
        grep -q "correct horse" "$T/tty.out" && fail "the password was echoed: $(cat "$T/tty.out")"
        minisign -V -p "$T/keys/officer.pub" -m "$T/p.yaml" >/dev/null || fail "minisign -V does not accept the terminal-signed file"
        ok "on a terminal the password is asked for without echo"
else
        skip_part "script(1) is not installed: the terminal prompt is not tested"
fi
