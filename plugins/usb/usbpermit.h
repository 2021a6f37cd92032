/* usbpermit.h — temporary permits and blocks for one device (sekishoctl usb allow/block, unlock codes), kept in the plugin's state directory so they outlive a restart until they expire. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "usbdesc.h"

#define USB_MAX_PERMITS 1024
#define USB_PERMIT_MAX_SECONDS (30 * 86400)   /* at most 30 days, as Endpoint Protector's */
#define USB_PERMIT_MIN_SECONDS 60
#define USB_PERMITS_FILE "permits"            /* in state_dir/usb/ */

enum usb_permit_kind {
        USB_PERMIT_ALLOW,     /* the device with this hash */
        USB_PERMIT_BLOCK,     /* the device with this hash, whatever else says */
        USB_PERMIT_HID,       /* any device with HID (and hub) interfaces only: keyboards and mice */
};

struct usb_permit {
        enum usb_permit_kind kind;
        char hash[USB_HASH_B64];      /* "" for USB_PERMIT_HID */
        int64_t expires, granted;     /* unix times */
        uint32_t uid;                 /* who granted it (0: root, or the unlock code's user) */
        char source[16];              /* "ctl" (sekishoctl usb allow/block) or "unlock" (an unlock code) */
        char label[128];              /* what the device was called then (printable ASCII) */
};

struct usb_permits {
        struct usb_permit *v;
        size_t n;
};

/* Parse a permits file (hostile: it is only root's, but a torn or edited
 * file must not crash or widen anything). Bad lines fail the whole file
 * with "LINE: problem" in err. */
int usb_permits_parse(const char *data, size_t size, struct usb_permits *ret, char *err, size_t err_size);
/* Read path ("no file" is no permits). */
int usb_permits_load(const char *path, struct usb_permits *ret, char *err, size_t err_size);
/* Write every permit still in force at now to path, atomically (0644). */
int usb_permits_save(const char *path, const struct usb_permits *p, int64_t now);
/* Add one (replacing a permit or block for the same device); -E2BIG when full. */
int usb_permits_add(struct usb_permits *p, const struct usb_permit *permit);
/* Drop those for hash (NULL: the HID ones); returns how many. */
size_t usb_permits_remove(struct usb_permits *p, const char *hash);
/* Drop the expired ones; returns how many. */
size_t usb_permits_expire(struct usb_permits *p, int64_t now);
void usb_permits_done(struct usb_permits *p);
/* The earliest expiry after now (0: none). */
int64_t usb_permits_next_expiry(const struct usb_permits *p, int64_t now);

/* "15m", "2h", "7d", "90s", "1d12h": seconds, within the bounds above. */
int usb_parse_duration(const char *s, int64_t *ret);
