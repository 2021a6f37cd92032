/* fuzz-probewire.c — libFuzzer target for the checks of the messages between sekishod and sekisho-probe (probewire.c): the first byte picks the direction. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "probewire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        if (data[0] & 1) {
                struct probe_reply a;
                if (probe_reply_parse(data + 1, size - 1, &a) == 0) {
                        /* What reaches the logs and the audit trail is a known result and printable ASCII. */
                        if (a.result > PROBE_FAILED || strnlen(a.detail, sizeof a.detail) == sizeof a.detail)
                                __builtin_trap();
                        for (const char *c = a.detail; *c; c++)
                                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                                        __builtin_trap();
                }
        } else {
                struct probe_request q;
                if (probe_request_parse(data + 1, size - 1, &q) == 0) {
                        if (!q.host[0] || strnlen(q.host, sizeof q.host) == sizeof q.host ||
                            strnlen(q.sni, sizeof q.sni) == sizeof q.sni || q.port == 0 || q.timeout_usec == 0)
                                __builtin_trap();
                }
        }
        return 0;
}
