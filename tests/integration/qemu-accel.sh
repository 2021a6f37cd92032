#!/bin/sh
# qemu-accel.sh — the QEMU tiers' accelerator choice (tests/e2e/driver.py): KVM only by proof, a silent guest stopped early; against a fake QEMU.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-accel.XXXXXX")
trap 'rm -rf "$W"' EXIT
fails=0
no() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The fake QEMU: records its pid per accelerator; `-accel kvm` behaves as on a nested host whose
# KVM cannot run the guest (a warning on stderr, a silent console) unless FAKE_KVM_WORKS=1;
# under tcg it prints a console line unless FAKE_SILENT=1.
cat >"$W/qemu" <<'FAKE'
#!/bin/sh
accel=none
while [ $# -gt 0 ]; do [ "$1" = -accel ] && accel=$2; shift; done
echo $$ >"$FAKE_DIR/pid.$accel"
if [ "$accel" = kvm ] && [ "${FAKE_KVM_WORKS:-0}" != 1 ]; then
        echo "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]" >&2
        exec sleep 300
fi
[ "${FAKE_SILENT:-0}" = 1 ] && exec sleep 300
echo "Linux version 6.1.0-fake (fake console line)"
exec sleep 300
FAKE
chmod 755 "$W/qemu"
: >"$W/kvm"    # stands in for a /dev/kvm that exists and opens
export FAKE_DIR="$W"

probe() {  # probe OUTFILE DRIVER-ARGS...: the driver's choice against the fake, its exit status in $rc
        out=$1; shift
        rm -f "$W"/pid.*
        rc=0
        python3 "$top_srcdir/tests/e2e/driver.py" --workdir "$W" --probe-only --kvm-deadline 1 \
                --first-output-deadline 2 --tier accel "$@" -- "$W/qemu" -machine pc -m 64 >"$out" 2>&1 || rc=$?
}
gone() { [ -f "$W/pid.$1" ] && ! kill -0 "$(cat "$W/pid.$1")" 2>/dev/null; }

# 1. /dev/kvm exists, the KVM guest stays silent: stopped, TCG chosen, the reason names QEMU's warning.
probe "$W/o1" --kvm-dev "$W/kvm"
[ $rc = 0 ] || no "silent KVM: driver exited $rc: $(cat "$W/o1")"
grep -q "^accel: tcg (kvm: no console line within 1 s; qemu said: .*host doesn't support requested feature" "$W/o1" ||
        no "silent KVM: no tcg choice with the reason: $(cat "$W/o1")"
gone kvm || no "silent KVM: the KVM QEMU was not started or not stopped"
gone tcg || no "silent KVM: the TCG QEMU was not started or not stopped"

# 2. No /dev/kvm: TCG without a KVM attempt.
probe "$W/o2" --kvm-dev "$W/no-such-kvm"
grep -q "^accel: tcg (no $W/no-such-kvm)" "$W/o2" || no "no KVM: $(cat "$W/o2")"
[ ! -f "$W/pid.kvm" ] || no "no KVM: a KVM QEMU was started"

# 3. A KVM that works is kept.
FAKE_KVM_WORKS=1 probe "$W/o3" --kvm-dev "$W/kvm"
grep -q "^accel: kvm (first console line after" "$W/o3" || no "working KVM not chosen: $(cat "$W/o3")"
[ ! -f "$W/pid.tcg" ] || no "working KVM: a TCG QEMU was started as well"

# 4. A guest silent under TCG too: stopped at the first-output deadline, console tail and command line printed.
FAKE_SILENT=1 probe "$W/o4" --kvm-dev "$W/kvm"
[ $rc = 1 ] || no "silent guest: driver exited $rc, not 1"
grep -q "guest silent for 2 s under tcg: stopped" "$W/o4" || no "silent guest: not stopped early: $(cat "$W/o4")"
grep -q -- "---- console tail ----" "$W/o4" || no "silent guest: no console tail"
grep -qF -- "$W/qemu -machine pc -m 64 -accel tcg" "$W/o4" || no "silent guest: no full command line: $(cat "$W/o4")"
[ "$(tail -n1 "$W/o4")" = "accel: 0 passed, 1 failed, 0 skipped" ] || no "silent guest: last line is not the summary"
gone tcg || no "silent guest: the TCG QEMU was left running"

[ $fails = 0 ] || exit 1
echo "ok: KVM by proof, fallback to TCG, silent guest stopped early"
