/* nflog.c — receives the rate-limited drop notices our drop chains send to an NFLOG group, so the daemon learns of a drop without polling counters. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel.h"
#include "nllib.h"
#include "util.h"

struct net_nflog {
        struct nl_sock *sk;
        struct nfnl_log *log;
        struct loop_source *src;
        net_nflog_fn cb;
        void *userdata;
};

static void on_obj(struct nl_object *obj, void *data) {
        struct net_nflog *n = data;
        struct nfnl_log_msg *m = (struct nfnl_log_msg *)obj;
        const char *prefix = NL(nfnl_log_msg_get_prefix)(m);
        char safe[32];
        size_t i = 0;
        /* The prefix is one of our class names; keep it printable and short anyway. */
        for (; prefix && prefix[i] && i < sizeof safe - 1; i++)
                safe[i] = (prefix[i] >= 'a' && prefix[i] <= 'z') || prefix[i] == '_' ? prefix[i] : '?';
        safe[i] = '\0';
        int len = 0;
        const void *payload = NL(nfnl_log_msg_get_payload)(m, &len);
        struct net_pkt pkt;
        if (!payload || len <= 0 || net_pkt_parse(payload, (size_t)len, 0, &pkt) < 0)
                memset(&pkt, 0, sizeof pkt);
        n->cb(n->userdata, safe, &pkt);
}

static int on_msg(struct nl_msg *msg, void *data) {
        NL(nl_msg_parse)(msg, on_obj, data);
        return NL_OK;
}

static int on_readable(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct net_nflog *n = userdata;
        int r = NL(nl_recvmsgs_default)(n->sk);
        if (r < 0 && r != -NLE_AGAIN)
                log_debug("network: nflog: %s", NL(nl_geterror)(r)); /* overrun: notices are best effort */
        return 0;
}

int net_nflog_open(struct loop *loop, int group, net_nflog_fn cb, void *userdata, struct net_nflog **ret) {
        int lr = net_nl_load();
        if (lr < 0)
                return lr;
        struct net_nflog *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->cb = cb;
        n->userdata = userdata;
        int r = -NLE_NOMEM;
        if (!(n->sk = NL(nl_socket_alloc)()))
                goto fail;
        NL(nl_socket_disable_seq_check)(n->sk);
        NL(nl_socket_modify_cb)(n->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, n);
        if ((r = NL(nl_connect)(n->sk, NETLINK_NETFILTER)) < 0)
                goto fail;
        NL(nfnl_log_pf_bind)(n->sk, AF_INET);   /* no-ops on current kernels; */
        NL(nfnl_log_pf_bind)(n->sk, AF_INET6);  /* needed by old ones */
        if (!(n->log = NL(nfnl_log_alloc)())) {
                r = -NLE_NOMEM;
                goto fail;
        }
        NL(nfnl_log_set_group)(n->log, (uint16_t)group);
        NL(nfnl_log_set_copy_mode)(n->log, NFNL_LOG_COPY_PACKET);
        NL(nfnl_log_set_copy_range)(n->log, 64); /* headers are all we read */
        if ((r = NL(nfnl_log_create)(n->sk, n->log)) < 0)
                goto fail;
        NL(nl_socket_set_nonblocking)(n->sk);
        NL(nl_socket_set_buffer_size)(n->sk, 65536, 0);
        int e = loop_add_io(loop, NL(nl_socket_get_fd)(n->sk), EPOLLIN, on_readable, n, &n->src);
        if (e < 0) {
                net_nflog_close(n);
                return e;
        }
        *ret = n;
        return 0;
fail:
        log_warning("network: NFLOG group %d: %s", group, NL(nl_geterror)(r));
        net_nflog_close(n);
        return -EIO;
}

struct net_nflog *net_nflog_close(struct net_nflog *n) {
        if (!n)
                return NULL;
        loop_source_free(n->src);
        if (n->log && n->sk)
                NL(nfnl_log_delete)(n->sk, n->log);
        if (n->log)
                NL(nfnl_log_put)(n->log);
        if (n->sk)
                NL(nl_socket_free)(n->sk);
        free(n);
        return NULL;
}
