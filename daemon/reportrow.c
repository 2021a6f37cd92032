/* reportrow.c — the rows of the compliance report a plugin gives the core (plugin.h). */
#include "config.h"

#include <inttypes.h>
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

bool freshness_is_stale(const char *state) { return strcmp(state, "expired") == 0 || strcmp(state, "behind") == 0; }

struct report_row *report_freshness_row(struct report_rows *rows, const char *state, const char *profile,
                                        int64_t grace_s, bool active, const char *since) {
        bool known = freshness_is_stale(state) || strcmp(state, "fresh") == 0;
        if (!profile && !known)
                return NULL;     /* bundles are pushed: no repository's timestamps to judge */
        struct report_row *row = report_row_add(rows, "R9", "002 ⑦ (3.6.5): configuration checked regularly",
                                                "freshness.");
        if (!row)
                return NULL;
        row->plugin = "freshness";
        if (profile)
                report_setting(row, "freshness", "profile %s after %" PRId64 " h stale", profile, grace_s / 3600);
        else
                report_setting(row, "freshness", "(absent: no stale profile)");
        char then[160] = "";
        if (profile && active)
                snprintf(then, sizeof then, "; stale profile %s applied%s%s", profile, since[0] ? " since " : "", since);
        else if (profile)
                snprintf(then, sizeof then, "; stale profile %s applies after %" PRId64 " h", profile, grace_s / 3600);
        if (strcmp(state, "fresh") == 0)
                report_reason(row, REPORT_ENFORCED, "fresh: the repository's newest timestamp is valid and names the "
                              "bundle in force");
        else if (strcmp(state, "expired") == 0)
                report_reason(row, REPORT_PARTIAL, "STALE (expired): the repository's newest timestamp expired (a "
                              "frozen repository, or no connection): the policy in force may not be the officer's "
                              "current one%s", then);
        else if (strcmp(state, "behind") == 0)
                report_reason(row, REPORT_PARTIAL, "STALE (behind): the repository names a newer bundle than the one "
                              "in force, which has not arrived%s", then);
        else
                report_reason(row, REPORT_NOT_ENFORCED, "none: no timestamp from the repository has been accepted, "
                              "so whether the policy in force is current is unknown%s", then);
        return row;
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
