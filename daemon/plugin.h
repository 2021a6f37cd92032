/* plugin.h — what a built-in plugin declares, and the handle through which it reaches the core. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "loop.h"
#include "netclaim.h"
#include "ptree.h"
#include "util.h"

/* A plugin's one door to the core, given to init() and valid until
 * shutdown() returns: its name, logging and audit with that name attached,
 * profile requests, the loop, D-Bus calls. Plugins never see the daemon's
 * context; the unit tests' stub core implements the same door. */
struct sekisho_plugin_handle;
struct sekisho_plugin;
struct sbus_msg;

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
/* Plugin p's rows for section (may be NULL), appended to out with their
 * plugin set. live: its running status; NULL when it is not running, and
 * then, if not_running says how ("failed", "stopped", ...), each row is
 * marked unavailable. For the report and the daemon's heartbeat alike. */
void report_plugin_rows(const struct sekisho_plugin *p, const struct pnode *section, const struct kvlist *live,
                        const char *not_running, struct report_rows *out);
/* One requirement over all rows: enforced when every row for it is, partial
 * when some are (enforced or partial), not enforced otherwise. *ret_n: how
 * many rows cover it (0: none; the state is then REPORT_NOT_ENFORCED). */
enum report_state report_rows_verdict(const struct report_rows *rows, const char *requirement, size_t *ret_n);

/* Freshness (issue 19): is a state of the repository's timestamps
 * ("fresh", "expired", "behind", "none": freshness_state()) stale? */
bool freshness_is_stale(const char *state);
/* R9's freshness row, for the report and the heartbeat alike: state as
 * above; profile: the policy's freshness profile, NULL when the policy does
 * not ask for timestamps; grace_s: its grace; active: that profile is in
 * force, since (the time it was applied; "" when unknown). No row (NULL
 * returned, nothing added) when timestamps are neither asked for nor
 * received; NULL when out of memory too. */
struct report_row *report_freshness_row(struct report_rows *rows, const char *state, const char *profile,
                                        int64_t grace_s, bool active, const char *since);

/* A plugin's state as status shows it; status() adds key/value details
 * (struct kvlist, util.h) for `sekishoctl status`, the D-Bus Plugins
 * property and the compliance report. */
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
        /* Call a method this plugin serves on the running daemon (struct
         * sekisho_method): 0 and its one-line answer in ret; else the failure
         * is printed and sekishoctl's exit code returned (1, 4: access denied). */
        int (*call)(const struct sekisho_ctl_env *env, const char *member, char *ret, size_t ret_size);
        void *call_userdata;

        const char *state_dir, *keys_dir, *config, *audit_log;
        const char *policy_name;          /* "installed policy (serial 42)", "embedded default" */
        char *const *active;              /* active profiles, in the policy's order */
        size_t n_active;
        bool live;                        /* the profiles come from a running sekishod */
        /* The embedded default's section, for a verb given a policy file of
         * its own to merge that file's section over (NULL: none). */
        const struct pnode *default_section;
};

/* A method a plugin serves on the daemon's object (interface
 * org.sekisho.Sekisho1, no arguments, one string back), run only for uid 0
 * or a caller polkit authorizes for action. The core looks the plugin's
 * state up when the call is authorized (never a stale pointer). */
struct sekisho_method {
        const char *member;      /* "PostureRecheck": also in the introspection XML and the bus policy */
        const char *action;      /* polkit action id */
        /* 0 and a one-line answer in msg, or -errno with the reason in msg
         * (-EBUSY: rate limited). */
        int (*call)(void *state, uint32_t uid, char *msg, size_t msg_size);
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
         * negative errno (and a reason given with sekisho_fail()); the core
         * logs it once, the plugin is reported FAILED and the rest keep
         * enforcing. Keep h in the state: it is the way to the core. */
        int (*init)(struct sekisho_plugin_handle *h, void **ret_state);

        /* Enforce the effective section (the policy with every active
         * profile merged over it; NULL if absent: apply the strict built-in
         * behaviour). Called after init and whenever the policy or the set
         * of active profiles changes. Must be idempotent. Fails like init. */
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

        /* Methods served on the bus, terminated by { NULL }. May be NULL. */
        const struct sekisho_method *methods;
};

/* ---- the handle: core services for plugins ---- */

const char *sekisho_name(const struct sekisho_plugin_handle *h);
struct loop *sekisho_loop(const struct sekisho_plugin_handle *h);
const struct sekisho_env *sekisho_env(const struct sekisho_plugin_handle *h);

/* Log one line as "NAME: message" (a negative r appends its strerror, as
 * util.h's *_errno do). For what the plugin itself decides to report;
 * a failing init() or apply() gives its reason with sekisho_fail() instead
 * and the core logs it once. The plog_* forms return r like util.h's. */
void sekisho_log(struct sekisho_plugin_handle *h, enum log_level lvl, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
#define plog_error(h, ...) sekisho_log(h, LOG_LVL_ERR, 0, __VA_ARGS__)
#define plog_warning(h, ...) sekisho_log(h, LOG_LVL_WARNING, 0, __VA_ARGS__)
#define plog_notice(h, ...) sekisho_log(h, LOG_LVL_NOTICE, 0, __VA_ARGS__)
#define plog_info(h, ...) sekisho_log(h, LOG_LVL_INFO, 0, __VA_ARGS__)
#define plog_debug(h, ...) sekisho_log(h, LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define plog_warning_errno(h, r, ...) ({ int _r = (r); sekisho_log(h, LOG_LVL_WARNING, _r, __VA_ARGS__); _r < 0 ? _r : -_r; })
#define plog_error_errno(h, r, ...) ({ int _r = (r); sekisho_log(h, LOG_LVL_ERR, _r, __VA_ARGS__); _r < 0 ? _r : -_r; })

/* Why the init() or apply() about to fail does so ("built-in policy does
 * not compile: ..."); the core logs and audits it with the plugin's name
 * and the error. Returns r, so "return sekisho_fail(h, r, ...)". */
int sekisho_fail(struct sekisho_plugin_handle *h, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Turn a named profile on or off on behalf of this plugin ("quarantine",
 * "travel"). The core re-applies the policy to every plugin when the set
 * of active profiles changes. reason goes to the audit log. */
int sekisho_profile_request(struct sekisho_plugin_handle *h, const char *profile, bool active, const char *reason);

/* Write one audit record (see audit.h for the field list convention; the
 * core adds "plugin": NAME) and emit the matching D-Bus signal when asked. */
int sekisho_audit(struct sekisho_plugin_handle *h, const char *event, const char *clause,
                  const struct audit_field *fields);
int sekisho_signal(struct sekisho_plugin_handle *h, const char *signal_name, const struct audit_field *fields);

/* The plugin's status() would now say something else: refresh the D-Bus
 * properties and the status file. Cheap enough per decision, not per packet. */
void sekisho_status_changed(struct sekisho_plugin_handle *h);

/* ---- D-Bus method calls to other services, on the daemon's own bus connection ---- */

/* The outcome of a call, delivered from the loop (never from inside
 * sekisho_bus_call): r = 0 and the method return; -EREMOTEIO and the error
 * reply (sbus_msg_error_name() says which); -ETIMEDOUT (no answer in time)
 * or -ECONNRESET (the bus went away) and NULL. Messages are sbus.h's. */
typedef void (*sekisho_reply_fn)(int r, struct sbus_msg *reply, void *userdata);
/* Send call (the caller keeps its reference) and deliver the reply to cb.
 * timeout_ms < 0: 25 s. -ENOTCONN when the daemon has no bus
 * (--bus=none, or the connection was lost): cb is then never called. Calls
 * still waiting when the plugin shuts down are cancelled: cb is never called
 * after shutdown(). */
int sekisho_bus_call(struct sekisho_plugin_handle *h, struct sbus_msg *call, int timeout_ms, sekisho_reply_fn cb,
                     void *userdata);
/* Deliver the signals from sender on path, interface, member (NULL: any)
 * to cb, until shutdown. */
typedef void (*sekisho_signal_fn)(struct sbus_msg *signal, void *userdata);
int sekisho_bus_match(struct sekisho_plugin_handle *h, const char *sender, const char *path, const char *interface,
                      const char *member, sekisho_signal_fn cb, void *userdata);

/* ---- destinations reserved for one cgroup's sockets (netclaim.h) ----
 * A plugin that starts an approved program in a cgroup of its own (vdi)
 * claims the destinations only that program may reach; the network plugin
 * watches the claims and enforces them (network: in sekisho.policy(5)).
 * Set replaces every claim of the calling plugin (n = 0 drops them); the
 * core drops a plugin's claims when it shuts down. */
int sekisho_net_claim_set(struct sekisho_plugin_handle *h, const struct sekisho_net_claim *v, size_t n);
/* Every plugin's claims (owner filled in), valid until the next change. */
size_t sekisho_net_claims(struct sekisho_plugin_handle *h, const struct sekisho_net_claim **ret);
/* cb(userdata) from the loop's thread after each change, until shutdown. */
int sekisho_net_claims_watch(struct sekisho_plugin_handle *h, sekisho_net_claims_fn cb, void *userdata);

/* Declare the descriptor of a built-in plugin: its name is id.
 *   SEKISHO_PLUGIN_DEFINE(usb, .section = "usb", .init = usb_init, ...); */
#define SEKISHO_PLUGIN_DEFINE(id, ...) \
        const struct sekisho_plugin sekisho_plugin_##id = { .name = #id, __VA_ARGS__ }

/* NULL-terminated list of the built-in plugins, in start order. */
extern const struct sekisho_plugin *const sekisho_builtin_plugins[];
const struct sekisho_plugin *plugin_find(const char *name);
const struct sekisho_plugin *plugin_find_section(const char *section);
