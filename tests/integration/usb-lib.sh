# usb-lib.sh — the usb plugin's umockdev testbed for shell tests (sourced after lib.sh): start_usb_bed, bed, attr, expect_attr.
# The testbed (usb-bed) lives in its own process under umockdev-wrapper; we talk to it over two fifos.
need_cmd umockdev-wrapper
BED="$top_builddir/tests/integration/usb-bed"
[ -x "$BED" ] || skip "usb-bed was not built (no libumockdev)"

start_usb_bed() {
        mkfifo "$T/bed.in" "$T/bed.out"
        umockdev-wrapper "$BED" <"$T/bed.in" >"$T/bed.out" &
        BED_PID=$!
        exec 3>"$T/bed.in" 4<"$T/bed.out"
        at_exit "exec 3>&-; kill $BED_PID"
        read -r _ DIR <&4
        SYS="$DIR/sys/devices/0000:00:14.0"
}
bed() {
        echo "$*" >&3
        read -r reply <&4
        case "$reply" in ok*) ;; *) fail "testbed: $* -> $reply" ;; esac
}
attr() { cat "$SYS/$1/$2" 2>/dev/null || echo missing; }
expect_attr() { wait_for "[ \"\$(attr $1 $2)\" = '$3' ]" || fail "$1/$2 is '$(attr "$1" "$2")', expected '$3'"; }

# A controller with a keyboard and a stick the kernel already let in (authorized_default=1).
bed_laptop() {
        bed root usb1
        bed dev 1-1 usb1 046d c31c 1 Keyboard 03:01:01,03:00:00
        bed iface 1-1 0 03:01:01
        bed iface 1-1 1 03:00:00
        bed dev 1-2 usb1 0781 5567 1 Cruzer 08:06:50
        bed iface 1-2 0 08:06:50
}

# start_usb_daemon PLUGINS [BUS]: sekishod on the testbed with those plugins (on no bus, or BUS).
start_usb_daemon() {
        setup_dirs
        (export LD_PRELOAD="libumockdev-preload.so.0${LD_PRELOAD:+:$LD_PRELOAD}" UMOCKDEV_DIR="$DIR"
         exec "$SEKISHOD" --foreground --config "$T/sekisho.conf" --state-dir "$T/state" --keys-dir "$T/keys.d" \
                --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus="${2:-none}" --plugins="$1") >>"$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
}
