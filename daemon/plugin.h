/* plugin.h — what a built-in plugin declares, and the core services it may call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "loop.h"
#include "ptree.h"

struct sekisho;        /* the daemon context, opaque to plugins */
struct kvlist;

/* Status a plugin reports: a one-word state and key/value details, shown by
 * `sekishoctl status`, the D-Bus Plugins property and the compliance report. */
struct kvlist {
        char **keys, **values;
        size_t n, cap;
};
int kvlist_add(struct kvlist *l, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kvlist_clear(struct kvlist *l);
/* The value of key, or NULL (also for a NULL list). */
const char *kvlist_get(const struct kvlist *l, const char *key);

/* The compliance report (`sekishoctl report`): each plugin judges the
 * requirements it covers and gives one row for each. */
enum report_state {
        REPORT_ENFORCED,          /* enforced, as far as this plugin's part goes */
        REPORT_PARTIAL,           /* some of it */
        REPORT_NOT_ENFORCED,      /* the policy does not ask for it, or lets it through */
        REPORT_UNAVAILABLE,       /* the plugin is not running (the core sets this) */
};
struct report_row {
        const char *requirement;  /* "R1": an id of REQUIREMENTS.md */
        const char *clause;       /* the guideline clause this row answers */
        const char *evidence;     /* audit event prefixes that are its evidence, space-separated, or NULL */
        enum report_state state;
        char setting[512];        /* the settings judged, "usb.default: block; ..." */
        char reason[512];         /* why this state, one sentence */
        const char *plugin;       /* who gave it (the core fills it in) */
};
struct report_rows {
        struct report_row *v;
        size_t n, cap;
};
/* A new zeroed row, or NULL when out of memory. */
struct report_row *report_row_add(struct report_rows *rows, const char *requirement, const char *clause,
                                  const char *evidence);
/* Append "NAME: VALUE; " (VALUE printf-style) to the row's setting text. */
void report_setting(struct report_row *row, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for a policy node in one short line (lists and maps abridged, "(absent)" for NULL). */
void report_setting_node(struct report_row *row, const char *name, const struct pnode *n);
void report_reason(struct report_row *row, enum report_state st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void report_rows_clear(struct report_rows *rows);

enum plugin_state {
        PLUGIN_STOPPED,     /* not started (not selected with --plugins) */
        PLUGIN_ENFORCING,   /* started, policy applied */
        PLUGIN_FAILED,      /* could not start or apply: loud in status and audit */
};

/* The environment a plugin runs in: where it may read and write. Tests and
 * demos point these at private directories. */
struct sekisho_env {
        const char *state_dir;   /* plugin keeps its files in state_dir/<name>/ */
        const char *sysroot;     /* "/" normally; tests point it elsewhere */
        bool test_mode;          /* started with test options: never touch the host */
};

/* What `sekishoctl NAME ...` knows of this terminal, worked out once by
 * the core: where its files are, the policy in force and the profiles
 * active in the daemon (over the bus, else from the status file of a
 * running daemon; none when it is not running). */
struct sekisho_ctl_env {
        const char *state_dir, *keys_dir, *config, *audit_log;
        const char *policy_name;          /* "installed policy (serial 42)", "embedded default" */
        char *const *active;              /* active profiles, in the policy's order */
        size_t n_active;
        bool live;                        /* the profiles come from a running sekishod */
        /* The embedded default's section, for a verb given a policy file of
         * its own to merge that file's section over (NULL: none). */
        const struct pnode *default_section;
};

struct sekisho_plugin {
        const char *name;        /* as given to --plugins= and configure --enable-<name> */
        const char *section;     /* the policy section it owns ("usb", "network", ...) */
        const char *summary;     /* one line for --help and status */
        bool test_only;          /* started only when named in --plugins */

        /* Validate the plugin's section of a policy (NULL if absent) without
         * side effects. Add every problem to errs; return the count added. */
        size_t (*check)(const struct pnode *section, struct perrors *errs);

        /* Start: register fds and timers with the loop. May fail with a
         * negative errno; the plugin is then reported FAILED and the rest
         * keep enforcing. */
        int (*init)(struct sekisho *ctx, void **ret_state);

        /* Enforce the effective section (the policy with every active
         * profile merged over it; NULL if absent: apply the strict built-in
         * behaviour). Called after init and whenever the policy or the set
         * of active profiles changes. Must be idempotent. */
        int (*apply)(void *state, const struct pnode *section);

        void (*status)(void *state, struct kvlist *out);
        void (*shutdown)(void *state);

        /* The plugin's rows of the compliance report, judged from what it
         * enforces now: section is the effective section the daemon applies
         * (policy in force, active profiles), live the details its status()
         * gave in the running daemon. live is NULL when sekishod is not
         * running: judge what section would enforce (the core says the rows
         * are not live). Runs in sekishoctl, never in the daemon. May be NULL. */
        void (*report)(const struct pnode *section, const struct kvlist *live, struct report_rows *out);

        /* `sekishoctl NAME ARGS...` (argv[0] is NAME): the plugin's own
         * commands, parsing their own options; offline where they can be.
         * section: the effective section the daemon applies now (the policy
         * in force, the embedded default under it, the active profiles over
         * it; NULL if nothing defines it). Returns the exit code.
         * ctl_usage: its lines for sekishoctl's help. */
        int (*ctl)(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv);
        const char *ctl_usage;

        /* Extra system calls this plugin needs after the sandbox is
         * installed (SCMP_SYS numbers), terminated by -1. May be NULL. */
        const int *syscalls;
};

/* Core services for plugins. */
struct loop *sekisho_loop(struct sekisho *ctx);
const struct sekisho_env *sekisho_env(struct sekisho *ctx);

/* Ask the core to turn a named profile on or off on behalf of this plugin
 * ("quarantine", "travel"). The core re-applies the policy to every plugin
 * when the set of active profiles changes. reason goes to the audit log. */
int sekisho_profile_request(struct sekisho *ctx, const struct sekisho_plugin *who, const char *profile,
                            bool active, const char *reason);

/* Write one audit record (see audit.h for the field list convention) and
 * emit the matching D-Bus signal when signal_name is not NULL. */
int sekisho_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields);
int sekisho_signal(struct sekisho *ctx, const char *signal_name, const struct audit_field *fields);

/* The plugin's status() would now say something else: refresh the D-Bus
 * properties and the status file. Cheap enough per decision, not per packet. */
void sekisho_status_changed(struct sekisho *ctx);

/* Declare the descriptor of a built-in plugin. */
#define SEKISHO_PLUGIN(id) const struct sekisho_plugin sekisho_plugin_##id

/* NULL-terminated list of the built-in plugins, in start order. */
extern const struct sekisho_plugin *const sekisho_builtin_plugins[];
const struct sekisho_plugin *plugin_find(const char *name);
const struct sekisho_plugin *plugin_find_section(const char *section);
