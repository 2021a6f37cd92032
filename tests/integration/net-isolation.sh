#!/bin/sh
# net-isolation.sh — the net plugin on a namespace LAN with real traffic: isolation both ways over IPv4 and IPv6, gateway, DHCP and SLAAC, allow-peers, renumbering, file-sharing signatures, VDI-only and quarantine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

net_topology
write_udhcpc_script

NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<'EOF'
network:
  peer-to-peer: deny
  file-sharing: deny
profiles:
  peer:
    network:
      allow-peers: [printer.test]
  vdi:
    network:
      allow-destinations:
        - { host: 198.51.100.10, proto: tcp, port: 3389 }
  containers:
    network:
      exempt-interfaces: ["docker*"]
  quarantine:
    network:
      allow-destinations:
        - { host: 2001:db8:2::10, proto: tcp, port: 443 }
EOF

listen_discard "$NS_B" 7000
listen_discard "$NS_A" 7001
listen_discard "$NS_S" 7000
listen_discard "$NS_S" 3389
listen_file "$NS_S" 6000 "$T/server.out"
bg ip netns exec "$NS_B" socat -u UDP4-RECVFROM:17500,fork,reuseaddr,broadcast "OPEN:$T/b-bcast.out,creat,append"
sleep 0.5

# Control: without the table a broadcast from A reaches B (so its absence later means something).
ip -n "$NS_A" addr add 192.0.2.99/24 dev a0
echo control | $IN_A socat -u - UDP4-DATAGRAM:192.0.2.255:17500,broadcast
wait_for "[ -s '$T/b-bcast.out' ]" 30 || fail "control: broadcast does not reach B without the table"
ip -n "$NS_A" addr del 192.0.2.99/24 dev a0
: >"$T/b-bcast.out"

# 1. The table is loaded before A has an address: DHCP and SLAAC must still work.
start_net "$NET_POLICY"
$IN_A nft list table inet sekisho >/dev/null || fail "table inet sekisho not loaded"
$IN_A busybox udhcpc -i a0 -s "$T/udhcpc.sh" -n -q -t 5 -T 2 >>"$T/udhcpc.log" 2>&1 || fail "no DHCP lease with the table loaded"
A4=$(cat "$T/lease")
ok "DHCP lease $A4 with the table loaded"
wait_for "$IN_A ip -6 addr show dev a0 scope global | grep -q 2001:db8:1:" 150 || fail "no SLAAC address with the table loaded"
A6=$($IN_A ip -6 addr show dev a0 scope global | awk '/inet6 2001:db8:1:/ {sub("/.*","",$2); print $2; exit}')
ok "SLAAC address $A6 with the table loaded"
wait_for "$IN_A ip -6 route show default | grep -q 'via fe80::'" 100 || fail "no IPv6 default route from the RA"

# The learned sets follow: the DHCP subnet, the SLAAC prefix, the gateways.
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 192.0.2.0/24" 50 || fail "onlink4 misses 192.0.2.0/24"
wait_for "$IN_A nft list set inet sekisho onlink6 | grep -q 2001:db8:1::/64" 50 || fail "onlink6 misses 2001:db8:1::/64"
wait_for "$IN_A nft list set inet sekisho gw4 | grep -q 192.0.2.1" 50 || fail "gw4 misses the router"
wait_for "$IN_A nft list set inet sekisho gw6 | grep -q fe80::" 50 || fail "gw6 misses the router's link-local address"
ok "sets learned: on-link subnets and gateways (IPv6 link-local router)"

# 2. A <-> B blocked both ways, IPv4 and IPv6; UDP too.
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "A -> B over IPv4 was not blocked"
tcp_ok "$NS_A" "[2001:db8:1::20]" 7000 && fail "A -> B over IPv6 was not blocked"
tcp_ok "$NS_B" "$A4" 7001 && fail "B -> A over IPv4 was not blocked"
tcp_ok "$NS_B" "[$A6]" 7001 && fail "B -> A over IPv6 was not blocked"
$IN_A busybox ping -c1 -W1 192.0.2.20 >/dev/null 2>&1 && fail "A pings B"
listen_udp_file "$NS_B" 7002 "$T/b-udp.out"
sleep 0.3
echo udp | $IN_A socat -u - UDP:192.0.2.20:7002 2>/dev/null || true
echo lansync | $IN_A socat -u - UDP4-DATAGRAM:255.255.255.255:17500,broadcast 2>/dev/null || true
echo lansync | $IN_A socat -u - UDP4-DATAGRAM:192.0.2.255:17500,broadcast 2>/dev/null || true
[ "$(counter peer_out)" -gt 0 ] || fail "peer_out counter did not count"
[ "$(counter peer_in)" -gt 0 ] || fail "peer_in counter did not count"
ok "A <-> B blocked both ways over IPv4 and IPv6 (TCP, UDP, ICMP)"

# 3. The server behind the gateway, IPv4 and IPv6, and the router itself (DNS).
tcp_ok "$NS_A" 198.51.100.10 7000 || fail "A -> server via the gateway (IPv4) blocked"
tcp_ok "$NS_A" "[2001:db8:2::10]" 7000 || fail "A -> server via the gateway (IPv6) blocked"
$IN_A busybox ping -c1 -W2 192.0.2.1 >/dev/null || fail "A cannot ping its gateway"
ok "A -> server through the gateway works over IPv4 and IPv6"
[ -s "$T/b-udp.out" ] && fail "UDP from A reached B"
[ -s "$T/b-bcast.out" ] && fail "a broadcast from A reached B"

# 4. A drop notice reached the daemon: audit record and signal, not a timer.
wait_for "grep -q 'audit network-traffic-blocked R4 class=peer_out' '$T/audit'" 50 || fail "no audit record for the first peer drop"
grep -q 'signal TrafficBlocked' "$T/audit" || fail "no TrafficBlocked signal"
[ "$(grep -c 'class=peer_out' "$T/audit")" -le 2 ] || fail "drop notices are not rate-limited"
ok "first drop of a kind raised one audit record and one TrafficBlocked signal"

# 5. BitTorrent handshake to the server is dropped, plain TCP passes.
printf '\023BitTorrent protocol\000\000\000\000\000\000\000\000AAAAAAAAAAAAAAAAAAAAPEERIDPEERIDPEERID00' |
        $IN_A timeout 5 socat -u - TCP:198.51.100.10:6000,connect-timeout=3 2>/dev/null || true
printf 'plain tcp\n' | $IN_A timeout 5 socat -u - TCP:198.51.100.10:6000,connect-timeout=3 || fail "plain TCP to the server failed"
wait_for "grep -q 'plain tcp' '$T/server.out'" 50 || fail "plain TCP data did not arrive"
grep -q BitTorrent "$T/server.out" && fail "the BitTorrent handshake reached the server"
[ "$(counter bittorrent)" -gt 0 ] || fail "bittorrent counter did not count"
# DHT query over UDP and a listed port.
printf 'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe' | $IN_A socat -u - UDP:198.51.100.10:7003 2>/dev/null || true
[ "$(counter dht)" -gt 0 ] || fail "dht counter did not count"
tcp_ok "$NS_A" 198.51.100.10 6881 && fail "a listed file-sharing port was reachable"
ok "BitTorrent handshake and DHT query dropped by payload, listed port dropped, plain TCP passes"

# The same handshake split across two TCP segments ("\x13Bit" | "Torrent
# protocol..."), on a random port: the payload signature sees neither half,
# the classifier sees the first message whole.
if built_without_classifier; then
        skip_part "built --without-classifier: a split BitTorrent handshake is not detected"
else
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        listen_file "$NS_S" "$port" "$T/split.out"
        sleep 0.3
        $IN_A python3 - 198.51.100.10 "$port" <<'PY' || true
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.send(b"\x13Bit")
time.sleep(0.3)
s.send(b"Torrent protocol" + bytes(8) + b"A" * 20 + b"-PE0001-PEERIDPEERID")
time.sleep(1)
PY
        sleep 0.5
        got=$(wc -c <"$T/split.out" 2>/dev/null || echo 0)
        [ "$got" -lt 68 ] || fail "a BitTorrent handshake split across two segments reached the server ($got bytes)"
        ok "split BitTorrent handshake on port $port stopped after $got bytes"
fi

# 6. allow-peers (a name from the terminal's /etc/hosts) lets A reach B. The new table carries
#    the drop counters over (read from nf_tables before the replace: nftobj.c).
drops_before=$(counter peer_out)
switch_profile peer
grep -q '^apply failed' "$T/daemon.log" && fail "the peer profile failed to apply"
[ "$(counter peer_out)" -ge "$drops_before" ] || fail "the profile switch lost the drop counters ($drops_before -> $(counter peer_out))"
tcp_ok "$NS_A" 192.0.2.20 7000 || fail "A -> allowed peer B blocked"
tcp_ok "$NS_A" "[2001:db8:1::20]" 7000 && fail "B's IPv6 address is not an allowed peer but was reachable"
ok "allow-peers (printer.test from /etc/hosts) reaches B; other peers stay blocked"
switch_profile ""

# 7. Renumbering A's subnet updates the sets (no reload).
applies=$(grep -c '^applied' "$T/daemon.log")
ip -n "$NS_A" addr add 203.0.113.50/24 dev a0
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24" 50 || fail "new subnet not learned"
ip -n "$NS_A" addr del 203.0.113.50/24 dev a0
wait_for "! $IN_A nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24" 50 || fail "old subnet not forgotten"
[ "$(grep -c '^applied' "$T/daemon.log")" = "$applies" ] || fail "a topology change caused a full reload"
ok "renumbering updates the on-link sets"

# A container bridge on the terminal: its subnet is on-link (isolated) until
# the policy names it in exempt-interfaces.
ip -n "$NS_A" link add docker0 type veth peer name dk1
ip -n "$NS_A" addr add 198.51.100.129/25 dev docker0
ip -n "$NS_A" link set docker0 up
ip -n "$NS_A" link set dk1 up
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 198.51.100.128/25" 50 || fail "docker0 subnet not learned"
switch_profile containers
$IN_A nft list set inet sekisho onlink4 | grep -q 198.51.100.128/25 && fail "exempt docker0 subnet still isolated"
switch_profile ""
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 198.51.100.128/25" 50 || fail "docker0 subnet not isolated again"
ip -n "$NS_A" link del docker0
ok "exempt-interfaces takes a container bridge's subnet out of the isolation"

# A new resolv.conf (renamed into place, as DHCP clients do) updates the DNS set.
printf 'nameserver 198.51.100.53\nnameserver 2001:db8:2::53\n' >"$T/root/etc/resolv.conf.new"
mv "$T/root/etc/resolv.conf.new" "$T/root/etc/resolv.conf"
wait_for "$IN_A nft list set inet sekisho dns4 | grep -q 198.51.100.53" 50 || fail "new name server not learned"
$IN_A nft list set inet sekisho dns6 | grep -q 2001:db8:2::53 || fail "new IPv6 name server not learned"
$IN_A nft list set inet sekisho dns4 | grep -q 192.0.2.1 && fail "old name server kept"
ok "a rewritten resolv.conf updates the name-server sets"

# `sekishoctl net show` (netctl_show) prints the table and the drop counters.
$IN_A "$NET_DRIVER" --show >"$T/show.out" || fail "net show failed"
grep -q "table inet sekisho" "$T/show.out" || fail "net show lacks the table"
grep -Eq "^  peer_out +[1-9]" "$T/show.out" || fail "net show lacks the peer_out count"
ok "net show prints the table and counters"

# An interface that appears and vanishes while the sets are updated.
for i in 1 2 3 4 5 6 7 8 9 10; do
        ip -n "$NS_A" link add d0 type veth peer name d1
        ip -n "$NS_A" addr add 198.51.100.200/29 dev d0
        ip -n "$NS_A" link set d0 up; ip -n "$NS_A" link set d1 up
        ip -n "$NS_A" link del d0
done
wait_for "! $IN_A nft list set inet sekisho onlink4 | grep -q 198.51.100.200" 50 || fail "vanished interface's subnet stays"
kill -0 "$NET_PID" || fail "the plugin died while interfaces vanished"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "isolation lost after interface churn"
ok "interfaces vanishing mid-update: sets converge, isolation holds"

# 8. VDI-only: only the RDP port of the VDI server.
switch_profile vdi
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "VDI-only: RDP to the server blocked"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "VDI-only: another port of the server reachable"
tcp_ok "$NS_A" "[2001:db8:2::10]" 7000 && fail "VDI-only: IPv6 to the server reachable"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "VDI-only: peer reachable"
[ "$(counter dest_out)" -gt 0 ] || fail "dest_out counter did not count"
ok "VDI-only profile lets only RDP (tcp/3389) through"
switch_profile ""

# 9. Quarantine cuts an established connection.
rm -f "$T/stream.out"
bg ip netns exec "$NS_S" sh -c 'i=0; while [ $i -lt 600 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done' |
        ip netns exec "$NS_S" socat -u - TCP-LISTEN:8080,reuseaddr &
BG_PIDS="$BG_PIDS $!"
wait_for "ip netns exec $NS_S ss -ltn | grep -q ':8080 '" 100 || fail "the stream's listener did not start"
bg $IN_A socat -u TCP:198.51.100.10:8080 "OPEN:$T/stream.out,creat,append"
wait_for "[ \$(wc -l <'$T/stream.out') -ge 3 ]" 50 || fail "the long-lived connection did not start"
switch_profile quarantine
wait_for "grep -q 'audit network-connections-cut' '$T/audit'" 50 || fail "no connections-cut record"
sleep 0.5
before=$(wc -l <"$T/stream.out")
sleep 1.5
after=$(wc -l <"$T/stream.out")
[ "$after" = "$before" ] || fail "data still flows on the cut connection ($before -> $after lines)"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "quarantine: server port 7000 reachable"
ok "switching to quarantine cut the established connection ($before lines, then none)"

# 10. Fail-closed: the table stays when the plugin stops.
kill -TERM "$NET_PID"
wait "$NET_PID" 2>/dev/null || true
$IN_A nft list table inet sekisho >/dev/null || fail "the table went away with the plugin"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "isolation lost after the plugin stopped"
ok "the table stays in the kernel after the plugin stops"
exit 0
