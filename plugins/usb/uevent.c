/* uevent.c — receives and parses the kernel's own uevents (NETLINK_KOBJECT_UEVENT group 1), treating every byte as untrusted. */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uevent.h"

static bool is_action(const char *s, size_t n) {
        if (n == 0 || n > 16)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 'a' || s[i] > 'z')
                        return false;
        return true;
}

int uevent_parse(char *buf, size_t len, struct uevent *ret) {
        if (len < 4 || len > UEVENT_MSG_MAX || buf[len - 1] != '\0')
                return -EBADMSG;
        /* header: ACTION@DEVPATH */
        char *at = memchr(buf, '@', strnlen(buf, len));
        if (!at || !is_action(buf, (size_t)(at - buf)) || at[1] != '/')
                return -EBADMSG;
        *at = '\0';
        struct uevent u = { .action = buf, .devpath = at + 1 };
        const char *action = NULL, *devpath = NULL;
        for (char *p = at + 1 + strlen(at + 1) + 1, *next; p < buf + len; p = next) {
                next = p + strlen(p) + 1;
                char *eq = strchr(p, '=');
                if (!eq || eq == p)
                        return -EBADMSG;
                *eq = '\0';
                const char *v = eq + 1;
                if (strcmp(p, "ACTION") == 0)
                        action = v;
                else if (strcmp(p, "DEVPATH") == 0)
                        devpath = v;
                else if (strcmp(p, "SUBSYSTEM") == 0)
                        u.subsystem = v;
                else if (strcmp(p, "DEVTYPE") == 0)
                        u.devtype = v;
                else if (strcmp(p, "SEQNUM") == 0) {
                        char *end;
                        errno = 0;
                        u.seqnum = strtoull(v, &end, 10);
                        if (errno || end == v || *end)
                                return -EBADMSG;
                }
        }
        if (!action || !devpath || strcmp(action, u.action) != 0 || strcmp(devpath, u.devpath) != 0 ||
            strstr(u.devpath, "/.") || strstr(u.devpath, "//"))
                return -EBADMSG;
        *ret = u;
        return 0;
}

int uevent_open(int rcvbuf, int *ret_fd) {
        int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0)
                return -errno;
        int one = 1;
        /* FORCE needs CAP_NET_ADMIN and ignores rmem_max; without it the kernel caps at rmem_max. */
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
            (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0 &&
             setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int uevent_receive(int fd, char *buf, size_t size, size_t *ret_len) {
        struct sockaddr_nl sa = { 0 };
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(struct ucred))];
        } control = { 0 };
        struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
        struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = &control, .msg_controllen = sizeof control };
        ssize_t k = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        if (msg.msg_flags & MSG_TRUNC)
                return -EBADMSG;
        /* from the kernel (port 0) and root, nobody else */
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        struct ucred cred;
        if (sa.nl_pid != 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS ||
            c->cmsg_len != CMSG_LEN(sizeof cred))
                return -EPERM;
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
        if (cred.uid != 0)
                return -EPERM;
        buf[k] = '\0';
        *ret_len = (size_t)k;
        return 0;
}
