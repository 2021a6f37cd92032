/* learn.c — learns on-link prefixes, gateways and our own addresses from rtnetlink through libnl-route's cache manager on the daemon loop, and name servers from resolv.conf. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>

#include "kernel.h"
#include "nllib.h"
#include "util.h"

struct net_learn {
        struct loop *loop;
        struct nl_cache_mngr *mngr;
        struct nl_cache *links, *addrs, *routes;
        struct loop_source *src;
        void (*changed)(void *userdata);
        void *userdata;
        struct nl_sock *sync;    /* for re-dumps */
        bool dirty, refill_routes;
        int ino_fd;              /* resolv.conf directories */
        struct loop_source *ino_src;
};

static void on_change(struct nl_cache *cache, struct nl_object *obj, int action, void *data) {
        struct net_learn *l = data;
        l->dirty = true;
        /* The kernel does not announce the IPv4 routes it flushes when a link
         * goes down or away: re-read the (small) route table after any link
         * or address change rather than keep stale routes. */
        if (cache != l->routes)
                l->refill_routes = true;
}

static int resync(struct net_learn *l) {
        /* After an overrun (ENOBUFS) the caches may have missed events:
         * dump everything again rather than trust a partial picture. */
        struct nl_cache *caches[] = { l->links, l->addrs, l->routes };
        for (size_t i = 0; i < ARRAY_SIZE(caches); i++)
                if (NL(nl_cache_refill)(l->sync, caches[i]) < 0)
                        return -EIO;
        return 0;
}

static int on_readable(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct net_learn *l = userdata;
        int r = NL(nl_cache_mngr_data_ready)(l->mngr);
        if (r < 0) {
                log_warning("network: rtnetlink: %s; dumping the kernel's tables again", NL(nl_geterror)(r));
                if (resync(l) < 0)
                        log_error("network: rtnetlink: cannot re-read addresses and routes; keeping the last sets");
                l->dirty = true;
        }
        if (l->refill_routes) {
                l->refill_routes = false;
                if (NL(nl_cache_refill)(l->sync, l->routes) < 0)
                        log_warning("network: rtnetlink: cannot re-read the route table; keeping the cached one");
        }
        if (l->dirty) {
                l->dirty = false;
                l->changed(l->userdata);
        }
        return 0;
}

/* A resolv.conf written or renamed into place (DHCP clients, NetworkManager,
 * systemd-resolved) changes the name servers: re-read them like a netlink
 * change. Events are read in one bounded buffer; names are only compared. */
static int on_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct net_learn *l = userdata;
        _Alignas(struct inotify_event) char buf[4096];
        bool hit = false;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        if (ev->len > 0 && p + sizeof *ev + ev->len <= buf + n &&
                            strncmp(ev->name, "resolv.conf", ev->len) == 0)
                                hit = true;
                        if (ev->mask & IN_Q_OVERFLOW)
                                hit = true;
                        p += sizeof *ev + ev->len;
                }
        }
        if (hit)
                l->changed(l->userdata);
        return 0;
}

static void watch_resolv(struct net_learn *l, struct loop *loop, const char *sysroot) {
        static const char *const dirs[] = { "etc", "run/systemd/resolve" };
        l->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (l->ino_fd < 0)
                return;
        int watched = 0;
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *d = path_join(sysroot ? sysroot : "/", dirs[i]);
                if (d && inotify_add_watch(l->ino_fd, d, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) >= 0)
                        watched++;
        }
        if (watched == 0 || loop_add_io(loop, l->ino_fd, EPOLLIN, on_inotify, l, &l->ino_src) < 0) {
                log_warning("network: cannot watch resolv.conf; name servers are re-read on address changes only");
                close(l->ino_fd);
                l->ino_fd = -1;
        }
}

int net_learn_new(struct loop *loop, const char *sysroot, void (*changed)(void *userdata), void *userdata,
                  struct net_learn **ret) {
        int lr = net_nl_load();
        if (lr < 0)
                return lr;
        struct net_learn *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->ino_fd = -1;
        l->loop = loop;
        l->changed = changed;
        l->userdata = userdata;
        int r = -NLE_NOMEM;
        if (!(l->sync = NL(nl_socket_alloc)()) || (r = NL(nl_connect)(l->sync, NETLINK_ROUTE)) < 0)
                goto fail;
        r = NL(nl_cache_mngr_alloc)(NULL, NETLINK_ROUTE, 0, &l->mngr);
        if (r < 0)
                goto fail;
        if ((r = NL(nl_cache_mngr_add)(l->mngr, "route/link", on_change, l, &l->links)) < 0 ||
            (r = NL(nl_cache_mngr_add)(l->mngr, "route/addr", on_change, l, &l->addrs)) < 0 ||
            (r = NL(nl_cache_mngr_add)(l->mngr, "route/route", on_change, l, &l->routes)) < 0)
                goto fail;
        int fd = NL(nl_cache_mngr_get_fd)(l->mngr);
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
                fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        r = loop_add_io(loop, fd, EPOLLIN, on_readable, l, &l->src);
        if (r < 0) {
                net_learn_free(l);
                return r;
        }
        watch_resolv(l, loop, sysroot);
        *ret = l;
        return 0;
fail:
        log_error("network: rtnetlink cache manager: %s", NL(nl_geterror)(r));
        net_learn_free(l);
        return -EIO;
}

struct net_learn *net_learn_free(struct net_learn *l) {
        if (!l)
                return NULL;
        loop_source_free(l->src);
        loop_source_free(l->ino_src);
        if (l->ino_fd >= 0)
                close(l->ino_fd);
        if (l->mngr)
                NL(nl_cache_mngr_free)(l->mngr); /* frees the caches it manages */
        if (l->sync)
                NL(nl_socket_free)(l->sync);
        free(l);
        return NULL;
}

static int to_family(int af) { return af == AF_INET ? NET_V4 : af == AF_INET6 ? NET_V6 : 0; }

/* An nl_addr as a prefix range; false if not IPv4/IPv6 or malformed. */
static bool nl_to_range(struct nl_addr *a, int prefixlen, struct net_range *r) {
        if (!a)
                return false;
        int fam = to_family(NL(nl_addr_get_family)(a));
        if (!fam || NL(nl_addr_get_len)(a) != net_addr_len(fam))
                return false;
        net_range_from_prefix(fam, NL(nl_addr_get_binary_addr)(a), prefixlen < 0 ? (unsigned)net_addr_len(fam) * 8 : (unsigned)prefixlen, r);
        return true;
}

/* Link layers whose neighbours are other terminals: Ethernet and Wi-Fi
 * (ARPHRD_ETHER). Tunnels (WireGuard, PPP, tun) have no LAN behind them.
 * A link the cache does not know (it vanished between two messages) counts
 * as a LAN: the stricter reading. */
struct walk {
        struct net_learn *l;
        struct net_topo *t;
        const char (*exempt)[16];
        size_t n_exempt;
        int err;
};

static bool link_is_lan(const struct walk *w, int ifindex) {
        struct rtnl_link *link = NL(rtnl_link_get)(w->l->links, ifindex);
        if (!link)
                return true;
        unsigned t = NL(rtnl_link_get_arptype)(link);
        bool lan = t == ARPHRD_ETHER || t == ARPHRD_IEEE802 || t == ARPHRD_INFINIBAND;
        if (NL(rtnl_link_get_flags)(link) & IFF_LOOPBACK)
                lan = false;
        const char *name = NL(rtnl_link_get_name)(link);
        for (size_t i = 0; lan && name && i < w->n_exempt; i++)
                if (fnmatch(w->exempt[i], name, 0) == 0)
                        lan = false;
        NL(rtnl_link_put)(link);
        return lan;
}

static bool is_v6_linklocal(const struct net_range *r) {
        return r->family == NET_V6 && r->lo[0] == 0xfe && (r->lo[1] & 0xc0) == 0x80;
}

static bool is_multicast(const struct net_range *r) {
        return r->family == NET_V4 ? (r->lo[0] & 0xf0) == 0xe0 : r->lo[0] == 0xff;
}

static void add_bounded(struct walk *w, struct net_ranges *list, const struct net_range *r) {
        if (w->err)
                return;
        if (list->n >= NET_MAX_TOPO) {
                w->err = -E2BIG;
                return;
        }
        w->err = net_ranges_add(list, r);
}

static void walk_addr(struct nl_object *obj, void *data) {
        struct walk *w = data;
        struct rtnl_addr *a = (struct rtnl_addr *)obj;
        struct nl_addr *local = NL(rtnl_addr_get_local)(a);
        struct net_range self, pfx;
        if (!nl_to_range(local, -1, &self))
                return;
        add_bounded(w, &w->t->local, &self);
        if (NL(rtnl_addr_get_peer)(a) || !link_is_lan(w, NL(rtnl_addr_get_ifindex)(a)))
                return;
        int plen = NL(rtnl_addr_get_prefixlen)(a);
        if (plen <= 0 || !nl_to_range(local, plen, &pfx) || is_v6_linklocal(&pfx))
                return;
        add_bounded(w, &w->t->onlink, &pfx);
}

struct nh_walk {
        struct walk *w;
        bool has_gw;
        bool lan;
};

static void walk_nexthop(struct rtnl_nexthop *nh, void *data) {
        struct nh_walk *n = data;
        struct net_range gw;
        if (nl_to_range(NL(rtnl_route_nh_get_gateway)(nh), -1, &gw)) {
                n->has_gw = true;
                add_bounded(n->w, &n->w->t->gw, &gw);
        }
        if (!link_is_lan(n->w, NL(rtnl_route_nh_get_ifindex)(nh)))
                n->lan = false;
}

static void walk_route(struct nl_object *obj, void *data) {
        struct walk *w = data;
        struct rtnl_route *rt = (struct rtnl_route *)obj;
        if (NL(rtnl_route_get_table)(rt) != RT_TABLE_MAIN || NL(rtnl_route_get_type)(rt) != RTN_UNICAST)
                return;
        struct nh_walk n = { .w = w, .lan = true };
        NL(rtnl_route_foreach_nexthop)(rt, walk_nexthop, &n);
        struct nl_addr *dst = NL(rtnl_route_get_dst)(rt);
        struct net_range r;
        /* A route without a gateway is on-link; a default route without one
         * (a tunnel) is never "the LAN". */
        if (n.has_gw || !n.lan || !dst || NL(nl_addr_get_prefixlen)(dst) == 0 ||
            !nl_to_range(dst, (int)NL(nl_addr_get_prefixlen)(dst), &r) || is_v6_linklocal(&r) || is_multicast(&r))
                return;
        add_bounded(w, &w->t->onlink, &r);
}

void net_read_dns(const char *sysroot, struct net_ranges *out) {
        static const char *const files[] = { "etc/resolv.conf", "run/systemd/resolve/resolv.conf" };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *path = path_join(sysroot ? sysroot : "/", files[i]);
                _cleanup_free_ char *text = NULL;
                size_t size;
                if (!path || read_file_capped(path, NET_HOSTS_MAX, &text, &size) < 0)
                        continue;
                net_resolv_parse(text, size, out);
        }
        net_ranges_normalize(out);
}

int net_learn_topo(struct net_learn *l, const char *sysroot, const char (*exempt)[16], size_t n_exempt,
                   struct net_topo *ret) {
        struct net_topo t = { 0 };
        struct walk w = { .l = l, .t = &t, .exempt = exempt, .n_exempt = n_exempt };
        NL(nl_cache_foreach)(l->addrs, walk_addr, &w);
        NL(nl_cache_foreach)(l->routes, walk_route, &w);
        if (w.err) {
                net_topo_done(&t);
                return w.err;
        }
        net_read_dns(sysroot, &t.dns);
        net_ranges_normalize(&t.onlink);
        net_ranges_normalize(&t.gw);
        net_ranges_normalize(&t.local);
        *ret = t;
        return 0;
}
