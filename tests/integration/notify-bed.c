/* notify-bed.c — test stand-ins for sekisho-notify: a notification server that records each Notify call, and a fake sekishod that emits (malformed) signals. */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The only stand-in of the notify test: org.freedesktop.Notifications on the
 * session bus, writing "urgency<TAB>summary<TAB>body" per Notify call to FILE. */
static int server(const char *file) {
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SESSION, &e);
        if (!c || dbus_bus_request_name(c, "org.freedesktop.Notifications", DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
                          DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                fprintf(stderr, "notify-bed: cannot own org.freedesktop.Notifications: %s\n", e.message ? e.message : "");
                return 1;
        }
        dbus_uint32_t id = 0;
        while (dbus_connection_read_write(c, -1)) {
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        DBusMessage *reply = NULL;
                        if (dbus_message_is_method_call(m, "org.freedesktop.Notifications", "Notify")) {
                                const char *app, *icon, *summary, *body;
                                dbus_uint32_t replaces;
                                DBusMessageIter it, a, d, v;
                                unsigned urgency = 9;
                                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &app, DBUS_TYPE_UINT32, &replaces,
                                                           DBUS_TYPE_STRING, &icon, DBUS_TYPE_STRING, &summary,
                                                           DBUS_TYPE_STRING, &body, DBUS_TYPE_INVALID)) {
                                        reply = dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS, "bad Notify");
                                } else {
                                        dbus_message_iter_init(m, &it);
                                        for (int i = 0; i < 6; i++)
                                                dbus_message_iter_next(&it);   /* to the hints a{sv} */
                                        if (dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY)
                                                for (dbus_message_iter_recurse(&it, &a);
                                                     dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_DICT_ENTRY;
                                                     dbus_message_iter_next(&a)) {
                                                        const char *k;
                                                        dbus_message_iter_recurse(&a, &d);
                                                        dbus_message_iter_get_basic(&d, &k);
                                                        dbus_message_iter_next(&d);
                                                        dbus_message_iter_recurse(&d, &v);
                                                        if (strcmp(k, "urgency") == 0 &&
                                                            dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_BYTE) {
                                                                unsigned char u;
                                                                dbus_message_iter_get_basic(&v, &u);
                                                                urgency = u;
                                                        }
                                                }
                                        FILE *f = fopen(file, "ae");
                                        if (f) {
                                                fprintf(f, "%s\t%u\t%s\t%s\n", app, urgency, summary, body);
                                                fclose(f);
                                        }
                                        reply = dbus_message_new_method_return(m);
                                        id++;
                                        dbus_message_append_args(reply, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID);
                                }
                        } else if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_METHOD_CALL)
                                reply = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD, "not in the stand-in");
                        if (reply) {
                                dbus_connection_send(c, reply, NULL);
                                dbus_message_unref(reply);
                        }
                        dbus_message_unref(m);
                }
        }
        return 0;
}

/* Append one argument described by a word: "dict:k=v,k=v" (a{ss}), "str:TEXT",
 * "int:N", "dictint:k=1" (a{si}), "bytes:TEXT" (ay). */
static int append(DBusMessageIter *it, const char *spec) {
        DBusMessageIter a, d;
        if (strncmp(spec, "str:", 4) == 0) {
                const char *s = spec + 4;
                return dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &s) ? 0 : -1;
        }
        if (strncmp(spec, "int:", 4) == 0) {
                dbus_int32_t n = atoi(spec + 4);
                return dbus_message_iter_append_basic(it, DBUS_TYPE_INT32, &n) ? 0 : -1;
        }
        if (strncmp(spec, "bytes:", 6) == 0) {
                const char *s = spec + 6;
                int n = (int)strlen(s);
                return dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &a) &&
                                       dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &s, n) &&
                                       dbus_message_iter_close_container(it, &a)
                               ? 0
                               : -1;
        }
        int ints = strncmp(spec, "dictint:", 8) == 0;
        if (!ints && strncmp(spec, "dict:", 5) != 0)
                return -1;
        char *copy = strdup(spec + (ints ? 8 : 5)), *save = NULL;
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, ints ? "{si}" : "{ss}", &a))
                return -1;
        for (char *kv = strtok_r(copy, "|", &save); kv; kv = strtok_r(NULL, "|", &save)) {
                char *eq = strchr(kv, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                const char *k = kv, *v = eq + 1;
                dbus_int32_t n = atoi(v);
                dbus_message_iter_open_container(&a, DBUS_TYPE_DICT_ENTRY, NULL, &d);
                dbus_message_iter_append_basic(&d, DBUS_TYPE_STRING, &k);
                if (ints)
                        dbus_message_iter_append_basic(&d, DBUS_TYPE_INT32, &n);
                else
                        dbus_message_iter_append_basic(&d, DBUS_TYPE_STRING, &v);
                dbus_message_iter_close_container(&a, &d);
        }
        free(copy);
        return dbus_message_iter_close_container(it, &a) ? 0 : -1;
}

/* Own org.sekisho.Sekisho1 (as a fake sekishod) and emit each SIGNAL ARG... group; groups are separated by "--". */
static int emit(int argc, char **argv) {
        DBusError e = DBUS_ERROR_INIT;
        DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SESSION, &e);
        if (!c || dbus_bus_request_name(c, "org.sekisho.Sekisho1", DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
                          DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                fprintf(stderr, "notify-bed: cannot own org.sekisho.Sekisho1: %s\n", e.message ? e.message : "");
                return 1;
        }
        for (int i = 0; i < argc;) {
                DBusMessage *m = dbus_message_new_signal("/org/sekisho/Sekisho1", "org.sekisho.Sekisho1", argv[i++]);
                DBusMessageIter it;
                dbus_message_iter_init_append(m, &it);
                for (; i < argc && strcmp(argv[i], "--") != 0; i++)
                        if (append(&it, argv[i]) < 0) {
                                fprintf(stderr, "notify-bed: bad argument %s\n", argv[i]);
                                return 2;
                        }
                i++;
                dbus_connection_send(c, m, NULL);
                dbus_message_unref(m);
        }
        dbus_connection_flush(c);
        /* A round trip to the bus: everything sent before it has been routed. */
        DBusMessage *ping = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                         "org.freedesktop.DBus.Peer", "Ping");
        DBusMessage *r = dbus_connection_send_with_reply_and_block(c, ping, -1, NULL);
        if (r)
                dbus_message_unref(r);
        dbus_message_unref(ping);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "server") == 0)
                return server(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "emit") == 0)
                return emit(argc - 2, argv + 2);
        fprintf(stderr, "usage: notify-bed server FILE | emit SIGNAL ARG... [-- SIGNAL ARG...]...\n");
        return 2;
}
