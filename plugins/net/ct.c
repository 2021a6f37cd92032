/* ct.c — cuts the connections a new network profile forbids by deleting their conntrack entries (ctnetlink: one dump, then a delete per entry). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "nlraw.h"
#include "util.h"

/* A connection to cut: its original tuple (and zone) as the dump gave them. */
struct victim {
        uint8_t family;
        uint16_t tuple_type, tuple_len, zone_len;
        uint8_t tuple[192];
        uint8_t zone[4];
};

struct cut {
        const struct net_policy *p;
        const struct net_resolved *res;
        const struct net_topo *t;
        struct victim *v;
        size_t n, cap;
        unsigned entries, skipped;
};

/* The address of a CTA_TUPLE_IP nest (src or dst) for family. */
static bool tuple_addr(const struct nlattr *ip, int family, bool dst, uint8_t out[16]) {
        const struct nlattr *tb[CTA_IP_V6_DST + 1];
        if (!ip)
                return false;
        nlraw_parse(nlraw_data(ip), nlraw_len(ip), tb, CTA_IP_V6_DST);
        const struct nlattr *a = family == NET_V4 ? tb[dst ? CTA_IP_V4_DST : CTA_IP_V4_SRC] : tb[dst ? CTA_IP_V6_DST : CTA_IP_V6_SRC];
        if (!a || nlraw_len(a) != net_addr_len(family))
                return false;
        memcpy(out, nlraw_data(a), net_addr_len(family));
        return true;
}

static int each(const struct nlmsghdr *h, void *data) {
        struct cut *c = data;
        const struct nlattr *tb[CTA_ZONE + 1], *tuple[CTA_TUPLE_PROTO + 1], *proto_tb[CTA_PROTO_DST_PORT + 1];
        if (!nlraw_parse_msg(h, sizeof(struct nfgenmsg), tb, CTA_ZONE) || !tb[CTA_TUPLE_ORIG])
                return 0;
        c->entries++;
        const struct nfgenmsg *g = NLMSG_DATA(h);
        int family = g->nfgen_family == AF_INET ? NET_V4 : g->nfgen_family == AF_INET6 ? NET_V6 : 0;
        uint8_t src[16], dst[16];
        nlraw_parse(nlraw_data(tb[CTA_TUPLE_ORIG]), nlraw_len(tb[CTA_TUPLE_ORIG]), tuple, CTA_TUPLE_PROTO);
        if (!family || !tuple_addr(tuple[CTA_TUPLE_IP], family, false, src) ||
            !tuple_addr(tuple[CTA_TUPLE_IP], family, true, dst))
                return 0;
        bool src_local = net_ranges_contains(&c->t->local, family, src);
        bool dst_local = net_ranges_contains(&c->t->local, family, dst);
        if (src_local && dst_local)
                return 0; /* to ourselves */
        int proto = 0;
        uint16_t dport = 0;
        if (tuple[CTA_TUPLE_PROTO]) {
                nlraw_parse(nlraw_data(tuple[CTA_TUPLE_PROTO]), nlraw_len(tuple[CTA_TUPLE_PROTO]), proto_tb, CTA_PROTO_DST_PORT);
                if (proto_tb[CTA_PROTO_NUM] && nlraw_len(proto_tb[CTA_PROTO_NUM]) >= 1)
                        proto = *(const uint8_t *)nlraw_data(proto_tb[CTA_PROTO_NUM]);
                if ((proto == 6 || proto == 17) && proto_tb[CTA_PROTO_DST_PORT] && nlraw_len(proto_tb[CTA_PROTO_DST_PORT]) == 2)
                        dport = ntohs(*(const uint16_t *)nlraw_data(proto_tb[CTA_PROTO_DST_PORT]));
        }
        bool forbidden;
        if (!src_local && !dst_local)
                /* Forwarded (a container's or VM's): the forward chain checks the
                 * destination as ours and the source as a sender to us; cut when
                 * either would be refused now. Cutting one too many is harmless:
                 * its next packet meets the rules as a new one. */
                forbidden = net_conn_forbidden(c->p, c->res, c->t, family, dst, true, proto, dport) ||
                            net_conn_forbidden(c->p, c->res, c->t, family, src, false, proto, dport);
        else
                forbidden = net_conn_forbidden(c->p, c->res, c->t, family, src_local ? dst : src, src_local, proto, dport);
        if (!forbidden)
                return 0;
        const struct nlattr *orig = tb[CTA_TUPLE_ORIG], *zone = tb[CTA_ZONE];
        if (nlraw_len(orig) > sizeof c->v->tuple || (zone && nlraw_len(zone) > sizeof c->v->zone)) {
                c->skipped++;
                return 0;
        }
        if (ARRAY_GROW(c->v, c->cap, c->n + 1) < 0)
                return -ENOMEM;
        struct victim *v = &c->v[c->n++];
        *v = (struct victim){ .family = g->nfgen_family, .tuple_type = orig->nla_type,
                              .tuple_len = (uint16_t)nlraw_len(orig), .zone_len = zone ? (uint16_t)nlraw_len(zone) : 0 };
        memcpy(v->tuple, nlraw_data(orig), v->tuple_len);
        if (zone)
                memcpy(v->zone, nlraw_data(zone), v->zone_len);
        return 0;
}

/* Which entries are cut: those of connections from or to this host whose
 * remote end the new rules forbid (the same decision the ruleset makes:
 * an outbound connection by destination, protocol and port; an inbound one
 * by its source), and forwarded ones either of whose ends is forbidden. Once deleted, the next packet of such a connection is
 * "new" to conntrack and meets the rules again instead of being accepted as
 * established. */
int net_ct_cut(const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t, unsigned *ret_cut) {
        struct cut c = { .p = p, .res = res, .t = t };
        int fd = nlraw_open(NETLINK_NETFILTER, 0, false);
        if (fd < 0)
                return fd;
        struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
        struct nlraw_req req;
        nlraw_req_init(&req, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, NLM_F_DUMP, &g, sizeof g);
        int r = nlraw_call(fd, &req, each, &c);
        if (r == -EINTR)
                r = 0; /* changed while dumped: what was read is cut; the new rules meet the rest */
        if (r < 0) {
                log_debug("network: conntrack dump: %s", strerror(-r));
                close(fd);
                free(c.v);
                return r;
        }
        log_debug("network: conntrack: %u entries, %zu to cut", c.entries, c.n);
        /* Deleted after the dump, not during it: by the tuple and zone the dump gave. */
        unsigned cut = 0, failed = c.skipped;
        for (size_t i = 0; i < c.n; i++) {
                g.nfgen_family = c.v[i].family;
                nlraw_req_init(&req, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, NLM_F_ACK, &g, sizeof g);
                nlraw_put(&req, c.v[i].tuple_type, c.v[i].tuple, c.v[i].tuple_len);
                if (c.v[i].zone_len)
                        nlraw_put(&req, CTA_ZONE, c.v[i].zone, c.v[i].zone_len);
                r = nlraw_call(fd, &req, NULL, NULL);
                if (r == 0)
                        cut++;
                else if (r != -ENOENT) /* gone already: nothing left to cut */
                        failed++;
        }
        close(fd);
        free(c.v);
        *ret_cut = cut;
        return failed ? -EIO : 0;
}
