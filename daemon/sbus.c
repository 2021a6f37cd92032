/* sbus.c — sekishod's own D-Bus wire codec: names and signatures checked, messages built little-endian, parsed and validated in either endianness, read with a cursor. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sbus.h"

#define SBUS_DEPTH 64                           /* containers nested in a message (arrays, structs, variants) */
#define SBUS_SIG_DEPTH 32                       /* arrays, and structs, nested in one signature */
#define SBUS_MAX_ARRAY (64u * 1024 * 1024)
#define ALIGN_TO(x, a) (((x) + (a) - 1) & ~((size_t)(a) - 1))

/* The header fields, by code, and the type of each. */
enum { F_PATH = 1, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL, F_DESTINATION, F_SENDER, F_SIGNATURE, F_UNIX_FDS };
static const char field_type[] = "\0osssussgu";

struct sbuf {
        uint8_t *p;
        size_t len, cap;
};

struct wframe {                 /* an open container, while building */
        const char *sig;        /* its contents: the types expected in turn */
        char *owned;            /* a variant's own copy of them */
        uint32_t len_off, start;        /* an array: where its length goes, where its first element starts */
        uint8_t len, pos;
        char type;
};

struct rframe {                 /* an entered container (or the body), while reading */
        const char *sig;        /* the types read in turn (not NUL-terminated: len) */
        size_t off, end;        /* the next value; the end of the array, or the bound of the enclosing one */
        uint8_t len, pos;
        char type;              /* 0 for the body */
};

struct sbus_msg {
        unsigned ref;
        uint8_t type, flags;
        bool sealed;            /* bytes laid out (sealed or parsed): no more appending, reading allowed */
        bool parsed;
        bool big_endian;
        int error;              /* the sticky error of the building */
        uint32_t serial, reply_serial;
        const char *hf[F_SENDER + 1];   /* string header fields by code: owned, or into bytes when parsed */
        char sig[256];
        struct sbuf body;       /* while building */
        uint8_t *bytes;
        size_t size, body_off;
        unsigned nw, nr;
        union {                 /* building ends where reading starts */
                struct wframe w[SBUS_DEPTH];
                struct rframe r[SBUS_DEPTH + 1];
        } st;
        char peek[256];
};

/* ---- names, UTF-8, signatures ---- */

static bool alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool digit(char c) { return c >= '0' && c <= '9'; }
static bool basic(char c) { return c && strchr("ybnqiuxtdsogh", c); }

bool sbus_path_valid(const char *s) {
        if (!s || s[0] != '/')
                return false;
        if (!s[1])
                return true;
        size_t elem = 0;
        for (const char *p = s + 1;; p++) {
                if (!*p || *p == '/') {
                        if (!elem)
                                return false;
                        if (!*p)
                                return true;
                        elem = 0;
                } else if (alpha(*p) || digit(*p))
                        elem++;
                else
                        return false;
        }
}

/* At least two non-empty elements separated by dots, of letters, digits,
 * '_' and extra; an element starts with a digit only if digit_first. */
static bool dotted(const char *s, const char *extra, bool digit_first) {
        if (!s || strnlen(s, 256) > 255)
                return false;
        size_t elems = 0, cur = 0;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (!cur)
                                return false;
                        elems++;
                        cur = 0;
                } else if (alpha(*p) || strchr(extra, *p) || (digit(*p) && (cur || digit_first)))
                        cur++;
                else
                        return false;
        }
        return cur && elems >= 1;
}

bool sbus_interface_valid(const char *s) { return dotted(s, "", false); }

bool sbus_member_valid(const char *s) {
        if (!s || !s[0] || digit(s[0]) || strnlen(s, 256) > 255)
                return false;
        for (const char *p = s; *p; p++)
                if (!alpha(*p) && !digit(*p))
                        return false;
        return true;
}

bool sbus_bus_name_valid(const char *s) {
        if (s && s[0] == ':')
                return strnlen(s, 256) <= 255 && dotted(s + 1, "-", true);
        return dotted(s, "-", false);
}

/* The length of the valid UTF-8 character at s (n bytes there), 0 if none. */
static size_t utf8_char(const uint8_t *s, size_t n) {
        uint8_t c = s[0], lo = 0x80, hi = 0xbf;
        size_t len;
        if (c == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                lo = c == 0xe0 ? 0xa0 : 0x80;  /* overlong */
                hi = c == 0xed ? 0x9f : 0xbf;  /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                lo = c == 0xf0 ? 0x90 : 0x80;
                hi = c == 0xf4 ? 0x8f : 0xbf;  /* beyond U+10FFFF */
        } else
                return 0;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return len;
}

bool sbus_utf8_valid(const char *s, size_t len) {
        for (size_t i = 0, k; i < len; i += k)
                if (!(k = utf8_char((const uint8_t *)s + i, len - i)))
                        return false;
        return true;
}

/* The end of the complete type at s[i] (within arrays and structs nested
 * already; a dict entry only as an array's element), or -1 when there is none. */
static int type_end(const char *s, int i, unsigned arrays, unsigned structs, bool element) {
        char c = s[i];
        int j;
        if (basic(c) || c == 'v')
                return i + 1;
        if (c == 'a')
                return ++arrays > SBUS_SIG_DEPTH ? -1 : type_end(s, i + 1, arrays, structs, true);
        if (c == '{') {
                if (!element || ++structs > SBUS_SIG_DEPTH || !basic(s[i + 1]))
                        return -1;
                j = type_end(s, i + 2, arrays, structs, false);
                return j < 0 || s[j] != '}' ? -1 : j + 1;
        }
        if (c != '(' || s[i + 1] == ')' || ++structs > SBUS_SIG_DEPTH)
                return -1;
        for (j = i + 1; s[j] != ')'; )
                if ((j = type_end(s, j, arrays, structs, false)) < 0)
                        return -1;
        return j + 1;
}

/* Where the type at s[i] ends, in a signature known valid (an array's element too). */
static size_t sig_next(const char *s, size_t i) { return (size_t)type_end(s, (int)i, 0, 0, true); }

bool sbus_signature_valid(const char *s, bool single) {
        if (!s)
                return false;
        int n = (int)strnlen(s, 256);
        if (n > 255)
                return false;
        if (single)
                return n > 0 && type_end(s, 0, 0, 0, false) == n;
        for (int i = 0; i < n; )
                if ((i = type_end(s, i, 0, 0, false)) < 0)
                        return false;
        return true;
}

static size_t type_align(char c) {
        switch (c) {
        case 'n': case 'q':
                return 2;
        case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a':
                return 4;
        case 'x': case 't': case 'd': case '(': case '{':
                return 8;
        default:
                return 1;
        }
}

/* The size of a fixed type (its alignment too), 0 for the others. */
static size_t fixed_size(char c) {
        return strchr("ynqbiuhxtd", c) && c ? type_align(c) : 0;
}

/* ---- integers on the wire ---- */

static uint64_t get_raw(const uint8_t *p, size_t n, bool be) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t)p[i] << (8 * (be ? n - 1 - i : i));
        return v;
}

static uint64_t get(const struct sbus_msg *m, size_t off, size_t n) {
        return get_raw(m->bytes + off, n, m->big_endian);
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (size_t i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the buffers we write ---- */

/* Append n bytes (zeros when p is NULL). */
static int buf_put(struct sbuf *b, const void *p, size_t n) {
        if (n > SBUS_MAX_MESSAGE - b->len)
                return -E2BIG;
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap < b->len + n)
                        cap *= 2;
                uint8_t *q = realloc(b->p, cap);
                if (!q)
                        return -ENOMEM;
                b->p = q;
                b->cap = cap;
        }
        if (p)
                memcpy(b->p + b->len, p, n);
        else if (n)
                memset(b->p + b->len, 0, n);
        b->len += n;
        return 0;
}

static int buf_pad(struct sbuf *b, size_t align) { return buf_put(b, NULL, ALIGN_TO(b->len, align) - b->len); }

static int buf_int(struct sbuf *b, uint64_t v, size_t size) {
        uint8_t le[8];
        for (size_t i = 0; i < size; i++)
                le[i] = (uint8_t)(v >> (8 * i));
        int r = buf_pad(b, size);
        return r < 0 ? r : buf_put(b, le, size);
}

/* A string (s, o) or a signature (g, v). */
static int buf_str(struct sbuf *b, char type, const char *s, size_t n) {
        int r = type == 'g' || type == 'v' ? buf_put(b, &(uint8_t){ (uint8_t)n }, 1) : buf_int(b, n, 4);
        if (r >= 0)
                r = buf_put(b, s, n);
        return r < 0 ? r : buf_put(b, NULL, 1);
}

/* ---- the walker: validates one complete value, or skips it ---- */

static int check_pad(const struct sbus_msg *m, size_t *off, size_t align, size_t end) {
        size_t to = ALIGN_TO(*off, align);
        if (to > end)
                return -EBADMSG;
        for (; *off < to; (*off)++)
                if (m->bytes[*off])
                        return -EBADMSG;
        return 0;
}

/* A string, object path or signature (type 'v': a variant's, one complete type). */
static int walk_string(const struct sbus_msg *m, char type, size_t *off, size_t end) {
        size_t n, at;
        if (type == 'g' || type == 'v') {
                if (*off >= end)
                        return -EBADMSG;
                n = m->bytes[*off];
                at = *off + 1;
        } else {
                if (check_pad(m, off, 4, end) < 0 || end - *off < 4)
                        return -EBADMSG;
                n = get(m, *off, 4);
                at = *off + 4;
        }
        if (end - at < 1 || n > end - at - 1 || m->bytes[at + n])
                return -EBADMSG;
        const char *s = (const char *)m->bytes + at;
        bool ok = type == 's' ? sbus_utf8_valid(s, n) :
                  memchr(s, 0, n) ? false :
                  type == 'o' ? sbus_path_valid(s) : sbus_signature_valid(s, type == 'v');
        if (!ok)
                return -EBADMSG;
        *off = at + n + 1;
        return 0;
}

/* The value of the complete type at sig[*si], at *off, not beyond end,
 * inside depth containers: both move past it. */
static int walk(const struct sbus_msg *m, const char *sig, size_t *si, size_t *off, size_t end, unsigned depth) {
        char c = sig[*si];
        size_t fs = fixed_size(c), n;
        int r;
        if (fs) {
                if (c == 'h' || check_pad(m, off, fs, end) < 0 || end - *off < fs ||
                    (c == 'b' && get(m, *off, 4) > 1))
                        return -EBADMSG;  /* no unix fds come with our messages */
                *off += fs;
                (*si)++;
                return 0;
        }
        if (strchr("sog", c) && c) {
                (*si)++;
                return walk_string(m, c, off, end);
        }
        if (depth >= SBUS_DEPTH)
                return -EBADMSG;
        switch (c) {
        case 'v': {
                size_t at = *off, vi = 0;
                if ((r = walk_string(m, 'v', off, end)) < 0)
                        return r;
                (*si)++;
                return walk(m, (const char *)m->bytes + at + 1, &vi, off, end, depth + 1);
        }
        case '(':
        case '{':
                if (check_pad(m, off, 8, end) < 0)
                        return -EBADMSG;
                for ((*si)++; sig[*si] != (c == '(' ? ')' : '}'); )
                        if ((r = walk(m, sig, si, off, end, depth + 1)) < 0)
                                return r;
                (*si)++;
                return 0;
        case 'a': {
                size_t elem = *si + 1;
                if (check_pad(m, off, 4, end) < 0 || end - *off < 4)
                        return -EBADMSG;
                n = get(m, *off, 4);
                *off += 4;
                if (n > SBUS_MAX_ARRAY || check_pad(m, off, type_align(sig[elem]), end) < 0 || n > end - *off)
                        return -EBADMSG;
                size_t aend = *off + n;
                fs = fixed_size(sig[elem]);
                if (fs && sig[elem] != 'b' && sig[elem] != 'h') {
                        if (n % fs)
                                return -EBADMSG;
                        *off = aend;
                }
                while (*off < aend) {
                        size_t ei = elem;
                        if ((r = walk(m, sig, &ei, off, aend, depth + 1)) < 0)
                                return r;
                }
                *si = sig_next(sig, *si);
                return 0;
        }
        default:
                return -EBADMSG;
        }
}

/* ---- building ---- */

static struct sbus_msg *msg_new(enum sbus_type type) {
        struct sbus_msg *m = calloc(1, sizeof *m);
        if (m) {
                m->ref = 1;
                m->type = (uint8_t)type;
        }
        return m;
}

/* Set a string header field (NULL: none); false when out of memory. */
static bool set_field(struct sbus_msg *m, int code, const char *s) {
        char *c = NULL;
        if (s && !(c = strdup(s)))
                return false;
        free((char *)m->hf[code]);
        m->hf[code] = c;
        return true;
}

struct sbus_msg *sbus_call_new(const char *dest, const char *path, const char *iface, const char *member) {
        if ((dest && !sbus_bus_name_valid(dest)) || !sbus_path_valid(path) || (iface && !sbus_interface_valid(iface)) ||
            !sbus_member_valid(member))
                return NULL;
        struct sbus_msg *m = msg_new(SBUS_CALL);
        if (m && !(set_field(m, F_DESTINATION, dest) && set_field(m, F_PATH, path) &&
                   set_field(m, F_INTERFACE, iface) && set_field(m, F_MEMBER, member)))
                return sbus_msg_unref(m);
        return m;
}

struct sbus_msg *sbus_signal_new(const char *path, const char *iface, const char *member) {
        if (!sbus_path_valid(path) || !sbus_interface_valid(iface) || !sbus_member_valid(member))
                return NULL;
        struct sbus_msg *m = msg_new(SBUS_SIGNAL);
        if (m && !(set_field(m, F_PATH, path) && set_field(m, F_INTERFACE, iface) && set_field(m, F_MEMBER, member)))
                return sbus_msg_unref(m);
        return m;
}

static struct sbus_msg *reply_new(const struct sbus_msg *call, enum sbus_type type) {
        struct sbus_msg *m = call ? msg_new(type) : NULL;
        if (!m)
                return NULL;
        m->reply_serial = call->serial;
        if (!set_field(m, F_DESTINATION, call->hf[F_SENDER]))
                return sbus_msg_unref(m);
        return m;
}

struct sbus_msg *sbus_return_new(const struct sbus_msg *call) { return reply_new(call, SBUS_RETURN); }

struct sbus_msg *sbus_error_new(const struct sbus_msg *call, const char *name, const char *text) {
        struct sbus_msg *m = reply_new(call, SBUS_ERROR);
        if (!m)
                return NULL;
        if (!set_field(m, F_ERROR_NAME, sbus_interface_valid(name) ? name : "org.freedesktop.DBus.Error.Failed") ||
            (text && sbus_append_text(m, text) < 0))
                return sbus_msg_unref(m);
        return m;
}

struct sbus_msg *sbus_msg_ref(struct sbus_msg *m) {
        if (m)
                m->ref++;
        return m;
}

struct sbus_msg *sbus_msg_unref(struct sbus_msg *m) {
        if (!m || --m->ref > 0)
                return NULL;
        if (!m->parsed)
                for (size_t i = 0; i < sizeof m->hf / sizeof m->hf[0]; i++)
                        free((char *)m->hf[i]);
        for (unsigned i = 0; i < m->nw; i++)
                free(m->st.w[i].owned);
        free(m->body.p);
        free(m->bytes);
        free(m);
        return NULL;
}

void sbus_msg_set_flags(struct sbus_msg *m, unsigned flags) { m->flags = (uint8_t)flags; }

int sbus_msg_set_sender(struct sbus_msg *m, const char *sender) {
        if (m->parsed || (sender && !sbus_bus_name_valid(sender)))
                return -EINVAL;
        return set_field(m, F_SENDER, sender) ? 0 : -ENOMEM;
}

int sbus_msg_error(const struct sbus_msg *m) { return m->error; }

static int fail(struct sbus_msg *m, int r) {
        if (r < 0 && !m->error)
                m->error = r;
        return r;
}

/* A call refused: not on a sealed message (no sticky error then), else the sticky error, or -EINVAL becoming it. */
static int refuse(struct sbus_msg *m) { return m->sealed ? -EINVAL : fail(m, m->error ? m->error : -EINVAL); }

/* Account for a value of the complete type t (n characters) about to be
 * written: it must be what the open container expects next; at the top it
 * extends the body's signature. *ret_at: where t is in the signature. */
static int expect(struct sbus_msg *m, const char *t, size_t n, const char **ret_at) {
        if (m->sealed || m->error)
                return refuse(m);
        if (m->nw == 0) {
                size_t l = strlen(m->sig);
                if (l + n > 255)
                        return fail(m, -E2BIG);
                memcpy(m->sig + l, t, n);
                m->sig[l + n] = '\0';
                if (!sbus_signature_valid(m->sig + l, true)) {
                        m->sig[l] = '\0';
                        return fail(m, -EINVAL);
                }
                if (ret_at)
                        *ret_at = m->sig + l;
                return 0;
        }
        struct wframe *f = &m->st.w[m->nw - 1];
        if (n > (size_t)(f->len - f->pos) || memcmp(f->sig + f->pos, t, n))
                return fail(m, -EINVAL);
        if (ret_at)
                *ret_at = f->sig + f->pos;
        /* In an array each complete type is a whole element (they are a prefix code). */
        f->pos = f->type == 'a' ? 0 : (uint8_t)(f->pos + n);
        return 0;
}

static int append_string(struct sbus_msg *m, char type, const char *s) {
        bool ok = !s ? false :
                  type == 's' ? sbus_utf8_valid(s, strlen(s)) :
                  type == 'o' ? sbus_path_valid(s) : sbus_signature_valid(s, false);
        if (!ok)
                return refuse(m);
        int r = expect(m, (char[]){ type, 0 }, 1, NULL);
        return r < 0 ? r : fail(m, buf_str(&m->body, type, s, strlen(s)));
}

int sbus_append(struct sbus_msg *m, const char *types, ...) {
        va_list ap;
        int r = 0;
        va_start(ap, types);
        for (const char *t = types; *t && r >= 0; t++) {
                char c = *t;
                uint64_t v = 0;
                bool ok = true;
                if (c == 'a') {
                        const void *p = va_arg(ap, const void *);
                        size_t n = va_arg(ap, size_t);
                        if (t[1] != 'y' || (!p && n)) {
                                r = refuse(m);
                                break;
                        }
                        t++;
                        if ((r = expect(m, "ay", 2, NULL)) >= 0 && (r = fail(m, buf_int(&m->body, n, 4))) >= 0)
                                r = fail(m, buf_put(&m->body, p, n));
                        continue;
                }
                switch (c) {
                case 's': case 'o': case 'g':
                        r = append_string(m, c, va_arg(ap, const char *));
                        continue;
                case 'y': case 'n': case 'q': case 'b': case 'i': {
                        int i = va_arg(ap, int);
                        ok = c == 'y' ? i >= 0 && i <= UINT8_MAX :
                             c == 'n' ? i >= INT16_MIN && i <= INT16_MAX :
                             c == 'q' ? (unsigned)i <= UINT16_MAX : true;
                        v = c == 'b' ? i != 0 : (uint64_t)(uint32_t)i;
                        break;
                }
                case 'u':
                        v = va_arg(ap, uint32_t);
                        break;
                case 'x':
                        v = (uint64_t)va_arg(ap, int64_t);
                        break;
                case 't':
                        v = va_arg(ap, uint64_t);
                        break;
                case 'd': {
                        double d = va_arg(ap, double);
                        memcpy(&v, &d, sizeof v);
                        break;
                }
                default:
                        ok = false;
                }
                if (!ok)
                        r = refuse(m);
                else if ((r = expect(m, (char[]){ c, 0 }, 1, NULL)) >= 0)
                        r = fail(m, buf_int(&m->body, v, fixed_size(c)));
        }
        va_end(ap);
        return r < 0 ? r : 0;
}

int sbus_append_text(struct sbus_msg *m, const char *s) {
        size_t n = s ? strlen(s) : 0, o = 0;
        char *c = malloc(n + 1);
        if (!c)
                return fail(m, -ENOMEM);
        for (size_t i = 0, k; i < n; i += k)
                if ((k = utf8_char((const uint8_t *)s + i, n - i))) {
                        memcpy(c + o, s + i, k);
                        o += k;
                } else {
                        c[o++] = '?';
                        k = 1;
                }
        c[o] = '\0';
        int r = append_string(m, 's', c);
        free(c);
        return r;
}

int sbus_open(struct sbus_msg *m, char type, const char *contents) {
        char full[260] = "a";
        const char *at;
        size_t n = contents ? strlen(contents) : 256;
        int r;
        if (m->sealed || m->error)
                return refuse(m);
        if (n > 254 || m->nw >= SBUS_DEPTH || !type || !strchr("a({v", type))
                return fail(m, -EINVAL);
        /* The complete type in the enclosing signature (a dict entry's after an 'a', to check it). */
        if (type == 'v')
                strcpy(full + 1, "v");
        else {
                full[1] = type;
                memcpy(full + 2, contents, n);
                strcpy(full + 2 + n, type == '(' ? ")" : type == '{' ? "}" : "");
        }
        const char *t = full + 1;
        if (type == 'v' ? !sbus_signature_valid(contents, true) : !sbus_signature_valid(type == '{' ? full : t, true))
                return fail(m, -EINVAL);
        if ((r = expect(m, t, strlen(t), &at)) < 0)
                return r;
        struct wframe f = { .type = type, .sig = at + 1, .len = (uint8_t)n };
        if (type == 'a') {
                if ((r = buf_int(&m->body, 0, 4)) >= 0) {
                        f.len_off = (uint32_t)m->body.len - 4;
                        r = buf_pad(&m->body, type_align(contents[0]));
                        f.start = (uint32_t)m->body.len;
                }
        } else if (type == 'v') {
                if (!(f.sig = f.owned = strdup(contents)))
                        r = -ENOMEM;
                else
                        r = buf_str(&m->body, 'v', contents, n);
        } else
                r = buf_pad(&m->body, 8);
        if (r < 0) {
                free(f.owned);
                return fail(m, r);
        }
        m->st.w[m->nw++] = f;
        return 0;
}

int sbus_close(struct sbus_msg *m) {
        if (m->sealed || m->error || m->nw == 0)
                return refuse(m);
        struct wframe *f = &m->st.w[m->nw - 1];
        if (f->type != 'a' && f->pos != f->len)
                return fail(m, -EINVAL);
        if (f->type == 'a') {
                size_t n = m->body.len - f->start;
                if (n > SBUS_MAX_ARRAY)
                        return fail(m, -E2BIG);
                put_le32(m->body.p + f->len_off, (uint32_t)n);
        }
        free(f->owned);
        m->nw--;
        return 0;
}

/* ---- the wire ---- */

static bool has_required(const struct sbus_msg *m) {
        switch (m->type) {
        case SBUS_CALL:
                return m->hf[F_PATH] && m->hf[F_MEMBER];
        case SBUS_SIGNAL:
                return m->hf[F_PATH] && m->hf[F_INTERFACE] && m->hf[F_MEMBER];
        case SBUS_ERROR:
                return m->hf[F_ERROR_NAME] && m->reply_serial;
        case SBUS_RETURN:
                return m->reply_serial;
        default:
                return false;
        }
}

int sbus_msg_seal(struct sbus_msg *m, uint32_t serial) {
        if (m->parsed || m->error || m->nw || !serial || !has_required(m))
                return -EINVAL;
        const uint8_t *body = m->sealed ? m->bytes + m->body_off : m->body.p;
        size_t body_len = m->sealed ? m->size - m->body_off : m->body.len;
        struct sbuf h = { 0 };
        uint8_t fixed[16] = { 'l', m->type, m->flags, 1 };
        put_le32(fixed + 4, (uint32_t)body_len);
        put_le32(fixed + 8, serial);
        int r = buf_put(&h, fixed, sizeof fixed);
        for (int code = F_PATH; code <= F_SIGNATURE && r >= 0; code++) {
                char t = field_type[code];
                const char *s = code == F_SIGNATURE ? (m->sig[0] ? m->sig : NULL) :
                                code == F_REPLY_SERIAL ? NULL : m->hf[code];
                if (!s && !(code == F_REPLY_SERIAL && m->reply_serial))
                        continue;
                if ((r = buf_pad(&h, 8)) < 0 || (r = buf_put(&h, &(uint8_t){ (uint8_t)code }, 1)) < 0 ||
                    (r = buf_str(&h, 'g', &t, 1)) < 0)
                        break;
                r = s ? buf_str(&h, t, s, strlen(s)) : buf_int(&h, m->reply_serial, 4);
        }
        size_t fields_end = h.len;
        if (r >= 0 && (r = buf_pad(&h, 8)) >= 0)
                r = buf_put(&h, body, body_len);
        if (r < 0) {
                free(h.p);
                return r;
        }
        put_le32(h.p + 12, (uint32_t)(fields_end - 16));
        free(m->bytes);
        free(m->body.p);
        m->body = (struct sbuf){ 0 };
        m->bytes = h.p;
        m->size = h.len;
        m->body_off = h.len - body_len;
        m->serial = serial;
        m->sealed = true;
        sbus_rewind(m);
        return 0;
}

void sbus_msg_bytes(const struct sbus_msg *m, const void **ret, size_t *ret_size) {
        *ret = m->sealed ? m->bytes : NULL;
        *ret_size = m->sealed ? m->size : 0;
}

ssize_t sbus_msg_size(const void *p, size_t n) {
        const uint8_t *b = p;
        if (n < 16)
                return 0;
        if ((b[0] != 'l' && b[0] != 'B') || b[1] < SBUS_CALL || b[1] > SBUS_SIGNAL || b[3] != 1)
                return -EBADMSG;
        uint64_t total = ALIGN_TO(16 + get_raw(b + 12, 4, b[0] == 'B'), 8) + get_raw(b + 4, 4, b[0] == 'B');
        return total > SBUS_MAX_MESSAGE ? -EBADMSG : (ssize_t)total;
}

/* The header fields, from the array a(yv) validated already. */
static int parse_fields(struct sbus_msg *m, size_t end) {
        unsigned seen = 0;
        int r;
        m->st.r[0] = (struct rframe){ .sig = "a(yv)", .len = 5, .off = 12, .end = end };
        m->nr = 1;
        if (sbus_enter(m, 'a', NULL) != 1)
                return -EBADMSG;
        while ((r = sbus_enter(m, '(', NULL)) > 0) {
                uint8_t code;
                const char *vsig;
                if (sbus_read(m, "y", &code) < 0 || sbus_peek(m, NULL, &vsig) != 1 || code == 0)
                        return -EBADMSG;
                if (code <= F_UNIX_FDS) {
                        const char *s = NULL;
                        uint32_t u = 0;
                        if ((seen & (1u << code)) || vsig[0] != field_type[code] || vsig[1] ||
                            sbus_enter(m, 'v', NULL) != 1 ||
                            (vsig[0] == 'u' ? sbus_read(m, "u", &u) : sbus_read(m, vsig, &s)) < 0)
                                return -EBADMSG;
                        seen |= 1u << code;
                        bool ok = code == F_INTERFACE ? sbus_interface_valid(s) &&
                                                        strcmp(s, "org.freedesktop.DBus.Local") :
                                  code == F_PATH ? strcmp(s, "/org/freedesktop/DBus/Local") :
                                  code == F_MEMBER ? sbus_member_valid(s) :
                                  code == F_ERROR_NAME ? sbus_interface_valid(s) :
                                  code == F_REPLY_SERIAL ? u != 0 :
                                  code == F_DESTINATION || code == F_SENDER ? sbus_bus_name_valid(s) :
                                  code == F_UNIX_FDS ? u == 0 : true;
                        if (!ok || sbus_exit(m) < 0)
                                return -EBADMSG;
                        if (code == F_SIGNATURE)
                                strcpy(m->sig, s);
                        else if (code == F_REPLY_SERIAL)
                                m->reply_serial = u;
                        else if (code != F_UNIX_FDS)
                                m->hf[code] = s;
                }
                if (sbus_exit(m) < 0)
                        return -EBADMSG;
        }
        return r < 0 ? r : 0;
}

int sbus_msg_parse(const void *p, size_t size, struct sbus_msg **ret) {
        ssize_t total = sbus_msg_size(p, size);
        if (total <= 0 || (size_t)total != size)
                return -EBADMSG;
        struct sbus_msg *m = msg_new(SBUS_CALL);
        if (!m || !(m->bytes = malloc(size))) {
                sbus_msg_unref(m);
                return -ENOMEM;
        }
        memcpy(m->bytes, p, size);
        m->size = size;
        m->parsed = m->sealed = true;
        m->big_endian = m->bytes[0] == 'B';
        m->type = m->bytes[1];
        m->flags = m->bytes[2];
        m->serial = (uint32_t)get(m, 8, 4);
        size_t fields_end = 16 + get(m, 12, 4), si = 0, off = 12;
        m->body_off = ALIGN_TO(fields_end, 8);
        int r = m->serial && walk(m, "a(yv)", &si, &off, fields_end, 0) >= 0 &&
                check_pad(m, &off, 8, m->body_off) >= 0 ? parse_fields(m, fields_end) : -EBADMSG;
        if (r >= 0 && !has_required(m))
                r = -EBADMSG;
        for (si = 0, off = m->body_off; r >= 0 && m->sig[si]; )
                r = walk(m, m->sig, &si, &off, size, 0);
        if (r < 0 || off != size) {
                sbus_msg_unref(m);
                return r < 0 ? r : -EBADMSG;
        }
        sbus_rewind(m);
        *ret = m;
        return 0;
}

/* ---- the header ---- */

enum sbus_type sbus_msg_type(const struct sbus_msg *m) { return (enum sbus_type)m->type; }
unsigned sbus_msg_flags(const struct sbus_msg *m) { return m->flags; }
uint32_t sbus_msg_serial(const struct sbus_msg *m) { return m->sealed ? m->serial : 0; }
uint32_t sbus_msg_reply_serial(const struct sbus_msg *m) { return m->reply_serial; }
const char *sbus_msg_path(const struct sbus_msg *m) { return m->hf[F_PATH]; }
const char *sbus_msg_interface(const struct sbus_msg *m) { return m->hf[F_INTERFACE]; }
const char *sbus_msg_member(const struct sbus_msg *m) { return m->hf[F_MEMBER]; }
const char *sbus_msg_error_name(const struct sbus_msg *m) { return m->hf[F_ERROR_NAME]; }
const char *sbus_msg_destination(const struct sbus_msg *m) { return m->hf[F_DESTINATION]; }
const char *sbus_msg_sender(const struct sbus_msg *m) { return m->hf[F_SENDER]; }
const char *sbus_msg_signature(const struct sbus_msg *m) { return m->sig; }

static bool same(const char *a, const char *b) { return !b || (a && strcmp(a, b) == 0); }

bool sbus_msg_is(const struct sbus_msg *m, enum sbus_type type, const char *iface, const char *member) {
        return m->type == type && same(m->hf[F_INTERFACE], iface) && same(m->hf[F_MEMBER], member);
}

/* ---- reading ---- */

void sbus_rewind(struct sbus_msg *m) {
        if (!m->sealed)
                return;
        m->st.r[0] = (struct rframe){ .sig = m->sig, .len = (uint8_t)strlen(m->sig), .off = m->body_off,
                                      .end = m->size };
        m->nr = 1;
}

/* The innermost entered container, NULL before sealing. */
static struct rframe *top(struct sbus_msg *m) { return m->sealed && m->nr ? &m->st.r[m->nr - 1] : NULL; }

/* Whether f is at its end; in an array, the next element starts over the element's type. */
static bool at_end(struct rframe *f) {
        if (f->type != 'a')
                return f->pos >= f->len;
        if (f->off >= f->end)
                return true;
        if (f->pos >= f->len)
                f->pos = 0;
        return false;
}

/* Read the value of types t (one basic code or "ay") at f, storing it when ap is not NULL. */
static int read_value(const struct sbus_msg *m, struct rframe *f, const char *t, va_list *ap) {
        size_t n = t[0] == 'a' ? 2 : 1, off, len = 0;
        char c = t[0];
        uint64_t v = 0;
        const void *p = NULL;
        if ((c == 'a' && t[1] != 'y') || (c != 'a' && (!basic(c) || c == 'h')))
                return -EINVAL;
        if (at_end(f))
                return -ENXIO;
        if (n > (size_t)(f->len - f->pos) || memcmp(f->sig + f->pos, t, n))
                return -EBADMSG;
        off = ALIGN_TO(f->off, type_align(c));
        if (fixed_size(c)) {
                v = get(m, off, fixed_size(c));
                off += fixed_size(c);
        } else {
                len = c == 'g' ? m->bytes[off] : get(m, off, 4);
                off += c == 'g' ? 1 : 4;
                p = m->bytes + off;
                off += len + (c != 'a');
        }
        f->off = off;
        f->pos = (uint8_t)(f->pos + n);
        if (!ap)
                return (int)n;
        switch (c) {
        case 'y': *va_arg(*ap, uint8_t *) = (uint8_t)v; break;
        case 'b': *va_arg(*ap, bool *) = v != 0; break;
        case 'n': *va_arg(*ap, int16_t *) = (int16_t)v; break;
        case 'q': *va_arg(*ap, uint16_t *) = (uint16_t)v; break;
        case 'i': *va_arg(*ap, int32_t *) = (int32_t)v; break;
        case 'u': *va_arg(*ap, uint32_t *) = (uint32_t)v; break;
        case 'x': *va_arg(*ap, int64_t *) = (int64_t)v; break;
        case 't': *va_arg(*ap, uint64_t *) = v; break;
        case 'd': memcpy(va_arg(*ap, double *), &v, sizeof v); break;
        case 'a':
                *va_arg(*ap, const void **) = p;
                *va_arg(*ap, size_t *) = len;
                break;
        default: *va_arg(*ap, const char **) = p; break;
        }
        return (int)n;
}

int sbus_read(struct sbus_msg *m, const char *types, ...) {
        struct rframe *f = top(m), trial;
        const char *t;
        int r;
        if (!f)
                return -EINVAL;
        trial = *f;
        for (t = types; *t; t += r)
                if ((r = read_value(m, &trial, t, NULL)) < 0)
                        return r;
        va_list ap;
        va_start(ap, types);
        for (t = types; *t; t += r)
                r = read_value(m, f, t, &ap);
        va_end(ap);
        return 0;
}

int sbus_peek(struct sbus_msg *m, char *ret_type, const char **ret_contents) {
        struct rframe *f = top(m);
        char c = 0;
        const char *contents = NULL;
        if (!f)
                return -EINVAL;
        if (!at_end(f)) {
                c = f->sig[f->pos];
                if (c == 'v')
                        contents = (const char *)m->bytes + f->off + 1;
                else if (strchr("a({", c)) {
                        size_t n = sig_next(f->sig, f->pos) - f->pos - (c == 'a' ? 1 : 2);
                        memcpy(m->peek, f->sig + f->pos + 1, n);
                        m->peek[n] = '\0';
                        contents = m->peek;
                }
        }
        if (ret_type)
                *ret_type = c;
        if (ret_contents)
                *ret_contents = contents;
        return c != 0;
}

int sbus_enter(struct sbus_msg *m, char type, const char *contents) {
        struct rframe *f = top(m);
        if (!f || !type || !strchr("a({v", type))
                return -EINVAL;
        if (at_end(f))
                return 0;
        if (f->sig[f->pos] != type || m->nr > SBUS_DEPTH)
                return -EBADMSG;
        struct rframe n = { .type = type, .end = f->end, .sig = f->sig + f->pos + 1 };
        size_t off = f->off, tend = sig_next(f->sig, f->pos);
        if (type == 'a') {
                off = ALIGN_TO(off, 4);
                size_t len = get(m, off, 4);
                n.len = (uint8_t)(tend - f->pos - 1);
                n.off = ALIGN_TO(off + 4, type_align(n.sig[0]));
                n.end = n.off + len;
        } else if (type == 'v') {
                n.len = m->bytes[off];
                n.sig = (const char *)m->bytes + off + 1;
                n.off = off + n.len + 2;
        } else {
                n.len = (uint8_t)(tend - f->pos - 2);
                n.off = ALIGN_TO(off, 8);
        }
        if (contents && (strlen(contents) != n.len || memcmp(contents, n.sig, n.len)))
                return -EBADMSG;
        f->pos = (uint8_t)tend;
        m->st.r[m->nr++] = n;
        return 1;
}

/* Skip the value at f (not at its end). */
static int skip_value(struct sbus_msg *m, struct rframe *f) {
        size_t si = f->pos, off = f->off;
        int r = walk(m, f->sig, &si, &off, f->end, m->nr - 1);
        if (r < 0)
                return r;
        f->pos = (uint8_t)si;
        f->off = off;
        return 0;
}

int sbus_exit(struct sbus_msg *m) {
        struct rframe *f = top(m);
        int r;
        if (!f || m->nr < 2)
                return -EINVAL;
        if (f->type == 'a')
                f->off = f->end;
        else
                while (f->pos < f->len)
                        if ((r = skip_value(m, f)) < 0)
                                return r;
        m->nr--;
        m->st.r[m->nr - 1].off = f->off;
        return 0;
}

int sbus_skip(struct sbus_msg *m) {
        struct rframe *f = top(m);
        if (!f)
                return -EINVAL;
        if (at_end(f))
                return 0;
        int r = skip_value(m, f);
        return r < 0 ? r : 1;
}
