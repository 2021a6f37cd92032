/* uevent-sender.c — sends kernel-format uevents to the listeners of a umockdev testbed (its event* sockets), blocking while a queue is full. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "uevent-sender.h"

static size_t put(char *buf, size_t o, size_t size, const char *key, const char *value) {
        int n = snprintf(buf + o, o < size ? size - o : 0, "%s%s", key, value);
        return n < 0 ? size : o + (size_t)n + 1; /* keep the NUL */
}

int uevent_format(const char *root, const char *syspath, const char *action, char *msg, size_t size) {
        static uint64_t seqnum = 1000;
        if (strncmp(syspath, "/sys/", 5) != 0)
                return -EINVAL;
        const char *devpath = syspath + 4;
        char path[PATH_MAX], link[PATH_MAX];
        /* SUBSYSTEM: the basename of the subsystem link */
        snprintf(path, sizeof path, "%s%s/subsystem", root, syspath);
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k < 0)
                return -errno;
        link[k] = '\0';
        const char *subsystem = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
        size_t o = (size_t)snprintf(msg, size, "%s@%s", action, devpath) + 1;
        o = put(msg, o, size, "ACTION=", action);
        o = put(msg, o, size, "DEVPATH=", devpath);
        o = put(msg, o, size, "SUBSYSTEM=", subsystem);
        /* the device's own properties (DEVTYPE=..., PRODUCT=...), one a line */
        snprintf(path, sizeof path, "%s%s/uevent", root, syspath);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        char props[4096];
        ssize_t n = fd >= 0 ? read(fd, props, sizeof props - 1) : 0;
        if (fd >= 0)
                close(fd);
        props[n > 0 ? n : 0] = '\0';
        for (char *line = props, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strchr(line, '='))
                        o = put(msg, o, size, line, "");
        }
        char seq[24];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)seqnum++);
        o = put(msg, o, size, "SEQNUM=", seq);
        return o > size ? -E2BIG : (int)o;
}

int uevent_listeners(const char *root, char ***ret) {
        char pattern[PATH_MAX];
        snprintf(pattern, sizeof pattern, "%s/event[0-9]*", root);
        glob_t gl;
        int g = glob(pattern, GLOB_NOSORT, NULL, &gl);
        if (g != 0 && g != GLOB_NOMATCH)
                return -EIO;
        size_t n = g == 0 ? gl.gl_pathc : 0;
        char **l = calloc(n + 1, sizeof *l);
        for (size_t i = 0; l && i < n; i++)
                l[i] = strdup(gl.gl_pathv[i]);
        if (g == 0)
                globfree(&gl);
        if (!l)
                return -ENOMEM;
        *ret = l;
        return (int)n;
}

int uevent_send_raw(char *const *listeners, const char *msg, size_t len) {
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* blocking: waits for room */
        if (s < 0)
                return -errno;
        int reached = 0, r = 0;
        for (char *const *l = listeners; *l; l++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", *l);
                ssize_t w;
                do
                        w = sendto(s, msg, len, 0, (struct sockaddr *)&sa, sizeof sa);
                while (w < 0 && errno == EINTR);
                if (w >= 0)
                        reached++;
                else if (errno != ECONNREFUSED && errno != ENOENT) /* a listener that closed: skip */
                        r = -errno;
        }
        close(s);
        return r < 0 ? r : reached;
}

int uevent_send(const char *root, const char *syspath, const char *action) {
        char msg[8192];
        int n = uevent_format(root, syspath, action, msg, sizeof msg);
        if (n < 0)
                return n;
        char **l = NULL;
        int r = uevent_listeners(root, &l);
        if (r > 0)
                r = uevent_send_raw(l, msg, (size_t)n);
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
        return r;
}

static int write_at(const char *dir, const char *name, const void *data, size_t n) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        ssize_t w = write(fd, data, n);
        int r = w == (ssize_t)n ? 0 : -EIO;
        close(fd);
        return r;
}

int testbed_add_usb(const char *root, const char *parent_syspath, const char *name, const uint8_t *desc, size_t n,
                    const char *authorized, char **ret_syspath) {
        char dir[PATH_MAX], link[PATH_MAX], ids[2][8];
        if (n < 18)
                return -EINVAL;
        snprintf(dir, sizeof dir, "%s%s/%s", root, parent_syspath, name);
        if (mkdir(dir, 0755) < 0)
                return -errno;
        snprintf(ids[0], sizeof ids[0], "%02x%02x\n", desc[9], desc[8]);
        snprintf(ids[1], sizeof ids[1], "%02x%02x\n", desc[11], desc[10]);
        static const char uevent[] = "DEVTYPE=usb_device\n";
        int r;
        if ((r = write_at(dir, "authorized", authorized, strlen(authorized))) < 0 ||
            (r = write_at(dir, "descriptors", desc, n)) < 0 || (r = write_at(dir, "idVendor", ids[0], 5)) < 0 ||
            (r = write_at(dir, "idProduct", ids[1], 5)) < 0 || (r = write_at(dir, "product", "Storm\n", 6)) < 0 ||
            (r = write_at(dir, "uevent", uevent, sizeof uevent - 1)) < 0)
                return r;
        snprintf(link, sizeof link, "%s/sys/bus/usb", root);
        snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/subsystem");
        if (symlink(link, dir) < 0)
                return -errno;
        if (asprintf(ret_syspath, "%s/%s", parent_syspath, name) < 0)
                return -ENOMEM;
        return 0;
}

int testbed_remove_usb(const char *root, const char *syspath) {
        static const char *const files[] = { "authorized", "descriptors", "idVendor", "idProduct", "product",
                                             "uevent", "subsystem", NULL };
        char path[PATH_MAX];
        for (const char *const *f = files; *f; f++) {
                snprintf(path, sizeof path, "%s%s/%s", root, syspath, *f);
                unlink(path);
        }
        snprintf(path, sizeof path, "%s%s", root, syspath);
        return rmdir(path) < 0 ? -errno : 0;
}

int umockdev_reexec(const char *name, int argc, char **argv) {
        const char *pre = getenv("LD_PRELOAD");
        if (pre && strstr(pre, "libumockdev-preload"))
                return 0;
        if (getenv("SEKISHO_UMOCKDEV_REEXEC"))
                return 77;
        setenv("SEKISHO_UMOCKDEV_REEXEC", "1", 1);
        char **args = calloc((size_t)argc + 2, sizeof *args);
        if (!args)
                return 1;
        args[0] = (char *)"umockdev-wrapper";
        for (int i = 0; i < argc; i++)
                args[i + 1] = argv[i];
        execvp("umockdev-wrapper", args);
        fprintf(stderr, "%s: umockdev-wrapper not available\n", name);
        free(args);
        return 77;
}
