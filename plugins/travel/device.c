/* device.c — which block devices a path's file system lives on (partitions, device-mapper and LUKS below it), so a reset plan cannot erase the volume its own journal or initramfs is on. */
#include "config.h"

#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "travel.h"
#include "util.h"

#define MAX_STACK_DEPTH 8 /* dm on dm on partition ...: deeper is not a real system */

static int read_devno(const char *path, dev_t *ret) {
        _cleanup_free_ char *s = NULL;
        size_t len;
        unsigned maj, min;
        int r = read_file_capped(path, 64, &s, &len);
        if (r < 0)
                return r;
        if (sscanf(s, "%u:%u", &maj, &min) != 2)
                return -EBADMSG;
        *ret = makedev(maj, min);
        return 0;
}

/* Is dev top itself, the disk top is a partition of, or (through
 * /sys/dev/block/M:m/slaves, as device-mapper and so dm-crypt lists its
 * backing devices) below it? */
static bool stacked_on(dev_t top, dev_t dev, const char *sysfs, unsigned depth) {
        if (top == dev)
                return true;
        if (depth > MAX_STACK_DEPTH || strlen(sysfs) > 128)
                return false;
        char base[192], p[256];
        snprintf(base, sizeof base, "%s/dev/block/%u:%u", sysfs, major(top), minor(top));
        dev_t parent;
        snprintf(p, sizeof p, "%s/partition", base);
        if (access(p, F_OK) == 0) {
                snprintf(p, sizeof p, "%s/../dev", base); /* the link leads to .../sda/sda2: its parent is the disk */
                if (read_devno(p, &parent) == 0 && parent == dev)
                        return true;
        }
        snprintf(p, sizeof p, "%s/slaves", base);
        DIR *d = opendir(p);
        if (!d)
                return false;
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char q[PATH_MAX];
                dev_t below;
                if (strlen(de->d_name) < 256 && (size_t)snprintf(q, sizeof q, "%s/%s/dev", p, de->d_name) < sizeof q && read_devno(q, &below) == 0)
                        found = stacked_on(below, dev, sysfs, depth + 1);
        }
        closedir(d);
        return found;
}

/* A file system without a block device number of its own (btrfs, say,
 * reports an anonymous 0:N): the source device of its mount. */
static int mount_source(dev_t fsdev, dev_t *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped("/proc/self/mountinfo", 4 << 20, &data, &size);
        if (r < 0)
                return r;
        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
                unsigned maj, min;
                if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 || makedev(maj, min) != fsdev)
                        continue;
                char *sep = strstr(line, " - ");
                char source[PATH_MAX];
                struct stat st;
                if (sep && sscanf(sep, " - %*s %4095s", source) == 1 && stat(source, &st) == 0 && S_ISBLK(st.st_mode)) {
                        *ret = st.st_rdev;
                        return 0;
                }
        }
        return -ENODEV;
}

int path_on_device(const char *path, dev_t dev, const char *sysfs) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
                return -ENAMETOOLONG;
        struct stat st;
        /* Not there yet: the file system it would be created on. */
        while (stat(p, &st) < 0) {
                if (errno != ENOENT)
                        return -errno;
                char *slash = strrchr(p, '/');
                if (!slash)
                        return -ENOENT;
                if (slash == p)
                        slash[1] = 0;
                else
                        *slash = 0;
        }
        dev_t fsdev = st.st_dev;
        if (major(fsdev) == 0 && mount_source(fsdev, &fsdev) < 0)
                return 0; /* tmpfs, proc: no block device at all */
        return stacked_on(fsdev, dev, sysfs, 0);
}

/* The first block device in sysfs/class/block whose file rel (uevent,
 * dm/name) has a line equal to want. */
static int find_in_sysfs(const char *sysfs, const char *rel, const char *want, dev_t *ret) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/class/block", sysfs);
        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        int r = -ENODEV;
        struct dirent *de;
        while (r == -ENODEV && (de = readdir(d))) {
                if (de->d_name[0] == '.' || strlen(de->d_name) > 64)
                        continue;
                char p[512];
                _cleanup_free_ char *text = NULL;
                size_t len;
                if ((size_t)snprintf(p, sizeof p, "%s/%s/%s", dir, de->d_name, rel) >= sizeof p ||
                    read_file_capped(p, 8192, &text, &len) < 0)
                        continue;
                for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                        if (strcmp(line, want) == 0) {
                                r = (size_t)snprintf(p, sizeof p, "%s/%s/dev", dir, de->d_name) < sizeof p ? read_devno(p, ret)
                                                                                                       : -ENAMETOOLONG;
                                break;
                        }
        }
        closedir(d);
        return r;
}

int volume_devno(const char *volume, const char *sysfs, dev_t *ret) {
        struct stat st;
        if (stat(volume, &st) == 0) {
                if (!S_ISBLK(st.st_mode))
                        return -ENOTBLK;
                *ret = st.st_rdev;
                return 0;
        }
        if (strlen(sysfs) > 128 || strlen(volume) > 200)
                return -ENAMETOOLONG;
        /* Under PrivateDevices= /dev holds no disks: ask sysfs by name. */
        char want[256], p[512];
        if (strncmp(volume, "/dev/mapper/", 12) == 0)
                return find_in_sysfs(sysfs, "dm/name", volume + 12, ret);
        if (strncmp(volume, "/dev/disk/by-partlabel/", 23) == 0) {
                snprintf(want, sizeof want, "PARTNAME=%s", volume + 23);
                return find_in_sysfs(sysfs, "uevent", want, ret);
        }
        if (fnmatch("/dev/*", volume, FNM_PATHNAME) == 0 &&
            (size_t)snprintf(p, sizeof p, "%s/class/block/%s/dev", sysfs, volume + 5) < sizeof p)
                return read_devno(p, ret) == 0 ? 0 : -ENODEV;
        return -ENODEV;
}

int reset_plan_devices_check(const struct reset_plan *plan, const struct reset_dependency *deps, size_t n,
                             const char *sysfs, char *why, size_t size) {
        int ret = 0;
        /* the listed volumes, and the root volume the initramfs erases (a device path; a
         * PARTLABEL= is resolved only there) */
        bool root = plan->root_volume && plan->root_volume[0] == '/';
        for (size_t i = 0; i < plan->n_volumes + root; i++) {
                const char *vol = i < plan->n_volumes ? plan->volumes[i] : plan->root_volume;
                dev_t dev;
                int r = volume_devno(vol, sysfs, &dev);
                if (r < 0) {
                        if (ret == 0)
                                snprintf(why, size, "cannot tell which block device %s is: %s", vol, strerror(-r));
                        ret = -ENODEV;
                        continue;
                }
                for (size_t k = 0; k < n; k++)
                        if (path_on_device(deps[k].path, dev, sysfs) > 0) {
                                snprintf(why, size, "the reset plan erases LUKS volume %s, which holds %s (%s)",
                                         vol, deps[k].what, deps[k].path);
                                return -EBUSY;
                        }
        }
        return ret;
}
