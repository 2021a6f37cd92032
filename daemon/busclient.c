/* busclient.c — sekishoctl's side of the bus: blocking method calls, status printing and the signal monitor. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "bus.h"
#include "busclient.h"
#include "util.h"

/* Admin calls may wait for a person to authenticate to polkit. */
#define INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)

static void err_clear(struct busclient_error *err) {
        if (err)
                err->name[0] = err->message[0] = '\0';
}

static void err_set(struct busclient_error *err, const char *name, const char *fmt, ...) _printf_(3, 4);
static void err_set(struct busclient_error *err, const char *name, const char *fmt, ...) {
        if (!err)
                return;
        snprintf(err->name, sizeof err->name, "%s", name ? name : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
}

enum refusal busclient_refusal(const char *error_name) {
        if (!error_name)
                return REFUSE_NONE;
        for (int r = REFUSE_NONE + 1; r < _REFUSE_MAX; r++) {
                const struct refusal_info *ri = refusal_info((enum refusal)r);
                if (ri && ri->dbus_error && strcmp(ri->dbus_error, error_name) == 0)
                        return (enum refusal)r;
        }
        return REFUSE_NONE;
}

static int errno_from_name(const char *name) {
        static const struct {
                const char *name;
                int r;
        } map[] = {
                { DBUS_ERROR_SERVICE_UNKNOWN, -ESRCH },
                { DBUS_ERROR_NAME_HAS_NO_OWNER, -ESRCH },
                { DBUS_ERROR_ACCESS_DENIED, -EACCES },
                { DBUS_ERROR_AUTH_FAILED, -EACCES },
                { DBUS_ERROR_NO_REPLY, -ETIMEDOUT },
                { DBUS_ERROR_TIMEOUT, -ETIMEDOUT },
                { DBUS_ERROR_TIMED_OUT, -ETIMEDOUT },
                { DBUS_ERROR_DISCONNECTED, -ECONNRESET },
                { DBUS_ERROR_NO_SERVER, -ECONNREFUSED },
                { DBUS_ERROR_INVALID_ARGS, -EINVAL },
                { DBUS_ERROR_NO_MEMORY, -ENOMEM },
                { DBUS_ERROR_LIMITS_EXCEEDED, -E2BIG },
                { DBUS_ERROR_NOT_SUPPORTED, -EOPNOTSUPP },
                { BUS_ERROR_PREFIX "NotFound", -ENOENT },
                { BUS_ERROR_PREFIX "AlreadyExists", -EEXIST },
                { BUS_ERROR_PREFIX "Busy", -EBUSY },
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (strcmp(map[i].name, name) == 0)
                        return map[i].r;
        if (busclient_refusal(name) != REFUSE_NONE)
                return -EBADE;
        return -EIO;
}

/* Turn a DBusError into -errno and err, with a plain message when the daemon is not there. */
static int take_error(DBusError *e, struct busclient_error *err) {
        int r = errno_from_name(e->name ? e->name : "");
        if (r == -ESRCH)
                err_set(err, e->name, "sekishod is not running (%s is not on the bus)", BUS_NAME);
        else
                err_set(err, e->name, "%s", e->message ? e->message : e->name);
        dbus_error_free(e);
        return r;
}

int busclient_open(enum bus_kind kind, DBusConnection **ret, struct busclient_error *err) {
        err_clear(err);
        if (kind != BUS_SYSTEM && kind != BUS_SESSION) {
                err_set(err, DBUS_ERROR_INVALID_ARGS, "no bus selected");
                return -EINVAL;
        }
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c = dbus_bus_get_private(kind == BUS_SYSTEM ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION, &e);
        if (!c) {
                int r = errno_from_name(e.name ? e.name : "");
                err_set(err, e.name, "cannot connect to the %s bus: %s", kind == BUS_SYSTEM ? "system" : "session",
                        e.message ? e.message : "unknown error");
                dbus_error_free(&e);
                return r == -EIO || r == -ESRCH ? -ECONNREFUSED : r;
        }
        dbus_connection_set_exit_on_disconnect(c, FALSE);
        *ret = c;
        return 0;
}

DBusConnection *busclient_close(DBusConnection *c) {
        if (c) {
                dbus_connection_close(c);
                dbus_connection_unref(c);
        }
        return NULL;
}

static DBusMessage *new_call(const char *iface, const char *member) {
        return dbus_message_new_method_call(BUS_NAME, BUS_PATH, iface, member);
}

/* Send and wait. Admin calls let polkit ask the person when there is a terminal to ask on. */
static int call(DBusConnection *c, DBusMessage *m, bool admin, DBusMessage **ret_reply, struct busclient_error *err) {
        int timeout = DBUS_TIMEOUT_USE_DEFAULT;
        if (admin && isatty(STDIN_FILENO)) {
                dbus_message_set_allow_interactive_authorization(m, TRUE);
                timeout = INTERACTIVE_TIMEOUT_MS;
        }
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(c, m, timeout, &e);
        dbus_message_unref(m);
        if (!reply)
                return take_error(&e, err);
        if (ret_reply)
                *ret_reply = reply;
        else
                dbus_message_unref(reply);
        return 0;
}

int busclient_apply(DBusConnection *c, const char *data, size_t size, const char *sig, size_t sig_size,
                    const char *name, uint64_t *ret_serial, struct busclient_error *err) {
        err_clear(err);
        if (size > INT32_MAX / 2 || sig_size > INT32_MAX / 2) {
                err_set(err, DBUS_ERROR_LIMITS_EXCEEDED, "file too large to send");
                return -E2BIG;
        }
        DBusMessage *m = new_call(BUS_IFACE, "ApplyPolicy");
        int n = (int)size, ns = (int)sig_size;
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &data, n, DBUS_TYPE_ARRAY,
                                            DBUS_TYPE_BYTE, &sig, ns, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                err_set(err, DBUS_ERROR_NO_MEMORY, "out of memory");
                return -ENOMEM;
        }
        DBusMessage *reply = NULL;
        int r = call(c, m, true, &reply, err);
        if (r < 0)
                return r;
        dbus_uint64_t serial = 0;
        DBusError e = DBUS_ERROR_INIT;
        if (!dbus_message_get_args(reply, &e, DBUS_TYPE_UINT64, &serial, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                err_set(err, DBUS_ERROR_INVALID_SIGNATURE, "unexpected reply from sekishod: %s", e.message);
                dbus_error_free(&e);
                return -EIO;
        }
        dbus_message_unref(reply);
        if (ret_serial)
                *ret_serial = serial;
        return 0;
}

int busclient_set_profile(DBusConnection *c, const char *profile, bool active, const char *reason,
                          struct busclient_error *err) {
        err_clear(err);
        DBusMessage *m = new_call(BUS_IFACE, "SetProfile");
        dbus_bool_t a = active;
        if (!reason)
                reason = "";
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &profile, DBUS_TYPE_BOOLEAN, &a, DBUS_TYPE_STRING,
                                            &reason, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                err_set(err, DBUS_ERROR_NO_MEMORY, "out of memory");
                return -ENOMEM;
        }
        return call(c, m, true, NULL, err);
}

int busclient_reload(DBusConnection *c, struct busclient_error *err) {
        err_clear(err);
        DBusMessage *m = new_call(BUS_IFACE, "Reload");
        if (!m) {
                err_set(err, DBUS_ERROR_NO_MEMORY, "out of memory");
                return -ENOMEM;
        }
        return call(c, m, true, NULL, err);
}

int busclient_plugin_call(DBusConnection *c, const char *member, char *ret, size_t ret_size,
                          struct busclient_error *err) {
        err_clear(err);
        DBusMessage *m = new_call(BUS_IFACE, member), *reply = NULL;
        if (!m) {
                err_set(err, DBUS_ERROR_NO_MEMORY, "out of memory");
                return -ENOMEM;
        }
        int r = call(c, m, true, &reply, err);
        if (r < 0)
                return r;
        const char *s = NULL;
        DBusError e = DBUS_ERROR_INIT;
        if (!dbus_message_get_args(reply, &e, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                return take_error(&e, err);
        }
        snprintf(ret, ret_size, "%s", s);
        dbus_message_unref(reply);
        return 0;
}

/* ---- printing ---- */

/* Text for a terminal: C0/C1 control characters and DEL become '?', so a
 * device name cannot move the cursor or rewrite the admin's screen. */
static void put_clean(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        fputc('?', f);
                else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        fputc('?', f);
                        p++;
                } else
                        fputc(*p, f);
        }
}

/* A value printed as key=value: quoted when it has spaces or is empty. */
static void put_value(FILE *f, const char *s) {
        if (!s[0] || strpbrk(s, " \"=")) {
                fputc('"', f);
                for (const char *p = s; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                fputc('\\', f);
                        char one[2] = { *p, 0 };
                        put_clean(f, one);
                }
                fputc('"', f);
        } else
                put_clean(f, s);
}

/* Iterate an a{ss} at it, calling fn for each pair; stops at anything else. */
static void each_ss(DBusMessageIter *it, void (*fn)(const char *k, const char *v, void *ud), void *ud) {
        if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(it) != DBUS_TYPE_DICT_ENTRY)
                return;
        DBusMessageIter a, e;
        dbus_message_iter_recurse(it, &a);
        for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&a)) {
                const char *k, *v;
                dbus_message_iter_recurse(&a, &e);
                if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
                        continue;
                dbus_message_iter_get_basic(&e, &k);
                if (!dbus_message_iter_next(&e) || dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
                        continue;
                dbus_message_iter_get_basic(&e, &v);
                fn(k, v, ud);
        }
}

struct json_ctx {
        FILE *f;
        bool first;
};

static void print_kv_json(const char *k, const char *v, void *ud) {
        struct json_ctx *j = ud;
        if (!j->first)
                fputc(',', j->f);
        j->first = false;
        json_write_string(j->f, k);
        fputc(':', j->f);
        json_write_string(j->f, v);
}

static void print_kv_text(const char *k, const char *v, void *ud) {
        FILE *f = ud;
        fputc(' ', f);
        put_clean(f, k);
        fputc('=', f);
        put_value(f, v);
}

struct status {
        const char *version, *state, *source, *policy_state, *freshness;
        dbus_uint64_t serial;
        dbus_int64_t expires;
        const char *trust;
        DBusMessageIter profiles, plugins, refused; /* valid when the has_* flag is set */
        bool has_profiles, has_plugins, has_refused;
};

static void read_string(DBusMessageIter *v, const char **ret) {
        if (dbus_message_iter_get_arg_type(v) == DBUS_TYPE_STRING)
                dbus_message_iter_get_basic(v, ret);
}

static void status_read(DBusMessageIter *dict, struct status *st) {
        DBusMessageIter a, e, v;
        dbus_message_iter_recurse(dict, &a);
        for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&a)) {
                const char *name;
                dbus_message_iter_recurse(&a, &e);
                if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING)
                        continue;
                dbus_message_iter_get_basic(&e, &name);
                if (!dbus_message_iter_next(&e) || dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_VARIANT)
                        continue;
                dbus_message_iter_recurse(&e, &v);
                int t = dbus_message_iter_get_arg_type(&v);
                if (strcmp(name, "Version") == 0)
                        read_string(&v, &st->version);
                else if (strcmp(name, "State") == 0)
                        read_string(&v, &st->state);
                else if (strcmp(name, "PolicySource") == 0)
                        read_string(&v, &st->source);
                else if (strcmp(name, "PolicyState") == 0)
                        read_string(&v, &st->policy_state);
                else if (strcmp(name, "Freshness") == 0)
                        read_string(&v, &st->freshness);
                else if (strcmp(name, "Trust") == 0)
                        read_string(&v, &st->trust);
                else if (strcmp(name, "TrustRefused") == 0 && t == DBUS_TYPE_ARRAY &&
                         dbus_message_iter_get_element_type(&v) == DBUS_TYPE_STRING) {
                        st->refused = v;
                        st->has_refused = true;
                } else if (strcmp(name, "PolicySerial") == 0 && t == DBUS_TYPE_UINT64)
                        dbus_message_iter_get_basic(&v, &st->serial);
                else if (strcmp(name, "PolicyExpires") == 0 && t == DBUS_TYPE_INT64)
                        dbus_message_iter_get_basic(&v, &st->expires);
                else if (strcmp(name, "ActiveProfiles") == 0 && t == DBUS_TYPE_ARRAY &&
                         dbus_message_iter_get_element_type(&v) == DBUS_TYPE_STRING) {
                        st->profiles = v;
                        st->has_profiles = true;
                } else if (strcmp(name, "Plugins") == 0 && t == DBUS_TYPE_ARRAY &&
                           dbus_message_iter_get_element_type(&v) == DBUS_TYPE_STRUCT) {
                        st->plugins = v;
                        st->has_plugins = true;
                }
        }
}

/* Each plugin (name, state, details) in the Plugins array. */
struct plugin_row {
        const char *name, *state;
        DBusMessageIter details;
};

static bool next_plugin(DBusMessageIter *a, struct plugin_row *row) {
        while (dbus_message_iter_get_arg_type(a) == DBUS_TYPE_STRUCT) {
                DBusMessageIter s;
                dbus_message_iter_recurse(a, &s);
                dbus_message_iter_next(a);
                row->name = row->state = NULL;
                read_string(&s, &row->name);
                if (!dbus_message_iter_next(&s))
                        continue;
                read_string(&s, &row->state);
                if (!dbus_message_iter_next(&s) || !row->name || !row->state)
                        continue;
                row->details = s;
                return true;
        }
        return false;
}

static void status_print_json(FILE *f, struct status *st) {
        fputs("{\"version\":", f);
        json_write_string(f, st->version);
        fputs(",\"state\":", f);
        json_write_string(f, st->state);
        fprintf(f, ",\"policy\":{\"serial\":%" PRIu64 ",\"source\":", (uint64_t)st->serial);
        json_write_string(f, st->source);
        fputs(",\"state\":", f);
        json_write_string(f, st->policy_state);
        /* The same shape as the status.json the daemon keeps. */
        fprintf(f, ",\"expires\":%" PRId64 "},\"profiles\":[", (int64_t)st->expires);
        if (st->has_profiles) {
                DBusMessageIter a;
                bool first = true;
                for (dbus_message_iter_recurse(&st->profiles, &a);
                     dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING; dbus_message_iter_next(&a)) {
                        const char *p;
                        dbus_message_iter_get_basic(&a, &p);
                        if (!first)
                                fputc(',', f);
                        first = false;
                        json_write_string(f, p);
                }
        }
        fputs("],\"freshness\":", f);
        json_write_string(f, st->freshness);
        fputs(",\"trust\":", f);
        json_write_string(f, st->trust ? st->trust : "");
        fputs(",\"trust-refused\":[", f);
        if (st->has_refused) {
                DBusMessageIter a;
                bool first = true;
                for (dbus_message_iter_recurse(&st->refused, &a); dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING;
                     dbus_message_iter_next(&a)) {
                        const char *p;
                        dbus_message_iter_get_basic(&a, &p);
                        if (!first)
                                fputc(',', f);
                        first = false;
                        json_write_string(f, p);
                }
        }
        fputs("],\"plugins\":[", f);
        if (st->has_plugins) {
                DBusMessageIter a;
                struct plugin_row row;
                bool first = true;
                dbus_message_iter_recurse(&st->plugins, &a);
                while (next_plugin(&a, &row)) {
                        if (!first)
                                fputc(',', f);
                        first = false;
                        fputs("{\"name\":", f);
                        json_write_string(f, row.name);
                        fputs(",\"state\":", f);
                        json_write_string(f, row.state);
                        fputs(",\"details\":{", f);
                        struct json_ctx j = { f, true };
                        each_ss(&row.details, print_kv_json, &j);
                        fputs("}}", f);
                }
        }
        fputs("]}\n", f);
}

static void status_print_text(FILE *f, struct status *st) {
        fputs("sekishod ", f);
        put_clean(f, st->version);
        fputs(": ", f);
        put_clean(f, st->state);
        fprintf(f, "\nPolicy:   serial %" PRIu64 " (", (uint64_t)st->serial);
        put_clean(f, st->source);
        fputs(", ", f);
        put_clean(f, st->policy_state);
        fputc(')', f);
        if (st->expires) {
                char t[32];
                format_rfc3339(st->expires, t);
                fprintf(f, ", expires %s", t);
        }
        fputs("\nFreshness: ", f);
        put_clean(f, st->freshness);
        fputs("\nProfiles:", f);
        bool any = false;
        if (st->has_profiles) {
                DBusMessageIter a;
                for (dbus_message_iter_recurse(&st->profiles, &a);
                     dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING; dbus_message_iter_next(&a)) {
                        const char *p;
                        dbus_message_iter_get_basic(&a, &p);
                        fputc(' ', f);
                        put_clean(f, p);
                        any = true;
                }
        }
        fputs(any ? "\nTrust:    " : " (none)\nTrust:    ", f);
        put_clean(f, st->trust ? st->trust : "?");
        if (st->has_refused) {
                DBusMessageIter a;
                for (dbus_message_iter_recurse(&st->refused, &a); dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING;
                     dbus_message_iter_next(&a)) {
                        const char *p;
                        dbus_message_iter_get_basic(&a, &p);
                        fputs("\n  REFUSED: ", f);
                        put_clean(f, p);
                }
        }
        fputs("\nPlugins:\n", f);
        if (st->has_plugins) {
                DBusMessageIter a;
                struct plugin_row row;
                dbus_message_iter_recurse(&st->plugins, &a);
                while (next_plugin(&a, &row)) {
                        fputs("  ", f);
                        put_clean(f, row.name);
                        for (size_t n = strlen(row.name); n < 10; n++)
                                fputc(' ', f);
                        fputc(' ', f);
                        put_clean(f, row.state);
                        for (size_t n = strlen(row.state); n < 10; n++)
                                fputc(' ', f);
                        each_ss(&row.details, print_kv_text, f);
                        fputc('\n', f);
                }
        }
}

int busclient_status(DBusConnection *c, FILE *out, bool json, struct busclient_error *err) {
        err_clear(err);
        DBusMessage *m = new_call(DBUS_INTERFACE_PROPERTIES, "GetAll");
        const char *iface = BUS_IFACE;
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                err_set(err, DBUS_ERROR_NO_MEMORY, "out of memory");
                return -ENOMEM;
        }
        DBusMessage *reply = NULL;
        int r = call(c, m, false, &reply, err);
        if (r < 0)
                return r;
        DBusMessageIter it;
        if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(&it) != DBUS_TYPE_DICT_ENTRY) {
                dbus_message_unref(reply);
                err_set(err, DBUS_ERROR_INVALID_SIGNATURE, "unexpected reply from sekishod");
                return -EIO;
        }
        struct status st = { .version = "?", .state = "?", .source = "?", .policy_state = "?", .freshness = "?" };
        status_read(&it, &st);
        if (json)
                status_print_json(out, &st);
        else
                status_print_text(out, &st);
        dbus_message_unref(reply);
        return fflush(out) == 0 ? 0 : -errno;
}

/* ---- monitor ---- */

int busclient_monitor_start(DBusConnection *c, struct busclient_error *err) {
        static const char *const rules[] = {
                "type='signal',sender='" BUS_NAME "',path='" BUS_PATH "',interface='" BUS_IFACE "'",
                "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS
                "',member='NameOwnerChanged',arg0='" BUS_NAME "'",
        };
        err_clear(err);
        for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
                DBusError e = DBUS_ERROR_INIT;
                dbus_bus_add_match(c, rules[i], &e);
                if (dbus_error_is_set(&e))
                        return take_error(&e, err);
        }
        return 0;
}

static void print_signal(FILE *f, DBusMessage *m, bool json) {
        char now[32];
        format_rfc3339(now_unix(), now);
        const char *member = dbus_message_get_member(m);
        DBusMessageIter it;
        bool has_args = dbus_message_iter_init(m, &it);
        if (json) {
                fprintf(f, "{\"time\":\"%s\",\"signal\":", now);
                json_write_string(f, member);
                fputs(",\"fields\":{", f);
                struct json_ctx j = { f, true };
                if (has_args)
                        each_ss(&it, print_kv_json, &j);
                fputs("}}\n", f);
        } else {
                fprintf(f, "%s ", now);
                put_clean(f, member);
                if (has_args)
                        each_ss(&it, print_kv_text, f);
                fputc('\n', f);
        }
}

static void print_owner_change(FILE *f, DBusMessage *m, bool json) {
        const char *name, *old_owner, *new_owner;
        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner, DBUS_TYPE_STRING,
                                   &new_owner, DBUS_TYPE_INVALID))
                return;
        char now[32];
        format_rfc3339(now_unix(), now);
        const char *what = new_owner[0] ? "started" : "stopped";
        if (json)
                fprintf(f, "{\"time\":\"%s\",\"daemon\":\"%s\"}\n", now, what);
        else
                fprintf(f, "%s -- sekishod %s\n", now, what);
}

int busclient_monitor(DBusConnection *c, FILE *out, bool json, unsigned max, struct busclient_error *err) {
        int r = busclient_monitor_start(c, err);
        if (r < 0)
                return r;
        unsigned seen = 0;
        for (;;) {
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        if (dbus_message_is_signal(m, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                                dbus_message_unref(m);
                                err_set(err, DBUS_ERROR_DISCONNECTED, "lost the connection to the bus");
                                return -ECONNRESET;
                        }
                        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
                                print_owner_change(out, m, json);
                                seen++;
                        } else if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_SIGNAL &&
                                 dbus_message_has_interface(m, BUS_IFACE) && dbus_message_has_path(m, BUS_PATH)) {
                                print_signal(out, m, json);
                                seen++;
                        }
                        dbus_message_unref(m);
                        fflush(out);
                        if (max && seen >= max)
                                return 0;
                }
                if (!dbus_connection_read_write(c, -1)) {
                        err_set(err, DBUS_ERROR_DISCONNECTED, "lost the connection to the bus");
                        return -ECONNRESET;
                }
        }
}
