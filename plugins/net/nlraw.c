/* nlraw.c — plain netlink for the network plugin: messages written into a buffer, one request and its reply read to the end, a batch's acks, attributes into a table. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nlraw.h"

/* How long a reply may take: the kernel answers at once; this only bounds a
 * lost one (an overrun socket) so that the loop is never stuck. */
#define NLRAW_REPLY_MS 5000

int nlraw_open(int proto, uint32_t groups, bool nonblock) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), proto);
        if (fd < 0)
                return -errno;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

struct nlmsghdr *nlraw_msg_start(void *at, size_t room, uint16_t type, uint16_t flags, const void *fixed, size_t fixed_len) {
        if (room < NLMSG_SPACE(fixed_len))
                return NULL;
        struct nlmsghdr *h = at;
        memset(h, 0, NLMSG_SPACE(fixed_len));
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | flags;
        h->nlmsg_len = NLMSG_SPACE(fixed_len);
        if (fixed_len)
                memcpy(NLMSG_DATA(h), fixed, fixed_len);
        return h;
}

bool nlraw_attr_put(struct nlmsghdr *h, size_t room, uint16_t type, const void *data, size_t len) {
        if (len > UINT16_MAX - NLA_HDRLEN || h->nlmsg_len + NLA_ALIGN(NLA_HDRLEN + len) > room)
                return false;
        struct nlattr *a = (struct nlattr *)((uint8_t *)h + h->nlmsg_len);
        a->nla_type = type;
        a->nla_len = (uint16_t)(NLA_HDRLEN + len);
        if (len)
                memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
        memset((uint8_t *)a + a->nla_len, 0, NLA_ALIGN(a->nla_len) - a->nla_len);
        h->nlmsg_len += NLA_ALIGN(a->nla_len);
        return true;
}

struct nlattr *nlraw_attr_nest_start(struct nlmsghdr *h, size_t room, uint16_t type) {
        struct nlattr *a = (struct nlattr *)((uint8_t *)h + h->nlmsg_len);
        return nlraw_attr_put(h, room, type | NLA_F_NESTED, NULL, 0) ? a : NULL;
}

void nlraw_attr_nest_end(struct nlmsghdr *h, struct nlattr *nest) {
        if (nest)
                nest->nla_len = (uint16_t)((uint8_t *)h + h->nlmsg_len - (uint8_t *)nest);
}

struct nlmsghdr *nlraw_req_init(struct nlraw_req *r, uint16_t type, uint16_t flags, const void *fixed, size_t fixed_len) {
        memset(r, 0, sizeof *r);
        struct nlmsghdr *h = nlraw_msg_start(r->buf, sizeof r->buf, type, flags, fixed, fixed_len);
        r->full = !h;
        return h;
}

void nlraw_put(struct nlraw_req *r, uint16_t type, const void *data, size_t len) {
        if (!r->full && !nlraw_attr_put((struct nlmsghdr *)r->buf, sizeof r->buf, type, data, len))
                r->full = true;
}

struct nlattr *nlraw_nest_start(struct nlraw_req *r, uint16_t type) {
        struct nlattr *a = r->full ? NULL : nlraw_attr_nest_start((struct nlmsghdr *)r->buf, sizeof r->buf, type);
        r->full = !a;
        return a;
}

void nlraw_nest_end(struct nlraw_req *r, struct nlattr *nest) {
        if (!r->full)
                nlraw_attr_nest_end((struct nlmsghdr *)r->buf, nest);
}

void nlraw_parse(const void *attrs, size_t len, const struct nlattr **tb, uint16_t max) {
        memset(tb, 0, (max + 1u) * sizeof *tb);
        const uint8_t *p = attrs;
        while (len >= NLA_HDRLEN) {
                const struct nlattr *a = (const struct nlattr *)p;
                if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
                        return;
                uint16_t type = a->nla_type & NLA_TYPE_MASK;
                if (type <= max)
                        tb[type] = a;
                size_t step = NLA_ALIGN(a->nla_len);
                if (step >= len)
                        return;
                p += step;
                len -= step;
        }
}

bool nlraw_parse_msg(const struct nlmsghdr *h, size_t fixed_len, const struct nlattr **tb, uint16_t max) {
        if (h->nlmsg_len < NLMSG_LENGTH(fixed_len))
                return false;
        size_t start = NLMSG_SPACE(fixed_len);
        nlraw_parse((const uint8_t *)h + start, h->nlmsg_len > start ? h->nlmsg_len - start : 0, tb, max);
        return true;
}

static int recv_some(int fd, void *buf, size_t size) {
        for (;;) {
                struct iovec iov = { .iov_base = buf, .iov_len = size };
                struct sockaddr_nl from;
                struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(fd, &mh, 0);
                if (n >= 0) {
                        if (mh.msg_flags & MSG_TRUNC)
                                return -EMSGSIZE;
                        if (from.nl_pid != 0)
                                continue; /* not the kernel's */
                        return (int)n;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int k = poll(&p, 1, NLRAW_REPLY_MS);
                if (k == 0)
                        return -ETIMEDOUT;
                if (k < 0 && errno != EINTR)
                        return -errno;
        }
}

int nlraw_call(int fd, struct nlraw_req *r, nlraw_msg_fn cb, void *userdata) {
        static uint32_t last_seq;
        struct nlmsghdr *req = (struct nlmsghdr *)r->buf;
        if (r->full)
                return -E2BIG;
        req->nlmsg_seq = ++last_seq;
        bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
                return -errno;
        /* 8 KiB, as libmnl advises: the kernel fills a dump's datagrams up to the
         * largest buffer the socket has been read with (at least NLMSG_GOODSIZE,
         * at most 32 KiB), and a larger one stays resident on the stack. */
        _Alignas(struct nlmsghdr) uint8_t buf[8192];
        int ret = 0;
        bool intr = false;
        for (;;) {
                int n = recv_some(fd, buf, sizeof buf);
                if (n < 0)
                        return n;
                size_t left = (size_t)n;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
                        if (h->nlmsg_seq != req->nlmsg_seq)
                                continue; /* a notice on the same socket (NFLOG) or a late reply */
                        if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                                intr = true;
                        if (h->nlmsg_type == NLMSG_DONE) {
                                int err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ? *(const int *)NLMSG_DATA(h) : 0;
                                return ret ? ret : err < 0 ? err : intr ? -EINTR : 0;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                                        return -EBADMSG;
                                int err = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
                                if (err != 0 || !dump)
                                        return ret ? ret : err;
                                continue;
                        }
                        if (h->nlmsg_type < NLMSG_MIN_TYPE || ret)
                                continue;
                        ret = cb ? cb(h, userdata) : 0;
                        if (!dump && !(req->nlmsg_flags & NLM_F_ACK))
                                return ret; /* one answer, no ack asked */
                }
        }
}

int nlraw_drain(int fd, nlraw_msg_fn cb, void *userdata, bool *ret_overrun) {
        _Alignas(struct nlmsghdr) uint8_t buf[8192];
        int datagrams = 0;
        if (ret_overrun)
                *ret_overrun = false;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        if (ret_overrun)
                                *ret_overrun = true;
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return datagrams;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return datagrams;
                datagrams++;
                size_t left = (size_t)n;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; cb && NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
                        int r = cb(h, userdata);
                        if (r < 0)
                                return r;
                }
        }
}

struct acks {
        uint32_t first, last;
        unsigned got;
        int err;
};

static int on_ack(const struct nlmsghdr *h, void *userdata) {
        struct acks *a = userdata;
        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq - a->first > a->last - a->first)
                return 0; /* not this batch's */
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                return -EBADMSG;
        int e = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
        if (e == 0)
                a->got++;
        else if (a->err == 0)
                a->err = e < 0 && e > -4096 ? e : -EPROTO;
        return 0;
}

int nlraw_batch_acks(int fd, uint32_t first, uint32_t last, unsigned want) {
        struct acks a = { .first = first, .last = last };
        int r = nlraw_drain(fd, on_ack, &a, NULL);
        if (r < 0)
                return r;
        return a.err < 0 ? a.err : a.got == want ? 0 : -EPROTO;
}
