#!/bin/bash
# vdi-rules-wait.sh — the approved client never starts ahead of the network rules for its cgroup: sekishod (net + vdi) sees the cgroup tree read-only, as under its unit, so the launcher makes the claimed cgroup (and its missing parent); the plugin notices it, reloads and says so in its in-force file, and only then does the launcher start FreeRDP, whose connection reaches the VDI server. A cgroup re-created while sekishod cannot reload (stopped) makes the launcher wait, not start a client the old rules refuse.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_cmd xfreerdp Xvfb minisign setpriv mountpoint
need_net_vdi_cgroup
# The claimed cgroup is two levels below the test's: like sekisho.slice/sekisho-vdi.service/client,
# whose parent exists only once the launcher's service has started.
CLAIMED="$CGREL/launcher.service/client"
client_procs() { cat "$CG2/$CLAIMED/cgroup.procs" 2>/dev/null; }
stop_clients() {
        for p in $(client_procs); do kill -9 "$p" 2>/dev/null; done
        for i in $(seq 50); do [ -z "$(client_procs)" ] && break; sleep 0.1; done
}
rules_teardown() {
        [ -n "${DAEMON_PID:-}" ] && kill -CONT "$DAEMON_PID" 2>/dev/null && kill "$DAEMON_PID" 2>/dev/null &&
                wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        stop_clients
        rmdir "$CG2/$CLAIMED" "$CG2/$CGREL/launcher.service" 2>/dev/null
        net_teardown
        launch_cleanup
}
at_exit rules_teardown

net_topology
ip -n "$NS_A" addr add 192.0.2.11/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1
# sekishod's view of the hierarchy is read-only (ProtectControlGroups=yes does the same): the
# network plugin cannot make the claimed cgroup, its owner (the launcher) does.
cat >"$T/cgwrap-ro.sh" <<'SCRIPT'
#!/bin/sh
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
mount -o remount,bind,ro /sys/fs/cgroup || exit 1
exec "$@"
SCRIPT
write_cgroup_wrap
chmod +x "$T/cgwrap-ro.sh"

# The VDI server: socat appending whatever arrives (FreeRDP's first bytes are a TPKT header).
: >"$T/rx"
listen_file "$NS_S" 3389 "$T/rx"
wait_for "$IN_S ss -ltn | grep -q ':3389 '" 50 || fail "the server did not listen"
rx() { wc -c <"$T/rx"; }

vdi_net_daemon "$T/cgwrap-ro.sh" "$CLAIMED"
IN_FORCE="$T/state/net/cgroups-in-force"
wait_for "grep -qx '0 $CLAIMED' '$IN_FORCE' 2>/dev/null" 100 ||
        fail "the net plugin did not publish the claimed cgroup as missing: $(cat "$IN_FORCE" 2>&1); $(tail -5 "$T/daemon.log")"
grep -q "cgroup .*$CLAIMED does not exist yet" "$T/daemon.log" || fail "no word of the missing cgroup: $(tail -5 "$T/daemon.log")"
[ ! -d "$CG2/$CGREL/launcher.service" ] || fail "the launcher's parent cgroup exists before the launcher"
ok "sekishod (net, vdi) cannot make $CLAIMED (read-only tree): published as '0 $CLAIMED'"

XVFB_ARGS=-ac start_xvfb
mkdir -p "$T/person" && chown 65534:65534 "$T/person"
export XDG_CONFIG_HOME="$T/person"
start_launcher_in

# 1. The launcher makes the parent and the claimed cgroup: the plugin, which watched the nearest
#    existing ancestor, notices both levels, reloads, and the client's connection gets through.
as_person "$top_builddir/sekisho-rdp" 198.51.100.10 /cert:ignore >"$T/client1.log" 2>&1 &
wait_for '[ "$(rx)" -ge 2 ]' 300 ||
        fail "the approved client delivered nothing: $(tail -n 4 "$T/launch.log" | tr '\n' '|') $(tail -n 3 "$T/client1.log" | tr '\n' '|') $(grep -i cgroup "$T/daemon.log" | tail -n 3 | tr '\n' '|')"
id=$(stat -c %i "$CG2/$CLAIMED")
grep -qx "$id $CLAIMED" "$IN_FORCE" || fail "the in-force file does not name $CLAIMED's id $id: $(cat "$IN_FORCE")"
[ "$(head -c 2 "$T/rx" | od -An -tx1 | tr -d ' ')" = 0300 ] || fail "what arrived is not a TPKT header"
ok "a claimed cgroup made with its parent by the launcher: rules reloaded for id $id, FreeRDP reached the server ($(rx) bytes)"

# 2. The claimed cgroup re-created while sekishod cannot reload: the launcher waits for the rules.
stop_clients
kill -STOP "$DAEMON_PID"
rmdir "$CG2/$CLAIMED" || fail "cannot remove the claimed cgroup"
before=$(rx)
waits=$(grep -c "waiting for sekishod's network rules" "$T/launch.log" || true)
as_person "$top_builddir/sekisho-rdp" 198.51.100.10 /cert:ignore >"$T/client2.log" 2>&1 &
wait_for "[ \$(grep -c \"waiting for sekishod's network rules\" '$T/launch.log') -gt $waits ]" 100 || {
        kill -CONT "$DAEMON_PID"
        fail "the launcher did not wait for the rules of the re-created cgroup: $(tail -n 3 "$T/launch.log" | tr '\n' '|')"
}
sleep 2
[ -z "$(client_procs)" ] || { kill -CONT "$DAEMON_PID"; fail "a client was started before the rules named its cgroup"; }
[ "$(rx)" = "$before" ] || { kill -CONT "$DAEMON_PID"; fail "bytes arrived while the rules named the old cgroup"; }
kill -CONT "$DAEMON_PID"
wait_for "[ \$(rx) -gt $before ]" 300 ||
        fail "after sekishod reloaded, the waiting client delivered nothing: $(tail -n 4 "$T/launch.log" | tr '\n' '|') $(tail -n 3 "$T/client2.log" | tr '\n' '|')"
id2=$(stat -c %i "$CG2/$CLAIMED")
[ "$id2" != "$id" ] || fail "the re-created cgroup has the same id"
grep -q "the network rules name $CLAIMED (id $id2) after" "$T/launch.log" || fail "the launcher did not say when the rules came"
ok "re-created while sekishod was stopped: the launcher waited, then FreeRDP reached the server ($(grep -o "name $CLAIMED (id $id2) after [0-9.]* ms" "$T/launch.log" | tail -n 1))"
stop_clients
