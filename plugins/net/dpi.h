/* dpi.h — what the ruleset and the file-sharing classifier (sekisho-classify) agree on: the queue, the mark bits, the chains that send each new flow's first packets to the classifier. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct net_policy;

/* The NFQUEUE the classifier reads. */
#define NET_DPI_QUEUE 3142

/* Two bits of the conntrack mark (and, for one pass through our chain, of
 * the packet mark) hold the classifier's decision; the other bits are left
 * to whoever else uses marks. 0 in both bits: not decided yet. */
#define NET_DPI_MARK_MASK 0x60000000u
#define NET_DPI_MARK_ALLOW 0x20000000u
#define NET_DPI_MARK_FORBID 0x40000000u

/* The classify_out/classify_in base chains (priority NET_DPI_PRIORITY, after
 * the isolation chains) when file-sharing is denied and this build has the
 * classifier; nothing otherwise. Written inside "table inet sekisho {". */
int net_dpi_chains(FILE *f, const struct net_policy *p);

/* Whether the kernel takes the nft `queue` statement (CONFIG_NFT_QUEUE;
 * assumed until a load says otherwise). Without it the chains keep their
 * conntrack-mark drops but queue nothing: the classifier receives no
 * packets, which the plugin reports. */
void net_dpi_set_queue(bool available);
bool net_dpi_queue(const struct net_policy *p);
