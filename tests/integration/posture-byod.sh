#!/bin/sh
# posture-byod.sh — issue 17's BYOD roots, built from the real formats (Flatpak deploys, a snap, an AppImage, wine/Bottles/Lutris prefixes with PE version resources, an rpmdb, dconf databases): what the posture report finds and how it says to fix it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/posture-roots.sh"
need_cmd python3 cc rpm rpmbuild dconf x86_64-w64-mingw32-windres x86_64-w64-mingw32-ld

if "$SEKISHOCTL" posture --help 2>&1 | grep -q -- "--root DIR"; then
        report() { "$SEKISHOCTL" posture "$@"; }
else
        report() { "$top_builddir/tests/unit/posture-report" "$@"; }
fi
export SEKISHO_TEST_NOW=2026-11-22T00:00:00Z

# check JSON ID STATUS [SUBSTRING-OF-EVIDENCE|en:SUBSTRING-OF-FIX|ja:SUBSTRING-OF-FIX]...
check() {
        python3 - "$@" <<'PY' || fail "$(cat "$1" | head -c 3000)"
import json, sys
r = json.load(open(sys.argv[1]))
c = [c for c in r["checks"] if c["id"] == sys.argv[2]][0]
assert c["status"] == sys.argv[3], (sys.argv[2], c)
for want in sys.argv[4:]:
    if want.startswith("en:"):
        assert want[3:] in c["remediation"]["en"], (want, c["remediation"]["en"])
    elif want.startswith("ja:"):
        assert want[3:] in c["remediation"]["ja"], (want, c["remediation"]["ja"])
    elif want.startswith("!"):
        assert want[1:] not in c["evidence"] + c["remediation"]["en"], (want, c)
    else:
        assert want in c["evidence"], (want, c["evidence"])
PY
}

# ---- The BYOD root of the issue: a Debian 12 machine set up the way people do ----
R="$T/byod"
make_base "$R" debian 12
H="$R/home/taro"
make_flatpak "$R/var/lib/flatpak" org.qbittorrent.qBittorrent
make_flatpak "$H/.local/share/flatpak" org.qbittorrent.qBittorrent
make_flatpak "$H/.local/share/flatpak" org.gnome.Calculator
make_snap "$R" transmission 1234
make_appimage "$H/Applications/qbittorrent-4.6.0-x86_64.AppImage"
make_appimage "$H/Applications/Obsidian-1.5.3.AppImage"
make_prefix "$H/win/p2p"                                 # a custom WINEPREFIX
make_pe "$H/win/p2p/drive_c/Program Files/Winny/Winny2.exe" Winny2.exe Winny
make_prefix "$H/.local/share/bottles/bottles/Share"      # Bottles
make_pe "$H/.local/share/bottles/bottles/Share/drive_c/Program Files/Share/Share.exe" Share.exe Share
make_prefix "$H/Games/tools"                             # Lutris, the program renamed
make_pe "$H/Games/tools/drive_c/Program Files/x/setup_2.exe" PerfectDark.exe "Perfect Dark"
make_pe "$H/Games/tools/drive_c/Program Files/x/notepad2.exe" Notepad2.exe Notepad2
make_pe "$H/win/p2p/drive_c/windows/system32/winny.exe" winny.exe "wine's own directory is not searched"

set +e
report --json --root "$R" >"$T/byod.json"; rc=$?
set -e
[ $rc = 1 ] || fail "BYOD root: exit $rc, expected 1 (not compliant)"
check "$T/byod.json" software.forbidden fail \
        "org.qbittorrent.qBittorrent (flatpak)" "org.qbittorrent.qBittorrent (flatpak --user)" \
        "transmission r1234 (snap)" "/home/taro/Applications/qbittorrent-4.6.0-x86_64.AppImage (AppImage)" \
        "!Calculator" "!Obsidian" \
        "en:sudo flatpak uninstall --system --delete-data org.qbittorrent.qBittorrent" \
        "en:flatpak uninstall --user --delete-data org.qbittorrent.qBittorrent" \
        "en:sudo snap remove --purge transmission" \
        "en:Delete the AppImage file: /home/taro/Applications/qbittorrent-4.6.0-x86_64.AppImage" \
        "ja:snapを削除してください" "ja:AppImageファイルを削除してください" "!apt purge"
ok "system and user Flatpaks, a snap and an AppImage are found; the fix names flatpak, snap and the file"
check "$T/byod.json" software.wine fail \
        "/home/taro/win/p2p/drive_c/Program Files/Winny/Winny2.exe" \
        "/home/taro/.local/share/bottles/bottles/Share/drive_c/Program Files/Share/Share.exe" \
        "setup_2.exe [OriginalFilename \"PerfectDark.exe\" (Perfect Dark)]" \
        "!notepad2" "!system32" "en:Delete the Windows program and its folder"
ok "Winny2.exe in a custom WINEPREFIX, Share.exe in Bottles and a renamed Perfect Dark in Lutris (by its version resource)"

# ---- rpm: Fedora and openSUSE can be compliant, and are told to use their own tools ----
F="$T/fedora"
make_base "$F" fedora 41
make_rpmdb "$F" filesystem bash qbittorrent
printf 'posture:\n  allowed-os: [{id: fedora, min-version: "40"}, {id: opensuse-leap}]\n' >"$T/rpm.yaml"
set +e
report --json --root "$F" --policy "$T/rpm.yaml" >"$T/fedora.json"; rc=$?
set -e
[ $rc = 1 ] || fail "Fedora root with qbittorrent: exit $rc, expected 1"
check "$T/fedora.json" software.forbidden fail "qbittorrent 1.0-1 (rpm)" "en:sudo dnf remove qbittorrent" \
        "ja:dnfで削除してください" "!apt purge"
S="$T/suse"
make_base "$S" opensuse-leap 15.6
make_rpmdb "$S" filesystem qbittorrent-nox
set +e
report --json --root "$S" --policy "$T/rpm.yaml" >"$T/suse.json"
set -e
check "$T/suse.json" software.forbidden fail "qbittorrent-nox 1.0-1 (rpm)" "en:sudo zypper remove qbittorrent-nox" "!dnf"
rm -rf "$F"
make_base "$F" fedora 41
make_rpmdb "$F" filesystem bash
report --json --root "$F" --policy "$T/rpm.yaml" >"$T/fedora-clean.json" || fail "a clean Fedora root is not compliant: $(cat "$T/fedora-clean.json")"
check "$T/fedora-clean.json" software.forbidden pass "2 rpm packages"
ok "rpm databases are read: Fedora and openSUSE roots are judged, with dnf and zypper in the fix"

# ---- Screen lock and password policy, from where GNOME, KDE and PAM keep them ----
printf 'posture:\n  require-screen-lock: true\n  screen-lock-max-idle-minutes: 10\n  password-min-length: 12\n  password-max-age-days: 90\n' \
        >"$T/lock.yaml"
L="$T/lock"
make_base "$L" debian 12
set +e
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l0.json"
set -e
check "$T/l0.json" screenlock.enabled unknown "no user has GNOME (dconf) or KDE (kscreenlockerrc) settings"
check "$T/l0.json" password.min-length unknown "no PAM password stack"
check "$T/l0.json" password.max-age unknown "/etc/login.defs"

make_dconf "$L/home/taro/.config/dconf/user" <<'EOF'
[org/gnome/desktop/session]
idle-delay=uint32 0
EOF
set +e
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l1.json"
set -e
check "$T/l1.json" screenlock.enabled fail "taro: GNOME idle-delay 0"
make_dconf "$L/home/taro/.config/dconf/user" <<'EOF'
[org/gnome/desktop/session]
idle-delay=uint32 300
[org/gnome/desktop/screensaver]
lock-enabled=true
EOF
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l2.json" || true
check "$T/l2.json" screenlock.enabled pass "taro: GNOME locks after 300 s idle (user setting)"
# The administrator's locked system value wins over the user's.
mkdir -p "$L/etc/dconf/profile"
printf 'user-db:user\nsystem-db:local\n' >"$L/etc/dconf/profile/user"
mkdir -p "$T/local.d/locks"
printf '[org/gnome/desktop/session]\nidle-delay=uint32 1800\n' >"$T/local.d/00-site"
printf '/org/gnome/desktop/session/idle-delay\n' >"$T/local.d/locks/site"
mkdir -p "$L/etc/dconf/db"
dconf compile "$L/etc/dconf/db/local" "$T/local.d"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l3.json" || true
check "$T/l3.json" screenlock.enabled fail "locks only after 1800 s idle > 10 min allowed" "locked by the system"
rm -f "$L/etc/dconf/profile/user"
mkdir -p "$L/home/hanako/.config"
printf '[Daemon]\nAutolock=false\n' >"$L/home/hanako/.config/kscreenlockerrc"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l4.json" || true
check "$T/l4.json" screenlock.enabled fail "hanako: KDE Autolock=false"
printf '[Daemon]\nTimeout=5\n' >"$L/home/hanako/.config/kscreenlockerrc"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l5.json" || true
check "$T/l5.json" screenlock.enabled pass "hanako: KDE locks after 5 min idle" "taro: GNOME locks after 300 s"
printf 'GVariant\0\0\0\0garbage' >"$L/home/taro/.config/dconf/user"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/l6.json" || true
check "$T/l6.json" screenlock.enabled unknown "not a valid dconf database"
ok "screen lock from GNOME's dconf databases (user, locked system values) and KDE's kscreenlockerrc; a damaged database is unknown"

mkdir -p "$L/etc/pam.d" "$L/etc/security"
printf 'password\trequisite\t\t\tpam_pwquality.so retry=3\npassword\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt\n' \
        >"$L/etc/pam.d/common-password"
printf '# minlen = 9\nminlen = 8\n' >"$L/etc/security/pwquality.conf"
printf 'PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n' >"$L/etc/login.defs"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/p1.json" || true
check "$T/p1.json" password.min-length fail "pam_pwquality minlen 8 (/etc/security/pwquality.conf) < 12 required" \
        "en:pwquality.conf"
check "$T/p1.json" password.max-age fail "PASS_MAX_DAYS 99999" "ja:PASS_MAX_DAYS"
sed -i 's/pam_pwquality.so retry=3/pam_pwquality.so retry=3 minlen=14/' "$L/etc/pam.d/common-password"
printf 'PASS_MAX_DAYS\t60\n' >"$L/etc/login.defs"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/p2.json" || true
check "$T/p2.json" password.min-length pass "minlen 14 (module argument)"
check "$T/p2.json" password.max-age pass "PASS_MAX_DAYS 60"
printf 'password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n' >"$L/etc/pam.d/common-password"
report --json --root "$L" --policy "$T/lock.yaml" >"$T/p3.json" || true
check "$T/p3.json" password.min-length fail "no pam_pwquality; pam_unix minlen 6 (default)"
ok "password length from pam_pwquality (argument, pwquality.conf) or pam_unix, age from login.defs"

# ---- policy check: a requirement no terminal of an allowed OS could prove ----
if [ -x "$top_builddir/sekishoctl" ]; then
        printf 'sekisho: 1\nserial: 1\nissued: 2026-11-20T09:00:00+09:00\nposture:\n  allowed-os: [{id: debian}, {id: arch}]\n  forbidden-software: [qbittorrent]\n' \
                >"$T/arch.yaml"
        "$top_builddir/sekishoctl" policy check "$T/arch.yaml" >"$T/pc.out" 2>&1 || true
        grep -q "arch.yaml:5:.*warning: software.forbidden can never be answered on 'arch'" "$T/pc.out" ||
                fail "policy check does not warn that arch can never be compliant: $(cat "$T/pc.out")"
        grep -q "'debian'" "$T/pc.out" && fail "policy check warns about debian: $(cat "$T/pc.out")"
        ok "policy check warns when an allowed OS could never answer software.forbidden"
fi
