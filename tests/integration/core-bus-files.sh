#!/bin/sh
# core-bus-files.sh — the shipped D-Bus and polkit files are valid and agree with the code: introspection, actions, bus policy.
. "$(dirname "$0")/lib.sh"
need_cmd xmllint
S="$top_srcdir/systemd"

if [ -r /usr/share/xml/dbus-1/introspect.dtd ]; then
        xmllint --noout --dtdvalid /usr/share/xml/dbus-1/introspect.dtd "$S/org.sekisho.Sekisho1.xml" || fail "introspection XML"
else
        xmllint --noout "$S/org.sekisho.Sekisho1.xml" || fail "introspection XML"
fi
ok "org.sekisho.Sekisho1.xml is valid"

if [ -r /usr/share/polkit-1/policyconfig-1.dtd ]; then
        xmllint --noout --dtdvalid /usr/share/polkit-1/policyconfig-1.dtd "$S/org.sekisho.Sekisho1.policy" || fail "polkit policy"
else
        xmllint --noout "$S/org.sekisho.Sekisho1.policy" || fail "polkit policy"
fi
# Every action the daemon asks polkit about is declared, and nothing else: the core's
# (bus.h) and those of the methods plugins serve (struct sekisho_method .action).
code=$( { sed -n 's/^#define BUS_ACTION_[A-Z_]* "\(.*\)"$/\1/p' "$top_srcdir/daemon/bus.h"
          cat "$top_srcdir"/plugins/*/*.c | sed -n 's/.*\.action = "\(org\.sekisho\.[^"]*\)".*/\1/p'; } | sort)
shipped=$(sed -n 's/.*<action id="\([^"]*\)".*/\1/p' "$S/org.sekisho.Sekisho1.policy" | sort)
[ -n "$code" ] && [ "$code" = "$shipped" ] || fail "polkit actions differ: code [$code] shipped [$shipped]"
ok "org.sekisho.Sekisho1.policy is valid and declares: $(echo $shipped)"

# Every admin method in the interface is allowed by the bus policy (the daemon authorizes it).
xmllint --noout "$S/org.sekisho.Sekisho1.conf" || fail "bus policy XML"
for m in $(sed -n 's/.*<method name="\([^"]*\)".*/\1/p' "$S/org.sekisho.Sekisho1.xml"); do
        grep -q "send_interface=\"org.sekisho.Sekisho1\" send_member=\"$m\"" "$S/org.sekisho.Sekisho1.conf" \
                || fail "bus policy does not let callers reach $m"
done
grep -q '<allow own="org.sekisho.Sekisho1"/>' "$S/org.sekisho.Sekisho1.conf" || fail "bus policy: nobody may own the name"
ok "org.sekisho.Sekisho1.conf lets callers reach every method; only root owns the name"
