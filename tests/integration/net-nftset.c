/* net-nftset.c — the learned sets refilled by the plugin's own netlink batch (nftset.c) and by nft from the plugin's script (ruleset.c) must leave byte-for-byte the same listing; run only in a network namespace of its own (net-nftset.sh). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel.h"
#include "net.h"
#include "util.h"

/* The sets as the table declares them (ruleset.c put_set). */
static const char table_script[] =
        "add table inet " NET_TABLE "\ndelete table inet " NET_TABLE "\ntable inet " NET_TABLE " {\n"
        "  set onlink4 { type ipv4_addr; flags interval; }\n  set onlink6 { type ipv6_addr; flags interval; }\n"
        "  set gw4 { type ipv4_addr; flags interval; }\n  set gw6 { type ipv6_addr; flags interval; }\n"
        "  set dns4 { type ipv4_addr; flags interval; }\n  set dns6 { type ipv6_addr; flags interval; }\n}\n";

static struct nft_ctx *nft;
static struct net_nftset *direct;
static unsigned n_same, n_refused, n_bad;

static uint64_t rnd_state;
static uint32_t rnd(void) {
        rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(rnd_state >> 33);
}

static void die(const char *what, int r, const char *err) {
        fprintf(stderr, "net-nftset: %s: %s %s\n", what, strerror(r < 0 ? -r : r), err ? err : "");
        exit(1);
}

static char *list_table(void) {
        char *out = NULL, *err = NULL;
        int r = net_nft_list(nft, "list table inet " NET_TABLE, &out, &err);
        if (r < 0)
                die("list table", r, err);
        return out;
}

static int by_nft(const struct net_topo *t) {
        char *script = NULL, *err = NULL;
        size_t size;
        FILE *f = open_memstream(&script, &size);
        if (!f || net_ruleset_sets(f, t, NULL) < 0 || fclose(f) != 0)
                die("script", ENOMEM, NULL);
        int r = net_nft_run(nft, script, &err);
        free(script);
        free(err);
        return r;
}

static int by_netlink(const struct net_topo *t) {
        struct net_setfill fills[NET_TOPO_SETS];
        size_t n;
        int r = net_topo_fills(t, NULL, fills, &n);
        if (r < 0)
                die("fills", r, NULL);
        r = net_nftset_refill(direct, fills, n);
        net_setfills_done(fills, n);
        if (r < 0) { /* as net.c does: stale replies stay behind on the old socket */
                net_nftset_free(direct);
                if (net_nftset_new(&direct) < 0)
                        die("netlink socket", errno, NULL);
        }
        return r;
}

static void describe(const struct net_topo *t) {
        const struct net_ranges *l[] = { &t->onlink, &t->gw, &t->dns };
        for (size_t k = 0; k < 3; k++) {
                fprintf(stderr, "  %s:", k == 0 ? "onlink" : k == 1 ? "gw" : "dns");
                for (size_t i = 0; i < l[k]->n; i++) {
                        char buf[128];
                        net_range_format(&l[k]->v[i], buf, sizeof buf);
                        fprintf(stderr, " %s", buf);
                }
                fputc('\n', stderr);
        }
}

/* Refill with t both ways, each from empty sets; the outcome and the listing must match. */
static void check(const char *label, const struct net_topo *t) {
        static const struct net_topo empty;
        if (by_nft(&empty) < 0)
                die("emptying the sets", EINVAL, NULL);
        char *before = list_table();
        int rd = by_netlink(t);
        char *a = list_table();
        if (by_nft(&empty) < 0)
                die("emptying the sets", EINVAL, NULL);
        int rn = by_nft(t);
        char *b = list_table();
        bool ok;
        if (rd == 0 && rn == 0) {
                ok = strcmp(a, b) == 0;
                n_same += ok;
        } else {
                /* both refuse (overlapping ranges), and the refused batch changed nothing */
                ok = rd < 0 && rn < 0 && strcmp(a, before) == 0;
                n_refused += ok;
        }
        if (!ok) {
                n_bad++;
                fprintf(stderr, "FAIL %s: netlink %s, nft %s\n", label, rd < 0 ? strerror(-rd) : "ok",
                        rn < 0 ? "refused" : "ok");
                describe(t);
                fprintf(stderr, "--- netlink:\n%s--- nft:\n%s", a, b);
        }
        free(before);
        free(a);
        free(b);
}

static void add(struct net_ranges *l, int family, const uint8_t *lo, const uint8_t *hi) {
        struct net_range r = { .family = family };
        size_t n = net_addr_len(family);
        memcpy(r.lo, lo, n);
        memcpy(r.hi, hi, n);
        if (net_ranges_add(l, &r) < 0)
                die("add", ENOMEM, NULL);
}

static void add_cidr(struct net_ranges *l, const char *s) {
        struct net_range r;
        const char *why = NULL;
        if (net_parse_cidr(s, &r, &why) < 0 || net_ranges_add(l, &r) < 0)
                die(s, EINVAL, why);
}

static void add_range(struct net_ranges *l, const char *lo, const char *hi) {
        struct net_range a, b;
        if (net_parse_cidr(lo, &a, NULL) < 0 || net_parse_cidr(hi, &b, NULL) < 0)
                die(lo, EINVAL, hi);
        add(l, a.family, a.lo, b.hi);
}

/* A random range of family: a prefix, a single host or lo..hi, sometimes at
 * the bottom or the top of the space, sometimes right after the previous one. */
static void random_range(struct net_ranges *l, int family) {
        size_t n = net_addr_len(family);
        uint8_t a[16], b[16];
        for (size_t i = 0; i < n; i++)
                a[i] = (uint8_t)rnd();
        unsigned kind = rnd() % 8;
        if (kind == 0)
                memset(a, 0, n); /* the bottom */
        if (kind == 1)
                memset(a, 0xff, n); /* the top */
        const struct net_range *prev = l->n ? &l->v[l->n - 1] : NULL;
        if (kind == 2 && prev && prev->family == family) {
                memcpy(a, prev->hi, n); /* adjacent to the previous one */
                for (size_t i = n; i-- > 0;)
                        if (++a[i] != 0)
                                break;
        }
        unsigned len = rnd() % (unsigned)(n * 8 + 1);
        if (kind == 3 || kind == 1)
                len = (unsigned)n * 8; /* a single host */
        struct net_range r;
        net_range_from_prefix(family, a, len, &r);
        if (kind == 4) { /* lo..hi, not a prefix */
                memcpy(b, a, n);
                b[n - 1] = (uint8_t)(b[n - 1] + rnd() % 200);
                if (memcmp(b, a, n) < 0)
                        memcpy(b, a, n);
                add(l, family, a, b);
                return;
        }
        if (kind == 2)
                memcpy(r.lo, a, n); /* keep the adjacency: a prefix's network address may lie below */
        if (memcmp(r.lo, r.hi, n) > 0)
                memcpy(r.hi, r.lo, n);
        add(l, family, r.lo, r.hi);
}

/* Ranges with no overlap among them (nor, usually, with onlink's extras):
 * what the topology gives; overlaps are checked separately. */
static void random_list(struct net_ranges *l, int family, size_t count, const struct net_ranges *avoid) {
        for (size_t tries = 0; tries < count * 8 && count > 0; tries++) {
                random_range(l, family);
                const struct net_range *x = &l->v[l->n - 1];
                bool clash = false;
                for (size_t i = 0; i + 1 < l->n && !clash; i++)
                        clash = l->v[i].family == family && net_range_overlaps(&l->v[i], x);
                for (size_t i = 0; avoid && i < avoid->n && !clash; i++)
                        clash = avoid->v[i].family == family && net_range_overlaps(&avoid->v[i], x);
                if (clash)
                        l->n--;
                else if (--count == 0)
                        break;
        }
        /* the topology's order need not be the sorted one */
        for (size_t i = l->n; i > 1; i--) {
                size_t j = rnd() % i;
                struct net_range tmp = l->v[i - 1];
                l->v[i - 1] = l->v[j];
                l->v[j] = tmp;
        }
}

/* As the plugin's refuse_host_namespace(): one made with `ip netns add`, or not PID 1's. */
static bool in_host_namespace(void) {
        struct stat self, other;
        if (stat("/proc/self/ns/net", &self) < 0)
                return true;
        if (stat("/proc/1/ns/net", &other) == 0 && (self.st_ino != other.st_ino || self.st_dev != other.st_dev))
                return false;
        DIR *d = opendir("/run/netns");
        if (!d)
                return true;
        bool host = true;
        struct dirent *de;
        while (host && (de = readdir(d)))
                host = !(de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &other, 0) == 0 &&
                         self.st_ino == other.st_ino && self.st_dev == other.st_dev);
        closedir(d);
        return host;
}

int main(int argc, char **argv) {
        unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
        rnd_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 15;
        if (in_host_namespace()) {
                fprintf(stderr, "net-nftset: refusing to run in the host's network namespace (use ip netns exec)\n");
                return 2;
        }
        char *err = NULL;
        int r = net_nft_new(&nft);
        if (r < 0)
                die("libnftables", r, net_nft_load_error());
        r = net_nftset_new(&direct);
        if (r < 0)
                die("netlink", r, strerror(-r));
        r = net_nft_run(nft, table_script, &err);
        if (r < 0)
                die("table", r, err);

        /* Edge cases by hand. */
        struct net_ranges extras = { 0 };
        add_cidr(&extras, "169.254.0.0/16");
        add_cidr(&extras, "224.0.0.0/4");
        add_cidr(&extras, "255.255.255.255");
        add_cidr(&extras, "fe80::/10");
        add_cidr(&extras, "ff00::/8");
        struct net_topo t = { 0 };
        check("nothing learned (extras only)", &t);
        add_cidr(&t.onlink, "0.0.0.0/8");
        add_range(&t.gw, "0.0.0.0", "255.255.255.255");
        add_cidr(&t.dns, "255.255.255.255");
        add_cidr(&t.onlink, "::/8");
        add_range(&t.gw, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        add_cidr(&t.dns, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        check("bottom and top of the space", &t);
        net_topo_done(&t);
        add_cidr(&t.onlink, "169.253.255.0/24"); /* adjacent to 169.254.0.0/16 */
        add_cidr(&t.onlink, "169.255.0.0/16");   /* and on its other side */
        add_cidr(&t.onlink, "223.255.255.255");  /* below 224.0.0.0/4 */
        add_range(&t.onlink, "240.0.0.0", "255.255.255.254");
        add_cidr(&t.onlink, "fe40::/10");         /* below fe80::/10 */
        add_cidr(&t.onlink, "fec0::/10");         /* between fe80::/10 and ff00::/8 */
        add_cidr(&t.gw, "10.0.0.0/24");
        add_cidr(&t.gw, "10.0.1.0/24");
        add_cidr(&t.gw, "10.0.2.7");
        add_cidr(&t.gw, "0.0.0.1");
        add_cidr(&t.gw, "fe80::1");
        check("adjacent to the extras and to each other", &t);
        net_topo_done(&t);
        add_cidr(&t.onlink, "192.0.2.0/24");
        add_cidr(&t.onlink, "169.254.0.0/16"); /* a link-local address: the extra again */
        check("overlapping an extra", &t);
        net_topo_done(&t);
        add_cidr(&t.dns, "10.0.0.0/8");
        add_cidr(&t.dns, "10.1.0.0/16");
        check("nested", &t);
        net_topo_done(&t);
        add_cidr(&t.gw, "2001:db8::1");
        add_cidr(&t.gw, "2001:db8::1");
        check("twice the same host", &t);
        net_topo_done(&t);
        /* More elements than one message holds. */
        for (unsigned i = 0; i < 1500; i++) {
                uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
                add(&t.onlink, NET_V6, a, a);
        }
        for (unsigned i = 0; i < 600; i++) {
                uint8_t a[4] = { 10, (uint8_t)(i >> 6), (uint8_t)(i << 2), 0 }, b[4];
                memcpy(b, a, 4);
                b[3] = 1;
                add(&t.dns, NET_V4, a, b);
        }
        check("1500 IPv6 hosts, 600 IPv4 ranges", &t);
        net_topo_done(&t);

        for (unsigned i = 0; i < rounds; i++) {
                char label[32];
                snprintf(label, sizeof label, "random round %u", i);
                random_list(&t.onlink, NET_V4, rnd() % 6, rnd() % 16 ? &extras : NULL);
                random_list(&t.onlink, NET_V6, rnd() % 6, rnd() % 16 ? &extras : NULL);
                random_list(&t.gw, NET_V4, rnd() % 4, NULL);
                random_list(&t.gw, NET_V6, rnd() % 4, NULL);
                random_list(&t.dns, NET_V4, rnd() % 4, NULL);
                random_list(&t.dns, NET_V6, rnd() % 4, NULL);
                check(label, &t);
                net_topo_done(&t);
        }

        /* A set missing: the batch is refused whole and changes nothing. */
        add_cidr(&t.onlink, "192.0.2.0/24");
        add_cidr(&t.gw, "192.0.2.1");
        if (by_nft(&t) < 0)
                die("filling", EINVAL, NULL);
        net_topo_done(&t);
        if (net_nft_run(nft, "delete set inet " NET_TABLE " gw4", &err) < 0)
                die("delete set", EINVAL, err);
        char *before = list_table();
        add_cidr(&t.onlink, "198.51.100.0/24");
        r = by_netlink(&t);
        char *after = list_table();
        if (r != -ENOENT || strcmp(before, after) != 0) {
                fprintf(stderr, "FAIL set missing: %s (want %s), table %s\n", r < 0 ? strerror(-r) : "ok",
                        strerror(ENOENT), strcmp(before, after) ? "changed" : "unchanged");
                n_bad++;
        }
        free(before);
        free(after);
        net_topo_done(&t);
        net_ranges_clear(&extras);

        printf("net-nftset: %u identical, %u refused by both, %u different\n", n_same, n_refused, n_bad);
        net_nftset_free(direct);
        net_nft_free(nft);
        return n_bad ? 1 : 0;
}
