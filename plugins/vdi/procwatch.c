/* procwatch.c — subscribes to PROC_EVENT_EXEC over the proc connector and hands each exec to a callback on the daemon loop. */
#include "config.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "procwatch.h"
#include "util.h"

struct procwatch {
        int fd;
        struct loop_source *src;
        procwatch_fn cb;
        void *userdata;
        unsigned long events, overruns;
};

static int send_op(int fd, enum proc_cn_mcast_op op) {
        struct {
                struct nlmsghdr nl;
                struct cn_msg cn;
                enum proc_cn_mcast_op op;
        } __attribute__((packed)) msg;
        memset(&msg, 0, sizeof msg);
        msg.nl.nlmsg_len = sizeof msg;
        msg.nl.nlmsg_type = NLMSG_DONE;
        msg.cn.id.idx = CN_IDX_PROC;
        msg.cn.id.val = CN_VAL_PROC;
        msg.cn.len = sizeof(enum proc_cn_mcast_op);
        msg.op = op;
        if (send(fd, &msg, sizeof msg, 0) != (ssize_t) sizeof msg)
                return -errno;
        return 0;
}

static int on_readable(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct procwatch *w = userdata;
        (void) s;
        (void) revents;
        for (unsigned rounds = 0; rounds < 256; rounds++) {
                union {
                        struct nlmsghdr nl;
                        char buf[16384];
                } u;
                struct sockaddr_nl from;
                socklen_t fromlen = sizeof from;
                ssize_t n = recvfrom(fd, u.buf, sizeof u.buf, 0, (struct sockaddr *) &from, &fromlen);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ENOBUFS) {
                                w->overruns++;
                                w->cb(w->userdata, 0, 0);
                                continue;
                        }
                        return -errno;
                }
                if (fromlen != sizeof from || from.nl_pid != 0)
                        continue; /* only the kernel speaks here */
                for (struct nlmsghdr *h = &u.nl; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP)
                                continue;
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg)))
                                continue;
                        struct cn_msg *cn = NLMSG_DATA(h);
                        if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
                                continue;
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(struct proc_event)) ||
                            cn->len < sizeof(struct proc_event))
                                continue;
                        struct proc_event ev;
                        memcpy(&ev, cn->data, sizeof ev);
                        if (ev.what != PROC_EVENT_EXEC)
                                continue;
                        w->events++;
                        w->cb(w->userdata, (pid_t) ev.event_data.exec.process_tgid, (uint64_t) ev.timestamp_ns);
                }
        }
        return 0;
}

int procwatch_new(struct loop *l, procwatch_fn cb, void *userdata, struct procwatch **ret) {
        struct procwatch *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->cb = cb;
        w->userdata = userdata;
        w->fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (w->fd < 0) {
                int r = -errno;
                free(w);
                return r;
        }
        int size = 4 * 1024 * 1024;
        if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                (void) setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
        int r = 0;
        if (bind(w->fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                r = -errno;
        if (r == 0)
                r = send_op(w->fd, PROC_CN_MCAST_LISTEN);
        if (r == 0)
                r = loop_add_io(l, w->fd, EPOLLIN, on_readable, w, &w->src);
        if (r < 0) {
                close(w->fd);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

struct procwatch *procwatch_free(struct procwatch *w) {
        if (!w)
                return NULL;
        loop_source_free(w->src);
        (void) send_op(w->fd, PROC_CN_MCAST_IGNORE);
        close(w->fd);
        free(w);
        return NULL;
}

unsigned long procwatch_events(const struct procwatch *w) {
        return w ? w->events : 0;
}

unsigned long procwatch_overruns(const struct procwatch *w) {
        return w ? w->overruns : 0;
}
