#!/bin/sh
# travel-tls.sh — trusted network detection: a pinned TLS handshake with a server on loopback counts as home; another key (captive portal, attacker) never does.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_cmd openssl
HARNESS="${TRAVEL_HARNESS:-$top_builddir/tests/unit/travel-harness}"
[ -x "$HARNESS" ] || skip "travel-harness not built"

# The test's own keys: the home server's, and a stranger's.
for k in home stranger; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$k.key" \
                -out "$T/$k.crt" -subj "/CN=$k.test" -days 2 2>/dev/null || fail "openssl req"
done
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
HOME_PIN=$(pin "$T/home.crt")
STRANGER_PIN=$(pin "$T/stranger.crt")

# serve KEYNAME: an openssl s_server on 127.0.0.1 with that key; sets PORT and SERVER_PID.
serve() {
        openssl s_server -www -accept 127.0.0.1:0 -cert "$T/$1.crt" -key "$T/$1.key" >"$T/s_server.$1" 2>&1 </dev/null &
        SERVER_PID=$!
        at_exit "kill $SERVER_PID"
        wait_for "grep -q '^ACCEPT' '$T/s_server.$1'" || fail "s_server did not start"
        PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s_server.$1" | head -n1)
}

policy() { # policy FILE PORT PIN
        cat >"$1" <<POL
travel:
  high-risk-regions: [CN]
  trips:
    - {id: trip-1, destination: CN, start: 2027-01-10T00:00:00Z, end: 2027-01-20T00:00:00Z}
  return:
    reset: true
    grace: 2h
    probe-interval: 10s
    home-server: 127.0.0.1:$2
    server-name: home.test
    spki-sha256: $3
  reset-plan:
    wipe-directories: [$T/wipe-me]
    restore: [/bin/true]
    reboot: false
POL
}

export SEKISHO_TEST_NOW=2027-01-21T00:00:00Z

if [ "${TRAVEL_NETNS_CASE:-}" = 1 ]; then
        # Inside a network namespace of our own (see the end of this file).
        # The home server is 192.0.2.1:4433, an address this namespace does
        # not have yet; probe-interval is 1h, so after the first failure only
        # an address change can bring the next probe in time.
        ip link set lo up
        openssl s_server -www -accept 0.0.0.0:4433 -cert "$T/home.crt" -key "$T/home.key" >"$T/s_server.late" 2>&1 </dev/null &
        SERVER_PID=$!
        at_exit "kill $SERVER_PID"
        wait_for "grep -q '^ACCEPT' '$T/s_server.late'" || fail "s_server did not start"
        policy "$T/late.yaml" 4433 "$HOME_PIN"
        sed -i 's/probe-interval: 10s/probe-interval: 1h/; s/127.0.0.1:4433/192.0.2.1:4433/' "$T/late.yaml"
        mkdir -p "$T/s5"
        "$HARNESS" --state-dir "$T/s5" --policy "$T/late.yaml" --log "$T/s5.log" --until state=reset-pending \
                --max-seconds 60 >"$T/s5.out" 2>&1 &
        H=$!
        wait_for "grep -q 'home network not proven' '$T/s5.out'" || fail "first probe did not fail"
        ip addr add 192.0.2.1/32 dev lo # the terminal joins the home network
        wait "$H" || { cat "$T/s5.out"; fail "address change did not trigger a probe"; }
        grep -q 'to=returned' "$T/s5.log" || fail "no return after the network came up"
        ok "an address change triggers the probe at once"
        exit 0
fi

# 1. the home server's key: home proven, returned, reset pending
serve home
policy "$T/good.yaml" "$PORT" "$HOME_PIN"
mkdir -p "$T/s1"
"$HARNESS" --state-dir "$T/s1" --policy "$T/good.yaml" --log "$T/s1.log" --until state=reset-pending >"$T/s1.out" 2>&1 ||
        { cat "$T/s1.out"; fail "pinned server did not prove the home network"; }
grep -q 'to=returned .*reason=home network proven by a TLS handshake with the pinned server' "$T/s1.log" || fail "no returned transition"
grep -q '^signal TravelNotice kind=reset-scheduled' "$T/s1.log" || fail "no reset notice"
grep -q 'message-ja=この端末は高リスク地域から帰着しました' "$T/s1.log" || fail "no Japanese notice"
ok "pinned key on loopback proves the home network"

# 2. same server, pin of another key: not home (captive portal / interception)
policy "$T/wrongpin.yaml" "$PORT" "$STRANGER_PIN"
mkdir -p "$T/s2"
"$HARNESS" --state-dir "$T/s2" --policy "$T/wrongpin.yaml" --log "$T/s2.log" --until event=travel-pin-mismatch >"$T/s2.out" 2>&1 ||
        { cat "$T/s2.out"; fail "pin mismatch not reported"; }
grep -q '^state: travelling' "$T/s2.out" || fail "a wrong key changed the state"
grep -q 'to=returned' "$T/s2.log" && fail "a wrong key counted as home"
grep -q 'last-probe: pin-mismatch' "$T/s2.out" || fail "status does not show the mismatch"
ok "a server with another key does not count as home"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

# 3. a stranger's server where the home server should be (attacker's network): not home
serve stranger
policy "$T/stranger.yaml" "$PORT" "$HOME_PIN"
mkdir -p "$T/s3"
"$HARNESS" --state-dir "$T/s3" --policy "$T/stranger.yaml" --log "$T/s3.log" --until event=travel-pin-mismatch >"$T/s3.out" 2>&1 ||
        { cat "$T/s3.out"; fail "stranger's key not reported"; }
grep -q 'to=returned' "$T/s3.log" && fail "stranger's key counted as home"
ok "an impostor server is not home"

# 4. nothing listening: not home, no transition
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
mkdir -p "$T/s4"
"$HARNESS" --state-dir "$T/s4" --policy "$T/good.yaml" --log "$T/s4.log" --until state=never --max-seconds 2 >"$T/s4.out" 2>&1 && fail "harness should have given up"
grep -q '^state: travelling' "$T/s4.out" || fail "unreachable server changed the state"
grep -q 'last-probe: failed' "$T/s4.out" || fail "failed probe not in status"
ok "an unreachable home server is not home"

# 5. in a network namespace of our own: an address change triggers a probe at once
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
        unshare -n true 2>/dev/null; then
        TRAVEL_NETNS_CASE=1 TRAVEL_HARNESS="$HARNESS" unshare -n sh "$0" || fail "network-change case failed"
else
        skip_part "the network-change case needs root, unshare and ip"
fi
