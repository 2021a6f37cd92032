#!/bin/sh
# store-escape.sh — hostile names and strings reach the journal and the terminal escaped (one vis(3)-style function).
. "$(dirname "$0")/lib.sh"
need_cmd minisign
make_key admin
make_key stranger untrusted
ESC=$(printf '\033')

# A file name that would forge a journal line and clear the screen.
start_daemon --plugins=demo
name=$(printf 'evil\nsekishod: Applied policy FORGED serial 99 (inbox)\033[2J.yaml')
write_policy "$T/evil.yaml" 3; sign "$T/evil.yaml" stranger
cp "$T/evil.yaml" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/$name"
cp "$T/evil.yaml.minisig" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/$name.minisig"
wait_for "grep -q 'Refused policy' '$T/daemon.log'" || fail "the bundle with a hostile name was not refused"
stop_daemon
grep -q '^sekishod: Applied policy FORGED' "$T/daemon.log" && fail "a file name forged a journal line"
grep -q "$ESC" "$T/daemon.log" && fail "an escape character reached the journal raw"
grep -qF 'evil\nsekishod: Applied policy FORGED serial 99 (inbox)\x1b[2J.yaml' "$T/daemon.log" ||
        fail "the hostile name is not shown escaped: $(grep Refused "$T/daemon.log")"
ok "hostile file name escaped in the journal (newline and ESC as backslash escapes)"

# policy check: YAML escapes decode to control characters; they are shown escaped, not sent to the terminal.
printf 'sekisho: 1\nserial: 1\n"\\e[31mred\\u202eevil": 1\n' >"$T/bad.yaml"
ctl policy check "$T/bad.yaml" >"$T/out" 2>&1 && fail "a policy with an unknown key passed the check"
grep -q "$ESC" "$T/out" && fail "policy check sent an escape character to the terminal: $(cat "$T/out")"
grep -qF '\x1b[31mred\u202eevil' "$T/out" || fail "policy check does not show the key escaped: $(cat "$T/out")"
ok "policy check shows YAML escapes escaped (ESC and U+202E as backslash escapes)"
