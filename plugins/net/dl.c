/* dl.c — the network plugin's libraries, loaded on first use: libnl (topology, conntrack, NFLOG) when the plugin starts, libnftables (nft.c) when it first needs nft. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "kernel.h"
#include "nllib.h"
#include "util.h"

/* Why this process does not link them: libnl-route, libnl-nf and libnl are
 * about 0.6 MiB resident, libnftables with libnftnl, libmnl, jansson,
 * libxtables and gmp as much again, in every process that links the core
 * (sekishoctl, sekisho-notify, a daemon whose net plugin does not run). */
int net_dl_load(const char *const *libs, const char *const *names, void **ret_addrs, char *err, size_t err_size) {
        void *dls[4] = { NULL };
        size_t n = 0;
        for (; libs[n]; n++) {
                if (n == ARRAY_SIZE(dls) || !(dls[n] = dlopen(libs[n], RTLD_NOW | RTLD_LOCAL))) {
                        snprintf(err, err_size, "%s", n == ARRAY_SIZE(dls) ? "too many libraries" : dlerror());
                        while (n > 0)
                                dlclose(dls[--n]);
                        return -ELIBACC;
                }
        }
        for (size_t i = 0; names[i]; i++) {
                ret_addrs[i] = NULL;
                for (size_t j = 0; j < n && !ret_addrs[i]; j++)
                        ret_addrs[i] = dlsym(dls[j], names[i]);
                if (!ret_addrs[i]) {
                        snprintf(err, err_size, "%s has no %s", libs[0], names[i]);
                        while (n > 0)
                                dlclose(dls[--n]);
                        return -ELIBBAD;
                }
        }
        return 0; /* loaded for the process's life */
}

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
        int r = net_dl_load(libs, names, addr, nl_error, sizeof nl_error);
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
