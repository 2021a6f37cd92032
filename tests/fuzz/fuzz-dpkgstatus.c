/* fuzz-dpkgstatus.c — libFuzzer target for the dpkg status database parser. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facts.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pkgdb db;
        char why[256];
        char *text = memdup_nul(data, size);
        if (dpkgstatus_parse(&text, size, &db, why, sizeof why) == 0) {
                for (size_t i = 0; i < db.n; i++) {
                        const struct pkg *p = &db.pkgs[i];
                        if (!p->name[0] || !p->status[0])
                                __builtin_trap();
                        (void)pkg_present(p);
                        (void)strlen(p->version);
                        (void)strlen(p->arch);
                }
                (void)pkgdb_find(&db, "qbittorrent");
                pkgdb_clear(&db);
        }
        return 0;
}
