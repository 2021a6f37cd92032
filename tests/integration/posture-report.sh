#!/bin/sh
# posture-report.sh — the offline posture report (sekishoctl posture, or its stand-in) on fixture roots: exit codes, JSON shape, form data.
. "$(dirname "$0")/lib.sh"
need_cmd python3

if "$SEKISHOCTL" posture --help 2>&1 | grep -q -- "--root DIR"; then
        report() { "$SEKISHOCTL" posture "$@"; }
else
        report() { "$top_builddir/tests/unit/posture-report" "$@"; }
fi
D="$top_srcdir/tests/data/posture"
export SEKISHO_TEST_NOW=2026-11-22T00:00:00Z

set +e
report --json --root "$D/debian-12.2" --policy "$D/strict.yaml" >"$T/a.json"; rc=$?
set -e
[ $rc = 1 ] || fail "non-compliant root: exit $rc, expected 1"
python3 - "$T/a.json" <<'PY' || fail "JSON report has the wrong shape"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["compliant"] is False
ids = [c["id"] for c in r["checks"]]
assert len(ids) == len(set(ids)) and "os.version" in ids, ids
for c in r["checks"]:
    assert set(c) == {"id", "status", "evidence", "remediation"}, c
    assert c["status"] in ("pass", "fail", "unknown", "skip")
    assert c["remediation"]["ja"] and c["remediation"]["en"]
v = [c for c in r["checks"] if c["id"] == "os.version"][0]
assert v["status"] == "fail" and v["evidence"].startswith("debian 12.2 < 12.5 required"), v
f = r["form"]
assert (f["maker"], f["model"], f["os_id"], f["version"]) == \
    ("LENOVO", "ThinkPad X1 Carbon Gen 9 (20XW003XJP)", "debian", "12.2"), f
PY
ok "JSON report: compliant=false, one entry per check, form data"

report --root "$D/debian-12.8" --policy "$D/strict.yaml" >"$T/b.txt" || fail "compliant root did not exit 0"
grep -q "Result: COMPLIANT" "$T/b.txt" || fail "text report does not say compliant"
grep -q "Latitude 5440" "$T/b.txt" || fail "model missing from the form"
ok "text report of a compliant root"

for r in bad-no-osrelease bad-osrelease bad-truncated-status bad-binary-status bad-clamav bad-odd-versions; do
        set +e
        report --json --root "$D/$r" --policy "$D/strict.yaml" >"$T/c.json"; rc=$?
        set -e
        [ $rc = 1 ] || fail "$r: exit $rc, expected 1 (never compliant by accident)"
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["compliant"] is False and r["unknown"] >= 1' \
                "$T/c.json" || fail "$r: no unknown check"
done
ok "bad inputs give unknown facts, never compliant"

printf 'posture:\n  action: nuke\n' >"$T/bad.yaml"
set +e
report --policy "$T/bad.yaml" 2>"$T/err" >/dev/null; rc=$?
set -e
[ $rc = 3 ] || fail "invalid policy: exit $rc, expected 3"
grep -q "bad.yaml:2:" "$T/err" || fail "no FILE:LINE:COL for the bad policy: $(cat "$T/err")"
ok "invalid --policy file refused with its position"
