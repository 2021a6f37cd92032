/* evidence.c — the daemon's side of the audit log: cut detection at start, write-ahead policy records, reconcile, checkpoints. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "evidence.h"
#include "freshness.h"
#include "journal.h"
#include "util.h"

#define CHECKPOINT_INTERVAL_USEC (3600ull * 1000000ull)
#define ROTATE_BYTES (8ull << 20)
#define ROTATE_KEEP 10

static int on_checkpoint(struct loop_source *s, void *userdata) {
        evidence_heartbeat(userdata);
        evidence_checkpoint(userdata);
        return 0;
}

/* The requirements a heartbeat carries: every one a row covers (the plugins', and R9's core and freshness rows). */
#define HEARTBEAT_REQS_MAX 16

void evidence_heartbeat(struct sekisho *ctx) {
        if (!ctx->policy)
                return;
        struct report_rows rows = { 0 };
        static const char *const names[] = { "stopped", "enforcing", "failed" };
        for (size_t i = 0; i < ctx->n_slots; i++) {
                const struct plugin_slot *slot = &ctx->slots[i];
                if (!slot->plugin->report || slot->plugin->test_only)
                        continue;
                struct ptree *eff = NULL;
                if (policy_effective_section(ctx->policy, slot->plugin->section, ctx->active, ctx->n_active, &eff) < 0)
                        continue;
                struct kvlist live = { 0 };
                bool running = slot->st == PLUGIN_ENFORCING;
                if (running && slot->plugin->status)
                        slot->plugin->status(slot->state, &live);
                report_plugin_rows(slot->plugin, eff->root, running ? &live : NULL, names[slot->st], &rows);
                kvlist_clear(&live);
                ptree_free(eff);
        }
        /* R9, the core's own: the audit log can be written; and the repository's timestamps. */
        bool audit_ok = audit_last_error(ctx->audit) == 0;
        struct report_row *core = report_row_add(&rows, "R9", CLAUSE_POLICY, NULL);
        if (core) {
                core->plugin = "core";
                report_reason(core, audit_ok ? REPORT_ENFORCED : REPORT_PARTIAL, "audit log %s",
                              audit_ok ? "written" : "cannot be written");
        }
        int64_t grace = 0;
        const char *stale_profile = policy_freshness(ctx->policy, &grace);
        bool stale_active = false;
        for (size_t i = 0; stale_profile && i < ctx->n_active; i++)
                stale_active |= strcmp(ctx->active[i], stale_profile) == 0;
        report_freshness_row(&rows, freshness_state(ctx), stale_profile, grace, stale_active, "");

        /* Field names req-R1 ... (SEKISHO_REQ_R1 in the journal), in the order of their numbers. */
        static const char *const state_id[] = { "enforced", "partial", "not-enforced", "unavailable" };
        char keys[HEARTBEAT_REQS_MAX][16];
        struct audit_field f[HEARTBEAT_REQS_MAX + 9];
        size_t nf = 0;
        char serial[32], not_enforced[128] = "";
        snprintf(serial, sizeof serial, "%" PRIu64, ctx->policy->serial);
        for (unsigned id = 1; id < HEARTBEAT_REQS_MAX; id++) {
                char req[8];
                snprintf(req, sizeof req, "R%u", id);
                size_t n;
                enum report_state st = report_rows_verdict(&rows, req, &n);
                if (n == 0)
                        continue;       /* nothing of this build covers it (R10 is not a runtime measure) */
                snprintf(keys[nf], sizeof keys[0], "req-%s", req);
                f[nf] = (struct audit_field){ keys[nf], state_id[st] };
                nf++;
                if (st != REPORT_ENFORCED)
                        snprintf(not_enforced + strlen(not_enforced), sizeof not_enforced - strlen(not_enforced), "%s%s",
                                 not_enforced[0] ? " " : "", req);
        }
        char profiles[256] = "";
        for (size_t i = 0; i < ctx->n_active; i++)
                snprintf(profiles + strlen(profiles), sizeof profiles - strlen(profiles), "%s%s", i ? "," : "",
                         ctx->active[i]);
        f[nf++] = (struct audit_field){ "serial", serial };
        f[nf++] = (struct audit_field){ "policy-state", sekisho_policy_state(ctx) };
        f[nf++] = (struct audit_field){ "freshness", freshness_state(ctx) };
        f[nf++] = (struct audit_field){ "state", sekisho_state(ctx) };
        f[nf++] = (struct audit_field){ "profiles", profiles };
        f[nf++] = (struct audit_field){ "not-enforced", not_enforced };
        f[nf++] = (struct audit_field){ "version", PACKAGE_VERSION };
        f[nf] = (struct audit_field){ NULL };
        core_audit(ctx, "terminal.heartbeat", NULL, f);
        report_rows_clear(&rows);
}

void evidence_checkpoint(struct sekisho *ctx) {
        audit_checkpoint(ctx->audit);
}

int evidence_open(struct sekisho *ctx) {
        int r = audit_open(ctx->opt.audit_log, ctx->conf.terminal_id, ctx->conf.audit_syslog, &ctx->audit);
        if (r < 0)
                return log_error_errno(r, "Cannot open audit log %s; decisions go to the journal only, policy changes "
                                       "are refused", ctx->opt.audit_log);
        /* Structured records for journald (and a collector behind systemd-journal-upload). */
        const char *js = ctx->opt.journal_socket ? ctx->opt.journal_socket : ctx->opt.bus == BUS_SYSTEM ? JOURNAL_SOCKET : "";
        struct journal *j;
        if (*js && (r = journal_open(js, &j)) == 0)
                audit_set_journal(ctx->audit, j);
        else if (*js && ctx->opt.journal_socket)
                log_warning_errno(r, "Cannot reach journald at %s; audit records go to the log file%s", js,
                                  ctx->conf.audit_syslog ? " and syslog" : "");
        audit_set_rotation(ctx->audit, ctx->opt.audit_rotate_bytes ? ctx->opt.audit_rotate_bytes : ROTATE_BYTES,
                           ROTATE_KEEP);
        _cleanup_free_ char *seal = path_join(ctx->opt.state_dir, "audit.seal");
        audit_set_seal(ctx->audit, seal); /* used once `sekishoctl audit seal-init` has created it */
        _cleanup_free_ char *anchor = path_join(ctx->opt.state_dir, "audit.anchor");
        struct audit_gap gap;
        r = anchor ? audit_anchor(ctx->audit, anchor, &gap) : -ENOMEM;
        if (r < 0)
                log_error_errno(r, "Cannot compare the audit log with the daemon's memory of it");
        else if (gap.found) {
                char from[24], to[24];
                snprintf(from, sizeof from, "%" PRIu64, gap.from);
                snprintf(to, sizeof to, "%" PRIu64, gap.to);
                log_error("Audit log %s was cut while sekishod was not running: %s; old head kept in %s",
                          ctx->opt.audit_log, gap.what, gap.evidence);
                const struct audit_field f[] = {
                        { "missing-from", from }, { "missing-to", to }, { "what", gap.what },
                        { "old-head-hash", gap.old_hash }, { "evidence", gap.evidence }, { NULL },
                };
                core_audit(ctx, "audit.truncated", CLAUSE_POLICY, f);
        }
        if (loop_add_timer(ctx->loop, on_checkpoint, ctx, &ctx->checkpoint_timer) == 0)
                loop_timer_arm(ctx->checkpoint_timer, CHECKPOINT_INTERVAL_USEC, CHECKPOINT_INTERVAL_USEC);
        return 0;
}

int evidence_policy_intent(struct sekisho *ctx, const char *name, const char *via, const struct policy *p, char *why,
                           size_t why_size) {
        char serial[32], sha[65];
        snprintf(serial, sizeof serial, "%" PRIu64, p->serial);
        hex_encode(p->digest, 32, sha);
        const struct audit_field f[] = {
                { "file", name }, { "via", via }, { "serial", serial }, { "sha", sha }, { NULL },
        };
        int r = core_audit(ctx, "policy.applying", CLAUSE_POLICY, f);
        if (r < 0)
                snprintf(why, why_size, "%s: the audit log %s cannot be written (%s): no policy change without its "
                         "record; the policy in force stays", name, ctx->opt.audit_log, strerror(-r));
        return r;
}

static char *recorded_path(const struct sekisho *ctx) { return path_join(ctx->opt.state_dir, "audit.policy"); }

void evidence_policy_recorded(struct sekisho *ctx) {
        char buf[128], sha[65];
        hex_encode(ctx->policy->digest, 32, sha);
        int n = snprintf(buf, sizeof buf, "%" PRIu64 " %s\n", ctx->policy->serial, sha);
        _cleanup_free_ char *path = recorded_path(ctx);
        if (path)
                (void)write_file_replace(path, buf, (size_t)n, 0600);
}

void evidence_reconcile(struct sekisho *ctx) {
        if (!ctx->policy || strcmp(ctx->policy_source, "installed") != 0)
                return;
        char want[128], sha[65];
        hex_encode(ctx->policy->digest, 32, sha);
        snprintf(want, sizeof want, "%" PRIu64 " %s\n", ctx->policy->serial, sha);
        _cleanup_free_ char *path = recorded_path(ctx), *have = NULL;
        if (!path || (read_file_capped(path, 256, &have, NULL) == 0 && strcmp(have, want) == 0))
                return;
        char serial[32];
        snprintf(serial, sizeof serial, "%" PRIu64, ctx->policy->serial);
        const struct audit_field f[] = {
                { "file", "(store)" }, { "via", "start" }, { "serial", serial }, { "sha", sha },
                { "recovered", "yes: in force at start without its policy.applied record (a crash after the switch)" },
                { NULL },
        };
        log_warning("Policy serial %s was in force without its audit record; recorded now as recovered", serial);
        if (core_audit(ctx, "policy.applied", CLAUSE_POLICY, f) == 0)
                evidence_policy_recorded(ctx);
}
