#!/bin/sh
# core-bus.sh — the real sekishod on a private bus: properties, ApplyPolicy with its refusal error names, signals, a non-root caller refused; its D-Bus is its own (no libdbus, libsystemd or what they pull in), answers Peer and UnknownMethod as libdbus did, and a lost bus leaves enforcement running.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon dbus-send dbus-monitor minisign

start_private_bus

dbus-monitor --session "type='signal',interface='org.sekisho.Sekisho1'" >"$T/signals" 2>&1 &
MONITOR_PID=$!
at_exit "kill $MONITOR_PID"

call() { dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 "$@"; }
prop() { call org.freedesktop.DBus.Properties.Get string:org.sekisho.Sekisho1 "string:$1" | sed -n '2,$p'; }
bytes() { od -An -v -tu1 "$1" | tr -s ' \n' ',' | sed 's/^,//; s/,$//'; }
apply() { call org.sekisho.Sekisho1.ApplyPolicy "array:byte:$(bytes "$1")" "array:byte:$(bytes "$1.minisig")" \
        "string:$(basename "$1")"; }

make_key admin
start_daemon --plugins=demo --bus=session
grep -q "serving org.sekisho.Sekisho1" "$T/daemon.log" || fail "the daemon does not serve the bus"

prop State | grep -q '"enforcing"' || fail "State: $(prop State)"
prop PolicySource | grep -q '"embedded"' || fail "PolicySource: $(prop PolicySource)"
call org.freedesktop.DBus.Properties.GetAll string:org.sekisho.Sekisho1 >"$T/all"
for p in Version State PolicySerial PolicySource PolicyState PolicyExpires Freshness ActiveProfiles Plugins Trust TrustRefused; do
        grep -q "string \"$p\"" "$T/all" || fail "GetAll lacks $p"
done
grep -q 'string "demo"' "$T/all" || fail "Plugins lacks demo: $(cat "$T/all")"
call org.freedesktop.DBus.Introspectable.Introspect | grep -q '<interface name="org.sekisho.Sekisho1">' \
        || fail "Introspect"
ok "properties and introspection"

write_policy "$T/good.yaml" 5 "demo: { label: over-dbus }"
sign "$T/good.yaml" admin
apply "$T/good.yaml" | grep -q 'uint64 5' || fail "ApplyPolicy did not return serial 5"
prop PolicySerial | grep -q 'uint64 5' || fail "PolicySerial: $(prop PolicySerial)"
wait_for "grep -q 'member=PolicyApplied' '$T/signals'" || fail "no PolicyApplied signal: $(cat "$T/signals")"
grep -q '"via"' "$T/signals" || fail "PolicyApplied carries no fields"
ok "ApplyPolicy installs, returns the serial and signals PolicyApplied"

write_policy "$T/tampered.yaml" 6; sign "$T/tampered.yaml" admin
sed -i 's/serial: 6/serial: 7/' "$T/tampered.yaml"
set +e
out=$(apply "$T/tampered.yaml" 2>&1)
set -e
echo "$out" | grep -q '^Error org.sekisho.Sekisho1.Error.BadSignature: tampered.yaml' || fail "tampered: $out"
prop PolicySerial | grep -q 'uint64 5' || fail "tampered bundle changed the serial"
wait_for "grep -q 'member=PolicyRefused' '$T/signals'" || fail "no PolicyRefused signal"
ok "a tampered bundle is refused with BadSignature: $out"

# (Oversized bundles need more than a command line holds: tests/unit/test-bus covers them.)

call org.sekisho.Sekisho1.SetProfile string:travel boolean:true string:"integration test" >/dev/null \
        || fail "SetProfile as root"
wait_for "grep -q 'member=ProfileChanged' '$T/signals'" || fail "no ProfileChanged signal"
call org.sekisho.Sekisho1.Reload >/dev/null || fail "Reload as root"
ok "SetProfile and Reload as root"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        asnobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
        set +e
        out=$(asnobody dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 \
                org.sekisho.Sekisho1.Reload 2>&1)
        set -e
        echo "$out" | grep -q '^Error org.freedesktop.DBus.Error.AccessDenied' || fail "nobody may Reload: $out"
        wait_audit "\"event\":\"admin.refused\",\"clause\":\"[^\"]*\",\"method\":\"Reload\",\"uid\":\"$(id -u nobody)\"" ||
                fail "the refused Reload left no audit record"
        asnobody dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 \
                org.freedesktop.DBus.Properties.Get string:org.sekisho.Sekisho1 string:State | grep -q enforcing \
                || fail "nobody cannot read State"
        ok "a non-root caller reads status but is refused Reload: $out"
else
        skip_part "the non-root caller part needs root, setpriv and a nobody user"
fi

# Issue 21: libdbus-1 on Debian 12 brings libsystemd, libgcrypt, libgpg-error, liblzma, libzstd,
# liblz4 and libcap, 0.9 MiB of sekishod's idle RSS; sekishod speaks D-Bus itself.
for prog in "$RELEASE_SEKISHOD" "$SEKISHOD"; do
        [ -x "$prog" ] || continue
        readelf -d "$prog" | grep -Eq 'NEEDED.*(libdbus|libsystemd)' && fail "$(basename "$prog") is linked with libdbus or libsystemd"
done
grep -Eq 'libdbus|libsystemd|libgcrypt|liblzma|libzstd|liblz4' "/proc/$DAEMON_PID/maps" &&
        fail "sekishod maps $(grep -Eo 'lib(dbus|systemd|gcrypt|lzma|zstd|lz4)[^ ]*' "/proc/$DAEMON_PID/maps" | sort -u | tr '\n' ' ')"
call org.freedesktop.DBus.Peer.Ping >/dev/null || fail "Ping"
[ ! -s /etc/machine-id ] || call org.freedesktop.DBus.Peer.GetMachineId | grep -q "\"$(cat /etc/machine-id)\"" ||
        fail "GetMachineId: $(call org.freedesktop.DBus.Peer.GetMachineId 2>&1)"
set +e
out=$(call org.sekisho.Sekisho1.Explode 2>&1)
set -e
echo "$out" | grep -q '^Error org.freedesktop.DBus.Error.UnknownMethod' || fail "unknown method: $out"
ok "sekishod maps neither libdbus nor libsystemd, and answers Ping, GetMachineId and an unknown method: $out"

# The bus goes away: the daemon says so once and goes on enforcing (its status file is still written).
kill "$(cat "$BUSDIR/pid")"
wait_for "grep -q 'disconnected from the bus' '$T/daemon.log'" || fail "the lost bus is not logged"
before=$(stat -c %y "$T/state/status.json")
kill -HUP "$DAEMON_PID"
wait_for "[ \"\$(stat -c %y '$T/state/status.json')\" != '$before' ]" || fail "no status written after a reload without the bus"
kill -0 "$DAEMON_PID" || fail "sekishod died with the bus"
ok "the bus gone: $(grep -o 'disconnected from the bus.*' "$T/daemon.log" | head -n1)"

stop_daemon
ok "daemon stopped"
