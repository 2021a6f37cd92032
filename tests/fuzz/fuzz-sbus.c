/* fuzz-sbus.c — libFuzzer target for sekishod's D-Bus codec (sbus.c): what parses is walked whole, every value read, built again through the builder and parsed back the same. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                                \
        do {                                    \
                if (!(x))                       \
                        __builtin_trap();       \
        } while (0)

static bool same_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* Read every value to the end of the open container of in, appending each to out. */
static void copy(struct sbus_msg *in, struct sbus_msg *out, unsigned depth) {
        char t;
        const char *c;
        union {
                uint8_t y;
                bool b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } v;
        while (sbus_peek(in, &t, &c) > 0) {
                /* A type that is not there: nothing read. */
                check(sbus_read(in, t == 'u' ? "y" : "u", &v) == -EBADMSG);
                if (strchr("a({v", t)) {
                        char contents[256];
                        check(depth < 64 && c && strlen(c) < sizeof contents);
                        strcpy(contents, c);
                        if (t == 'a' && strcmp(contents, "y") == 0 && depth % 2 == 0) {
                                const void *p;
                                size_t n;
                                check(sbus_read(in, "ay", &p, &n) == 0);
                                check(sbus_append(out, "ay", p, n) == 0);
                                continue;
                        }
                        check(sbus_enter(in, t, contents) == 1);
                        check(sbus_open(out, t, contents) == 0);
                        copy(in, out, depth + 1);
                        check(sbus_close(out) == 0);
                        check(sbus_exit(in) == 0);
                        continue;
                }
                char types[2] = { t, 0 };
                check(sbus_read(in, types, &v) == 0);
                int r;
                switch (t) {
                case 'y': r = sbus_append(out, types, v.y); break;
                case 'b': check(v.b == 0 || v.b == 1); r = sbus_append(out, types, v.b); break;
                case 'n': r = sbus_append(out, types, v.n); break;
                case 'q': r = sbus_append(out, types, v.q); break;
                case 'i': r = sbus_append(out, types, v.i); break;
                case 'u': r = sbus_append(out, types, v.u); break;
                case 'x': r = sbus_append(out, types, v.x); break;
                case 't': r = sbus_append(out, types, v.t); break;
                case 'd': r = sbus_append(out, types, v.d); break;
                case 's': case 'o': case 'g': r = sbus_append(out, types, v.s); break;
                default: __builtin_trap();
                }
                check(r == 0);
        }
        check(sbus_read(in, "y", &v) == -ENXIO);
        check(sbus_skip(in) == 0);
        check(sbus_enter(in, 'a', NULL) == 0);
}

/* A message of m's type and header (but a signal's destination), its body copied. */
static struct sbus_msg *rebuild(struct sbus_msg *m) {
        struct sbus_msg *out = NULL, *call = NULL;
        switch (sbus_msg_type(m)) {
        case SBUS_CALL:
                out = sbus_call_new(sbus_msg_destination(m), sbus_msg_path(m), sbus_msg_interface(m),
                                    sbus_msg_member(m));
                break;
        case SBUS_SIGNAL:
                out = sbus_signal_new(sbus_msg_path(m), sbus_msg_interface(m), sbus_msg_member(m));
                break;
        case SBUS_RETURN:
        case SBUS_ERROR:
                /* The call it answers: that serial, from its destination. */
                call = sbus_call_new(NULL, "/", NULL, "Call");
                check(call && sbus_msg_set_sender(call, sbus_msg_destination(m)) == 0);
                check(sbus_msg_seal(call, sbus_msg_reply_serial(m)) == 0);
                out = sbus_msg_type(m) == SBUS_RETURN ? sbus_return_new(call) :
                      sbus_error_new(call, sbus_msg_error_name(m), NULL);
                sbus_msg_unref(call);
                break;
        }
        check(out);
        sbus_msg_set_flags(out, sbus_msg_flags(m));
        check(sbus_msg_set_sender(out, sbus_msg_sender(m)) == 0);
        sbus_rewind(m);
        copy(m, out, 0);
        check(sbus_msg_error(out) == 0);
        check(sbus_msg_seal(out, sbus_msg_serial(m)) == 0);
        check(strcmp(sbus_msg_signature(out), sbus_msg_signature(m)) == 0);
        return out;
}

/* The same header; all of it (both ours), or what the builder sets for the type (a from the fuzzer). */
static void same_header(struct sbus_msg *a, struct sbus_msg *b, bool all) {
        enum sbus_type type = sbus_msg_type(a);
        bool call = all || type == SBUS_CALL, reply = all || type == SBUS_RETURN || type == SBUS_ERROR;
        check(type == sbus_msg_type(b));
        check(sbus_msg_flags(a) == sbus_msg_flags(b));
        check(sbus_msg_serial(a) == sbus_msg_serial(b));
        check(!reply || sbus_msg_reply_serial(a) == sbus_msg_reply_serial(b));
        check(!(call || type == SBUS_SIGNAL) || same_str(sbus_msg_path(a), sbus_msg_path(b)));
        check(!(call || type == SBUS_SIGNAL) || same_str(sbus_msg_interface(a), sbus_msg_interface(b)));
        check(!(call || type == SBUS_SIGNAL) || same_str(sbus_msg_member(a), sbus_msg_member(b)));
        check(!(all || type == SBUS_ERROR) || same_str(sbus_msg_error_name(a), sbus_msg_error_name(b)));
        check(!(call || reply) || same_str(sbus_msg_destination(a), sbus_msg_destination(b)));
        check(same_str(sbus_msg_sender(a), sbus_msg_sender(b)));
        check(strcmp(sbus_msg_signature(a), sbus_msg_signature(b)) == 0);
}

static const uint8_t *body(const struct sbus_msg *m, size_t *ret_len) {
        const void *p;
        size_t n;
        sbus_msg_bytes(m, &p, &n);
        const uint8_t *b = p;
        size_t len = b[0] == 'l' ? (size_t)b[4] | (size_t)b[5] << 8 | (size_t)b[6] << 16 | (size_t)b[7] << 24 :
                                   (size_t)b[7] | (size_t)b[6] << 8 | (size_t)b[5] << 16 | (size_t)b[4] << 24;
        check(len <= n);
        *ret_len = len;
        return b + n - len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sbus_msg *m, *out, *again, *out2;
        ssize_t need = sbus_msg_size(data, size);
        check(size >= 16 ? need != 0 : need == 0);
        if (sbus_msg_parse(data, size, &m) < 0)
                return 0;
        check(need == (ssize_t)size);

        /* The header: what each type requires is there. */
        enum sbus_type type = sbus_msg_type(m);
        check(sbus_msg_serial(m) != 0 && sbus_msg_flags(m) == data[2]);
        check(type != SBUS_CALL || (sbus_msg_path(m) && sbus_msg_member(m)));
        check(type != SBUS_SIGNAL || (sbus_msg_path(m) && sbus_msg_interface(m) && sbus_msg_member(m)));
        check(type != SBUS_ERROR || (sbus_msg_error_name(m) && sbus_msg_reply_serial(m)));
        check(type != SBUS_RETURN || sbus_msg_reply_serial(m));
        check(!sbus_msg_path(m) || sbus_path_valid(sbus_msg_path(m)));
        check(!sbus_msg_interface(m) || sbus_interface_valid(sbus_msg_interface(m)));
        check(!sbus_msg_member(m) || sbus_member_valid(sbus_msg_member(m)));
        check(!sbus_msg_error_name(m) || sbus_interface_valid(sbus_msg_error_name(m)));
        check(!sbus_msg_destination(m) || sbus_bus_name_valid(sbus_msg_destination(m)));
        check(!sbus_msg_sender(m) || sbus_bus_name_valid(sbus_msg_sender(m)));
        check(sbus_signature_valid(sbus_msg_signature(m), false));
        check(sbus_msg_is(m, type, sbus_msg_interface(m), sbus_msg_member(m)));
        /* A parsed message is not built on, nor sealed again. */
        check(sbus_append(m, "y", 1) == -EINVAL && sbus_open(m, 'a', "y") == -EINVAL && sbus_msg_error(m) == 0);
        check(sbus_msg_seal(m, 1) == -EINVAL);

        /* Skipping: one per complete type of the signature. */
        unsigned args = 0, types = 0, nest = 0;
        while (sbus_skip(m) > 0)
                args++;
        check(sbus_exit(m) == -EINVAL);
        for (const char *c = sbus_msg_signature(m); *c; c++) {
                nest += *c == '(' || *c == '{';
                nest -= *c == ')' || *c == '}';
                types += nest == 0 && *c != 'a';
        }
        check(args == types);

        /* Built again through the builder: the same; little-endian, the same body bytes. */
        out = rebuild(m);
        same_header(m, out, false);
        const void *p;
        size_t n, bn, on;
        sbus_msg_bytes(out, &p, &n);
        check(sbus_msg_parse(p, n, &again) == 0);
        same_header(out, again, true);
        const uint8_t *ob = body(out, &on);
        if (data[0] == 'l') {
                const uint8_t *b = body(m, &bn);
                check(bn == on && memcmp(b, ob, bn) == 0);
        }
        /* And once more: byte for byte what was built before. */
        out2 = rebuild(again);
        const void *p2;
        size_t n2;
        sbus_msg_bytes(out2, &p2, &n2);
        check(n2 == n && memcmp(p, p2, n) == 0);

        sbus_msg_unref(out2);
        sbus_msg_unref(again);
        sbus_msg_unref(out);
        sbus_msg_unref(m);
        return 0;
}
