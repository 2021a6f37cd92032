/* reportrow.c — the rows of the compliance report a plugin gives the core (plugin.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "util.h"

struct report_row *report_row_add(struct report_rows *rows, const char *requirement, const char *clause,
                                  const char *evidence) {
        if (ARRAY_GROW(rows->v, rows->cap, rows->n + 1) < 0)
                return NULL;
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

void report_plugin_rows(const struct sekisho_plugin *p, const struct pnode *section, const struct kvlist *live,
                        const char *not_running, struct report_rows *out) {
        size_t first = out->n;
        p->report(section, live, out);
        for (size_t i = first; i < out->n; i++) {
                struct report_row *row = &out->v[i];
                row->plugin = p->name;
                if (!live && not_running)
                        report_reason(row, REPORT_UNAVAILABLE, "the %s plugin is %s", p->name,
                                      strcmp(not_running, "stopped") == 0 ? "not started (not in --plugins)" : not_running);
        }
}

enum report_state report_rows_verdict(const struct report_rows *rows, const char *requirement, size_t *ret_n) {
        size_t n = 0, enforced = 0, some = 0;
        for (size_t k = 0; k < rows->n; k++) {
                const struct report_row *row = &rows->v[k];
                if (strcmp(row->requirement, requirement) != 0)
                        continue;
                n++;
                enforced += row->state == REPORT_ENFORCED;
                some += row->state == REPORT_ENFORCED || row->state == REPORT_PARTIAL;
        }
        *ret_n = n;
        return n && enforced == n ? REPORT_ENFORCED : some ? REPORT_PARTIAL : REPORT_NOT_ENFORCED;
}
