/* stub-core.h — the one stand-in for the core in plugin tests, harnesses and benchmarks: a plugin handle (plugin.h) on a real loop that records what the plugin tells the core. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "plugin.h"

/* One audit record, signal, profile request or sekisho_fail() reason, as one line:
 * "audit EVENT k=v k=v", "signal NAME k=v", "profile NAME owner=P active=yes reason=...", "fail PLUGIN reason". */
struct stub_record {
        char line[2048];
};

struct sekisho_plugin_handle {
        const struct sekisho_plugin *plugin;
        struct loop *loop;
        struct sekisho_env env;
        bool no_records;                 /* benchmarks: count only */
        struct stub_record *rec;
        size_t n_rec, cap_rec;
        FILE *log;                       /* optional: every record's line, flushed */
        /* optional: a harness writing its own format (clause is NULL for signals and profiles) */
        void (*on_record)(struct sekisho_plugin_handle *h, const char *kind, const char *name, const char *clause,
                          const struct audit_field *fields);
        void *userdata;
        unsigned long audits, signals, status_changes, profile_requests, logs;
        bool profile_active;             /* the last request's */
        char profile[128], last_reason[512];
        char reason[256];                /* sekisho_fail() */
        struct busconn *bus;             /* the system bus, opened on the first call */
        struct netclaims *claims;        /* its own registry, or one shared by two plugins' handles (stub_share_claims) */
        bool claims_shared;
};

/* A handle for plugin p with its own loop; state_dir and sysroot are kept
 * by reference (sysroot NULL: "/"). test_mode is set. */
int stub_core_new(const struct sekisho_plugin *p, const char *state_dir, const char *sysroot,
                  struct sekisho_plugin_handle **ret);
struct sekisho_plugin_handle *stub_core_free(struct sekisho_plugin_handle *h);

/* Records of that kind and name (each NULL: any) whose line contains needle (NULL: any). */
size_t stub_count(const struct sekisho_plugin_handle *h, const char *kind, const char *name, const char *needle);
void stub_clear(struct sekisho_plugin_handle *h);
/* Make b use a's network claims registry (a vdi and a net plugin in one test); a outlives b. */
void stub_share_claims(struct sekisho_plugin_handle *a, struct sekisho_plugin_handle *b);
