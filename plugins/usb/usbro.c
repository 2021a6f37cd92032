/* usbro.c — read-only media: the markers sekishod leaves for sticks approved read-only, and BLKROSET on their block devices (shared by the daemon and the udev hook). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usbro.h"

/* A port name as the kernel makes it: digits, '-' and '.', nothing that walks. */
static bool port_ok(const char *port) {
        if (!port || !port[0] || strlen(port) > 64)
                return false;
        for (const char *c = port; *c; c++)
                if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                        return false;
        return port[0] != '.';
}

static int mkdir_p(const char *dir) {
        char p[4096];
        if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
                return -ENAMETOOLONG;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int usbro_mark(const char *dir, const char *port, bool on) {
        if (!port_ok(port))
                return -EINVAL;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, port) >= (int)sizeof path)
                return -ENAMETOOLONG;
        if (!on)
                return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == ENOENT) {
                int r = mkdir_p(dir);
                if (r < 0)
                        return r;
                fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        }
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

bool usbro_marked(const char *dir, const char *port) {
        char path[4096];
        return port_ok(port) && snprintf(path, sizeof path, "%s/%s", dir, port) < (int)sizeof path &&
               access(path, F_OK) == 0;
}

int usbro_sweep(const char *dir, bool (*keep)(const char *port, void *ctx), void *ctx) {
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (port_ok(de->d_name) && !(keep && keep(de->d_name, ctx)) && unlinkat(dirfd(d), de->d_name, 0) < 0 &&
                    errno != ENOENT)
                        r = -errno;
        closedir(d);
        return r;
}

/* A USB device directory (not an interface, not a root hub's controller):
 * its name is a port "B-P[.P...]" and it has busnum. */
static bool is_usb_device_dir(const char *path, const char *name) {
        char f[4096];
        if (!port_ok(name) || !strchr(name, '-'))
                return false;
        return snprintf(f, sizeof f, "%s/busnum", path) < (int)sizeof f && access(f, F_OK) == 0;
}

int usbro_usb_device_of(const char *block_syspath, char *ret, size_t size) {
        char p[4096];
        if (!realpath(block_syspath, p))
                return -errno;
        for (char *slash; (slash = strrchr(p, '/')) && slash != p; *slash = '\0')
                if (is_usb_device_dir(p, slash + 1)) {
                        if (snprintf(ret, size, "%s", p) >= (int)size)
                                return -ENAMETOOLONG;
                        return 0;
                }
        return -ENODEV;
}

int usbro_set_read_only(const char *devnode) {
        int fd = open(devnode, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        int one = 1, now = 0, r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISBLK(st.st_mode))
                r = -ENOTBLK;
        else if (ioctl(fd, BLKROSET, &one) < 0 || ioctl(fd, BLKROGET, &now) < 0)
                r = -errno;
        else if (!now)
                r = -EIO;
        close(fd);
        return r;
}
