#!/bin/sh
# net-multicast.sh — peer isolation covers every multicast and broadcast scope, IPv4 and IPv6, not only link scope; DHCP and router advertisements (the kept set) still work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

net_topology
write_udhcpc_script
NET_POLICY="$T/policy.yaml"
printf 'network:\n  peer-to-peer: deny\n' >"$NET_POLICY"
# B listens on organisation-scope (239/8) and site- and global-scope IPv6 groups.
bg $IN_B socat -u UDP4-RECV:5000,reuseaddr,ip-add-membership=239.1.2.3:b0 "OPEN:$T/b-mc4.out,creat,append"
bg $IN_B socat -u UDP6-RECV:5001,reuseaddr,ipv6-join-group=[ff05::1:3]:b0 "OPEN:$T/b-mc6.out,creat,append"
bg $IN_B socat -u UDP6-RECV:5002,reuseaddr,ipv6-join-group=[ff0e::4242]:b0 "OPEN:$T/b-mc6g.out,creat,append"
sleep 0.5
send_all() {
        echo "$1" | $IN_A socat -u - UDP4-DATAGRAM:239.1.2.3:5000,ip-multicast-if=$2 2>/dev/null || true
        echo "$1" | $IN_A socat -u - UDP6-DATAGRAM:[ff05::1:3]:5001,so-bindtodevice=a0 2>/dev/null || true
        echo "$1" | $IN_A socat -u - UDP6-DATAGRAM:[ff0e::4242]:5002,so-bindtodevice=a0 2>/dev/null || true
}
# Control: without the table each group reaches B.
ip -n "$NS_A" addr add 192.0.2.99/24 dev a0
send_all control 192.0.2.99
wait_for "[ -s '$T/b-mc4.out' ] && [ -s '$T/b-mc6.out' ] && [ -s '$T/b-mc6g.out' ]" 30 ||
        fail "control: multicast does not reach B without the table ($(ls -s "$T"/b-mc*))"
ip -n "$NS_A" addr del 192.0.2.99/24 dev a0
: >"$T/b-mc4.out"; : >"$T/b-mc6.out"; : >"$T/b-mc6g.out"

start_net "$NET_POLICY"
# The kept set: DHCP and SLAAC (RA, ND) through the table.
$IN_A busybox udhcpc -i a0 -s "$T/udhcpc.sh" -n -q -t 5 -T 2 >>"$T/udhcpc.log" 2>&1 || fail "no DHCP lease with the table loaded"
wait_for "$IN_A ip -6 addr show dev a0 scope global | grep -q 2001:db8:1:" 150 || fail "no SLAAC address with the table loaded"
ok "DHCP and SLAAC work with the table loaded"
send_all isolated "$(cat "$T/lease")"
sleep 0.5
[ -s "$T/b-mc4.out" ] && fail "A's datagram to 239.1.2.3 reached B"
[ -s "$T/b-mc6.out" ] && fail "A's datagram to ff05::1:3 (site scope) reached B"
[ -s "$T/b-mc6g.out" ] && fail "A's datagram to ff0e::4242 (global scope) reached B"
ok "multicast to 239.0.0.0/8, ff05:: and ff0e:: does not reach peers"
exit 0
