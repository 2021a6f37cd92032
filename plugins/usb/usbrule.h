/* usbrule.h — USBGuard-syntax device rules (without conditions) plus sekisho's per-interface extension: parsing and matching. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what one rule may make us allocate. */
#define USBRULE_MAX_LEN 65536       /* bytes of rule text */
#define USBRULE_MAX_VALUES 1024     /* values in one attribute set */
#define USBRULE_MAX_STRING 4096     /* bytes of one string value, unescaped */

enum usb_target {
        USB_TARGET_ALLOW,
        USB_TARGET_BLOCK,
        USB_TARGET_REJECT,
        USB_TARGET_MATCH,   /* matches, decides nothing: evaluation goes on */
};

enum usb_setop {
        USB_OP_EQUALS,        /* the default when no operator is written */
        USB_OP_ALL_OF,
        USB_OP_ONE_OF,
        USB_OP_NONE_OF,
        USB_OP_EQUALS_ORDERED,
        USB_OP_MATCH_ALL,
};

/* An interface type class:subclass:protocol; mask says which parts count. */
#define USB_IF_MATCH_CLASS 1u
#define USB_IF_MATCH_SUBCLASS 2u
#define USB_IF_MATCH_PROTOCOL 4u
#define USB_IF_MATCH_ALL 7u
struct usb_iftype {
        uint8_t cls, sub, proto, mask;
};

/* A vendor:product id as written ("*" or four hex digits each). USBGuard
 * compares the text, so an upper-case id never matches sysfs's lower case;
 * check() warns about it. */
struct usb_devid {
        char vid[5], pid[5];
};

/* A string value; may hold NUL bytes from escapes, hence the length. */
struct usb_str {
        char *s;
        size_t len;
};

enum usb_attr_kind { USB_ATTR_STR, USB_ATTR_ID, USB_ATTR_IF };

struct usb_attr {
        bool present;
        enum usb_setop op;
        size_t n;
        union {
                struct usb_str *str;
                struct usb_devid *id;
                struct usb_iftype *ift;
        } v;
};

/* Per-interface extension (sekisho, not USBGuard): with target allow, the
 * device is authorized and then each of its interfaces is decided:
 *   block-interfaces { 08:*:* }  -> interfaces of these types blocked, the rest authorized
 *   allow-interfaces { 03:*:* }  -> only interfaces of these types authorized */
enum usb_ifmode { USB_IFMODE_ALL, USB_IFMODE_BLOCK_LISTED, USB_IFMODE_ONLY_LISTED };

struct usb_rule {
        enum usb_target target;
        struct usb_attr id, name, serial, hash, parent_hash, via_port, connect_type, label, with_interface;
        enum usb_ifmode ifmode;
        struct usb_iftype *ifpat;
        size_t n_ifpat;
        bool uppercase_id;   /* an id with upper-case hex: never matches (as in USBGuard) */
        char *text;          /* the rule as written, for audit and listings */
};

struct usbrule_error {
        unsigned col;        /* 1-based byte column within the rule text */
        char msg[160];
};

/* Parse one rule. An empty or comment-only line gives -ENOENT (no rule).
 * Returns 0 with *ret filled, or -EINVAL with err set. */
int usbrule_parse(const char *text, size_t len, struct usb_rule *ret, struct usbrule_error *err);
void usbrule_done(struct usb_rule *r);

/* What the matcher knows about a device: all strings NUL-free, bounded. */
struct usb_devinfo {
        char vid[5], pid[5];      /* lower-case hex as sysfs gives it */
        const char *name, *serial, *hash, *parent_hash, *port, *connect_type;
        const struct usb_iftype *ifs;  /* every interface descriptor, in descriptor order (mask ALL) */
        size_t n_ifs;
};

bool usbrule_matches(const struct usb_rule *r, const struct usb_devinfo *d);

/* Interface decision for a device allowed by r: true if an interface whose
 * alternate settings have these types may be authorized. */
bool usbrule_interface_allowed(const struct usb_rule *r, const struct usb_iftype *alts, size_t n_alts);

const char *usb_target_name(enum usb_target t);
/* "03:01:01", "08:*:*" */
void usb_iftype_format(const struct usb_iftype *t, char out[static 9]);
bool usb_iftype_applies(const struct usb_iftype *pattern, const struct usb_iftype *t);
