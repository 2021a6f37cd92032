#!/bin/sh
# net-forward.sh — traffic the terminal forwards (a NAT'ed namespace behind it, as a container or VM) is under the same isolation and allow-list as its own, both directions, unless the policy exempts the interface by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

NS_C="sekisho-test-c-$$"
IN_C="ip netns exec $NS_C"
at_exit "ip netns del $NS_C 2>/dev/null || true; for p in \$(ip netns pids $NS_C 2>/dev/null); do kill \$p; done"
net_topology
ip -n "$NS_A" addr add 192.0.2.30/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
# C: a guest behind A on its own bridge-like link (vguest), NAT'ed to the LAN.
ip netns add "$NS_C"
ip -n "$NS_C" link set lo up
ip -n "$NS_A" link add vguest type veth peer name c0 netns "$NS_C"
ip -n "$NS_A" addr add 203.0.113.1/24 dev vguest
ip -n "$NS_A" link set vguest up
ip -n "$NS_C" addr add 203.0.113.2/24 dev c0
ip -n "$NS_C" link set c0 up
ip -n "$NS_C" route add default via 203.0.113.1
$IN_A sysctl -qw net.ipv4.ip_forward=1
# A's own NAT, as Docker or libvirt would add it (a table of theirs, not ours).
$IN_A nft -f - <<'NFT'
table ip guestnat {
  chain post { type nat hook postrouting priority srcnat; oifname "a0" ip saddr 203.0.113.0/24 masquerade; }
}
NFT
# B knows the way to the guest network (any LAN host can add such a route).
ip -n "$NS_B" route add 203.0.113.0/24 via 192.0.2.30

NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<'POL'
network:
  peer-to-peer: deny
  exempt-interfaces: [vguest]
profiles:
  vdi:
    network:
      exempt-interfaces: [vguest]
      allow-destinations:
        - { host: 198.51.100.10, proto: tcp, port: 3389 }
  lab:
    network:
      exempt-interfaces: [vguest]
      forward-exempt-interfaces: [vguest]
POL
listen_discard "$NS_S" 7000
listen_discard "$NS_S" 3389
listen_discard "$NS_B" 7000
listen_file "$NS_C" 7005 "$T/c.out"
sleep 0.3
tcp_ok "$NS_C" 192.0.2.20 7000 || fail "control: the guest cannot reach B without the table"
printf 'control\n' | $IN_B timeout 6 socat -u - TCP4:203.0.113.2:7005,connect-timeout=3 || fail "control: B cannot reach the guest"

start_net "$NET_POLICY"
# Guest -> outside: the server through the gateway yes, the peer no.
tcp_ok "$NS_C" 198.51.100.10 7000 || fail "the guest cannot reach the server through the terminal"
tcp_ok "$NS_C" 192.0.2.20 7000 && fail "the guest (forwarded, NAT'ed) reached peer B"
# Outside -> guest: a peer routes to the guest network through the terminal.
: >"$T/c.out"
printf 'from-peer\n' | $IN_B timeout 6 socat -u - TCP4:203.0.113.2:7005,connect-timeout=3 2>/dev/null || true
sleep 0.3
[ -s "$T/c.out" ] && fail "peer B reached the guest through the terminal"
ok "forwarded: guest -> server passes, guest -> peer and peer -> guest are dropped"

# A guest's long-lived connection to the server, then the switch to VDI-only: cut.
rm -f "$T/stream.out"
bg ip netns exec "$NS_S" sh -c 'i=0; while [ $i -lt 600 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done' |
        ip netns exec "$NS_S" socat -u - TCP-LISTEN:8080,reuseaddr &
BG_PIDS="$BG_PIDS $!"
sleep 0.3
bg $IN_C socat -u TCP:198.51.100.10:8080 "OPEN:$T/stream.out,creat,append"
wait_for "[ \$(wc -l <'$T/stream.out') -ge 3 ]" 50 || fail "the guest's long-lived connection did not start"
switch_profile vdi
sleep 0.5
before=$(wc -l <"$T/stream.out")
sleep 1.5
after=$(wc -l <"$T/stream.out")
[ "$after" = "$before" ] || fail "the guest's connection still flows after the switch ($before -> $after lines)"
tcp_ok "$NS_C" 198.51.100.10 3389 || fail "vdi: the guest cannot reach the listed destination"
tcp_ok "$NS_C" 198.51.100.10 7000 && fail "vdi: the guest reached an unlisted destination"
ok "forwarded traffic follows the allow-list (VDI-only); the guest's established connection was cut"

switch_profile lab
tcp_ok "$NS_C" 192.0.2.20 7000 || fail "forward-exempt-interfaces: the exempted guest network is still filtered"
ok "forward-exempt-interfaces leaves a named interface's forwarded traffic alone"
exit 0
