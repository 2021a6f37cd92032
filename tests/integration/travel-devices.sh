#!/bin/sh
# travel-devices.sh — the real sekishod refuses a signed bundle whose reset plan erases a LUKS volume
# that holds what the reset depends on (the kernel and initramfs under /boot, the restore program),
# by the device numbers of a loop image the test made; the policy in force stays; and sekisho-reset
# refuses to start on a plan that erases the volume holding its own state directory.
# Runs in a mount namespace of its own: the test's file system is mounted nowhere else.
if [ -z "${SEKISHO_TEST_MOUNT_NS:-}" ]; then
        if unshare -m --propagation private true 2>/dev/null; then
                SEKISHO_TEST_MOUNT_NS=1 exec unshare -m --propagation private "$0" "$@"
        fi
        echo "SKIP: needs a private mount namespace"
        exit 77
fi
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
need_cmd losetup mkfs.ext4 minisign
[ -x "$SEKISHOD" ] || skip "sekishod not built"
[ -e /dev/loop-control ] || skip "no loop device support here"

# A file system on a loop device the test made, mounted as the test root's /boot: listing that
# device among the luks-volumes erases the initramfs. (Partitions and dm-crypt's backing devices,
# the same question one level down, are tested on a fake sysfs in test-travel-policy: this
# machine has neither partition scanning of loop devices nor device-mapper.)
truncate -s 64M "$T/disk.img"
LOOP=$(losetup --find --show "$T/disk.img") || skip "cannot attach a loop device"
at_exit "losetup -d $LOOP"
mkfs.ext4 -q "$LOOP" || fail "mkfs.ext4"
mkdir -p "$T/root/boot" "$T/other"
mount "$LOOP" "$T/root/boot" || skip "cannot mount the test's file system"
at_exit "umount $T/root/boot"
cp /bin/true "$T/root/boot/restore-tool"
cp /bin/true "$T/other/restore-tool"

make_key admin
start_daemon --plugins=demo,travel --sysroot "$T/root"
bundle() { # bundle FILE SERIAL RESTORE-PROGRAM [LUKS-VOLUME]
        write_policy "$1" "$2" "demo:
  label: serial-$2
travel:
  high-risk-regions: [CN]
  reset-plan:
    luks-volumes: [${4:-$LOOP}]
    restore: [$3]
    reboot: false"
        sign "$1" admin
}

# 1. a plan erasing the volume under /boot: refused, audited, nothing in force lost
bundle "$T/p1.yaml" 10 "$T/other/restore-tool" /dev/loop-control-not-a-volume
drop "$T/p1.yaml"
wait_for "[ \"\$(serial_in_force)\" = 10 ]" 100 || fail "a harmless plan was not applied"
bundle "$T/p2.yaml" 11 "$T/other/restore-tool"
drop "$T/p2.yaml"
wait_audit 'travel.reset.refused' || fail "no travel.reset.refused record: $(tail -5 "$T/daemon.log")"
grep 'travel.reset.refused' "$T/log/audit.log" | grep -q "erases LUKS volume $LOOP, which holds the kernel and initramfs ($T/root/boot)" ||
        fail "the refusal does not say why: $(grep travel.reset.refused "$T/log/audit.log")"
wait_for "grep -q 'Refused policy .*p2.yaml' '$T/daemon.log'" 100 || fail "the bundle was not refused"
[ "$(serial_in_force)" = 10 ] || fail "the refused plan was put in force: serial $(serial_in_force)"
grep -q 'label=serial-10' "$T/state/demo/applied" || fail "the policy in force was lost"
ok "a plan erasing the volume that holds /boot ($LOOP) is refused; serial 10 stays in force"

# 2. the restore program on that volume: refused too, naming it
umount "$T/root/boot"
mkdir -p "$T/tools"
mount "$LOOP" "$T/tools" || fail "remount"
at_exit "umount $T/tools"
bundle "$T/p3.yaml" 12 "$T/tools/restore-tool"
drop "$T/p3.yaml"
wait_audit 'travel.reset.refused' 2 || fail "no second refusal"
grep 'travel.reset.refused' "$T/log/audit.log" | tail -n 1 | grep -q "which holds the restore program ($T/tools/restore-tool)" ||
        fail "the restore program was not named: $(grep travel.reset.refused "$T/log/audit.log" | tail -n 1)"
wait_for "grep -q 'Refused policy .*p3.yaml' '$T/daemon.log'" 100 || fail "the bundle was not refused"
[ "$(serial_in_force)" = 10 ] || fail "the refused plan was put in force"
ok "a plan erasing the LUKS volume that holds its restore program is refused"

# 3. the same volume holding nothing the reset needs: applied
umount "$T/tools"
bundle "$T/p4.yaml" 13 "$T/other/restore-tool"
drop "$T/p4.yaml"
wait_for "[ \"\$(serial_in_force)\" = 13 ]" 100 || fail "a plan erasing an unrelated LUKS volume was refused: $(tail -5 "$T/daemon.log")"
ok "a plan erasing a LUKS volume that holds nothing the reset needs is applied"
stop_daemon

# 4. sekisho-reset checks again before it starts (the daemon's sandbox may not see every disk):
# its state directory on the volume the plan erases is refused, nothing journalled
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
if [ -x "$RESET" ]; then
        mkdir -p "$T/rstate"
        mount "$LOOP" "$T/rstate" || fail "mount for sekisho-reset"
        at_exit "umount $T/rstate"
        mkdir -p "$T/rstate/travel"
        printf 'format=1\ntrip=t1\nluks-volume=%s\nreboot=no\n' "$LOOP" >"$T/rstate/travel/reset-plan"
        printf 'format=1\nphase=reset-pending\ntrip=t1\ndestination=CN\nrisk=high\ntrip-end=1\nsince=2\ndeadline=3\nreset-requested=yes\n' \
                >"$T/rstate/travel/state"
        rc=0
        "$RESET" --state-dir "$T/rstate" --audit-log "$T/reset-audit.log" --no-reboot --journal-socket "$T/none.sock" \
                --upload-state "$T/none/state" >"$T/reset.out" 2>&1 || rc=$?
        [ $rc = 3 ] || fail "sekisho-reset with its state on the erased volume: exit $rc: $(cat "$T/reset.out")"
        grep -q "erases LUKS volume $LOOP, which holds the state directory (the reset's plan and journal) ($T/rstate); refusing to start" \
                "$T/reset.out" || fail "no clear reason: $(cat "$T/reset.out")"
        grep -q '"event":"travel.reset.refused"' "$T/reset-audit.log" || fail "no travel.reset.refused record"
        [ ! -e "$T/rstate/travel/reset-journal" ] || fail "the refused reset wrote a journal"
        ok "sekisho-reset refuses to start when the plan erases the volume holding its own state"
else
        skip_part "sekisho-reset is not built"
fi
