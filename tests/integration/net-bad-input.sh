#!/bin/sh
# net-bad-input.sh — the net plugin refuses bad network: sections with FILE:LINE:COL, keeps enforcing on an unresolvable name, and keeps the previous ruleset when nft refuses a new one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"

# 1. Refusals found by check() alone (pure: no namespace needed, but the driver is the plugin).
bad() {
        printf '%s\n' "$2" >"$T/bad.yaml"
        if "$NET_DRIVER" --policy "$T/bad.yaml" --check >"$T/check.out" 2>&1; then
                fail "$1: accepted"
        fi
        grep -q "$3" "$T/check.out" || { cat "$T/check.out"; fail "$1: message lacks '$3'"; }
        ok "refused: $1 ($(head -n1 "$T/check.out"))"
}
bad "overlapping CIDRs" 'network:
  allow-peers: [192.0.2.0/24, 192.0.2.128/25]' "bad.yaml:2:31: allow-peers: overlaps the entry at 2:17"
bad "invalid CIDR" 'network:
  allow-peers: [192.0.2.7/24]' "bad.yaml:2:17: allow-peers: '192.0.2.7/24': host bits are set"
bad "bad port" 'network:
  allow-destinations: [{host: 198.51.100.10, proto: tcp, port: 70000}]' "bad.yaml:2:64: allow-destinations: port must be"
bad "management path cut" 'network:
  management: [{host: 203.0.113.10, proto: tcp, port: 443}]
  allow-destinations: [{host: 198.51.100.10, proto: tcp, port: 3389}]' "would cut the management path: the management entry at 2:16"
# A profile is checked merged over the base policy, as the core does for every profile.
printf 'network:\n  management: [203.0.113.10]\nprofiles:\n  quarantine:\n    network:\n      allow-destinations: [198.51.100.10]\n' >"$T/bad.yaml"
"$NET_DRIVER" --policy "$T/bad.yaml" --profile quarantine --check >"$T/check.out" 2>&1 && fail "profile cutting management accepted"
grep -q "would cut the management path" "$T/check.out" || fail "profile: wrong message"
ok "refused: a quarantine profile that would cut the management path"

net_topology
ip -n "$NS_A" addr add 192.0.2.11/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
listen_discard "$NS_B" 7000
listen_discard "$NS_S" 3389

# 2. A name that is not in /etc/hosts: reported, ignored, the rest enforced (fail-closed).
NET_POLICY="$T/policy.yaml"
cat >"$NET_POLICY" <<'EOF'
network:
  allow-peers: [nosuch.test]
profiles:
  clash:
    network:
      allow-destinations:
        - { host: server.test, proto: tcp, port: "3000-4000" }
        - { host: 198.51.100.10, proto: tcp, port: 3389 }
EOF
start_net "$NET_POLICY"
# Let the router advertisement settle first, so that the sets do not change under the comparison below.
wait_for "$IN_A nft list set inet sekisho gw6 | grep -q fe80::" 150 || fail "no IPv6 router learned"
wait_for "$IN_A nft list set inet sekisho onlink6 | grep -q 2001:db8:1::/64" 100 || fail "no IPv6 prefix learned"
grep -q "audit network-name-unresolved R4 entry=allow-peers: 'nosuch.test'" "$T/audit" || fail "no audit record for the unresolved name"
grep -q "nosuch.test.*not found in /etc/hosts" "$T/daemon.log" || fail "no clear log line for the unresolved name"
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "B reachable although the only allowed peer did not resolve"
kill -USR1 "$NET_PID"
wait_for "grep -q 'last-error=unresolved' '$T/status'" 50 || fail "status does not show the unresolved name"
ok "an allow-peers name that does not resolve is reported and adds nothing"

# 3. nft refuses a ruleset (server.test resolves to an address whose port range
# overlaps another entry): the previous ruleset stays, nft's message is reported.
before=$($IN_A nft list table inet sekisho | sed '/packets/d')
switch_profile clash
grep -q '^apply failed' "$T/daemon.log" || fail "the clashing profile was applied"
grep -q "audit network-ruleset-refused R4 error=.*File exists" "$T/audit" || { cat "$T/audit"; fail "nft's message not reported"; }
after=$($IN_A nft list table inet sekisho | sed '/packets/d')
[ "$before" = "$after" ] || { echo "$before" >"$T/b"; echo "$after" >"$T/a"; diff "$T/b" "$T/a"; fail "the previous ruleset changed after a refused one"; }
tcp_ok "$NS_A" 192.0.2.20 7000 && fail "isolation lost after a refused ruleset"
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "previous ruleset not in force (server unreachable)"
kill -USR1 "$NET_PID"
wait_for "grep -q 'last-error=nft: .*File exists' '$T/status'" 50 || fail "status does not carry nft's message"
ok "nft refusing a ruleset keeps the previous one and reports: $(grep -o 'Error: [^^]*' "$T/daemon.log" | head -n1)"

# 4. Someone deletes our table behind our back: the next topology change reloads it.
$IN_A nft delete table inet sekisho
ip -n "$NS_A" addr add 203.0.113.50/24 dev a0
wait_for "$IN_A nft list set inet sekisho onlink4 2>/dev/null | grep -q 203.0.113.0/24" 50 || fail "table not restored"
ok "a table deleted behind the plugin's back is restored on the next change"
exit 0
