/* usbunlock.c — offline unlock codes: 40 bits of what (scope, device, expiry) and a 40-bit HMAC tag under the terminal's key, in 16 Crockford base32 characters; and the state that makes them single use and rate-limited. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbunlock.h"
#include "util.h"

/* Crockford's base32: no I, L, O or U, so nothing reads as another. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define EXP_BITS 14
#define EXP_MOD (1u << EXP_BITS)
#define MAX_UNITS (30 * 86400 / USB_UNLOCK_UNIT)

int usb_unlock_terminal_key(const uint8_t master[static USB_UNLOCK_KEY_LEN], const char *machine_id,
                            uint8_t ret[static USB_UNLOCK_KEY_LEN]) {
        crypto_auth_hmacsha256_state st;
        static const char label[] = "sekisho usb unlock terminal key 1";
        if (crypto_auth_hmacsha256_init(&st, master, USB_UNLOCK_KEY_LEN) < 0 ||
            crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, sizeof label) < 0 ||
            crypto_auth_hmacsha256_update(&st, (const uint8_t *)machine_id, strlen(machine_id)) < 0 ||
            crypto_auth_hmacsha256_final(&st, ret) < 0)
                return -EIO;
        return 0;
}

uint32_t usb_unlock_device_tag(const char *device_hash) {
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const uint8_t *)device_hash, strlen(device_hash));
        return (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
}

void usb_unlock_device_code(uint32_t tag, char out[static 6]) {
        for (int i = 0; i < 5; i++)
                out[i] = alphabet[(tag >> (5 * (4 - i))) & 31];
        out[5] = '\0';
}

int usb_unlock_parse_device(const char *s, uint32_t *ret) {
        if (strlen(s) == 44 && s[43] == '=') {
                *ret = usb_unlock_device_tag(s);
                return 0;
        }
        uint32_t v = 0;
        size_t n = 0;
        for (const char *c = s; *c; c++) {
                char ch = *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
                if (ch == '-' || ch == ' ')
                        continue;
                ch = ch == 'I' || ch == 'L' ? '1' : ch == 'O' ? '0' : ch;
                const char *p = ch ? strchr(alphabet, ch) : NULL;
                if (!p || ++n > 5)
                        return -EINVAL;
                v = v << 5 | (uint32_t)(p - alphabet);
        }
        if (n != 5 || v > 0xffffff)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* The 40-bit tag of the 5 payload bytes, for this terminal. */
static void tag40(const uint8_t key[static USB_UNLOCK_KEY_LEN], const char *machine_id, const uint8_t payload[5],
                  uint8_t out[5]) {
        static const char label[] = "sekisho usb unlock code 1";
        uint8_t mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, USB_UNLOCK_KEY_LEN);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, sizeof label);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)machine_id, strlen(machine_id) + 1);
        crypto_auth_hmacsha256_update(&st, payload, 5);
        crypto_auth_hmacsha256_final(&st, mac);
        memcpy(out, mac, 5);
}

static void encode(const uint8_t in[10], char out[static USB_UNLOCK_CODE_LEN + 1]) {
        for (int i = 0; i < USB_UNLOCK_CODE_LEN; i++) {
                unsigned v = 0;
                for (int b = 0; b < 5; b++) {
                        int bit = i * 5 + b;
                        v = v << 1 | ((in[bit / 8] >> (7 - bit % 8)) & 1u);
                }
                out[i] = alphabet[v];
        }
        out[USB_UNLOCK_CODE_LEN] = '\0';
}

static void decode(const char in[static USB_UNLOCK_CODE_LEN], uint8_t out[10]) {
        memset(out, 0, 10);
        for (int i = 0; i < USB_UNLOCK_CODE_LEN; i++) {
                unsigned v = (unsigned)(strchr(alphabet, in[i]) - alphabet);
                for (int b = 0; b < 5; b++) {
                        int bit = i * 5 + b;
                        if (v >> (4 - b) & 1u)
                                out[bit / 8] |= (uint8_t)(1u << (7 - bit % 8));
                }
        }
}

int usb_unlock_make(const uint8_t key[static USB_UNLOCK_KEY_LEN], const char *machine_id, const struct usb_unlock *u,
                    int64_t now, char out[static USB_UNLOCK_CODE_LEN + 1]) {
        if (u->scope != USB_UNLOCK_DEVICE && u->scope != USB_UNLOCK_HID)
                return -EINVAL;
        int64_t units = (u->expires + USB_UNLOCK_UNIT - 1) / USB_UNLOCK_UNIT;
        if (units * USB_UNLOCK_UNIT <= now || units - now / USB_UNLOCK_UNIT > MAX_UNITS)
                return -ERANGE;
        uint64_t p = (uint64_t)u->scope << 38 | (uint64_t)(u->scope == USB_UNLOCK_HID ? 0 : u->device_tag & 0xffffff)
                                                        << EXP_BITS |
                     (uint64_t)(units % EXP_MOD);
        uint8_t raw[10];
        for (int i = 0; i < 5; i++)
                raw[i] = (uint8_t)(p >> (8 * (4 - i)));
        tag40(key, machine_id, raw, raw + 5);
        encode(raw, out);
        return 0;
}

int usb_unlock_normalize(const char *typed, char out[static USB_UNLOCK_CODE_LEN + 1]) {
        size_t n = 0;
        for (const char *c = typed; *c; c++) {
                char ch = *c;
                if (ch == '-' || ch == ' ' || ch == '\t')
                        continue;
                if (ch >= 'a' && ch <= 'z')
                        ch = (char)(ch - 'a' + 'A');
                if (ch == 'I' || ch == 'L')
                        ch = '1';
                else if (ch == 'O')
                        ch = '0';
                if (!strchr(alphabet, ch) || ch == '\0' || n >= USB_UNLOCK_CODE_LEN)
                        return -EINVAL;
                out[n++] = ch;
        }
        if (n != USB_UNLOCK_CODE_LEN)
                return -EINVAL;
        out[n] = '\0';
        return 0;
}

int usb_unlock_verify(const uint8_t key[static USB_UNLOCK_KEY_LEN], const char *machine_id,
                      const char *code, int64_t now, struct usb_unlock *ret) {
        char canon[USB_UNLOCK_CODE_LEN + 1];
        if (usb_unlock_normalize(code, canon) < 0)
                return -EBADMSG;
        uint8_t raw[10], want[5];
        decode(canon, raw);
        tag40(key, machine_id, raw, want);
        if (sodium_memcmp(raw + 5, want, 5) != 0)
                return -EBADMSG;
        uint64_t p = 0;
        for (int i = 0; i < 5; i++)
                p = p << 8 | raw[i];
        unsigned scope = (unsigned)(p >> 38);
        if (scope != USB_UNLOCK_DEVICE && scope != USB_UNLOCK_HID)
                return -EBADMSG;
        int64_t now_units = now / USB_UNLOCK_UNIT;
        int64_t ahead = ((int64_t)(p % EXP_MOD) - now_units % EXP_MOD + EXP_MOD) % EXP_MOD;
        int64_t expires = (now_units + ahead) * USB_UNLOCK_UNIT;
        if (ahead > MAX_UNITS + 1 || expires <= now)
                return -ETIME; /* its expiry lies in the past (wrapped) */
        *ret = (struct usb_unlock){ .scope = (enum usb_unlock_scope)scope,
                                    .device_tag = (uint32_t)(p >> EXP_BITS) & 0xffffff,
                                    .expires = expires };
        return 0;
}

/* ---- state: "used CODE EXPIRES" and "failed TIME" lines ---- */

int usb_unlock_state_parse(const char *data, size_t size, struct usb_unlock_state *ret) {
        memset(ret, 0, sizeof *ret);
        const char *end = data + size;
        for (const char *s = data; s < end;) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                if (!nl)
                        return -EINVAL;
                size_t len = (size_t)(nl - s);
                char line[64];
                if (len >= sizeof line)
                        return -EINVAL;
                memcpy(line, s, len);
                line[len] = '\0';
                s = nl + 1;
                char code[USB_UNLOCK_CODE_LEN + 2], extra;
                uint64_t t;
                char num[24];
                if (sscanf(line, "used %17s %23s%c", code, num, &extra) == 2) {
                        char canon[USB_UNLOCK_CODE_LEN + 1];
                        if (usb_unlock_normalize(code, canon) < 0 || strcmp(canon, code) != 0 ||
                            parse_u64(num, &t) < 0 || t > INT64_MAX / 2 || ret->n_used >= USB_UNLOCK_MAX_USED)
                                return -EINVAL;
                        memcpy(ret->used[ret->n_used].code, canon, sizeof canon);
                        ret->used[ret->n_used++].expires = (int64_t)t;
                } else if (sscanf(line, "failed %23s%c", num, &extra) == 1) {
                        if (parse_u64(num, &t) < 0 || t > INT64_MAX / 2 || ret->n_failed >= USB_UNLOCK_MAX_FAILED)
                                return -EINVAL;
                        ret->failed[ret->n_failed++] = (int64_t)t;
                } else
                        return -EINVAL;
        }
        return 0;
}

int usb_unlock_state_load(const char *path, struct usb_unlock_state *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        memset(ret, 0, sizeof *ret);
        int r = read_file_capped(path, 64 << 10, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return usb_unlock_state_parse(data, size, ret);
}

int usb_unlock_state_save(const char *path, const struct usb_unlock_state *s) {
        char buf[USB_UNLOCK_MAX_USED * 48 + USB_UNLOCK_MAX_FAILED * 32];
        size_t o = 0;
        for (size_t i = 0; i < s->n_used; i++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "used %s %" PRId64 "\n", s->used[i].code,
                                      s->used[i].expires);
        for (size_t i = 0; i < s->n_failed; i++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "failed %" PRId64 "\n", s->failed[i]);
        return write_file_atomic(path, buf, o, 0600);
}

int usb_unlock_may_try(const struct usb_unlock_state *s, int64_t now, int64_t *retry_at) {
        size_t recent = 0;
        int64_t oldest = 0;
        for (size_t i = 0; i < s->n_failed; i++)
                if (s->failed[i] > now - USB_UNLOCK_WINDOW && s->failed[i] <= now + 60) {
                        if (!recent || s->failed[i] < oldest)
                                oldest = s->failed[i];
                        recent++;
                }
        if (recent < USB_UNLOCK_MAX_FAILURES)
                return 0;
        *retry_at = oldest + USB_UNLOCK_WINDOW;
        return -EBUSY;
}

bool usb_unlock_was_used(const struct usb_unlock_state *s, const char *code) {
        for (size_t i = 0; i < s->n_used; i++)
                if (strcmp(s->used[i].code, code) == 0)
                        return true;
        return false;
}

/* A use (code) or a failure (NULL); forgets what no longer matters. */
int usb_unlock_record(struct usb_unlock_state *s, const char *code, int64_t expires, int64_t now) {
        size_t k = 0;
        for (size_t i = 0; i < s->n_used; i++)
                if (s->used[i].expires > now)
                        s->used[k++] = s->used[i];
        s->n_used = k;
        k = 0;
        for (size_t i = 0; i < s->n_failed; i++)
                if (s->failed[i] > now - USB_UNLOCK_WINDOW)
                        s->failed[k++] = s->failed[i];
        s->n_failed = k;
        if (code) {
                if (s->n_used == USB_UNLOCK_MAX_USED)
                        return -ENOSPC; /* never forget a live code: refuse the new one */
                snprintf(s->used[s->n_used].code, sizeof s->used[0].code, "%s", code);
                s->used[s->n_used++].expires = expires;
        } else {
                if (s->n_failed == USB_UNLOCK_MAX_FAILED)
                        memmove(&s->failed[0], &s->failed[1], --s->n_failed * sizeof s->failed[0]);
                s->failed[s->n_failed++] = now;
        }
        return 0;
}
