/* sekisho-rdp.c — the VDI launcher: a person's `sekisho-rdp HOST` asks the root launcher service (`sekisho-rdp --listen`), which starts the approved client in the approved cgroup with the options the policy implies. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <libintl.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "netclaim.h"
#include "rdpcheck.h"
#include "util.h"

#define _(s) gettext(s)
#define DEFAULT_SOCKET "/run/sekisho/vdi-launch.sock"
#define DEFAULT_PLAN "/var/lib/sekisho/vdi/launch-plan"
#define MAX_EXE (64u * 1024u * 1024u)

extern char **environ;

static const char *const freerdp_paths[] = {
        "/usr/bin/xfreerdp3", "/usr/bin/sdl-freerdp3", "/usr/bin/xfreerdp", "/usr/bin/sdl-freerdp", NULL,
};

static void usage(FILE *f) {
        fputs("Usage: sekisho-rdp [--dry-run] HOST[:PORT] [FreeRDP options...]\n"
              "       sekisho-rdp --listen SOCKET [--plan FILE] [--cgroup-root DIR]   (the root launcher service)\n"
              "Asks the launcher service to start the VDI client the terminal's policy approves,\n"
              "inside the cgroup that alone may reach the policy's VDI servers, with every\n"
              "redirection the policy denies switched off. --dry-run prints the command line\n"
              "the launcher would use. SEKISHO_VDI_SOCKET overrides " DEFAULT_SOCKET ".\n",
              f);
}

/* ---- the person's side ---- */

static int ask(const char *sock, bool dry_run, int argc, char **argv) {
        _cleanup_free_ char *req = NULL;
        size_t req_size;
        int r = vdi_request_format(dry_run, environ, (size_t) argc, argv, &req, &req_size);
        if (r < 0) {
                fprintf(stderr, "sekisho-rdp: %s\n", strerror(-r));
                return 2;
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(sock) >= sizeof sa.sun_path)
                return 2;
        strcpy(sa.sun_path, sock);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                fprintf(stderr, _("sekisho-rdp: the VDI launcher service is not running (%s: %s); ask the administrator\n"),
                        sock, strerror(errno));
                return 1;
        }
        int fds[3] = { 0, 1, 2 };
        char cbuf[CMSG_SPACE(sizeof fds)] = { 0 };
        struct iovec iov = { .iov_base = req, .iov_len = req_size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
                fprintf(stderr, "sekisho-rdp: %s: %s\n", sock, strerror(errno));
                return 1;
        }
        char use[128] = "";
        for (;;) {
                char msg[4096];
                ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
                if (n <= 0) {
                        fprintf(stderr, "sekisho-rdp: the launcher service hung up\n");
                        return 1;
                }
                msg[n] = 0;
                if (strncmp(msg, "use ", 4) == 0) {
                        rdp_sanitize(msg + 4, use, sizeof use);
                } else if (strncmp(msg, "refused ", 8) == 0) {
                        char why[512];
                        rdp_sanitize(msg + 8, why, sizeof why);
                        fprintf(stderr, _("sekisho-rdp: the virtual desktop cannot be opened: %s\n"), why);
                        if (use[0])
                                fprintf(stderr, _("Use %s through sekisho-rdp (the VDI client this terminal's policy approves) "
                                                  "to reach the policy's VDI servers.\n"), use);
                        else
                                fprintf(stderr, _("This terminal's policy approves no VDI client that can be started; ask the administrator.\n"));
                        return 2;
                } else if (strncmp(msg, "argv ", 5) == 0) {
                        printf("%s\n", msg + 5);
                } else if (strncmp(msg, "exit ", 5) == 0) {
                        return atoi(msg + 5);
                } else if (strncmp(msg, "started ", 8) != 0) {
                        fprintf(stderr, "sekisho-rdp: %s\n", msg);
                        return 1;
                }
        }
}

/* ---- the launcher service (root) ---- */

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...) {
        char b[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b, sizeof b, fmt, ap);
        va_end(ap);
        (void) send(fd, b, n < 0 ? 0 : (size_t) n >= sizeof b ? sizeof b - 1 : (size_t) n, MSG_NOSIGNAL);
}

/* The first cgroup2 mount, from mountinfo. */
static int cgroup2_root(char *out, size_t size) {
        _cleanup_free_ char *mi = NULL;
        if (read_file_capped("/proc/self/mountinfo", 4u << 20, &mi, NULL) < 0)
                return -EIO;
        for (char *line = mi, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *sep = strstr(line, " - cgroup2 ");
                if (!sep)
                        continue;
                char *f = line;
                for (int i = 0; i < 4 && f; i++)
                        f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
                if (!f || !strchr(f, ' '))
                        continue;
                *strchr(f, ' ') = 0;
                snprintf(out, size, "%s", f);
                return 0;
        }
        return -ENOENT;
}

/* The client binary to run, as a sealed memfd holding exactly the bytes verified:
 * a regular file owned by root, writable by nobody else, in a directory likewise.
 * Mode 0711 on the memfd: the person may execute but not read it, so the kernel
 * makes the process non-dumpable (no ptrace, no /proc/PID/mem by its own user). */
static int client_image(const char *const *paths, const char **ret_path, char *why, size_t why_size) {
        for (const char *const *p = paths; *p; p++) {
                _cleanup_close_ int fd = open(*p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                struct stat st, dst;
                char dir[PATH_MAX];
                snprintf(dir, sizeof dir, "%s", *p);
                *strrchr(dir, '/') = 0;
                if (fstat(fd, &st) < 0 || stat(dir, &dst) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
                    (st.st_mode & 022) || dst.st_uid != 0 || (dst.st_mode & 022) || st.st_size > (off_t) MAX_EXE) {
                        snprintf(why, why_size, "%s is not a root-owned file in a root-owned directory", *p);
                        return -EPERM;
                }
                _cleanup_free_ char *data = NULL;
                size_t size;
                int r = read_fd_capped(fd, MAX_EXE, &data, &size);
                if (r < 0)
                        return r;
                int mfd = (int) syscall(SYS_memfd_create, "sekisho-vdi-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
                if (mfd < 0)
                        return -errno;
                if (write_all(mfd, data, size) < 0 || fchmod(mfd, 0711) < 0 ||
                    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                        r = -errno;
                        close(mfd);
                        return r;
                }
                *ret_path = *p;
                return mfd;
        }
        snprintf(why, why_size, "FreeRDP is not installed (freerdp2-x11 or freerdp3-x11)");
        return -ENOENT;
}

struct serve_opts {
        const char *plan;
        const char *cgroup_root;
        char *in_force;         /* the network plugin's NETCLAIMS_IN_FORCE beside the plan's state directory */
};

/* How long a client waits for the network rules of a cgroup just made. */
#define RULES_WAIT_USEC (10ull * 1000000)

/* A cgroup made afresh has a new id, and the network plugin's rules name the
 * old one until it has reloaded them (it watches for that): a client started
 * before would be refused the server claimed for it. So wait, bounded, until
 * the plugin's in-force file names the id. No file: the network plugin never
 * ran here and nothing claimed is refused. At the bound the client starts
 * anyway: the rules, not this wait, decide what it reaches. */
static void wait_rules(const char *in_force, const char *cgroup, uint64_t id) {
        _cleanup_free_ char *dir = in_force ? strdup(in_force) : NULL;
        if (!dir)
                return;
        *strrchr(dir, '/') = '\0';
        _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd >= 0) /* before the first read: no rewrite after it is missed */
                (void) inotify_add_watch(ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
        uint64_t start = now_usec_monotonic(), elapsed = 0;
        bool said = false;
        for (;;) {
                _cleanup_free_ char *text = NULL;
                size_t size;
                int r = read_file_capped(in_force, NETCLAIMS_IN_FORCE_MAX, &text, &size);
                elapsed = now_usec_monotonic() - start;
                if (r == -ENOENT && !said)
                        return;
                if (r == 0 && (r = netclaims_in_force_has(text, size, cgroup, id)) == 1) {
                        if (said)
                                fprintf(stderr, "sekisho-rdp: the network rules name %s (id %" PRIu64 ") after %.1f ms\n",
                                        cgroup, id, elapsed / 1e3);
                        return;
                }
                if (elapsed >= RULES_WAIT_USEC || ifd < 0) {
                        fprintf(stderr, "sekisho-rdp: %s: the network rules do not name %s (id %" PRIu64 ") after %.0f s%s%s; "
                                        "starting the client anyway (its connections are what sekishod's rules allow)\n",
                                in_force, cgroup, id, elapsed / 1e6, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
                        return;
                }
                if (!said)
                        fprintf(stderr, "sekisho-rdp: %s was made afresh (id %" PRIu64 "); waiting for sekishod's network rules "
                                        "to name it\n", cgroup, id);
                said = true;
                struct pollfd pfd = { .fd = ifd, .events = POLLIN };
                (void) poll(&pfd, 1, (int) ((RULES_WAIT_USEC - elapsed) / 1000 + 1));
                _Alignas(struct inotify_event) char buf[4096];
                while (read(ifd, buf, sizeof buf) > 0)
                        ;
        }
}

/* Child: into the cgroup, become the person, exec the verified image. Never returns. */
static _Noreturn void start_client(const char *cgdir, const struct ucred *cr, int img, const int fds[3],
                                   const struct vdi_request *rq, char **argv) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/cgroup.procs", cgdir);
        _cleanup_close_ int cg = open(path, O_WRONLY | O_CLOEXEC);
        if (cg < 0 || write(cg, "0", 1) != 1)
                _exit(126);
        struct passwd *pw = getpwuid(cr->uid);
        if (!pw || initgroups(pw->pw_name, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(cr->uid, cr->uid, cr->uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(126);
        if (dup2(img, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
                _exit(126);
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        _exit(126);
        syscall(SYS_close_range, 4, ~0u, 0);
        if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
                _exit(126);
        char *envp[VDI_REQUEST_ENV + 8];
        size_t n = 0;
        char home[PATH_MAX + 8], user[300], logname[300];
        snprintf(home, sizeof home, "HOME=%s", pw->pw_dir);
        snprintf(user, sizeof user, "USER=%s", pw->pw_name);
        snprintf(logname, sizeof logname, "LOGNAME=%s", pw->pw_name);
        envp[n++] = home;
        envp[n++] = user;
        envp[n++] = logname;
        envp[n++] = "PATH=/usr/bin:/bin";
        for (size_t i = 0; i < rq->n_env; i++)
                envp[n++] = (char *) rq->env[i];
        envp[n] = NULL;
        signal(SIGPIPE, SIG_DFL);
        syscall(SYS_execveat, 3, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
}

static int serve(int conn, const struct serve_opts *o) {
        struct ucred cr;
        socklen_t crl = sizeof cr;
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0)
                return -errno;
        _cleanup_free_ char *buf = malloc(VDI_REQUEST_MAX);
        if (!buf)
                return -ENOMEM;
        int fds[3] = { -1, -1, -1 };
        char cbuf[CMSG_SPACE(sizeof fds)];
        struct iovec iov = { .iov_base = buf, .iov_len = VDI_REQUEST_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return n < 0 ? -errno : -ECONNRESET;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof fds))
                        memcpy(fds, CMSG_DATA(cm), sizeof fds);
        int r = 0;
        char why[256] = "";
        struct vdi_request rq;
        _cleanup_free_ struct vdi_plan *plan = calloc(1, sizeof *plan);
        _cleanup_free_ char *pdata = NULL;
        size_t psize;
        char **argv = NULL;
        size_t argc = 0;
        int img = -1;
        const char *exe = NULL;
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || fds[2] < 0 || vdi_request_parse(buf, (size_t) n, &rq) < 0) {
                reply(conn, "refused %s", "malformed request");
                r = -EBADMSG;
                goto out;
        }
        if (!plan || (r = read_file_capped(o->plan, VDI_PLAN_MAX, &pdata, &psize)) < 0 ||
            (r = vdi_plan_parse(pdata, psize, plan, why, sizeof why)) < 0) {
                reply(conn, "refused %s", "sekishod has not published a VDI plan (is the vdi plugin running with vdi.servers?)");
                fprintf(stderr, "sekisho-rdp: %s: %s\n", o->plan, why[0] ? why : strerror(-r));
                goto out;
        }
        if (plan->client == VDI_CLIENT_FREERDP && !plan->refused[0])
                reply(conn, "use %s", vdi_clients[plan->client].display);
        /* The policy first (a server it does not name is refused as such, installed client or
         * not), then the client image; argv[0] is the verified image's path. */
        if ((r = vdi_plan_argv(plan, &rq, "xfreerdp", &argv, &argc, why, sizeof why)) < 0 ||
            (r = img = client_image(freerdp_paths, &exe, why, sizeof why)) < 0) {
                reply(conn, "refused %s", why);
                fprintf(stderr, "sekisho-rdp: refused uid %u (pid %d): %s\n", (unsigned) cr.uid, (int) cr.pid, why);
                goto out;
        }
        argv[0] = (char *) exe;
        if (rq.dry_run) {
                char line[4096];
                size_t len = 0;
                for (size_t i = 0; i < argc && len < sizeof line; i++)
                        len += (size_t) snprintf(line + len, sizeof line - len, "%s%s", i ? " " : "", argv[i]);
                reply(conn, "argv %s", line);
                reply(conn, "exit 0");
                goto out;
        }
        char cgdir[PATH_MAX];
        if ((size_t) snprintf(cgdir, sizeof cgdir, "%s/%s", o->cgroup_root, plan->cgroup) >= sizeof cgdir) {
                r = -ENAMETOOLONG;
                goto out;
        }
        /* Root-owned, like its parents: nobody else may move a process in. */
        struct stat cst;
        r = mkdir_p(cgdir, 0755);
        if (r == 0 && stat(cgdir, &cst) < 0)
                r = -errno;
        if (r < 0) {
                reply(conn, "refused %s", "the approved cgroup cannot be created");
                fprintf(stderr, "sekisho-rdp: %s: %s\n", cgdir, strerror(-r));
                goto out;
        }
        wait_rules(o->in_force, plan->cgroup, (uint64_t) cst.st_ino);
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0)
                start_client(cgdir, &cr, img, fds, &rq, argv);
        fprintf(stderr, "sekisho-rdp: started %s for uid %u as pid %d in %s\n", exe, (unsigned) cr.uid, (int) pid, plan->cgroup);
        reply(conn, "started %d", (int) pid);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        fprintf(stderr, "sekisho-rdp: pid %d exited with status %d%s\n", (int) pid, code,
                code == 126 ? " (could not enter the cgroup or become the person)" : code == 127 ? " (exec failed)" : "");
        reply(conn, "exit %d", code);
out:
        if (argv)
                free(argv[1]);
        free(argv);
        if (img >= 0)
                close(img);
        for (int i = 0; i < 3; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return r;
}

static int listen_loop(const char *sock, const struct serve_opts *o) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (fd < 0 || strlen(sock) >= sizeof sa.sun_path)
                return -EINVAL;
        strcpy(sa.sun_path, sock);
        (void) unlink(sock);
        mode_t old = umask(0111); /* every local user may ask; the plan decides */
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 16) < 0)
                return -errno;
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        fprintf(stderr, "sekisho-rdp: launcher listening on %s (plan %s, cgroups at %s)\n", sock, o->plan, o->cgroup_root);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return -errno;
                }
                pid_t pid = fork();
                if (pid == 0) {
                        close(fd);
                        _exit(serve(c, o) < 0 ? 1 : 0);
                }
                close(c);
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
}

int main(int argc, char **argv) {
        gettext_setup(GETTEXT_PACKAGE, LOCALEDIR);

        bool dry_run = false;
        const char *listen_on = NULL;
        struct serve_opts o = { .plan = DEFAULT_PLAN, .cgroup_root = NULL };
        int i = 1;
        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--dry-run") == 0)
                        dry_run = true;
                else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
                        listen_on = argv[++i];
                else if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
                        o.plan = argv[++i];
                else if (strcmp(argv[i], "--cgroup-root") == 0 && i + 1 < argc)
                        o.cgroup_root = argv[++i];
                else if (strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (listen_on) {
                char root[PATH_MAX];
                if (!o.cgroup_root) {
                        if (cgroup2_root(root, sizeof root) < 0) {
                                fprintf(stderr, "sekisho-rdp: no cgroup v2 hierarchy is mounted\n");
                                return 1;
                        }
                        o.cgroup_root = root;
                }
                /* PLAN is STATE/vdi/launch-plan: the network plugin's file is STATE/NETCLAIMS_IN_FORCE. */
                _cleanup_free_ char *state = strdup(o.plan);
                char *cut = state ? strrchr(state, '/') : NULL;
                if (cut && (*cut = '\0', cut = strrchr(state, '/')) != NULL) {
                        *cut = '\0';
                        o.in_force = path_join(*state ? state : "/", NETCLAIMS_IN_FORCE);
                }
                int r = listen_loop(listen_on, &o);
                free(o.in_force);
                fprintf(stderr, "sekisho-rdp: %s: %s\n", listen_on, strerror(-r));
                return 1;
        }
        if (i >= argc || argv[i][0] == '-' || argv[i][0] == '+' || argv[i][0] == '/') {
                usage(stderr);
                return 2;
        }
        const char *sock = getenv("SEKISHO_VDI_SOCKET");
        return ask(sock && *sock ? sock : DEFAULT_SOCKET, dry_run, argc - i, argv + i);
}
