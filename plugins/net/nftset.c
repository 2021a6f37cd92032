/* nftset.c — the learned sets refilled by one nf_tables netlink batch of our own (nlraw.c), the hot path of an address change; nft.c's script is the fallback. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "nlraw.h"
#include "util.h"

/* Why not libnftables here: for "flush set; add element" it first fetches
 * its cache (tables, chains, sets, and every element of every interval set:
 * about 18 netlink round trips, measured with strace) before its one batch;
 * that was about 1.1 ms of the 1.7 ms CPU an address change cost. The sets
 * exist (the table declares them), so one batch is all the kernel needs,
 * written and acknowledged on plain netlink (nlraw.c). */

/* Elements per NEWSETELEM message (up to two more): their nest must stay
 * below the 64 KiB of an attribute's length. An element is at most ELEM_MAX
 * bytes (IPv6 with its flags: 36), a message's header, table and set at
 * most MSG_HEAD. */
#define ELEMS_PER_MSG 1024u
#define ELEM_MAX 40u
#define MSG_HEAD 128u

struct net_nftset {
        int fd;
        uint32_t seq;
        size_t sndbuf;          /* what SO_SNDBUF was raised to (0: the default) */
};

int net_nftset_new(struct net_nftset **ret) {
        struct net_nftset *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->fd = nlraw_open(NETLINK_NETFILTER, 0, false);
        int one = 1;
        /* an error's ack without a copy of the (large) message it answers */
        if (s->fd < 0 || setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) < 0) {
                int r = s->fd < 0 ? s->fd : -errno;
                net_nftset_free(s);
                return r;
        }
        s->seq = (uint32_t)now_usec_monotonic();
        *ret = s;
        return 0;
}

struct net_nftset *net_nftset_free(struct net_nftset *s) {
        if (s) {
                if (s->fd >= 0)
                        close(s->fd);
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
        struct nfgenmsg g = { .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(res_id) };
        struct nlmsghdr *h = b->full ? NULL : nlraw_msg_start(b->buf + b->used, b->size - b->used, type, flags, &g, sizeof g);
        if (!h) {
                b->full = true;
                return NULL;
        }
        h->nlmsg_seq = b->seq++;
        if (flags & NLM_F_ACK)
                b->n_ack++;
        return h;
}

/* What is left for the message being written (it starts at buf + used). */
static size_t room(const struct batch *b) { return b->size - b->used; }

static void msg_end(struct batch *b, struct nlmsghdr *h) {
        if (h)
                b->used += NLMSG_ALIGN(h->nlmsg_len);
}

static struct nlmsghdr *setelem_msg(struct batch *b, uint16_t cmd, uint16_t flags, const char *set) {
        struct nlmsghdr *h = msg_start(b, (NFNL_SUBSYS_NFTABLES << 8) | cmd, NLM_F_ACK | flags, NFPROTO_INET, 0);
        if (h && (!nlraw_attr_put(h, room(b), NFTA_SET_ELEM_LIST_TABLE, NET_TABLE, sizeof NET_TABLE) ||
                  !nlraw_attr_put(h, room(b), NFTA_SET_ELEM_LIST_SET, set, strlen(set) + 1))) {
                b->full = true;
                return NULL;
        }
        return h;
}

/* One element: its key, flagged as an interval's end (exclusive) or not. */
static bool put_elem(struct batch *b, struct nlmsghdr *h, uint16_t index, const uint8_t *key, size_t len, bool end) {
        uint32_t flags = htonl(NFT_SET_ELEM_INTERVAL_END);
        struct nlattr *e = nlraw_attr_nest_start(h, room(b), index);
        if (!e || (end && !nlraw_attr_put(h, room(b), NFTA_SET_ELEM_FLAGS, &flags, sizeof flags)))
                return false;
        struct nlattr *k = nlraw_attr_nest_start(h, room(b), NFTA_SET_ELEM_KEY);
        if (!k || !nlraw_attr_put(h, room(b), NFTA_DATA_VALUE, key, len))
                return false;
        nlraw_attr_nest_end(h, k);
        nlraw_attr_nest_end(h, e);
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
                        list = h ? nlraw_attr_nest_start(h, room(b), NFTA_SET_ELEM_LIST_ELEMENTS) : NULL;
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
                        nlraw_attr_nest_end(h, list);
                        msg_end(b, h);
                        h = NULL;
                }
        }
        if (!ok || h || (f->ranges.n && !list))
                b->full = true;
        return b->full ? -EMSGSIZE : 0;
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
        uint32_t first = s->seq, last = b.seq - 1;
        s->seq = b.seq;
        /* A batch larger than the socket's send buffer is refused whole
         * (-EMSGSIZE): raise it (CAP_NET_ADMIN may go past wmem_max). */
        if (b.used + 4096 > s->sndbuf && b.used > 128u * 1024) {
                int want = (int)(b.used + 4096);
                if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0 &&
                    setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) < 0)
                        return -errno;
                s->sndbuf = b.used + 4096;
        }
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        ssize_t sent = sendto(s->fd, b.buf, b.used, 0, (struct sockaddr *)&kernel, sizeof kernel);
        if (sent < 0)
                return -errno;
        if ((size_t)sent != b.used)
                return -EIO;
        return nlraw_batch_acks(s->fd, first, last, b.n_ack);
}
