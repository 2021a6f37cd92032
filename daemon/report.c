/* report.c — the compliance report: requirements R1–R11, the policy setting covering each, live enforcement and audit evidence. */
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "busclient.h"
#include "json.h"
#include "report.h"
#include "util.h"

#define REPORT_EVIDENCE_MAX 5               /* latest audit records named per requirement */
#define REPORT_AUDIT_LINE_MAX (64 * 1024)   /* the audit log's own line cap */
#define REPORT_STATUS_MAX (1u << 20)

/* One requirement of REQUIREMENTS.md: what it is, where the guideline says
 * it, and which audit records are its evidence. */
struct requirement {
        const char *id, *title_en, *title_ja, *clause;
        const char *plugins;                  /* plugins that enforce it, for the reader */
        const char *const events[4];          /* audit event prefixes */
        const char *const tokens[3];          /* clause tokens ("R4", "6.1.2(2)-1", "vdi*") */
};

static const struct requirement reqs[] = {
        { "R1", "USB ports disabled by system setting in high-risk places",
          "高リスク地域ではUSBポートをシステム設定で無効化する",
          "000 §4 (基本対策事項 6.1.2(2)-1); 004 5.1(1) 注3", "usb, travel",
          { "usb.", "travel-state", NULL }, { "R1", "6.1.2(2)-1", NULL } },
        { "R2", "Take-out laptop returned to factory state on return from a high-risk region",
          "高リスク地域からの帰着時に持ち出し専用パソコンを工場出荷状態に戻す（情報の完全消去）",
          "000 §4; 004 注3; 002 注3 (持ち出し専用パソコン)", "travel",
          { "travel-", NULL }, { "R2", NULL } },
        { "R3", "No clipboard, printer, drive or device redirection to the virtual terminal",
          "画面転送におけるクリップボード・プリンタ・ディスクドライブ等のリダイレクト禁止",
          "004 意見① (別紙 全パターン共通の対策)", "vdi",
          { "vdi-", NULL }, { "R3", "vdi*", NULL } },
        { "R4", "No terminal-to-terminal communication, wired or wireless",
          "端末間通信の禁止（有線・無線）",
          "004 意見④ (6.5(4), 図表42)", "net",
          { NULL }, { "R4", NULL } },
        { "R5", "No file-sharing (P2P) software installed or used",
          "ファイル共有（P2P）ソフトウェアの導入・利用禁止",
          "002 ⑤ (注2); 000 §5", "posture, net",
          { "posture-changed", NULL }, { "R5", NULL } },
        { "R6", "BYOD: only permitted OS types and versions",
          "支給以外の端末（BYOD）は許可したOS種別・バージョンに限る",
          "000 §5; 002 ⑤", "posture",
          { "posture-changed", NULL }, { "R6", NULL } },
        { "R7", "Quarantine: out-of-date or infected terminals kept off the office network",
          "検疫：パッチ・定義ファイルが古い端末や感染端末を業務ネットワークから隔離",
          "002 ④ (注3); 002 ⑤", "posture, net",
          { "posture-quarantine-", NULL }, { "R7", NULL } },
        { "R8", "Public networks: no direct use; only permitted destinations",
          "公衆無線LANの原則禁止、許可された通信先のみ",
          "002 ④ (注4); 004 その他② (注7)", "net",
          { NULL }, { "R8", NULL } },
        { "R9", "Unused functions off, configuration tamper checks, logs kept as evidence",
          "不要な機能・ポートの無効化、重要な設定ファイルの改ざん確認、ログの保存",
          "000 §2 (IoT); 002 ⑦ (3.6.5)", "core",
          { "policy.", "daemon.", "plugin.failed", NULL }, { "R9", NULL } },
        { "R10", "Software supply chain: SBOM and secure development (NIST SP 800-218)",
          "ソフトウェアサプライチェーン対策（SBOM、セキュア開発 SSDF）",
          "000 §3", "(build and release process)",
          { NULL }, { "R10", NULL } },
        { "R11", "Storage purged on disposal (cryptographic erase, not formatting)",
          "廃棄時の記憶媒体の完全消去（暗号化消去等、フォーマットのみは不可）",
          "004 (図表41, 表7-1-1)", "travel",
          { "travel-reset-", NULL }, { "R11", NULL } },
};
#define N_REQS ARRAY_SIZE(reqs)

enum verdict { V_ENFORCED, V_PARTIAL, V_NOT_ENFORCED, V_NOT_APPLICABLE };
static const char *const verdict_id[] = { "enforced", "partial", "not-enforced", "not-applicable" };
static const char *const verdict_en[] = { "enforced", "partly enforced", "not enforced", "not a runtime measure" };
static const char *const verdict_ja[] = { "実施中", "一部実施", "未実施", "運用上の対策" };

struct row {
        enum verdict v;
        bool daemon_down;           /* the verdict is what the last status said */
        char setting[1024];
        char detail[1024];
        uint64_t latest[REPORT_EVIDENCE_MAX];   /* ring of seq numbers */
        size_t n_latest;
        uint64_t count;
        char last_time[40];
};

struct report {
        const struct report_options *o;
        struct sekisho_conf conf;
        struct store_choice choice;
        uint64_t highest;
        struct json *status;        /* live or from the file; NULL if neither */
        bool live, from_file;
        char status_note[1024];
        char **active;
        size_t n_active;
        int audit_r;
        uint64_t audit_records;
        char audit_why[512];
        struct row rows[N_REQS];
        char generated[32];
};

/* ---- gathering ---- */

/* Is pid a running sekishod? (its comm, not just any process reusing the pid) */
static bool daemon_alive(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        _cleanup_free_ char *comm = NULL;
        if (read_file_capped(path, 64, &comm, NULL) < 0)
                return false;
        comm[strcspn(comm, "\n")] = '\0';
        return strcmp(comm, "sekishod") == 0 || strcmp(comm, "lt-sekishod") == 0;
}

static void get_status(struct report *rp) {
        const struct report_options *o = rp->o;
        if (o->bus != BUS_NONE) {
                DBusConnection *c = NULL;
                struct busclient_error err = { 0 };
                int r = busclient_open(o->bus, &c, &err);
                if (r == 0) {
                        char *buf = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&buf, &len);
                        r = f ? busclient_status(c, f, true, &err) : -ENOMEM;
                        if (f)
                                fclose(f);
                        busclient_close(c);
                        if (r == 0 && json_parse(buf, len, &rp->status) == 0) {
                                rp->live = true;
                                snprintf(rp->status_note, sizeof rp->status_note, "live status from sekishod over D-Bus");
                        }
                        free(buf);
                }
                if (!rp->live)
                        snprintf(rp->status_note, sizeof rp->status_note, "sekishod is not reachable on the bus (%.300s)",
                                 err.message[0] ? err.message : strerror(-r));
        } else
                snprintf(rp->status_note, sizeof rp->status_note, "no bus asked for");
        if (rp->live)
                return;
        _cleanup_free_ char *path = path_join(o->state_dir, "status.json"), *data = NULL;
        size_t size;
        int r = path ? read_file_capped(path, REPORT_STATUS_MAX, &data, &size) : -ENOMEM;
        size_t l = strlen(rp->status_note);
        rp->from_file = true;
        if (r < 0) {
                snprintf(rp->status_note + l, sizeof rp->status_note - l, "; no status file (%s: %s)", path ? path : "",
                         strerror(-r));
                return;
        }
        if (json_parse(data, size, &rp->status) < 0) {
                snprintf(rp->status_note + l, sizeof rp->status_note - l, "; %s is not valid JSON: ignored", path);
                return;
        }
        struct stat st;
        char t[32] = "?";
        if (stat(path, &st) == 0)
                format_rfc3339(st.st_mtime, t);
        /* A daemon started without a bus (--bus=none) still keeps its status file current. */
        uint64_t pid = 0;
        if (json_u64(json_get(rp->status, "pid"), &pid) && pid > 1 && pid < INT32_MAX && daemon_alive((pid_t)pid)) {
                rp->live = true;
                snprintf(rp->status_note + l, sizeof rp->status_note - l,
                         "; sekishod (pid %" PRIu64 ") is running: status from its status file %s (written %s)", pid,
                         path, t);
                return;
        }
        snprintf(rp->status_note + l, sizeof rp->status_note - l,
                 "; last status written by sekishod at %s (%s); nothing is enforced while it is not running", t, path);
}

/* The daemon and the files this report reads must tell the same story. */
static void check_serial(struct report *rp) {
        uint64_t serial;
        if (!json_u64(json_get(json_get(rp->status, "policy"), "serial"), &serial) ||
            serial == rp->choice.policy->serial)
                return;
        size_t l = strlen(rp->status_note);
        snprintf(rp->status_note + l, sizeof rp->status_note - l,
                 "; NOTE: sekishod reports serial %" PRIu64 " in force, the state directory says %" PRIu64, serial,
                 rp->choice.policy->serial);
}

static void get_profiles(struct report *rp) {
        const struct json *p = json_get(rp->status, "profiles");
        if (!p || p->type != JSON_ARRAY || !p->n)
                return;
        rp->active = calloc(p->n, sizeof *rp->active);
        if (!rp->active)
                return;
        for (size_t i = 0; i < p->n; i++)
                if (json_string(p->items[i]))
                        rp->active[rp->n_active++] = p->items[i]->text;   /* owned by status */
}

/* "enforcing", "failed", "stopped", "not-built" or "unknown" (no status at all). */
static const char *plugin_state(const struct report *rp, const char *name) {
        if (!plugin_find(name))
                return "not-built";
        const struct json *pl = json_get(rp->status, "plugins");
        if (!pl || pl->type != JSON_ARRAY)
                return "unknown";
        for (size_t i = 0; i < pl->n; i++) {
                const char *n = json_string(json_get(pl->items[i], "name"));
                const char *s = json_string(json_get(pl->items[i], "state"));
                if (n && s && strcmp(n, name) == 0)
                        return s;
        }
        return "unknown";
}

static bool enforcing(const struct report *rp, const char *name) {
        return strcmp(plugin_state(rp, name), "enforcing") == 0;
}

static bool clause_matches(const char *clause, const char *const tokens[]) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", clause);
        char *save = NULL;
        for (char *t = strtok_r(buf, ", ;()", &save); t; t = strtok_r(NULL, ", ;()", &save))
                for (size_t k = 0; tokens[k]; k++) {
                        size_t n = strlen(tokens[k]);
                        if (tokens[k][n - 1] == '*' ? strncmp(t, tokens[k], n - 1) == 0 : strcmp(t, tokens[k]) == 0)
                                return true;
                }
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
                const char *profile = json_string(json_get(rec, "profile"));
                if (json_u64(json_get(rec, "seq"), &seq) && event)
                        for (size_t i = 0; i < N_REQS; i++) {
                                bool m = clause && clause_matches(clause, reqs[i].tokens);
                                for (size_t k = 0; !m && reqs[i].events[k]; k++)
                                        m = strncmp(event, reqs[i].events[k], strlen(reqs[i].events[k])) == 0;
                                /* The quarantine profile going on or off is R7's evidence. */
                                if (!m && strcmp(reqs[i].id, "R7") == 0 && profile && strcmp(profile, "quarantine") == 0 &&
                                    strncmp(event, "profile.", 8) == 0)
                                        m = true;
                                if (!m)
                                        continue;
                                struct row *row = &rp->rows[i];
                                row->latest[row->count % REPORT_EVIDENCE_MAX] = seq;
                                row->count++;
                                snprintf(row->last_time, sizeof row->last_time, "%s", time ? time : "");
                        }
                json_free(rec);
        }
        for (size_t i = 0; i < N_REQS; i++) {
                struct row *row = &rp->rows[i];
                row->n_latest = row->count < REPORT_EVIDENCE_MAX ? row->count : REPORT_EVIDENCE_MAX;
                /* Newest first. */
                uint64_t tmp[REPORT_EVIDENCE_MAX];
                for (size_t k = 0; k < row->n_latest; k++)
                        tmp[k] = row->latest[(row->count - 1 - k) % REPORT_EVIDENCE_MAX];
                memcpy(row->latest, tmp, sizeof tmp);
        }
}

/* ---- policy settings ---- */

static inline void ptree_freep(struct ptree **t) {
        ptree_free(*t);
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
        if (depth > 1) {
                fprintf(f, n->kind == PNODE_SEQ ? "[%zu]" : "{%zu}", n->kind == PNODE_SEQ ? n->n : n->n / 2);
                return;
        }
        size_t count = n->kind == PNODE_SEQ ? n->n : n->n / 2;
        fputc(n->kind == PNODE_SEQ ? '[' : '{', f);
        for (size_t i = 0; i < count && i < 6; i++) {
                if (i)
                        fputs(", ", f);
                if (n->kind == PNODE_MAP) {
                        fprintf(f, "%s: ", pnode_str(pmap_key(n, i)) ? pnode_str(pmap_key(n, i)) : "?");
                        node_text(f, pmap_val(n, i), depth + 1);
                } else
                        node_text(f, n->children[i], depth + 1);
        }
        if (count > 6)
                fprintf(f, ", … (%zu in all)", count);
        fputc(n->kind == PNODE_SEQ ? ']' : '}', f);
}

/* The effective section (embedded default, policy, the given profiles). */
static struct ptree *section(const struct report *rp, const char *name, char *const *active, size_t n_active) {
        struct ptree *t = NULL;
        if (policy_effective_section(rp->choice.policy, name, active, n_active, &t) < 0)
                return NULL;
        return t;
}

static const struct pnode *key(const struct ptree *t, const char *path) {
        const struct pnode *n = t ? t->root : NULL;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", path);
        char *save = NULL;
        for (char *k = strtok_r(buf, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
                n = n->kind == PNODE_MAP ? pmap_get(n, k) : NULL;
        return n;
}

static bool key_is(const struct ptree *t, const char *path, const char *value) {
        const char *s = pnode_str(key(t, path));
        return s && strcmp(s, value) == 0;
}

static bool key_nonempty(const struct ptree *t, const char *path) {
        const struct pnode *n = key(t, path);
        return n && n->kind != PNODE_SCALAR && n->n > 0;
}

/* Append "sec.path: value; " to the setting text. */
static void say(FILE *f, const struct ptree *t, const char *prefix, const char *path) {
        fprintf(f, "%s%s: ", prefix, path);
        node_text(f, key(t, path), 0);
        fputs("; ", f);
}

static void plugin_missing(char *buf, size_t size, const struct report *rp, const char *plugin) {
        const char *st = plugin_state(rp, plugin);
        snprintf(buf, size, "the %s plugin is %s", plugin,
                 strcmp(st, "not-built") == 0 ? "not built into this sekisho"
                 : strcmp(st, "stopped") == 0 ? "not started (not in --plugins)"
                                              : st);
}

/* ---- verdicts ---- */

typedef void (*evaluate_fn)(struct report *rp, struct row *row, FILE *setting);

/* The plugin behind a requirement is not enforcing: the row says so. */
static bool not_running(const struct report *rp, struct row *row, const char *plugin) {
        if (enforcing(rp, plugin))
                return false;
        row->v = V_NOT_ENFORCED;
        plugin_missing(row->detail, sizeof row->detail, rp, plugin);
        return true;
}

static void eval_r1(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *now = section(rp, "usb", rp->active, rp->n_active);
        char *travel[] = { (char *)"travel" };
        _cleanup_(ptree_freep) struct ptree *trip = section(rp, "usb", travel, 1);
        say(s, now, "usb.", "default");
        const struct pnode *rules = key(now, "rules");
        fprintf(s, "usb.rules: %zu rule(s); ", rules && rules->kind == PNODE_SEQ ? rules->n : 0);
        fputs("with profile travel: ", s);
        say(s, trip, "usb.", "default");
        bool blocks_now = key_is(now, "default", "block") || key_is(now, "default", "reject");
        bool blocks_trip = key_is(trip, "default", "block") || key_is(trip, "default", "reject");
        if (not_running(rp, row, "usb"))
                return;
        if (blocks_now || blocks_trip) {
                row->v = V_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "%s",
                         blocks_now ? "USB devices not allowed by a rule are blocked now (sysfs authorized=0)"
                                    : "USB devices not allowed by a rule are blocked while the travel profile is active");
        } else {
                row->v = V_NOT_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "usb.default allows devices, also under the travel profile");
        }
}

static void eval_r2(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *t = section(rp, "travel", rp->active, rp->n_active);
        say(s, t, "travel.", "return.reset");
        say(s, t, "travel.", "high-risk-regions");
        if (not_running(rp, row, "travel"))
                return;
        if (key_is(t, "return.reset", "true")) {
                row->v = V_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "a return from a high-risk region schedules the factory reset");
        } else {
                row->v = V_NOT_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "travel.return.reset is off: no reset on return");
        }
}

static void eval_r3(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *t = section(rp, "vdi", rp->active, rp->n_active);
        static const char *const keys[] = { "clipboard", "drives", "printers", "usb-redirect", "serial-ports" };
        size_t denied = 0;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                say(s, t, "vdi.", keys[i]);
                denied += key_is(t, keys[i], "deny");
        }
        say(s, t, "vdi.", "allow-devices");
        if (not_running(rp, row, "vdi"))
                return;
        row->v = denied == ARRAY_SIZE(keys) ? V_ENFORCED : denied ? V_PARTIAL : V_NOT_ENFORCED;
        snprintf(row->detail, sizeof row->detail, "%zu of %zu redirection classes denied; clients started "
                 "with them are stopped", denied, ARRAY_SIZE(keys));
}

static void eval_r4(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *t = section(rp, "network", rp->active, rp->n_active);
        say(s, t, "network.", "peer-to-peer");
        say(s, t, "network.", "allow-peers");
        if (not_running(rp, row, "net"))
                return;
        if (key_is(t, "peer-to-peer", "deny")) {
                row->v = V_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "traffic to and from other hosts on the local subnets is dropped");
        } else {
                row->v = V_NOT_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "network.peer-to-peer allows it");
        }
}

static void eval_r5(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *p = section(rp, "posture", rp->active, rp->n_active);
        _cleanup_(ptree_freep) struct ptree *n = section(rp, "network", rp->active, rp->n_active);
        const struct pnode *fs = key(p, "forbidden-software");
        fprintf(s, "posture.forbidden-software: %zu package pattern(s); ", fs && fs->kind == PNODE_SEQ ? fs->n : 0);
        say(s, p, "posture.", "action");
        say(s, n, "network.", "file-sharing");
        bool detect = enforcing(rp, "posture") && key_nonempty(p, "forbidden-software");
        bool block = enforcing(rp, "net") && key_is(n, "file-sharing", "deny");
        row->v = detect && block ? V_ENFORCED : detect || block ? V_PARTIAL : V_NOT_ENFORCED;
        snprintf(row->detail, sizeof row->detail, "installed file-sharing software: %s; file-sharing traffic: %s",
                 detect ? "detected by the posture check" : "not checked (posture plugin not enforcing)",
                 block ? "dropped" : enforcing(rp, "net") ? "allowed by policy" : "not blocked (net plugin not enforcing)");
}

static void eval_r6(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *p = section(rp, "posture", rp->active, rp->n_active);
        say(s, p, "posture.", "allowed-os");
        say(s, p, "posture.", "action");
        if (not_running(rp, row, "posture"))
                return;
        if (key_nonempty(p, "allowed-os")) {
                row->v = key_is(p, "action", "report") ? V_PARTIAL : V_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "the OS and its version are checked against the permitted list%s",
                         row->v == V_PARTIAL ? " and only reported (action: report)" : "");
        } else {
                row->v = V_NOT_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "the policy permits any OS (no posture.allowed-os)");
        }
}

static void eval_r7(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *p = section(rp, "posture", rp->active, rp->n_active);
        char *q[] = { (char *)"quarantine" };
        _cleanup_(ptree_freep) struct ptree *nq = section(rp, "network", q, 1);
        say(s, p, "posture.", "action");
        fputs("with profile quarantine: ", s);
        say(s, nq, "network.", "allow-destinations");
        const char *action = pnode_str(key(p, "action"));
        bool quarantines = action && strncmp(action, "quarantine", 10) == 0;
        bool active = false;
        for (size_t i = 0; i < rp->n_active; i++)
                active |= strcmp(rp->active[i], "quarantine") == 0;
        if (not_running(rp, row, "posture"))
                return;
        row->v = quarantines && enforcing(rp, "net") ? V_ENFORCED : quarantines ? V_PARTIAL : V_NOT_ENFORCED;
        snprintf(row->detail, sizeof row->detail, "%s%s; quarantine is %s now",
                 quarantines ? "a non-compliant terminal is quarantined" : "posture only reports or notifies",
                 quarantines && !enforcing(rp, "net") ? " (but the net plugin that cuts the network is not enforcing)" : "",
                 active ? "ACTIVE" : "not active");
}

static void eval_r8(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *n = section(rp, "network", rp->active, rp->n_active);
        say(s, n, "network.", "allow-destinations");
        if (not_running(rp, row, "net"))
                return;
        if (key_nonempty(n, "allow-destinations")) {
                row->v = V_ENFORCED;
                snprintf(row->detail, sizeof row->detail, "only the listed destinations (VPN, screen transfer) are reachable");
        } else {
                row->v = V_PARTIAL;
                snprintf(row->detail, sizeof row->detail, "no destination allow-list in force: only peer isolation applies "
                         "(public Wi-Fi is to be refused by the network configuration)");
        }
}

static void eval_r9(struct report *rp, struct row *row, FILE *s) {
        const struct policy *p = rp->choice.policy;
        fprintf(s, "policy serial %" PRIu64 " (%s%s); audit log %s; ", p->serial, rp->choice.source,
                strcmp(rp->choice.source, "embedded") == 0 ? ", built-in strict default" : ", signed bundle",
                rp->o->audit_log);
        bool running = rp->live && json_string(json_get(rp->status, "state"));
        bool chain = rp->audit_r == 0;
        row->v = running && chain ? V_ENFORCED : running || chain ? V_PARTIAL : V_NOT_ENFORCED;
        /* The daemon could not write its last record: policy changes are refused until it can. */
        const char *audit_error = rp->live ? json_string(json_get(rp->status, "audit-error")) : NULL;
        if (audit_error)
                row->v = V_PARTIAL;
        snprintf(row->detail, sizeof row->detail, "%s%s%spolicies verified by signature before use; audit log %s (%" PRIu64
                 " records): %s", audit_error ? "audit log cannot be written: " : "", audit_error ? audit_error : "",
                 audit_error ? " (policy changes refused); " : "", chain ? "hash chain intact" : "NOT verified",
                 rp->audit_records, rp->audit_why);
}

static void eval_r10(struct report *rp, struct row *row, FILE *s) {
        fprintf(s, "sekisho %s; ", PACKAGE_VERSION);
#if ENABLE_FAULT_INJECTION
        fputs("test build: fault hooks compiled in (packages use --disable-fault-injection); ", s);
#endif
        row->v = V_NOT_APPLICABLE;
        snprintf(row->detail, sizeof row->detail, "a procurement and development measure, shown by the project's "
                 "source, build and test records, not by the terminal");
}

static void eval_r11(struct report *rp, struct row *row, FILE *s) {
        _cleanup_(ptree_freep) struct ptree *t = section(rp, "travel", rp->active, rp->n_active);
        say(s, t, "travel.", "reset-plan");
        if (!enforcing(rp, "travel")) {
                char why[256];
                plugin_missing(why, sizeof why, rp, "travel");
                row->v = V_NOT_APPLICABLE;
                snprintf(row->detail, sizeof row->detail, "disposal is an operational procedure; sekisho's "
                         "cryptographic erase comes with its factory reset, but %s", why);
        } else {
                row->v = key_nonempty(t, "reset-plan.luks-volumes") ? V_ENFORCED : V_PARTIAL;
                snprintf(row->detail, sizeof row->detail, "%s",
                         row->v == V_ENFORCED ? "the factory reset destroys every LUKS keyslot and header (cryptographic erase)"
                                              : "no LUKS volumes in the reset plan: no cryptographic erase by sekisho");
        }
}

static const evaluate_fn evaluators[N_REQS] = { eval_r1, eval_r2, eval_r3, eval_r4,  eval_r5, eval_r6,
                                                eval_r7, eval_r8, eval_r9, eval_r10, eval_r11 };

static void evaluate(struct report *rp) {
        for (size_t i = 0; i < N_REQS; i++) {
                struct row *row = &rp->rows[i];
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                if (!f)
                        continue;
                evaluators[i](rp, row, f);
                fclose(f);
                if (len >= 2 && buf[len - 2] == ';')
                        buf[len - 2] = '\0';
                snprintf(row->setting, sizeof row->setting, "%s", buf ? buf : "");
                free(buf);
                /* Without a running daemon nothing is enforced now, whatever the last status said. */
                if (!rp->live && row->v != V_NOT_APPLICABLE) {
                        row->daemon_down = true;
                        char was[sizeof row->detail];
                        snprintf(was, sizeof was, "%s", row->detail);
                        snprintf(row->detail, sizeof row->detail, "sekishod is not running; %s: %.900s",
                                 rp->status ? "when it last wrote its status" : "no status known",
                                 rp->status ? was : "nothing to go by");
                        if (row->v == V_ENFORCED || row->v == V_PARTIAL)
                                row->v = V_NOT_ENFORCED;
                }
        }
}

/* ---- output ---- */

static void put_text(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static void put_html(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                switch (*p) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
                }
}

static const char *status_str(const struct report *rp, const char *k) {
        const char *s = json_string(json_get(rp->status, k));
        return s ? s : "unknown";
}

static void evidence_text(FILE *f, const struct row *row) {
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
        fprintf(f, "\ngenerated: %s\ndaemon:    %s (", rp->generated, rp->live ? status_str(rp, "state") : "NOT RUNNING");
        put_text(f, rp->status_note);
        fprintf(f, ")\npolicy:    serial %" PRIu64 ", %s", rp->choice.policy->serial, rp->choice.source);
        if (rp->choice.reason[0]) {
                fputs(" (", f);
                put_text(f, rp->choice.reason);
                fputc(')', f);
        }
        fputs("\nprofiles: ", f);
        for (size_t i = 0; i < rp->n_active; i++) {
                fputc(' ', f);
                put_text(f, rp->active[i]);
        }
        fprintf(f, "%s\naudit:     %s\n\n", rp->n_active ? "" : " (none)", rp->audit_why);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct row *row = &rp->rows[i];
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
        fprintf(f, "],\"daemon\":{\"running\":%s,\"source\":\"%s\",\"state\":", rp->live ? "true" : "false",
                rp->live && !rp->from_file ? "bus" : rp->status ? "status-file" : "none");
        json_write_string(f, rp->live ? status_str(rp, "state") : "not-running");
        fputs(",\"note\":", f);
        json_write_string(f, rp->status_note);
        fprintf(f, "},\"policy\":{\"serial\":%" PRIu64 ",\"source\":", rp->choice.policy->serial);
        json_write_string(f, rp->choice.source);
        fprintf(f, ",\"highest_serial\":%" PRIu64 ",\"note\":", rp->highest);
        json_write_string(f, rp->choice.reason);
        fputs("},\"profiles\":[", f);
        for (size_t i = 0; i < rp->n_active; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, rp->active[i]);
        }
        fputs("],\"audit\":{\"file\":", f);
        json_write_string(f, rp->o->audit_log);
        fprintf(f, ",\"intact\":%s,\"records\":%" PRIu64 ",\"message\":", rp->audit_r == 0 ? "true" : "false",
                rp->audit_records);
        json_write_string(f, rp->audit_why);
        fputs("},\"requirements\":[", f);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct row *row = &rp->rows[i];
                fprintf(f, "%s{\"id\":\"%s\",\"title\":", i ? "," : "", q->id);
                json_write_string(f, q->title_en);
                fputs(",\"title_ja\":", f);
                json_write_string(f, q->title_ja);
                fputs(",\"clause\":", f);
                json_write_string(f, q->clause);
                fputs(",\"plugins\":", f);
                json_write_string(f, q->plugins);
                fputs(",\"setting\":", f);
                json_write_string(f, row->setting);
                fprintf(f, ",\"enforced\":%s,\"status\":\"%s\",\"daemon_running\":%s,\"detail\":",
                        row->v == V_NOT_APPLICABLE ? "null" : row->v == V_ENFORCED ? "true" : "false",
                        verdict_id[row->v], rp->live ? "true" : "false");
                json_write_string(f, row->detail);
                fputs(",\"evidence\":{\"records\":", f);
                fprintf(f, "%" PRIu64 ",\"latest_seq\":[", row->count);
                for (size_t k = 0; k < row->n_latest; k++)
                        fprintf(f, "%s%" PRIu64, k ? "," : "", row->latest[k]);
                fputs("],\"latest_time\":", f);
                json_write_string(f, row->last_time);
                fputs("}}", f);
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
        put_html(f, rp->conf.terminal_id ? rp->conf.terminal_id : "");
        fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", html_style);
        fputs("<h1>情報セキュリティ対策 準拠状況報告 / Compliance report</h1>\n<dl class=\"meta\">\n", f);
        fputs("<dt>端末 / Terminal</dt><dd id=\"terminal\">", f);
        put_html(f, rp->conf.terminal_id ? rp->conf.terminal_id : "(unknown)");
        fputs("</dd>\n<dt>グループ / Groups</dt><dd>", f);
        for (size_t i = 0; i < rp->conf.n_groups; i++) {
                if (i)
                        fputs(", ", f);
                put_html(f, rp->conf.groups[i]);
        }
        fprintf(f, "</dd>\n<dt>作成日時 / Generated</dt><dd>%s</dd>\n", rp->generated);
        fputs("<dt>デーモン / Daemon</dt><dd id=\"daemon\">", f);
        put_html(f, rp->live ? status_str(rp, "state") : "停止中 / NOT RUNNING");
        fputs(" — ", f);
        put_html(f, rp->status_note);
        fprintf(f, "</dd>\n<dt>ポリシー / Policy</dt><dd>serial %" PRIu64 " (", rp->choice.policy->serial);
        put_html(f, rp->choice.source);
        fputs(")", f);
        if (rp->choice.reason[0]) {
                fputs(" — ", f);
                put_html(f, rp->choice.reason);
        }
        fputs("</dd>\n<dt>有効なプロファイル / Active profiles</dt><dd>", f);
        for (size_t i = 0; i < rp->n_active; i++) {
                if (i)
                        fputs(", ", f);
                put_html(f, rp->active[i]);
        }
        if (!rp->n_active)
                fputs("なし / none", f);
        fputs("</dd>\n<dt>監査ログ / Audit log</dt><dd>", f);
        put_html(f, rp->o->audit_log);
        fputs(": ", f);
        put_html(f, rp->audit_why);
        fputs("</dd>\n</dl>\n", f);
        if (!rp->live)
                fputs("<p class=\"warn\" id=\"daemon-down\">sekishod は動作していません。以下は保存されたファイルからの報告で、"
                      "現在実施中の対策はありません。 / sekishod is not running: this report is made from files, and "
                      "nothing is enforced right now.</p>\n", f);
        fputs("<table id=\"requirements\">\n<thead><tr><th>#</th><th>要件 / Requirement</th>"
              "<th>ガイドライン / Clause</th><th>ポリシー設定 / Policy setting</th><th>状態 / Status</th>"
              "<th>証跡 / Evidence (audit seq)</th></tr></thead>\n<tbody>\n", f);
        for (size_t i = 0; i < N_REQS; i++) {
                const struct requirement *q = &reqs[i];
                const struct row *row = &rp->rows[i];
                fprintf(f, "<tr id=\"%s\" class=\"%s\"><td class=\"id\">%s</td><td>", q->id, verdict_id[row->v], q->id);
                put_html(f, q->title_en);
                fputs("<span class=\"ja\">", f);
                put_html(f, q->title_ja);
                fputs("</span></td><td>", f);
                put_html(f, q->clause);
                fputs("</td><td>", f);
                put_html(f, row->setting);
                fprintf(f, "</td><td class=\"status\"><b>%s / %s</b><br>", verdict_ja[row->v], verdict_en[row->v]);
                put_html(f, row->detail);
                fputs("</td><td class=\"evidence\">", f);
                char *buf = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&buf, &len);
                if (m) {
                        evidence_text(m, row);
                        fclose(m);
                        put_html(f, buf);
                        free(buf);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</tbody>\n</table>\n<p>sekisho ", f);
        put_html(f, PACKAGE_VERSION);
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
        int r = policy_in_force(o->state_dir, o->keys_dir, o->config, &rp.choice, &rp.highest, NULL);
        if (r < 0) {
                conf_done(&rp.conf);
                return r;
        }
        get_status(&rp);
        check_serial(&rp);
        get_profiles(&rp);
        scan_audit(&rp);
        evaluate(&rp);
        if (o->format == REPORT_JSON)
                print_json(&rp, out);
        else if (o->format == REPORT_HTML)
                print_html(&rp, out);
        else
                print_text(&rp, out);
        r = fflush(out) == 0 ? 0 : -errno;
        free(rp.active);
        json_free(rp.status);
        policy_free(rp.choice.policy);
        conf_done(&rp.conf);
        return r;
}
