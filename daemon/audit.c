/* audit.c — append-only JSON-lines audit log, each record chained to the previous by BLAKE2b; and its verifier. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "audit.h"
#include "util.h"

#define AUDIT_MAX_LINE (64 * 1024)
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct audit {
        int fd;
        char *path;
        char *head_path;
        char *host;
        bool to_syslog;
        uint64_t seq;                     /* of the last record */
        char prev[AUDIT_HASH_HEX + 1];    /* hash of the last record's line */
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

/* Read the last complete line of the log to continue the chain. */
static int load_tail(struct audit *a) {
        struct stat st;
        if (fstat(a->fd, &st) < 0)
                return -errno;
        a->seq = 0;
        memcpy(a->prev, ZERO_HASH, sizeof a->prev);
        if (st.st_size == 0)
                return 0;
        off_t want = st.st_size > AUDIT_MAX_LINE + 1 ? AUDIT_MAX_LINE + 1 : st.st_size;
        _cleanup_free_ char *buf = malloc((size_t)want + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t k = pread(a->fd, buf, (size_t)want, st.st_size - want);
        if (k != want)
                return k < 0 ? -errno : -EIO;
        buf[k] = '\0';
        if (buf[k - 1] != '\n') {
                /* A torn last write: end it, so the next record starts on its own line;
                 * audit verify will report the torn line. */
                if (write(a->fd, "\n", 1) != 1)
                        return -errno;
                buf[k++] = '\n';
                buf[k] = '\0';
        }
        buf[k - 1] = '\0';
        char *line = strrchr(buf, '\n');
        line = line ? line + 1 : buf;
        line_hash(line, strlen(line), a->prev);
        char seq[32];
        uint64_t v;
        if (json_field(line, "seq", false, seq, sizeof seq) == 0 && parse_u64(seq, &v) == 0)
                a->seq = v;
        return 0;
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
        a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        int r = a->fd < 0 ? -errno : load_tail(a);
        if (r < 0) {
                audit_close(a);
                return r;
        }
        if (to_syslog)
                openlog("sekisho-audit", LOG_NDELAY, LOG_AUTHPRIV);
        *ret = a;
        return 0;
}

struct audit *audit_close(struct audit *a) {
        if (!a)
                return NULL;
        closep(&a->fd);
        if (a->to_syslog)
                closelog();
        free(a->path);
        free(a->head_path);
        free(a->host);
        free(a);
        return NULL;
}

int audit_write(struct audit *a, const char *event, const char *clause, const struct audit_field *fields,
                uint64_t *ret_seq) {
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
        line[len] = '\n';  /* open_memstream keeps a NUL after the data: room for one byte */
        ssize_t k = write(a->fd, line, len + 1);
        int r = k == (ssize_t)(len + 1) ? 0 : k < 0 ? -errno : -EIO;
        if (r == 0 && fdatasync(a->fd) < 0)
                r = -errno;
        if (r == 0) {
                a->seq++;
                line_hash(line, len, a->prev);
                /* The head anchors the end of the chain: a dropped last record shows. */
                char head[128];
                int n = snprintf(head, sizeof head, "%" PRIu64 " %s\n", a->seq, a->prev);
                _cleanup_free_ char *tmp = NULL;
                if (asprintf(&tmp, "%s.tmp", a->head_path) >= 0) {
                        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
                        if (fd >= 0) {
                                if (write(fd, head, (size_t)n) == n)
                                        rename(tmp, a->head_path);
                                close(fd);
                        }
                }
                if (a->to_syslog) {
                        line[len] = '\0';
                        syslog(LOG_NOTICE, "%s", line);
                }
                if (ret_seq)
                        *ret_seq = a->seq;
        }
        free(line);
        return r;
}

int audit_verify(const char *path, char *why, size_t why_size, uint64_t *ret_count) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        *ret_count = 0;
        if (!f) {
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                return -errno;
        }
        char prev[AUDIT_HASH_HEX + 1] = ZERO_HASH;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        uint64_t lineno = 0, expect_seq = 0;
        int r = 0;
        while ((n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                if (n == 0 || line[n - 1] != '\n') {
                        snprintf(why, why_size, "%s:%" PRIu64 ": torn record (no end of line)", path, lineno);
                        r = -EBADMSG;
                        break;
                }
                line[--n] = '\0';
                char seq[32], p[AUDIT_HASH_HEX + 2];
                uint64_t v;
                if (n < 2 || line[0] != '{' || line[n - 1] != '}' || json_field(line, "seq", false, seq, sizeof seq) < 0 ||
                    parse_u64(seq, &v) < 0 || json_field(line, "prev", true, p, sizeof p) < 0) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": not an audit record", path, lineno);
                        r = -EBADMSG;
                        break;
                }
                /* A log may start at any seq (rotation); after that it must count up by one. */
                if (expect_seq && v != expect_seq) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64 " where %" PRIu64
                                 " was expected (dropped or reordered)", path, lineno, v, expect_seq);
                        r = -EBADMSG;
                        break;
                }
                if (expect_seq && strcmp(p, prev) != 0) {
                        snprintf(why, why_size, "%s:%" PRIu64 ": record %" PRIu64
                                 " does not chain to the one before it (edited, dropped or reordered)", path, lineno, v);
                        r = -EBADMSG;
                        break;
                }
                line_hash(line, (size_t)n, prev);
                expect_seq = v + 1;
                (*ret_count)++;
        }
        free(line);
        if (r < 0)
                return r;
        /* The last record must be the one the head names. */
        _cleanup_free_ char *head_path = NULL, *head = NULL;
        if (asprintf(&head_path, "%s.head", path) < 0)
                return -ENOMEM;
        if (read_file_capped(head_path, 256, &head, NULL) == 0) {
                char hash[AUDIT_HASH_HEX + 1];
                unsigned long long hseq;
                if (sscanf(head, "%llu %64s", &hseq, hash) != 2) {
                        snprintf(why, why_size, "%s: malformed", head_path);
                        return -EBADMSG;
                }
                if (hseq != (expect_seq ? expect_seq - 1 : 0) || (expect_seq && strcmp(hash, prev) != 0)) {
                        snprintf(why, why_size, "%s: the log ends at record %" PRIu64 " but %llu was written last "
                                 "(records removed from the end or the last one edited)", path,
                                 expect_seq ? expect_seq - 1 : 0, hseq);
                        return -EBADMSG;
                }
        }
        snprintf(why, why_size, "%s: %" PRIu64 " records, chain intact", path, *ret_count);
        return 0;
}
