/* util.c — logging, crash-safe file writes, capped reads, time and string helpers. */
#include "config.h"

#include <libintl.h>
#include <locale.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

static const char *log_ident = "sekisho";
static bool log_verbose;
static bool log_prefix_priority;

void log_setup(const char *ident, bool verbose) {
        log_ident = ident;
        log_verbose = verbose;
        log_prefix_priority = getenv("JOURNAL_STREAM") != NULL;
}

void log_msgv(enum log_level lvl, int r, const char *prefix, const char *fmt, va_list ap) {
        if (lvl == LOG_LVL_DEBUG && !log_verbose)
                return;
        int saved = errno;
        char buf[2048];
        int p = prefix ? snprintf(buf, sizeof buf, "%s: ", prefix) : 0;
        if (p < 0 || (size_t)p >= sizeof buf)
                p = 0;
        errno = saved; /* for %m */
        int n = vsnprintf(buf + p, sizeof buf - (size_t)p, fmt, ap);
        n = n < 0 ? (buf[p] = '\0', p) : n + p;
        if (r != 0 && (size_t)n < sizeof buf)
                snprintf(buf + n, sizeof buf - (size_t)n, ": %s", strerror(r < 0 ? -r : r));
        /* Names and strings from outside are in there: one line, nothing a terminal acts on. */
        char vis[4 * sizeof buf];
        str_vis(vis, sizeof vis, buf);
        if (log_prefix_priority)
                fprintf(stderr, "<%d>%s\n", (int)lvl, vis);
        else
                fprintf(stderr, "%s: %s\n", log_ident, vis);
        errno = saved;
}

void log_msg(enum log_level lvl, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_msgv(lvl, r, NULL, fmt, ap);
        va_end(ap);
}

void *array_grow(void *items, size_t *cap, size_t need, size_t elem_size) {
        if (need <= *cap && items)
                return items;
        size_t ncap = *cap ? *cap : 4;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2)
                        return NULL;
                ncap *= 2;
        }
        if (elem_size && ncap > SIZE_MAX / elem_size)
                return NULL;
        void *p = realloc(items, ncap * elem_size);
        if (p)
                *cap = ncap;
        return p;
}

static int kvlist_grow(struct kvlist *l) {
        size_t kc = l->cap, vc = l->cap;
        if (ARRAY_GROW(l->keys, kc, l->n + 1) < 0 || ARRAY_GROW(l->values, vc, l->n + 1) < 0)
                return -ENOMEM;
        l->cap = kc < vc ? kc : vc;
        return 0;
}

int kvlist_add_n(struct kvlist *l, const char *key, size_t key_len, const char *value, size_t value_len) {
        if (kvlist_grow(l) < 0)
                return -ENOMEM;
        char *k = strndup(key, key_len), *v = strndup(value, value_len);
        if (!k || !v) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        l->keys[l->n] = k;
        l->values[l->n++] = v;
        return 0;
}

int kvlist_add(struct kvlist *l, const char *key, const char *fmt, ...) {
        if (kvlist_grow(l) < 0)
                return -ENOMEM;
        char *k = strdup(key), *v = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (!k || r < 0) {
                free(k);
                return -ENOMEM;
        }
        l->keys[l->n] = k;
        l->values[l->n++] = v;
        return 0;
}

const char *kvlist_get(const struct kvlist *l, const char *key) {
        for (size_t i = l ? l->n : 0; i > 0; i--)
                if (strcmp(l->keys[i - 1], key) == 0)
                        return l->values[i - 1];
        return NULL;
}

void kvlist_clear(struct kvlist *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->keys[i]);
                free(l->values[i]);
        }
        free(l->keys);
        free(l->values);
        *l = (struct kvlist){ 0 };
}

int read_fd_capped(int fd, size_t max, char **ret_data, size_t *ret_size) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        /* st_size is only a hint: sysfs attributes report 4096 whatever they hold and procfs
         * files 0, so the cap is enforced on the bytes actually read (at most max + 1). */
        size_t hint = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size : 4096;
        /* Room for the hinted bytes, the one more a read tries to learn it is at the end, and the NUL:
         * a file that is as long as it says is read without growing (a 4 MiB bundle was copied to 8). */
        size_t cap = (hint < max ? hint : max) + 2, len = 0;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max + 1)
                                return -EFBIG;
                        size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - 1 - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret_data = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = len;
        return 0;
}

int read_file_capped(const char *path, size_t max, char **ret_data, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd_capped(fd, max, ret_data, ret_size);
}

char *memdup_nul(const void *p, size_t n) {
        char *c = malloc(n + 1);
        if (c) {
                if (n)
                        memcpy(c, p, n);
                c[n] = '\0';
        }
        return c;
}

char *path_join(const char *dir, const char *name) {
        size_t a = strlen(dir), b = strlen(name);
        char *p = malloc(a + b + 2);
        if (!p)
                return NULL;
        memcpy(p, dir, a);
        size_t o = a;
        if (a == 0 || dir[a - 1] != '/')
                p[o++] = '/';
        memcpy(p + o, name, b + 1);
        return p;
}

int fsync_directory_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                dir[1] = '\0';
        else
                *slash = '\0';
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;
        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                size -= (size_t)k;
        }
        return 0;
}

static int replace_file(const char *path, const void *data, size_t size, mode_t mode, bool durable) {
        size_t n = strlen(path);
        _cleanup_free_ char *tmp = malloc(n + 16);
        if (!tmp)
                return -ENOMEM;
        snprintf(tmp, n + 16, "%s.tmp%06ld", path, (long)(getpid() % 1000000));
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, size);
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return durable ? fsync_directory_of(path) : 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        return replace_file(path, data, size, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t size, mode_t mode) {
        return replace_file(path, data, size, mode, false);
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

void fault_point(const char *step) {
#ifdef ENABLE_FAULT_INJECTION
        const char *want = getenv("SEKISHO_FAULT");
        if (want && strcmp(want, step) == 0) {
                fprintf(stderr, "sekisho: fault injection at %s\n", step);
                raise(SIGKILL);
        }
#else
        (void)step;
#endif
}

uint64_t now_usec_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t now_unix(void) {
        const char *fake = getenv("SEKISHO_TEST_NOW");
#ifdef ENABLE_FAULT_INJECTION
        int64_t t;
        if (fake && parse_rfc3339(fake, &t) == 0)
                return t;
#else
        (void)fake;
#endif
        return (int64_t)time(NULL);
}

void buf_append(char *buf, size_t size, const char *fmt, ...) {
        size_t l = strlen(buf);
        if (l + 1 >= size)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + l, size - l, fmt, ap);
        va_end(ap);
}

void gettext_setup(const char *domain, const char *localedir) {
        setlocale(LC_ALL, "");
        /* gettext ignores LANGUAGE in the C locale; a desktop session always has a real one, but a
         * minimal system may only have C.UTF-8: use it so LANGUAGE=ja still works. */
        const char *msgs = setlocale(LC_MESSAGES, NULL);
        if (getenv("LANGUAGE") && msgs && (strcmp(msgs, "C") == 0 || strcmp(msgs, "POSIX") == 0))
                setlocale(LC_MESSAGES, "C.UTF-8");
        const char *dir = getenv("SEKISHO_LOCALEDIR");
        bindtextdomain(domain, dir && dir[0] ? dir : localedir);
        bind_textdomain_codeset(domain, "UTF-8");
        textdomain(domain);
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int hex_decode(const char *s, uint8_t *out, size_t n) {
        if (strlen(s) != 2 * n)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

bool name_is_plain(const char *s) {
        if (!*s || s[0] == '.')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
                      *s == '_' || *s == '-'))
                        return false;
        return true;
}

void hex_encode(const uint8_t *in, size_t len, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = '\0';
}

int parse_u64(const char *s, uint64_t *ret) {
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        uint64_t v = 0;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                unsigned d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

static int digits(const char *s, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

int parse_rfc3339(const char *s, int64_t *ret) {
        int Y, M, D, h, m, sec;
        if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
            s[13] != ':' || s[16] != ':')
                return -EINVAL;
        if (digits(s, 4, &Y) < 0 || digits(s + 5, 2, &M) < 0 || digits(s + 8, 2, &D) < 0 ||
            digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &m) < 0 || digits(s + 17, 2, &sec) < 0)
                return -EINVAL;
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
                return -EINVAL;
        if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') { /* fractional seconds: accepted, ignored */
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        int64_t off = 0;
        if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
                off = 0;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int oh, om;
                if (digits(p + 1, 2, &oh) < 0 || digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
                off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        } else
                return -EINVAL;
        if (sec == 60)
                sec = 59;
        *ret = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - off;
        return 0;
}

void format_rfc3339(int64_t t, char out[static 32]) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One UTF-8 sequence at p: its length (1-4) and code point, or 0 if malformed (overlong, surrogate, truncated). */
static size_t utf8_decode(const unsigned char *p, const unsigned char *end, unsigned *ret_cp) {
        unsigned c = *p, cp;
        size_t n;
        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
        if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
        else return 0;
        if ((size_t)(end - p) <= n)
                return 0;
        for (size_t i = 1; i <= n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n + 1;
}

/* Characters that move or hide text on a terminal or in a log viewer:
 * C0/C1 controls, DEL, line separators and bidirectional overrides. */
static bool cp_is_control(unsigned cp) {
        return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool string_is_clean_utf8(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        while (p < end) {
                unsigned cp;
                size_t n = utf8_decode(p, end, &cp);
                if (n == 0 || (cp_is_control(cp) && cp != '\t'))
                        return false;
                p += n;
        }
        return true;
}

size_t str_vis(char *out, size_t out_size, const char *in) {
        const unsigned char *p = (const unsigned char *)in, *end = p + strlen(in);
        size_t o = 0;
        if (out_size == 0)
                return 0;
        while (p < end) {
                char esc[16];
                unsigned cp;
                size_t n = utf8_decode(p, end, &cp), k;
                if (n == 0) {
                        k = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
                        n = 1;
                } else if (cp == '\\')
                        k = (size_t)snprintf(esc, sizeof esc, "\\\\");
                else if (cp == '\n' || cp == '\t' || cp == '\r')
                        k = (size_t)snprintf(esc, sizeof esc, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
                else if (cp < 0x80 && cp_is_control(cp))
                        k = (size_t)snprintf(esc, sizeof esc, "\\x%02x", cp);
                else if (cp_is_control(cp))
                        k = (size_t)snprintf(esc, sizeof esc, "\\u%04x", cp);
                else {
                        memcpy(esc, p, n);
                        k = n;
                }
                if (o + k >= out_size)
                        break; /* never half an escape or half a character */
                memcpy(out + o, esc, k);
                o += k;
                p += n;
        }
        out[o] = '\0';
        return o;
}

void fprintf_vis(FILE *f, const char *fmt, ...) {
        char buf[4096], vis[4 * sizeof buf];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n < 0)
                buf[0] = '\0';
        str_vis(vis, sizeof vis, buf);
        fprintf(f, "%s\n", vis);
}

void html_write_string(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                switch (*p) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
                }
}

void json_write_string(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *)(s ? s : ""), *end = p + strlen((const char *)p);
        fputc('"', f);
        while (p < end) {
                unsigned cp;
                size_t n = utf8_decode(p, end, &cp);
                if (n == 0) {
                        fprintf(f, "\\\\x%02x", *p++); /* not UTF-8: the byte as text, as str_vis shows it */
                        continue;
                }
                if (cp == '"')
                        fputs("\\\"", f);
                else if (cp == '\\')
                        fputs("\\\\", f);
                else if (cp == '\n')
                        fputs("\\n", f);
                else if (cp == '\r')
                        fputs("\\r", f);
                else if (cp == '\t')
                        fputs("\\t", f);
                else if (cp_is_control(cp)) /* C0, DEL, C1, bidi overrides: never raw on a terminal */
                        fprintf(f, "\\u%04x", cp);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
        fputc('"', f);
}

/* A pinned key: SHA-256 of a SubjectPublicKeyInfo (trusted-network probes). */
static int b64val(int c) {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
}

static int hexval(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
}

int parse_spki_pin(const char *s, uint8_t ret[32]) {
        if (!s)
                return -EINVAL;
        if (strncmp(s, "sha256//", 8) == 0) /* curl --pinnedpubkey form */
                s += 8;
        size_t len = strlen(s);
        uint8_t out[32];
        if (len == 64) {
                for (size_t i = 0; i < 32; i++) {
                        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        out[i] = (uint8_t)(hi << 4 | lo);
                }
        } else if (len == 44 && s[43] == '=' && s[42] != '=') {
                /* 32 bytes = 10 groups of 3 + 2 bytes: 43 chars and one '=' */
                uint32_t acc = 0;
                size_t o = 0;
                int bits = 0;
                for (size_t i = 0; i < 43; i++) {
                        int v = b64val(s[i]);
                        if (v < 0)
                                return -EINVAL;
                        acc = (acc << 6) | (uint32_t)v;
                        bits += 6;
                        if (bits >= 8) {
                                bits -= 8;
                                if (o >= 32)
                                        return -EINVAL;
                                out[o++] = (uint8_t)(acc >> bits);
                        }
                }
                if (o != 32 || (acc & ((1u << bits) - 1)) != 0)
                        return -EINVAL;
        } else
                return -EINVAL;
        memcpy(ret, out, 32);
        return 0;
}

int parse_host_port(const char *s, char *host, size_t host_size, uint16_t *ret_port) {
        if (!s || strlen(s) >= 128)
                return -EINVAL;
        char buf[128];
        strcpy(buf, s);
        char *h = buf, *p;
        if (buf[0] == '[') {
                char *close = strchr(buf, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                *close = 0;
                h = buf + 1;
                p = close + 2;
                struct in6_addr a6;
                if (inet_pton(AF_INET6, h, &a6) != 1)
                        return -EINVAL;
        } else {
                char *colon = strrchr(buf, ':');
                if (!colon)
                        return -EINVAL;
                *colon = 0;
                p = colon + 1;
                struct in_addr a4;
                if (inet_pton(AF_INET, h, &a4) != 1)
                        return -EINVAL;
        }
        uint64_t port;
        if (parse_u64(p, &port) < 0 || port == 0 || port > 65535)
                return -EINVAL;
        if (strlen(h) >= host_size)
                return -EINVAL;
        strcpy(host, h);
        *ret_port = (uint16_t)port;
        return 0;
}
