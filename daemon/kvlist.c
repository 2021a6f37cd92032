/* kvlist.c — the key/value lists plugins fill with their status. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "plugin.h"
#include "util.h"

int kvlist_add(struct kvlist *l, const char *key, const char *fmt, ...) {
        if (l->n == l->cap) {
                size_t ncap = l->cap ? l->cap * 2 : 8;
                char **nk = realloc(l->keys, ncap * sizeof *nk);
                if (!nk)
                        return -ENOMEM;
                l->keys = nk;
                char **nv = realloc(l->values, ncap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                l->values = nv;
                l->cap = ncap;
        }
        char *k = strdup(key), *v = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (!k || r < 0) {
                free(k);
                return -ENOMEM;
        }
        l->keys[l->n] = k;
        l->values[l->n++] = v;
        return 0;
}

void kvlist_clear(struct kvlist *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->keys[i]);
                free(l->values[i]);
        }
        free(l->keys);
        free(l->values);
        *l = (struct kvlist){ 0 };
}
