/* procwatch.c — subscribes to PROC_EVENT_EXEC over the proc connector and hands each exec to a callback on the daemon loop. */
#include "config.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <stdio.h>
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
        msg.cn.seq = 1;
        msg.cn.ack = 1;
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

/* The kernel acknowledges a subscription (PROC_EVENT_NONE carrying an error
 * code), but older kernels silently ignore one from a child PID or user
 * namespace: wait briefly rather than listen to silence forever. */
/* Reads events until match() accepts one or a second passes. */
static int wait_for_event(int fd, bool (*match)(const struct proc_event *ev, void *ud), void *ud) {
        uint64_t deadline = now_usec_monotonic() + 1000 * 1000;
        for (;;) {
                uint64_t now = now_usec_monotonic();
                if (now >= deadline)
                        return -EPROTONOSUPPORT;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, (int) ((deadline - now) / 1000) + 1);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                union {
                        struct nlmsghdr nl;
                        char buf[8192];
                } u;
                ssize_t k = recv(fd, u.buf, sizeof u.buf, 0);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = &u.nl; NLMSG_OK(h, (size_t) k); h = NLMSG_NEXT(h, k)) {
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(struct proc_event)))
                                continue;
                        struct cn_msg *cn = NLMSG_DATA(h);
                        struct proc_event ev;
                        if (cn->len < sizeof ev)
                                continue;
                        memcpy(&ev, cn->data, sizeof ev);
                        if (match(&ev, ud))
                                return 0;
                }
        }
}

static bool match_ack(const struct proc_event *ev, void *ud) {
        int *err = ud;
        if (ev->what != PROC_EVENT_NONE)
                return false;
        *err = -(int) ev->event_data.ack.err;
        return true;
}

static bool match_fork(const struct proc_event *ev, void *ud) {
        pid_t child = *(pid_t *) ud;
        return ev->what == PROC_EVENT_FORK && ev->event_data.fork.parent_tgid == getpid() &&
               ev->event_data.fork.child_pid == child;
}

/* Events carry process ids of the initial PID namespace. Prove that they are ours:
 * fork a child that exits at once and look for its fork event under the ids we see. */
static int check_ids(int fd) {
        pid_t child = fork();
        if (child < 0)
                return -errno;
        if (child == 0)
                _exit(0);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                ;
        return wait_for_event(fd, match_fork, &child);
}

/* Linux 6.6 and later filter events per socket: ask for exec events only, so
 * that forks and exits elsewhere on the machine do not wake the daemon. Older
 * kernels ignore a message of this size, so it is sent only to newer ones. */
static bool kernel_filters_events(void) {
        struct utsname u;
        unsigned major = 0, minor = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
                return false;
        return major > 6 || (major == 6 && minor >= 6);
}

static int send_exec_filter(int fd) {
        struct {
                struct nlmsghdr nl;
                struct cn_msg cn;
                uint32_t mcast_op, event_type; /* struct proc_input (6.6) */
        } __attribute__((packed)) msg;
        memset(&msg, 0, sizeof msg);
        msg.nl.nlmsg_len = sizeof msg;
        msg.nl.nlmsg_type = NLMSG_DONE;
        msg.cn.id.idx = CN_IDX_PROC;
        msg.cn.id.val = CN_VAL_PROC;
        msg.cn.len = 2 * sizeof(uint32_t);
        msg.mcast_op = PROC_CN_MCAST_LISTEN;
        msg.event_type = PROC_EVENT_EXEC;
        if (send(fd, &msg, sizeof msg, 0) != (ssize_t) sizeof msg)
                return -errno;
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
        int ack = 0;
        if (r == 0)
                r = wait_for_event(w->fd, match_ack, &ack);
        if (r == 0)
                r = ack;
        /* Once per process: check_ids forks, which sekishod's sandbox forbids, and a
         * later policy without servers must be able to open the watch again. */
        static bool ids_checked;
        if (r == 0 && !ids_checked)
                ids_checked = (r = check_ids(w->fd)) == 0;
        if (r == 0 && kernel_filters_events())
                (void) send_exec_filter(w->fd); /* best effort: unfiltered still works */
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
