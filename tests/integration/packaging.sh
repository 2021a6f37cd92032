#!/bin/sh
# packaging.sh — builds the Debian package from the committed tree and checks it with lintian and its file list (slow: runs only with SEKISHO_TEST_PACKAGE=1).
. "$(dirname "$0")/lib.sh"
[ "${SEKISHO_TEST_PACKAGE:-0}" = 1 ] || skip "set SEKISHO_TEST_PACKAGE=1 to build the Debian package (takes minutes)"
need_cmd dpkg-buildpackage dh git lintian
git -C "$top_srcdir" rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout"

"$top_srcdir/packaging/build-deb.sh" "$T/out" >"$T/build.log" 2>&1 || { tail -40 "$T/build.log"; fail "dpkg-buildpackage failed"; }
DEB=$(ls "$T"/out/sekisho_*.deb | head -n 1)
[ -f "$DEB" ] || fail "no .deb built"
ok "dpkg-buildpackage -us -uc -b"

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
for f in /usr/sbin/sekishod /usr/bin/sekishoctl /usr/bin/sekisho-notify \
         /lib/systemd/system/sekishod.service:/usr/lib/systemd/system/sekishod.service \
         /usr/share/dbus-1/system.d/org.sekisho.Sekisho1.conf \
         /usr/share/polkit-1/actions/org.sekisho.Sekisho1.policy \
         /lib/udev/rules.d/60-sekisho-usb.rules:/usr/lib/udev/rules.d/60-sekisho-usb.rules \
         /usr/share/man/man8/sekishod.8.gz /usr/share/man/man8/sekishoctl.8.gz /usr/share/man/man5/sekisho.policy.5.gz \
         /usr/share/man/man1/sekisho-notify.1.gz /usr/share/sekisho/policies/default.yaml \
         /usr/lib/tmpfiles.d/sekisho.conf /usr/share/locale/ja/LC_MESSAGES/sekisho.mo \
         /etc/xdg/autostart/sekisho-notify.desktop /usr/share/doc/sekisho/sbom.spdx.json /lib/systemd/system/sekisho-reset.service:/usr/lib/systemd/system/sekisho-reset.service \
         /lib/systemd/system/sekisho-reset-complete.service:/usr/lib/systemd/system/sekisho-reset-complete.service; do
        found=no
        for alt in $(echo "$f" | tr ':' ' '); do grep -qx "$alt" "$T/files" && found=yes; done
        [ $found = yes ] || fail "the package lacks $f"
done
ok "the package holds the daemon, CLI, agent, unit, bus and polkit policy, udev rules, man pages, default policy"

dpkg-deb -I "$DEB" postinst >"$T/postinst"
grep -q "deb-systemd-helper enable 'sekisho-reset.service'" "$T/postinst" || fail "sekisho-reset.service is not enabled"
if grep -q "deb-systemd-invoke .*sekisho-reset" "$T/postinst"; then fail "the package would start the factory reset"; fi
grep -q "deb-systemd-invoke .*sekishod.service" "$T/postinst" || fail "the package does not start sekishod"
ok "postinst starts sekishod, only enables sekisho-reset"
dpkg-deb -I "$DEB" postrm | grep -q keep-on-purge || fail "postrm does not honour /etc/sekisho/keep-on-purge"
lintian --fail-on error "$DEB" >"$T/lintian" 2>&1 || { cat "$T/lintian"; fail "lintian reports errors"; }
echo "# lintian (warnings allowed):"; sed 's/^/#   /' "$T/lintian"
ok "lintian: no errors"
