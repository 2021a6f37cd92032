/* copyrec.c — the record of what is copied to approved sticks: fanotify FAN_CLOSE_WRITE on their whole filesystems, one audit record per file, at most COPYREC_BURST per window and device, a summary for the rest. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copyrec.h"
#include "mountinfo.h"
#include "plugin.h"
#include "util.h"

#define COPYREC_CLAUSE "6.1.2(2)-1"
#define COPYREC_MAX_WATCHED 64       /* sticks mounted at once */
#define COPYREC_BUF (64 * 1024)      /* one read of fanotify events */
#define COPYREC_READS_PER_ROUND 8    /* then the loop's other sources get their turn */

struct watched {
        dev_t dev;
        struct copyrec_labels lab;
        struct copyrec_limit lim;
        bool seen;                   /* still in the mount table at the last scan */
};

struct copyrec {
        struct sekisho_plugin_handle *h;
        copyrec_identify_fn identify;
        void *ctx;
        int fan_fd, mi_fd;
        struct loop_source *fan_src, *mi_src, *timer;
        bool timer_armed;
        struct watched *w;
        size_t n, cap;
        uint64_t recorded, summarised, overflows;
        char *buf;
};

/* ---- the rate limit ---- */

bool copyrec_limit_due(const struct copyrec_limit *l, uint64_t now) {
        return l->window_start && now - l->window_start >= COPYREC_WINDOW_USEC && (l->summarised || l->overflow);
}

bool copyrec_limit_admit(struct copyrec_limit *l, uint64_t now) {
        if (l->window_start && now - l->window_start >= COPYREC_WINDOW_USEC && !l->summarised && !l->overflow)
                copyrec_limit_reset(l); /* a quiet window closes without a summary */
        if (!l->window_start)
                l->window_start = now ? now : 1;
        if (l->recorded >= COPYREC_BURST)
                return false;
        l->recorded++;
        return true;
}

void copyrec_limit_reset(struct copyrec_limit *l) {
        *l = (struct copyrec_limit){ 0 };
}

/* ---- records ---- */

static void summary(struct copyrec *c, struct watched *w) {
        char files[24], bytes[24], recorded[24];
        snprintf(files, sizeof files, "%" PRIu64, w->lim.summarised);
        snprintf(bytes, sizeof bytes, "%" PRIu64, w->lim.bytes);
        snprintf(recorded, sizeof recorded, "%" PRIu64, w->lim.recorded);
        struct audit_field f[] = {
                { "device", w->lab.name },
                { "serial", w->lab.serial },
                { "port", w->lab.port },
                { "files", files },
                { "bytes", bytes },
                { "recorded", recorded },
                { "overflow", w->lim.overflow ? "yes: the kernel's queue overflowed, more files were written than "
                                                "counted here"
                                              : "no" },
                { "why", "more files than the per-window limit of records: summarised" },
                { NULL, NULL },
        };
        sekisho_audit(c->h, "usb.copy.summary", COPYREC_CLAUSE, f);
        plog_info(c->h, "%s files (%s bytes) written to \"%s\" summarised%s", files, bytes, w->lab.name,
                  w->lim.overflow ? ", and more not counted (queue overflow)" : "");
        copyrec_limit_reset(&w->lim);
}

/* Who wrote it: the writer's real uid while it still runs, else the file's owner. */
static uid_t writer_uid(pid_t pid, const struct stat *st, const char **ret_from) {
        char path[64], *status = NULL;
        size_t len;
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        *ret_from = "file owner";
        if (pid <= 0 || read_file_capped(path, 4096, &status, &len) < 0)
                return st->st_uid;
        const char *u = strstr(status, "\nUid:");
        unsigned long uid;
        if (u && sscanf(u + 5, "%lu", &uid) == 1) {
                *ret_from = "writer";
                free(status);
                return (uid_t)uid;
        }
        free(status);
        return st->st_uid;
}

static void record(struct copyrec *c, struct watched *w, int fd, const struct stat *st, pid_t pid) {
        char link[64], name[PATH_MAX], size[24], uidtext[24], user[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, name, sizeof name - 1);
        name[k < 0 ? 0 : k] = '\0';
        if (k < 0)
                snprintf(name, sizeof name, "(unknown: %s)", strerror(errno));
        snprintf(size, sizeof size, "%lld", (long long)st->st_size);
        const char *from;
        uid_t uid = writer_uid(pid, st, &from);
        snprintf(uidtext, sizeof uidtext, "%lu", (unsigned long)uid);
        struct passwd pw, *found = NULL;
        char pwbuf[1024];
        if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found)
                snprintf(user, sizeof user, "%s", found->pw_name);
        else
                snprintf(user, sizeof user, "%s", uidtext);
        struct audit_field f[] = {
                { "file", name },    /* raw: the audit log escapes it */
                { "size", size },
                { "user", user },
                { "uid", uidtext },
                { "user-from", from },
                { "device", w->lab.name },
                { "serial", w->lab.serial },
                { "port", w->lab.port },
                { NULL, NULL },
        };
        sekisho_audit(c->h, "usb.copy", COPYREC_CLAUSE, f);
}

static struct watched *find(struct copyrec *c, dev_t dev) {
        for (size_t i = 0; i < c->n; i++)
                if (c->w[i].dev == dev)
                        return &c->w[i];
        return NULL;
}

/* The earliest window that owes a summary ends: wake then. */
static void arm(struct copyrec *c, uint64_t now) {
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < c->n; i++) {
                const struct copyrec_limit *l = &c->w[i].lim;
                if (l->window_start && (l->summarised || l->overflow) && l->window_start + COPYREC_WINDOW_USEC < next)
                        next = l->window_start + COPYREC_WINDOW_USEC;
        }
        if (next == UINT64_MAX) {
                if (c->timer_armed)
                        loop_timer_disarm(c->timer);
                c->timer_armed = false;
                return;
        }
        loop_timer_arm(c->timer, next > now ? next - now : 1, 0);
        c->timer_armed = true;
}

static void on_event(struct copyrec *c, const struct fanotify_event_metadata *m, uint64_t now) {
        if (m->mask & FAN_Q_OVERFLOW) {
                c->overflows++;
                for (size_t i = 0; i < c->n; i++) {
                        struct copyrec_limit *l = &c->w[i].lim;
                        if (!l->window_start)
                                l->window_start = now ? now : 1;
                        l->overflow = true;
                }
                return;
        }
        if (m->fd < 0)
                return;
        struct stat st;
        struct watched *w = fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) ? find(c, st.st_dev) : NULL;
        if (w) {
                if (copyrec_limit_due(&w->lim, now))
                        summary(c, w);
                if (copyrec_limit_admit(&w->lim, now)) {
                        c->recorded++;
                        record(c, w, m->fd, &st, m->pid);
                } else {
                        c->summarised++;
                        w->lim.summarised++;
                        w->lim.bytes += (uint64_t)st.st_size;
                }
        }
        close(m->fd);
}

int copyrec_drain(struct copyrec *c) {
        /* the buffer only once there is something to read: an idle daemon keeps its memory */
        if (!c->buf && !(c->buf = malloc(COPYREC_BUF)))
                return -ENOMEM;
        uint64_t now = now_usec_monotonic();
        for (int round = 0; round < COPYREC_READS_PER_ROUND; round++) {
                ssize_t k = read(c->fan_fd, c->buf, COPYREC_BUF);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        break;
                if (k < 0)
                        return -errno;
                const struct fanotify_event_metadata *m = (const void *)c->buf;
                for (size_t left = (size_t)k; FAN_EVENT_OK(m, left); m = FAN_EVENT_NEXT(m, left)) {
                        if (m->vers != FANOTIFY_METADATA_VERSION) {
                                if (m->fd >= 0)
                                        close(m->fd);
                                continue;
                        }
                        on_event(c, m, now);
                }
        }
        arm(c, now);
        return 0;
}

void copyrec_flush(struct copyrec *c) {
        for (size_t i = 0; c && i < c->n; i++)
                if (c->w[i].lim.summarised || c->w[i].lim.overflow)
                        summary(c, &c->w[i]);
}

/* ---- which filesystems ---- */

static void watch(struct copyrec *c, dev_t dev, const char *mp, bool ro) {
        struct copyrec_labels lab = { { 0 } };
        int r = c->identify(c->ctx, dev, mp, ro, &lab);
        if (r <= 0)
                return;
        if (c->n >= COPYREC_MAX_WATCHED || ARRAY_GROW(c->w, c->cap, c->n + 1) < 0) {
                plog_error(c->h, "copies to \"%s\" at %s are NOT recorded: too many sticks mounted", lab.name, mp);
                return;
        }
        if (fanotify_mark(c->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD, mp) < 0) {
                plog_error_errno(c->h, -errno, "copies to \"%s\" at %s are NOT recorded: fanotify_mark failed",
                                 lab.name, mp);
                return;
        }
        c->w[c->n++] = (struct watched){ .dev = dev, .lab = lab, .seen = true };
        plog_info(c->h, "recording files written to \"%s\" (serial %s), mounted at %s", lab.name, lab.serial, mp);
}

int copyrec_rescan(struct copyrec *c) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        for (size_t i = 0; i < c->n; i++)
                c->w[i].seen = false;
        char *line = NULL;
        size_t size = 0;
        while (getline(&line, &size, f) > 0) {
                struct mountinfo_entry m;
                if (mountinfo_parse_line(line, &m) < 0)
                        continue;
                dev_t dev = makedev(m.major, m.minor);
                struct watched *w = find(c, dev);
                if (w)
                        w->seen = true;
                else
                        watch(c, dev, m.mountpoint, m.read_only);
        }
        free(line);
        fclose(f);
        /* Gone: what it still owes is written, then it is forgotten (its mark went with the filesystem). */
        for (size_t i = 0; i < c->n;) {
                if (c->w[i].seen) {
                        i++;
                        continue;
                }
                if (c->w[i].lim.summarised || c->w[i].lim.overflow)
                        summary(c, &c->w[i]);
                plog_info(c->h, "\"%s\" unmounted", c->w[i].lab.name);
                c->w[i] = c->w[--c->n];
        }
        return 0;
}

static int on_fanotify(struct loop_source *src, int fd, uint32_t revents, void *userdata) {
        return copyrec_drain(userdata);
}

static int on_mountinfo(struct loop_source *src, int fd, uint32_t revents, void *userdata) {
        struct copyrec *c = userdata;
        if (c->n)
                copyrec_drain(c); /* files closed before an unmount belong to it */
        return copyrec_rescan(c);
}

static int on_timer(struct loop_source *src, void *userdata) {
        struct copyrec *c = userdata;
        c->timer_armed = false;
        copyrec_drain(c);
        uint64_t now = now_usec_monotonic();
        for (size_t i = 0; i < c->n; i++)
                if (copyrec_limit_due(&c->w[i].lim, now))
                        summary(c, &c->w[i]);
        arm(c, now);
        return 0;
}

int copyrec_new(struct sekisho_plugin_handle *h, copyrec_identify_fn identify, void *ctx, struct copyrec **ret) {
        struct copyrec *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->h = h;
        c->identify = identify;
        c->ctx = ctx;
        c->mi_fd = -1;
        int r = 0;
        /* Notification only: a writer never waits for us. A bounded queue
         * (16384 events): beyond, the kernel drops and says so once. */
        c->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC | O_NOATIME);
        if (c->fan_fd < 0 && errno == EPERM) /* O_NOATIME needs to own the file or CAP_FOWNER */
                c->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
        if (c->fan_fd < 0)
                r = -errno;
        if (r == 0 && (c->mi_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0)
                r = -errno;
        if (r == 0)
                r = loop_add_io(sekisho_loop(h), c->fan_fd, EPOLLIN, on_fanotify, c, &c->fan_src);
        if (r == 0) /* the mount table changed: EPOLLPRI */
                r = loop_add_io(sekisho_loop(h), c->mi_fd, EPOLLPRI, on_mountinfo, c, &c->mi_src);
        if (r == 0)
                r = loop_add_timer(sekisho_loop(h), on_timer, c, &c->timer);
        if (r < 0) {
                copyrec_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

struct copyrec *copyrec_free(struct copyrec *c) {
        if (!c)
                return NULL;
        if (c->fan_fd >= 0 && c->n)
                copyrec_drain(c);
        copyrec_flush(c);
        loop_source_free(c->fan_src);
        loop_source_free(c->mi_src);
        loop_source_free(c->timer);
        if (c->fan_fd >= 0)
                close(c->fan_fd);
        if (c->mi_fd >= 0)
                close(c->mi_fd);
        free(c->w);
        free(c->buf);
        free(c);
        return NULL;
}

void copyrec_counts(const struct copyrec *c, uint64_t *ret_recorded, uint64_t *ret_summarised, size_t *ret_watched,
                    uint64_t *ret_overflows) {
        *ret_recorded = c ? c->recorded : 0;
        *ret_summarised = c ? c->summarised : 0;
        *ret_watched = c ? c->n : 0;
        *ret_overflows = c ? c->overflows : 0;
}
