#!/bin/sh
# core-journal.sh — every audit record reaches journald's socket as one structured entry (SEKISHO_EVENT,
# SEKISHO_SEQ, SEKISHO_TERMINAL, SEKISHO_CLAUSE, ...), its MESSAGE the very line of the audit log.
. "$(dirname "$0")/lib.sh"
need_cmd python3 minisign
python3 "$top_srcdir/tests/integration/journal-receiver.py" "$T/journal.sock" "$T/journal.jsonl" &
RECV=$!
at_exit "kill $RECV"
wait_for "[ -S '$T/journal.sock' ]" 100 || fail "the journal stand-in did not start"

make_key officer
start_daemon --journal-socket "$T/journal.sock"
write_policy "$T/site.yaml" 7
sign "$T/site.yaml" officer
drop "$T/site.yaml"
wait_for "[ \"\$(serial_in_force)\" = 7 ]" 100 || fail "bundle not applied"
stop_daemon
wait_for "[ \$(wc -l <'$T/journal.jsonl') -ge \$(wc -l <'$T/log/audit.log') ]" 50 || fail "not every record reached the journal"

python3 - "$T/log/audit.log" "$T/journal.jsonl" <<'PY' || fail "journal entries do not match the audit log"
import json, sys
records = [l.rstrip("\n") for l in open(sys.argv[1])]
entries = [json.loads(l) for l in open(sys.argv[2])]
assert not any("ERROR" in e for e in entries), [e for e in entries if "ERROR" in e]
assert len(entries) == len(records), (len(entries), len(records))
for line, e in zip(records, entries):
    rec = json.loads(line)
    assert e["MESSAGE"] == [line], (e["MESSAGE"], line)
    assert e["SYSLOG_IDENTIFIER"] == ["sekisho-audit"] and e["PRIORITY"] == ["5"]
    assert e["SEKISHO_EVENT"] == [rec["event"]] and e["SEKISHO_SEQ"] == [str(rec["seq"])]
    assert e["SEKISHO_TERMINAL"] == ["test-terminal"], e
    if "clause" in rec:
        assert e["SEKISHO_CLAUSE"] == [rec["clause"]]
    for k, v in rec.items():
        name = "SEKISHO_" + ("TERMINAL" if k == "host" else "".join(c.upper() if c.isalnum() else "_" for c in k))
        assert e[name] == [str(v)], (name, e.get(name), v)
applied = [e for e in entries if e["SEKISHO_EVENT"] == ["policy.applied"]]
assert applied and applied[0]["SEKISHO_SERIAL"] == ["7"], applied
beats = [e for e in entries if e["SEKISHO_EVENT"] == ["terminal.heartbeat"]]
assert beats, "no heartbeat at start"
b = beats[0]
assert b["SEKISHO_REQ_R9"] == ["enforced"] and b["SEKISHO_POLICY_STATE"] == ["default"] and b["SEKISHO_STATE"] == ["enforcing"], b
# Only the demo plugin runs here: what the stopped plugins would enforce is not enforced now.
assert b["SEKISHO_SERIAL"] == ["0"] and b["SEKISHO_REQ_R1"] == ["not-enforced"], b
assert b["SEKISHO_NOT_ENFORCED"][0].split()[0] == "R1" and "R9" not in b["SEKISHO_NOT_ENFORCED"][0].split(), b
print("ok - a heartbeat at start: %s" % {k: v[0] for k, v in b.items() if k.startswith("SEKISHO_") and k != "SEKISHO_PREV"})
print("ok - %d records, %d entries, fields as the audit log" % (len(records), len(entries)))
PY

# Without journald the daemon says so and keeps its log file.
start_daemon --journal-socket "$T/no-such.sock"
stop_daemon
grep -q "Cannot reach journald at $T/no-such.sock" "$T/daemon.log" || fail "a missing journald socket was not named"
ok "a missing journald socket is named; the audit log goes on"
