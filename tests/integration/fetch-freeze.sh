#!/bin/sh
# fetch-freeze.sh — the fleet's whole path on loopback: the officer publishes with `sekishoctl repo publish`,
# real nginx serves it, sekisho-fetch hands bundle and timestamp to sekishod, which is fresh; the server
# then keeps serving the old timestamp (a freeze): once it expires the terminal is stale and its stale
# profile applies; the officer's renewed timestamp makes it fresh again, also when renewed twice in one
# second (nginx's ETag is mtime seconds + size). repo publish refuses what terminals would refuse.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx minisign python3
FETCH="$top_builddir/sekisho-fetch"
for k in root1 officer ts rogue; do make_key $k untrusted; done
setup_dirs
keyid() { sed -n 's/.*public key \([0-9A-F]*\).*/\1/p' "$T/keys/$1.pub"; }
publine() { sed -n 2p "$T/keys/$1.pub"; }
key_entry() { printf '  - id: %s\n    public: %s\n    name: %s\n    roles: [%s]\n' "$(keyid $1)" "$(publine $1)" "$1" "$2"; }
{
        echo "sekisho-root: 1"; echo "version: 1"
        echo "issued: $(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"; echo "expires: $(date -u -d '+5 years' +%Y-%m-%dT%H:%M:%SZ)"
        echo "keys:"; key_entry root1 root; key_entry officer policy; key_entry ts timestamp
        echo "roles:"; echo "  root: { threshold: 1 }"; echo "  policy: { threshold: 1 }"; echo "  timestamp: { threshold: 1 }"
} >"$T/root.yaml"
ctl trust sign --key "$T/keys/root1.key" "$T/root.yaml" >/dev/null </dev/null
ctl trust install "$T/root.yaml" >/dev/null || fail "trust install failed"

write_policy "$T/takeout-7.yaml" 7 "applies-to: [group:takeout]
freshness: { grace-hours: 0, profile: stale }
profiles:
  stale:
    usb: { default: block, rules: [] }"
sign "$T/takeout-7.yaml" officer

# ---- repo publish checks as a terminal would ----
REPO="$T/www"
publish() { ctl repo publish "$REPO" "$@" >"$T/publish.out" 2>&1; }
publish group:takeout "$T/takeout-7.yaml" --key "$T/keys/rogue.key" && fail "a timestamp by a key terminals do not trust for it was published"
grep -q "timestamp.yaml" "$T/publish.out" || fail "the refusal does not name the timestamp: $(cat "$T/publish.out")"
[ ! -e "$REPO/group/takeout/timestamp.yaml" ] || fail "a refused timestamp was written"
cp "$T/takeout-7.yaml" "$T/unsigned.yaml"; sign "$T/unsigned.yaml" rogue
publish group:takeout "$T/unsigned.yaml" --key "$T/keys/ts.key" && fail "a bundle terminals would refuse was published"
publish group:takeout "$T/takeout-7.yaml" --key "$T/keys/ts.key" --hours 1 || fail "repo publish: $(cat "$T/publish.out")"
grep -q "serial 7" "$T/publish.out" || fail "repo publish did not say what it published: $(cat "$T/publish.out")"
ok "repo publish: refuses a rogue timestamp key and a bundle terminals would refuse; publishes: $(cat "$T/publish.out")"

# ---- nginx serves it; fetch hands it over; the daemon is fresh ----
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx-tmp"
cat >"$T/nginx.conf" <<EOF
daemon off;
master_process off;
user root;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 64; }
http {
        access_log $T/access.log;
        client_body_temp_path $T/nginx-tmp; proxy_temp_path $T/nginx-tmp; fastcgi_temp_path $T/nginx-tmp;
        uwsgi_temp_path $T/nginx-tmp; scgi_temp_path $T/nginx-tmp;
        server { listen 127.0.0.1:$PORT; root $REPO; }
}
EOF
nginx -c "$T/nginx.conf" -p "$T" 2>>"$T/nginx-error.log" &
at_exit "kill $!"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$PORT))'" 100 || fail "nginx did not start"

# start_daemon writes a plain identity: the repository goes after it.
conf_repo() { printf 'repository: http://127.0.0.1:%s/\n' "$PORT" >>"$T/sekisho.conf"; }
start_daemon --plugins=demo
conf_repo
fetch() { "$FETCH" --config "$T/sekisho.conf" --inbox "$T/inbox" --state-dir "$T/fetch" >"$T/fetch.out" 2>&1 || fail "fetch: $(cat "$T/fetch.out")"; }
fresh() { sed -n 's/.*"freshness":"\([a-z]*\)".*/\1/p' "$T/state/status.json"; }
profiles() { sed -n 's/.*"profiles":\[\([^]]*\)\].*/\1/p' "$T/state/status.json"; }
fetch
wait_for "[ \"\$(serial_in_force)\" = 7 ] && [ \"\$(fresh)\" = fresh ]" 150 || fail "after fetch: serial $(serial_in_force), freshness $(fresh)"
! profiles | grep -q stale || fail "fresh, yet the stale profile is on"
ok "published, served by nginx, fetched: serial 7 in force and fresh"

# ---- the freeze: two hours on, the server still serves the old timestamp ----
stop_daemon
later=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
SEKISHO_TEST_NOW=$later start_daemon --plugins=demo
conf_repo
SEKISHO_TEST_NOW=$later fetch
grep -q "expired at" "$T/fetch.out" || fail "the fetcher did not name the frozen timestamp: $(cat "$T/fetch.out")"
wait_for "[ \"\$(fresh)\" = expired ] && profiles | grep -q stale" 100 || fail "frozen: freshness $(fresh), profiles $(profiles)"
grep -q '"event":"freshness.stale"' "$T/log/audit.log" || fail "no freshness.stale record"
ok "a freeze: the server keeps the old timestamp, the terminal is stale and its stale profile applies"

# The compliance report's R9 has a freshness row, judged as the heartbeat judges it (one function).
# r9_says STATE VERDICT TEXT: the report's freshness row and R9's verdict, and the newest heartbeat's req-R9.
r9_says() {
        ctl --bus=none --audit-log "$T/log/audit.log" report --json >"$T/report.json" || fail "report --json failed"
        python3 - "$T/report.json" "$T/log/audit.log" "$@" <<'PY' || fail "report or heartbeat R9 wrong (want $*)"
import json, sys
rep, audit, state, verdict, text = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
r9 = [q for q in rep["requirements"] if q["id"] == "R9"][0]
rows = [r for r in r9["rows"] if r["plugin"] == "freshness"]
assert len(rows) == 1, r9
assert rows[0]["state"] == state and text in rows[0]["reason"], rows[0]
assert r9["status"] == verdict and text in r9["detail"], (r9["status"], r9["detail"])
beats = [json.loads(l) for l in open(audit) if '"event":"terminal.heartbeat"' in l]
want = {"enforced": "enforced", "partial": "partial", "not-enforced": "not-enforced"}[verdict]
assert beats and beats[-1]["req-R9"] == want, beats[-1]
assert (" R9" in " " + beats[-1]["not-enforced"]) == (verdict != "enforced"), beats[-1]
PY
}
r9_says partial partial "STALE (expired)"
r9_says partial partial "stale profile stale applied since 20"
ok "report: R9's freshness row says STALE (expired), the stale profile applied since when; R9 partial, as the heartbeat says"

# ---- the officer renews the timestamp; the terminal is fresh again ----
SEKISHO_TEST_NOW=$later publish group:takeout --key "$T/keys/ts.key" --hours 24 || fail "renew: $(cat "$T/publish.out")"
SEKISHO_TEST_NOW=$later fetch
wait_for "[ \"\$(fresh)\" = fresh ] && ! profiles | grep -q stale" 100 || fail "renewed: freshness $(fresh), profiles $(profiles)"
[ "$(serial_in_force)" = 7 ] || fail "a renewed timestamp changed the serial"
r9_says enforced enforced "fresh: the repository's newest timestamp is valid"
ok "renewed with repo publish (no bundle): fresh again, the stale profile released, serial 7 stays; R9 enforced again"

# ---- renewed twice in one second, one size: nginx's ETag (mtime seconds + size) must still change ----
# (SEKISHO_TEST_NOW holds the officer's clock still: both are published "in the same second".)
n_ts() { grep -c '"event":"freshness.timestamp"' "$T/log/audit.log" || true; }
n_refused() { grep -c '"event":"freshness.refused"' "$T/log/audit.log" || true; }
for h in 12 13; do
        n=$(n_ts) refused=$(n_refused)
        SEKISHO_TEST_NOW=$later publish group:takeout --key "$T/keys/ts.key" --hours $h || fail "renew ($h h): $(cat "$T/publish.out")"
        SEKISHO_TEST_NOW=$later fetch
        wait_for "[ \$(n_ts) -gt $n ] || [ \$(n_refused) -gt $refused ]" 100 || true
        [ "$(n_ts)" -gt "$n" ] || fail "the timestamp renewed for $h h in the same second did not reach the daemon (n=$n, refused $(n_refused)): $(grep freshness.refused "$T/log/audit.log" | tail -n 1 | cut -c1-300) $(tail -n 2 "$T/access.log")"
done
grep '"event":"freshness.timestamp"' "$T/log/audit.log" | tail -n 1 | grep -q "$(date -u -d "@$(( $(date -d "$later" +%s) + 13 * 3600 + 2 ))" +%Y-%m-%dT%H:%M:%S)" ||
        fail "the last timestamp is not issued a second after the one before: $(grep '"event":"freshness.timestamp"' "$T/log/audit.log" | tail -n 1)"
stop_daemon
ok "renewed twice in one second with one size: each issued a second after the last (mtime too), fetched and accepted"
