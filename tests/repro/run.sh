#!/bin/sh
# run.sh — the .deb is reproducible: reprotest builds the committed tree twice (or once, against the installed tier's build of the same tree), varying time, locale, umask, build path and more, and the two builds must be bit-identical (diffoscope shows the difference when not); then the SBOM in the built .deb is checked.
# Usage: tests/repro/run.sh   Last line: "repro: N passed, N failed, N skipped". Takes two package builds (about 5 minutes on 2 cores).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 failed=0 skipped=0
summary() {
        echo "repro: $pass passed, $failed failed, $skipped skipped"
        [ "$failed" = 0 ] || exit 1
        exit 0
}
skip_all() {
        echo "SKIP: $*"
        skipped=2
        summary
}

# The variations: all of reprotest's but the ones this machine cannot do without
# another user (user_group), a FUSE mount (fileordering: disorderfs), a private
# UTS namespace per build (domain_host) or a halved CPU count (num_cpus: the slow
# build would double the test's time).
VARY=-all,+time,+locales,+umask,+build_path,+timezone,+environment,+home,+exec_path,+kernel,+aslr

for c in reprotest faketime diffoscope dpkg-buildpackage dh git; do
        command -v "$c" >/dev/null 2>&1 || skip_all "'$c' is not installed (tools/debian-packages)"
done
git -C "$top" rev-parse HEAD >/dev/null 2>&1 || skip_all "not a git checkout"
python3 -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$top/packaging/build-deb.sh" --prepare "$work/sekisho" || skip_all "cannot lay out the source tree"
digest=$(python3 "$top/packaging/sbom.py" source-digest "$work/sekisho") || skip_all "no source digest"

# The installed tier (run before this one by tools/sekisho-dev) built the .deb of this
# very tree with packaging/build-deb.sh in a plain environment: that build is the
# control, and reprotest builds only the varied experiment.
control=
tree=$(git -C "$top" rev-parse 'HEAD^{tree}')
for d in "${INSTALLED_CACHE:-/var/cache/sekisho-tests}"/deb-*/; do
        if [ "$(cat "$d/tree" 2>/dev/null)" = "$tree" ] && ls "$d"sekisho_*.deb >/dev/null 2>&1; then
                # reprotest's own layout: the artifacts of "../*.deb" beside an empty source-root.
                mkdir -p "$work/control/source-root" && cp "$d"*.deb "$work/control/" && control=$work/control
                break
        fi
done
if [ -n "$control" ]; then
        echo "== reprotest: the installed tier's build of $(git -C "$top" rev-parse --short HEAD) against one varied build, varying: $VARY"
        set -- --control-build "$control"
else
        echo "== reprotest: two builds of $(git -C "$top" rev-parse --short HEAD) (uncommitted changes are not built), varying: $VARY"
        set --
fi
start=$(date +%s)
reprotest --vary="$VARY" --store-dir "$work/store" --diffoscope-arg=--text="$work/diffoscope.txt" "$@" \
        -c 'dpkg-buildpackage --no-sign -b' "$work/sekisho" '../*.deb' -- null >"$work/reprotest.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
if [ $rc = 0 ]; then
        echo "ok - the .deb files of both builds are bit-identical ($secs s):"
        grep -E '^[0-9a-f]{64}  ' "$work/reprotest.log" | sed 's/^/#   /'
        pass=$((pass + 1))
else
        tail -30 "$work/reprotest.log"
        [ -s "$work/diffoscope.txt" ] && head -200 "$work/diffoscope.txt"
        echo "FAIL: reprotest exit $rc after $secs s: the builds differ (diffoscope above) or did not build"
        failed=$((failed + 1))
fi

deb=$(ls "${control:-$work/store/control}"/sekisho_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
        echo "FAIL: no sekisho .deb from the control build"
        failed=$((failed + 1))
        summary
fi
dpkg-deb -x "$deb" "$work/root"
sbom=$work/root/usr/share/doc/sekisho/sbom.spdx.json
if [ ! -f "$sbom" ]; then
        echo "FAIL: $(basename "$deb") has no /usr/share/doc/sekisho/sbom.spdx.json"
        failed=$((failed + 1))
elif ! grep -q "\"checksumValue\": \"$digest\"" "$sbom"; then
        echo "FAIL: the SBOM does not name the source digest of the tree built, $digest"
        failed=$((failed + 1))
elif python3 "$top/tests/sbom/check-sbom.py" "$sbom" "$work/root" --installed; then
        echo "ok - $(basename "$deb"): SBOM valid SPDX 2.3 ($(wc -c <"$sbom") bytes, $(grep -c '"primaryPackagePurpose": "LIBRARY"' "$sbom") library packages), source digest $digest, every NEEDED of every shipped binary in it"
        pass=$((pass + 1))
else
        echo "FAIL: the SBOM in $(basename "$deb") does not pass tests/sbom/check-sbom.py"
        failed=$((failed + 1))
fi
summary
