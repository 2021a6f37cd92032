#!/bin/sh
# usb-early.sh — the initramfs decider on a fake sysfs tree: hubs and HID boot keyboards/mice authorized, everything else left blocked, controllers closed.
. "$(dirname "$0")/lib.sh"
EARLY="$top_builddir/sekisho-usb-early"
[ -x "$EARLY" ] || skip "sekisho-usb-early not built"
S="$T/sys"
D="$S/bus/usb/devices"
mkdir -p "$D"

# dev NAME AUTH HEX-DESCRIPTORS
dev() {
        mkdir -p "$D/$1"
        printf '%s\n' "$2" >"$D/$1/authorized"
        printf '%s' "$3" | xxd -r -p >"$D/$1/descriptors"
}
need_cmd xxd
DEVD=1201000200000040
cfg() { printf '0902%02x00%02x010080 32' "$1" "$2" | tr -d ' '; }
itf() { printf '090400000100%s%s%s00' "$1" "$2" "$3"; }

mkdir -p "$D/usb1"; echo 1 >"$D/usb1/authorized_default"
dev 1-1 0 "${DEVD}6d041cc300010102000109022200010100803209040000010301010009211101000122410007058103080010"
dev 1-2 0 "${DEVD}8107675500010102000109021900010100803209040000020806500007058102000200"
dev 1-3 0 "${DEVD}341278560001010200010902$(printf '%02x' 34)00020100803209040000010301010009040100010806500000"
dev 1-4 0 "${DEVD}e30510060001010200010902190001010080320904000001090000000705810301000c"
dev 1-5 0 "${DEVD}6d0477c000010102000109021900010100803209040000010301020007058103080010"
dev 1-6 0 "12010002"
dev 1-7 0 "${DEVD}8a13970000010102000109021900010100803209040000 01ff000000" 

"$EARLY" --sysfs "$S" --verbose 2>"$T/early.log"
check() { [ "$(cat "$D/$1/authorized")" = "$2" ] || fail "$1 ($3): authorized=$(cat "$D/$1/authorized"), expected $2"; }
check 1-1 1 "boot keyboard"
check 1-2 0 "mass storage"
check 1-3 0 "keyboard+storage"
check 1-4 1 "hub"
check 1-5 1 "boot mouse"
check 1-6 0 "garbage"
check 1-7 0 "vendor class"
[ "$(cat "$D/usb1/authorized_default")" = 0 ] || fail "controller not closed"
ok "early decider: keyboard, mouse and hub only"

# The initramfs-tools scripts at least parse, and answer "prereqs".
for s in hooks/sekisho-usb scripts/init-top/sekisho-usb scripts/init-bottom/sekisho-usb; do
        sh -n "$top_srcdir/plugins/usb/initramfs/$s" || fail "$s does not parse"
        [ -z "$(sh "$top_srcdir/plugins/usb/initramfs/$s" prereqs)" ] || fail "$s prereqs"
done
ok "initramfs hook and scripts parse"
