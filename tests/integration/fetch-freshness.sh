#!/bin/sh
# fetch-freshness.sh — the repository's timestamps on the terminal: accepted only when signed by the trust
# root's timestamp threshold, for this terminal, newer than the one in force; a frozen repository (the
# newest timestamp expires) makes the policy stale and applies the policy's stale profile after its grace;
# a fresh timestamp releases it; a timestamp never selects a bundle.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
for k in root1 officer ts rogue; do make_key $k untrusted; done
setup_dirs
keyid() { sed -n 's/.*public key \([0-9A-F]*\).*/\1/p' "$T/keys/$1.pub"; }
publine() { sed -n 2p "$T/keys/$1.pub"; }
key_entry() { printf '  - id: %s\n    public: %s\n    name: %s\n    roles: [%s]\n' "$(keyid $1)" "$(publine $1)" "$1" "$2"; }
{
        echo "sekisho-root: 1"
        echo "version: 1"
        echo "issued: $(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
        echo "expires: $(date -u -d '+5 years' +%Y-%m-%dT%H:%M:%SZ)"
        echo "keys:"
        key_entry root1 root
        key_entry officer policy
        key_entry ts timestamp
        echo "roles:"
        echo "  root: { threshold: 1 }"
        echo "  policy: { threshold: 1 }"
        echo "  timestamp: { threshold: 1 }"
} >"$T/root.yaml"
ctl trust sign --key "$T/keys/root1.key" "$T/root.yaml" >/dev/null </dev/null
ctl trust install "$T/root.yaml" >/dev/null || fail "trust install: $(ctl trust install "$T/root.yaml" 2>&1)"

# A policy that requires fresh timestamps, grace 0, with its own stale profile.
write_policy "$T/site.yaml" 5 "freshness: { grace-hours: 0, profile: stale }
profiles:
  stale:
    usb: { default: block, rules: [] }"
sign "$T/site.yaml" officer
start_daemon --plugins=demo
drop "$T/site.yaml"
wait_for "[ \"\$(serial_in_force)\" = 5 ]" 100 || fail "policy 5 not applied: $(tail -3 "$T/daemon.log")"
fresh() { sed -n 's/.*"freshness":"\([a-z]*\)".*/\1/p' "$T/state/status.json"; }
profiles() { sed -n 's/.*"profiles":\[\([^]]*\)\].*/\1/p' "$T/state/status.json"; }
wait_for "profiles | grep -q stale" 100 || fail "no timestamp ever, grace 0: the stale profile is not applied ($(profiles))"
[ "$(fresh)" = none ] || fail "freshness is $(fresh), not none"
wait_audit '"event":"freshness.stale"' 1 || fail "no freshness.stale record"
ok "no timestamp ever received: stale, profile stale applied"

# ts_drop NAME KEY TARGET SERIAL EXPIRES-IN-SECONDS [ISSUED-SECONDS-AGO]: a timestamp pair into the inbox.
ts_drop() {
        cat >"$T/$1.timestamp.yaml" <<EOF
sekisho-timestamp: 1
target: $3
bundle: site-$4.yaml
serial: $4
sha256: $(sha256sum "$T/site.yaml" | cut -d' ' -f1)
size: $(stat -c %s "$T/site.yaml")
issued: $(date -u -d "-${6:-0} sec" +%Y-%m-%dT%H:%M:%SZ)
expires: $(date -u -d "+$5 sec" +%Y-%m-%dT%H:%M:%SZ)
EOF
        minisign -S -s "$T/keys/$2.key" -m "$T/$1.timestamp.yaml" -t "sekisho test timestamp" >/dev/null </dev/null
        drop "$T/$1.timestamp.yaml"
}

ts_drop t1 ts host:test-terminal 5 8 2
wait_audit '"event":"freshness.timestamp"' 1 || fail "a good timestamp was not accepted: $(tail -3 "$T/daemon.log")"
wait_for "[ \"\$(fresh)\" = fresh ] && ! profiles | grep -q stale" 100 || fail "fresh timestamp: state $(fresh), profiles $(profiles)"
grep -q '"event":"freshness.fresh"' "$T/log/audit.log" || fail "no freshness.fresh record"
[ -z "$(ls "$T/inbox" | grep -v refused)" ] || fail "an accepted timestamp was left in the inbox"
ok "a timestamp signed by the timestamp key: fresh, the stale profile released"

ts_drop t2 rogue host:test-terminal 5 3600 1
wait_audit '"event":"freshness.refused"' 1 || fail "a timestamp by a key without the role was accepted"
ls "$T/inbox/refused" | grep -q t2.timestamp.yaml || fail "the refused timestamp was not kept in refused/"
ts_drop t3 ts group:finance 5 3600 1
wait_audit '"event":"freshness.refused"' 2 || fail "a timestamp for another group was accepted"
grep '"event":"freshness.refused"' "$T/log/audit.log" | tail -1 | grep -q "not this terminal" || fail "no reason given for the other group"
cp "$T/t1.timestamp.yaml" "$T/t1b.timestamp.yaml"; cp "$T/t1.timestamp.yaml.minisig" "$T/t1b.timestamp.yaml.minisig"
drop "$T/t1b.timestamp.yaml"
wait_audit '"event":"freshness.refused"' 3 || fail "a replayed timestamp was accepted"
grep '"event":"freshness.refused"' "$T/log/audit.log" | tail -1 | grep -q "replay" || fail "the replay was not named"
[ "$(fresh)" = fresh ] || fail "a refused timestamp changed the state to $(fresh)"
ok "refused: a key without the timestamp role, another group's, a replay; the state kept"

# The freeze: nothing newer arrives, the newest expires, the stale profile applies (grace 0).
wait_for "[ \"\$(fresh)\" = expired ] && profiles | grep -q stale" 150 || fail "after expiry: state $(fresh), profiles $(profiles)"
ok "a frozen repository: the timestamp expired, policy stale, profile stale applied"

# A timestamp naming a newer serial than the one in force: behind (the bundle never came), never installs anything.
ts_drop t4 ts group:takeout 9 3600 0
wait_for "[ \"\$(fresh)\" = behind ]" 100 || fail "a timestamp naming serial 9: state $(fresh)"
[ "$(serial_in_force)" = 5 ] || fail "a timestamp changed the policy in force"
profiles | grep -q stale || fail "behind with grace 0 is not stale"
ok "a timestamp naming serial 9 while 5 is in force: behind, still stale, serial 5 stays"

# Kept across a restart, checked again under the trust in force.
stop_daemon
start_daemon --plugins=demo
wait_for "[ \"\$(fresh)\" = behind ]" 100 || fail "after a restart: state $(fresh)"
stop_daemon
ok "the timestamp is kept across a restart"
