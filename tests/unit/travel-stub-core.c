/* travel-stub-core.c — a stand-in for the core's plugin services, recording audit records, signals and profile requests for the travel tests. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "travel-stub-core.h"
#include "util.h"

int stub_core_new(const char *state_dir, struct sekisho **ret) {
        struct sekisho *ctx = calloc(1, sizeof *ctx);
        if (!ctx)
                return -ENOMEM;
        int r = loop_new(&ctx->loop);
        if (r < 0) {
                free(ctx);
                return r;
        }
        ctx->env.state_dir = state_dir;
        ctx->env.sysroot = "/nonexistent-sysroot";
        ctx->env.test_mode = true;
        *ret = ctx;
        return 0;
}

void stub_core_free(struct sekisho *ctx) {
        if (!ctx)
                return;
        loop_free(ctx->loop);
        free(ctx);
}

static void record(struct sekisho *ctx, const char *kind, const char *name, const struct audit_field *fields,
                   const char *extra) {
        struct stub_record *r = &ctx->rec[ctx->n_rec < STUB_MAX_RECORDS ? ctx->n_rec++ : STUB_MAX_RECORDS - 1];
        snprintf(r->kind, sizeof r->kind, "%s", kind);
        snprintf(r->name, sizeof r->name, "%s", name);
        size_t o = 0;
        r->text[0] = 0;
        for (size_t i = 0; fields && fields[i].name; i++)
                o += (size_t)snprintf(r->text + o, o < sizeof r->text ? sizeof r->text - o : 0, "%s=%s ",
                                      fields[i].name, fields[i].value ? fields[i].value : "");
        if (extra && o < sizeof r->text)
                snprintf(r->text + o, sizeof r->text - o, "%s", extra);
        if (ctx->log) {
                fprintf(ctx->log, "%s %s %s\n", kind, name, r->text);
                fflush(ctx->log);
        }
}

struct loop *sekisho_loop(struct sekisho *ctx) { return ctx->loop; }
const struct sekisho_env *sekisho_env(struct sekisho *ctx) { return &ctx->env; }

int sekisho_profile_request(struct sekisho *ctx, const struct sekisho_plugin *who, const char *profile, bool active,
                            const char *reason) {
        ctx->profile_active = active;
        snprintf(ctx->profile, sizeof ctx->profile, "%s", profile);
        char extra[256];
        snprintf(extra, sizeof extra, "owner=%s active=%s reason=%s", who->name, active ? "yes" : "no", reason);
        record(ctx, "profile", profile, NULL, extra);
        return 0;
}

int sekisho_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        record(ctx, "audit", event, fields, NULL);
        return 0;
}

int sekisho_signal(struct sekisho *ctx, const char *signal_name, const struct audit_field *fields) {
        record(ctx, "signal", signal_name, fields, NULL);
        return 0;
}

size_t stub_count(const struct sekisho *ctx, const char *kind, const char *name, const char *needle) {
        size_t n = 0;
        for (size_t i = 0; i < ctx->n_rec; i++)
                if (strcmp(ctx->rec[i].kind, kind) == 0 && (!name || strcmp(ctx->rec[i].name, name) == 0) &&
                    (!needle || strstr(ctx->rec[i].text, needle)))
                        n++;
        return n;
}

void stub_clear(struct sekisho *ctx) { ctx->n_rec = 0; }

void sekisho_status_changed(struct sekisho *ctx) { ctx->status_changes++; }
