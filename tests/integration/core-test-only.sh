#!/bin/sh
# core-test-only.sh — the test-only demo plugin is in the test builds (sekishod-test, sekishoctl-test) and nowhere else: a release sekishod refuses --plugins=demo and a bundle with a demo: section.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
[ -x "$RELEASE_SEKISHOD" ] && [ -x "$RELEASE_SEKISHOCTL" ] || skip "sekishod and sekishoctl not built"

"$RELEASE_SEKISHOD" --help 2>&1 | grep -q '^  demo ' && fail "the release sekishod lists the demo plugin"
"$SEKISHOD" --help 2>&1 | grep -q '^  demo ' || fail "sekishod-test lacks the demo plugin"
ok "only the test build lists the demo plugin"

setup_dirs
out=$("$RELEASE_SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
        --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --plugins=demo 2>&1) &&
        fail "the release sekishod started with --plugins=demo"
echo "$out" | grep -q "unknown plugin 'demo'" || fail "--plugins=demo: $out"
ok "the release sekishod refuses --plugins=demo"

write_policy "$T/p.yaml" 5 "demo: { label: production }"
out=$("$RELEASE_SEKISHOCTL" policy check "$T/p.yaml" 2>&1) && fail "the release sekishoctl accepts a demo: section"
echo "$out" | grep -q 'p.yaml:5:1: .*demo' || fail "no FILE:LINE:COL for the demo: section: $out"
"$SEKISHOCTL" policy check "$T/p.yaml" >/dev/null || fail "sekishoctl-test refuses the demo: section"
ok "the release sekishoctl refuses a demo: section: $out"

make_key admin
SEKISHOD=$RELEASE_SEKISHOD
start_daemon --plugins=
sign "$T/p.yaml" admin
drop "$T/p.yaml"
wait_audit '"event":"policy.refused"' 1 || fail "the release sekishod did not refuse the bundle"
grep '"event":"policy.refused"' "$T/log/audit.log" | grep -q 'demo' || fail "the refusal does not name the demo: section"
[ "$(serial_in_force)" = 0 ] || fail "serial $(serial_in_force) in force"
stop_daemon
ok "the release sekishod refuses a signed bundle with a demo: section"
