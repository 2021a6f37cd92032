/* busclient.h — blocking client calls on the org.sekisho.Sekisho1 service, for sekishoctl. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"

/* What a failed call said: the D-Bus error name and its one-line message
 * (both "" on success). Functions fill it when err is not NULL. */
struct busclient_error {
        char name[256];
        char message[1024];
};

/* Every function returns 0 or a negative errno derived from the outcome:
 *   -ESRCH      sekishod is not on the bus (not running)
 *   -EACCES     AccessDenied (not root and polkit said no / is absent)
 *   -EBADE      the daemon refused a bundle: see busclient_refusal(err->name)
 *   -EINVAL     InvalidArgs, -ENOENT NotFound, -E2BIG LimitsExceeded,
 *   -ETIMEDOUT  no reply in time, -ECONNRESET lost the bus, -EIO anything else. */

/* Connect (private connection) to the system or session bus. */
int busclient_open(enum bus_kind kind, DBusConnection **ret, struct busclient_error *err);
DBusConnection *busclient_close(DBusConnection *c);

/* ApplyPolicy: the bundle's bytes and its .minisig; name is a label for
 * messages (the file name). */
int busclient_apply(DBusConnection *c, const char *data, size_t size, const char *sig, size_t sig_size,
                    const char *name, uint64_t *ret_serial, struct busclient_error *err);
int busclient_set_profile(DBusConnection *c, const char *profile, bool active, const char *reason,
                          struct busclient_error *err);
int busclient_reload(DBusConnection *c, struct busclient_error *err);
/* A method a plugin serves (no arguments, one string back): its answer in ret. */
int busclient_plugin_call(DBusConnection *c, const char *member, char *ret, size_t ret_size,
                          struct busclient_error *err);

/* Print every property: text for people, or one JSON object (with a final
 * newline). Strings from the daemon are printed with control characters
 * replaced in text mode, escaped in JSON. */
int busclient_status(DBusConnection *c, FILE *out, bool json, struct busclient_error *err);

/* Subscribe to the daemon's signals (and its coming and going). */
int busclient_monitor_start(DBusConnection *c, struct busclient_error *err);
/* Print each signal, and the daemon's starts and stops, as one line (text
 * or JSON) until the connection drops or max lines were printed (0: no
 * limit). Calls busclient_monitor_start. */
int busclient_monitor(DBusConnection *c, FILE *out, bool json, unsigned max, struct busclient_error *err);

/* The refusal a D-Bus error name stands for (REFUSE_NONE if it is not one). */
enum refusal busclient_refusal(const char *error_name);
