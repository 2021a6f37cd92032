#!/bin/sh
# run.sh — the reset tier: a LUKS2 root on QEMU's NVMe drive, a reset of it scheduled by sekisho-reset, carried out by the initramfs (cryptsetup-initramfs and sekisho's hook, Debian 12's kernel) with a power cut after each step kind, then the factory state booted with the new key.
# Usage: tests/reset/run.sh [BUILDDIR]   (make check-reset). Exit 0 ok, 1 failed, 77 skipped.
# Environment: RESET_CACHE (default /var/cache/sekisho-tests: the installed tier's base image and this
# tier's derived root), RESET_TIMEOUT seconds per boot (default 300), RESET_KEEP=1 keeps the work directory.
# The last line is always `reset: N passed, N failed, N skipped`. Only image files made here are written;
# the guest has no network device.
set -eu
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top_srcdir/build}" && pwd)
QEMU=${QEMU:-qemu-system-x86_64}
CACHE=${RESET_CACHE:-/var/cache/sekisho-tests}
passed=0 failed=0
summary() { echo "reset: $passed passed, $failed failed, $1 skipped"; }
skip() { echo "SKIP: $*"; summary 1; exit 77; }
result() { # NAME ok|fail DETAIL
        echo "RESET-RESULT $1 $2 ${3:-}"
        if [ "$2" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
finish() { summary 0; [ $failed = 0 ] && exit 0; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (a chroot to build the initramfs)"
for c in "$QEMU" cryptsetup mke2fs debugfs gcc python3 apt-get dpkg unshare chroot; do
        command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (tests/reset/debian-packages)"
done
RESET="$B/sekisho-reset"
HOOK="$B/plugins/travel/initramfs/hooks/sekisho-reset"
SCRIPT="$top_srcdir/plugins/travel/initramfs/scripts/init-premount/sekisho-reset"
[ -x "$RESET" ] && [ -x "$HOOK" ] || skip "sekisho-reset and its initramfs hook are not built in $B"
libexec=$(sed -n 's|^RESET="\(.*\)/sekisho-reset"$|\1|p' "$HOOK")

# The installed tier's cached Debian 12 base (tests/installed/image.sh builds it): its kernel and initramfs-tools.
BASE=""
for d in $(ls -dt "$CACHE"/base-*/ 2>/dev/null); do
        if [ -x "$d/usr/sbin/mkinitramfs" ] && ls "$d"/boot/vmlinuz-* >/dev/null 2>&1; then BASE=${d%/}; break; fi
done
[ -n "$BASE" ] || skip "no installed-tier base image in $CACHE (make check-installed builds it)"
W=$(mktemp -d "${TMPDIR:-/var/tmp}/sekisho-reset.XXXXXX")
cleanup() { if [ "${RESET_KEEP:-0}" = 1 ]; then echo "info: work directory kept: $W" >&2; else rm -rf "$W"; fi; }
trap cleanup EXIT

# in_chroot ROOT CMD...: a private mount namespace with /proc and /run for the chroot.
in_chroot() {
        unshare --mount --fork sh -eu -c '
                R=$1; shift
                mount --make-rprivate /
                mount -t proc proc "$R/proc"
                mount -t tmpfs tmpfs "$R/run"
                chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
        ' - "$@"
}

# The derived root: the base plus cryptsetup-initramfs, cached. The host's apt resolves them against the
# base's own dpkg status (so what the base lacks of their dependencies comes too: libpopt0 is in one base
# and not in another) and downloads them; dpkg installs them in the chroot, which has no network.
PKGS="cryptsetup-initramfs cryptsetup cryptsetup-bin dmsetup busybox"
key=$(printf '%s\n%s\nwith dependencies\n' "$(basename "$BASE")" "$PKGS" | sha256sum | cut -c1-16)
R="$CACHE/reset-root-$key"
if [ ! -x "$R/usr/sbin/cryptsetup" ]; then
        echo "info: deriving $R from $BASE (+ $PKGS)"
        rm -rf "$R.tmp" "$R"
        cp -a "$BASE" "$R.tmp"
        mkdir -p "$W/debs/partial"
        # shellcheck disable=SC2086
        apt-get install -y -q --download-only --no-install-recommends -o Debug::NoLocking=1 \
                -o Dir::State::status="$BASE/var/lib/dpkg/status" -o Dir::Cache::archives="$W/debs" $PKGS \
                >"$W/download.log" 2>&1 || { tail -n 20 "$W/download.log"; rm -rf "$R.tmp"; skip "apt-get could not download $PKGS"; }
        echo "update_initramfs=no" >>"$R.tmp/etc/initramfs-tools/update-initramfs.conf"
        cp "$W"/debs/*.deb "$R.tmp/tmp/"
        in_chroot "$R.tmp" sh -c 'dpkg -i /tmp/*.deb' >"$W/dpkg.log" 2>&1 ||
                { tail -n 20 "$W/dpkg.log"; rm -rf "$R.tmp"; result derive fail "dpkg -i in the chroot"; finish; }
        rm -f "$R.tmp"/tmp/*.deb
        mv "$R.tmp" "$R"
        ls -dt "$CACHE"/reset-root-* | tail -n +2 | while read -r old; do rm -rf "$old"; done
fi

# The initramfs: the system's crypttab (root on the NVMe namespace, by UUID), /boot of its own, sekisho's hook.
UUID=5e415e00-0000-4000-8000-000000000022
install -D -m 755 "$RESET" "$R$libexec/sekisho-reset"
install -D -m 755 "$HOOK" "$R/etc/initramfs-tools/hooks/sekisho-reset"
install -D -m 755 "$SCRIPT" "$R/etc/initramfs-tools/scripts/init-premount/sekisho-reset"
echo "root UUID=$UUID none luks,initramfs" >"$R/etc/crypttab"
printf '/dev/mapper/root / ext4 defaults 0 1\n/dev/vda /boot ext4 defaults 0 2\n' >"$R/etc/fstab"
mkdir -p "$R/etc/cryptsetup-initramfs"
echo "CRYPTSETUP=y" >"$R/etc/cryptsetup-initramfs/conf-hook"
kver=$(ls "$R/lib/modules" | sort -V | tail -n 1)
# cached by what goes into it (mkinitramfs takes minutes on a loaded machine)
ikey=$( { echo "$R $kver"; cat "$RESET" "$HOOK" "$SCRIPT" "$R/etc/crypttab" "$R/etc/fstab"; } | sha256sum | cut -c1-16)
if [ ! -s "$CACHE/reset-initrd-$ikey.img" ]; then
        in_chroot "$R" mkinitramfs -o /tmp/reset-initrd.img "$kver" >"$W/mkinitramfs.log" 2>&1 ||
                { tail -n 20 "$W/mkinitramfs.log"; result initramfs fail "mkinitramfs failed"; finish; }
        mv "$R/tmp/reset-initrd.img" "$CACHE/reset-initrd-$ikey.img"
        ls -t "$CACHE"/reset-initrd-*.img | tail -n +3 | while read -r old; do rm -f "$old"; done
fi
cp "$CACHE/reset-initrd-$ikey.img" "$W/initrd.img"
cp "$R/boot/vmlinuz-$kver" "$W/vmlinuz"
lsinitramfs "$W/initrd.img" >"$W/initrd.list" 2>/dev/null || in_chroot "$R" lsinitramfs /dev/stdin <"$W/initrd.img" >"$W/initrd.list"
missing=""
for f in scripts/init-premount/sekisho-reset conf/conf.d/sekisho-reset cryptroot/crypttab; do
        grep -q "^$f\$" "$W/initrd.list" || missing="$missing $f"
done
grep -q -e '^sbin/sekisho-reset$' -e '^usr/sbin/sekisho-reset$' "$W/initrd.list" || missing="$missing sbin/sekisho-reset"
if [ -z "$missing" ]; then
        result initramfs ok "cryptroot, sekisho-reset, its init-premount script and /boot's fstab entry"
else
        result initramfs fail "missing:$missing"; finish
fi

# The disks. /boot (virtio, ext4): the restore image (a tiny root whose init says which image it is) and
# its enrolment passphrase. The root (QEMU's NVMe namespace): LUKS2 with two passphrases.
mkdir -p "$W/factory/sbin" "$W/factory/etc" "$W/factory/dev" "$W/factory/proc" "$W/factory/sys" "$W/factory/run" \
        "$W/bootfs" "$W/state/travel"
gcc -static -O2 -o "$W/factory/sbin/init" "$top_srcdir/tests/reset/factory-init.c"
echo factory >"$W/factory/etc/sekisho-image"
truncate -s 8M "$W/bootfs/factory.img"
mke2fs -q -t ext4 -d "$W/factory" "$W/bootfs/factory.img"
printf 'enrolment passphrase' >"$W/bootfs/factory.img.key"
printf 'old passphrase' >"$W/old.key"
printf 'recovery passphrase' >"$W/recovery.key"
truncate -s 64M "$W/root.img"
cryptsetup luksFormat --type luks2 --batch-mode --uuid "$UUID" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file "$W/old.key" "$W/root.img" >/dev/null
cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$W/old.key" \
        "$W/root.img" "$W/recovery.key" >/dev/null

# The running system's part, with the same executor: the daemon ordered the reset; sekisho-reset
# schedules it in /boot/sekisho-reset (here $W/bootfs, --map) and leaves the root volume alone.
cat >"$W/state/travel/reset-plan" <<PLAN
format=1
trip=trip-1
reboot=no
root-volume=/dev/nvme0n1
journal-dir=/boot/sekisho-reset
restore-image=/boot/factory.img
drive-erase=auto
PLAN
printf 'format=1\nphase=reset-pending\ntrip=trip-1\ndestination=CN\nrisk=high\ntrip-end=1800000000\nsince=1800000000\ndeadline=1800003600\nlast-wall=1800003600\nreset-requested=yes\n' \
        >"$W/state/travel/state"
if "$RESET" --state-dir "$W/state" --audit-log "$W/audit.log" --no-reboot --map "/boot=$W/bootfs" \
        --journal-socket "$W/no-journal.sock" --upload-state "$W/no-upload/state" >"$W/schedule.log" 2>&1 &&
        grep -q '^intent=trip-1' "$W/bootfs/sekisho-reset/journal" &&
        cryptsetup open --test-passphrase --key-file "$W/old.key" "$W/root.img"; then
        result schedule ok "plan and journal in /boot/sekisho-reset, the root volume untouched"
else
        cat "$W/schedule.log"; result schedule fail "sekisho-reset did not schedule"; finish
fi
truncate -s 64M "$W/boot.img"
mke2fs -q -t ext4 -L boot -d "$W/bootfs" "$W/boot.img"

accel="-accel tcg"
[ -w /dev/kvm ] && accel="-accel kvm -accel tcg"
# boot NAME KILL-ON PASSPHRASE KERNEL-ARGS: one boot; its console in $W/NAME.log, its end in $rc
# (0 QEMU ended by itself, 3 killed on the KILL-ON line, 4 timeout, 5 a failure line).
boot() {
        rc=0
        # shellcheck disable=SC2086
        python3 "$top_srcdir/tests/reset/boot.py" --log "$W/$1.log" --timeout "${RESET_TIMEOUT:-300}" \
                --fail-on 'Kernel panic|ALERT!|did not finish' --kill-on "$2" --passphrase "$3" -- \
                "$QEMU" -machine pc $accel -m 1024 -smp 1 -nodefaults -display none -no-reboot \
                -kernel "$W/vmlinuz" -initrd "$W/initrd.img" \
                -append "console=ttyS0 root=/dev/mapper/root rootfstype=ext4 ro panic=-1 loglevel=4 $4" \
                -drive "file=$W/boot.img,if=virtio,format=raw" \
                -drive "file=$W/root.img,if=none,id=nv0,format=raw" -device nvme,serial=sekisho0,drive=nv0 \
                -serial stdio || rc=$?
}
# /boot's journal as the next mount sees it: ext4's own journal replayed (e2fsck on a copy) first,
# since what the guest fsynced may still be only in ext4's journal.
journal() {
        cp "$W/boot.img" "$W/boot-copy.img"
        e2fsck -fy "$W/boot-copy.img" >/dev/null 2>&1 || true
        debugfs -R "cat /sekisho-reset/journal" "$W/boot-copy.img" 2>/dev/null
        rm -f "$W/boot-copy.img"
}
old_opens() { cryptsetup open --test-passphrase --key-file "$1" "$W/root.img" 2>/dev/null; }

# The initramfs stage: a power cut (QEMU killed) right after each step kind acted, before its done= line.
t0=$(date +%s)
for f in reset-luks-keyslots reset-luks-header reset-drive-erase reset-restore reset-complete; do
        boot "cut-$f" "fault injection at $f" "" "sekisho.fault=$f"
        if [ $rc != 3 ]; then
                result "cut-$f" fail "the boot ended with $rc, not at the cut (console: $W/cut-$f.log)"
                tail -n 30 "$W/cut-$f.log"
                finish
        fi
        journal >"$W/journal.$f"
        detail="journal: $(grep -c . "$W/journal.$f") lines, last $(tail -n 1 "$W/journal.$f")"
        case $f in
        reset-luks-keyslots) want='^begin=luks-keyslots-0$' ;;
        reset-luks-header) want='^begin=luks-header-0$' ;;
        reset-drive-erase) want='^drive-erase=' ;;
        reset-restore) want='^restored=/boot/factory.img$' ;;
        *) want='^complete=yes$' ;;
        esac
        if old_opens "$W/old.key" || old_opens "$W/recovery.key"; then
                result "cut-$f" fail "an old passphrase opens the root volume after the cut; $detail"
        elif ! grep -q "$want" "$W/journal.$f"; then
                result "cut-$f" fail "the journal does not show the step that was cut ($want); $detail"
        else
                result "cut-$f" ok "QEMU killed after $f; old passphrases open nothing; $detail"
        fi
done
echo "info: five boots with a power cut in $(( $(date +%s) - t0 )) s"

# The factory boot: nothing left to do; cryptroot unlocks the new volume with the enrolment passphrase.
boot factory "" "enrolment passphrase" ""
if [ $rc = 0 ] && grep -q 'RESET-BOOTED image=factory' "$W/factory.log"; then
        result factory-boot ok "cryptroot unlocked the new volume, the restore image's init ran"
else
        tail -n 30 "$W/factory.log"; result factory-boot fail "rc $rc, no RESET-BOOTED image=factory"
fi
grep -q 'complete; nothing to do' "$W/factory.log" || result factory-boot-idle fail "the finished reset was not recognised"

# What the host sees in the images.
journal >"$W/journal"
if [ "$(tail -n 1 "$W/journal")" = complete=yes ] && [ "$(grep -c '^complete=yes$' "$W/journal")" = 1 ] &&
        ! old_opens "$W/old.key" && ! old_opens "$W/recovery.key" && old_opens "$W/bootfs/factory.img.key" &&
        [ "$(cryptsetup luksUUID "$W/root.img")" = "$UUID" ]; then
        result end-state ok "journal ends complete=yes; old passphrases open nothing; the enrolment passphrase opens the new LUKS2 volume (same UUID)"
else
        cat "$W/journal"; result end-state fail "see the journal above"
fi
erase=$(sed -n 's/^drive-erase=//p' "$W/journal" | tail -n 1)
case "$erase" in
done*|unsupported*) result drive-erase ok "$erase" ;;
*) result drive-erase fail "no drive-erase record: '$erase'" ;;
esac
finish
