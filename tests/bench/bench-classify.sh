#!/bin/sh
# bench-classify.sh — the file-sharing classifier's cost on the namespace LAN: iperf3 throughput with the full ruleset and sekisho-classify against no table, new flows per second classified against none, classifier CPU per classified flow. Interleaved runs; prints figures only.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/net-lib.sh"
need_cmd iperf3 python3
[ -x "$CLASSIFY" ] || skip "sekisho-classify is not built"

net_topology
ip -n "$NS_A" addr add 192.0.2.50/24 dev a0
ip -n "$NS_A" route replace default via 192.0.2.1
printf 'network:\n  peer-to-peer: deny\n  file-sharing: deny\n' >"$T/p.yaml"
start_net "$T/p.yaml"
$IN_A nft list table inet sekisho >"$T/table.nft"
shim=$($IN_A iptables-legacy -S OUTPUT 2>/dev/null | grep -c SEKISHO_Q || true)
[ "${shim:-0}" -gt 0 ] && echo "# this kernel has no nft queue: the queue step is xt NFQUEUE (net-lib.sh queue_shim)"
rules_off() {
        $IN_A nft delete table inet sekisho 2>/dev/null || true
        if [ "${shim:-0}" -gt 0 ]; then
                for ipt in iptables-legacy ip6tables-legacy; do
                        $IN_A $ipt -D OUTPUT ! -o lo -j SEKISHO_Q
                        $IN_A $ipt -D INPUT ! -i lo -j SEKISHO_Q
                done
        fi
}
rules_on() {
        $IN_A nft -f "$T/table.nft" || fail "cannot reload the table"
        if [ "${shim:-0}" -gt 0 ]; then
                for ipt in iptables-legacy ip6tables-legacy; do
                        $IN_A $ipt -A OUTPUT ! -o lo -j SEKISHO_Q
                        $IN_A $ipt -A INPUT ! -i lo -j SEKISHO_Q
                done
        fi
}
median_ratio() { # LABEL UNIT SCALE FILE: pairs "without with"
        awk -v label="$1" -v unit="$2" -v scale="$3" '{ a[NR]=$1; b[NR]=$2; r[NR]=$2/$1 }
        function median(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                          return x[int((n + 1) / 2)] }
        END { n = NR; printf "%s: median without %.2f %s, with %.2f %s; median ratio %.1f %% (%d pairs)\n",
              label, median(a, n) / scale, unit, median(b, n) / scale, unit, 100 * median(r, n), n }' "$4"
}
classifier_stats() { # prints "flows cpu-us"
        n=$(grep -c '^stats ' "$T/classify.log" || true)
        kill -USR1 "$CLASSIFY_PID"
        wait_for "[ \$(grep -c '^stats ' '$T/classify.log') -gt $n ]" 50 || fail "no statistics from the classifier"
        grep '^stats ' "$T/classify.log" | tail -1 | sed 's/.*flows=\([0-9]*\).*cpu-us=\([0-9]*\).*max-rss-kib=\([0-9]*\).*/\1 \2 \3/'
}

echo "== iperf3 A <-> server through the router (TCP), no table / full ruleset + classifier, interleaved, ${RUNS:-5} pairs of ${SECS:-3} s"
bg $IN_S iperf3 -s -B 198.51.100.10 >/dev/null 2>&1
sleep 0.5
iperf_bps() {
        $IN_A iperf3 -c 198.51.100.10 -t "${SECS:-3}" ${1:-} -J | awk -F'[:,]' '/"bits_per_second"/ {v=$2} END {printf "%.0f\n", v}'
}
for dir in out in; do
        opt=
        [ $dir = in ] && opt=-R
        : >"$T/pairs.$dir"
        i=0
        while [ $i -lt "${RUNS:-5}" ]; do
                rules_off
                a=$(iperf_bps $opt)
                rules_on
                b=$(iperf_bps $opt)
                echo "$a $b" >>"$T/pairs.$dir"
                i=$((i + 1))
        done
        label="A -> server"
        [ $dir = in ] && label="server -> A"
        median_ratio "$label" Gbit/s 1e9 "$T/pairs.$dir"
done

echo "== new flows: short TCP request/answer exchanges A -> server, one after another, ${FLOWS:-300} per run, ${RUNS:-5} pairs"
bg ip netns exec "$NS_S" python3 -c '
import socketserver
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(4096)
        self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("198.51.100.10", 8088), H).serve_forever()'
sleep 0.5
flows() { # prints flows per second
        $IN_A python3 -c '
import socket, sys, time
n = int(sys.argv[1]); t0 = time.monotonic()
for i in range(n):
    s = socket.create_connection(("198.51.100.10", 8088), timeout=5)
    s.sendall(b"GET /%d HTTP/1.1\r\nHost: server.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n" % i)
    while s.recv(4096):
        pass
    s.close()
print("%.1f" % (n / (time.monotonic() - t0)))' "${FLOWS:-300}"
}
: >"$T/pairs.flows"
cpu=0
nflows=0
i=0
while [ $i -lt "${RUNS:-5}" ]; do
        rules_off
        a=$(flows)
        rules_on
        set -- $(classifier_stats)
        f0=$1 c0=$2
        b=$(flows)
        set -- $(classifier_stats)
        nflows=$((nflows + $1 - f0))
        cpu=$((cpu + $2 - c0))
        rss=$3
        echo "$a $b" >>"$T/pairs.flows"
        i=$((i + 1))
done
median_ratio "new flows per second" "flows/s" 1 "$T/pairs.flows"
awk -v c="$cpu" -v n="$nflows" -v rss="$rss" 'BEGIN { printf "classifier CPU per classified flow: %.1f us (%d flows, %.2f s CPU); classifier max RSS %.1f MiB\n", c / n, n, c / 1e6, rss / 1024 }'
grep '^stats ' "$T/classify.log" | tail -1
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
exit 0
