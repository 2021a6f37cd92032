#!/bin/sh
# fleet-report.sh — records travel from sekishod through systemd-journal-upload to systemd-journal-remote
# on loopback with their fields intact, and `sekishoctl fleet report` over the collector's directory
# tells which terminals are out of policy: stale, silent, quarantined, not enforcing a requirement.
. "$(dirname "$0")/lib.sh"
need_cmd python3 minisign journalctl
JREMOTE=/lib/systemd/systemd-journal-remote
JUPLOAD=/lib/systemd/systemd-journal-upload
[ -x "$JREMOTE" ] && [ -x "$JUPLOAD" ] || skip "systemd-journal-remote is not installed"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- 1. sekishod -> (journald stand-in) -> journal-upload -> journal-remote over HTTP ----
python3 "$top_srcdir/tests/integration/journal-receiver.py" "$T/journal.sock" "$T/journal.jsonl" "$T/journal.export" &
RECV=$!
at_exit "kill $RECV"
wait_for "[ -S '$T/journal.sock' ]" 100 || fail "the journal stand-in did not start"
make_key officer
start_daemon --journal-socket "$T/journal.sock"
write_policy "$T/site.yaml" 12
sign "$T/site.yaml" officer
drop "$T/site.yaml"
wait_for "[ \"\$(serial_in_force)\" = 12 ]" 100 || fail "bundle not applied"
stop_daemon
records=$(wc -l <"$T/log/audit.log")
wait_for "[ \$(grep -c '^__REALTIME_TIMESTAMP=' '$T/journal.export') -ge $records ]" 50 || fail "not every record was exported"

PORT=$(free_port)
mkdir -p "$T/collector"
"$JREMOTE" --listen-http="127.0.0.1:$PORT" --output="$T/collector/" --split-mode=host >"$T/jremote.log" 2>&1 &
JR=$!
at_exit "kill $JR"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$PORT))'" 100 || fail "journal-remote did not listen"
"$JUPLOAD" --url="http://127.0.0.1:$PORT" --save-state="$T/upload.state" - <"$T/journal.export" >"$T/jupload.log" 2>&1 ||
        fail "journal-upload failed: $(cat "$T/jupload.log")"
wait_for "journalctl -D '$T/collector' SEKISHO_EVENT=policy.applied -o cat 2>/dev/null | grep -q serial" 100 ||
        fail "the collector has no policy.applied entry: $(cat "$T/jremote.log")"
got=$(journalctl -D "$T/collector" SEKISHO_EVENT=policy.applied -o json | python3 -c 'import json,sys; e=json.loads(sys.stdin.readline()); print(e["SEKISHO_SERIAL"], e["SEKISHO_TERMINAL"], e["SEKISHO_CLAUSE"] != "")')
[ "$got" = "12 test-terminal True" ] || fail "fields lost in transit: $got"
ok "policy.applied crossed journal-upload/-remote with SEKISHO_SERIAL, SEKISHO_TERMINAL, SEKISHO_CLAUSE"
ctl fleet report --journal-dir "$T/collector" >"$T/fleet1.txt" || fail "fleet report failed"
grep -q "^test-terminal .* 12 " "$T/fleet1.txt" || fail "the terminal is not in the fleet report: $(cat "$T/fleet1.txt")"
ok "fleet report over what journal-remote received: $(grep '^test-terminal' "$T/fleet1.txt" | tr -s ' ')"

# ---- 2. a fleet: the report tells who is out of policy ----
# beat TERMINAL AGE-SECONDS SERIAL POLICY-STATE PROFILES NOT-ENFORCED: one heartbeat in export format.
beat() {
        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\n' \
                "$(( ($(date +%s) - $2) * 1000000 ))"
        printf 'MESSAGE=heartbeat\nSEKISHO_EVENT=terminal.heartbeat\nSEKISHO_TERMINAL=%s\nSEKISHO_SERIAL=%s\n' "$1" "$3"
        printf 'SEKISHO_POLICY_STATE=%s\nSEKISHO_STATE=enforcing\nSEKISHO_PROFILES=%s\nSEKISHO_NOT_ENFORCED=%s\n\n' "$4" "$5" "$6"
}
{
        beat lg-ok 3600 40 current "" ""          # an older heartbeat ...
        beat lg-ok 60 41 current "" ""            # ... and its newest
        beat lg-stale 60 39 stale "" ""
        beat lg-silent 18000 41 current "" ""
        beat lg-quarantine 60 41 current quarantine ""
        beat lg-travel 60 41 current travel ""
        beat lg-r1 60 41 current "" "R1"
        beat 'lg-<b>' 60 41 current "" ""
        beat lg-frozen 60 41 current "" "" | sed 's/^SEKISHO_STATE=/SEKISHO_FRESHNESS=expired\nSEKISHO_STATE=/'
} >"$T/fleet.export"
mkdir -p "$T/fleet"
"$JREMOTE" --output="$T/fleet/remote.journal" - <"$T/fleet.export" 2>"$T/jremote2.log" || fail "journal-remote: $(cat "$T/jremote2.log")"

ctl fleet report --journal-dir "$T/fleet" --json >"$T/fleet.json" || fail "fleet report --json failed"
python3 - "$T/fleet.json" <<'PY' || fail "fleet report judged wrongly: $(cat "$T/fleet.json")"
import json, sys
r = json.load(open(sys.argv[1]))
t = {x["terminal"]: x for x in r["list"]}
assert r["terminals"] == 8 and r["out-of-policy"] == 5, (r["terminals"], r["out-of-policy"])
assert t["lg-frozen"]["stale"] and t["lg-frozen"]["freshness"] == "expired"   # a frozen repository
assert t["lg-ok"]["serial"] == "41" and not t["lg-ok"]["out-of-policy"], t["lg-ok"]     # the newest heartbeat counts
assert t["lg-stale"]["stale"] and t["lg-stale"]["out-of-policy"]
assert t["lg-silent"]["silent"] and t["lg-silent"]["out-of-policy"]
assert t["lg-quarantine"]["quarantined"] and t["lg-quarantine"]["out-of-policy"]
assert t["lg-travel"]["travelling"] and not t["lg-travel"]["out-of-policy"]
assert t["lg-r1"]["not-enforced"] == "R1" and t["lg-r1"]["out-of-policy"]
assert all(x["out-of-policy"] for x in r["list"][:5]), "those to look at come first"
print("ok - json: 8 terminals, 5 out of policy: stale, frozen, silent, quarantined, R1 not enforced; travelling is not")
PY
ctl fleet report --journal-dir "$T/fleet" --html >"$T/fleet.html" || fail "fleet report --html failed"
grep -q 'lg-&lt;b&gt;' "$T/fleet.html" && ! grep -q 'lg-<b>' "$T/fleet.html" || fail "a terminal name was not escaped in HTML"
grep -q '<html' "$T/fleet.html" && ! grep -q '<script\|<link\|src=' "$T/fleet.html" || fail "the HTML page is not self-contained"
ok "html: one self-contained page, names escaped"
ctl fleet report --journal-dir "$T/fleet" >"$T/fleet.txt"
[ "$(sed -n 1p "$T/fleet.txt")" = "8 terminals, 5 to look at" ] || fail "text summary: $(sed -n 1p "$T/fleet.txt")"
ok "text: $(sed -n 1p "$T/fleet.txt")"

# ---- 3. a directory that is not a journal is named ----
mkdir -p "$T/empty"
ctl fleet report --journal-dir "$T/nonexistent" >"$T/out" 2>&1 && fail "a missing directory gave a report"
grep -q "$T/nonexistent" "$T/out" || fail "the missing directory was not named: $(cat "$T/out")"
ok "a missing journal directory is named"
