#!/bin/sh
# run.sh — the e2e tier: boots Debian's kernel under QEMU with a busybox initramfs, runs the built sekishod in the guest and checks the real kernel's USB state.
# Usage: tests/e2e/run.sh [BUILDDIR]   (make check-e2e). Exit 0 ok, 1 failed, 77 skipped.
# Environment: E2E_KERNEL=VERSION, E2E_SMP (default 1), E2E_BENCH_PLUGS (default 50, 0 = no benchmark),
# E2E_UMOCKDEV=0 (skip the umockdev comparison figure), E2E_NET=0 (no network classifier scenario),
# E2E_ONLY=net or vdi (only that scenario: the classifier, or the VDI watch's wake-ups),
# E2E_TIMEOUT seconds (default 540), E2E_KEEP=1 keeps the work directory, QEMU=binary,
# E2E_ACCEL=auto|kvm|tcg (default auto: KVM if it proves itself, see driver.py).
# The last line is always `e2e: N passed, N failed, N skipped`.
# Only the guest and files in the work directory are touched: the host root is shared read-only,
# the USB devices are QEMU's emulated ones, the sticks are image files made here.
set -eu
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-${top_builddir:-$top_srcdir}}" && pwd)
skip() { echo "SKIP: $*"; echo "e2e: 0 passed, 0 failed, 1 skipped"; exit 77; }
fail() { echo "FAIL: $*"; echo "e2e: 0 passed, 1 failed, 0 skipped"; exit 1; }
QEMU=${QEMU:-qemu-system-x86_64}

command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU is not installed (apt-get install qemu-system-x86)"
for c in python3 cpio gzip minisign modprobe; do
        command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
done
[ -x /lib/systemd/systemd-udevd ] || skip "systemd-udevd is not installed (apt-get install udev)"
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || skip "busybox is not installed (apt-get install busybox or busybox-static)"

# The newest installed kernel that has its modules (usbcore is a module in Debian's kernel).
KVER=${E2E_KERNEL:-}
if [ -z "$KVER" ]; then
        for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V); do
                [ -d "/lib/modules/$k/kernel/drivers/usb" ] && KVER=$k
        done
fi
[ -n "$KVER" ] && [ -r "/boot/vmlinuz-$KVER" ] || skip "no kernel with modules in /boot (apt-get install linux-image-amd64)"
[ -x "$top_builddir/sekishod" ] && [ -x "$top_builddir/sekishoctl" ] || fail "build sekishod and sekishoctl first (make)"

W=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-e2e.XXXXXX")
chmod 755 "$W"
cleanup() {
        if [ "${E2E_KEEP:-0}" = 1 ]; then echo "info: work directory kept: $W"
        else rm -rf "$W"; fi
}
trap cleanup EXIT

# The initramfs: busybox, /init and just the modules needed to mount the host root over 9p;
# everything else (usbcore with authorized_default=0, xhci, usbhid, usb-storage, ...) is loaded
# in the guest by the host's own modprobe from the shared /lib/modules.
R="$W/initramfs"
mkdir -p "$R/bin" "$R/mod" "$R/proc" "$R/sys" "$R/dev" "$R/host"
cp "$BUSYBOX" "$R/bin/busybox"
# busybox-static and busybox conflict in Debian; a dynamic busybox brings its few libraries along.
for lib in $(ldd "$BUSYBOX" 2>/dev/null | sed -n 's|.*=> \(/[^ ]*\) .*|\1|p; s|^[[:space:]]*\(/[^ ]*\) .*|\1|p'); do
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
done
cp "$top_srcdir/tests/e2e/init" "$R/init"
chmod 755 "$R/init"
: >"$R/modules.list"
for m in virtio_pci 9pnet_virtio 9p; do
        modprobe -S "$KVER" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | awk '!seen[$0]++' | while read -r ko; do
        case "$ko" in *.ko) ;; *) fail "compressed module $ko: not supported by busybox insmod here" ;; esac
        cp "$ko" "$R/mod/"
        echo "/mod/$(basename "$ko")" >>"$R/modules.list"
done
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initramfs.img"

# A stick image, and the admin key whose public half the guest daemon trusts.
truncate -s 8M "$W/stick.img"
# Two writable sticks with an ext4 file system and one file: one approved read-only, one whose
# copies are recorded (QEMU writes only to these image files).
mkdir -p "$W/stickfiles" && echo "sekisho e2e" >"$W/stickfiles/hello.txt"
for img in ro cp; do
        truncate -s 16M "$W/$img.img"
        mke2fs -q -F -t ext4 -L "E2E$img" -d "$W/stickfiles" "$W/$img.img" >/dev/null 2>&1 \
                || skip "mke2fs -d failed (e2fsprogs 1.43 or later is needed)"
done
minisign -G -W -f -p "$W/admin.pub" -s "$W/admin.key" >/dev/null
chmod 644 "$W/admin.key"   # a throw-away test key; the guest reads it over 9p

# A figure from the umockdev bench, if it was built, to print beside ours.
UMOCK=
if [ -z "${E2E_ONLY:-}" ] && [ "${E2E_BENCH_PLUGS:-50}" != 0 ] && [ "${E2E_UMOCKDEV:-1}" != 0 ] && [ -x "$top_builddir/tests/bench/bench-usb" ] && command -v umockdev-wrapper >/dev/null 2>&1; then
        UMOCK=$(timeout 120 umockdev-wrapper "$top_builddir/tests/bench/bench-usb" 2>/dev/null | grep -m1 -i 'p50' || true)
fi

APPEND="console=ttyS0 loglevel=4 panic=-1 usbcore.authorized_default=0 rdinit=/init"
APPEND="$APPEND e2e.script=$top_srcdir/tests/e2e/guest.sh e2e.build=$top_builddir e2e.src=$top_srcdir e2e.work=$W"
APPEND="$APPEND e2e.bench=${E2E_BENCH_PLUGS:-50} e2e.net=${E2E_NET:-1}"
# E2E_ONLY=net|vdi: one boot that runs only that scenario.
[ -n "${E2E_ONLY:-}" ] && APPEND="$APPEND e2e.only=$E2E_ONLY"
echo "info: kernel $KVER, $(${QEMU} --version | head -n1), smp ${E2E_SMP:-1}"
python3 "$top_srcdir/tests/e2e/driver.py" --workdir "$W" --timeout "${E2E_TIMEOUT:-540}" \
        --accel "${E2E_ACCEL:-auto}" --umockdev-figure "$UMOCK" -- \
        "$QEMU" -machine pc -m 768 -smp "${E2E_SMP:-1}" -nodefaults -display none -no-reboot \
        -kernel "/boot/vmlinuz-$KVER" -initrd "$W/initramfs.img" -append "$APPEND" \
        -serial stdio -serial "unix:$W/ctl.sock,server=on,wait=off" -qmp "unix:$W/qmp.sock,server=on,wait=off" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -device qemu-xhci,id=xhci,p2=15,p3=15 \
        -device usb-kbd,bus=xhci.0,id=kbd0 \
        -blockdev "driver=raw,node-name=stickimg,read-only=on,file.driver=file,file.filename=$W/stick.img" \
        -device usb-storage,bus=xhci.0,drive=stickimg,id=stick0,serial=E2ESTICK0 \
        -blockdev "driver=raw,node-name=roimg,file.driver=file,file.filename=$W/ro.img" \
        -blockdev "driver=raw,node-name=cpimg,file.driver=file,file.filename=$W/cp.img"
