#!/bin/bash
# vdi-xrdp.sh — end to end: sekishod (net + vdi) in a terminal namespace, Debian's xrdp on a server namespace; only the approved FreeRDP started by sekisho-rdp reaches it, with the denied channels off as the server sees them; a renamed client and socat cannot connect at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_cmd xrdp xfreerdp Xvfb minisign openssl setpriv mountpoint unshare
[ -x "$top_builddir/sekisho-rdp" ] || skip "sekisho-rdp is not built"
"$SEKISHOD" --help 2>&1 | grep -q '^  vdi ' || skip "sekishod is built without the vdi plugin"
CG2=$(cgroup2_mount)
[ -n "$CG2" ] || skip "no cgroup v2 hierarchy mounted"
CGREL="sekisho-test-vdi-$$"
mkdir "$CG2/$CGREL" || skip "cannot make a cgroup under $CG2"
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

# The server: Debian's xrdp with its log at debug level (it names every channel a client asks
# for), a certificate of the test's own, its runtime directory on a tmpfs of its own.
mkdir -p "$T/xrdp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vdi.test -keyout "$T/xrdp/key.pem" -out "$T/xrdp/cert.pem" \
        >/dev/null 2>&1 || skip "openssl cannot make a certificate"
sed -e "s|^LogFile=.*|LogFile=$T/xrdp.log|" -e 's|^LogLevel=.*|LogLevel=DEBUG|' -e 's|^EnableSyslog=.*|EnableSyslog=false|' \
    -e 's|^port=3389|port=tcp://:3389|' -e "s|^certificate=.*|certificate=$T/xrdp/cert.pem|" \
    -e "s|^key_file=.*|key_file=$T/xrdp/key.pem|" /etc/xrdp/xrdp.ini >"$T/xrdp/xrdp.ini"
$IN_S unshare -m sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/xrdp/sockdir && exec xrdp -n -c "$1"' sh "$T/xrdp/xrdp.ini" \
        >"$T/xrdp.out" 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_for "$IN_S ss -ltn | grep -q ':3389 '" 100 || fail "xrdp did not start: $(tail -3 "$T/xrdp.out")"
tcp_ok "$NS_A" 198.51.100.10 3389 || fail "control: the terminal cannot reach xrdp before sekishod"

# sekishod with the net and vdi plugins in the terminal's namespace, on a signed policy
# naming the server and FreeRDP as the approved client.
make_key admin
write_policy "$T/bundle.yaml" 2 "network:
  peer-to-peer: deny
vdi:
  clipboard: deny
  drives: deny
  printers: deny
  serial-ports: deny
  usb-redirect: deny
  audio-input: deny
  virtual-channels: deny
  smartcard: deny
  allow-devices: [keyboard, mouse]
  servers: [\"198.51.100.10:3389\"]
  client: freerdp
  client-cgroup: $CGREL/client"
sign "$T/bundle.yaml" admin
mkdir -p "$T/root" "$T/inbox"
drop "$T/bundle.yaml" # before the start: the daemon reaches "enforcing" once the bundle is applied
setup_dirs
# Not start_daemon: the embedded default names no server, so sekishod starts "degraded" here
# (no proc connector in a namespace) until the bundle, which it applies at once, claims one.
$IN_A "$T/cgwrap.sh" "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
        --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --sysroot "$T/root" --plugins=net,vdi \
        >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
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
lines=$(wc -l <"$T/xrdp.log")
rc=0
$IN_A setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_CONFIG_HOME="$T/person" timeout 20 "$T/office-viewer" /v:198.51.100.10 /cert:ignore \
        /u:t /p:t /sec:tls +clipboard >"$T/renamed.log" 2>&1 || rc=$?
tail -n +"$((lines + 1))" "$T/xrdp.log" | grep -q "connection received" && fail "the renamed client reached xrdp"
[ "$rc" != 0 ] || fail "the renamed client exited 0"
ok "a renamed FreeRDP (+clipboard) cannot connect at all (exit $rc)"

# 3. The approved client through the launcher: connected, no clipboard/drive/printer/USB channel.
start_launcher_in() {
        chmod 711 "$T"
        $IN_A "$T/cgwrap.sh" "$top_builddir/sekisho-rdp" --listen "$T/launch.sock" --plan "$T/state/vdi/launch-plan" \
                --cgroup-root /sys/fs/cgroup >>"$T/launch.log" 2>&1 &
        LAUNCH_PID=$!
        wait_for "test -S '$T/launch.sock'" 50 || fail "the launcher did not start"
        export SEKISHO_VDI_SOCKET="$T/launch.sock"
}
start_launcher_in
lines=$(wc -l <"$T/xrdp.log")
# nobody's home is /nonexistent: FreeRDP keeps its certificate store under XDG_CONFIG_HOME instead.
mkdir -p "$T/person" && chown 65534:65534 "$T/person"
export XDG_CONFIG_HOME="$T/person"
as_person "$top_builddir/sekisho-rdp" 198.51.100.10 /cert:ignore /u:t /p:t /sec:tls >"$T/client.log" 2>&1 &
PERSON_PID=$!
at_exit "kill $PERSON_PID 2>/dev/null"
wait_for "tail -n +$((lines + 1)) '$T/xrdp.log' | grep -q 'login_mode is 2'" 300 ||
        fail "the approved client did not reach xrdp's login screen: $(tail -3 "$T/launch.log"; tail -5 "$T/client.log")"
sleep 1
tail -n +"$((lines + 1))" "$T/xrdp.log" >"$T/session.log"
grep -o 'Adding channel: name [a-z]*' "$T/session.log" | sed 's/^/  server saw: /'
# cliprdr is the clipboard. FreeRDP 2 registers rdpdr (device redirection) whenever audio
# output, heartbeats or network auto-detection are on, with no device in it unless asked:
# its presence alone says nothing, so the devices are held off by the launcher's options.
grep -q "Adding channel: name cliprdr," "$T/session.log" && fail "xrdp saw the clipboard channel from the approved client"
grep -q "Keyboard information sent by the RDP client" "$T/session.log" || fail "no keyboard information reached xrdp"
grep -q "connection received from 192.0.2.11" "$T/session.log" || fail "xrdp did not see the terminal's address"
CPID=$(head -n 1 "$CG2/$CGREL/client/cgroup.procs")
[ -n "$CPID" ] || fail "nothing runs in the approved cgroup"
ok "approved FreeRDP via sekisho-rdp: login screen shown, keyboard announced, no cliprdr channel (server log)"
kill "$CPID"
wait "$PERSON_PID" 2>/dev/null || true

# Control: the same observation sees the channels when a client in the cgroup asks for them
# (started directly by root, as only root can), so their absence above is meaningful.
lines=$(wc -l <"$T/xrdp.log")
$IN_A "$T/cgwrap.sh" sh -c 'echo $$ >"/sys/fs/cgroup/$1/cgroup.procs" && shift && exec "$@"' sh "$CGREL/client" \
        timeout 15 xfreerdp /v:198.51.100.10 /cert:ignore /u:t /p:t /sec:tls +clipboard /drive:x,/tmp >"$T/control.log" 2>&1 &
CONTROL_PID=$!
wait_for "tail -n +$((lines + 1)) '$T/xrdp.log' | grep -q 'Adding channel: name cliprdr,'" 300 ||
        fail "control: xrdp did not see cliprdr from a client in the cgroup asking for the clipboard"
kill "$CONTROL_PID" 2>/dev/null; wait "$CONTROL_PID" 2>/dev/null || true
ok "control: the server log does show cliprdr when a client in the cgroup asks for it"
VDI_FAILED=0
