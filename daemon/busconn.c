/* busconn.c — sekishod's D-Bus connection: a unix socket to the bus, EXTERNAL authentication, sbus messages in and out on the daemon's epoll loop, method calls with deadlines, signal matches and one served object. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "busconn.h"
#include "util.h"

#define DRIVER "org.freedesktop.DBus"
#define DRIVER_PATH "/org/freedesktop/DBus"
#define PEER "org.freedesktop.DBus.Peer"
#define SYSTEM_BUS_DEFAULT "unix:path=/var/run/dbus/system_bus_socket"
#define OUT_MAX (64u * 1024 * 1024)
#define IN_CHUNK 4096u          /* the input buffer's size between large messages */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* A method call in flight. */
struct busconn_call {
        uint32_t serial;
        uint64_t deadline;
        busconn_reply_fn cb;
        void *userdata;
        const void *owner;
        struct busconn_call *next;
};

/* A signal subscription: the bus filters with the rule, we dispatch on path, interface and member. */
struct busconn_match {
        char *rule, *path, *interface, *member;
        busconn_signal_fn cb;
        void *userdata;
        const void *owner;
        struct busconn_match *next;
};

/* A message received and not yet dispatched. */
struct busconn_queued {
        struct sbus_msg *m;
        struct busconn_queued *next;
};

struct busconn {
        struct loop *loop;
        int fd;
        struct loop_source *io, *timer, *defer;
        uint32_t io_events;
        bool connected;
        uint32_t serial;
        char *unique_name;
        char machine_id[33];
        uint8_t *in;
        size_t in_len, in_cap;
        uint8_t *out;
        size_t out_off, out_len, out_cap;
        struct busconn_queued *queue, **queue_tail;
        struct busconn_call *calls;
        struct busconn_match *matches;
        char *serve_path;
        busconn_method_fn serve_fn;
        void *serve_data;
        unsigned bad_messages;          /* refused since bad_logged_usec */
        uint64_t bad_logged_usec;
};

/* ---- the socket ---- */

/* The connection is gone: log once, stop watching the socket; the calls in
 * flight fail from the loop (the defer timer), never inside a caller. */
static void lost(struct busconn *b, const char *why) {
        if (!b->connected)
                return;
        b->connected = false;
        log_error("D-Bus: disconnected from the bus (%s): status, signals and admin methods are unavailable until "
                  "sekishod restarts; enforcement continues",
                  why);
        b->io = loop_source_free(b->io);
        if (b->defer)
                loop_timer_arm(b->defer, 0, 0);
}

static void want_events(struct busconn *b) {
        uint32_t ev = EPOLLIN | (b->out_off < b->out_len ? EPOLLOUT : 0);
        if (b->io && ev != b->io_events && loop_source_set_events(b->io, ev) >= 0)
                b->io_events = ev;
}

/* Write what is queued, as far as the socket takes it now. */
static void flush_out(struct busconn *b) {
        while (b->connected && b->out_off < b->out_len) {
                ssize_t n = send(b->fd, b->out + b->out_off, b->out_len - b->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return lost(b, strerror(errno));
                b->out_off += (size_t)n;
        }
        if (b->out_off == b->out_len) {
                b->out_off = b->out_len = 0;
                if (b->out_cap > IN_CHUNK) {    /* a large reply went out: give its memory back */
                        free(b->out);
                        b->out = NULL;
                        b->out_cap = 0;
                }
        }
        want_events(b);
}

/* A message refused: logged at most once a minute, with how many there were. */
static void bad_message(struct busconn *b) {
        uint64_t now = now_usec_monotonic();
        b->bad_messages++;
        if (b->bad_logged_usec && now - b->bad_logged_usec < 60 * 1000000ull)
                return;
        log_warning("D-Bus: dropped %u message(s) from the bus that are not valid D-Bus (a sender's, relayed)",
                    b->bad_messages);
        b->bad_logged_usec = now;
        b->bad_messages = 0;
}

static void enqueue(struct busconn *b, struct busconn_queued *q) {
        q->next = NULL;
        *b->queue_tail = q;
        b->queue_tail = &q->next;
}

/* Parse every whole message in the input buffer into the queue. */
static void parse_in(struct busconn *b) {
        size_t off = 0;
        while (b->connected) {
                ssize_t need = sbus_msg_size(b->in + off, b->in_len - off);
                if (need < 0)
                        return lost(b, "the bus sent bytes that are not a D-Bus message");
                if (need == 0 || (size_t)need > b->in_len - off)
                        break;
                struct busconn_queued *q = malloc(sizeof *q);
                int r = q ? sbus_msg_parse(b->in + off, (size_t)need, &q->m) : -ENOMEM;
                off += (size_t)need;
                if (r == -EBADMSG) {
                        /* The bus relays some messages we refuse (a value of type h without its
                         * descriptor, variants nested deeper than we read): any local process may
                         * send one. Its frame is sound, so drop just that message and read on. */
                        free(q);
                        bad_message(b);
                        continue;
                }
                if (r < 0) {
                        free(q);
                        return lost(b, "out of memory");
                }
                enqueue(b, q);
        }
        if (off) {
                memmove(b->in, b->in + off, b->in_len - off);
                b->in_len -= off;
        }
        if (b->in_len == 0 && b->in_cap > IN_CHUNK) {   /* a large message went through */
                free(b->in);
                b->in = NULL;
                b->in_cap = 0;
        }
}

/* One read: as much as fits, the buffer grown to hold the message begun. */
static void fill_in(struct busconn *b) {
        ssize_t need = sbus_msg_size(b->in, b->in_len);
        size_t want = need > 0 && (size_t)need > b->in_len + IN_CHUNK ? (size_t)need : b->in_len + IN_CHUNK;
        if (want > b->in_cap) {
                uint8_t *p = realloc(b->in, want);
                if (!p)
                        return lost(b, "out of memory");
                b->in = p;
                b->in_cap = want;
        }
        ssize_t n = recv(b->fd, b->in + b->in_len, b->in_cap - b->in_len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0)
                return lost(b, n == 0 ? "the bus closed the connection" : strerror(errno));
        b->in_len += (size_t)n;
        parse_in(b);
}

/* ---- sending ---- */

int busconn_send(struct busconn *b, struct sbus_msg *m) {
        if (!b || !b->connected)
                return -ENOTCONN;
        if (++b->serial == 0)
                b->serial = 1;
        int r = sbus_msg_seal(m, b->serial);
        if (r < 0)
                return r;
        const void *p;
        size_t n;
        sbus_msg_bytes(m, &p, &n);
        if (b->out_off) {
                memmove(b->out, b->out + b->out_off, b->out_len - b->out_off);
                b->out_len -= b->out_off;
                b->out_off = 0;
        }
        if (n > OUT_MAX - b->out_len)
                return -ENOBUFS;
        if (b->out_len + n > b->out_cap) {
                size_t cap = MAX(b->out_len + n, (size_t)IN_CHUNK);
                uint8_t *o = realloc(b->out, cap);
                if (!o)
                        return -ENOMEM;
                b->out = o;
                b->out_cap = cap;
        }
        memcpy(b->out + b->out_len, p, n);
        b->out_len += n;
        flush_out(b);
        return 0;
}

/* ---- method calls ---- */

static void arm_timer(struct busconn *b) {
        uint64_t first = UINT64_MAX;
        for (struct busconn_call *c = b->calls; c; c = c->next)
                first = MIN(first, c->deadline);
        if (first == UINT64_MAX)
                (void)loop_timer_disarm(b->timer);
        else {
                uint64_t now = now_usec_monotonic();
                (void)loop_timer_arm(b->timer, first > now ? first - now : 1, 0);
        }
}

/* Take the calls that match (serial, or every one due by deadline) out of the list. */
static struct busconn_call *calls_take(struct busconn *b, uint32_t serial, uint64_t deadline) {
        struct busconn_call *taken = NULL;
        for (struct busconn_call **p = &b->calls; *p;) {
                struct busconn_call *c = *p;
                if (serial ? c->serial == serial : c->deadline <= deadline) {
                        *p = c->next;
                        c->next = taken;
                        taken = c;
                } else
                        p = &c->next;
        }
        return taken;
}

/* Run the callbacks of taken calls; each may start or forget other calls. */
static void calls_finish(struct busconn *b, struct busconn_call *taken, int r, struct sbus_msg *reply) {
        while (taken) {
                struct busconn_call *c = taken;
                taken = c->next;
                busconn_reply_fn cb = c->cb;
                void *userdata = c->userdata;
                free(c);
                cb(r, reply, userdata);
        }
        arm_timer(b);
}

int busconn_call(struct busconn *b, struct sbus_msg *m, int timeout_ms, busconn_reply_fn cb, void *userdata,
                 const void *owner) {
        if (!b || !b->connected)
                return -ENOTCONN;
        struct busconn_call *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        int r = busconn_send(b, m);
        if (r < 0) {
                free(c);
                return r;
        }
        *c = (struct busconn_call){
                .serial = sbus_msg_serial(m),
                .deadline = now_usec_monotonic() + (uint64_t)(timeout_ms < 0 ? BUSCONN_TIMEOUT_MS : timeout_ms) * 1000,
                .cb = cb,
                .userdata = userdata,
                .owner = owner,
                .next = b->calls,
        };
        b->calls = c;
        arm_timer(b);
        return 0;
}

static int on_timer(struct loop_source *s, void *userdata) {
        struct busconn *b = userdata;
        calls_finish(b, calls_take(b, 0, now_usec_monotonic()), -ETIMEDOUT, NULL);
        return 0;
}

/* Wait until fd is ready for events, within the deadline: the poll revents. */
static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t now = now_usec_monotonic();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = events };
                int n = poll(&p, 1, (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT_MAX));
                if (n > 0)
                        return p.revents;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

/* The reply to serial, taken out of the queue (a blocking call's). */
static struct sbus_msg *queue_take_reply(struct busconn *b, uint32_t serial) {
        for (struct busconn_queued **p = &b->queue; *p; p = &(*p)->next) {
                struct busconn_queued *q = *p;
                enum sbus_type t = sbus_msg_type(q->m);
                if ((t == SBUS_RETURN || t == SBUS_ERROR) && sbus_msg_reply_serial(q->m) == serial) {
                        *p = q->next;
                        if (b->queue_tail == &q->next)
                                b->queue_tail = p;
                        struct sbus_msg *m = q->m;
                        free(q);
                        return m;
                }
        }
        return NULL;
}

int busconn_call_sync(struct busconn *b, struct sbus_msg *m, int timeout_ms, struct sbus_msg **ret_reply) {
        *ret_reply = NULL;
        int r = busconn_send(b, m);
        if (r < 0)
                return r;
        uint64_t deadline = now_usec_monotonic() + (uint64_t)(timeout_ms < 0 ? BUSCONN_TIMEOUT_MS : timeout_ms) * 1000;
        struct sbus_msg *reply;
        while (!(reply = queue_take_reply(b, sbus_msg_serial(m)))) {
                if (!b->connected)
                        return -ECONNRESET;
                int ev = wait_fd(b->fd, POLLIN | (b->out_off < b->out_len ? POLLOUT : 0), deadline);
                if (ev < 0)
                        return ev;
                if (ev & POLLOUT)
                        flush_out(b);
                if (ev & (POLLIN | POLLHUP | POLLERR))
                        fill_in(b);
        }
        /* What else arrived meanwhile is dispatched from the loop. */
        if (b->queue && b->defer)
                loop_timer_arm(b->defer, 0, 0);
        *ret_reply = reply;
        return sbus_msg_type(reply) == SBUS_ERROR ? -EREMOTEIO : 0;
}

/* ---- signal matches ---- */

static bool field_matches(const char *want, const char *have) { return !want || (have && strcmp(want, have) == 0); }

/* AddMatch or RemoveMatch, without waiting for the answer: the bus handles our
 * messages in order, so a call sent after it is answered under the new rule. */
static int send_match(struct busconn *b, const char *method, const char *rule) {
        struct sbus_msg *m = sbus_call_new(DRIVER, DRIVER_PATH, DRIVER, method);
        if (!m)
                return -ENOMEM;
        sbus_msg_set_flags(m, SBUS_FLAG_NO_REPLY);
        int r = sbus_append(m, "s", rule);
        if (r >= 0)
                r = busconn_send(b, m);
        sbus_msg_unref(m);
        return r;
}

static void match_free(struct busconn *b, struct busconn_match *x) {
        for (struct busconn_match **p = &b->matches; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        if (x->rule && b->connected)
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
        if (!b || !b->connected)
                return -ENOTCONN;
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
        for (struct busconn_call **p = &b->calls; *p;) {
                struct busconn_call *c = *p;
                if (c->owner == owner) {
                        *p = c->next;
                        free(c);
                } else
                        p = &c->next;
        }
        for (struct busconn_match *x = b->matches, *next; x; x = next) {
                next = x->next;
                if (x->owner == owner)
                        match_free(b, x);
        }
        arm_timer(b);
}

/* ---- dispatch ---- */

int busconn_serve(struct busconn *b, const char *path, busconn_method_fn fn, void *userdata) {
        if (!b || b->serve_path || !sbus_path_valid(path))
                return -EINVAL;
        if (!(b->serve_path = strdup(path)))
                return -ENOMEM;
        b->serve_fn = fn;
        b->serve_data = userdata;
        return 0;
}

static void reply_and_unref(struct busconn *b, struct sbus_msg *reply) {
        int r = reply ? busconn_send(b, reply) : -ENOMEM;
        if (r < 0 && r != -ENOTCONN)
                log_warning_errno(r, "D-Bus: could not send a reply, ignoring");
        sbus_msg_unref(reply);
}

/* Ping and GetMachineId on any path; every other call nobody served gets UnknownMethod. */
static void call_unserved(struct busconn *b, struct sbus_msg *m) {
        if (sbus_msg_flags(m) & SBUS_FLAG_NO_REPLY)
                return;
        const char *iface = sbus_msg_interface(m), *member = sbus_msg_member(m);
        bool peer = !iface || strcmp(iface, PEER) == 0;
        struct sbus_msg *reply;
        if (peer && strcmp(member, "Ping") == 0 && sbus_msg_signature(m)[0] == '\0')
                reply = sbus_return_new(m);
        else if (peer && strcmp(member, "GetMachineId") == 0 && sbus_msg_signature(m)[0] == '\0' &&
                 b->machine_id[0]) {
                reply = sbus_return_new(m);
                if (reply && sbus_append(reply, "s", b->machine_id) < 0)
                        reply = sbus_msg_unref(reply);
        } else {
                char text[512];
                snprintf(text, sizeof text, "No method %s.%s with signature \"%s\" at %s", iface ? iface : "(any)",
                         member, sbus_msg_signature(m), sbus_msg_path(m));
                reply = sbus_error_new(m, "org.freedesktop.DBus.Error.UnknownMethod", text);
        }
        reply_and_unref(b, reply);
}

static void dispatch_one(struct busconn *b, struct sbus_msg *m) {
        switch (sbus_msg_type(m)) {
        case SBUS_RETURN:
        case SBUS_ERROR: {
                struct busconn_call *c = calls_take(b, sbus_msg_reply_serial(m), 0);
                if (c)
                        calls_finish(b, c, sbus_msg_type(m) == SBUS_ERROR ? -EREMOTEIO : 0, m);
                break;
        }
        case SBUS_SIGNAL:
                for (struct busconn_match *x = b->matches, *next; x; x = next) {
                        next = x->next;     /* the callback may drop its own match */
                        if (field_matches(x->path, sbus_msg_path(m)) &&
                            field_matches(x->interface, sbus_msg_interface(m)) &&
                            field_matches(x->member, sbus_msg_member(m))) {
                                sbus_rewind(m);     /* each reads it from the start */
                                x->cb(m, x->userdata);
                        }
                }
                break;
        case SBUS_CALL:
                if (!(b->serve_path && strcmp(sbus_msg_path(m), b->serve_path) == 0 && b->serve_fn(m, b->serve_data)))
                        call_unserved(b, m);
                break;
        }
}

static void dispatch(struct busconn *b) {
        while (b->queue) {
                struct busconn_queued *q = b->queue;
                b->queue = q->next;
                if (!b->queue)
                        b->queue_tail = &b->queue;
                struct sbus_msg *m = q->m;
                free(q);
                dispatch_one(b, m);
                sbus_msg_unref(m);
        }
        if (!b->connected && b->calls)
                calls_finish(b, calls_take(b, 0, UINT64_MAX), -ECONNRESET, NULL);
}

static int on_io(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct busconn *b = userdata;
        if (revents & EPOLLOUT)
                flush_out(b);
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                fill_in(b);
        dispatch(b);
        return 0;
}

static int on_defer(struct loop_source *s, void *userdata) {
        dispatch(userdata);
        return 0;
}

/* ---- connecting ---- */

/* One value of a D-Bus address, %XX escapes undone. */
static int address_value(const char *s, size_t n, char *out, size_t out_size) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                int c = (unsigned char)s[i];
                if (c == '%') {
                        uint8_t byte;
                        if (i + 2 >= n || hex_decode((char[]){ s[i + 1], s[i + 2], '\0' }, &byte, 1) < 0)
                                return -EINVAL;
                        c = byte;
                        i += 2;
                }
                if (o + 1 >= out_size)
                        return -ENAMETOOLONG;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return (int)o;
}

/* Connect to one "unix:path=…" or "unix:abstract=…" entry. */
static int connect_entry(const char *e, size_t n, int *ret_fd) {
        if (n < 5 || strncmp(e, "unix:", 5) != 0)
                return -EAFNOSUPPORT;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int len = -1;
        for (const char *k = e + 5, *end = e + n; k < end;) {
                const char *comma = memchr(k, ',', (size_t)(end - k));
                size_t kn = comma ? (size_t)(comma - k) : (size_t)(end - k);
                if (kn > 5 && strncmp(k, "path=", 5) == 0)
                        len = address_value(k + 5, kn - 5, sa.sun_path, sizeof sa.sun_path);
                else if (kn > 9 && strncmp(k, "abstract=", 9) == 0)
                        len = address_value(k + 9, kn - 9, sa.sun_path + 1, sizeof sa.sun_path - 1);
                k += kn + 1;
        }
        if (len < 0)
                return len == -1 ? -EAFNOSUPPORT : len;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* The path's NUL, or the abstract name's leading one. A local connect does not block
         * (a bus whose backlog is full refuses it); from then on the socket never blocks. */
        socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)len + 1);
        if (connect(fd, (struct sockaddr *)&sa, salen) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int send_by(int fd, const char *p, size_t n, uint64_t deadline) {
        while (n) {
                int ev = wait_fd(fd, POLLOUT, deadline);
                if (ev < 0)
                        return ev;
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (k > 0) {
                        p += k;
                        n -= (size_t)k;
                }
        }
        return 0;
}

/* The EXTERNAL mechanism: the bus knows our uid from the socket (SO_PEERCRED). */
static int authenticate(int fd, char *why, size_t why_size) {
        uint64_t deadline = now_usec_monotonic() + BUSCONN_TIMEOUT_MS * 1000ull;
        char uid[16], cmd[64];
        int n = snprintf(uid, sizeof uid, "%u", (unsigned)geteuid());
        int k = snprintf(cmd, sizeof cmd, "%cAUTH EXTERNAL ", '\0');
        for (int i = 0; i < n; i++)
                k += snprintf(cmd + k, sizeof cmd - (size_t)k, "%02x", (unsigned char)uid[i]);
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, "\r\n");
        int r = send_by(fd, cmd, (size_t)k, deadline);
        char line[256];
        size_t len = 0;
        while (r >= 0 && (len < 2 || memcmp(line + len - 2, "\r\n", 2) != 0)) {
                if (len + 1 >= sizeof line) {
                        r = -EBADMSG;
                        break;
                }
                int ev = wait_fd(fd, POLLIN, deadline);
                r = ev < 0 ? ev : 0;
                ssize_t got = r < 0 ? -1 : recv(fd, line + len, 1, 0);     /* the bus says one line, then waits */
                if (r >= 0 && got == 0)
                        r = -ECONNRESET;
                else if (got > 0)
                        len++;
                else if (r >= 0 && errno != EAGAIN && errno != EINTR)
                        r = -errno;
        }
        if (r < 0) {
                snprintf(why, why_size, "authentication: %s", strerror(-r));
                return r;
        }
        line[len - 2] = '\0';
        if (strncmp(line, "OK ", 3) != 0) {
                snprintf(why, why_size, "the bus refused EXTERNAL authentication as uid %s (%.80s)", uid, line);
                return -EACCES;
        }
        return send_by(fd, "BEGIN\r\n", 7, deadline);
}

static void read_machine_id(struct busconn *b) {
        _cleanup_free_ char *s = NULL;
        size_t n;
        if (read_file_capped("/etc/machine-id", 64, &s, &n) == 0 && n >= 32) {
                memcpy(b->machine_id, s, 32);
                b->machine_id[32] = '\0';
        }
}

int busconn_open_address(struct loop *l, const char *address, struct busconn **ret, char *why, size_t why_size) {
        char scratch[2];
        if (!why) {
                why = scratch;
                why_size = sizeof scratch;
        }
        int fd = -1, r = -EAFNOSUPPORT;
        for (const char *e = address; e && *e && fd < 0;) {
                size_t n = strcspn(e, ";");
                r = connect_entry(e, n, &fd);
                e += n + (e[n] == ';');
        }
        if (fd < 0) {
                snprintf(why, why_size, "cannot connect to %s: %s", address,
                         r == -EAFNOSUPPORT ? "no unix: address in it" : strerror(-r));
                return r;
        }
        r = authenticate(fd, why, why_size);
        if (r < 0) {
                close(fd);
                return r;
        }

        struct busconn *b = calloc(1, sizeof *b);
        if (!b) {
                close(fd);
                return -ENOMEM;
        }
        b->loop = l;
        b->fd = fd;
        b->connected = true;
        b->queue_tail = &b->queue;
        read_machine_id(b);
        struct sbus_msg *hello = sbus_call_new(DRIVER, DRIVER_PATH, DRIVER, "Hello"), *reply = NULL;
        const char *name;
        r = hello ? busconn_call_sync(b, hello, -1, &reply) : -ENOMEM;
        if (r >= 0)
                r = sbus_read(reply, "s", &name);
        if (r >= 0)
                r = (b->unique_name = strdup(name)) ? 0 : -ENOMEM;
        sbus_msg_unref(hello);
        sbus_msg_unref(reply);
        if (r >= 0)
                r = loop_add_io(l, fd, EPOLLIN, on_io, b, &b->io);
        if (r >= 0)
                r = loop_add_timer(l, on_timer, b, &b->timer);
        if (r >= 0)
                r = loop_add_timer(l, on_defer, b, &b->defer);
        if (r < 0) {
                snprintf(why, why_size, "Hello: %s", strerror(-r));
                busconn_free(b);
                return r;
        }
        b->io_events = EPOLLIN;
        want_events(b);
        if (b->queue)
                loop_timer_arm(b->defer, 0, 0);
        *ret = b;
        return 0;
}

int busconn_open(struct loop *l, bool system_bus, struct busconn **ret, char *why, size_t why_size) {
        const char *a = getenv(system_bus ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS");
        if (!a || !*a) {
                if (!system_bus) {
                        if (why)
                                snprintf(why, why_size, "DBUS_SESSION_BUS_ADDRESS is not set");
                        return -ENOENT;
                }
                a = SYSTEM_BUS_DEFAULT;
        }
        return busconn_open_address(l, a, ret, why, why_size);
}

const char *busconn_unique_name(const struct busconn *b) { return b ? b->unique_name : NULL; }
bool busconn_connected(const struct busconn *b) { return b && b->connected; }

struct busconn *busconn_free(struct busconn *b) {
        if (!b)
                return NULL;
        while (b->calls) {
                struct busconn_call *c = b->calls;
                b->calls = c->next;
                free(c);
        }
        while (b->matches)
                match_free(b, b->matches);
        /* What is still queued (a last reply, a signal) is worth one try. */
        flush_out(b);
        while (b->queue) {
                struct busconn_queued *q = b->queue;
                b->queue = q->next;
                sbus_msg_unref(q->m);
                free(q);
        }
        loop_source_free(b->io);
        loop_source_free(b->timer);
        loop_source_free(b->defer);
        if (b->fd >= 0)
                close(b->fd);
        free(b->in);
        free(b->out);
        free(b->unique_name);
        free(b->serve_path);
        free(b);
        return NULL;
}
