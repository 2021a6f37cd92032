/* test-sbus.c — sekishod's own D-Bus codec (sbus.c) against libdbus's marshalling both ways: headers and every type, big-endian input, what parsing refuses, the builder's sticky errors, the reader's cursor. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dbus/dbus.h>

#include "sbus.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#define assert_str_same(a, b)                                   \
        do {                                                    \
                const char *a_ = (a), *b_ = (b);                \
                if (!a_ || !b_)                                 \
                        assert_ptr_equal(a_, b_);               \
                else                                            \
                        assert_string_equal(a_, b_);            \
        } while (0)

/* ---- between the two codecs ---- */

static DBusMessage *to_libdbus(const struct sbus_msg *m) {
        const void *p;
        size_t n;
        DBusError e;
        sbus_msg_bytes(m, &p, &n);
        assert_non_null(p);
        dbus_error_init(&e);
        DBusMessage *d = dbus_message_demarshal(p, (int)n, &e);
        if (!d)
                fail_msg("libdbus refuses our message: %s", e.message);
        return d;
}

static struct sbus_msg *from_libdbus(DBusMessage *d) {
        char *p;
        int n;
        struct sbus_msg *m = NULL;
        if (!dbus_message_get_serial(d))
                dbus_message_set_serial(d, 77);
        assert_true(dbus_message_marshal(d, &p, &n));
        assert_int_equal(sbus_msg_size(p, (size_t)n), n);
        assert_int_equal(sbus_msg_parse(p, (size_t)n, &m), 0);
        dbus_free(p);
        return m;
}

/* The body of a message's bytes (little-endian). */
static const uint8_t *body_of(const void *p, size_t n, size_t *ret_len) {
        const uint8_t *b = p;
        uint32_t len = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
        assert_int_equal(b[0], 'l');
        assert_true(len <= n);
        *ret_len = len;
        return b + n - len;
}

static void compare_header(DBusMessage *d, const struct sbus_msg *m) {
        unsigned flags = sbus_msg_flags(m);
        assert_int_equal(dbus_message_get_type(d), sbus_msg_type(m));
        assert_int_equal(dbus_message_get_serial(d), sbus_msg_serial(m));
        assert_int_equal(dbus_message_get_reply_serial(d), sbus_msg_reply_serial(m));
        assert_str_same(dbus_message_get_path(d), sbus_msg_path(m));
        assert_str_same(dbus_message_get_interface(d), sbus_msg_interface(m));
        assert_str_same(dbus_message_get_member(d), sbus_msg_member(m));
        assert_str_same(dbus_message_get_error_name(d), sbus_msg_error_name(m));
        assert_str_same(dbus_message_get_destination(d), sbus_msg_destination(m));
        assert_str_same(dbus_message_get_sender(d), sbus_msg_sender(m));
        assert_string_equal(dbus_message_get_signature(d), sbus_msg_signature(m));
        assert_int_equal(dbus_message_get_no_reply(d), !!(flags & SBUS_FLAG_NO_REPLY));
        assert_int_equal(dbus_message_get_auto_start(d), !(flags & SBUS_FLAG_NO_AUTO_START));
        assert_int_equal(dbus_message_get_allow_interactive_authorization(d), !!(flags & SBUS_FLAG_INTERACTIVE));
}

/* Walk libdbus's iterator and our cursor side by side: the same types,
 * contents and values. */
static void compare_iter(DBusMessageIter *it, struct sbus_msg *m) {
        for (;; dbus_message_iter_next(it)) {
                int dt = dbus_message_iter_get_arg_type(it);
                char t;
                const char *contents;
                int r = sbus_peek(m, &t, &contents);
                if (dt == DBUS_TYPE_INVALID) {
                        assert_int_equal(r, 0);
                        assert_int_equal(sbus_read(m, "y", NULL), -ENXIO);
                        return;
                }
                assert_int_equal(r, 1);
                assert_int_equal(t, dt == DBUS_TYPE_STRUCT ? '(' : dt == DBUS_TYPE_DICT_ENTRY ? '{' : dt);
                if (dbus_type_is_container(dt)) {
                        DBusMessageIter sub;
                        char want[256];
                        dbus_message_iter_recurse(it, &sub);
                        char *s = dbus_message_iter_get_signature(dt == DBUS_TYPE_VARIANT ? &sub : it);
                        size_t n = strlen(s);
                        if (dt == DBUS_TYPE_VARIANT)
                                strcpy(want, s);
                        else if (dt == DBUS_TYPE_ARRAY)
                                strcpy(want, s + 1);
                        else {
                                memcpy(want, s + 1, n - 2);
                                want[n - 2] = '\0';
                        }
                        dbus_free(s);
                        assert_string_equal(contents, want);
                        if (dt == DBUS_TYPE_ARRAY && strcmp(want, "y") == 0) {
                                const void *p, *q;
                                int pn;
                                size_t qn;
                                dbus_message_iter_get_fixed_array(&sub, &p, &pn);
                                assert_int_equal(sbus_read(m, "ay", &q, &qn), 0);
                                assert_int_equal(qn, pn);
                                if (pn)
                                        assert_memory_equal(p, q, qn);
                                continue;
                        }
                        assert_int_equal(sbus_enter(m, t, want), 1);
                        compare_iter(&sub, m);
                        assert_int_equal(sbus_exit(m), 0);
                        continue;
                }
                DBusBasicValue v;
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
                } x;
                dbus_message_iter_get_basic(it, &v);
                assert_int_equal(sbus_read(m, (char[]){ t, 0 }, &x), 0);
                switch (t) {
                case 'y': assert_int_equal(x.y, v.byt); break;
                case 'b': assert_int_equal(x.b, v.bool_val); break;
                case 'n': assert_int_equal(x.n, v.i16); break;
                case 'q': assert_int_equal(x.q, v.u16); break;
                case 'i': assert_int_equal(x.i, v.i32); break;
                case 'u': assert_int_equal(x.u, v.u32); break;
                case 'x': assert_true(x.x == v.i64); break;
                case 't': assert_true(x.t == v.u64); break;
                case 'd': assert_memory_equal(&x.d, &v.dbl, sizeof x.d); break;
                case 's': case 'o': case 'g': assert_string_equal(x.s, v.str); break;
                default:
                        fail_msg("type %c", t);
                }
        }
}

static void compare(DBusMessage *d, struct sbus_msg *m) {
        DBusMessageIter it;
        compare_header(d, m);
        sbus_rewind(m);
        if (!dbus_message_iter_init(d, &it))
                assert_int_equal(sbus_peek(m, NULL, NULL), 0);
        else
                compare_iter(&it, m);
        sbus_rewind(m);
}

/* ---- the same values, built by each ---- */

static const uint8_t some_bytes[] = { 0, 1, 0xff, 0x80, 7 };

/* Every basic type, ay, dicts, structs, variants nested, empty arrays. */
static void fill_ours(struct sbus_msg *m) {
        assert_int_equal(sbus_append(m, "ybnqiuxtdsog", 255, 1, -32768, 65535, INT32_MIN, UINT32_MAX, INT64_MIN,
                                     UINT64_MAX, -1.5e300, "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", "/a/b_c",
                                     "a{sv}(ii)"), 0);
        assert_int_equal(sbus_append(m, "ayay", some_bytes, sizeof some_bytes, NULL, (size_t)0), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "a", "b"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "c", ""), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);

        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "s"), 0);
        assert_int_equal(sbus_open(m, 'v', "s"), 0);
        assert_int_equal(sbus_append(m, "s", "str"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "ay"), 0);
        assert_int_equal(sbus_open(m, 'v', "ay"), 0);
        assert_int_equal(sbus_append(m, "ay", some_bytes, (size_t)2), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "dict"), 0);
        assert_int_equal(sbus_open(m, 'v', "a{ss}"), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "k", "v"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "vv"), 0);
        assert_int_equal(sbus_open(m, 'v', "v"), 0);
        assert_int_equal(sbus_open(m, 'v', "(it)"), 0);
        assert_int_equal(sbus_open(m, '(', "it"), 0);
        assert_int_equal(sbus_append(m, "it", 3, (uint64_t)4), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "empty"), 0);
        assert_int_equal(sbus_open(m, 'v', "as"), 0);
        assert_int_equal(sbus_open(m, 'a', "s"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);

        assert_int_equal(sbus_open(m, '(', "ssa{ss}"), 0);
        assert_int_equal(sbus_append(m, "ss", "a", "b"), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "x", "y"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);

        assert_int_equal(sbus_open(m, 'a', "s"), 0);          /* empty arrays: as, a(ii) (still padded to 8) */
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "(ii)"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "ai"), 0);         /* aai [[1,2],[],[3]] */
        assert_int_equal(sbus_open(m, 'a', "i"), 0);
        assert_int_equal(sbus_append(m, "ii", 1, 2), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "i"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "i"), 0);
        assert_int_equal(sbus_append(m, "i", 3), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "(yt)"), 0);       /* struct elements padded to 8 */
        for (int i = 0; i < 2; i++) {
                assert_int_equal(sbus_open(m, '(', "yt"), 0);
                assert_int_equal(sbus_append(m, "yt", 1 + 2 * i, (uint64_t)(2 + 2 * i)), 0);
                assert_int_equal(sbus_close(m), 0);
        }
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "{ua{sv}}"), 0);
        assert_int_equal(sbus_open(m, '{', "ua{sv}"), 0);
        assert_int_equal(sbus_append(m, "u", 1), 0);
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "d"), 0);
        assert_int_equal(sbus_open(m, 'v', "d"), 0);
        assert_int_equal(sbus_append(m, "d", 0.5), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "b"), 0);
        assert_int_equal(sbus_append(m, "bb", 7, 0), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "x"), 0);
        assert_int_equal(sbus_append(m, "x", (int64_t)-1), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_append(m, "bgsnq", 0, "", "", 1, 2), 0);
        assert_string_equal(sbus_msg_signature(m),
                            "ybnqiuxtdsogayaya{ss}a{sv}(ssa{ss})asa(ii)aaia(yt)a{ua{sv}}abaxbgsnq");
}

static void d_basic(DBusMessageIter *it, int type, const void *v) {
        assert_true(dbus_message_iter_append_basic(it, type, v));
}
static void d_str(DBusMessageIter *it, int type, const char *s) { d_basic(it, type, &s); }
static void d_open(DBusMessageIter *it, int type, const char *contents, DBusMessageIter *sub) {
        assert_true(dbus_message_iter_open_container(it, type, contents, sub));
}
static void d_close(DBusMessageIter *it, DBusMessageIter *sub) {
        assert_true(dbus_message_iter_close_container(it, sub));
}
static void d_bytes(DBusMessageIter *it, const uint8_t *p, int n) {
        DBusMessageIter a;
        d_open(it, DBUS_TYPE_ARRAY, "y", &a);
        assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &p, n));
        d_close(it, &a);
}
static void d_entry_ss(DBusMessageIter *a, const char *k, const char *v) {
        DBusMessageIter e;
        d_open(a, DBUS_TYPE_DICT_ENTRY, NULL, &e);
        d_str(&e, DBUS_TYPE_STRING, k);
        d_str(&e, DBUS_TYPE_STRING, v);
        d_close(a, &e);
}

/* fill_ours's values, by libdbus. */
static void fill_libdbus(DBusMessage *d) {
        DBusMessageIter it, a, e, v, v2, s, b;
        uint8_t y = 255;
        dbus_bool_t t = TRUE, f = FALSE;
        int16_t n = -32768;
        uint16_t q = 65535;
        int32_t i = INT32_MIN;
        uint32_t u = UINT32_MAX;
        int64_t x = INT64_MIN;
        uint64_t tt = UINT64_MAX;
        double dd = -1.5e300;
        dbus_message_iter_init_append(d, &it);
        d_basic(&it, 'y', &y);
        d_basic(&it, 'b', &t);
        d_basic(&it, 'n', &n);
        d_basic(&it, 'q', &q);
        d_basic(&it, 'i', &i);
        d_basic(&it, 'u', &u);
        d_basic(&it, 'x', &x);
        d_basic(&it, 't', &tt);
        d_basic(&it, 'd', &dd);
        d_str(&it, 's', "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
        d_str(&it, 'o', "/a/b_c");
        d_str(&it, 'g', "a{sv}(ii)");
        d_bytes(&it, some_bytes, sizeof some_bytes);
        d_bytes(&it, NULL, 0);
        d_open(&it, 'a', "{ss}", &a);
        d_entry_ss(&a, "a", "b");
        d_entry_ss(&a, "c", "");
        d_close(&it, &a);

        d_open(&it, 'a', "{sv}", &a);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "s");
        d_open(&e, 'v', "s", &v);
        d_str(&v, 's', "str");
        d_close(&e, &v);
        d_close(&a, &e);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "ay");
        d_open(&e, 'v', "ay", &v);
        d_bytes(&v, some_bytes, 2);
        d_close(&e, &v);
        d_close(&a, &e);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "dict");
        d_open(&e, 'v', "a{ss}", &v);
        d_open(&v, 'a', "{ss}", &b);
        d_entry_ss(&b, "k", "v");
        d_close(&v, &b);
        d_close(&e, &v);
        d_close(&a, &e);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "vv");
        d_open(&e, 'v', "v", &v);
        d_open(&v, 'v', "(it)", &v2);
        d_open(&v2, 'r', NULL, &s);
        int32_t three = 3;
        uint64_t four = 4;
        d_basic(&s, 'i', &three);
        d_basic(&s, 't', &four);
        d_close(&v2, &s);
        d_close(&v, &v2);
        d_close(&e, &v);
        d_close(&a, &e);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "empty");
        d_open(&e, 'v', "as", &v);
        d_open(&v, 'a', "s", &b);
        d_close(&v, &b);
        d_close(&e, &v);
        d_close(&a, &e);
        d_close(&it, &a);

        d_open(&it, 'r', NULL, &s);
        d_str(&s, 's', "a");
        d_str(&s, 's', "b");
        d_open(&s, 'a', "{ss}", &a);
        d_entry_ss(&a, "x", "y");
        d_close(&s, &a);
        d_close(&it, &s);

        d_open(&it, 'a', "s", &a);
        d_close(&it, &a);
        d_open(&it, 'a', "(ii)", &a);
        d_close(&it, &a);
        d_open(&it, 'a', "ai", &a);
        int32_t ints[] = { 1, 2, 3 };
        d_open(&a, 'a', "i", &b);
        d_basic(&b, 'i', &ints[0]);
        d_basic(&b, 'i', &ints[1]);
        d_close(&a, &b);
        d_open(&a, 'a', "i", &b);
        d_close(&a, &b);
        d_open(&a, 'a', "i", &b);
        d_basic(&b, 'i', &ints[2]);
        d_close(&a, &b);
        d_close(&it, &a);
        d_open(&it, 'a', "(yt)", &a);
        for (int k = 0; k < 2; k++) {
                uint8_t yy = (uint8_t)(1 + 2 * k);
                uint64_t t2 = (uint64_t)(2 + 2 * k);
                d_open(&a, 'r', NULL, &s);
                d_basic(&s, 'y', &yy);
                d_basic(&s, 't', &t2);
                d_close(&a, &s);
        }
        d_close(&it, &a);
        d_open(&it, 'a', "{ua{sv}}", &a);
        d_open(&a, 'e', NULL, &e);
        uint32_t one = 1;
        double half = 0.5;
        d_basic(&e, 'u', &one);
        d_open(&e, 'a', "{sv}", &b);
        DBusMessageIter e2;
        d_open(&b, 'e', NULL, &e2);
        d_str(&e2, 's', "d");
        d_open(&e2, 'v', "d", &v);
        d_basic(&v, 'd', &half);
        d_close(&e2, &v);
        d_close(&b, &e2);
        d_close(&e, &b);
        d_close(&a, &e);
        d_close(&it, &a);
        d_open(&it, 'a', "b", &a);
        d_basic(&a, 'b', &t);
        d_basic(&a, 'b', &f);
        d_close(&it, &a);
        d_open(&it, 'a', "x", &a);
        int64_t m1 = -1;
        d_basic(&a, 'x', &m1);
        d_close(&it, &a);
        int16_t n1 = 1;
        uint16_t q2 = 2;
        d_basic(&it, 'b', &f);
        d_str(&it, 'g', "");
        d_str(&it, 's', "");
        d_basic(&it, 'n', &n1);
        d_basic(&it, 'q', &q2);
}

/* polkit's CheckAuthorization arguments, (sa{sv})sa{ss}us. */
static void polkit_ours(struct sbus_msg *m) {
        assert_int_equal(sbus_open(m, '(', "sa{sv}"), 0);
        assert_int_equal(sbus_append(m, "s", "unix-process"), 0);
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "pid"), 0);
        assert_int_equal(sbus_open(m, 'v', "u"), 0);
        assert_int_equal(sbus_append(m, "u", 1234), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "start-time"), 0);
        assert_int_equal(sbus_open(m, 'v', "t"), 0);
        assert_int_equal(sbus_append(m, "t", (uint64_t)987654321), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_append(m, "s", "jp.sekisho.usb.unlock"), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "polkit.message", "Unlock the USB port"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_append(m, "us", 1, ""), 0);
}

static void polkit_libdbus(DBusMessage *d) {
        DBusMessageIter it, s, a, e, v;
        uint32_t pid = 1234, flags = 1;
        uint64_t start = 987654321;
        dbus_message_iter_init_append(d, &it);
        d_open(&it, 'r', NULL, &s);
        d_str(&s, 's', "unix-process");
        d_open(&s, 'a', "{sv}", &a);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "pid");
        d_open(&e, 'v', "u", &v);
        d_basic(&v, 'u', &pid);
        d_close(&e, &v);
        d_close(&a, &e);
        d_open(&a, 'e', NULL, &e);
        d_str(&e, 's', "start-time");
        d_open(&e, 'v', "t", &v);
        d_basic(&v, 't', &start);
        d_close(&e, &v);
        d_close(&a, &e);
        d_close(&s, &a);
        d_close(&it, &s);
        d_str(&it, 's', "jp.sekisho.usb.unlock");
        d_open(&it, 'a', "{ss}", &a);
        d_entry_ss(&a, "polkit.message", "Unlock the USB port");
        d_close(&it, &a);
        d_basic(&it, 'u', &flags);
        d_str(&it, 's', "");
}

/* Our bytes and libdbus's for the same values: the same body. */
static void assert_same_body(const struct sbus_msg *m, DBusMessage *d) {
        const void *p;
        char *q;
        size_t n, bn, qbn;
        int qn;
        sbus_msg_bytes(m, &p, &n);
        if (!dbus_message_get_serial(d))
                dbus_message_set_serial(d, 99);
        assert_true(dbus_message_marshal(d, &q, &qn));
        const uint8_t *b = body_of(p, n, &bn), *qb = body_of(q, (size_t)qn, &qbn);
        assert_int_equal(bn, qbn);
        assert_memory_equal(b, qb, bn);
        dbus_free(q);
}

/* ---- (a) what we build, libdbus reads ---- */

static void test_ours_to_libdbus(void **state) {
        struct sbus_msg *m = sbus_call_new("org.example.Dest", "/org/example/Obj", "org.example.Iface", "Method");
        assert_non_null(m);
        sbus_msg_set_flags(m, SBUS_FLAG_NO_AUTO_START | SBUS_FLAG_INTERACTIVE);
        assert_int_equal(sbus_msg_set_sender(m, ":1.42"), 0);
        fill_ours(m);
        assert_int_equal(sbus_msg_serial(m), 0);
        assert_int_equal(sbus_msg_seal(m, 7), 0);
        assert_int_equal(sbus_msg_serial(m), 7);
        DBusMessage *d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        d = dbus_message_new_method_call("org.example.Dest", "/org/example/Obj", "org.example.Iface", "Method");
        fill_libdbus(d);
        assert_same_body(m, d);
        dbus_message_unref(d);

        /* Sent again: another serial, the same message. */
        assert_int_equal(sbus_msg_seal(m, 8), 0);
        d = to_libdbus(m);
        assert_int_equal(dbus_message_get_serial(d), 8);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        /* A call without destination or interface, no reply wanted. */
        m = sbus_call_new(NULL, "/", NULL, "Ping");
        sbus_msg_set_flags(m, SBUS_FLAG_NO_REPLY);
        assert_int_equal(sbus_msg_seal(m, 1), 0);
        d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        /* polkit's CheckAuthorization, byte for byte what libdbus makes. */
        m = sbus_call_new("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                          "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        polkit_ours(m);
        assert_string_equal(sbus_msg_signature(m), "(sa{sv})sa{ss}us");
        assert_int_equal(sbus_msg_seal(m, 3), 0);
        d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        d = dbus_message_new_method_call("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                         "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        polkit_libdbus(d);
        assert_same_body(m, d);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        /* Signals: NameAcquired, PropertiesChanged. */
        m = sbus_signal_new("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameAcquired");
        assert_int_equal(sbus_append(m, "s", ":1.5"), 0);
        assert_int_equal(sbus_msg_set_sender(m, "org.freedesktop.DBus"), 0);
        assert_int_equal(sbus_msg_seal(m, 2), 0);
        d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);
        m = sbus_signal_new("/jp/sekisho/Daemon", "org.freedesktop.DBus.Properties", "PropertiesChanged");
        assert_int_equal(sbus_append(m, "s", "jp.sekisho.Daemon"), 0);
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "Sections"), 0);
        assert_int_equal(sbus_open(m, 'v', "a(ssa{ss})"), 0);
        assert_int_equal(sbus_open(m, 'a', "(ssa{ss})"), 0);
        assert_int_equal(sbus_open(m, '(', "ssa{ss}"), 0);
        assert_int_equal(sbus_append(m, "ss", "usb", "enforcing"), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "s"), 0);
        assert_int_equal(sbus_append(m, "s", "Posture"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_msg_seal(m, 4), 0);
        d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);
}

static void test_replies_to_libdbus(void **state) {
        DBusMessage *dc = dbus_message_new_method_call("jp.sekisho1", "/jp/sekisho", "jp.sekisho.Daemon", "Apply");
        dbus_message_set_serial(dc, 5);
        assert_true(dbus_message_set_sender(dc, ":1.9"));
        struct sbus_msg *call = from_libdbus(dc);
        dbus_message_unref(dc);
        assert_true(sbus_msg_is(call, SBUS_CALL, "jp.sekisho.Daemon", "Apply"));
        assert_true(sbus_msg_is(call, SBUS_CALL, NULL, NULL));
        assert_false(sbus_msg_is(call, SBUS_CALL, "jp.sekisho.Daemon", "Other"));
        assert_false(sbus_msg_is(call, SBUS_SIGNAL, NULL, "Apply"));

        /* A return: polkit's reply shape, (bba{ss}). */
        struct sbus_msg *m = sbus_return_new(call);
        assert_str_same(sbus_msg_destination(m), ":1.9");
        assert_int_equal(sbus_msg_reply_serial(m), 5);
        assert_int_equal(sbus_open(m, '(', "bba{ss}"), 0);
        assert_int_equal(sbus_append(m, "bb", 1, 0), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), 0);
        assert_int_equal(sbus_append(m, "ss", "polkit.dismissed", "true"), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_msg_seal(m, 6), 0);
        DBusMessage *d = to_libdbus(m);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        /* Errors: the text's bad bytes become '?'; a bad name becomes Failed. */
        m = sbus_error_new(call, "org.example.Error.Denied", "no \xff way \xc0\x80!");
        assert_int_equal(sbus_msg_seal(m, 7), 0);
        d = to_libdbus(m);
        compare(d, m);
        const char *text = NULL;
        assert_true(dbus_message_get_args(d, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
        assert_string_equal(text, "no ? way ?" "?!");
        assert_string_equal(dbus_message_get_error_name(d), "org.example.Error.Denied");
        dbus_message_unref(d);
        sbus_msg_unref(m);
        m = sbus_error_new(call, "not a name", NULL);
        assert_int_equal(sbus_msg_seal(m, 8), 0);
        d = to_libdbus(m);
        compare(d, m);
        assert_string_equal(dbus_message_get_error_name(d), "org.freedesktop.DBus.Error.Failed");
        assert_string_equal(dbus_message_get_signature(d), "");
        dbus_message_unref(d);
        sbus_msg_unref(m);
        sbus_msg_unref(call);
}

/* ---- (b) what libdbus builds, we read ---- */

static void test_libdbus_to_ours(void **state) {
        DBusMessage *d = dbus_message_new_method_call("org.example.Dest", "/org/example/Obj", "org.example.Iface", "M");
        fill_libdbus(d);
        dbus_message_set_no_reply(d, TRUE);
        dbus_message_set_auto_start(d, FALSE);
        dbus_message_set_allow_interactive_authorization(d, TRUE);
        assert_true(dbus_message_set_sender(d, ":1.3"));
        struct sbus_msg *m = from_libdbus(d);
        compare(d, m);
        assert_int_equal(sbus_msg_flags(m), SBUS_FLAG_NO_REPLY | SBUS_FLAG_NO_AUTO_START | SBUS_FLAG_INTERACTIVE);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        /* The daemon's own messages: ApplyPolicy (ayay), a GetConnectionUnixUser reply, a unicast signal. */
        d = dbus_message_new_method_call("jp.sekisho1", "/jp/sekisho", "jp.sekisho.Daemon", "ApplyPolicy");
        DBusMessageIter it;
        dbus_message_iter_init_append(d, &it);
        d_bytes(&it, (const uint8_t *)"policy: {}\n", 11);
        d_bytes(&it, some_bytes, sizeof some_bytes);
        m = from_libdbus(d);
        compare(d, m);
        const void *p, *p2;
        size_t pn, sn;
        assert_int_equal(sbus_read(m, "ayay", &p, &pn, &p2, &sn), 0);
        assert_int_equal(pn, 11);
        assert_memory_equal(p, "policy: {}\n", 11);
        assert_int_equal(sn, sizeof some_bytes);
        dbus_message_unref(d);
        sbus_msg_unref(m);

        DBusMessage *dc = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                       "org.freedesktop.DBus", "GetConnectionUnixUser");
        dbus_message_set_serial(dc, 11);
        assert_true(dbus_message_set_sender(dc, ":1.2"));
        d = dbus_message_new_method_return(dc);
        uint32_t uid = 1000;
        assert_true(dbus_message_append_args(d, DBUS_TYPE_UINT32, &uid, DBUS_TYPE_INVALID));
        assert_true(dbus_message_set_sender(d, "org.freedesktop.DBus"));
        m = from_libdbus(d);
        compare(d, m);
        assert_int_equal(sbus_msg_reply_serial(m), 11);
        dbus_message_unref(d);
        sbus_msg_unref(m);
        d = dbus_message_new_error(dc, "org.freedesktop.DBus.Error.NameHasNoOwner", "Could not get UID");
        m = from_libdbus(d);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);
        dbus_message_unref(dc);

        d = dbus_message_new_signal("/jp/sekisho", "jp.sekisho.Daemon", "Changed");
        assert_true(dbus_message_set_destination(d, ":1.77"));
        m = from_libdbus(d);
        compare(d, m);
        dbus_message_unref(d);
        sbus_msg_unref(m);
}

/* A signal laid out big-endian by hand: ynqiuxtdbsogaya{sv}(yd). */
static const uint8_t big_endian[] = {
        0x42, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0x01, 0x02, 0x03, 0x04,
        0x00, 0x00, 0x00, 0x9d, 0x01, 0x01, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x10,
        0x2f, 0x6f, 0x72, 0x67, 0x2f, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
        0x2f, 0x4f, 0x62, 0x6a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x01, 0x73, 0x00, 0x00, 0x00, 0x00, 0x11, 0x6f, 0x72, 0x67, 0x2e,
        0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x49, 0x66, 0x61, 0x63,
        0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x73, 0x00,
        0x00, 0x00, 0x00, 0x07, 0x43, 0x68, 0x61, 0x6e, 0x67, 0x65, 0x64, 0x00,
        0x06, 0x01, 0x73, 0x00, 0x00, 0x00, 0x00, 0x10, 0x6f, 0x72, 0x67, 0x2e,
        0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x44, 0x65, 0x73, 0x74,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x01, 0x73, 0x00,
        0x00, 0x00, 0x00, 0x04, 0x3a, 0x31, 0x2e, 0x37, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x01, 0x67, 0x00, 0x17, 0x79, 0x6e, 0x71, 0x69, 0x75, 0x78, 0x74,
        0x64, 0x62, 0x73, 0x6f, 0x67, 0x61, 0x79, 0x61, 0x7b, 0x73, 0x76, 0x7d,
        0x28, 0x79, 0x64, 0x29, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x00, 0xff, 0xfe,
        0xbe, 0xef, 0x00, 0x00, 0xff, 0xfe, 0x79, 0x60, 0xde, 0xad, 0xbe, 0xef,
        0xff, 0xff, 0xff, 0xfe, 0xd5, 0xfa, 0x0e, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x05, 0x06, 0x07, 0x08, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x62, 0x69, 0x67, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x2f, 0x78, 0x00, 0x02, 0x61, 0x69, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x6e, 0x00, 0x01, 0x6e,
        0x00, 0x00, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x73, 0x00, 0x01, 0x73, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x61, 0x00, 0x02, 0x61, 0x69, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x09, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xbf, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_big_endian(void **state) {
        struct sbus_msg *m;
        assert_int_equal(sbus_msg_size(big_endian, 16), sizeof big_endian);
        assert_int_equal(sbus_msg_parse(big_endian, sizeof big_endian, &m), 0);
        assert_int_equal(sbus_msg_type(m), SBUS_SIGNAL);
        assert_int_equal(sbus_msg_serial(m), 0x01020304);
        assert_string_equal(sbus_msg_path(m), "/org/example/Obj");
        assert_string_equal(sbus_msg_interface(m), "org.example.Iface");
        assert_string_equal(sbus_msg_member(m), "Changed");
        assert_string_equal(sbus_msg_destination(m), "org.example.Dest");
        assert_string_equal(sbus_msg_sender(m), ":1.7");
        assert_string_equal(sbus_msg_signature(m), "ynqiuxtdbsogaya{sv}(yd)");
        uint8_t y;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        double d;
        bool b;
        const char *s, *o, *g;
        const void *ay;
        size_t ayn;
        assert_int_equal(sbus_read(m, "ynqiuxtdbsogay", &y, &n, &q, &i, &u, &x, &t, &d, &b, &s, &o, &g, &ay, &ayn), 0);
        assert_int_equal(y, 0xfe);
        assert_int_equal(n, -2);
        assert_int_equal(q, 0xbeef);
        assert_int_equal(i, -100000);
        assert_int_equal(u, 0xdeadbeef);
        assert_true(x == -5000000000);
        assert_true(t == 0x0102030405060708u);
        assert_true(d == 2.5);
        assert_true(b);
        assert_string_equal(s, "big");
        assert_string_equal(o, "/x");
        assert_string_equal(g, "ai");
        assert_int_equal(ayn, 3);
        assert_memory_equal(ay, "\1\2\3", 3);
        assert_int_equal(sbus_enter(m, 'a', "{sv}"), 1);
        assert_int_equal(sbus_enter(m, '{', "sv"), 1);
        assert_int_equal(sbus_read(m, "s", &s), 0);
        assert_string_equal(s, "n");
        assert_int_equal(sbus_enter(m, 'v', "n"), 1);
        assert_int_equal(sbus_read(m, "n", &n), 0);
        assert_int_equal(n, -3);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_skip(m), 1);     /* "s": <"x"> */
        assert_int_equal(sbus_enter(m, '{', "sv"), 1);
        assert_int_equal(sbus_skip(m), 1);
        assert_int_equal(sbus_enter(m, 'v', "ai"), 1);
        assert_int_equal(sbus_enter(m, 'a', "i"), 1);
        int32_t i2;
        assert_int_equal(sbus_read(m, "ii", &i, &i2), 0);
        assert_int_equal(i, 7);
        assert_int_equal(i2, 8);
        assert_int_equal(sbus_read(m, "i", &i), -ENXIO);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_enter(m, '{', "sv"), 0);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_enter(m, '(', "yd"), 1);
        assert_int_equal(sbus_read(m, "yd", &y, &d), 0);
        assert_int_equal(y, 9);
        assert_true(d == -0.25);
        assert_int_equal(sbus_exit(m), 0);
        assert_int_equal(sbus_peek(m, NULL, NULL), 0);

        /* libdbus reads it the same. */
        DBusError e;
        dbus_error_init(&e);
        DBusMessage *dm = dbus_message_demarshal((const char *)big_endian, sizeof big_endian, &e);
        assert_non_null(dm);
        compare(dm, m);
        dbus_message_unref(dm);
        sbus_msg_unref(m);

        /* Refused the same ways as little-endian: a bool 2, a length beyond the body. */
        uint8_t bad[sizeof big_endian];
        memcpy(bad, big_endian, sizeof bad);
        bad[sizeof bad - 0xa0 + 0x28 + 3] = 2;
        assert_int_equal(sbus_msg_parse(bad, sizeof bad, &m), -EBADMSG);
        memcpy(bad, big_endian, sizeof bad);
        bad[sizeof bad - 0xa0 + 0x42] = 1;     /* ay's length 0x00000003 to 0x00000103 */
        assert_int_equal(sbus_msg_parse(bad, sizeof bad, &m), -EBADMSG);
}

/* ---- (c) what parsing refuses ---- */

/* A message written byte by byte, little-endian. */
struct raw {
        uint8_t b[4096];
        size_t n;
};

static void raw_pad(struct raw *r, size_t a) {
        while (r->n % a)
                r->b[r->n++] = 0;
}

static void raw_u32(struct raw *r, uint32_t v) {
        raw_pad(r, 4);
        for (int i = 0; i < 4; i++)
                r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

static void raw_str(struct raw *r, char type, const char *s) {
        size_t n = strlen(s);
        if (type == 'g')
                r->b[r->n++] = (uint8_t)n;
        else
                raw_u32(r, (uint32_t)n);
        memcpy(r->b + r->n, s, n + 1);
        r->n += n + 1;
}

static void raw_begin(struct raw *r, enum sbus_type type, uint32_t serial) {
        memset(r, 0, sizeof *r);
        r->b[0] = 'l';
        r->b[1] = (uint8_t)type;
        r->b[3] = 1;
        r->n = 8;
        raw_u32(r, serial);
        raw_u32(r, 0);
}

static void raw_field(struct raw *r, uint8_t code, char type, const char *s, uint32_t u) {
        raw_pad(r, 8);
        r->b[r->n++] = code;
        raw_str(r, 'g', (char[]){ type, 0 });
        if (type == 'u')
                raw_u32(r, u);
        else
                raw_str(r, type, s);
}

static void raw_end(struct raw *r, const void *body, size_t n) {
        uint32_t fields = (uint32_t)(r->n - 16), bn = (uint32_t)n;
        memcpy(r->b + 12, &fields, 4);
        memcpy(r->b + 4, &bn, 4);
        raw_pad(r, 8);
        if (n)
                memcpy(r->b + r->n, body, n);
        r->n += n;
}

static int raw_parse(const struct raw *r) {
        struct sbus_msg *m = NULL;
        int k = sbus_msg_parse(r->b, r->n, &m);
        sbus_msg_unref(m);
        return k;
}

/* A signal /, a.b, c with body sig and bytes. */
static int parse_signal(const char *sig, const void *body, size_t n) {
        struct raw r;
        raw_begin(&r, SBUS_SIGNAL, 1);
        raw_field(&r, 1, 'o', "/", 0);
        raw_field(&r, 2, 's', "a.b", 0);
        raw_field(&r, 3, 's', "c", 0);
        if (sig[0])
                raw_field(&r, 8, 'g', sig, 0);
        raw_end(&r, body, n);
        return raw_parse(&r);
}

/* A sealed message's bytes, to spoil; *ret_body: where its body starts. */
static uint8_t *sealed_copy(struct sbus_msg *m, size_t *ret_n, size_t *ret_body) {
        const void *p;
        size_t n, bn;
        assert_int_equal(sbus_msg_seal(m, 1), 0);
        sbus_msg_bytes(m, &p, &n);
        uint8_t *c = malloc(n + 16);
        memcpy(c, p, n);
        memset(c + n, 0, 16);
        *ret_n = n;
        *ret_body = (size_t)(body_of(p, n, &bn) - (const uint8_t *)p);
        sbus_msg_unref(m);
        return c;
}

static int parse_bytes(const void *p, size_t n) {
        struct sbus_msg *m = NULL;
        int r = sbus_msg_parse(p, n, &m);
        sbus_msg_unref(m);
        return r;
}

/* Build a signal of one value, spoil byte at (offset into the body) with v: refused. */
static void spoil(const char *types, const void *a1, const void *a2, size_t at, uint8_t v) {
        struct sbus_msg *m = sbus_signal_new("/", "a.b", "c");
        size_t n, body;
        if (types[0] == 'a')
                assert_int_equal(sbus_append(m, types, a1, (size_t)(uintptr_t)a2), 0);
        else if (strchr("sog", types[0]))
                assert_int_equal(sbus_append(m, types, a1), 0);
        else
                assert_int_equal(sbus_append(m, types, (int)(intptr_t)a1, (int)(intptr_t)a2), 0);
        uint8_t *b = sealed_copy(m, &n, &body);
        assert_int_equal(parse_bytes(b, n), 0);
        b[body + at] = v;
        assert_int_equal(parse_bytes(b, n), -EBADMSG);
        free(b);
}

static void test_refused_values(void **state) {
        spoil("yu", (void *)1, (void *)2, 1, 1);                /* padding not zero */
        spoil("b", (void *)1, NULL, 0, 2);                      /* bool 2 */
        spoil("s", "abc", NULL, 4, 0xff);                       /* not UTF-8 */
        spoil("s", "abc", NULL, 4, 0xc0);                       /* overlong: c0 62 */
        spoil("s", "abc", NULL, 7, 'x');                        /* no NUL at the end */
        spoil("s", "abc", NULL, 5, 0);                          /* a NUL inside */
        spoil("o", "/ab", NULL, 6, '/');                        /* path "/a/" */
        spoil("o", "/ab", NULL, 4, 'a');                        /* path "aab" */
        spoil("g", "ai", NULL, 2, '(');                         /* signature "a(" */
        spoil("g", "ai", NULL, 2, 'z');                         /* an unknown type */
        spoil("ay", "xyz", (void *)3, 0, 9);                    /* array longer than the body */
        spoil("ay", "xyz", (void *)3, 3, 1);                    /* 16 MiB array */
        spoil("s", "abc", NULL, 0, 4);                          /* string beyond the body */
        /* surrogates, beyond U+10FFFF: */
        assert_int_equal(parse_signal("s", "\3\0\0\0\xed\xa0\x80", 8), -EBADMSG);
        assert_int_equal(parse_signal("s", "\4\0\0\0\xf4\x90\x80\x80", 9), -EBADMSG);
        assert_int_equal(parse_signal("s", "\4\0\0\0\xf0\x9f\x98\x80", 9), 0);
        /* ai of 6 bytes; at with padding not zero before the first element. */
        assert_int_equal(parse_signal("ai", "\6\0\0\0\1\0\0\0\2\0", 10), -EBADMSG);
        assert_int_equal(parse_signal("at", "\x08\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0", 16), 0);
        assert_int_equal(parse_signal("at", "\x08\0\0\0\1\0\0\0\1\0\0\0\0\0\0\0", 16), -EBADMSG);
        /* ab with a 2 in it; a(yy) whose length covers the padding after the last element. */
        assert_int_equal(parse_signal("ab", "\x08\0\0\0\1\0\0\0\2\0\0\0", 12), -EBADMSG);
        assert_int_equal(parse_signal("a(yy)", "\2\0\0\0\0\0\0\0\1\2", 10), 0);
        assert_int_equal(parse_signal("a(yy)", "\3\0\0\0\0\0\0\0\1\2\0", 11), -EBADMSG);
        /* A variant of two types, of none, of an unknown one; a unix fd. */
        assert_int_equal(parse_signal("v", "\2ii\0\1\0\0\0\2\0\0\0", 12), -EBADMSG);
        assert_int_equal(parse_signal("v", "\0\0", 2), -EBADMSG);
        assert_int_equal(parse_signal("v", "\1z\0\0", 4), -EBADMSG);
        assert_int_equal(parse_signal("v", "\1i\0\0\1\0\0\0", 8), 0);
        assert_int_equal(parse_signal("h", "\0\0\0\0", 4), -EBADMSG);
        assert_int_equal(parse_signal("ah", "\0\0\0\0", 4), 0);
        /* Bad signatures in the header: unknown type, an incomplete one, a dict outside an array. */
        assert_int_equal(parse_signal("z", "\0", 1), -EBADMSG);
        assert_int_equal(parse_signal("a", "\0\0\0\0", 4), -EBADMSG);
        assert_int_equal(parse_signal("{yy}", "\0\0", 2), -EBADMSG);
        assert_int_equal(parse_signal("()", "", 0), -EBADMSG);
        /* The body longer or shorter than its values. */
        assert_int_equal(parse_signal("y", "\1\0", 2), -EBADMSG);
        assert_int_equal(parse_signal("u", "\1\0", 2), -EBADMSG);
        assert_int_equal(parse_signal("", "\0", 1), -EBADMSG);
        assert_int_equal(parse_signal("", "", 0), 0);

        /* Nesting: 64 containers (variants) hold a value, 65 not; libdbus agrees. */
        for (int depth = 63; depth <= 65; depth++) {
                struct raw r;
                uint8_t body[256];
                size_t n = 0;
                for (int k = 1; k < depth; k++) {
                        memcpy(body + n, "\1v", 3);
                        n += 3;
                }
                memcpy(body + n, "\1y\0\5", 4);
                n += 4;
                raw_begin(&r, SBUS_SIGNAL, 1);
                raw_field(&r, 1, 'o', "/", 0);
                raw_field(&r, 2, 's', "a.b", 0);
                raw_field(&r, 3, 's', "c", 0);
                raw_field(&r, 8, 'g', "v", 0);
                raw_end(&r, body, n);
                assert_int_equal(raw_parse(&r), depth <= 64 ? 0 : -EBADMSG);
                DBusError e;
                dbus_error_init(&e);
                DBusMessage *d = dbus_message_demarshal((const char *)r.b, (int)r.n, &e);
                assert_int_equal(d != NULL, depth <= 64);
                if (d)
                        dbus_message_unref(d);
                dbus_error_free(&e);
        }
        /* Signatures nest 32 arrays and 32 structs. */
        char sig[80];
        memset(sig, 'a', 33);
        strcpy(sig + 32, "y");
        assert_true(sbus_signature_valid(sig, true));
        memset(sig, 'a', 33);
        strcpy(sig + 33, "y");
        assert_false(sbus_signature_valid(sig, true));
        assert_int_equal(parse_signal(sig, "\0\0\0\0", 4), -EBADMSG);
        memset(sig, '(', 33);
        sig[33] = 'y';
        memset(sig + 34, ')', 33);
        sig[67] = '\0';
        assert_false(sbus_signature_valid(sig, true));
        assert_true(sbus_signature_valid(sig + 1, false) == false);
        sig[66] = '\0';
        assert_true(sbus_signature_valid(sig + 1, true));
}

static void test_refused_headers(void **state) {
        struct raw r;
        const uint8_t y = 5;

        /* What each type requires. */
        static const struct {
                enum sbus_type type;
                const char *fields;     /* field codes written: p i m e r */
                int want;
        } cases[] = {
                { SBUS_CALL, "pm", 0 },    { SBUS_CALL, "p", -EBADMSG },  { SBUS_CALL, "m", -EBADMSG },
                { SBUS_SIGNAL, "pim", 0 }, { SBUS_SIGNAL, "pm", -EBADMSG }, { SBUS_SIGNAL, "im", -EBADMSG },
                { SBUS_SIGNAL, "pi", -EBADMSG },
                { SBUS_ERROR, "er", 0 },   { SBUS_ERROR, "e", -EBADMSG }, { SBUS_ERROR, "r", -EBADMSG },
                { SBUS_RETURN, "r", 0 },   { SBUS_RETURN, "", -EBADMSG },
        };
        for (size_t k = 0; k < N_ELEMENTS(cases); k++) {
                raw_begin(&r, cases[k].type, 9);
                for (const char *f = cases[k].fields; *f; f++)
                        switch (*f) {
                        case 'p': raw_field(&r, 1, 'o', "/a", 0); break;
                        case 'i': raw_field(&r, 2, 's', "a.b", 0); break;
                        case 'm': raw_field(&r, 3, 's', "M", 0); break;
                        case 'e': raw_field(&r, 4, 's', "a.Error", 0); break;
                        case 'r': raw_field(&r, 5, 'u', NULL, 3); break;
                        }
                raw_end(&r, NULL, 0);
                assert_int_equal(raw_parse(&r), cases[k].want);
        }

        /* Fields of the wrong type, twice, invalid, unknown (skipped), code 0, unix fds. */
        static const struct {
                uint8_t code;
                char type;
                const char *s;
                uint32_t u;
                int want;
        } extra[] = {
                { 1, 's', "/a", 0, -EBADMSG },  { 3, 's', "M", 0, -EBADMSG },    { 3, 's', "1x", 0, -EBADMSG },
                { 2, 's', "a", 0, -EBADMSG },   { 2, 's', "a..b", 0, -EBADMSG }, { 6, 's', "a", 0, -EBADMSG },
                { 7, 's', ":", 0, -EBADMSG },   { 7, 's', ":1.1", 0, 0 },        { 6, 'o', "/a", 0, -EBADMSG },
                { 5, 'u', NULL, 0, -EBADMSG },  { 5, 'u', NULL, 4, 0 },          { 9, 'u', NULL, 1, -EBADMSG },
                { 9, 'u', NULL, 0, 0 },         { 42, 's', "what", 0, 0 },       { 200, 'u', NULL, 1, 0 },
                { 0, 's', "what", 0, -EBADMSG }, { 8, 's', "y", 0, -EBADMSG },   { 9, 's', "1", 0, -EBADMSG },
                { 2, 's', "org.freedesktop.DBus.Local", 0, -EBADMSG },
        };
        for (size_t k = 0; k < N_ELEMENTS(extra); k++) {
                raw_begin(&r, SBUS_CALL, 9);
                raw_field(&r, 1, 'o', "/a", 0);
                raw_field(&r, 3, 's', "M", 0);
                raw_field(&r, extra[k].code, extra[k].type, extra[k].s, extra[k].u);
                raw_end(&r, NULL, 0);
                assert_int_equal(raw_parse(&r), extra[k].want);
        }
        raw_begin(&r, SBUS_CALL, 9);
        raw_field(&r, 1, 'o', "/org/freedesktop/DBus/Local", 0);
        raw_field(&r, 3, 's', "M", 0);
        raw_end(&r, NULL, 0);
        assert_int_equal(raw_parse(&r), -EBADMSG);

        /* Serial 0; padding after the fields not zero; the body length not the rest. */
        raw_begin(&r, SBUS_CALL, 0);
        raw_field(&r, 1, 'o', "/a", 0);
        raw_field(&r, 3, 's', "M", 0);
        raw_end(&r, NULL, 0);
        assert_int_equal(raw_parse(&r), -EBADMSG);
        raw_begin(&r, SBUS_CALL, 1);
        raw_field(&r, 1, 'o', "/a", 0);
        raw_field(&r, 3, 's', "M", 0);
        raw_field(&r, 8, 'g', "y", 0);
        size_t fields_end = r.n;
        raw_end(&r, &y, 1);
        assert_true(fields_end % 8 != 0);
        assert_int_equal(raw_parse(&r), 0);
        r.b[fields_end] = 1;
        assert_int_equal(raw_parse(&r), -EBADMSG);
        r.b[fields_end] = 0;
        r.b[4] = 2;
        assert_int_equal(raw_parse(&r), -EBADMSG);
        r.n++;
        assert_int_equal(raw_parse(&r), -EBADMSG);
        r.b[4] = 0;
        r.n--;
        assert_int_equal(raw_parse(&r), -EBADMSG);

        /* sbus_msg_size on what is not a message. */
        assert_int_equal(sbus_msg_size("GET / HTTP/1.1\r\n\r\n", 18), -EBADMSG);
        assert_int_equal(sbus_msg_size("l\1\0\1", 4), 0);
        uint8_t h[16] = { 'l', 1, 0, 1 };
        assert_int_equal(sbus_msg_size(h, 16), 16);
        h[3] = 2;
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        h[3] = 1;
        h[1] = 0;
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        h[1] = 5;
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        h[1] = 4;
        h[0] = 'L';
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        h[0] = 'B';
        h[7] = 8;                               /* big-endian: body length 8 */
        assert_int_equal(sbus_msg_size(h, 16), 24);
        h[7] = 0;
        h[0] = 'l';
        h[4] = 8;                               /* little-endian */
        assert_int_equal(sbus_msg_size(h, 16), 24);
        h[12] = 1;                              /* fields 1 byte, padded to 8 */
        assert_int_equal(sbus_msg_size(h, 16), 32);
        memset(h + 12, 0xff, 4);
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        memset(h + 4, 0, 12);
        h[7] = 2;                               /* a 32 MiB body: over the limit with the header */
        assert_int_equal(sbus_msg_size(h, 16), -EBADMSG);
        memcpy(h + 4, "\xf0\xff\xff\x01", 4);   /* 32 MiB in all */
        assert_int_equal(sbus_msg_size(h, 16), 32 * 1024 * 1024);
        memset(h + 4, 0, 4);
        assert_int_equal(parse_bytes(h, 16), -EBADMSG);
        assert_int_equal(parse_bytes(h, 0), -EBADMSG);

        /* Every truncation of a message with everything in it. */
        struct sbus_msg *m = sbus_call_new("org.example.Dest", "/org/example/Obj", "org.example.Iface", "Method");
        fill_ours(m);
        size_t n, body;
        uint8_t *b = sealed_copy(m, &n, &body);
        assert_int_equal(parse_bytes(b, n), 0);
        for (size_t k = 0; k < n; k++) {
                assert_int_equal(sbus_msg_size(b, k), k < 16 ? 0 : (ssize_t)n);
                assert_int_equal(parse_bytes(b, k), -EBADMSG);
        }
        assert_int_equal(parse_bytes(b, n + 8), -EBADMSG);
        free(b);
}

/* ---- names ---- */

static void test_names(void **state) {
        const char *paths[] = { "/", "/a", "/a/b_1/C" };
        const char *bad_paths[] = { "", "a", "//", "/a/", "/a//b", "/a-b", "/\xc3\xa9" };
        for (size_t k = 0; k < N_ELEMENTS(paths); k++)
                assert_true(sbus_path_valid(paths[k]));
        for (size_t k = 0; k < N_ELEMENTS(bad_paths); k++)
                assert_false(sbus_path_valid(bad_paths[k]));
        assert_false(sbus_path_valid(NULL));
        assert_true(sbus_interface_valid("a.b"));
        assert_true(sbus_interface_valid("org.freedesktop.DBus.Error.Failed"));
        assert_true(sbus_interface_valid("_a._1"));
        const char *bad_ifaces[] = { "a", "a.", ".a", "a..b", "a.1b", "a.b-c", "", ":1.2" };
        for (size_t k = 0; k < N_ELEMENTS(bad_ifaces); k++)
                assert_false(sbus_interface_valid(bad_ifaces[k]));
        char longname[300];
        memset(longname, 'a', sizeof longname);
        longname[1] = '.';
        longname[255] = '\0';
        assert_true(sbus_interface_valid(longname));
        assert_true(sbus_bus_name_valid(longname));
        longname[255] = 'a';
        longname[256] = '\0';
        assert_false(sbus_interface_valid(longname));
        assert_false(sbus_bus_name_valid(longname));
        assert_true(sbus_member_valid("Get_1"));
        assert_false(sbus_member_valid("1a"));
        assert_false(sbus_member_valid("a.b"));
        assert_false(sbus_member_valid(""));
        assert_true(sbus_bus_name_valid(":1.5"));
        assert_true(sbus_bus_name_valid(":1.5-x._y"));
        assert_true(sbus_bus_name_valid("org.freedesktop.PolicyKit1"));
        assert_true(sbus_bus_name_valid("a-b.c"));
        assert_false(sbus_bus_name_valid(":1"));
        assert_false(sbus_bus_name_valid("a.1b"));
        assert_false(sbus_bus_name_valid("a"));
        assert_false(sbus_bus_name_valid(":.1"));
        assert_false(sbus_bus_name_valid(NULL));
        const char *sigs[] = { "", "y", "a{sv}", "(ssa{ss})", "aa{s(ii)}", "va{yh}", "(sa{sv})sa{ss}us" };
        const char *bad_sigs[] = { "a", "{ss}", "a{vs}", "a{s}", "a{sss}", "()", "(", ")", "(i", "i)", "z", "a{ss",
                                   "aa", "(a{ss})}" };
        for (size_t k = 0; k < N_ELEMENTS(sigs); k++)
                assert_true(sbus_signature_valid(sigs[k], false));
        for (size_t k = 0; k < N_ELEMENTS(bad_sigs); k++)
                assert_false(sbus_signature_valid(bad_sigs[k], false));
        assert_true(sbus_signature_valid("a{sv}", true));
        assert_false(sbus_signature_valid("ss", true));
        assert_false(sbus_signature_valid("", true));
        assert_true(sbus_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x90\x80\x80\xef\xbf\xbf", 13));
        const char *bad_utf8[] = { "\x80", "\xc3", "\xc1\xbf", "\xe0\x80\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
                                   "\xf5", "\xf0\x80\x80\x80", "\xe2\x82" };
        for (size_t k = 0; k < N_ELEMENTS(bad_utf8); k++)
                assert_false(sbus_utf8_valid(bad_utf8[k], strlen(bad_utf8[k])));
        assert_false(sbus_utf8_valid("a\0b", 3));
        assert_null(sbus_call_new("bad", "/", NULL, "M"));
        assert_null(sbus_call_new(NULL, "bad", NULL, "M"));
        assert_null(sbus_call_new(NULL, "/", "bad", "M"));
        assert_null(sbus_call_new(NULL, "/", NULL, "a.M"));
        assert_null(sbus_signal_new("/", NULL, "M"));
        assert_null(sbus_msg_unref(NULL));
}

/* ---- (d) the builder's sticky errors ---- */

static void test_sticky(void **state) {
        struct sbus_msg *m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, 'a', "s"), 0);
        assert_int_equal(sbus_append(m, "i", 1), -EINVAL);     /* not what the array holds */
        assert_int_equal(sbus_msg_error(m), -EINVAL);
        assert_int_equal(sbus_append(m, "s", "x"), -EINVAL);   /* sticky */
        assert_int_equal(sbus_close(m), -EINVAL);
        assert_int_equal(sbus_open(m, 'a', "s"), -EINVAL);
        assert_int_equal(sbus_msg_seal(m, 1), -EINVAL);
        sbus_msg_unref(m);

        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, '(', "si"), 0);
        assert_int_equal(sbus_append(m, "s", "x"), 0);
        assert_int_equal(sbus_close(m), -EINVAL);              /* incomplete struct */
        assert_int_equal(sbus_append(m, "i", 1), -EINVAL);
        sbus_msg_unref(m);

        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, '(', "si"), 0);
        assert_int_equal(sbus_append(m, "sis", "x", 1, "y"), -EINVAL);    /* one too many */
        sbus_msg_unref(m);

        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, 'v', "u"), 0);
        assert_int_equal(sbus_close(m), -EINVAL);              /* an empty variant */
        sbus_msg_unref(m);

        /* Sealing with an open container is refused, the building not spoiled. */
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_msg_seal(m, 1), -EINVAL);
        assert_int_equal(sbus_msg_error(m), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_msg_seal(m, 1), 0);
        assert_int_equal(sbus_msg_seal(m, 0), -EINVAL);
        /* Sealed: no appending, and that is no sticky error. */
        assert_int_equal(sbus_append(m, "s", "x"), -EINVAL);
        assert_int_equal(sbus_open(m, 'a', "s"), -EINVAL);
        assert_int_equal(sbus_close(m), -EINVAL);
        assert_int_equal(sbus_msg_error(m), 0);
        assert_int_equal(sbus_msg_seal(m, 2), 0);
        sbus_msg_unref(m);

        /* UTF-8: sbus_append refuses, sbus_append_text mends. */
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "s", "a\xff" "b"), -EINVAL);
        assert_int_equal(sbus_append_text(m, "x"), -EINVAL);
        sbus_msg_unref(m);
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append_text(m, "a\xff" "b\xed\xa0\x80\xe2\x82"), 0);
        assert_int_equal(sbus_append_text(m, NULL), 0);
        assert_int_equal(sbus_msg_seal(m, 1), 0);
        const char *s1, *s2;
        assert_int_equal(sbus_read(m, "ss", &s1, &s2), 0);
        assert_string_equal(s1, "a?b?????");
        assert_string_equal(s2, "");
        sbus_msg_unref(m);

        /* Values the type does not allow, types that are not ours, containers wrong. */
        static const struct {
                char kind;
                const char *types;
                int v;
                const char *s;
        } bad[] = {
                { 'y', "y", 256, NULL }, { 'y', "y", -1, NULL }, { 'y', "n", 32768, NULL }, { 'y', "q", -1, NULL },
                { 'y', "q", 65536, NULL }, { 'y', "h", 0, NULL }, { 'y', "z", 0, NULL }, { 's', "s", 0, NULL },
                { 's', "o", 0, "a/b" }, { 's', "g", 0, "a{" }, { 'a', "ai", 0, NULL },
                { 'o', "{", 0, "ss" }, { 'o', "a", 0, "" }, { 'o', "a", 0, "ss" }, { 'o', "(", 0, "" },
                { 'o', "v", 0, "ii" }, { 'o', "v", 0, "" }, { 'o', "a", 0, "{vs}" }, { 'o', "x", 0, "s" },
                { 'o', "a", 0, NULL },
        };
        for (size_t k = 0; k < N_ELEMENTS(bad); k++) {
                m = sbus_signal_new("/", "a.b", "c");
                int r = bad[k].kind == 'y' ? sbus_append(m, bad[k].types, bad[k].v) :
                        bad[k].kind == 's' ? sbus_append(m, bad[k].types, bad[k].s) :
                        bad[k].kind == 'a' ? sbus_append(m, bad[k].types, "x", (size_t)1) :
                        sbus_open(m, bad[k].types[0], bad[k].s);
                assert_int_equal(r, -EINVAL);
                assert_int_equal(sbus_msg_error(m), -EINVAL);
                assert_int_equal(sbus_msg_seal(m, 1), -EINVAL);
                sbus_msg_unref(m);
        }
        /* In range: every y, n, q edge. */
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "yynnqq", 0, 255, -32768, 32767, 0, 65535u), 0);
        sbus_msg_unref(m);

        /* A dict entry only where an array of them expects it, with what it expects. */
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "ss"), -EINVAL);
        sbus_msg_unref(m);
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_open(m, 'a', "{sv}"), 0);
        assert_int_equal(sbus_open(m, '{', "sv"), 0);
        assert_int_equal(sbus_append(m, "s", "k"), 0);
        assert_int_equal(sbus_append(m, "s", "v"), -EINVAL);   /* a variant expected */
        sbus_msg_unref(m);

        /* 64 containers deep, not 65. */
        m = sbus_signal_new("/", "a.b", "c");
        for (int k = 0; k < 64; k++)
                assert_int_equal(sbus_open(m, 'v', "v"), 0);
        assert_int_equal(sbus_open(m, 'v', "v"), -EINVAL);
        sbus_msg_unref(m);
        m = sbus_signal_new("/", "a.b", "c");
        for (int k = 0; k < 63; k++)
                assert_int_equal(sbus_open(m, 'v', "v"), 0);
        assert_int_equal(sbus_open(m, 'v', "y"), 0);
        assert_int_equal(sbus_append(m, "y", 1), 0);
        for (int k = 0; k < 64; k++)
                assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_close(m), -EINVAL);              /* none open */
        sbus_msg_unref(m);

        /* The body's signature at most 255 characters. */
        m = sbus_signal_new("/", "a.b", "c");
        for (int k = 0; k < 255; k++)
                assert_int_equal(sbus_append(m, "y", 1), 0);
        assert_int_equal(sbus_append(m, "y", 1), -E2BIG);
        sbus_msg_unref(m);

        /* Reading before sealing is refused. */
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "y", 1), 0);
        uint8_t y;
        assert_int_equal(sbus_read(m, "y", &y), -EINVAL);
        assert_int_equal(sbus_peek(m, NULL, NULL), -EINVAL);
        assert_int_equal(sbus_skip(m), -EINVAL);
        sbus_msg_unref(m);
}

/* ---- (e) the reader ---- */

static void test_reader(void **state) {
        struct sbus_msg *m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "si", "one", 2), 0);
        assert_int_equal(sbus_open(m, 'a', "{ss}"), 0);
        for (int k = 0; k < 3; k++) {
                char key[2] = { (char)('a' + k), 0 };
                assert_int_equal(sbus_open(m, '{', "ss"), 0);
                assert_int_equal(sbus_append(m, "ss", key, "v"), 0);
                assert_int_equal(sbus_close(m), 0);
        }
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "(si)"), 0);
        for (int k = 0; k < 2; k++) {
                assert_int_equal(sbus_open(m, '(', "si"), 0);
                assert_int_equal(sbus_append(m, "si", "s", k), 0);
                assert_int_equal(sbus_close(m), 0);
        }
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_open(m, 'a', "ay"), 0);
        assert_int_equal(sbus_append(m, "ayay", "xy", (size_t)2, "", (size_t)0), 0);
        assert_int_equal(sbus_close(m), 0);
        assert_int_equal(sbus_append(m, "ay", "abc", (size_t)3), 0);
        assert_int_equal(sbus_msg_seal(m, 1), 0);

        /* Parsed or sealed, the same reading. */
        const void *p;
        size_t n;
        struct sbus_msg *both[2] = { m, NULL };
        sbus_msg_bytes(m, &p, &n);
        assert_int_equal(sbus_msg_parse(p, n, &both[1]), 0);
        for (int w = 0; w < 2; w++) {
                m = both[w];
                const char *s, *k;
                int32_t i;
                char t;
                const char *c;
                /* All or nothing. */
                assert_int_equal(sbus_read(m, "sis", &s, &i, &k), -EBADMSG);
                assert_int_equal(sbus_read(m, "ss", &s, &k), -EBADMSG);
                assert_int_equal(sbus_read(m, "s?", &s, &k), -EINVAL);
                assert_int_equal(sbus_read(m, "si", &s, &i), 0);
                assert_string_equal(s, "one");
                assert_int_equal(i, 2);
                assert_int_equal(sbus_peek(m, &t, &c), 1);
                assert_int_equal(t, 'a');
                assert_string_equal(c, "{ss}");
                assert_int_equal(sbus_enter(m, 'a', "{sv}"), -EBADMSG);
                assert_int_equal(sbus_enter(m, '(', NULL), -EBADMSG);
                assert_int_equal(sbus_enter(m, 'a', "{ss}"), 1);
                int entries = 0;
                while (sbus_enter(m, '{', "ss") > 0) {
                        assert_int_equal(sbus_read(m, "s", &k), 0);
                        assert_int_equal(k[0], 'a' + entries);
                        if (entries == 1) {                     /* leave one half read */
                                assert_int_equal(sbus_exit(m), 0);
                                entries++;
                                continue;
                        }
                        assert_int_equal(sbus_read(m, "ss", &s, &k), -ENXIO);
                        assert_int_equal(sbus_read(m, "s", &s), 0);
                        assert_string_equal(s, "v");
                        assert_int_equal(sbus_read(m, "s", &s), -ENXIO);
                        assert_int_equal(sbus_peek(m, &t, &c), 0);
                        assert_int_equal(t, 0);
                        assert_int_equal(sbus_exit(m), 0);
                        entries++;
                }
                assert_int_equal(entries, 3);
                assert_int_equal(sbus_enter(m, '{', "ss"), 0);
                assert_int_equal(sbus_peek(m, NULL, NULL), 0);
                assert_int_equal(sbus_skip(m), 0);
                assert_int_equal(sbus_read(m, "s", &s), -ENXIO);
                assert_int_equal(sbus_exit(m), 0);
                /* a(si): the first element read, the rest skipped by exit. */
                assert_int_equal(sbus_peek(m, &t, &c), 1);
                assert_string_equal(c, "(si)");
                assert_int_equal(sbus_enter(m, 'a', NULL), 1);
                assert_int_equal(sbus_peek(m, &t, &c), 1);
                assert_int_equal(t, '(');
                assert_string_equal(c, "si");
                assert_int_equal(sbus_skip(m), 1);
                assert_int_equal(sbus_enter(m, '(', "si"), 1);
                assert_int_equal(sbus_read(m, "si", &s, &i), 0);
                assert_int_equal(i, 1);
                assert_int_equal(sbus_exit(m), 0);
                assert_int_equal(sbus_skip(m), 0);
                assert_int_equal(sbus_exit(m), 0);
                /* aay: each element in one go, then through enter. */
                assert_int_equal(sbus_enter(m, 'a', "ay"), 1);
                const void *b;
                size_t bn;
                uint8_t y;
                assert_int_equal(sbus_read(m, "ay", &b, &bn), 0);
                assert_int_equal(bn, 2);
                assert_memory_equal(b, "xy", 2);
                assert_int_equal(sbus_enter(m, 'a', "y"), 1);
                assert_int_equal(sbus_read(m, "y", &y), -ENXIO);
                assert_int_equal(sbus_exit(m), 0);
                assert_int_equal(sbus_read(m, "ay", &b, &bn), -ENXIO);
                assert_int_equal(sbus_enter(m, 'a', "y"), 0);
                assert_int_equal(sbus_exit(m), 0);
                assert_int_equal(sbus_enter(m, 'a', "y"), 1);
                assert_int_equal(sbus_read(m, "yy", &y, &y), 0);
                assert_int_equal(y, 'b');
                assert_int_equal(sbus_exit(m), 0);
                assert_int_equal(sbus_exit(m), -EINVAL);        /* none entered */
                assert_int_equal(sbus_peek(m, &t, &c), 0);
                assert_int_equal(sbus_enter(m, 'a', NULL), 0);
                assert_int_equal(sbus_read(m, "y", &y), -ENXIO);
                assert_int_equal(sbus_enter(m, 'y', NULL), -EINVAL);

                /* Rewound: skip each argument. */
                sbus_rewind(m);
                int args = 0;
                while (sbus_skip(m) > 0)
                        args++;
                assert_int_equal(args, 6);
        }
        sbus_msg_unref(both[0]);
        sbus_msg_unref(both[1]);
}

/* ---- references, the sender, sizes ---- */

static void test_lifecycle(void **state) {
        struct sbus_msg *m = sbus_call_new(NULL, "/", NULL, "M"), *q;
        const void *p;
        size_t n;
        sbus_msg_bytes(m, &p, &n);
        assert_null(p);
        assert_int_equal(n, 0);
        assert_int_equal(sbus_msg_set_sender(m, "not valid"), -EINVAL);
        assert_ptr_equal(sbus_msg_ref(m), m);
        assert_null(sbus_msg_unref(m));
        assert_int_equal(sbus_msg_seal(m, 1), 0);              /* still there */
        assert_null(sbus_msg_sender(m));
        assert_int_equal(sbus_msg_set_sender(m, ":1.1"), 0);   /* for the next sealing */
        assert_int_equal(sbus_msg_seal(m, 2), 0);
        sbus_msg_bytes(m, &p, &n);
        assert_int_equal(sbus_msg_parse(p, n, &q), 0);
        assert_string_equal(sbus_msg_sender(q), ":1.1");
        assert_int_equal(sbus_msg_serial(q), 2);
        /* A parsed message is read, not built on. */
        assert_int_equal(sbus_msg_set_sender(q, ":1.2"), -EINVAL);
        assert_int_equal(sbus_msg_seal(q, 3), -EINVAL);
        assert_int_equal(sbus_append(q, "y", 1), -EINVAL);
        sbus_msg_unref(q);
        sbus_msg_unref(m);

        /* SBUS_MAX_MESSAGE in all: the body over it is a sticky -E2BIG, the whole at sealing. */
        size_t max = SBUS_MAX_MESSAGE;
        uint8_t *big = calloc(1, max);
        assert_non_null(big);
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "ay", big, max - 3), -E2BIG);
        assert_int_equal(sbus_msg_error(m), -E2BIG);
        assert_int_equal(sbus_append(m, "y", 1), -E2BIG);
        assert_int_equal(sbus_msg_seal(m, 1), -EINVAL);
        sbus_msg_unref(m);
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "ay", big, max - 16), 0);
        assert_int_equal(sbus_msg_seal(m, 1), -E2BIG);
        assert_int_equal(sbus_msg_error(m), 0);
        sbus_msg_unref(m);
        m = sbus_signal_new("/", "a.b", "c");
        assert_int_equal(sbus_append(m, "ay", big, max - 80), 0);
        assert_int_equal(sbus_msg_seal(m, 1), 0);
        sbus_msg_bytes(m, &p, &n);
        assert_true(n <= max);
        assert_int_equal(sbus_msg_size(p, n), n);
        assert_int_equal(sbus_msg_parse(p, n, &q), 0);
        const void *b;
        assert_int_equal(sbus_read(q, "ay", &b, &n), 0);
        assert_int_equal(n, max - 80);
        sbus_msg_unref(q);
        sbus_msg_unref(m);
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ours_to_libdbus),
                cmocka_unit_test(test_replies_to_libdbus),
                cmocka_unit_test(test_libdbus_to_ours),
                cmocka_unit_test(test_big_endian),
                cmocka_unit_test(test_refused_values),
                cmocka_unit_test(test_refused_headers),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_sticky),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_lifecycle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
