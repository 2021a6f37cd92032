/* test-classify.c — unit tests of the file-sharing classifier's core on crafted packets: our own eD2k, Kad and Winny detectors whole and split across segments, and what they must leave alone. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "classify-own.h"
#include "classify.h"

static uint8_t pkt[2048];
static uint64_t now = 1000;

/* An IPv4 TCP (proto 6) or UDP (17) packet from 192.0.2.50:sport to
 * 198.51.100.10:dport, or back when back is set. */
static size_t build(int proto, bool back, uint16_t sport, uint16_t dport, uint32_t seq, const void *data, size_t n) {
        size_t l4 = proto == 6 ? 20 : 8, len = 20 + l4 + n;
        memset(pkt, 0, 20 + l4);
        pkt[0] = 0x45;
        pkt[2] = (uint8_t)(len >> 8), pkt[3] = (uint8_t)len;
        pkt[8] = 64, pkt[9] = (uint8_t)proto;
        const uint8_t a[4] = { 192, 0, 2, 50 }, b[4] = { 198, 51, 100, 10 };
        memcpy(pkt + 12, back ? b : a, 4);
        memcpy(pkt + 16, back ? a : b, 4);
        uint8_t *t = pkt + 20;
        t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport, t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
        if (proto == 6) {
                t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8), t[7] = (uint8_t)seq;
                t[12] = 5 << 4;
                t[13] = 0x18; /* PSH ACK */
                t[14] = 0xff;
        } else {
                t[4] = (uint8_t)((8 + n) >> 8), t[5] = (uint8_t)(8 + n);
        }
        memcpy(pkt + 20 + l4, data, n);
        return len;
}

static enum cls_verdict send_tcp(struct cls *c, uint16_t port, uint32_t seq, const void *data, size_t n, uint16_t *proto) {
        size_t len = build(6, false, 40000, port, seq, data, n);
        return cls_packet(c, pkt, len, now++, proto);
}

static enum cls_verdict send_udp(struct cls *c, uint16_t port, const void *data, size_t n, uint16_t *proto) {
        size_t len = build(17, false, 40001, port, 0, data, n);
        return cls_packet(c, pkt, len, now++, proto);
}

/* An eD2k hello as aMule sends it without obfuscation: 0xE3, size, 0x01,
 * user hash size 16, the hash, client ID, port, no tags, server address. */
static size_t ed2k_hello(uint8_t *b) {
        size_t n = 0;
        b[n++] = 0xe3;
        uint32_t size = 1 + 1 + 16 + 4 + 2 + 4 + 6;
        memcpy(b + n, (uint8_t[]){ (uint8_t)size, 0, 0, 0 }, 4);
        n += 4;
        b[n++] = 0x01;
        b[n++] = 16;
        for (int i = 0; i < 16; i++)
                b[n++] = (uint8_t)(0xa0 + i);
        memset(b + n, 0, 16);
        return n + 16;
}

static void test_ed2k(void **state) {
        struct cls *c = NULL;
        uint8_t h[64];
        uint16_t proto = 0;
        assert_int_equal(cls_new(&c), 0);
        size_t n = ed2k_hello(h);
        /* whole, on a port no list names */
        assert_int_equal(send_tcp(c, 31337, 1, h, n, &proto), CLS_FORBID);
        assert_int_equal(proto, CLS_PROTO_ED2K);
        assert_string_equal(cls_proto_name(c, proto), "eD2k");
        /* split after the protocol byte, then after 3 more: found on the segment that completes 6 bytes */
        assert_int_equal(send_tcp(c, 31338, 1000, h, 1, &proto), CLS_PASS);
        assert_int_equal(send_tcp(c, 31338, 1001, h + 1, 3, &proto), CLS_PASS);
        assert_int_equal(send_tcp(c, 31338, 1001, h + 1, 3, &proto), CLS_PASS); /* a retransmission */
        assert_int_equal(send_tcp(c, 31338, 1004, h + 4, n - 4, &proto), CLS_FORBID);
        assert_int_equal(proto, CLS_PROTO_ED2K);
        /* the hello answer (0x4C) opening the other direction */
        h[5] = 0x4c;
        assert_int_equal(cls_own_tcp(h, 6), CLS_PROTO_ED2K);
        /* not eD2k: another opcode, an absurd size, obfuscation's non-marker first byte */
        h[5] = 0x02;
        assert_int_equal(cls_own_tcp(h, 6), 0);
        h[5] = 0x01;
        h[4] = 0x10;
        assert_int_equal(cls_own_tcp(h, 6), 0);
        h[4] = 0;
        h[0] = 0x1f;
        assert_int_equal(cls_own_tcp(h, 6), 0);
        cls_free(c);
}

static void test_kad(void **state) {
        struct cls *c = NULL;
        uint16_t proto = 0;
        assert_int_equal(cls_new(&c), 0);
        const uint8_t boot[2] = { 0xe4, 0x01 };
        assert_int_equal(send_udp(c, 4672 + 17, boot, sizeof boot, &proto), CLS_FORBID);
        assert_int_equal(proto, CLS_PROTO_KAD);
        assert_string_equal(cls_proto_name(c, proto), "Kad");
        uint8_t req[35] = { 0xe4, 0x21, 0x0b };
        assert_int_equal(send_udp(c, 23456, req, sizeof req, &proto), CLS_FORBID);
        uint8_t res[19 + 2 * 25] = { 0xe4, 0x29 };
        res[18] = 2;
        assert_int_equal(cls_own_udp(res, sizeof res), CLS_PROTO_KAD);
        res[18] = 3; /* the count must match the contacts */
        assert_int_equal(cls_own_udp(res, sizeof res), 0);
        /* 0xE4 at other sizes (a QUIC handshake packet, say) is not Kad */
        assert_int_equal(cls_own_udp(req, 34), 0);
        assert_int_equal(cls_own_udp(boot, 1), 0);
        uint8_t quic[1200] = { 0xe4, 0x01 };
        assert_int_equal(cls_own_udp(quic, sizeof quic), 0);
        /* only a flow's first datagram is looked at */
        assert_int_equal(send_udp(c, 23457, "x", 1, &proto), CLS_PASS);
        assert_int_equal(send_udp(c, 23457, boot, sizeof boot, &proto), CLS_PASS);
        cls_free(c);
}

/* Winny's opening as published: 2 filler bytes, the 4-byte RC4 key, then
 * under that key the block length 1 (LE) and command 0x61; the rest of this
 * vector is the version block under the same key. Made with an independent
 * RC4 (Python) from the description, not captured from a client. */
static const uint8_t winny_open[] = {
        0x11, 0x22, 0x5a, 0x13, 0xc7, 0x02, 0xa9, 0x9a, 0xb9, 0x4c, 0xa8, 0x93, 0x31, 0xdc, 0xdd, 0xbc, 0xfb, 0x3f,
        0x2f, 0xdb, 0x78, 0xcd, 0x5b, 0x92, 0xec, 0x7b, 0x85, 0x1d, 0x65, 0x1a, 0xed, 0xf3, 0x57, 0x2c, 0xdd, 0xc7,
};

static void test_winny(void **state) {
        struct cls *c = NULL;
        uint16_t proto = 0;
        assert_int_equal(cls_new(&c), 0);
        /* the key block and the first block in segments of their own, as two writes send them */
        assert_int_equal(send_tcp(c, 7743, 50, winny_open, 6, &proto), CLS_PASS);
        assert_int_equal(send_tcp(c, 7743, 56, winny_open + 6, sizeof winny_open - 6, &proto), CLS_FORBID);
        assert_int_equal(proto, CLS_PROTO_WINNY);
        assert_string_equal(cls_proto_name(c, proto), "Winny");
        uint8_t b[sizeof winny_open];
        memcpy(b, winny_open, sizeof b);
        b[3] ^= 1; /* another key: the block no longer decrypts to 01 00 00 00 61 */
        assert_int_equal(cls_own_tcp(b, sizeof b), 0);
        assert_int_equal(cls_own_tcp(winny_open, 10), 0); /* not enough yet */
        cls_free(c);
}

static void test_leaves_others(void **state) {
        struct cls *c = NULL;
        uint16_t proto = 0;
        assert_int_equal(cls_new(&c), 0);
        const char get[] = "GET / HTTP/1.1\r\nHost: server.test\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n";
        assert_int_not_equal(send_tcp(c, 8080, 1, get, sizeof get - 1, &proto), CLS_FORBID);
        /* 16 bytes of every value at every start: none of our detectors fires on a counter */
        uint8_t s[CLS_OWN_START];
        size_t hits = 0;
        for (int v = 0; v < 256; v++) {
                for (int i = 0; i < CLS_OWN_START; i++)
                        s[i] = (uint8_t)(v + i);
                hits += cls_own_tcp(s, sizeof s) != 0;
                hits += cls_own_udp(s, sizeof s) != 0;
        }
        assert_int_equal(hits, 0);
        cls_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ed2k),
                cmocka_unit_test(test_kad),
                cmocka_unit_test(test_winny),
                cmocka_unit_test(test_leaves_others),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
