/* posture-stub-core.c — a stand-in for the core services (loop, env, profiles, audit, signals) so the posture plugin can be tested on its own. */
#include "config.h"

#include <string.h>

#include "plugin.h"
#include "posture-stub-core.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_posture;
const struct sekisho_plugin *const sekisho_builtin_plugins[] = { &sekisho_plugin_posture, NULL };

struct sekisho {
        struct stub_core *core;
};

static struct sekisho the_ctx;

struct sekisho *stub_core_ctx(struct stub_core *c) {
        the_ctx.core = c;
        return &the_ctx;
}

struct loop *sekisho_loop(struct sekisho *ctx) { return ctx->core->loop; }
const struct sekisho_env *sekisho_env(struct sekisho *ctx) { return &ctx->core->env; }

int sekisho_profile_request(struct sekisho *ctx, const struct sekisho_plugin *who, const char *profile, bool active,
                            const char *reason) {
        struct stub_core *c = ctx->core;
        c->profile_requests++;
        snprintf(c->last_profile, sizeof c->last_profile, "%s", profile);
        snprintf(c->last_reason, sizeof c->last_reason, "%s", reason);
        c->quarantine = active;
        return 0;
}

static void record(struct stub_core *c, const char *kind, const char *name, const struct audit_field *fields) {
        size_t l = strlen(c->log);
        l += (size_t)snprintf(c->log + l, l < sizeof c->log ? sizeof c->log - l : 0, "%s %s", kind, name);
        for (; fields && fields->name && l < sizeof c->log; fields++)
                l += (size_t)snprintf(c->log + l, sizeof c->log - l, " %s=%s", fields->name, fields->value);
        if (l < sizeof c->log)
                snprintf(c->log + l, sizeof c->log - l, "\n");
}

int sekisho_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        ctx->core->audits++;
        record(ctx->core, "audit", event, fields);
        return 0;
}

int sekisho_signal(struct sekisho *ctx, const char *signal_name, const struct audit_field *fields) {
        ctx->core->signals++;
        record(ctx->core, "signal", signal_name, fields);
        return 0;
}

void sekisho_status_changed(struct sekisho *ctx) { (void)ctx; }

