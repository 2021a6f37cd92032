#!/bin/sh
# bench-fleet.sh — a fleet on loopback, bounded, stopping by itself: nginx serving the repository to N
# simulated terminals polling with jitter (conditional requests against full downloads, interleaved);
# systemd-journal-remote receiving heartbeats and records from N terminals; `sekishoctl fleet report`
# over that (time and RSS) against a plain journalctl scan of the same heartbeats. Prints figures only.
# Usage: bench-fleet.sh [TERMINALS (10000)] [RECORDS-PER-TERMINAL (5)]
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-10000}
PER=${2:-5}
JREMOTE=/lib/systemd/systemd-journal-remote
JUPLOAD=/lib/systemd/systemd-journal-upload
for c in nginx python3 journalctl "$JREMOTE" "$JUPLOAD"; do
        command -v "$c" >/dev/null 2>&1 || { echo "bench-fleet: $c is not installed; skipped"; exit 0; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bench-fleet.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { i=0; until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1))" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || return 1; sleep 0.1; done; }

echo "== fleet on loopback ($(date +%T)): $N terminals, $(nproc) cores =="

# ---- 1. the repository under N polling terminals ----
mkdir -p "$T/www/group/takeout" "$T/nginx-tmp"
head -c 20000 /dev/urandom | base64 >"$T/www/group/takeout/takeout-1.yaml"
printf 'sekisho-timestamp: 1\ntarget: group:takeout\nbundle: takeout-1.yaml\nserial: 1\n' >"$T/www/group/takeout/timestamp.yaml"
head -c 300 /dev/urandom | base64 >"$T/www/group/takeout/timestamp.yaml.minisig"
PORT=$(free_port)
cat >"$T/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 2;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 1024; }
http {
        log_format t '\$status \$body_bytes_sent \$request_time \$request_uri';
        access_log $T/access.log t;
        client_body_temp_path $T/nginx-tmp; proxy_temp_path $T/nginx-tmp; fastcgi_temp_path $T/nginx-tmp;
        uwsgi_temp_path $T/nginx-tmp; scgi_temp_path $T/nginx-tmp;
        keepalive_requests 100000;
        server { listen 127.0.0.1:$PORT backlog=4096; root $T/www; etag on; }
}
EOF
nginx -c "$T/nginx.conf" -p "$T" 2>>"$T/nginx-error.log" &
PIDS="$PIDS $!"
wait_port "$PORT" || { echo "bench-fleet: nginx did not start"; exit 1; }

# Each simulated terminal polls its timestamp the way sekisho-fetch does: a conditional request with the
# ETag it last saw (mode "etag"), or a plain GET every time (mode "full", the reference); a new serial is
# published in the middle, so each terminal fetches the bundle once then (its signature too).
cat >"$T/poll.py" <<'EOF'
import http.client, random, sys, time, threading
port, n, mode, rounds, seed = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
etags, seen = {}, {}
lock = threading.Lock()
stats = {"requests": 0, "bytes": 0, "304": 0, "200": 0}
def terminal_slice(ids):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for rnd in range(rounds):
        for t in ids:
            h = {"If-None-Match": etags[t]} if mode == "etag" and t in etags else {}
            c.request("GET", "/group/takeout/timestamp.yaml", headers=h)
            r = c.getresponse(); body = r.read()
            with lock:
                stats["requests"] += 1; stats["bytes"] += len(body); stats[str(r.status)] = stats.get(str(r.status), 0) + 1
            if r.status == 200:
                etags[t] = r.getheader("ETag")
                if seen.get(t) != body or mode == "full":
                    seen[t] = body
                    for f in ("takeout-1.yaml", "takeout-1.yaml.minisig"):
                        c.request("GET", "/group/takeout/" + f); b = c.getresponse().read()
                        with lock:
                            stats["requests"] += 1; stats["bytes"] += len(b)
            time.sleep(random.random() * 0.0005)      # jitter between polls
ids = list(range(n)); random.shuffle(ids)
workers = [threading.Thread(target=terminal_slice, args=(ids[i::8],)) for i in range(8)]
t0 = time.monotonic()
for w in workers: w.start()
for w in workers: w.join()
dt = time.monotonic() - t0
print("%s %d %d %d %.3f" % (mode, stats["requests"], stats["bytes"], stats.get("304", 0), dt))
EOF
# Interleaved: etag, full, etag, full (each 2 rounds of N polls; the timestamp changes between runs).
: >"$T/poll.out"
for run in 1 2; do
        for mode in etag full; do
                printf 'sekisho-timestamp: 1\ntarget: group:takeout\nbundle: takeout-1.yaml\nserial: %s\n' "$run$mode" >"$T/www/group/takeout/timestamp.yaml"
                : >"$T/access.log"
                python3 "$T/poll.py" "$PORT" "$N" "$mode" 2 "$run" >>"$T/poll.out"
                p99=$(awk '{print $3}' "$T/access.log" | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if(i<1)i=1; print a[i]*1000}')
                sed -i "\$s/\$/ $p99/" "$T/poll.out"
        done
done
python3 - "$T/poll.out" "$N" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
agg = {}
for mode, req, byt, n304, dt, p99 in rows:
    a = agg.setdefault(mode, [0, 0, 0, 0.0, []])
    a[0] += int(req); a[1] += int(byt); a[2] += int(n304); a[3] += float(dt); a[4].append(float(p99))
for mode, (req, byt, n304, dt, p99s) in agg.items():
    p99 = max(p99s)
    print("repository %-4s: %d polls of %d terminals, %d requests, %.0f requests/s, 304 share %.1f %%, %.2f MB, server p99 %s"
          % (mode, 4 * n, n, req, req / dt, 100.0 * n304 / req, byt / 1e6,
             "%.0f ms" % p99 if p99 >= 1 else "< 1 ms (nginx logs whole milliseconds)"))
e, f = agg["etag"], agg["full"]
print("repository ratio conditional/full: requests %.2f, bytes %.3f, requests/s %.2f" % (e[0] / f[0], e[1] / f[1], (e[0] / e[3]) / (f[0] / f[3])))
EOF

echo "($(date +%T))"
# ---- 2. journal-remote receiving N terminals' heartbeats and records ----
python3 - "$N" "$PER" >"$T/fleet.export" <<'EOF'
import sys, time
n, per = int(sys.argv[1]), int(sys.argv[2])
now = int(time.time() * 1e6)
out = sys.stdout
for t in range(n):
    name = "lg-%05d" % t
    for k in range(per):
        ev = "terminal.heartbeat" if k == per - 1 else ("usb.blocked", "policy.applied", "net.dropped", "posture.checked")[k % 4]
        out.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%032x\n" % (now - (per - k) * 1000000, k + 1, t + 1))
        out.write("MESSAGE={\"event\":\"%s\"}\nSYSLOG_IDENTIFIER=sekisho-audit\nSEKISHO_EVENT=%s\nSEKISHO_TERMINAL=%s\nSEKISHO_SEQ=%d\n" % (ev, ev, name, k + 1))
        if ev == "terminal.heartbeat":
            stale = "stale" if t % 97 == 0 else "current"
            out.write("SEKISHO_SERIAL=41\nSEKISHO_POLICY_STATE=%s\nSEKISHO_STATE=enforcing\nSEKISHO_PROFILES=%s\nSEKISHO_NOT_ENFORCED=%s\nSEKISHO_REQ_R1=enforced\n"
                      % (stale, "quarantine" if t % 101 == 0 else "", "R1" if t % 103 == 0 else ""))
        out.write("\n")
EOF
JPORT=$(free_port)
mkdir -p "$T/collector"
"$JREMOTE" --listen-http="127.0.0.1:$JPORT" --output="$T/collector/all.journal" --split-mode=none >"$T/jremote.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$JPORT" || { echo "bench-fleet: journal-remote did not listen"; exit 1; }
entries=$((N * PER))
t0=$(date +%s%N)
"$JUPLOAD" --url="http://127.0.0.1:$JPORT" --save-state="$T/upload.state" - <"$T/fleet.export" >"$T/jupload.log" 2>&1 || { echo "bench-fleet: journal-upload failed"; cat "$T/jupload.log"; exit 1; }
i=0
until [ "$(journalctl -D "$T/collector" SEKISHO_EVENT=terminal.heartbeat -o cat 2>/dev/null | wc -l)" -ge "$N" ]; do
        i=$((i + 1)); [ $i -lt 600 ] || { echo "bench-fleet: the collector did not receive every heartbeat"; exit 1; }; sleep 0.5
done
t1=$(date +%s%N)
echo "collector: $entries records of $N terminals through journal-upload -> journal-remote in $(( (t1 - t0) / 1000000 )) ms ($(( entries * 1000000000 / (t1 - t0 + 1) )) records/s), $(du -sm "$T/collector" | cut -f1) MB of journal files"

# ---- 3. the fleet view over that, against a plain scan of the heartbeats ----
measure() {   # measure LABEL CMD...: wall ms and max RSS of CMD (its output discarded)
        python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, check=True)
dt = time.monotonic() - t0
print("%s %.0f %.1f" % (sys.argv[1], dt * 1000, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
EOF
}
CTL="$top_builddir/sekishoctl"
: >"$T/view.out"
for run in 1 2 3; do
        measure fleet "$CTL" fleet report --journal-dir "$T/collector" --json >>"$T/view.out"
        measure scan journalctl -D "$T/collector" SEKISHO_EVENT=terminal.heartbeat -o json >>"$T/view.out"
done
"$CTL" fleet report --journal-dir "$T/collector" --json >"$T/fleet.json"
python3 - "$T/view.out" "$T/fleet.json" "$N" <<'EOF'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda k, i: statistics.median(float(r[i]) for r in rows if r[0] == k)
r = json.load(open(sys.argv[2]))
print("fleet report: %d terminals (%d out of policy) in %.0f ms median, max RSS %.1f MiB" % (r["terminals"], r["out-of-policy"], med("fleet", 1), med("fleet", 2)))
print("journalctl scan of the heartbeats alone: %.0f ms median, max RSS %.1f MiB" % (med("scan", 1), med("scan", 2)))
print("fleet report ratio to the scan: time %.2f, RSS %.2f" % (med("fleet", 1) / med("scan", 1), med("fleet", 2) / med("scan", 2)))
EOF
