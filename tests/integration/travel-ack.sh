#!/bin/sh
# travel-ack.sh — the reset's hand-over and completion through the real systemd-journal-upload ->
# systemd-journal-remote on loopback: with the collector up the wait ends when journal-upload's cursor
# passes the hand-over record; with it down it ends at ack-timeout, "not acknowledged", then proceeds
# or holds as the policy says; the completion record after the first boot carries the same reset id;
# `sekishoctl fleet report` over the collector shows the resets pending, done and failed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_cmd python3 journalctl
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
[ -x "$RESET" ] || skip "sekisho-reset not built"
JREMOTE=/lib/systemd/systemd-journal-remote
JUPLOAD=/lib/systemd/systemd-journal-upload
[ -x "$JREMOTE" ] && [ -x "$JUPLOAD" ] || skip "systemd-journal-remote is not installed"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The terminal's journal: journald's socket (the stand-in) feeding real journal files, written by
# systemd-journal-remote from the export stream, which sekisho-reset reads and journal-upload follows.
mkfifo "$T/export.fifo"
mkdir -p "$T/local" "$T/collector" "$T/upload"
"$JREMOTE" --output="$T/local/local.journal" - <"$T/export.fifo" >"$T/jlocal.log" 2>&1 &
JL=$!
at_exit "kill $JL"
python3 "$top_srcdir/tests/integration/journal-receiver.py" "$T/journal.sock" "$T/journal.jsonl" "$T/export.fifo" &
RECV=$!
at_exit "kill $RECV"
wait_for "[ -S '$T/journal.sock' ]" 100 || fail "the journal stand-in did not start"

PORT=$(free_port)
collector_up() {
        "$JREMOTE" --listen-http="127.0.0.1:$PORT" --output="$T/collector/" --split-mode=host >>"$T/jremote.log" 2>&1 &
        JR=$!
        at_exit "kill $JR"
        wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$PORT))'" 100 ||
                fail "journal-remote did not listen"
        "$JUPLOAD" --url="http://127.0.0.1:$PORT" --directory="$T/local" --save-state="$T/upload/state" --follow=yes \
                >>"$T/jupload.log" 2>&1 &
        JU=$!
        at_exit "kill $JU"
}
collector_down() { kill "$JU" "$JR" 2>/dev/null || true; wait "$JU" "$JR" 2>/dev/null || true; }

# setup NAME RESET-ID ACK-TIMEOUT ON-NO-ACK: a reset the daemon ordered (travel state, plan with a
# directory to wipe), as sekishod writes them.
setup() {
        D="$T/$1"
        mkdir -p "$D/state/travel" "$D/wipe"
        echo sentinel >"$D/wipe/sentinel"
        cat >"$D/state/travel/reset-plan" <<PLAN
format=1
trip=trip-$1
wipe-directory=$D/wipe
reboot=no
reset-id=$2
ack-timeout=$3
on-no-ack=$4
PLAN
        travel_state "$D/state/travel/state" reset-pending "trip-$1" yes "reset-id=$2" return-proof=pinned-tls
}
reset() {
        "$RESET" --state-dir "$D/state" --audit-log "$T/reset-audit.log" --no-reboot --journal-socket "$T/journal.sock" \
                --read-journal "$T/local" --upload-state "$T/upload/state" "$@"
}
field() { sed -n "s/^$1=//p" "$D/state/travel/reset-journal" | tail -n 1; }
ackrec() { # ackrec RESET-ID FIELD: a field of the travel.reset.ack record in sekisho-reset's chain
        python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["event"] == "travel.reset.ack" and r["reset-id"] == sys.argv[2]: v = r[sys.argv[3]]
print(v)' "$T/reset-audit.log" "$1" "$2"
}

ID1=0123456789abcdef0123456789abcdef
ID2=fedcba9876543210fedcba9876543210
ID3=00112233445566778899aabbccddeeff

# 1. collector up: acknowledged as soon as journal-upload's cursor passes the record (a whole day
# allowed, so only the acknowledgement can have ended the wait)
collector_up
setup up "$ID1" 86400 proceed
reset >"$T/out1" 2>&1 || { cat "$T/out1"; fail "the reset with the collector up failed"; }
[ "$(field ack)" = acknowledged ] || fail "not acknowledged with the collector up: $(cat "$T/out1")"
[ ! -e "$D/wipe/sentinel" ] || fail "the reset did not proceed after the acknowledgement"
grep -q '^done=handover' "$D/state/travel/reset-journal" || fail "hand-over not journalled"
[ "$(sed -n '/^begin=handover/=' "$D/state/travel/reset-journal")" -lt "$(sed -n '/^begin=wipe-0/=' "$D/state/travel/reset-journal")" ] ||
        fail "the wipe began before the hand-over"
wait_for "journalctl -D '$T/collector' SEKISHO_RESET_ID=$ID1 SEKISHO_EVENT=travel.reset.handover -o cat 2>/dev/null | grep -q ." 100 ||
        fail "the collector has no hand-over record"
got=$(journalctl -D "$T/collector" SEKISHO_RESET_ID=$ID1 SEKISHO_EVENT=travel.reset.handover -o json | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
print(e["SEKISHO_TRIP"], e["SEKISHO_RETURN_PROOF"], "wipe-directory=" in e["SEKISHO_PLAN"], e["SEKISHO_ACK_TIMEOUT"])')
[ "$got" = "trip-up pinned-tls True 86400" ] || fail "the hand-over record lacks its evidence: $got"
ok "collector up: acknowledged after $(ackrec $ID1 waited) s of 86400 allowed: $(ackrec $ID1 detail | cut -c1-60)..."

# 2. collector down, on-no-ack: proceed: the wait ends at ack-timeout, recorded "not acknowledged"
collector_down
setup down "$ID2" 3 proceed
reset >"$T/out2" 2>&1 || { cat "$T/out2"; fail "the reset with the collector down failed"; }
[ "$(field ack)" = not-acknowledged ] || fail "acknowledged with the collector down: $(cat "$T/out2")"
[ "$(ackrec $ID2 ack)" = "not acknowledged" ] && [ "$(ackrec $ID2 then)" = proceed ] || fail "no 'not acknowledged' record"
[ "$(ackrec $ID2 waited)" -ge 3 ] || fail "the wait ended before ack-timeout: $(ackrec $ID2 waited) s"
[ ! -e "$D/wipe/sentinel" ] || fail "on-no-ack: proceed did not proceed"
ok "collector down: not acknowledged after $(ackrec $ID2 waited) s (ack-timeout 3 s), then proceeded"

# 3. collector down, on-no-ack: hold: nothing erased; run again with the collector back: proceeds
setup hold "$ID3" 1 hold
rc=0; reset >"$T/out3" 2>&1 || rc=$?
[ $rc = 1 ] || { cat "$T/out3"; fail "on-no-ack: hold: exit $rc"; }
[ -e "$D/wipe/sentinel" ] || fail "on-no-ack: hold erased anyway"
grep -q '^failed=handover' "$D/state/travel/reset-journal" && ! grep -q '^begin=audit' "$D/state/travel/reset-journal" ||
        fail "the hold is not journalled before any other step"
grep -q 'holding as the policy says' "$T/out3" || fail "no reason given: $(cat "$T/out3")"
collector_up
sed -i 's/^ack-timeout=1$/ack-timeout=86400/' "$D/state/travel/reset-journal"
reset >"$T/out3b" 2>&1 || { cat "$T/out3b"; fail "the held reset did not resume"; }
[ "$(field ack)" = acknowledged ] && [ ! -e "$D/wipe/sentinel" ] || fail "the held reset did not proceed once acknowledged"
ok "on-no-ack: hold erases nothing without the acknowledgement, and resumes once the collector has it"

# 4. the first boot of the re-provisioned system: completion records with the same ids
boot() { # boot NAME: the journal and plan as the initramfs leaves them on the partition it does not erase
        mkdir -p "$T/boot-$1"
        cp "$T/$1/state/travel/reset-plan" "$T/boot-$1/plan"
        cp "$T/$1/state/travel/reset-journal" "$T/boot-$1/journal"
}
boot up
boot down
sed -i '/^complete=yes/d; s/^done=wipe-0/failed=wipe-0/' "$T/boot-down/journal"
echo "drive-erase=nvme format --ses=2: done" >>"$T/boot-up/journal"
for n in up down; do
        "$RESET" --send-completion "$T/boot-$n" --audit-log "$T/reset-audit.log" --journal-socket "$T/journal.sock" \
                >"$T/complete-$n" 2>&1 || { cat "$T/complete-$n"; fail "completion for $n failed"; }
        [ -e "$T/boot-$n/journal.acked" ] && [ ! -e "$T/boot-$n/journal" ] || fail "the journal was not renamed journal.acked"
done
"$RESET" --send-completion "$T/boot-up" --audit-log "$T/reset-audit.log" --journal-socket "$T/journal.sock" >/dev/null 2>&1 &&
        fail "a completion was sent twice"
wait_for "journalctl -D '$T/collector' SEKISHO_EVENT=travel.reset.complete -o cat 2>/dev/null | grep -c . | grep -qx 2" 100 ||
        fail "the collector does not have both completion records"
got=$(journalctl -D "$T/collector" SEKISHO_EVENT=travel.reset.complete -o json | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["SEKISHO_RESET_ID"], e["SEKISHO_RESULT"], e["SEKISHO_DRIVE_ERASE"], e["SEKISHO_STEPS"])')
echo "$got" | grep -q "^$ID1 done nvme format --ses=2: done 4 done$" || fail "completion of the finished reset: $got"
echo "$got" | grep -q "^$ID2 failed not recorded 3 done; failed: wipe-0$" || fail "completion of the failed reset: $got"
ok "completion records after the first boot: $(echo "$got" | cut -c1-8,33- | tr '\n' '|')"

# 5. the officer's view: one reset done, one failed, one pending (handed over, no completion yet)

"$SEKISHOCTL" fleet report --journal-dir "$T/collector" --json >"$T/fleet.json" || fail "fleet report --json failed"
python3 - "$T/fleet.json" "$ID1" "$ID2" "$ID3" <<'PY' || fail "fleet report: $(cat "$T/fleet.json")"
import json, sys
r = json.load(open(sys.argv[1]))
resets = {x["reset-id"]: x for t in r["list"] for x in t["resets"]}
assert resets[sys.argv[2]]["state"] == "done" and resets[sys.argv[2]]["drive-erase"] == "nvme format --ses=2: done", resets
assert resets[sys.argv[3]]["state"] == "failed", resets
assert resets[sys.argv[4]]["state"] == "pending" and resets[sys.argv[4]]["completed"] == "never", resets
assert all(t["out-of-policy"] for t in r["list"] if any(x["state"] == "failed" for x in t["resets"]))
print("ok - json: done, failed (out of policy), pending")
PY
"$SEKISHOCTL" fleet report --journal-dir "$T/collector" >"$T/fleet.txt" || fail "fleet report failed"
grep -q "^3 factory reset(s)" "$T/fleet.txt" && grep -q " $ID3 .* pending " "$T/fleet.txt" || fail "text: $(cat "$T/fleet.txt")"
"$SEKISHOCTL" fleet report --journal-dir "$T/collector" --html >"$T/fleet.html" || fail "fleet report --html failed"
grep -q "<td>$ID2</td><td>[^<]*</td><td>failed / 失敗</td>" "$T/fleet.html" || fail "html: no failed reset row"
ok "fleet report: text, JSON and HTML show the resets done, failed and pending"
