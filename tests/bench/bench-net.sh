#!/bin/sh
# bench-net.sh — network plugin figures on the namespace LAN: sets update latency and 10 000-destination profile switch (bench-net), and iperf3 throughput A -> server through the router with and without table inet sekisho. Prints figures only.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/net-lib.sh"
need_cmd iperf3
BENCH_NET="${BENCH_NET:-$top_builddir/tests/bench/bench-net}"

net_topology
ip -n "$NS_A" addr add 192.0.2.11/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1

# A policy whose "big" profile has 10 000 allow-destinations (TEST-NET only:
# 5000 IPv6 hosts in 2001:db8:a::/64, 5000 IPv4 host/port pairs in 203.0.113.0/24).
{
        echo "network:"
        echo "  peer-to-peer: deny"
        echo "profiles:"
        echo "  big:"
        echo "    network:"
        echo "      allow-destinations:"
        i=1
        while [ $i -le 5000 ]; do
                printf '        - { host: "2001:db8:a::%x", proto: tcp, port: 3389 }\n' $i
                i=$((i + 1))
        done
        h=1
        while [ $h -le 250 ]; do
                p=0
                while [ $p -lt 20 ]; do
                        printf '        - { host: 203.0.113.%d, proto: tcp, port: %d }\n' $h $((2000 + p))
                        p=$((p + 1))
                done
                h=$((h + 1))
        done
} >"$T/big.yaml"

echo "== bench-net (inside namespace A)"
$IN_A "$BENCH_NET" a0 "$T/root" "$T/big.yaml" "${ROUNDS:-200}"

echo "== iperf3 A <-> server through the router (TCP), table off/on interleaved, ${RUNS:-7} pairs of ${SECS:-3} s"
start_classify # file-sharing: deny queues new flows' first packets to it
bg $IN_S iperf3 -s -B 198.51.100.10 >/dev/null 2>&1
sleep 0.5
printf 'network:\n  peer-to-peer: deny\n  file-sharing: deny\n' >"$T/p.yaml"
iperf_bps() {
        $IN_A iperf3 -c 198.51.100.10 -t "${SECS:-3}" ${1:-} -J | awk -F'[:,]' '/"bits_per_second"/ {v=$2} END {printf "%.0f\n", v}'
}
table_off() { $IN_A nft delete table inet sekisho 2>/dev/null || true; }
table_on() {
        $IN_A "$NET_DRIVER" --policy "$T/p.yaml" --sysroot "$T/root" --audit "$T/audit" --once >/dev/null
        $IN_A nft list table inet sekisho >/dev/null || fail "table not loaded"
}
# Alternating off/on pairs cancel most of the drift of a shared machine; the
# median of the per-pair ratios is printed with the medians of each side.
for dir in out in; do
        opt=
        [ $dir = in ] && opt=-R
        : >"$T/pairs.$dir"
        i=0
        while [ $i -lt "${RUNS:-7}" ]; do
                table_off
                a=$(iperf_bps $opt)
                table_on
                b=$(iperf_bps $opt)
                echo "$a $b" >>"$T/pairs.$dir"
                i=$((i + 1))
        done
        label="A -> server (output chain)"
        [ $dir = in ] && label="server -> A (input chain)"
        awk -v label="$label" '{ a[NR]=$1; b[NR]=$2; r[NR]=$2/$1 }
        function median(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                          return x[int((n + 1) / 2)] }
        END { n = NR; printf "%s: median without %.2f Gbit/s, with %.2f Gbit/s; median ratio %.1f %% (%d pairs)\n",
              label, median(a, n) / 1e9, median(b, n) / 1e9, 100 * median(r, n), n }' "$T/pairs.$dir"
done
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
exit 0
