/* bench-net.c — network plugin figures, run inside a test namespace: address change to sets updated (p50/p99) against the nft command rewriting the same set from a fresh process (what an if-up hook does), interleaved, and a profile switch with 10 000 allow-destinations (median). Prints figures, never judges them. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "net.h"
#include "nlraw.h"
#include "plugin.h"
#include "ptree.h"
#include "stub-core.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_net;
static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p) {
        qsort(v, n, sizeof *v, cmp_u64);
        size_t i = (size_t)(p * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static long status_value(void *state, const char *key) {
        struct kvlist l = { 0 };
        sekisho_plugin_net.status(state, &l);
        long v = -1;
        for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.keys[i], key) == 0)
                        v = strtol(l.values[i], NULL, 10);
        kvlist_clear(&l);
        return v;
}

/* 203.0.113.N/L added or removed, as `ip addr` does (one acknowledged rtnetlink request). */
static int addr_change(int sk, int ifindex, unsigned i, bool add) {
        struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)(25 + i % 4), .ifa_index = (unsigned)ifindex };
        uint8_t a[4] = { 203, 0, 113, (uint8_t)(1 + i % 200) };
        struct nlraw_req req;
        nlraw_req_init(&req, add ? RTM_NEWADDR : RTM_DELADDR, NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), &ifa, sizeof ifa);
        nlraw_put(&req, IFA_LOCAL, a, sizeof a);
        nlraw_put(&req, IFA_ADDRESS, a, sizeof a);
        return nlraw_call(sk, &req, NULL, NULL);
}

/* The reference: the elements of set onlink4 as nft lists them (not timed),
 * written back by a fresh `nft -f` (timed: fork, exec, parse, cache, commit). */
static int nft_rewrite_onlink4(const char *dir, uint64_t *ret_usec) {
        FILE *p = popen("nft list set inet " NET_TABLE " onlink4", "r");
        if (!p)
                return -errno;
        char buf[8192];
        size_t len = fread(buf, 1, sizeof buf - 1, p);
        pclose(p);
        buf[len] = '\0';
        char *a = strstr(buf, "elements = {"), *b = a ? strchr(a, '}') : NULL;
        if (!a || !b)
                return -ENOENT;
        *b = '\0';
        for (char *c = a; *c; c++)
                if (*c == '\n' || *c == '\t')
                        *c = ' ';
        _cleanup_free_ char *path = path_join(dir, "bench-net-ref.nft");
        FILE *f = path ? fopen(path, "we") : NULL;
        if (!f)
                return -ENOMEM;
        fprintf(f, "flush set inet " NET_TABLE " onlink4\nadd element inet " NET_TABLE " onlink4 { %s }\n",
                a + strlen("elements = {"));
        if (fclose(f) != 0)
                return -EIO;
        char *argv[] = { (char *)"nft", (char *)"-f", path, NULL };
        extern char **environ;
        pid_t pid;
        uint64_t t0 = now_usec_monotonic();
        if (posix_spawnp(&pid, "nft", NULL, NULL, argv, environ) != 0)
                return -errno;
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -EIO;
        *ret_usec = now_usec_monotonic() - t0;
        return 0;
}

static void print_pcts(const char *what, uint64_t *v, size_t n) {
        uint64_t p50 = pct(v, n, 0.5), p99 = pct(v, n, 0.99), max = v[n - 1];
        printf("%s: n=%zu p50=%.3f ms p99=%.3f ms max=%.3f ms\n", what, n, p50 / 1000.0, p99 / 1000.0, max / 1000.0);
}

static uint64_t cpu_usec(int who) {
        struct rusage ru;
        if (getrusage(who, &ru) < 0)
                return 0;
        return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
               (uint64_t)ru.ru_stime.tv_usec;
}

static double loadavg1(void) {
        double l = -1;
        FILE *f = fopen("/proc/loadavg", "re");
        if (f) {
                if (fscanf(f, "%lf", &l) != 1)
                        l = -1;
                fclose(f);
        }
        return l;
}

static int apply_file(void *state, const char *path, const char *profile, uint64_t *ret_usec) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        struct perrors errs = { 0 };
        struct ptree *t = NULL;
        int r = read_file_capped(path, 64u << 20, &data, &size);
        if (r < 0 || ptree_parse(path, data, size, &t, &errs) < 0)
                return -EINVAL;
        const struct pnode *base = pmap_get(t->root, "network");
        struct ptree *m = profile ? ptree_merge(path, base, pmap_get(pmap_get(pmap_get(t->root, "profiles"), profile), "network")) : NULL;
        uint64_t t0 = now_usec_monotonic();
        r = sekisho_plugin_net.apply(state, m ? m->root : base);
        *ret_usec = now_usec_monotonic() - t0;
        perrors_clear(&errs);
        ptree_free(m);
        ptree_free(t);
        return r;
}

int main(int argc, char **argv) {
        if (argc < 4) {
                fprintf(stderr, "usage: bench-net IFNAME SYSROOT POLICY-WITH-10000-DESTS [ROUNDS]\n");
                return 2;
        }
        const char *ifname = argv[1];
        unsigned rounds = argc > 4 ? (unsigned)atoi(argv[4]) : 200;
        log_setup("bench-net", getenv("BENCH_DEBUG") != NULL);
        struct sekisho_plugin_handle *core;
        if (stub_core_new(&sekisho_plugin_net, "/tmp", argv[2], &core) < 0)
                return 1;
        void *state = NULL;
        if (sekisho_plugin_net.init(core, &state) < 0 || sekisho_plugin_net.apply(state, NULL) < 0) {
                fprintf(stderr, "bench-net: the plugin did not start (run inside a test namespace as root)\n");
                return 1;
        }
        int ifindex = (int)if_nametoindex(ifname);
        int sk = nlraw_open(NETLINK_ROUTE, 0, false);
        if (!ifindex || sk < 0)
                return 1;

        /* 1. Address change -> sets updated: from the netlink request to the
         * end of the loop dispatch whose nft transaction refilled the sets.
         * Interleaved with the reference, so both see the same load. */
        uint64_t *lat = calloc(rounds, sizeof *lat), *ref = calloc(rounds, sizeof *ref);
        uint64_t cpu_self = 0, cpu_ref = 0; /* CPU time: what the load cannot inflate */
        size_t n = 0, nref = 0, tried = 0;
        for (unsigned i = 0; i < rounds && lat && ref; i++) {
                /* The plugin says "status changed" when the sets are in force; its status
                 * (which lists the table's counters through nft) is read only outside the
                 * timed window: reading it inside would time the bench, not the update. */
                long before = status_value(state, "set-updates");
                unsigned long changes = core->status_changes;
                uint64_t t0 = now_usec_monotonic(), t1 = t0, c0 = cpu_usec(RUSAGE_SELF);
                if (addr_change(sk, ifindex, i / 2, i % 2 == 0) < 0)
                        break;
                for (int k = 0; k < 20 && core->status_changes == changes; k++)
                        loop_iterate(core->loop, 1000);
                t1 = now_usec_monotonic();
                cpu_self += cpu_usec(RUSAGE_SELF) - c0;
                tried++;
                if (status_value(state, "set-updates") <= before) {
                        fprintf(stderr, "bench-net: round %u: the sets were not updated\n", i);
                        continue;
                }
                lat[n++] = t1 - t0;
                c0 = cpu_usec(RUSAGE_CHILDREN);
                if (nft_rewrite_onlink4(argv[2], &ref[nref]) == 0)
                        nref++;
                cpu_ref += cpu_usec(RUSAGE_CHILDREN) - c0;
                /* Real address changes come seconds apart: let the exited nft's
                 * teardown finish before the next round is timed. */
                struct timespec pause = { 0, 20 * 1000 * 1000 };
                nanosleep(&pause, NULL);
        }
        if (n > 0 && nref > 0) {
                print_pcts("address change -> sets updated", lat, n);
                print_pcts("reference 'nft -f' rewriting set onlink4 (a fresh process, as an if-up hook)", ref, nref);
                printf("ratio sekisho / nft -f: p50 %.2f, p99 %.2f (load average %.2f on %ld CPUs: p99 follows the load)\n",
                       (double)pct(lat, n, 0.5) / (double)pct(ref, nref, 0.5),
                       (double)pct(lat, n, 0.99) / (double)pct(ref, nref, 0.99), loadavg1(), sysconf(_SC_NPROCESSORS_ONLN));
                printf("CPU time per update (user+system, mean): sekisho %.3f ms (this process: the netlink request, "
                       "the event, topology, the sets' batch), nft -f %.3f ms plus the 'nft list' that fed it\n",
                       cpu_self / 1000.0 / (double)tried, cpu_ref / 1000.0 / (double)nref);
        } else if (n > 0)
                print_pcts("address change -> sets updated (no reference: nft not found)", lat, n);
        free(lat);
        free(ref);

        /* 2. Profile switch with 10 000 allow-destinations (full transaction,
         * conntrack cut included), alternating with the base policy. */
        enum { SWITCHES = 11 };
        uint64_t sw[SWITCHES], back[SWITCHES];
        size_t ns = 0;
        for (int i = 0; i < SWITCHES; i++) {
                if (apply_file(state, argv[3], "big", &sw[ns]) < 0 || apply_file(state, argv[3], NULL, &back[ns]) < 0) {
                        fprintf(stderr, "bench-net: applying %s failed\n", argv[3]);
                        break;
                }
                ns++;
        }
        if (ns > 0)
                printf("profile switch to 10000 allow-destinations: n=%zu median=%.1f ms; back to the base: median=%.1f ms\n",
                       ns, pct(sw, ns, 0.5) / 1000.0, pct(back, ns, 0.5) / 1000.0);
        close(sk);
        sekisho_plugin_net.shutdown(state);
        stub_core_free(core);
        return 0;
}
