/* classify.h — the file-sharing classifier's core: a bounded table of undecided flows, each direction's first message made whole however it was segmented, nDPI's answer as a verdict. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what the traffic can make the classifier hold. */
#define CLS_MAX_FLOWS 8192        /* undecided flows and recent decisions */
#define CLS_HEAD_MIN 68           /* a first message shorter than this is held back and joined to what follows
                                   * (68: the whole BitTorrent handshake) */
#define CLS_MAX_PACKETS 24        /* packets of one flow looked at before giving up (unknown: allowed) */
#define CLS_IDLE_MS 30000         /* an undecided flow silent this long is forgotten */
#define CLS_DECIDED_MS 3000       /* a decision is remembered this long for packets already queued */

enum cls_verdict {
        CLS_PASS,                 /* accept this packet; the flow is not decided yet */
        CLS_ALLOW,                /* accept; mark the flow allowed */
        CLS_FORBID,               /* drop; mark the flow forbidden */
};

struct cls_stats {
        uint64_t packets, flows, allowed, forbidden, gave_up, evicted, joined, malformed;
};

struct cls;

int cls_new(struct cls **ret);
struct cls *cls_free(struct cls *c);

/* One packet from its IP header (IPv4 or IPv6, as the kernel queued it).
 * *ret_proto (may be NULL) gets nDPI's protocol id on a decision. Never
 * fails: what cannot be parsed is passed, as the kernel accepts it without
 * the classifier too (the ruleset queues only TCP and UDP of tracked flows). */
enum cls_verdict cls_packet(struct cls *c, const uint8_t *pkt, size_t len, uint64_t now_ms, uint16_t *ret_proto);

const struct cls_stats *cls_stats(const struct cls *c);
/* nDPI's name for a protocol id ("BitTorrent"). */
const char *cls_proto_name(struct cls *c, uint16_t proto);
/* True for the nDPI protocols the classifier forbids (file sharing). */
bool cls_proto_forbidden(uint16_t proto);
