#!/bin/sh
# net-public.sh — R8 on a public network: outside the office (proven only by the pinned TLS handshake of the core's probe) nothing but the VPN endpoint until the tunnel is up, then only the tunnel (kill switch), never the core network; in the proven office the office rules; another network: public again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
need_cmd openssl

# The tunnel: WireGuard where this kernel has it, else VXLAN (a kernel tunnel
# that every kernel here has). The rules only name the interface and the endpoint.
ip netns add "sekisho-test-wgprobe-$$"
if ip -n "sekisho-test-wgprobe-$$" link add wgp type wireguard 2>/dev/null && command -v wg >/dev/null 2>&1; then
        TUNNEL=wireguard
else
        TUNNEL=vxlan
fi
ip netns del "sekisho-test-wgprobe-$$"
echo "# tunnel: $TUNNEL"

net_topology
ip -n "$NS_A" addr add 192.0.2.30/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
# Behind the VPN server S: the office network and the core network (基幹系).
ip -n "$NS_S" link add office type veth peer name office-peer
ip -n "$NS_S" addr add 203.0.113.65/26 dev office
ip -n "$NS_S" addr add 203.0.113.129/25 dev office
ip -n "$NS_S" link set office up
ip -n "$NS_S" link set office-peer up
if [ $TUNNEL = wireguard ]; then
        wg genkey >"$T/a.key"; wg pubkey <"$T/a.key" >"$T/a.pub"
        wg genkey >"$T/s.key"; wg pubkey <"$T/s.key" >"$T/s.pub"
        PORT=51820
        ip -n "$NS_A" link add vpn0 type wireguard
        $IN_A wg set vpn0 private-key "$T/a.key" listen-port $PORT peer "$(cat "$T/s.pub")" \
                endpoint 198.51.100.10:$PORT allowed-ips 203.0.113.0/24
        ip -n "$NS_S" link add vpn0 type wireguard
        $IN_S wg set vpn0 private-key "$T/s.key" listen-port $PORT peer "$(cat "$T/a.pub")" allowed-ips 203.0.113.2/32
else
        PORT=4789
        ip -n "$NS_A" link add vpn0 type vxlan id 42 local 192.0.2.30 remote 198.51.100.10 dstport $PORT dev a0
        ip -n "$NS_S" link add vpn0 type vxlan id 42 local 198.51.100.10 remote 192.0.2.30 dstport $PORT dev s0
fi
ip -n "$NS_A" addr add 203.0.113.2/30 dev vpn0
ip -n "$NS_S" addr add 203.0.113.1/30 dev vpn0
ip -n "$NS_A" link set vpn0 up
ip -n "$NS_S" link set vpn0 up
ip -n "$NS_A" route add 203.0.113.64/26 via 203.0.113.1 dev vpn0
ip -n "$NS_A" route add 203.0.113.128/25 via 203.0.113.1 dev vpn0

# The office's pinned server on the LAN's router (not running at first).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/office.key" \
        -out "$T/office.crt" -subj "/CN=office.test" -days 2 2>/dev/null || fail "openssl req"
PIN=$(openssl x509 -in "$T/office.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<POL
network:
  peer-to-peer: deny
  public-networks:
    office-server: 192.0.2.1:4433
    server-name: office.test
    spki-sha256: "$PIN"
    vpn-endpoints:
      - { host: 198.51.100.10, proto: udp, port: $PORT }
    vpn-interfaces: [vpn0]
    core-network: [203.0.113.128/25]
POL
listen_discard "$NS_S" 7000
listen_discard "$NS_B" 7000
sleep 0.3
tcp_ok "$NS_A" 198.51.100.10 7000 || fail "control: A cannot reach the server directly"
tcp_ok "$NS_A" 203.0.113.65 7000 || fail "control: A cannot reach the office network through the $TUNNEL tunnel"
tcp_ok "$NS_A" 203.0.113.129 7000 || fail "control: A cannot reach the core network through the tunnel"
# The office network is also routable directly (through the hotel's router), so
# that only the rules can keep traffic in the tunnel.
ip -n "$NS_R" route add 203.0.113.64/26 via 198.51.100.10
tunnel_down() {
        ip -n "$NS_A" link set vpn0 down
        ip -n "$NS_A" route add 203.0.113.64/26 via 192.0.2.1
}
tunnel_up() {
        ip -n "$NS_A" route del 203.0.113.64/26 via 192.0.2.1
        ip -n "$NS_A" link set vpn0 up
        ip -n "$NS_A" route replace 203.0.113.64/26 via 203.0.113.1 dev vpn0
        ip -n "$NS_A" route replace 203.0.113.128/25 via 203.0.113.1 dev vpn0
}
tunnel_down
tcp_ok "$NS_A" 203.0.113.65 7000 || fail "control: the office network is not reachable directly with the tunnel down"
tunnel_up

# 1. Not in the office (the probe finds no pinned server): only the VPN.
start_net "$NET_POLICY"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "public: the internet is reachable outside the tunnel"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "public: a peer on the hotel LAN is reachable"
tcp_ok "$NS_A" 203.0.113.65 7000 || fail "public: the office network through the tunnel is refused"
tcp_ok "$NS_A" 203.0.113.129 7000 && fail "public: the core network is reachable through the tunnel"
ok "public network: only the VPN endpoint, traffic only through the $TUNNEL tunnel, never the core network"
# The kill switch: with the tunnel down nothing leaves, even where a route exists.
tunnel_down
tcp_ok "$NS_A" 203.0.113.65 7000 && fail "kill switch: with the tunnel down traffic left directly"
tunnel_up
wait_for "tcp_ok $NS_A 203.0.113.65 7000" 20 || fail "the tunnel does not carry traffic again after coming back"
ok "kill switch: with the tunnel down nothing leaves directly; back up, traffic flows through it"

# 2. The pinned office server answers (the next probe, at most 10 s later): the office rules.
$IN_R openssl s_server -www -accept 192.0.2.1:4433 -cert "$T/office.crt" -key "$T/office.key" \
        >"$T/s_server.log" 2>&1 </dev/null &
BG_PIDS="$BG_PIDS $!"
wait_for "grep -q 'in the office' '$T/daemon.log'" 300 || fail "the office was not proven by the pinned handshake"
grep -q "audit network-location R8 location=office" "$T/audit" || fail "no network-location audit record"
tcp_ok "$NS_A" 198.51.100.10 7000 || fail "office: the office rules do not apply (server refused)"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "office: peer isolation lost"
ok "office proven by the pinned TLS handshake: the office rules apply"

# 3. Another network (the learned subnets change): public at once, before any probe.
kill %1 2>/dev/null || true
for p in $(ip netns pids "$NS_R"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = openssl ] && kill "$p"
done
ip -n "$NS_A" addr add 198.51.100.250/32 dev a0
wait_for "grep -q 'only the VPN until the office is proven again' '$T/daemon.log'" 50 || fail "no return to public mode"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "after a network change the internet is reachable outside the tunnel"
ok "a network change returns to the VPN-only rules until the office is proven again"
exit 0
