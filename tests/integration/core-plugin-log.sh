#!/bin/sh
# core-plugin-log.sh — a plugin that cannot start is logged once, by the core, with the plugin's name and its own reason; the other plugins keep enforcing.
. "$(dirname "$0")/lib.sh"

# The usb plugin refuses to start in a test daemon outside umockdev (it would touch this machine's devices).
setup_dirs
env -u UMOCKDEV_DIR -u SEKISHO_TEST_DISPOSABLE_MACHINE "$SEKISHOD" --foreground --config "$T/sekisho.conf" \
        --state-dir "$T/state" --keys-dir "$T/keys.d" --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none \
        --plugins=usb,demo >"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
at_exit "kill $DAEMON_PID 2>/dev/null"
wait_for "grep -q ' degraded: ' '$T/daemon.log'" 100 || { cat "$T/daemon.log"; fail "daemon did not start degraded"; }
[ -s "$T/state/demo/applied" ] || fail "the demo plugin is not enforcing"
n=$(grep -c 'test mode' "$T/daemon.log")
[ "$n" = 1 ] || { cat "$T/daemon.log"; fail "the usb failure is logged $n times"; }
grep -q "^sekishod: Plugin usb could not start: Operation not permitted: test mode (not on the system bus) outside umockdev" \
        "$T/daemon.log" || { cat "$T/daemon.log"; fail "the one line lacks the plugin's name, the error or its reason"; }
grep '"event":"plugin.failed"' "$T/log/audit.log" | grep -q '"plugin":"usb","error":"could not start: Operation not permitted: test mode' ||
        fail "the audit record lacks the reason"
stop_daemon
ok "the usb plugin's refusal to start: one log line by the core with name, error and reason; demo keeps enforcing"
