/* plugin.c — the registry of built-in plugins. */
#include "config.h"

#include <string.h>

#include "plugin.h"
#include "util.h"

const struct sekisho_plugin *plugin_find(const char *name) {
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                if (strcmp((*p)->name, name) == 0)
                        return *p;
        return NULL;
}

const struct sekisho_plugin *plugin_find_section(const char *section) {
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                if (strcmp((*p)->section, section) == 0)
                        return *p;
        return NULL;
}
