/* usbdesc.h — hostile USB descriptor blobs (sysfs "descriptors") to interface types, and USBGuard's device hash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usbrule.h"

#define USBDESC_MAX_SIZE (256 * 1024)  /* 18 + up to 8 configurations of at most 64 KiB, with slack */
#define USBDESC_MAX_IFS 256            /* interface descriptors (alternate settings included) */
#define USB_HASH_B64 45                /* base64 of SHA-256, with padding and NUL */

struct usb_ifdesc {
        uint8_t config;      /* bConfigurationValue of the configuration it belongs to */
        uint8_t number;      /* bInterfaceNumber */
        uint8_t alt;         /* bAlternateSetting */
        struct usb_iftype type;
};

struct usb_desc {
        uint16_t vid, pid, bcd_device;
        uint8_t dev_class, dev_subclass, dev_protocol;
        uint8_t n_configs;          /* configuration descriptors seen */
        size_t processed;           /* bytes consumed (what USBGuard hashes) */
        struct usb_ifdesc ifs[USBDESC_MAX_IFS];
        size_t n_ifs;
        /* Every interface type in descriptor order (alternate settings and
         * all configurations included), as USBGuard's with-interface sees it. */
        struct usb_iftype types[USBDESC_MAX_IFS];
};

/* Parse with USBGuard's strictness: sizes of device (18), configuration (9),
 * interface (9) and endpoint (7 or 9) descriptors must be exact, each needs
 * its parent before it, no trailing partial header, one device descriptor.
 * Returns 0, or -EBADMSG with a one-line reason in why. */
int usbdesc_parse(const uint8_t *data, size_t size, struct usb_desc *ret, char *why, size_t why_size);

/* True for a Linux root hub device descriptor (1d6b:0001..0003). */
bool usbdesc_is_root_hub(const struct usb_desc *d);

/* The device hash as USBGuard computes it: base64(SHA-256(name || vendor-id
 * text || product-id text || serial || descriptors)), where a root hub's
 * device descriptor is hashed with bcdDevice zeroed. data/size must have
 * parsed with usbdesc_parse (d). */
int usbdesc_hash(const char *name, const char *vid, const char *pid, const char *serial, const uint8_t *data,
                 const struct usb_desc *d, char out[static USB_HASH_B64]);

/* base64(SHA-256(s)): USBGuard's parent-hash for a device whose parent is
 * not a USB device (the controller's sysfs path). */
int usb_hash_string(const char *s, char out[static USB_HASH_B64]);

/* The interface types of interface `number` in configuration `config`
 * (every alternate setting); returns how many were written to out. */
size_t usbdesc_interface_types(const struct usb_desc *d, uint8_t config, uint8_t number, struct usb_iftype *out,
                               size_t max);
