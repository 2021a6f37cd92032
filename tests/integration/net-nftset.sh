#!/bin/sh
# net-nftset.sh — issue 15: an address change refills the learned sets with one nf_tables batch of the plugin's own (nftset.c), leaving exactly what nft leaves from the plugin's script (random and edge-case ranges, both families; overlaps refused by both); a batch that fails falls back to nft and the table is whole again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
NET_NFTSET="${NET_NFTSET:-$top_builddir/tests/integration/net-nftset}"

# 1. The listing after each path, byte for byte, in a namespace of its own.
NS_EQ="sekisho-test-eq-$$"
ip netns add "$NS_EQ" || fail "cannot create a namespace"
at_exit "ip netns del '$NS_EQ' 2>/dev/null || true"
ip netns exec "$NS_EQ" "$NET_NFTSET" "${ROUNDS:-300}" "${SEED:-15}" >"$T/eq.out" 2>"$T/eq.err" ||
        fail "the direct path and nft differ: $(head -c 3000 "$T/eq.err")"
grep -q ' 0 different' "$T/eq.out" || fail "no summary: $(cat "$T/eq.out")"
ok "$(cat "$T/eq.out")"

# 2. The plugin: an address change goes through the direct path (nft not used).
net_topology
NET_POLICY="$T/policy.yaml"
printf 'network:\n  peer-to-peer: deny\n' >"$NET_POLICY"
start_net "$NET_POLICY"
status() {
        : >"$T/status"
        kill -USR1 "$NET_PID"
        wait_for "grep -q '^set-updates-through-nft' '$T/status'" 50 || fail "no status"
        sed -n "s/^$1=//p" "$T/status"
}
ip -n "$NS_A" addr add 203.0.113.50/24 dev a0
wait_for "$IN_A nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24" 50 || fail "new subnet not learned"
[ "$(status set-updates-through-nft)" = 0 ] || fail "the update went through nft: $(cat "$T/status"; tail "$T/daemon.log")"
[ "$(status set-updates)" -ge 1 ] || fail "no set update counted: $(cat "$T/status")"
grep -q "direct set update failed" "$T/daemon.log" && fail "the direct path failed: $(tail "$T/daemon.log")"
ok "an address change refills onlink4 by the direct netlink batch"

# 3. The table gone (an administrator's flush): the batch fails, nft fails,
# the whole table is loaded again with the new subnet.
$IN_A nft delete table inet sekisho
ip -n "$NS_A" addr add 198.51.100.77/24 dev a0
wait_for "$IN_A nft list set inet sekisho onlink4 2>/dev/null | grep -q 198.51.100.0/24" 50 ||
        fail "the table did not come back: $(tail "$T/daemon.log")"
grep -q "direct set update failed" "$T/daemon.log" || fail "no word of the failed batch"
grep -q "reloading the whole table" "$T/daemon.log" || fail "no reload"
[ "$(status set-updates-through-nft)" = 1 ] || fail "fallback not counted: $(cat "$T/status")"
$IN_A nft list chain inet sekisho output >/dev/null || fail "the table is not whole"
ok "a failed batch falls back to nft, and the table is whole again"
