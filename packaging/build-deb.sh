#!/bin/sh
# build-deb.sh — build the Debian package from the committed tree: git archive HEAD into a scratch directory, packaging/debian as debian/, dpkg-buildpackage -us -uc -b; the .deb files land in OUTDIR.
# Usage: packaging/build-deb.sh [OUTDIR]   (default: ./deb-out)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-deb-out}" && cd "${1:-deb-out}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/sekisho-src"
git -C "$top" archive --format=tar HEAD | tar -x -C "$work/sekisho-src"
cp -r "$work/sekisho-src/packaging/debian" "$work/sekisho-src/debian"
# Binaries that may have been committed by mistake are not sources.
rm -f "$work/sekisho-src/sekisho-rdp" "$work/sekisho-src/sekisho-usb-early"
(cd "$work/sekisho-src" && dpkg-buildpackage -us -uc -b)
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls "$out"
