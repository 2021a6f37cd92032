#!/bin/sh
# store-seal.sh — forward-secure sealing: the officer's key verifies a copy with no collector; a chain redone by root on the terminal fails it.
. "$(dirname "$0")/lib.sh"
need_cmd minisign b2sum
make_key admin
LOG="$T/log/audit.log"
setup_dirs

# Epochs of 2 s, so the test sees the key move on.
ctl audit seal-init --seal-interval 2 >"$T/init" || fail "seal-init failed"
KEY=$(tail -n 1 "$T/init")
seed=${KEY%%/*}
[ ${#seed} = 64 ] || fail "no verification key printed: $(cat "$T/init")"
ctl audit seal-init >/dev/null 2>&1 && fail "seal-init overwrote the sealing state"

start_daemon --plugins=demo
write_policy "$T/p1.yaml" 1 "description: one"; sign "$T/p1.yaml" admin
drop "$T/p1.yaml"
wait_for '[ "$(serial_in_force)" = 1 ]' || fail "bundle 1 not applied"
sleep 4.5
write_policy "$T/p2.yaml" 2 "description: two"; sign "$T/p2.yaml" admin
drop "$T/p2.yaml"
wait_for '[ "$(serial_in_force)" = 2 ]' || fail "bundle 2 not applied"
stop_daemon
grep -q '"event":"audit.sealed","epoch":"[2-9]' "$LOG" || fail "no seal of a later epoch"
grep -qi "$seed" "$T/state/audit.seal" && fail "the seed is still on the terminal"
ctl --audit-log "$LOG" audit verify --seal "$KEY" >"$T/v" || fail "the sealed log does not verify: $(cat "$T/v")"
grep -q "seals verify, sealed through record" "$T/v" || fail "verify does not report the seals: $(cat "$T/v")"
ok "sealed with an evolving key; the officer's key verifies: $(sed 's/.*chain intact; //' "$T/v")"

# Root on the terminal edits a record before the last seal and redoes the whole chain and head.
cp "$LOG" "$T/log.orig"
sed -i '0,/"event":"policy.applied"/s/"serial":"1"/"serial":"9"/' "$LOG"
prev=0000000000000000000000000000000000000000000000000000000000000000
: >"$T/rechained"
while IFS= read -r line; do
        line=$(printf '%s' "$line" | sed "s/\"prev\":\"[0-9a-f]*\"}\$/\"prev\":\"$prev\"}/")
        printf '%s\n' "$line" >>"$T/rechained"
        prev=$(printf '%s' "$line" | b2sum -l 256 | cut -d' ' -f1)
done <"$LOG"
mv "$T/rechained" "$LOG"
echo "$(wc -l <"$LOG") $prev" >"$LOG.head"
ctl --audit-log "$LOG" audit verify >"$T/v" || fail "the re-chained log should pass a plain verify: $(cat "$T/v")"
ctl --audit-log "$LOG" audit verify --seal "$KEY" >"$T/v" && fail "an edited, re-chained log passes the seal check"
grep -q "does not verify under the officer's key" "$T/v" || fail "the seal failure is not explained: $(cat "$T/v")"
ok "an edited record with the chain redone fails the seal check"

# Seals removed altogether: the check says there are none.
grep -v '"event":"audit.sealed"' "$T/log.orig" >"$LOG"
ctl --audit-log "$LOG" audit verify --seal "$KEY" >"$T/v" && fail "a log with its seals removed passes"
ok "a log with its seals removed fails the seal check"
