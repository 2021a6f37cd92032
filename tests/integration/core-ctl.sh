#!/bin/sh
# core-ctl.sh — sekishoctl against the running daemon on a private bus: apply, refusal exit codes, status, profiles, monitor.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon minisign
start_private_bus
make_key admin
make_key rogue untrusted
start_daemon --plugins=demo --bus=session
bctl() { ctl --bus=session "$@"; }

bctl monitor >"$T/monitor" 2>&1 &
MON=$!
at_exit "kill $MON"

write_policy "$T/p.yaml" 7 "demo: { label: applied-by-ctl }
profiles:
  quarantine:
    demo: { label: quarantined }"
sign "$T/p.yaml" admin
out=$(bctl policy apply "$T/p.yaml") || fail "policy apply: $out"
echo "$out" | grep -q "serial 7 in force" || fail "policy apply said: $out"
grep -q "label=applied-by-ctl" "$T/state/demo/applied" || fail "plugin did not get the policy"
ok "policy apply through the daemon"

# Refusals come back with the same exit codes as policy verify.
expect_exit() {
        want=$1; shift
        set +e; out=$("$@" 2>&1); rc=$?; set -e
        [ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $out"
}
write_policy "$T/old.yaml" 6; sign "$T/old.yaml" admin
expect_exit 15 bctl policy apply "$T/old.yaml"
echo "$out" | grep -q "older than the installed 7" || fail "no reason given: $out"
write_policy "$T/rogue.yaml" 8; sign "$T/rogue.yaml" rogue
expect_exit 11 bctl policy apply "$T/rogue.yaml"
write_policy "$T/nosig.yaml" 8
expect_exit 10 bctl policy apply "$T/nosig.yaml"
ok "refusals exit 15, 11, 10 with their reasons"

# Status over the bus, text and JSON.
bctl status | grep -q "enforcing" || fail "status: $(bctl status)"
bctl status --json | grep -q '"serial":7' || fail "status --json: $(bctl status --json)"
ok "status over the bus"

# A profile the policy in force does not define is refused, not silently recorded.
expect_exit 1 bctl profile on nosuch
echo "$out" | grep -q "no such profile" || fail "profile on nosuch said: $out"
ok "profile on nosuch exits 1: $out"

# The operator activates a profile; it survives a restart.
bctl profile on quarantine "incident 42" || fail "profile on"
grep -q "label=quarantined" "$T/state/demo/applied" || fail "quarantine overlay not applied"
stop_daemon
start_daemon --plugins=demo --bus=session
grep -q "label=quarantined" "$T/state/demo/applied" || fail "operator profile lost at restart"
bctl profile off quarantine || fail "profile off"
grep -q "label=applied-by-ctl" "$T/state/demo/applied" || fail "quarantine not released"
ok "operator profile on, kept across restart, off"

bctl reload || fail "reload"
# The monitor subscribed long ago (it started before the first apply, but may not have been
# listening yet then): a new bundle now must show.
write_policy "$T/p8.yaml" 8 "demo: { label: seen-by-monitor }"; sign "$T/p8.yaml" admin
bctl policy apply "$T/p8.yaml" >/dev/null || fail "policy apply serial 8"
wait_for "grep -q PolicyApplied '$T/monitor'" || fail "monitor saw no PolicyApplied: $(cat "$T/monitor")"
grep -q "ProfileChanged" "$T/monitor" || fail "monitor saw no ProfileChanged"
ok "monitor prints the daemon's signals"

# With the daemon gone, status falls back to the file it left.
stop_daemon
bctl status | grep -q "not reachable on the bus" || fail "status without daemon: $(bctl status 2>&1)"
set +e; bctl policy apply "$T/p.yaml" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "apply without daemon exited $rc"
ok "without a daemon: status from the file, apply fails clearly"

# The default policy the build installs is the one compiled in: same bytes.
mkdir -p "$T/empty"
want=$(b2sum -l 256 "$top_builddir/policies/default.yaml" | cut -d' ' -f1)
got=$("$SEKISHOCTL" --state-dir "$T/empty" --keys-dir "$T/keys.d" --config "$T/sekisho.conf" policy show --json |
      sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p')
[ -n "$want" ] && [ "$want" = "$got" ] || fail "installed default.yaml ($want) is not the embedded default ($got)"
ok "the installed policies/default.yaml is the embedded default"
