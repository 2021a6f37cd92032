/* kvlist.c — what plugins hand the core: key/value lists of their status, and rows of the compliance report. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
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

const char *kvlist_get(const struct kvlist *l, const char *key) {
        for (size_t i = 0; l && i < l->n; i++)
                if (strcmp(l->keys[i], key) == 0)
                        return l->values[i];
        return NULL;
}

struct report_row *report_row_add(struct report_rows *rows, const char *requirement, const char *clause,
                                  const char *evidence) {
        if (rows->n == rows->cap) {
                size_t ncap = rows->cap ? rows->cap * 2 : 8;
                struct report_row *nv = realloc(rows->v, ncap * sizeof *nv);
                if (!nv)
                        return NULL;
                rows->v = nv;
                rows->cap = ncap;
        }
        struct report_row *row = &rows->v[rows->n++];
        *row = (struct report_row){ .requirement = requirement, .clause = clause, .evidence = evidence,
                                    .state = REPORT_NOT_ENFORCED };
        return row;
}

void report_setting(struct report_row *row, const char *name, const char *fmt, ...) {
        size_t l = strlen(row->setting);
        if (l >= sizeof row->setting - 1)
                return;
        l += (size_t)snprintf(row->setting + l, sizeof row->setting - l, "%s%s: ", l ? "; " : "", name);
        if (l >= sizeof row->setting)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(row->setting + l, sizeof row->setting - l, fmt, ap);
        va_end(ap);
}

/* A node in one short line: scalars as they are, sequences and maps abridged. */
static void node_text(FILE *f, const struct pnode *n, unsigned depth) {
        if (!n) {
                fputs("(absent)", f);
                return;
        }
        if (n->kind == PNODE_SCALAR) {
                fputs(n->scalar, f);
                return;
        }
        size_t count = n->kind == PNODE_SEQ ? n->n : n->n / 2;
        if (depth > 1) {
                fprintf(f, n->kind == PNODE_SEQ ? "[%zu]" : "{%zu}", count);
                return;
        }
        fputc(n->kind == PNODE_SEQ ? '[' : '{', f);
        for (size_t i = 0; i < count && i < 6; i++) {
                if (i)
                        fputs(", ", f);
                if (n->kind == PNODE_MAP) {
                        fprintf(f, "%s: ", pmap_key(n, i)->scalar); /* map keys are scalars */
                        node_text(f, pmap_val(n, i), depth + 1);
                } else
                        node_text(f, n->children[i], depth + 1);
        }
        if (count > 6)
                fprintf(f, ", … (%zu in all)", count);
        fputc(n->kind == PNODE_SEQ ? ']' : '}', f);
}

void report_setting_node(struct report_row *row, const char *name, const struct pnode *n) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return;
        node_text(f, n, 0);
        if (fclose(f) == 0)
                report_setting(row, name, "%s", buf);
        free(buf);
}

void report_reason(struct report_row *row, enum report_state st, const char *fmt, ...) {
        row->state = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(row->reason, sizeof row->reason, fmt, ap);
        va_end(ap);
}

void report_rows_clear(struct report_rows *rows) {
        free(rows->v);
        *rows = (struct report_rows){ 0 };
}
