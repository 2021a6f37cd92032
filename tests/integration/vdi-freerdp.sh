#!/bin/bash
# vdi-freerdp.sh — the real FreeRDP client under Xvfb: forbidden invocations are killed before they connect, safe ones connect.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_root
need_cmd xfreerdp Xvfb python3


cat >"$T/policy.yaml" <<POL
vdi:
  clipboard: deny
  drives: deny
  printers: deny
  serial-ports: deny
  usb-redirect: deny
  audio-input: deny
  virtual-channels: deny
  allow-devices: [keyboard, mouse, smartcard, biometric]
POL
start_xvfb
start_listener
start_vdi "$T/policy.yaml"
grep -q '^exec-watch: active' "$T/status" || skip "proc connector unavailable: $(grep exec-watch "$T/status")"
# The proc connector answers only in the initial network and PID namespace: prove events arrive.
for i in 1 2 3; do /bin/true; done
kill -USR1 "$VDI_PID"
wait_for "grep -q '^exec-events: [1-9]' '$T/status'" 50 || skip "no exec events arrive (not in the initial PID/network namespace?)"
VDI_FAILED=1

printf 'full address:s:127.0.0.1:%s\r\nredirectclipboard:i:1\r\nusername:s:t\r\n' "$PORT" >"$T/clip.rdp"
printf 'full address:s:127.0.0.1:%s\r\nredirectclipboard:i:0\r\ndrivestoredirect:s:*\r\n' "$PORT" >"$T/drives.rdp"
COMMON="/v:127.0.0.1:$PORT /cert:ignore /u:t /p:t /sec:tls"

stops=0
forbidden() {
        before=$(conns)
        rc=0
        timeout 30 xfreerdp "$@" >"$T/client.log" 2>&1 || rc=$?
        [ "$rc" = 137 ] || fail "xfreerdp $* was not killed (exit $rc)"
        sleep 0.3
        [ "$(conns)" = "$before" ] || fail "xfreerdp $* reached the listener before it was killed"
        stops=$((stops + 1))
        wait_for "[ \$(grep -c '\"event\":\"vdi-client-stopped\"' '$T/audit.log') -ge $stops ]" 100 \
                || fail "no audit record for xfreerdp $*"
        ok "killed before connecting: xfreerdp $*"
}

forbidden $COMMON +clipboard
forbidden $COMMON -clipboard /drive:x,/tmp
forbidden $COMMON -clipboard /printer
forbidden $COMMON -clipboard /usb:auto
forbidden $COMMON -clipboard +drives
forbidden $COMMON -clipboard /a:drive,x,/tmp
forbidden $COMMON -clipboard /vc:cliprdr
forbidden "$T/clip.rdp" /cert:ignore /p:t /sec:tls
forbidden "$T/drives.rdp" /cert:ignore /p:t /sec:tls
forbidden $COMMON
forbidden $COMMON -clipboard --plugin cliprdr

# A command line too long to be checked (3 x 100 KB titles): in doubt, deny.
big=$(head -c 100000 /dev/zero | tr '\0' a)
forbidden $COMMON -clipboard "/t:$big" "/t:$big" "/t:$big"
# Odd quoting: the option is still found inside one argument.
forbidden $COMMON -clipboard '/drive:"x y",/tmp'
forbidden $COMMON -clipboard "/DRIVE:x,/tmp"

# Code injected through the loader could rewrite the arguments we read: in doubt, deny.
before=$(conns); rc=0
LD_LIBRARY_PATH=/nonexistent timeout 30 xfreerdp $COMMON -clipboard >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "xfreerdp with LD_LIBRARY_PATH was not killed (exit $rc)"
stops=$((stops + 1))
sleep 0.3; [ "$(conns)" = "$before" ] || fail "the injected client reached the listener"
ok "killed before connecting: LD_LIBRARY_PATH=... xfreerdp -clipboard"

wait_for "[ \$(grep -c '\"signal\":\"ClientStopped\"' '$T/audit.log') -ge $stops ]" 100 || true
n=$(grep -c '"signal":"ClientStopped"' "$T/audit.log")
[ "$n" -ge 15 ] || fail "expected a ClientStopped signal per stop, got $n"
grep '"signal":"ClientStopped"' "$T/audit.log" | head -1 | grep -q '"client":"freerdp".*"user":.*"option":"+clipboard".*"clause":"vdi.clipboard"' \
        || fail "ClientStopped lacks client/user/option: $(grep ClientStopped "$T/audit.log" | head -1)"
grep '"event":"vdi-client-stopped"' "$T/audit.log" | head -1 | grep -q '"clause":"vdi.clipboard"' || fail "audit record lacks the clause"
ok "every stop is an audit record and a ClientStopped signal with client, user, option and clause"

# A safe invocation is left alone and connects.
safe() {
        before=$(conns)
        "$@" >"$T/client.log" 2>&1 &
        pid=$!
        wait_for "[ \$(conns) -gt $before ]" 150 || { kill "$pid" 2>/dev/null || true; tail -5 "$T/client.log"; fail "safe '$*' did not connect"; }
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        ok "left alone and connected: $*"
}
safe xfreerdp $COMMON -clipboard
stops=$(grep -c '"event":"vdi-client-stopped"' "$T/audit.log")
# sekisho-rdp now asks the root launcher service (vdi-launch.sh, vdi-xrdp.sh test it).
[ "$(grep -c '"event":"vdi-client-stopped"' "$T/audit.log")" = "$stops" ] || fail "a safe client was stopped"

# Only recognised clients are ever touched: another program with the same arguments lives.
cp /bin/sleep "$T/not-a-client"
"$T/not-a-client" 1 +clipboard /drive:x,/tmp 2>/dev/null &
p=$!
rc=0; wait "$p" || rc=$?
[ "$rc" != 137 ] || fail "a program that is not a VDI client was killed"
ok "a program that is not a VDI client is never touched"

# Many short-lived processes: those gone before they are read are simply skipped.
for i in $(seq 1 200); do /bin/true; done
kill -0 "$VDI_PID" || fail "the plugin died under a burst of short-lived processes"
kill -USR1 "$VDI_PID"; sleep 0.3
ok "burst of short-lived processes: $(grep exited-before-read "$T/status")"
VDI_FAILED=0
