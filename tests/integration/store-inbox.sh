#!/bin/sh
# store-inbox.sh — the inbox never loses a genuine push: slow writers, many leftovers, refused pairs kept, half-bundles moved aside.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
LOG="$T/log/audit.log"
make_key admin
make_key stranger untrusted

# Many leftover halves, and a signed bundle among them, waiting while the daemon is stopped.
setup_dirs
for i in $(seq 1 1000); do : >"$T/inbox/leftover-$i.yaml"; done
touch -d '2 days ago' "$T/inbox/leftover-7.yaml"
write_policy "$T/inbox/among.yaml" 5 "description: among leftovers"; sign "$T/inbox/among.yaml" admin
start_daemon --plugins=demo
wait_for '[ "$(serial_in_force)" = 5 ]' || fail "a signed bundle among 1000 leftover names was never installed"
ok "signed bundle found among 1000 leftover names"
wait_audit '"event":"inbox.half-bundle"' || fail "no record for the day-old half-bundle"
[ -e "$T/inbox/leftover-7.yaml" ] && fail "the day-old half-bundle is still in the inbox"
ls "$T/inbox/refused/" | grep -q -- '-leftover-7.yaml$' || fail "the day-old half-bundle was not moved to inbox/refused/"
[ -e "$T/inbox/leftover-8.yaml" ] || fail "a fresh half-bundle was moved away"
ok "half-bundle older than a day moved aside with a record; fresh ones wait"

# A signature written slowly (a copy over a slow link): read only once complete.
write_policy "$T/slow.yaml" 6 "description: slow"; sign "$T/slow.yaml" admin
cp "$T/slow.yaml" "$T/inbox/slow.yaml"
{ head -c 40 "$T/slow.yaml.minisig"; sleep 2; tail -c +41 "$T/slow.yaml.minisig"; } >"$T/inbox/slow.yaml.minisig"
wait_for '[ "$(serial_in_force)" = 6 ]' || fail "a slowly written signature made the bundle fail"
grep -q '"event":"policy.refused".*slow.yaml' "$LOG" && fail "the half-written signature was read and refused"
ok "slowly written signature read only when complete"

# A refused pair is kept in inbox/refused/, not deleted.
write_policy "$T/bad.yaml" 8 "description: unknown key"; sign "$T/bad.yaml" stranger
drop "$T/bad.yaml"
wait_audit '"event":"policy.refused".*bad.yaml' || fail "the bundle of an unknown key was not refused"
wait_for "ls '$T/inbox/refused/' | grep -q -- '-bad.yaml.minisig\$'" || fail "the refused pair was not moved to inbox/refused/"
ls "$T/inbox/refused/" | grep -q -- '-bad.yaml$' || fail "the refused policy file was not kept"
ok "refused pair kept in inbox/refused/"

# Files stamped in the future (the clock was set back) are not taken for files being written.
write_policy "$T/future.yaml" 7 "description: clock set back"; sign "$T/future.yaml" admin
touch -d '+2 hours' "$T/future.yaml" "$T/future.yaml.minisig"
cp -p "$T/future.yaml" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/future.yaml"
cp -p "$T/future.yaml.minisig" "$T/inbox/.t" && mv "$T/inbox/.t" "$T/inbox/future.yaml.minisig"
wait_for '[ "$(serial_in_force)" = 7 ]' || fail "a bundle stamped two hours ahead was never read"
ok "a bundle stamped in the future (clock set back) is read"

# Bounded: the oldest pairs beyond 64 are dropped, each with a record.
stop_daemon
for i in $(seq 10 79); do
        : >"$T/inbox/refused/000000000$i.000000-old$i.yaml"; : >"$T/inbox/refused/000000000$i.000000-old$i.yaml.minisig"
done
start_daemon --plugins=demo
write_policy "$T/bad2.yaml" 9 "description: unknown key"; sign "$T/bad2.yaml" stranger
drop "$T/bad2.yaml"
wait_for "ls '$T/inbox/refused/' | grep -q -- '-bad2.yaml.minisig\$'" || fail "the second refused pair was not kept"
wait_for "[ \$(ls '$T/inbox/refused/' | wc -l) = 128 ]" || fail "inbox/refused/ holds $(ls "$T/inbox/refused/" | wc -l) files, not 64 pairs"
[ -e "$T/inbox/refused/00000000010.000000-old10.yaml" ] && fail "the oldest refused pair was kept"
grep -q '"event":"inbox.refused-dropped","file":"00000000010.000000-old10.yaml"' "$LOG" || fail "dropping the oldest left no record"
stop_daemon
ctl --audit-log "$LOG" audit verify >/dev/null || fail "audit chain broken"
ok "inbox/refused/ bounded to 64 pairs, oldest dropped with a record"
