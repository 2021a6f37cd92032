# posture-roots.sh — builds BYOD fixture roots from the real formats (sourced by posture tests and the benchmark, not run).
# Each function writes under the root directory it is given, and nothing else.

# A Windows executable with a version resource, linked by the mingw-w64 binutils:
# make_pe OUT ORIGINAL_FILENAME PRODUCT
make_pe() {
        _d=$(mktemp -d "$T/pe.XXXXXX")
        cat >"$_d/v.rc" <<EOF
1 VERSIONINFO
FILEVERSION 2,0,0,0
PRODUCTVERSION 2,0,0,0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "041104b0"
    BEGIN
      VALUE "FileDescription", "$3"
      VALUE "InternalName", "$3"
      VALUE "OriginalFilename", "$2"
      VALUE "ProductName", "$3"
      VALUE "FileVersion", "2.0.0.0"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x411, 1200
  END
END
EOF
        # No C preprocessor is needed for this script (and mingw's gcc is not installed).
        x86_64-w64-mingw32-windres --preprocessor=cat "$_d/v.rc" -O coff -o "$_d/v.o"
        mkdir -p "$(dirname "$1")"
        x86_64-w64-mingw32-ld --entry=0 -o "$1" "$_d/v.o"
        rm -rf "$_d"
}

# A wine prefix as wine (and Bottles, Lutris) leaves it: drive_c and the registry files.
make_prefix() {
        mkdir -p "$1/drive_c/windows/system32" "$1/drive_c/Program Files" "$1/drive_c/users"
        printf 'WINE REGISTRY Version 2\n;; All keys relative to \\\\Machine\n\n#arch=win64\n' >"$1/system.reg"
        printf 'WINE REGISTRY Version 2\n' >"$1/user.reg"
}

# A deployed Flatpak app as flatpak(1) lays it out: make_flatpak INSTALLATION ID [COMMIT]
make_flatpak() {
        _c=${3:-0f3e9a7c2b1d5e8f6a4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f7e6d}
        _a="$1/app/$2"
        mkdir -p "$_a/x86_64/stable/$_c/files/bin" "$_a/x86_64/stable/$_c/export"
        printf '[Application]\nname=%s\nruntime=org.kde.Platform/x86_64/6.6\nsdk=org.kde.Sdk/x86_64/6.6\ncommand=%s\n' \
                "$2" "$2" >"$_a/x86_64/stable/$_c/metadata"
        ln -sfn "$_c" "$_a/x86_64/stable/active"
        ln -sfn x86_64/stable "$_a/current"
}

# A snap as snapd keeps it: the squashfs file and its mount point. make_snap ROOT NAME REV
make_snap() {
        mkdir -p "$1/var/lib/snapd/snaps" "$1/snap/$2/$3/meta"
        printf 'name: %s\nversion: "4.0.5"\n' "$2" >"$1/snap/$2/$3/meta/snap.yaml"
        if command -v mksquashfs >/dev/null 2>&1; then
                mksquashfs "$1/snap/$2/$3" "$1/var/lib/snapd/snaps/${2}_$3.snap" -quiet -noappend >/dev/null
        else
                printf 'hsqs' >"$1/var/lib/snapd/snaps/${2}_$3.snap"
        fi
        ln -sfn "$3" "$1/snap/$2/current"
}

# An AppImage: an ELF executable with the type-2 magic "AI\2" at offset 8, as appimagetool's runtime has it.
make_appimage() {
        mkdir -p "$(dirname "$1")"
        printf 'int main(void){return 0;}\n' >"$T/appimage-runtime.c"
        cc -o "$1" "$T/appimage-runtime.c"
        printf 'AI\002' | dd of="$1" bs=1 seek=8 conv=notrunc status=none
}

# An rpm database with the named (empty, noarch) packages, built by rpmbuild and installed by rpm --root.
# make_rpmdb ROOT NAME...
make_rpmdb() {
        _root=$1
        shift
        _top="$T/rpmbuild"
        mkdir -p "$_top/SPECS"
        {
                printf 'Name: %s\nVersion: 1.0\nRelease: 1\nSummary: fixture\nLicense: MIT\nBuildArch: noarch\n' "$1"
                printf '%%description\nfixture\n%%files\n'
                _first=$1
                shift
                for _n in "$@"; do
                        printf '%%package -n %s\nSummary: fixture\n%%description -n %s\nfixture\n%%files -n %s\n' \
                                "$_n" "$_n" "$_n"
                done
        } >"$_top/SPECS/fixture.spec"
        rpmbuild --quiet --define "_topdir $_top" --define "_rpmdir $_top/RPMS" --define "_build_id_links none" \
                -bb "$_top/SPECS/fixture.spec" >/dev/null 2>&1
        mkdir -p "$_root/var/lib/rpm"
        rpm --root "$_root" --dbpath /var/lib/rpm --initdb
        rpm --root "$_root" --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --nosignature \
                "$_top"/RPMS/noarch/*.rpm
        rm -rf "$_top"
}

# A dconf database compiled from keyfile text on stdin: make_dconf OUT
make_dconf() {
        _k=$(mktemp -d "$T/dconf.XXXXXX")
        cat >"$_k/00-settings"
        mkdir -p "$(dirname "$1")"
        dconf compile "$1" "$_k"
        rm -rf "$_k"
}

# The base of every root: os-release and a dpkg status with base-files. make_base ROOT ID VERSION_ID
make_base() {
        mkdir -p "$1/etc" "$1/var/lib/dpkg" "$1/home/taro"
        printf 'PRETTY_NAME="%s %s"\nNAME="%s"\nID=%s\nVERSION_ID="%s"\n' "$2" "$3" "$2" "$2" "$3" >"$1/etc/os-release"
        if [ "$2" = debian ]; then
                printf 'Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u8\nArchitecture: amd64\n\n' \
                        >"$1/var/lib/dpkg/status"
        fi
}
