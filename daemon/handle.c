/* handle.c — a plugin's one door to the core: its name on every log line and audit record, profile requests, the loop, status refreshes, D-Bus calls on the daemon's connection, network claims. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "bus.h"
#include "core.h"
#include "util.h"

const char *sekisho_name(const struct sekisho_plugin_handle *h) { return h->plugin->name; }
struct loop *sekisho_loop(const struct sekisho_plugin_handle *h) { return h->ctx->loop; }
const struct sekisho_env *sekisho_env(const struct sekisho_plugin_handle *h) { return &h->ctx->env; }

void sekisho_log(struct sekisho_plugin_handle *h, enum log_level lvl, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_msgv(lvl, r, h->plugin->name, fmt, ap);
        va_end(ap);
}

int sekisho_fail(struct sekisho_plugin_handle *h, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(h->reason, sizeof h->reason, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}

int sekisho_profile_request(struct sekisho_plugin_handle *h, const char *profile, bool active, const char *reason) {
        return sekisho_set_profile(h->ctx, h->plugin->name, profile, active, reason);
}

/* The plugin's fields with "plugin": NAME after them. */
int sekisho_audit(struct sekisho_plugin_handle *h, const char *event, const char *clause,
                  const struct audit_field *fields) {
        size_t n = 0;
        while (fields && fields[n].name)
                n++;
        _cleanup_free_ struct audit_field *all = calloc(n + 2, sizeof *all);
        if (!all)
                return -ENOMEM;
        if (n)
                memcpy(all, fields, n * sizeof *all);
        all[n] = (struct audit_field){ "plugin", h->plugin->name };
        return core_audit(h->ctx, event, clause, all);
}

int sekisho_signal(struct sekisho_plugin_handle *h, const char *signal_name, const struct audit_field *fields) {
        return bus_emit(h->ctx->bus, signal_name, fields);
}

void sekisho_status_changed(struct sekisho_plugin_handle *h) { core_status_changed(h->ctx); }

int sekisho_bus_call(struct sekisho_plugin_handle *h, struct sbus_msg *call, int timeout_ms, sekisho_reply_fn cb,
                     void *userdata) {
        return busconn_call(bus_connection(h->ctx->bus), call, timeout_ms, cb, userdata, h);
}

int sekisho_bus_match(struct sekisho_plugin_handle *h, const char *sender, const char *path, const char *interface,
                      const char *member, sekisho_signal_fn cb, void *userdata) {
        return busconn_match(bus_connection(h->ctx->bus), sender, path, interface, member, cb, userdata, h);
}

/* After shutdown began the registry is gone: claims are dropped quietly. */
int sekisho_net_claim_set(struct sekisho_plugin_handle *h, const struct sekisho_net_claim *v, size_t n) {
        return h->ctx->claims ? netclaims_set(h->ctx->claims, h->plugin->name, v, n) : 0;
}

size_t sekisho_net_claims(struct sekisho_plugin_handle *h, const struct sekisho_net_claim **ret) {
        *ret = NULL;
        return h->ctx->claims ? netclaims_get(h->ctx->claims, ret) : 0;
}

int sekisho_net_claims_watch(struct sekisho_plugin_handle *h, sekisho_net_claims_fn cb, void *userdata) {
        return h->ctx->claims ? netclaims_watch(h->ctx->claims, cb, userdata) : -ESHUTDOWN;
}
