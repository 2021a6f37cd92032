/* sekisho-classify.c — the file-sharing classifier: reads the first packets of each new flow from NFQUEUE, asks nDPI what they are, and returns each flow's decision for the kernel to keep in its conntrack mark. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "classify-nfq.h"
#include "dpi.h"

/* Untrusted packets are parsed here, in a process of their own with
 * CAP_NET_ADMIN only (sekisho-classify.service), never in sekishod: a
 * crash here stalls new flows (no `bypass`, README-net.md), it does not
 * lift the isolation, which lives in the kernel's table. */

static volatile sig_atomic_t got_usr1, got_term;
static void on_signal(int sig) {
        if (sig == SIGUSR1)
                got_usr1 = 1;
        else
                got_term = 1;
}

struct ctx {
        struct mnl_socket *nl;
        struct cls *c;
        bool verbose;
};

static int send_nl(void *userdata, const struct nlmsghdr *nlh) {
        struct ctx *x = userdata;
        return mnl_socket_sendto(x->nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

static void note(void *userdata, enum cls_verdict v, uint16_t proto, const uint8_t *pkt, size_t len) {
        struct ctx *x = userdata;
        if (!x->verbose && v != CLS_FORBID)
                return;
        char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
        if (len >= 20 && pkt[0] >> 4 == 4) {
                inet_ntop(AF_INET, pkt + 12, src, sizeof src);
                inet_ntop(AF_INET, pkt + 16, dst, sizeof dst);
        } else if (len >= 40 && pkt[0] >> 4 == 6) {
                inet_ntop(AF_INET6, pkt + 8, src, sizeof src);
                inet_ntop(AF_INET6, pkt + 24, dst, sizeof dst);
        }
        fprintf(stderr, "%s %s %s -> %s\n", v == CLS_FORBID ? "forbidden" : "allowed", cls_proto_name(x->c, proto), src,
                dst);
}

static void print_stats(struct ctx *x) {
        const struct cls_stats *s = cls_stats(x->c);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr,
                "stats packets=%llu flows=%llu allowed=%llu forbidden=%llu gave-up=%llu evicted=%llu joined=%llu "
                "malformed=%llu cpu-us=%lld max-rss-kib=%ld\n",
                (unsigned long long)s->packets, (unsigned long long)s->flows, (unsigned long long)s->allowed,
                (unsigned long long)s->forbidden, (unsigned long long)s->gave_up, (unsigned long long)s->evicted,
                (unsigned long long)s->joined, (unsigned long long)s->malformed,
                (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec,
                ru.ru_maxrss);
}

/* Once bound: receive, answer, print statistics. Nothing else. */
static int confine(void) {
        static const int allowed[] = {
                SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(write),
                SCMP_SYS(writev), SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
                SCMP_SYS(madvise), SCMP_SYS(clock_gettime), SCMP_SYS(getrusage), SCMP_SYS(futex),
                SCMP_SYS(rt_sigreturn), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
                SCMP_SYS(close),
        };
        scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!f)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < sizeof allowed / sizeof *allowed && r == 0; i++)
                r = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
#ifdef ENABLE_SANITIZERS
        static const int san[] = { SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(wait4),
                                   SCMP_SYS(sigaltstack), SCMP_SYS(openat), SCMP_SYS(read), SCMP_SYS(mprotect),
                                   SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(prctl), SCMP_SYS(readlink),
                                   SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sched_yield),
                                   SCMP_SYS(getdents64), SCMP_SYS(lseek), SCMP_SYS(waitid), SCMP_SYS(kill),
                                   SCMP_SYS(tgkill), SCMP_SYS(mincore), SCMP_SYS(rt_sigtimedwait),
                                   SCMP_SYS(sched_setaffinity), SCMP_SYS(getdents), SCMP_SYS(getppid),
                                   SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(dup), SCMP_SYS(dup2),
                                   SCMP_SYS(pipe2), SCMP_SYS(fcntl), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
                                   SCMP_SYS(munmap), SCMP_SYS(sched_getaffinity), SCMP_SYS(prlimit64),
                                   SCMP_SYS(getrlimit), SCMP_SYS(ioctl), SCMP_SYS(newfstatat) };
        for (size_t i = 0; i < sizeof san / sizeof *san && r == 0; i++)
                r = seccomp_rule_add(f, SCMP_ACT_ALLOW, san[i], 0);
#endif
        if (r == 0)
                r = seccomp_load(f);
        seccomp_release(f);
        return r;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f) {
        fprintf(f, "usage: sekisho-classify [--queue N] [--verbose]\n"
                   "Classifies the first packets of new flows queued by table inet sekisho (NFQUEUE %d)\n"
                   "with nDPI and returns each flow's decision as its conntrack mark. SIGUSR1 prints statistics.\n",
                NET_DPI_QUEUE);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "queue", required_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct ctx x = { 0 };
        long queue = NET_DPI_QUEUE;
        int o;
        while ((o = getopt_long(argc, argv, "q:vh", opts, NULL)) >= 0)
                switch (o) {
                case 'q': {
                        char *end;
                        queue = strtol(optarg, &end, 10);
                        if (*end || queue < 0 || queue > 65535) {
                                fprintf(stderr, "sekisho-classify: bad queue number '%s'\n", optarg);
                                return 2;
                        }
                        break;
                }
                case 'v':
                        x.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        setvbuf(stderr, NULL, _IOLBF, 0);
        int r = cls_new(&x.c);
        if (r < 0) {
                fprintf(stderr, "sekisho-classify: cannot start nDPI: %s\n", strerror(-r));
                return 1;
        }
        x.nl = mnl_socket_open(NETLINK_NETFILTER);
        if (!x.nl || mnl_socket_bind(x.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                fprintf(stderr, "sekisho-classify: netfilter netlink socket: %m\n");
                return 1;
        }
        int one = 1;
        /* Overruns cost the packets the kernel could not queue (dropped:
         * fail-closed); the classifier carries on. */
        (void)mnl_socket_setsockopt(x.nl, NETLINK_NO_ENOBUFS, &one, sizeof one);
        int bufsize = 4 << 20;
        (void)mnl_socket_setsockopt(x.nl, SO_RCVBUF, &bufsize, sizeof bufsize);
        r = cls_nfq_bind((uint16_t)queue, 4096, send_nl, &x);
        if (r < 0) {
                fprintf(stderr, "sekisho-classify: cannot bind NFQUEUE %ld: %s\n", queue, strerror(-r));
                return 1;
        }
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: recv returns EINTR */
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        r = confine();
        if (r < 0) {
                fprintf(stderr, "sekisho-classify: seccomp: %s\n", strerror(-r));
                return 1;
        }
        fprintf(stderr, "sekisho-classify: classifying NFQUEUE %ld\n", queue);

        static char buf[0xffff + 4096] __attribute__((aligned(8)));
        while (!got_term) {
                ssize_t n = mnl_socket_recvfrom(x.nl, buf, sizeof buf);
                if (got_usr1) {
                        got_usr1 = 0;
                        print_stats(&x);
                }
                if (n < 0) {
                        if (errno == EINTR || errno == ENOBUFS)
                                continue;
                        fprintf(stderr, "sekisho-classify: receive: %m\n");
                        return 1;
                }
                r = cls_nfq_handle(x.c, (uint16_t)queue, buf, (size_t)n, now_ms(), send_nl, note, &x);
                if (r < 0 && r != -EINVAL)
                        fprintf(stderr, "sekisho-classify: %s\n", strerror(-r));
        }
        print_stats(&x);
        mnl_socket_close(x.nl);
        x.c = cls_free(x.c);
        return 0;
}
