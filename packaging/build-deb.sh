#!/bin/sh
# build-deb.sh — build the Debian package from the committed tree: git archive HEAD into a scratch directory, packaging/debian as debian/, dpkg-buildpackage -us -uc -b; the .deb files land in OUTDIR.
# Usage: packaging/build-deb.sh [OUTDIR]          (default: ./deb-out)
#        packaging/build-deb.sh --prepare SRCDIR  only lay out the source tree in SRCDIR (tests/repro/run.sh builds it)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# prepare DIR: the committed tree as Debian builds it.
prepare() {
        mkdir "$1"
        git -C "$top" archive --format=tar HEAD | tar -x -C "$1"
        cp -r "$1/packaging/debian" "$1/debian"
        # Binaries that may have been committed by mistake are not sources.
        rm -f "$1/sekisho-rdp" "$1/sekisho-usb-early" "$1/sekisho-usb-ro"
}

if [ "${1:-}" = --prepare ]; then
        prepare "$2"
        exit 0
fi
out=$(mkdir -p "${1:-deb-out}" && cd "${1:-deb-out}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
prepare "$work/sekisho-src"
(cd "$work/sekisho-src" && dpkg-buildpackage -us -uc -b)
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls "$out"
