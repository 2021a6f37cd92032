/* report.c — the compliance report: requirements R1–R11, each with the rows the plugins covering it give (judged from what they enforce now), the core's own (R9, R10), and audit evidence. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "json.h"
#include "report.h"
#include "sbom.h"
#include "util.h"
#include "view.h"

#define REPORT_EVIDENCE_MAX 5               /* latest audit records named per requirement */
#define REPORT_AUDIT_LINE_MAX (64 * 1024)   /* the audit log's own line cap */

/* One requirement of REQUIREMENTS.md: what it is and where the guideline
 * says it. Which plugin covers it is the plugins' to say (their rows). */
struct requirement {
        const char *id, *title_en, *title_ja, *clause;
};

static const struct requirement reqs[] = {
        { "R1", "USB ports disabled by system setting in high-risk places",
          "高リスク地域ではUSBポートをシステム設定で無効化する",
          "000 §4 (基本対策事項 6.1.2(2)-1); 004 5.1(1) 注3" },
        { "R2", "Take-out laptop returned to factory state on return from a high-risk region",
          "高リスク地域からの帰着時に持ち出し専用パソコンを工場出荷状態に戻す（情報の完全消去）",
          "000 §4; 004 注3; 002 注3 (持ち出し専用パソコン)" },
        { "R3", "No clipboard, printer, drive or device redirection to the virtual terminal",
          "画面転送におけるクリップボード・プリンタ・ディスクドライブ等のリダイレクト禁止",
          "004 意見① (別紙 全パターン共通の対策)" },
        { "R4", "No terminal-to-terminal communication, wired or wireless",
          "端末間通信の禁止（有線・無線）",
          "004 意見④ (6.5(4), 図表42)" },
        { "R5", "No file-sharing (P2P) software installed or used",
          "ファイル共有（P2P）ソフトウェアの導入・利用禁止",
          "002 ⑤ (注2); 000 §5" },
        { "R6", "BYOD: only permitted OS types and versions",
          "支給以外の端末（BYOD）は許可したOS種別・バージョンに限る",
          "000 §5; 002 ⑤" },
        { "R7", "Quarantine: out-of-date or infected terminals kept off the office network",
          "検疫：パッチ・定義ファイルが古い端末や感染端末を業務ネットワークから隔離",
          "002 ④ (注3); 002 ⑤" },
        { "R8", "Public networks: no direct use; only permitted destinations",
          "公衆無線LANの原則禁止、許可された通信先のみ",
          "002 ④ (注4); 004 その他② (注7)" },
        { "R9", "Unused functions off, configuration tamper checks, logs kept as evidence",
          "不要な機能・ポートの無効化、重要な設定ファイルの改ざん確認、ログの保存",
          "000 §2 (IoT); 002 ⑦ (3.6.5)" },
        { "R10", "Software supply chain: SBOM and secure development (NIST SP 800-218)",
          "ソフトウェアサプライチェーン対策（SBOM、セキュア開発 SSDF）",
          "000 §3" },
        { "R11", "Storage purged on disposal (cryptographic erase, not formatting)",
          "廃棄時の記憶媒体の完全消去（暗号化消去等、フォーマットのみは不可）",
          "004 (図表41, 表7-1-1)" },
};
#define N_REQS ARRAY_SIZE(reqs)

/* The core's own evidence (R9): policy, daemon and plugin-failure records. */
static const char core_evidence[] = "policy. daemon. plugin.failed trust.";

enum verdict { V_ENFORCED, V_PARTIAL, V_NOT_ENFORCED, V_NOT_APPLICABLE };
static const char *const verdict_id[] = { "enforced", "partial", "not-enforced", "not-applicable" };
static const char *const verdict_en[] = { "enforced", "partly enforced", "not enforced", "not a runtime measure" };
static const char *const verdict_ja[] = { "実施中", "一部実施", "未実施", "運用上の対策" };
static const char *const row_state_id[] = { "enforced", "partial", "not-enforced", "unavailable" };

/* What the report says of one requirement. */
struct result {
        enum verdict v;
        bool daemon_down;           /* the verdict is what the policy in force would do */
        char setting[1024];
        char detail[2048];
        char plugins[128];          /* the plugins whose rows cover it */
        uint64_t latest[REPORT_EVIDENCE_MAX];   /* ring of seq numbers */
        size_t n_latest;
        uint64_t count;
        char last_time[40];
};

struct report {
        const struct report_options *o;
        struct sekisho_conf conf;
        struct view view;
        struct report_rows rows;    /* every plugin's rows, in start order */
        int audit_r;
        uint64_t audit_records;
        char audit_why[512];
        struct result res[N_REQS];
        char generated[32];
        char stale_since[40];       /* the last freshness.stale record's time, "" after a freshness.fresh */
        struct keyring trust;       /* the keys this terminal trusts (trust.c) */
        char trust_line[1024];      /* the auditor's view of it, one line */
};

/* ---- the plugins' rows ---- */

/* "enforcing", "failed", "stopped" or "unknown" (no status at all). */
static const char *plugin_state(const struct report *rp, const char *name) {
        const struct json *pl = json_get(rp->view.status, "plugins");
        for (size_t i = 0; pl && pl->type == JSON_ARRAY && i < pl->n; i++) {
                const char *n = json_string(json_get(pl->items[i], "name"));
                const char *s = json_string(json_get(pl->items[i], "state"));
                if (n && s && strcmp(n, name) == 0)
                        return s;
        }
        return "unknown";
}

/* The details the running plugin's status() gave, as a kvlist. */
static int live_details(const struct report *rp, const char *name, struct kvlist *ret) {
        const struct json *pl = json_get(rp->view.status, "plugins");
        for (size_t i = 0; pl && pl->type == JSON_ARRAY && i < pl->n; i++) {
                const char *n = json_string(json_get(pl->items[i], "name"));
                const struct json *d = json_get(pl->items[i], "details");
                if (!n || strcmp(n, name) != 0 || !d || d->type != JSON_OBJECT)
                        continue;
                for (size_t k = 0; k < d->n; k++)
                        if (json_string(d->items[k]) && kvlist_add(ret, d->keys[k], "%s", json_string(d->items[k])) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* Ask every built-in plugin for its rows, judged from the section the daemon
 * applies and its live status; a plugin that is not running gives its rows
 * from the section, marked unavailable. */
static int collect_rows(struct report *rp) {
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++) {
                if (!(*p)->report || (*p)->test_only)
                        continue;
                struct ptree *section = NULL;
                int r = view_section(&rp->view, (*p)->section, &section);
                if (r < 0)
                        return r;
                const char *st = plugin_state(rp, (*p)->name);
                bool running = rp->view.live && strcmp(st, "enforcing") == 0;
                struct kvlist live = { 0 };
                r = running ? live_details(rp, (*p)->name, &live) : 0;
                if (r == 0)
                        report_plugin_rows(*p, section->root, running ? &live : NULL, rp->view.live ? st : NULL,
                                           &rp->rows);
                kvlist_clear(&live);
                ptree_free(section);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- evidence ---- */

static bool clause_names(const char *clause, const char *id) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", clause);
        char *save = NULL;
        for (char *t = strtok_r(buf, ", ;()", &save); t; t = strtok_r(NULL, ", ;()", &save))
                if (strcmp(t, id) == 0)
                        return true;
        return false;
}

static bool event_in(const char *event, const char *prefixes) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", prefixes ? prefixes : "");
        char *save = NULL;
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
                if (strncmp(event, t, strlen(t)) == 0)
                        return true;
        return false;
}

/* Is the record evidence for requirement i? Its clause names it, or its
 * event is one a row for it (or the core, for R9) names as evidence. */
static bool is_evidence(const struct report *rp, size_t i, const char *event, const char *clause) {
        if (clause && clause_names(clause, reqs[i].id))
                return true;
        if (strcmp(reqs[i].id, "R9") == 0 && event_in(event, core_evidence))
                return true;
        for (size_t k = 0; k < rp->rows.n; k++)
                if (strcmp(rp->rows.v[k].requirement, reqs[i].id) == 0 && event_in(event, rp->rows.v[k].evidence))
                        return true;
        return false;
}

static void scan_audit(struct report *rp) {
        rp->audit_r = audit_verify(rp->o->audit_log, rp->audit_why, sizeof rp->audit_why, &rp->audit_records);
        _cleanup_fclose_ FILE *f = fopen(rp->o->audit_log, "re");
        if (!f)
                return;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
                if (n > REPORT_AUDIT_LINE_MAX)
                        continue;
                struct json *rec = NULL;
                if (json_parse(line, (size_t)n, &rec) < 0)
                        continue;
                uint64_t seq;
                const char *event = json_string(json_get(rec, "event"));
                const char *clause = json_string(json_get(rec, "clause"));
                const char *time = json_string(json_get(rec, "time"));
                if (event && strcmp(event, "freshness.stale") == 0)
                        snprintf(rp->stale_since, sizeof rp->stale_since, "%s", time ? time : "");
                else if (event && strcmp(event, "freshness.fresh") == 0)
                        rp->stale_since[0] = '\0';
                if (json_u64(json_get(rec, "seq"), &seq) && event)
                        for (size_t i = 0; i < N_REQS; i++) {
                                if (!is_evidence(rp, i, event, clause))
                                        continue;
                                struct result *res = &rp->res[i];
                                res->latest[res->count % REPORT_EVIDENCE_MAX] = seq;
                                res->count++;
                                snprintf(res->last_time, sizeof res->last_time, "%s", time ? time : "");
                        }
                json_free(rec);
        }
        for (size_t i = 0; i < N_REQS; i++) {
                struct result *res = &rp->res[i];
                res->n_latest = res->count < REPORT_EVIDENCE_MAX ? res->count : REPORT_EVIDENCE_MAX;
                /* Newest first. */
                uint64_t tmp[REPORT_EVIDENCE_MAX];
                for (size_t k = 0; k < res->n_latest; k++)
                        tmp[k] = res->latest[(res->count - 1 - k) % REPORT_EVIDENCE_MAX];
                memcpy(res->latest, tmp, sizeof tmp);
        }
}

/* ---- verdicts ---- */


/* Which keys, roles, thresholds, version and expiry: the trust an auditor checks against the officer's records. */
static void describe_trust(struct report *rp) {
        const struct keyring *k = &rp->trust;
        char *b = rp->trust_line;
        size_t size = sizeof rp->trust_line;
        if (k->root_version) {
                char t[32];
                format_rfc3339(k->root_expires, t);
                buf_append(b, size, "trust root version %" PRIu64 "%s, expires %s; thresholds root %u, policy %u, timestamp %u;",
                       k->root_version, rp->view.choice.policy && now_unix() >= k->root_expires ? " (EXPIRED)" : "", t,
                       k->threshold[0], k->threshold[1], k->threshold[2]);
        } else
                buf_append(b, size, "keys.d (no trust root), policy threshold 1;");
        for (size_t i = 0; i < k->n; i++) {
                char id[17];
                minisign_keynum_hex(k->keys[i].pub.keynum, id);
                buf_append(b, size, " %s(", id);
                for (unsigned r = 0, first = 1; r < TRUST_ROLES; r++)
                        if (k->keys[i].roles & (1u << r)) {
                                buf_append(b, size, "%s%s", first ? "" : ",", trust_role_name(1u << r));
                                first = 0;
                        }
                buf_append(b, size, ")");
        }
        for (size_t i = 0; i < k->n_revoked; i++) {
                char id[17];
                minisign_keynum_hex(k->revoked[i], id);
                buf_append(b, size, "%s%s", i ? ", " : "; revoked: ", id);
        }
        for (size_t i = 0; i < k->problems.n; i++)
                buf_append(b, size, "; refused: %s", k->problems.msgs[i]);
}

/* R9's freshness row: the repository's timestamps as the daemon judges them, and what followed. */
static const struct report_row *freshness_row(struct report *rp) {
        const char *state = rp->view.status ? json_string(json_get(rp->view.status, "freshness")) : NULL;
        int64_t grace = 0;
        const char *profile = policy_freshness(rp->view.choice.policy, &grace);
        bool active = false;
        for (size_t i = 0; profile && i < rp->view.n_active; i++)
                active |= strcmp(rp->view.active[i], profile) == 0;
        return report_freshness_row(&rp->rows, state ? state : "none", profile, grace, active, rp->stale_since);
}

/* The core's own: signed policies, the keys trusted for them, an intact audit
 * chain; and whether the policy in force is the repository's current one. */
static void eval_r9(struct report *rp, struct result *res) {
        const struct store_choice *ch = &rp->view.choice;
        res->setting[0] = '\0';
        buf_append(res->setting, sizeof res->setting, "policy serial %" PRIu64 " (%s%s); %s; audit log %s", ch->policy->serial,
                 ch->source, strcmp(ch->source, "embedded") == 0 ? ", built-in strict default" : ", signed bundle",
                 rp->trust_line, rp->o->audit_log);
        bool running = rp->view.live && json_string(json_get(rp->view.status, "state"));
        bool chain = rp->audit_r == 0;
        res->v = running && chain ? V_ENFORCED : running || chain ? V_PARTIAL : V_NOT_ENFORCED;
        /* The daemon could not write its last record: policy changes are refused until it can. */
        const char *audit_error = rp->view.live ? json_string(json_get(rp->view.status, "audit-error")) : NULL;
        if (audit_error || rp->trust.problems.n)
                res->v = res->v == V_ENFORCED ? V_PARTIAL : res->v;
        snprintf(res->detail, sizeof res->detail, "%s%s%spolicies verified by signature before use; audit log %s (%" PRIu64
                 " records): %s", audit_error ? "audit log cannot be written: " : "", audit_error ? audit_error : "",
                 audit_error ? " (policy changes refused); " : "", chain ? "hash chain intact" : "NOT verified",
                 rp->audit_records, rp->audit_why);
        snprintf(res->plugins, sizeof res->plugins, "core");
        /* As rows, judged together as every requirement is (and as the heartbeat judges R9). */
        static const enum report_state as_row[] = { REPORT_ENFORCED, REPORT_PARTIAL, REPORT_NOT_ENFORCED };
        struct report_row *core = report_row_add(&rp->rows, "R9", CLAUSE_POLICY, core_evidence);
        if (core) {
                core->plugin = "core";
                report_reason(core, as_row[res->v], "%s", res->detail);
                snprintf(core->setting, sizeof core->setting, "%s", res->setting);
        }
        const struct report_row *fresh = freshness_row(rp);
        if (fresh) {
                buf_append(res->setting, sizeof res->setting, "; %s", fresh->setting);
                buf_append(res->detail, sizeof res->detail, "; freshness: %s", fresh->reason);
                buf_append(res->plugins, sizeof res->plugins, ", freshness");
        }
        size_t n;
        enum report_state st = report_rows_verdict(&rp->rows, "R9", &n);
        res->v = st == REPORT_ENFORCED ? V_ENFORCED : st == REPORT_PARTIAL ? V_PARTIAL : V_NOT_ENFORCED;
}

static void eval_r10(struct report *rp, struct result *res) {
        snprintf(res->setting, sizeof res->setting, "sekisho %s; SBOM %s%s", PACKAGE_VERSION, rp->o->sbom,
#if ENABLE_FAULT_INJECTION
                 "; test build: fault hooks compiled in (packages use --disable-fault-injection)"
#else
                 ""
#endif
        );
        res->v = V_NOT_APPLICABLE;
        sbom_describe(rp->o->sbom, PACKAGE_VERSION, res->detail, sizeof res->detail);
        snprintf(res->plugins, sizeof res->plugins, "(build and release process)");
}

/* A requirement the plugins cover: enforced when every row is, partly when
 * some are, not when none is or no plugin of this build covers it. */
static void eval_rows(struct report *rp, size_t i, struct result *res) {
        for (size_t k = 0; k < rp->rows.n; k++) {
                const struct report_row *row = &rp->rows.v[k];
                if (strcmp(row->requirement, reqs[i].id) != 0)
                        continue;
                buf_append(res->setting, sizeof res->setting, "%s%s", res->setting[0] ? "; " : "", row->setting);
                buf_append(res->detail, sizeof res->detail, "%s%s: %s (%s)", res->detail[0] ? "; " : "", row->plugin,
                       row->reason, row_state_id[row->state]);
                buf_append(res->plugins, sizeof res->plugins, "%s%s", res->plugins[0] ? ", " : "", row->plugin);
        }
        size_t n;
        enum report_state st = report_rows_verdict(&rp->rows, reqs[i].id, &n);
        if (n == 0) {
                res->v = V_NOT_ENFORCED;
                snprintf(res->setting, sizeof res->setting, "(none)");
                snprintf(res->detail, sizeof res->detail, "no plugin built into this sekisho covers it");
                return;
        }
        res->v = st == REPORT_ENFORCED ? V_ENFORCED : st == REPORT_PARTIAL ? V_PARTIAL : V_NOT_ENFORCED;
}

static void evaluate(struct report *rp) {
        for (size_t i = 0; i < N_REQS; i++) {
                struct result *res = &rp->res[i];
                if (strcmp(reqs[i].id, "R9") == 0)
                        eval_r9(rp, res);
                else if (strcmp(reqs[i].id, "R10") == 0)
                        eval_r10(rp, res);
                else
                        eval_rows(rp, i, res);
                /* Without a running daemon nothing is enforced now: the rows say what the policy in force would do. */
                if (!rp->view.live && res->v != V_NOT_APPLICABLE) {
                        res->daemon_down = true;
                        char was[sizeof res->detail];
                        snprintf(was, sizeof was, "%s", res->detail);
                        snprintf(res->detail, sizeof res->detail, "sekishod is not running, nothing is enforced now "
                                 "(not live); the policy in force would give: %.1900s", was);
                        if (res->v == V_ENFORCED || res->v == V_PARTIAL)
                                res->v = V_NOT_ENFORCED;
                }
        }
}

/* ---- output ---- */

static void put_text(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}


static const char *status_str(const struct report *rp, const char *k) {
        const char *s = json_string(json_get(rp->view.status, k));
        return s ? s : "unknown";
}

static void evidence_text(FILE *f, const struct result *row) {
        if (!row->count) {
                fputs("none", f);
                return;
        }
        fputs("seq", f);
        for (size_t k = 0; k < row->n_latest; k++)
                fprintf(f, "%s%" PRIu64, k ? ", " : " ", row->latest[k]);
        fprintf(f, " (%" PRIu64 " record(s), latest %s)", row->count, row->last_time);
}

static void print_text(const struct report *rp, FILE *f) {
        fputs("sekisho compliance report / 準拠状況報告\n", f);
        fputs("terminal:  ", f);
        put_text(f, rp->conf.terminal_id ? rp->conf.terminal_id : "(unknown)");
        fprintf(f, "\ngenerated: %s\ndaemon:    %s (", rp->generated, rp->view.live ? status_str(rp, "state") : "NOT RUNNING");
        put_text(f, rp->view.note);
        fprintf(f, ")\npolicy:    serial %" PRIu64 ", %s", rp->view.choice.policy->serial, rp->view.choice.source);
        if (rp->view.choice.reason[0]) {
                fputs(" (", f);
                put_text(f, rp->view.choice.reason);
                fputc(')', f);
        }
        fputs("\nprofiles: ", f);
        for (size_t i = 0; i < rp->view.n_active; i++) {
                fputc(' ', f);
                put_text(f, rp->view.active[i]);
        }
        fprintf(f, "%s\ntrust:     ", rp->view.n_active ? "" : " (none)");
        put_text(f, rp->trust_line);
        fprintf(f, "\naudit:     %s\n\n", rp->audit_why);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct result *row = &rp->res[i];
                fprintf(f, "%s  %s\n     %s\n", q->id, q->title_en, q->title_ja);
                fprintf(f, "     clause:   %s\n     setting:  ", q->clause);
                put_text(f, row->setting);
                fprintf(f, "\n     status:   %s — ", verdict_en[row->v]);
                put_text(f, row->detail);
                fputs("\n     evidence: ", f);
                evidence_text(f, row);
                fputs("\n\n", f);
        }
}

/* The plugins' rows for one requirement, as they judged them. */
static void print_json_rows(const struct report *rp, const char *id, FILE *f) {
        bool first = true;
        for (size_t k = 0; k < rp->rows.n; k++) {
                const struct report_row *row = &rp->rows.v[k];
                if (strcmp(row->requirement, id) != 0)
                        continue;
                fputs(first ? "{\"plugin\":" : ",{\"plugin\":", f);
                first = false;
                json_write_string(f, row->plugin);
                fputs(",\"clause\":", f);
                json_write_string(f, row->clause);
                fprintf(f, ",\"state\":\"%s\",\"live\":%s,\"setting\":", row_state_id[row->state],
                        rp->view.live ? "true" : "false");
                json_write_string(f, row->setting);
                fputs(",\"reason\":", f);
                json_write_string(f, row->reason);
                fputc('}', f);
        }
}

static void print_json(const struct report *rp, FILE *f) {
        fputs("{\"report\":\"sekisho-compliance\",\"version\":", f);
        json_write_string(f, PACKAGE_VERSION);
        fputs(",\"generated\":", f);
        json_write_string(f, rp->generated);
        fputs(",\"terminal\":", f);
        json_write_string(f, rp->conf.terminal_id ? rp->conf.terminal_id : "");
        fputs(",\"groups\":[", f);
        for (size_t i = 0; i < rp->conf.n_groups; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, rp->conf.groups[i]);
        }
        fprintf(f, "],\"daemon\":{\"running\":%s,\"source\":\"%s\",\"state\":", rp->view.live ? "true" : "false",
                rp->view.live && !rp->view.from_file ? "bus" : rp->view.status ? "status-file" : "none");
        json_write_string(f, rp->view.live ? status_str(rp, "state") : "not-running");
        fputs(",\"note\":", f);
        json_write_string(f, rp->view.note);
        fprintf(f, "},\"policy\":{\"serial\":%" PRIu64 ",\"source\":", rp->view.choice.policy->serial);
        json_write_string(f, rp->view.choice.source);
        fprintf(f, ",\"highest_serial\":%" PRIu64 ",\"note\":", rp->view.highest);
        json_write_string(f, rp->view.choice.reason);
        fputs("},\"profiles\":[", f);
        for (size_t i = 0; i < rp->view.n_active; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, rp->view.active[i]);
        }
        fputs("],\"trust\":{\"root_version\":", f);
        fprintf(f, "%" PRIu64 ",\"expires\":", rp->trust.root_version);
        char t[32] = "";
        if (rp->trust.root_version)
                format_rfc3339(rp->trust.root_expires, t);
        json_write_string(f, t);
        fprintf(f, ",\"thresholds\":{\"root\":%u,\"policy\":%u,\"timestamp\":%u},\"keys\":[", rp->trust.threshold[0],
                rp->trust.threshold[1], rp->trust.threshold[2]);
        for (size_t i = 0; i < rp->trust.n; i++) {
                char id[17];
                minisign_keynum_hex(rp->trust.keys[i].pub.keynum, id);
                fprintf(f, "%s{\"id\":\"%s\",\"roles\":%u,\"name\":", i ? "," : "", id, rp->trust.keys[i].roles);
                json_write_string(f, rp->trust.keys[i].name);
                fputc('}', f);
        }
        fputs("],\"refused\":[", f);
        for (size_t i = 0; i < rp->trust.problems.n; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, rp->trust.problems.msgs[i]);
        }
        fputs("],\"summary\":", f);
        json_write_string(f, rp->trust_line);
        fputs("},\"audit\":{\"file\":", f);
        json_write_string(f, rp->o->audit_log);
        fprintf(f, ",\"intact\":%s,\"records\":%" PRIu64 ",\"message\":", rp->audit_r == 0 ? "true" : "false",
                rp->audit_records);
        json_write_string(f, rp->audit_why);
        fputs("},\"requirements\":[", f);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct result *row = &rp->res[i];
                fprintf(f, "%s{\"id\":\"%s\",\"title\":", i ? "," : "", q->id);
                json_write_string(f, q->title_en);
                fputs(",\"title_ja\":", f);
                json_write_string(f, q->title_ja);
                fputs(",\"clause\":", f);
                json_write_string(f, q->clause);
                fputs(",\"plugins\":", f);
                json_write_string(f, row->plugins);
                fputs(",\"setting\":", f);
                json_write_string(f, row->setting);
                fprintf(f, ",\"enforced\":%s,\"status\":\"%s\",\"daemon_running\":%s,\"detail\":",
                        row->v == V_NOT_APPLICABLE ? "null" : row->v == V_ENFORCED ? "true" : "false",
                        verdict_id[row->v], rp->view.live ? "true" : "false");
                json_write_string(f, row->detail);
                fputs(",\"evidence\":{\"records\":", f);
                fprintf(f, "%" PRIu64 ",\"latest_seq\":[", row->count);
                for (size_t k = 0; k < row->n_latest; k++)
                        fprintf(f, "%s%" PRIu64, k ? "," : "", row->latest[k]);
                fputs("],\"latest_time\":", f);
                json_write_string(f, row->last_time);
                fputs("},\"rows\":[", f);
                print_json_rows(rp, q->id, f);
                fputs("]}", f);
        }
        fputs("]}\n", f);
}

static const char html_style[] =
        "body{font-family:'Noto Sans CJK JP','IPAexGothic',sans-serif;margin:1.5em;color:#000;background:#fff}"
        "h1{font-size:1.4em;margin:0 0 .4em}table{border-collapse:collapse;width:100%;font-size:.85em}"
        "th,td{border:1px solid #555;padding:.3em .45em;vertical-align:top;text-align:left}"
        "th{background:#e8e8e8}td.id{font-weight:bold;white-space:nowrap}"
        ".enforced{background:#dff0d8}.partial{background:#fcf8e3}.not-enforced{background:#f2dede}"
        ".not-applicable{background:#eee}.ja{display:block;color:#333}.warn{border:2px solid #a00;padding:.5em;"
        "margin:.5em 0;font-weight:bold}dl.meta{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}"
        "dl.meta dt{font-weight:bold}dl.meta dd{margin:0}"
        "@media print{body{margin:0}tr{page-break-inside:avoid}}";

static void print_html(const struct report *rp, FILE *f) {
        fputs("<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>sekisho 準拠状況報告 / compliance report — ", f);
        html_write_string(f, rp->conf.terminal_id ? rp->conf.terminal_id : "");
        fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", html_style);
        fputs("<h1>情報セキュリティ対策 準拠状況報告 / Compliance report</h1>\n<dl class=\"meta\">\n", f);
        fputs("<dt>端末 / Terminal</dt><dd id=\"terminal\">", f);
        html_write_string(f, rp->conf.terminal_id ? rp->conf.terminal_id : "(unknown)");
        fputs("</dd>\n<dt>グループ / Groups</dt><dd>", f);
        for (size_t i = 0; i < rp->conf.n_groups; i++) {
                if (i)
                        fputs(", ", f);
                html_write_string(f, rp->conf.groups[i]);
        }
        fprintf(f, "</dd>\n<dt>作成日時 / Generated</dt><dd>%s</dd>\n", rp->generated);
        fputs("<dt>デーモン / Daemon</dt><dd id=\"daemon\">", f);
        html_write_string(f, rp->view.live ? status_str(rp, "state") : "停止中 / NOT RUNNING");
        fputs(" — ", f);
        html_write_string(f, rp->view.note);
        fprintf(f, "</dd>\n<dt>ポリシー / Policy</dt><dd>serial %" PRIu64 " (", rp->view.choice.policy->serial);
        html_write_string(f, rp->view.choice.source);
        fputs(")", f);
        if (rp->view.choice.reason[0]) {
                fputs(" — ", f);
                html_write_string(f, rp->view.choice.reason);
        }
        fputs("</dd>\n<dt>有効なプロファイル / Active profiles</dt><dd>", f);
        for (size_t i = 0; i < rp->view.n_active; i++) {
                if (i)
                        fputs(", ", f);
                html_write_string(f, rp->view.active[i]);
        }
        if (!rp->view.n_active)
                fputs("なし / none", f);
        fputs("</dd>\n<dt>監査ログ / Audit log</dt><dd>", f);
        html_write_string(f, rp->o->audit_log);
        fputs(": ", f);
        html_write_string(f, rp->audit_why);
        fputs("</dd>\n</dl>\n", f);
        if (!rp->view.live)
                fputs("<p class=\"warn\" id=\"daemon-down\">sekishod は動作していません。以下は保存されたファイルからの報告で、"
                      "現在実施中の対策はありません。 / sekishod is not running: this report is made from files, and "
                      "nothing is enforced right now.</p>\n", f);
        fputs("<table id=\"requirements\">\n<thead><tr><th>#</th><th>要件 / Requirement</th>"
              "<th>ガイドライン / Clause</th><th>ポリシー設定 / Policy setting</th><th>状態 / Status</th>"
              "<th>証跡 / Evidence (audit seq)</th></tr></thead>\n<tbody>\n", f);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct result *row = &rp->res[i];
                fprintf(f, "<tr id=\"%s\" class=\"%s\"><td class=\"id\">%s</td><td>", q->id, verdict_id[row->v], q->id);
                html_write_string(f, q->title_en);
                fputs("<span class=\"ja\">", f);
                html_write_string(f, q->title_ja);
                fputs("</span></td><td>", f);
                html_write_string(f, q->clause);
                fputs("</td><td>", f);
                html_write_string(f, row->setting);
                fprintf(f, "</td><td class=\"status\"><b>%s / %s</b><br>", verdict_ja[row->v], verdict_en[row->v]);
                html_write_string(f, row->detail);
                fputs("</td><td class=\"evidence\">", f);
                char *buf = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&buf, &len);
                if (m) {
                        evidence_text(m, row);
                        fclose(m);
                        html_write_string(f, buf);
                        free(buf);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</tbody>\n</table>\n<p>sekisho ", f);
        html_write_string(f, PACKAGE_VERSION);
        fputs(" — 監査記録は <code>sekishoctl audit show</code> で確認できます / audit records: "
              "<code>sekishoctl audit show</code>, chain check: <code>sekishoctl audit verify</code>.</p>\n</body>\n</html>\n",
              f);
}

int report_run(const struct report_options *o, FILE *out) {
        struct report rp = { .o = o };
        struct perrors errs = { 0 };
        format_rfc3339(now_unix(), rp.generated);
        (void) conf_load(o->config, &rp.conf, &errs);   /* an unknown terminal is still reported */
        perrors_clear(&errs);
        int r = view_load(o->state_dir, o->keys_dir, o->config, o->bus, &rp.view);
        if (r < 0) {
                conf_done(&rp.conf);
                return r;
        }
        r = keyring_load(o->keys_dir, o->state_dir, now_unix(), &rp.trust);
        if (r == 0)
                describe_trust(&rp);
        r = r < 0 ? r : collect_rows(&rp);
        if (r < 0) {
                keyring_done(&rp.trust);
                report_rows_clear(&rp.rows);
                view_done(&rp.view);
                conf_done(&rp.conf);
                return r;
        }
        scan_audit(&rp);
        evaluate(&rp);
        if (o->format == REPORT_JSON)
                print_json(&rp, out);
        else if (o->format == REPORT_HTML)
                print_html(&rp, out);
        else
                print_text(&rp, out);
        r = fflush(out) == 0 ? 0 : -errno;
        keyring_done(&rp.trust);
        report_rows_clear(&rp.rows);
        view_done(&rp.view);
        conf_done(&rp.conf);
        return r;
}
