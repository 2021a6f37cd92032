/* net.c — the network plugin: peer-to-peer isolation, file-sharing and discovery drops and destination allow-lists in table inet sekisho, kept in step with the kernel's topology. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "dpi.h"
#include "kernel.h"
#include "net.h"
#include "netclaim.h"
#include "netctl.h"
#include "plugin.h"
#include "tlsprobe.h"
#include "util.h"

/* How the plugin hears about drops, honestly: every drop chain counts the
 * packet, and at most once a minute per class (a `limit` in the kernel) also
 * sends it to NFLOG group NET_NFLOG_GROUP. The daemon listens on that
 * group's netlink socket, so a drop wakes it and an idle terminal does not:
 * no timer reads counters. Counters are read only when someone asks
 * (status, `sekishoctl net show`). If nfnetlink_log is unavailable the
 * ruleset is loaded without the notices and status says so. */
#define NOTICE_INTERVAL_USEC (60ull * 1000000)


struct net {
        struct sekisho_plugin_handle *h;
        struct nft_ctx *nft;
        struct net_nftset *nftset;      /* the learned sets' direct path (NULL until used, or after an error) */
        struct net_learn *learn;
        struct net_nflog *nflog;
        struct net_cgwatch *cgw;
        int log_group;                  /* -1: notices unavailable */
        struct net_dests claims;        /* other plugins' claims, as loaded (res borrows their cgroups) */

        /* public-networks (R8): where the terminal is, proven by the core's probe */
        bool office;                    /* the pinned office server answered on this network */
        struct tls_probe *probe;
        struct loop_source *probe_timer;
        struct loop_source *trim_timer; /* nft and its memory back to the system once quiet (nft_release) */
        uint64_t probe_backoff;         /* seconds before the next try while public */
        char last_probe[200];

        bool applied;                   /* a ruleset of ours is in the kernel */
        struct net_policy pol;
        struct net_resolved res;
        struct net_topo topo;

        uint64_t n_applies, n_set_updates, n_set_nft, n_cut;
        uint64_t n_nft_loads;           /* libnftables loaded (a context made): the table, the fallback */
        uint64_t last_notice[_NET_C_MAX];
        char last_error[512];
};

static void on_claims(void *userdata);
static void on_cgroups(void *userdata);
static void start_probe(struct net *n);
static int on_probe_timer(struct loop_source *s, void *userdata);
static int reload(struct net *n, struct net_dests *claims);
static int copy_claims(struct net *n, struct net_dests *ret);

static size_t net_check(const struct pnode *section, struct perrors *errs) {
        return net_policy_parse(section, NULL, errs);
}

static void set_error(struct net *n, const char *fmt, ...) _printf_(2, 3);
static void set_error(struct net *n, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(n->last_error, sizeof n->last_error, fmt, ap);
        va_end(ap);
}

static const char *class_clause(int c) {
        switch (c) {
        case NET_C_BITTORRENT:
        case NET_C_DHT:
        case NET_C_UTP:
        case NET_C_FS_PORT:
        case NET_C_FILESHARE_DPI:
                return "R5";
        case NET_C_DEST_OUT:
        case NET_C_DEST_IN:
                return "R8";
        default:
                return "R4";
        }
}

static void on_notice(void *userdata, const char *prefix, const struct net_pkt *pkt) {
        struct net *n = userdata;
        int c = 0;
        for (; c < _NET_C_MAX; c++)
                if (strcmp(prefix, net_class_names[c]) == 0)
                        break;
        if (c == _NET_C_MAX)
                return; /* someone else's packet in our group: not ours to report */
        /* The kernel already limits each class to one notice a minute; this
         * guards against a second ruleset (or a reload) doubling it. */
        uint64_t now = now_usec_monotonic();
        if (n->last_notice[c] && now - n->last_notice[c] < NOTICE_INTERVAL_USEC)
                return;
        n->last_notice[c] = now;
        char src[64] = "", dst[64] = "", proto[8] = "", port[8] = "";
        if (pkt->family) {
                struct net_range r;
                net_range_from_prefix(pkt->family, pkt->src, 128, &r);
                net_range_format(&r, src, sizeof src);
                net_range_from_prefix(pkt->family, pkt->dst, 128, &r);
                net_range_format(&r, dst, sizeof dst);
                snprintf(proto, sizeof proto, "%s", pkt->proto == 6 ? "tcp" : pkt->proto == 17 ? "udp" : "other");
                if (pkt->dport)
                        snprintf(port, sizeof port, "%u", pkt->dport);
        }
        const struct audit_field f[] = {
                { "class", prefix }, { "src", src }, { "dst", dst }, { "proto", proto }, { "dport", port }, { NULL, NULL },
        };
        log_notice("network: dropped %s traffic %s -> %s %s %s (first of this kind this minute)", prefix, src, dst, proto,
                   port);
        sekisho_audit(n->h, "network-traffic-blocked", class_clause(c), f);
        sekisho_signal(n->h, "TrafficBlocked", f);
        sekisho_status_changed(n->h); /* at most once a minute per class */
}

/* One libnftables context while the plugin is busy, made (and the library
 * loaded) when nft is first needed: a new one per command costs about 5 ms.
 * The hot path, an address change, goes around it (nftset.c), and so do the
 * drop counters (nftobj.c); nft is for the whole table and the fallback. So
 * once nothing has needed it for NET_IDLE_USEC the context is freed and the
 * library unloaded (1.6 MiB resident with what it pulls in), and what the
 * commands allocated goes back to the system; the next command loads it
 * again. The delay keeps a burst (new claims, then their cgroup made, each a
 * reload) on one context, and keeps the trim (about 2 ms, measured) off
 * every topology update. */
#define NET_IDLE_USEC 1000000u

static int nft_get(struct net *n, struct nft_ctx **ret) {
        if (!n->nft) {
                int r = net_nft_new(&n->nft);
                if (r < 0) {
                        n->nft = NULL;
                        return r;
                }
                n->n_nft_loads++;
        }
        *ret = n->nft;
        return 0;
}

static void nft_drop(struct net *n) {
        net_nft_free(n->nft);
        n->nft = NULL;
        net_nft_unload();
        malloc_trim(0);
}

/* After every use of nft: the drop waits for a quiet second. */
static void nft_release(struct net *n) {
        if (loop_timer_arm(n->trim_timer, NET_IDLE_USEC, 0) < 0)
                nft_drop(n);
}


/* Close the memory stream f a generator wrote *script into (r: what it
 * returned) and run the script through nft as one transaction. */
static int run_stream(struct net *n, FILE *f, int r, char **script, char **ret_err) {
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        struct nft_ctx *nft;
        r = nft_get(n, &nft);
        return r < 0 ? r : net_nft_run(nft, *script, ret_err);
}

/* Generate and run the whole table; replace: a new table with the counters
 * carried over, else refill the existing one. */
static int run_ruleset(struct net *n, const struct net_policy *pol, const struct net_resolved *res, bool replace,
                       size_t *ret_size, uint64_t *ret_generated, char **ret_err) {
        struct net_counters c;
        bool have = replace && net_counters_read(&c) == 0;
        _cleanup_free_ char *script = NULL;
        FILE *f = open_memstream(&script, ret_size);
        if (!f)
                return -ENOMEM;
        struct net_counters zero = { 0 };
        int r = net_ruleset(f, pol, res, &n->topo, replace ? (have ? &c : &zero) : NULL, n->log_group);
        *ret_generated = now_usec_monotonic();
        return run_stream(n, f, r, &script, ret_err);
}

/* Replace the table whole, carrying the counters over. (Refilling it in
 * place keeps the counters without reading them, but nft then fetches every
 * element of every interval set first: measured 2 s instead of 90 ms when
 * leaving a 10 000-destination profile.) -EINVAL: nft refused, *ret_err
 * says why, and the previous ruleset is untouched. */
static int load_table(struct net *n, const struct net_policy *pol, const struct net_resolved *res, size_t *ret_size,
                      uint64_t *ret_generated, char **ret_err) {
        int r = run_ruleset(n, pol, res, true, ret_size, ret_generated, ret_err);
        if (r == -EINVAL && net_dpi_queue(pol)) {
                /* A kernel without the nft queue statement must not cost us
                 * the rest: load without it and say so (status, audit). */
                char *err2 = NULL;
                net_dpi_set_queue(false);
                if (run_ruleset(n, pol, res, true, ret_size, ret_generated, &err2) == 0) {
                        log_error("network: the kernel refuses the nft queue statement (%s): file-sharing flows are "
                                  "not classified", *ret_err ? *ret_err : "?");
                        const struct audit_field fl[] = { { "reason", "kernel without nft queue" }, { NULL, NULL } };
                        sekisho_audit(n->h, "network-classifier-unavailable", "R5", fl);
                        free(*ret_err);
                        *ret_err = NULL;
                        return 0;
                }
                free(err2);
                net_dpi_set_queue(true); /* not the queue's fault */
        }
        if (r != -EINVAL || n->log_group < 0)
                return r;
        /* A kernel without the nft log expression must not cost us the
         * isolation: try once more without the drop notices. */
        int group = n->log_group;
        char *err2 = NULL;
        n->log_group = -1;
        if (run_ruleset(n, pol, res, true, ret_size, ret_generated, &err2) == 0) {
                log_warning("network: the ruleset loads only without drop notices (%s); drops are still counted",
                            *ret_err ? *ret_err : "?");
                free(*ret_err);
                *ret_err = NULL;
                return 0;
        }
        free(err2);
        n->log_group = group; /* not the notices' fault: keep them, report the first error */
        return r;
}

/* The hot path of an address change: the changed learned sets in one
 * nf_tables batch of our own (nftset.c), without libnftables' cache fetch.
 * Any error: the caller goes through nft, which reloads the table if the
 * sets are gone. */
static int sets_direct(struct net *n, const struct net_topo *t) {
        if (!n->nftset) {
                int r = net_nftset_new(&n->nftset);
                if (r < 0)
                        return log_warning_errno(r, "network: no netlink socket for the sets; through nft");
        }
        struct net_setfill fills[NET_TOPO_SETS];
        size_t nf;
        int r = net_topo_fills(t, &n->topo, fills, &nf);
        if (r < 0)
                return r;
        r = net_nftset_refill(n->nftset, fills, nf);
        net_setfills_done(fills, nf);
        if (r < 0) {
                /* Replies of the failed batch may still be queued: a new socket next time. */
                n->nftset = net_nftset_free(n->nftset);
                log_warning_errno(r, "network: the direct set update failed; through nft");
        }
        return r;
}

/* The same through libnftables: "flush set; add element" of the changed sets. */
static int sets_nft(struct net *n, const struct net_topo *t, char **ret_err) {
        _cleanup_free_ char *script = NULL;
        size_t size;
        FILE *f = open_memstream(&script, &size);
        if (!f)
                return -ENOMEM;
        return run_stream(n, f, net_ruleset_sets(f, t, &n->topo), &script, ret_err);
}

static void on_topology_do(void *userdata) {
        struct net *n = userdata;
        struct net_topo t;
        uint64_t t0 = now_usec_monotonic();
        int r = net_learn_topo(n->learn, sekisho_env(n->h)->sysroot, n->pol.exempt_if, n->pol.n_exempt_if, &t);
        if (r >= 0 && !n->applied) {
                /* Nothing loaded yet: the next apply uses this picture. */
                net_topo_done(&n->topo);
                n->topo = t;
                return;
        }
        if (r < 0) {
                set_error(n, "topology: %s; keeping the previous sets", strerror(-r));
                log_error("network: cannot take the new topology (%s); keeping the previous sets", strerror(-r));
                return;
        }
        if (net_topo_sets_equal(&t, &n->topo)) {
                net_ranges_clear(&n->topo.local);
                n->topo.local = t.local; /* for conntrack decisions */
                t.local = (struct net_ranges){ 0 };
                net_topo_done(&t);
                return;
        }
        _cleanup_free_ char *err = NULL;
        size_t size;
        uint64_t t1 = now_usec_monotonic();
        r = sets_direct(n, &t);
        uint64_t t2 = now_usec_monotonic();
        if (r < 0) {
                n->n_set_nft++;
                r = sets_nft(n, &t, &err);
        }
        log_debug("network: sets: topology %.2f ms, netlink batch %.2f ms, nft %.2f ms", (t1 - t0) / 1e3,
                  (t2 - t1) / 1e3, (now_usec_monotonic() - t2) / 1e3);
        if (r < 0) {
                /* Someone removed our table or a set: load everything again. */
                log_warning("network: set update refused (%s); reloading the whole table", err ? err : "?");
                net_topo_done(&n->topo);
                n->topo = t;
                free(err);
                err = NULL;
                uint64_t dummy;
                if (load_table(n, &n->pol, &n->res, &size, &dummy, &err) < 0) {
                        n->applied = false;
                        set_error(n, "nft: %s", err ? err : "?");
                        log_error("network: reloading table inet " NET_TABLE " failed: %s", err ? err : "?");
                }
                return;
        }
        net_topo_done(&n->topo);
        n->topo = t;
        n->n_set_updates++;
        if (n->pol.public_nets) {
                /* Another network: public until the office is proven again. */
                if (n->office) {
                        n->office = false;
                        reload(n, &n->claims); /* the notice says what is in force: after it */
                        log_notice("network: the network changed; only the VPN until the office is proven again");
                }
                n->probe_backoff = 0;
                start_probe(n);
        }
        log_debug("network: topology changed; sets updated");
        sekisho_status_changed(n->h);
}

static void on_topology(void *userdata) {
        struct net *n = userdata;
        on_topology_do(n);
        nft_release(n);
}

static int on_trim_timer(struct loop_source *s, void *userdata) {
        (void)s;
        nft_drop(userdata);
        return 0;
}

/* In test mode the plugin must never touch the host's own firewall: it
 * runs only in a network namespace that is provably not the host's, i.e.
 * one made with `ip netns add` (bound under /run/netns) or one that differs
 * from PID 1's. */
static int refuse_host_namespace(void) {
        struct stat self, other;
        if (stat("/proc/self/ns/net", &self) < 0)
                return -errno;
        if (stat("/proc/1/ns/net", &other) == 0 && (self.st_ino != other.st_ino || self.st_dev != other.st_dev))
                return 0;
        DIR *d = opendir("/run/netns");
        if (!d)
                return -EPERM;
        struct dirent *de;
        int r = -EPERM;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &other, 0) == 0 &&
                    self.st_ino == other.st_ino && self.st_dev == other.st_dev) {
                        r = 0;
                        break;
                }
        closedir(d);
        return r;
}

/* Everything the plugin holds, for a failed start and a stop alike; the
 * kernel's table is not part of it (see net_shutdown). */
static void net_free(struct net *n) {
        if (!n)
                return;
        net_nflog_close(n->nflog);
        net_cgwatch_free(n->cgw);
        net_dests_clear(&n->claims);
        tls_probe_free(n->probe);
        loop_source_free(n->probe_timer);
        loop_source_free(n->trim_timer);
        net_learn_free(n->learn);
        net_nftset_free(n->nftset);
        net_nft_free(n->nft);
        net_policy_done(&n->pol);
        net_resolved_done(&n->res);
        net_topo_done(&n->topo);
        free(n);
}

static int net_init(struct sekisho_plugin_handle *h, void **ret_state) {
        const struct sekisho_env *env = sekisho_env(h);
        if (env->test_mode) {
                int r = refuse_host_namespace();
                if (r < 0)
                        return log_error_errno(r, "network: test mode in the host's network namespace: refusing to "
                                                  "touch the host's nftables (run the daemon under ip netns exec)");
        }
        int r;
        struct net *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->h = h;
        n->log_group = NET_NFLOG_GROUP;
        r = net_learn_new(sekisho_loop(h), env->sysroot, on_topology, n, &n->learn);
        if (r < 0)
                goto fail;
        r = net_learn_topo(n->learn, env->sysroot, NULL, 0, &n->topo);
        if (r < 0)
                goto fail;
        char *in_force = env->state_dir ? path_join(env->state_dir, NETCLAIMS_IN_FORCE) : NULL;
        r = env->state_dir && !in_force ? -ENOMEM : net_cgwatch_new(sekisho_loop(h), in_force, on_cgroups, n, &n->cgw);
        free(in_force);
        if (r < 0)
                goto fail;
        r = loop_add_timer(sekisho_loop(h), on_probe_timer, n, &n->probe_timer);
        if (r < 0)
                goto fail;
        r = loop_add_timer(sekisho_loop(h), on_trim_timer, n, &n->trim_timer);
        if (r < 0)
                goto fail;
        r = sekisho_net_claims_watch(h, on_claims, n);
        if (r < 0)
                log_warning_errno(r, "network: cannot watch other plugins' network claims");
        r = copy_claims(n, &n->claims); /* those made before we watched */
        if (r < 0)
                goto fail;
        if (net_nflog_open(sekisho_loop(h), NET_NFLOG_GROUP, on_notice, n, &n->nflog) < 0) {
                n->log_group = -1;
                log_warning("network: drop notices unavailable (NFLOG); drops are still counted");
        }
        *ret_state = n;
        return 0;
fail:
        net_free(n);
        return r;
}

static int read_hosts(const char *sysroot, char **ret, size_t *ret_size) {
        _cleanup_free_ char *path = path_join(sysroot ? sysroot : "/", "etc/hosts");
        if (!path)
                return -ENOMEM;
        int r = read_file_capped(path, NET_HOSTS_MAX, ret, ret_size);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_size = 0;
                return 0;
        }
        return r;
}

/* The policy's names and the claims through /etc/hosts; the claimed
 * cgroups made and watched. */
static int resolve(struct net *n, const struct net_policy *pol, const struct net_dests *claims, struct net_resolved *ret) {
        _cleanup_free_ char *hosts = NULL;
        size_t hosts_size = 0;
        int r = read_hosts(sekisho_env(n->h)->sysroot, &hosts, &hosts_size);
        if (r < 0)
                log_warning_errno(r, "network: cannot read /etc/hosts; names in the policy stay unresolved");
        r = net_resolve(pol, claims, hosts, hosts_size, ret);
        if (r < 0)
                return r;
        ret->public_mode = pol->public_nets && !n->office;
        r = net_cgwatch_prepare(n->cgw, ret);
        if (r == -ENOMEM) {
                net_resolved_done(ret);
                return r;
        }
        return 0;
}

/* The policy in force again with these claims (claims changed, or a claimed
 * cgroup was re-created). On success n owns claims; else they are freed and
 * the rules in force stay. */
static int reload(struct net *n, struct net_dests *claims) {
        if (!n->applied) {
                if (claims != &n->claims) {
                        net_dests_clear(&n->claims);
                        n->claims = *claims;
                }
                return 0; /* the first apply takes them */
        }
        struct net_resolved res;
        int r = resolve(n, &n->pol, claims, &res);
        _cleanup_free_ char *err = NULL;
        size_t size;
        uint64_t t;
        if (r == 0)
                r = load_table(n, &n->pol, &res, &size, &t, &err);
        if (r < 0) {
                set_error(n, "claims: %s", err ? err : strerror(-r));
                log_error("network: cannot load the claimed destinations, the previous rules stay in force: %s",
                          err ? err : strerror(-r));
                if (claims != &n->claims)
                        net_dests_clear(claims);
                return r;
        }
        for (size_t i = 0; i < res.n_unresolved; i++)
                log_error("network: %s not found in /etc/hosts: claim ignored", res.unresolved[i]);
        net_resolved_done(&n->res);
        n->res = res;
        net_cgwatch_publish(n->cgw);
        if (claims != &n->claims) {
                net_dests_clear(&n->claims);
                n->claims = *claims;
        }
        n->n_applies++;
        sekisho_status_changed(n->h);
        return 0;
}

/* Other plugins' claims, checked as the policy's entries are: a bad
 * destination is left out (logged); a bad cgroup path keeps the destination
 * with no cgroup, which refuses it to every program. */
static int copy_claims(struct net *n, struct net_dests *ret) {
        const struct sekisho_net_claim *v;
        size_t k = sekisho_net_claims(n->h, &v);
        struct net_dests out = { 0 };
        for (size_t i = 0; i < k; i++) {
                struct net_dest d = { 0 };
                const char *why, *p = v[i].protocol;
                bool named = net_parse_cidr(v[i].destination, &d.range, &why) < 0;
                if (named && !net_valid_hostname(v[i].destination)) {
                        log_error("network: claim of %s: '%s' is not an address, a prefix or a host name: ignored",
                                  v[i].owner, v[i].destination);
                        continue;
                }
                if (p && strcmp(p, "tcp") != 0 && strcmp(p, "udp") != 0) {
                        log_error("network: claim of %s: unknown protocol '%s': ignored", v[i].owner, p);
                        continue;
                }
                d.proto = !p ? NET_PROTO_ANY : strcmp(p, "tcp") == 0 ? NET_PROTO_TCP : NET_PROTO_UDP;
                d.port_lo = v[i].port_lo;
                d.port_hi = v[i].port_hi;
                if (!net_valid_cgroup(v[i].cgroup))
                        log_error("network: claim of %s: '%s' is not a cgroup v2 path: %s refused to every program",
                                  v[i].owner, v[i].cgroup, v[i].destination);
                else if (!(d.cgroup = strdup(v[i].cgroup)))
                        goto oom;
                if (named && !(d.name = strdup(v[i].destination)))
                        goto oom;
                if (net_dests_add(&out, &d) < 0)
                        goto oom;
                continue;
        oom:
                free(d.name);
                free(d.cgroup);
                net_dests_clear(&out);
                return -ENOMEM;
        }
        *ret = out;
        return 0;
}

/* ---- public networks (R8): the office proven by the core's probe ---- */

#define PROBE_TIMEOUT_USEC (5ull * 1000000)
#define PROBE_RETRY_MIN 10
#define PROBE_RETRY_MAX 600

static void on_probe(enum probe_result r, const char *detail, void *userdata) {
        struct net *n = userdata;
        snprintf(n->last_probe, sizeof n->last_probe, "%s: %s", probe_result_name(r), detail);
        n->probe = tls_probe_free(n->probe); /* detail is not used after this */
        bool office = r == PROBE_HOME;
        if (office != n->office) {
                n->office = office;
                reload(n, &n->claims);
                nft_release(n);
                const struct audit_field f[] = { { "location", office ? "office" : "public" },
                                                 { "proof", n->last_probe }, { NULL, NULL } };
                log_notice("network: %s (%s)", office ? "in the office: the office rules apply"
                                                      : "not in the office: only the VPN", n->last_probe);
                sekisho_audit(n->h, "network-location", "R8", f);
        }
        if (office) {
                n->probe_backoff = 0;
                return;
        }
        n->probe_backoff = n->probe_backoff ? n->probe_backoff * 2 : PROBE_RETRY_MIN;
        if (n->probe_backoff > PROBE_RETRY_MAX)
                n->probe_backoff = PROBE_RETRY_MAX;
        loop_timer_arm(n->probe_timer, n->probe_backoff * 1000000u, 0);
}

static void start_probe(struct net *n) {
        if (n->probe || !n->pol.public_nets || !n->pol.office_server[0])
                return;
        loop_timer_disarm(n->probe_timer);
        int r = tls_probe_start(sekisho_loop(n->h), n->pol.office_server, n->pol.office_sni, n->pol.office_pin,
                                PROBE_TIMEOUT_USEC, on_probe, n, &n->probe);
        if (r < 0)
                log_warning_errno(r, "network: cannot probe the office server %s", n->pol.office_server);
}

static int on_probe_timer(struct loop_source *s, void *userdata) {
        (void)s;
        start_probe(userdata);
        return 0;
}

static void on_claims(void *userdata) {
        struct net *n = userdata;
        struct net_dests claims;
        if (copy_claims(n, &claims) < 0)
                log_error("network: out of memory taking the new claims; the previous rules stay in force");
        else
                reload(n, &claims);
        nft_release(n);
}

static void on_cgroups(void *userdata) {
        struct net *n = userdata;
        log_notice("network: a claimed cgroup was removed or re-created; reloading its rules");
        reload(n, &n->claims);
        nft_release(n);
}

static int net_apply_do(void *state, const struct pnode *section) {
        struct net *n = state;
        struct perrors errs = { 0 };
        struct net_policy pol;
        uint64_t t0 = now_usec_monotonic(), t1, t2, t3, t4;
        _cleanup_free_ char *err = NULL; /* before any goto: cleanup runs at every exit */
        if (net_policy_parse(section, &pol, &errs) > 0) {
                set_error(n, "policy: %s", perrors_first(&errs));
                log_error("network: %s", perrors_first(&errs));
                perrors_clear(&errs);
                return -EINVAL;
        }
        perrors_clear(&errs);

        /* Another office (or none): not proven until the probe says so. */
        if (!pol.public_nets || strcmp(pol.office_server, n->pol.office_server) != 0 ||
            memcmp(pol.office_pin, n->pol.office_pin, sizeof pol.office_pin) != 0) {
                n->office = false;
                n->probe = tls_probe_free(n->probe);
                n->probe_backoff = 0;
        }
        struct net_resolved res;
        int r = resolve(n, &pol, &n->claims, &res);
        if (r < 0) {
                net_policy_done(&pol);
                return r;
        }

        /* The topology as this policy sees it (exempt-interfaces may differ). */
        struct net_topo old_topo = n->topo, topo;
        r = net_learn_topo(n->learn, sekisho_env(n->h)->sysroot, pol.exempt_if, pol.n_exempt_if, &topo);
        if (r < 0) {
                set_error(n, "topology: %s", strerror(-r));
                goto fail;
        }
        n->topo = topo;

        t1 = now_usec_monotonic();
        size_t size = 0;
        t2 = t1;
        r = load_table(n, &pol, &res, &size, &t2, &err);
        t3 = now_usec_monotonic();
        if (r < 0) {
                net_topo_done(&n->topo);
                n->topo = old_topo;
        } else
                net_topo_done(&old_topo);
        if (r == -EINVAL) {
                /* nft refused: its transaction is all or nothing, so the previous
                 * ruleset is still in force. */
                set_error(n, "nft: %s", err ? err : "?");
                log_error("network: nft refused the ruleset, the previous one stays in force: %s", err ? err : "?");
                const struct audit_field fl[] = { { "error", err ? err : "" }, { NULL, NULL } };
                sekisho_audit(n->h, "network-ruleset-refused", "R4", fl);
                goto fail;
        }
        if (r == -ELIBACC || r == -ELIBBAD) {
                set_error(n, "nft: %s", net_nft_load_error());
                sekisho_fail(n->h, r, "cannot load libnftables: %s", net_nft_load_error());
                goto fail;
        }
        if (r < 0)
                goto fail;

        net_policy_done(&n->pol);
        net_resolved_done(&n->res);
        n->pol = pol;
        n->res = res;
        n->applied = true;
        net_cgwatch_publish(n->cgw);
        n->n_applies++;
        start_probe(n);
        n->last_error[0] = '\0';

        for (size_t i = 0; i < n->res.n_unresolved; i++) {
                log_error("network: %s not found in /etc/hosts: entry ignored (its traffic stays blocked)",
                          n->res.unresolved[i]);
                const struct audit_field fl[] = { { "entry", n->res.unresolved[i] }, { NULL, NULL } };
                sekisho_audit(n->h, "network-name-unresolved", "R4", fl);
                set_error(n, "unresolved: %s", n->res.unresolved[i]);
        }

        unsigned cut = 0;
        r = net_ct_cut(&n->pol, &n->res, &n->topo, &cut);
        t4 = now_usec_monotonic();
        log_debug("network: applied in %.1f ms: policy %.1f, script %.1f, nft %.1f (%zu bytes), conntrack %.1f",
                  (t4 - t0) / 1e3, (t1 - t0) / 1e3, (t2 - t1) / 1e3, (t3 - t2) / 1e3, size, (t4 - t3) / 1e3);
        if (r < 0)
                log_warning_errno(r, "network: could not cut every forbidden connection");
        if (cut > 0) {
                char num[16];
                snprintf(num, sizeof num, "%u", cut);
                const struct audit_field fl[] = { { "connections", num }, { NULL, NULL } };
                log_notice("network: cut %u connection(s) the new rules forbid", cut);
                sekisho_audit(n->h, "network-connections-cut", n->pol.allowlist ? "R8" : "R4", fl);
                n->n_cut += cut;
        }
        return 0;
fail:
        net_policy_done(&pol);
        net_resolved_done(&res);
        return r;
}

static int net_apply(void *state, const struct pnode *section) {
        int r = net_apply_do(state, section);
        nft_release(state);
        return r;
}

static void add_ranges(struct kvlist *out, const char *key, const struct net_ranges *l) {
        char buf[1024] = "", one[128];
        size_t used = 0;
        for (size_t i = 0; i < l->n && used < sizeof buf - 1; i++) {
                net_range_format(&l->v[i], one, sizeof one);
                int w = snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "", one);
                if (w < 0 || (size_t)w >= sizeof buf - used)
                        break;
                used += (size_t)w;
        }
        kvlist_add(out, key, "%s", buf);
}

static void net_status_do(void *state, struct kvlist *out) {
        struct net *n = state;
        kvlist_add(out, "table", "inet %s %s", NET_TABLE, n->applied ? "loaded" : "not loaded");
        kvlist_add(out, "mode", "%s", n->pol.allowlist ? "allow-list" : n->pol.peer_deny ? "peer-isolation" : "open");
        kvlist_add(out, "file-sharing", "%s", n->pol.fileshare_deny ? "deny" : "allow");
        add_ranges(out, "on-link", &n->topo.onlink);
        add_ranges(out, "gateways", &n->topo.gw);
        add_ranges(out, "dns", &n->topo.dns);
        kvlist_add(out, "notices", "%s", n->log_group >= 0 ? "nflog" : "unavailable");
        kvlist_add(out, "claimed-destinations", "%zu", n->res.claims.n);
        if (n->pol.public_nets) {
                kvlist_add(out, "location", "%s", n->office ? "office" : "public (only the VPN)");
                if (n->last_probe[0])
                        kvlist_add(out, "office-probe", "%s", n->last_probe);
        }
        if (n->pol.fileshare_deny)
                kvlist_add(out, "classifier", "%s",
                           !HAVE_CLASSIFIER         ? "not built"
                           : net_dpi_queue(&n->pol) ? "nfqueue"
                                                    : "unavailable (kernel without nft queue)");
        struct net_counters c;
        if (n->applied && net_counters_read(&c) == 0)
                for (int i = 0; i < _NET_C_MAX; i++) {
                        char key[48];
                        snprintf(key, sizeof key, "drops.%s", net_class_names[i]);
                        kvlist_add(out, key, "%" PRIu64, c.packets[i]);
                }
        kvlist_add(out, "applies", "%" PRIu64, n->n_applies);
        kvlist_add(out, "set-updates", "%" PRIu64, n->n_set_updates);
        kvlist_add(out, "set-updates-through-nft", "%" PRIu64, n->n_set_nft);
        kvlist_add(out, "libnftables-loads", "%" PRIu64, n->n_nft_loads);
        kvlist_add(out, "connections-cut", "%" PRIu64, n->n_cut);
        if (n->last_error[0])
                kvlist_add(out, "last-error", "%s", n->last_error);
}

static void net_status(void *state, struct kvlist *out) {
        net_status_do(state, out);
        nft_release(state);
}

/* The table stays in the kernel: a stopped or crashed daemon leaves the
 * terminal isolated (fail-closed). Only an administrator removes it
 * (`nft delete table inet sekisho`). */
static void net_shutdown(void *state) {
        net_free(state);
}

/* `sekishoctl net show [--counters]`: offline, reads the kernel's table in
 * the caller's network namespace (needs CAP_NET_ADMIN). Exit 0, 3 when the
 * table is not loaded, 2 on usage errors, 1 otherwise. */
static int net_ctl(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv) {
        (void)env, (void)section;
        bool counters_only = argc == 3 && strcmp(argv[2], "--counters") == 0;
        if (argc < 2 || strcmp(argv[1], "show") != 0 || (argc == 3 && !counters_only) || argc > 3) {
                fprintf(stderr, "usage: sekishoctl net show [--counters]\n");
                return 2;
        }
        int r = netctl_show(stdout, counters_only);
        if (r == -ELIBACC || r == -ELIBBAD)
                fprintf(stderr, "sekishoctl: cannot load libnftables: %s\n", net_nft_load_error());
        return r == 0 ? 0 : r == -ENOENT ? 3 : 1;
}

static bool key_is(const struct pnode *section, const char *key, const char *value) {
        const char *s = pnode_str(pmap_get(section, key));
        return s && strcmp(s, value) == 0;
}

/* R4 peer isolation, R5 file-sharing traffic, R8 destination allow-lists. */
static void net_report(const struct pnode *section, const struct kvlist *live, struct report_rows *out) {
        (void)live;
        struct report_row *row = report_row_add(out, "R4", "004 意見④ (6.5(4))", "network-traffic-blocked");
        if (row) {
                report_setting_node(row, "network.peer-to-peer", pmap_get(section, "peer-to-peer"));
                report_setting_node(row, "network.allow-peers", pmap_get(section, "allow-peers"));
                if (key_is(section, "peer-to-peer", "deny"))
                        report_reason(row, REPORT_ENFORCED, "traffic to and from other hosts on the local subnets is dropped");
                else
                        report_reason(row, REPORT_NOT_ENFORCED, "network.peer-to-peer allows it");
        }
        row = report_row_add(out, "R5", "002 ⑤ (注2)", "network-traffic-blocked");
        if (row) {
                report_setting_node(row, "network.file-sharing", pmap_get(section, "file-sharing"));
                report_setting_node(row, "network.file-sharing-ports", pmap_get(section, "file-sharing-ports"));
                if (key_is(section, "file-sharing", "deny"))
                        report_reason(row, REPORT_ENFORCED, "file-sharing traffic (BitTorrent, DHT, uTP, listed ports) is dropped");
                else
                        report_reason(row, REPORT_NOT_ENFORCED, "network.file-sharing allows file-sharing traffic");
        }
        row = report_row_add(out, "R8", "002 ④ (注4); 004 その他② (注7)", "network-traffic-blocked");
        if (row) {
                const struct pnode *d = pmap_get(section, "allow-destinations");
                const struct pnode *pub = pmap_get(section, "public-networks");
                report_setting_node(row, "network.allow-destinations", d);
                report_setting_node(row, "network.public-networks", pub);
                if (pub && pmap_get(pub, "office-server"))
                        report_reason(row, REPORT_ENFORCED, "outside the office (proven by a pinned TLS handshake) only "
                                      "the VPN endpoints, then only the tunnel (kill switch); never the core network");
                else if (pub)
                        report_reason(row, REPORT_ENFORCED, "only the VPN endpoints, then only the tunnel (kill switch), "
                                      "on every network; never the core network");
                else if (d && d->kind == PNODE_SEQ && d->n > 0)
                        report_reason(row, REPORT_ENFORCED, "only the listed destinations (VPN, screen transfer) are reachable");
                else
                        report_reason(row, REPORT_PARTIAL, "neither network.public-networks nor a destination allow-list "
                                      "in force: only peer isolation applies on public networks");
        }
}

static const int net_syscalls[] = {
        SCMP_SYS(socket), SCMP_SYS(bind), SCMP_SYS(connect), SCMP_SYS(getsockname), SCMP_SYS(setsockopt),
        SCMP_SYS(getsockopt), SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
        SCMP_SYS(getpid), -1,
};

SEKISHO_PLUGIN_DEFINE(net,
        .section = "network",
        .summary = "peer-to-peer isolation, file-sharing drops and destination allow-lists (nftables)",
        .check = net_check,
        .init = net_init,
        .apply = net_apply,
        .status = net_status,
        .shutdown = net_shutdown,
        .report = net_report,
        .ctl = net_ctl,
        .ctl_usage = "  net show [--counters]           table inet sekisho and its drop counters (this namespace)\n",
        .syscalls = net_syscalls);
