/* travel-bus-standin.c — the ONLY stand-in in the travel tests: answers systemd1 StartUnit and login1 LockSessions on a private bus and records each call. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dbus/dbus.h>

/* Why a stand-in: the test cannot let the host's real systemd start a
 * factory reset or logind lock real sessions. Everything else in the
 * travel tests is real (dbus-daemon, libdbus, TLS, LUKS2, loop devices).
 * This program owns org.freedesktop.systemd1 and org.freedesktop.login1 on
 * the test's private dbus-daemon, appends one line per call to the log
 * ("LockSessions", "StartUnit UNIT MODE") and replies like the real
 * services: a job path, or org.freedesktop.systemd1.NoSuchUnit with
 * --no-unit (the reset unit missing).
 *
 * After a successful StartUnit it sends JobRemoved for the job, with the
 * result "done", or the one given with --job-result RESULT (e.g. failed),
 * as systemd does once the oneshot unit has finished.
 *
 * Usage: travel-bus-standin ADDRESS LOGFILE [--no-unit | --job-result RESULT] */

static void logline(const char *path, const char *line) {
        FILE *f = fopen(path, "ae");
        if (!f)
                exit(1);
        fprintf(f, "%s\n", line);
        fclose(f);
}

int main(int argc, char **argv) {
        if (argc < 3)
                return 1;
        bool no_unit = argc > 3 && strcmp(argv[3], "--no-unit") == 0;
        const char *job_result = argc > 4 && strcmp(argv[3], "--job-result") == 0 ? argv[4] : "done";
        DBusError err;
        dbus_error_init(&err);
        DBusConnection *c = dbus_connection_open_private(argv[1], &err);
        if (!c || !dbus_bus_register(c, &err)) {
                fprintf(stderr, "standin: %s\n", err.message);
                return 1;
        }
        if (dbus_bus_request_name(c, "org.freedesktop.systemd1", DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
                    DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER ||
            dbus_bus_request_name(c, "org.freedesktop.login1", DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
                    DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                fprintf(stderr, "standin: cannot own the names\n");
                return 1;
        }
        logline(argv[2], "ready");
        unsigned job = 0;
        while (dbus_connection_read_write(c, -1)) {
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        DBusMessage *reply = NULL;
                        if (dbus_message_is_method_call(m, "org.freedesktop.login1.Manager", "LockSessions") &&
                            strcmp(dbus_message_get_path(m), "/org/freedesktop/login1") == 0) {
                                logline(argv[2], "LockSessions");
                                reply = dbus_message_new_method_return(m);
                        } else if (dbus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "StartUnit") &&
                                   strcmp(dbus_message_get_path(m), "/org/freedesktop/systemd1") == 0) {
                                const char *unit = NULL, *mode = NULL;
                                char line[512];
                                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &unit, DBUS_TYPE_STRING, &mode,
                                                           DBUS_TYPE_INVALID)) {
                                        reply = dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS, "want (ss)");
                                } else {
                                        snprintf(line, sizeof line, "StartUnit %s %s", unit, mode);
                                        logline(argv[2], line);
                                        if (no_unit) {
                                                snprintf(line, sizeof line, "Unit %s not found.", unit);
                                                reply = dbus_message_new_error(m, "org.freedesktop.systemd1.NoSuchUnit", line);
                                        } else {
                                                char path[64];
                                                const char *p = path;
                                                snprintf(path, sizeof path, "/org/freedesktop/systemd1/job/%u", ++job);
                                                reply = dbus_message_new_method_return(m);
                                                dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &p, DBUS_TYPE_INVALID);
                                                dbus_connection_send(c, reply, NULL);
                                                dbus_message_unref(reply);
                                                reply = NULL;
                                                DBusMessage *sig = dbus_message_new_signal(
                                                        "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                                        "JobRemoved");
                                                dbus_uint32_t id = job;
                                                dbus_message_append_args(sig, DBUS_TYPE_UINT32, &id, DBUS_TYPE_OBJECT_PATH,
                                                                         &p, DBUS_TYPE_STRING, &unit, DBUS_TYPE_STRING,
                                                                         &job_result, DBUS_TYPE_INVALID);
                                                dbus_connection_send(c, sig, NULL);
                                                dbus_message_unref(sig);
                                        }
                                }
                        } else if (dbus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "Subscribe")) {
                                reply = dbus_message_new_method_return(m);
                        } else if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_METHOD_CALL) {
                                reply = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD, "not in the stand-in");
                        }
                        if (reply) {
                                dbus_connection_send(c, reply, NULL);
                                dbus_message_unref(reply);
                        }
                        dbus_message_unref(m);
                }
        }
        return 0;
}
