# vdi-lib.sh — helpers shared by the VDI integration tests and benchmark (sourced after lib.sh).
# Every VDI test watches (and may stop) clients started anywhere on the machine: one at a time.
machine_wide_lock vdi-exec
HARNESS="$top_builddir/tests/vdi/vdi-harness"
VDI_PID=
LISTENER_PID=
XVFB_PID=

vdi_cleanup() {
        [ -n "$VDI_PID" ] && kill "$VDI_PID" 2>/dev/null && wait "$VDI_PID" 2>/dev/null
        [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
        [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
        if [ "${VDI_FAILED:-0}" = 1 ] && [ -f "$T/vdi.log" ]; then echo "---- vdi log ----"; tail -n 40 "$T/vdi.log"; fi
        return 0
}

# start_vdi POLICY [extra harness options]: the vdi plugin alone, over the stub core.
start_vdi() {
        [ -x "$HARNESS" ] || skip "tests/vdi/vdi-harness is not built"
        ${VDI_WRAP:-} "$HARNESS" --policy "$1" --audit "$T/audit.log" --status "$T/status" "${@:2}" >>"$T/vdi.log" 2>&1 &
        VDI_PID=$!
        wait_for "grep -q 'enforcing' '$T/vdi.log'" 100 || fail "vdi harness did not start"
}

start_listener() {
        python3 "$top_srcdir/tests/integration/vdi-listener.py" "$T/port" "$T/conns" ${LISTENER_MODE:-} &
        LISTENER_PID=$!
        : >"$T/conns"
        wait_for "test -s '$T/port'" 50 || fail "listener did not start"
        PORT=$(cat "$T/port")
}

start_xvfb() {
        for xn in $(seq 90 130); do
                [ -e "/tmp/.X$xn-lock" ] && continue
                Xvfb ":$xn" -nolisten tcp ${XVFB_ARGS:-} -screen 0 800x600x24 >/dev/null 2>&1 &
                XVFB_PID=$!
                if wait_for "test -e /tmp/.X11-unix/X$xn" 50; then export DISPLAY=":$xn"; return 0; fi
                kill "$XVFB_PID" 2>/dev/null; XVFB_PID=
        done
        skip "cannot start Xvfb"
}

conns() { wc -l <"$T/conns"; }

# The VDI launcher service (sekisho-rdp --listen) over the plan in $T/state, with its
# approved cgroups in a subtree of the cgroup v2 hierarchy that the test made and removes.
LAUNCH_PID=
CG2=
CGREL=
launch_cleanup() {
        [ -n "$LAUNCH_PID" ] && kill "$LAUNCH_PID" 2>/dev/null
        if [ -n "$CGREL" ] && [ -d "$CG2/$CGREL" ]; then
                for d in "$CG2/$CGREL"/*/; do
                        [ -d "$d" ] || continue
                        for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                        for i in $(seq 50); do grep -q . "$d/cgroup.procs" 2>/dev/null || break; sleep 0.1; done
                        rmdir "$d" 2>/dev/null
                done
                rmdir "$CG2/$CGREL" 2>/dev/null
        fi
        return 0
}

# start_launcher: needs a cgroup v2 hierarchy; sets CG2 (its mount point) and CGREL (the test's subtree).
start_launcher() {
        CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
        [ -n "$CG2" ] || skip "no cgroup v2 hierarchy is mounted"
        CGREL="sekisho-test-vdi-$$"
        mkdir "$CG2/$CGREL" || skip "cannot make a cgroup under $CG2"
        chmod 711 "$T"
        "$top_builddir/sekisho-rdp" --listen "$T/launch.sock" --plan "$T/state/vdi/launch-plan" --cgroup-root "$CG2" \
                >>"$T/launch.log" 2>&1 &
        LAUNCH_PID=$!
        wait_for "test -S '$T/launch.sock'" 50 || fail "the launcher did not start"
        export SEKISHO_VDI_SOCKET="$T/launch.sock"
}

# as_person CMD...: run as an unprivileged person (nobody), as someone at the terminal would.
as_person() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# vdi_net_daemon WRAP CGROUP [VDI-LINES]: sekishod with the net and vdi plugins in the terminal's namespace
# of net-lib.sh ($IN_A), through WRAP (which mounts the cgroup hierarchy there), on a signed bundle naming
# the server 198.51.100.10:3389 and FreeRDP as the approved client in CGROUP, with more vdi: lines if given.
# Not start_daemon: the embedded default names no server, so sekishod starts "degraded" here (no proc
# connector in a namespace) until the bundle, which it applies at once, claims one.
vdi_net_daemon() {
        make_key admin
        write_policy "$T/bundle.yaml" 2 "network:
  peer-to-peer: deny
vdi:
  clipboard: deny
  drives: deny
  printers: deny
  usb-redirect: deny
${3:-}  servers: [\"198.51.100.10:3389\"]
  client: freerdp
  client-cgroup: $2"
        sign "$T/bundle.yaml" admin
        mkdir -p "$T/root" "$T/inbox"
        drop "$T/bundle.yaml" # before the start: the daemon reaches "enforcing" once the bundle is applied
        setup_dirs
        $IN_A "$1" "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none --sysroot "$T/root" --plugins=net,vdi \
                >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
}

# start_launcher_in: the launcher in the terminal's namespace of net-lib.sh, over the plan
# vdi_net_daemon's sekishod writes, the cgroup hierarchy mounted there by $T/cgwrap.sh.
start_launcher_in() {
        chmod 711 "$T"
        $IN_A "$T/cgwrap.sh" "$top_builddir/sekisho-rdp" --listen "$T/launch.sock" --plan "$T/state/vdi/launch-plan" \
                --cgroup-root /sys/fs/cgroup >>"$T/launch.log" 2>&1 &
        LAUNCH_PID=$!
        wait_for "test -S '$T/launch.sock'" 50 || fail "the launcher did not start"
        export SEKISHO_VDI_SOCKET="$T/launch.sock"
}

# need_net_vdi_cgroup: sekisho-rdp and sekishod's vdi plugin built, a cgroup v2 hierarchy at CG2 with
# the test's subtree CGREL made in it (launch_cleanup removes it); else the test is skipped.
need_net_vdi_cgroup() {
        [ -x "$top_builddir/sekisho-rdp" ] || skip "sekisho-rdp is not built"
        "$SEKISHOD" --help 2>&1 | grep -q '^  vdi ' || skip "sekishod is built without the vdi plugin"
        CG2=$(cgroup2_mount)
        [ -n "$CG2" ] || skip "no cgroup v2 hierarchy mounted"
        CGREL="sekisho-test-vdi-$$"
        mkdir "$CG2/$CGREL" || skip "cannot make a cgroup under $CG2"
}
