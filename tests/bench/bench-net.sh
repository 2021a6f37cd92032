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

echo "== iperf3 A -> server through the router (TCP, ${SECS:-5} s, 3 runs each)"
bg $IN_S iperf3 -s -B 198.51.100.10 >/dev/null 2>&1
sleep 0.5
run_iperf() {
        for i in 1 2 3; do
                $IN_A iperf3 -c 198.51.100.10 -t "${SECS:-5}" ${1:-} -J | awk -F'[:,]' '/"bits_per_second"/ {v=$2} END {printf "%.0f\n", v}'
        done | sort -n | sed -n 2p   # the median of three
}
$IN_A nft delete table inet sekisho 2>/dev/null || true
without=$(run_iperf)
without_r=$(run_iperf -R)
printf 'network:\n  peer-to-peer: deny\n  file-sharing: deny\n' >"$T/p.yaml"
$IN_A "$NET_DRIVER" --policy "$T/p.yaml" --sysroot "$T/root" --audit "$T/audit" --once >/dev/null
$IN_A nft list table inet sekisho >/dev/null || fail "table not loaded"
with=$(run_iperf)
with_r=$(run_iperf -R)
for dir in "A -> server (output chain)|$without|$with" "server -> A (input chain, -R)|$without_r|$with_r"; do
        echo "$dir" | awk -F'|' '{ printf "%s: without table %.2f Gbit/s, with table %.2f Gbit/s, ratio %.1f %%\n", $1, $2/1e9, $3/1e9, 100*$3/$2 }'
done
exit 0
