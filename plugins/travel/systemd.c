/* systemd.c — a small libdbus-1 client on the daemon's loop: logind LockSessions and systemd StartUnit, asynchronous, for the travel plugin. */
#include "config.h"

#include <fcntl.h>
#include <string.h>

#include <dbus/dbus.h>

#include "loop.h"
#include "travel.h"
#include "util.h"

/* Until the core's bus code offers method calls to other services, the
 * travel plugin owns this private connection. Connecting (socket connect
 * plus the Hello round trip) is done synchronously, once, when the first
 * call is needed; it talks to the local bus daemon only and libdbus bounds
 * it with its default timeout. Every method call after that is
 * dbus_connection_send_with_reply() with the reply handled on the loop.
 *
 * libdbus may ask to watch the same fd twice (readable and writable); epoll
 * takes one registration per open file description, so each watch gets its
 * own dup() of the fd. */

struct sdbus {
        struct loop *loop;
        DBusConnection *conn;
        struct loop_source *dispatch; /* zero-delay timer: dispatch queued messages */
        sdbus_job_fn job_cb;
        void *job_userdata;
};

struct watch_data {
        struct sdbus *bus;
        DBusWatch *watch;
        int fd;
        struct loop_source *src;
};

struct timeout_data {
        struct sdbus *bus;
        DBusTimeout *timeout;
        struct loop_source *src;
};

struct call {
        sdbus_reply_fn cb;
        void *userdata;
};

static void schedule_dispatch(struct sdbus *b) {
        if (b->dispatch && dbus_connection_get_dispatch_status(b->conn) == DBUS_DISPATCH_DATA_REMAINS)
                loop_timer_arm(b->dispatch, 1, 0);
}

static int on_dispatch(struct loop_source *s, void *userdata) {
        struct sdbus *b = userdata;
        while (dbus_connection_dispatch(b->conn) == DBUS_DISPATCH_DATA_REMAINS)
                ;
        return 0;
}

static uint32_t watch_events(DBusWatch *w) {
        if (!dbus_watch_get_enabled(w))
                return 0;
        unsigned f = dbus_watch_get_flags(w);
        return (f & DBUS_WATCH_READABLE ? EPOLLIN : 0) | (f & DBUS_WATCH_WRITABLE ? EPOLLOUT : 0);
}

static int on_watch(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct watch_data *wd = userdata;
        struct sdbus *b = wd->bus;
        unsigned flags = (revents & EPOLLIN ? DBUS_WATCH_READABLE : 0) | (revents & EPOLLOUT ? DBUS_WATCH_WRITABLE : 0) |
                         (revents & EPOLLERR ? DBUS_WATCH_ERROR : 0) | (revents & EPOLLHUP ? DBUS_WATCH_HANGUP : 0);
        dbus_connection_ref(b->conn);
        dbus_watch_handle(wd->watch, flags);
        schedule_dispatch(b);
        dbus_connection_unref(b->conn);
        return 0;
}

static dbus_bool_t add_watch(DBusWatch *w, void *data) {
        struct sdbus *b = data;
        struct watch_data *wd = calloc(1, sizeof *wd);
        if (!wd)
                return FALSE;
        wd->bus = b;
        wd->watch = w;
        wd->fd = fcntl(dbus_watch_get_unix_fd(w), F_DUPFD_CLOEXEC, 3);
        if (wd->fd < 0) {
                free(wd);
                return FALSE;
        }
        if (loop_add_io(b->loop, wd->fd, watch_events(w), on_watch, wd, &wd->src) < 0) {
                close(wd->fd);
                free(wd);
                return FALSE;
        }
        dbus_watch_set_data(w, wd, NULL);
        return TRUE;
}

static void remove_watch(DBusWatch *w, void *data) {
        struct watch_data *wd = dbus_watch_get_data(w);
        if (!wd)
                return;
        loop_source_free(wd->src);
        close(wd->fd);
        free(wd);
        dbus_watch_set_data(w, NULL, NULL);
}

static void toggle_watch(DBusWatch *w, void *data) {
        struct watch_data *wd = dbus_watch_get_data(w);
        if (wd)
                loop_source_set_events(wd->src, watch_events(w));
}

static int on_timeout(struct loop_source *s, void *userdata) {
        struct timeout_data *td = userdata;
        dbus_timeout_handle(td->timeout);
        schedule_dispatch(td->bus);
        return 0;
}

static void arm_timeout(struct timeout_data *td) {
        if (dbus_timeout_get_enabled(td->timeout))
                loop_timer_arm(td->src, (uint64_t)dbus_timeout_get_interval(td->timeout) * 1000u + 1, 0);
        else
                loop_timer_disarm(td->src);
}

static dbus_bool_t add_timeout(DBusTimeout *t, void *data) {
        struct sdbus *b = data;
        struct timeout_data *td = calloc(1, sizeof *td);
        if (!td)
                return FALSE;
        td->bus = b;
        td->timeout = t;
        if (loop_add_timer(b->loop, on_timeout, td, &td->src) < 0) {
                free(td);
                return FALSE;
        }
        dbus_timeout_set_data(t, td, NULL);
        arm_timeout(td);
        return TRUE;
}

static void remove_timeout(DBusTimeout *t, void *data) {
        struct timeout_data *td = dbus_timeout_get_data(t);
        if (!td)
                return;
        loop_source_free(td->src);
        free(td);
        dbus_timeout_set_data(t, NULL, NULL);
}

static void toggle_timeout(DBusTimeout *t, void *data) {
        struct timeout_data *td = dbus_timeout_get_data(t);
        if (td)
                arm_timeout(td);
}

static void wakeup_main(void *data) {
        schedule_dispatch(data);
}

int sdbus_open(struct loop *l, const char *address, struct sdbus **ret) {
        struct sdbus *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->loop = l;
        DBusError err;
        dbus_error_init(&err);
        if (address) {
                b->conn = dbus_connection_open_private(address, &err);
                if (b->conn && !dbus_bus_register(b->conn, &err)) {
                        dbus_connection_close(b->conn);
                        dbus_connection_unref(b->conn);
                        b->conn = NULL;
                }
        } else
                b->conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
        if (!b->conn) {
                log_warning("travel: cannot connect to the system bus: %s", err.message ? err.message : "unknown error");
                dbus_error_free(&err);
                free(b);
                return -ECONNREFUSED;
        }
        dbus_connection_set_exit_on_disconnect(b->conn, FALSE);
        int r = loop_add_timer(l, on_dispatch, b, &b->dispatch);
        if (r < 0 || !dbus_connection_set_watch_functions(b->conn, add_watch, remove_watch, toggle_watch, b, NULL) ||
            !dbus_connection_set_timeout_functions(b->conn, add_timeout, remove_timeout, toggle_timeout, b, NULL)) {
                sdbus_close(b);
                return r < 0 ? r : -ENOMEM;
        }
        dbus_connection_set_wakeup_main_function(b->conn, wakeup_main, b, NULL);
        schedule_dispatch(b);
        *ret = b;
        return 0;
}

struct sdbus *sdbus_close(struct sdbus *b) {
        if (!b)
                return NULL;
        if (b->conn) {
                dbus_connection_close(b->conn);
                dbus_connection_set_watch_functions(b->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_set_timeout_functions(b->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_unref(b->conn);
        }
        loop_source_free(b->dispatch);
        free(b);
        return NULL;
}

static void on_reply(DBusPendingCall *pending, void *userdata) {
        struct call *c = userdata;
        DBusMessage *m = dbus_pending_call_steal_reply(pending);
        if (!m) {
                c->cb(-ETIMEDOUT, "org.freedesktop.DBus.Error.NoReply", "no reply", c->userdata);
                return;
        }
        if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_ERROR) {
                const char *detail = NULL;
                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &detail, DBUS_TYPE_INVALID))
                        detail = "";
                const char *name = dbus_message_get_error_name(m);
                c->cb(-EIO, name ? name : "?", detail, c->userdata);
        } else {
                const char *path = NULL;
                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID))
                        path = "";
                c->cb(0, NULL, path, c->userdata);
        }
        dbus_message_unref(m);
}

static int call(struct sdbus *b, DBusMessage *m, sdbus_reply_fn cb, void *userdata) {
        struct call *c = calloc(1, sizeof *c);
        DBusPendingCall *pending = NULL;
        if (!c) {
                dbus_message_unref(m);
                return -ENOMEM;
        }
        c->cb = cb;
        c->userdata = userdata;
        /* 25 s: systemd answers StartUnit once the job is queued, not when it finishes */
        if (!dbus_connection_send_with_reply(b->conn, m, &pending, 25000) || !pending) {
                dbus_message_unref(m);
                free(c);
                return -ENOTCONN;
        }
        dbus_message_unref(m);
        if (!dbus_pending_call_set_notify(pending, on_reply, c, free)) {
                dbus_pending_call_cancel(pending);
                dbus_pending_call_unref(pending);
                free(c);
                return -ENOMEM;
        }
        dbus_pending_call_unref(pending);
        return 0;
}

bool sdbus_is_connected(struct sdbus *b) {
        return b && b->conn && dbus_connection_get_is_connected(b->conn);
}

static DBusHandlerResult on_message(DBusConnection *c, DBusMessage *m, void *userdata) {
        struct sdbus *b = userdata;
        if (b->job_cb && dbus_message_is_signal(m, "org.freedesktop.systemd1.Manager", "JobRemoved") &&
            dbus_message_get_path(m) && strcmp(dbus_message_get_path(m), "/org/freedesktop/systemd1") == 0) {
                dbus_uint32_t id;
                const char *job = NULL, *unit = NULL, *result = NULL;
                if (dbus_message_get_args(m, NULL, DBUS_TYPE_UINT32, &id, DBUS_TYPE_OBJECT_PATH, &job, DBUS_TYPE_STRING,
                                          &unit, DBUS_TYPE_STRING, &result, DBUS_TYPE_INVALID))
                        b->job_cb(job, unit, result, b->job_userdata);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static void ignore_reply(int r, const char *error_name, const char *detail, void *userdata) {
        if (r < 0)
                log_debug("travel: %s: %s", error_name ? error_name : "?", detail ? detail : "");
}

int sdbus_watch_jobs(struct sdbus *b, sdbus_job_fn cb, void *userdata) {
        if (b->job_cb)
                return 0;
        if (!dbus_connection_add_filter(b->conn, on_message, b, NULL))
                return -ENOMEM;
        b->job_cb = cb;
        b->job_userdata = userdata;
        /* Both asynchronous; the bus handles our messages in order, so the
         * match is in place before a StartUnit sent after this reaches systemd. */
        const char *rule = "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
                           "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, "AddMatch");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &rule, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                return -ENOMEM;
        }
        int r = call(b, m, ignore_reply, NULL);
        if (r < 0)
                return r;
        /* systemd only sends job signals while someone has subscribed */
        m = dbus_message_new_method_call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "Subscribe");
        return m ? call(b, m, ignore_reply, NULL) : -ENOMEM;
}

int sdbus_lock_sessions(struct sdbus *b, sdbus_reply_fn cb, void *userdata) {
        DBusMessage *m = dbus_message_new_method_call("org.freedesktop.login1", "/org/freedesktop/login1",
                                                      "org.freedesktop.login1.Manager", "LockSessions");
        if (!m)
                return -ENOMEM;
        return call(b, m, cb, userdata);
}

int sdbus_start_unit(struct sdbus *b, const char *unit, sdbus_reply_fn cb, void *userdata) {
        DBusMessage *m = dbus_message_new_method_call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                      "org.freedesktop.systemd1.Manager", "StartUnit");
        const char *mode = "replace";
        if (!m)
                return -ENOMEM;
        if (!dbus_message_append_args(m, DBUS_TYPE_STRING, &unit, DBUS_TYPE_STRING, &mode, DBUS_TYPE_INVALID)) {
                dbus_message_unref(m);
                return -ENOMEM;
        }
        return call(b, m, cb, userdata);
}
