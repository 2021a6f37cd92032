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
        python3 "$top_srcdir/tests/integration/vdi-listener.py" "$T/port" "$T/conns" &
        LISTENER_PID=$!
        : >"$T/conns"
        wait_for "test -s '$T/port'" 50 || fail "listener did not start"
        PORT=$(cat "$T/port")
}

start_xvfb() {
        for xn in $(seq 90 130); do
                [ -e "/tmp/.X$xn-lock" ] && continue
                Xvfb ":$xn" -nolisten tcp -screen 0 800x600x24 >/dev/null 2>&1 &
                XVFB_PID=$!
                if wait_for "test -e /tmp/.X11-unix/X$xn" 50; then export DISPLAY=":$xn"; return 0; fi
                kill "$XVFB_PID" 2>/dev/null; XVFB_PID=
        done
        skip "cannot start Xvfb"
}

conns() { wc -l <"$T/conns"; }
