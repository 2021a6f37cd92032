/* facts.c — gathers the posture facts (OS, packages, antivirus, storage, hardware) from files under a root directory. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include "dpkgver.h"
#include "facts.h"
#include "util.h"

static void setwhy(char *why, size_t size, const char *fmt, ...) _printf_(3, 4);
static void setwhy(char *why, size_t size, const char *fmt, ...) {
        if (!why || size == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
}

/* ------------------------------------------------------------------ */
/* os-release                                                          */

/* os-release(5): ID, VERSION_ID, VERSION_CODENAME use only 0-9 a-z . _ - */
static bool os_token_ok(const char *s, bool allow_space) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' ||
                      (allow_space && *s == ' ')))
                        return false;
        return true;
}

/* Characters a shell treats specially: not allowed unquoted. */
static bool shell_special(char c) {
        return strchr(" \t'\"$`;&|<>()*?[]#~{}!\\", c) != NULL;
}

/* Decode one value (after '=') into out. Returns 0 or -EINVAL with why. */
static int osrelease_value(const char *p, const char *end, char *out, size_t out_size, const char **why) {
        size_t n = 0;
        char q = 0;

        if (p < end && (*p == '"' || *p == '\''))
                q = *p++;
        for (; p < end; p++) {
                char c = *p;
                if (q == '\'') {
                        if (c == '\'') {
                                q = 0;
                                p++;
                                break;
                        }
                } else if (q == '"') {
                        if (c == '"') {
                                q = 0;
                                p++;
                                break;
                        }
                        if (c == '$' || c == '`') {
                                *why = "shell expansion is not supported";
                                return -EINVAL;
                        }
                        if (c == '\\' && p + 1 < end && strchr("\\\"$`", p[1]))
                                c = *++p;
                } else {
                        if (c == '\\') {
                                if (p + 1 >= end) {
                                        *why = "backslash at end of line";
                                        return -EINVAL;
                                }
                                c = *++p;
                        } else if (c == ' ' || c == '\t')
                                break;
                        else if (shell_special(c)) {
                                *why = "special character in an unquoted value";
                                return -EINVAL;
                        }
                }
                if ((unsigned char)c < 0x20 && c != '\t') {
                        *why = "control character in value";
                        return -EINVAL;
                }
                if (n + 1 >= out_size) {
                        *why = "value too long";
                        return -EINVAL;
                }
                out[n++] = c;
        }
        if (q) {
                *why = "unterminated quote";
                return -EINVAL;
        }
        /* Only white space may follow (os-release does not concatenate strings). */
        for (; p < end; p++)
                if (*p != ' ' && *p != '\t') {
                        *why = "text after the value";
                        return -EINVAL;
                }
        out[n] = '\0';
        if (!string_is_clean_utf8(out, n)) {
                *why = "value is not clean UTF-8";
                return -EINVAL;
        }
        return 0;
}

int osrelease_parse(const char *data, size_t size, struct osrelease *ret, char *why, size_t why_size) {
        static const struct {
                const char *key;
                size_t off, size;
        } keys[] = {
#define K(name, field) { name, offsetof(struct osrelease, field), sizeof(((struct osrelease *)0)->field) }
                K("ID", id),
                K("ID_LIKE", id_like),
                K("NAME", name),
                K("VERSION", version),
                K("VERSION_ID", version_id),
                K("VERSION_CODENAME", codename),
                K("PRETTY_NAME", pretty_name),
                K("BUILD_ID", build_id),
#undef K
        };
        struct osrelease o = { 0 };
        bool seen[ARRAY_SIZE(keys)] = { false };
        unsigned lineno = 0;

        if (size > OSRELEASE_MAX) {
                setwhy(why, why_size, "larger than %u bytes", OSRELEASE_MAX);
                return -EFBIG;
        }
        if (memchr(data, '\0', size)) {
                setwhy(why, why_size, "contains a NUL byte (binary file)");
                return -EINVAL;
        }
        const char *p = data, *dend = data + size;
        while (p < dend) {
                const char *nl = memchr(p, '\n', (size_t)(dend - p));
                const char *end = nl ? nl : dend;
                lineno++;
                if ((size_t)(end - p) > OSRELEASE_MAX_LINE) {
                        setwhy(why, why_size, "line %u: longer than %u bytes", lineno, OSRELEASE_MAX_LINE);
                        return -EINVAL;
                }
                const char *s = p;
                p = nl ? nl + 1 : dend;
                while (s < end && (*s == ' ' || *s == '\t'))
                        s++;
                if (end > s && end[-1] == '\r')
                        end--;
                if (s == end || *s == '#')
                        continue;
                const char *k = s;
                if (!(isalpha((unsigned char)*s) || *s == '_')) {
                        setwhy(why, why_size, "line %u: not KEY=value", lineno);
                        return -EINVAL;
                }
                while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
                        s++;
                if (s == end || *s != '=') {
                        setwhy(why, why_size, "line %u: not KEY=value", lineno);
                        return -EINVAL;
                }
                size_t klen = (size_t)(s - k);
                char tmp[OSRELEASE_MAX_LINE + 1];
                const char *vwhy = NULL;
                if (osrelease_value(s + 1, end, tmp, sizeof tmp, &vwhy) < 0) {
                        setwhy(why, why_size, "line %u: %.*s: %s", lineno, (int)(klen > 64 ? 64 : klen), k, vwhy);
                        return -EINVAL;
                }
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                        if (strlen(keys[i].key) != klen || memcmp(keys[i].key, k, klen) != 0)
                                continue;
                        if (seen[i]) {
                                setwhy(why, why_size, "line %u: %s given twice", lineno, keys[i].key);
                                return -EINVAL;
                        }
                        seen[i] = true;
                        if (strlen(tmp) >= keys[i].size) {
                                setwhy(why, why_size, "line %u: %s: value too long", lineno, keys[i].key);
                                return -EINVAL;
                        }
                        strcpy((char *)&o + keys[i].off, tmp);
                }
        }
        if (!os_token_ok(o.id, false) || !os_token_ok(o.version_id, false) || !os_token_ok(o.codename, false) ||
            !os_token_ok(o.id_like, true)) {
                setwhy(why, why_size, "ID, ID_LIKE, VERSION_ID or VERSION_CODENAME has characters os-release(5) does not allow");
                return -EINVAL;
        }
        if (!o.id[0]) {
                setwhy(why, why_size, "no ID=");
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

/* ------------------------------------------------------------------ */
/* dpkg status                                                         */

/* Offset of the first byte that makes data not clean UTF-8 text (control
 * characters other than tab and newline count), or len if there is none.
 * ASCII is checked inline; only runs of non-ASCII bytes go to the full
 * UTF-8 check, so a multi-megabyte status file is one quick pass. */
static size_t text_bad_offset(const char *data, size_t len) {
        const unsigned char *p = (const unsigned char *)data, *end = p + len;
        while (p < end) {
                /* Eight plain printable ASCII bytes at a time (no byte >= 0x80,
                 * < 0x20 or 0x7f): the common case by far. */
                if (end - p >= 8) {
                        uint64_t x;
                        memcpy(&x, p, 8);
                        const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
                        uint64_t special = (x & high) | ((x - 0x20 * ones) & ~x & high) |
                                           (((x ^ 0x7f * ones) - ones) & ~(x ^ 0x7f * ones) & high);
                        if (!special) {
                                p += 8;
                                continue;
                        }
                }
                if (*p < 0x80) {
                        if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
                                return (size_t)(p - (const unsigned char *)data);
                        p++;
                        continue;
                }
                const unsigned char *q = p;
                while (q < end && *q >= 0x80)
                        q++;
                if (!string_is_clean_utf8((const char *)p, (size_t)(q - p)))
                        return (size_t)(p - (const unsigned char *)data);
                p = q;
        }
        return len;
}

static unsigned line_of(const char *data, size_t off) {
        unsigned n = 1;
        for (size_t i = 0; i < off; i++)
                n += data[i] == '\n';
        return n;
}

void pkgdb_clear(struct pkgdb *db) {
        free(db->buf);
        free(db->pkgs);
        *db = (struct pkgdb){ 0 };
}

bool pkg_present(const struct pkg *p) {
        return strcmp(p->status, "not-installed") != 0 && strcmp(p->status, "config-files") != 0;
}

const struct pkg *pkgdb_find(const struct pkgdb *db, const char *name) {
        for (size_t i = 0; i < db->n; i++)
                if (strcmp(db->pkgs[i].name, name) == 0 && pkg_present(&db->pkgs[i]))
                        return &db->pkgs[i];
        return NULL;
}

/* dpkg package names: [a-z0-9][a-z0-9+.-]+ */
static bool pkg_name_ok(const char *s) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' || *s == '.' || *s == '-'))
                        return false;
        return true;
}

static char *trim(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                s[--n] = '\0';
        return s;
}

struct para {
        struct pkg p;
        bool has_package, has_status, has_version, has_arch;
        unsigned line;
};

static int para_finish(struct pkgdb *db, struct para *pa, char *why, size_t why_size) {
        if (!pa->line)
                return 0;
        if (!pa->has_package || !pa->has_status) {
                setwhy(why, why_size, "paragraph at line %u has no %s field", pa->line,
                       pa->has_package ? "Status" : "Package");
                return -EINVAL;
        }
        if (!pkg_name_ok(pa->p.name)) {
                setwhy(why, why_size, "paragraph at line %u: bad package name", pa->line);
                return -EINVAL;
        }
        /* Status: want flag status, e.g. "install ok installed". */
        char *st = (char *)pa->p.status;
        char *w2 = strchr(st, ' '), *w3 = w2 ? strchr(w2 + 1, ' ') : NULL;
        if (!w2 || !w3 || strchr(w3 + 1, ' ') || !w3[1]) {
                setwhy(why, why_size, "paragraph at line %u: Status is not three words", pa->line);
                return -EINVAL;
        }
        static const char *const states[] = { "not-installed", "config-files", "half-installed", "unpacked",
                                              "half-configured", "triggers-awaited", "triggers-pending",
                                              "installed", NULL };
        bool ok = false;
        for (const char *const *s = states; *s; s++)
                ok = ok || strcmp(*s, w3 + 1) == 0;
        if (!ok) {
                setwhy(why, why_size, "paragraph at line %u: unknown package state", pa->line);
                return -EINVAL;
        }
        pa->p.status = w3 + 1;
        if (pa->has_version) {
                struct dpkgver v;
                if (dpkgver_parse(pa->p.version, &v, NULL) < 0) {
                        setwhy(why, why_size, "paragraph at line %u: version dpkg would refuse", pa->line);
                        return -EINVAL;
                }
        }
        if (db->n >= DPKG_STATUS_MAX_PACKAGES) {
                setwhy(why, why_size, "more than %u packages", DPKG_STATUS_MAX_PACKAGES);
                return -EINVAL;
        }
        if (ARRAY_GROW(db->pkgs, db->cap, db->n + 1) < 0)
                return -ENOMEM;
        db->pkgs[db->n++] = pa->p;
        *pa = (struct para){ .p = { .version = "", .arch = "" } };
        return 0;
}

int dpkgstatus_parse(char **text, size_t size, struct pkgdb *ret, char *why, size_t why_size) {
        struct pkgdb db = { .buf = TAKE_PTR(*text) }; /* freed with db, whatever happens below */
        const char *data = db.buf;
        int r;

        if (!data)
                return -ENOMEM;
        if (size > DPKG_STATUS_MAX) {
                setwhy(why, why_size, "larger than %u bytes", DPKG_STATUS_MAX);
                r = -EFBIG;
                goto fail;
        }
        if (memchr(data, '\0', size)) {
                setwhy(why, why_size, "contains a NUL byte (binary or damaged file)");
                r = -EINVAL;
                goto fail;
        }
        if (size > 0 && (size < 2 || data[size - 1] != '\n' || data[size - 2] != '\n')) {
                setwhy(why, why_size, "truncated: does not end with the empty line dpkg writes");
                r = -EINVAL;
                goto fail;
        }
        size_t bad = text_bad_offset(data, size);
        if (bad < size) {
                setwhy(why, why_size, "line %u: not clean UTF-8 text", line_of(data, bad));
                r = -EINVAL;
                goto fail;
        }

        struct para pa = { .p = { .version = "", .arch = "" } };
        unsigned lineno = 0;
        char *p = db.buf, *dend = db.buf + size;
        bool last_was_field = false;
        while (p < dend) {
                char *nl = memchr(p, '\n', (size_t)(dend - p)); /* always found: file ends with \n */
                char *line = p;
                *nl = '\0';
                p = nl + 1;
                lineno++;
                if ((size_t)(nl - line) > DPKG_STATUS_MAX_LINE) {
                        setwhy(why, why_size, "line %u: longer than %u bytes", lineno, DPKG_STATUS_MAX_LINE);
                        r = -EINVAL;
                        goto fail;
                }
                if (line[0] == '\0') {
                        r = para_finish(&db, &pa, why, why_size);
                        if (r < 0)
                                goto fail;
                        last_was_field = false;
                        continue;
                }
                if (line[0] == ' ' || line[0] == '\t') {
                        if (!last_was_field) {
                                setwhy(why, why_size, "line %u: continuation line without a field", lineno);
                                r = -EINVAL;
                                goto fail;
                        }
                        continue;
                }
                char *colon = strchr(line, ':');
                if (!colon || colon == line || line[0] == '-' || line[0] == '#') {
                        setwhy(why, why_size, "line %u: not a 'Field: value' line", lineno);
                        r = -EINVAL;
                        goto fail;
                }
                *colon = '\0';
                for (char *c = line; *c; c++)
                        if (*c == ' ' || *c == '\t') {
                                setwhy(why, why_size, "line %u: white space in a field name", lineno);
                                r = -EINVAL;
                                goto fail;
                        }
                if (!pa.line)
                        pa.line = lineno;
                char *val = trim(colon + 1);
                struct {
                        const char *name;
                        bool *seen;
                        const char **dst;
                } want[] = {
                        { "Package", &pa.has_package, &pa.p.name },
                        { "Status", &pa.has_status, &pa.p.status },
                        { "Version", &pa.has_version, &pa.p.version },
                        { "Architecture", &pa.has_arch, &pa.p.arch },
                };
                size_t flen = (size_t)(colon - line);
                for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                        /* Cheap tests first: most fields are none of these. */
                        if ((line[0] | 0x20) != (want[i].name[0] | 0x20) || flen != strlen(want[i].name) ||
                            strcasecmp(line, want[i].name) != 0)
                                continue;
                        if (*want[i].seen) {
                                setwhy(why, why_size, "line %u: duplicate %s field", lineno, want[i].name);
                                r = -EINVAL;
                                goto fail;
                        }
                        *want[i].seen = true;
                        *want[i].dst = val;
                }
                last_was_field = true;
        }
        r = para_finish(&db, &pa, why, why_size);
        if (r < 0)
                goto fail;
        *ret = db;
        return 0;
fail:
        pkgdb_clear(&db);
        return r;
}

/* ------------------------------------------------------------------ */
/* ClamAV                                                              */

static int digits(const char **p, const char *end, unsigned n, unsigned *ret) {
        unsigned v = 0;
        for (unsigned i = 0; i < n; i++, (*p)++) {
                if (*p >= end || !isdigit((unsigned char)**p))
                        return -EINVAL;
                v = v * 10 + (unsigned)(**p - '0');
        }
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *end, char c) {
        if (*p >= end || **p != c)
                return -EINVAL;
        (*p)++;
        return 0;
}

/* A run of decimal digits (1..20) up to the next ':' or end of field. */
static int number_field(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        while (*p < end && isdigit((unsigned char)**p)) {
                if (*p - s >= 19)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(**p - '0');
                (*p)++;
        }
        if (*p == s)
                return -EINVAL;
        *ret = v;
        return 0;
}

int clamav_header_parse(const char *buf, size_t size, int64_t *ret_time, uint64_t *ret_version) {
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        static const char magic[] = "ClamAV-VDB:";
        if (size < CLAMAV_HEADER_SIZE)
                return -EINVAL;
        const char *p = buf, *end = buf + CLAMAV_HEADER_SIZE;
        /* Padding: the header text ends at the first space or NUL after the last field. */
        const char *tend = end;
        while (tend > p && (tend[-1] == ' ' || tend[-1] == '\0'))
                tend--;
        for (const char *c = p; c < tend; c++)
                if (*c < 0x20 || *c > 0x7e)
                        return -EINVAL;
        if ((size_t)(tend - p) < sizeof magic - 1 || memcmp(p, magic, sizeof magic - 1) != 0)
                return -EINVAL;
        p += sizeof magic - 1;

        unsigned day, year, hour, min, tzh, tzm;
        if (digits(&p, tend, 2, &day) < 0 || expect(&p, tend, ' ') < 0 || tend - p < 3)
                return -EINVAL;
        const char *m = NULL;
        for (const char *c = months; *c; c += 3)
                if (memcmp(c, p, 3) == 0)
                        m = c;
        if (!m)
                return -EINVAL;
        p += 3;
        if (expect(&p, tend, ' ') < 0 || digits(&p, tend, 4, &year) < 0 || expect(&p, tend, ' ') < 0 ||
            digits(&p, tend, 2, &hour) < 0 || expect(&p, tend, '-') < 0 || digits(&p, tend, 2, &min) < 0 ||
            expect(&p, tend, ' ') < 0 || p >= tend || (*p != '+' && *p != '-'))
                return -EINVAL;
        int sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, tend, 2, &tzh) < 0 || digits(&p, tend, 2, &tzm) < 0 || expect(&p, tend, ':') < 0)
                return -EINVAL;
        if (day < 1 || day > 31 || year < 2000 || year > 2200 || hour > 23 || min > 59 || tzh > 14 || tzm > 59)
                return -EINVAL;

        uint64_t version, sigs, flevel, stime;
        if (number_field(&p, tend, &version) < 0 || expect(&p, tend, ':') < 0 || number_field(&p, tend, &sigs) < 0 ||
            expect(&p, tend, ':') < 0 || number_field(&p, tend, &flevel) < 0 || expect(&p, tend, ':') < 0)
                return -EINVAL;
        /* md5, dsig, builder: free text without ':' or spaces. */
        for (int f = 0; f < 3; f++) {
                while (p < tend && *p != ':' && *p != ' ')
                        p++;
                if (f < 2 && expect(&p, tend, ':') < 0)
                        return -EINVAL;
        }
        if (p < tend) {
                if (expect(&p, tend, ':') < 0 || number_field(&p, tend, &stime) < 0)
                        return -EINVAL;
        }
        if (p != tend)
                return -EINVAL;

        struct tm tm = {
                .tm_year = (int)year - 1900,
                .tm_mon = (int)((m - months) / 3),
                .tm_mday = (int)day,
                .tm_hour = (int)hour,
                .tm_min = (int)min,
        };
        time_t t = timegm(&tm);
        if (t == (time_t)-1 || tm.tm_mday != (int)day)  /* 31 Feb and friends */
                return -EINVAL;
        *ret_time = (int64_t)t - sign * (int64_t)(tzh * 3600 + tzm * 60);
        if (ret_version)
                *ret_version = version;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Files under the root                                                */

/* Open path inside root; absolute symlinks resolve inside root too
 * (openat2 RESOLVE_IN_ROOT), so a test root never reads the host. */
int root_open(int rootfd, const char *path, int flags) {
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        /* openat2() refuses O_PATH with any flag but O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW. */
        if (!(flags & O_PATH))
                flags |= O_NOCTTY;
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM))
                fd = openat(rootfd, path, flags | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : (int)fd;
}

int root_read(int rootfd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = root_open(rootfd, path, O_RDONLY | O_NONBLOCK);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        return read_fd_capped(fd, max, ret, ret_size);
}

bool root_exists(int rootfd, const char *path) {
        _cleanup_close_ int fd = root_open(rootfd, path, O_PATH);
        return fd >= 0;
}

DIR *root_opendir(int rootfd, const char *path) {
        int fd = root_open(rootfd, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        DIR *d = fdopendir(fd);
        if (!d)
                close(fd);
        return d;
}

void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Read a one-line sysfs-style attribute: trimmed, clean, bounded. */
static int read_attr(int rootfd, const char *path, char *out, size_t out_size) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = root_read(rootfd, path, 4096, &data, &n);
        if (r < 0)
                return r;
        char *s = data;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
                s[--n] = '\0';
        while (*s == ' ' || *s == '\t')
                s++, n--;
        if (n == 0 || memchr(s, '\0', n) || memchr(s, '\n', n) || !string_is_clean_utf8(s, n))
                return -EINVAL;
        if (n >= out_size)
                return -E2BIG;
        memcpy(out, s, n + 1);
        return 0;
}

/* ------------------------------------------------------------------ */

static void gather_os(int rootfd, struct posture_facts *f) {
        static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = -ENOENT;
        for (size_t i = 0; i < ARRAY_SIZE(files) && r == -ENOENT; i++) {
                r = root_read(rootfd, files[i], OSRELEASE_MAX, &data, &n);
                if (r >= 0 || r != -ENOENT)
                        snprintf(f->os_file, sizeof f->os_file, "%s", files[i]);
        }
        if (r == -ENOENT) {
                snprintf(f->os_reason, sizeof f->os_reason, "neither /etc/os-release nor /usr/lib/os-release exists");
                return;
        }
        if (r < 0) {
                snprintf(f->os_reason, sizeof f->os_reason, "%s: %s", f->os_file,
                         r == -EFBIG ? "too large" : strerror(-r));
                return;
        }
        char why[200] = "";
        r = osrelease_parse(data, n, &f->os, why, sizeof why);
        if (r < 0) {
                snprintf(f->os_reason, sizeof f->os_reason, "%s: malformed: %s", f->os_file, why);
                memset(&f->os, 0, sizeof f->os);
                return;
        }
        f->os_known = true;
        f->os_rolling = f->os.version_id[0] == '\0';
        snprintf(f->os_version, sizeof f->os_version, "%s", f->os.version_id);
        snprintf(f->os_version_source, sizeof f->os_version_source, "VERSION_ID in %s", f->os_file);
}

/* Debian's point release: base-files "12.4+deb12u8" is 12.8, plain "12.4" is
 * 12.0 (the base-files of a stable release is only ever updated that way);
 * /etc/debian_version (also from base-files) is the fallback. */
static void debian_point_release(int rootfd, struct posture_facts *f) {
        if (strcmp(f->os.id, "debian") != 0 || f->os_rolling)
                return;
        char major[16];
        if (strlen(f->os.version_id) >= sizeof major)
                return;
        snprintf(major, sizeof major, "%.15s", f->os.version_id);

        if (f->pkgs_known) {
                const struct pkg *bf = pkgdb_find(&f->pkgs, "base-files");
                if (bf && bf->version[0]) {
                        const char *v = bf->version;
                        size_t ml = strlen(major);
                        const char *plus = strstr(v, "+deb");
                        unsigned long u;
                        char *e;
                        if (strncmp(v, major, ml) == 0 && v[ml] == '.' && plus && strncmp(plus + 4, major, ml) == 0 &&
                            plus[4 + ml] == 'u' && isdigit((unsigned char)plus[5 + ml]) &&
                            (u = strtoul(plus + 5 + ml, &e, 10), *e == '\0') && u < 1000) {
                                snprintf(f->os_version, sizeof f->os_version, "%s.%lu", major, u);
                                snprintf(f->os_version_source, sizeof f->os_version_source,
                                         "base-files %s", v);
                                return;
                        }
                        if (strncmp(v, major, ml) == 0 && v[ml] == '.' && strspn(v + ml + 1, "0123456789") ==
                                                                                  strlen(v + ml + 1)) {
                                snprintf(f->os_version, sizeof f->os_version, "%s.0", major);
                                snprintf(f->os_version_source, sizeof f->os_version_source,
                                         "base-files %s", v);
                                return;
                        }
                }
        }
        char dv[32];
        if (read_attr(rootfd, "/etc/debian_version", dv, sizeof dv) >= 0 && strncmp(dv, major, strlen(major)) == 0 &&
            dv[strlen(major)] == '.' && strspn(dv, "0123456789.") == strlen(dv)) {
                snprintf(f->os_version, sizeof f->os_version, "%s", dv);
                snprintf(f->os_version_source, sizeof f->os_version_source, "/etc/debian_version %s", dv);
        }
}

/* Ubuntu: VERSION="22.04.3 LTS (Jammy Jellyfish)" carries the point release. */
static void ubuntu_point_release(struct posture_facts *f) {
        if (strcmp(f->os.id, "ubuntu") != 0 || f->os_rolling)
                return;
        size_t ml = strlen(f->os.version_id);
        const char *v = f->os.version;
        if (strncmp(v, f->os.version_id, ml) != 0 || v[ml] != '.' || !isdigit((unsigned char)v[ml + 1]))
                return;
        size_t dl = strspn(v + ml + 1, "0123456789");
        if (dl > 3 || (v[ml + 1 + dl] != ' ' && v[ml + 1 + dl] != '\0'))
                return;
        if (ml + 1 + dl >= sizeof f->os_version)
                return;
        snprintf(f->os_version, sizeof f->os_version, "%.58s.%.*s", f->os.version_id, (int)dl, v + ml + 1);
        snprintf(f->os_version_source, sizeof f->os_version_source, "VERSION in %s", f->os_file);
}

static void gather_kernel(int rootfd, bool real_root, struct posture_facts *f) {
        int r = read_attr(rootfd, "/proc/sys/kernel/osrelease", f->kernel, sizeof f->kernel);
        if (r >= 0)
                return;
        f->kernel[0] = '\0';
        struct utsname u;
        if (real_root && uname(&u) == 0 && strlen(u.release) < sizeof f->kernel) {
                snprintf(f->kernel, sizeof f->kernel, "%s", u.release);
                return;
        }
        snprintf(f->kernel_reason, sizeof f->kernel_reason, "/proc/sys/kernel/osrelease: %s", strerror(-r));
}

static void gather_dmi(int rootfd, struct posture_facts *f) {
        char vendor[128] = "", product[128] = "", version[128] = "";
        (void)read_attr(rootfd, "/sys/class/dmi/id/sys_vendor", vendor, sizeof vendor);
        (void)read_attr(rootfd, "/sys/class/dmi/id/product_name", product, sizeof product);
        (void)read_attr(rootfd, "/sys/class/dmi/id/product_version", version, sizeof version);
        snprintf(f->maker, sizeof f->maker, "%s", vendor[0] ? vendor : "unknown");
        /* Lenovo puts the machine type in product_name and the name people know in product_version. */
        if (strcasecmp(vendor, "LENOVO") == 0 && version[0])
                snprintf(f->model, sizeof f->model, "%.100s (%.50s)", version, product[0] ? product : "?");
        else
                snprintf(f->model, sizeof f->model, "%s", product[0] ? product : "unknown");
}

static void gather_pkgs(int rootfd, struct posture_facts *f) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = root_read(rootfd, "/var/lib/dpkg/status", DPKG_STATUS_MAX, &data, &n);
        f->dpkg_present = r != -ENOENT;
        if (r < 0) {
                snprintf(f->pkgs_reason, sizeof f->pkgs_reason, "/var/lib/dpkg/status: %s%s",
                         r == -EFBIG ? "too large" : strerror(-r),
                         r == -ENOENT ? " (no dpkg database)" : "");
                return;
        }
        char why[200] = "";
        r = dpkgstatus_parse(&data, n, &f->pkgs, why, sizeof why);
        if (r < 0) {
                snprintf(f->pkgs_reason, sizeof f->pkgs_reason, "/var/lib/dpkg/status: %s",
                         r == -ENOMEM ? "out of memory" : why);
                return;
        }
        f->pkgs_known = true;
}

static void gather_clamav(int rootfd, struct posture_facts *f) {
        static const char *const bins[] = { "/usr/bin/clamscan", "/usr/sbin/clamd", "/usr/bin/clamdscan" };
        f->clamav = TRI_NO;
        snprintf(f->clamav_evidence, sizeof f->clamav_evidence, "no clamav package, no clamscan or clamd");
        const struct pkg *p = f->pkgs_known ? pkgdb_find(&f->pkgs, "clamav") : NULL;
        if (!p && f->pkgs_known)
                p = pkgdb_find(&f->pkgs, "clamav-daemon");
        if (p) {
                f->clamav = TRI_YES;
                snprintf(f->clamav_evidence, sizeof f->clamav_evidence, "package %s %s", p->name, p->version);
        } else
                for (size_t i = 0; i < ARRAY_SIZE(bins); i++)
                        if (root_exists(rootfd, bins[i])) {
                                f->clamav = TRI_YES;
                                snprintf(f->clamav_evidence, sizeof f->clamav_evidence, "%s", bins[i]);
                                break;
                        }

        _cleanup_closedir_ DIR *d = root_opendir(rootfd, "/var/lib/clamav");
        if (!d) {
                f->sig_none = errno == ENOENT;
                snprintf(f->sig_evidence, sizeof f->sig_evidence, "/var/lib/clamav: %s", strerror(errno));
                return;
        }
        struct dirent *de;
        unsigned count = 0, seen = 0;
        int64_t newest = 0;
        char newest_name[64] = "";
        while ((de = readdir(d)) && seen++ < 4096) {
                size_t l = strlen(de->d_name);
                if (l < 5 || (strcmp(de->d_name + l - 4, ".cvd") != 0 && strcmp(de->d_name + l - 4, ".cld") != 0))
                        continue;
                if (++count > CLAMAV_MAX_DBS) {
                        snprintf(f->sig_evidence, sizeof f->sig_evidence, "more than %u databases in /var/lib/clamav",
                                 CLAMAV_MAX_DBS);
                        return;
                }
                char hdr[CLAMAV_HEADER_SIZE];
                _cleanup_close_ int fd =
                        openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                struct stat st;
                ssize_t n = -1;
                if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                        n = pread(fd, hdr, sizeof hdr, 0);
                int64_t t;
                if (n != (ssize_t)sizeof hdr || clamav_header_parse(hdr, (size_t)n, &t, NULL) < 0) {
                        snprintf(f->sig_evidence, sizeof f->sig_evidence,
                                 "/var/lib/clamav/%.64s: %s", de->d_name,
                                 n < 0 ? "cannot be read" : "header is not a valid ClamAV-VDB header");
                        return;
                }
                if (t > newest) {
                        newest = t;
                        snprintf(newest_name, sizeof newest_name, "%.63s", de->d_name);
                }
        }
        if (count == 0) {
                f->sig_none = true;
                snprintf(f->sig_evidence, sizeof f->sig_evidence, "no signature databases in /var/lib/clamav");
                return;
        }
        f->sig_known = true;
        f->sig_time = newest;
        char ts[32];
        format_rfc3339(newest, ts);
        snprintf(f->sig_evidence, sizeof f->sig_evidence, "newest database %s built %s", newest_name, ts);
}

/* ---- storage ---- */

/* Decode mountinfo's octal escapes (\040 for a space) in place. */
static void unoctal(char *s) {
        char *o = s;
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else
                        *o++ = *s;
        }
        *o = '\0';
}

struct mnt {
        char majmin[32];
        char fstype[64];
        char source[256];
        bool found;
};

/* The last (topmost) mount on target in mountinfo. -EINVAL if malformed. */
static int mountinfo_find(char *data, const char *target, struct mnt *ret) {
        char *save = NULL;
        *ret = (struct mnt){ 0 };
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[64];
                size_t nf = 0;
                char *s2 = NULL;
                for (char *t = strtok_r(line, " ", &s2); t && nf < ARRAY_SIZE(f); t = strtok_r(NULL, " ", &s2))
                        f[nf++] = t;
                size_t dash = 0;
                for (size_t i = 6; i < nf; i++)
                        if (strcmp(f[i], "-") == 0) {
                                dash = i;
                                break;
                        }
                if (nf < 10 || dash == 0 || dash + 2 >= nf)
                        return -EINVAL;
                unoctal(f[4]);
                if (strcmp(f[4], target) != 0)
                        continue;
                unoctal(f[dash + 2]);
                if (strlen(f[2]) >= sizeof ret->majmin || strlen(f[dash + 1]) >= sizeof ret->fstype ||
                    strlen(f[dash + 2]) >= sizeof ret->source)
                        return -EINVAL;
                strcpy(ret->majmin, f[2]);
                strcpy(ret->fstype, f[dash + 1]);
                strcpy(ret->source, f[dash + 2]);
                ret->found = true;
        }
        return 0;
}

/* Is block device NAME (under /sys/block) on dm-crypt? depth bounds stacking. */
static enum tristate dm_encrypted(int rootfd, const char *name, unsigned depth, unsigned *budget, char *ev,
                                  size_t ev_size) {
        char path[512], uuid[256];
        if (*budget == 0) {
                snprintf(ev, ev_size, "device stack too wide at %s", name);
                return TRI_UNKNOWN;
        }
        (*budget)--;
        if (depth > 8) {
                snprintf(ev, ev_size, "device stack deeper than 8 at %s", name);
                return TRI_UNKNOWN;
        }
        if (strchr(name, '/') || name[0] == '.') {
                snprintf(ev, ev_size, "odd device name");
                return TRI_UNKNOWN;
        }
        snprintf(path, sizeof path, "/sys/block/%s/dm/uuid", name);
        int r = read_attr(rootfd, path, uuid, sizeof uuid);
        if (r == -ENOENT) {
                snprintf(path, sizeof path, "/sys/block/%s/dm", name);
                if (root_exists(rootfd, path)) {
                        snprintf(ev, ev_size, "%s is a device-mapper device without a uuid", name);
                        return TRI_NO;
                }
                snprintf(ev, ev_size, "%s is not a device-mapper device", name);
                return TRI_NO;
        }
        if (r == -EINVAL) {
                /* An empty uuid: a dm device not made by cryptsetup or LVM. */
                snprintf(ev, ev_size, "%s is a device-mapper device without a uuid", name);
                return TRI_NO;
        }
        if (r < 0) {
                snprintf(ev, ev_size, "/sys/block/%s/dm/uuid: %s", name, strerror(-r));
                return TRI_UNKNOWN;
        }
        if (strncmp(uuid, "CRYPT-", 6) == 0) {
                const char *type = uuid + 6;
                size_t tl = strcspn(type, "-");
                snprintf(ev, ev_size, "%s: dm-crypt (%.*s)", name, (int)(tl > 16 ? 16 : tl), type);
                return TRI_YES;
        }
        /* LVM and friends: encrypted only if everything below is. */
        snprintf(path, sizeof path, "/sys/block/%s/slaves", name);
        _cleanup_closedir_ DIR *d = root_opendir(rootfd, path);
        if (!d) {
                snprintf(ev, ev_size, "%s (%.40s) has no readable slaves", name, uuid);
                return TRI_UNKNOWN;
        }
        struct dirent *de;
        unsigned n = 0;
        char sub[FACT_REASON] = "";
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (++n > 64) {
                        snprintf(ev, ev_size, "%s has too many slaves", name);
                        return TRI_UNKNOWN;
                }
                enum tristate t = dm_encrypted(rootfd, de->d_name, depth + 1, budget, sub, sizeof sub);
                if (t != TRI_YES) {
                        snprintf(ev, ev_size, "%s > %.200s", name, sub);
                        return t;
                }
        }
        if (n == 0) {
                snprintf(ev, ev_size, "%s (%.40s) sits on nothing encrypted", name, uuid);
                return TRI_NO;
        }
        snprintf(ev, ev_size, "%s > %.200s", name, sub);
        return TRI_YES;
}

/* Find the dm-N whose dev is majmin, or whose dm/name is mapper_name. */
static bool dm_lookup(int rootfd, const char *majmin, const char *mapper_name, char *ret, size_t ret_size) {
        _cleanup_closedir_ DIR *d = root_opendir(rootfd, "/sys/block");
        struct dirent *de;
        unsigned n = 0;
        while (d && (de = readdir(d)) && n++ < 4096) {
                if (strncmp(de->d_name, "dm-", 3) != 0 || strlen(de->d_name) > 32)
                        continue;
                char path[128], val[256];
                if (strlen(de->d_name) > 32)
                        continue;
                if (majmin) {
                        snprintf(path, sizeof path, "/sys/block/%.32s/dev", de->d_name);
                        if (read_attr(rootfd, path, val, sizeof val) >= 0 && strcmp(val, majmin) == 0) {
                                snprintf(ret, ret_size, "%s", de->d_name);
                                return true;
                        }
                }
                if (mapper_name) {
                        snprintf(path, sizeof path, "/sys/block/%.32s/dm/name", de->d_name);
                        if (read_attr(rootfd, path, val, sizeof val) >= 0 && strcmp(val, mapper_name) == 0) {
                                snprintf(ret, ret_size, "%s", de->d_name);
                                return true;
                        }
                }
        }
        return false;
}

static void storage_of(int rootfd, const char *mountinfo, const char *target, struct storage_fact *out) {
        _cleanup_free_ char *copy = strdup(mountinfo);
        struct mnt m;
        out->encrypted = TRI_UNKNOWN;
        if (!copy) {
                snprintf(out->evidence, sizeof out->evidence, "out of memory");
                return;
        }
        if (mountinfo_find(copy, target, &m) < 0) {
                snprintf(out->evidence, sizeof out->evidence, "/proc/self/mountinfo is malformed");
                return;
        }
        if (!m.found) {
                snprintf(out->evidence, sizeof out->evidence, "%s is not a mount point", target);
                return;
        }
        static const char *const opaque[] = { "tmpfs", "overlay", "squashfs", "ramfs", "nfs", "nfs4", "cifs",
                                              "smb3", "9p", "virtiofs", "zfs", "aufs", "fuse*", "ecryptfs", NULL };
        for (const char *const *o = opaque; *o; o++)
                if (fnmatch(*o, m.fstype, 0) == 0) {
                        snprintf(out->evidence, sizeof out->evidence,
                                 "%s is %.60s: whether it is encrypted cannot be read from the block layer", target,
                                 m.fstype);
                        return;
                }
        char dm[40], ev[FACT_REASON];
        bool isdm = false;
        unsigned maj = 0, min = 0;
        if (sscanf(m.majmin, "%u:%u", &maj, &min) != 2) {
                snprintf(out->evidence, sizeof out->evidence, "/proc/self/mountinfo is malformed");
                return;
        }
        if (maj != 0)
                isdm = dm_lookup(rootfd, m.majmin, NULL, dm, sizeof dm);
        if (!isdm && strncmp(m.source, "/dev/mapper/", 12) == 0)
                isdm = dm_lookup(rootfd, NULL, m.source + 12, dm, sizeof dm);
        if (!isdm && strncmp(m.source, "/dev/dm-", 8) == 0 && strlen(m.source + 5) < sizeof dm) {
                snprintf(dm, sizeof dm, "%.39s", m.source + 5);
                isdm = true;
        }
        if (!isdm) {
                if (strncmp(m.source, "/dev/", 5) != 0 || strncmp(m.source, "/dev/mapper/", 12) == 0) {
                        snprintf(out->evidence, sizeof out->evidence, "%s is %.60s on %.60s: device not found",
                                 target, m.fstype, m.source);
                        return;
                }
                out->encrypted = TRI_NO;
                snprintf(out->evidence, sizeof out->evidence, "%s is on %.60s (%s), not on dm-crypt", target,
                         m.source, m.majmin);
                return;
        }
        unsigned budget = 256; /* devices visited, however the stack fans out */
        out->encrypted = dm_encrypted(rootfd, dm, 0, &budget, ev, sizeof ev);
        snprintf(out->evidence, sizeof out->evidence, "%s is on %.60s: %.180s", target, m.source, ev);
}

static void gather_storage(int rootfd, struct posture_facts *f) {
        _cleanup_free_ char *mi = NULL;
        size_t n;
        int r = root_read(rootfd, "/proc/self/mountinfo", MOUNTINFO_MAX, &mi, &n);
        if (r >= 0 && text_bad_offset(mi, n) < n)
                r = -EINVAL;
        if (r < 0) {
                f->root_fs.encrypted = f->home_fs.encrypted = TRI_UNKNOWN;
                snprintf(f->root_fs.evidence, sizeof f->root_fs.evidence, "/proc/self/mountinfo: %s",
                         r == -EINVAL ? "not text" : strerror(-r));
                snprintf(f->home_fs.evidence, sizeof f->home_fs.evidence, "%s", f->root_fs.evidence);
                return;
        }
        storage_of(rootfd, mi, "/", &f->root_fs);
        storage_of(rootfd, mi, "/home", &f->home_fs);
        if (f->home_fs.encrypted == TRI_UNKNOWN && strstr(f->home_fs.evidence, "is not a mount point")) {
                /* /home is a directory on the root file system. */
                f->home_fs.encrypted = f->root_fs.encrypted;
                snprintf(f->home_fs.evidence, sizeof f->home_fs.evidence, "/home is on the root file system: %.200s",
                         f->root_fs.evidence);
        }
}

int posture_gather(const char *root, const char *const *forbidden_patterns, const char *const *wine_patterns,
                   struct posture_facts *f) {
        *f = (struct posture_facts){ .clamav = TRI_UNKNOWN };
        f->root_fs.encrypted = f->home_fs.encrypted = TRI_UNKNOWN;
        f->screen_lock = TRI_UNKNOWN;
        f->pw_min_len = f->pw_max_days = -1;

        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                int r = -errno;
                snprintf(f->os_reason, sizeof f->os_reason, "root %s: %s", root, strerror(-r));
                snprintf(f->pkgs_reason, sizeof f->pkgs_reason, "%s", f->os_reason);
                snprintf(f->kernel_reason, sizeof f->kernel_reason, "%s", f->os_reason);
                snprintf(f->sig_evidence, sizeof f->sig_evidence, "%s", f->os_reason);
                snprintf(f->clamav_evidence, sizeof f->clamav_evidence, "%s", f->os_reason);
                snprintf(f->root_fs.evidence, sizeof f->root_fs.evidence, "%s", f->os_reason);
                snprintf(f->home_fs.evidence, sizeof f->home_fs.evidence, "%s", f->os_reason);
                snprintf(f->maker, sizeof f->maker, "unknown");
                snprintf(f->model, sizeof f->model, "unknown");
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason, "%s", f->os_reason);
                snprintf(f->pw_min_len_evidence, sizeof f->pw_min_len_evidence, "%s", f->os_reason);
                snprintf(f->pw_max_days_evidence, sizeof f->pw_max_days_evidence, "%s", f->os_reason);
                return 0;
        }
        bool real_root = strcmp(root, "/") == 0;
        gather_os(rootfd, f);
        gather_pkgs(rootfd, f);
        if (f->os_known) {
                debian_point_release(rootfd, f);
                ubuntu_point_release(f);
        }
        gather_kernel(rootfd, real_root, f);
        gather_dmi(rootfd, f);
        gather_software(rootfd, root, forbidden_patterns, wine_patterns, f);
        gather_clamav(rootfd, f);
        gather_storage(rootfd, f);
        gather_screen_lock(rootfd, f);
        gather_password(rootfd, f);
        return 0;
}

void posture_facts_clear(struct posture_facts *f) {
        pkgdb_clear(&f->pkgs);
        swlist_clear(&f->sw);
        swlist_clear(&f->wine);
}
