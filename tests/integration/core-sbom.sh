#!/bin/sh
# core-sbom.sh — packaging/sbom.py on the built binaries: valid SPDX 2.3, every NEEDED library present with its package, same bytes whatever the locale, umask or time zone, fails closed; the checker catches a missing library.
. "$(dirname "$0")/lib.sh"
need_cmd python3 readelf ldd dpkg-query
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
SBOM="python3 $top_srcdir/packaging/sbom.py"
CHECK="python3 $top_srcdir/tests/sbom/check-sbom.py"

# The binaries make install would ship (programs are built at the top of the build tree).
mkdir -p "$T/root/usr/bin"
for f in "$top_builddir"/*; do
        [ -f "$f" ] && [ -x "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && cp "$f" "$T/root/usr/bin/"
done
[ -x "$T/root/usr/bin/sekishod" ] || fail "no sekishod in $top_builddir"

# The source digest: the tree's content, not where it lies; debian/ is not source.
mkdir -p "$T/a/src/sub" "$T/b/x/y/src"
printf 'one\n' >"$T/a/src/f"; printf 'two\n' >"$T/a/src/sub/g"; ln -s f "$T/a/src/link"
cp -a "$T/a/src/." "$T/b/x/y/src/"
d1=$($SBOM source-digest "$T/a/src") && d2=$($SBOM source-digest "$T/b/x/y/src") || fail "source-digest failed"
[ "$d1" = "$d2" ] || fail "the source digest depends on the directory: $d1 vs $d2"
mkdir "$T/b/x/y/src/debian"; echo changelog >"$T/b/x/y/src/debian/changelog"
[ "$($SBOM source-digest "$T/b/x/y/src")" = "$d1" ] || fail "debian/ changes the source digest"
printf 'twO\n' >"$T/b/x/y/src/sub/g"
[ "$($SBOM source-digest "$T/b/x/y/src")" != "$d1" ] || fail "a changed byte leaves the source digest as it was"
ok "source digest: same tree, same digest wherever it is; one byte changes it; debian/ left out"

gen() {
        $SBOM generate --packager dpkg --name sekisho --version 9.9-1 --source-digest "$d1" --root "$T/root" --output "$1"
}
SOURCE_DATE_EPOCH=1700000000 gen "$T/sbom.json" || fail "sbom.py generate failed"
$CHECK "$T/sbom.json" "$T/root" --installed >"$T/check.out" || { cat "$T/check.out"; fail "the SBOM does not pass the checker"; }
cat "$T/check.out"
python3 - "$T/sbom.json" <<'EOF' || fail "the SBOM lacks what it must say"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["creationInfo"]["created"] == "2023-11-14T22:13:20Z", d["creationInfo"]["created"]
top = d["packages"][0]
assert (top["name"], top["versionInfo"]) == ("sekisho", "9.9-1"), top
src = d["packages"][1]
assert src["primaryPackagePurpose"] == "SOURCE" and src["checksums"][0]["algorithm"] == "SHA256", src
libs = {p["name"] for p in d["packages"] if p.get("primaryPackagePurpose") == "LIBRARY"}
assert {"libc6", "libsodium23", "libyaml-0-2"} <= libs, libs
EOF
ok "valid SPDX 2.3; every NEEDED library of every binary is listed in the package and version dpkg has"

(umask 077; LC_ALL=C.UTF-8 TZ=Asia/Tokyo SOURCE_DATE_EPOCH=1700000000 gen "$T/sbom2.json") || fail "second run failed"
cmp "$T/sbom.json" "$T/sbom2.json" || fail "two runs on the same binaries differ"
[ "$(stat -c %a "$T/sbom2.json")" = 644 ] || fail "the SBOM's mode follows the umask: $(stat -c %a "$T/sbom2.json")"
ok "same bytes and mode 0644 under another umask, locale and time zone"

if (unset SOURCE_DATE_EPOCH; gen "$T/sbom3.json") 2>"$T/err"; then fail "generated without SOURCE_DATE_EPOCH"; fi
grep -q SOURCE_DATE_EPOCH "$T/err" || fail "no clear message without SOURCE_DATE_EPOCH: $(cat "$T/err")"
ok "refuses to write an SBOM without SOURCE_DATE_EPOCH"

# A shipped binary that needs a library no package owns stops the build.
mkdir -p "$T/stray/usr/bin" "$T/stray/lib"
cp "$T/root/usr/bin/sekishod" "$T/stray/usr/bin/"
cp "$(ldd "$T/root/usr/bin/sekishod" | awk '/libsodium/ { print $3 }')" "$T/stray/lib/"
if LD_LIBRARY_PATH="$T/stray/lib" SOURCE_DATE_EPOCH=1 $SBOM generate --packager dpkg --name sekisho --version 1 \
        --source-digest "$d1" --root "$T/stray" --output "$T/stray.json" 2>"$T/err"; then
        fail "an SBOM was written with a library no package owns"
fi
grep -q "no Debian package owns $T/stray/lib/libsodium" "$T/err" || fail "unclear message: $(cat "$T/err")"
ok "a library no package owns stops the build: $(cat "$T/err")"

# The checker fails when a library is missing, or the document is not SPDX 2.3.
python3 - "$T/sbom.json" "$T/broken.json" "$T/bad-schema.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
fid = next(f["SPDXID"] for f in d["files"] if f["fileName"].endswith("/libsodium.so.23"))
d["files"] = [f for f in d["files"] if f["SPDXID"] != fid]
d["relationships"] = [r for r in d["relationships"] if fid not in (r["spdxElementId"], r["relatedSpdxElement"])]
json.dump(d, open(sys.argv[2], "w"))
d = json.load(open(sys.argv[1]))
del d["packages"][0]["name"]
d["spdxVersion"] = 2.3
json.dump(d, open(sys.argv[3], "w"))
EOF
if $CHECK "$T/broken.json" "$T/root" >"$T/check.out"; then fail "the checker passes an SBOM without libsodium"; fi
grep -q "sekishod needs libsodium.so.23, which the SBOM does not list" "$T/check.out" || { cat "$T/check.out"; fail "the checker does not name the missing library"; }
if $CHECK "$T/bad-schema.json" "$T/root" >"$T/check.out"; then fail "the checker passes a document the schema rejects"; fi
grep -q "schema: at /packages/0: 'name' is a required property" "$T/check.out" || { cat "$T/check.out"; fail "no schema error"; }
grep -q "schema: at /spdxVersion" "$T/check.out" || { cat "$T/check.out"; fail "no schema error for spdxVersion"; }
ok "the checker fails on an SBOM without libsodium.so.23 and on one the SPDX 2.3 schema rejects"

# sekishoctl sbom prints it as installed; the report's R10 row names its digest and version.
setup_dirs
ctl --sbom "$T/sbom.json" sbom >"$T/printed" || fail "sekishoctl sbom failed"
cmp "$T/sbom.json" "$T/printed" || fail "sekishoctl sbom does not print the file as it is"
if ctl --sbom "$T/broken-none.json" sbom 2>"$T/err"; then fail "sekishoctl sbom succeeded without a file"; fi
grep -q "broken-none.json: No such file" "$T/err" || fail "unclear message: $(cat "$T/err")"
echo '{"spdxVersion": "SPDX-2.3"}' >"$T/not-ours.json"
if ctl --sbom "$T/not-ours.json" sbom >/dev/null 2>"$T/err"; then fail "sekishoctl sbom printed a document that is not sekisho's SBOM"; fi
grep -q "not-ours.json: not an SPDX 2.3 SBOM of sekisho" "$T/err" || fail "unclear message: $(cat "$T/err")"
ok "sekishoctl sbom prints the SBOM byte for byte; refuses a missing file or another document"

r10() { ctl --bus=none --audit-log "$T/log/audit.log" --sbom "$1" --json report >"$T/report.json" || fail "no report"
        python3 -c 'import json,sys; print(next(q["detail"] for q in json.load(open(sys.argv[1]))["requirements"] if q["id"] == "R10"))' "$T/report.json"; }
digest=$(sha256sum "$T/sbom.json" | cut -c1-64)
detail=$(r10 "$T/sbom.json")
case "$detail" in *"SBOM $T/sbom.json (SPDX 2.3, sha256 $digest) lists package sekisho 9.9-1, built from source digest sha256:$d1"*"sekishoctl sbom"*) ;;
*) fail "R10 does not show the SBOM's digest and version: $detail" ;; esac
case "$detail" in *"NOTE: it describes sekisho 9.9-1, but sekisho "*" is installed"*) ;; *) fail "R10 does not see the other version: $detail" ;; esac
ok "report R10: $detail"
detail=$(r10 "$T/not-ours.json")
case "$detail" in *"NO usable SBOM at $T/not-ours.json (not an SPDX 2.3 SBOM of sekisho)"*) ;; *) fail "R10 with a bad SBOM: $detail" ;; esac
ok "report R10 without a usable SBOM says so"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/report.json")
sed "s/\"versionInfo\": \"9.9-1\"/\"versionInfo\": \"$version-1\"/" "$T/sbom.json" >"$T/same.json"
detail=$(r10 "$T/same.json")
case "$detail" in *"lists package sekisho $version-1,"*) ;; *) fail "R10: $detail" ;; esac
case "$detail" in *NOTE*) fail "R10 sees another version in the SBOM of sekisho $version-1: $detail" ;; esac
ok "report R10 with the SBOM of the installed version: no note"
