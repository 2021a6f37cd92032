#!/bin/sh
# notify.sh — sekisho-notify on a private session bus that serves both roles: sekishod's signals (the real daemon, then a fake one for payloads the daemon cannot make) become Notify calls, in Japanese and English; malformed signals and a missing translation.
# The only stand-in is tests/integration/notify-bed: "server" records each Notify call (a notification
# daemon), "emit" owns org.sekisho.Sekisho1 for a moment and sends the signals it is given.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon msgfmt
BED="$top_builddir/tests/integration/notify-bed"
NOTIFY="$top_builddir/sekisho-notify"
[ -x "$BED" ] || skip "tests/integration/notify-bed is not built"

start_private_bus
NOTES="$T/notes"
: >"$NOTES"
"$BED" server "$NOTES" 2>"$T/server.log" &
SERVER_PID=$!
at_exit "kill $SERVER_PID"

# A Japanese catalogue with one message left untranslated: that one must come out in English.
mkdir -p "$T/partial/ja/LC_MESSAGES"
awk '/^msgid "Factory reset scheduled"$/ { print; getline; print "msgstr \"\""; next } { print }' \
        "$top_srcdir/po/ja.po" >"$T/partial.po"
msgfmt -o "$T/partial/ja/LC_MESSAGES/sekisho.mo" "$T/partial.po" || fail "msgfmt of the partial catalogue"

start_daemon --plugins=demo --bus=session
agent() { # agent NAME LANGUAGE LOCALEDIR
        env LANG=C LC_ALL= LANGUAGE="$2" SEKISHO_LOCALEDIR="$3" "$NOTIFY" --bus=session --verbose >"$T/agent-$1.log" 2>&1 &
        eval "AGENT_$1=\$!"
        at_exit "kill \$AGENT_$1"
        wait_for "grep -q 'Listening for org.sekisho.Sekisho1' '$T/agent-$1.log'" || fail "agent $1 did not start"
}
agent ja ja "$top_builddir/po"
agent en "" "$top_builddir/po"
agent fr fr "$top_builddir/po"
agent partial ja "$T/partial"
n() { grep -c -F "$1" "$NOTES" || true; }
wait_n() { wait_for "[ \$(grep -c -F '$1' '$NOTES') -ge $2 ]" || fail "expected $2 notification(s) '$1': $(cat "$NOTES")"; }

# The real daemon: the travel profile on and off as the operator.
ctl --bus=session profile on travel "trip to a high-risk region" || fail "profile on travel"
wait_n "出張モード：USBポートを無効にしました" 2
wait_n "Travel mode: USB ports disabled" 2
grep -F "Travel mode: USB ports disabled" "$NOTES" | grep -q "trip to a high-risk region" || fail "the reason is not shown"
ctl --bus=session profile off travel "back home" || fail "profile off travel"
wait_n "出張モードを終了しました" 2
wait_n "Travel mode ended" 2
ok "ProfileChanged from sekishod: Japanese (LANGUAGE=ja) and English (no or an unknown language)"
stop_daemon

# A fake daemon for the plugins' signals, good and malformed.
: >"$NOTES"
# From someone who does not own the name: ignored.
dbus-send --session --type=signal /org/sekisho/Sekisho1 org.sekisho.Sekisho1.DeviceBlocked \
        dict:string:string:device,dead:beef,name,spoofed
"$BED" emit \
        DeviceBlocked "dict:device=1234:5678|name=USB Stick|rule=(default: block)|interface=|device-code=K3M9Z" -- \
        ClientStopped "dict:client=xfreerdp|option=/drive:home,/tmp|clause=vdi.drives" -- \
        DeviceBlocked "str:device" -- \
        DeviceBlocked "dictint:device=3" -- \
        DeviceBlocked -- \
        ClientStopped "dict:client=xfreerdp" -- \
        DeviceBlocked "bytes:device" -- \
        TravelStateChanged "dict:from=returned|to=reset-pending|trip=t1|deadline=2026-11-23T09:00:00Z" -- \
        DeviceAllowed "dict:device=46f4:0001|name=RO Stick|interfaces=08:06:50|read-only=yes" -- \
        DeviceAllowed "dict:device=46f4:0002|name=Copy Stick|interfaces=08:06:50|read-only=no" -- \
        PostureChanged "dict:compliant=false|failed=software.forbidden|action=quarantine|notify=true" \
        || fail "the fake daemon could not emit"
# The posture notice is the last signal: once every agent has shown it, it has handled all the others.
wait_for "[ \$(grep -c -F 'kept off the office network' '$NOTES') -ge 2 ] && [ \$(grep -c -F '業務ネットワークから隔離されます' '$NOTES') -ge 2 ]" \
        || fail "the posture notices did not arrive: $(cat "$NOTES")"

[ "$(n 'USB device blocked')" = 2 ] || fail "English DeviceBlocked: expected 2 (en, fr): $(cat "$NOTES")"
[ "$(n 'USBデバイスをブロックしました')" = 2 ] || fail "Japanese DeviceBlocked: expected 2 (ja, partial): $(cat "$NOTES")"
[ "$(n 'device code K3M9Z and this terminal')" = 2 ] || fail "the notice does not offer an unlock code (en): $(cat "$NOTES")"
[ "$(n 'デバイスコード K3M9Z')" -ge 1 ] || fail "the notice does not offer an unlock code (ja): $(cat "$NOTES")"
grep -F 'USBデバイス「USB Stick」（1234:5678）' "$NOTES" | grep -q "	1	" || fail "DeviceBlocked: text or urgency: $(cat "$NOTES")"
grep -F 'Remote desktop client stopped' "$NOTES" | grep -F '/drive:home,/tmp' | grep -q "	2	" \
        || fail "ClientStopped: text or urgency: $(cat "$NOTES")"
grep -q 'リモートデスクトップ接続を停止しました' "$NOTES" || fail "ClientStopped in Japanese"
grep -F 'spoofed' "$NOTES" && fail "a signal from a non-owner was shown"
[ "$(n 'USB stick allowed for reading only')" = 2 ] && [ "$(n 'USBメモリを読み取り専用で許可しました')" = 2 ] \
        || fail "read-only stick notice: $(cat "$NOTES")"
grep -F 'USBメモリ「RO Stick」（46f4:0001）は読み取り専用' "$NOTES" | grep -q "	1	" || fail "read-only notice: text or urgency: $(cat "$NOTES")"
[ "$(n "The name and size of every file saved to it are recorded")" = 2 ] && [ "$(n 'USBメモリ「Copy Stick」（46f4:0002）は使用できます。保存したファイル')" = 2 ] \
        || fail "stick allowed (copies recorded) notice: $(cat "$NOTES")"
ok "plugin signals: device blocked, client stopped (urgency critical), in both languages; spoofed sender ignored"
ok "a stick allowed read-only, and one whose copies are recorded, say so in both languages"

for a in ja en fr partial; do
        kill -0 "$(eval echo \$AGENT_$a)" 2>/dev/null || fail "agent $a died: $(tail -5 "$T/agent-$a.log")"
        [ "$(grep -c 'Ignored a malformed' "$T/agent-$a.log")" = 5 ] || fail "agent $a: malformed signals not each logged: $(cat "$T/agent-$a.log")"
done
grep -q 'Ignored a malformed DeviceBlocked signal: the argument is not a dictionary' "$T/agent-en.log" || fail "log line"
grep -q 'Ignored a malformed ClientStopped signal: no "option" field' "$T/agent-en.log" || fail "log line"
grep -q 'Ignored a malformed DeviceBlocked signal: a value is not a string' "$T/agent-en.log" || fail "log line"
ok "malformed payloads (wrong types, missing fields, no argument) ignored with a log line, agents alive"

# Missing translation: the partial catalogue has no "Factory reset scheduled": English, the body still Japanese.
grep -F 'Factory reset scheduled' "$NOTES" | grep -q '工場出荷状態に初期化されます' || fail "missing translation did not fall back to English: $(cat "$NOTES")"
[ "$(n '工場出荷状態への初期化を予定しました')" = 1 ] || fail "the full catalogue's agent lost its translation"
[ "$(n 'Factory reset scheduled')" = 3 ] || fail "expected English summary from en, fr and the partial catalogue"
ok "a missing translation falls back to English"

# The travel plugin's reminder before the reset: the time left and whom to call, in both languages.
: >"$NOTES"
"$BED" emit \
        TravelNotice "dict:kind=reset-scheduled|trip=t1|seconds-left=5460|deadline=2026-11-23T09:00:00Z|contact=情報政策課 内線1234" -- \
        TravelNotice "dict:kind=reset-scheduled|trip=t1|seconds-left=600|deadline=2026-11-23T09:00:00Z" \
        || fail "the fake daemon could not emit"
wait_for "[ \$(grep -c . '$NOTES') -ge 8 ]" || fail "the reset reminders did not arrive: $(cat "$NOTES")"
[ "$(n 'at 2026-11-23T09:00:00Z, in 1 h 31 min. Everything on it will be deleted. Save your work to the server now. Questions: call 情報政策課 内線1234.')" = 2 ] \
        || fail "English reminder (en, fr) lacks the time left or the contact: $(cat "$NOTES")"
[ "$(n '2026-11-23T09:00:00Z（あと1時間31分）にロックされ')" = 2 ] && [ "$(n 'サーバーに保存してください。お問い合わせ先: 情報政策課 内線1234')" = 2 ] \
        || fail "Japanese reminder (ja, partial) lacks the time left or the contact: $(cat "$NOTES")"
[ "$(grep -c 'in 0 h 10 min\. .*to the server now\.$' "$NOTES")" = 2 ] && [ "$(n 'お問い合わせ先')" = 2 ] \
        || fail "a reminder without a contact names one: $(cat "$NOTES")"
ok "the reset reminder tells the time left and whom to call, in Japanese and English"
