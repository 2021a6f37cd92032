#!/usr/bin/python3
# make-fixtures.py — writes the posture fixture roots (fake /etc, /var/lib/dpkg, /var/lib/clamav, /proc, /sys) next to this script.
#
# The roots are committed; this script is how they were made and how to
# remake them. Large or hostile inputs (a 65 MiB status file) are made by the
# tests themselves at run time, not stored.
import calendar
import os
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def w(root, path, text, mode="w"):
    p = os.path.join(HERE, root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode) as f:
        f.write(text)


def pkg(name, version, status="install ok installed", arch="amd64"):
    return ("Package: %s\nStatus: %s\nPriority: optional\nSection: misc\nInstalled-Size: 100\n"
            "Maintainer: Debian <debian@example.org>\nArchitecture: %s\nVersion: %s\n"
            "Description: %s\n the %s package\n .\n fixture.\n\n" % (name, status, arch, version, name, name))


BASE = [("bash", "5.2.15-2+b2"), ("coreutils", "9.1-1"), ("dpkg", "1.21.22"), ("libc6", "2.36-9+deb12u9"),
        ("transmission-common", "3.00-2.1", "deinstall ok config-files")]


def status(root, extra):
    text = ""
    for p in BASE + extra:
        if len(p) == 3:
            text += pkg(p[0], p[1], p[2])
        else:
            text += pkg(p[0], p[1])
    w(root, "/var/lib/dpkg/status", text)


def osrel(root, text, where="/etc/os-release"):
    w(root, where, text)


def clam_header(when, version, builder="raynman"):
    t = time.gmtime(when)
    date = time.strftime("%d %b %Y %H-%M +0000", t)
    h = "ClamAV-VDB:%s:%d:2061234:90:X:X:%s:%d" % (date, version, builder, when)
    return h.ljust(512).encode() + b"\x1f\x8b fake payload"


def clamav(root, daily_when, main_when=calendar.timegm((2025, 1, 10, 9, 0, 0))):
    w(root, "/usr/bin/clamscan", "#!/bin/sh\n")
    w(root, "/var/lib/clamav/main.cvd", clam_header(main_when, 62), "wb")
    w(root, "/var/lib/clamav/daily.cld", clam_header(daily_when, 27465), "wb")


def dmi(root, vendor, product, version=""):
    w(root, "/sys/class/dmi/id/sys_vendor", vendor + "\n")
    w(root, "/sys/class/dmi/id/product_name", product + "\n")
    if version:
        w(root, "/sys/class/dmi/id/product_version", version + "\n")


def kernel(root, rel):
    w(root, "/proc/sys/kernel/osrelease", rel + "\n")


MI_HEAD = "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"


def plain(root):
    w(root, "/proc/self/mountinfo",
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
      "24 22 259:1 / /boot/efi rw,relatime shared:29 - vfat /dev/nvme0n1p1 rw\n")


def luks(root, separate_home=True):
    mi = ("22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/nvme0n1p3_crypt rw\n"
          "23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
          "24 22 259:2 / /boot rw,relatime shared:29 - ext4 /dev/nvme0n1p2 rw\n")
    if separate_home:
        mi += "30 22 253:2 / /home rw,relatime shared:30 - ext4 /dev/mapper/vg0-home rw\n"
    w(root, "/proc/self/mountinfo", mi)
    w(root, "/sys/block/dm-0/dev", "253:0\n")
    w(root, "/sys/block/dm-0/dm/name", "nvme0n1p3_crypt\n")
    w(root, "/sys/block/dm-0/dm/uuid", "CRYPT-LUKS2-6c3f0f2e1b8e4bd5a1e5c1d1e6a2b3c4-nvme0n1p3_crypt\n")
    w(root, "/sys/block/dm-0/slaves/nvme0n1p3", "")
    if separate_home:
        # LVM on LUKS: vg0-home (dm-2) sits on dm-1, which is dm-crypt.
        w(root, "/sys/block/dm-1/dev", "253:1\n")
        w(root, "/sys/block/dm-1/dm/name", "nvme1n1p1_crypt\n")
        w(root, "/sys/block/dm-1/dm/uuid", "CRYPT-LUKS2-0a1b2c3d4e5f60718293a4b5c6d7e8f9-nvme1n1p1_crypt\n")
        w(root, "/sys/block/dm-2/dev", "253:2\n")
        w(root, "/sys/block/dm-2/dm/name", "vg0-home\n")
        w(root, "/sys/block/dm-2/dm/uuid", "LVM-Hk3Xb9ZuQwErTyUiOpAsDfGhJkLzXcVbNm1234567890qwertyuiopasdfgh\n")
        w(root, "/sys/block/dm-2/slaves/dm-1", "")


DEBIAN12 = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
            'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n'
            'SUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n')

NOW = calendar.timegm((2026, 11, 22, 0, 0, 0))
FRESH = NOW - 9 * 3600
STALE = NOW - 40 * 86400


def main():
    for d in os.listdir(HERE):
        if os.path.isdir(os.path.join(HERE, d)):
            shutil.rmtree(os.path.join(HERE, d))

    r = "debian-12.2"
    osrel(r, DEBIAN12)
    w(r, "/etc/debian_version", "12.2\n")
    status(r, [("base-files", "12.4+deb12u2")])
    kernel(r, "6.1.0-13-amd64")
    dmi(r, "LENOVO", "20XW003XJP", "ThinkPad X1 Carbon Gen 9")
    plain(r)

    r = "debian-12.8"
    osrel(r, DEBIAN12)
    w(r, "/etc/debian_version", "12.8\n")
    status(r, [("base-files", "12.4+deb12u8"), ("clamav", "1.0.7+dfsg-1~deb12u1"),
               ("clamav-freshclam", "1.0.7+dfsg-1~deb12u1")])
    kernel(r, "6.1.0-28-amd64")
    dmi(r, "Dell Inc.", "Latitude 5440")
    clamav(r, FRESH)
    luks(r)

    r = "ubuntu-22.04"
    osrel(r, 'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
             'VERSION="22.04.3 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
             'HOME_URL="https://www.ubuntu.com/"\nUBUNTU_CODENAME=jammy\n', "/usr/lib/os-release")
    status(r, [("base-files", "12ubuntu4.4"), ("clamav", "0.103.11+dfsg-0ubuntu0.22.04.1")])
    kernel(r, "5.15.0-88-generic")
    dmi(r, "HP", "HP ProBook 450 G9")
    clamav(r, STALE)
    luks(r, separate_home=False)

    r = "ubuntu-24.04"
    osrel(r, 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
             'VERSION="24.04.1 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
             'UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n')
    status(r, [("base-files", "13ubuntu10.1"), ("transmission-gtk", "4.0.5-1build5"),
               ("clamav", "1.0.7+dfsg-0ubuntu0.24.04.1")])
    kernel(r, "6.8.0-49-generic")
    dmi(r, "FUJITSU CLIENT COMPUTING LIMITED", "LIFEBOOK U9313")
    clamav(r, FRESH)
    luks(r)

    r = "fedora-41"
    osrel(r, 'NAME="Fedora Linux"\nVERSION="41 (Workstation Edition)"\nRELEASE_TYPE=stable\nID=fedora\n'
             'VERSION_ID=41\nVERSION_CODENAME=""\nPLATFORM_ID="platform:f41"\n'
             'PRETTY_NAME="Fedora Linux 41 (Workstation Edition)"\nANSI_COLOR="0;38;2;60;110;180"\n'
             'LOGO=fedora-logo-icon\nCPE_NAME="cpe:/o:fedoraproject:fedora:41"\nDEFAULT_HOSTNAME="fedora"\n'
             'HOME_URL="https://fedoraproject.org/"\nVARIANT="Workstation Edition"\nVARIANT_ID=workstation\n',
          "/usr/lib/os-release")
    kernel(r, "6.11.4-301.fc41.x86_64")
    dmi(r, "Framework", "Laptop 13 (AMD Ryzen 7040Series)")
    # btrfs: mountinfo shows an anonymous 0:N device; the source names the mapper device.
    w(r, "/proc/self/mountinfo",
      "35 1 0:34 /root / rw,relatime shared:1 - btrfs /dev/mapper/luks-2f9c rw,seclabel,compress=zstd:1\n"
      "60 35 0:34 /home /home rw,relatime shared:33 - btrfs /dev/mapper/luks-2f9c rw,seclabel\n")
    w(r, "/sys/block/dm-0/dev", "253:0\n")
    w(r, "/sys/block/dm-0/dm/name", "luks-2f9c\n")
    w(r, "/sys/block/dm-0/dm/uuid", "CRYPT-LUKS2-2f9c0d6a8b7e4f3c9d1e2a3b4c5d6e7f-luks-2f9c\n")

    r = "arch"
    osrel(r, 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\nANSI_COLOR="38;2;23;147;209"\n'
             'HOME_URL="https://archlinux.org/"\nLOGO=archlinux-logo\n', "/usr/lib/os-release")
    kernel(r, "6.12.1-arch1-1")
    dmi(r, "ASUSTeK COMPUTER INC.", "ZenBook UX3402ZA")
    plain(r)

    r = "qbittorrent"
    osrel(r, DEBIAN12)
    status(r, [("base-files", "12.4+deb12u8"), ("qbittorrent", "4.5.2-3+deb12u1"), ("aria2", "1.36.0-1"),
               ("clamav", "1.0.7+dfsg-1~deb12u1"), ("wine", "8.0~repack-4")])
    kernel(r, "6.1.0-28-amd64")
    dmi(r, "Panasonic Corporation", "CFSV2-1")
    clamav(r, FRESH)
    luks(r)
    w(r, "/home/taro/.wine/drive_c/Winny/Winny.exe", "MZ fake")
    w(r, "/home/taro/.wine/drive_c/users/taro/Documents/memo.txt", "hello")

    # Bad inputs.
    r = "bad-no-osrelease"
    status(r, [("base-files", "12.4+deb12u8")])
    plain(r)

    r = "bad-osrelease"
    osrel(r, 'ID=debian\nVERSION_ID="12\nNAME=$(reboot)\n')
    status(r, [("base-files", "12.4+deb12u8")])
    plain(r)

    r = "bad-truncated-status"
    osrel(r, DEBIAN12)
    st = pkg("base-files", "12.4+deb12u8") + pkg("qbittorrent", "4.5.2-3")
    w(r, "/var/lib/dpkg/status", st[: len(st) - 40])
    plain(r)

    r = "bad-binary-status"
    osrel(r, DEBIAN12)
    w(r, "/var/lib/dpkg/status", pkg("base-files", "12.4+deb12u8").encode() + b"\x00\x01\x02\xff\xfe garbage\n\n", "wb")
    plain(r)

    r = "bad-clamav"
    osrel(r, DEBIAN12)
    status(r, [("base-files", "12.4+deb12u8"), ("clamav", "1.0.7+dfsg-1~deb12u1")])
    clamav(r, FRESH)
    w(r, "/var/lib/clamav/daily.cld", b"ClamAV-VDB:31 Feb 2026 08-32 +0000:1:1:90:X:X:x:1".ljust(512) + b"x", "wb")
    w(r, "/var/lib/clamav/bytecode.cvd", b"short", "wb")
    luks(r)

    r = "bad-odd-versions"
    osrel(r, 'ID=debian\nVERSION_ID=twelve\nPRETTY_NAME="odd"\n')
    status(r, [("base-files", "12.4+deb12u8")])
    plain(r)


main()
