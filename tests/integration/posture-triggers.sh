#!/bin/sh
# posture-triggers.sh — a network reconnect (rtnetlink address/link events in a namespace the test made) makes the real daemon re-check its posture.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip

NS="sekisho-posture-$$"
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
at_exit "ip netns del '$NS'"

cp -a "$top_srcdir/tests/data/posture/debian-12.8" "$T/root"
# The daemon runs inside the namespace; ip netns exec execs it, so the pid is the daemon's.
cat >"$T/sekishod-ns" <<SH
#!/bin/sh
exec ip netns exec "$NS" "$SEKISHOD" "\$@"
SH
chmod +x "$T/sekishod-ns"
SEKISHOD="$T/sekishod-ns"
start_daemon --plugins=posture --sysroot "$T/root"
wait_audit '"event":"posture-changed".*"compliant":"true".*"trigger":"start"' || fail "no compliant evaluation at start"
ok "compliant at start"

# Winny appears under a wine prefix. Nothing watches home directories, so
# nothing happens until a trigger: here, the terminal joins a network.
mkdir -p "$T/root/home/hanako/.wine/drive_c/Program Files/Winny"
printf 'WINE REGISTRY Version 2\n' >"$T/root/home/hanako/.wine/system.reg"
echo MZ >"$T/root/home/hanako/.wine/drive_c/Program Files/Winny/Winny.exe"
ip -n "$NS" link add sekisho-a type veth peer name sekisho-b
ip -n "$NS" addr add 192.0.2.10/24 dev sekisho-a
ip -n "$NS" link set sekisho-b up
ip -n "$NS" link set sekisho-a up
wait_audit '"event":"posture-changed".*"compliant":"false".*"trigger":"network-reconnect"' ||
        fail "network reconnect did not trigger a re-check"
grep -q 'found in wine prefixes: /home/hanako/.wine/drive_c/Program Files/Winny/Winny.exe' "$T/log/audit.log" ||
        fail "Winny not in the evidence"
ok "an address on a new link triggers a re-check (rtnetlink)"
stop_daemon
