/* sekisho-notify.c — the per-user agent: sekishod's D-Bus signals become desktop notifications, in the user's language. */
#include "config.h"

#include <dbus/dbus.h>
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "util.h"

#define _(s) gettext(s)
#define N_(s) (s)

#define FIELD_MAX 64          /* fields kept from one signal */
#define VALUE_SHOWN_MAX 200   /* bytes of one value shown to the person */
#define NOTIFY_TIMEOUT_MS 10000

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

enum urgency { URGENCY_LOW = 0, URGENCY_NORMAL = 1, URGENCY_CRITICAL = 2 };

struct agent {
        DBusConnection *sig;        /* where sekishod is (system bus; session for tests) */
        DBusConnection *notify;     /* the user's session bus */
        char owner[256];            /* unique name owning org.sekisho.Sekisho1, "" if none */
        bool quarantine, travel;    /* profiles active as last seen */
        bool show_allowed;
        unsigned long shown, ignored;
};

/* The fields of one signal: a{ss}, bounded, values cut for display at a character boundary. */
struct fields {
        const char *k[FIELD_MAX], *v[FIELD_MAX];
        size_t n;
};

static const char *field(const struct fields *f, const char *k) {
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->k[i], k) == 0)
                        return f->v[i];
        return NULL;
}

/* A value as shown: control characters become spaces, at most VALUE_SHOWN_MAX bytes, never a cut character. */
static void shown(const char *v, char *out, size_t size) {
        size_t o = 0, max = size - 1 < VALUE_SHOWN_MAX ? size - 1 : VALUE_SHOWN_MAX;
        for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p && o < max; p++) {
                if (*p >= 0x80 && (*p & 0xc0) == 0xc0) {   /* lead byte: copy the whole character or stop */
                        size_t n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
                        if (o + n > max)
                                break;
                }
                out[o++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
        }
        out[o] = '\0';
}

/* Read the single a{ss} argument. false (with the reason) for anything else. */
static bool read_fields(DBusMessage *m, struct fields *f, const char **why) {
        DBusMessageIter it, a, e;
        f->n = 0;
        if (!dbus_message_iter_init(m, &it)) {
                *why = "no arguments";
                return false;
        }
        if (dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(&it) != DBUS_TYPE_DICT_ENTRY) {
                *why = "the argument is not a dictionary";
                return false;
        }
        dbus_message_iter_recurse(&it, &a);
        for (; dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&a)) {
                const char *k, *v;
                dbus_message_iter_recurse(&a, &e);
                if (dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING) {
                        *why = "a key is not a string";
                        return false;
                }
                dbus_message_iter_get_basic(&e, &k);
                if (!dbus_message_iter_next(&e) || dbus_message_iter_get_arg_type(&e) != DBUS_TYPE_STRING) {
                        *why = "a value is not a string (expected a{ss})";
                        return false;
                }
                dbus_message_iter_get_basic(&e, &v);
                /* libdbus and the bus validate UTF-8; check again: the text goes to the screen. */
                if (!string_is_clean_utf8(k, strlen(k)) || !dbus_validate_utf8(v, NULL)) {
                        *why = "a field is not valid UTF-8";
                        return false;
                }
                if (f->n == FIELD_MAX) {
                        *why = "too many fields";
                        return false;
                }
                f->k[f->n] = k;
                f->v[f->n++] = v;
        }
        if (dbus_message_iter_next(&it)) {
                *why = "more than one argument";
                return false;
        }
        return true;
}

/* ---- notifications ---- */

static void notify(struct agent *ag, enum urgency u, const char *category, const char *summary, const char *fmt, ...)
        _printf_(5, 6);
static void notify(struct agent *ag, enum urgency u, const char *category, const char *summary, const char *fmt, ...) {
        char body[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        DBusMessage *m = dbus_message_new_method_call(NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify");
        if (!m)
                return;
        const char *app = "sekisho", *icon = u == URGENCY_CRITICAL ? "dialog-warning" : "dialog-information";
        const char *b = body, *entry = "sekisho-notify";
        dbus_uint32_t replaces = 0;
        dbus_int32_t timeout = -1;
        unsigned char urg = (unsigned char)u;
        DBusMessageIter it, arr, d, v;
        dbus_message_iter_init_append(m, &it);
        bool ok = dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &app) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &replaces) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &icon) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &summary) &&
                  dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &b) &&
                  dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr) &&
                  dbus_message_iter_close_container(&it, &arr) &&
                  dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
        const char *kurg = "urgency", *kcat = "category", *kent = "desktop-entry";
        ok = ok && dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &d) &&
             dbus_message_iter_append_basic(&d, DBUS_TYPE_STRING, &kurg) &&
             dbus_message_iter_open_container(&d, DBUS_TYPE_VARIANT, "y", &v) &&
             dbus_message_iter_append_basic(&v, DBUS_TYPE_BYTE, &urg) && dbus_message_iter_close_container(&d, &v) &&
             dbus_message_iter_close_container(&arr, &d);
        ok = ok && dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &d) &&
             dbus_message_iter_append_basic(&d, DBUS_TYPE_STRING, &kcat) &&
             dbus_message_iter_open_container(&d, DBUS_TYPE_VARIANT, "s", &v) &&
             dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &category) &&
             dbus_message_iter_close_container(&d, &v) && dbus_message_iter_close_container(&arr, &d);
        ok = ok && dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &d) &&
             dbus_message_iter_append_basic(&d, DBUS_TYPE_STRING, &kent) &&
             dbus_message_iter_open_container(&d, DBUS_TYPE_VARIANT, "s", &v) &&
             dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &entry) &&
             dbus_message_iter_close_container(&d, &v) && dbus_message_iter_close_container(&arr, &d);
        ok = ok && dbus_message_iter_close_container(&it, &arr) &&
             dbus_message_iter_append_basic(&it, DBUS_TYPE_INT32, &timeout);
        if (!ok) {
                dbus_message_unref(m);
                log_error("Out of memory building a notification");
                return;
        }
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(ag->notify, m, NOTIFY_TIMEOUT_MS, &e);
        dbus_message_unref(m);
        if (!reply) {
                /* Still say it somewhere the person or the admin may see. */
                log_warning("No notification server took \"%s\" (%s): %s", summary, e.name, body);
                dbus_error_free(&e);
                return;
        }
        dbus_message_unref(reply);
        ag->shown++;
        log_info("Notified: %s", summary);
}

/* ---- the daemon's profiles ---- */

/* ActiveProfiles from the daemon; false if it could not be read. */
static bool read_profiles(struct agent *ag, bool *quarantine, bool *travel) {
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, DBUS_INTERFACE_PROPERTIES, "Get");
        const char *iface = BUS_IFACE, *prop = "ActiveProfiles";
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                return false;
        }
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(ag->sig, m, NOTIFY_TIMEOUT_MS, &e);
        dbus_message_unref(m);
        if (!reply) {
                dbus_error_free(&e);
                return false;
        }
        DBusMessageIter it, v, a;
        bool ok = dbus_message_iter_init(reply, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_VARIANT;
        if (ok) {
                dbus_message_iter_recurse(&it, &v);
                ok = dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_ARRAY &&
                     dbus_message_iter_get_element_type(&v) == DBUS_TYPE_STRING;
        }
        *quarantine = *travel = false;
        if (ok)
                for (dbus_message_iter_recurse(&v, &a); dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_STRING;
                     dbus_message_iter_next(&a)) {
                        const char *p;
                        dbus_message_iter_get_basic(&a, &p);
                        *quarantine |= strcmp(p, "quarantine") == 0;
                        *travel |= strcmp(p, "travel") == 0;
                }
        dbus_message_unref(reply);
        return ok;
}

/* ---- signal handlers: what happened, why, and what to do ---- */

static void on_device_blocked(struct agent *ag, const struct fields *f) {
        char name[256], dev[256], rule[256], code[16], text[1024], unlock[512] = "";
        shown(field(f, "name"), name, sizeof name);
        shown(field(f, "device"), dev, sizeof dev);
        shown(field(f, "rule"), rule, sizeof rule);
        shown(field(f, "device-code"), code, sizeof code);
        const char *iface = field(f, "interface");
        snprintf(text, sizeof text,
                 _("The USB device \"%s\" (%s) is not allowed on this terminal by the security policy (%s). "
                   "Keyboards, mice and IC card readers keep working. If you need this device for your work, "
                   "ask your information security officer; do not try other ports."),
                 name[0] ? name : _("unnamed"), dev, rule);
        if (code[0] && !(iface && iface[0]))
                snprintf(unlock, sizeof unlock,
                         _("If the officer cannot reach this terminal over the network, give them the device code "
                           "%s and this terminal's name, and type the unlock code you get: sekishoctl usb unlock CODE"),
                         code);
        notify(ag, URGENCY_NORMAL, "device",
               iface && iface[0] ? _("Part of a USB device was blocked") : _("USB device blocked"), "%s%s%s", text,
               unlock[0] ? "\n\n" : "", unlock);
}

/* A mass-storage device (interface class 08). */
static bool is_stick(const struct fields *f) {
        const char *ifs = field(f, "interfaces");
        return ifs && (strncmp(ifs, "08:", 3) == 0 || strstr(ifs, " 08:"));
}

static void on_device_allowed(struct agent *ag, const struct fields *f) {
        char name[256], dev[256];
        shown(field(f, "name"), name, sizeof name);
        shown(field(f, "device"), dev, sizeof dev);
        const char *ro = field(f, "read-only");
        if (ro && strcmp(ro, "yes") == 0)
                notify(ag, URGENCY_NORMAL, "device", _("USB stick allowed for reading only"),
                       _("The USB stick \"%s\" (%s) is approved for reading only: files on it can be opened, but "
                         "nothing can be saved to it."),
                       name[0] ? name : _("unnamed"), dev);
        else if (is_stick(f))
                notify(ag, URGENCY_LOW, "device", _("USB stick allowed"),
                       _("The USB stick \"%s\" (%s) may be used. The name and size of every file saved to it are "
                         "recorded in this terminal's audit log."),
                       name[0] ? name : _("unnamed"), dev);
        else
                notify(ag, URGENCY_LOW, "device", _("USB device allowed"), _("The USB device \"%s\" (%s) may be used."),
                       name[0] ? name : _("unnamed"), dev);
}

static void on_client_stopped(struct agent *ag, const struct fields *f) {
        char client[256], option[256];
        shown(field(f, "client"), client, sizeof client);
        shown(field(f, "option"), option, sizeof option);
        notify(ag, URGENCY_CRITICAL, "device",
               _("Remote desktop client stopped"),
               _("%s was stopped because it was started with %s: redirecting the clipboard, drives, printers or "
                 "devices to the virtual desktop is forbidden by the security policy. Start it again without that "
                 "setting. Print and scan from the virtual desktop over the network."),
               client, option);
}

static void on_posture_changed(struct agent *ag, const struct fields *f) {
        const char *compliant = field(f, "compliant"), *notify_flag = field(f, "notify");
        if (notify_flag && strcmp(notify_flag, "false") == 0)
                return;   /* the policy only reports: nothing for the person to do */
        char failed[256];
        shown(field(f, "failed"), failed, sizeof failed);
        const char *action = field(f, "action");
        if (strcmp(compliant, "true") == 0) {
                notify(ag, URGENCY_LOW, "network", _("Security check passed"),
                       _("This terminal meets the security conditions again."));
                return;
        }
        bool q = action && strncmp(action, "quarantine", 10) == 0;
        notify(ag, URGENCY_CRITICAL, "network", _("This terminal does not meet the security conditions"),
               "%s %s",
               failed[0] ? failed : _("(no details)"),
               q ? _("It will be kept off the office network (quarantine) until this is fixed. Run "
                     "'sekishoctl posture' to see how to fix each item (apt, dnf, flatpak, snap or the file "
                     "to delete), then 'sekishoctl posture recheck'. Ask your information security officer if "
                     "you need help.")
                 : _("Run 'sekishoctl posture' to see how to fix each item (apt, dnf, flatpak, snap or the file "
                     "to delete), then 'sekishoctl posture recheck'. Ask your information security officer if "
                     "you need help."));
}

static void on_profile_changed(struct agent *ag, const struct fields *f) {
        const char *profile = field(f, "profile");
        if (strcmp(profile, "quarantine") != 0 && strcmp(profile, "travel") != 0)
                return;
        bool q, t;
        if (!read_profiles(ag, &q, &t)) {
                log_warning("ProfileChanged for %s, but the active profiles could not be read", profile);
                return;
        }
        char reason[256];
        shown(field(f, "reason"), reason, sizeof reason);
        if (q != ag->quarantine)
                notify(ag, q ? URGENCY_CRITICAL : URGENCY_NORMAL, "network",
                       q ? _("Quarantine: office network cut off") : _("Quarantine lifted"),
                       "%s%s%s",
                       q ? _("This terminal may only reach the servers that can repair it until it meets the security "
                             "conditions again. Save your work locally and contact your information security officer.")
                         : _("This terminal may use the office network again."),
                       reason[0] ? " — " : "", reason);
        if (t != ag->travel)
                notify(ag, URGENCY_NORMAL, "device",
                       t ? _("Travel mode: USB ports disabled") : _("Travel mode ended"),
                       "%s%s%s",
                       t ? _("This terminal is in a high-risk travel mode: USB devices other than keyboards and mice "
                             "are blocked. Keep the terminal with you at all times.")
                         : _("The travel restrictions of this terminal were lifted."),
                       reason[0] ? " — " : "", reason);
        ag->quarantine = q;
        ag->travel = t;
}

static void on_policy_refused(struct agent *ag, const struct fields *f) {
        char file[256], reason[256];
        shown(field(f, "file"), file, sizeof file);
        shown(field(f, "reason"), reason, sizeof reason);
        notify(ag, URGENCY_LOW, "system", _("Security policy update refused"),
               _("The policy update %s was refused (%s). The current policy stays in force; nothing for you to do."),
               file, reason);
}

static void on_travel_state(struct agent *ag, const struct fields *f) {
        const char *to = field(f, "to");
        if (!to)
                return;   /* a step of the reset, for the audit log */
        char dest[256], deadline[64];
        shown(field(f, "destination"), dest, sizeof dest);
        shown(field(f, "deadline"), deadline, sizeof deadline);
        if (strcmp(to, "travelling") == 0)
                notify(ag, URGENCY_NORMAL, "device", _("Trip started"),
                       _("Travel to %s: the security restrictions for travel are in force. Keep the terminal with you "
                         "at all times."), dest[0] ? dest : "?");
        else if (strcmp(to, "returned") == 0)
                notify(ag, URGENCY_NORMAL, "device", _("Welcome back"),
                       _("The trip has ended. The terminal is checked before it reconnects to the office network."));
        else if (strcmp(to, "reset-pending") == 0)
                notify(ag, URGENCY_CRITICAL, "device", _("Factory reset scheduled"),
                       _("This terminal returned from a high-risk region and will be locked and reset to factory state "
                         "at %s. Everything on it will be deleted. Save your work to the server now."),
                       deadline[0] ? deadline : "?");
        else if (strcmp(to, "reset-done") == 0)
                notify(ag, URGENCY_NORMAL, "device", _("Factory reset done"),
                       _("The terminal was reset to factory state."));
}

/* The travel plugin's reminders before the reset (an hour, ten minutes left). */
static void on_travel_notice(struct agent *ag, const struct fields *f) {
        const char *kind = field(f, "kind");
        if (strcmp(kind, "reset-scheduled") != 0)
                return;   /* weak signals and clock notes are for the audit log */
        char deadline[64], contact[256], left[128], call[384] = "";
        shown(field(f, "deadline"), deadline, sizeof deadline);
        shown(field(f, "contact"), contact, sizeof contact);
        uint64_t secs = 0;
        const char *sl = field(f, "seconds-left");
        if (!sl || parse_u64(sl, &secs) < 0)
                secs = 0;
        snprintf(left, sizeof left, _("%llu h %llu min"), (unsigned long long)(secs / 3600),
                 (unsigned long long)(secs % 3600 / 60));
        if (contact[0])
                snprintf(call, sizeof call, _(" Questions: call %s."), contact);
        notify(ag, URGENCY_CRITICAL, "device", _("Factory reset scheduled"),
               _("This terminal returned from a high-risk region and will be locked and reset to factory state "
                 "at %s, in %s. Everything on it will be deleted. Save your work to the server now.%s"),
               deadline[0] ? deadline : "?", left, call);
}

/* The repository's timestamps (freshness.c): the policy cannot be confirmed current, its stale profile applies, or both are over. */
static void on_freshness_notice(struct agent *ag, const struct fields *f) {
        const char *kind = field(f, "kind");
        char until[64], due[64], profile[128];
        shown(field(f, "confirmed-until"), until, sizeof until);
        shown(field(f, "due"), due, sizeof due);
        shown(field(f, "profile"), profile, sizeof profile);
        if (strcmp(kind, "stale") == 0) {
                char later[256] = "";
                if (due[0])
                        snprintf(later, sizeof later, _(" Stricter restrictions apply from %s."), due);
                notify(ag, URGENCY_NORMAL, "system", _("Security policy not confirmed"),
                       _("This terminal could not confirm with the policy server that its security policy is current "
                         "(confirmed until %s). The current policy stays in force. Connect to the office network; if "
                         "this message stays, contact your information security officer.%s"),
                       until[0] ? until : _("never"), later);
        } else if (strcmp(kind, "profile") == 0)
                notify(ag, URGENCY_CRITICAL, "system", _("Stricter restrictions: security policy not confirmed"),
                       _("This terminal's security policy could not be confirmed as current, so the stricter "
                         "restrictions the policy sets for this case now apply (profile %s; for example, USB storage "
                         "may be blocked). Connect to the office network so the terminal gets the current policy, and "
                         "contact your information security officer."),
                       profile[0] ? profile : "?");
        else if (strcmp(kind, "fresh") == 0)
                notify(ag, URGENCY_LOW, "system", _("Security policy confirmed"),
                       _("The security policy of this terminal is confirmed current again; the restrictions for an "
                         "unconfirmed policy were lifted."));
}

static void on_traffic_blocked(struct agent *ag, const struct fields *f) {
        char dst[128], cls[64];
        shown(field(f, "dst"), dst, sizeof dst);
        shown(field(f, "class"), cls, sizeof cls);
        notify(ag, URGENCY_NORMAL, "network", _("Network connection blocked"),
               _("A connection to %s was blocked (%s): direct connections between terminals and file-sharing are "
                 "forbidden by the security policy. Use the file server for sharing files."),
               dst[0] ? dst : "?", cls);
}

struct handler {
        const char *signal;
        const char *required[3];   /* fields that must be there */
        void (*fn)(struct agent *, const struct fields *);
};

static const struct handler handlers[] = {
        { "DeviceBlocked", { "device", NULL }, on_device_blocked },
        { "DeviceAllowed", { "device", NULL }, on_device_allowed },
        { "ClientStopped", { "client", "option", NULL }, on_client_stopped },
        { "PostureChanged", { "compliant", NULL }, on_posture_changed },
        { "ProfileChanged", { "profile", NULL }, on_profile_changed },
        { "PolicyRefused", { "reason", NULL }, on_policy_refused },
        { "TravelStateChanged", { NULL }, on_travel_state },
        { "TravelNotice", { "kind", NULL }, on_travel_notice },
        { "TrafficBlocked", { "class", NULL }, on_traffic_blocked },
        { "FreshnessNotice", { "kind", NULL }, on_freshness_notice },
};

static DBusHandlerResult on_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        struct agent *ag = userdata;
        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_SIGNAL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        const char *member = dbus_message_get_member(m), *sender = dbus_message_get_sender(m);
        /* The owner of the daemon's name, tracked in message order. */
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
                const char *name, *old, *new;
                if (sender && strcmp(sender, DBUS_SERVICE_DBUS) == 0 &&
                    dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old, DBUS_TYPE_STRING,
                                          &new, DBUS_TYPE_INVALID) &&
                    strcmp(name, BUS_NAME) == 0) {
                        snprintf(ag->owner, sizeof ag->owner, "%s", new);
                        if (new[0])
                                (void) read_profiles(ag, &ag->quarantine, &ag->travel);
                }
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (!dbus_message_has_interface(m, BUS_IFACE) || !member)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (!sender || !ag->owner[0] || strcmp(sender, ag->owner) != 0 || !dbus_message_has_path(m, BUS_PATH)) {
                log_warning("Ignored %s from %s: not sent by %s", member, sender ? sender : "?", BUS_NAME);
                ag->ignored++;
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        for (size_t i = 0; i < ARRAY_SIZE(handlers); i++) {
                if (strcmp(member, handlers[i].signal) != 0)
                        continue;
                struct fields f;
                const char *why = NULL;
                if (!read_fields(m, &f, &why)) {
                        log_warning("Ignored a malformed %s signal: %s", member, why);
                        ag->ignored++;
                        return DBUS_HANDLER_RESULT_HANDLED;
                }
                for (size_t k = 0; handlers[i].required[k]; k++)
                        if (!field(&f, handlers[i].required[k])) {
                                log_warning("Ignored a malformed %s signal: no \"%s\" field", member,
                                            handlers[i].required[k]);
                                ag->ignored++;
                                return DBUS_HANDLER_RESULT_HANDLED;
                        }
                /* An allowed device is news only when asked for, or when it is a
                 * stick: the person must know it is read-only or that copies are recorded. */
                if (strcmp(member, "DeviceAllowed") == 0 && !ag->show_allowed && !is_stick(&f))
                        return DBUS_HANDLER_RESULT_HANDLED;
                handlers[i].fn(ag, &f);
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        return DBUS_HANDLER_RESULT_HANDLED;   /* a signal we have nothing to say about */
}

static int usage(int rc) {
        fprintf(rc ? stderr : stdout,
                "Usage: sekisho-notify [--bus=system|session] [--show-allowed] [--verbose]\n\n"
                "Shows sekishod's decisions (blocked devices, stopped remote desktop clients, quarantine,\n"
                "travel and reset) as desktop notifications in the user's language.\n"
                "  --bus=session   listen for sekishod on the session bus (tests)\n"
                "  --show-allowed  also announce allowed USB devices (sticks always are)\n\n"
                "Environment: SEKISHO_LOCALEDIR overrides the translations' directory (%s).\n",
                LOCALEDIR);
        return rc;
}

static DBusConnection *connect_bus(DBusBusType type) {
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c = dbus_bus_get_private(type, &e);
        if (!c) {
                log_error("Cannot connect to the %s bus: %s", type == DBUS_BUS_SYSTEM ? "system" : "session", e.message);
                dbus_error_free(&e);
                return NULL;
        }
        dbus_connection_set_exit_on_disconnect(c, FALSE);
        return c;
}

int main(int argc, char **argv) {
        bool system_bus = true, verbose = false, show_allowed = false;
        static const struct option opts[] = {
                { "bus", required_argument, NULL, 'b' },  { "show-allowed", no_argument, NULL, 'a' },
                { "verbose", no_argument, NULL, 'v' },    { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o;
        while ((o = getopt_long(argc, argv, "hv", opts, NULL)) >= 0)
                switch (o) {
                case 'b':
                        if (strcmp(optarg, "system") != 0 && strcmp(optarg, "session") != 0)
                                return usage(2);
                        system_bus = strcmp(optarg, "system") == 0;
                        break;
                case 'a': show_allowed = true; break;
                case 'v': verbose = true; break;
                case 'h': return usage(0);
                default: return usage(2);
                }
        if (optind != argc)
                return usage(2);
        log_setup("sekisho-notify", verbose);

        gettext_setup(GETTEXT_PACKAGE, LOCALEDIR);

        struct agent ag = { .show_allowed = show_allowed };
        ag.sig = connect_bus(system_bus ? DBUS_BUS_SYSTEM : DBUS_BUS_SESSION);
        ag.notify = connect_bus(DBUS_BUS_SESSION);
        if (!ag.sig || !ag.notify)
                return 1;
        static const char *const rules[] = {
                "type='signal',sender='" BUS_NAME "',path='" BUS_PATH "',interface='" BUS_IFACE "'",
                "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS
                "',member='NameOwnerChanged',arg0='" BUS_NAME "'",
        };
        for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
                DBusError e = DBUS_ERROR_INIT;
                dbus_bus_add_match(ag.sig, rules[i], &e);
                if (dbus_error_is_set(&e)) {
                        log_error("Cannot subscribe to sekishod's signals: %s", e.message);
                        dbus_error_free(&e);
                        return 1;
                }
        }
        if (!dbus_connection_add_filter(ag.sig, on_message, &ag, NULL))
                return 1;
        /* Who owns the name now (later changes arrive in order with the signals). */
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetNameOwner");
        const char *name = BUS_NAME;
        if (m && dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                DBusMessage *reply = dbus_connection_send_with_reply_and_block(ag.sig, m, NOTIFY_TIMEOUT_MS, NULL);
                const char *owner;
                if (reply && dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID))
                        snprintf(ag.owner, sizeof ag.owner, "%s", owner);
                if (reply)
                        dbus_message_unref(reply);
        }
        if (m)
                dbus_message_unref(m);
        if (ag.owner[0])
                (void) read_profiles(&ag, &ag.quarantine, &ag.travel);
        log_info("Listening for %s on the %s bus%s", BUS_NAME, system_bus ? "system" : "session",
                 ag.owner[0] ? "" : " (sekishod is not running yet)");
        while (dbus_connection_read_write_dispatch(ag.sig, -1))
                ;
        log_info("The bus went away (%lu shown, %lu ignored)", ag.shown, ag.ignored);
        dbus_connection_close(ag.sig);
        dbus_connection_unref(ag.sig);
        dbus_connection_close(ag.notify);
        dbus_connection_unref(ag.notify);
        return 0;
}
