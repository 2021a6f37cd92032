/* policy.c — the network: section of a policy: schema, parsing into struct net_policy, and the checks that refuse bad or self-defeating settings. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "util.h"

const char *const net_discovery_names[] = {
        [NET_DISC_NETBIOS] = "netbios", [NET_DISC_MDNS] = "mdns", [NET_DISC_LLMNR] = "llmnr",
        [NET_DISC_SSDP] = "ssdp", [NET_DISC_WSD] = "ws-discovery",
};

static const char *const allow_deny[] = { "allow", "deny", NULL };

static const struct pkey net_keys[] = {
        { .name = "peer-to-peer", .type = PT_ENUM, .values = allow_deny },
        { .name = "allow-peers", .type = PT_STRING_SEQ },
        { .name = "allow-discovery", .type = PT_STRING_SEQ },
        { .name = "file-sharing", .type = PT_ENUM, .values = allow_deny },
        { .name = "file-sharing-ports", .type = PT_SEQ },
        { .name = "allow-destinations", .type = PT_SEQ },
        { .name = "allow-dns", .type = PT_BOOL },
        { .name = "management", .type = PT_SEQ },
        { .name = "exempt-interfaces", .type = PT_STRING_SEQ },
        { NULL },
};

static const char *const proto_names[] = { "tcp", "udp", "any", NULL };

static const struct pkey dest_keys[] = {
        { .name = "host", .type = PT_STRING, .required = true },
        { .name = "proto", .type = PT_ENUM, .values = proto_names },
        { .name = "port", .type = PT_ANY },
        { .name = "cgroup", .type = PT_STRING },
        { NULL },
};

int net_dests_add(struct net_dests *l, const struct net_dest *d) {
        if (ARRAY_GROW(l->v, l->cap, l->n + 1) < 0)
                return -ENOMEM;
        l->v[l->n++] = *d;
        return 0;
}

void net_dests_clear(struct net_dests *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].cgroup);
        }
        free(l->v);
        *l = (struct net_dests){ 0 };
}

void net_policy_done(struct net_policy *p) {
        net_dests_clear(&p->peers);
        net_dests_clear(&p->dests);
        net_dests_clear(&p->mgmt);
}

/* An address, a prefix or a host name. */
static bool parse_host(const struct pnode *n, struct net_dest *d, struct perrors *errs, const char *what) {
        const char *s = pnode_str(n);
        if (!s || !*s) {
                perr(errs, n, "%s: expected an address, a prefix or a host name", what);
                return false;
        }
        const char *why;
        if (net_parse_cidr(s, &d->range, &why) == 0)
                return true;
        bool looks_numeric = strchr(s, ':') || strchr(s, '/') || strspn(s, "0123456789.") == strlen(s);
        if (!looks_numeric && net_valid_hostname(s)) {
                d->name = strdup(s);
                if (!d->name) {
                        perr(errs, n, "out of memory");
                        return false;
                }
                return true;
        }
        perr(errs, n, "%s: '%s': %s", what, s, looks_numeric ? why : "not an address, a prefix or a valid host name");
        return false;
}

static bool parse_dest(const struct pnode *n, struct net_dest *d, struct perrors *errs, const char *what) {
        memset(d, 0, sizeof *d);
        d->at = n;
        if (n->kind == PNODE_SCALAR)
                return parse_host(n, d, errs, what);
        if (n->kind != PNODE_MAP) {
                perr(errs, n, "%s: expected an address, a prefix, a host name or a mapping {host, proto, port}", what);
                return false;
        }
        if (pmap_check(n, dest_keys, errs) > 0)
                return false;
        if (!parse_host(pmap_get(n, "host"), d, errs, what))
                return false;
        const char *proto = pnode_str(pmap_get(n, "proto"));
        d->proto = !proto || strcmp(proto, "any") == 0 ? NET_PROTO_ANY
                   : strcmp(proto, "tcp") == 0       ? NET_PROTO_TCP
                                                     : NET_PROTO_UDP;
        const struct pnode *port = pmap_get(n, "port");
        if (port) {
                const char *ps = pnode_str(port);
                if (!ps || net_parse_ports(ps, &d->port_lo, &d->port_hi) < 0) {
                        perr(errs, port, "%s: port must be 1..65535 or a range 'A-B' with A <= B", what);
                        free(d->name);
                        d->name = NULL;
                        return false;
                }
                if (d->proto == NET_PROTO_ANY) {
                        perr(errs, port, "%s: a port needs 'proto: tcp' or 'proto: udp'", what);
                        free(d->name);
                        d->name = NULL;
                        return false;
                }
        }
        const struct pnode *cg = pmap_get(n, "cgroup");
        if (cg) {
                const char *cs = pnode_str(cg);
                if (strcmp(what, "allow-destinations") != 0 || !net_valid_cgroup(cs)) {
                        if (strcmp(what, "allow-destinations") != 0)
                                perr(errs, cg, "%s: cgroup is only for allow-destinations entries", what);
                        else
                                perr(errs, cg, "%s: cgroup '%s' is not a cgroup v2 path below the root "
                                     "(components of A-Z a-z 0-9 . _ @ : -, no '..', at most %d bytes)",
                                     what, cs ? cs : "", NET_MAX_CGROUP);
                        free(d->name);
                        d->name = NULL;
                        return false;
                }
                d->cgroup = strdup(cs);
                if (!d->cgroup) {
                        perr(errs, cg, "out of memory");
                        free(d->name);
                        d->name = NULL;
                        return false;
                }
        }
        return true;
}

static void pos(const struct pnode *n, char *out, size_t size) {
        snprintf(out, size, "%u:%u", n ? n->line : 0, n ? n->col : 0);
}

static bool ports_overlap(const struct net_dest *a, const struct net_dest *b) {
        if (a->proto != b->proto && a->proto != NET_PROTO_ANY && b->proto != NET_PROTO_ANY)
                return false;
        if (a->port_lo == 0 || b->port_lo == 0)
                return true;
        return a->port_lo <= b->port_hi && b->port_lo <= a->port_hi;
}

static bool entries_overlap(const struct net_dest *a, const struct net_dest *b) {
        bool same = a->name && b->name ? strcasecmp(a->name, b->name) == 0
                    : !a->name && !b->name ? net_range_overlaps(&a->range, &b->range)
                                           : false;
        return same && ports_overlap(a, b);
}

/* Sort order for the overlap sweep: names (case-insensitive) before
 * addresses; addresses by family, then start. */
static int dest_order(const void *x, const void *y) {
        const struct net_dest *a = *(const struct net_dest *const *)x, *b = *(const struct net_dest *const *)y;
        if (!!a->name != !!b->name)
                return a->name ? -1 : 1;
        if (a->name)
                return strcasecmp(a->name, b->name);
        if (a->range.family != b->range.family)
                return a->range.family - b->range.family;
        int c = memcmp(a->range.lo, b->range.lo, net_addr_len(a->range.family));
        return c ? c : (a < b ? -1 : a > b);
}

/* Can an entry sorted after a still overlap a? (Sweep window.) */
static bool may_follow(const struct net_dest *a, const struct net_dest *b) {
        if (!!a->name != !!b->name)
                return false;
        if (a->name)
                return strcasecmp(a->name, b->name) == 0;
        return a->range.family == b->range.family &&
               memcmp(b->range.lo, a->range.hi, net_addr_len(a->range.family)) <= 0;
}

/* Two entries of one list that match the same traffic: an admin mistake
 * (and nft refuses overlapping set elements), reported at the later one.
 * Sorted sweep: O(n log n) plus the overlaps themselves, so a list of
 * 10 000 destinations checks in milliseconds. */
static void check_overlaps(const struct net_dests *l, struct perrors *errs, const char *what) {
        if (l->n < 2)
                return;
        const struct net_dest **v = malloc(l->n * sizeof *v);
        bool *reported = calloc(l->n, sizeof *reported);
        if (!v || !reported) {
                free(v);
                free(reported);
                return;
        }
        for (size_t i = 0; i < l->n; i++)
                v[i] = &l->v[i];
        qsort(v, l->n, sizeof *v, dest_order);
        for (size_t i = 0; i < l->n; i++)
                for (size_t j = i + 1; j < l->n && may_follow(v[i], v[j]); j++) {
                        if (!entries_overlap(v[i], v[j]))
                                continue;
                        const struct net_dest *first = v[i] < v[j] ? v[i] : v[j], *later = v[i] < v[j] ? v[j] : v[i];
                        size_t k = (size_t)(later - l->v);
                        if (reported[k])
                                continue;
                        reported[k] = true;
                        char p[32];
                        pos(first->at, p, sizeof p);
                        perr(errs, later->at, "%s: overlaps the entry at %s", what, p);
                }
        free(v);
        free(reported);
}

static size_t parse_list(const struct pnode *seq, struct net_dests *out, struct perrors *errs, const char *what,
                         bool hosts_only) {
        size_t bad = 0;
        if (!seq)
                return 0;
        if (seq->n > NET_MAX_ENTRIES) {
                perr(errs, seq, "%s: more than %u entries", what, NET_MAX_ENTRIES);
                return 1;
        }
        for (size_t i = 0; i < seq->n; i++) {
                struct net_dest d;
                const struct pnode *n = seq->children[i];
                bool ok = hosts_only ? (memset(&d, 0, sizeof d), d.at = n, parse_host(n, &d, errs, what))
                                     : parse_dest(n, &d, errs, what);
                if (!ok) {
                        bad++;
                        continue;
                }
                if (net_dests_add(out, &d) < 0) {
                        free(d.name);
                        free(d.cgroup);
                        perr(errs, n, "out of memory");
                        return bad + 1;
                }
        }
        return bad;
}

/* Does some allow-destinations entry let all of m's traffic through? Names
 * are compared as names: check() cannot resolve them. */
static bool dest_covers(const struct net_dest *d, const struct net_dest *m) {
        if (d->cgroup)
                return false; /* reserved for one cgroup's sockets: not the daemon's management path */
        if (d->name || m->name) {
                if (!d->name || !m->name || strcasecmp(d->name, m->name) != 0)
                        return false;
        } else if (!net_range_covers(&d->range, &m->range))
                return false;
        if (d->proto != NET_PROTO_ANY && d->proto != m->proto)
                return false;
        if (d->port_lo == 0)
                return true;
        return m->port_lo != 0 && d->port_lo <= m->port_lo && m->port_hi <= d->port_hi;
}

size_t net_policy_parse(const struct pnode *section, struct net_policy *ret, struct perrors *errs) {
        size_t before = errs->n_errors;
        struct net_policy p = { .peer_deny = true, .fileshare_deny = true, .allow_dns = true };

        if (pmap_check(section, net_keys, errs) > 0)
                goto done;

        const char *s;
        if ((s = pnode_str(pmap_get(section, "peer-to-peer"))))
                p.peer_deny = strcmp(s, "deny") == 0;
        if ((s = pnode_str(pmap_get(section, "file-sharing"))))
                p.fileshare_deny = strcmp(s, "deny") == 0;
        const struct pnode *n;
        if ((n = pmap_get(section, "allow-dns")))
                pnode_bool(n, &p.allow_dns);

        if ((n = pmap_get(section, "allow-discovery")))
                for (size_t i = 0; i < n->n; i++) {
                        const char *name = pnode_str(n->children[i]);
                        size_t k = 0;
                        for (; k < _NET_DISC_MAX; k++)
                                if (name && strcmp(name, net_discovery_names[k]) == 0)
                                        break;
                        if (k == _NET_DISC_MAX)
                                perr(errs, n->children[i],
                                     "allow-discovery: '%s' is not one of netbios, mdns, llmnr, ssdp, ws-discovery",
                                     name ? name : "");
                        else
                                p.discovery_allowed[k] = true;
                }

        if ((n = pmap_get(section, "file-sharing-ports"))) {
                if (n->n > NET_MAX_FS_PORTS)
                        perr(errs, n, "file-sharing-ports: more than %d entries", NET_MAX_FS_PORTS);
                else
                        for (size_t i = 0; i < n->n; i++) {
                                const char *ps = pnode_str(n->children[i]);
                                uint16_t lo, hi;
                                if (!ps || net_parse_ports(ps, &lo, &hi) < 0) {
                                        perr(errs, n->children[i],
                                             "file-sharing-ports: expected a port 1..65535 or a range 'A-B'");
                                        continue;
                                }
                                size_t k = 0;
                                for (; k < p.n_fs; k++)
                                        if (lo <= p.fs_hi[k] && p.fs_lo[k] <= hi)
                                                break;
                                if (k < p.n_fs) {
                                        perr(errs, n->children[i], "file-sharing-ports: '%s' overlaps an earlier entry", ps);
                                        continue;
                                }
                                p.fs_lo[p.n_fs] = lo;
                                p.fs_hi[p.n_fs++] = hi;
                        }
        }

        if ((n = pmap_get(section, "exempt-interfaces"))) {
                if (n->n > NET_MAX_EXEMPT_IF)
                        perr(errs, n, "exempt-interfaces: more than %d entries", NET_MAX_EXEMPT_IF);
                else
                        for (size_t i = 0; i < n->n; i++) {
                                const char *name = pnode_str(n->children[i]);
                                size_t len = name ? strlen(name) : 0;
                                /* An interface name (IFNAMSIZ - 1) or a glob of one; "*" alone
                                 * would exempt every LAN and is refused. */
                                bool ok = len > 0 && len < sizeof p.exempt_if[0] && strcmp(name, "*") != 0 &&
                                          strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_.@*?[]") == len;
                                if (!ok) {
                                        perr(errs, n->children[i],
                                             "exempt-interfaces: '%s' is not an interface name or a glob of one "
                                             "(at most 15 characters; '*' alone is refused)",
                                             name ? name : "");
                                        continue;
                                }
                                memcpy(p.exempt_if[p.n_exempt_if++], name, len + 1);
                        }
        }

        parse_list(pmap_get(section, "allow-peers"), &p.peers, errs, "allow-peers", true);
        check_overlaps(&p.peers, errs, "allow-peers");
        const struct pnode *dests = pmap_get(section, "allow-destinations");
        p.allowlist = dests != NULL;
        parse_list(dests, &p.dests, errs, "allow-destinations", false);
        check_overlaps(&p.dests, errs, "allow-destinations");
        const struct pnode *mgmt = pmap_get(section, "management");
        parse_list(mgmt, &p.mgmt, errs, "management", false);

        /* The policy must not cut the path this terminal is managed over:
         * in allow-list mode every management entry has to be let through. */
        if (p.allowlist)
                for (size_t i = 0; i < p.mgmt.n; i++) {
                        size_t k = 0;
                        for (; k < p.dests.n; k++)
                                if (dest_covers(&p.dests.v[k], &p.mgmt.v[i]))
                                        break;
                        if (k == p.dests.n) {
                                char where[32];
                                pos(p.mgmt.v[i].at, where, sizeof where);
                                perr(errs, dests,
                                     "allow-destinations would cut the management path: the management entry at %s "
                                     "is not covered by any entry (list it in allow-destinations with the same "
                                     "host and a protocol/port that includes it)",
                                     where);
                        }
                }

done:
        if (ret && errs->n_errors == before)
                *ret = p;
        else
                net_policy_done(&p);
        return errs->n_errors - before;
}
