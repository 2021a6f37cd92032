/* evidence.c — the daemon's side of the audit log: cut detection at start, write-ahead policy records, reconcile, checkpoints. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "evidence.h"
#include "journal.h"
#include "util.h"

#define CHECKPOINT_INTERVAL_USEC (3600ull * 1000000ull)
#define ROTATE_BYTES (8ull << 20)
#define ROTATE_KEEP 10

static int on_checkpoint(struct loop_source *s, void *userdata) {
        evidence_checkpoint(userdata);
        return 0;
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
                core_audit(ctx, "audit.truncated", "3.6.5 (R9: configuration tamper checks)", f);
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
        int r = core_audit(ctx, "policy.applying", "3.6.5 (R9: configuration tamper checks)", f);
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
        if (core_audit(ctx, "policy.applied", "3.6.5 (R9: configuration tamper checks)", f) == 0)
                evidence_policy_recorded(ctx);
}
