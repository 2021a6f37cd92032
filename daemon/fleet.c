/* fleet.c — `sekishoctl fleet report`: per terminal, from a collector's journal directory (systemd-journal-remote), what its newest heartbeat says; looked up by indexed journal fields, so millions of records cost what the terminals cost. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "fleet.h"
#include "plugin.h"
#include "util.h"

#define FIELD_MAX 256
#define RESETS_MAX 8 /* per terminal, newest first: resets are rare */

/* A factory reset as the collector saw it: the hand-over before the wipe,
 * the completion record after the first boot (same reset id). */
struct reset_seen {
        char id[40];
        uint64_t handover_usec, complete_usec; /* 0: not seen */
        char result[16], ack[32], drive_erase[FIELD_MAX];
};

struct terminal {
        char *name;
        uint64_t last_seen_usec;       /* newest entry of any event */
        uint64_t heartbeat_usec;       /* newest heartbeat (0: none) */
        char serial[32], policy_state[16], state[16], freshness[16];
        char profiles[FIELD_MAX], not_enforced[FIELD_MAX];
        bool silent, stale, quarantined, travelling, out_of_policy;
        struct reset_seen resets[RESETS_MAX];
        size_t n_resets;
        bool reset_failed;
};

/* The value of field in the current entry into out ("" if absent). */
static void field(sd_journal *j, const char *name, char *out, size_t size) {
        const void *data;
        size_t len, nl = strlen(name);
        out[0] = '\0';
        if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= nl + 1)
                return;
        len -= nl + 1;
        if (len >= size)
                len = size - 1;
        memcpy(out, (const char *)data + nl + 1, len);
        out[len] = '\0';
}

static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
                        return true;
        return false;
}

/* The newest entry matching SEKISHO_TERMINAL=name (and event, if given): 1 found, 0 none. */
static int newest(sd_journal *j, const char *name, const char *event) {
        char m[FIELD_MAX + 32];
        sd_journal_flush_matches(j);
        snprintf(m, sizeof m, "SEKISHO_TERMINAL=%s", name);
        int r = sd_journal_add_match(j, m, 0);
        if (r >= 0 && event) {
                snprintf(m, sizeof m, "SEKISHO_EVENT=%s", event);
                r = sd_journal_add_match(j, m, 0);
        }
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r >= 0)
                r = sd_journal_previous(j);
        return r;
}

static const char *reset_state(const struct reset_seen *r) {
        if (!r->complete_usec)
                return "pending";
        return strcmp(r->result, "done") == 0 ? "done" : "failed";
}

static struct reset_seen *reset_slot(struct terminal *x, const char *id) {
        for (size_t i = 0; i < x->n_resets; i++)
                if (strcmp(x->resets[i].id, id) == 0)
                        return &x->resets[i];
        if (x->n_resets == RESETS_MAX)
                return NULL;
        struct reset_seen *r = &x->resets[x->n_resets++];
        *r = (struct reset_seen){ 0 };
        snprintf(r->id, sizeof r->id, "%s", id);
        return r;
}

/* The terminal's resets: hand-overs and completions, newest first, matched by id. */
static int collect_resets(sd_journal *j, struct terminal *x) {
        static const char *const events[] = { "travel.reset.handover", "travel.reset.complete" };
        for (size_t e = 0; e < 2; e++) {
                int r = newest(j, x->name, events[e]);
                for (size_t seen = 0; r > 0 && seen < 4 * RESETS_MAX; seen++) {
                        char id[40], result[16];
                        field(j, "SEKISHO_RESET_ID", id, sizeof id);
                        struct reset_seen *rs = id[0] ? reset_slot(x, id) : NULL;
                        uint64_t usec = 0;
                        sd_journal_get_realtime_usec(j, &usec);
                        if (rs && e == 0 && !rs->handover_usec)
                                rs->handover_usec = usec;
                        if (rs && e == 1 && !rs->complete_usec) {
                                rs->complete_usec = usec;
                                field(j, "SEKISHO_RESULT", result, sizeof result);
                                snprintf(rs->result, sizeof rs->result, "%s", result);
                                field(j, "SEKISHO_ACK", rs->ack, sizeof rs->ack);
                                field(j, "SEKISHO_DRIVE_ERASE", rs->drive_erase, sizeof rs->drive_erase);
                        }
                        r = sd_journal_previous(j);
                }
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < x->n_resets; i++)
                x->reset_failed |= strcmp(reset_state(&x->resets[i]), "failed") == 0;
        return 0;
}

static int terminal_cmp(const void *a, const void *b) {
        const struct terminal *x = a, *y = b;
        if (x->out_of_policy != y->out_of_policy)
                return x->out_of_policy ? -1 : 1;   /* the ones to look at first */
        return strcmp(x->name, y->name);
}

static int collect(sd_journal *j, uint64_t now_usec, uint64_t silent_usec, struct terminal **ret, size_t *ret_n) {
        struct terminal *t = NULL;
        size_t n = 0, cap = 0;
        const void *data;
        size_t len;
        /* Every terminal ever heard of: the field's own index, not a scan. */
        int r = sd_journal_query_unique(j, "SEKISHO_TERMINAL");
        if (r < 0)
                return r;
        SD_JOURNAL_FOREACH_UNIQUE(j, data, len) {
                if (len <= 17 || len - 17 > FIELD_MAX)
                        continue;
                if (ARRAY_GROW(t, cap, n + 1) < 0)
                        goto oom;
                t[n] = (struct terminal){ .name = strndup((const char *)data + 17, len - 17) };
                if (!t[n].name)
                        goto oom;
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                struct terminal *x = &t[i];
                if ((r = newest(j, x->name, NULL)) > 0)
                        sd_journal_get_realtime_usec(j, &x->last_seen_usec);
                if (r >= 0 && (r = newest(j, x->name, "terminal.heartbeat")) > 0) {
                        sd_journal_get_realtime_usec(j, &x->heartbeat_usec);
                        field(j, "SEKISHO_SERIAL", x->serial, sizeof x->serial);
                        field(j, "SEKISHO_POLICY_STATE", x->policy_state, sizeof x->policy_state);
                        field(j, "SEKISHO_FRESHNESS", x->freshness, sizeof x->freshness);
                        field(j, "SEKISHO_STATE", x->state, sizeof x->state);
                        field(j, "SEKISHO_PROFILES", x->profiles, sizeof x->profiles);
                        field(j, "SEKISHO_NOT_ENFORCED", x->not_enforced, sizeof x->not_enforced);
                }
                if (r >= 0)
                        r = collect_resets(j, x);
                if (r < 0) {
                        for (size_t k = 0; k < n; k++)
                                free(t[k].name);
                        free(t);
                        return r;
                }
                x->silent = !x->heartbeat_usec || now_usec - x->heartbeat_usec > silent_usec;
                /* Stale: the bundle expired, or the repository's timestamps did (frozen) or name a
                 * bundle this terminal never got. */
                x->stale = strcmp(x->policy_state, "stale") == 0 || freshness_is_stale(x->freshness);
                x->quarantined = has_word(x->profiles, "quarantine");
                x->travelling = has_word(x->profiles, "travel");
                x->out_of_policy = x->silent || x->stale || x->quarantined || x->not_enforced[0] ||
                                   strcmp(x->state, "enforcing") != 0 || x->reset_failed;
        }
        qsort(t, n, sizeof *t, terminal_cmp);
        *ret = t;
        *ret_n = n;
        return 0;
oom:
        for (size_t k = 0; k < n; k++)
                free(t[k].name);
        free(t);
        return -ENOMEM;
}

static void when(uint64_t usec, char out[32]) {
        if (usec)
                format_rfc3339((int64_t)(usec / 1000000), out);
        else
                strcpy(out, "never");
}

/* Factory resets (R2): pending (handed over, no completion yet), done, failed. */
static void print_resets_text(FILE *f, const struct terminal *t, size_t n) {
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += t[i].n_resets;
        if (!total)
                return;
        fprintf(f, "\n%zu factory reset(s)\n%-24s %-32s %-20s %-8s %-20s %s\n", total, "TERMINAL", "RESET ID", "HANDED OVER",
                "RESET", "COMPLETED", "DRIVE ERASE");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < t[i].n_resets; k++) {
                        const struct reset_seen *r = &t[i].resets[k];
                        char name[FIELD_MAX * 4 + 1], id[sizeof r->id * 4], erase[FIELD_MAX * 4 + 1], ho[32], co[32];
                        str_vis(name, sizeof name, t[i].name);
                        str_vis(id, sizeof id, r->id);
                        str_vis(erase, sizeof erase, r->drive_erase);
                        when(r->handover_usec, ho);
                        when(r->complete_usec, co);
                        fprintf(f, "%-24s %-32s %-20s %-8s %-20s %s\n", name, id, ho, reset_state(r), co, erase[0] ? erase : "-");
                }
}

static void print_text(FILE *f, const struct terminal *t, size_t n, size_t bad) {
        fprintf(f, "%zu terminals, %zu to look at\n", n, bad);
        fprintf(f, "%-24s %-20s %-20s %-10s %-8s %-10s %s\n", "TERMINAL", "LAST SEEN", "HEARTBEAT", "SERIAL", "POLICY",
                "STATE", "NOT ENFORCED / PROFILES");
        for (size_t i = 0; i < n; i++) {
                char seen[32], beat[32], name[FIELD_MAX * 4 + 1], ne[FIELD_MAX * 4 + 1], pr[FIELD_MAX * 4 + 1];
                when(t[i].last_seen_usec, seen);
                when(t[i].heartbeat_usec, beat);
                str_vis(name, sizeof name, t[i].name);
                str_vis(ne, sizeof ne, t[i].not_enforced);
                str_vis(pr, sizeof pr, t[i].profiles);
                fprintf(f, "%-24s %-20s %-20s %-10s %-8s %-10s %s%s%s%s\n", name, seen, beat,
                        t[i].serial[0] ? t[i].serial : "-", t[i].policy_state[0] ? t[i].policy_state : "-",
                        t[i].silent ? "SILENT" : t[i].state, ne[0] ? ne : "-", pr[0] ? " [" : "", pr, pr[0] ? "]" : "");
        }
        print_resets_text(f, t, n);
}

static void json_bool(FILE *f, const char *k, bool v) { fprintf(f, ",\"%s\":%s", k, v ? "true" : "false"); }
static void json_str(FILE *f, const char *k, const char *v) {
        fprintf(f, ",\"%s\":", k);
        json_write_string(f, v);
}

static void print_json(FILE *f, const struct terminal *t, size_t n, size_t bad, uint64_t now_usec) {
        char now[32];
        when(now_usec, now);
        fprintf(f, "{\"generated\":\"%s\",\"terminals\":%zu,\"out-of-policy\":%zu,\"list\":[", now, n, bad);
        for (size_t i = 0; i < n; i++) {
                char seen[32], beat[32];
                when(t[i].last_seen_usec, seen);
                when(t[i].heartbeat_usec, beat);
                fputs(i ? ",{\"terminal\":" : "{\"terminal\":", f);
                json_write_string(f, t[i].name);
                json_str(f, "last-seen", seen);
                json_str(f, "heartbeat", beat);
                json_str(f, "serial", t[i].serial);
                json_str(f, "policy-state", t[i].policy_state);
                json_str(f, "freshness", t[i].freshness);
                json_str(f, "state", t[i].state);
                json_str(f, "profiles", t[i].profiles);
                json_str(f, "not-enforced", t[i].not_enforced);
                json_bool(f, "silent", t[i].silent);
                json_bool(f, "stale", t[i].stale);
                json_bool(f, "quarantined", t[i].quarantined);
                json_bool(f, "travelling", t[i].travelling);
                json_bool(f, "out-of-policy", t[i].out_of_policy);
                fputs(",\"resets\":[", f);
                for (size_t k = 0; k < t[i].n_resets; k++) {
                        const struct reset_seen *r = &t[i].resets[k];
                        char ho[32], co[32];
                        when(r->handover_usec, ho);
                        when(r->complete_usec, co);
                        fputs(k ? ",{\"reset-id\":" : "{\"reset-id\":", f);
                        json_write_string(f, r->id);
                        json_str(f, "state", reset_state(r));
                        json_str(f, "handover", ho);
                        json_str(f, "completed", co);
                        json_str(f, "ack", r->ack);
                        json_str(f, "drive-erase", r->drive_erase);
                        fputc('}', f);
                }
                fputs("]}", f);
        }
        fputs("]}\n", f);
}

static void td(FILE *f, const char *s, const char *cls) {
        fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
        html_write_string(f, s);
        fputs("</td>", f);
}

static void print_html(FILE *f, const struct terminal *t, size_t n, size_t bad, uint64_t now_usec) {
        char now[32];
        when(now_usec, now);
        fputs("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
              "<title>sekisho 端末一覧 / fleet report</title><style>"
              "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
              "td,th{border:1px solid #999;padding:.25em .5em;text-align:left}"
              ".bad{background:#fdd}.ok{background:#dfd}</style></head><body>\n", f);
        fprintf(f, "<h1>sekisho 端末一覧 / fleet report</h1>\n<p>%s UTC: %zu 台 / terminals, 要確認 / to look at: %zu</p>\n",
                now, n, bad);
        fputs("<table><tr><th>端末 / terminal</th><th>最終受信 / last seen</th><th>ハートビート / heartbeat</th>"
              "<th>ポリシー / serial</th><th>状態 / policy</th><th>動作 / state</th><th>未実施 / not enforced</th>"
              "<th>プロファイル / profiles</th></tr>\n", f);
        for (size_t i = 0; i < n; i++) {
                char seen[32], beat[32];
                when(t[i].last_seen_usec, seen);
                when(t[i].heartbeat_usec, beat);
                fprintf(f, "<tr class=\"%s\">", t[i].out_of_policy ? "bad" : "ok");
                td(f, t[i].name, NULL);
                td(f, seen, NULL);
                td(f, beat, t[i].silent ? "bad" : NULL);
                td(f, t[i].serial, NULL);
                td(f, t[i].policy_state, t[i].stale ? "bad" : NULL);
                td(f, t[i].silent ? "silent" : t[i].state, NULL);
                td(f, t[i].not_enforced, NULL);
                td(f, t[i].profiles, t[i].quarantined ? "bad" : NULL);
                fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
        bool any = false;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < t[i].n_resets; k++) {
                        const struct reset_seen *r = &t[i].resets[k];
                        const char *st = reset_state(r);
                        char ho[32], co[32];
                        when(r->handover_usec, ho);
                        when(r->complete_usec, co);
                        if (!any)
                                fputs("<h2>初期化 / factory resets</h2>\n<table><tr><th>端末 / terminal</th><th>初期化ID / reset id</th>"
                                      "<th>引き渡し / handed over</th><th>状態 / state</th><th>完了 / completed</th>"
                                      "<th>ドライブ消去 / drive erase</th></tr>\n", f);
                        any = true;
                        fprintf(f, "<tr class=\"%s\">", strcmp(st, "failed") == 0 ? "bad" : strcmp(st, "done") == 0 ? "ok" : "");
                        td(f, t[i].name, NULL);
                        td(f, r->id, NULL);
                        td(f, ho, NULL);
                        td(f, strcmp(st, "pending") == 0 ? "pending / 実施待ち" : strcmp(st, "done") == 0 ? "done / 完了" : "failed / 失敗",
                           NULL);
                        td(f, co, NULL);
                        td(f, r->drive_erase, NULL);
                        fputs("</tr>\n", f);
                }
        if (any)
                fputs("</table>\n", f);
        fputs("</body></html>\n", f);
}

int fleet_report(const char *journal_dir, enum fleet_format format, uint64_t silent_usec, FILE *out) {
        sd_journal *j = NULL;
        int r = sd_journal_open_directory(&j, journal_dir, 0);
        if (r < 0)
                return r;
        struct terminal *t = NULL;
        size_t n = 0, bad = 0;
        uint64_t now = (uint64_t)now_unix() * 1000000u;
        r = collect(j, now, silent_usec, &t, &n);
        sd_journal_close(j);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                bad += t[i].out_of_policy;
        if (format == FLEET_JSON)
                print_json(out, t, n, bad, now);
        else if (format == FLEET_HTML)
                print_html(out, t, n, bad, now);
        else
                print_text(out, t, n, bad);
        for (size_t i = 0; i < n; i++)
                free(t[i].name);
        free(t);
        return fflush(out) == 0 ? 0 : -EIO;
}
