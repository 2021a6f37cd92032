#!/bin/sh
# travel-daemon.sh — the travel plugin in the real sekishod: only signed, valid bundles declare trips; a high-risk trip turns the travel profile on for every plugin; the state survives a restart; return orders the reset over D-Bus.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_cmd minisign dbus-daemon
STANDIN="${TRAVEL_STANDIN:-$top_builddir/tests/unit/travel-bus-standin}"
[ -x "$STANDIN" ] || skip "travel-bus-standin not built"
[ -x "$SEKISHOD" ] || skip "sekishod not built"

# A private bus with the only stand-in (systemd1/login1 recorder), never the host's bus.
# sekishod serves on it (--bus=session) and calls systemd and logind over that same connection.
dbus-daemon --session --address="unix:path=$T/bus.sock" --nofork --nopidfile >"$T/bus.log" 2>&1 &
BUS_PID=$!
at_exit "kill $BUS_PID"
wait_for "[ -S '$T/bus.sock' ]" || fail "dbus-daemon did not start"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock" DBUS_SESSION_BUS_ADDRESS="unix:path=$T/bus.sock"
"$STANDIN" "$DBUS_SYSTEM_BUS_ADDRESS" "$T/calls" &
STANDIN_PID=$!
at_exit "kill $STANDIN_PID"
wait_for "grep -q ready '$T/calls'" || fail "stand-in did not start"

# offline: bad travel sections are refused with FILE:LINE:COL by sekishoctl policy check
cat >"$T/bad.yaml" <<'POL'
sekisho: 1
serial: 3
issued: 2026-11-20T09:00:00+09:00
expires: 2027-05-20T00:00:00+09:00
travel:
  high-risk-regions: [CN, XX]
  trips:
    - {id: a, destination: CN, start: 2026-12-01T00:00:00Z, end: 2026-12-10T00:00:00Z}
    - {id: b, destination: FR, start: 2026-12-05T00:00:00Z, end: 2026-12-04T00:00:00Z}
    - {id: c, destination: FR, start: 2026-12-09T00:00:00Z, end: 2026-12-12T00:00:00Z}
POL
"$SEKISHOCTL" policy check "$T/bad.yaml" >"$T/check.out" 2>&1 && fail "bad travel section accepted"
grep -q "bad.yaml:6:27: unknown region code 'XX'" "$T/check.out" || fail "unknown region not reported: $(cat "$T/check.out")"
grep -q "bad.yaml:9:66: trip 'b' ends before it starts" "$T/check.out" || fail "end before start not reported"
grep -q "bad.yaml:10:39: trip 'c' overlaps trip 'a'" "$T/check.out" || fail "overlap not reported"
ok "policy check reports unknown regions, reversed and overlapping trips"

make_key admin
make_key rogue untrusted
start_daemon --plugins=demo,travel --bus=session
applied="$T/state/demo/applied"
state="$T/state/travel/state"
d() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# bundle FILE SERIAL ISSUED EXPIRES TRIP-START TRIP-END [returned]
bundle() {
        cat >"$1" <<POL
sekisho: 1
serial: $2
issued: $3
expires: $4
demo:
  label: office
travel:
  high-risk-regions: [CN, RU]
  trips:
    - {id: t1, destination: CN, start: $5, end: $6, returned: ${7:-false}}
  return:
    reset: true
    grace: 0s
    home-server: ${HOME_SERVER:-192.0.2.10:443}
    spki-sha256: ${HOME_PIN:-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=}
  reset-plan:
    wipe-directories: [$T/wipe-me]
    restore: [/bin/true]
    reboot: false
profiles:
  travel:
    demo: { label: abroad }
POL
}
not_travelling() { ! grep -q '^phase=travelling' "$state" 2>/dev/null && ! grep -q 'label=abroad' "$applied"; }

# 1. a trip in an unsigned bundle, in one signed by an unknown key, in an expired bundle: refused, nothing changes
bundle "$T/unsigned.yaml" 5 "$(d '-1 hour')" "$(d '+30 days')" "$(d '-1 day')" "$(d '+1 day')"
ctl policy verify "$T/unsigned.yaml" >/dev/null 2>&1 && fail "an unsigned bundle verifies"
# signed, then the trip edited afterwards: the signature no longer matches
sign "$T/unsigned.yaml" admin
sed -i 's/destination: CN/destination: RU/' "$T/unsigned.yaml"
drop "$T/unsigned.yaml"
wait_audit '"event":"policy.refused"' 1 || fail "tampered bundle not refused"
not_travelling || fail "a trip in a tampered bundle was believed"
bundle "$T/rogue.yaml" 6 "$(d '-1 hour')" "$(d '+30 days')" "$(d '-1 day')" "$(d '+1 day')"
sign "$T/rogue.yaml" rogue
drop "$T/rogue.yaml"
wait_audit '"event":"policy.refused"' 2 || fail "untrusted key not refused"
not_travelling || fail "a trip signed by an untrusted key was believed"
bundle "$T/expired.yaml" 7 "$(d '-40 days')" "$(d '-1 day')" "$(d '-1 day')" "$(d '+1 day')"
sign "$T/expired.yaml" admin
drop "$T/expired.yaml"
wait_audit '"event":"policy.refused"' 3 || fail "expired bundle not refused"
not_travelling || fail "a trip in an expired bundle was believed"
ok "trips in unsigned, untrusted or expired bundles are refused"

# 2. a signed high-risk trip in progress: travelling, travel profile on for every plugin
bundle "$T/p10.yaml" 10 "$(d '-1 hour')" "$(d '+30 days')" "$(d '-1 day')" "$(d '+1 day')"
sign "$T/p10.yaml" admin
drop "$T/p10.yaml"
wait_for "grep -q label=abroad '$applied'" || fail "travel profile not applied to the demo plugin"
grep -q '^phase=travelling' "$state" || fail "state is not travelling"
grep -q '"event":"travel-state".*"to":"travelling"' "$T/log/audit.log" || fail "transition not audited"
grep -q '"event":"profile.requested".*"profile":"travel","by":"travel"' "$T/log/audit.log" || fail "profile request not audited"
ctl travel status >"$T/ts.out" || fail "sekishoctl travel status failed"
grep -q '^state  *travelling' "$T/ts.out" && grep -q '^risk  *high' "$T/ts.out" || fail "travel status: $(cat "$T/ts.out")"
ctl travel status --json | grep -q '"state":"travelling","trip":"t1","destination":"CN"' || fail "travel status --json"
ok "high-risk trip: travelling, travel profile in force"

# 3. restart: the state survives and is not replayed
stop_daemon
n=$(grep -c '"event":"travel-state"' "$T/log/audit.log")
start_daemon --plugins=demo,travel --bus=session
wait_for "grep -q label=abroad '$applied'" || fail "travel profile lost over a restart"
[ "$(grep -c '"event":"travel-state"' "$T/log/audit.log")" = "$n" ] || fail "a restart replayed a transition"
ok "state survives a restart"

# 4. the trip is over and a signed bundle confirms the return: reset pending, grace 0s, lock then StartUnit
# The trip is over and the terminal is back on the home network: the sandboxed
# daemon proves it with the pinned TLS handshake (home server on loopback with
# the test's key; no "returned: true" in the bundle).
need_cmd openssl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/home.key" -out "$T/home.crt" \
        -subj /CN=home.test -days 2 2>/dev/null || fail "openssl req"
HOME_PIN=$(openssl x509 -in "$T/home.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
openssl s_server -www -accept 127.0.0.1:0 -cert "$T/home.crt" -key "$T/home.key" >"$T/s_server" 2>&1 </dev/null &
SERVER_PID=$!
at_exit "kill $SERVER_PID"
wait_for "grep -q '^ACCEPT' '$T/s_server'" || fail "s_server did not start"
HOME_SERVER="127.0.0.1:$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s_server" | head -n1)"
bundle "$T/p11.yaml" 11 "$(d '-1 hour')" "$(d '+30 days')" "$(d '-3 days')" "$(d '-1 day')"
sign "$T/p11.yaml" admin
drop "$T/p11.yaml"
wait_for "grep -q '^StartUnit sekisho-reset.service replace' '$T/calls'" || fail "reset unit not started"
[ "$(sed -n 2p "$T/calls")" = LockSessions ] || fail "sessions not locked before the reset"
grep -q '^reset-requested=yes' "$state" || fail "request not recorded"
grep -q '"event":"travel-state".*"to":"returned".*"reason":"home network proven by a TLS handshake with the pinned server"' \
        "$T/log/audit.log" || fail "return not proven by the pinned handshake"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "the daemon was not sandboxed"
grep -q '"event":"travel-reset-started"' "$T/log/audit.log" || fail "reset start not audited"
grep -q 'label=abroad' "$applied" || fail "travel profile dropped before the reset"
grep -q '^trip=t1' "$T/state/travel/reset-plan" || fail "reset plan not written"
ctl travel plan >"$T/plan.out" || fail "sekishoctl travel plan failed"
grep -q "wipe the contents of $T/wipe-me" "$T/plan.out" || fail "travel plan: $(cat "$T/plan.out")"
ok "return proven by the pinned handshake in the sandboxed daemon: sessions locked, sekisho-reset.service started"

# 5. systemd would now run sekisho-reset; after it (and the reboot) the daemon records reset-done and the profile is gone
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
if [ -x "$RESET" ]; then
        # as systemd would: while sekishod runs, with the reset's own audit chain
        mkdir -p "$T/wipe-me" && echo sentinel >"$T/wipe-me/sentinel"
        "$RESET" --state-dir "$T/state" --audit-log "$T/log/reset-audit.log" --no-reboot >"$T/reset.out" 2>&1 ||
                { cat "$T/reset.out"; fail "sekisho-reset failed"; }
        [ -e "$T/wipe-me/sentinel" ] && fail "sentinel survived the reset"
        stop_daemon # the reboot
        start_daemon --plugins=demo,travel --bus=session
        wait_for "grep -q '^phase=reset-done' '$state'" || fail "daemon did not record reset-done"
        wait_for "grep -q label=office '$applied'" || fail "travel profile still in force after the reset"
        grep -q '"event":"travel-reset-executing"' "$T/log/reset-audit.log" || fail "no final audit record from sekisho-reset"
        grep -q '"event":"travel-state".*"to":"reset-done"' "$T/log/audit.log" || fail "reset-done not audited"
        ctl audit verify "$T/log/audit.log" >/dev/null || fail "daemon's audit chain broken"
        ctl audit verify "$T/log/reset-audit.log" >/dev/null || fail "reset's audit chain broken"
        ok "after sekisho-reset: reset-done, travel profile released, both audit chains intact"
fi
