/* ct.c — cuts the connections a new network profile forbids by deleting their conntrack entries through libnl-nf. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel.h"
#include "nllib.h"
#include "util.h"

struct cut {
        struct nl_sock *sk;
        const struct net_policy *p;
        const struct net_resolved *res;
        const struct net_topo *t;
        unsigned cut, failed;
};

static bool addr_bytes(struct nl_addr *a, int family, uint8_t out[16]) {
        if (!a || NL(nl_addr_get_len)(a) != net_addr_len(family))
                return false;
        memcpy(out, NL(nl_addr_get_binary_addr)(a), net_addr_len(family));
        return true;
}

static void each(struct nl_object *obj, void *data) {
        struct cut *c = data;
        struct nfnl_ct *ct = (struct nfnl_ct *)obj;
        int af = NL(nfnl_ct_get_family)(ct);
        int family = af == AF_INET ? NET_V4 : af == AF_INET6 ? NET_V6 : 0;
        uint8_t src[16], dst[16];
        if (!family || !addr_bytes(NL(nfnl_ct_get_src)(ct, 0), family, src) || !addr_bytes(NL(nfnl_ct_get_dst)(ct, 0), family, dst))
                return;
        bool src_local = net_ranges_contains(&c->t->local, family, src);
        bool dst_local = net_ranges_contains(&c->t->local, family, dst);
        if (src_local && dst_local)
                return; /* to ourselves */
        int proto = NL(nfnl_ct_get_proto)(ct);
        uint16_t dport = (proto == 6 || proto == 17) ? NL(nfnl_ct_get_dst_port)(ct, 0) : 0;
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
                return;
        log_debug("network: cutting it");
        if (NL(nfnl_ct_del)(c->sk, ct, 0) < 0)
                c->failed++;
        else
                c->cut++;
}

/* Which entries are cut: those of connections from or to this host whose
 * remote end the new rules forbid (the same decision the ruleset makes:
 * an outbound connection by destination, protocol and port; an inbound one
 * by its source), and forwarded ones either of whose ends is forbidden. Once deleted, the next packet of such a connection is
 * "new" to conntrack and meets the rules again instead of being accepted as
 * established. */
int net_ct_cut(const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t, unsigned *ret_cut) {
        int lr = net_nl_load();
        if (lr < 0)
                return lr;
        struct cut c = { .p = p, .res = res, .t = t };
        struct nl_cache *cache = NULL;
        c.sk = NL(nl_socket_alloc)();
        if (!c.sk)
                return -ENOMEM;
        int r = NL(nl_connect)(c.sk, NETLINK_NETFILTER);
        if (r >= 0)
                r = NL(nfnl_ct_alloc_cache)(c.sk, &cache);
        if (r < 0) {
                log_debug("network: conntrack dump: %s", NL(nl_geterror)(r));
                NL(nl_socket_free)(c.sk);
                return -EIO;
        }
        log_debug("network: conntrack: %d entries", NL(nl_cache_nitems)(cache));
        NL(nl_cache_foreach)(cache, each, &c);
        NL(nl_cache_free)(cache);
        NL(nl_socket_free)(c.sk);
        *ret_cut = c.cut;
        return c.failed ? -EIO : 0;
}
