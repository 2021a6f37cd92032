/* ruleset.c — turns the network policy and the learned topology into the nft script of table inet sekisho, and models the same rules in C for conntrack cuts. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dpi.h"
#include "net.h"
#include "util.h"

const char *const net_class_names[] = {
        [NET_C_PEER_OUT] = "peer_out",       [NET_C_PEER_IN] = "peer_in",   [NET_C_DISCOVERY] = "discovery",
        [NET_C_BITTORRENT] = "bittorrent",   [NET_C_DHT] = "dht",           [NET_C_UTP] = "utp",
        [NET_C_FS_PORT] = "fileshare_port",  [NET_C_DEST_OUT] = "dest_out", [NET_C_DEST_IN] = "dest_in",
        [NET_C_FILESHARE_DPI] = "fileshare_dpi",
};

void net_topo_done(struct net_topo *t) {
        net_ranges_clear(&t->onlink);
        net_ranges_clear(&t->gw);
        net_ranges_clear(&t->dns);
        net_ranges_clear(&t->local);
}

bool net_topo_sets_equal(const struct net_topo *a, const struct net_topo *b) {
        return net_ranges_equal(&a->onlink, &b->onlink) && net_ranges_equal(&a->gw, &b->gw) &&
               net_ranges_equal(&a->dns, &b->dns);
}

void net_resolved_done(struct net_resolved *r) {
        net_ranges_clear(&r->peers);
        net_ranges_clear(&r->dns);
        free(r->dests.v); /* names are never copied into resolved entries, cgroups are borrowed */
        free(r->claims.v);
        free(r->vpn.v);
        net_ranges_clear(&r->core);
        for (size_t i = 0; i < r->n_unresolved; i++)
                free(r->unresolved[i]);
        free(r->unresolved);
        *r = (struct net_resolved){ 0 };
}

static int note_unresolved(struct net_resolved *r, const struct net_dest *d, const char *what) {
        if (ARRAY_GROW(r->unresolved, r->cap_unresolved, r->n_unresolved + 1) < 0)
                return -ENOMEM;
        char *s;
        if (asprintf(&s, "%s: '%s' (%s:%u:%u)", what, d->name, d->at && d->at->file ? d->at->file : "policy",
                     d->at ? d->at->line : 0, d->at ? d->at->col : 0) < 0)
                return -ENOMEM;
        r->unresolved[r->n_unresolved++] = s;
        return 0;
}

static int resolved_dest_add(struct net_dests *l, const struct net_dest *d) {
        if (ARRAY_GROW(l->v, l->cap, l->n + 1) < 0)
                return -ENOMEM;
        l->v[l->n] = *d;
        l->v[l->n++].name = NULL;
        return 0;
}

/* One destination into out: as it is, or each address its name has. */
static int resolve_dest(struct net_resolved *r, const struct net_dest *d, struct net_dests *out, const char *hosts,
                        size_t hosts_size, const char *what) {
        if (!d->name)
                return resolved_dest_add(out, d);
        struct net_ranges found = { 0 };
        int e = 0;
        if (net_hosts_lookup(hosts, hosts_size, d->name, &found) == 0)
                e = note_unresolved(r, d, what);
        for (size_t j = 0; j < found.n && e == 0; j++) {
                struct net_dest x = *d;
                x.range = found.v[j];
                /* Skip what an entry already there covers (a name listed twice,
                 * or an address also listed literally): nft refuses overlaps. */
                bool dup = false;
                for (size_t m = 0; m < out->n && !dup; m++) {
                        const struct net_dest *y = &out->v[m];
                        dup = y->proto == x.proto && y->port_lo == x.port_lo && y->port_hi == x.port_hi &&
                              net_range_covers(&y->range, &x.range) && !y->cgroup == !x.cgroup &&
                              (!y->cgroup || strcmp(y->cgroup, x.cgroup) == 0);
                }
                if (!dup)
                        e = resolved_dest_add(out, &x);
        }
        net_ranges_clear(&found);
        return e;
}

/* Names are looked up in the terminal's /etc/hosts only, never in DNS: a
 * forged DNS answer on the LAN must not open a hole in the isolation, and
 * the daemon must not block on a resolver. A name that is not found adds
 * nothing (fail-closed) and is reported. */
int net_resolve(const struct net_policy *p, const struct net_dests *claims, const char *hosts, size_t hosts_size,
                struct net_resolved *ret) {
        struct net_resolved r = { 0 };
        int e = 0;
        const struct net_dests *peerlists[] = { &p->peers, &p->mgmt };
        for (size_t k = 0; k < 2 && e == 0; k++)
                for (size_t i = 0; i < peerlists[k]->n && e == 0; i++) {
                        const struct net_dest *d = &peerlists[k]->v[i];
                        if (!d->name)
                                e = net_ranges_add(&r.peers, &d->range);
                        else if (net_hosts_lookup(hosts, hosts_size, d->name, &r.peers) == 0)
                                e = note_unresolved(&r, d, k == 0 ? "allow-peers" : "management");
                }
        net_ranges_normalize(&r.peers);
        for (size_t i = 0; i < p->dns.n && e == 0; i++) {
                const struct net_dest *d = &p->dns.v[i];
                if (!d->name)
                        e = net_ranges_add(&r.dns, &d->range);
                else if (net_hosts_lookup(hosts, hosts_size, d->name, &r.dns) == 0)
                        e = note_unresolved(&r, d, "dns-servers");
        }
        net_ranges_normalize(&r.dns);
        for (size_t i = 0; i < p->dests.n && e == 0; i++) {
                const struct net_dest *d = &p->dests.v[i];
                e = resolve_dest(&r, d, d->cgroup ? &r.claims : &r.dests, hosts, hosts_size, "allow-destinations");
        }
        for (size_t i = 0; claims && i < claims->n && e == 0; i++)
                e = resolve_dest(&r, &claims->v[i], &r.claims, hosts, hosts_size, "claim");
        for (size_t i = 0; i < p->vpn.n && e == 0; i++)
                e = resolve_dest(&r, &p->vpn.v[i], &r.vpn, hosts, hosts_size, "vpn-endpoints");
        for (size_t i = 0; i < p->core.n && e == 0; i++)
                e = net_ranges_add(&r.core, &p->core.v[i].range);
        net_ranges_normalize(&r.core);
        if (e < 0) {
                net_resolved_done(&r);
                return e;
        }
        *ret = r;
        return 0;
}

/* ---- emission ---- */

/* "a, b, c" of one family, extra first; "" when empty. Caller frees. */
static char *ranges_str(const struct net_ranges *l, int family, const char *extra) {
        char *s = NULL, buf[128];
        size_t n;
        FILE *f = open_memstream(&s, &n);
        if (!f)
                return NULL;
        bool first = true;
        if (extra) {
                fputs(extra, f);
                first = false;
        }
        for (size_t i = 0; l && i < l->n; i++) {
                if (l->v[i].family != family)
                        continue;
                net_range_format(&l->v[i], buf, sizeof buf);
                fprintf(f, "%s%s", first ? "" : ", ", buf);
                first = false;
        }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static const char *proto_name(enum net_proto p) { return p == NET_PROTO_TCP ? "tcp" : "udp"; }

static char *dsvc_str(const struct net_resolved *res, int family) {
        char *s = NULL, buf[128];
        size_t n;
        FILE *f = open_memstream(&s, &n);
        if (!f)
                return NULL;
        bool first = true;
        for (size_t i = 0; res && i < res->dests.n; i++) {
                const struct net_dest *d = &res->dests.v[i];
                if (d->range.family != family || d->proto == NET_PROTO_ANY)
                        continue;
                net_range_format(&d->range, buf, sizeof buf);
                fprintf(f, "%s%s . %s . ", first ? "" : ", ", buf, proto_name(d->proto));
                if (d->port_lo == 0)
                        fputs("0-65535", f);
                else if (d->port_lo == d->port_hi)
                        fprintf(f, "%u", d->port_lo);
                else
                        fprintf(f, "%u-%u", d->port_lo, d->port_hi);
                first = false;
        }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static char *ports_str(const struct net_policy *p) {
        char *s = NULL;
        size_t n;
        FILE *f = open_memstream(&s, &n);
        if (!f)
                return NULL;
        for (size_t i = 0; i < p->n_fs; i++) {
                fputs(i ? ", " : "", f);
                if (p->fs_lo[i] == p->fs_hi[i])
                        fprintf(f, "%u", p->fs_lo[i]);
                else
                        fprintf(f, "%u-%u", p->fs_lo[i], p->fs_hi[i]);
        }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* Where set declarations and their elements go. In replace mode elements
 * are inline in the new table; in refill mode the declarations (which
 * create a missing set and leave an existing one alone) go into the table
 * block and "flush set" + "add element" into fill, run after it. */
struct setout {
        FILE *decl, *fill;
        int err;
};

static void put_set(struct setout *o, const char *name, const char *type, char *elems) {
        if (!elems) {
                o->err = -ENOMEM;
                return;
        }
        if (o->decl) {
                fprintf(o->decl, "  set %s { type %s; flags interval;", name, type);
                if (!o->fill && *elems)
                        fprintf(o->decl, " elements = { %s }", elems);
                fputs(" }\n", o->decl);
        }
        if (o->fill) {
                fprintf(o->fill, "flush set inet " NET_TABLE " %s\n", name);
                if (*elems)
                        fprintf(o->fill, "add element inet " NET_TABLE " %s { %s }\n", name, elems);
        }
        free(elems);
}

#define V4 "ipv4_addr"
#define V6 "ipv6_addr"

/* On every link, whatever the kernel says: link-local unicast, every
 * multicast scope (link, site, organisation, global: a switch floods them to
 * the other terminals, and a multicast router carries them further) and the
 * limited broadcast (LAN-sync and discovery chatter of desktop software).
 * The kept set, DHCP, DHCPv6, ND and RA, MLD and IGMP, and allowed
 * discovery protocols, is accepted before this applies. */
#define ALWAYS_ONLINK4 "169.254.0.0/16, 224.0.0.0/4, 255.255.255.255"
#define ALWAYS_ONLINK6 "fe80::/10, ff00::/8"

/* In refill mode a learned set is rewritten only when its elements change
 * (old: the sets in force, NULL: every set): an address change usually
 * touches onlink only, and each set in the transaction costs nft a flush, an
 * add and, for an interval set, a fetch of its elements. */
static void put_topo_set(struct setout *o, const char *name, const char *type, char *elems, char *old) {
        bool same = old && elems && strcmp(old, elems) == 0;
        free(old);
        if (same)
                free(elems);
        else
                put_set(o, name, type, elems);
}

static void put_topo_sets(struct setout *o, const struct net_topo *t, const struct net_topo *old) {
#define TOPO_SET(name, type, field, family, always)                                                      \
        put_topo_set(o, name, type, ranges_str(&t->field, family, always),                               \
                     old ? ranges_str(&old->field, family, always) : NULL)
        TOPO_SET("onlink4", V4, onlink, NET_V4, ALWAYS_ONLINK4);
        TOPO_SET("onlink6", V6, onlink, NET_V6, ALWAYS_ONLINK6);
        TOPO_SET("gw4", V4, gw, NET_V4, NULL);
        TOPO_SET("gw6", V6, gw, NET_V6, NULL);
        TOPO_SET("dns4", V4, dns, NET_V4, NULL);
        TOPO_SET("dns6", V6, dns, NET_V6, NULL);
#undef TOPO_SET
}

/* The fixed extras of a set as ranges: the same text nft is given. */
static int extras_add(struct net_ranges *l, const char *extra) {
        char buf[128];
        if (!extra)
                return 0;
        if ((size_t)snprintf(buf, sizeof buf, "%s", extra) >= sizeof buf)
                return -E2BIG;
        char *save = NULL;
        for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                struct net_range r;
                const char *why;
                int e = net_parse_cidr(tok, &r, &why);
                if (e < 0)
                        return e;
                e = net_ranges_add(l, &r);
                if (e < 0)
                        return e;
        }
        return 0;
}

static int set_ranges(const struct net_ranges *from, int family, const char *extra, struct net_ranges *ret) {
        *ret = (struct net_ranges){ 0 };
        int e = extras_add(ret, extra);
        for (size_t i = 0; i < from->n && e == 0; i++)
                if (from->v[i].family == family)
                        e = net_ranges_add(ret, &from->v[i]);
        if (e < 0) {
                net_ranges_clear(ret);
                return e;
        }
        net_ranges_sort(ret);
        return 0;
}

void net_setfills_done(struct net_setfill *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                net_ranges_clear(&f[i].ranges);
}

int net_topo_fills(const struct net_topo *t, const struct net_topo *old, struct net_setfill ret[NET_TOPO_SETS],
                   size_t *ret_n) {
        static const struct {
                const char *name;
                int family;
                size_t field;
                const char *extra;
        } sets[NET_TOPO_SETS] = {
                { "onlink4", NET_V4, offsetof(struct net_topo, onlink), ALWAYS_ONLINK4 },
                { "onlink6", NET_V6, offsetof(struct net_topo, onlink), ALWAYS_ONLINK6 },
                { "gw4", NET_V4, offsetof(struct net_topo, gw), NULL },
                { "gw6", NET_V6, offsetof(struct net_topo, gw), NULL },
                { "dns4", NET_V4, offsetof(struct net_topo, dns), NULL },
                { "dns6", NET_V6, offsetof(struct net_topo, dns), NULL },
        };
        size_t n = 0;
        for (size_t i = 0; i < NET_TOPO_SETS; i++) {
                const struct net_ranges *now = (const void *)((const char *)t + sets[i].field);
                struct net_ranges a, b = { 0 };
                int e = set_ranges(now, sets[i].family, sets[i].extra, &a);
                if (e == 0 && old)
                        e = set_ranges((const void *)((const char *)old + sets[i].field), sets[i].family, sets[i].extra,
                                       &b);
                bool same = e == 0 && old && net_ranges_equal(&a, &b);
                net_ranges_clear(&b);
                if (e < 0 || same) {
                        net_ranges_clear(&a);
                        if (e == 0)
                                continue;
                        net_setfills_done(ret, n);
                        return e;
                }
                ret[n++] = (struct net_setfill){ .name = sets[i].name, .family = sets[i].family, .ranges = a };
        }
        *ret_n = n;
        return 0;
}

static void jump(FILE *f, const char *match, enum net_class c) {
        fprintf(f, "    %s jump drop_%s\n", match, net_class_names[c]);
}

/* One direction of the policy: out checks the remote as a destination
 * (daddr), else as a source (saddr). ok is the verdict for what passes:
 * "accept" in the terminal's own chains, "return" in the forward path,
 * which checks both ends. DNS is a client's only: new flows to port 53 of
 * a resolver, never a rule on a source port (replies pass by connection
 * state); in allow-list mode only the resolvers the policy lists
 * (dns-servers), never what resolv.conf says. */
static void put_policy(FILE *f, const struct net_policy *p, const char *name, bool out, const char *ok) {
        const char *dir = out ? "daddr" : "saddr";
        enum net_class peer = out ? NET_C_PEER_OUT : NET_C_PEER_IN;
        fprintf(f, "  chain %s {\n", name);
        if (out && p->allow_dns) {
                if (!p->allowlist)
                        fprintf(f, "    ip daddr @dns4 meta l4proto { tcp, udp } th dport 53 %s\n"
                                   "    ip6 daddr @dns6 meta l4proto { tcp, udp } th dport 53 %s\n", ok, ok);
                fprintf(f, "    ip daddr @dnsp4 meta l4proto { tcp, udp } th dport 53 %s\n"
                           "    ip6 daddr @dnsp6 meta l4proto { tcp, udp } th dport 53 %s\n", ok, ok);
        }
        if (p->allowlist) {
                /* Allow-list mode: only the listed destinations (and DNS). */
                fprintf(f, "    ip %s @dst4 %s\n    ip6 %s @dst6 %s\n", dir, ok, dir, ok);
                if (out)
                        fprintf(f, "    ip daddr . meta l4proto . th dport @dsvc4 %s\n"
                                   "    ip6 daddr . meta l4proto . th dport @dsvc6 %s\n", ok, ok);
        } else if (p->peer_deny)
                /* Peer isolation: on-link hosts are dropped unless they are a
                 * gateway or an allowed peer. */
                fprintf(f, "    ip %s @gw4 %s\n    ip6 %s @gw6 %s\n    ip %s @peers4 %s\n    ip6 %s @peers6 %s\n", dir,
                        ok, dir, ok, dir, ok, dir, ok);
        if (p->allowlist || p->peer_deny) {
                fprintf(f, "    ip %s @onlink4 jump drop_%s\n    ip6 %s @onlink6 jump drop_%s\n", dir,
                        net_class_names[peer], dir, net_class_names[peer]);
        }
        if (p->allowlist)
                fprintf(f, "    jump drop_%s\n", net_class_names[out ? NET_C_DEST_OUT : NET_C_DEST_IN]);
        fputs("  }\n", f);
}

static void put_dest_match(FILE *f, const struct net_dest *d, const char *dir);

/* Public networks (R8), outside the proven office: the core network never;
 * the VPN endpoints and the office server (for the proof) directly;
 * everything else only through the tunnel (a kill switch: while it is down
 * nothing leaves). Tunnel traffic returns to the usual chains. Empty
 * chains in the office or without public-networks. */
static void put_public(FILE *f, const struct net_policy *p, const struct net_resolved *res, bool out) {
        const char *dir = out ? "daddr" : "saddr";
        enum net_class drop = out ? NET_C_DEST_OUT : NET_C_DEST_IN;
        fprintf(f, "  chain public_%s {\n", out ? "out" : "in");
        if (res && res->public_mode) {
                char buf[128];
                for (size_t i = 0; i < res->core.n; i++) {
                        net_range_format(&res->core.v[i], buf, sizeof buf);
                        fprintf(f, "    %s %s %s jump drop_%s\n", res->core.v[i].family == NET_V4 ? "ip" : "ip6", dir, buf,
                                net_class_names[drop]);
                }
                for (size_t i = 0; i < p->n_vpn_if; i++)
                        fprintf(f, "    %s \"%s\" return\n", out ? "oifname" : "iifname", p->vpn_if[i]);
                /* To the endpoints; from them, to the same port here (a tunnel's
                 * packets need not be replies conntrack would match: VXLAN
                 * hashes its source port). Never keyed on a source port. */
                for (size_t i = 0; i < res->vpn.n; i++) {
                        fputs("    ", f);
                        put_dest_match(f, &res->vpn.v[i], dir);
                        fputs(" accept\n", f);
                }
                if (out && p->office_server[0]) {
                        fputs("    ", f);
                        put_dest_match(f, &p->office, "daddr");
                        fputs(" accept\n", f);
                }
                fprintf(f, "    jump drop_%s\n", net_class_names[drop]);
        }
        fputs("  }\n", f);
}

/* "ip daddr A meta l4proto tcp th dport P" for one destination (dir: "daddr"/"saddr"). */
static void put_dest_match(FILE *f, const struct net_dest *d, const char *dir) {
        char buf[128];
        net_range_format(&d->range, buf, sizeof buf);
        fprintf(f, "%s %s %s", d->range.family == NET_V4 ? "ip" : "ip6", dir, buf);
        if (d->proto != NET_PROTO_ANY)
                fprintf(f, " meta l4proto %s", proto_name(d->proto));
        if (d->port_lo && d->port_lo == d->port_hi)
                fprintf(f, " th dport %u", d->port_lo);
        else if (d->port_lo)
                fprintf(f, " th dport %u-%u", d->port_lo, d->port_hi);
}

/* Destinations reserved for one cgroup: its sockets pass (also past an
 * allow-list or the peer isolation), any other packet to them is dropped,
 * sockets of other cgroups and packets without a socket (forwarded) alike.
 * nft resolves the path to the cgroup's id when it loads the rule. */
static void put_claims(FILE *f, const struct net_resolved *res, const char *name, bool local) {
        fprintf(f, "  chain %s {\n", name);
        for (size_t i = 0; res && i < res->claims.n; i++) {
                const struct net_dest *d = &res->claims.v[i];
                if (local && res->cg_prefix && !d->cg_missing) { /* the socket expression exists only for local sockets */
                        fputs("    ", f);
                        put_dest_match(f, d, "daddr");
                        fprintf(f, " socket cgroupv2 level %u \"%s%s\" accept\n", net_cgroup_level(d->cgroup),
                                res->cg_prefix, d->cgroup);
                }
                fputs("    ", f);
                put_dest_match(f, d, "daddr");
                fprintf(f, " jump drop_%s\n", net_class_names[NET_C_DEST_OUT]);
        }
        fputs("  }\n", f);
}

int net_ruleset(FILE *f, const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t,
                const struct net_counters *counters, int log_group) {
        /* Refill mode (counters == NULL): keep the table, its counters and
         * sets; replace every rule and element. Replace mode: a new table
         * with the given counter values. Either is one transaction. */
        char *fill_buf = NULL;
        size_t fill_size;
        struct setout o = { .decl = f };
        if (!counters) {
                o.fill = open_memstream(&fill_buf, &fill_size);
                if (!o.fill)
                        return -ENOMEM;
                fputs("add table inet " NET_TABLE "\nflush table inet " NET_TABLE "\ntable inet " NET_TABLE " {\n", f);
        } else
                fputs("add table inet " NET_TABLE "\ndelete table inet " NET_TABLE "\ntable inet " NET_TABLE " {\n", f);
        fputs("  comment \"sekisho network policy, managed by sekishod: do not edit\"\n", f);

        for (int c = 0; c < _NET_C_MAX; c++)
                if (counters)
                        fprintf(f, "  counter %s { packets %" PRIu64 " bytes %" PRIu64 " }\n", net_class_names[c],
                                counters->packets[c], counters->bytes[c]);
                else
                        fprintf(f, "  counter %s { }\n", net_class_names[c]);

        /* Learned sets: always present so that a topology update can refill them. */
        put_topo_sets(&o, t, NULL);
        /* Policy sets. */
        put_set(&o, "peers4", V4, ranges_str(res ? &res->peers : NULL, NET_V4, NULL));
        put_set(&o, "peers6", V6, ranges_str(res ? &res->peers : NULL, NET_V6, NULL));
        put_set(&o, "dnsp4", V4, ranges_str(res ? &res->dns : NULL, NET_V4, NULL));
        put_set(&o, "dnsp6", V6, ranges_str(res ? &res->dns : NULL, NET_V6, NULL));
        struct net_ranges any = { 0 };
        for (size_t i = 0; res && i < res->dests.n; i++)
                if (res->dests.v[i].proto == NET_PROTO_ANY && net_ranges_add(&any, &res->dests.v[i].range) < 0)
                        o.err = -ENOMEM;
        net_ranges_normalize(&any);
        put_set(&o, "dst4", V4, ranges_str(&any, NET_V4, NULL));
        put_set(&o, "dst6", V6, ranges_str(&any, NET_V6, NULL));
        net_ranges_clear(&any);
        put_set(&o, "dsvc4", V4 " . inet_proto . inet_service", dsvc_str(res, NET_V4));
        put_set(&o, "dsvc6", V6 " . inet_proto . inet_service", dsvc_str(res, NET_V6));
        put_set(&o, "fsports", "inet_service", ports_str(p));
        if (o.fill) {
                int r = fclose(o.fill);
                if (r != 0 || o.err) {
                        free(fill_buf);
                        return o.err ? o.err : -ENOMEM;
                }
                fprintf(f, "}\n%stable inet " NET_TABLE " {\n", fill_buf);
                free(fill_buf);
        } else if (o.err)
                return o.err;

        /* One chain per drop class: count it, tell the daemon (at most once a
         * minute per class, limited in the kernel), drop. */
        for (int c = 0; c < _NET_C_MAX; c++) {
                fprintf(f, "  chain drop_%s {\n    counter name %s\n", net_class_names[c], net_class_names[c]);
                if (log_group >= 0)
                        fprintf(f, "    limit rate 1/minute burst 1 packets log group %d prefix \"%s\"\n", log_group,
                                net_class_names[c]);
                fputs("    drop\n  }\n", f);
        }

        /* File-sharing signatures, both directions. "\x13BitTorrent protocol"
         * is 20 bytes; the kernel compares at most 16 bytes at once. */
#define BT1 "@ih,0,128 0x13426974546f7272656e742070726f74 @ih,128,32 0x6f636f6c"
#define BT_UTP "@ih,160,128 0x13426974546f7272656e742070726f74 @ih,288,32 0x6f636f6c"
        fputs("  chain fileshare {\n", f);
        if (p->fileshare_deny) {
                jump(f, "meta l4proto tcp " BT1, NET_C_BITTORRENT);
                jump(f, "meta l4proto udp " BT_UTP, NET_C_BITTORRENT); /* handshake inside uTP */
                jump(f, "meta l4proto udp @ih,0,96 0x64313a6164323a696432303a", NET_C_DHT); /* d1:ad2:id20: */
                jump(f, "meta l4proto udp @ih,0,96 0x64313a7264323a696432303a", NET_C_DHT); /* d1:rd2:id20: */
                jump(f, "udp length 28 @ih,0,16 0x4100", NET_C_UTP); /* uTP ST_SYN, version 1, no extension */
                if (p->n_fs)
                        jump(f, "meta l4proto { tcp, udp } th dport @fsports", NET_C_FS_PORT);
        }
        fputs("  }\n", f);

        /* What the network itself needs, before any isolation. */
#define ND "ip6 hoplimit 255 icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept\n"
#define MLD "icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept\n"
        fputs("  chain infra_out {\n    udp sport 68 udp dport 67 accept\n    udp sport 546 udp dport 547 accept\n"
              "    " ND "    " MLD "    meta l4proto igmp accept\n  }\n",
              f);
        fputs("  chain infra_in {\n    udp sport 67 udp dport 68 accept\n    udp sport 547 udp dport 546 accept\n"
              "    " ND "    " MLD "    meta l4proto igmp accept\n  }\n",
              f);

        fputs("  chain discovery {\n", f);
        static const char *const disc_match[_NET_DISC_MAX][2] = {
                [NET_DISC_NETBIOS] = { "udp dport { 137, 138 }", "tcp dport 139" },
                [NET_DISC_MDNS] = { "udp dport 5353", NULL },
                [NET_DISC_LLMNR] = { "meta l4proto { tcp, udp } th dport 5355", NULL },
                [NET_DISC_SSDP] = { "udp dport 1900", NULL },
                [NET_DISC_WSD] = { "udp dport 3702", NULL },
        };
        for (int d = 0; d < _NET_DISC_MAX; d++)
                for (int k = 0; k < 2; k++)
                        if (!disc_match[d][k])
                                continue;
                        else if (p->discovery_allowed[d]) /* allowed: also to and from peers */
                                fprintf(f, "    %s accept\n", disc_match[d][k]);
                        else
                                jump(f, disc_match[d][k], NET_C_DISCOVERY);
        fputs("  }\n", f);

        put_policy(f, p, "policy_out", true, "accept");
        put_policy(f, p, "policy_in", false, "accept");
        /* Forwarded traffic (containers, VMs, NAT on this machine) meets both:
         * its destination as if the terminal sent it, its source as if the
         * terminal received it; each returns to the forward chain when fine. */
        put_policy(f, p, "fwd_dst", true, "return");
        put_policy(f, p, "fwd_src", false, "return");

        put_public(f, p, res, true);
        put_public(f, p, res, false);
        put_claims(f, res, "claims_out", true);
        put_claims(f, res, "claims_fwd", false);
        fputs("  chain output {\n    type filter hook output priority " NET_PRIORITY "; policy accept;\n"
              "    oif lo accept\n    jump fileshare\n    jump infra_out\n    jump discovery\n    jump public_out\n    jump claims_out\n"
              "    jump policy_out\n  }\n",
              f);
        /* Input accepts replies to what output let through (after the payload
         * signatures, which must see established flows). Output stays
         * stateless, so a switch or a topology change cuts outbound traffic at
         * once; the conntrack cut after a switch does the same for inbound.
         * The ct expression also makes the kernel track connections in this
         * namespace, which that cut relies on. */
        fputs("  chain input {\n    type filter hook input priority " NET_PRIORITY "; policy accept;\n"
              "    iif lo accept\n    jump fileshare\n    ct state established,related accept\n"
              "    jump infra_in\n    jump discovery\n    jump public_in\n    jump policy_in\n  }\n",
              f);
        /* Forward: the same isolation and allow-list, new flows both ways (a
         * guest's to the LAN, the LAN's to a guest); replies by connection
         * state, after the signatures. Claimed destinations: no socket here,
         * so never reachable by forwarded traffic. */
        fputs("  chain forward {\n    type filter hook forward priority " NET_PRIORITY "; policy accept;\n", f);
        for (size_t i = 0; i < p->n_fwd_exempt_if; i++)
                fprintf(f, "    iifname \"%s\" accept\n    oifname \"%s\" accept\n", p->fwd_exempt_if[i],
                        p->fwd_exempt_if[i]);
        fputs("    jump fileshare\n    ct state established,related accept\n    jump discovery\n    jump public_out\n"
              "    jump claims_fwd\n", f);
        /* From this machine's own virtual networks (exempt-interfaces): a
         * guest is the terminal, only its destination is checked. nft matches
         * names exactly or by prefix and '*'; other globs get no such rule, so
         * their guests' traffic is checked at both ends (stricter). */
        for (size_t i = 0; i < p->n_exempt_if; i++) {
                const char *g = p->exempt_if[i], *star = strchr(g, '*');
                if (strpbrk(g, "?[]") || (star && star[1]))
                        continue;
                fprintf(f, "    iifname \"%s\" jump fwd_dst\n    iifname \"%s\" accept\n", g, g);
        }
        fputs("    jump fwd_src\n    jump fwd_dst\n  }\n", f);
        int r = net_dpi_chains(f, p);
        if (r < 0)
                return r;
        fputs("}\n", f);
        return ferror(f) ? -EIO : 0;
}

int net_ruleset_sets(FILE *f, const struct net_topo *t, const struct net_topo *old) {
        /* Only the fill half: the sets exist already (a failure here means
         * someone removed them, and the caller reloads the whole table). */
        struct setout o = { .fill = f };
        put_topo_sets(&o, t, old);
        return o.err ? o.err : ferror(f) ? -EIO : 0;
}

/* ---- the same rules in C ---- */

static bool port_in(uint16_t port, const uint16_t *lo, const uint16_t *hi, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (lo[i] <= port && port <= hi[i])
                        return true;
        return false;
}

static bool dest_matches(const struct net_dests *l, int family, const uint8_t *remote, int proto, uint16_t port) {
        for (size_t i = 0; i < l->n; i++) {
                const struct net_dest *d = &l->v[i];
                struct net_ranges one = { .v = (struct net_range *)&d->range, .n = 1 };
                if (d->range.family == family && net_ranges_contains(&one, family, remote) &&
                    (d->proto == NET_PROTO_ANY || ((int)d->proto == proto && (d->port_lo == 0 || (d->port_lo <= port && port <= d->port_hi)))))
                        return true;
        }
        return false;
}

bool net_conn_forbidden(const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t,
                        int family, const uint8_t *remote, bool outbound, int proto, uint16_t port) {
        bool l4 = proto == NET_PROTO_TCP || proto == NET_PROTO_UDP;
        if (proto == NET_PROTO_UDP && (port == 67 || port == 68 || port == 546 || port == 547))
                return false; /* DHCP */
        if (p->fileshare_deny && l4 && port_in(port, p->fs_lo, p->fs_hi, p->n_fs))
                return true;
        /* DNS: only as a client, to the learned or listed resolvers; in
         * allow-list mode only to the listed ones. */
        bool dns = outbound && p->allow_dns && l4 && port == 53 &&
                   ((!p->allowlist && net_ranges_contains(&t->dns, family, remote)) ||
                    net_ranges_contains(&res->dns, family, remote));
        if (res->public_mode && net_ranges_contains(&res->core, family, remote))
                return true; /* the core network, outside the office */
        /* A claimed destination: the kernel decides per socket (its cgroup),
         * packet by packet; nothing here can tell, so nothing is cut. */
        if (outbound && dest_matches(&res->claims, family, remote, proto, port))
                return false;
        if (p->allowlist) {
                if (dns)
                        return false;
                for (size_t i = 0; i < res->dests.n; i++) {
                        const struct net_dest *d = &res->dests.v[i];
                        if (d->range.family != family)
                                continue;
                        struct net_ranges one = { .v = (struct net_range *)&d->range, .n = 1 };
                        if (!net_ranges_contains(&one, family, remote))
                                continue;
                        if (d->proto == NET_PROTO_ANY)
                                return false;
                        if (outbound && (int)d->proto == proto && (d->port_lo == 0 || (d->port_lo <= port && port <= d->port_hi)))
                                return false;
                }
                return true;
        }
        if (!p->peer_deny)
                return false;
        bool always = family == NET_V6 ? (remote[0] == 0xfe && (remote[1] & 0xc0) == 0x80) || remote[0] == 0xff
                                       : (remote[0] == 169 && remote[1] == 254) || (remote[0] & 0xf0) == 0xe0 ||
                                                 (remote[0] == 255 && remote[1] == 255 && remote[2] == 255 && remote[3] == 255);
        bool onlink = always || net_ranges_contains(&t->onlink, family, remote);
        if (!onlink)
                return false;
        return !(net_ranges_contains(&t->gw, family, remote) || net_ranges_contains(&res->peers, family, remote) || dns);
}
