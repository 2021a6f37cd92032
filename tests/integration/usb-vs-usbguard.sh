#!/bin/sh
# usb-vs-usbguard.sh — differential test: random device trees (umockdev) and condition-free rule sets decided by Debian's usbguard-daemon (its umockdev backend, in its own namespaces) and by sekishoctl usb list; every device decision must agree.
. "$(dirname "$0")/lib.sh"
need_cmd usbguard-daemon usbguard umockdev-run umockdev-wrapper unshare python3
[ "$(id -u)" = 0 ] || skip "usbguard-daemon needs root"
SEED=${SEKISHO_USBGUARD_SEED:-23}
mkdir -p "$T/state" "$T/keys.d"
printf 'terminal-id: diff\ngroups: [diff]\naudit-syslog: false\n' >"$T/sekisho.conf"
set +e
python3 "$top_srcdir/tests/integration/usbguard-diff.py" "$T/diff" "$SEED" "${SEKISHO_USBGUARD_SETS:-6}" 40 \
        "$SEKISHOCTL" --state-dir "$T/state" --keys-dir "$T/keys.d" --config "$T/sekisho.conf" >"$T/diff.out" 2>&1
rc=$?
set -e
cat "$T/diff.out"
[ $rc = 77 ] && skip "usbguard-daemon could not run here: $(tail -1 "$T/diff.out")"
[ $rc = 0 ] || fail "sekisho and usbguard-daemon decide differently (seed $SEED)"
ok "$(tail -1 "$T/diff.out")"
