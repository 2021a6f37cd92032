#!/bin/sh
# bench-posture-byod.sh — issue 17's benchmark root: 2000 rpm packages (rpmbuild, rpm --root), 50 Flatpaks (system and per-user), 10 wine prefixes with programs and PE files; bench-posture adds the 5000-package dpkg status and prints the figures.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
for c in rpm rpmbuild x86_64-w64-mingw32-windres x86_64-w64-mingw32-ld; do
        command -v "$c" >/dev/null || { echo "bench-posture-byod: '$c' is not installed (tools/debian-packages)"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bench-byod.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top_srcdir/tests/integration/posture-roots.sh"
R="$T/root"
mkdir -p "$R"
echo "building the root (2000 rpm packages take a while) ..."
make_rpmdb "$R" $(seq -f "fixture-lib%g" 1 2000) 2>/dev/null
for i in $(seq 1 25); do
        make_flatpak "$R/var/lib/flatpak" "org.example.SystemApp$i"
        make_flatpak "$R/home/user$((i % 5))/.local/share/flatpak" "org.example.UserApp$i"
done
make_pe "$T/tool.exe" tool.exe "Some Tool"
for i in $(seq 1 10); do
        P="$R/home/user$((i % 5))/.local/share/bottles/bottles/bottle$i"
        make_prefix "$P"
        for j in $(seq 1 20); do
                mkdir -p "$P/drive_c/Program Files/App$j"
                cp "$T/tool.exe" "$P/drive_c/Program Files/App$j/app$j.exe"
                printf 'data' >"$P/drive_c/Program Files/App$j/readme$j.txt"
        done
        # wine's own programs: not searched
        for j in $(seq 1 200); do printf 'MZ' >"$P/drive_c/windows/system32/lib$j.dll"; done
done
make_pe "$R/home/user1/.local/share/bottles/bottles/bottle1/drive_c/Program Files/App1/Winny2.exe" Winny2.exe Winny
"$top_builddir/tests/bench/bench-posture" "$R"
