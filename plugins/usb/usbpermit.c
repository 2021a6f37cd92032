/* usbpermit.c — the permits file: one line per temporary permit or block, parsed strictly, written atomically. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbpermit.h"
#include "util.h"

/* The file, one permit a line, fields separated by one space:
 *   # sekisho usb permits 1
 *   allow HASH EXPIRES GRANTED UID SOURCE LABEL...
 *   block HASH ...
 *   hid - ...
 * Times are unix seconds; the label is the rest of the line. */
#define PERMITS_HEADER "# sekisho usb permits 1"

static const char *const kinds[] = { "allow", "block", "hid" };

void usb_permits_done(struct usb_permits *p) {
        if (!p)
                return;
        free(p->v);
        *p = (struct usb_permits){ 0 };
}

static int field_i64(const char *s, int64_t *ret) {
        uint64_t v;
        if (parse_u64(s, &v) < 0 || v > INT64_MAX / 2)
                return -EINVAL;
        *ret = (int64_t)v;
        return 0;
}

static bool hash_ok(const char *h) {
        if (strlen(h) != USB_HASH_B64 - 1 || h[USB_HASH_B64 - 2] != '=')
                return false;
        for (size_t i = 0; i < USB_HASH_B64 - 2; i++)
                if (!((h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9') ||
                      h[i] == '+' || h[i] == '/'))
                        return false;
        return true;
}

static int parse_line(char *line, struct usb_permit *ret, const char **why) {
        char *f[7];
        size_t n = 0;
        char *p = line;
        while (n < 6) {
                char *sp = strchr(p, ' ');
                if (!sp) {
                        *why = "too few fields (kind, hash, expires, granted, uid, source, label)";
                        return -EINVAL;
                }
                *sp = '\0';
                f[n++] = p;
                p = sp + 1;
        }
        f[6] = p;
        *ret = (struct usb_permit){ 0 };
        size_t k;
        for (k = 0; k < ARRAY_SIZE(kinds); k++)
                if (strcmp(f[0], kinds[k]) == 0)
                        break;
        if (k == ARRAY_SIZE(kinds)) {
                *why = "kind must be allow, block or hid";
                return -EINVAL;
        }
        ret->kind = (enum usb_permit_kind)k;
        if (ret->kind == USB_PERMIT_HID ? strcmp(f[1], "-") != 0 : !hash_ok(f[1])) {
                *why = "bad device hash";
                return -EINVAL;
        }
        if (ret->kind != USB_PERMIT_HID)
                memcpy(ret->hash, f[1], USB_HASH_B64);
        uint64_t uid;
        if (field_i64(f[2], &ret->expires) < 0 || field_i64(f[3], &ret->granted) < 0 ||
            ret->expires <= ret->granted || ret->expires - ret->granted > USB_PERMIT_MAX_SECONDS) {
                *why = "bad times (expires must follow granted, by at most 30 days)";
                return -EINVAL;
        }
        if (parse_u64(f[4], &uid) < 0 || uid > UINT32_MAX) {
                *why = "bad uid";
                return -EINVAL;
        }
        ret->uid = (uint32_t)uid;
        if (strcmp(f[5], "ctl") != 0 && strcmp(f[5], "unlock") != 0) {
                *why = "source must be ctl or unlock";
                return -EINVAL;
        }
        snprintf(ret->source, sizeof ret->source, "%s", f[5]);
        if (strlen(f[6]) >= sizeof ret->label) {
                *why = "label too long";
                return -EINVAL;
        }
        for (const char *c = f[6]; *c; c++)
                if (*c < 0x20 || *c > 0x7e) {
                        *why = "label must be printable ASCII";
                        return -EINVAL;
                }
        snprintf(ret->label, sizeof ret->label, "%s", f[6]);
        return 0;
}

int usb_permits_parse(const char *data, size_t size, struct usb_permits *ret, char *err, size_t err_size) {
        *ret = (struct usb_permits){ 0 };
        const char *end = data + size;
        unsigned line = 0;
        int r = 0;
        for (const char *s = data; s < end && r == 0; line++) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                if (!nl) {
                        snprintf(err, err_size, "%u: last line not terminated (torn write?)", line + 1);
                        r = -EINVAL;
                        break;
                }
                size_t len = (size_t)(nl - s);
                if (line == 0) {
                        if (len != strlen(PERMITS_HEADER) || memcmp(s, PERMITS_HEADER, len) != 0) {
                                snprintf(err, err_size, "1: not a permits file (header)");
                                r = -EINVAL;
                        }
                } else if (len > 512 || memchr(s, '\0', len)) {
                        snprintf(err, err_size, "%u: line too long or with a NUL byte", line + 1);
                        r = -EINVAL;
                } else if (ret->n >= USB_MAX_PERMITS) {
                        snprintf(err, err_size, "%u: more than %d permits", line + 1, USB_MAX_PERMITS);
                        r = -EINVAL;
                } else {
                        char buf[513];
                        memcpy(buf, s, len);
                        buf[len] = '\0';
                        struct usb_permit p;
                        const char *why = NULL;
                        if (parse_line(buf, &p, &why) < 0) {
                                snprintf(err, err_size, "%u: %s", line + 1, why);
                                r = -EINVAL;
                        } else if ((r = usb_permits_add(ret, &p)) < 0)
                                snprintf(err, err_size, "%u: %s", line + 1, strerror(-r));
                }
                s = nl + 1;
        }
        if (r == 0 && size > 0 && line == 0)
                r = -EINVAL;
        if (r < 0)
                usb_permits_done(ret);
        return r;
}

int usb_permits_load(const char *path, struct usb_permits *ret, char *err, size_t err_size) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        *ret = (struct usb_permits){ 0 };
        int r = read_file_capped(path, 1 << 20, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(err, err_size, "%s", strerror(-r));
                return r;
        }
        return usb_permits_parse(data, size, ret, err, err_size);
}

int usb_permits_save(const char *path, const struct usb_permits *p, int64_t now) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\n", PERMITS_HEADER);
        for (size_t i = 0; i < p->n; i++) {
                const struct usb_permit *e = &p->v[i];
                if (e->expires <= now)
                        continue;
                fprintf(f, "%s %s %" PRId64 " %" PRId64 " %" PRIu32 " %s %s\n", kinds[e->kind],
                        e->kind == USB_PERMIT_HID ? "-" : e->hash, e->expires, e->granted, e->uid, e->source,
                        e->label);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        int r = write_file_atomic(path, buf, len, 0644);
        free(buf);
        return r;
}

int usb_permits_add(struct usb_permits *p, const struct usb_permit *permit) {
        usb_permits_remove(p, permit->kind == USB_PERMIT_HID ? NULL : permit->hash);
        if (p->n >= USB_MAX_PERMITS)
                return -E2BIG;
        struct usb_permit *v = realloc(p->v, (p->n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        p->v = v;
        p->v[p->n++] = *permit;
        return 0;
}

size_t usb_permits_remove(struct usb_permits *p, const char *hash) {
        size_t k = 0, removed = 0;
        for (size_t i = 0; i < p->n; i++) {
                bool same = hash ? p->v[i].kind != USB_PERMIT_HID && strcmp(p->v[i].hash, hash) == 0
                                 : p->v[i].kind == USB_PERMIT_HID;
                if (same)
                        removed++;
                else
                        p->v[k++] = p->v[i];
        }
        p->n = k;
        return removed;
}

size_t usb_permits_expire(struct usb_permits *p, int64_t now) {
        size_t k = 0, removed = 0;
        for (size_t i = 0; i < p->n; i++) {
                if (p->v[i].expires <= now)
                        removed++;
                else
                        p->v[k++] = p->v[i];
        }
        p->n = k;
        return removed;
}

int64_t usb_permits_next_expiry(const struct usb_permits *p, int64_t now) {
        int64_t next = 0;
        for (size_t i = 0; p && i < p->n; i++)
                if (p->v[i].expires > now && (!next || p->v[i].expires < next))
                        next = p->v[i].expires;
        return next;
}

int usb_parse_duration(const char *s, int64_t *ret) {
        int64_t total = 0;
        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                int64_t v = 0;
                const char *start = s;
                while (*s >= '0' && *s <= '9' && v < 1000000)
                        v = v * 10 + (*s++ - '0');
                if (s == start || v >= 1000000)
                        return -EINVAL;
                switch (*s++) {
                case 's': break;
                case 'm': v *= 60; break;
                case 'h': v *= 3600; break;
                case 'd': v *= 86400; break;
                default: return -EINVAL;
                }
                total += v;
                if (total > USB_PERMIT_MAX_SECONDS)
                        return -ERANGE;
        }
        if (total < USB_PERMIT_MIN_SECONDS)
                return -ERANGE;
        *ret = total;
        return 0;
}
