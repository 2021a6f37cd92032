/* bus.c — the org.sekisho.Sekisho1 service: libdbus-1 driven by the daemon's epoll loop, properties, signals, admin methods authorized by uid 0 or polkit. */
#include "config.h"

#include <dbus/dbus.h>
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
        DBusMessage *msg;
        enum bus_action action;
        const char *action_id;         /* polkit action */
        uint32_t uid;
        size_t bytes;                  /* payload held while waiting */
        bool asking_polkit;
        struct bus_auth *prev, *next;
};

struct bus {
        struct sekisho *ctx;
        DBusConnection *conn;
        struct busconn *bc;            /* conn on the loop, and the method calls we make */
        struct bus_auth *auths;
        size_t n_auths, held_bytes;    /* all waiting calls */
        size_t n_polkit, polkit_bytes; /* those of them waiting for polkit */
        char *introspect;
        bool registered, filtering;    /* libdbus aborts on undoing what was not done */
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

/* ---- strings from the outside ---- */

/* libdbus aborts on invalid UTF-8, and plugin details come from devices: copy
 * a string that fails validation with every non-ASCII byte replaced. */
static const char *utf8_safe(const char *s, char **tmp) {
        if (!s)
                return "";
        if (dbus_validate_utf8(s, NULL))
                return s;
        char *c = strdup(s);
        if (!c)
                return "?";
        for (char *p = c; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        *tmp = c;
        return c;
}

static bool append_string(DBusMessageIter *it, const char *s) {
        _cleanup_free_ char *tmp = NULL;
        const char *v = utf8_safe(s, &tmp);
        return dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &v);
}

static bool append_dict_ss(DBusMessageIter *it, const char *const *keys, const char *const *values, size_t n,
                           const char *extra_key, const char *extra_value) {
        DBusMessageIter d, e;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{ss}", &d))
                return false;
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++) {
                ok = dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                if (!ok)
                        break;
                ok = append_string(&e, keys[i]) && append_string(&e, values[i]);
                ok = dbus_message_iter_close_container(&d, &e) && ok;
        }
        if (ok && extra_key) {
                ok = dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                if (ok) {
                        ok = append_string(&e, extra_key) && append_string(&e, extra_value);
                        ok = dbus_message_iter_close_container(&d, &e) && ok;
                }
        }
        if (!ok) {
                dbus_message_iter_abandon_container_if_open(it, &d);
                return false;
        }
        return dbus_message_iter_close_container(it, &d);
}

/* ---- properties ---- */

static bool prop_version(struct bus *b, DBusMessageIter *it) { return append_string(it, PACKAGE_VERSION); }
static bool prop_state(struct bus *b, DBusMessageIter *it) { return append_string(it, sekisho_state(b->ctx)); }
static bool prop_policy_state(struct bus *b, DBusMessageIter *it) {
        return append_string(it, sekisho_policy_state(b->ctx));
}
static bool prop_freshness(struct bus *b, DBusMessageIter *it) { return append_string(it, freshness_state(b->ctx)); }
static bool prop_policy_source(struct bus *b, DBusMessageIter *it) {
        return append_string(it, b->ctx->policy_source);
}
static bool prop_policy_serial(struct bus *b, DBusMessageIter *it) {
        dbus_uint64_t v = b->ctx->policy ? b->ctx->policy->serial : 0;
        return dbus_message_iter_append_basic(it, DBUS_TYPE_UINT64, &v);
}
static bool prop_policy_expires(struct bus *b, DBusMessageIter *it) {
        dbus_int64_t v = b->ctx->policy ? b->ctx->policy->expires : 0;
        return dbus_message_iter_append_basic(it, DBUS_TYPE_INT64, &v);
}

static bool prop_active_profiles(struct bus *b, DBusMessageIter *it) {
        DBusMessageIter a;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "s", &a))
                return false;
        for (size_t i = 0; i < b->ctx->n_active; i++)
                if (!append_string(&a, b->ctx->active[i])) {
                        dbus_message_iter_abandon_container_if_open(it, &a);
                        return false;
                }
        return dbus_message_iter_close_container(it, &a);
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

static bool append_plugin(DBusMessageIter *a, const struct plugin_slot *slot) {
        struct kvlist kv = { 0 };
        /* Only a running plugin is asked: a failed one may be half set up. */
        if (slot->st == PLUGIN_ENFORCING && slot->state && slot->plugin->status)
                slot->plugin->status(slot->state, &kv);
        const char *err_key = NULL;
        if (slot->st == PLUGIN_FAILED || slot->error[0]) {
                err_key = "error";
                for (size_t i = 0; i < kv.n; i++)
                        if (strcmp(kv.keys[i], "error") == 0)
                                err_key = NULL;    /* the plugin said it itself */
        }
        DBusMessageIter s;
        bool ok = dbus_message_iter_open_container(a, DBUS_TYPE_STRUCT, NULL, &s);
        if (ok) {
                ok = append_string(&s, slot->plugin->name) && append_string(&s, plugin_state_name(slot->st)) &&
                     append_dict_ss(&s, (const char *const *)kv.keys, (const char *const *)kv.values, kv.n,
                                    err_key, slot->error[0] ? slot->error : "failed");
                if (ok)
                        ok = dbus_message_iter_close_container(a, &s);
                else
                        dbus_message_iter_abandon_container_if_open(a, &s);
        }
        kvlist_clear(&kv);
        return ok;
}

static bool prop_plugins(struct bus *b, DBusMessageIter *it) {
        DBusMessageIter a;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(ssa{ss})", &a))
                return false;
        for (size_t i = 0; i < b->ctx->n_slots; i++)
                if (!append_plugin(&a, &b->ctx->slots[i])) {
                        dbus_message_iter_abandon_container_if_open(it, &a);
                        return false;
                }
        return dbus_message_iter_close_container(it, &a);
}

static bool prop_trust(struct bus *b, DBusMessageIter *it) { return append_string(it, b->ctx->trust_summary); }

static bool prop_trust_refused(struct bus *b, DBusMessageIter *it) {
        DBusMessageIter a;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "s", &a))
                return false;
        for (size_t i = 0; i < b->ctx->keys.problems.n; i++)
                if (!append_string(&a, b->ctx->keys.problems.msgs[i])) {
                        dbus_message_iter_abandon_container_if_open(it, &a);
                        return false;
                }
        return dbus_message_iter_close_container(it, &a);
}

static const struct bus_property {
        const char *name;
        const char *signature;
        bool (*append)(struct bus *b, DBusMessageIter *it);
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

static bool append_variant(struct bus *b, DBusMessageIter *it, const struct bus_property *p) {
        DBusMessageIter v;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, p->signature, &v))
                return false;
        if (!p->append(b, &v)) {
                dbus_message_iter_abandon_container_if_open(it, &v);
                return false;
        }
        return dbus_message_iter_close_container(it, &v);
}

/* a{sv} of every property. */
static bool append_all_properties(struct bus *b, DBusMessageIter *it) {
        DBusMessageIter d, e;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &d))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(properties); i++) {
                bool ok = dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                if (ok) {
                        ok = dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &properties[i].name) &&
                             append_variant(b, &e, &properties[i]);
                        ok = ok ? dbus_message_iter_close_container(&d, &e)
                                : (dbus_message_iter_abandon_container_if_open(&d, &e), false);
                }
                if (!ok) {
                        dbus_message_iter_abandon_container_if_open(it, &d);
                        return false;
                }
        }
        return dbus_message_iter_close_container(it, &d);
}

void bus_properties_changed(struct bus *b) {
        if (!b || !b->conn || !dbus_connection_get_is_connected(b->conn))
                return;
        DBusMessage *m = dbus_message_new_signal(BUS_PATH, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        if (!m)
                return (void)log_warning("D-Bus: out of memory for PropertiesChanged, ignoring");
        DBusMessageIter it, inv;
        const char *iface = BUS_IFACE;
        dbus_message_iter_init_append(m, &it);
        bool ok = dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface) && append_all_properties(b, &it) &&
                  dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &inv) &&
                  dbus_message_iter_close_container(&it, &inv);
        if (!ok || !dbus_connection_send(b->conn, m, NULL))
                log_warning("D-Bus: could not send PropertiesChanged, ignoring");
        dbus_message_unref(m);
}

int bus_emit(struct bus *b, const char *signal, const struct audit_field *fields) {
        if (!b)
                return 0;
        if (!signal || !dbus_validate_member(signal, NULL))
                return -EINVAL;
        if (!b->conn || !dbus_connection_get_is_connected(b->conn))
                return -ENOTCONN;
        DBusMessage *m = dbus_message_new_signal(BUS_PATH, BUS_IFACE, signal);
        if (!m)
                return -ENOMEM;
        DBusMessageIter it, d, e;
        dbus_message_iter_init_append(m, &it);
        bool ok = dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &d);
        for (const struct audit_field *f = fields; ok && f && f->name; f++) {
                ok = dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                if (!ok)
                        break;
                ok = append_string(&e, f->name) && append_string(&e, f->value);
                ok = dbus_message_iter_close_container(&d, &e) && ok;
        }
        if (ok)
                ok = dbus_message_iter_close_container(&it, &d);
        else
                dbus_message_iter_abandon_container_if_open(&it, &d);
        if (ok)
                ok = dbus_connection_send(b->conn, m, NULL);
        dbus_message_unref(m);
        return ok ? 0 : -ENOMEM;
}

/* ---- replies ---- */

static void reply_send(struct bus *b, DBusMessage *reply) {
        if (!reply) {
                log_warning("D-Bus: out of memory for a reply, ignoring");
                return;
        }
        if (!dbus_connection_send(b->conn, reply, NULL))
                log_warning("D-Bus: could not queue a reply, ignoring");
        dbus_message_unref(reply);
}

static void reply_error(struct bus *b, DBusMessage *call, const char *name, const char *fmt, ...) _printf_(4, 5);
static void reply_error(struct bus *b, DBusMessage *call, const char *name, const char *fmt, ...) {
        if (dbus_message_get_no_reply(call))
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        _cleanup_free_ char *tmp = NULL;
        /* A malformed error name (say, in a refusal table) would make libdbus abort. */
        if (!name || !dbus_validate_error_name(name, NULL))
                name = ERR_FAILED;
        reply_send(b, dbus_message_new_error(call, name, utf8_safe(buf, &tmp)));
}

static void reply_errno(struct bus *b, DBusMessage *call, int r, const char *what) {
        reply_error(b, call, bus_error_from_errno(r), "%s: %s", what, strerror(r < 0 ? -r : r));
}

static void reply_empty(struct bus *b, DBusMessage *call) {
        if (!dbus_message_get_no_reply(call))
                reply_send(b, dbus_message_new_method_return(call));
}

/* ---- admin methods, once authorized ---- */

/* A copy with a terminating NUL, as read_file_capped gives the core. */
static char *dup_nul(const void *p, size_t n) {
        char *c = malloc(n + 1);
        if (c) {
                if (n)
                        memcpy(c, p, n);
                c[n] = '\0';
        }
        return c;
}

static void do_apply_policy(struct bus *b, DBusMessage *m, uint32_t uid) {
        const char *policy, *sig, *name;
        int policy_len, sig_len;
        DBusError err = DBUS_ERROR_INIT;
        if (!dbus_message_get_args(m, &err, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &policy, &policy_len, DBUS_TYPE_ARRAY,
                                   DBUS_TYPE_BYTE, &sig, &sig_len, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                reply_error(b, m, ERR_INVALID_ARGS, "%s", err.message);
                dbus_error_free(&err);
                return;
        }
        if (!name[0])
                name = "policy.yaml";
        _cleanup_free_ char *data = dup_nul(policy, (size_t)policy_len);
        _cleanup_free_ char *sigdata = dup_nul(sig, (size_t)sig_len);
        if (!data || !sigdata)
                return reply_errno(b, m, -ENOMEM, "ApplyPolicy");

        char why[1024] = "";
        uint64_t serial = 0;
        log_info("D-Bus: ApplyPolicy of %s (%d bytes) by uid %" PRIu32, name, policy_len, uid);
        enum refusal r = sekisho_apply_bundle(b->ctx, name, data, (size_t)policy_len, sigdata, (size_t)sig_len,
                                              "dbus", &serial, why, sizeof why);
        if (r != REFUSE_NONE) {
                const struct refusal_info *ri = refusal_info(r);
                reply_error(b, m, ri && ri->dbus_error ? ri->dbus_error : ERR_FAILED, "%s",
                            why[0] ? why : (ri && ri->id ? ri->id : "refused"));
                return;
        }
        if (dbus_message_get_no_reply(m))
                return;
        DBusMessage *reply = dbus_message_new_method_return(m);
        dbus_uint64_t s = serial;
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_UINT64, &s, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                reply = NULL;
        }
        reply_send(b, reply);
}

static void do_set_profile(struct bus *b, DBusMessage *m, uint32_t uid) {
        const char *profile, *reason;
        dbus_bool_t active;
        DBusError err = DBUS_ERROR_INIT;
        if (!dbus_message_get_args(m, &err, DBUS_TYPE_STRING, &profile, DBUS_TYPE_BOOLEAN, &active, DBUS_TYPE_STRING,
                                   &reason, DBUS_TYPE_INVALID)) {
                reply_error(b, m, ERR_INVALID_ARGS, "%s", err.message);
                dbus_error_free(&err);
                return;
        }
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

static void do_reload(struct bus *b, DBusMessage *m, uint32_t uid) {
        log_info("D-Bus: Reload by uid %" PRIu32, uid);
        int r = sekisho_reload(b->ctx);
        if (r < 0)
                return reply_errno(b, m, r, "Reload");
        reply_empty(b, m);
}

/* A plugin's method: looked up again now, since the plugin may have stopped while polkit was asked. */
static void do_plugin_method(struct bus *b, DBusMessage *m, uint32_t uid) {
        const struct sekisho_method *pm;
        void *state;
        const char *member = dbus_message_get_member(m);
        if (sekisho_find_method(b->ctx, member, &pm, &state) < 0)
                return reply_error(b, m, BUS_ERROR_PREFIX "NotFound", "%s: the plugin serving it is not running", member);
        char msg[512] = "";
        log_info("D-Bus: %s by uid %" PRIu32, member, uid);
        int r = pm->call(state, uid, msg, sizeof msg);
        if (r < 0)
                return reply_error(b, m, bus_error_from_errno(r), "%s", msg[0] ? msg : strerror(-r));
        if (dbus_message_get_no_reply(m))
                return;
        DBusMessage *reply = dbus_message_new_method_return(m);
        _cleanup_free_ char *tmp = NULL;
        const char *s = utf8_safe(msg, &tmp);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                reply = NULL;
        }
        reply_send(b, reply);
}

static void run_action(struct bus *b, enum bus_action a, DBusMessage *m, uint32_t uid) {
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
        dbus_message_unref(a->msg);
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
                log_notice("D-Bus: %s by uid %" PRIu32 " (%s) refused: %s", dbus_message_get_member(a->msg), a->uid,
                           dbus_message_get_sender(a->msg), why);
                audit_refusal(b, dbus_message_get_member(a->msg), a->uid, dbus_message_get_sender(a->msg), why);
                reply_error(b, a->msg, ERR_ACCESS_DENIED, "%s", why);
        }
        auth_free(a);
}

static void on_polkit_reply(int r, DBusMessage *reply, void *userdata) {
        struct bus_auth *a = userdata;
        char why[512];
        bool allowed = false;
        if (!reply)
                snprintf(why, sizeof why, "no answer from polkit");
        else if (r < 0) {
                const char *e = dbus_message_get_error_name(reply);
                if (dbus_message_is_error(reply, DBUS_ERROR_SERVICE_UNKNOWN) ||
                    dbus_message_is_error(reply, DBUS_ERROR_NAME_HAS_NO_OWNER))
                        snprintf(why, sizeof why, "only root may call %s (polkit is not available)",
                                 dbus_message_get_member(a->msg));
                else
                        snprintf(why, sizeof why, "polkit check failed: %s", e ? e : "unknown error");
        } else {
                DBusMessageIter it, s;
                dbus_bool_t is_authorized = FALSE, is_challenge = FALSE;
                if (dbus_message_iter_init(reply, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRUCT) {
                        dbus_message_iter_recurse(&it, &s);
                        if (dbus_message_iter_get_arg_type(&s) == DBUS_TYPE_BOOLEAN) {
                                dbus_message_iter_get_basic(&s, &is_authorized);
                                if (dbus_message_iter_next(&s) &&
                                    dbus_message_iter_get_arg_type(&s) == DBUS_TYPE_BOOLEAN)
                                        dbus_message_iter_get_basic(&s, &is_challenge);
                        }
                }
                allowed = is_authorized;
                snprintf(why, sizeof why, "not authorized for %s%s", a->action_id,
                         is_challenge ? " (authentication required)" : "");
        }
        auth_finish(a, allowed, why);
}

static int auth_ask_polkit(struct bus_auth *a) {
        struct bus *b = a->bus;
        DBusMessage *m = dbus_message_new_method_call(POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (!m)
                return -ENOMEM;
        const char *kind = "system-bus-name", *key = "name", *sender = dbus_message_get_sender(a->msg);
        const char *action = a->action_id, *cancel = "";
        bool interactive = dbus_message_get_allow_interactive_authorization(a->msg);
        dbus_uint32_t flags = interactive ? 1 : 0;   /* AllowUserInteraction only when the caller asked */
        DBusMessageIter it, subj, dict, entry, var, details;
        dbus_message_iter_init_append(m, &it);
        bool ok = dbus_message_iter_open_container(&it, DBUS_TYPE_STRUCT, NULL, &subj) &&
                  dbus_message_iter_append_basic(&subj, DBUS_TYPE_STRING, &kind) &&
                  dbus_message_iter_open_container(&subj, DBUS_TYPE_ARRAY, "{sv}", &dict) &&
                  dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) &&
                  dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) &&
                  dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &var) &&
                  dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &sender) &&
                  dbus_message_iter_close_container(&entry, &var) &&
                  dbus_message_iter_close_container(&dict, &entry) &&
                  dbus_message_iter_close_container(&subj, &dict) &&
                  dbus_message_iter_close_container(&it, &subj) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &action) &&
                  dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &details) &&
                  dbus_message_iter_close_container(&it, &details) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &flags) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &cancel);
        /* On failure the half-built message is simply dropped with its containers. */
        int r = ok ? busconn_call(b->bc, m, interactive ? POLKIT_INTERACTIVE_TIMEOUT_MS : -1, on_polkit_reply, a, a)
                   : -ENOMEM;
        dbus_message_unref(m);
        return r;
}

static void on_unix_user_reply(int r, DBusMessage *reply, void *userdata) {
        struct bus_auth *a = userdata;
        dbus_uint32_t uid = UINT32_MAX;
        DBusError err = DBUS_ERROR_INIT;
        bool known = r == 0 && dbus_message_get_args(reply, &err, DBUS_TYPE_UINT32, &uid, DBUS_TYPE_INVALID);
        dbus_error_free(&err);
        if (!known)
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
static void auth_start(struct bus *b, DBusMessage *m, enum bus_action action, const char *action_id, size_t bytes) {
        const char *sender = dbus_message_get_sender(m);
        if (!sender)
                return reply_error(b, m, ERR_ACCESS_DENIED, "caller has no bus name");
        /* Looking up the caller's uid takes one round trip to the bus; this bound is
         * only reached by a flood, which then fails fast. */
        if (b->n_auths >= 4 * BUS_MAX_PENDING_AUTH || bytes > 4 * BUS_MAX_PENDING_BYTES - b->held_bytes)
                return reply_error(b, m, ERR_LIMITS, "too many requests waiting for authorization");
        struct bus_auth *a = calloc(1, sizeof *a);
        if (!a)
                return reply_errno(b, m, -ENOMEM, dbus_message_get_member(m));
        a->bus = b;
        a->msg = dbus_message_ref(m);
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

        DBusMessage *q = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetConnectionUnixUser");
        bool ok = q && dbus_message_append_args(q, DBUS_TYPE_STRING, &sender, DBUS_TYPE_INVALID) &&
                  busconn_call(b->bc, q, -1, on_unix_user_reply, a, a) == 0;
        if (q)
                dbus_message_unref(q);
        if (!ok) {
                reply_errno(b, m, -ENOMEM, dbus_message_get_member(m));
                auth_free(a);
        }
}

/* ---- method dispatch ---- */

static void handle_introspect(struct bus *b, DBusMessage *m) {
        if (dbus_message_get_no_reply(m))
                return;
        DBusMessage *reply = dbus_message_new_method_return(m);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &b->introspect, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                reply = NULL;
        }
        reply_send(b, reply);
}

static bool iface_is_ours(const char *iface) { return !iface[0] || strcmp(iface, BUS_IFACE) == 0; }

static void handle_get(struct bus *b, DBusMessage *m) {
        const char *iface, *name;
        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
                return reply_error(b, m, ERR_INVALID_ARGS, "Get takes (ss)");
        const struct bus_property *p = iface_is_ours(iface) ? property_find(name) : NULL;
        if (!p)
                return reply_error(b, m, "org.freedesktop.DBus.Error.UnknownProperty", "No property %s.%s",
                                   iface, name);
        if (dbus_message_get_no_reply(m))
                return;
        DBusMessage *reply = dbus_message_new_method_return(m);
        DBusMessageIter it;
        if (reply) {
                dbus_message_iter_init_append(reply, &it);
                if (!append_variant(b, &it, p)) {
                        dbus_message_unref(reply);
                        reply = NULL;
                }
        }
        reply_send(b, reply);
}

static void handle_get_all(struct bus *b, DBusMessage *m) {
        const char *iface;
        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID))
                return reply_error(b, m, ERR_INVALID_ARGS, "GetAll takes (s)");
        bool ours = iface_is_ours(iface);
        if (!ours && strcmp(iface, DBUS_INTERFACE_PROPERTIES) != 0 && strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) != 0 &&
            strcmp(iface, DBUS_INTERFACE_PEER) != 0)
                return reply_error(b, m, "org.freedesktop.DBus.Error.UnknownInterface", "No interface %s", iface);
        if (dbus_message_get_no_reply(m))
                return;
        DBusMessage *reply = dbus_message_new_method_return(m);
        DBusMessageIter it, d;
        if (reply) {
                dbus_message_iter_init_append(reply, &it);
                bool ok = ours ? append_all_properties(b, &it)
                               : dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &d) &&
                                         dbus_message_iter_close_container(&it, &d);
                if (!ok) {
                        dbus_message_unref(reply);
                        reply = NULL;
                }
        }
        reply_send(b, reply);
}

static void handle_set(struct bus *b, DBusMessage *m) {
        const char *iface, *name;
        DBusMessageIter it;
        if (!dbus_message_iter_init(m, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_STRING)
                return reply_error(b, m, ERR_INVALID_ARGS, "Set takes (ssv)");
        dbus_message_iter_get_basic(&it, &iface);
        if (!dbus_message_iter_next(&it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_STRING)
                return reply_error(b, m, ERR_INVALID_ARGS, "Set takes (ssv)");
        dbus_message_iter_get_basic(&it, &name);
        if (iface_is_ours(iface) && property_find(name))
                return reply_error(b, m, "org.freedesktop.DBus.Error.PropertyReadOnly", "Property %s is read-only",
                                   name);
        reply_error(b, m, "org.freedesktop.DBus.Error.UnknownProperty", "No property %s.%s", iface, name);
}

/* Is m a call of member on iface (or on no interface, which D-Bus allows)? */
static bool is_call(DBusMessage *m, const char *iface, const char *member) {
        const char *i = dbus_message_get_interface(m);
        return (!i || strcmp(i, iface) == 0) && strcmp(dbus_message_get_member(m), member) == 0;
}

static DBusHandlerResult on_object_message(DBusConnection *conn, DBusMessage *m, void *userdata) {
        struct bus *b = userdata;
        const struct sekisho_method *pm;
        void *pstate;
        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL || !dbus_message_get_member(m))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

        if (is_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                handle_introspect(b, m);
        else if (is_call(m, DBUS_INTERFACE_PROPERTIES, "Get"))
                handle_get(b, m);
        else if (is_call(m, DBUS_INTERFACE_PROPERTIES, "GetAll"))
                handle_get_all(b, m);
        else if (is_call(m, DBUS_INTERFACE_PROPERTIES, "Set"))
                handle_set(b, m);
        else if (is_call(m, BUS_IFACE, "ApplyPolicy")) {
                /* Size caps before anything is held: the bus already delivered the bytes, but we
                 * keep them no longer than it takes to refuse. */
                const char *p, *s, *n;
                int plen, slen;
                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p, &plen, DBUS_TYPE_ARRAY,
                                           DBUS_TYPE_BYTE, &s, &slen, DBUS_TYPE_STRING, &n, DBUS_TYPE_INVALID))
                        reply_error(b, m, ERR_INVALID_ARGS, "ApplyPolicy takes (ayays)");
                else if ((size_t)plen > POLICY_MAX_SIZE)
                        reply_error(b, m, refusal_info(REFUSE_TOO_LARGE)->dbus_error,
                                    "policy is %d bytes, more than the limit of %u", plen, POLICY_MAX_SIZE);
                else if ((size_t)slen > MINISIGN_MAX_FILE)
                        reply_error(b, m, refusal_info(REFUSE_TOO_LARGE)->dbus_error,
                                    "signature is %d bytes, more than the limit of %u", slen, MINISIGN_MAX_FILE);
                else if (strlen(n) > BUS_NAME_MAX || !string_is_clean_utf8(n, strlen(n)))
                        reply_error(b, m, ERR_INVALID_ARGS, "ApplyPolicy: bundle name too long or not clean text");
                else
                        auth_start(b, m, ACTION_APPLY_POLICY, NULL, (size_t)plen + (size_t)slen);
        } else if (is_call(m, BUS_IFACE, "SetProfile")) {
                if (!dbus_message_has_signature(m, "sbs"))
                        reply_error(b, m, ERR_INVALID_ARGS, "SetProfile takes (sbs)");
                else
                        auth_start(b, m, ACTION_SET_PROFILE, NULL, 0);
        } else if (is_call(m, BUS_IFACE, "Reload")) {
                if (!dbus_message_has_signature(m, ""))
                        reply_error(b, m, ERR_INVALID_ARGS, "Reload takes no arguments");
                else
                        auth_start(b, m, ACTION_RELOAD, NULL, 0);
        } else if (dbus_message_has_interface(m, BUS_IFACE) &&
                   sekisho_find_method(b->ctx, dbus_message_get_member(m), &pm, &pstate) == 0) {
                if (!dbus_message_has_signature(m, ""))
                        reply_error(b, m, ERR_INVALID_ARGS, "%s takes no arguments", dbus_message_get_member(m));
                else
                        auth_start(b, m, ACTION_PLUGIN, pm->action, 0);
        } else
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;   /* libdbus answers UnknownMethod */
        return DBUS_HANDLER_RESULT_HANDLED;
}

static DBusHandlerResult on_filter(DBusConnection *conn, DBusMessage *m, void *userdata) {
        if (dbus_message_is_signal(m, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                /* Enforcement goes on; only status and admin methods are gone. */
                log_error("D-Bus: disconnected from the bus; status and admin methods are unavailable "
                          "until sekishod restarts (enforcement continues)");
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameLost")) {
                const char *name = NULL;
                if (dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID) && name &&
                    strcmp(name, BUS_NAME) == 0)
                        log_error("D-Bus: lost the name %s", BUS_NAME);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
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
        if (b->conn) {
                if (b->registered)
                        dbus_connection_unregister_object_path(b->conn, BUS_PATH);
                if (b->filtering)
                        dbus_connection_remove_filter(b->conn, on_filter, b);
        }
        b->bc = busconn_free(b->bc);
        if (b->conn) {
                dbus_connection_close(b->conn);
                dbus_connection_unref(b->conn);
        }
        free(b->introspect);
        free(b);
        return NULL;
}

struct busconn *bus_connection(struct bus *b) { return b ? b->bc : NULL; }

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

        DBusError err = DBUS_ERROR_INIT;
        b->conn = dbus_bus_get_private(kind == BUS_SYSTEM ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION, &err);
        if (!b->conn) {
                log_error("D-Bus: cannot connect to the %s bus: %s", which, err.message);
                dbus_error_free(&err);
                bus_close(b);
                return -ECONNREFUSED;
        }
        dbus_connection_set_exit_on_disconnect(b->conn, FALSE);

        int rn = dbus_bus_request_name(b->conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
        if (rn != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                if (rn < 0) {
                        log_error("D-Bus: cannot claim %s on the %s bus: %s", BUS_NAME, which, err.message);
                        r = dbus_error_has_name(&err, DBUS_ERROR_ACCESS_DENIED) ? -EACCES : -EIO;
                } else {
                        log_error("D-Bus: %s is already owned on the %s bus (is another sekishod running?)",
                                  BUS_NAME, which);
                        r = -EEXIST;
                }
                dbus_error_free(&err);
                bus_close(b);
                return r;
        }

        static const DBusObjectPathVTable vtable = { .message_function = on_object_message };
        if (!(b->registered = dbus_connection_register_object_path(b->conn, BUS_PATH, &vtable, b)) ||
            !(b->filtering = dbus_connection_add_filter(b->conn, on_filter, b, NULL)) ||
            (r = busconn_new(ctx->loop, b->conn, &b->bc)) < 0) {
                bus_close(b);
                return log_error_errno(r < 0 ? r : -ENOMEM, "D-Bus: cannot set up the connection");
        }

        log_info("D-Bus: serving %s at %s on the %s bus", BUS_NAME, BUS_PATH, which);
        *ret = b;
        return 0;
}
