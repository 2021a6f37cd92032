#!/bin/sh
# bench-usb-vs-usbguard.sh — prints sekisho's and Debian usbguard-daemon's insert->authorized latency, each on its own umockdev testbed and event channel (figures only).
set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
N=${1:-1000}
command -v usbguard-daemon >/dev/null || { echo "SKIP: usbguard-daemon is not installed (Debian package usbguard)"; exit 77; }
command -v umockdev-wrapper >/dev/null || { echo "SKIP: umockdev-wrapper is not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bench.XXXXXX")
UG=
trap '[ -n "$UG" ] && kill "$UG" 2>/dev/null; rm -rf "$T"' EXIT

# Equivalent rules: the embedded default's, without sekisho's per-interface extension.
printf '%s\n' 'block with-interface one-of { 08:*:* }' 'allow with-interface one-of { 03:*:* 0b:*:* 09:*:* }' >"$T/rules.conf"
cat >"$T/daemon.conf" <<CONF
RuleFile=$T/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
RestoreControllerDeviceState=false
DeviceManagerBackend=umockdev
IPCAllowedUsers=root
CONF
chmod 600 "$T/rules.conf" "$T/daemon.conf"
mkdir -p "$T/devs"
# A controller, and the keyboard template (device 18 bytes + configuration with one 03:01:01 interface).
cat >"$T/devs/00-root.umockdev" <<DEF
P: /devices/pci0000:00/0000:00:14.0/usb1
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: idVendor=1d6b
A: idProduct=0002
A: authorized=1
A: authorized_default=1
H: descriptors=12010002090000406B1D020000010102000109021900010100803209040000010900000007058103080010

P: /devices/pci0000:00/0000:00:14.0
E: SUBSYSTEM=pci
DEF
cat >"$T/kbd.umockdev" <<DEF
P: /devices/pci0000:00/0000:00:14.0/usb1/1-1
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: idVendor=046d
A: idProduct=c31c
A: product=USB Keyboard
A: authorized=0
H: descriptors=1201000200000040$(printf '6d041cc3')00010102000109021900010100803209040000010301010007058103080010
DEF
ls -d /tmp/umockdev.* 2>/dev/null | sort >"$T/before" || true
USBGUARD_UMOCKDEV_DEVICEDIR="$T/devs" umockdev-wrapper usbguard-daemon -K -P -c "$T/daemon.conf" >"$T/usbguard.log" 2>&1 &
UG=$!
BED=
for i in $(seq 100); do
        sleep 0.1
        BED=$(ls -d /tmp/umockdev.* 2>/dev/null | sort | comm -13 "$T/before" - | head -n 1)
        [ -n "$BED" ] && [ -e "$BED/sys/devices/pci0000:00/0000:00:14.0/usb1" ] && break
done
[ -n "$BED" ] || { echo "usbguard-daemon did not set up its testbed"; cat "$T/usbguard.log"; exit 1; }
sleep 1
echo "== usbguard-daemon $(dpkg-query -W -f '${Version}' usbguard 2>/dev/null): umockdev backend, fed definition files through its inotify channel"
"$top_builddir/tests/bench/bench-usbguard" "$T/devs" "$BED" "$T/kbd.umockdev" "$N"
kill "$UG"; UG=
echo "== sekisho usb plugin: libudev monitor, fed umockdev uevents"
"$top_builddir/tests/bench/bench-usb" "$N" 1000
echo "(The channels differ: usbguard's figure includes parsing the definition file and creating the device in its testbed.)"
