/* bench-net.c — network plugin figures, run inside a test namespace: address change to sets updated (p50/p99), and a profile switch with 10 000 allow-destinations (median). Prints figures, never judges them. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
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

static int addr_change(struct nl_sock *sk, int ifindex, unsigned i, bool add) {
        char buf[64];
        snprintf(buf, sizeof buf, "203.0.113.%u/%u", 1 + i % 200, 25 + i % 4);
        struct nl_addr *local = NULL;
        struct rtnl_addr *a = rtnl_addr_alloc();
        int r = nl_addr_parse(buf, AF_INET, &local);
        if (r < 0 || !a)
                return -EINVAL;
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_local(a, local);
        r = add ? rtnl_addr_add(sk, a, 0) : rtnl_addr_delete(sk, a, 0);
        nl_addr_put(local);
        rtnl_addr_put(a);
        return r;
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
        struct nl_sock *sk = nl_socket_alloc();
        if (!ifindex || !sk || nl_connect(sk, NETLINK_ROUTE) < 0)
                return 1;

        /* 1. Address change -> sets updated: from the netlink request to the
         * end of the loop dispatch whose nft transaction refilled the sets. */
        uint64_t *lat = calloc(rounds, sizeof *lat);
        size_t n = 0;
        for (unsigned i = 0; i < rounds && lat; i++) {
                long before = status_value(state, "set-updates");
                uint64_t t0 = now_usec_monotonic(), t1 = t0;
                if (addr_change(sk, ifindex, i / 2, i % 2 == 0) < 0)
                        break;
                for (int k = 0; k < 20; k++) {
                        loop_iterate(core->loop, 1000);
                        t1 = now_usec_monotonic();
                        if (status_value(state, "set-updates") > before)
                                break;
                }
                lat[n++] = t1 - t0;
        }
        if (n > 0) {
                uint64_t p50 = pct(lat, n, 0.5), p99 = pct(lat, n, 0.99), max = lat[n - 1];
                printf("address change -> sets updated: n=%zu p50=%.3f ms p99=%.3f ms max=%.3f ms\n", n, p50 / 1000.0,
                       p99 / 1000.0, max / 1000.0);
        }
        free(lat);

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
        nl_socket_free(sk);
        sekisho_plugin_net.shutdown(state);
        stub_core_free(core);
        return 0;
}
