#!/bin/sh
# unit-paths.sh — the real sekishod with the vdi plugin under the mount view its unit gives it (ProtectSystem=, ProtectHome=, Read{Write,Only}Paths=, State/LogsDirectory= rebuilt with unshare -m on a private tree): every lockdown file is written, nothing fails with EROFS or EACCES, users' symlinks are not followed (issue 13).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd unshare mount awk setpriv
"$SEKISHOD" --help 2>&1 | grep -q '^  vdi ' || skip "sekishod is built without the vdi plugin"
UNIT=${SEKISHO_TEST_UNIT:-$top_builddir/systemd/sekishod.service}
[ -f "$UNIT" ] || fail "no unit file $UNIT (make systemd/sekishod.service)"
unshare -m --propagation private true 2>/dev/null || skip "cannot make a mount namespace here"
machine_wide_lock vdi-exec # one VDI daemon on the machine at a time: it watches every exec (vdi-lib.sh)

# The mount plan systemd derives from the unit (src/core/namespace.c): one line per path,
# "PATH PRIORITY ro|rw OPTIONAL". For one path the lowest priority wins, as in systemd's
# drop_duplicates(): state/logs directories (bind mounts) 1, read-only 2, read-write 3,
# what ProtectSystem=strict leaves writable (/home, /root, /run/user, API file systems) 4.
awk '
function add(p, prio, mode, opt) { print p, prio, mode, opt }
function paths(v, prio, mode,   n, i, w, a, opt) {
        n = split(v, a, /[ \t]+/)
        for (i = 1; i <= n; i++) {
                w = a[i]; opt = 0
                while (w ~ /^[-+]/) { if (w ~ /^-/) opt = 1; w = substr(w, 2) }
                if (w != "") list[++nl] = w " " prio " " mode " " opt
        }
}
/^\[/ { service = ($0 == "[Service]"); next }
!service || /^[ \t]*(#|;|$)/ { next }
{
        k = $0; sub(/=.*/, "", k); v = $0; sub(/^[^=]*=/, "", v)
        if (k == "ProtectSystem") psys = v
        else if (k == "ProtectHome") phome = v
        else if (k == "ReadWritePaths") { if (v == "") rw = ""; else rw = rw " " v }
        else if (k == "ReadOnlyPaths" || k == "InaccessiblePaths") { if (v == "") ro = ""; else ro = ro " " v }
        else if (k == "StateDirectory") { n = split(v, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] != "") add("/var/lib/" a[i], 1, "rw", 0) }
        else if (k == "LogsDirectory") { n = split(v, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] != "") add("/var/log/" a[i], 1, "rw", 0) }
}
END {
        if (psys == "strict") {
                add("/", 2, "ro", 0)
                split("/proc /sys /dev /home /run/user /root", a, " ")
                for (i = 1; i <= 6; i++) add(a[i], 4, "rw", 1)
        } else if (psys == "yes" || psys == "true" || psys == "full") {
                add("/usr", 2, "ro", 0); add("/boot", 2, "ro", 1); add("/efi", 2, "ro", 1)
                if (psys == "full") add("/etc", 2, "ro", 0)
        }
        if (phome == "yes" || phome == "true" || phome == "read-only" || phome == "tmpfs")
                { add("/home", 2, "ro", 1); add("/run/user", 2, "ro", 1); add("/root", 2, "ro", 1) }
        paths(rw, 3, "rw"); paths(ro, 2, "ro")
        for (i = 1; i <= nl; i++) print list[i]
}' "$UNIT" | LC_ALL=C sort -k1,1 -k2,2n | awk '$1 != last { print; last = $1 }' >"$T/plan"
grep -q '^/ ' "$T/plan" || skip "the unit does not use ProtectSystem=strict: nothing to check"
sed 's/^/# plan: /' "$T/plan"
# The capabilities the unit leaves root (CapabilityBoundingSet=, as setpriv(1) spells them):
# root without CAP_DAC_OVERRIDE cannot write in a user's 0700 home, as under systemd.
caps=$(awk '/^\[/ { service = ($0 == "[Service]"); next }
        service && /^CapabilityBoundingSet=/ { v = substr($0, 23); if (v ~ /^~/) { print "~"; exit } if (v == "") set = ""; else set = set " " v }
        END { n = split(set, a, /[ \t]+/); out = "-all"; for (i = 1; i <= n; i++) if (a[i] != "") out = out ",+" tolower(substr(a[i], 5)); print out }' "$UNIT")
[ "$caps" != "~" ] || skip "CapabilityBoundingSet=~ (a deny list) is not understood here"
echo "# capabilities: $caps"

# A private tree standing for /: clients installed, users with and without Remmina profiles,
# and users who planted symlinks where the plugin writes.
R="$T/root"
mkdir -p "$R/etc/sekisho/keys.d" "$R/opt/Citrix/ICAClient/config" "$R/etc/vmware" "$R/var/lib/sekisho" \
        "$R/var/log/sekisho" "$R/home/alice/.local/share/remmina" "$R/home/bob" "$R/home/carol" "$R/home/dave/.local/share" \
        "$R/root" "$R/usr" "$T/elsewhere/share/remmina"
chmod 700 "$R/var/lib/sekisho"
cat >"$R/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
alice:x:1500:1500:Alice:/home/alice:/bin/bash
bob:x:1501:1501:Bob:/home/bob:/bin/bash
carol:x:1502:1502:Carol:/home/carol:/bin/bash
dave:x:1503:1503:Dave:/home/dave:/bin/bash
PW
printf 'terminal-id: test-terminal\ngroups: [test]\naudit-syslog: false\n' >"$R/etc/sekisho/sekisho.conf"
P="$R/home/alice/.local/share/remmina/work.remmina"
printf '[remmina]\nserver=192.0.2.10\ndisableclipboard=0\nsharefolder=/home/alice\nshareprinter=1\n' >"$P"
chmod 640 "$P"
chown -R 1500:1500 "$R/home/alice"
chown 1501:1501 "$R/home/bob"
chmod 700 "$R/home/alice" "$R/home/alice/.local/share/remmina" "$R/home/bob" "$R/home/carol" "$R/home/dave"  # Debian 12: HOME_MODE 0700
ln -s "$T/elsewhere" "$R/home/carol/.local"      # carol: ~/.local points out of her home
chown -h 1502:1502 "$R/home/carol" "$R/home/carol/.local"
ln -s /etc "$R/home/dave/.local/share/remmina"    # dave: the profile directory points at /etc
chown -R -h 1503:1503 "$R/home/dave"
ls -A "$R/etc" >"$T/etc.before"

# The mount view, in a private mount namespace only: each planned path of the tree bound onto
# itself and remounted read-only or read-write, parents first; then sekishod itself.
cat >"$T/view.sh" <<'VIEW'
R=$1; plan=$2; shift 2
while read -r path prio mode opt; do
        case $path in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac # kernel file systems: not in the tree
        t=$R${path%/}
        if [ ! -e "$t" ]; then
                [ "$opt" = 1 ] && continue
                echo "unit-paths: the unit names $path, missing here (systemd fails such a unit with 226/NAMESPACE)"
                exit 1
        fi
        mount --bind "$t" "$t" && mount -o "remount,bind,$mode" "$t" || exit 1
done <"$plan"
exec setpriv --bounding-set="$CAPS" --inh-caps=-all "$@"
VIEW
CAPS=$caps unshare -m --propagation private sh "$T/view.sh" "$R" "$T/plan" \
        "$SEKISHOD" --foreground --plugins=vdi --bus=none --sysroot "$R" --config "$R/etc/sekisho/sekisho.conf" \
        --state-dir "$R/var/lib/sekisho" --keys-dir "$R/etc/sekisho/keys.d" --inbox "$R/var/lib/sekisho/inbox" \
        --audit-log "$R/var/log/sekisho/audit.log" >"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for "grep -q ' enforcing: ' '$T/daemon.log' || ! kill -0 $DAEMON_PID" 100
grep -q ' enforcing: ' "$T/daemon.log" || fail "sekishod did not start under the unit's mount view"

# Nothing the daemon or the plugin writes may hit the unit's read-only view.
if grep -E 'Read-only file system|Permission denied|Operation not permitted' "$T/daemon.log"; then
        fail "a write the unit forbids (above): the plugin's UNIT_WRITABLE_PATHS or the unit's CapabilityBoundingSet= lacks it"
fi
grep -qx 'ClipboardAllowed=False' "$R/opt/Citrix/ICAClient/config/All_Regions.ini" || fail "All_Regions.ini not written"
[ -s "$R/opt/Citrix/ICAClient/usb.conf" ] || fail "Citrix usb.conf not written"
[ -s "$R/etc/vmware/view-mandatory-config" ] || fail "view-mandatory-config not written"
[ -s "$R/var/lib/sekisho/status.json" ] && [ -s "$R/var/log/sekisho/audit.log" ] || fail "state or audit log not written"
ok "Citrix, Horizon, state and audit files written under the unit's view"

grep -qx 'disableclipboard=1' "$P" && grep -qx 'shareprinter=0' "$P" && ! grep -q '^sharefolder=/' "$P" \
        || fail "alice's Remmina profile not locked: $(cat "$P")"
[ "$(stat -c '%u:%g %a' "$P")" = "1500:1500 640" ] || fail "alice's profile changed owner or mode: $(stat -c '%u:%g %a' "$P")"
[ "$(stat -c '%u:%g %a' "$R/home/bob/.local/share/remmina")" = "1501:1501 700" ] \
        || fail "bob's Remmina directory not created as his: $(stat -c '%u:%g %a' "$R/home/bob/.local/share/remmina" 2>&1)"
ok "users' Remmina profiles locked in their homes, owner and mode kept"

[ -z "$(ls -A "$T/elsewhere/share/remmina")" ] || fail "the plugin followed carol's ~/.local symlink"
[ ! -e "$T/elsewhere/share/remmina/../../.local" ] || fail "the plugin created through carol's symlink"
ls -A "$R/etc" | cmp -s - "$T/etc.before" || fail "the plugin wrote into /etc through dave's symlink: $(ls -A "$R/etc")"
[ "$(stat -c %u "$R/etc")" = 0 ] || fail "the plugin chowned /etc through dave's symlink"
ok "symlinked ~/.local and profile directory not followed"

# Tampering is undone under the same view.
sed -i 's/^disableclipboard=1$/disableclipboard=0/' "$P"
wait_for "grep -qx 'disableclipboard=1' '$P'" 50 || fail "tampered profile not restored under the unit's view"
grep -E 'Read-only file system|Permission denied|Operation not permitted' "$T/daemon.log" && fail "a write the unit forbids while restoring"
ok "tampered profile restored"
stop_daemon
