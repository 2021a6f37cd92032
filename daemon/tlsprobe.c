/* tlsprobe.c — trusted network detection for every plugin (travel: home, net: office): each probe goes to sekisho-probe, the helper that holds OpenSSL, over a socket of its own, and its answer comes back on the loop. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "loop.h"
#include "probewire.h"
#include "tlsprobe.h"
#include "util.h"

/* Why a helper: OpenSSL is 1.7 MiB resident in whatever process maps it,
 * and most terminals probe a few times a day at most (issue 21: sekishod
 * under 4 MiB). The helper is started before the sandbox and forks one
 * child per probe; a probe's own SOCK_SEQPACKET socket carries its one
 * answer, so a child that dies or hangs fails only its own probe. What the
 * helper sends is checked (probewire.c) like any other input. */

static struct {
        int fd; /* the control socket; -1 when no helper runs */
        pid_t pid;
        int pidfd;
        struct loop_source *exit_src;
        tls_probe_helper_exit_fn on_exit;
        void *userdata;
        char why[128]; /* why no helper runs */
} helper = { .fd = -1, .pidfd = -1, .why = "sekisho-probe was not started" };

struct tls_probe {
        int fd;
        struct loop_source *io, *timer, *defer;
        tls_probe_fn cb;
        void *userdata;
        enum probe_result result;
        char detail[PROBE_DETAIL_MAX + 64];
        bool finished;
};

const char *probe_result_name(enum probe_result r) {
        switch (r) {
        case PROBE_HOME: return "home";
        case PROBE_PIN_MISMATCH: return "pin-mismatch";
        default: return "failed";
        }
}

static void helper_gone(const char *why) {
        snprintf(helper.why, sizeof helper.why, "%s", why);
        closep(&helper.fd);
        helper.fd = -1;
}

static int on_helper_exit(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        siginfo_t si = { 0 };
        if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return 0; /* not yet a zombie */
        char why[96];
        if (si.si_code == CLD_EXITED)
                snprintf(why, sizeof why, "sekisho-probe exited with status %d", si.si_status);
        else
                snprintf(why, sizeof why, "sekisho-probe was killed by signal %s", strsignal(si.si_status));
        helper_gone(why);
        helper.exit_src = loop_source_free(helper.exit_src);
        closep(&helper.pidfd);
        helper.pidfd = -1;
        helper.pid = 0;
        if (helper.on_exit)
                helper.on_exit(helper.why, helper.userdata);
        return 0;
}

int tls_probe_helper_start(struct loop *l, const char *path, tls_probe_helper_exit_fn on_exit, void *userdata) {
        if (helper.fd >= 0)
                return -EALREADY;
        if (access(path, X_OK) < 0) {
                int r = -errno;
                snprintf(helper.why, sizeof helper.why, "sekisho-probe was not started (%s: %s)", path, strerror(-r));
                return r;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                /* The child of a daemon with signals blocked for its signalfd:
                 * the helper gets a clean mask, fd 3, and nothing else of ours. */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(1);
                if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sv[1], 3) < 0)
                        _exit(1);
                syscall(SYS_close_range, 4U, ~0U, 0U);
                execl(path, "sekisho-probe", (char *)NULL);
                _exit(127);
        }
        close(sv[1]);
        helper.fd = sv[0];
        helper.pid = pid;
        helper.on_exit = on_exit;
        helper.userdata = userdata;
        helper.why[0] = '\0';
        if (l) {
                helper.pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec */
                if (helper.pidfd < 0 ||
                    loop_add_io(l, helper.pidfd, EPOLLIN, on_helper_exit, NULL, &helper.exit_src) < 0) {
                        int r = helper.pidfd < 0 ? -errno : -ENOMEM;
                        closep(&helper.pidfd);
                        helper.pidfd = -1;
                        return r; /* it runs, unwatched: its end is still seen by the next probe */
                }
        }
        return 0;
}

void tls_probe_helper_stop(void) {
        helper.exit_src = loop_source_free(helper.exit_src);
        closep(&helper.pidfd);
        helper.pidfd = -1;
        helper_gone("sekisho-probe was stopped");
}

struct tls_probe *tls_probe_free(struct tls_probe *p) {
        if (!p)
                return NULL;
        loop_source_free(p->io);
        loop_source_free(p->timer);
        loop_source_free(p->defer);
        closep(&p->fd);
        free(p);
        return NULL;
}

/* Report once, from a loop callback; the callback may free the probe. */
static void finish(struct tls_probe *p, enum probe_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(struct tls_probe *p, enum probe_result r, const char *fmt, ...) {
        if (p->finished)
                return;
        p->finished = true;
        p->result = r;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->detail, sizeof p->detail, fmt, ap);
        va_end(ap);
        p->io = loop_source_free(p->io);
        loop_timer_disarm(p->timer);
        p->cb(r, p->detail, p->userdata);
}

static int on_io(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct tls_probe *p = userdata;
        char buf[sizeof(struct probe_reply) + 1];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        struct probe_reply a;
        if (n <= 0)
                finish(p, PROBE_FAILED, "sekisho-probe ended the probe without an answer%s%s",
                       n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
        else if (probe_reply_parse(buf, (size_t)n, &a) < 0)
                finish(p, PROBE_FAILED, "malformed answer from sekisho-probe (%zd bytes)", n);
        else
                finish(p, a.result, "%s", a.detail);
        return 0;
}

static int on_timeout(struct loop_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        finish(p, PROBE_FAILED, "timed out (no answer from sekisho-probe)");
        return 0;
}

static int on_defer(struct loop_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        char why[sizeof p->detail];
        snprintf(why, sizeof why, "%s", p->detail); /* finish() writes p->detail */
        finish(p, PROBE_FAILED, "%s", why);
        return 0;
}

/* Hand the request and the probe's socket to the helper; -errno with
 * p->detail saying why when it cannot take it. */
static int send_request(struct tls_probe *p, const struct probe_request *q) {
        if (helper.fd < 0) {
                snprintf(p->detail, sizeof p->detail, "%s", helper.why);
                return -ESRCH;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
                snprintf(p->detail, sizeof p->detail, "socketpair: %s", strerror(errno));
                return -errno;
        }
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl = { 0 };
        struct iovec iov = { .iov_base = (void *)q, .iov_len = sizeof *q };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
        ssize_t n = sendmsg(helper.fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        int e = errno;
        close(sv[1]);
        if (n == (ssize_t)sizeof *q) {
                p->fd = sv[0];
                return 0;
        }
        close(sv[0]);
        if (n >= 0)
                e = EIO;
        if (e == EAGAIN)
                snprintf(p->detail, sizeof p->detail, "sekisho-probe is busy");
        else {
                char why[96];
                snprintf(why, sizeof why, "sekisho-probe is not running (%s)", strerror(e));
                helper_gone(why);
                snprintf(p->detail, sizeof p->detail, "%s", helper.why);
        }
        return -e;
}

int tls_probe_start(struct loop *l, const char *server, const char *sni, const uint8_t pin[TLS_PIN_LEN],
                    uint64_t timeout_usec, tls_probe_fn cb, void *userdata, struct tls_probe **ret) {
        struct probe_request q = { .magic = PROBE_WIRE_MAGIC, .timeout_usec = timeout_usec ? timeout_usec : 5000000 };
        int r = parse_host_port(server, q.host, sizeof q.host, &q.port);
        if (r < 0)
                return r;
        /* Only IP literals: the visited network controls DNS (sekisho-probe.c says more). */
        struct in6_addr a;
        if (inet_pton(AF_INET, q.host, &a) != 1 && inet_pton(AF_INET6, q.host, &a) != 1)
                return -EINVAL;
        if (sni && strlen(sni) >= sizeof q.sni)
                return -EINVAL;
        snprintf(q.sni, sizeof q.sni, "%s", sni ? sni : "");
        memcpy(q.pin, pin, TLS_PIN_LEN);

        struct tls_probe *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->fd = -1;
        p->cb = cb;
        p->userdata = userdata;
        /* The helper keeps its own deadline; this one is for a helper that does not. */
        r = loop_add_timer(l, on_timeout, p, &p->timer);
        if (r < 0 || (r = loop_timer_arm(p->timer, q.timeout_usec + 1000000, 0)) < 0)
                goto fail;
        if (send_request(p, &q) < 0) {
                /* report from the loop, never from inside start */
                r = loop_add_timer(l, on_defer, p, &p->defer);
                if (r < 0 || (r = loop_timer_arm(p->defer, 1, 0)) < 0)
                        goto fail;
                loop_timer_disarm(p->timer);
                *ret = p;
                return 0;
        }
        r = loop_add_io(l, p->fd, EPOLLIN, on_io, p, &p->io);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        tls_probe_free(p);
        return r;
}
