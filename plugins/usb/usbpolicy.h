/* usbpolicy.h — the usb: policy section compiled to rules, the device model read from sysfs, and the decision for one device and its interfaces. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ptree.h"
#include "usbdesc.h"
#include "usbrule.h"

#define USB_MAX_RULES 100000
#define USB_MAX_REGISTER 10000

/* One approved stick of the register (usb: register:): known by its id,
 * serial and USBGuard device hash together, for whom and where, until when. */
struct usb_register_entry {
        char *name;                  /* the officer's label ("総務課 USB 3") */
        struct usb_devid id;
        char *serial, *hash;
        char **users, **groups, **terminals;  /* NULL-terminated; NULL: not restricted that way */
        int64_t expires;             /* unix time it ends; 0: never */
        bool read_only;              /* its block devices are set read-only */
};

struct usb_policy {
        enum usb_target deflt;       /* for devices no rule matches */
        struct usb_rule *rules;
        size_t n;
        struct usb_register_entry *reg;  /* approved media, decided before the rules */
        size_t n_reg;
        unsigned need;               /* USBDEV_*: what a decision reads beyond the descriptors */
};

/* Who and where a decision is made for: what the register's "for:" and
 * "expires" are checked against. */
struct usb_who {
        int64_t now;                 /* unix time */
        const char *user;            /* the user of the active seat; NULL: nobody */
        char *const *groups;         /* that user's groups, NULL-terminated (NULL: none) */
        char *const *terminals;      /* this terminal's names (machine-id, host name), NULL-terminated */
};

/* Attributes a decision may need besides the descriptors (one read, always). */
enum {
        USBDEV_STRINGS = 1 << 0,      /* product, serial and the device hash */
        USBDEV_CONNECT_TYPE = 1 << 1, /* port/connect_type */
        USBDEV_PARENT_HASH = 1 << 2,  /* the parent device's hash */
};

/* A register "expires": an RFC 3339 time, or a date and time without a zone
 * (local time), or a date alone (through the end of that day, local time). */
int usb_parse_expiry(const char *s, int64_t *ret);

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
        const char *reason;           /* "rule", "default", "controller", "register", or the problem */
        const struct usb_register_entry *entry;  /* the register entry that allowed it, or NULL */
        ssize_t entry_index;          /* 0-based register index, -1 if none */
        bool read_only;               /* allowed by a register entry marked read-only */
};

/* Decide d for who (NULL: nobody logged in, on no named terminal, now):
 * the register first, then the rules in order, then the default. */
void usb_policy_decide_for(const struct usb_policy *p, const struct usb_device_info *d, const struct usb_who *who,
                           struct usb_verdict *ret);
void usb_policy_decide(const struct usb_policy *p, const struct usb_device_info *d, struct usb_verdict *ret);

/* Register entries and a device: is it this stick (id, serial and hash)? */
bool usb_register_is_device(const struct usb_register_entry *e, const struct usb_device_info *d);
/* Does e apply for who? NULL if it does, else why not ("expired on ...",
 * "for users ... only"), in buf. */
const char *usb_register_why_not(const struct usb_register_entry *e, const struct usb_who *who, char *buf,
                                 size_t size);

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
