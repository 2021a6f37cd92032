/* usbdev.c — builds the device model of a USB device from sysfs, reading every attribute as hostile input. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usbdev.h"
#include "util.h"

bool usbdev_is_device(struct udev_device *dev) {
        const char *t = dev ? udev_device_get_devtype(dev) : NULL;
        return t && strcmp(t, "usb_device") == 0;
}

bool usbdev_is_interface(struct udev_device *dev) {
        const char *t = dev ? udev_device_get_devtype(dev) : NULL;
        return t && strcmp(t, "usb_interface") == 0;
}

bool usbdev_is_root_hub(struct udev_device *dev) {
        if (!usbdev_is_device(dev))
                return false;
        return !usbdev_is_device(udev_device_get_parent(dev));
}

/* Read attribute `name` of the device at syspath: at most max bytes, the
 * one trailing newline the kernel adds removed. -ENOENT if absent. */
static int read_attr(const char *syspath, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *path = path_join(syspath, name);
        if (!path)
                return -ENOMEM;
        char *data;
        size_t len;
        int r = read_file_capped(path, max, &data, &len);
        if (r < 0)
                return r;
        if (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
        *ret = data;
        if (ret_len)
                *ret_len = len;
        return 0;
}

static void problem(struct usb_device_info *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct usb_device_info *d, const char *fmt, ...) {
        if (!d->ok)
                return; /* keep the first */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->problem, sizeof d->problem, fmt, ap);
        va_end(ap);
}

/* USBGuard 1.1 (SysFSDevice::readAttribute with trim) drops every trailing
 * NUL, LF, CR, TAB and BS of product, serial and connect_type before it
 * names, matches or hashes a device: so do we, or name, serial and hash
 * rules would miss such a device. Returns the new length. */
size_t usbdev_trim(char *s, size_t len) {
        while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == '\t' ||
                           s[len - 1] == '\b'))
                s[--len] = '\0';
        return len;
}

/* An optional string attribute: absent = "", trimmed as USBGuard does; a NUL
 * byte left inside or too long = problem. */
static int read_string(struct usb_device_info *d, const char *name, char **ret) {
        char *v = NULL;
        size_t len = 0;
        int r = read_attr(d->syspath, name, 4096, &v, &len);
        if (r == 0)
                len = usbdev_trim(v, len);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT || r == -ENODATA) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0) {
                problem(d, "cannot read %s: %s", name, strerror(-r));
                *ret = strdup("");
                d->ok = false;
                return *ret ? 0 : -ENOMEM;
        }
        if (strlen(v) != len) {
                problem(d, "%s contains a NUL byte", name);
                d->ok = false;
        }
        *ret = v;
        return 0;
}

/* One read of the descriptors attribute: a buffer that fits every real device, and the capped
 * reader only for the rare blob that does not fit. */
static int read_descriptors(const char *syspath, uint8_t **ret, size_t *ret_len) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/descriptors", syspath) >= sizeof path)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        uint8_t buf[4096];
        ssize_t k;
        do
                k = read(fd, buf, sizeof buf);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if ((size_t)k < sizeof buf) { /* a short read of sysfs or a file is the whole of it */
                uint8_t *b = malloc(k ? (size_t)k : 1);
                if (!b)
                        return -ENOMEM;
                memcpy(b, buf, (size_t)k);
                *ret = b;
                *ret_len = (size_t)k;
                return 0;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        char *big;
        int r = read_fd_capped(fd, USBDESC_MAX_SIZE, &big, ret_len);
        if (r < 0)
                return r;
        *ret = (uint8_t *)big;
        return 0;
}

/* A root hub is "usbN": its parent is the controller, not a USB device. */
static bool sysname_is_root_hub(const char *sysname) {
        if (strncmp(sysname, "usb", 3) != 0 || !sysname[3])
                return false;
        for (const char *c = sysname + 3; *c; c++)
                if (*c < '0' || *c > '9')
                        return false;
        return true;
}

int usbdev_model(const char *devpath, unsigned need, struct usb_device_info *ret) {
        *ret = (struct usb_device_info){ .ok = true };
        const char *slash = strrchr(devpath, '/');
        if (!slash || !slash[1] || asprintf(&ret->syspath, "/sys%s", devpath) < 0) {
                ret->syspath = NULL;
                goto oom;
        }
        ret->devpath = strdup(devpath);
        ret->port = strdup(slash + 1);
        if (!ret->devpath || !ret->port)
                goto oom;
        ret->is_controller = sysname_is_root_hub(ret->port);

        int r = read_descriptors(ret->syspath, &ret->blob, &ret->blob_len);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                problem(ret, "cannot read descriptors: %s", strerror(-r));
                ret->ok = false;
        } else {
                ret->desc = malloc(sizeof *ret->desc);
                if (!ret->desc)
                        goto oom;
                char why[160];
                if (usbdesc_parse(ret->blob, ret->blob_len, ret->desc, why, sizeof why) < 0) {
                        problem(ret, "garbage descriptors (%s)", why);
                        ret->ok = false;
                        free(ret->desc);
                        ret->desc = NULL;
                } else {
                        /* the ids sysfs shows in idVendor/idProduct are these very bytes */
                        snprintf(ret->vid, sizeof ret->vid, "%04x", ret->desc->vid);
                        snprintf(ret->pid, sizeof ret->pid, "%04x", ret->desc->pid);
                }
        }
        if (usbdev_complete(ret, need) < 0)
                goto oom;
        return 0;
oom:
        usb_device_info_done(ret);
        return -ENOMEM;
}

int usbdev_complete(struct usb_device_info *d, unsigned need) {
        int r;
        if ((need & (USBDEV_STRINGS | USBDEV_PARENT_HASH)) && !d->name) {
                if ((r = read_string(d, "product", &d->name)) < 0 || (r = read_string(d, "serial", &d->serial)) < 0)
                        return r;
                if (d->ok && d->desc)
                        usbdesc_hash(d->name, d->vid, d->pid, d->serial, d->blob, d->desc, d->hash);
        }
        if ((need & USBDEV_CONNECT_TYPE) && !d->connect_type &&
            (r = read_string(d, "port/connect_type", &d->connect_type)) < 0)
                return r;
        if ((need & USBDEV_PARENT_HASH) && !d->parent_hash[0]) {
                _cleanup_free_ char *parent = strdup(d->devpath);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (!parent)
                        return -ENOMEM;
                if (slash)
                        *slash = '\0';
                if (d->is_controller)
                        usb_hash_string(parent, d->parent_hash);
                else {
                        struct usb_device_info pi;
                        if (usbdev_model(parent, USBDEV_STRINGS, &pi) < 0)
                                return -ENOMEM;
                        if (pi.ok)
                                memcpy(d->parent_hash, pi.hash, sizeof pi.hash);
                        else {
                                problem(d, "parent device unreadable (%s), parent-hash unknown", pi.problem);
                                d->ok = false;
                        }
                        usb_device_info_done(&pi);
                }
        }
        return 0;
}

int usbdev_read(struct udev_device *dev, bool want_parent_hash, struct usb_device_info *ret) {
        const char *dp = udev_device_get_devpath(dev);
        return usbdev_model(dp ? dp : "", USBDEV_STRINGS | USBDEV_CONNECT_TYPE | (want_parent_hash ? USBDEV_PARENT_HASH : 0),
                            ret);
}

int usbdev_interface_address(const char *sysname, uint8_t *ret_config, uint8_t *ret_number) {
        const char *colon = sysname ? strrchr(sysname, ':') : NULL;
        if (!colon)
                return -EINVAL;
        unsigned c, n;
        char tail;
        if (sscanf(colon + 1, "%3u.%3u%c", &c, &n, &tail) != 2 || c > 255 || n > 255)
                return -EINVAL;
        *ret_config = (uint8_t)c;
        *ret_number = (uint8_t)n;
        return 0;
}
