#!/bin/sh
# net-lazy-lib.sh — libnftables (and libnftnl, jansson, libxtables, gmp behind it) and libnl are mapped only where the net plugin uses them (issue 21): not by a daemon whose net plugin does not run, nor linked into the programs; mapped once the plugin runs and applies its table; a libnftables that cannot be loaded fails the net plugin alone, with a message naming it.
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
grep -q libnftables "/proc/$DAEMON_PID/maps" || fail "the net plugin applied without mapping libnftables?"
grep -q libnl-route "/proc/$DAEMON_PID/maps" || fail "the net plugin runs without mapping libnl-route?"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "seccomp filter not active"
ok "the net plugin loads libnl when it starts and libnftables when it applies its table"
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
