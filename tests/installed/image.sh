#!/bin/sh
# image.sh — the installed tier's disk image: a cached Debian 12 base (mmdebstrap) plus the .deb installed with apt and the test harness, as an ext4 image made without loop mounts.
# Usage: tests/installed/image.sh CACHEDIR DEB WORKDIR
# Prints the directory holding root.img, vmlinuz, initrd.img and the test keys (last line of stdout).
# The base is cached as the directory CACHEDIR/base-<hash of its recipe>: the package list, the .deb's
# dependencies, the mirrors and suite. The final image is cached as CACHEDIR/final-<hash>/, keyed by
# the base, the .deb and the harness files; only the newest three final images are kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CACHE=$1 DEB=$2 W=$3
SUITE=bookworm
exec 3>&1 >&2   # stdout carries only the result
info() { echo "info: $*" >&2; }

# The host's own apt sources for this suite (sources.list one-line and deb822 .sources), as one-line entries.
mirrors() {
        python3 - "$SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/* <<'PY'
import sys, glob
suite, files = sys.argv[1], sys.argv[2:]
out = []
def add(types, uris, suites, comps, signed):
    if "deb" not in types:
        return
    for u in uris:
        for s in suites:
            if s == suite or s.startswith(suite + "-"):
                opt = "[signed-by=%s] " % signed if signed else ""
                line = "deb %s%s %s %s" % (opt, u, s, " ".join(comps))
                if line not in out:
                    out.append(line)
for f in files:
    try:
        text = open(f).read()
    except OSError:
        continue
    if f.endswith(".sources"):
        for para in text.split("\n\n"):
            kv = {}
            for line in para.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                kv[k.strip().lower()] = v.split()
            if kv.get("enabled", ["yes"])[0] == "no":
                continue
            signed = " ".join(kv.get("signed-by", []))
            add(kv.get("types", []), kv.get("uris", []), kv.get("suites", []), kv.get("components", []),
                signed if signed.startswith("/") else "")
    elif f.endswith(".list"):
        for line in text.splitlines():
            w = line.split("#", 1)[0].split()
            if len(w) < 4 or w[0] != "deb":
                continue
            opts, signed = [], ""
            if w[1].startswith("["):
                while w and not w[1].endswith("]"):
                    opts.append(w.pop(1))
                opts.append(w.pop(1))
                for o in " ".join(opts).strip("[]").split():
                    if o.startswith("signed-by="):
                        signed = o.split("=", 1)[1]
            add(["deb"], [w[1]], [w[2]], w[3:], signed)
print("\n".join(out))
PY
}

# The .deb's Depends, first alternative, without versions.
deb_depends() {
        dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u
}

pkgs=$( { sed -e 's/#.*//' "$here/base-packages"; deb_depends; } | tr -s ' \n' '\n' | grep -v '^$' | sort -u | tr '\n' ',' | sed 's/,$//')
srcs=$(mirrors)
[ -n "$srcs" ] || { echo "FAIL: no apt source for $SUITE in /etc/apt/sources.list{,.d}" >&2; exit 1; }
MMOPTS="--variant=apt --dpkgopt=path-exclude=/usr/share/doc/* --dpkgopt=path-include=/usr/share/doc/*/copyright --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/locale/*"
recipe=$(printf 'suite %s\npackages %s\nmmdebstrap %s\nsources\n%s\n' "$SUITE" "$pkgs" "$MMOPTS" "$srcs")
base_key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
BASE="$CACHE/base-$base_key"
if [ ! -x "$BASE/usr/bin/apt-get" ]; then
        info "building the base image $BASE (mmdebstrap $SUITE: $pkgs)"
        t0=$(date +%s)
        # shellcheck disable=SC2086
        rm -rf "$BASE.tmp" "$BASE"
        printf '%s\n' "$srcs" | mmdebstrap $MMOPTS --format=directory --include="$pkgs" --aptopt='Acquire::Retries "3"' \
                "$SUITE" "$BASE.tmp" - >"$W/mmdebstrap.log" 2>&1 ||
                { tail -n 30 "$W/mmdebstrap.log" >&2; rm -rf "$BASE.tmp"; echo "FAIL: mmdebstrap failed" >&2; exit 1; }
        printf '%s\n' "$recipe" >"$CACHE/base-$base_key.recipe"
        mv "$BASE.tmp" "$BASE"
        # Keep the two newest bases.
        ls -dt "$CACHE"/base-*.recipe | tail -n +3 | while read -r old; do rm -rf "${old%.recipe}" "$old"; done
        info "base image built in $(( $(date +%s) - t0 )) s"
fi

harness="$here/check.sh $here/sekisho-installed-check.service $here/image.sh"
final_key=$( { echo "$base_key"; sha256sum "$DEB" | cut -d' ' -f1; cat $harness; } | sha256sum | cut -c1-16)
FINAL="$CACHE/final-$final_key"
if [ -s "$FINAL/root.img" ]; then
        touch "$FINAL"
        info "cached image $FINAL"
        echo "$FINAL" >&3
        exit 0
fi
info "building the image $FINAL (base $base_key + $(basename "$DEB"))"
t0=$(date +%s)
R="$W/root"
O="$W/final"
rm -rf "$R" "$O"
mkdir -p "$R" "$O"
cp -a "$BASE/." "$R/"
T="$R/usr/local/lib/sekisho-test"
mkdir -p "$T"

# The test keys: made here, the public half trusted by the image, the secret half kept beside the image.
minisign -G -W -f -p "$O/test.pub" -s "$O/test.key" >/dev/null
mkdir -p "$R/etc/sekisho/keys.d"
cp "$O/test.pub" "$R/etc/sekisho/keys.d/installed-test.pub"
chmod 644 "$R/etc/sekisho/keys.d/installed-test.pub"

# The signed bundle the guest drops into the inbox: the package's default policy, as serial 200. The
# repository server of the fetch checks (10.0.2.100, on the guest's own subnet) is an allowed peer:
# the net plugin isolates terminals from everything on their link (R4), and a repository there is
# a peer like any other unless the policy in force names it (the embedded default does not).
issued=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
expires=$(date -u -d '+365 days' +%Y-%m-%dT%H:%M:%SZ)
dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/sekisho/policies/default.yaml >"$W/default.yaml" ||
        { echo "FAIL: $(basename "$DEB") has no /usr/share/sekisho/policies/default.yaml" >&2; exit 1; }
awk -v issued="$issued" -v expires="$expires" '
        /^serial:/ { print "serial: 200"; print "issued: " issued; print "expires: " expires; next }
        /^description:/ { print "description: installed tier bundle, serial 200"; skip = 1; next }
        skip && /^  / { next }
        /^  allow-peers: \[\]$/ { print "  allow-peers: [10.0.2.100]"; next }
        { skip = 0; print }' "$W/default.yaml" >"$T/installed-200.yaml"
grep -q '^  allow-peers: \[10.0.2.100\]$' "$T/installed-200.yaml" ||
        { echo "FAIL: default.yaml has no empty network.allow-peers to name the repository server in" >&2; exit 1; }
minisign -S -s "$O/test.key" -m "$T/installed-200.yaml" -t "sekisho installed tier" >/dev/null </dev/null
# Serial 201 (issue 16, dropped after the upgrade check): the same, naming a VDI server and FreeRDP.
sed -e 's/^serial: 200$/serial: 201/' -e 's/^description: .*/description: installed tier bundle, serial 201, a VDI server/' \
    -e 's/^vdi:$/vdi:\n  servers: ["192.0.2.10:3389"]\n  client: freerdp/' "$T/installed-200.yaml" >"$T/installed-201.yaml"
grep -q '^  client: freerdp$' "$T/installed-201.yaml" || { echo "FAIL: no vdi: section in the default policy" >&2; exit 1; }
minisign -S -s "$O/test.key" -m "$T/installed-201.yaml" -t "sekisho installed tier" >/dev/null </dev/null

# Issue 19, the repository (served by run.sh's nginx, reached by sekisho-fetch.service): an online
# timestamp key, a trust root naming it for that role only (the test key: root and policy), installed
# by check.sh before the fetch checks (the checks before them run with keys.d), and the bundle the
# repository serves: serial 300, whose freshness profile "stale" applies as soon as its timestamp expires.
minisign -G -W -f -p "$O/ts.pub" -s "$O/ts.key" >/dev/null
key_entry() {  # key_entry PUBFILE NAME ROLES
        printf '  - id: %s\n    public: %s\n    name: %s\n    roles: [%s]\n' \
                "$(sed -n 's/.*public key \([0-9A-F]*\).*/\1/p' "$1")" "$(sed -n 2p "$1")" "$2" "$3"
}
{
        echo "sekisho-root: 1"; echo "version: 1"; echo "issued: $issued"; echo "expires: $expires"
        echo "description: installed tier"
        echo "keys:"; key_entry "$O/test.pub" "installed tier officer" "root, policy"
        key_entry "$O/ts.pub" "installed tier timestamp" timestamp
        echo "roles:"; echo "  root: { threshold: 1 }"; echo "  policy: { threshold: 1 }"; echo "  timestamp: { threshold: 1 }"
} >"$O/root.yaml"
minisign -S -s "$O/test.key" -m "$O/root.yaml" -t "sekisho installed tier root" >/dev/null </dev/null
cp "$O/root.yaml" "$O/root.yaml.minisig" "$T/"
awk -v issued="$issued" -v expires="$expires" '
        /^serial:/ { print "serial: 300"; print "issued: " issued; print "expires: " expires
                     print "freshness: { grace-hours: 0, profile: stale }"; next }
        /^description:/ { print "description: installed tier repository bundle, serial 300"; skip = 1; next }
        skip && /^  / { next }
        /^  allow-peers: \[\]$/ { print "  allow-peers: [10.0.2.100]"; next }
        { skip = 0; print }
        END { print "  stale:"; print "    usb:"; print "      default: block"; print "      rules:"
              print "        - allow with-interface one-of { 03:*:* 09:*:* } allow-interfaces { 03:*:* 09:*:* }" }' \
        "$W/default.yaml" >"$O/repo-300.yaml"
[ "$(grep '^[a-z]' "$W/default.yaml" | tail -n1)" = "profiles:" ] ||
        { echo "FAIL: default.yaml does not end with its profiles: the stale profile cannot be appended" >&2; exit 1; }
minisign -S -s "$O/test.key" -m "$O/repo-300.yaml" -t "sekisho installed tier" >/dev/null </dev/null

# The upgrade: the same package repacked with a higher version (dpkg-deb -R/-b).
ver=$(dpkg-deb -f "$DEB" Version)
dpkg-deb -R "$DEB" "$W/repack"
sed -i "s/^Version: .*/Version: $ver+upgrade1/" "$W/repack/DEBIAN/control"
dpkg-deb -b -Zgzip "$W/repack" "$T/sekisho_${ver}+upgrade1_$(dpkg-deb -f "$DEB" Architecture).deb" >/dev/null

# The package, installed as users install it: apt, from the .deb file (its dependencies are in the base;
# not --no-download: apt 2.6 then refuses a local .deb); no service is started in the chroot.
cp "$DEB" "$R/tmp/"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
unshare --mount --fork sh -eu -c '
        R=$1
        mount --make-rprivate /
        mount -t proc proc "$R/proc"
        mount -t tmpfs tmpfs "$R/run"
        mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
        chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q "/tmp/$2"
' - "$R" "$(basename "$DEB")" >"$W/apt-install.log" 2>&1 || { tail -n 40 "$W/apt-install.log" >&2; echo "FAIL: apt-get install of the .deb in the image" >&2; exit 1; }
rm -f "$R/usr/sbin/policy-rc.d" "$R/tmp/$(basename "$DEB")"

# The harness (not the package): a user with Remmina profiles, VDI client directories, the check unit.
# (Debian has a system group "staff": the user's primary group is "users".)
chroot "$R" useradd -m -u 1000 -g users -s /bin/sh staff
for d in .local/share/remmina .var/app/org.remmina.Remmina/data/remmina; do
        mkdir -p "$R/home/staff/$d"
        printf '[remmina]\nname=x\nprotocol=RDP\nserver=vdi.example.invalid\ndisableclipboard=0\nsharefolder=/home/staff\nshareprinter=1\n' \
                >"$R/home/staff/$d/x.remmina"
done
chroot "$R" chown -R staff:users /home/staff
mkdir -p "$R/opt/Citrix/ICAClient/config" "$R/etc/vmware"
cp "$here/check.sh" "$T/check.sh"
chmod 755 "$T/check.sh"
cp "$here/sekisho-installed-check.service" "$R/etc/systemd/system/"
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -sf ../sekisho-installed-check.service "$R/etc/systemd/system/multi-user.target.wants/"
# The console belongs to the check: no login prompts on the serial ports.
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS1.service"
# The network the fetch checks use (run.sh's restricted user network): a static address, nothing else.
# Only QEMU's NIC (virtio_net): a [Match] of Type=ether also matches the veth pairs the checks lay out,
# and networkd then gave them 10.0.2.15 and, when it got there first, dropped their own addresses
# (the VDI server's replies lost their way in about one run of four).
mkdir -p "$R/etc/systemd/network"
printf '[Match]\nDriver=virtio_net\n\n[Network]\nAddress=10.0.2.15/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
        >"$R/etc/systemd/network/50-installed.network"
chroot "$R" systemctl enable systemd-networkd.service >/dev/null 2>&1 ||
        { echo "FAIL: systemctl enable systemd-networkd in the image" >&2; exit 1; }
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$R/etc/fstab"
echo sekisho-installed >"$R/etc/hostname"

kver=$(ls "$R/lib/modules" | sort -V | tail -n1)
cp "$R/boot/vmlinuz-$kver" "$O/vmlinuz"
cp "$R/boot/initrd.img-$kver" "$O/initrd.img"
# No loop mount: mke2fs copies the tree in (owners, modes, device nodes, xattrs).
size=$(( $(du -sm "$R" | cut -f1) + 768 ))
truncate -s "${size}M" "$O/root.img"
mke2fs -q -t ext4 -L sekisho-root -d "$R" "$O/root.img"
rm -rf "$R"
mkdir -p "$CACHE"
rm -rf "$FINAL.tmp"
mv "$O" "$FINAL.tmp"
mv "$FINAL.tmp" "$FINAL"
# Keep the three newest final images.
ls -dt "$CACHE"/final-* 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
info "image built in $(( $(date +%s) - t0 )) s"
echo "$FINAL" >&3
