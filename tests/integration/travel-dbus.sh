#!/bin/sh
# travel-dbus.sh — on return from a high-risk trip the plugin locks sessions through logind and starts sekisho-reset.service through systemd, over a private dbus-daemon.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_cmd dbus-daemon
HARNESS="${TRAVEL_HARNESS:-$top_builddir/tests/unit/travel-harness}"
STANDIN="${TRAVEL_STANDIN:-$top_builddir/tests/unit/travel-bus-standin}"
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
[ -x "$HARNESS" ] && [ -x "$STANDIN" ] || skip "travel test programs not built"

# A private bus; never the host's. The only stand-in is travel-bus-standin
# (systemd1 StartUnit and login1 LockSessions, recorded to a file): the
# host's real systemd must not start a factory reset.
# (the session bus configuration: it lets the stand-in own the names)
dbus-daemon --session --address="unix:path=$T/bus.sock" --nofork --nopidfile >"$T/bus.log" 2>&1 &
BUS_PID=$!
at_exit "kill $BUS_PID"
wait_for "[ -S '$T/bus.sock' ]" || fail "dbus-daemon did not start"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock"

standin() { # standin LOG [--no-unit]
        "$STANDIN" "$DBUS_SYSTEM_BUS_ADDRESS" "$@" &
        STANDIN_PID=$!
        at_exit "kill $STANDIN_PID"
        wait_for "grep -q ready '$1'" || fail "stand-in did not start"
}
stop_standin() { kill "$STANDIN_PID"; wait "$STANDIN_PID" 2>/dev/null || true; }

policy() { # policy FILE [cancelled]
        cat >"$1" <<POL
travel:
  high-risk-regions: [CN, RU]
  trips:
    - id: trip-1
      destination: CN
      start: 2027-01-10T00:00:00Z
      end: 2027-01-20T00:00:00Z
      returned: true
      cancelled: ${2:-false}
  return:
    reset: true
    grace: 1h
    home-server: 192.0.2.10:443
    spki-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
  reset-plan:
    wipe-directories: [$T/wipe-me]
    restore: [/bin/true]
    reboot: false
POL
}
policy "$T/p.yaml"
policy "$T/cancel.yaml" true

# 1. return confirmed by the (signed) policy: reset pending; after the grace period: lock, then StartUnit
standin "$T/calls1"
mkdir -p "$T/s1"
SEKISHO_TEST_NOW=2027-01-21T00:00:00Z "$HARNESS" --state-dir "$T/s1" --policy "$T/p.yaml" --log "$T/s1.log" \
        --until state=reset-pending >"$T/out" 2>&1 || { cat "$T/out"; fail "no reset-pending"; }
[ "$(grep -c . "$T/calls1")" = 1 ] || fail "systemd or logind called during the grace period"
grep -q '^reset-requested: no' "$T/out" || fail "reset requested too early"
# a restart after the grace period (the state survived it)
SEKISHO_TEST_NOW=2027-01-21T01:00:01Z "$HARNESS" --state-dir "$T/s1" --policy "$T/p.yaml" --log "$T/s1.log" \
        --until event=travel-reset-started >"$T/out" 2>&1 || { cat "$T/out"; fail "reset unit not started"; }
[ "$(sed -n 2p "$T/calls1")" = LockSessions ] || fail "sessions not locked first: $(cat "$T/calls1")"
[ "$(sed -n 3p "$T/calls1")" = "StartUnit sekisho-reset.service replace" ] || fail "no StartUnit: $(cat "$T/calls1")"
grep -q '^reset-requested=yes' "$T/s1/travel/state" || fail "state does not record the request"
grep -q '^sessions-locked=yes' "$T/s1/travel/state" || fail "state does not record the lock"
grep -q "^wipe-directory=$T/wipe-me" "$T/s1/travel/reset-plan" || fail "plan not written"
grep -q 'audit travel-reset-started .*job=/org/freedesktop/systemd1/job/1' "$T/s1.log" || fail "no audit of the job"
ok "grace over: LockSessions then StartUnit(sekisho-reset.service, replace)"

# once ordered, a newer policy cannot call the reset off
SEKISHO_TEST_NOW=2027-01-21T01:00:05Z "$HARNESS" --state-dir "$T/s1" --policy "$T/cancel.yaml" --log "$T/s1.log" \
        --until event=travel-reset-started >"$T/out" 2>&1 || { cat "$T/out"; fail "ordered reset was dropped"; }
grep -q '^state: reset-pending' "$T/out" || fail "state changed after the reset was ordered"
ok "an ordered reset is not cancelled"

# what systemd would now run: sekisho-reset on the daemon's order (plan: one
# absent directory, no reboot), then the daemon's next start sees it finished
if [ -x "$RESET" ]; then
        mkdir -p "$T/wipe-me" && echo sentinel >"$T/wipe-me/sentinel"
        "$RESET" --state-dir "$T/s1" --audit-log "$T/reset-audit.log" --no-reboot >"$T/out" 2>&1 ||
                { cat "$T/out"; fail "sekisho-reset failed"; }
        [ -e "$T/wipe-me/sentinel" ] && fail "sentinel survived the reset"
        SEKISHO_TEST_NOW=2027-01-21T02:00:00Z "$HARNESS" --state-dir "$T/s1" --policy "$T/p.yaml" --log "$T/s1b.log" \
                --until state=reset-done >"$T/out" 2>&1 || { cat "$T/out"; fail "reset-done not reached"; }
        grep -q 'from=reset-pending to=reset-done .*reason=sekisho-reset finished' "$T/s1b.log" || fail "no reset-done record"
        grep -q '^profile travel .*active=yes' "$T/s1b.log" && fail "travel profile requested after the reset"
        grep -q '^profile: none' "$T/out" || fail "status shows a profile after the reset"
        grep -q '^done=trip-1' "$T/s1/travel/state" || fail "trip not recorded as finished"
        ok "sekisho-reset finished: reset-done, travel profile released"
fi
stop_standin

# 2. the reset unit is missing: held with a clear reason, nothing else happens
standin "$T/calls2" --no-unit
mkdir -p "$T/s2"
SEKISHO_TEST_NOW=2027-01-21T00:00:00Z "$HARNESS" --state-dir "$T/s2" --policy "$T/p.yaml" --until state=reset-pending >/dev/null 2>&1
SEKISHO_TEST_NOW=2027-01-21T02:00:00Z "$HARNESS" --state-dir "$T/s2" --policy "$T/p.yaml" --log "$T/s2.log" \
        --until event=travel-held >"$T/out" 2>&1 || { cat "$T/out"; fail "missing unit not reported"; }
grep -q 'held: reset unit sekisho-reset.service is missing' "$T/out" || fail "no clear reason: $(cat "$T/out")"
grep -q '^hold=reset unit sekisho-reset.service is missing' "$T/s2/travel/state" || fail "hold not persisted"
grep -q 'travel-reset-started' "$T/s2.log" && fail "a missing unit counted as started"
ok "missing reset unit: held with a clear reason"
stop_standin

# 2b. the reset unit runs but fails (sekisho-reset exit 1): reported and held, the journal keeps the progress
standin "$T/calls2b" --job-result failed
mkdir -p "$T/s2b"
SEKISHO_TEST_NOW=2027-01-21T00:00:00Z "$HARNESS" --state-dir "$T/s2b" --policy "$T/p.yaml" --until state=reset-pending >/dev/null 2>&1
SEKISHO_TEST_NOW=2027-01-21T02:00:00Z "$HARNESS" --state-dir "$T/s2b" --policy "$T/p.yaml" --log "$T/s2b.log" \
        --until event=travel-reset-failed >"$T/out" 2>&1 || { cat "$T/out"; fail "failed reset job not reported"; }
grep -q "held: sekisho-reset.service ended with result 'failed'" "$T/out" || fail "no clear reason: $(cat "$T/out")"
grep -q '^state: reset-pending' "$T/out" || fail "a failed reset left reset-pending"
ok "a failed reset job is reported and held"
stop_standin

# 3. cancelled by a newer signed policy during the grace period: home, systemd never called
standin "$T/calls3"
mkdir -p "$T/s3"
SEKISHO_TEST_NOW=2027-01-21T00:00:00Z "$HARNESS" --state-dir "$T/s3" --policy "$T/p.yaml" --until state=reset-pending >/dev/null 2>&1
SEKISHO_TEST_NOW=2027-01-21T00:30:00Z "$HARNESS" --state-dir "$T/s3" --policy "$T/cancel.yaml" --log "$T/s3.log" \
        --until state=home >"$T/out" 2>&1 || { cat "$T/out"; fail "not cancelled"; }
grep -q 'from=reset-pending to=home .*cancelled by a newer signed policy' "$T/s3.log" || fail "no cancellation record"
SEKISHO_TEST_NOW=2027-01-22T00:00:00Z "$HARNESS" --state-dir "$T/s3" --policy "$T/p.yaml" --until state=home >"$T/out" 2>&1 ||
        fail "a finished trip came back"
[ "$(grep -c . "$T/calls3")" = 1 ] || fail "systemd or logind called after a cancellation"
ok "cancelled during the grace period: no lock, no reset"
