/* usb-stub-core.c — the core services the usb plugin calls, recorded for tests and the benchmark instead of a daemon. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "usb-stub-core.h"
#include "usbctl.h"
#include "util.h"

struct stub_core stub_core;

struct loop *sekisho_loop(struct sekisho *ctx) { return stub_core.loop; }

const struct sekisho_env *sekisho_env(struct sekisho *ctx) {
        static const struct sekisho_env env = { .state_dir = "/nonexistent", .sysroot = "/", .test_mode = true };
        return &env;
}

int sekisho_profile_request(struct sekisho *ctx, const struct sekisho_plugin *who, const char *profile, bool active,
                            const char *reason) {
        return 0;
}

static void record(const char *kind, const char *event, const struct audit_field *fields) {
        if (!stub_core.record)
                return;
        char line[2048];
        size_t o = (size_t)snprintf(line, sizeof line, "%s %s", kind, event);
        for (const struct audit_field *f = fields; f && f->name && o < sizeof line; f++)
                o += (size_t)snprintf(line + o, sizeof line - o, " %s=%s", f->name, f->value ? f->value : "");
        if (stub_core.n < STUB_MAX_RECORDS)
                stub_core.records[stub_core.n++] = strdup(line);
}

int sekisho_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        stub_core.audits++;
        record("audit", event, fields);
        return 0;
}

int sekisho_signal(struct sekisho *ctx, const char *signal_name, const struct audit_field *fields) {
        stub_core.signals++;
        record("signal", signal_name, fields);
        return 0;
}

void sekisho_status_changed(struct sekisho *ctx) { stub_core.status_changes++; }


void stub_core_clear(void) {
        for (size_t i = 0; i < stub_core.n; i++)
                free(stub_core.records[i]);
        stub_core.n = 0;
}

/* The list of built-in plugins the registry code refers to. */
extern const struct sekisho_plugin sekisho_plugin_usb;
const struct sekisho_plugin *const sekisho_builtin_plugins[] = { &sekisho_plugin_usb, NULL };
