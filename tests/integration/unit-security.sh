#!/bin/sh
# unit-security.sh — prints the exposure score systemd-analyze gives the shipped sekishod.service (a figure for the log; the target is 2.5 or lower).
. "$(dirname "$0")/lib.sh"
need_cmd systemd-analyze
systemd-analyze security --help 2>&1 | grep -q -- '--offline' || skip "systemd-analyze has no --offline (systemd < 252)"
# The unit as built (the plugins' paths filled in), under its own name.
[ -f "$top_builddir/systemd/sekishod.service" ] || fail "systemd/sekishod.service is not built"
cp "$top_builddir/systemd/sekishod.service" "$T/sekishod.service"
systemd-analyze security --offline=yes --no-pager "$T/sekishod.service" >"$T/security" 2>&1 \
        || { cat "$T/security"; fail "systemd-analyze cannot read the unit"; }
grep '✗' "$T/security" | sed 's/^/# /'
score=$(sed -n 's/.*Overall exposure level for sekishod.service: \([0-9.]*\).*/\1/p' "$T/security")
[ -n "$score" ] || fail "no score in: $(tail -3 "$T/security")"
echo "# systemd-analyze security --offline=yes sekishod.service: exposure $score (target: 2.5 or lower)"
awk -v s="$score" 'BEGIN { exit !(s > 2.5) }' && echo "# NOTE: above the 2.5 target; see the comments in systemd/sekishod.service.in"
ok "exposure score printed"
