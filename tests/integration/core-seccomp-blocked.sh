#!/bin/sh
# core-seccomp-blocked.sh — under a filter that denies seccomp(2) (a unit's SystemCallFilter= without it), sekishod refuses to run unsandboxed and names the cause (issue 13).
. "$(dirname "$0")/lib.sh"
need_cmd python3
python3 -c 'import ctypes, ctypes.util; assert ctypes.util.find_library("seccomp")' 2>/dev/null \
        || skip "libseccomp cannot be loaded from python3 (ctypes)"
setup_dirs
# What systemd does for SystemCallFilter=@system-service with SystemCallErrorNumber=EPERM:
# seccomp(2) fails with EPERM, everything else is allowed; the filter is inherited over exec.
cat >"$T/noseccomp.py" <<'PY'
import ctypes, ctypes.util, errno, os, sys
lib = ctypes.CDLL(ctypes.util.find_library("seccomp"), use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
ctx = lib.seccomp_init(0x7fff0000)                          # SCMP_ACT_ALLOW
nr = lib.seccomp_syscall_resolve_name(b"seccomp")
if not ctx or nr < 0 or lib.seccomp_rule_add(ctx, 0x00050000 | errno.EPERM, nr, 0) or lib.seccomp_load(ctx):
    sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
PY
set +e
python3 "$T/noseccomp.py" "$SEKISHOD" --foreground --plugins=demo --config "$T/sekisho.conf" --state-dir "$T/state" \
        --keys-dir "$T/keys.d" --inbox "$T/inbox" --audit-log "$T/log/audit.log" --bus=none >"$T/daemon.log" 2>&1
rc=$?
set -e
[ $rc = 77 ] && skip "cannot install a seccomp filter here"
[ $rc != 0 ] || fail "sekishod ran without its sandbox (exit 0)"
grep -q "Cannot install the seccomp sandbox: seccomp(2) is blocked by the service manager's filter" "$T/daemon.log" \
        || fail "the cause is not named: $(grep -i seccomp "$T/daemon.log")"
grep -q "SystemCallFilter=@system-service seccomp" "$T/daemon.log" || fail "the remedy is not named"
grep -q ' enforcing: ' "$T/daemon.log" && fail "sekishod said it was enforcing without its sandbox"
ok "seccomp(2) denied: sekishod exits $rc and says the service manager's filter blocks seccomp(2)"
