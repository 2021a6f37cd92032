/* nlraw.h — the few netlink requests the network plugin makes (rtnetlink dumps, a conntrack dump and delete, NFLOG's configuration), on plain sockets with the kernel's own headers: no library in the daemon for them. */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A netlink socket of protocol proto (NETLINK_ROUTE, NETLINK_NETFILTER),
 * close-on-exec, bound to groups (0: none); -errno. */
int nlraw_open(int proto, uint32_t groups, bool nonblock);

/* A message written at at, room bytes there: the header (NLM_F_REQUEST set,
 * seq 0), an optional fixed part (struct ifinfomsg, nfgenmsg, ...) and then
 * attributes; NULL (nothing written) when it does not fit. */
struct nlmsghdr *nlraw_msg_start(void *at, size_t room, uint16_t type, uint16_t flags, const void *fixed, size_t fixed_len);
/* An attribute appended to h, whose buffer has room bytes from h on; false
 * (nothing written) when it would not fit. A nest is closed by its end. */
bool nlraw_attr_put(struct nlmsghdr *h, size_t room, uint16_t type, const void *data, size_t len);
struct nlattr *nlraw_attr_nest_start(struct nlmsghdr *h, size_t room, uint16_t type);
void nlraw_attr_nest_end(struct nlmsghdr *h, struct nlattr *nest);

/* One request in a buffer of its own: the calls above on it, full once
 * anything did not fit (nlraw_call() then refuses it). */
struct nlraw_req {
        _Alignas(struct nlmsghdr) uint8_t buf[1024];
        bool full;
};
struct nlmsghdr *nlraw_req_init(struct nlraw_req *r, uint16_t type, uint16_t flags, const void *fixed, size_t fixed_len);
void nlraw_put(struct nlraw_req *r, uint16_t type, const void *data, size_t len);
struct nlattr *nlraw_nest_start(struct nlraw_req *r, uint16_t type);
void nlraw_nest_end(struct nlraw_req *r, struct nlattr *nest);

/* Each message of a reply (to a dump: until NLMSG_DONE; else until the ack
 * an NLM_F_ACK request gets). cb returns 0 to go on, < 0 to stop with that
 * error (the rest of the reply is read and dropped). Returns 0, the
 * kernel's -errno, -EINTR for an interrupted dump (NLM_F_DUMP_INTR: the
 * caller dumps again) or -EBADMSG. */
typedef int (*nlraw_msg_fn)(const struct nlmsghdr *h, void *userdata);
int nlraw_call(int fd, struct nlraw_req *r, nlraw_msg_fn cb, void *userdata);

/* Every datagram queued on fd, without waiting: cb for each whole message
 * in it (cb NULL: none is parsed). Returns how many datagrams were read, or
 * the first error cb returned, or -errno; *ret_overrun (if not NULL) says
 * whether the kernel dropped some because the queue was full (ENOBUFS: the
 * rest is read all the same). */
int nlraw_drain(int fd, nlraw_msg_fn cb, void *userdata, bool *ret_overrun);

/* The acks of a batch already sent, messages first..last by sequence
 * number, want of which asked for one: the kernel runs a batch inside
 * sendto() and queues every ack before it returns, so what is queued is
 * all there is. 0 when want acks came and none was an error; else the
 * first error, -EPROTO for a short count. */
int nlraw_batch_acks(int fd, uint32_t first, uint32_t last, unsigned want);

/* The attributes of a message after its fixed part (or of a nested
 * attribute), tb[type] for type <= max, the last one of each type; those
 * that do not fit their container are not seen. */
void nlraw_parse(const void *attrs, size_t len, const struct nlattr **tb, uint16_t max);
static inline const void *nlraw_data(const struct nlattr *a) { return (const uint8_t *)a + NLA_HDRLEN; }
static inline size_t nlraw_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }
/* The attributes of h after a fixed part of fixed_len bytes; false if h is too short. */
bool nlraw_parse_msg(const struct nlmsghdr *h, size_t fixed_len, const struct nlattr **tb, uint16_t max);
