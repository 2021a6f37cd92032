/* vdi-proc.c — reads /proc/PID of a new process (bounded, hostile) and decides by the policy whether that VDI client may run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lockdown.h"
#include "util.h"
#include "vdi-proc.h"

static void basename_into(const char *path, size_t len, char *out, size_t out_size) {
        const char *end = path + len;
        const char *b = end;
        while (b > path && b[-1] != '/')
                b--;
        size_t n = (size_t) (end - b);
        if (n >= out_size)
                n = out_size - 1;
        memcpy(out, b, n);
        out[n] = 0;
}

static int map_gone(int r) {
        return r == -ENOENT || r == -ESRCH ? -ESRCH : r;
}

int vdi_proc_read(const char *proc_root, pid_t pid, struct vdi_proc *ret) {
        char path[64];
        memset(ret, 0, sizeof *ret);
        ret->proc_fd = -1;
        ret->pid = pid;
        snprintf(path, sizeof path, "%s/%d", proc_root, (int) pid);
        ret->proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ret->proc_fd < 0)
                return map_gone(-errno);
        struct stat st;
        if (fstat(ret->proc_fd, &st) < 0)
                return map_gone(-errno);
        ret->uid = st.st_uid;
        ret->gid = st.st_gid;

        char exe[PATH_MAX];
        ssize_t n = readlinkat(ret->proc_fd, "exe", exe, sizeof exe - 1);
        if (n >= 0) {
                exe[n] = 0;
                static const char deleted[] = " (deleted)";
                size_t len = (size_t) n;
                if (len > sizeof deleted - 1 && strcmp(exe + len - (sizeof deleted - 1), deleted) == 0)
                        len -= sizeof deleted - 1;
                basename_into(exe, len, ret->exe_base, sizeof ret->exe_base);
        } else if (errno == ESRCH)
                return -ESRCH;
        else if (errno == ENOENT)
                return -ENOEXEC; /* a kernel thread (or gone): nothing to decide either way */

        _cleanup_close_ int fd = openat(ret->proc_fd, "cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return map_gone(-errno);
        size_t size = 0;
        int r = read_fd_capped(fd, VDI_MAX_CMDLINE, &ret->argbuf, &size);
        if (r == -EFBIG) {
                ret->cmdline_too_long = true;
                return 0;
        }
        if (r < 0)
                return map_gone(r);
        if (size == 0)
                return -ESRCH; /* zombie or exited */
        size_t argc = 0;
        for (size_t i = 0; i < size; i++)
                if (ret->argbuf[i] == 0)
                        argc++;
        if (ret->argbuf[size - 1] != 0)
                argc++; /* last argument without its NUL (argv rewritten) */
        if (argc > RDP_MAX_ARGS + 1) {
                ret->cmdline_too_long = true;
                return 0;
        }
        ret->argv = calloc(argc + 1, sizeof(char *));
        if (!ret->argv)
                return -ENOMEM;
        for (size_t i = 0, k = 0; i < size && k < argc; k++) {
                ret->argv[k] = ret->argbuf + i;
                i += strlen(ret->argbuf + i) + 1;
        }
        ret->argc = argc;
        basename_into(ret->argv[0], strlen(ret->argv[0]), ret->argv0_base, sizeof ret->argv0_base);
        return 0;
}

void vdi_proc_done(struct vdi_proc *p) {
        if (p->proc_fd >= 0)
                close(p->proc_fd);
        free(p->argv);
        free(p->argbuf);
        p->proc_fd = -1;
        p->argv = NULL;
        p->argbuf = NULL;
}

const struct vdi_client_info *vdi_proc_client(const struct vdi_proc *p) {
        const struct vdi_client_info *c = vdi_client_by_exec(p->exe_base);
        return c ? c : vdi_client_by_exec(p->argv0_base);
}

int vdi_proc_read_file(void *userdata, const char *path, size_t max, char **ret_data, size_t *ret_size) {
        struct vdi_proc *p = userdata;
        if (!path || !*path)
                return -EINVAL;
        _cleanup_close_ int dfd = openat(p->proc_fd, path[0] == '/' ? "root" : "cwd",
                                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        struct open_how how = {
                .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        if (path[0] != '/')
                how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; /* relative: no '..' escape either */
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof how);
        if (fd < 0 && errno == EXDEV && path[0] != '/') {
                /* "../x.rdp" is legitimate for a user; resolve it inside the process root instead. */
                how.resolve = RESOLVE_NO_MAGICLINKS;
                fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof how);
        }
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL; /* a FIFO, device or directory: we would block or read nonsense */
        bool readable = (st.st_mode & S_IROTH) || (st.st_uid == p->uid && (st.st_mode & S_IRUSR)) ||
                        (st.st_gid == p->gid && (st.st_mode & S_IRGRP));
        if (!readable)
                return -EACCES; /* do not read for a user what the user could not read */
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        return read_fd_capped(fd, max, ret_data, ret_size);
}

/* Code injected through the dynamic loader can rewrite the arguments we read or
 * replace libfreerdp altogether: such a client cannot be judged by its arguments.
 * Read only for recognised clients; an unreadable environment counts as injected. */
static void read_loader_env(struct vdi_proc *p) {
        _cleanup_close_ int efd = openat(p->proc_fd, "environ", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *env = NULL;
        size_t env_size = 0;
        int er = efd < 0 ? -errno : read_fd_capped(efd, VDI_MAX_CMDLINE, &env, &env_size);
        if (er == -EFBIG)
                snprintf(p->injected, sizeof p->injected, "(environment too large)");
        else if (er < 0)
                snprintf(p->injected, sizeof p->injected, "(environment unreadable)");
        else {
                static const char *const loader_vars[] = { "LD_PRELOAD=", "LD_AUDIT=", "LD_LIBRARY_PATH=", NULL };
                for (size_t i = 0; i < env_size; i += strlen(env + i) + 1)
                        for (const char *const *v = loader_vars; *v; v++)
                                if (strncmp(env + i, *v, strlen(*v)) == 0 && env[i + strlen(*v)] != 0)
                                        snprintf(p->injected, sizeof p->injected, "%.*s", (int) strlen(*v) - 1, *v);
        }
}

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void kill_for(struct vdi_decision *ret, int res, const char *opt, const char *prefix, const char *what) {
        ret->kill = true;
        ret->res = res;
        ret->clause = res >= 0 ? vdi_clause(res) : "vdi";
        rdp_sanitize(opt, ret->option, sizeof ret->option);
        snprintf(ret->reason, sizeof ret->reason, "%s%s", prefix, what);
}

/* Remmina is locked through its profiles, but "remmina -c FILE|URI" connects with a
 * profile outside the watched directory, or with defaults that share the clipboard. */
static void decide_remmina(const struct vdi_policy *pol, struct vdi_proc *p, struct vdi_decision *ret) {
        for (size_t i = 1; i < p->argc && !ret->kill; i++) {
                const char *a = p->argv[i], *target = NULL;
                if (strcmp(a, "-c") == 0 || strcmp(a, "--connect") == 0)
                        target = i + 1 < p->argc ? p->argv[++i] : NULL;
                else if (strncmp(a, "--connect=", 10) == 0)
                        target = a + 10;
                else if (strncmp(a, "-c", 2) == 0 && a[2] && a[1] != '-')
                        target = a + 2;
                else if (a[0] != '-')
                        target = a;
                if (!target || !*target)
                        continue;
                if (strstr(target, "://")) {
                        if (pol->deny & (1u << VDI_RES_CLIPBOARD))
                                kill_for(ret, VDI_RES_CLIPBOARD, target, "",
                                         "a connection URI uses Remmina's defaults, which share the clipboard");
                        continue;
                }
                if (ends_with(target, ".rdp") || !ends_with(target, ".remmina")) {
                        kill_for(ret, RDP_RES_DOUBT, target, "cannot be checked: ",
                                 "Remmina would import a file that is not a Remmina profile");
                        continue;
                }
                char *data = NULL, *locked = NULL;
                size_t size = 0, lsize = 0;
                int r = vdi_proc_read_file(p, target, 1024 * 1024, &data, &size);
                if (r == 0)
                        r = lockdown_remmina_profile(pol->deny, data, size, &locked, &lsize);
                if (r < 0)
                        kill_for(ret, RDP_RES_DOUBT, target, "cannot be checked: ", "the profile cannot be read");
                else if (lsize != size || memcmp(locked, data, size) != 0)
                        kill_for(ret, RDP_RES_DOUBT, target, "",
                                 "the profile does not keep every denied redirection off (disableclipboard=1, ...)");
                free(data);
                free(locked);
        }
}

void vdi_decide(const struct vdi_policy *pol, const struct vdi_client_info *c, struct vdi_proc *p,
                struct vdi_decision *ret) {
        memset(ret, 0, sizeof *ret);
        int res;
        const char *clause = vdi_policy_refuses(pol, c, &res);
        if (clause) {
                ret->kill = true;
                ret->res = res;
                ret->clause = clause;
                rdp_sanitize(p->exe_base[0] ? p->exe_base : p->argv0_base, ret->option, sizeof ret->option);
                if (res < 0)
                        snprintf(ret->reason, sizeof ret->reason, "%s is not in the clients the policy allows", c->display);
                else
                        snprintf(ret->reason, sizeof ret->reason, "%s cannot be kept from %s (%s); the policy denies it",
                                 c->display, vdi_res_name(res), c->how[res]);
                return;
        }
        if ((c->id == VDI_CLIENT_REMMINA || c->id == VDI_CLIENT_FREERDP) && pol->deny) {
                read_loader_env(p);
                if (p->injected[0]) {
                        kill_for(ret, RDP_RES_DOUBT, p->injected, "cannot be checked: ",
                                 "the dynamic loader was told to inject code into the client");
                        return;
                }
                if (p->cmdline_too_long) {
                        kill_for(ret, RDP_RES_DOUBT, "(command line)", "cannot be checked: ",
                                 "a command line longer than 256 KiB");
                        return;
                }
        }
        if (c->id == VDI_CLIENT_REMMINA && pol->deny) {
                decide_remmina(pol, p, ret);
                return;
        }
        bool args = false;
        for (int r = 0; r < _VDI_RES_MAX; r++)
                if ((pol->deny & (1u << r)) && c->enforce[r] == VDI_ENF_ARGS)
                        args = true;
        if (!args)
                return;
        if (p->cmdline_too_long) {
                ret->kill = true;
                ret->res = RDP_RES_DOUBT;
                ret->clause = "vdi";
                snprintf(ret->option, sizeof ret->option, "(command line)");
                snprintf(ret->reason, sizeof ret->reason, "cannot be checked: a command line longer than %u bytes",
                         VDI_MAX_CMDLINE);
                return;
        }
        struct rdp_verdict v;
        if (rdp_check_invocation(pol->deny, p->argc, p->argv, vdi_proc_read_file, p, &v) < 0) {
                ret->kill = true;
                ret->res = RDP_RES_DOUBT;
                ret->clause = "vdi";
                snprintf(ret->reason, sizeof ret->reason, "cannot be checked: out of memory");
                return;
        }
        if (!v.deny)
                return;
        ret->kill = true;
        ret->res = v.res;
        ret->clause = v.res >= 0 ? vdi_clause(v.res) : "vdi";
        memcpy(ret->option, v.option, sizeof ret->option);
        memcpy(ret->reason, v.reason, sizeof ret->reason);
}
