#!/bin/sh
# net-dns-allowlist.sh — in allow-list profiles DNS goes only to the resolvers the policy lists for that profile, never to whatever resolv.conf names (a tunnel out of quarantine otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

net_topology
ip -n "$NS_S" addr add 198.51.100.53/24 dev s0
NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<'POL'
network:
  peer-to-peer: deny
profiles:
  quarantine:
    network:
      allow-destinations:
        - { host: 2001:db8:2::10, proto: tcp, port: 443 }
  vdi:
    network:
      dns-servers: [198.51.100.53]
      allow-destinations:
        - { host: 198.51.100.10, proto: tcp, port: 3389 }
POL
ip -n "$NS_A" addr add 192.0.2.30/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
listen_file "$NS_S" 53 "$T/s-53.out"
# UDP resolvers that answer from the address asked.
bg $IN_S socat UDP4-RECVFROM:53,bind=198.51.100.10,fork,reuseaddr SYSTEM:cat
bg $IN_S socat UDP4-RECVFROM:53,bind=198.51.100.53,fork,reuseaddr SYSTEM:cat
sleep 0.3
start_net "$NET_POLICY"

# resolv.conf names the server (written while the terminal runs, as a DHCP client would).
printf 'nameserver 198.51.100.10\n' >"$T/root/etc/resolv.conf.new"
mv "$T/root/etc/resolv.conf.new" "$T/root/etc/resolv.conf"
wait_for "$IN_A nft list set inet sekisho dns4 | grep -q 198.51.100.10" 50 || fail "the name server was not learned"
tcp_ok "$NS_A" 198.51.100.10 53 || fail "control: port 53 of the learned name server is not reachable without an allow-list"
echo control | $IN_A timeout 5 socat -t 2 - UDP4:198.51.100.10:53 2>/dev/null | grep -q control ||
        fail "control: the learned name server does not answer over UDP"

switch_profile quarantine
grep -q '^apply failed' "$T/daemon.log" && fail "the quarantine profile failed to apply"
: >"$T/s-53.out"
printf 'tunnelled-data\n' | $IN_A timeout 6 socat -u - TCP4:198.51.100.10:53,connect-timeout=3 2>/dev/null || true
echo udp-tunnel | $IN_A timeout 3 socat -t 1 - UDP4:198.51.100.10:53 2>/dev/null | grep -q udp-tunnel &&
        fail "quarantine: UDP 53 to the resolv.conf server answered"
sleep 0.3
[ -s "$T/s-53.out" ] && fail "quarantine: data reached the resolv.conf server's port 53 ($(cat "$T/s-53.out"))"
ok "quarantine: no DNS to the server resolv.conf names"

switch_profile vdi
grep -q 'apply failed' "$T/daemon.log" && fail "the vdi profile (dns-servers) failed to apply"
reply=$(echo q | $IN_A timeout 5 socat -t 2 - UDP4:198.51.100.53:53 2>/dev/null)
[ "$reply" = q ] || fail "vdi: the listed resolver does not answer"
tcp_ok "$NS_A" 198.51.100.10 53 && fail "vdi: the resolv.conf server's port 53 reachable"
tcp_ok "$NS_A" 198.51.100.53 80 && fail "vdi: another port of the listed resolver reachable"
ok "vdi: DNS only to the resolver the profile lists (dns-servers)"
exit 0
