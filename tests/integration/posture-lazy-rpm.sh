#!/bin/sh
# posture-lazy-rpm.sh — librpm is mapped only where an rpm database is read (issue 21): no program links it; a daemon whose posture plugin checks a Debian root never maps it, one that checks a Fedora root does; a librpm that cannot be loaded fails only the rpm-database reading, with a message naming it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/posture-roots.sh"
need_root
need_cmd rpm rpmbuild unshare mount ldconfig readelf python3
LIB=$(ldconfig -p | awk '$1 == "librpm.so.9" { print $NF; exit }')
[ -n "$LIB" ] || skip "librpm.so.9 is not installed"
"$top_builddir/tests/unit/posture-report" --help 2>&1 | grep -q -- "--root" || skip "posture-report not built"

for prog in "$RELEASE_SEKISHOD" "$RELEASE_SEKISHOCTL" "$top_builddir/sekisho-notify"; do
        [ -x "$prog" ] || continue
        readelf -d "$prog" | grep -q 'NEEDED.*librpm' && fail "$(basename "$prog") is linked with librpm"
done
ok "no program is linked with librpm"

export SEKISHO_TEST_NOW=2026-11-22T00:00:00Z
D="$T/debian"
make_base "$D" debian 12
F="$T/fedora"
make_base "$F" fedora 40
make_rpmdb "$F" filesystem qbittorrent

# The daemon's posture plugin checks its root at start: a Debian root has no rpm database.
start_daemon --plugins=demo,posture --sysroot "$D"
wait_audit '"event":"posture-changed"' || fail "no posture check"
grep -q 'librpm' "/proc/$DAEMON_PID/maps" && fail "sekishod checked a root without rpm database and mapped librpm"
ok "a daemon whose posture plugin checks a Debian root does not map librpm"
stop_daemon

start_daemon --plugins=demo,posture --sysroot "$F"
wait_audit '"event":"posture-changed"' || fail "no posture check"
grep -q 'librpm\.so' "/proc/$DAEMON_PID/maps" || fail "sekishod read an rpm database without mapping librpm?"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$DAEMON_PID/status" || fail "seccomp filter not active"
ok "a daemon whose posture plugin checks a Fedora root loads librpm when it reads the rpm database"
stop_daemon

# librpm unreadable (a private mount namespace hides it behind /dev/null): the
# rpm packages are unknown, naming the library; everything else is still checked.
cat >"$T/hide-rpm" <<HIDE
#!/bin/sh
mount --bind /dev/null "$LIB" && exec "\$@"
HIDE
chmod +x "$T/hide-rpm"
set +e
unshare -m "$T/hide-rpm" "$top_builddir/tests/unit/posture-report" --json --root "$F" >"$T/hidden.json"
set -e
python3 - "$T/hidden.json" <<'PY' || fail "without librpm: $(head -c 3000 "$T/hidden.json")"
import json, re, sys
r = json.load(open(sys.argv[1]))
c = {c["id"]: c for c in r["checks"]}
sw = c["software.forbidden"]
assert sw["status"] == "unknown", sw
assert re.search(r"cannot load librpm: \S*librpm\.so\.9", sw["evidence"]), sw["evidence"]
PY
ok "a librpm that cannot be loaded leaves the rpm packages unknown, naming librpm.so.9"
"$top_builddir/tests/unit/posture-report" --json --root "$F" >"$T/fedora.json" || true
grep -q 'qbittorrent 1.0-1 (rpm)' "$T/fedora.json" || fail "with librpm the rpm database is not read: $(head -c 3000 "$T/fedora.json")"
ok "with librpm, the same root's rpm database is read"
