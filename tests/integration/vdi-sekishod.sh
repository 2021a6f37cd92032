#!/bin/bash
# vdi-sekishod.sh — the real sekishod with only the vdi plugin, on its embedded default: forbidden FreeRDP killed (audit record), safe one connects, lockdown under --sysroot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_root
need_cmd xfreerdp Xvfb python3
"$SEKISHOD" --help 2>&1 | grep -q '^  vdi ' || skip "sekishod is built without the vdi plugin"

R="$T/root"
mkdir -p "$R/etc" "$R/opt/Citrix/ICAClient/config" "$R/home/alice/.local/share/remmina"
echo 'alice:x:1500:1500::/home/alice:/bin/sh' >"$R/etc/passwd"
printf '[remmina]\nserver=192.0.2.10\ndisableclipboard=0\n' >"$R/home/alice/.local/share/remmina/a.remmina"
chown -R 1500:1500 "$R/home/alice"

# A private session bus, when dbus-daemon is there, to see the ClientStopped signal.
BUSOPT=--bus=none
if command -v dbus-daemon >/dev/null && command -v dbus-monitor >/dev/null; then
        BUSDIR="$T/bus"; mkdir -p "$BUSDIR"
        cat >"$BUSDIR/bus.conf" <<BUSCONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$BUSDIR/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*" eavesdrop="true"/> <allow eavesdrop="true"/>
  </policy>
</busconfig>
BUSCONF
        dbus-daemon --config-file="$BUSDIR/bus.conf" --fork --print-address=3 --print-pid=4 3>"$BUSDIR/address" 4>"$BUSDIR/pid" \
                || fail "cannot start a private dbus-daemon"
        at_exit "kill $(cat "$BUSDIR/pid")"
        DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$BUSDIR/address")
        export DBUS_SESSION_BUS_ADDRESS
        dbus-monitor --session "type='signal',interface='org.sekisho.Sekisho1'" >"$T/signals" 2>&1 &
        at_exit "kill $!"
        BUSOPT=--bus=session
else
        skip_part "dbus-daemon or dbus-monitor is not installed: the ClientStopped signal is not checked"
fi

start_xvfb
start_listener
start_daemon --plugins=vdi --sysroot "$R" "$BUSOPT"
A="$T/log/audit.log"
grep -q 'vdi.*cannot watch process executions' "$T/daemon.log" && skip "proc connector unavailable here"
for i in 1 2 3; do /bin/true; done

COMMON="/v:127.0.0.1:$PORT /cert:ignore /u:t /p:t /sec:tls"
rc=0; timeout 30 xfreerdp $COMMON +clipboard >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "xfreerdp +clipboard was not killed by sekishod (exit $rc)"
sleep 0.3
[ "$(conns)" = 0 ] || fail "the killed client reached the listener"
wait_for "grep -q '\"event\":\"vdi-client-stopped\"' '$A'" 50 || fail "no vdi-client-stopped audit record"
grep '"event":"vdi-client-stopped"' "$A" | grep -q '"option":"+clipboard"' || fail "audit record lacks the option"
ok "sekishod --plugins=vdi kills xfreerdp +clipboard before it connects, with an audit record"
if [ "$BUSOPT" = --bus=session ]; then
        wait_for "grep -q 'member=ClientStopped' '$T/signals'" 50 || fail "no ClientStopped signal: $(cat "$T/signals")"
        for f in client user option clause; do
                grep -A40 'member=ClientStopped' "$T/signals" | grep -q "string \"$f\"" || fail "ClientStopped lacks $f"
        done
        ok "D-Bus signal ClientStopped with client, user, option and clause"
fi

rc=0; timeout 30 xfreerdp "$T/none.rdp" -clipboard >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "xfreerdp with an unreadable .rdp file was not killed (exit $rc)"
ok "unreadable connection file: killed (deny when in doubt)"

xfreerdp $COMMON -clipboard >/dev/null 2>&1 &
pid=$!
wait_for "[ \$(conns) -gt 0 ]" 150 || { kill "$pid" 2>/dev/null || true; fail "safe xfreerdp -clipboard did not connect"; }
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
ok "xfreerdp -clipboard left alone and connected"

grep -qx 'ClipboardAllowed=False' "$R/opt/Citrix/ICAClient/config/All_Regions.ini" || fail "All_Regions.ini not written"
grep -qx 'disableclipboard=1' "$R/home/alice/.local/share/remmina/a.remmina" || fail "Remmina profile not locked"
sed -i 's/^disableclipboard=1$/disableclipboard=0/' "$R/home/alice/.local/share/remmina/a.remmina"
wait_for "grep -qx 'disableclipboard=1' '$R/home/alice/.local/share/remmina/a.remmina'" 50 || fail "tampered profile not restored"
wait_for "grep -q '\"event\":\"vdi-lockdown-restored\"' '$A'" 50 || fail "no audit record for the restore"
ok "lockdown written under --sysroot and restored after tampering, with audit records"

grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" && ok "all of it under the seccomp allowlist"
"$SEKISHOCTL" audit verify "$A" >/dev/null 2>&1 || fail "audit chain broken"
ok "audit chain intact"
