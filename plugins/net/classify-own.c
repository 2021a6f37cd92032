/* classify-own.c — file-sharing detectors nDPI 4.2 lacks: eD2k/eMule TCP framing, Kad UDP, Winny's key block; each a bounded check of a direction's first bytes (sources in README-net.md). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "classify-own.h"

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* eD2k (eDonkey, eMule, aMule) without protocol obfuscation: every TCP
 * message is the protocol byte (0xE3 eDonkey), the size of what follows as
 * a little-endian 32-bit number, and the opcode. A connection opens with a
 * hello (0x01: to a client, with the user hash size 16 first; to a server,
 * the login request) and the other side answers 0x4C (hello answer) or, a
 * server, with its own messages. Sizes: a hello without tags is 28 bytes
 * of data, a login 27, a hello answer 33; tags make them longer, never
 * beyond a few hundred bytes. Obfuscated eD2k opens with a byte chosen NOT
 * to be a protocol byte and is random from there on. */
static bool ed2k(const uint8_t *p, size_t n) {
        if (n < 6 || p[0] != 0xe3)
                return false;
        uint32_t size = le32(p + 1);
        switch (p[5]) {
        case 0x01:
                return size >= 27 && size <= 4096;
        case 0x4c:
                return size >= 33 && size <= 4096;
        default:
                return false;
        }
}

/* Winny (1.x and 2.x), as its wire format was published (README-net.md):
 * each side opens with 6 bytes, 2 of them filler and 4 the RC4 key of
 * everything it sends after them; its first block is then the 32-bit
 * little-endian length 1 and the command 0x61. Five known bytes under a key
 * sent in clear: one chance in 2^40 for anything else. */
static bool winny(const uint8_t *p, size_t n) {
        static const uint8_t first[5] = { 0x01, 0x00, 0x00, 0x00, 0x61 };
        if (n < 6 + sizeof first)
                return false;
        uint8_t s[256];
        for (int i = 0; i < 256; i++)
                s[i] = (uint8_t)i;
        for (int i = 0, j = 0; i < 256; i++) {
                j = (j + s[i] + p[2 + i % 4]) & 0xff;
                uint8_t t = s[i];
                s[i] = s[j];
                s[j] = t;
        }
        for (size_t k = 0, i = 0, j = 0; k < sizeof first; k++) {
                i = (i + 1) & 0xff;
                j = (j + s[i]) & 0xff;
                uint8_t t = s[i];
                s[i] = s[j];
                s[j] = t;
                if ((p[6 + k] ^ s[(s[i] + s[j]) & 0xff]) != first[k])
                        return false;
        }
        return true;
}

uint16_t cls_own_tcp(const uint8_t *start, size_t len) {
        if (len > CLS_OWN_START)
                len = CLS_OWN_START;
        if (ed2k(start, len))
                return CLS_PROTO_ED2K;
        if (winny(start, len))
                return CLS_PROTO_WINNY;
        return 0;
}

/* Kad (eMule's and aMule's Kademlia) without obfuscation: 0xE4 (0xE5 when
 * the rest is zlib-packed), then the opcode. Only the messages that can
 * open a conversation with a node, or answer its opening, and only at
 * their exact sizes (a contact is 25 bytes: ID 16, IPv4 4, UDP and TCP
 * port, version), so that other protocols' datagrams starting 0xE4 do not
 * match (a QUIC flow's first datagram is an Initial, 0xC0-0xDF). */
static bool kad(const uint8_t *p, size_t n) {
        if (n < 2 || (p[0] != 0xe4 && p[0] != 0xe5))
                return false;
        if (p[0] == 0xe5) /* packed answers: the opcode, then a zlib stream (0x78, deflate) */
                return n >= 4 && (p[1] == 0x09 || p[1] == 0x29 || p[1] == 0x3b) && p[2] == 0x78;
        switch (p[1]) {
        case 0x01: /* KADEMLIA2_BOOTSTRAP_REQ */
        case 0x60: /* KADEMLIA2_PING */
                return n == 2;
        case 0x61: /* KADEMLIA2_PONG: the UDP port seen */
                return n == 4;
        case 0x00: /* Kad 1 BOOTSTRAP_REQ, HELLO_REQ, HELLO_RES: one contact */
        case 0x10:
        case 0x18:
                return n == 2 + 25;
        case 0x09: /* KADEMLIA2_BOOTSTRAP_RES: ID, TCP port, version, count, contacts */
                return n >= 23 && (n - 23) % 25 == 0 && (n - 23) / 25 == (size_t)(p[21] | p[22] << 8);
        case 0x11: /* KADEMLIA2_HELLO_REQ, _RES: ID, TCP port, version, tag count, tags */
        case 0x19:
                return n >= 22 && n <= 512;
        case 0x20: /* KADEMLIA_REQ, KADEMLIA2_REQ: type, target, receiver */
        case 0x21:
                return n == 35;
        case 0x29: /* KADEMLIA2_RES: target, count, contacts */
                return n >= 19 && (n - 19) % 25 == 0 && (n - 19) / 25 == p[18];
        case 0x34: /* KADEMLIA2_SEARCH_SOURCE_REQ: target, start, size */
                return n == 2 + 16 + 2 + 8;
        default:
                return false;
        }
}

uint16_t cls_own_udp(const uint8_t *dgram, size_t len) { return kad(dgram, len) ? CLS_PROTO_KAD : 0; }

const char *cls_own_name(uint16_t proto) {
        switch (proto) {
        case CLS_PROTO_ED2K:
                return "eD2k";
        case CLS_PROTO_KAD:
                return "Kad";
        case CLS_PROTO_WINNY:
                return "Winny";
        default:
                return NULL;
        }
}
