/* classify-nfq.c — NFQUEUE messages for the classifier (libmnl, libnetfilter_queue): parse each queued packet, answer with a verdict and, once a flow is decided, its mark. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "classify-nfq.h"
#include "dpi.h"

struct run {
        struct cls *c;
        uint16_t queue;
        uint64_t now_ms;
        cls_send_fn send;
        cls_note_fn note;
        void *userdata;
        int err;
};

static void on_packet(const struct nlmsghdr *nlh, struct run *r) {
        struct nlattr *attr[NFQA_MAX + 1] = { 0 };
        if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
                return; /* not a packet (or one without its header): nothing to answer */
        if (mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(struct nfqnl_msg_packet_hdr))
                return;
        const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
        uint32_t id = ntohl(ph->packet_id);
        const uint8_t *pkt = NULL;
        size_t len = 0;
        if (attr[NFQA_PAYLOAD]) {
                pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
                len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
        }
        uint32_t mark = attr[NFQA_MARK] && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4 ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
        uint16_t proto = 0;
        enum cls_verdict v = pkt ? cls_packet(r->c, pkt, len, r->now_ms, &proto) : CLS_PASS;
        if (v != CLS_PASS && r->note)
                r->note(r->userdata, v, proto, pkt, len);

        char buf[8192] __attribute__((aligned(8)));
        struct nlmsghdr *out = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, r->queue);
        if (v == CLS_PASS)
                nfq_nlmsg_verdict_put(out, (int)id, NF_ACCEPT);
        else {
                /* Back through our chain once, the decision in the packet mark. */
                nfq_nlmsg_verdict_put(out, (int)id, NF_REPEAT);
                nfq_nlmsg_verdict_put_mark(out, (mark & ~NET_DPI_MARK_MASK) |
                                                        (v == CLS_FORBID ? NET_DPI_MARK_FORBID : NET_DPI_MARK_ALLOW));
        }
        int e = r->send(r->userdata, out);
        if (e < 0 && r->err == 0)
                r->err = e;
}

int cls_nfq_handle(struct cls *c, uint16_t queue, const void *buf, size_t len, uint64_t now_ms, cls_send_fn send,
                   cls_note_fn note, void *userdata) {
        struct run r = { .c = c, .queue = queue, .now_ms = now_ms, .send = send, .note = note, .userdata = userdata };
        /* Our own walk, not mnl_cb_run: libmnl 1.0.4's mnl_nlmsg_ok compares
         * nlmsg_len as an int, so a length of 2^31 or more passes its check
         * and the next header is read far outside the datagram (found by
         * tests/fuzz/fuzz-classify). */
        const uint8_t *p = buf;
        while (len >= sizeof(struct nlmsghdr)) {
                const struct nlmsghdr *nlh = (const void *)p;
                if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > len)
                        return -EINVAL;
                if (nlh->nlmsg_type == NLMSG_ERROR) {
                        /* An answer to our configuration: 0 is an ack. */
                        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                                if (e->error < 0 && r.err == 0)
                                        r.err = e->error;
                        }
                } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
                        on_packet(nlh, &r);
                size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
                if (step > len)
                        break;
                p += step;
                len -= step;
        }
        return r.err;
}

int cls_nfq_bind(uint16_t queue, uint32_t maxlen, cls_send_fn send, void *userdata) {
        char buf[8192] __attribute__((aligned(8)));
        struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
        nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
        int r = send(userdata, nlh);
        if (r < 0)
                return r;
        nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
        nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
        nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
        return send(userdata, nlh);
}
