/* learn.c — learns on-link prefixes, gateways and our own addresses from rtnetlink (dumps made again on every change the daemon loop hears of), and name servers from resolv.conf. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>

#include "kernel.h"
#include "nlraw.h"
#include "util.h"

struct net_learn {
        struct loop *loop;
        int mon;                 /* rtnetlink, subscribed to link, address and route changes */
        struct loop_source *src;
        void (*changed)(void *userdata);
        void *userdata;
        int sync;                /* rtnetlink, for the dumps the picture is made of */
        int ino_fd;              /* resolv.conf directories */
        struct loop_source *ino_src;
};

/* Something changed: every message is read, and the picture is made again
 * from fresh dumps (net_learn_topo). No cache is kept, so none can go
 * stale: the kernel does not announce the IPv4 routes it flushes with a
 * link, and after an overrun (ENOBUFS: events were lost) the next dump is
 * as complete as any. */
static int on_readable(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        (void)s, (void)revents;
        struct net_learn *l = userdata;
        /* The socket hears only the link, address and route groups: whatever came
         * (a message larger than the buffer too, whose rest recv() dropped) is a
         * change, so nothing is parsed. */
        bool overrun;
        int n = nlraw_drain(fd, NULL, NULL, &overrun);
        if (overrun)
                log_warning("network: rtnetlink: events were lost (receive queue full); reading the kernel's tables again");
        if (n != 0 || overrun)
                l->changed(l->userdata);
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
        struct net_learn *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->ino_fd = -1;
        l->loop = loop;
        l->changed = changed;
        l->userdata = userdata;
        l->sync = nlraw_open(NETLINK_ROUTE, 0, false);
        l->mon = nlraw_open(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                                                   RTMGRP_IPV6_ROUTE, true);
        int r = l->sync < 0 ? l->sync : l->mon;
        if (r >= 0) {
                int size = 1 << 20; /* a burst of changes (many links or routes at once) fits */
                if (setsockopt(l->mon, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                        (void)setsockopt(l->mon, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
                r = loop_add_io(loop, l->mon, EPOLLIN, on_readable, l, &l->src);
        }
        if (r < 0) {
                log_error_errno(r, "network: rtnetlink");
                net_learn_free(l);
                return r;
        }
        watch_resolv(l, loop, sysroot);
        *ret = l;
        return 0;
}

struct net_learn *net_learn_free(struct net_learn *l) {
        if (!l)
                return NULL;
        loop_source_free(l->src);
        loop_source_free(l->ino_src);
        if (l->ino_fd >= 0)
                close(l->ino_fd);
        if (l->mon >= 0)
                close(l->mon);
        if (l->sync >= 0)
                close(l->sync);
        free(l);
        return NULL;
}

static int to_family(int af) { return af == AF_INET ? NET_V4 : af == AF_INET6 ? NET_V6 : 0; }

/* An address attribute of family af as a prefix range (prefixlen < 0: the
 * address alone); false if not IPv4/IPv6 or malformed. */
static bool attr_to_range(const struct nlattr *a, int af, int prefixlen, struct net_range *r) {
        int fam = to_family(af);
        if (!a || !fam || nlraw_len(a) != net_addr_len(fam) || prefixlen > (int)net_addr_len(fam) * 8)
                return false;
        net_range_from_prefix(fam, nlraw_data(a), prefixlen < 0 ? (unsigned)net_addr_len(fam) * 8 : (unsigned)prefixlen, r);
        return true;
}

/* The links of one dump: what link_is_lan() asks. */
struct link {
        int ifindex;
        unsigned type, flags;
        char name[IFNAMSIZ];
};

/* Link layers whose neighbours are other terminals: Ethernet and Wi-Fi
 * (ARPHRD_ETHER). Tunnels (WireGuard, PPP, tun) have no LAN behind them.
 * A link the dump does not hold (it vanished between two dumps) counts
 * as a LAN: the stricter reading. */
struct walk {
        struct link *links;
        size_t n_links, cap_links;
        struct net_topo *t;
        const char (*exempt)[16];
        size_t n_exempt;
        int err;
};

static bool link_is_lan(const struct walk *w, int ifindex) {
        const struct link *link = NULL;
        for (size_t i = 0; i < w->n_links && !link; i++)
                if (w->links[i].ifindex == ifindex)
                        link = &w->links[i];
        if (!link)
                return true;
        bool lan = link->type == ARPHRD_ETHER || link->type == ARPHRD_IEEE802 || link->type == ARPHRD_INFINIBAND;
        if (link->flags & IFF_LOOPBACK)
                lan = false;
        for (size_t i = 0; lan && i < w->n_exempt; i++)
                if (fnmatch(w->exempt[i], link->name, 0) == 0)
                        lan = false;
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

static int walk_link(const struct nlmsghdr *h, void *data) {
        struct walk *w = data;
        const struct nlattr *tb[IFLA_IFNAME + 1];
        if (h->nlmsg_type != RTM_NEWLINK || !nlraw_parse_msg(h, sizeof(struct ifinfomsg), tb, IFLA_IFNAME))
                return 0;
        if (w->n_links >= NET_MAX_TOPO)
                return -E2BIG;
        if (ARRAY_GROW(w->links, w->cap_links, w->n_links + 1) < 0)
                return -ENOMEM;
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        struct link *link = &w->links[w->n_links++];
        *link = (struct link){ .ifindex = ifi->ifi_index, .type = ifi->ifi_type, .flags = ifi->ifi_flags };
        if (tb[IFLA_IFNAME])
                snprintf(link->name, sizeof link->name, "%.*s", (int)strnlen(nlraw_data(tb[IFLA_IFNAME]),
                                                                             nlraw_len(tb[IFLA_IFNAME])),
                         (const char *)nlraw_data(tb[IFLA_IFNAME]));
        return 0;
}

/* IFA_LOCAL is the address itself and IFA_ADDRESS, when it differs, the
 * other end of a point-to-point link; without IFA_LOCAL (IPv6), IFA_ADDRESS
 * is the address. */
static int walk_addr(const struct nlmsghdr *h, void *data) {
        struct walk *w = data;
        const struct nlattr *tb[IFA_MAX + 1];
        if (h->nlmsg_type != RTM_NEWADDR || !nlraw_parse_msg(h, sizeof(struct ifaddrmsg), tb, IFA_MAX))
                return 0;
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const struct nlattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        bool peer = tb[IFA_LOCAL] && tb[IFA_ADDRESS] && (nlraw_len(tb[IFA_LOCAL]) != nlraw_len(tb[IFA_ADDRESS]) ||
                    memcmp(nlraw_data(tb[IFA_LOCAL]), nlraw_data(tb[IFA_ADDRESS]), nlraw_len(tb[IFA_LOCAL])) != 0);
        struct net_range self, pfx;
        if (!attr_to_range(local, ifa->ifa_family, -1, &self))
                return 0;
        add_bounded(w, &w->t->local, &self);
        if (peer || !link_is_lan(w, (int)ifa->ifa_index))
                return w->err;
        if (ifa->ifa_prefixlen == 0 || !attr_to_range(local, ifa->ifa_family, ifa->ifa_prefixlen, &pfx) ||
            is_v6_linklocal(&pfx))
                return w->err;
        add_bounded(w, &w->t->onlink, &pfx);
        return w->err;
}

struct nh_walk {
        struct walk *w;
        bool has_gw;
        bool lan;
};

static void walk_nexthop(struct nh_walk *n, int af, const struct nlattr *gateway, const struct nlattr *via, int ifindex) {
        struct net_range gw;
        if (attr_to_range(gateway, af, -1, &gw)) {
                n->has_gw = true;
                add_bounded(n->w, &n->w->t->gw, &gw);
        } else if (via && nlraw_len(via) >= sizeof(struct rtvia)) {
                /* A gateway of the other family (an IPv4 route via an IPv6 neighbour). */
                const struct rtvia *v = nlraw_data(via);
                int fam = to_family(v->rtvia_family);
                n->has_gw = true;
                if (fam && nlraw_len(via) == sizeof *v + net_addr_len(fam)) {
                        net_range_from_prefix(fam, v->rtvia_addr, net_addr_len(fam) * 8, &gw);
                        add_bounded(n->w, &n->w->t->gw, &gw);
                }
        }
        if (!link_is_lan(n->w, ifindex))
                n->lan = false;
}

static int walk_route(const struct nlmsghdr *h, void *data) {
        struct walk *w = data;
        const struct nlattr *tb[RTA_MAX + 1];
        if (h->nlmsg_type != RTM_NEWROUTE || !nlraw_parse_msg(h, sizeof(struct rtmsg), tb, RTA_MAX))
                return 0;
        const struct rtmsg *rtm = NLMSG_DATA(h);
        uint32_t table = tb[RTA_TABLE] && nlraw_len(tb[RTA_TABLE]) == 4 ? *(const uint32_t *)nlraw_data(tb[RTA_TABLE])
                                                                         : rtm->rtm_table;
        if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
                return 0;
        struct nh_walk n = { .w = w, .lan = true };
        if (tb[RTA_MULTIPATH]) {
                const uint8_t *p = nlraw_data(tb[RTA_MULTIPATH]);
                size_t left = nlraw_len(tb[RTA_MULTIPATH]);
                while (left >= sizeof(struct rtnexthop)) {
                        const struct rtnexthop *nh = (const struct rtnexthop *)p;
                        if (nh->rtnh_len < sizeof *nh || nh->rtnh_len > left)
                                break;
                        const struct nlattr *nt[RTA_MAX + 1];
                        nlraw_parse(p + RTNH_ALIGN(sizeof *nh), nh->rtnh_len - RTNH_ALIGN(sizeof *nh), nt, RTA_MAX);
                        walk_nexthop(&n, rtm->rtm_family, nt[RTA_GATEWAY], nt[RTA_VIA], nh->rtnh_ifindex);
                        size_t step = (size_t)RTNH_ALIGN(nh->rtnh_len);
                        if (step >= left)
                                break;
                        left -= step;
                        p += step;
                }
        } else if (tb[RTA_GATEWAY] || tb[RTA_VIA] || tb[RTA_OIF])
                walk_nexthop(&n, rtm->rtm_family, tb[RTA_GATEWAY], tb[RTA_VIA],
                             tb[RTA_OIF] && nlraw_len(tb[RTA_OIF]) == 4 ? *(const int *)nlraw_data(tb[RTA_OIF]) : 0);
        struct net_range r;
        /* A route without a gateway is on-link; a default route without one
         * (a tunnel) is never "the LAN". */
        if (n.has_gw || !n.lan || rtm->rtm_dst_len == 0 || !attr_to_range(tb[RTA_DST], rtm->rtm_family, rtm->rtm_dst_len, &r) ||
            is_v6_linklocal(&r) || is_multicast(&r))
                return w->err;
        add_bounded(w, &w->t->onlink, &r);
        return w->err;
}

/* One dump of type (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE), every family;
 * dumped again when the kernel says it changed underneath (a few times). */
static int dump(struct net_learn *l, uint16_t type, size_t fixed_len, nlraw_msg_fn cb, struct walk *w) {
        int r = -EINTR;
        for (int tries = 0; r == -EINTR && tries < 5; tries++) {
                struct nlraw_req req;
                _Alignas(struct rtmsg) uint8_t fixed[sizeof(struct ifinfomsg)] = { 0 }; /* the largest, family AF_UNSPEC */
                nlraw_req_init(&req, type, NLM_F_DUMP, fixed, fixed_len);
                if (type == RTM_GETLINK)
                        w->n_links = 0;
                r = nlraw_call(l->sync, &req, cb, w);
                if (r == -EINTR && type != RTM_GETLINK) {
                        net_topo_done(w->t); /* start the picture again */
                        return -EAGAIN;
                }
        }
        return r;
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
        struct walk w = { .t = &t, .exempt = exempt, .n_exempt = n_exempt };
        int r = -EAGAIN;
        for (int tries = 0; r == -EAGAIN && tries < 5; tries++) {
                r = dump(l, RTM_GETLINK, sizeof(struct ifinfomsg), walk_link, &w);
                if (r >= 0)
                        r = dump(l, RTM_GETADDR, sizeof(struct ifaddrmsg), walk_addr, &w);
                if (r >= 0)
                        r = dump(l, RTM_GETROUTE, sizeof(struct rtmsg), walk_route, &w);
        }
        free(w.links);
        if (r < 0 || w.err) {
                net_topo_done(&t);
                return r < 0 ? (r == -EAGAIN ? -EIO : r) : w.err;
        }
        net_read_dns(sysroot, &t.dns);
        net_ranges_normalize(&t.onlink);
        net_ranges_normalize(&t.gw);
        net_ranges_normalize(&t.local);
        *ret = t;
        return 0;
}
