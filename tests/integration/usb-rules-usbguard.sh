#!/bin/sh
# usb-rules-usbguard.sh — the project's rule vectors (tests/data/usbguard/) decided the same way by USBGuard's own parser, when Debian's usbguard is installed (test-usbrule checks sekisho's side).
. "$(dirname "$0")/lib.sh"
need_cmd usbguard-rule-parser
D="$top_srcdir/tests/data/usbguard"
n=0
while IFS= read -r rule; do
        n=$((n + 1))
        usbguard-rule-parser "$rule" >/dev/null 2>&1 || fail "good.txt:$n: USBGuard refuses: $rule"
done <"$D/good.txt"
ok "good.txt: USBGuard accepts all $n rules"
n=0
while IFS= read -r rule; do
        n=$((n + 1))
        usbguard-rule-parser "$rule" >/dev/null 2>&1 && fail "bad.txt:$n: USBGuard accepts: $rule"
done <"$D/bad.txt"
ok "bad.txt: USBGuard refuses all $n rules"
