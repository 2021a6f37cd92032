/* audit.c — append-only JSON-lines audit log, each record chained to the previous by BLAKE2b; anchor, rotation, checkpoints and verifier. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>

#include "audit.h"
#include "journal.h"
#include "seal.h"
#include "util.h"

#define AUDIT_MAX_LINE (64 * 1024)
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define CHECKPOINT_TAG "sekisho-checkpoint "
#define CHECKPOINTS_MAX (1u << 20)

struct audit {
        int fd;
        char *path;
        char *head_path;
        char *anchor_path;                /* NULL until audit_anchor() */
        char *seal_path;                  /* forward-secure sealing state, if set up */
        char *host;
        bool to_syslog;
        struct journal *journal;     /* structured copies of each record, if set */
        uint64_t seq;                     /* of the last record */
        char prev[AUDIT_HASH_HEX + 1];    /* hash of the last record's line */
        off_t size;                       /* end of the last record in this file */
        bool continues;                   /* a new file: its first record names the chain it continues */
        uint64_t rotate_bytes;
        unsigned rotate_keep;
        int error;                        /* of the last write */
        /* Unrecognised bytes found at the end at open, to be named by a record. */
        bool torn;
        off_t torn_offset;
        uint64_t torn_bytes;
        char torn_hash[AUDIT_HASH_HEX + 1];
};

static void line_hash(const char *line, size_t len, char out[AUDIT_HASH_HEX + 1]) {
        uint8_t h[32];
        crypto_generichash(h, sizeof h, (const unsigned char *)line, len, NULL, 0);
        hex_encode(h, sizeof h, out);
}

/* Find "key":"value" or "key":number in one of our own records. seq is
 * always the first field and prev the last, so the first (or last)
 * occurrence is the real one whatever a value in between contains. */
static int json_field(const char *line, const char *key, bool last, char *out, size_t out_size) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\":", key);
        const char *p = strstr(line, pat);
        for (const char *q = p; last && q; q = strstr(q + 1, pat))
                p = q;
        if (!p)
                return -ENOENT;
        p += strlen(pat);
        size_t n = 0;
        if (*p == '"') {
                for (p++; *p && *p != '"' && n + 1 < out_size; p++)
                        out[n++] = *p == '\\' && p[1] ? *++p : *p;
        } else
                for (; *p >= '0' && *p <= '9' && n + 1 < out_size; p++)
                        out[n++] = *p;
        out[n] = '\0';
        return n ? 0 : -EINVAL;
}

/* A line (NUL-terminated, no newline) that has the shape of our records: its seq and prev. */
static int parse_record(const char *line, size_t len, uint64_t *ret_seq, char prev[AUDIT_HASH_HEX + 1]) {
        char seq[32], p[AUDIT_HASH_HEX + 2];
        if (len < 2 || line[0] != '{' || line[len - 1] != '}' || strlen(line) != len ||
            json_field(line, "seq", false, seq, sizeof seq) < 0 || parse_u64(seq, ret_seq) < 0 ||
            json_field(line, "prev", true, p, sizeof p) < 0 || strlen(p) != AUDIT_HASH_HEX)
                return -EBADMSG;
        memcpy(prev, p, AUDIT_HASH_HEX + 1);
        return 0;
}

static bool field_is(const char *line, const char *key, const char *want) {
        char v[128];
        return json_field(line, key, false, v, sizeof v) == 0 && strcmp(v, want) == 0;
}

static bool field_u64(const char *line, const char *key, uint64_t *ret) {
        char v[32];
        return json_field(line, key, false, v, sizeof v) == 0 && parse_u64(v, ret) == 0;
}

/* The last record in fd: its seq and hash, and where it ends. Anything
 * after it is reported in *ret_end < size. No record at all: seq 0. */
static int find_tail(int fd, off_t size, uint64_t *ret_seq, char hash[AUDIT_HASH_HEX + 1], off_t *ret_end) {
        *ret_seq = 0;
        memcpy(hash, ZERO_HASH, AUDIT_HASH_HEX + 1);
        *ret_end = 0;
        if (size == 0)
                return 0;
        off_t want = size > 2 * AUDIT_MAX_LINE + 2 ? 2 * AUDIT_MAX_LINE + 2 : size;
        off_t base = size - want;
        _cleanup_free_ char *buf = malloc((size_t)want + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t k = pread(fd, buf, (size_t)want, base);
        if (k != want)
                return k < 0 ? -errno : -EIO;
        buf[k] = '\0';
        /* Walk complete lines backwards until one is a record. */
        ssize_t end = k;
        while (end > 0 && buf[end - 1] != '\n')
                end--;
        while (end > 0) {
                ssize_t start = end - 1;
                while (start > 0 && buf[start - 1] != '\n')
                        start--;
                if (start == 0 && base > 0)
                        return -EBADMSG; /* no record in the last 128 KiB */
                buf[end - 1] = '\0';
                char prev[AUDIT_HASH_HEX + 1];
                if (parse_record(buf + start, (size_t)(end - 1 - start), ret_seq, prev) == 0) {
                        line_hash(buf + start, (size_t)(end - 1 - start), hash);
                        *ret_end = base + end;
                        return 0;
                }
                end = start;
        }
        if (base > 0)
                return -EBADMSG;
        return 0;
}

/* Continue the chain from the file's last record; note what follows it. */
static int load_tail(struct audit *a) {
        struct stat st;
        if (fstat(a->fd, &st) < 0)
                return -errno;
        off_t end;
        int r = find_tail(a->fd, st.st_size, &a->seq, a->prev, &end);
        if (r < 0)
                return r;
        a->size = st.st_size;
        a->torn = false;
        a->continues = false;
        if (end < st.st_size) {
                /* A torn or foreign tail: end it with a newline so the next record
                 * starts on its own line, and remember it for the repair record. */
                uint64_t n = (uint64_t)(st.st_size - end);
                _cleanup_free_ char *tail = n <= 2 * AUDIT_MAX_LINE + 2 ? malloc(n + 1) : NULL;
                if (!tail)
                        return -ENOMEM;
                if (pread(a->fd, tail, n, end) != (ssize_t)n)
                        return -EIO;
                if (tail[n - 1] != '\n') {
                        if (write(a->fd, "\n", 1) != 1)
                                return -errno;
                        tail[n++] = '\n';
                }
                line_hash(tail, n, a->torn_hash);
                a->torn = true;
                a->torn_offset = end;
                a->torn_bytes = n;
                a->size = end + (off_t)n;
                return 0;
        }
        if (st.st_size > 0)
                return 0;
        /* An empty file next to a rotated one: the rotation was interrupted or
         * done by someone else; the chain goes on from path.1. */
        _cleanup_free_ char *old = NULL;
        if (asprintf(&old, "%s.1", a->path) < 0)
                return -ENOMEM;
        _cleanup_close_ int ofd = open(old, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ofd >= 0 && fstat(ofd, &st) == 0 && st.st_size > 0 && find_tail(ofd, st.st_size, &a->seq, a->prev, &end) == 0)
                a->continues = a->seq > 0;
        return 0;
}

static int format_record(struct audit *a, const char *event, const char *clause, const struct audit_field *fields,
                         char **ret, size_t *ret_len) {
        char *line = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&line, &len);
        if (!f)
                return -ENOMEM;
        char t[32];
        format_rfc3339(now_unix(), t);
        fprintf(f, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"host\":", a->seq + 1, t);
        json_write_string(f, a->host);
        fputs(",\"event\":", f);
        json_write_string(f, event);
        if (clause) {
                fputs(",\"clause\":", f);
                json_write_string(f, clause);
        }
        for (const struct audit_field *fl = fields; fl && fl->name; fl++) {
                fputc(',', f);
                json_write_string(f, fl->name);
                fputc(':', f);
                json_write_string(f, fl->value);
        }
        fprintf(f, ",\"prev\":\"%s\"}", a->prev);
        if (fclose(f) != 0) {
                free(line);
                return -ENOMEM;
        }
        if (len > AUDIT_MAX_LINE) {
                free(line);
                return -E2BIG;
        }
        *ret = line;
        *ret_len = len;
        return 0;
}

/* The head (next to the log, for `audit verify`) and the anchor (in the
 * state directory, the daemon's own memory). Neither is synced: an older
 * one after a power cut names a record that is still there. */
static void write_marks(struct audit *a) {
        char buf[160];
        int n = snprintf(buf, sizeof buf, "%" PRIu64 " %s\n", a->seq, a->prev);
        (void)write_file_replace(a->head_path, buf, (size_t)n, 0640);
        struct stat st;
        if (!a->anchor_path || fstat(a->fd, &st) < 0)
                return;
        n = snprintf(buf, sizeof buf, "%" PRIu64 " %s %lld %llu\n", a->seq, a->prev, (long long)a->size,
                     (unsigned long long)st.st_ino);
        (void)write_file_replace(a->anchor_path, buf, (size_t)n, 0600);
}

/* Append one formatted line; on failure nothing of it stays in the file. */
static int append_line(struct audit *a, char *line, size_t len) {
        line[len] = '\n'; /* open_memstream keeps a NUL after the data: room for one byte */
        ssize_t k = write(a->fd, line, len + 1);
        int r = k == (ssize_t)(len + 1) ? 0 : k < 0 ? -errno : -ENOSPC;
        if (r == 0 && fdatasync(a->fd) < 0)
                r = -errno;
        if (r < 0) {
                /* Best effort (glibc's warn_unused_result ignores a (void) cast): a torn
                 * line left behind is repaired at the next start (audit.repaired). */
                int t = ftruncate(a->fd, a->size);
                (void)t;
                line[len] = '\0';
                return r;
        }
        a->size += (off_t)(len + 1);
        a->seq++;
        line_hash(line, len, a->prev);
        write_marks(a);
        line[len] = '\0';
        if (a->journal)
                (void)journal_send_record(a->journal, line, len);
        else if (a->to_syslog)
                syslog(LOG_NOTICE, "%s", line);
        return 0;
}

static int write_locked(struct audit *a, const char *event, const char *clause, const struct audit_field *fields) {
        char *line = NULL;
        size_t len;
        int r = format_record(a, event, clause, fields, &line, &len);
        if (r == 0)
                r = append_line(a, line, len);
        free(line);
        return r;
}

/* Pending records the file itself needs first: the repair of a torn tail,
 * the link to the previous file. */
static int write_pending(struct audit *a) {
        if (a->torn) {
                char off[32], bytes[32];
                snprintf(off, sizeof off, "%lld", (long long)a->torn_offset);
                snprintf(bytes, sizeof bytes, "%" PRIu64, a->torn_bytes);
                const struct audit_field f[] = {
                        { "torn-offset", off }, { "torn-bytes", bytes }, { "torn-sha", a->torn_hash },
                        { "note", "bytes after the last record (a torn or foreign write) were ended here, not removed" },
                        { NULL },
                };
                int r = write_locked(a, "audit.repaired", NULL, f);
                if (r < 0)
                        return r;
                a->torn = false;
        }
        if (a->continues) {
                _cleanup_free_ char *old = NULL;
                if (asprintf(&old, "%s.1", a->path) < 0)
                        return -ENOMEM;
                const char *base = strrchr(old, '/');
                const struct audit_field f[] = { { "previous-file", base ? base + 1 : old }, { NULL } };
                int r = write_locked(a, "audit.continued", NULL, f);
                if (r < 0)
                        return r;
                a->continues = false;
        }
        return 0;
}

/* Move path to path.1 (and older ones up), start an empty file. */
static int rotate(struct audit *a) {
        size_t n = strlen(a->path) + 16;
        _cleanup_free_ char *from = malloc(n), *to = malloc(n);
        if (!from || !to)
                return -ENOMEM;
        for (unsigned i = a->rotate_keep; i > 1; i--) {
                snprintf(from, n, "%s.%u", a->path, i - 1);
                snprintf(to, n, "%s.%u", a->path, i);
                if (rename(from, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        snprintf(to, n, "%s.1", a->path);
        if (rename(a->path, to) < 0)
                return -errno;
        int fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        flock(fd, LOCK_EX);
        flock(a->fd, LOCK_UN);
        close(a->fd);
        a->fd = fd;
        a->size = 0;
        a->continues = true;
        return fsync_directory_of(a->path);
}

int audit_open(const char *path, const char *host, bool to_syslog, struct audit **ret) {
        struct audit *a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->fd = -1;
        a->to_syslog = to_syslog;
        a->path = strdup(path);
        a->host = strdup(host ? host : "");
        if (!a->path || !a->host || asprintf(&a->head_path, "%s.head", path) < 0) {
                audit_close(a);
                return -ENOMEM;
        }
        if (to_syslog)
                openlog("sekisho-audit", LOG_NDELAY, LOG_AUTHPRIV);
        a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        int r = a->fd < 0 ? -errno : 0;
        if (r == 0 && flock(a->fd, LOCK_EX) < 0)
                r = -errno;
        if (r == 0)
                r = load_tail(a);
        if (r == 0 && a->torn)
                r = write_pending(a); /* the repair is written now, not with the next event */
        if (a->fd >= 0)
                flock(a->fd, LOCK_UN);
        if (r < 0) {
                audit_close(a);
                return r;
        }
        *ret = a;
        return 0;
}

void audit_set_journal(struct audit *a, struct journal *j) {
        journal_close(a->journal);
        a->journal = j;
}

struct audit *audit_close(struct audit *a) {
        if (!a)
                return NULL;
        journal_close(a->journal);
        closep(&a->fd);
        if (a->to_syslog)
                closelog();
        free(a->path);
        free(a->head_path);
        free(a->anchor_path);
        free(a->seal_path);
        free(a->host);
        free(a);
        return NULL;
}

void audit_set_rotation(struct audit *a, uint64_t max_bytes, unsigned keep) {
        a->rotate_bytes = max_bytes;
        a->rotate_keep = keep ? keep : 1;
}

int audit_last_error(const struct audit *a) { return a ? a->error : -ENOTCONN; }

/* Is record seq, with this hash, in the file open at fd? A linear scan, for a log replaced by a copy. */
static int file_has_record(int fd, uint64_t seq, const char *hash) {
        int dfd = dup(fd);
        if (dfd < 0)
                return -errno;
        FILE *f = fdopen(dfd, "r");
        if (!f) {
                close(dfd);
                return -errno;
        }
        rewind(f);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int found = 0;
        while (!found && (n = getline(&line, &cap, f)) > 0) {
                uint64_t v;
                char p[AUDIT_HASH_HEX + 1], h[AUDIT_HASH_HEX + 1];
                if (line[n - 1] != '\n')
                        break;
                line[--n] = '\0';
                if (parse_record(line, (size_t)n, &v, p) < 0 || v != seq)
                        continue;
                line_hash(line, (size_t)n, h);
                found = strcmp(h, hash) == 0 ? 1 : -1;
        }
        free(line);
        fclose(f);
        return found > 0;
}

/* Does the anchored record (seq, ending at offset end of inode ino) still hash to hash? */
static int anchored_record_matches(struct audit *a, uint64_t seq, off_t end, unsigned long long ino, const char *hash) {
        struct stat st;
        _cleanup_close_ int ofd = -1;
        int fd = a->fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_ino != ino) {
                _cleanup_free_ char *old = NULL;
                if (asprintf(&old, "%s.1", a->path) < 0)
                        return -ENOMEM;
                ofd = open(old, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (ofd < 0 || fstat(ofd, &st) < 0 || st.st_ino != ino)
                        return file_has_record(a->fd, seq, hash); /* not the file it was written to */
                fd = ofd;
        }
        if (end < 2 || end > st.st_size)
                return 0;
        off_t want = end > AUDIT_MAX_LINE + 1 ? AUDIT_MAX_LINE + 1 : end;
        _cleanup_free_ char *buf = malloc((size_t)want + 1);
        if (!buf)
                return -ENOMEM;
        if (pread(fd, buf, (size_t)want, end - want) != want)
                return -EIO;
        if (buf[want - 1] != '\n')
                return 0;
        buf[want - 1] = '\0';
        char *line = strrchr(buf, '\n');
        line = line ? line + 1 : buf;
        char h[AUDIT_HASH_HEX + 1];
        line_hash(line, strlen(line), h);
        return strcmp(h, hash) == 0;
}

int audit_anchor(struct audit *a, const char *anchor_path, struct audit_gap *gap) {
        *gap = (struct audit_gap){ 0 };
        free(a->anchor_path);
        a->anchor_path = strdup(anchor_path);
        if (!a->anchor_path)
                return -ENOMEM;
        _cleanup_free_ char *data = NULL;
        int r = read_file_capped(anchor_path, 256, &data, NULL);
        if (r == -ENOENT) {
                write_marks(a); /* first start with this state directory */
                return 0;
        }
        if (r < 0)
                return r;
        unsigned long long seq, ino;
        long long end;
        char hash[AUDIT_HASH_HEX + 1];
        if (sscanf(data, "%llu %64s %lld %llu", &seq, hash, &end, &ino) != 4 || strlen(hash) != AUDIT_HASH_HEX) {
                snprintf(gap->what, sizeof gap->what, "the anchor %s is malformed", anchor_path);
                gap->found = true;
                gap->from = gap->to = a->seq;
        } else if (seq > a->seq) {
                snprintf(gap->what, sizeof gap->what, "the log ends at record %" PRIu64 " but %llu was written last",
                         a->seq, seq);
                gap->found = true;
                gap->from = a->seq + 1;
                gap->to = seq;
        } else if (seq > 0 && anchored_record_matches(a, seq, end, ino, hash) == 0) {
                snprintf(gap->what, sizeof gap->what, "record %llu is not the one written (log cut and refilled?)", seq);
                gap->found = true;
                gap->from = gap->to = seq;
        }
        if (!gap->found) {
                write_marks(a);
                return 0;
        }
        memcpy(gap->old_hash, hash, sizeof hash);
        snprintf(gap->evidence, sizeof gap->evidence, "%s.evidence-%llu", anchor_path, seq);
        if (rename(anchor_path, gap->evidence) < 0)
                return -errno;
        /* The next record's number says how many went missing. */
        if (gap->to > a->seq)
                a->seq = gap->to;
        return 0;
}

/* Take the log's lock and catch up with what another writer appended. */
static int begin(struct audit *a) {
        if (flock(a->fd, LOCK_EX) < 0)
                return -errno;
        struct stat st;
        int r = fstat(a->fd, &st) < 0 ? -errno : 0;
        /* Another writer (sekisho-reset) appended: continue after its records. */
        if (r == 0 && st.st_size != a->size) {
                uint64_t seq = a->seq;
                r = load_tail(a);
                if (r == 0 && a->seq < seq)
                        a->seq = seq; /* never count backwards: a cut is the anchor's to report */
        }
        if (r < 0)
                flock(a->fd, LOCK_UN);
        return r;
}

static int end(struct audit *a, int r) {
        flock(a->fd, LOCK_UN);
        a->error = r;
        return r;
}

int audit_write(struct audit *a, const char *event, const char *clause, const struct audit_field *fields,
                uint64_t *ret_seq) {
        int r = begin(a);
        if (r < 0)
                return a->error = r;
        char *line = NULL;
        size_t len = 0;
        r = format_record(a, event, clause, fields, &line, &len);
        if (r == 0 && a->rotate_bytes && a->size > 0 && (uint64_t)a->size + len + 1 > a->rotate_bytes)
                r = rotate(a);
        if (r == 0 && (a->torn || a->continues)) {
                r = write_pending(a);
                free(line);
                line = NULL;
                if (r == 0)
                        r = format_record(a, event, clause, fields, &line, &len);
        }
        if (r == 0)
                r = append_line(a, line, len);
        free(line);
        if (r == 0 && ret_seq)
                *ret_seq = a->seq;
        return end(a, r);
}

void audit_set_seal(struct audit *a, const char *seal_path) {
        free(a->seal_path);
        a->seal_path = seal_path ? strdup(seal_path) : NULL;
}

/* An audit.sealed record: the MAC of its own seq and prev under the key of the current epoch. */
static int write_seal(struct audit *a) {
        int r = begin(a);
        if (r < 0)
                return a->error = r;
        r = write_pending(a);
        uint64_t epoch;
        char mac[2 * SEAL_KEY_BYTES + 1], e[24];
        if (r == 0)
                r = seal_make(a->seal_path, now_unix(), a->seq + 1, a->prev, &epoch, mac);
        if (r == 0) {
                snprintf(e, sizeof e, "%" PRIu64, epoch);
                const struct audit_field f[] = { { "epoch", e }, { "mac", mac }, { NULL } };
                r = write_locked(a, "audit.sealed", NULL, f);
        }
        return end(a, r);
}

void audit_checkpoint(struct audit *a) {
        if (!a)
                return;
        if (a->seal_path && access(a->seal_path, F_OK) == 0) {
                int r = write_seal(a);
                if (r < 0)
                        log_error_errno(r, "Cannot seal the audit log with %s", a->seal_path);
        }
        log_notice(CHECKPOINT_TAG "seq=%" PRIu64 " hash=%s host=%s", a->seq, a->prev, a->host);
        if (a->to_syslog)
                syslog(LOG_NOTICE, CHECKPOINT_TAG "seq=%" PRIu64 " hash=%s host=%s", a->seq, a->prev, a->host);
}

static int checkpoint_cmp(const void *x, const void *y) {
        const struct audit_checkpoint *a = x, *b = y;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int audit_checkpoints_parse(const char *data, size_t size, struct audit_checkpoint **ret, size_t *ret_n, char *why,
                            size_t why_size) {
        struct audit_checkpoint *list = NULL;
        size_t n = 0, cap = 0, lineno = 0;
        *ret = NULL;
        *ret_n = 0;
        for (size_t off = 0; off < size;) {
                const char *line = data + off;
                const char *nl = memchr(line, '\n', size - off);
                size_t len = nl ? (size_t)(nl - line) : size - off;
                off += len + 1;
                lineno++;
                const char *tag = memmem(line, len, CHECKPOINT_TAG, strlen(CHECKPOINT_TAG));
                if (!tag)
                        continue;
                const char *p = tag + strlen(CHECKPOINT_TAG), *end = line + len;
                struct audit_checkpoint c = { 0 };
                char num[24];
                size_t k = 0;
                bool ok = end - p > 4 && memcmp(p, "seq=", 4) == 0;
                for (p += ok ? 4 : 0; ok && p < end && *p >= '0' && *p <= '9' && k + 1 < sizeof num; p++)
                        num[k++] = *p;
                num[k] = '\0';
                ok = ok && parse_u64(num, &c.seq) == 0 && end - p > 6 + AUDIT_HASH_HEX && memcmp(p, " hash=", 6) == 0;
                for (k = 0, p += ok ? 6 : 0; ok && k < AUDIT_HASH_HEX; k++, p++) {
                        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
                        c.hash[k] = *p;
                }
                if (!ok || (p < end && *p != ' ')) {
                        snprintf(why, why_size, "line %zu: malformed checkpoint (want seq=N hash=64 hex digits)", lineno);
                        free(list);
                        return -EBADMSG;
                }
                if (n == CHECKPOINTS_MAX) {
                        snprintf(why, why_size, "line %zu: more than %u checkpoints", lineno, CHECKPOINTS_MAX);
                        free(list);
                        return -E2BIG;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        struct audit_checkpoint *nl2 = realloc(list, ncap * sizeof *list);
                        if (!nl2) {
                                free(list);
                                return -ENOMEM;
                        }
                        list = nl2;
                        cap = ncap;
                }
                list[n++] = c;
        }
        if (n)
                qsort(list, n, sizeof *list, checkpoint_cmp);
        *ret = list;
        *ret_n = n;
        return 0;
}

/* ---- verification ---- */

struct verifier {
        const struct audit_verify_options *o;
        char prev[AUDIT_HASH_HEX + 1];
        uint64_t expect;          /* next seq; 0 before the first record */
        uint64_t first, count;
        uint64_t head_seq;
        char head_hash[AUDIT_HASH_HEX + 1];
        bool head_seen;
        /* a run of lines that are not records, waiting for its repair record */
        bool in_bad;
        off_t bad_off;
        uint64_t bad_bytes, bad_line;
        crypto_generichash_state bad;
        uint64_t repaired;        /* how many runs were repaired */
        char gaps[256];           /* truncations the daemon reported */
        struct seal_cache seal;
        uint64_t seals, sealed_seq, sealed_epoch;
        size_t next_cp;           /* checkpoints are sorted: the next one to meet */
};

static int check_record(struct verifier *v, const char *path, uint64_t lineno, const char *line, size_t n, bool first_in_file,
                        char *why, size_t why_size) {
        const struct audit_verify_options *o = v->o;
        uint64_t seq;
        char p[AUDIT_HASH_HEX + 1];
        if (parse_record(line, n, &seq, p) < 0)
                return -ENOENT;
        if (v->in_bad) {
                uint8_t h[32];
                char hex[AUDIT_HASH_HEX + 1], sha[AUDIT_HASH_HEX + 2];
                uint64_t off, bytes;
                crypto_generichash_final(&v->bad, h, sizeof h);
                hex_encode(h, sizeof h, hex);
                if (!field_is(line, "event", "audit.repaired") || !field_u64(line, "torn-offset", &off) ||
                    !field_u64(line, "torn-bytes", &bytes) || json_field(line, "torn-sha", false, sha, sizeof sha) < 0 ||
                    off != (uint64_t)v->bad_off || bytes != v->bad_bytes || strcmp(sha, hex) != 0) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": not an audit record, and no repair record names it",
                                 path, v->bad_line);
                        return -EBADMSG;
                }
                v->in_bad = false;
                v->repaired++;
        }
        bool truncated = field_is(line, "event", "audit.truncated");
        if (!v->expect || first_in_file) {
                bool cont = field_is(line, "event", "audit.continued");
                if (v->expect && !cont) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": a rotated file must start with audit.continued", path, lineno);
                        return -EBADMSG;
                }
                if (!v->expect && !cont && (seq != 1 || strcmp(p, ZERO_HASH) != 0)) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": the log starts at record %" PRIu64
                                 ", not at record 1 (records removed from the start)", path, lineno, seq);
                        return -EBADMSG;
                }
        }
        if (v->expect && seq != v->expect) {
                uint64_t from, to;
                if (!truncated || !field_u64(line, "missing-from", &from) || !field_u64(line, "missing-to", &to) ||
                    from != v->expect || to + 1 != seq) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64 " where %" PRIu64
                                 " was expected (dropped or reordered)", path, lineno, seq, v->expect);
                        return -EBADMSG;
                }
        }
        if (v->expect && strcmp(p, v->prev) != 0) {
                snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64
                         " does not chain to the one before it (edited, dropped or reordered)", path, lineno, seq);
                return -EBADMSG;
        }
        if (truncated) {
                char from[24] = "?", to[24] = "?";
                (void)json_field(line, "missing-from", false, from, sizeof from);
                (void)json_field(line, "missing-to", false, to, sizeof to);
                size_t l = strlen(v->gaps);
                snprintf(v->gaps + l, sizeof v->gaps - l, "%srecords %s-%s removed or replaced (reported at record %" PRIu64 ")",
                         l ? "; " : "", from, to, seq);
        }
        if (o && o->seal && field_is(line, "event", "audit.sealed")) {
                uint64_t epoch;
                char mac[2 * SEAL_KEY_BYTES + 2];
                if (!field_u64(line, "epoch", &epoch) || json_field(line, "mac", false, mac, sizeof mac) < 0 ||
                    (v->seals && epoch < v->sealed_epoch) || !seal_check(o->seal, &v->seal, epoch, seq, p, mac)) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": the seal of record %" PRIu64 " does not verify under the "
                                 "officer's key (records before it edited, or the seal forged)", path, lineno, seq);
                        return -EBADMSG;
                }
                v->seals++;
                v->sealed_seq = seq;
                v->sealed_epoch = epoch;
        }
        line_hash(line, n, v->prev);
        if (v->head_seen && seq == v->head_seq && strcmp(v->prev, v->head_hash) != 0) {
                snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64 " is not the one the head names (edited)", path,
                         lineno, seq);
                return -EBADMSG;
        }
        for (; o && v->next_cp < o->n_checkpoints && o->checkpoints[v->next_cp].seq <= seq; v->next_cp++) {
                const struct audit_checkpoint *c = &o->checkpoints[v->next_cp];
                if (c->seq < seq) {
                        snprintf(why, why_size, "%s: record %" PRIu64 ", which the collector holds a checkpoint of, is not "
                                 "in the log (%s)", path, c->seq, v->count ? "removed" : "cut at the start");
                        return -EBADMSG;
                }
                if (strcmp(c->hash, v->prev) != 0) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64 " differs from the collector's checkpoint",
                                 path, lineno, seq);
                        return -EBADMSG;
                }
        }
        if (!v->count)
                v->first = seq;
        v->expect = seq + 1;
        v->count++;
        return 0;
}

static int verify_file(struct verifier *v, const char *path, char *why, size_t why_size) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                return -errno;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        uint64_t lineno = 0;
        off_t off = 0;
        int r = 0;
        bool first = true;
        while ((n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                off_t start = off;
                off += n;
                bool complete = n > 0 && line[n - 1] == '\n';
                if (complete)
                        line[n - 1] = '\0';
                r = complete ? check_record(v, path, lineno, line, (size_t)n - 1, first, why, why_size) : -ENOENT;
                if (r == -ENOENT) {
                        if (!complete) {
                                snprintf(why, why_size, "%s:%" PRIu64 ": torn record (no end of line)", path, lineno);
                                r = -EBADMSG;
                                break;
                        }
                        /* Not a record: acceptable only if a repair record names these bytes. */
                        if (!v->in_bad) {
                                v->in_bad = true;
                                v->bad_off = start;
                                v->bad_bytes = 0;
                                v->bad_line = lineno;
                                crypto_generichash_init(&v->bad, NULL, 0, 32);
                        }
                        line[n - 1] = '\n';
                        crypto_generichash_update(&v->bad, (const unsigned char *)line, (size_t)n);
                        v->bad_bytes += (uint64_t)n;
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                first = false;
        }
        free(line);
        if (r == 0 && v->in_bad) {
                snprintf(why, why_size, "%s:%" PRIu64 ": not an audit record, and no repair record names it", path,
                         v->bad_line);
                r = -EBADMSG;
        }
        return r;
}

int audit_verify_series(const char *const *paths, size_t n_paths, const struct audit_verify_options *o, char *why,
                        size_t why_size, uint64_t *ret_count) {
        struct verifier v = { .o = o };
        *ret_count = 0;
        if (n_paths == 0)
                return -EINVAL;
        const char *last = paths[n_paths - 1];
        /* The head of the newest file: the end of the chain must be there. */
        _cleanup_free_ char *head_path = NULL, *head = NULL;
        if (asprintf(&head_path, "%s.head", last) < 0)
                return -ENOMEM;
        int r = read_file_capped(head_path, 256, &head, NULL);
        if (r == 0) {
                unsigned long long hseq;
                if (sscanf(head, "%llu %64s", &hseq, v.head_hash) != 2 || strlen(v.head_hash) != AUDIT_HASH_HEX) {
                        snprintf(why, why_size, "%s: malformed", head_path);
                        return -EBADMSG;
                }
                v.head_seq = hseq;
                v.head_seen = true;
        } else if (r != -ENOENT) {
                snprintf(why, why_size, "%s: %s", head_path, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n_paths; i++) {
                r = verify_file(&v, paths[i], why, why_size);
                *ret_count = v.count;
                if (r < 0)
                        return r;
        }
        uint64_t last_seq = v.expect ? v.expect - 1 : 0;
        if (!v.head_seen && v.count) {
                snprintf(why, why_size, "%s is missing: the end of the log cannot be checked (deleted?)", head_path);
                return -EBADMSG;
        }
        if (v.head_seen && v.head_seq > last_seq) {
                snprintf(why, why_size, "%s: the log ends at record %" PRIu64 " but %llu was written last "
                         "(records removed from the end or the last one edited)", last, last_seq,
                         (unsigned long long)v.head_seq);
                return -EBADMSG;
        }
        if (o && v.next_cp < o->n_checkpoints) {
                snprintf(why, why_size, "%s: the log ends at record %" PRIu64 " but the collector holds a checkpoint of "
                         "record %" PRIu64 " (cut at the end)", last, last_seq, o->checkpoints[o->n_checkpoints - 1].seq);
                return -EBADMSG;
        }
        if (o && o->seal && !v.seals) {
                snprintf(why, why_size, "%s: no seal in %" PRIu64 " records (sealing not set up, or the seals removed)", last,
                         v.count);
                return -EBADMSG;
        }
        if (v.gaps[0]) {
                snprintf(why, why_size, "%s: %" PRIu64 " records chain, but %s", last, v.count, v.gaps);
                return -EBADMSG;
        }
        char extra[512] = "";
        if (v.first > 1)
                snprintf(extra, sizeof extra, "; starts at record %" PRIu64 ", continuing a rotated file not given", v.first);
        if (v.repaired)
                snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "; %" PRIu64 " torn write(s) repaired",
                         v.repaired);
        if (o && o->n_checkpoints)
                snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "; %zu checkpoints match", o->n_checkpoints);
        if (o && o->seal) {
                char t[32];
                format_rfc3339(o->seal->start + (int64_t)((v.sealed_epoch + 1) * o->seal->interval), t);
                snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "; %" PRIu64 " seals verify, sealed through "
                         "record %" PRIu64 " (epoch %" PRIu64 "): a copy taken after %s without a later seal was cut at the end",
                         v.seals, v.sealed_seq, v.sealed_epoch, t);
        }
        snprintf(why, why_size, "%s: %" PRIu64 " records, chain intact%s", last, v.count, extra);
        return 0;
}

int audit_verify(const char *path, char *why, size_t why_size, uint64_t *ret_count) {
        return audit_verify_series(&path, 1, NULL, why, why_size, ret_count);
}
