#!/bin/sh
# vdi-rewatch.sh — a policy that names no VDI servers, after one that did, reopens the exec watch under sekishod's sandbox (found in the installed tier: the watch's one-time id check forked, the sandbox refused it, and every such bundle was refused); also when the daemon started with the servers' policy in force.
. "$(dirname "$0")/lib.sh"
need_root
# Its daemon watches every exec on the machine (the host's namespaces) and stops forbidden
# clients anywhere: one VDI daemon at a time, as every VDI test (vdi-lib.sh). Without the lock
# it stopped vdi-xrdp.sh's control client (a FreeRDP asking for the clipboard) when the two
# ran side by side in make check -j2.
machine_wide_lock vdi-exec
make_key admin
setup_dirs
start() {
        "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --sysroot "$T/root" --plugins=vdi \
                >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        wait_for "grep -q 'enforcing' '$T/daemon.log'" 100 || fail "sekishod did not reach enforcing: $(tail -n 5 "$T/daemon.log")"
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "the sandbox is not in force"
}
# bundle SERIAL BODY: signed, dropped into the inbox, and in force.
bundle() {
        write_policy "$T/p$1.yaml" "$1" "$2"
        sign "$T/p$1.yaml" admin
        drop "$T/p$1.yaml"
        wait_for "[ \"\$(serial_in_force)\" = $1 ] || grep -q 'serial $1 could not' '$T/daemon.log'" 100
        [ "$(serial_in_force)" = "$1" ] || fail "serial $1 not in force: $(grep -E 'watch|Refused' "$T/daemon.log" | tail -n 3)"
}
SERVERS='vdi:
  servers: [192.0.2.10:3389]
  client: freerdp'
start
bundle 1 "$SERVERS"
bundle 2 'vdi:
  clipboard: deny'
ok "servers named, then none: the exec watch reopened under the sandbox (serial 2 in force)"
bundle 3 "$SERVERS"
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
: >"$T/daemon.log"
start # its first policy names servers: no watch is needed at start
bundle 4 'vdi:
  clipboard: deny'
ok "started with servers named, then none: the exec watch opened under the sandbox (serial 4 in force)"
