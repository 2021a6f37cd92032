#!/bin/sh
# net-daemon.sh — the real sekishod with --plugins=net,demo inside namespace A: strict isolation from the embedded default, a signed bundle, the quarantine profile cutting a live connection, hash-chained audit records, seccomp.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
need_cmd minisign

net_topology
ip -n "$NS_A" addr add 192.0.2.11/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
listen_discard "$NS_B" 7000
listen_discard "$NS_S" 7000
listen_discard "$NS_S" 3389

make_key admin
setup_dirs
$IN_A "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
        --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --sysroot "$T/root" --plugins=net,demo ${NET_DAEMON_OPTS:-} \
        >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for "grep -q 'enforcing' '$T/daemon.log'" 100 || fail "daemon did not reach enforcing"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "seccomp filter not active"

# The embedded default isolates A from B from the first start.
$IN_A nft list table inet sekisho >/dev/null || fail "no table from the embedded default"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "A -> B not blocked under the embedded default"
tcp_ok "$NS_B" 192.0.2.11 7000 && fail "B -> A not blocked under the embedded default"
tcp_ok "$NS_A" 198.51.100.10 7000 || fail "A -> server blocked under the embedded default"
ok "embedded default: A <-> B blocked, server reachable (sekishod, seccomp on)"

# sekishoctl net show: the table and the counters, offline, in the caller's namespace.
$IN_A "$SEKISHOCTL" net show >"$T/show.out" || fail "sekishoctl net show failed"
grep -q "chain policy_out" "$T/show.out" || fail "net show lacks the rules"
$IN_A "$SEKISHOCTL" net show --counters | grep -Eq "^  peer_out +[1-9]" || fail "net show --counters lacks the peer_out drops"
rc=0; $IN_B "$SEKISHOCTL" net show >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "net show where no table is loaded: exit $rc, expected 3"
ok "sekishoctl net show prints the table and drop counters (exit 3 where none is loaded)"

# Topology changes after the sandbox is installed still update the sets.
ip -n "$NS_A" addr add 203.0.113.50/24 dev a0
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24" 50 || fail "sets not updated under seccomp"
ip -n "$NS_A" addr del 203.0.113.50/24 dev a0
ok "address change updates the sets inside the sandbox"

# A drop notice through NFLOG becomes a chained audit record.
wait_audit '"event":"network-traffic-blocked"' 1 50 || fail "no network-traffic-blocked audit record"
ok "first drop raised a network-traffic-blocked audit record"

# A signed bundle: allow B as a peer; a quarantine profile for later.
POL_BODY="network:
  peer-to-peer: deny
  allow-peers: [192.0.2.20]
  management: [{ host: 198.51.100.10, proto: tcp, port: 3389 }]
profiles:
  quarantine:
    network:
      allow-destinations: [{ host: 198.51.100.10, proto: tcp, port: 3389 }]"
write_policy "$T/p1.yaml" 1 "$POL_BODY"
sign "$T/p1.yaml" admin
drop "$T/p1.yaml"
wait_for "[ \"\$(serial_in_force)\" = 1 ]" 100 || fail "bundle 1 not installed"
wait_for "tcp_ok '$NS_A' 192.0.2.20 7000" 30 || fail "allow-peers from the bundle not in force"
ok "signed bundle applied: allowed peer reachable"

# A long-lived connection to the server, then quarantine (requested by the demo plugin, as posture would).
rm -f "$T/stream.out"
bg ip netns exec "$NS_S" sh -c 'i=0; while [ $i -lt 600 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done' |
        ip netns exec "$NS_S" socat -u - TCP-LISTEN:8080,reuseaddr &
BG_PIDS="$BG_PIDS $!"
sleep 0.3
bg $IN_A socat -u TCP:198.51.100.10:8080 "OPEN:$T/stream.out,creat,append"
wait_for "[ \$(wc -l <'$T/stream.out' 2>/dev/null || echo 0) -ge 3 ]" 50 || fail "the long-lived connection did not start"
write_policy "$T/p2.yaml" 2 "demo:
  request-profile: quarantine
$POL_BODY"
sign "$T/p2.yaml" admin
drop "$T/p2.yaml"
wait_audit '"event":"network-connections-cut"' 1 100 || fail "no network-connections-cut audit record"
sleep 0.5
before=$(wc -l <"$T/stream.out")
sleep 1.5
[ "$(wc -l <"$T/stream.out")" = "$before" ] || fail "data still flows on the cut connection"
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "quarantine: the remediation service is unreachable"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "quarantine: another port is reachable"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "quarantine: the peer is still reachable"
ok "quarantine profile cut the established connection; only the listed service is reachable"

"$SEKISHOCTL" audit verify "$T/log/audit.log" >/dev/null || fail "audit chain broken"
ok "audit chain verifies"

# Fail-closed: stopping the daemon leaves the table.
stop_daemon
$IN_A nft list table inet sekisho >/dev/null || fail "table removed at stop"
tcp_ok "$NS_A" 198.51.100.10 7000 && fail "quarantine lost at stop"
ok "table (quarantine) stays after the daemon stops"
exit 0
