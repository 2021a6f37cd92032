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
        static const char *const names[] = {
#define NAME(f) #f,
                NET_NL_FUNCS(NAME)
#undef NAME
                NULL,
        };
        if (loaded)
                return 0;
        void *addr[ARRAY_SIZE(names) - 1];
        int r = dl_load(libs, names, addr, nl_error, sizeof nl_error);
        if (r < 0)
                return r;
        size_t i = 0;
#define FILL(f) net_nl.f = (__typeof__(net_nl.f))addr[i++];
        NET_NL_FUNCS(FILL)
#undef FILL
        loaded = true;
        return 0;
}

const char *net_nl_load_error(void) { return nl_error[0] ? nl_error : "no error"; }
