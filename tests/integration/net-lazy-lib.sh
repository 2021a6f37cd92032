#!/bin/sh
# net-lazy-lib.sh — libnftables (and libnftnl, jansson, libxtables, gmp behind it) is mapped only where the net plugin uses it (issue 21), and libnl never (its netlink is plain sockets): not by a daemon whose net plugin does not run, nor linked into the programs; mapped once the plugin runs and applies its table, and libnftables unmapped again once the plugin is quiet (an address change and the status's counters do without it; a reload loads it again under seccomp); a libnftables that cannot be loaded fails the net plugin alone, with a message naming it.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip nft unshare mount ldconfig readelf

NS="sekisho-test-lazy-$$"
ip netns add "$NS" 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up
LIB=$(ldconfig -p | awk '$1 == "libnftables.so.1" { print $NF; exit }')
[ -n "$LIB" ] || skip "libnftables.so.1 is not installed"

for prog in "$RELEASE_SEKISHOD" "$RELEASE_SEKISHOCTL" "$top_builddir/sekisho-notify"; do
        [ -x "$prog" ] || continue
        readelf -d "$prog" | grep -Eq 'NEEDED.*(libnftables|libnl-|libmnl)' && fail "$(basename "$prog") is linked with libnftables, libnl or libmnl"
done
ok "no program is linked with libnftables, libnl or libmnl"

# A daemon without the net plugin never maps it.
start_daemon --plugins=demo
grep -Eq 'libnftables|libnl-' "/proc/$DAEMON_PID/maps" && fail "sekishod without the net plugin maps libnftables or libnl"
ok "a daemon whose net plugin does not run maps neither libnftables nor libnl"
stop_daemon

# The net plugin in a namespace of ours: the embedded default's table is loaded, so the library is mapped.
DAEMON_WRAP="ip netns exec $NS" start_daemon --plugins=net,demo
ip netns exec "$NS" nft list table inet sekisho >/dev/null || fail "no table from the embedded default"
grep -q libnl- "/proc/$DAEMON_PID/maps" && fail "the net plugin maps libnl: its netlink is its own (nlraw.c)"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "seccomp filter not active"
ok "the net plugin applies its table and learns the topology without libnl"
# Once nothing has needed nft for a second, libnftables and what it pulls in leave the process.
wait_for "! grep -Eq 'libnftables|libnftnl|libgmp' /proc/$DAEMON_PID/maps" 100 ||
        fail "libnftables still mapped after the table was applied and the plugin was quiet"
ok "libnftables, libnftnl and gmp are unmapped once the plugin is quiet"
# An address change updates the sets without it (nftset.c), and the status's drop counters are read
# without it (nftobj.c): it was loaded once, for the table.
ip -n "$NS" link add v0 type veth peer name v1 && ip -n "$NS" addr add 203.0.113.5/24 dev v0 && ip -n "$NS" link set v1 up && ip -n "$NS" link set v0 up
wait_for "ip netns exec $NS nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24" 100 ||
        fail "the address change did not reach the sets"
wait_for "grep -q '\"set-updates\":\"[1-9]' '$T/state/status.json' && grep -q '\"drops.peer_out\":' '$T/state/status.json'" 100 ||
        fail "no drop counters in the status after the address change: $(cat "$T/state/status.json")"
grep -q '"libnftables-loads":"1"' "$T/state/status.json" ||
        fail "libnftables was loaded again for the address change or the counters: $(grep -o '"libnftables-loads":"[0-9]*"' "$T/state/status.json")"
grep -q libnftables "/proc/$DAEMON_PID/maps" && fail "libnftables mapped after the status read"
kill -0 "$DAEMON_PID" || fail "the daemon died"
ok "an address change updates the sets and the status reads the drop counters, both without libnftables (loaded once, for the table)"
# A reload (SIGHUP) applies the table again: libnftables is loaded again under the sandbox, and leaves again.
kill -HUP "$DAEMON_PID"
wait_for "grep -q '\"libnftables-loads\":\"2\"' '$T/state/status.json'" 100 ||
        fail "the reload did not load libnftables again: $(grep -o '"libnftables-loads":"[0-9]*"' "$T/state/status.json"); $(tail -n 3 "$T/daemon.log")"
ip netns exec "$NS" nft list set inet sekisho onlink4 | grep -q 203.0.113.0/24 || fail "the reloaded table lost the learned sets"
wait_for "! grep -q libnftables /proc/$DAEMON_PID/maps" 100 || fail "libnftables still mapped a while after the reload"
kill -0 "$DAEMON_PID" || fail "the daemon died"
ok "a reload loads libnftables again under seccomp, keeps the learned sets, and it leaves again"
stop_daemon
ip netns exec "$NS" nft delete table inet sekisho

# libnftables unreadable (a private mount namespace hides it behind /dev/null): the
# daemon still starts and enforces with its other plugins; net fails, naming the library.
cat >"$T/hide-nft" <<HIDE
#!/bin/sh
mount --bind /dev/null "$LIB" && exec "\$@"
HIDE
chmod +x "$T/hide-nft"
DAEMON_WRAP="ip netns exec $NS unshare -m $T/hide-nft" DAEMON_READY=" degraded: " start_daemon --plugins=net,demo
grep -q "Plugin net failed to apply the policy: cannot load libnftables: .*libnftables.so.1" "$T/daemon.log" ||
        fail "no error naming libnftables.so.1"
ip netns exec "$NS" nft list table inet sekisho >/dev/null 2>&1 && fail "a table was loaded without libnftables?"
kill -0 "$DAEMON_PID" || fail "the daemon died"
grep -q "Plugin demo started" "$T/daemon.log" || fail "the demo plugin did not start"
ok "a libnftables that cannot be loaded fails the net plugin with a clear error; the daemon runs on (degraded) with its other plugins"
stop_daemon
