#!/bin/sh
# store-soak.sh — SIGKILL at random moments during installs and audit writes: old or new policy, a verifying chain, no false alarm.
# SEKISHO_SOAK_KILLS sets the number of kills (default 25 keeps `make check` fast; the issue's figure is 500).
. "$(dirname "$0")/lib.sh"
need_cmd minisign shuf
KILLS=${SEKISHO_SOAK_KILLS:-25}
LOG="$T/log/audit.log"
make_key admin
setup_dirs
started=$(date +%s)

in_store() { ctl policy show | sed -n 's/^serial: *//p'; }
prev=0 new_count=0 old_count=0 seen=
for round in $(seq 1 "$KILLS"); do
        serial=$round
        write_policy "$T/p.yaml" "$serial" "description: round $round"; sign "$T/p.yaml" admin
        "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$LOG" --bus=none --plugins=demo >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        # Into the inbox at once: the kill lands anywhere from start-up to after the install.
        cp "$T/p.yaml" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/p$round.yaml"
        cp "$T/p.yaml.minisig" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/p$round.yaml.minisig"
        delay=$(shuf -i 0-600 -n 1)
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
        DAEMON_PID=
        now=$(in_store)
        [ -n "$now" ] || fail "round $round: no policy in the store after the kill"
        # Old or new: never a serial that was not pushed, never backwards.
        [ "$now" -ge "$prev" ] && [ "$now" -le "$serial" ] || fail "round $round: serial $now in the store (before: $prev, pushed: $serial)"
        if [ "$now" = "$serial" ]; then new_count=$((new_count + 1)); elif [ "$now" = "$prev" ]; then old_count=$((old_count + 1)); fi
        prev=$now
        seen="$seen $now"
        if [ -s "$LOG" ]; then
                ctl --audit-log "$LOG" audit verify >"$T/v" || fail "round $round (killed after ${delay} ms): $(cat "$T/v")"
        fi
done

# A clean start after the last kill: no alarm, the policy in force has its record (recovered if need be).
start_daemon --plugins=demo
stop_daemon
grep -q '"event":"audit.truncated"' "$LOG" && fail "a kill was taken for a cut: $(grep audit.truncated "$LOG" | head -1)"
grep -q '"event":"audit.repaired"' "$LOG" && fail "a kill left a torn record"
grep -q "Audit log .* was cut" "$T/daemon.log" && fail "false 'cut' alarm in the journal"
ctl --audit-log "$LOG" audit verify >"$T/v" || fail "chain broken at the end: $(cat "$T/v")"
final=$(in_store)
grep -q "\"event\":\"policy.applied\".*\"serial\":\"$final\"" "$LOG" || fail "serial $final in force without a policy.applied record"
# Every serial that was ever in the store has its record written before it was put there.
for s in $(echo $seen | tr ' ' '\n' | sort -un); do
        [ "$s" = 0 ] && continue
        grep -q "\"event\":\"policy.appl[a-z]*\".*\"serial\":\"$s\"" "$LOG" || fail "serial $s was in the store with no record of it"
done
records=$(wc -l <"$LOG")
echo "soak: $KILLS SIGKILLs at 0-600 ms after start while a bundle was dropped; new policy kept $new_count times," \
        "old $old_count, other (an earlier leftover) $((KILLS - new_count - old_count)); $records audit records," \
        "$(($(date +%s) - started)) s; $(cat "$T/v")"
ok "old or new policy after every kill, chain verifies, no false alarm"
