#!/bin/sh
# travel-reset.sh — sekisho-reset on a LUKS2 volume on a loop device the test made: keyslots and header destroyed, credentials and listed directories gone, resumable after a kill at every step.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root
need_cmd losetup cryptsetup
RESET="${TRAVEL_RESET:-$top_builddir/sekisho-reset}"
[ -x "$RESET" ] || skip "sekisho-reset not built"
[ -e /dev/loop-control ] || skip "no loop device support here"

# setup NAME: a fresh 32 MiB LUKS2 image on a loop device with two keyslots,
# credentials, a directory to wipe with a sentinel, a restore action, and a
# travel state in which the daemon has ordered the reset.
setup() {
        D="$T/$1"
        mkdir -p "$D/state/travel" "$D/wipe/user/deep/er" "$D/cred/vpn" "$D/keep"
        truncate -s 32M "$D/disk.img"
        LOOP=$(losetup --find --show "$D/disk.img") || skip "cannot attach a loop device"
        at_exit "losetup -d $LOOP"
        printf 'first passphrase' >"$D/key1"
        printf 'second passphrase' >"$D/key2"
        cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
                --key-file "$D/key1" "$LOOP" >/dev/null || fail "luksFormat"
        cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$D/key1" \
                "$LOOP" "$D/key2" >/dev/null || fail "luksAddKey"
        [ "$(slots)" = 2 ] || fail "setup: expected 2 keyslots"
        echo sentinel >"$D/wipe/user/sentinel"
        echo deeper >"$D/wipe/user/deep/er/file"
        ln -s "$D/keep" "$D/wipe/user/link-to-keep"
        echo kept >"$D/keep/file"
        echo psk=secret >"$D/cred/wifi.psk"
        echo key >"$D/cred/vpn/client.key"
        cat >"$D/restore.sh" <<SH
#!/bin/sh
echo "restore \$SEKISHO_RESET_TRIP" >>"$D/restore.log"
SH
        chmod +x "$D/restore.sh"
        cat >"$D/state/travel/reset-plan" <<PLAN
format=1
trip=trip-1
luks-volume=$LOOP
credential=$D/cred/wifi.psk
credential=$D/cred/vpn
wipe-directory=$D/wipe/user
restore-arg=$D/restore.sh
reboot=yes
PLAN
        state reset-pending yes
}
state() { # state PHASE REQUESTED
        travel_state "$D/state/travel/state" "$1" trip-1 "$2"
}
slots() { cryptsetup luksDump "$LOOP" 2>/dev/null | sed -n '/^Keyslots:/,/^Tokens:/p' | grep -c '^  [0-9]*: luks' || true; }
# No journald here and no journal-upload: the hand-over cannot be proven, the plan says proceed.
reset() { "$RESET" --state-dir "$D/state" --audit-log "$D/audit.log" --no-reboot --journal-socket "$D/no-journal.sock" \
        --upload-state "$D/no-upload/state" "$@"; }

check_end_state() {
        cryptsetup open --test-passphrase --key-file "$D/key1" "$LOOP" 2>/dev/null && fail "old passphrase still opens the volume"
        cryptsetup open --test-passphrase --key-file "$D/key2" "$LOOP" 2>/dev/null && fail "second passphrase still opens the volume"
        [ "$(slots)" = 0 ] || fail "luksDump still shows keyslots"
        cryptsetup isLuks "$LOOP" 2>/dev/null && fail "the LUKS header survived"
        [ -e "$D/wipe/user/sentinel" ] && fail "sentinel survived"
        [ -d "$D/wipe/user" ] || fail "the wiped directory itself is gone"
        [ -z "$(ls -A "$D/wipe/user")" ] || fail "the wiped directory is not empty"
        [ -e "$D/keep/file" ] || fail "a symlink was followed out of the wiped directory"
        [ -e "$D/cred/wifi.psk" ] && fail "credential file survived"
        [ -e "$D/cred/vpn" ] && fail "credential directory survived"
        grep -q '^complete=yes' "$D/state/travel/reset-journal" || fail "journal not complete"
        grep -q 'restore trip-1' "$D/restore.log" || fail "restore action did not run"
        grep -q 'travel-reset-executing' "$D/audit.log" || fail "no final audit record"
        # every destructive step happened once, or again only where repeating is harmless
        total=0
        for n in $(sed -n 's/^destroyed-0=//p' "$D/state/travel/reset-journal"); do total=$((total + n)); done
        [ "$total" = 2 ] || fail "keyslots destroyed $total times in total, expected 2"
        for step in $(sed -n 's/^begin=//p' "$D/state/travel/reset-journal" | sort -u); do
                c=$(grep -c "^begin=$step\$" "$D/state/travel/reset-journal")
                [ "$c" -le 2 ] || fail "step $step began $c times"
        done
        return 0
}

# 1. nothing ordered: nothing happens
setup idle
state reset-pending no
reset >"$T/out" 2>&1 || { cat "$T/out"; fail "unrequested run failed"; }
grep -q 'no reset has been requested' "$T/out" || fail "no clear message: $(cat "$T/out")"
[ "$(slots)" = 2 ] || fail "an unrequested run touched the volume"
[ -e "$D/state/travel/reset-journal" ] && fail "an unrequested run wrote a journal"
state travelling no
reset >/dev/null 2>&1 && [ "$(slots)" = 2 ] || fail "travelling state led to a reset"
ok "no reset without the daemon's order"

# 2. dry run prints the plan and changes nothing
state reset-pending yes
reset --dry-run >"$T/out" 2>&1 || fail "dry run failed"
grep -q "destroy every LUKS keyslot of $LOOP" "$T/out" || fail "dry run does not show the plan: $(cat "$T/out")"
grep -q "run the restore action: $D/restore.sh" "$T/out" || fail "dry run does not show the restore action"
[ "$(slots)" = 2 ] && [ -e "$D/wipe/user/sentinel" ] && [ ! -e "$D/state/travel/reset-journal" ] || fail "dry run changed something"
ok "--dry-run prints the plan and changes nothing"

# 3. a plan for another trip than the one ordered is refused
sed -i 's/^trip=trip-1/trip=trip-2/' "$D/state/travel/reset-plan"
reset >"$T/out" 2>&1 && fail "mismatched plan accepted"
grep -q "refusing" "$T/out" || fail "no reason given"
[ "$(slots)" = 2 ] || fail "mismatched plan touched the volume"
ok "a plan for another trip is refused"

# 4. straight through
sed -i 's/^trip=trip-2/trip=trip-1/' "$D/state/travel/reset-plan"
reset >"$T/out" 2>&1 || { cat "$T/out"; fail "reset failed"; }
check_end_state
reset >"$T/out" 2>&1 || fail "second run failed"
grep -q 'complete; nothing to do' "$T/out" || fail "second run did not recognise the finished reset"
ok "reset: keyslots and header destroyed, credentials and directory gone, restore ran"

# 5. power loss after every step: kill, run again, until done
setup powerloss
runs=0
for f in reset-intent reset-handover reset-audit reset-luks-keyslots reset-luks-header reset-credential reset-wipe reset-restore reset-complete; do
        rc=0
        SEKISHO_FAULT=$f reset >"$T/out.$f" 2>&1 || rc=$?
        [ $rc = 137 ] || { cat "$T/out.$f"; fail "expected a kill at $f, got exit $rc"; }
        runs=$((runs + 1))
        if [ $f = reset-luks-keyslots ]; then
                [ "$(slots)" = 0 ] || fail "after the kill at $f: keyslots left"
                cryptsetup open --test-passphrase --key-file "$D/key1" "$LOOP" 2>/dev/null && fail "passphrase opens after $f"
        fi
done
reset >"$T/out" 2>&1 || { cat "$T/out"; fail "final run failed"; }
check_end_state
[ "$(grep -c . "$D/restore.log")" -le 2 ] || fail "restore ran more than twice"
ok "killed after each of $runs steps and resumed: same end state"

# 6. a symlink on the way to a listed directory cannot lead the wipe into a
# system directory. Run in a mount namespace of our own with a tmpfs over
# /srv, so that even a broken guard could only empty that tmpfs.
if unshare -m true 2>/dev/null; then
        setup symlinked
        mkdir -p "$D/fakeroot"
        ln -s / "$D/fakeroot/sys-link"
        sed -i "s|^wipe-directory=.*|wipe-directory=$D/fakeroot/sys-link/srv|" "$D/state/travel/reset-plan"
        rc=0
        D="$D" RESET="$RESET" unshare -m --propagation private sh -c '
                mount -t tmpfs sekisho-test /srv || exit 90
                echo keep >/srv/sentinel
                "$RESET" --state-dir "$D/state" --audit-log "$D/audit.log" --no-reboot --journal-socket "$D/no-journal.sock" --upload-state "$D/no-upload/state" >"$D/out" 2>&1
                rc=$?
                [ -e /srv/sentinel ] || exit 91
                exit $rc' || rc=$?
        [ $rc = 90 ] && skip "cannot mount a tmpfs in a private mount namespace"
        [ $rc = 91 ] && fail "the wipe followed a symlink into /srv"
        [ $rc = 1 ] || { cat "$D/out"; fail "symlinked system directory: exit $rc"; }
        grep -q "resolves to /srv, a system directory; refusing" "$D/out" || fail "no clear reason: $(cat "$D/out")"
        grep -q '^failed=wipe-0' "$D/state/travel/reset-journal" || fail "failure not journalled"
        grep -q '^complete=yes' "$D/state/travel/reset-journal" && fail "a failed reset was marked complete"
        [ "$(slots)" = 0 ] || fail "the other steps did not run"
        ok "a symlink cannot redirect the wipe into a system directory"
else
        skip_part "the symlink case needs a private mount namespace"
fi

# 7. an unreadable journal is not guessed at
setup corrupt
printf 'garbage\001\n' >"$D/state/travel/reset-journal"
rc=0; reset >"$T/out" 2>&1 || rc=$?
[ $rc = 3 ] || fail "corrupt journal: exit $rc"
[ "$(slots)" = 2 ] || fail "corrupt journal led to erasing"
ok "an unreadable journal stops the reset with a clear reason"
