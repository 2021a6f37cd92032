#!/bin/bash
# vdi-launch.sh — sekisho-rdp through the root launcher: the approved FreeRDP starts in the approved cgroup, as the person, non-dumpable, with the options the policy implies; the person cannot put anything else there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
at_exit launch_cleanup
need_root
need_cmd xfreerdp Xvfb python3 setpriv
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is needed for the ptrace probe"
[ -x "$top_builddir/sekisho-rdp" ] || skip "sekisho-rdp is not built"

policy() { # policy CLIPBOARD SMARTCARD CLIENT
        cat >"$T/policy.yaml" <<POL
vdi:
  clipboard: $1
  drives: deny
  printers: deny
  serial-ports: deny
  usb-redirect: deny
  audio-input: deny
  virtual-channels: deny
  smartcard: $2
  allow-devices: [keyboard, mouse]
  servers: ["127.0.0.1:$PORT", "198.51.100.10"]
  client: $3
  client-cgroup: $CGREL/client
POL
}
restart_vdi() {
        [ -n "$VDI_PID" ] && kill "$VDI_PID" && wait "$VDI_PID" 2>/dev/null
        : >"$T/vdi.log"
        start_vdi "$T/policy.yaml" --state "$T/state"
}

# Bad vdi: keys: each named with file, line and column; nothing is started.
printf 'vdi:\n  servers: ["198.51.100.10:99999", "-x"]\n  client: teamviewer\n  client-cgroup: user.slice/user-1000.slice/x\n' \
        >"$T/bad.yaml"
rc=0; "$HARNESS" --policy "$T/bad.yaml" >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a bad vdi: section was accepted (exit $rc)"
for want in "bad.yaml:2:13: servers: '198.51.100.10:99999'" "bad.yaml:2:36: servers: '-x'" \
        "bad.yaml:3:11: unknown VDI client 'teamviewer'" "bad.yaml:4:18: client-cgroup: 'user.slice/"; do
        grep -qF "$want" "$T/bad.out" || fail "no message '$want': $(cat "$T/bad.out")"
done
ok "bad servers, client and client-cgroup named with file, line and column"

XVFB_ARGS=-ac start_xvfb
LISTENER_MODE=hold start_listener
start_launcher
VDI_FAILED=1
policy deny deny freerdp
restart_vdi
grep -q "^claim: vdi 127.0.0.1 $PORT-$PORT $CGREL/client" "$T/status" || fail "the servers are not claimed for the approved cgroup"
grep -q '^exec-watch: off' "$T/status" || fail "the exec watch runs although the servers are claimed"
ok "servers claimed for $CGREL/client; no exec watch"

# The command line follows the policy, not a hard-coded list.
out=$(as_person "$top_builddir/sekisho-rdp" --dry-run "127.0.0.1:$PORT" /cert:ignore)
case "$out" in *"/v:127.0.0.1:$PORT -clipboard /cert:ignore"*) ;; *) fail "dry run under deny/deny: $out" ;; esac
case "$out" in *"/smartcard"*) fail "smart card redirected although the policy denies it: $out" ;; esac
policy allow allow freerdp
restart_vdi
out=$(as_person "$top_builddir/sekisho-rdp" --dry-run "127.0.0.1:$PORT" /cert:ignore)
case "$out" in *"-clipboard"*) fail "clipboard switched off although the policy allows it: $out" ;; esac
case "$out" in *"/smartcard"*) ;; *) fail "smart card not redirected although the policy allows it: $out" ;; esac
ok "the launcher's options follow the policy (clipboard, smartcard)"
policy deny deny freerdp
restart_vdi

# Refusals: a server the policy does not name, an option enabling a denied channel.
rc=0; as_person "$top_builddir/sekisho-rdp" 192.0.2.99 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "not a VDI server the policy names" "$T/err" || fail "unnamed server not refused (rc $rc): $(cat "$T/err")"
rc=0; as_person "$top_builddir/sekisho-rdp" "127.0.0.1:$PORT" +clipboard 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "clipboard" "$T/err" || fail "+clipboard not refused (rc $rc): $(cat "$T/err")"
rc=0; as_person "$top_builddir/sekisho-rdp" "127.0.0.1:$PORT" /drive:x,/tmp 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "/drive: not refused (rc $rc)"
rc=0; as_person env LANG=C LC_ALL= LANGUAGE=ja SEKISHO_LOCALEDIR="$top_builddir/po" "$top_builddir/sekisho-rdp" 192.0.2.99 \
        2>"$T/err" || rc=$?
grep -q "仮想デスクトップに接続できません" "$T/err" && grep -q "sekisho-rdp から起動" "$T/err" ||
        fail "no Japanese notice: $(cat "$T/err")"
grep -q "承認された VDI クライアント FreeRDP 2/3 を" "$T/err" || fail "the Japanese notice does not name the client to use: $(cat "$T/err")"
ok "unnamed server, +clipboard and /drive: refused with a notice naming the client to use (in Japanese under LANGUAGE=ja)"

# A launcher on a terminal without FreeRDP (its paths hidden under a tmpfs in a mount namespace
# of its own): a server the policy does not name is refused as such, a named one because the
# approved client is missing, named in the notice.
unshare -m sh -c 'mount -t tmpfs tmpfs /usr/bin && exec "$@"' sh "$top_builddir/sekisho-rdp" --listen "$T/bare.sock" \
        --plan "$T/state/vdi/launch-plan" --cgroup-root "$CG2" >>"$T/launch-bare.log" 2>&1 &
BARE_PID=$!
at_exit "kill $BARE_PID 2>/dev/null"
wait_for "test -S '$T/bare.sock'" 50 || fail "the launcher without FreeRDP did not start: $(cat "$T/launch-bare.log")"
rc=0; as_person env SEKISHO_VDI_SOCKET="$T/bare.sock" "$top_builddir/sekisho-rdp" 192.0.2.99 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "not a VDI server the policy names" "$T/err" ||
        fail "without FreeRDP, an unnamed server is not refused as such (rc $rc): $(cat "$T/err")"
rc=0; as_person env SEKISHO_VDI_SOCKET="$T/bare.sock" "$top_builddir/sekisho-rdp" "127.0.0.1:$PORT" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "FreeRDP is not installed" "$T/err" ||
        fail "without FreeRDP, a named server is not refused for the missing client (rc $rc): $(cat "$T/err")"
kill "$BARE_PID"
ok "without FreeRDP: an unnamed server refused as such, a named one for the missing client"

# The real client, started for the person.
before=$(conns)
as_person "$top_builddir/sekisho-rdp" "127.0.0.1:$PORT" /cert:ignore /u:t /p:t /sec:tls >"$T/client.log" 2>&1 &
PERSON_PID=$!
at_exit "kill $PERSON_PID 2>/dev/null"
wait_for "grep -q . '$CG2/$CGREL/client/cgroup.procs'" 100 || fail "no process in the approved cgroup: $(tail -3 "$T/launch.log"; cat "$T/client.log")"
CPID=$(head -n 1 "$CG2/$CGREL/client/cgroup.procs")
wait_for "[ \$(conns) -gt $before ]" 100 || fail "the approved client did not connect"
grep -q "^0::/$CGREL/client\$" "/proc/$CPID/cgroup" || fail "client not in the approved cgroup: $(cat "/proc/$CPID/cgroup")"
awk '/^Uid:/ { exit !($2 == 65534 && $3 == 65534 && $4 == 65534) }' "/proc/$CPID/status" || fail "client does not run as the person"
ok "the approved client runs as the person in $CGREL/client and connected"
[ "$(stat -c %u "$CG2/$CGREL/client/cgroup.procs")" = 0 ] || fail "cgroup.procs not root-owned"

# The person cannot move a process of their own (socat, a renamed client) into the cgroup ...
as_person sh -c "echo \$\$ >'$CG2/$CGREL/client/cgroup.procs'" 2>/dev/null && fail "the person moved a process into the approved cgroup"
# ... nor reach into the client: it is non-dumpable although it runs under the person's uid.
as_person cat "/proc/$CPID/environ" >/dev/null 2>&1 && fail "the person can read the client's memory/environment (dumpable)"
# PTRACE_ATTACH (16) from a process of the person's: EPERM (1) expected; the same call on a
# dumpable process of theirs (sleep) succeeds, so the probe itself works.
ptrace_errno() {
        as_person /usr/bin/python3 -c "
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
print(0 if libc.ptrace(16, $1, 0, 0) == 0 else ctypes.get_errno())"
}
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 30 &
SLEEP_PID=$!
wait_for "readlink /proc/$SLEEP_PID/exe | grep -q sleep" 50 || fail "the probe process did not start"
[ "$(ptrace_errno "$SLEEP_PID")" = 0 ] || fail "the ptrace probe cannot attach even to the person's own sleep"
kill -9 "$SLEEP_PID"
[ "$(ptrace_errno "$CPID")" = 1 ] || fail "the person could ptrace the approved client"
ok "the person cannot move a process into the cgroup, read the client's memory or ptrace it"

# The approved client image is what the launcher verified: a sealed copy, not a path the person controls.
readlink "/proc/$CPID/exe" | grep -q '^/memfd:sekisho-vdi-client' || fail "client not started from the verified image: $(readlink "/proc/$CPID/exe")"
kill "$CPID"
wait "$PERSON_PID" 2>/dev/null || true

# A client that cannot be locked for what the policy denies is refused, with a record and a notice.
policy deny deny spice
restart_vdi
grep -q '"event":"vdi-client-refused"' "$T/audit.log" || fail "no vdi-client-refused record"
grep -q "^approved-refused: .*clipboard" "$T/status" || fail "status does not say why the client is refused"
rc=0; as_person env LANG=C "$top_builddir/sekisho-rdp" "127.0.0.1:$PORT" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "cannot keep clipboard" "$T/err" || fail "refused client started (rc $rc): $(cat "$T/err")"
grep -q "approves no VDI client that can be started" "$T/err" || fail "the notice names a client although none can be started: $(cat "$T/err")"
ok "SPICE approved but not lockable: refused, audit record, notice"
VDI_FAILED=0
