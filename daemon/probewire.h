/* probewire.h — the messages between sekishod and sekisho-probe (the TLS probe helper): fixed-size, length-checked, one per SOCK_SEQPACKET datagram. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tlsprobe.h"

#define PROBE_WIRE_MAGIC 0x53505231u /* "SPR1": bumped when a layout changes */
#define PROBE_HOST_MAX 64            /* an IP literal: "ffff:...:255.255.255.255" fits */
#define PROBE_SNI_MAX 256            /* a DNS name is at most 253 */
#define PROBE_DETAIL_MAX 160

/* sekishod -> helper, with the probe's own socket (SCM_RIGHTS): the answer
 * comes back on that socket, so each probe has its own channel and a probe
 * whose helper child dies sees the end of it. */
struct probe_request {
        uint32_t magic;
        uint16_t port;
        uint16_t reserved;
        uint64_t timeout_usec;
        uint8_t pin[TLS_PIN_LEN];
        char host[PROBE_HOST_MAX]; /* NUL-terminated IP literal */
        char sni[PROBE_SNI_MAX];   /* NUL-terminated, may be empty */
};

/* helper -> sekishod on the probe's socket: the one answer. */
struct probe_reply {
        uint32_t magic;
        uint32_t result; /* enum probe_result */
        char detail[PROBE_DETAIL_MAX];
};

/* Check a received message (buf, n bytes) and copy it into ret: the exact
 * size, the magic, a known result, NUL-terminated strings. Reply details are
 * made printable ASCII (what a compromised helper writes goes into logs and the
 * audit trail). -EBADMSG when anything is off; ret untouched then. */
int probe_request_parse(const void *buf, size_t n, struct probe_request *ret);
int probe_reply_parse(const void *buf, size_t n, struct probe_reply *ret);
