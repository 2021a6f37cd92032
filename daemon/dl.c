/* dl.c — the one loader of libraries that most terminals never need (the net plugin's libnftables, posture's librpm) or need only while starting (libseccomp). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl.h"
#include "util.h"

/* Why sekishod does not link them: libnftables with libnftnl, libmnl, jansson,
 * libxtables and gmp are about 1.6 MiB resident, librpm with librpmio, liblua, libdb and
 * libsqlite3 more, in every process that links the core (sekishoctl,
 * sekisho-notify, a daemon whose plugin does not run or never needs them). */
int dl_load(const char *const *libs, const char *const *names, void **ret_addrs, char *err, size_t err_size) {
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
        return 0;
}

void dl_unload(const char *const *libs) {
        for (size_t i = 0; libs[i]; i++) {
                void *h = dlopen(libs[i], RTLD_NOW | RTLD_NOLOAD); /* one more reference: drop both */
                if (h) {
                        dlclose(h);
                        dlclose(h);
                }
        }
}
