#!/bin/sh
# net-dns-client.sh — DNS only as a client: the terminal's name server (a rogue DHCP server is enough to become one) reaches no port of the terminal from source port 53, while queries to it and their replies still work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

net_topology
NET_POLICY="$T/policy.yaml"
printf 'network:\n  peer-to-peer: deny\n' >"$NET_POLICY"
# B is the terminal's name server (as a hotel LAN's DHCP could say).
echo "nameserver 192.0.2.20" >"$T/root/etc/resolv.conf"
ip -n "$NS_A" addr add 192.0.2.30/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
# B answers on port 53 (UDP and TCP): it echoes the query back.
bg $IN_B socat UDP4-RECVFROM:53,fork,reuseaddr SYSTEM:cat
bg $IN_B socat TCP4-LISTEN:53,fork,reuseaddr SYSTEM:cat
TCP53_PID=$!
listen_file "$NS_A" 7001 "$T/a-tcp.out"
listen_udp_file "$NS_A" 7002 "$T/a-udp.out"
sleep 0.3

start_net "$NET_POLICY"
wait_for "$IN_A nft list set inet sekisho dns4 | grep -q 192.0.2.20" 50 || fail "B not learned as the name server"

# Queries from the terminal and their replies (by connection state).
reply=$(echo query-udp | $IN_A timeout 5 socat -t 2 - UDP4:192.0.2.20:53 2>/dev/null)
[ "$reply" = query-udp ] || fail "a UDP query to the name server got no reply ('$reply')"
reply=$(echo query-tcp | $IN_A timeout 5 socat -t 2 - TCP4:192.0.2.20:53,connect-timeout=3 2>/dev/null)
[ "$reply" = query-tcp ] || fail "a TCP query to the name server got no reply ('$reply')"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "the name server's other ports are reachable"
ok "queries to the name server (UDP and TCP) are answered; its other ports stay blocked"

# The name server as an attacker: a connection from its port 53 to any port of the terminal
# (its TCP listener stops first, or port 53 could not be bound).
kill "$TCP53_PID"
wait "$TCP53_PID" 2>/dev/null || true
printf 'from-port-53\n' | $IN_B timeout 6 socat -u - TCP4:192.0.2.30:7001,sourceport=53,reuseaddr,connect-timeout=3 2>/dev/null || true
printf 'udp-from-53\n' | $IN_B timeout 3 socat -u - UDP4:192.0.2.30:7002,sourceport=53,reuseaddr 2>/dev/null || true
printf 'plain\n' | $IN_B timeout 6 socat -u - TCP4:192.0.2.30:7001,connect-timeout=3 2>/dev/null || true
sleep 0.5
[ -s "$T/a-tcp.out" ] && fail "the name server reached the terminal's TCP port 7001 ($(cat "$T/a-tcp.out"))"
[ -s "$T/a-udp.out" ] && fail "the name server reached the terminal's UDP port 7002 from source port 53"
[ "$(counter peer_in)" -gt 0 ] || fail "peer_in did not count the name server's attempts"
# No rule of ours keys on a source port 53.
$IN_A nft list table inet sekisho | grep -E "sport (53|\{[^}]*53)" && fail "a rule is keyed on source port 53"
ok "from source port 53 the name server reaches no port of the terminal (TCP, UDP)"
exit 0
