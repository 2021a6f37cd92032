#!/bin/sh
# run.sh — the installed-system tier: the .deb built from the committed tree, installed with apt into a Debian 12 image, booted under QEMU with systemd as PID 1; the guest checks what an image builder checks.
# Usage: tests/installed/run.sh [BUILDDIR]   (make check-installed). Exit 0 ok, 1 failed, 77 skipped.
# Environment: INSTALLED_CACHE (default /var/cache/sekisho-tests), INSTALLED_TIMEOUT seconds (default 900),
# INSTALLED_SMP (default 1), INSTALLED_ACCEL=auto|kvm|tcg (default auto: KVM if it proves itself),
# INSTALLED_KEEP=1 keeps the work directory, QEMU=binary.
# The last line is always `installed: N passed, N failed, N skipped`.
# Only files in the work directory and the cache are written: the guest's one network device reaches
# nothing but this test's nginx on loopback (QEMU user networking, restrict=on, one guestfwd), its
# USB devices are QEMU's, its disk is an image made here (booted with snapshot=on: the cached image
# is never written).
set -eu
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "SKIP: $*"; echo "installed: 0 passed, 0 failed, 1 skipped"; exit 77; }
fail() { echo "FAIL: $*"; echo "installed: 0 passed, 1 failed, 0 skipped"; exit 1; }
QEMU=${QEMU:-qemu-system-x86_64}
CACHE=${INSTALLED_CACHE:-/var/cache/sekisho-tests}

[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap in root mode, an image with root-owned files)"
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU is not installed (apt-get install qemu-system-x86)"
for c in mmdebstrap mke2fs minisign python3 dpkg-buildpackage dpkg-deb git unshare chroot; do
        command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (tests/installed/debian-packages)"
done
git -C "$top_srcdir" rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout: packaging/build-deb.sh packs the committed tree"
start=$(date +%s)

mkdir -p "$CACHE"
W=$(mktemp -d "${TMPDIR:-/var/tmp}/sekisho-installed.XXXXXX")
cleanup() {
        if [ "${INSTALLED_KEEP:-0}" = 1 ]; then echo "info: work directory kept: $W" >&2
        else rm -rf "$W"; fi
}
trap cleanup EXIT

# The .deb from the committed tree, cached by the tree minus tests/ and tools/ (the package ships neither).
key=$(git -C "$top_srcdir" ls-tree HEAD | grep -v -e "	tests$" -e "	tools$" | sha256sum | cut -c1-16)
DEBDIR="$CACHE/deb-$key"
if ! ls "$DEBDIR"/sekisho_*.deb >/dev/null 2>&1; then
        [ -z "$(git -C "$top_srcdir" status --porcelain --untracked-files=no -- . ':!tests' ':!tools')" ] ||
                echo "info: uncommitted changes are not in the package (build-deb.sh packs HEAD)"
        echo "info: building the .deb of $(git -C "$top_srcdir" rev-parse --short HEAD) (packaging/build-deb.sh)"
        t0=$(date +%s)
        rm -rf "$DEBDIR.tmp"
        "$top_srcdir/packaging/build-deb.sh" "$DEBDIR.tmp" >"$W/build-deb.log" 2>&1 ||
                { tail -n 30 "$W/build-deb.log"; rm -rf "$DEBDIR.tmp"; fail "packaging/build-deb.sh failed"; }
        # The whole tree it was built from: tests/repro/run.sh takes this build as its
        # control build when the tree is the same (one package build fewer).
        git -C "$top_srcdir" rev-parse 'HEAD^{tree}' >"$DEBDIR.tmp/tree"
        rm -rf "$DEBDIR"
        mv "$DEBDIR.tmp" "$DEBDIR"
        ls -dt "$CACHE"/deb-* | tail -n +4 | while read -r old; do rm -rf "$old"; done
        echo "info: .deb built in $(( $(date +%s) - t0 )) s"
fi
DEB=$(ls "$DEBDIR"/sekisho_*.deb | grep -v dbgsym | head -n1)

IMG=$("$top_srcdir/tests/installed/image.sh" "$CACHE" "$DEB" "$W") || fail "the image could not be built"
[ -s "$IMG/root.img" ] || fail "no image in '$IMG'"
echo "info: image $IMG ready after $(( $(date +%s) - start )) s"

# Issue 19: the repository sekisho-fetch.service polls. The package's own sekishoctl lays it out and
# signs its timestamp (`repo publish`, checked as the guest will check it); nginx serves it on loopback;
# the guest reaches it only as 10.0.2.100:80 through QEMU's user network with restrict=on (no route
# anywhere else; each connection relayed by socat to this nginx). Without nginx or socat the guest's
# fetch checks are skipped (it asks, and is told why).
NET=
if command -v nginx >/dev/null 2>&1 && command -v socat >/dev/null 2>&1; then
        mkdir -p "$W/pkg" "$W/trust" "$W/trust-state" "$W/www" "$W/nginx"
        dpkg-deb -x "$DEB" "$W/pkg"
        chmod 755 "$W/trust"
        cp "$IMG/root.yaml" "$IMG/root.yaml.minisig" "$W/trust/"
        "$W/pkg/usr/bin/sekishoctl" --keys-dir "$W/trust" --state-dir "$W/trust-state" repo publish "$W/www" \
                host:sekisho-installed "$IMG/repo-300.yaml" --key "$IMG/ts.key" --hours 24 >"$W/publish.log" 2>&1 ||
                { cat "$W/publish.log"; fail "sekishoctl repo publish of the test repository"; }
        echo "info: repository: $(cat "$W/publish.log")"
        PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        printf '%s\n' "daemon off;" "master_process off;" "user root;" "pid $W/nginx.pid;" \
                "error_log $W/nginx-error.log;" "events { worker_connections 64; }" "http {" \
                "        access_log $W/access.log;" \
                "        client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;" \
                "        uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;" \
                "        server { listen 127.0.0.1:$PORT; root $W/www; }" "}" >"$W/nginx.conf"
        : >"$W/access.log"
        nginx -c "$W/nginx.conf" -p "$W" 2>>"$W/nginx-error.log" &
        NGINX_PID=$!
        trap 'kill $NGINX_PID 2>/dev/null; cleanup' EXIT
        NET="user,id=net0,restrict=on,ipv6=off,guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:$PORT"
else
        echo "info: no nginx or socat on this host: the guest's fetch checks are skipped"
fi
export INSTALLED_WORK="$W"

truncate -s 8M "$W/stick.img"
APPEND="console=ttyS0 root=/dev/vda rw rootfstype=ext4 loglevel=4 systemd.show_status=error panic=-1"
APPEND="$APPEND usbcore.authorized_default=0"
echo "info: $(${QEMU} --version | head -n1), smp ${INSTALLED_SMP:-1}, $(basename "$DEB")"
# snapshot=on: the guest's writes go to a temporary overlay in TMPDIR (the work directory).
rc=0
TMPDIR="$W" python3 "$top_srcdir/tests/e2e/driver.py" --workdir "$W" --timeout "${INSTALLED_TIMEOUT:-900}" \
        --tier installed --tag INST --accel "${INSTALLED_ACCEL:-auto}" \
        --host-request "$top_srcdir/tests/installed/host-request.sh" -- \
        "$QEMU" -machine pc -m 1024 -smp "${INSTALLED_SMP:-1}" -nodefaults -display none -no-reboot \
        -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" -append "$APPEND" \
        -drive "file=$IMG/root.img,if=virtio,format=raw,snapshot=on" \
        -serial stdio -serial "unix:$W/ctl.sock,server=on,wait=off" -qmp "unix:$W/qmp.sock,server=on,wait=off" \
        -device qemu-xhci,id=xhci,p2=15,p3=15 \
        -device usb-kbd,bus=xhci.0,id=kbd0 \
        -blockdev "driver=raw,node-name=stickimg,read-only=on,file.driver=file,file.filename=$W/stick.img" \
        -device usb-storage,bus=xhci.0,drive=stickimg,id=stick0,serial=INSTSTICK0 \
        ${NET:+-netdev} ${NET:+"$NET"} ${NET:+-device} ${NET:+virtio-net-pci,netdev=net0} || rc=$?
exit $rc
