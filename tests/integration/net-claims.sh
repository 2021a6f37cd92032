#!/bin/sh
# net-claims.sh — destinations reserved for one cgroup's sockets (another plugin's claims and the policy's cgroup: entries), enforced with socket cgroupv2 in a namespace on a real cgroup v2 hierarchy: other programs refused, the claimed cgroup admitted even under an allow-list, a removed or re-created cgroup followed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

need_cmd mountpoint
CG2=$(cgroup2_mount)
[ -n "$CG2" ] || skip "no cgroup v2 hierarchy mounted"
TESTCG="sekisho-test-$$"
mkdir "$CG2/$TESTCG" || skip "cannot make a cgroup under $CG2"
cg_teardown() {
        net_teardown # first: the plugin would make a removed claimed cgroup again
        for d in "$CG2/$TESTCG/vdi" "$CG2/$TESTCG/pol" "$CG2/$TESTCG"; do
                [ -d "$d" ] || continue
                for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
                i=0
                while ! rmdir "$d" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
        done
}
at_exit cg_teardown
VDI="$CG2/$TESTCG/vdi"

net_topology
write_cgroup_wrap
NET_WRAP="$T/cgwrap.sh"

NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<EOF
network:
  peer-to-peer: deny
profiles:
  vdi:
    network:
      allow-destinations:
        - { host: 198.51.100.10, proto: tcp, port: 3389 }
  pol:
    network:
      allow-destinations:
        - { host: 198.51.100.10, proto: tcp, port: 6000, cgroup: $TESTCG/pol }
EOF
# The claim another plugin (vdi) makes: the server's port 7000 for its cgroup only.
echo "server.test tcp 7000 $TESTCG/vdi" >"$T/claims"

ip -n "$NS_A" addr add 192.0.2.30/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
for p in 7000 7001 7002 3389 6000; do listen_discard "$NS_S" $p; done
sleep 0.3
tcp_ok "$NS_A" 198.51.100.10 7000 || fail "control: A cannot reach the server without the table"

# tcp_cg NS HOST PORT: the same connection from a process in the claimed cgroup.
tcp_cg() { printf 'hello\n' | in_cgroup "$VDI" ip netns exec "$1" timeout 6 socat -u - "TCP:$2:$3,connect-timeout=3" >/dev/null 2>&1; }

# 1. The claim holds from the first load: the plugin makes the missing cgroup.
start_net "$NET_POLICY" --claims "$T/claims"
[ -d "$VDI" ] || fail "the plugin did not make the claimed cgroup $VDI"
# nft lists the cgroup by path where it can resolve the id, else by the id (the directory's inode).
$IN_A nft list chain inet sekisho claims_out | grep -Eq "socket cgroupv2 level 2 (\"$TESTCG/vdi\"|$(stat -c %i "$VDI")) accept" ||
        fail "no socket cgroupv2 rule for the claim"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "a program outside the claimed cgroup reached the claimed destination"
tcp_cg "$NS_A" 198.51.100.10 7000 || fail "the claimed cgroup cannot reach its destination"
tcp_ok "$NS_A" 198.51.100.10 7001 || fail "an unclaimed port of the same server is refused"
ok "claimed server:7000 only from the claimed cgroup; other ports untouched"

# 2. Under an allow-list profile the claim admits its destination for its cgroup only.
switch_profile vdi
tcp_cg "$NS_A" 198.51.100.10 7000 || fail "VDI-only: the claim does not admit its cgroup"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "VDI-only: the claimed destination reachable from outside the cgroup"
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "VDI-only: the listed destination is refused"
tcp_cg "$NS_A" 198.51.100.10 7001 && fail "VDI-only: the claimed cgroup reaches what nobody listed"
ok "allow-list profile: the claim admits server:7000 for its cgroup, nothing more"

# 3. The cgroup removed (the rules name a dead id): made again and the rules follow its new id.
rmdir "$VDI"
wait_for "[ -d '$VDI' ]" 100 || fail "the removed claimed cgroup was not made again"
wait_for "tcp_cg $NS_A 198.51.100.10 7000" 20 || fail "after re-creation the claimed cgroup is refused (stale id)"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "after re-creation the claimed destination is open to everyone"
# ... and again at once, by whoever comes first (the plugin or this test).
rmdir "$VDI" && { mkdir "$VDI" 2>/dev/null || true; }
wait_for "tcp_cg $NS_A 198.51.100.10 7000" 20 || fail "a cgroup re-created by someone else is refused (stale id)"
ok "a removed or re-created claimed cgroup is followed (new id reloaded)"

# 4. The claims change: the old destination is free again, the new one reserved.
echo "198.51.100.10 tcp 7002 $TESTCG/vdi" >"$T/claims"
switch_profile ""
kill -USR2 "$NET_PID"
wait_for "tcp_ok $NS_A 198.51.100.10 7000" 20 || fail "a dropped claim still refuses its destination"
tcp_ok "$NS_A" 198.51.100.10 7002 && fail "the new claim is not enforced"
tcp_cg "$NS_A" 198.51.100.10 7002 || fail "the new claim refuses its own cgroup"
ok "claims replaced at run time: old destination free, new one reserved"

# 5. The policy's own cgroup: entry on an allow-destinations entry.
: >"$T/claims"
kill -USR2 "$NET_PID"
switch_profile pol
[ -d "$CG2/$TESTCG/pol" ] || fail "the policy's cgroup was not made"
printf 'x\n' | in_cgroup "$CG2/$TESTCG/pol" ip netns exec "$NS_A" timeout 6 socat -u - TCP:198.51.100.10:6000,connect-timeout=3 ||
        fail "cgroup: entry: its cgroup cannot reach the destination"
tcp_ok "$NS_A" 198.51.100.10 6000 && fail "cgroup: entry: reachable from outside the cgroup"
ok "allow-destinations { cgroup: } admits only that cgroup's sockets"
exit 0
