/* dpi.c — the chains that give each new TCP/UDP flow's first packets to the file-sharing classifier and drop the rest of a flow it found forbidden, in the kernel. */
#include "config.h"

#include <errno.h>

#include "dpi.h"
#include "net.h"

/* After the isolation chains (filter - 10): a packet they drop never reaches
 * the classifier, and a packet the classifier accepts has passed them. An
 * accepted packet leaves the hook's current base chain, so the queue must be
 * in a base chain of its own that runs last among ours. */
#define NET_DPI_PRIORITY "filter - 5"

/* One direction. The classifier answers a decided packet with NF_REPEAT and
 * the decision in the packet mark's two bits: the packet runs this chain
 * again, the decision moves into the conntrack mark (where every later
 * packet of the flow meets it without leaving the kernel) and the packet
 * mark gets its bits back. Undecided packets are accepted as they are.
 * No `bypass`: with no classifier listening, new flows wait (README-net.md,
 * "When the classifier is not running"): their handshakes complete, their
 * data does not. */
static bool kernel_queue = true;

void net_dpi_set_queue(bool available) { kernel_queue = available; }

bool net_dpi_queue(const struct net_policy *p) { return HAVE_CLASSIFIER && kernel_queue && p->fileshare_deny; }

static void chain(FILE *f, const char *name, const char *hook, const char *lo) {
        const unsigned m = NET_DPI_MARK_MASK, keep = ~NET_DPI_MARK_MASK;
        fprintf(f, "  chain %s {\n    type filter hook %s priority " NET_DPI_PRIORITY "; policy accept;\n    %s accept\n",
                name, hook, lo);
        fprintf(f, "    ct mark and %#x == %#x jump drop_fileshare_dpi\n", m, NET_DPI_MARK_FORBID);
        fprintf(f, "    ct mark and %#x != 0 accept\n", m);
        fputs("    meta l4proto != { tcp, udp } accept\n", f);
        /* The terminal's own address must never wait for the classifier. */
        fputs("    udp sport . udp dport { 68 . 67, 67 . 68, 546 . 547, 547 . 546 } accept\n", f);
        fprintf(f, "    meta mark and %#x == %#x ct mark set ct mark and %#x or %#x meta mark set meta mark and %#x "
                   "jump drop_fileshare_dpi\n", m, NET_DPI_MARK_FORBID, keep, NET_DPI_MARK_FORBID, keep);
        fprintf(f, "    meta mark and %#x == %#x ct mark set ct mark and %#x or %#x meta mark set meta mark and %#x "
                   "accept\n", m, NET_DPI_MARK_ALLOW, keep, NET_DPI_MARK_ALLOW, keep);
        /* Only packets that carry payload: a SYN, SYN-ACK or bare ACK tells
         * the classifier nothing, and each crossing of the queue costs two
         * context switches (bench-classify: new flows per second). Such a
         * packet is accepted with its flow still undecided (the ct mark bits
         * stay 0), so the flow's first payload, in either direction, is
         * queued. No payload: the IP length is just the headers' (IPv4
         * without options, IPv6 without extension headers; anything else is
         * queued, which costs only time). One rule per TCP header length:
         * nft has no arithmetic, cannot list a set of concatenations with
         * the 4-bit `tcp doff`, and `@ih,0,8` (the first byte after the
         * transport header) matched payload-less packets on Debian's 6.1
         * kernel (the e2e guest's net-classify-nft-queue). */
        if (kernel_queue) {
                for (int d = 5; d <= 15; d++)
                        fprintf(f, "    ip hdrlength 5 ip length %d tcp doff %d accept\n"
                                   "    ip6 nexthdr tcp ip6 length %d tcp doff %d accept\n", 20 + 4 * d, d, 4 * d, d);
                fputs("    ip hdrlength 5 ip length 28 meta l4proto udp accept\n"
                      "    ip6 nexthdr udp ip6 length 8 accept\n", f);
                fprintf(f, "    queue num %d\n", NET_DPI_QUEUE);
        }
        fputs("  }\n", f);
}

int net_dpi_chains(FILE *f, const struct net_policy *p) {
#if HAVE_CLASSIFIER
        if (!p->fileshare_deny)
                return 0;
        chain(f, "classify_out", "output", "oif lo");
        chain(f, "classify_in", "input", "iif lo");
        return ferror(f) ? -EIO : 0;
#else
        (void)f, (void)p, (void)chain;
        return 0;
#endif
}
