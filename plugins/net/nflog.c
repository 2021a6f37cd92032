/* nflog.c — receives the rate-limited drop notices our drop chains send to an NFLOG group, so the daemon learns of a drop without polling counters. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "nlraw.h"
#include "util.h"

struct net_nflog {
        int fd;
        uint16_t group;
        struct loop_source *src;
        net_nflog_fn cb;
        void *userdata;
};

static int on_packet(const struct nlmsghdr *h, void *userdata) {
        struct net_nflog *n = userdata;
        const struct nlattr *tb[NFULA_PREFIX + 1];
        if (h->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
            !nlraw_parse_msg(h, sizeof(struct nfgenmsg), tb, NFULA_PREFIX))
                return 0;
        const char *prefix = tb[NFULA_PREFIX] ? nlraw_data(tb[NFULA_PREFIX]) : "";
        size_t plen = tb[NFULA_PREFIX] ? strnlen(prefix, nlraw_len(tb[NFULA_PREFIX])) : 0;
        char safe[32];
        size_t i = 0;
        /* The prefix is one of our class names; keep it printable and short anyway. */
        for (; i < plen && i < sizeof safe - 1; i++)
                safe[i] = (prefix[i] >= 'a' && prefix[i] <= 'z') || prefix[i] == '_' ? prefix[i] : '?';
        safe[i] = '\0';
        struct net_pkt pkt;
        if (!tb[NFULA_PAYLOAD] || nlraw_len(tb[NFULA_PAYLOAD]) == 0 ||
            net_pkt_parse(nlraw_data(tb[NFULA_PAYLOAD]), nlraw_len(tb[NFULA_PAYLOAD]), 0, &pkt) < 0)
                memset(&pkt, 0, sizeof pkt);
        n->cb(n->userdata, safe, &pkt);
        return 0;
}

static int on_readable(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        (void)s, (void)revents;
        /* An overrun loses notices only: they are best effort, the counters are exact. */
        (void)nlraw_drain(fd, on_packet, userdata, NULL);
        return 0;
}

/* One NFULNL_MSG_CONFIG request, acknowledged: a command, or the copy mode. */
static int config(struct net_nflog *n, uint8_t family, uint16_t group, uint8_t cmd, bool mode) {
        struct nfgenmsg g = { .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(group) };
        struct nlraw_req req;
        nlraw_req_init(&req, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_ACK, &g, sizeof g);
        if (mode) {
                struct nfulnl_msg_config_mode m = { .copy_range = htonl(64), .copy_mode = NFULNL_COPY_PACKET };
                nlraw_put(&req, NFULA_CFG_MODE, &m, sizeof m); /* headers are all we read */
        } else {
                struct nfulnl_msg_config_cmd c = { .command = cmd };
                nlraw_put(&req, NFULA_CFG_CMD, &c, sizeof c);
        }
        return nlraw_call(n->fd, &req, NULL, NULL);
}

int net_nflog_open(struct loop *loop, int group, net_nflog_fn cb, void *userdata, struct net_nflog **ret) {
        struct net_nflog *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->cb = cb;
        n->userdata = userdata;
        n->group = (uint16_t)group;
        n->fd = nlraw_open(NETLINK_NETFILTER, 0, true);
        int r = n->fd;
        if (r >= 0) {
                (void)config(n, AF_INET, 0, NFULNL_CFG_CMD_PF_BIND, false);  /* no-ops on current kernels; */
                (void)config(n, AF_INET6, 0, NFULNL_CFG_CMD_PF_BIND, false); /* needed by old ones */
                r = config(n, AF_UNSPEC, n->group, NFULNL_CFG_CMD_BIND, false);
        }
        if (r >= 0)
                r = config(n, AF_UNSPEC, n->group, 0, true);
        if (r < 0) {
                log_warning_errno(r, "network: NFLOG group %d", group);
                net_nflog_close(n);
                return r;
        }
        int size = 65536;
        (void)setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        r = loop_add_io(loop, n->fd, EPOLLIN, on_readable, n, &n->src);
        if (r < 0) {
                net_nflog_close(n);
                return r;
        }
        *ret = n;
        return 0;
}

struct net_nflog *net_nflog_close(struct net_nflog *n) {
        if (!n)
                return NULL;
        loop_source_free(n->src);
        if (n->fd >= 0) {
                (void)config(n, AF_UNSPEC, n->group, NFULNL_CFG_CMD_UNBIND, false);
                close(n->fd);
        }
        free(n);
        return NULL;
}
