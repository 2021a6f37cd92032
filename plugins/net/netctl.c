/* netctl.c — the offline `sekishoctl net show` verb: reads table inet sekisho and its counters through libnftables, no daemon needed. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "kernel.h"
#include "net.h"
#include "netctl.h"
#include "util.h"

static const char *const class_help[_NET_C_MAX] = {
        [NET_C_PEER_OUT] = "to another terminal on the LAN (R4)",
        [NET_C_PEER_IN] = "from another terminal on the LAN (R4)",
        [NET_C_DISCOVERY] = "NetBIOS/mDNS/LLMNR/SSDP/WS-Discovery (R4)",
        [NET_C_BITTORRENT] = "BitTorrent handshakes (R5)",
        [NET_C_DHT] = "BitTorrent DHT messages (R5)",
        [NET_C_UTP] = "uTP connection requests (R5)",
        [NET_C_FS_PORT] = "listed file-sharing ports (R5)",
        [NET_C_DEST_OUT] = "to a destination not in allow-destinations (R8)",
        [NET_C_DEST_IN] = "from a host not in allow-destinations (R8)",
        [NET_C_FILESHARE_DPI] = "flows sekisho-classify found to be file sharing (R5)",
};

int netctl_show(FILE *out, bool counters_only) {
        struct nft_ctx *nft = NULL;
        int r = net_nft_new(&nft);
        if (r < 0)
                return r;
        _cleanup_free_ char *table = NULL, *err = NULL;
        r = net_nft_list(nft, "list table inet " NET_TABLE, &table, &err);
        if (r < 0) {
                fprintf(out, "table inet %s is not loaded in this network namespace%s%s\n", NET_TABLE,
                        err ? ": " : "", err ? err : "");
                net_nft_free(nft);
                return -ENOENT;
        }
        if (!counters_only)
                fputs(table, out);
        struct net_counters c;
        if (net_counters_read(&c) == 0) {
                fprintf(out, "%sdrops (packets, bytes, what):\n", counters_only ? "" : "\n");
                for (int i = 0; i < _NET_C_MAX; i++)
                        fprintf(out, "  %-15s %12" PRIu64 " %14" PRIu64 "  %s\n", net_class_names[i], c.packets[i],
                                c.bytes[i], class_help[i]);
        }
        net_nft_free(nft);
        return 0;
}
