/* usbdesc.c — parses the raw sysfs "descriptors" attribute of a USB device, bounded and strict, and computes USBGuard-compatible hashes. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "usbdesc.h"

enum { DT_DEVICE = 1, DT_CONFIG = 2, DT_INTERFACE = 4, DT_ENDPOINT = 5 };

static int bad(char *why, size_t why_size, size_t off, const char *what) {
        if (why && why_size)
                snprintf(why, why_size, "descriptor at byte %zu: %s", off, what);
        return -EBADMSG;
}

int usbdesc_parse(const uint8_t *data, size_t size, struct usb_desc *ret, char *why, size_t why_size) {
        memset(ret, 0, sizeof *ret);
        if (size > USBDESC_MAX_SIZE)
                return bad(why, why_size, 0, "descriptor data larger than 256 KiB");
        bool have_dev = false, have_cfg = false, have_if = false;
        uint8_t cur_cfg = 0;
        size_t off = 0;
        while (off < size) {
                if (size - off < 2)
                        return bad(why, why_size, off, "partial descriptor header at the end");
                uint8_t len = data[off], type = data[off + 1];
                if (len < 2)
                        return bad(why, why_size, off, "bLength smaller than the header");
                if (len > size - off)
                        return bad(why, why_size, off, "bLength runs past the end of the data");
                const uint8_t *p = data + off;
                switch (type) {
                case DT_DEVICE:
                        if (len != 18)
                                return bad(why, why_size, off, "device descriptor is not 18 bytes");
                        if (have_dev)
                                return bad(why, why_size, off, "a second device descriptor");
                        have_dev = true;
                        ret->vid = (uint16_t)(p[8] | p[9] << 8);
                        ret->pid = (uint16_t)(p[10] | p[11] << 8);
                        ret->bcd_device = (uint16_t)(p[12] | p[13] << 8);
                        ret->dev_class = p[4];
                        ret->dev_subclass = p[5];
                        ret->dev_protocol = p[6];
                        break;
                case DT_CONFIG:
                        if (len != 9)
                                return bad(why, why_size, off, "configuration descriptor is not 9 bytes");
                        if (!have_dev)
                                return bad(why, why_size, off, "configuration before the device descriptor");
                        have_cfg = true;
                        have_if = false;
                        cur_cfg = p[5];
                        ret->n_configs++;
                        break;
                case DT_INTERFACE:
                        if (len != 9)
                                return bad(why, why_size, off, "interface descriptor is not 9 bytes");
                        if (!have_cfg)
                                return bad(why, why_size, off, "interface outside a configuration");
                        if (ret->n_ifs >= USBDESC_MAX_IFS)
                                return bad(why, why_size, off, "absurd number of interface descriptors");
                        have_if = true;
                        ret->ifs[ret->n_ifs] = (struct usb_ifdesc){
                                .config = cur_cfg, .number = p[2], .alt = p[3],
                                .type = { .cls = p[5], .sub = p[6], .proto = p[7], .mask = USB_IF_MATCH_ALL },
                        };
                        ret->types[ret->n_ifs] = ret->ifs[ret->n_ifs].type;
                        ret->n_ifs++;
                        break;
                case DT_ENDPOINT:
                        if (len != 7 && len != 9)
                                return bad(why, why_size, off, "endpoint descriptor is neither 7 nor 9 bytes");
                        if (!have_if)
                                return bad(why, why_size, off, "endpoint outside an interface");
                        break;
                default:
                        if (!have_dev)
                                return bad(why, why_size, off, "data before the device descriptor");
                        break; /* class-specific, strings, IADs: hashed, otherwise ignored */
                }
                off += len;
        }
        if (!have_dev || off < 18)
                return bad(why, why_size, off, "no device descriptor");
        ret->processed = off;
        return 0;
}

bool usbdesc_is_root_hub(const struct usb_desc *d) {
        return d->vid == 0x1d6b && d->pid >= 1 && d->pid <= 3;
}

static int b64(const uint8_t h[crypto_hash_sha256_BYTES], char out[static USB_HASH_B64]) {
        sodium_bin2base64(out, USB_HASH_B64, h, crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL);
        return 0;
}

int usbdesc_hash(const char *name, const char *vid, const char *pid, const char *serial, const uint8_t *data,
                 const struct usb_desc *d, char out[static USB_HASH_B64]) {
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        const char *fields[] = { name ? name : "", vid, pid, serial ? serial : "" };
        for (size_t i = 0; i < 4; i++)
                crypto_hash_sha256_update(&st, (const unsigned char *)fields[i], strlen(fields[i]));
        bool root = usbdesc_is_root_hub(d);
        for (size_t off = 0; off < d->processed;) {
                uint8_t len = data[off];
                if (root && data[off + 1] == DT_DEVICE) {
                        uint8_t dev[18];
                        memcpy(dev, data + off, 18);
                        dev[12] = dev[13] = 0; /* bcdDevice changes with every kernel */
                        crypto_hash_sha256_update(&st, dev, 18);
                } else
                        crypto_hash_sha256_update(&st, data + off, len);
                off += len;
        }
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&st, h);
        return b64(h, out);
}

int usb_hash_string(const char *s, char out[static USB_HASH_B64]) {
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
        return b64(h, out);
}

size_t usbdesc_interface_types(const struct usb_desc *d, uint8_t config, uint8_t number, struct usb_iftype *out,
                               size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < d->n_ifs && n < max; i++)
                if (d->ifs[i].config == config && d->ifs[i].number == number)
                        out[n++] = d->ifs[i].type;
        return n;
}
