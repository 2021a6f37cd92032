#!/bin/bash
# bench-vdi-wakeups.sh — how often the vdi plugin wakes for programs started elsewhere on the machine: the exec watch (no vdi.servers) vs the claimed servers (vdi.servers), N execs each, interleaved; prints wake-ups per 1000 execs.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/vdi-lib.sh"
at_exit vdi_cleanup
need_root
N=${BENCH_EXECS:-2000}
ROUNDS=${BENCH_ROUNDS:-3}
base='vdi:
  clipboard: deny
  drives: deny
  printers: deny
  serial-ports: deny
  usb-redirect: deny
  audio-input: deny
  virtual-channels: deny
  allow-devices: [keyboard, mouse, smartcard]'
printf '%s\n' "$base" >"$T/watch.yaml"
printf '%s\n  servers: ["198.51.100.10:3389"]\n  client: freerdp\n' "$base" >"$T/claims.yaml"

# wakeups POLICY: the harness's context switches (each one a wake-up of its loop) while N programs run.
wakeups() {
        : >"$T/vdi.log"
        start_vdi "$1" --state "$T/state"
        sleep 0.2
        before=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$VDI_PID/status")
        for _ in $(seq "$N"); do /bin/true; done
        sleep 0.2
        after=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$VDI_PID/status")
        kill "$VDI_PID"; wait "$VDI_PID" 2>/dev/null; VDI_PID=
        echo $((after - before))
}
echo "vdi plugin wake-ups while $N programs are started elsewhere (kernel $(uname -r)), $ROUNDS interleaved rounds:"
for r in $(seq "$ROUNDS"); do
        w=$(wakeups "$T/watch.yaml")
        c=$(wakeups "$T/claims.yaml")
        printf '  round %d: exec watch (no servers) %6d wake-ups = %4d per 1000 execs;  servers claimed %4d = %4d per 1000 execs\n' \
                "$r" "$w" $((w * 1000 / N)) "$c" $((c * 1000 / N))
done
