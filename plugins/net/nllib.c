/* nllib.c — the network plugin's libnl (topology, conntrack, NFLOG), loaded through the core's one loader (daemon/dl.c) when the plugin starts; nft.c loads libnftables the same way. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "dl.h"
#include "nllib.h"
#include "util.h"

struct net_nl net_nl;
static char nl_error[256];

int net_nl_load(void) {
        static bool loaded;
        static const char *const libs[] = { "libnl-route-3.so.200", "libnl-nf-3.so.200", NULL };
        if (loaded)
                return 0;
        int r = DL_LOAD(net_nl, NET_NL_FUNCS, libs, nl_error, sizeof nl_error);
        loaded = r == 0;
        return r;
}

const char *net_nl_load_error(void) { return nl_error[0] ? nl_error : "no error"; }
