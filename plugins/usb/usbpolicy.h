/* usbpolicy.h — the usb: policy section compiled to rules, the device model read from sysfs, and the decision for one device and its interfaces. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ptree.h"
#include "usbdesc.h"
#include "usbrule.h"

#define USB_MAX_RULES 100000

struct usb_policy {
        enum usb_target deflt;       /* for devices no rule matches */
        struct usb_rule *rules;
        size_t n;
        unsigned need;               /* USBDEV_*: what a decision reads beyond the descriptors */
};

/* Attributes a decision may need besides the descriptors (one read, always). */
enum {
        USBDEV_STRINGS = 1 << 0,      /* product, serial and the device hash */
        USBDEV_CONNECT_TYPE = 1 << 1, /* port/connect_type */
        USBDEV_PARENT_HASH = 1 << 2,  /* the parent device's hash */
};

/* check(): validate a usb: section (NULL is fine: nothing to check). */
size_t usb_policy_check(const struct pnode *section, struct perrors *errs);
/* Compile a section. NULL (no section at all; the core always passes the
 * embedded default's, plugins/usb/default.yaml, merged) blocks every device
 * but controllers. */
int usb_policy_load(const struct pnode *section, struct usb_policy *ret, struct perrors *errs);
void usb_policy_done(struct usb_policy *p);

/* One USB device as read from sysfs (hostile strings, bounded). */
struct usb_device_info {
        char *syspath;               /* /sys/devices/... */
        char *devpath;               /* /devices/... */
        char *port;                  /* sysname: "1-4.2", "usb1" */
        char vid[5], pid[5];
        char *name, *serial, *connect_type;  /* raw bytes, NUL-free */
        char hash[USB_HASH_B64], parent_hash[USB_HASH_B64];
        bool is_controller;          /* a root hub: its parent is not a USB device */
        bool ok;                     /* false: problem says why; decided block */
        char problem[200];
        struct usb_desc *desc;       /* parsed descriptors (NULL if unreadable) */
        uint8_t *blob;               /* the descriptors as read (hashed later, never read twice) */
        size_t blob_len;
};

void usb_device_info_done(struct usb_device_info *d);

struct usb_verdict {
        enum usb_target target;
        const struct usb_rule *rule;  /* NULL: default target, controller, or a problem */
        ssize_t index;                /* 0-based rule index, -1 if none */
        const char *reason;           /* "rule", "default", "controller", or the problem */
        bool read_only;               /* allowed by a register entry marked read-only */
};

void usb_policy_decide(const struct usb_policy *p, const struct usb_device_info *d, struct usb_verdict *ret);

/* Interface decision for interface `number` in configuration `config` of a
 * device that got verdict v: true = authorize. */
bool usb_policy_interface_allowed(const struct usb_verdict *v, const struct usb_device_info *d, uint8_t config,
                                  uint8_t number);

/* Does p keep USB mass storage out? Probes a plain stick (08:06:50) and a
 * keyboard with a storage interface (03:01:01 + 08:06:50), of no id any
 * rule could know. false, with why naming the rule or default that lets
 * storage in, if either gets its storage interface authorized. */
bool usb_policy_blocks_storage(const struct usb_policy *p, char *why, size_t why_size);

/* Space-separated interface types of the device ("03:01:01 08:06:50"). */
void usb_device_interfaces_string(const struct usb_device_info *d, char *out, size_t size);
/* A display copy of a hostile string: printable UTF-8 kept, the rest as \xHH. */
char *usb_display_string(const char *s);
