/* fuzz-gvdb.c — libFuzzer target for the GVDB (dconf database) reader: open, look up the keys the screen-lock check reads, and the locks table. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gvdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = { "/org/gnome/desktop/screensaver/lock-enabled",
                                            "/org/gnome/desktop/session/idle-delay",
                                            "/org/gnome/desktop/screensaver/lock-delay", "/", "" };
        struct gvdb_table t, locks;
        if (gvdb_open(data, size, &t) < 0)
                return 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                struct gvdb_value v;
                if (gvdb_get(&t, keys[i], &v) == 0 && v.type == 's' && strlen(v.s) >= size)
                        __builtin_trap();
        }
        if (gvdb_subtable(&t, ".locks", &locks) == 0)
                (void)gvdb_has(&locks, keys[0]);
        return 0;
}
