#!/bin/sh
# fetch-repo.sh — sekisho-fetch against a real nginx on loopback: a published repository reaches the
# daemon's inbox; an unchanged one costs one 304; a wrong digest, a lying size, a 64 MiB body, a cut
# transfer are refused with nothing handed over; a proxy is used; HTTPS with a private CA.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx tinyproxy minisign openssl python3
FETCH="$top_builddir/sekisho-fetch"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the repository: group/takeout/ holds the bundle for this terminal ----
make_key officer
make_key timestamp untrusted
REPO="$T/www"
mkdir -p "$REPO/group/takeout" "$REPO/all"

# publish DIR SERIAL [SHA256-OVERRIDE SIZE-OVERRIDE EXPIRES ISSUED]: bundle + timestamp, both signed.
# nginx's ETag is the file's mtime in seconds and its size: two timestamps published in one second
# with one size would look unchanged, so each gets an mtime of its own (stamp).
publish() {
        _d="$REPO/$1"
        write_policy "$_d/takeout-$2.yaml" "$2"
        sign "$_d/takeout-$2.yaml" officer
        _sha=${3:-$(sha256sum "$_d/takeout-$2.yaml" | cut -d' ' -f1)}
        _size=${4:-$(stat -c %s "$_d/takeout-$2.yaml")}
        _exp=${5:-$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)}
        cat >"$_d/timestamp.yaml.new" <<EOF
sekisho-timestamp: 1
target: group:$(basename "$_d")
bundle: takeout-$2.yaml
serial: $2
sha256: $_sha
size: $_size
issued: ${6:-$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)}
expires: $_exp
EOF
        mv "$_d/timestamp.yaml.new" "$_d/timestamp.yaml"
        sign "$_d/timestamp.yaml" timestamp
        stamp "$_d/timestamp.yaml"
}
stamps=0
stamp() { stamps=$((stamps + 1)); touch -d "@$(( $(date +%s) - 86400 + stamps ))" "$1"; }
publish group/takeout 100

# ---- nginx on loopback, its files all in $T ----
PORT=$(free_port)
TLS_PORT=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
cat >"$T/nginx.conf" <<EOF
daemon off;
master_process off;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 64; }
http {
        access_log $T/access.log;
        client_body_temp_path $T/nginx-tmp;
        proxy_temp_path $T/nginx-tmp;
        fastcgi_temp_path $T/nginx-tmp;
        uwsgi_temp_path $T/nginx-tmp;
        scgi_temp_path $T/nginx-tmp;
        types { text/plain yaml minisig; }
        server { listen 127.0.0.1:$PORT; root $REPO; etag on; }
        server { listen 127.0.0.1:$TLS_PORT ssl; server_name localhost; root $REPO;
                 ssl_certificate $T/tls.crt; ssl_certificate_key $T/tls.key; }
}
EOF
mkdir -p "$T/nginx-tmp"
nginx -c "$T/nginx.conf" -p "$T" 2>>"$T/nginx-error.log" &
NGINX_PID=$!
at_exit "kill $NGINX_PID"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$PORT))'" 100 || fail "nginx did not start"

setup_dirs
conf() {
        cat >"$T/sekisho.conf" <<EOF
terminal-id: test-terminal
groups: [takeout, test]
audit-syslog: false
repository: $1
EOF
        [ $# -lt 2 ] || printf '%s\n' "$2" >>"$T/sekisho.conf"
}
conf "http://127.0.0.1:$PORT/"
fetch() { _rc=0; "$FETCH" --config "$T/sekisho.conf" --inbox "$T/inbox" --state-dir "$T/fetch" --verbose "$@" >"$T/fetch.out" 2>&1 || _rc=$?; return 0; }
requests() { wc -l <"$T/access.log"; }
reset_inbox() { rm -rf "$T/inbox"; mkdir "$T/inbox"; }

# ---- a first run hands the bundle over; host/test-terminal/ is missing (404), group/takeout/ is ours ----
fetch
[ $_rc = 0 ] || { cat "$T/fetch.out"; fail "first fetch exited $_rc"; }
cmp -s "$T/inbox/fetched-100.yaml" "$REPO/group/takeout/takeout-100.yaml" || fail "the bundle was not handed over intact"
cmp -s "$T/inbox/fetched-100.yaml.minisig" "$REPO/group/takeout/takeout-100.yaml.minisig" || fail "the signature was not handed over"
grep -q 'GET /host/test-terminal/timestamp.yaml HTTP/1.1" 404' "$T/access.log" || fail "the host target was not asked first"
cmp -s "$T/inbox/fetched.timestamp.yaml" "$REPO/group/takeout/timestamp.yaml" || fail "the timestamp was not handed over"
cmp -s "$T/inbox/fetched.timestamp.yaml.minisig" "$REPO/group/takeout/timestamp.yaml.minisig" || fail "the timestamp's signature was not handed over"
ls -a "$T/inbox" | grep -v '^\.\.\?$' | grep -qv '^fetched\(-100\|\.timestamp\)\.yaml\(\.minisig\)\?$' && fail "left other files in the inbox: $(ls -a "$T/inbox")"
ok "a published bundle and its timestamp reach the inbox, host target tried first"

# ---- nothing changed: exactly one request per target tried, the ours a 304 ----
reset_inbox
before=$(requests)
fetch
[ $_rc = 0 ] || fail "second fetch exited $_rc"
new=$(tail -n +$((before + 1)) "$T/access.log")
[ "$(printf '%s\n' "$new" | grep -c 'group/takeout')" = 1 ] || fail "an unchanged repository cost more than one request: $new"
printf '%s\n' "$new" | grep -q 'GET /group/takeout/timestamp.yaml HTTP/1.1" 304' || fail "no 304 for an unchanged timestamp: $new"
[ -z "$(ls "$T/inbox")" ] || fail "an unchanged bundle was handed over again"
ok "unchanged: one conditional request, 304, nothing handed over"

# ---- the daemon applies what the fetcher hands over ----
fetch_and_apply() {
        publish group/takeout "$1"
        fetch
        [ $_rc = 0 ] || { cat "$T/fetch.out"; fail "fetch of serial $1 exited $_rc"; }
        wait_for "[ \"\$(serial_in_force)\" = $1 ]" 100 || { cat "$T/fetch.out" "$T/log/audit.log"; fail "the daemon did not apply serial $1"; }
}
start_daemon
conf "http://127.0.0.1:$PORT/"     # start_daemon wrote a plain identity
fetch_and_apply 101
stop_daemon
ok "the daemon applies a fetched bundle (serial 101)"

# ---- refusals: nothing reaches the inbox ----
reset_inbox
expect_refused() {
        fetch
        [ $_rc = 2 ] || { cat "$T/fetch.out"; fail "$1: exit $_rc, not 2"; }
        grep -q "$2" "$T/fetch.out" || { cat "$T/fetch.out"; fail "$1: the message does not say '$2'"; }
        [ -z "$(ls "$T/inbox")" ] || fail "$1: something was handed over: $(ls "$T/inbox")"
        ok "$1 refused: $(grep -m1 "$2" "$T/fetch.out")"
}
publish group/takeout 102 0000000000000000000000000000000000000000000000000000000000000000
expect_refused "a digest that does not match" "SHA-256 is not the one"

# The timestamp says 500 bytes, the server sends 64 MiB: cut at the size the timestamp names.
publish group/takeout 103 "" 500
head -c $((64 * 1024 * 1024)) /dev/zero >"$REPO/group/takeout/takeout-103.yaml"
expect_refused "a 64 MiB body where 500 bytes were named" "larger than the limit of 500 bytes"
# A timestamp that names a bundle over the daemon's limit is malformed.
publish group/takeout 104 "" $((64 * 1024 * 1024))
expect_refused "a timestamp naming a 64 MiB bundle" "timestamp.yaml:6:7: .*size"
# A timestamp for someone else's target.
publish group/takeout 105
sed -i 's/^target: .*/target: group:finance/' "$REPO/group/takeout/timestamp.yaml"
stamp "$REPO/group/takeout/timestamp.yaml"
expect_refused "a timestamp for another target" "names target group:finance, not group:takeout"

# ---- a transfer cut in the middle: exit 1, nothing handed over ----
publish group/takeout 106
CUT_PORT=$(free_port)
cat >"$T/cut.py" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
repo = sys.argv[2]
while True:
    c, _ = s.accept()
    req = c.recv(65536).decode("latin-1").split(" ")
    path = req[1] if len(req) > 1 else "/"
    try:
        body = open(repo + path, "rb").read()
    except OSError:
        c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); c.close(); continue
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    # The bundle is cut in the middle; everything else is served whole.
    c.sendall(head + (body[: len(body) // 2] if path.endswith("-106.yaml") else body))
    c.close()
EOF
python3 "$T/cut.py" "$CUT_PORT" "$REPO" &
CUT_PID=$!
at_exit "kill $CUT_PID"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$CUT_PORT))'" 100 || fail "cut server did not start"
conf "http://127.0.0.1:$CUT_PORT/"
fetch
[ $_rc = 1 ] || { cat "$T/fetch.out"; fail "a cut transfer: exit $_rc, not 1"; }
[ -z "$(ls -A "$T/inbox")" ] || fail "a cut transfer left files in the inbox: $(ls -A "$T/inbox")"
ok "a transfer cut in the middle: $(grep -m1 -i 'takeout-106' "$T/fetch.out")"

# ---- through a proxy from the environment ----
PROXY_PORT=$(free_port)
cat >"$T/tinyproxy.conf" <<EOF
Port $PROXY_PORT
Listen 127.0.0.1
Timeout 60
LogFile "$T/proxy.log"
LogLevel Connect
MaxClients 8
Allow 127.0.0.1
EOF
tinyproxy -d -c "$T/tinyproxy.conf" >/dev/null 2>&1 &
PROXY_PID=$!
at_exit "kill $PROXY_PID"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\",$PROXY_PORT))'" 100 || fail "tinyproxy did not start"
conf "http://127.0.0.1:$PORT/"
before=$(requests)
http_proxy="http://127.0.0.1:$PROXY_PORT" fetch
[ $_rc = 0 ] || { cat "$T/fetch.out"; fail "fetch through the proxy exited $_rc"; }
grep -q "fetched-106.yaml" /dev/null || [ -f "$T/inbox/fetched-106.yaml" ] || fail "nothing handed over through the proxy"
grep -q "group/takeout/timestamp.yaml" "$T/proxy.log" || fail "the proxy did not see the request: $(cat "$T/proxy.log")"
ok "http_proxy from the environment is used"

# ---- HTTPS with the site's own CA; the same without it is refused ----
reset_inbox
publish group/takeout 107
conf "https://localhost:$TLS_PORT/"
fetch
[ $_rc = 1 ] || fail "an unknown CA was accepted (exit $_rc)"
[ -z "$(ls -A "$T/inbox")" ] || fail "handed over from an unverified server"
conf "https://localhost:$TLS_PORT/" "repository-ca: $T/tls.crt"
fetch
[ $_rc = 0 ] || { cat "$T/fetch.out"; fail "https with repository-ca exited $_rc"; }
[ -f "$T/inbox/fetched-107.yaml" ] || fail "nothing handed over over https"
ok "https: the private CA from repository-ca verifies; without it, refused"

# ---- a frozen repository: an expired timestamp is named ----
conf "http://127.0.0.1:$PORT/"
publish group/takeout 108 "" "" "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)"
fetch
grep -q "expired at" "$T/fetch.out" || { cat "$T/fetch.out"; fail "an expired timestamp was not named"; }
ok "an expired timestamp is named: $(grep -m1 'expired at' "$T/fetch.out" | cut -c1-100)"

# ---- no repository configured: nothing to do ----
setup_dirs
"$FETCH" --config "$T/sekisho.conf" --inbox "$T/inbox" --state-dir "$T/fetch" >"$T/fetch.out" 2>&1 || fail "no repository: non-zero exit"
grep -q "names no repository" "$T/fetch.out" || fail "no repository: no word said"
ok "no repository configured: exits 0 and says so"
