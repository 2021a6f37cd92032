/* usbdev.c — builds the device model of a USB device from sysfs, reading every attribute as hostile input. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool is_id(const char *s) {
        if (strlen(s) != 4)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return false;
        return true;
}

/* An optional string attribute: absent = "", NUL byte or too long = problem. */
static int read_string(struct usb_device_info *d, const char *name, char **ret) {
        char *v = NULL;
        size_t len = 0;
        int r = read_attr(d->syspath, name, 4096, &v, &len);
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

int usbdev_read(struct udev_device *dev, bool want_parent_hash, struct usb_device_info *ret) {
        *ret = (struct usb_device_info){ .ok = true };
        _cleanup_free_ char *blob = NULL, *dpath = NULL;
        size_t blen = 0;
        const char *sp = udev_device_get_syspath(dev), *dp = udev_device_get_devpath(dev),
                   *sn = udev_device_get_sysname(dev);
        ret->syspath = strdup(sp ? sp : "");
        ret->devpath = strdup(dp ? dp : "");
        ret->port = strdup(sn ? sn : "");
        if (!ret->syspath || !ret->devpath || !ret->port)
                goto oom;
        struct udev_device *parent = udev_device_get_parent(dev);
        ret->is_controller = !usbdev_is_device(parent);

        int r;
        char *v;
        for (int i = 0; i < 2; i++) {
                const char *attr = i == 0 ? "idVendor" : "idProduct";
                r = read_attr(ret->syspath, attr, 64, &v, NULL);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0) {
                        problem(ret, "cannot read %s: %s", attr, strerror(-r));
                        ret->ok = false;
                        continue;
                }
                if (!is_id(v)) {
                        problem(ret, "%s is not four lower-case hex digits", attr);
                        ret->ok = false;
                } else
                        memcpy(i == 0 ? ret->vid : ret->pid, v, 5);
                free(v);
        }
        if ((r = read_string(ret, "product", &ret->name)) < 0 || (r = read_string(ret, "serial", &ret->serial)) < 0 ||
            (r = read_string(ret, "port/connect_type", &ret->connect_type)) < 0)
                goto oom;

        dpath = path_join(ret->syspath, "descriptors");
        if (!dpath)
                goto oom;
        r = read_file_capped(dpath, USBDESC_MAX_SIZE, &blob, &blen);
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
                if (usbdesc_parse((const uint8_t *)blob, blen, ret->desc, why, sizeof why) < 0) {
                        problem(ret, "garbage descriptors (%s)", why);
                        ret->ok = false;
                        free(ret->desc);
                        ret->desc = NULL;
                } else {
                        char want[10];
                        snprintf(want, sizeof want, "%04x%04x", ret->desc->vid, ret->desc->pid);
                        if (ret->ok && (memcmp(want, ret->vid, 4) != 0 || memcmp(want + 4, ret->pid, 4) != 0)) {
                                problem(ret, "descriptors say %.4s:%.4s but sysfs says %s:%s", want, want + 4,
                                        ret->vid, ret->pid);
                                ret->ok = false;
                        }
                        if (ret->ok)
                                usbdesc_hash(ret->name, ret->vid, ret->pid, ret->serial, (const uint8_t *)blob,
                                             ret->desc, ret->hash);
                }
        }

        if (ret->is_controller) {
                const char *pdp = parent ? udev_device_get_devpath(parent) : NULL;
                if (pdp)
                        usb_hash_string(pdp, ret->parent_hash);
        } else if (want_parent_hash) {
                struct usb_device_info pi;
                if (usbdev_read(parent, false, &pi) < 0)
                        goto oom;
                if (pi.ok)
                        memcpy(ret->parent_hash, pi.hash, sizeof pi.hash);
                else {
                        problem(ret, "parent device unreadable (%s), parent-hash unknown", pi.problem);
                        ret->ok = false;
                }
                usb_device_info_done(&pi);
        }
        return 0;
oom:
        usb_device_info_done(ret);
        return -ENOMEM;
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
