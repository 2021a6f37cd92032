#!/bin/sh
# probe-helper.sh — OpenSSL lives only in sekisho-probe (issue 21): sekishod links neither libssl nor libcrypto and never maps them; it starts the helper before its sandbox, the helper runs without capabilities under its own seccomp filter, and once the helper is gone a probe fails (never "home"), logged and audited. libseccomp, needed only to build the filters, is unloaded by both once they are in.
. "$(dirname "$0")/lib.sh"
need_cmd readelf openssl
HELPER="$top_builddir/sekisho-probe"
[ -x "$HELPER" ] || skip "sekisho-probe not built"

for prog in "$RELEASE_SEKISHOD" "$SEKISHOD" "$RELEASE_SEKISHOCTL" "$top_builddir/sekisho-notify"; do
        [ -x "$prog" ] || continue
        readelf -d "$prog" | grep -Eq 'NEEDED.*(libssl|libcrypto)' && fail "$(basename "$prog") is linked with OpenSSL"
        readelf -d "$prog" | grep -q 'NEEDED.*libseccomp' && fail "$(basename "$prog") is linked with libseccomp"
done
readelf -d "$HELPER" | grep -q 'NEEDED.*libssl' || fail "sekisho-probe is not linked with libssl?"
ok "no program but sekisho-probe is linked with OpenSSL"

"$HELPER" >"$T/direct.out" 2>&1 && fail "sekisho-probe ran without sekishod's socket"
grep -q "started by sekishod only" "$T/direct.out" || fail "sekisho-probe run by hand does not say why it stops"
ok "sekisho-probe refuses to run without sekishod's socket"

# The travel plugin probes a pinned server on loopback through the daemon's helper.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/home.key" \
        -out "$T/home.crt" -subj "/CN=home.test" -days 2 2>/dev/null || fail "openssl req"
start_daemon --plugins=demo,travel
HP=$(cat "/proc/$DAEMON_PID/task/$DAEMON_PID/children" | tr ' ' '\n' | while read -r p; do
        [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sekisho-probe ] && echo "$p"; done | head -n1)
[ -n "$HP" ] || fail "sekishod did not start sekisho-probe"
grep -Eq 'libssl|libcrypto' "/proc/$DAEMON_PID/maps" && fail "sekishod maps OpenSSL"
grep -q libssl "/proc/$HP/maps" || fail "sekisho-probe does not map libssl?"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$HP/status" || fail "sekisho-probe runs without its seccomp filter"
grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$HP/status" || fail "sekisho-probe kept capabilities: $(grep Cap "/proc/$HP/status")"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$HP/status" || fail "sekisho-probe may gain privileges"
ok "sekishod maps no OpenSSL; its helper holds it, with no capabilities, no new privileges and its own seccomp filter"
for p in "$DAEMON_PID" "$HP"; do
        grep -q libseccomp "/proc/$p/maps" && fail "$(cat "/proc/$p/comm") keeps libseccomp mapped after installing its filter"
done
ok "sekishod and sekisho-probe unload libseccomp once their filters are in"

# The helper gone (killed, as a crash would): the daemon says so, once, in its log and audit trail.
kill -KILL "$HP"
wait_audit '"event":"probe-helper.exited"' || fail "the helper's end is not audited"
grep -q 'sekisho-probe was killed by signal.*trusted-network probes fail until sekishod restarts' "$T/daemon.log" ||
        fail "the helper's end is not logged"
kill -0 "$DAEMON_PID" || fail "sekishod died with its helper"
[ -e "/proc/$HP" ] && [ "$(awk '/^State:/ { print $2 }' "/proc/$HP/status")" = Z ] && fail "sekisho-probe left a zombie"
ok "the helper's end is logged and audited; sekishod runs on and reaps it"
stop_daemon

# A probe without its helper (here one that ends at once, as after a crash): the
# home server answers with the pinned key, and still the terminal is not home.
HARNESS="$top_builddir/tests/unit/travel-harness"
[ -x "$HARNESS" ] || { skip_part "travel-harness not built"; exit 0; }
HOME_PIN=$(openssl x509 -in "$T/home.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
openssl s_server -www -accept 127.0.0.1:0 -cert "$T/home.crt" -key "$T/home.key" >"$T/s_server" 2>&1 </dev/null &
SERVER_PID=$!
at_exit "kill $SERVER_PID"
wait_for "grep -q '^ACCEPT' '$T/s_server'" || fail "s_server did not start"
PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s_server" | head -n1)
cat >"$T/travel.yaml" <<POL
travel:
  high-risk-regions: [CN]
  trips:
    - {id: trip-1, destination: CN, start: 2027-01-10T00:00:00Z, end: 2027-01-20T00:00:00Z}
  return:
    reset: true
    grace: 2h
    probe-interval: 10s
    home-server: 127.0.0.1:$PORT
    server-name: home.test
    spki-sha256: $HOME_PIN
  reset-plan:
    wipe-directories: [$T/wipe-me]
    restore: [/bin/true]
    reboot: false
POL
export SEKISHO_TEST_NOW=2027-01-21T00:00:00Z
for helper in "$HELPER" /bin/true; do
        d="$T/s-$(basename "$helper")"
        mkdir -p "$d"
        "$HARNESS" --state-dir "$d" --policy "$T/travel.yaml" --log "$d.log" --probe-helper "$helper" \
                --until state=reset-pending --max-seconds 3 >"$d.out" 2>&1 || true
done
grep -q 'to=returned' "$T/s-sekisho-probe.log" || fail "the pinned server did not prove home through the helper: $(cat "$T/s-sekisho-probe.out")"
grep -q 'to=returned' "$T/s-true.log" && fail "a probe without its helper counted as home"
grep -q 'last-probe: failed: sekisho-probe' "$T/s-true.out" || fail "the failed probe does not name the helper: $(cat "$T/s-true.out")"
ok "without its helper a probe fails, naming sekisho-probe; the same server proves home through the helper"
