/* bus.c — the org.sekisho.Sekisho1 service on the daemon's own D-Bus connection (busconn.h): properties, signals, admin methods authorized by uid 0 or polkit. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "bus.h"
#include "freshness.h"
#include "minisign.h"
#include "util.h"

/* systemd/org.sekisho.Sekisho1.xml as a NUL-terminated string, generated at build time. */
extern const char sekisho_bus_introspect_xml[];

#define ERR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define ERR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define ERR_LIMITS "org.freedesktop.DBus.Error.LimitsExceeded"
#define ERR_NO_MEMORY "org.freedesktop.DBus.Error.NoMemory"
#define ERR_FAILED "org.freedesktop.DBus.Error.Failed"
#define ERR_UNKNOWN_PROPERTY "org.freedesktop.DBus.Error.UnknownProperty"

#define DRIVER "org.freedesktop.DBus"
#define DRIVER_PATH "/org/freedesktop/DBus"
#define IFACE_PROPERTIES "org.freedesktop.DBus.Properties"
#define IFACE_INTROSPECTABLE "org.freedesktop.DBus.Introspectable"
#define IFACE_PEER "org.freedesktop.DBus.Peer"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* How long an interactive polkit check may wait for the person to authenticate. */
#define POLKIT_INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)

#define BUS_NAME_MAX 256        /* bundle name label sent with ApplyPolicy */
#define BUS_REASON_MAX 1024

enum bus_action { ACTION_APPLY_POLICY, ACTION_SET_PROFILE, ACTION_RELOAD, ACTION_PLUGIN };

static const char *const action_ids[] = {
        [ACTION_APPLY_POLICY] = BUS_ACTION_APPLY_POLICY,
        [ACTION_SET_PROFILE] = BUS_ACTION_SET_PROFILE,
        [ACTION_RELOAD] = BUS_ACTION_RELOAD,
        [ACTION_PLUGIN] = NULL,   /* the method's own (struct sekisho_method) */
};

/* An admin method call waiting for GetConnectionUnixUser, then maybe polkit. */
struct bus_auth {
        struct bus *bus;
        struct sbus_msg *msg;
        enum bus_action action;
        const char *action_id;         /* polkit action */
        uint32_t uid;
        size_t bytes;                  /* payload held while waiting */
        bool asking_polkit;
        struct bus_auth *prev, *next;
};

struct bus {
        struct sekisho *ctx;
        struct busconn *bc;            /* the connection, and the method calls we make */
        struct bus_auth *auths;
        size_t n_auths, held_bytes;    /* all waiting calls */
        size_t n_polkit, polkit_bytes; /* those of them waiting for polkit */
        char *introspect;
        uint64_t refusal_window_usec;  /* audit records of refused calls: at most */
        unsigned refusals_in_window;   /* BUS_REFUSAL_RECORDS a minute, the rest */
        unsigned refusals_suppressed;  /* counted into the next one */
};

#define BUS_REFUSAL_RECORDS 20

const char *bus_error_from_errno(int r) {
        switch (r < 0 ? -r : r) {
        case EPERM:
        case EACCES:
                return ERR_ACCESS_DENIED;
        case EINVAL:
        case EBADMSG:
                return ERR_INVALID_ARGS;
        case ENOMEM:
                return ERR_NO_MEMORY;
        case E2BIG:
        case EFBIG:
        case EMFILE:
        case ENOBUFS:
                return ERR_LIMITS;
        case ETIMEDOUT:
                return "org.freedesktop.DBus.Error.Timeout";
        case EOPNOTSUPP:
        case ENOSYS:
                return "org.freedesktop.DBus.Error.NotSupported";
        case ENOENT:
                return BUS_ERROR_PREFIX "NotFound";
        case EEXIST:
                return BUS_ERROR_PREFIX "AlreadyExists";
        case EBUSY:
        case EALREADY:
        case EINPROGRESS:
                return BUS_ERROR_PREFIX "Busy";
        case ESTALE:
                return BUS_ERROR_PREFIX "Stale";
        default:
                return ERR_FAILED;
        }
}

/* ---- properties ----
 * Each appends its value to m; a failure is sticky in m (sbus.h) and
 * checked once, when the message is sent. Strings from plugins come from
 * devices: sbus_append_text replaces bytes that are not UTF-8. */

static void prop_version(struct bus *b, struct sbus_msg *m) { sbus_append_text(m, PACKAGE_VERSION); }
static void prop_state(struct bus *b, struct sbus_msg *m) { sbus_append_text(m, sekisho_state(b->ctx)); }
static void prop_policy_state(struct bus *b, struct sbus_msg *m) {
        sbus_append_text(m, sekisho_policy_state(b->ctx));
}
static void prop_freshness(struct bus *b, struct sbus_msg *m) { sbus_append_text(m, freshness_state(b->ctx)); }
static void prop_policy_source(struct bus *b, struct sbus_msg *m) { sbus_append_text(m, b->ctx->policy_source); }
static void prop_policy_serial(struct bus *b, struct sbus_msg *m) {
        sbus_append(m, "t", (uint64_t)(b->ctx->policy ? b->ctx->policy->serial : 0));
}
static void prop_policy_expires(struct bus *b, struct sbus_msg *m) {
        sbus_append(m, "x", (int64_t)(b->ctx->policy ? b->ctx->policy->expires : 0));
}

/* as of n strings */
static void append_strings(struct sbus_msg *m, char *const *v, size_t n) {
        sbus_open(m, 'a', "s");
        for (size_t i = 0; i < n; i++)
                sbus_append_text(m, v[i]);
        sbus_close(m);
}

static void prop_active_profiles(struct bus *b, struct sbus_msg *m) {
        append_strings(m, b->ctx->active, b->ctx->n_active);
}

static const char *plugin_state_name(enum plugin_state st) {
        switch (st) {
        case PLUGIN_ENFORCING:
                return "enforcing";
        case PLUGIN_FAILED:
                return "failed";
        case PLUGIN_STOPPED:
        default:
                return "stopped";
        }
}

static void append_entry_ss(struct sbus_msg *m, const char *key, const char *value) {
        sbus_open(m, '{', "ss");
        sbus_append_text(m, key);
        sbus_append_text(m, value);
        sbus_close(m);
}

/* (ssa{ss}): name, state and what its status() says. */
static void append_plugin(struct sbus_msg *m, const struct plugin_slot *slot) {
        struct kvlist kv = { 0 };
        /* Only a running plugin is asked: a failed one may be half set up. */
        if (slot->st == PLUGIN_ENFORCING && slot->state && slot->plugin->status)
                slot->plugin->status(slot->state, &kv);
        bool add_error = slot->st == PLUGIN_FAILED || slot->error[0];
        sbus_open(m, '(', "ssa{ss}");
        sbus_append_text(m, slot->plugin->name);
        sbus_append_text(m, plugin_state_name(slot->st));
        sbus_open(m, 'a', "{ss}");
        for (size_t i = 0; i < kv.n; i++) {
                append_entry_ss(m, kv.keys[i], kv.values[i]);
                if (strcmp(kv.keys[i], "error") == 0)
                        add_error = false;      /* the plugin said it itself */
        }
        if (add_error)
                append_entry_ss(m, "error", slot->error[0] ? slot->error : "failed");
        sbus_close(m);
        sbus_close(m);
        kvlist_clear(&kv);
}

static void prop_plugins(struct bus *b, struct sbus_msg *m) {
        sbus_open(m, 'a', "(ssa{ss})");
        for (size_t i = 0; i < b->ctx->n_slots; i++)
                append_plugin(m, &b->ctx->slots[i]);
        sbus_close(m);
}

static void prop_trust(struct bus *b, struct sbus_msg *m) { sbus_append_text(m, b->ctx->trust_summary); }

static void prop_trust_refused(struct bus *b, struct sbus_msg *m) {
        append_strings(m, b->ctx->keys.problems.msgs, b->ctx->keys.problems.n);
}

static const struct bus_property {
        const char *name;
        const char *signature;
        void (*append)(struct bus *b, struct sbus_msg *m);
} properties[] = {
        { "Version", "s", prop_version },
        { "State", "s", prop_state },
        { "PolicySerial", "t", prop_policy_serial },
        { "PolicySource", "s", prop_policy_source },
        { "PolicyState", "s", prop_policy_state },
        { "PolicyExpires", "x", prop_policy_expires },
        { "Freshness", "s", prop_freshness },
        { "ActiveProfiles", "as", prop_active_profiles },
        { "Plugins", "a(ssa{ss})", prop_plugins },
        { "Trust", "s", prop_trust },
        { "TrustRefused", "as", prop_trust_refused },
};

static const struct bus_property *property_find(const char *name) {
        for (size_t i = 0; i < ARRAY_SIZE(properties); i++)
                if (strcmp(properties[i].name, name) == 0)
                        return &properties[i];
        return NULL;
}

static void append_variant(struct bus *b, struct sbus_msg *m, const struct bus_property *p) {
        sbus_open(m, 'v', p->signature);
        p->append(b, m);
        sbus_close(m);
}

/* a{sv} of every property. */
static void append_all_properties(struct bus *b, struct sbus_msg *m) {
        sbus_open(m, 'a', "{sv}");
        for (size_t i = 0; i < ARRAY_SIZE(properties); i++) {
                sbus_open(m, '{', "sv");
                sbus_append(m, "s", properties[i].name);
                append_variant(b, m, &properties[i]);
                sbus_close(m);
        }
        sbus_close(m);
}

/* Send m and drop our reference; what went wrong (building or sending) is logged. */
static int send_unref(struct bus *b, struct sbus_msg *m, const char *what) {
        int r = !m ? -ENOMEM : sbus_msg_error(m) < 0 ? sbus_msg_error(m) : busconn_send(b->bc, m);
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "D-Bus: could not send %s, ignoring", what);
        sbus_msg_unref(m);
        return r;
}

void bus_properties_changed(struct bus *b) {
        if (!b || !busconn_connected(b->bc))
                return;
        struct sbus_msg *m = sbus_signal_new(BUS_PATH, IFACE_PROPERTIES, "PropertiesChanged");
        if (m) {
                sbus_append(m, "s", BUS_IFACE);
                append_all_properties(b, m);
                sbus_open(m, 'a', "s");
                sbus_close(m);
        }
        send_unref(b, m, "PropertiesChanged");
}

int bus_emit(struct bus *b, const char *signal, const struct audit_field *fields) {
        if (!b)
                return 0;
        if (!signal || !sbus_member_valid(signal))
                return -EINVAL;
        if (!busconn_connected(b->bc))
                return -ENOTCONN;
        struct sbus_msg *m = sbus_signal_new(BUS_PATH, BUS_IFACE, signal);
        if (m) {
                sbus_open(m, 'a', "{ss}");
                for (const struct audit_field *f = fields; f && f->name; f++)
                        append_entry_ss(m, f->name, f->value);
                sbus_close(m);
        }
        return send_unref(b, m, signal);
}

/* ---- replies ---- */

static bool no_reply(const struct sbus_msg *call) { return sbus_msg_flags(call) & SBUS_FLAG_NO_REPLY; }

static void reply_error(struct bus *b, struct sbus_msg *call, const char *name, const char *fmt, ...) _printf_(4, 5);
static void reply_error(struct bus *b, struct sbus_msg *call, const char *name, const char *fmt, ...) {
        if (no_reply(call))
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        /* A malformed name (say, in a refusal table) becomes Failed there. */
        send_unref(b, sbus_error_new(call, name, buf), "an error reply");
}

static void reply_errno(struct bus *b, struct sbus_msg *call, int r, const char *what) {
        reply_error(b, call, bus_error_from_errno(r), "%s: %s", what, strerror(r < 0 ? -r : r));
}

static void reply_empty(struct bus *b, struct sbus_msg *call) {
        if (!no_reply(call))
                send_unref(b, sbus_return_new(call), "a reply");
}

/* ---- admin methods, once authorized ---- */

/* ApplyPolicy's arguments (ayays), checked where the call arrives. */
static int read_apply_args(struct sbus_msg *m, const void **policy, size_t *policy_len, const void **sig,
                           size_t *sig_len, const char **name) {
        sbus_rewind(m);
        return sbus_read(m, "ayays", policy, policy_len, sig, sig_len, name);
}

static void do_apply_policy(struct bus *b, struct sbus_msg *m, uint32_t uid) {
        const void *policy, *sig;
        size_t policy_len, sig_len;
        const char *name;
        if (read_apply_args(m, &policy, &policy_len, &sig, &sig_len, &name) < 0)
                return reply_error(b, m, ERR_INVALID_ARGS, "ApplyPolicy takes (ayays)");
        if (!name[0])
                name = "policy.yaml";
        _cleanup_free_ char *data = memdup_nul(policy, policy_len);
        _cleanup_free_ char *sigdata = memdup_nul(sig, sig_len);
        if (!data || !sigdata)
                return reply_errno(b, m, -ENOMEM, "ApplyPolicy");

        char why[1024] = "";
        uint64_t serial = 0;
        log_info("D-Bus: ApplyPolicy of %s (%zu bytes) by uid %" PRIu32, name, policy_len, uid);
        enum refusal r = sekisho_apply_bundle(b->ctx, name, &data, policy_len, sigdata, sig_len, "dbus", &serial, why,
                                              sizeof why);
        if (r != REFUSE_NONE) {
                const struct refusal_info *ri = refusal_info(r);
                reply_error(b, m, ri && ri->dbus_error ? ri->dbus_error : ERR_FAILED, "%s",
                            why[0] ? why : (ri && ri->id ? ri->id : "refused"));
                return;
        }
        if (no_reply(m))
                return;
        struct sbus_msg *reply = sbus_return_new(m);
        if (reply)
                sbus_append(reply, "t", serial);
        send_unref(b, reply, "the ApplyPolicy reply");
}

static void do_set_profile(struct bus *b, struct sbus_msg *m, uint32_t uid) {
        const char *profile, *reason;
        bool active;
        sbus_rewind(m);
        if (sbus_read(m, "sbs", &profile, &active, &reason) < 0)
                return reply_error(b, m, ERR_INVALID_ARGS, "SetProfile takes (sbs)");
        if (!profile[0] || strlen(profile) > PROFILE_NAME_MAX || !string_is_clean_utf8(profile, strlen(profile)))
                return reply_error(b, m, ERR_INVALID_ARGS, "SetProfile: invalid profile name");
        if (strlen(reason) > BUS_REASON_MAX || !string_is_clean_utf8(reason, strlen(reason)))
                return reply_error(b, m, ERR_INVALID_ARGS, "SetProfile: reason too long or not clean text");
        log_info("D-Bus: SetProfile %s %s by uid %" PRIu32, profile, active ? "on" : "off", uid);
        int r = sekisho_set_profile(b->ctx, "admin", profile, active, reason);
        if (r < 0)
                return reply_errno(b, m, r, r == -ENOENT  ? "SetProfile: the policy in force has no such profile"
                                            : r == -E2BIG ? "SetProfile: too many profiles requested; release one first"
                                                          : "SetProfile");
        reply_empty(b, m);
}

static void do_reload(struct bus *b, struct sbus_msg *m, uint32_t uid) {
        log_info("D-Bus: Reload by uid %" PRIu32, uid);
        int r = sekisho_reload(b->ctx);
        if (r < 0)
                return reply_errno(b, m, r, "Reload");
        reply_empty(b, m);
}

/* A plugin's method: looked up again now, since the plugin may have stopped while polkit was asked. */
static void do_plugin_method(struct bus *b, struct sbus_msg *m, uint32_t uid) {
        const struct sekisho_method *pm;
        void *state;
        const char *member = sbus_msg_member(m);
        if (sekisho_find_method(b->ctx, member, &pm, &state) < 0)
                return reply_error(b, m, BUS_ERROR_PREFIX "NotFound", "%s: the plugin serving it is not running", member);
        char msg[512] = "";
        log_info("D-Bus: %s by uid %" PRIu32, member, uid);
        int r = pm->call(state, uid, msg, sizeof msg);
        if (r < 0)
                return reply_error(b, m, bus_error_from_errno(r), "%s", msg[0] ? msg : strerror(-r));
        if (no_reply(m))
                return;
        struct sbus_msg *reply = sbus_return_new(m);
        if (reply)
                sbus_append_text(reply, msg);
        send_unref(b, reply, "a reply");
}

static void run_action(struct bus *b, enum bus_action a, struct sbus_msg *m, uint32_t uid) {
        switch (a) {
        case ACTION_APPLY_POLICY:
                do_apply_policy(b, m, uid);
                break;
        case ACTION_SET_PROFILE:
                do_set_profile(b, m, uid);
                break;
        case ACTION_RELOAD:
                do_reload(b, m, uid);
                break;
        case ACTION_PLUGIN:
                do_plugin_method(b, m, uid);
                break;
        }
}

/* ---- authorization: uid 0, else polkit, else AccessDenied ---- */

static void auth_free(struct bus_auth *a) {
        if (!a)
                return;
        struct bus *b = a->bus;
        if (a->prev)
                a->prev->next = a->next;
        else
                b->auths = a->next;
        if (a->next)
                a->next->prev = a->prev;
        b->n_auths--;
        b->held_bytes -= a->bytes;
        if (a->asking_polkit) {
                b->n_polkit--;
                b->polkit_bytes -= a->bytes;
        }
        busconn_forget(b->bc, a);
        sbus_msg_unref(a->msg);
        free(a);
}

/* A refused admin call is evidence: an audit record, bounded so a flood of
 * calls cannot flood the disk (the ones over the bound are counted). */
static void audit_refusal(struct bus *b, const char *method, uint32_t uid, const char *sender, const char *why) {
        uint64_t now = now_usec_monotonic();
        if (now - b->refusal_window_usec >= 60000000u) {
                b->refusal_window_usec = now;
                b->refusals_in_window = 0;
        }
        if (b->refusals_in_window >= BUS_REFUSAL_RECORDS) {
                b->refusals_suppressed++;
                return;
        }
        b->refusals_in_window++;
        char u[16], more[16];
        snprintf(u, sizeof u, "%" PRIu32, uid);
        snprintf(more, sizeof more, "%u", b->refusals_suppressed);
        b->refusals_suppressed = 0;
        const struct audit_field f[] = {
                { "method", method ? method : "" }, { "uid", u }, { "sender", sender ? sender : "" }, { "reason", why },
                { "not-recorded-before", more }, { NULL },
        };
        core_audit(b->ctx, "admin.refused", "3.6.5 (R9: configuration tamper checks)", f);
}

static void auth_finish(struct bus_auth *a, bool allowed, const char *why) {
        struct bus *b = a->bus;
        if (allowed)
                run_action(b, a->action, a->msg, a->uid);
        else {
                log_notice("D-Bus: %s by uid %" PRIu32 " (%s) refused: %s", sbus_msg_member(a->msg), a->uid,
                           sbus_msg_sender(a->msg), why);
                audit_refusal(b, sbus_msg_member(a->msg), a->uid, sbus_msg_sender(a->msg), why);
                reply_error(b, a->msg, ERR_ACCESS_DENIED, "%s", why);
        }
        auth_free(a);
}

static void on_polkit_reply(int r, struct sbus_msg *reply, void *userdata) {
        struct bus_auth *a = userdata;
        char why[512];
        bool allowed = false, challenge = false;
        const char *e = reply ? sbus_msg_error_name(reply) : NULL;
        if (!reply)
                snprintf(why, sizeof why, "no answer from polkit (%s)", strerror(-r));
        else if (r < 0) {
                if (strcmp(e, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
                    strcmp(e, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
                        snprintf(why, sizeof why, "only root may call %s (polkit is not available)",
                                 sbus_msg_member(a->msg));
                else
                        snprintf(why, sizeof why, "polkit check failed: %s", e);
        } else {
                /* (bba{ss}): is_authorized, is_challenge, details. */
                if (sbus_enter(reply, '(', NULL) > 0 && sbus_read(reply, "b", &allowed) == 0)
                        (void)sbus_read(reply, "b", &challenge);
                snprintf(why, sizeof why, "not authorized for %s%s", a->action_id,
                         challenge ? " (authentication required)" : "");
        }
        auth_finish(a, allowed, why);
}

static int auth_ask_polkit(struct bus_auth *a) {
        struct bus *b = a->bus;
        struct sbus_msg *m = sbus_call_new(POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (!m)
                return -ENOMEM;
        bool interactive = sbus_msg_flags(a->msg) & SBUS_FLAG_INTERACTIVE;
        /* CheckAuthorization((sa{sv}) subject, s action, a{ss} details, u flags, s cancellation id):
         * the subject is the caller's bus name; AllowUserInteraction only when the caller asked. */
        sbus_open(m, '(', "sa{sv}");
        sbus_append(m, "s", "system-bus-name");
        sbus_open(m, 'a', "{sv}");
        sbus_open(m, '{', "sv");
        sbus_append(m, "s", "name");
        sbus_open(m, 'v', "s");
        sbus_append(m, "s", sbus_msg_sender(a->msg));
        sbus_close(m);
        sbus_close(m);
        sbus_close(m);
        sbus_close(m);
        sbus_append(m, "s", a->action_id);
        sbus_open(m, 'a', "{ss}");
        sbus_close(m);
        sbus_append(m, "us", (uint32_t)(interactive ? 1 : 0), "");
        int r = sbus_msg_error(m);
        if (r >= 0)
                r = busconn_call(b->bc, m, interactive ? POLKIT_INTERACTIVE_TIMEOUT_MS : -1, on_polkit_reply, a, a);
        sbus_msg_unref(m);
        return r;
}

static void on_unix_user_reply(int r, struct sbus_msg *reply, void *userdata) {
        struct bus_auth *a = userdata;
        uint32_t uid = UINT32_MAX;
        if (r < 0 || sbus_read(reply, "u", &uid) < 0)
                return auth_finish(a, false, "could not find out who the caller is");
        a->uid = uid;
        if (uid == 0)
                return auth_finish(a, true, NULL);
        /* Only non-root callers wait for polkit, so only they can be held back here:
         * a flood by a user never keeps root out. */
        struct bus *b = a->bus;
        if (b->n_polkit >= BUS_MAX_PENDING_AUTH || a->bytes > BUS_MAX_PENDING_BYTES - b->polkit_bytes) {
                reply_error(b, a->msg, ERR_LIMITS, "too many requests waiting for authorization");
                return auth_free(a);
        }
        a->asking_polkit = true;
        b->n_polkit++;
        b->polkit_bytes += a->bytes;
        if (auth_ask_polkit(a) < 0)
                auth_finish(a, false, "could not ask polkit");
}

/* Start authorizing m for action; the method runs (or is refused) from the loop later. */
static void auth_start(struct bus *b, struct sbus_msg *m, enum bus_action action, const char *action_id, size_t bytes) {
        const char *sender = sbus_msg_sender(m);
        if (!sender)
                return reply_error(b, m, ERR_ACCESS_DENIED, "caller has no bus name");
        /* Looking up the caller's uid takes one round trip to the bus; this bound is
         * only reached by a flood, which then fails fast. */
        if (b->n_auths >= 4 * BUS_MAX_PENDING_AUTH || bytes > 4 * BUS_MAX_PENDING_BYTES - b->held_bytes)
                return reply_error(b, m, ERR_LIMITS, "too many requests waiting for authorization");
        struct bus_auth *a = calloc(1, sizeof *a);
        if (!a)
                return reply_errno(b, m, -ENOMEM, sbus_msg_member(m));
        a->bus = b;
        a->msg = sbus_msg_ref(m);
        a->action = action;
        a->action_id = action_id ? action_id : action_ids[action];
        a->uid = UINT32_MAX;
        a->bytes = bytes;
        b->held_bytes += bytes;
        a->next = b->auths;
        if (b->auths)
                b->auths->prev = a;
        b->auths = a;
        b->n_auths++;

        struct sbus_msg *q = sbus_call_new(DRIVER, DRIVER_PATH, DRIVER, "GetConnectionUnixUser");
        int r = q ? sbus_append(q, "s", sender) : -ENOMEM;
        if (r >= 0)
                r = busconn_call(b->bc, q, -1, on_unix_user_reply, a, a);
        sbus_msg_unref(q);
        if (r < 0) {
                reply_errno(b, m, r, sbus_msg_member(m));
                auth_free(a);
        }
}

/* ---- method dispatch ---- */

static void handle_introspect(struct bus *b, struct sbus_msg *m) {
        if (no_reply(m))
                return;
        struct sbus_msg *reply = sbus_return_new(m);
        if (reply)
                sbus_append(reply, "s", b->introspect);
        send_unref(b, reply, "the introspection data");
}

static bool iface_is_ours(const char *iface) { return !iface[0] || strcmp(iface, BUS_IFACE) == 0; }

static bool has_signature(struct sbus_msg *m, const char *sig) { return strcmp(sbus_msg_signature(m), sig) == 0; }

static void handle_get(struct bus *b, struct sbus_msg *m) {
        const char *iface, *name;
        if (!has_signature(m, "ss") || sbus_read(m, "ss", &iface, &name) < 0)
                return reply_error(b, m, ERR_INVALID_ARGS, "Get takes (ss)");
        const struct bus_property *p = iface_is_ours(iface) ? property_find(name) : NULL;
        if (!p)
                return reply_error(b, m, ERR_UNKNOWN_PROPERTY, "No property %s.%s", iface, name);
        if (no_reply(m))
                return;
        struct sbus_msg *reply = sbus_return_new(m);
        if (reply)
                append_variant(b, reply, p);
        send_unref(b, reply, "a property");
}

static void handle_get_all(struct bus *b, struct sbus_msg *m) {
        const char *iface;
        if (!has_signature(m, "s") || sbus_read(m, "s", &iface) < 0)
                return reply_error(b, m, ERR_INVALID_ARGS, "GetAll takes (s)");
        bool ours = iface_is_ours(iface);
        if (!ours && strcmp(iface, IFACE_PROPERTIES) != 0 && strcmp(iface, IFACE_INTROSPECTABLE) != 0 &&
            strcmp(iface, IFACE_PEER) != 0)
                return reply_error(b, m, "org.freedesktop.DBus.Error.UnknownInterface", "No interface %s", iface);
        if (no_reply(m))
                return;
        struct sbus_msg *reply = sbus_return_new(m);
        if (reply && ours)
                append_all_properties(b, reply);
        else if (reply) {
                sbus_open(reply, 'a', "{sv}");
                sbus_close(reply);
        }
        send_unref(b, reply, "the properties");
}

static void handle_set(struct bus *b, struct sbus_msg *m) {
        const char *iface, *name;
        if (!has_signature(m, "ssv") || sbus_read(m, "ss", &iface, &name) < 0)
                return reply_error(b, m, ERR_INVALID_ARGS, "Set takes (ssv)");
        if (iface_is_ours(iface) && property_find(name))
                return reply_error(b, m, "org.freedesktop.DBus.Error.PropertyReadOnly", "Property %s is read-only",
                                   name);
        reply_error(b, m, ERR_UNKNOWN_PROPERTY, "No property %s.%s", iface, name);
}

/* Is m a call of member on iface (or on no interface, which D-Bus allows)? */
static bool is_call(struct sbus_msg *m, const char *iface, const char *member) {
        const char *i = sbus_msg_interface(m);
        return (!i || strcmp(i, iface) == 0) && strcmp(sbus_msg_member(m), member) == 0;
}

static bool on_object_message(struct sbus_msg *m, void *userdata) {
        struct bus *b = userdata;
        const struct sekisho_method *pm;
        void *pstate;
        const char *iface = sbus_msg_interface(m);

        if (is_call(m, IFACE_INTROSPECTABLE, "Introspect"))
                handle_introspect(b, m);
        else if (is_call(m, IFACE_PROPERTIES, "Get"))
                handle_get(b, m);
        else if (is_call(m, IFACE_PROPERTIES, "GetAll"))
                handle_get_all(b, m);
        else if (is_call(m, IFACE_PROPERTIES, "Set"))
                handle_set(b, m);
        else if (is_call(m, BUS_IFACE, "ApplyPolicy")) {
                /* Size caps before anything is held: the bus already delivered the bytes, but we
                 * keep them no longer than it takes to refuse. */
                const void *p, *s;
                size_t plen, slen;
                const char *n;
                if (!has_signature(m, "ayays") || read_apply_args(m, &p, &plen, &s, &slen, &n) < 0)
                        reply_error(b, m, ERR_INVALID_ARGS, "ApplyPolicy takes (ayays)");
                else if (plen > POLICY_MAX_SIZE)
                        reply_error(b, m, refusal_info(REFUSE_TOO_LARGE)->dbus_error,
                                    "policy is %zu bytes, more than the limit of %u", plen, POLICY_MAX_SIZE);
                else if (slen > MINISIGN_MAX_FILE)
                        reply_error(b, m, refusal_info(REFUSE_TOO_LARGE)->dbus_error,
                                    "signature is %zu bytes, more than the limit of %u", slen, MINISIGN_MAX_FILE);
                else if (strlen(n) > BUS_NAME_MAX || !string_is_clean_utf8(n, strlen(n)))
                        reply_error(b, m, ERR_INVALID_ARGS, "ApplyPolicy: bundle name too long or not clean text");
                else
                        auth_start(b, m, ACTION_APPLY_POLICY, NULL, plen + slen);
        } else if (is_call(m, BUS_IFACE, "SetProfile")) {
                if (!has_signature(m, "sbs"))
                        reply_error(b, m, ERR_INVALID_ARGS, "SetProfile takes (sbs)");
                else
                        auth_start(b, m, ACTION_SET_PROFILE, NULL, 0);
        } else if (is_call(m, BUS_IFACE, "Reload")) {
                if (!has_signature(m, ""))
                        reply_error(b, m, ERR_INVALID_ARGS, "Reload takes no arguments");
                else
                        auth_start(b, m, ACTION_RELOAD, NULL, 0);
        } else if (iface && strcmp(iface, BUS_IFACE) == 0 &&
                   sekisho_find_method(b->ctx, sbus_msg_member(m), &pm, &pstate) == 0) {
                if (!has_signature(m, ""))
                        reply_error(b, m, ERR_INVALID_ARGS, "%s takes no arguments", sbus_msg_member(m));
                else
                        auth_start(b, m, ACTION_PLUGIN, pm->action, 0);
        } else
                return false;   /* busconn answers UnknownMethod */
        return true;
}

static void on_name_lost(struct sbus_msg *m, void *userdata) {
        const char *name;
        if (sbus_read(m, "s", &name) == 0 && strcmp(name, BUS_NAME) == 0)
                log_error("D-Bus: lost the name %s", BUS_NAME);
}

/* ---- open and close ---- */

static const char standard_interfaces[] =
        "  <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
        "    <method name=\"Introspect\">\n"
        "      <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
        "    </method>\n"
        "  </interface>\n"
        "  <interface name=\"org.freedesktop.DBus.Peer\">\n"
        "    <method name=\"Ping\"/>\n"
        "    <method name=\"GetMachineId\">\n"
        "      <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
        "    </method>\n"
        "  </interface>\n"
        "  <interface name=\"org.freedesktop.DBus.Properties\">\n"
        "    <method name=\"Get\">\n"
        "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "      <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
        "    </method>\n"
        "    <method name=\"GetAll\">\n"
        "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "      <arg name=\"props\" type=\"a{sv}\" direction=\"out\"/>\n"
        "    </method>\n"
        "    <method name=\"Set\">\n"
        "      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "      <arg name=\"value\" type=\"v\" direction=\"in\"/>\n"
        "    </method>\n"
        "    <signal name=\"PropertiesChanged\">\n"
        "      <arg name=\"interface_name\" type=\"s\"/>\n"
        "      <arg name=\"changed_properties\" type=\"a{sv}\"/>\n"
        "      <arg name=\"invalidated_properties\" type=\"as\"/>\n"
        "    </signal>\n"
        "  </interface>\n";

/* The shipped interface file with the standard interfaces put in before its last </node>. */
static int build_introspect(char **ret) {
        const char *xml = sekisho_bus_introspect_xml, *end = NULL;
        for (const char *p = strstr(xml, "</node>"); p; p = strstr(p + 1, "</node>"))
                end = p;
        if (!end)
                return -EINVAL;
        char *s = NULL;
        if (asprintf(&s, "%.*s%s%s", (int)(end - xml), xml, standard_interfaces, end) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

struct bus *bus_close(struct bus *b) {
        if (!b)
                return NULL;
        while (b->auths)
                auth_free(b->auths);
        b->bc = busconn_free(b->bc);
        free(b->introspect);
        free(b);
        return NULL;
}

struct busconn *bus_connection(struct bus *b) { return b ? b->bc : NULL; }

/* RequestName with DO_NOT_QUEUE: 0, -EEXIST when another process owns it, -EACCES when the bus policy says no. */
static int request_name(struct bus *b, const char *which) {
        struct sbus_msg *m = sbus_call_new(DRIVER, DRIVER_PATH, DRIVER, "RequestName"), *reply = NULL;
        int r = m ? sbus_append(m, "su", BUS_NAME, (uint32_t)4 /* DBUS_NAME_FLAG_DO_NOT_QUEUE */) : -ENOMEM;
        if (r >= 0)
                r = busconn_call_sync(b->bc, m, -1, &reply);
        uint32_t answer = 0;
        if (r == -EREMOTEIO) {
                const char *text = "";
                (void)sbus_read(reply, "s", &text);
                log_error("D-Bus: cannot claim %s on the %s bus: %s: %s", BUS_NAME, which, sbus_msg_error_name(reply),
                          text);
                r = strcmp(sbus_msg_error_name(reply), "org.freedesktop.DBus.Error.AccessDenied") == 0 ? -EACCES : -EIO;
        } else if (r < 0)
                log_error_errno(r, "D-Bus: cannot claim %s on the %s bus", BUS_NAME, which);
        else if (sbus_read(reply, "u", &answer) < 0 || answer != 1 /* PRIMARY_OWNER */) {
                log_error("D-Bus: %s is already owned on the %s bus (is another sekishod running?)", BUS_NAME, which);
                r = -EEXIST;
        }
        sbus_msg_unref(m);
        sbus_msg_unref(reply);
        return r;
}

int bus_open(struct sekisho *ctx, enum bus_kind kind, struct bus **ret) {
        if (kind != BUS_SYSTEM && kind != BUS_SESSION)
                return -EINVAL;
        const char *which = kind == BUS_SYSTEM ? "system" : "session";
        struct bus *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->ctx = ctx;
        int r = build_introspect(&b->introspect);
        if (r < 0) {
                bus_close(b);
                return log_error_errno(r, "D-Bus: bad built-in introspection data");
        }

        char why[512] = "";
        r = busconn_open(ctx->loop, kind == BUS_SYSTEM, &b->bc, why, sizeof why);
        if (r < 0) {
                log_error("D-Bus: cannot connect to the %s bus: %s", which, why);
                bus_close(b);
                return -ECONNREFUSED;
        }
        r = request_name(b, which);
        if (r < 0) {
                bus_close(b);
                return r;
        }
        r = busconn_serve(b->bc, BUS_PATH, on_object_message, b);
        if (r >= 0)
                r = busconn_match(b->bc, DRIVER, DRIVER_PATH, DRIVER, "NameLost", on_name_lost, b, b);
        if (r < 0) {
                bus_close(b);
                return log_error_errno(r, "D-Bus: cannot set up the connection");
        }

        log_info("D-Bus: serving %s at %s on the %s bus", BUS_NAME, BUS_PATH, which);
        *ret = b;
        return 0;
}
