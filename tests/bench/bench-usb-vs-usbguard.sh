#!/bin/sh
# bench-usb-vs-usbguard.sh — sekishod (usb plugin only), Debian's usbguard-daemon (uevent backend) and the floor, side by side on one umockdev testbed fed the same kernel-format uevents (figures and ratios only).
set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
BATCHES=${1:-5} PER=${2:-40} STORMS=${3:-1000,10000}
command -v usbguard-daemon >/dev/null || { echo "SKIP: usbguard-daemon is not installed (Debian package usbguard)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) is missing"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (usbguard-daemon, PID namespaces)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

# The same two rules for both: sekisho's embedded default, without its
# per-interface extension (usbguard has none).
printf '%s\n' 'block with-interface one-of { 08:*:* }' 'allow with-interface one-of { 03:*:* 0b:*:* 09:*:* }' >"$T/rules.conf"
cat >"$T/usbguard.conf" <<CONF
RuleFile=$T/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
AuditBackend=FileAudit
AuditFilePath=$T/usbguard-audit.log
CONF
chmod 600 "$T/rules.conf" "$T/usbguard.conf"
mkdir -p "$T/state" "$T/inbox" "$T/log" "$T/keys.d"
printf 'terminal-id: bench\ngroups: [bench]\naudit-syslog: false\n' >"$T/sekisho.conf"

# Each in its own PID namespace: the sender's pid reads as 0 there, which
# usbguard demands of a kernel uevent's credentials (SCM_CREDENTIALS); the
# same for all three, so the comparison stays even.
NS="unshare --pid --fork --kill-child --"
echo "== usbguard-daemon $(dpkg-query -W -f '${Version}' usbguard 2>/dev/null), sekishod $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo '?'), floor"
exec "$top_builddir/tests/bench/bench-usb-vs" "$BATCHES" "$PER" "$STORMS" \
        "sekishod=$NS $top_builddir/sekishod --foreground --config $T/sekisho.conf --state-dir $T/state --keys-dir $T/keys.d --inbox $T/inbox --audit-log $T/log/audit.log --bus=none --plugins=usb >$T/sekishod.log 2>&1" \
        "usbguard=$NS usbguard-daemon -K -P -c $T/usbguard.conf >$T/usbguard.log 2>&1" \
        "floor=$NS $top_builddir/tests/bench/bench-usb-floor"
