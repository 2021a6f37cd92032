#!/bin/bash
# vdi-lockdown.sh — Citrix/Horizon lockdown files written with the right keys; Remmina profiles locked and restored after tampering; symlinks never followed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vdi-lib.sh"
at_exit vdi_cleanup
need_root

R="$T/root"
mkdir -p "$R/etc" "$R/opt/Citrix/ICAClient/config" "$R/etc/vmware" "$R/home/alice/.local/share/remmina" "$R/home/bob"
cat >"$R/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
alice:x:1500:1500:Alice:/home/alice:/bin/bash
bob:x:1501:1501:Bob:/home/bob:/bin/bash
evil:x:1502:1502:Evil:/home/../etc:/bin/bash
PW
chown -R 1500:1500 "$R/home/alice"
chown 1501:1501 "$R/home/bob"
P="$R/home/alice/.local/share/remmina/work.remmina"
cat >"$P" <<PROF
[remmina]
name=work
server=192.0.2.10
protocol=RDP
disableclipboard=0
sharefolder=/home/alice
shareprinter=1
sharesmartcard=1
PROF
chown 1500:1500 "$P"; chmod 600 "$P"
# Remmina as a Flatpak keeps its profiles under ~/.var/app/org.remmina.Remmina/data/remmina.
FP="$R/home/alice/.var/app/org.remmina.Remmina/data/remmina/flat.remmina"
mkdir -p "$(dirname "$FP")"
cp "$P" "$FP"
chown -R 1500:1500 "$R/home/alice/.var"
# Citrix Workspace installed by alice herself (non-root install): ~/ICAClient/linuxx64.
CX="$R/home/alice/ICAClient/linuxx64"
mkdir -p "$CX/config"
chown -R 1500:1500 "$R/home/alice/ICAClient"
echo "secret" >"$T/target"; chmod 600 "$T/target"

cat >"$T/policy.yaml" <<POL
vdi:
  clipboard: deny
  drives: deny
  printers: deny
  usb-redirect: deny
  allow-devices: [keyboard, mouse, smartcard, biometric]
POL
start_vdi "$T/policy.yaml" --sysroot "$R"
VDI_FAILED=1

A="$R/opt/Citrix/ICAClient/config/All_Regions.ini"
for kv in 'ClipboardAllowed=False' 'CDMAllowed=Off' 'CPMAllowed=Off' 'COMAllowed=Off' 'AllowAudioInput=Off'; do
        grep -qx "$kv" "$A" || fail "All_Regions.ini lacks $kv"
done
grep -q '^\[Virtual Channels\\Clipboard\]$' "$A" || fail "All_Regions.ini lacks the clipboard section"
! grep -q SmartCardAllowed "$A" || fail "smart cards are allowed by the policy but locked in All_Regions.ini"
grep -qx 'DENY: # no USB device is redirected into a session' "$R/opt/Citrix/ICAClient/usb.conf" || fail "usb.conf not written"
H="$R/etc/vmware/view-mandatory-config"
grep -qx 'view.usbAutoConnectAtStartUp = "FALSE"' "$H" || fail "view-mandatory-config lacks usbAutoConnectAtStartUp"
grep -qx 'viewusb.ExcludeAllDevices = "TRUE"' "$H" || fail "view-mandatory-config lacks ExcludeAllDevices"
[ "$(stat -c %U:%a "$A")" = root:644 ] || fail "All_Regions.ini has owner/mode $(stat -c %U:%a "$A")"
ok "Citrix All_Regions.ini, usb.conf and Horizon view-mandatory-config written with the policy's keys"

grep -qx 'disableclipboard=1' "$P" || fail "profile not locked: $(cat "$P")"
grep -qx 'sharefolder=' "$P" || fail "sharefolder not cleared"
grep -qx 'shareprinter=0' "$P" || fail "shareprinter not cleared"
grep -qx 'sharesmartcard=1' "$P" || fail "an allowed smart card was changed"
grep -qx 'server=192.0.2.10' "$P" || fail "the rest of the profile was lost"
[ "$(stat -c %u:%g:%a "$P")" = 1500:1500:600 ] || fail "profile owner/mode changed: $(stat -c %u:%g:%a "$P")"
[ -d "$R/home/bob/.local/share/remmina" ] && [ "$(stat -c %u "$R/home/bob/.local/share/remmina")" = 1501 ] \
        || fail "bob's Remmina directory was not prepared as bob's"
[ ! -e "$R/etc/.local" ] || fail "a home outside /home with '..' was followed"
ok "Remmina profile locked, the rest kept, owner and mode kept"
grep -qx 'disableclipboard=1' "$FP" && grep -qx 'sharefolder=' "$FP" || fail "Flatpak Remmina profile not locked: $(cat "$FP")"
[ "$(stat -c %u:%g "$FP")" = 1500:1500 ] || fail "Flatpak profile owner changed"
[ ! -e "$R/home/bob/.var" ] || fail "a Flatpak directory was made for bob, who has no Flatpak Remmina"
sed -i 's/^disableclipboard=1$/disableclipboard=0/' "$FP"
wait_for "grep -qx 'disableclipboard=1' '$FP'" 50 || fail "tampered Flatpak profile not restored"
ok "Flatpak Remmina profile (~/.var/app/org.remmina.Remmina) locked and restored after tampering"
grep -qx 'ClipboardAllowed=False' "$CX/config/All_Regions.ini" || fail "per-user Citrix All_Regions.ini not written"
grep -q 'DENY' "$CX/usb.conf" || fail "per-user Citrix usb.conf not written"
echo 'ClipboardAllowed=True' >"$CX/config/All_Regions.ini"
wait_for "grep -qx 'ClipboardAllowed=False' '$CX/config/All_Regions.ini'" 50 || fail "per-user Citrix All_Regions.ini not restored"
ok "per-user Citrix Workspace (~/ICAClient/linuxx64): All_Regions.ini and usb.conf written and restored"

# Tampering: the user turns the clipboard back on.
sed -i 's/^disableclipboard=1$/disableclipboard=0/' "$P"
wait_for "grep -qx 'disableclipboard=1' '$P'" 50 || fail "tampered profile not restored: $(cat "$P")"
wait_for "grep -q 'vdi-lockdown-restored' '$T/audit.log'" 50 || fail "no audit record for the restore"
ok "tampered Remmina profile restored with an audit record"

# A new profile dropped in by the user is locked too.
printf '[remmina]\nname=new\nserver=192.0.2.11\n' >"$R/home/alice/.local/share/remmina/new.remmina"
chown 1500:1500 "$R/home/alice/.local/share/remmina/new.remmina"
wait_for "grep -qx 'disableclipboard=1' '$R/home/alice/.local/share/remmina/new.remmina'" 50 || fail "new profile not locked"
ok "new Remmina profile locked"

# Lockdown file replaced by a symlink: replaced atomically, target untouched.
ln -s "$T/target" "$A.evil" && mv -T "$A.evil" "$A"
wait_for "[ -f '$A' ] && [ ! -L '$A' ] && grep -qx 'ClipboardAllowed=False' '$A'" 50 || fail "symlinked All_Regions.ini not replaced"
[ "$(cat "$T/target")" = secret ] || fail "the symlink target was written to"
ok "All_Regions.ini replaced by a symlink: restored as a file, the target untouched"

ln -s "$T/target" "$R/home/alice/.local/share/remmina/link.remmina"
wait_for "[ ! -L '$R/home/alice/.local/share/remmina/link.remmina' ]" 50 || fail "symlinked profile left in place"
[ "$(cat "$T/target")" = secret ] || fail "the symlink target was written to"
ok "symlinked Remmina profile removed, target untouched"

# Edits of the Horizon file are reverted; an identical rewrite is not reported.
echo 'view.usbAutoConnectAtStartUp = "TRUE"' >>"$H"
wait_for "! grep -q 'AtStartUp = .TRUE' '$H'" 50 || fail "view-mandatory-config not restored"
ok "view-mandatory-config restored after an edit"
n=$(grep -c 'vdi-lockdown-restored' "$T/audit.log")
sleep 0.5
[ "$(grep -c 'vdi-lockdown-restored' "$T/audit.log")" = "$n" ] || fail "restores keep happening (a write loop)"
ok "no write loop on our own changes"
VDI_FAILED=0
