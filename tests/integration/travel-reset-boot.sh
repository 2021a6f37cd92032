#!/bin/sh
# travel-reset-boot.sh — a reset of the root volume: the running system only schedules it (plan and journal in the journal directory, the volume untouched), sekisho-reset --boot carries it out as the initramfs does, on a LUKS2 image on a loop device, resumable after a kill at every step.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
need_cmd losetup cryptsetup
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
[ -x "$RESET" ] || skip "sekisho-reset not built"
[ -e /dev/loop-control ] || skip "no loop device support here"

# setup NAME: a 32 MiB LUKS2 "root volume" on a loop device with two keyslots, a
# "/boot" directory with the restore image and its enrolment passphrase, and a
# travel state in which the daemon has ordered the reset.
setup() {
        D="$T/$1"
        mkdir -p "$D/state/travel" "$D/boot" "$D/cred"
        truncate -s 32M "$D/root.img"
        LOOP=$(losetup --find --show "$D/root.img") || skip "cannot attach a loop device"
        at_exit "losetup -d $LOOP"
        printf 'old passphrase' >"$D/key1"
        printf 'recovery passphrase' >"$D/key2"
        cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
                --key-file "$D/key1" "$LOOP" >/dev/null || fail "luksFormat"
        cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$D/key1" \
                "$LOOP" "$D/key2" >/dev/null || fail "luksAddKey"
        UUID=$(cryptsetup luksUUID "$LOOP")
        head -c 1M /dev/urandom >"$D/boot/factory.img"
        printf 'enrolment passphrase' >"$D/boot/factory.img.key"
        echo psk=secret >"$D/cred/wifi.psk"
        cat >"$D/state/travel/reset-plan" <<PLAN
format=1
trip=trip-1
credential=$D/cred/wifi.psk
reboot=no
root-volume=$LOOP
journal-dir=$D/boot/sekisho-reset
restore-image=/boot/factory.img
drive-erase=auto
PLAN
        travel_state "$D/state/travel/state" reset-pending trip-1 yes
}
slots() { cryptsetup luksDump "$LOOP" 2>/dev/null | sed -n '/^Keyslots:/,/^Tokens:/p' | grep -c '^  [0-9]*: luks' || true; }
opens() { cryptsetup open --test-passphrase --key-file "$1" "$LOOP" 2>/dev/null; }
running() { "$RESET" --state-dir "$D/state" --audit-log "$D/audit.log" --no-reboot \
        --journal-socket "$D/no-journal.sock" --upload-state "$D/no-upload/state" "$@"; }
boot() { "$RESET" --boot --journal-dir "$D/boot/sekisho-reset" --map "/boot=$D/boot" --no-reboot "$@"; }
J() { cat "$D/boot/sekisho-reset/journal"; }

# 1. the running system schedules and leaves the root volume alone
setup schedule
boot >"$T/out" 2>&1 || fail "boot mode without a journal failed: $(cat "$T/out")"
grep -q 'no reset is scheduled' "$T/out" || fail "no clear message: $(cat "$T/out")"
running >"$T/out" 2>&1 || { cat "$T/out"; fail "scheduling failed"; }
[ "$(slots)" = 2 ] && opens "$D/key1" || fail "the running system touched the root volume"
[ -e "$D/cred/wifi.psk" ] && fail "the running system's own steps did not run"
grep -q '^done=schedule' "$D/state/travel/reset-journal" || fail "schedule not journalled"
grep -q '^intent=trip-1' "$D/boot/sekisho-reset/journal" || fail "no journal in the journal directory"
grep -q "^root-volume=$LOOP\$" "$D/boot/sekisho-reset/plan" || fail "no plan in the journal directory"
grep -q '^complete=' "$D/boot/sekisho-reset/journal" && fail "the boot journal is complete before the boot"
cp "$D/boot/sekisho-reset/journal" "$T/scheduled"
running >"$T/out" 2>&1 || fail "second run failed"
cmp -s "$T/scheduled" "$D/boot/sekisho-reset/journal" || fail "running again changed the scheduled journal"
boot --dry-run >"$T/out" 2>&1 || fail "dry run failed"
grep -q "new LUKS2 root volume with a new key, holding the restore image /boot/factory.img" "$T/out" ||
        fail "the dry run does not show the plan: $(cat "$T/out")"
ok "the running system schedules the root reset and leaves the volume alone"

# 2. the initramfs stage, killed after every step kind and resumed
have_dm=no
dmsetup targets 2>/dev/null | grep -q "^crypt " && have_dm=yes
for f in reset-luks-keyslots reset-luks-header reset-drive-erase; do
        rc=0
        SEKISHO_FAULT=$f boot >"$T/out.$f" 2>&1 || rc=$?
        [ $rc = 137 ] || { cat "$T/out.$f"; fail "expected a kill at $f, got exit $rc"; }
        opens "$D/key1" && fail "the old passphrase opens the root volume after the kill at $f"
done
J | grep -q "^root-uuid=$UUID\$" || fail "the root volume's UUID was not journalled"
[ "$(J | grep -c '^drive-erase=')" -ge 1 ] || fail "no drive-erase record"
J | grep -q "^drive-erase=unsupported $LOOP (loop[0-9]*) is not an NVMe namespace\$" ||
        fail "a loop device's drive erase not recorded as unsupported: $(J | grep drive-erase)"
cryptsetup isLuks "$LOOP" 2>/dev/null && fail "the old header survived"
opens "$D/key2" && fail "the recovery passphrase opens the root volume"
ok "killed after keyslots, header and drive erase: the old passphrases open nothing, the drive erase is recorded"

if [ $have_dm = yes ]; then
        SEKISHO_FAULT=reset-restore boot >"$T/out" 2>&1 && fail "no kill at reset-restore"
        rc=0; boot >"$T/out" 2>&1 || rc=$?
        [ $rc = 0 ] || { cat "$T/out"; fail "the resumed boot stage failed ($rc)"; }
        J | tail -n 1 | grep -q '^complete=yes$' || fail "the last journal line is not complete=yes"
        opens "$D/key1" && fail "the old passphrase opens the new volume"
        opens "$D/boot/factory.img.key" || fail "the enrolment passphrase does not open the new volume"
        [ "$(cryptsetup luksUUID "$LOOP")" = "$UUID" ] || fail "the new volume lost the root volume's UUID"
        cryptsetup open --key-file "$D/boot/factory.img.key" "$LOOP" sekisho-test-$$ || fail "cannot open the new volume"
        cmp -n 1048576 "$D/boot/factory.img" /dev/mapper/sekisho-test-$$; c=$?
        cryptsetup close sekisho-test-$$
        [ $c = 0 ] || fail "the new volume does not hold the restore image"
        boot >"$T/out" 2>&1 && grep -q 'complete; nothing to do' "$T/out" || fail "a finished reset ran again"
        ok "resumed to the factory state: a new LUKS2 volume with the restore image, journal complete"
else
        skip_part "no device-mapper here: the new LUKS2 volume with the restore image is proven by tests/reset (QEMU)"
fi

# 3. an unreadable journal is not guessed at; a journal without a root volume is refused
setup corrupt
mkdir -p "$D/boot/sekisho-reset"
printf 'garbage\001\n' >"$D/boot/sekisho-reset/journal"
rc=0; boot >"$T/out" 2>&1 || rc=$?
[ $rc = 3 ] || fail "corrupt journal: exit $rc"
printf 'intent=trip-1\nformat=1\nluks-volume=%s\n' "$LOOP" >"$D/boot/sekisho-reset/journal"
rc=0; boot >"$T/out" 2>&1 || rc=$?
[ $rc = 3 ] && grep -q 'names no root volume' "$T/out" || fail "a journal without a root volume: exit $rc: $(cat "$T/out")"
[ "$(slots)" = 2 ] || fail "a refused journal touched the volume"
ok "an unreadable journal or one without a root volume stops the boot stage"
