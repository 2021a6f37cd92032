/* sandbox.h — the daemon's libseccomp allowlist, installed once start-up is done. */
#pragma once

#include <stddef.h>

/* Install the allowlist: the core's system calls plus each NULL-terminated
 * list in extra (the plugins' own needs). Anything else fails with EPERM;
 * calls that could change what runs (execve, ptrace, module loading, kexec,
 * mount, bpf) kill the process. Returns 0 or a negative errno, with the
 * reason in why (the cause, when seccomp(2) itself is blocked). */
int sandbox_install(const int *const *extra, unsigned n_extra, char *why, size_t why_size);

/* The same, for a helper: only the calls in allow (a -1-terminated list),
 * without the daemon's. Logs nothing. */
int sandbox_install_only(const int *allow, char *why, size_t why_size);
