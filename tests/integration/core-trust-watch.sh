#!/bin/sh
# core-trust-watch.sh — keys.d is watched like the inbox: a new key is trusted by the running daemon without reload, so policy verify and policy apply agree.
. "$(dirname "$0")/lib.sh"
need_cmd minisign
make_key admin
start_daemon --plugins=demo

# A new key is seen without reload: policy verify and policy apply (the inbox) agree a moment later.
make_key second untrusted
write_policy "$T/p5.yaml" 5 "demo: { label: by-second }"; sign "$T/p5.yaml" second
cp "$T/keys/second.pub" "$T/keys.d/"
ctl policy verify "$T/p5.yaml" >/dev/null || fail "policy verify does not trust the new key"
drop "$T/p5.yaml"
wait_for '[ "$(serial_in_force)" = 5 ]' 100 || fail "the daemon did not see the new key without reload (serial $(serial_in_force))"
ok "a key added to keys.d is trusted by the running daemon without reload"


# A key removed from keys.d signs nothing new, without reload either.
write_policy "$T/p6.yaml" 6; sign "$T/p6.yaml" second
rm "$T/keys.d/second.pub"
wait_for "! ctl policy verify '$T/p6.yaml'" 50 || fail "policy verify still trusts a removed key"
drop "$T/p6.yaml"
wait_audit '"policy.refused"' 1 || fail "the daemon still trusts a key removed from keys.d"
[ "$(serial_in_force)" = 5 ] || fail "the policy in force changed"
ok "a key removed from keys.d is no longer trusted for new bundles, without reload; the policy in force stays"
stop_daemon
