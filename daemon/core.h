/* core.h — the daemon context: loop, policy store, plugins, profiles, audit, bus; and what sekishod and the bus call on it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "loop.h"
#include "plugin.h"
#include "policy.h"

enum bus_kind { BUS_SYSTEM, BUS_SESSION, BUS_NONE };

struct sekisho_options {
        const char *config;      /* /etc/sekisho/sekisho.conf */
        const char *state_dir;   /* /var/lib/sekisho */
        const char *keys_dir;    /* /etc/sekisho/keys.d */
        const char *inbox;       /* /var/lib/sekisho/inbox */
        const char *audit_log;   /* /var/log/sekisho/audit.log */
        const char *journal_socket; /* NULL: journald's with the system bus, none otherwise; "": none */
        const char *plugins;     /* comma list, NULL = every non-test plugin */
        const char *sysroot;     /* "/" */
        const char *probe_helper; /* the sekisho-probe program (tlsprobe.h) */
        uint64_t audit_rotate_bytes; /* 0: the default (8 MiB) */
        enum bus_kind bus;
        bool foreground;
        bool verbose;
        bool no_sandbox;         /* for debugging only; logged loudly */
};

/* What a plugin holds (plugin.h): the way back to the core and its own name. */
struct sekisho_plugin_handle {
        struct sekisho *ctx;
        const struct sekisho_plugin *plugin;
        char reason[192];        /* sekisho_fail(): why the current init/apply fails */
};

struct plugin_slot {
        const struct sekisho_plugin *plugin;
        void *state;
        enum plugin_state st;
        char error[512];
        struct sekisho_plugin_handle handle;
};

/* Profiles one owner ("admin", a plugin) may request at a time: the admin
 * list is persisted and restored, so it is bounded like everything an
 * outsider can make the daemon keep. Each owner has its own allowance, so
 * the admin cannot crowd out a plugin's quarantine. */
#define PROFILE_REQUESTS_MAX 64

struct profile_request {
        char *profile;
        char *owner;             /* plugin name or "admin" */
};

struct bus;

struct sekisho {
        struct sekisho_options opt;
        struct sekisho_env env;
        struct loop *loop;
        struct sekisho_conf conf;
        struct keyring keys;
        char trust_summary[160];       /* "trust root version 3, ..." or "keys.d, 2 policy keys" */
        struct store *store;
        struct policy *policy;         /* in force */
        const char *policy_source;     /* installed / previous / embedded */
        bool policy_stale;
        struct audit *audit;
        struct bus *bus;
        struct netclaims *claims;          /* destinations reserved for one cgroup (netclaim.h) */
        struct freshness *fresh;           /* the repository's timestamps (freshness.c) */

        struct plugin_slot *slots;
        size_t n_slots;

        struct profile_request *requests;  /* who wants which profile */
        size_t n_requests, cap_requests;
        char **active;                     /* active profiles, in policy order */
        size_t n_active;
        bool applying;

        int lock_fd;                       /* the state directory's lock, held while running */
        int signal_fd;
        struct loop_source *signal_src, *expiry_timer, *clock_watch;
        struct inbox *inbox;               /* inbox.c */
        int trust_fd;                      /* inotify on keys.d */
        struct loop_source *trust_src, *trust_settle;
        struct loop_source *status_timer;  /* coalesces status refreshes in a burst */
        struct loop_source *checkpoint_timer; /* hourly audit checkpoint */
        uint64_t status_written_usec;
        bool status_pending;
        uint64_t started_usec, enforcing_usec;
};

int sekisho_new(const struct sekisho_options *opt, struct sekisho **ret);
/* Load conf, keys, audit log and policy; start plugins and apply; open
 * the bus; install the sandbox. After it returns 0 the terminal is
 * enforcing. */
int sekisho_start(struct sekisho *ctx);
int sekisho_run(struct sekisho *ctx);
struct sekisho *sekisho_free(struct sekisho *ctx);

/* Verify, install and apply a bundle. Used by the inbox, SIGHUP and the
 * ApplyPolicy method alike. Returns REFUSE_NONE on success (including the
 * no-op of re-applying identical bytes) with the serial in *ret_serial.
 * Takes *data as bundle_verify() does. */
enum refusal sekisho_apply_bundle(struct sekisho *ctx, const char *name, char **data, size_t size,
                                  const char *sig, size_t sig_size, const char *via, uint64_t *ret_serial,
                                  char *why, size_t why_size);

/* A refused bundle: log, audit record, PolicyRefused signal. */
void sekisho_refusal_event(struct sekisho *ctx, const char *name, const char *via, enum refusal rf, const char *why);

/* Re-read the installed policy (SIGHUP). */
int sekisho_reload(struct sekisho *ctx);

/* Turn a profile on or off for owner ("admin" for the operator).
 * -ENOENT: the policy in force defines no such profile. */
int sekisho_set_profile(struct sekisho *ctx, const char *owner, const char *profile, bool active,
                        const char *reason);

/* The clause of the core's policy and R9 records. */
#define CLAUSE_POLICY "3.6.5 (R9: configuration tamper checks)"

/* Audit record (plus nothing else) and the status refresh, for the core
 * itself; plugins reach them through their handle. */
int core_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields);
void core_status_changed(struct sekisho *ctx);

/* The running plugin serving bus method member, and its state: 0, or -ENOENT. */
int sekisho_find_method(struct sekisho *ctx, const char *member, const struct sekisho_method **ret_method,
                        void **ret_state);

/* "enforcing", "degraded" (a plugin failed) */
const char *sekisho_state(const struct sekisho *ctx);
/* "current", "stale", "default" */
const char *sekisho_policy_state(const struct sekisho *ctx);
