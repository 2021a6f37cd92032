/* fuzz-classify.c — libFuzzer target for what sekisho-classify parses: NFQUEUE netlink datagrams from the kernel and the packets in them, through nDPI (one classifier across inputs, as in the process). */
#include "config.h"

#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify-nfq.h"

static size_t verdicts;

/* Every verdict the classifier writes is one well-formed message. */
static int sink(void *userdata, const struct nlmsghdr *nlh) {
        (void)userdata;
        if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > 8192)
                __builtin_trap();
        verdicts++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct cls *c;
        static uint64_t now;
        if (!c && cls_new(&c) < 0)
                return 0;
        if (size < 1 || size > 0xffff + 4096)
                return 0;
        now += 7;
        /* First byte 0: the rest is one netlink datagram (aligned copy, as
         * recv gives it). Otherwise: packets, each behind a 2-byte length. */
        uint8_t *buf = malloc(size);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, size - 1);
        if (data[0] == 0)
                (void)cls_nfq_handle(c, 3142, buf, size - 1, now, sink, NULL, NULL);
        else
                for (size_t off = 0; off + 2 <= size - 1;) {
                        size_t n = (size_t)buf[off] << 8 | buf[off + 1];
                        off += 2;
                        if (n > size - 1 - off)
                                n = size - 1 - off;
                        uint16_t proto = 0;
                        enum cls_verdict v = cls_packet(c, buf + off, n, now++, &proto);
                        if (v != CLS_PASS && v != CLS_ALLOW && v != CLS_FORBID)
                                __builtin_trap();
                        off += n;
                }
        free(buf);
        return 0;
}
