#!/bin/bash
# vdi-xrdp.sh — end to end: sekishod (net + vdi) in a terminal namespace, Debian's xrdp with a logged-in session (xrdp-sesman, Xvnc, chansrv) in a server namespace; only the approved FreeRDP started by sekisho-rdp reaches it, with keyboard, mouse and display working and no clipboard channel or rdpdr device as the server sees them; a renamed client and socat cannot connect at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_cmd xrdp xrdp-sesman xrdp-chansrv Xvnc xev xmessage xwd xdotool xfreerdp Xvfb minisign openssl setpriv mountpoint unshare
need_net_vdi_cgroup
xrdp_teardown() {
        [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        net_teardown # the net plugin would make a removed claimed cgroup again
        launch_cleanup
}
at_exit xrdp_teardown

net_topology
write_cgroup_wrap
ip -n "$NS_A" addr add 192.0.2.11/24 dev a0
ip -n "$NS_A" route add default via 192.0.2.1

# The server: Debian's xrdp and xrdp-sesman, logging at debug level, with a session a test user
# logs into (Xvnc from tigervnc-standalone-server, xrdp-chansrv serving the channels). Everything
# the server sees is the test's own, in a mount namespace of its own: $S is its /tmp (logs,
# configuration, the user's home, the X sockets), and the user exists only in the passwd,
# shadow and PAM files bound over /etc there. Nothing is added to this machine.
S="$T/srv"
XUSER=vditest XPASS=vdi-test-pass XUID=64123
CHANSRV_LOG="$S/home/$XUSER/.local/share/xrdp/xrdp-chansrv.10.log"
mkdir -p "$S/etc/pam.d" "$S/home/$XUSER"
chmod 1777 "$S"
printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:%s:%s:VDI test user:/tmp/home/%s:/bin/sh\n' "$XUSER" "$XUID" "$XUID" "$XUSER" >"$S/etc/passwd"
printf 'root:x:0:\n%s:x:%s:\n' "$XUSER" "$XUID" >"$S/etc/group"
printf 'root:*:19000:0:99999:7:::\n%s:%s:19000:0:99999:7:::\n' "$XUSER" "$(openssl passwd -6 "$XPASS")" >"$S/etc/shadow"
chmod 600 "$S/etc/shadow"
# The password is checked by pam_unix against that shadow file; the session needs nothing more.
printf 'auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_permit.so\npassword required pam_deny.so\n' \
        >"$S/etc/pam.d/xrdp-sesman"
chown "$XUID:$XUID" "$S/home/$XUSER"
# The session: an xev window that records every key and button reaching the desktop, and a
# window of a colour the test picked, which the terminal's screen must show.
SESSION_RGB=3c7f29
cat >"$S/session.sh" <<EOF
#!/bin/sh
xmessage -bg '#$SESSION_RGB' -fg '#$SESSION_RGB' -geometry 500x300+500+400 sekisho &
exec xev -geometry 480x360+0+0 >/tmp/xev.out 2>&1
EOF
chmod 755 "$S/session.sh"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vdi.test -keyout "$S/key.pem" -out "$S/cert.pem" \
        >/dev/null 2>&1 || skip "openssl cannot make a certificate"
sed -e 's|^LogFile=.*|LogFile=/tmp/xrdp.log|' -e 's|^LogLevel=.*|LogLevel=DEBUG|' -e 's|^EnableSyslog=.*|EnableSyslog=false|' \
    -e 's|^port=3389|port=tcp://:3389|' -e 's|^certificate=.*|certificate=/tmp/cert.pem|' -e 's|^key_file=.*|key_file=/tmp/key.pem|' \
    -e 's|^autorun=.*|autorun=Xvnc|' /etc/xrdp/xrdp.ini >"$S/xrdp.ini"
# xrdp-chansrv reads /etc/xrdp/sesman.ini whatever sesman was given: the test's is bound there.
sed -e 's|^LogFile=.*|LogFile=/tmp/sesman.log|' -e 's|^LogLevel=.*|LogLevel=DEBUG|' -e 's|^EnableSyslog=.*|EnableSyslog=false|' \
    -e 's|^EnableUserWindowManager=.*|EnableUserWindowManager=false|' -e 's|^DefaultWindowManager=.*|DefaultWindowManager=/tmp/session.sh|' \
    -e 's|^#*EnableFuseMount=.*|EnableFuseMount=false|' /etc/xrdp/sesman.ini >"$S/sesman.ini"
xrdp_server_stop() { for p in $(ip netns pids "$NS_S" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; }
at_exit xrdp_server_stop
$IN_S unshare -m sh -c '
        set -e
        mount --bind "$1" /tmp
        for f in passwd group shadow pam.d/xrdp-sesman; do mount --bind "/tmp/etc/$f" "/etc/$f"; done
        mount --bind /tmp/sesman.ini /etc/xrdp/sesman.ini
        mount -t tmpfs tmpfs /run
        mkdir -p /run/xrdp/sockdir /tmp/.X11-unix
        chmod 1777 /run/xrdp/sockdir /tmp/.X11-unix
        xrdp-sesman -n -c /tmp/sesman.ini >/tmp/sesman.out 2>&1 &
        exec xrdp -n -c /tmp/xrdp.ini' sh "$S" >"$T/xrdp.out" 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_for "$IN_S ss -ltn | grep -q ':3389 ' && $IN_S ss -ltn | grep -q ':3350 '" 100 ||
        fail "xrdp or xrdp-sesman did not start: $(tail -3 "$T/xrdp.out"; tail -3 "$S/sesman.log" 2>/dev/null)"
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "control: the terminal cannot reach xrdp before sekishod"

# sekishod with the net and vdi plugins in the terminal's namespace, on a signed policy
# naming the server and FreeRDP as the approved client.
vdi_net_daemon "$T/cgwrap.sh" "$CGREL/client" "  serial-ports: deny
  audio-input: deny
  virtual-channels: deny
  smartcard: deny
  allow-devices: [keyboard, mouse]
"
wait_for "grep -q '^server 198.51.100.10 3389' '$T/state/vdi/launch-plan' 2>/dev/null" 100 ||
        fail "the vdi plugin published no plan: $(tail -5 "$T/daemon.log")"
wait_for "$IN_A nft list chain inet sekisho claims_out 2>/dev/null | grep -q 'socket cgroupv2'" 100 ||
        fail "the net plugin does not enforce the vdi claim: $($IN_A nft list table inet sekisho 2>&1 | grep -B2 -A8 claims | head -40)"
ok "sekishod (net, vdi): the policy's server claimed for $CGREL/client"

# 1. A plain TCP connection (socat) from outside the approved cgroup: refused.
tcp_ok "$NS_A" 198.51.100.10 3389 && fail "socat outside the approved cgroup reached the VDI server"
ok "socat outside the approved cgroup cannot connect to the VDI server"

XVFB_ARGS=-ac start_xvfb
# 2. A renamed FreeRDP run by the person: no connection reaches the server.
mkdir -p "$T/person" && chown 65534:65534 "$T/person"
cp /usr/bin/xfreerdp "$T/office-viewer"
chmod 755 "$T/office-viewer"
chmod 711 "$T"
lines=$(wc -l <"$S/xrdp.log")
rc=0
$IN_A setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_CONFIG_HOME="$T/person" timeout 20 "$T/office-viewer" /v:198.51.100.10 /cert:ignore \
        /u:t /p:t /sec:tls +clipboard >"$T/renamed.log" 2>&1 || rc=$?
tail -n +"$((lines + 1))" "$S/xrdp.log" | grep -q "connection received" && fail "the renamed client reached xrdp"
[ "$rc" != 0 ] || fail "the renamed client exited 0"
ok "a renamed FreeRDP (+clipboard) cannot connect at all (exit $rc)"

# 3. The approved client through the launcher: connected, no clipboard/drive/printer/USB channel.
start_launcher_in

# What the server saw from one connection: xrdp's log and chansrv's (the session's channel
# server: it logs every device a client announces inside rdpdr) since mark_logs.
mark_logs() {
        XRDP_MARK=$(wc -l <"$S/xrdp.log")
        CHANSRV_MARK=$(cat "$CHANSRV_LOG" 2>/dev/null | wc -l)
        XEV_MARK=$(cat "$S/xev.out" 2>/dev/null | wc -l)
}
xrdp_since() { tail -n +"$((XRDP_MARK + 1))" "$S/xrdp.log"; }
chansrv_since() { tail -n +"$((CHANSRV_MARK + 1))" "$CHANSRV_LOG" 2>/dev/null; }
xev_since() { tail -n +"$((XEV_MARK + 1))" "$S/xev.out" 2>/dev/null; }
# desktop_works WORD: the session reached, keys and a click typed into the terminal's FreeRDP
# window arrive in the session's xev window, and the terminal's screen shows the session's colour.
desktop_works() {
        wait_for "xrdp_since | grep -q 'login successful for user $XUSER'" 600 ||
                { WHY="no login: $(xrdp_since | grep -iE 'error|fail' | tail -3)"; return 1; }
        wait_for "chansrv_since | grep -q 'connection received'" 100 || { WHY="xrdp never reached the session's chansrv"; return 1; }
        wait_for "xdotool search --classname xfreerdp >/dev/null 2>&1" 100 || { WHY="no FreeRDP window"; return 1; }
        local w
        w=$(xdotool search --classname xfreerdp | head -n 1)
        # The screen first: the session's xmessage window, in the colour only the session paints.
        wait_for "xwd -root -silent >'$T/screen.xwd' && python3 '$T/count-rgb.py' '$T/screen.xwd' $SESSION_RGB >'$T/screen.count' && [ \$(cat '$T/screen.count') -gt 20000 ]" 100 ||
                { WHY="the terminal's screen does not show the session ($(cat "$T/screen.count" 2>/dev/null) pixels of #$SESSION_RGB)"; return 1; }
        xdotool windowfocus --sync "$w" mousemove --window "$w" 120 120 click 1
        xdotool type --delay 60 "$1"
        local k
        for k in $(echo "$1" | grep -o .); do
                wait_for "xev_since | grep -q 'keysym 0x[0-9a-f]*, $k)'" 50 || { WHY="key '$k' did not reach the session"; return 1; }
        done
        wait_for "xev_since | grep -q '^ButtonPress'" 50 || { WHY="the click did not reach the session"; return 1; }
        WHY="login successful, $(cat "$T/screen.count") pixels of the session's #$SESSION_RGB on the terminal's screen, '$1' and a click received by the session's xev"
}
cat >"$T/count-rgb.py" <<'EOF'
# count-rgb.py XWD RRGGBB: how many pixels of a 24/32-bit ZPixmap xwd dump have that colour.
import struct, sys
d = open(sys.argv[1], "rb").read()
h = struct.unpack(">25I", d[:100])
hsize, fmt, depth, w, hgt, order, bpp, bpl, ncolors = h[0], h[2], h[3], h[4], h[5], h[7], h[11], h[12], h[19]
assert fmt == 2 and bpp == 32, "not a 32-bit ZPixmap"
px = d[hsize + ncolors * 12:]
want = int(sys.argv[2], 16)
n = 0
for y in range(hgt):
    row = px[y * bpl:y * bpl + w * 4]
    for v in struct.unpack(("<" if order == 0 else ">") + "%dI" % w, row):
        n += (v & 0xFFFFFF) == want
print(n)
EOF

# nobody's home is /nonexistent: FreeRDP keeps its certificate store under XDG_CONFIG_HOME instead.
mkdir -p "$T/person" && chown 65534:65534 "$T/person"
export XDG_CONFIG_HOME="$T/person"
mark_logs
as_person "$top_builddir/sekisho-rdp" 198.51.100.10 /cert:ignore /u:$XUSER /p:$XPASS /sec:tls /size:800x600 >"$T/client.log" 2>&1 &
PERSON_PID=$!
at_exit "kill $PERSON_PID 2>/dev/null"
desktop_works sekisho || fail "the approved client through sekisho-rdp: $WHY; $(tail -3 "$T/launch.log"; tail -5 "$T/client.log")"
ok "approved FreeRDP via sekisho-rdp, logged in: $WHY"
sleep 2 # the rdpdr handshake long done (a smart card is announced at its first step: see the control)
xrdp_since >"$T/session.log"
chansrv_since >"$T/session-chansrv.log"
grep -o 'Adding channel: name [a-z]*' "$T/session.log" | sed 's/^Adding channel: name /  server saw static channel: /'
# cliprdr is the clipboard. FreeRDP 2 opens the rdpdr static channel whenever audio output,
# heartbeats or network auto-detection are on: what matters is what is announced inside it,
# which chansrv logs device by device ("Detected remote drive|smartcard ..."). Dynamic
# channels (USB urbdrc, audio input, ...) are opened by the server only, over drdynvc.
grep -q "Adding channel: name cliprdr," "$T/session.log" && fail "xrdp saw the clipboard channel from the approved client"
grep -q "connection received from 192.0.2.11" "$T/session.log" || fail "xrdp did not see the terminal's address"
grep -E "Detected remote" "$T/session-chansrv.log" && fail "a device was announced inside rdpdr by the approved client"
CPID=$(head -n 1 "$CG2/$CGREL/client/cgroup.procs")
[ -n "$CPID" ] || fail "nothing runs in the approved cgroup"
ok "server side of the approved client's session: no cliprdr channel, no device announced in rdpdr (chansrv: $(grep -c . "$T/session-chansrv.log") lines, none 'Detected remote')"
kill "$CPID"
wait "$PERSON_PID" 2>/dev/null || true

# Control: the same observations see the channel and the device when a client in the cgroup asks
# for them (started directly by root, as only root can), so their absence above is meaningful.
# The smart card is the device: FreeRDP 2 announces it at the first step of rdpdr, while drives
# and printers wait for a "user logged on" PDU it does not accept from xrdp 0.9 (it logs
# "Checking ExtendedPDU... server not found"), so no drive reaches this server in any case.
# Only the network namespace is entered (nsenter); the process moves itself into the cgroup
# through the host's own mount of the hierarchy. It must be seen there: another test's daemon
# watching every exec once stopped it (vdi-rewatch.sh, before it took the VDI lock).
mark_logs
start_control() {
        nsenter --net="/run/netns/$NS_A" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG2/$CGREL/client" \
                env DISPLAY="$DISPLAY" timeout 120 xfreerdp /v:198.51.100.10 /cert:ignore /u:$XUSER /p:$XPASS /sec:tls \
                /size:800x600 +clipboard /smartcard /drive:x,"$T/person" >"$T/control.log" 2>&1 &
        CONTROL_PID=$!
}
# stuck_control: where the control's process is (or that it is gone), when it is not in the cgroup.
stuck_control() { echo "pid $CONTROL_PID in $(cat /proc/$CONTROL_PID/wchan 2>/dev/null || echo '(gone)'), $(tr '\0' ' ' </proc/$CONTROL_PID/cmdline 2>/dev/null | cut -c1-80); $(cat "$T/control.log")"; }
start_control
wait_for "grep -qx $CONTROL_PID '$CG2/$CGREL/client/cgroup.procs'" 300 ||
        fail "the control client is not in the approved cgroup: $(stuck_control)"
# What the terminal's side looked like when the control failed: its TCP sockets to the
# server, the drops by class, and whether xrdp saw a connection at all.
control_state() {
        echo "xrdp connections since: $(xrdp_since | grep -c 'connection received')"
        echo "terminal's sockets to 3389: $($IN_A ss -tanp 2>/dev/null | grep ':3389' | tr -s ' ' | head -3)"
        echo "client cgroup: $(cat "$CG2/$CGREL/client/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
        $IN_A "$SEKISHOCTL" net show --counters 2>&1 | grep -E 'claims|dest_|peer_' | tr -s ' ' | tr '\n' ';'
}
desktop_works control || fail "control client: $WHY; $(tail -5 "$T/control.log"); $(control_state)"
wait_for "xrdp_since | grep -q 'Adding channel: name cliprdr,'" 100 ||
        fail "control: xrdp did not see cliprdr from a client in the cgroup asking for the clipboard"
wait_for "chansrv_since | grep -q 'Detected remote smartcard'" 100 ||
        fail "control: chansrv saw no smart card announced by a client asking for one: $(chansrv_since | tail -5)"
kill "$CONTROL_PID" 2>/dev/null; wait "$CONTROL_PID" 2>/dev/null || true
ok "control: the server shows cliprdr and '$(chansrv_since | grep -o "Detected remote smartcard.*" | head -n 1)' when a client in the cgroup asks for them"
VDI_FAILED=0
