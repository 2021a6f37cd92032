/* usbunlock.h — offline unlock codes: 16 characters read over the phone, bound to one terminal, one device (or keyboards and mice) and an expiry, single use, attempts rate-limited. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USB_UNLOCK_CODE_LEN 16          /* Crockford base32: 80 bits */
#define USB_UNLOCK_KEY_LEN 32           /* the terminal key, HMAC-SHA-256 */
#define USB_UNLOCK_UNIT 900             /* expiry resolution: 15 minutes */
#define USB_UNLOCK_MAX_FAILURES 5       /* failed attempts ... */
#define USB_UNLOCK_WINDOW 900           /* ... within 15 minutes; then wait */
#define USB_UNLOCK_KEY_FILE "unlock.key"       /* in state_dir/usb/, 0600 */
#define USB_UNLOCK_STATE_FILE "unlock.state"   /* used codes and failed attempts */
#define USB_UNLOCK_REQUESTS "unlock-requests"  /* 1733: anyone hands sekishod a code there (NAME.code, NAME.result) */

enum usb_unlock_scope {
        USB_UNLOCK_DEVICE = 0,          /* the device whose hash has this 24-bit tag */
        USB_UNLOCK_HID = 1,             /* keyboards and mice */
};

struct usb_unlock {
        enum usb_unlock_scope scope;
        uint32_t device_tag;            /* 24 bits of SHA-256(device hash); 0 for HID */
        int64_t expires;                /* unix time */
};

/* The terminal key from the officer's master key and the terminal's machine-id. */
int usb_unlock_terminal_key(const uint8_t master[static USB_UNLOCK_KEY_LEN], const char *machine_id,
                            uint8_t ret[static USB_UNLOCK_KEY_LEN]);
/* The 24-bit tag a code names a device by. */
uint32_t usb_unlock_device_tag(const char *device_hash);

/* The tag as 5 characters a person reads out ("device code" in the
 * notice), and back: from those 5 characters or from the 44-character hash. */
void usb_unlock_device_code(uint32_t tag, char out[static 6]);
int usb_unlock_parse_device(const char *s, uint32_t *ret);

/* The officer's side: a code for u on the terminal whose key is key. The
 * expiry is rounded up to the next 15 minutes; -ERANGE beyond 30 days or
 * in the past. out gets 16 characters and a NUL. */
int usb_unlock_make(const uint8_t key[static USB_UNLOCK_KEY_LEN], const char *machine_id, const struct usb_unlock *u,
                    int64_t now, char out[static USB_UNLOCK_CODE_LEN + 1]);

/* The terminal's side: the code as typed (case, dashes and blanks, I/L/O
 * for 1/1/0 forgiven) to its 16 canonical characters; -EINVAL if it cannot
 * be one. */
int usb_unlock_normalize(const char *typed, char out[static USB_UNLOCK_CODE_LEN + 1]);
/* Verify a code as typed: 0 with *ret, -EBADMSG (not a code of this
 * terminal), -ETIME (expired). Constant time in the tag. */
int usb_unlock_verify(const uint8_t key[static USB_UNLOCK_KEY_LEN], const char *machine_id,
                      const char *code, int64_t now, struct usb_unlock *ret);

/* The persisted state: codes used (until they expire) and recent failures. */
#define USB_UNLOCK_MAX_USED 256
#define USB_UNLOCK_MAX_FAILED 64
struct usb_unlock_state {
        struct {
                char code[USB_UNLOCK_CODE_LEN + 1];
                int64_t expires;
        } used[USB_UNLOCK_MAX_USED];
        size_t n_used;
        int64_t failed[USB_UNLOCK_MAX_FAILED];
        size_t n_failed;
};
int usb_unlock_state_parse(const char *data, size_t size, struct usb_unlock_state *ret);
int usb_unlock_state_load(const char *path, struct usb_unlock_state *ret);
int usb_unlock_state_save(const char *path, const struct usb_unlock_state *s);
/* 0 if an attempt may be made at now, else -EBUSY with *retry_at. */
int usb_unlock_may_try(const struct usb_unlock_state *s, int64_t now, int64_t *retry_at);
bool usb_unlock_was_used(const struct usb_unlock_state *s, const char *code);
/* Record a use (code) or a failure (NULL), forgetting what no longer
 * matters; -ENOSPC (nothing recorded) when 256 codes are still live. */
int usb_unlock_record(struct usb_unlock_state *s, const char *code_or_null, int64_t expires, int64_t now);
