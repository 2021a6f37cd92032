/* sandbox.c — the seccomp allowlist: what sekishod may still do once it is enforcing. */
#include "config.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dl.h"
#include "sandbox.h"
#include "util.h"

/* libseccomp builds the filter once and is never needed again: it is
 * loaded for that (through the one loader, daemon/dl.c) and unloaded after,
 * so the enforcing daemon does not keep it resident. */
#define SECCOMP_FUNCS(X) \
        X(seccomp_api_get) X(seccomp_attr_set) X(seccomp_init) X(seccomp_load) X(seccomp_release) X(seccomp_rule_add)
static const char *const seccomp_libs[] = { "libseccomp.so.2", NULL };
static struct {
        SECCOMP_FUNCS(DL_FIELD)
} scmp;

/* Everything the core (its D-Bus connection too), libudev and glibc need in the steady
 * state: reading and writing files and sysfs, the epoll loop and its fds,
 * unix and netlink sockets, time, memory. */
static const int core_syscalls[] = {
        SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
        SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(openat), SCMP_SYS(open),
        SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx),
        SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(getdents64), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
        SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(fcntl), SCMP_SYS(ioctl),
        SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
        SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
        SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(syncfs), SCMP_SYS(ftruncate), SCMP_SYS(fchmod), SCMP_SYS(umask),
        SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(getcwd),
        SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
        SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_create1),
        SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
        SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
        SCMP_SYS(signalfd4), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
        SCMP_SYS(inotify_init1), SCMP_SYS(inotify_add_watch), SCMP_SYS(inotify_rm_watch), SCMP_SYS(eventfd2),
        SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(getsockname),
        SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
        SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown),
        SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
        SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
        SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
        SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getgroups),
        SCMP_SYS(uname), SCMP_SYS(getrandom), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64),
        SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(restart_syscall),
        SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
        SCMP_SYS(memfd_create), SCMP_SYS(flock), SCMP_SYS(prctl),
        SCMP_SYS(waitid), /* reaps sekisho-probe (tlsprobe.c), the one child, started before the filter */
#ifdef ENABLE_FAULT_INJECTION
        SCMP_SYS(tgkill), /* fault_point() kills the daemon as a power loss would */
#endif
        -1,
};

/* Calls that would change what runs on this machine: a compromised daemon
 * that tries one is stopped on the spot instead of getting EPERM. */
static const int fatal_syscalls[] = {
        SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(init_module), SCMP_SYS(finit_module),
        SCMP_SYS(delete_module), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(mount),
        SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(bpf), SCMP_SYS(process_vm_writev),
        SCMP_SYS(open_by_handle_at), SCMP_SYS(setns), SCMP_SYS(unshare), SCMP_SYS(reboot), SCMP_SYS(swapon),
#ifndef ENABLE_SANITIZERS
        SCMP_SYS(ptrace), /* LeakSanitizer stops the world with ptrace at exit */
#endif
        -1,
};

#ifdef ENABLE_SANITIZERS
/* ASan/UBSan/LSan at run time and at exit. */
static const int sanitizer_syscalls[] = {
        SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(sigaltstack),
        SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(mincore), SCMP_SYS(sched_setaffinity), SCMP_SYS(getdents),
        SCMP_SYS(waitid), SCMP_SYS(rt_sigtimedwait), -1,
};
#endif

static int add_list(scmp_filter_ctx f, const int *list, uint32_t action) {
        for (; *list != -1; list++) {
                if (*list < 0) /* not on this architecture */
                        continue;
                int r = scmp.seccomp_rule_add(f, action, *list, 0);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

/* SCMP_ACT_KILL_PROCESS needs libseccomp API level 3, which needs seccomp(2)
 * itself. Where it is missing, say why: most often a service manager's
 * SystemCallFilter= that leaves seccomp(2) out (issue 13), where libseccomp
 * quietly falls back to level 1 and the filter fails with a bare EINVAL. */
static int check_api(char *why, size_t why_size) {
        unsigned level = scmp.seccomp_api_get();
        if (level >= 3)
                return 0;
        uint32_t action = SECCOMP_RET_KILL_PROCESS;
        int r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 ? -errno : 0;
        if (r == -EPERM || r == -EACCES)
                snprintf(why, why_size, "seccomp(2) is blocked by the service manager's filter (%s); "
                         "libseccomp fell back to API level %u, without SCMP_ACT_KILL_PROCESS. "
                         "Allow it: SystemCallFilter=@system-service seccomp",
                         strerror(-r), level);
        else if (r == -ENOSYS)
                snprintf(why, why_size, "seccomp(2) is not available (%s); libseccomp API level %u has no "
                         "SCMP_ACT_KILL_PROCESS (kernel 4.14 or later is needed)", strerror(-r), level);
        else
                snprintf(why, why_size, "libseccomp API level %u has no SCMP_ACT_KILL_PROCESS (seccomp(2): %s)",
                         level, r < 0 ? strerror(-r) : "works");
        return r < 0 ? r : -EOPNOTSUPP;
}

/* The fatal list, then base and each of extra allowed; everything else EPERM. */
static int install(const int *base, const int *const *extra, unsigned n_extra, char *why, size_t why_size) {
        why[0] = '\0';
        int r = check_api(why, why_size);
        if (r < 0)
                return r;
        scmp_filter_ctx f = scmp.seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!f)
                return -ENOMEM;
        r = add_list(f, fatal_syscalls, SCMP_ACT_KILL_PROCESS);
        if (r == 0)
                r = add_list(f, base, SCMP_ACT_ALLOW);
#ifdef ENABLE_SANITIZERS
        if (r == 0)
                r = add_list(f, sanitizer_syscalls, SCMP_ACT_ALLOW);
#endif
        for (unsigned i = 0; r == 0 && i < n_extra; i++)
                r = add_list(f, extra[i], SCMP_ACT_ALLOW);
        if (r == 0)
                r = scmp.seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
        if (r == 0)
                r = scmp.seccomp_load(f);
        scmp.seccomp_release(f);
        if (r < 0)
                snprintf(why, why_size, "%s", strerror(-r));
        return r;
}

/* Load libseccomp, install, unload. */
static int load_and_install(const int *base, const int *const *extra, unsigned n_extra, char *why, size_t why_size) {
        int r = DL_LOAD(scmp, SECCOMP_FUNCS, seccomp_libs, why, why_size);
        if (r < 0)
                return r;
        r = install(base, extra, n_extra, why, why_size);
        memset(&scmp, 0, sizeof scmp);
        dl_unload(seccomp_libs);
        return r;
}

int sandbox_install(const int *const *extra, unsigned n_extra, char *why, size_t why_size) {
        int r = load_and_install(core_syscalls, extra, n_extra, why, why_size);
        if (r == 0)
                log_info("Seccomp sandbox installed");
        return r;
}

int sandbox_install_only(const int *allow, char *why, size_t why_size) {
        return load_and_install(allow, NULL, 0, why, why_size);
}
