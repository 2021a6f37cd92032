/* stub-core.c — the one stand-in for the core's plugin services (plugin.h): loop, env, logging, profile requests, audit and signals recorded, D-Bus calls on the system bus. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "busconn.h"
#include "stub-core.h"
#include "util.h"

int stub_core_new(const struct sekisho_plugin *p, const char *state_dir, const char *sysroot,
                  struct sekisho_plugin_handle **ret) {
        struct sekisho_plugin_handle *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        int r = loop_new(&h->loop);
        if (r < 0) {
                free(h);
                return r;
        }
        r = netclaims_new(&h->claims);
        if (r < 0) {
                loop_free(h->loop);
                free(h);
                return r;
        }
        h->plugin = p;
        h->env = (struct sekisho_env){ .state_dir = state_dir, .sysroot = sysroot ? sysroot : "/", .test_mode = true };
        *ret = h;
        return 0;
}

struct sekisho_plugin_handle *stub_core_free(struct sekisho_plugin_handle *h) {
        if (!h)
                return NULL;
        busconn_free(h->bus);
        if (!h->claims_shared)
                netclaims_free(h->claims);
        loop_free(h->loop);
        free(h->rec);
        free(h);
        return NULL;
}

static void record(struct sekisho_plugin_handle *h, const char *kind, const char *name, const char *clause,
                   const struct audit_field *fields, const char *extra) {
        if (h->on_record)
                h->on_record(h, kind, name, clause, fields);
        if (h->no_records || ARRAY_GROW(h->rec, h->cap_rec, h->n_rec + 1) < 0)
                return;
        char *line = h->rec[h->n_rec++].line;
        size_t size = sizeof h->rec[0].line, o = (size_t)snprintf(line, size, "%s %s", kind, name);
        for (const struct audit_field *f = fields; f && f->name && o < size; f++)
                o += (size_t)snprintf(line + o, size - o, " %s=%s", f->name, f->value ? f->value : "");
        if (extra && o < size)
                snprintf(line + o, size - o, " %s", extra);
        if (h->log) {
                fprintf(h->log, "%s\n", line);
                fflush(h->log);
        }
}

size_t stub_count(const struct sekisho_plugin_handle *h, const char *kind, const char *name, const char *needle) {
        size_t n = 0, kl = kind ? strlen(kind) : 0, nl = name ? strlen(name) : 0;
        for (size_t i = 0; i < h->n_rec; i++) {
                const char *l = h->rec[i].line;
                if (!kind) {
                        n += !needle || strstr(l, needle);
                        continue;
                }
                if (strncmp(l, kind, kl) != 0 || l[kl] != ' ')
                        continue;
                if (name && (strncmp(l + kl + 1, name, nl) != 0 || (l[kl + 1 + nl] != ' ' && l[kl + 1 + nl])))
                        continue;
                n += !needle || strstr(l, needle);
        }
        return n;
}

void stub_clear(struct sekisho_plugin_handle *h) { h->n_rec = 0; }

const char *sekisho_name(const struct sekisho_plugin_handle *h) { return h->plugin->name; }
struct loop *sekisho_loop(const struct sekisho_plugin_handle *h) { return h->loop; }
const struct sekisho_env *sekisho_env(const struct sekisho_plugin_handle *h) { return &h->env; }

int sekisho_fail(struct sekisho_plugin_handle *h, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(h->reason, sizeof h->reason, fmt, ap);
        va_end(ap);
        record(h, "fail", h->plugin->name, NULL, NULL, h->reason);
        return r < 0 ? r : -r;
}

void sekisho_log(struct sekisho_plugin_handle *h, enum log_level lvl, int r, const char *fmt, ...) {
        h->logs++;
        va_list ap;
        va_start(ap, fmt);
        log_msgv(lvl, r, h->plugin->name, fmt, ap);
        va_end(ap);
}

int sekisho_profile_request(struct sekisho_plugin_handle *h, const char *profile, bool active, const char *reason) {
        h->profile_requests++;
        h->profile_active = active;
        snprintf(h->profile, sizeof h->profile, "%s", profile);
        snprintf(h->last_reason, sizeof h->last_reason, "%s", reason ? reason : "");
        char extra[768];
        snprintf(extra, sizeof extra, "owner=%s active=%s reason=%s", h->plugin->name, active ? "yes" : "no",
                 reason ? reason : "");
        record(h, "profile", profile, NULL, NULL, extra);
        return 0;
}

int sekisho_audit(struct sekisho_plugin_handle *h, const char *event, const char *clause,
                  const struct audit_field *fields) {
        h->audits++;
        record(h, "audit", event, clause, fields, NULL);
        return 0;
}

int sekisho_signal(struct sekisho_plugin_handle *h, const char *signal_name, const struct audit_field *fields) {
        h->signals++;
        record(h, "signal", signal_name, NULL, fields, NULL);
        return 0;
}

void sekisho_status_changed(struct sekisho_plugin_handle *h) { h->status_changes++; }

/* The system bus (DBUS_SYSTEM_BUS_ADDRESS: tests point it at a private one), connected on first use. */
static struct busconn *stub_bus(struct sekisho_plugin_handle *h) {
        if (h->bus)
                return h->bus;
        char why[512];
        if (busconn_open(h->loop, true, &h->bus, why, sizeof why) < 0) {
                log_warning("stub core: cannot connect to the system bus: %s", why);
                h->bus = NULL;
        }
        return h->bus;
}

int sekisho_bus_call(struct sekisho_plugin_handle *h, struct sbus_msg *call, int timeout_ms, sekisho_reply_fn cb,
                     void *userdata) {
        return busconn_call(stub_bus(h), call, timeout_ms, cb, userdata, h);
}

int sekisho_bus_match(struct sekisho_plugin_handle *h, const char *sender, const char *path, const char *interface,
                      const char *member, sekisho_signal_fn cb, void *userdata) {
        return busconn_match(stub_bus(h), sender, path, interface, member, cb, userdata, h);
}

void stub_share_claims(struct sekisho_plugin_handle *a, struct sekisho_plugin_handle *b) {
        if (!b->claims_shared)
                netclaims_free(b->claims);
        b->claims = a->claims;
        b->claims_shared = true;
}

int sekisho_net_claim_set(struct sekisho_plugin_handle *h, const struct sekisho_net_claim *v, size_t n) {
        return netclaims_set(h->claims, h->plugin->name, v, n);
}

size_t sekisho_net_claims(struct sekisho_plugin_handle *h, const struct sekisho_net_claim **ret) {
        return netclaims_get(h->claims, ret);
}

int sekisho_net_claims_watch(struct sekisho_plugin_handle *h, sekisho_net_claims_fn cb, void *userdata) {
        return netclaims_watch(h->claims, cb, userdata);
}
