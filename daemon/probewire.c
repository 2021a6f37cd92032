/* probewire.c — checks the messages between sekishod and sekisho-probe; one parser per direction, for both sides and the fuzzer. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "probewire.h"

static bool terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

int probe_request_parse(const void *buf, size_t n, struct probe_request *ret) {
        struct probe_request q;
        if (n != sizeof q)
                return -EBADMSG;
        memcpy(&q, buf, sizeof q);
        if (q.magic != PROBE_WIRE_MAGIC || q.port == 0 || !terminated(q.host, sizeof q.host) || !q.host[0] ||
            !terminated(q.sni, sizeof q.sni) || q.timeout_usec == 0 || q.timeout_usec > 600 * 1000000ULL)
                return -EBADMSG;
        *ret = q;
        return 0;
}

int probe_reply_parse(const void *buf, size_t n, struct probe_reply *ret) {
        struct probe_reply a;
        if (n != sizeof a)
                return -EBADMSG;
        memcpy(&a, buf, sizeof a);
        if (a.magic != PROBE_WIRE_MAGIC || a.result > PROBE_FAILED || !terminated(a.detail, sizeof a.detail))
                return -EBADMSG;
        for (char *c = a.detail; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                        *c = '?';
        *ret = a;
        return 0;
}
