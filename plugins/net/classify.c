/* classify.c — the file-sharing classifier's core: bounded flow table, first messages joined across TCP segments, nDPI asked, a verdict per packet. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "classify.h"
#include "classify-own.h"

#define BUCKETS 16384              /* power of two, about twice CLS_MAX_FLOWS */
#define HDR_MAX 192                /* IP header with extensions + TCP header we copy for a joined message */
#define NIL UINT32_MAX

#define TCP_FIN 0x01
#define TCP_RST 0x04

/* Both ends, the smaller (address, port) first, so both directions meet. */
struct key {
        uint8_t family, proto;
        uint16_t port[2];
        uint8_t addr[2][16];
};

/* The start of one direction's stream, held while it is shorter than
 * CLS_HEAD_MIN: its segments were accepted but not yet shown to nDPI. */
struct held {
        uint32_t next_seq;
        uint16_t hdr_len, len;
        uint8_t hdr[HDR_MAX];
        uint8_t data[CLS_HEAD_MIN];
};

struct flow {
        struct key key;
        uint32_t hnext, prev, next;   /* hash chain; LRU list (head: most recent) */
        uint64_t last_ms;
        struct ndpi_flow_struct *nf;  /* NULL once decided */
        struct held *held[2];
        enum cls_verdict verdict;     /* CLS_PASS while undecided */
        uint16_t proto, packets;
        bool fed[2];                  /* nDPI has seen this direction's first message */
        bool own_done[2];             /* our own detectors have had this direction's start */
        uint8_t start_len[2];
        uint32_t start_seq[2];        /* TCP: sequence number of start[d][0] */
        uint8_t start[2][CLS_OWN_START];
};

struct cls {
        struct ndpi_detection_module_struct *ndpi;
        struct flow flows[CLS_MAX_FLOWS];
        uint32_t bucket[BUCKETS];
        uint32_t free_head, lru_head, lru_tail, n;
        struct cls_stats stats;
        uint8_t synth[65535];         /* a joined message as one packet */
};

/* What nDPI 4.2 knows of file sharing (ndpi_protocol_ids.h). Winny, Share
 * and Perfect Dark have no detector there: README-net.md. */
static const uint16_t forbidden[] = {
        NDPI_PROTOCOL_BITTORRENT, NDPI_PROTOCOL_EDONKEY,  NDPI_PROTOCOL_GNUTELLA, NDPI_PROTOCOL_FASTTRACK,
        NDPI_PROTOCOL_OPENFT,     NDPI_PROTOCOL_DIRECTCONNECT, NDPI_PROTOCOL_APPLEJUICE, NDPI_PROTOCOL_THUNDER,
        NDPI_PROTOCOL_STEALTHNET, NDPI_PROTOCOL_KONTIKI,
};

bool cls_proto_forbidden(uint16_t proto) {
        if (cls_own_name(proto))
                return true;
        for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
                if (forbidden[i] == proto)
                        return true;
        return false;
}

int cls_new(struct cls **ret) {
        struct cls *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
        if (!c->ndpi) {
                free(c);
                return -ENOMEM;
        }
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
        ndpi_finalize_initialization(c->ndpi);
        for (size_t i = 0; i < BUCKETS; i++)
                c->bucket[i] = NIL;
        for (uint32_t i = 0; i < CLS_MAX_FLOWS; i++)
                c->flows[i].hnext = i + 1 < CLS_MAX_FLOWS ? i + 1 : NIL;
        c->free_head = 0;
        c->lru_head = c->lru_tail = NIL;
        *ret = c;
        return 0;
}

static void flow_release(struct flow *f) {
        if (f->nf) {
                ndpi_free_flow_data(f->nf);
                free(f->nf);
                f->nf = NULL;
        }
        for (int d = 0; d < 2; d++) {
                free(f->held[d]);
                f->held[d] = NULL;
        }
}

struct cls *cls_free(struct cls *c) {
        if (!c)
                return NULL;
        for (uint32_t i = c->lru_head; i != NIL; i = c->flows[i].next)
                flow_release(&c->flows[i]);
        ndpi_exit_detection_module(c->ndpi);
        free(c);
        return NULL;
}

const struct cls_stats *cls_stats(const struct cls *c) { return &c->stats; }

const char *cls_proto_name(struct cls *c, uint16_t proto) {
        const char *s = cls_own_name(proto);
        if (s)
                return s;
        s = ndpi_get_proto_name(c->ndpi, proto);
        return s ? s : "?";
}

/* ---- packets ---- */

struct pkt {
        struct key key;               /* not yet ordered */
        uint8_t tcp_flags;
        uint32_t seq;
        size_t len, hdr_len;          /* IP total as the header says (bounded by the buffer); up to the payload */
        const uint8_t *payload;
        size_t payload_len;
};

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Bounded parse of an IPv4 or IPv6 packet down to TCP or UDP. -EINVAL for
 * anything else (fragments included: conntrack reassembles before us). */
static int pkt_parse(const uint8_t *b, size_t len, struct pkt *ret) {
        struct pkt p = { 0 };
        size_t off;
        uint8_t nh;
        if (len < 20)
                return -EINVAL;
        if (b[0] >> 4 == 4) {
                size_t ihl = (size_t)(b[0] & 0x0f) * 4, tot = be16(b + 2);
                if (ihl < 20 || tot < ihl || tot > len || (be16(b + 6) & 0x3fff) != 0)
                        return -EINVAL;
                p.key.family = 4;
                memcpy(p.key.addr[0], b + 12, 4);
                memcpy(p.key.addr[1], b + 16, 4);
                nh = b[9];
                off = ihl;
                len = tot;
        } else if (b[0] >> 4 == 6) {
                if (len < 40 || 40 + (size_t)be16(b + 4) > len)
                        return -EINVAL;
                len = 40 + (size_t)be16(b + 4);
                p.key.family = 6;
                memcpy(p.key.addr[0], b + 8, 16);
                memcpy(p.key.addr[1], b + 24, 16);
                nh = b[6];
                off = 40;
                for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
                        if (off + 8 > len)
                                return -EINVAL;
                        nh = b[off];
                        off += ((size_t)b[off + 1] + 1) * 8;
                }
                if (off > len)
                        return -EINVAL;
        } else
                return -EINVAL;
        p.key.proto = nh;
        const uint8_t *l4 = b + off;
        size_t l4_len = len - off;
        if (nh == 6) {
                if (l4_len < 20)
                        return -EINVAL;
                size_t doff = (size_t)(l4[12] >> 4) * 4;
                if (doff < 20 || doff > l4_len)
                        return -EINVAL;
                p.seq = be32(l4 + 4);
                p.tcp_flags = l4[13];
                p.hdr_len = off + doff;
        } else if (nh == 17) {
                if (l4_len < 8)
                        return -EINVAL;
                p.hdr_len = off + 8;
        } else
                return -EINVAL;
        p.key.port[0] = be16(l4);
        p.key.port[1] = be16(l4 + 2);
        p.len = len;
        p.payload = b + p.hdr_len;
        p.payload_len = len - p.hdr_len;
        *ret = p;
        return 0;
}

/* Order the key's ends; the packet's direction: 0 when its source is end 0. */
static int key_order(struct key *k) {
        size_t n = k->family == 4 ? 4 : 16;
        int r = memcmp(k->addr[0], k->addr[1], n);
        if (r < 0 || (r == 0 && k->port[0] <= k->port[1]))
                return 0;
        uint8_t a[16];
        memcpy(a, k->addr[0], 16);
        memcpy(k->addr[0], k->addr[1], 16);
        memcpy(k->addr[1], a, 16);
        uint16_t t = k->port[0];
        k->port[0] = k->port[1];
        k->port[1] = t;
        return 1;
}

static uint32_t key_hash(const struct key *k) {
        const uint8_t *b = (const uint8_t *)k;
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < sizeof *k; i++)
                h = (h ^ b[i]) * 16777619u;
        return h & (BUCKETS - 1);
}

/* ---- the table ---- */

static void lru_unlink(struct cls *c, uint32_t i) {
        struct flow *f = &c->flows[i];
        if (f->prev != NIL)
                c->flows[f->prev].next = f->next;
        else
                c->lru_head = f->next;
        if (f->next != NIL)
                c->flows[f->next].prev = f->prev;
        else
                c->lru_tail = f->prev;
}

static void lru_push(struct cls *c, uint32_t i) {
        struct flow *f = &c->flows[i];
        f->prev = NIL;
        f->next = c->lru_head;
        if (c->lru_head != NIL)
                c->flows[c->lru_head].prev = i;
        else
                c->lru_tail = i;
        c->lru_head = i;
}

static void flow_drop(struct cls *c, uint32_t i) {
        struct flow *f = &c->flows[i];
        uint32_t *pp = &c->bucket[key_hash(&f->key)];
        while (*pp != i)
                pp = &c->flows[*pp].hnext;
        *pp = f->hnext;
        lru_unlink(c, i);
        flow_release(f);
        f->hnext = c->free_head;
        c->free_head = i;
        c->n--;
}

static bool expired(const struct flow *f, uint64_t now_ms) {
        uint64_t ttl = f->verdict == CLS_PASS ? CLS_IDLE_MS : CLS_DECIDED_MS;
        return now_ms - f->last_ms > ttl;
}

static struct flow *flow_get(struct cls *c, const struct key *k, uint64_t now_ms) {
        uint32_t h = key_hash(k);
        for (uint32_t i = c->bucket[h]; i != NIL; i = c->flows[i].hnext)
                if (memcmp(&c->flows[i].key, k, sizeof *k) == 0) {
                        lru_unlink(c, i);
                        lru_push(c, i);
                        return &c->flows[i];
                }
        /* New: forget what went quiet, and the oldest if the table is full. */
        while (c->lru_tail != NIL && (c->n == CLS_MAX_FLOWS || expired(&c->flows[c->lru_tail], now_ms))) {
                if (c->flows[c->lru_tail].verdict == CLS_PASS && c->n == CLS_MAX_FLOWS)
                        c->stats.evicted++;
                flow_drop(c, c->lru_tail);
        }
        struct ndpi_flow_struct *nf = calloc(1, SIZEOF_FLOW_STRUCT);
        if (!nf)
                return NULL;
        uint32_t i = c->free_head;
        struct flow *f = &c->flows[i];
        c->free_head = f->hnext;
        *f = (struct flow){ .key = *k, .hnext = c->bucket[h], .nf = nf, .last_ms = now_ms };
        c->bucket[h] = i;
        lru_push(c, i);
        c->n++;
        c->stats.flows++;
        return f;
}

/* ---- asking nDPI ---- */

static enum cls_verdict decide(struct cls *c, struct flow *f, uint16_t proto, enum cls_verdict v) {
        f->verdict = v;
        f->proto = proto;
        if (v == CLS_FORBID)
                c->stats.forbidden++;
        else
                c->stats.allowed++;
        flow_release(f); /* the kernel keeps the decision in the conntrack mark */
        return v;
}

static enum cls_verdict feed(struct cls *c, struct flow *f, const uint8_t *b, size_t len, uint64_t now_ms) {
        if (len > 65535)
                return CLS_PASS;
        ndpi_protocol p = ndpi_detection_process_packet(c->ndpi, f->nf, b, (unsigned short)len, now_ms);
        if (cls_proto_forbidden(p.app_protocol))
                return decide(c, f, p.app_protocol, CLS_FORBID);
        if (cls_proto_forbidden(p.master_protocol))
                return decide(c, f, p.master_protocol, CLS_FORBID);
        if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN)
                return decide(c, f, p.app_protocol != NDPI_PROTOCOL_UNKNOWN ? p.app_protocol : p.master_protocol,
                              CLS_ALLOW);
        if (++f->packets < CLS_MAX_PACKETS)
                return CLS_PASS;
        /* Nothing found in the first packets: allowed. Not nDPI's giveup:
         * even without guessing by port it answers from its BitTorrent
         * host cache, so any unknown flow between two hosts that once
         * spoke BitTorrent (a terminal and its file server) would be cut. */
        c->stats.gave_up++;
        return decide(c, f, NDPI_PROTOCOL_UNKNOWN, CLS_ALLOW);
}

/* Show nDPI direction d's held start as one packet, with extra bytes that
 * continue it (the segment that completed it), and stop holding. */
static enum cls_verdict feed_held(struct cls *c, struct flow *f, int d, const uint8_t *extra, size_t extra_len,
                                  uint64_t now_ms) {
        struct held *h = f->held[d];
        f->held[d] = NULL;
        f->fed[d] = true;
        size_t total = (size_t)h->hdr_len + h->len + extra_len;
        if (total > sizeof c->synth)
                total = sizeof c->synth, extra_len = total - h->hdr_len - h->len;
        memcpy(c->synth, h->hdr, h->hdr_len);
        memcpy(c->synth + h->hdr_len, h->data, h->len);
        if (extra_len)
                memcpy(c->synth + h->hdr_len + h->len, extra, extra_len);
        free(h);
        if (c->synth[0] >> 4 == 4) {
                c->synth[2] = (uint8_t)(total >> 8);
                c->synth[3] = (uint8_t)total;
        } else {
                c->synth[4] = (uint8_t)((total - 40) >> 8);
                c->synth[5] = (uint8_t)(total - 40);
        }
        c->stats.joined++;
        return feed(c, f, c->synth, total, now_ms);
}

/* TCP: a direction's first message shorter than CLS_HEAD_MIN is held (its
 * segments accepted, not shown to nDPI) until more of it arrives, the other
 * side speaks, or the direction ends; then nDPI sees it whole, so a
 * handshake split across segments ("\x13Bit" | "Torrent protocol...") is
 * seen as one. The bytes held meanwhile (fewer than CLS_HEAD_MIN) reach the
 * peer. */
static enum cls_verdict tcp(struct cls *c, struct flow *f, const uint8_t *b, const struct pkt *p, int d,
                            uint64_t now_ms) {
        int o = !d;
        enum cls_verdict v;
        if (p->payload_len > 0 && f->held[o] && (v = feed_held(c, f, o, NULL, 0, now_ms)) != CLS_PASS)
                return v;
        struct held *h = f->held[d];
        if (h && (p->tcp_flags & (TCP_FIN | TCP_RST)) && (v = feed_held(c, f, d, NULL, 0, now_ms)) != CLS_PASS)
                return v;
        h = f->held[d];
        if (p->payload_len == 0)
                return h ? CLS_PASS : feed(c, f, b, p->len, now_ms); /* nDPI sees held bytes first */
        if (f->fed[d])
                return feed(c, f, b, p->len, now_ms);
        if (!h) {
                if (p->payload_len >= CLS_HEAD_MIN || p->hdr_len > HDR_MAX) {
                        f->fed[d] = true;
                        return feed(c, f, b, p->len, now_ms);
                }
                h = malloc(sizeof *h);
                if (!h) {
                        f->fed[d] = true;
                        return feed(c, f, b, p->len, now_ms);
                }
                h->hdr_len = (uint16_t)p->hdr_len;
                memcpy(h->hdr, b, p->hdr_len);
                h->len = (uint16_t)p->payload_len;
                memcpy(h->data, p->payload, p->payload_len);
                h->next_seq = p->seq + (uint32_t)p->payload_len;
                f->held[d] = h;
                return CLS_PASS;
        }
        int32_t ahead = (int32_t)(p->seq - h->next_seq);
        if (ahead > 0) {
                /* A gap: show what is held, then this segment as it is. */
                if ((v = feed_held(c, f, d, NULL, 0, now_ms)) != CLS_PASS)
                        return v;
                return feed(c, f, b, p->len, now_ms);
        }
        /* In order, or a retransmission that may carry new bytes past what
         * is held (the receiver keeps its first copy of the overlap, as we do). */
        size_t skip = (size_t)-(int64_t)ahead;
        if (skip >= p->payload_len)
                return CLS_PASS;
        const uint8_t *more = p->payload + skip;
        size_t n = p->payload_len - skip;
        if (h->len + n < CLS_HEAD_MIN) {
                memcpy(h->data + h->len, more, n);
                h->len = (uint16_t)(h->len + n);
                h->next_seq += (uint32_t)n;
                return CLS_PASS;
        }
        return feed_held(c, f, d, more, n, now_ms);
}

/* Our own detectors (classify-own.c) on each direction's first bytes: a
 * UDP flow's first datagram, a TCP stream's first CLS_OWN_START bytes in
 * order however they were segmented (retransmitted bytes are taken once; a
 * gap ends the collection, as nothing after it is known to be in order). */
static enum cls_verdict own(struct cls *c, struct flow *f, const struct pkt *p, int d) {
        uint16_t proto = 0;
        if (f->own_done[d] || p->payload_len == 0)
                return CLS_PASS;
        if (p->key.proto == 17) {
                f->own_done[d] = true;
                proto = cls_own_udp(p->payload, p->payload_len);
        } else {
                size_t have = f->start_len[d];
                if (have == 0)
                        f->start_seq[d] = p->seq;
                int32_t at = (int32_t)(p->seq - f->start_seq[d]);
                if (at < 0 || (size_t)at > have) {
                        f->own_done[d] = at > 0;
                        return CLS_PASS;
                }
                size_t skip = have - (size_t)at;
                if (skip >= p->payload_len)
                        return CLS_PASS;
                size_t n = p->payload_len - skip;
                if (n > CLS_OWN_START - have)
                        n = CLS_OWN_START - have;
                memcpy(f->start[d] + have, p->payload + skip, n);
                f->start_len[d] = (uint8_t)(have + n);
                f->own_done[d] = f->start_len[d] == CLS_OWN_START;
                proto = cls_own_tcp(f->start[d], f->start_len[d]);
        }
        return proto ? decide(c, f, proto, CLS_FORBID) : CLS_PASS;
}

enum cls_verdict cls_packet(struct cls *c, const uint8_t *b, size_t len, uint64_t now_ms, uint16_t *ret_proto) {
        struct pkt p;
        c->stats.packets++;
        if (pkt_parse(b, len, &p) < 0) {
                c->stats.malformed++;
                return CLS_PASS;
        }
        int d = key_order(&p.key);
        struct flow *f = flow_get(c, &p.key, now_ms);
        if (!f)
                return CLS_PASS; /* out of memory: the next packet asks again */
        f->last_ms = now_ms;
        enum cls_verdict v = f->verdict;
        if (v == CLS_PASS)
                v = own(c, f, &p, d);
        if (v == CLS_PASS)
                v = p.key.proto == 6 ? tcp(c, f, b, &p, d, now_ms) : feed(c, f, b, p.len, now_ms);
        if (v != CLS_PASS && ret_proto)
                *ret_proto = f->proto;
        return v;
}
