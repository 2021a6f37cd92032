/* nftset.c — the learned sets refilled by one nf_tables netlink batch (libmnl, loaded on first use), the hot path of an address change; nft.c's script is the fallback. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dl.h"
#include "kernel.h"
#include "util.h"

/* Why not libnftables here: for "flush set; add element" it first fetches
 * its cache (tables, chains, sets, and every element of every interval set:
 * about 18 netlink round trips, measured with strace) before its one batch;
 * that was about 1.1 ms of the 1.7 ms CPU an address change cost. The sets
 * exist (the table declares them), so one batch is all the kernel needs.
 *
 * libmnl is loaded through daemon/dl.c like libnftables: sekishod
 * is not linked with it, and where the plugin runs libnftables has already
 * mapped it (libmnl.so.0 is one of its own dependencies), so loading it
 * costs no memory there. */
#define NET_MNL_FUNCS(X)                                                                                        \
        X(mnl_socket_open2) X(mnl_socket_bind) X(mnl_socket_close) X(mnl_socket_get_fd)                         \
        X(mnl_socket_get_portid) X(mnl_socket_setsockopt) X(mnl_socket_sendto) X(mnl_nlmsg_put_header)          \
        X(mnl_nlmsg_put_extra_header) X(mnl_attr_put_check) X(mnl_attr_put_strz_check)                          \
        X(mnl_attr_put_u32_check) X(mnl_attr_nest_start_check) X(mnl_attr_nest_end) X(mnl_cb_run2)

static struct {
        NET_MNL_FUNCS(DL_FIELD)
} mnl;
static char mnl_load_error[256];

static int mnl_load(void) {
        static bool loaded;
        static const char *const libs[] = { "libmnl.so.0", NULL };
        if (loaded)
                return 0;
        int r = DL_LOAD(mnl, NET_MNL_FUNCS, libs, mnl_load_error, sizeof mnl_load_error);
        loaded = r == 0;
        return r;
}

const char *net_nftset_load_error(void) { return mnl_load_error[0] ? mnl_load_error : "no error"; }

/* Elements per NEWSETELEM message (up to two more): their nest must stay
 * below the 64 KiB of an attribute's length. An element is at most ELEM_MAX
 * bytes (IPv6 with its flags: 36), a message's header, table and set at
 * most MSG_HEAD. */
#define ELEMS_PER_MSG 1024u
#define ELEM_MAX 40u
#define MSG_HEAD 128u

struct net_nftset {
        struct mnl_socket *nl;
        unsigned portid;
        uint32_t seq;
        size_t sndbuf;          /* what SO_SNDBUF was raised to (0: the default) */
};

int net_nftset_new(struct net_nftset **ret) {
        int r = mnl_load();
        if (r < 0)
                return r;
        struct net_nftset *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->nl = mnl.mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        int one = 1;
        if (!s->nl || mnl.mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            /* an error's ack without a copy of the (large) message it answers */
            mnl.mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof one) < 0) {
                r = -errno;
                net_nftset_free(s);
                return r < 0 ? r : -EIO;
        }
        s->portid = mnl.mnl_socket_get_portid(s->nl);
        s->seq = (uint32_t)now_usec_monotonic();
        *ret = s;
        return 0;
}

struct net_nftset *net_nftset_free(struct net_nftset *s) {
        if (s) {
                if (s->nl)
                        mnl.mnl_socket_close(s->nl);
                free(s);
        }
        return NULL;
}

/* The batch under construction: a buffer sized for the worst case, every
 * write bounded by what is left of it. */
struct batch {
        char *buf;
        size_t size, used;
        uint32_t seq;
        unsigned n_ack;         /* messages that ask for an ack */
        bool full;
};

static struct nlmsghdr *msg_start(struct batch *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
        if (b->full || b->size - b->used < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))) {
                b->full = true;
                return NULL;
        }
        struct nlmsghdr *h = mnl.mnl_nlmsg_put_header(b->buf + b->used);
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | flags;
        h->nlmsg_seq = b->seq++;
        struct nfgenmsg *g = mnl.mnl_nlmsg_put_extra_header(h, sizeof *g);
        g->nfgen_family = family;
        g->version = NFNETLINK_V0;
        g->res_id = htons(res_id);
        if (flags & NLM_F_ACK)
                b->n_ack++;
        return h;
}

/* What is left for the message being written (it starts at buf + used). */
static size_t room(const struct batch *b) { return b->size - b->used; }

static void msg_end(struct batch *b, struct nlmsghdr *h) {
        if (h)
                b->used += MNL_ALIGN(h->nlmsg_len);
}

static struct nlmsghdr *setelem_msg(struct batch *b, uint16_t cmd, uint16_t flags, const char *set) {
        struct nlmsghdr *h = msg_start(b, (NFNL_SUBSYS_NFTABLES << 8) | cmd, NLM_F_ACK | flags, NFPROTO_INET, 0);
        if (h && (!mnl.mnl_attr_put_strz_check(h, room(b), NFTA_SET_ELEM_LIST_TABLE, NET_TABLE) ||
                  !mnl.mnl_attr_put_strz_check(h, room(b), NFTA_SET_ELEM_LIST_SET, set))) {
                b->full = true;
                return NULL;
        }
        return h;
}

/* One element: its key, flagged as an interval's end (exclusive) or not. */
static bool put_elem(struct batch *b, struct nlmsghdr *h, uint16_t index, const uint8_t *key, size_t len, bool end) {
        struct nlattr *e = mnl.mnl_attr_nest_start_check(h, room(b), index);
        if (!e || (end && !mnl.mnl_attr_put_u32_check(h, room(b), NFTA_SET_ELEM_FLAGS,
                                                      htonl(NFT_SET_ELEM_INTERVAL_END))))
                return false;
        struct nlattr *k = mnl.mnl_attr_nest_start_check(h, room(b), NFTA_SET_ELEM_KEY);
        if (!k || !mnl.mnl_attr_put_check(h, room(b), NFTA_DATA_VALUE, len, key))
                return false;
        mnl.mnl_attr_nest_end(h, k);
        mnl.mnl_attr_nest_end(h, e);
        return true;
}

/* a + 1 into ret; false when a is the family's last address (no end then). */
static bool addr_next(const uint8_t *a, size_t len, uint8_t *ret) {
        memcpy(ret, a, len);
        for (size_t i = len; i-- > 0;)
                if (++ret[i] != 0)
                        return true;
        return false;
}

static bool same_range(const struct net_range *a, const struct net_range *b, size_t len) {
        return memcmp(a->lo, b->lo, len) == 0 && memcmp(a->hi, b->hi, len) == 0;
}

/* "flush set" and "add element" of one set, the elements exactly as nft
 * 1.0.6 sends them for an interval set (seen with nft --debug=netlink):
 * sorted; an interval-end element at the all-zero address first unless the
 * first range starts there; then each range's start (no flags) and its
 * end, hi + 1 flagged NFT_SET_ELEM_INTERVAL_END, left out when hi is the
 * family's last address. Adjacent ranges stay two elements, as with nft;
 * a range given twice is sent once. */
static int put_fill(struct batch *b, const struct net_setfill *f) {
        size_t len = net_addr_len(f->family);
        static const uint8_t zero[16];
        for (size_t i = 0; i < f->ranges.n; i++) {
                const struct net_range *r = &f->ranges.v[i];
                if (r->family != f->family || memcmp(r->lo, r->hi, len) > 0)
                        return -EINVAL;
                /* nft drops a range given twice and refuses other overlaps
                 * in one command ("conflicting intervals"): so do we. */
                if (i > 0 && memcmp(r->lo, f->ranges.v[i - 1].hi, len) <= 0 && !same_range(r, r - 1, len))
                        return -EEXIST;
        }
        msg_end(b, setelem_msg(b, NFT_MSG_DELSETELEM, 0, f->name));
        struct nlmsghdr *h = NULL;
        struct nlattr *list = NULL;
        uint16_t index = 0;
        bool ok = true;
        for (size_t i = 0; i <= f->ranges.n && ok; i++) {
                const struct net_range *r = i < f->ranges.n ? &f->ranges.v[i] : NULL;
                if (r && i > 0 && same_range(r, r - 1, len))
                        continue;
                if (r && !h) {
                        h = setelem_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, f->name);
                        list = h ? mnl.mnl_attr_nest_start_check(h, room(b), NFTA_SET_ELEM_LIST_ELEMENTS) : NULL;
                        if (!list)
                                break;
                        index = 0;
                }
                if (r && i == 0 && memcmp(r->lo, zero, len) != 0)
                        ok = put_elem(b, h, ++index, zero, len, true);
                uint8_t end[16];
                if (r && ok) {
                        ok = put_elem(b, h, ++index, r->lo, len, false);
                        if (ok && addr_next(r->hi, len, end))
                                ok = put_elem(b, h, ++index, end, len, true);
                }
                if (h && ok && (!r || index >= ELEMS_PER_MSG)) {
                        mnl.mnl_attr_nest_end(h, list);
                        msg_end(b, h);
                        h = NULL;
                }
        }
        if (!ok || h || (f->ranges.n && !list))
                b->full = true;
        return b->full ? -EMSGSIZE : 0;
}

struct acks {
        uint32_t first, last;   /* the batch's sequence numbers */
        unsigned n;
        int err;
};

static int on_ack(const struct nlmsghdr *h, void *userdata) {
        struct acks *a = userdata;
        if (h->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        if (h->nlmsg_seq - a->first > a->last - a->first)
                return MNL_CB_OK; /* not this batch's */
        const struct nlmsgerr *e = (const void *)((const char *)h + MNL_NLMSG_HDRLEN);
        if (e->error == 0)
                a->n++;
        else if (a->err == 0)
                a->err = e->error < 0 && e->error > -4096 ? e->error : -EPROTO;
        return MNL_CB_OK;
}

/* The kernel runs the batch inside sendto() and queues every ack before it
 * returns, so reading until the socket is empty reads them all. */
static int read_acks(struct net_nftset *s, struct acks *a, unsigned want) {
        mnl_cb_t ctl[NLMSG_ERROR + 1] = { [NLMSG_ERROR] = on_ack };
        char buf[8192] __attribute__((aligned(4)));
        int fd = mnl.mnl_socket_get_fd(s->nl);
        for (;;) {
                ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (got < 0)
                        return -errno;
                if (mnl.mnl_cb_run2(buf, (size_t)got, 0, s->portid, NULL, a, ctl, ARRAY_SIZE(ctl)) < 0)
                        return errno > 0 ? -errno : -EPROTO;
        }
        if (a->err < 0)
                return a->err;
        return a->n == want ? 0 : -EPROTO;
}

int net_nftset_refill(struct net_nftset *s, const struct net_setfill *fills, size_t n) {
        if (n == 0)
                return 0;
        struct batch b = { .seq = s->seq };
        b.size = 2 * MSG_HEAD; /* batch begin and end */
        for (size_t i = 0; i < n; i++) {
                size_t elems = fills[i].ranges.n * 2 + 1;
                if (fills[i].ranges.n > NET_MAX_TOPO + 16)
                        return -E2BIG;
                b.size += MSG_HEAD * (2 + elems / ELEMS_PER_MSG + 1) + ELEM_MAX * elems;
        }
        _cleanup_free_ char *buf = b.buf = malloc(b.size);
        if (!buf)
                return -ENOMEM;
        msg_end(&b, msg_start(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
        for (size_t i = 0; i < n; i++) {
                int r = put_fill(&b, &fills[i]);
                if (r < 0)
                        return r;
        }
        msg_end(&b, msg_start(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
        if (b.full)
                return -EMSGSIZE;
        struct acks a = { .first = s->seq, .last = b.seq - 1 };
        s->seq = b.seq;
        /* A batch larger than the socket's send buffer is refused whole
         * (-EMSGSIZE): raise it (CAP_NET_ADMIN may go past wmem_max). */
        if (b.used + 4096 > s->sndbuf && b.used > 128u * 1024) {
                int want = (int)(b.used + 4096), fd = mnl.mnl_socket_get_fd(s->nl);
                if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0 &&
                    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) < 0)
                        return -errno;
                s->sndbuf = b.used + 4096;
        }
        ssize_t sent = mnl.mnl_socket_sendto(s->nl, b.buf, b.used);
        if (sent < 0)
                return -errno;
        if ((size_t)sent != b.used)
                return -EIO;
        return read_acks(s, &a, b.n_ack);
}
