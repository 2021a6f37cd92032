#!/bin/sh
# posture-quarantine.sh — the real daemon finds file-sharing software under a fixture root, quarantines through the core's profile, and releases once it is removed.
. "$(dirname "$0")/lib.sh"
need_cmd minisign python3

cp -a "$top_srcdir/tests/data/posture/qbittorrent" "$T/root"
make_key admin
start_daemon --plugins=demo,posture --sysroot "$T/root"
applied="$T/state/demo/applied"

# The embedded default reports file-sharing software but does not quarantine.
wait_audit '"event":"posture-changed".*"compliant":"false"' || fail "embedded default did not report the posture"
grep -q '"failed":"software.forbidden,software.wine"' "$T/log/audit.log" || fail "failed checks not in the audit record"
grep -q '"event":"profile.requested"' "$T/log/audit.log" && fail "the default policy must not quarantine"
ok "embedded default reports qbittorrent, aria2 and Winny without quarantine"

# A bundle that quarantines at once; the quarantine overlay raises the demo plugin's level.
write_policy "$T/p.yaml" 20 "demo:
  label: office
  level: 3
posture:
  action: quarantine
profiles:
  quarantine:
    demo: { level: 9 }"
sign "$T/p.yaml" admin
drop "$T/p.yaml"
wait_for "grep -q 'level=9' '$applied'" || fail "quarantine profile not applied to the other plugins"
grep -q '"event":"profile.requested".*"profile":"quarantine","by":"posture"' "$T/log/audit.log" ||
        fail "quarantine request not audited"
grep -q '"event":"posture-quarantine-requested"' "$T/log/audit.log" || fail "posture did not record its request"
wait_for "grep -q '\"quarantine\"' '$T/state/status.json'" || fail "status does not show the quarantine profile"
ok "non-compliant terminal quarantined through the core's profile"

# The user removes the software the way dpkg would (write status-new, rename).
rm -rf "$T/root/home/taro/.wine/drive_c/Winny"
python3 - "$T/root/var/lib/dpkg" <<'PY'
import os, sys
d = sys.argv[1]
paras = open(os.path.join(d, "status")).read().split("\n\n")
keep = [p for p in paras if p and "Package: qbittorrent\n" not in p and "Package: aria2\n" not in p]
open(os.path.join(d, "status-new"), "w").write("\n\n".join(keep) + "\n\n")
os.rename(os.path.join(d, "status-new"), os.path.join(d, "status"))
PY
wait_for "grep -q 'level=3' '$applied'" || fail "quarantine not released after the packages were removed"
grep -q '"event":"posture-changed".*"compliant":"true".*"trigger":"package-or-antivirus-change"' "$T/log/audit.log" ||
        fail "re-check after the dpkg change not audited"
grep -q '"event":"profile.released".*"profile":"quarantine","by":"posture"' "$T/log/audit.log" ||
        fail "release not audited"
ok "removing the software releases the quarantine (inotify on the dpkg database)"

stop_daemon
ctl --audit-log "$T/log/audit.log" audit verify >/dev/null || fail "audit chain broken"
ok "audit chain intact"
