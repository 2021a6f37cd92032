/* busconn.c — a libdbus-1 connection driven by the daemon's epoll loop: watches, timeouts and dispatch; asynchronous method calls and signal matches whose results arrive on the loop. */
#include "config.h"

#include <string.h>

#include "busconn.h"
#include "util.h"

/* One fd libdbus wants watched; several DBusWatch (read, write) may share it. */
struct busconn_fd {
        struct busconn *bus;
        int fd;
        struct loop_source *src;
        uint32_t events;
        DBusWatch **watches;
        size_t n_watches, cap_watches;
        struct busconn_fd *next;
};

struct busconn_timeout {
        struct busconn *bus;
        DBusTimeout *timeout;
        struct loop_source *src;
        struct busconn_timeout *next;
};

/* A method call in flight. */
struct busconn_call {
        struct busconn *bus;
        DBusPendingCall *pending;
        busconn_reply_fn cb;
        void *userdata;
        const void *owner;
        struct busconn_call *prev, *next;
};

/* A signal subscription: the bus filters with the rule, we dispatch on path, interface and member. */
struct busconn_match {
        char *rule, *path, *interface, *member;
        busconn_signal_fn cb;
        void *userdata;
        const void *owner;
        struct busconn_match *next;
};

struct busconn {
        struct loop *loop;
        DBusConnection *conn;
        struct busconn_fd *fds;
        struct busconn_timeout *timeouts;
        struct loop_source *dispatch_timer;
        unsigned watch_generation;     /* bumped whenever the watch set changes */
        struct busconn_call *calls;
        struct busconn_match *matches;
        bool filtering;
};

/* ---- libdbus on the epoll loop ---- */

static void busconn_dispatch(struct busconn *b) {
        for (;;) {
                DBusDispatchStatus st = dbus_connection_dispatch(b->conn);
                if (st == DBUS_DISPATCH_COMPLETE)
                        return;
                if (st == DBUS_DISPATCH_NEED_MEMORY) {
                        /* Try again shortly rather than spin. */
                        loop_timer_arm(b->dispatch_timer, 100 * 1000, 0);
                        return;
                }
        }
}

static int on_dispatch_timer(struct loop_source *s, void *userdata) {
        busconn_dispatch(userdata);
        return 0;
}

static void on_dispatch_status(DBusConnection *conn, DBusDispatchStatus st, void *userdata) {
        struct busconn *b = userdata;
        /* Dispatching from inside this callback is not allowed: do it from the loop. */
        if (st != DBUS_DISPATCH_COMPLETE && b->dispatch_timer)
                loop_timer_arm(b->dispatch_timer, 0, 0);
}

static uint32_t watch_events(DBusWatch *w) {
        if (!dbus_watch_get_enabled(w))
                return 0;
        unsigned f = dbus_watch_get_flags(w);
        return ((f & DBUS_WATCH_READABLE) ? EPOLLIN : 0) | ((f & DBUS_WATCH_WRITABLE) ? EPOLLOUT : 0);
}

static int on_watch_io(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct busconn_fd *e = userdata;
        struct busconn *b = e->bus;
        unsigned generation = b->watch_generation;
        for (size_t i = 0; i < e->n_watches; i++) {
                DBusWatch *w = e->watches[i];
                uint32_t want = watch_events(w);
                if (!want)
                        continue;
                unsigned f = 0;
                if ((want & EPOLLIN) && (revents & EPOLLIN))
                        f |= DBUS_WATCH_READABLE;
                if ((want & EPOLLOUT) && (revents & EPOLLOUT))
                        f |= DBUS_WATCH_WRITABLE;
                if (revents & EPOLLHUP)
                        f |= DBUS_WATCH_HANGUP;
                if (revents & EPOLLERR)
                        f |= DBUS_WATCH_ERROR;
                if (!f)
                        continue;
                dbus_watch_handle(w, f);
                /* The handler may have added or removed watches (and freed e): the
                 * level-triggered epoll reports whatever is still pending. */
                if (generation != b->watch_generation)
                        break;
        }
        busconn_dispatch(b);
        return 0;
}

/* Combine the interest of every watch on e's fd into one epoll registration. */
static int fd_update(struct busconn_fd *e) {
        uint32_t events = 0;
        for (size_t i = 0; i < e->n_watches; i++)
                events |= watch_events(e->watches[i]);
        if (!events) {
                /* No interest: leave epoll entirely, or a hung-up fd would wake us forever. */
                e->src = loop_source_free(e->src);
                e->events = 0;
                return 0;
        }
        if (!e->src) {
                int r = loop_add_io(e->bus->loop, e->fd, events, on_watch_io, e, &e->src);
                if (r < 0)
                        return r;
        } else if (events != e->events) {
                int r = loop_source_set_events(e->src, events);
                if (r < 0)
                        return r;
        }
        e->events = events;
        return 0;
}

static struct busconn_fd *fd_find(struct busconn *b, int fd) {
        for (struct busconn_fd *e = b->fds; e; e = e->next)
                if (e->fd == fd)
                        return e;
        return NULL;
}

static void fd_free(struct busconn *b, struct busconn_fd *e) {
        for (struct busconn_fd **p = &b->fds; *p; p = &(*p)->next)
                if (*p == e) {
                        *p = e->next;
                        break;
                }
        loop_source_free(e->src);
        free(e->watches);
        free(e);
}

static dbus_bool_t on_add_watch(DBusWatch *w, void *userdata) {
        struct busconn *b = userdata;
        int fd = dbus_watch_get_unix_fd(w);
        if (fd < 0)
                return FALSE;
        struct busconn_fd *e = fd_find(b, fd);
        if (!e) {
                e = calloc(1, sizeof *e);
                if (!e)
                        return FALSE;
                e->bus = b;
                e->fd = fd;
                e->next = b->fds;
                b->fds = e;
        }
        if (ARRAY_GROW(e->watches, e->cap_watches, e->n_watches + 1) < 0) {
                if (!e->n_watches)
                        fd_free(b, e);
                return FALSE;
        }
        e->watches[e->n_watches++] = w;
        b->watch_generation++;
        int r = fd_update(e);
        if (r < 0) {
                log_warning_errno(r, "D-Bus: cannot watch fd %d", fd);
                e->n_watches--;
                if (!e->n_watches)
                        fd_free(b, e);
                return FALSE;
        }
        return TRUE;
}

static void on_remove_watch(DBusWatch *w, void *userdata) {
        struct busconn *b = userdata;
        for (struct busconn_fd *e = b->fds; e; e = e->next)
                for (size_t i = 0; i < e->n_watches; i++)
                        if (e->watches[i] == w) {
                                memmove(&e->watches[i], &e->watches[i + 1],
                                        (e->n_watches - i - 1) * sizeof *e->watches);
                                e->n_watches--;
                                b->watch_generation++;
                                if (!e->n_watches)
                                        fd_free(b, e);
                                else
                                        (void)fd_update(e);
                                return;
                        }
}

static void on_toggle_watch(DBusWatch *w, void *userdata) {
        struct busconn *b = userdata;
        struct busconn_fd *e = fd_find(b, dbus_watch_get_unix_fd(w));
        if (e) {
                b->watch_generation++;
                int r = fd_update(e);
                if (r < 0)
                        log_warning_errno(r, "D-Bus: cannot update the watch on fd %d, ignoring", e->fd);
        }
}

static int timeout_arm(struct busconn_timeout *t) {
        if (!dbus_timeout_get_enabled(t->timeout))
                return loop_timer_disarm(t->src);
        uint64_t usec = (uint64_t)dbus_timeout_get_interval(t->timeout) * 1000;
        return loop_timer_arm(t->src, usec, usec);
}

static int on_timeout_timer(struct loop_source *s, void *userdata) {
        struct busconn_timeout *t = userdata;
        struct busconn *b = t->bus;
        dbus_timeout_handle(t->timeout);     /* may remove t */
        busconn_dispatch(b);
        return 0;
}

static dbus_bool_t on_add_timeout(DBusTimeout *to, void *userdata) {
        struct busconn *b = userdata;
        struct busconn_timeout *t = calloc(1, sizeof *t);
        if (!t)
                return FALSE;
        t->bus = b;
        t->timeout = to;
        int r = loop_add_timer(b->loop, on_timeout_timer, t, &t->src);
        if (r >= 0)
                r = timeout_arm(t);
        if (r < 0) {
                log_warning_errno(r, "D-Bus: cannot add a timer");
                loop_source_free(t->src);
                free(t);
                return FALSE;
        }
        dbus_timeout_set_data(to, t, NULL);
        t->next = b->timeouts;
        b->timeouts = t;
        return TRUE;
}

static void timeout_free(struct busconn *b, struct busconn_timeout *t) {
        for (struct busconn_timeout **p = &b->timeouts; *p; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        break;
                }
        loop_source_free(t->src);
        free(t);
}

static void on_remove_timeout(DBusTimeout *to, void *userdata) {
        struct busconn *b = userdata;
        struct busconn_timeout *t = dbus_timeout_get_data(to);
        if (t) {
                dbus_timeout_set_data(to, NULL, NULL);
                timeout_free(b, t);
        }
}

static void on_toggle_timeout(DBusTimeout *to, void *userdata) {
        struct busconn_timeout *t = dbus_timeout_get_data(to);
        if (t) {
                int r = timeout_arm(t);
                if (r < 0)
                        log_warning_errno(r, "D-Bus: cannot arm a timer, ignoring");
        }
}

/* ---- method calls ---- */

static void call_free(struct busconn_call *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                c->bus->calls = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->pending) {
                dbus_pending_call_cancel(c->pending);
                dbus_pending_call_unref(c->pending);
        }
        free(c);
}

static void on_reply(DBusPendingCall *pc, void *userdata) {
        struct busconn_call *c = userdata;
        DBusMessage *reply = dbus_pending_call_steal_reply(pc);
        dbus_pending_call_unref(c->pending);
        c->pending = NULL;  /* completed: nothing to cancel */
        busconn_reply_fn cb = c->cb;
        void *cb_data = c->userdata;
        call_free(c);       /* before the callback, which may free the owner */
        int r = !reply                                                        ? -EIO
                : dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_ERROR    ? 0
                : dbus_message_is_error(reply, DBUS_ERROR_NO_REPLY)           ? -ETIMEDOUT
                                                                              : -EREMOTEIO;
        cb(r, reply, cb_data);
        if (reply)
                dbus_message_unref(reply);
}

int busconn_call(struct busconn *b, DBusMessage *m, int timeout_ms, busconn_reply_fn cb, void *userdata,
                 const void *owner) {
        if (!b || !dbus_connection_get_is_connected(b->conn))
                return -ENOTCONN;
        struct busconn_call *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (struct busconn_call){ .bus = b, .cb = cb, .userdata = userdata, .owner = owner, .next = b->calls };
        if (b->calls)
                b->calls->prev = c;
        b->calls = c;
        if (!dbus_connection_send_with_reply(b->conn, m, &c->pending, timeout_ms < 0 ? DBUS_TIMEOUT_USE_DEFAULT : timeout_ms) ||
            !c->pending || !dbus_pending_call_set_notify(c->pending, on_reply, c, NULL)) {
                call_free(c);
                return -ENOMEM;
        }
        return 0;
}

/* ---- signal matches ---- */

static bool field_matches(const char *want, const char *have) { return !want || (have && strcmp(want, have) == 0); }

static DBusHandlerResult on_signal(DBusConnection *conn, DBusMessage *m, void *userdata) {
        struct busconn *b = userdata;
        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_SIGNAL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        for (struct busconn_match *x = b->matches, *next; x; x = next) {
                next = x->next;     /* the callback may drop its own match */
                if (field_matches(x->path, dbus_message_get_path(m)) &&
                    field_matches(x->interface, dbus_message_get_interface(m)) &&
                    field_matches(x->member, dbus_message_get_member(m)))
                        x->cb(m, x->userdata);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* AddMatch or RemoveMatch, without waiting for the answer: the bus handles our
 * messages in order, so a call sent after it is answered under the new rule. */
static int send_match(struct busconn *b, const char *method, const char *rule) {
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, method);
        bool ok = m && dbus_message_append_args(m, DBUS_TYPE_STRING, &rule, DBUS_TYPE_INVALID) &&
                  (dbus_message_set_no_reply(m, TRUE), dbus_connection_send(b->conn, m, NULL));
        if (m)
                dbus_message_unref(m);
        return ok ? 0 : -ENOMEM;
}

static void match_free(struct busconn *b, struct busconn_match *x) {
        for (struct busconn_match **p = &b->matches; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        if (x->rule && dbus_connection_get_is_connected(b->conn))
                (void)send_match(b, "RemoveMatch", x->rule);
        free(x->rule);
        free(x->path);
        free(x->interface);
        free(x->member);
        free(x);
}

static char *strdup_or_null(const char *s, bool *oom) {
        char *c = s ? strdup(s) : NULL;
        if (s && !c)
                *oom = true;
        return c;
}

int busconn_match(struct busconn *b, const char *sender, const char *path, const char *interface, const char *member,
                  busconn_signal_fn cb, void *userdata, const void *owner) {
        if (!b || !dbus_connection_get_is_connected(b->conn))
                return -ENOTCONN;
        if (!b->filtering && !(b->filtering = dbus_connection_add_filter(b->conn, on_signal, b, NULL)))
                return -ENOMEM;
        struct busconn_match *x = calloc(1, sizeof *x);
        if (!x)
                return -ENOMEM;
        bool oom = false;
        x->path = strdup_or_null(path, &oom);
        x->interface = strdup_or_null(interface, &oom);
        x->member = strdup_or_null(member, &oom);
        x->cb = cb;
        x->userdata = userdata;
        x->owner = owner;
        int n = oom ? -1
                    : asprintf(&x->rule, "type='signal'%s%s%s%s%s%s%s%s%s%s%s%s", sender ? ",sender='" : "",
                               sender ?: "", sender ? "'" : "", path ? ",path='" : "", path ?: "", path ? "'" : "",
                               interface ? ",interface='" : "", interface ?: "", interface ? "'" : "",
                               member ? ",member='" : "", member ?: "", member ? "'" : "");
        x->next = b->matches;
        b->matches = x;
        if (n < 0) {
                x->rule = NULL;
                match_free(b, x);
                return -ENOMEM;
        }
        int r = send_match(b, "AddMatch", x->rule);
        if (r < 0)
                match_free(b, x);
        return r;
}

void busconn_forget(struct busconn *b, const void *owner) {
        if (!b)
                return;
        for (struct busconn_call *c = b->calls, *next; c; c = next) {
                next = c->next;
                if (c->owner == owner)
                        call_free(c);
        }
        for (struct busconn_match *x = b->matches, *next; x; x = next) {
                next = x->next;
                if (x->owner == owner)
                        match_free(b, x);
        }
}

/* ---- life cycle ---- */

DBusConnection *busconn_connection(struct busconn *b) { return b ? b->conn : NULL; }

struct busconn *busconn_free(struct busconn *b) {
        if (!b)
                return NULL;
        while (b->calls)
                call_free(b->calls);
        while (b->matches)
                match_free(b, b->matches);
        if (b->conn) {
                if (b->filtering)
                        dbus_connection_remove_filter(b->conn, on_signal, b);
                dbus_connection_close(b->conn);
                dbus_connection_set_dispatch_status_function(b->conn, NULL, NULL, NULL);
                dbus_connection_set_watch_functions(b->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_set_timeout_functions(b->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_unref(b->conn);
        }
        while (b->fds)
                fd_free(b, b->fds);
        while (b->timeouts) {
                dbus_timeout_set_data(b->timeouts->timeout, NULL, NULL);
                timeout_free(b, b->timeouts);
        }
        loop_source_free(b->dispatch_timer);
        free(b);
        return NULL;
}

int busconn_new(struct loop *l, DBusConnection *conn, struct busconn **ret) {
        struct busconn *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->loop = l;
        b->conn = dbus_connection_ref(conn);
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        int r = loop_add_timer(l, on_dispatch_timer, b, &b->dispatch_timer);
        if (r < 0) {
                busconn_free(b);
                return r;
        }
        if (!dbus_connection_set_watch_functions(conn, on_add_watch, on_remove_watch, on_toggle_watch, b, NULL) ||
            !dbus_connection_set_timeout_functions(conn, on_add_timeout, on_remove_timeout, on_toggle_timeout, b, NULL)) {
                busconn_free(b);
                return -ENOMEM;
        }
        dbus_connection_set_dispatch_status_function(conn, on_dispatch_status, b, NULL);
        /* Messages that arrived while connecting wait in the queue. */
        if (dbus_connection_get_dispatch_status(conn) != DBUS_DISPATCH_COMPLETE)
                loop_timer_arm(b->dispatch_timer, 0, 0);
        *ret = b;
        return 0;
}
