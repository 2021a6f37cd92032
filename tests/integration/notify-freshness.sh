#!/bin/sh
# notify-freshness.sh — the notices for a policy that cannot be confirmed current (issue 19): sekishod applies the stale profile of a policy whose repository timestamps never came and says so on the bus (FreshnessNotice, with message and message-ja); sekisho-notify shows that and the stale and fresh notices in Japanese and English, saying what it means and whom to contact.
# On a private session bus; the only stand-in is tests/integration/notify-bed (a notification server, and an emitter for the kinds the daemon needs a repository and hours to make).
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon dbus-monitor
BED="$top_builddir/tests/integration/notify-bed"
NOTIFY="$top_builddir/sekisho-notify"
[ -x "$BED" ] || skip "tests/integration/notify-bed is not built"

start_private_bus
NOTES="$T/notes"
: >"$NOTES"
"$BED" server "$NOTES" 2>"$T/server.log" &
SERVER_PID=$!
at_exit "kill $SERVER_PID"
agent() { # agent NAME LANGUAGE
        env LANG=C LC_ALL= LANGUAGE="$2" SEKISHO_LOCALEDIR="$top_builddir/po" "$NOTIFY" --bus=session --verbose >"$T/agent-$1.log" 2>&1 &
        eval "AGENT_$1=\$!"
        at_exit "kill \$AGENT_$1"
        wait_for "grep -q 'Listening for org.sekisho.Sekisho1' '$T/agent-$1.log'" || fail "agent $1 did not start"
}
agent ja ja
agent en ""
wait_n() { wait_for "[ \$(grep -c -F '$1' '$NOTES') -ge $2 ]" || fail "expected $2 notification(s) '$1': $(cat "$NOTES")"; }

# The real daemon: a policy that asks for the repository's timestamps, grace 0, and none ever came.
make_key officer
write_policy "$T/site.yaml" 5 "freshness: { grace-hours: 0, profile: stale }
profiles:
  stale:
    usb: { default: block, rules: [] }"
sign "$T/site.yaml" officer
dbus-monitor --session "type='signal',interface='org.sekisho.Sekisho1',member='FreshnessNotice'" >"$T/monitor.log" 2>&1 &
at_exit "kill $!"
start_daemon --plugins=demo --bus=session
drop "$T/site.yaml"
wait_for "[ \"\$(serial_in_force)\" = 5 ]" 100 || fail "policy 5 not applied: $(tail -3 "$T/daemon.log")"
wait_n "より厳しい制限を適用：セキュリティポリシーを確認できません" 1
wait_n "Stricter restrictions: security policy not confirmed" 1
grep -F "Stricter restrictions: security policy not confirmed" "$NOTES" | grep -F "profile stale" |
        grep -F "information security officer" | grep -q "	2	" || fail "the stale-profile notice (en): text, whom to contact or urgency: $(cat "$NOTES")"
grep -F "プロファイル stale" "$NOTES" | grep -q "情報セキュリティ担当者に連絡" || fail "the stale-profile notice (ja): $(cat "$NOTES")"
wait_for "grep -q 'message-ja' '$T/monitor.log'" 20 || fail "FreshnessNotice carries no message-ja: $(cat "$T/monitor.log")"
grep -q '"kind"' "$T/monitor.log" && grep -q '"profile"' "$T/monitor.log" && grep -q 'USB' "$T/monitor.log" ||
        fail "FreshnessNotice fields: $(cat "$T/monitor.log")"
stop_daemon
ok "sekishod: the stale profile applied (no timestamp ever, grace 0) is a FreshnessNotice with message and message-ja; shown in Japanese and English with whom to contact"

# The kinds a repository makes over hours: stale (with when the restrictions come) and fresh again.
: >"$NOTES"
"$BED" emit \
        FreshnessNotice "dict:kind=stale|freshness=expired|profile=stale|confirmed-until=2026-12-01T09:00:00Z|due=2026-12-02T09:00:00Z" -- \
        FreshnessNotice "dict:kind=fresh|freshness=fresh|profile=|confirmed-until=2026-12-09T09:00:00Z|due=" -- \
        FreshnessNotice "dict:freshness=expired" \
        || fail "the fake daemon could not emit"
wait_n "セキュリティポリシーを確認しました" 1
wait_n "Security policy confirmed" 1
grep -F "Security policy not confirmed" "$NOTES" | grep -F "confirmed until 2026-12-01T09:00:00Z" |
        grep -F "Stricter restrictions apply from 2026-12-02T09:00:00Z" | grep -q "information security officer" ||
        fail "the stale notice (en): $(cat "$NOTES")"
grep -F "セキュリティポリシーを確認できません" "$NOTES" | grep -F "2026-12-02T09:00:00Zから、より厳しい制限" |
        grep -q "情報セキュリティ担当者に連絡" || fail "the stale notice (ja): $(cat "$NOTES")"
for a in ja en; do
        kill -0 "$(eval echo \$AGENT_$a)" 2>/dev/null || fail "agent $a died"
        grep -q 'Ignored a malformed FreshnessNotice signal: no "kind" field' "$T/agent-$a.log" || fail "agent $a: a FreshnessNotice without kind was not refused: $(cat "$T/agent-$a.log")"
done
ok "stale (until when confirmed, when the restrictions come) and fresh again, in both languages; a FreshnessNotice without kind ignored"
