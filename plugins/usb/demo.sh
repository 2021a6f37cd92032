# plugins/usb/demo.sh — the USB part of tools/demo (sourced): emulated devices on umockdev, decided by the embedded default.
BED="$build/tests/integration/usb-bed"
[ -x "$BED" ] || make -C "$build" tests/integration/usb-bed >/dev/null 2>&1 || true
if [ ! -x "$BED" ] || ! command -v umockdev-wrapper >/dev/null; then
        say "usb: skipped (umockdev or tests/integration/usb-bed not available)"
else
        say "usb: emulated laptop (umockdev): keyboard and USB stick present, the kernel let both in"
        U="$D/usb"; mkdir -p "$U/state" "$U/inbox"
        mkfifo "$U/bed.in" "$U/bed.out"
        umockdev-wrapper "$BED" <"$U/bed.in" >"$U/bed.out" &
        BEDPID=$!
        exec 5>"$U/bed.in" 6<"$U/bed.out"
        read -r _ UDIR <&6
        bed() { echo "$*" >&5; read -r _reply <&6; }
        USYS="$UDIR/sys/devices/0000:00:14.0"
        show() { printf '  %-34s authorized=%s\n' "$1" "$(cat "$USYS/$2/authorized" 2>/dev/null || echo -)"; }
        bed root usb1
        bed dev 1-1 usb1 046d c31c 1 Keyboard 03:01:01
        bed iface 1-1 0 03:01:01
        bed dev 1-2 usb1 0781 5567 1 Cruzer 08:06:50
        bed iface 1-2 0 08:06:50
        show "1-1 keyboard (03:01:01)" usb1/1-1
        show "1-2 USB stick (08:06:50)" usb1/1-2
        (export LD_PRELOAD="libumockdev-preload.so.0${LD_PRELOAD:+:$LD_PRELOAD}" UMOCKDEV_DIR="$UDIR"
         exec "$SEKISHOD" --foreground --config "$D/sekisho.conf" --state-dir "$U/state" --keys-dir "$D/keys.d" \
                --inbox "$U/inbox" --audit-log "$U/audit.log" --bus=none --plugins=usb) 2>"$U/daemon.log" &
        UPID=$!
        n=0; while ! grep -q ' enforcing: ' "$U/daemon.log" && [ $n -lt 300 ]; do n=$((n+1)); sleep 0.1; done
        say "usb: sekishod (usb plugin) decides on the embedded default"
        echo "  controller usb1: authorized_default=$(cat "$USYS/usb1/authorized_default")"
        show "1-1 keyboard" usb1/1-1
        show "1-2 USB stick" usb1/1-2
        say "usb: a \"BadUSB\" stick (keyboard + storage) and a mouse are plugged in"
        bed dev 1-3 usb1 1234 5678 0 Keyboard 03:01:01,08:06:50
        bed dev 1-4 usb1 046d c077 0 Mouse 03:01:02
        n=0; while [ "$(cat "$USYS/usb1/1-4/authorized" 2>/dev/null)" != 1 ] && [ $n -lt 300 ]; do n=$((n+1)); sleep 0.1; done
        sleep 0.5
        show "1-3 keyboard+storage" usb1/1-3
        show "1-4 mouse" usb1/1-4
        grep '"event":"usb.device' "$U/audit.log" | sed -e 's/,"prev":"[0-9a-f]*"}/}/' \
                -e 's/^{"seq":\([0-9]*\),"time":"[^"]*","host":"[^"]*",/  #\1 /' | cut -c1-200
        kill $UPID; wait $UPID 2>/dev/null || true
        exec 5>&-; kill $BEDPID 2>/dev/null; wait $BEDPID 2>/dev/null || true
fi
