#!/bin/sh
# core-bus-bounds.sh — what a caller can make sekishod keep is bounded: a flood of SetProfile names (four times the limit of 64) over a private bus is refused past the limit, the daemon survives and restores exactly what it accepted.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon dbus-send

start_private_bus
make_key admin
start_daemon --plugins=demo --bus=session
call() { dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 "$@"; }

# 1 000 profile names of 64 characters (the longest allowed). Only a profile the
# policy defines can be turned on, so the signed policy in force defines them all.
name() { printf 'p%063d' "$1"; }
out=$(call org.sekisho.Sekisho1.SetProfile "string:$(name 0)" boolean:true string:undefined 2>&1) &&
        fail "a profile the policy does not define was accepted"
echo "$out" | grep -q '^Error org.sekisho.Sekisho1.Error.NotFound' || fail "undefined profile: $out"
ok "a profile the policy does not define is refused: $out"
{ echo "profiles:"; i=0; while [ $i -lt 1000 ]; do echo "  $(name $i): {}"; i=$((i + 1)); done; } >"$T/profiles.yaml"
write_policy "$T/flood.yaml" 7 "$(cat "$T/profiles.yaml")"
sign "$T/flood.yaml" admin
drop "$T/flood.yaml"
wait_for '[ "$(serial_in_force)" = 7 ]' || { cat "$T/daemon.log"; fail "the policy with 1 000 profiles is not in force"; }

# One SetProfile each, as root, for four times as many names as one caller may hold (64, core.h):
# past the limit each is refused alike (one dbus-send each: more would only cost time).
FLOOD=256
i=0 accepted=0 limited=0
while [ $i -lt $FLOOD ]; do
        if out=$(call org.sekisho.Sekisho1.SetProfile "string:$(name $i)" boolean:true string:flood 2>&1); then
                accepted=$((accepted + 1))
        elif echo "$out" | grep -q '^Error org.freedesktop.DBus.Error.LimitsExceeded'; then
                limited=$((limited + 1))
        else
                kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$T/daemon.log"; fail "sekishod died at name $i: $out"; }
                fail "SetProfile $i: $out"
        fi
        i=$((i + 1))
done
kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$T/daemon.log"; fail "sekishod died"; }
[ "$accepted" -gt 0 ] && [ "$limited" -gt 0 ] || fail "accepted $accepted, refused $limited: no limit"
[ "$((accepted + limited))" = $FLOOD ] || fail "accepted $accepted + refused $limited is not $FLOOD"
ok "$FLOOD names: $accepted accepted, $limited refused with LimitsExceeded; the daemon lives"

# A name longer than the one cap is refused before it reaches the core.
out=$(call org.sekisho.Sekisho1.SetProfile "string:x$(name 0)" boolean:true string:long 2>&1) && fail "65 characters accepted"
echo "$out" | grep -q '^Error org.freedesktop.DBus.Error.InvalidArgs' || fail "long name: $out"
ok "a 65-character name is refused: $out"

# Releasing makes room again; what was accepted survives a restart, in full.
call org.sekisho.Sekisho1.SetProfile "string:$(name 0)" boolean:false string:release >/dev/null || fail "release"
call org.sekisho.Sekisho1.SetProfile "string:$(name 999)" boolean:true string:room >/dev/null || fail "no room after a release"
[ "$(grep -c . "$T/state/profiles.admin")" = "$accepted" ] || fail "profiles.admin has $(grep -c . "$T/state/profiles.admin") names"
stop_daemon
start_daemon --plugins=demo --bus=session
[ "$(grep -c '"event":"profile.requested".*"reason":"restored at start"' "$T/log/audit.log")" = "$accepted" ] ||
        fail "not every accepted name was restored"
ok "a release makes room; the $accepted names survive a restart"
