/* classify-nfq.h — the classifier's side of NFQUEUE: packets in, verdicts out, every attribute length-checked. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "classify.h"

struct nlmsghdr;

/* Where verdict messages go (the socket; a buffer in the fuzzer). */
typedef int (*cls_send_fn)(void *userdata, const struct nlmsghdr *nlh);
/* Called on each decision (logging); may be NULL. */
typedef void (*cls_note_fn)(void *userdata, enum cls_verdict v, uint16_t proto, const uint8_t *pkt, size_t len);

/* One datagram of netlink messages from queue `queue`: each queued packet
 * goes through cls_packet and gets its verdict (accept; or, once decided,
 * NF_REPEAT with the decision in the packet mark's NET_DPI_MARK_MASK bits,
 * for the ruleset to move into the conntrack mark). 0, or -errno when the
 * datagram is malformed or a verdict could not be sent. */
int cls_nfq_handle(struct cls *c, uint16_t queue, const void *buf, size_t len, uint64_t now_ms, cls_send_fn send,
                   cls_note_fn note, void *userdata);

/* The configuration messages that bind `queue` (copy whole packets, up to
 * maxlen waiting), each passed to send. */
int cls_nfq_bind(uint16_t queue, uint32_t maxlen, cls_send_fn send, void *userdata);
