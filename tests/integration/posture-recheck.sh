#!/bin/sh
# posture-recheck.sh — `sekishoctl posture recheck` over a private bus: the daemon re-checks now (a fix the watches do not see is found), rate-limits, audits, and refuses a caller polkit does not allow.
. "$(dirname "$0")/lib.sh"
need_cmd dbus-daemon dbus-send

start_private_bus
cp -a "$top_srcdir/tests/data/posture/qbittorrent" "$T/root"
start_daemon --plugins=posture --bus=session --sysroot "$T/root"
wait_for "grep -q 'failed.*software.wine' '$T/state/status.json'" || fail "the start check did not find Winny: $(cat "$T/state/status.json")"

# The person deletes the Winny folder: nothing the daemon watches changes.
rm -rf "$T/root/home/taro/.wine/drive_c/Winny"
set +e
out=$(ctl --bus=session posture recheck 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "recheck: exit $rc, expected 1 (still not compliant): $out"
[ "$out" = "not compliant: software.forbidden" ] || fail "recheck did not re-run the checks now: $out"
wait_audit '"event":"posture-recheck".*"uid":"0","result":"not-compliant","failed":"software.forbidden"' ||
        fail "no posture-recheck audit record: $(tail -n 3 "$T/log/audit.log")"
grep -q '"trigger":"recheck by uid 0"' "$T/log/audit.log" || fail "the posture-changed record does not name the re-check"
ok "recheck runs the checks now and answers: $out"

set +e
out=$(ctl --bus=session posture recheck 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "a second recheck at once: exit $rc"
echo "$out" | grep -q "a re-check ran .* ago; ask again in .* s — org.sekisho.Sekisho1.Error.Busy" ||
        fail "a second recheck at once was not rate-limited: $out"
[ "$(grep -c '"event":"posture-recheck"' "$T/log/audit.log")" = 1 ] || fail "a refused recheck was re-run or recorded on its own"
ok "a second recheck within 30 s is refused: $out"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        set +e
        out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups dbus-send --session --print-reply \
                --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 org.sekisho.Sekisho1.PostureRecheck 2>&1)
        set -e
        echo "$out" | grep -q '^Error org.freedesktop.DBus.Error.AccessDenied.*PostureRecheck (polkit is not available)' ||
                fail "a non-root caller without polkit may recheck: $out"
        wait_audit '"event":"admin.refused".*"method":"PostureRecheck"' || fail "the refused recheck left no audit record"
        ok "without polkit only root may recheck: $out"
else
        skip_part "the non-root caller part needs root, setpriv and a nobody user"
fi
dbus-send --session --print-reply --dest=org.sekisho.Sekisho1 /org/sekisho/Sekisho1 \
        org.freedesktop.DBus.Introspectable.Introspect | grep -q 'method name="PostureRecheck"' ||
        fail "PostureRecheck is not in the introspection data"
stop_daemon
