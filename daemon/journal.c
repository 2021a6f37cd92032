/* journal.c — audit records as structured journal entries: journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL) spoken directly, without linking libsystemd into the daemon. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"
#include "json.h"
#include "util.h"

#define JOURNAL_FIELDS_MAX 64

struct journal {
        int fd;
        struct sockaddr_un addr;
        socklen_t addr_len;
};

int journal_open(const char *path, struct journal **ret) {
        struct journal *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->addr.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof j->addr.sun_path) {
                free(j);
                return -ENAMETOOLONG;
        }
        strcpy(j->addr.sun_path, path);
        j->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
        if (access(path, W_OK) < 0) {
                int r = -errno;
                free(j);
                return r;
        }
        /* Opened now, before the sandbox; unconnected, so a restarted journald is found again. */
        j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (j->fd < 0) {
                int r = -errno;
                free(j);
                return r;
        }
        int size = 8 << 20;
        (void)setsockopt(j->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        *ret = j;
        return 0;
}

struct journal *journal_close(struct journal *j) {
        if (!j)
                return NULL;
        closep(&j->fd);
        free(j);
        return NULL;
}

void journal_field_name(const char *member, char out[65]) {
        if (strcmp(member, "host") == 0)
                member = "terminal";
        size_t o = (size_t)snprintf(out, 65, "SEKISHO_");
        for (const char *p = member; *p && o < 64; p++) {
                char c = *p;
                out[o++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
        }
        out[o] = '\0';
}

/* One field in the binary form: NAME '\n' le64(len) VALUE '\n' (any bytes in VALUE). */
static void put_field(FILE *f, const char *name, const char *value, size_t len) {
        fputs(name, f);
        fputc('\n', f);
        uint64_t le = htole64((uint64_t)len);
        fwrite(&le, sizeof le, 1, f);
        fwrite(value, 1, len, f);
        fputc('\n', f);
}

static void put_text(FILE *f, const char *name, const char *value) { put_field(f, name, value, strlen(value)); }

int journal_send_record(struct journal *j, const char *line, size_t len) {
        struct json *rec = NULL;
        int r = json_parse(line, len, &rec);
        if (r < 0)
                return r;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f) {
                json_free(rec);
                return -ENOMEM;
        }
        put_field(f, "MESSAGE", line, len);
        put_text(f, "PRIORITY", "5");
        put_text(f, "SYSLOG_FACILITY", "10");
        put_text(f, "SYSLOG_IDENTIFIER", "sekisho-audit");
        for (size_t i = 0; rec->type == JSON_OBJECT && i < rec->n && i < JOURNAL_FIELDS_MAX; i++) {
                char name[65];
                const struct json *v = rec->items[i];
                journal_field_name(rec->keys[i], name);
                if (v->type == JSON_STRING || v->type == JSON_NUMBER)
                        put_text(f, name, v->text);
        }
        json_free(rec);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        struct msghdr mh = { .msg_name = &j->addr, .msg_namelen = j->addr_len, .msg_iov = &iov, .msg_iovlen = 1 };
        /* A record is at most 64 KiB (audit.c), its fields as much again: one datagram. */
        r = sendmsg(j->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
        free(buf);
        return r;
}
