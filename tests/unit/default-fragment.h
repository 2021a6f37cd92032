/* default-fragment.h — unit tests read a plugin's section of the embedded default from its own plugins/<name>/default.yaml. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "ptree.h"
#include "util.h"

/* The parsed fragment plugins/PLUGIN/default.yaml under $top_srcdir (the
 * section is pmap_get(root, its section name)); NULL if it cannot be read
 * or parsed, which the caller fails on. */
static inline struct ptree *default_fragment(const char *plugin) {
        const char *top = getenv("top_srcdir");
        char path[4096];
        snprintf(path, sizeof path, "%s/plugins/%s/default.yaml", top ? top : ".", plugin);
        char *data = NULL;
        size_t size;
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        if (read_file_capped(path, 1 << 20, &data, &size) < 0 || ptree_parse(path, data, size, &t, &errs) < 0)
                t = NULL;
        perrors_clear(&errs);
        free(data);
        return t;
}
