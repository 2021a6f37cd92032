/* inbox.c — the drop directory for bundles: a pair is read only when complete and quiet; nothing pushed is ever just deleted. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "freshness.h"
#include "inbox.h"
#include "timestamp.h"
#include "util.h"

#define SETTLE_USEC 300000u                /* a file untouched this long is complete */
#define HALF_BUNDLE_MAX_AGE (24 * 3600)    /* one half alone this long is moved aside */
#define REFUSED_KEEP 64                    /* pairs kept in inbox/refused/, oldest dropped */
#define WRITING_MAX 256                    /* names seen modified and not yet closed */
#define CLOCK_SKEW_USEC 60000000u          /* an mtime further ahead than this is a clock set back */

struct inbox {
        struct sekisho *ctx;
        char *dir, *refused;
        int fd;
        struct loop_source *io, *settle;
        bool settle_armed;
        /* Names a writer has open (IN_MODIFY without IN_CLOSE_WRITE yet). */
        char *writing[WRITING_MAX];
        size_t n_writing;
};

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a > b && strcmp(s + a - b, suffix) == 0;
}

static bool is_writing(const struct inbox *in, const char *name) {
        for (size_t i = 0; i < in->n_writing; i++)
                if (strcmp(in->writing[i], name) == 0)
                        return true;
        return false;
}

static void set_writing(struct inbox *in, const char *name, bool writing) {
        for (size_t i = 0; i < in->n_writing; i++)
                if (strcmp(in->writing[i], name) == 0) {
                        if (!writing) {
                                free(in->writing[i]);
                                in->writing[i] = in->writing[--in->n_writing];
                        }
                        return;
                }
        /* Full: the quiet-time and size checks still stand guard. */
        if (writing && in->n_writing < WRITING_MAX && (in->writing[in->n_writing] = strdup(name)))
                in->n_writing++;
}

static void arm_settle(struct inbox *in) {
        if (!in->settle_armed && loop_timer_arm(in->settle, SETTLE_USEC, 0) == 0)
                in->settle_armed = true;
}

/* Oldest first by name: refused entries are named "<unix time>.<n>-<original>". */
static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Keep at most REFUSED_KEEP pairs in refused/; drop the oldest with a record. */
static void prune_refused(struct inbox *in) {
        DIR *d = opendir(in->refused);
        if (!d)
                return;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".yaml.minisig")) {
                        if (n == cap) {
                                char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *nn);
                                if (!nn)
                                        break;
                                names = nn;
                        }
                        if (!(names[n] = strdup(de->d_name)))
                                break;
                        n++;
                }
        closedir(d);
        if (n)
                qsort(names, n, sizeof *names, name_cmp);
        for (size_t i = 0; i + REFUSED_KEEP * 2 < n; i++) {
                _cleanup_free_ char *path = path_join(in->refused, names[i]);
                if (path && unlink(path) == 0) {
                        const struct audit_field f[] = {
                                { "file", names[i] }, { "reason", "inbox/refused/ keeps the newest pairs only" }, { NULL },
                        };
                        core_audit(in->ctx, "inbox.refused-dropped", NULL, f);
                }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Move one inbox file to refused/ under a name that sorts by time. */
static void move_aside(struct inbox *in, const char *name, const char *stamp) {
        _cleanup_free_ char *from = path_join(in->dir, name), *to = NULL;
        if (!from || asprintf(&to, "%s/%s-%s", in->refused, stamp, name) < 0)
                return;
        if (rename(from, to) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "Cannot move %s to %s", from, in->refused);
}

static void refuse_pair(struct inbox *in, const char *yaml_name, bool both) {
        static unsigned counter;
        char stamp[48];
        snprintf(stamp, sizeof stamp, "%012lld.%06u", (long long)now_unix(), counter++ % 1000000);
        _cleanup_free_ char *sig_name = NULL;
        if (asprintf(&sig_name, "%s.minisig", yaml_name) < 0)
                return;
        move_aside(in, yaml_name, stamp);
        if (both)
                move_aside(in, sig_name, stamp);
        prune_refused(in);
}

/* A regular file, not modified for SETTLE_USEC and not open for writing. */
static bool quiet(const struct inbox *in, const char *name, const struct stat *st) {
        if (is_writing(in, name))
                return false;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t age_usec = ((int64_t)now.tv_sec - st->st_mtim.tv_sec) * 1000000 + (now.tv_nsec - st->st_mtim.tv_nsec) / 1000;
        /* A clock set back leaves files "in the future": they are not being written for that. */
        return age_usec >= (int64_t)SETTLE_USEC || age_usec < -(int64_t)CLOCK_SKEW_USEC;
}

/* Read a file we stat'ed; -EAGAIN if it changed while we read it. */
static int read_stable(const char *path, const struct stat *before, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        int r = read_fd_capped(fd, max, ret, ret_size);
        if (r < 0)
                return r;
        struct stat after;
        if (fstat(fd, &after) < 0 || after.st_ino != before->st_ino || after.st_size != before->st_size ||
            after.st_mtim.tv_sec != before->st_mtim.tv_sec || after.st_mtim.tv_nsec != before->st_mtim.tv_nsec ||
            (off_t)*ret_size != after.st_size) {
                free(*ret);
                *ret = NULL;
                return -EAGAIN;
        }
        return 0;
}

/* NAME.yaml (entry is either half): apply the pair once both are quiet. Returns true if it must be looked at again. */
static bool try_pair(struct inbox *in, const char *entry) {
        char base[NAME_MAX + 1];
        snprintf(base, sizeof base, "%s", entry);
        if (has_suffix(base, ".minisig"))
                base[strlen(base) - strlen(".minisig")] = '\0';
        if (!has_suffix(base, ".yaml") || base[0] == '.')
                return false;
        _cleanup_free_ char *yaml = path_join(in->dir, base), *sigpath = NULL;
        if (!yaml || asprintf(&sigpath, "%s.minisig", yaml) < 0)
                return false;
        _cleanup_free_ char *sname = NULL;
        if (asprintf(&sname, "%s.minisig", base) < 0)
                return false;
        struct stat a, b;
        bool have_a = lstat(yaml, &a) == 0, have_b = lstat(sigpath, &b) == 0;
        if (!have_a || !have_b) {
                /* One half alone: wait for the other, but not forever. */
                const struct stat *st = have_a ? &a : have_b ? &b : NULL;
                if (st && now_unix() - st->st_mtim.tv_sec > HALF_BUNDLE_MAX_AGE) {
                        const struct audit_field f[] = {
                                { "file", have_a ? yaml : sigpath }, { "moved-to", in->refused },
                                { "reason", "one half of a bundle alone for more than a day" }, { NULL },
                        };
                        log_warning("Inbox: %s has waited more than a day for its other half; moved to %s",
                                    have_a ? yaml : sigpath, in->refused);
                        core_audit(in->ctx, "inbox.half-bundle", NULL, f);
                        char stamp[48];
                        snprintf(stamp, sizeof stamp, "%012lld.half", (long long)now_unix());
                        move_aside(in, have_a ? base : sname, stamp);
                        prune_refused(in);
                }
                return false;
        }
        if (!quiet(in, base, &a) || !quiet(in, sname, &b))
                return true;
        char why[512];
        _cleanup_free_ char *data = NULL, *sig = NULL;
        size_t size = 0, sig_size = 0;
        /* NAME.timestamp.yaml: the repository's timestamp (freshness.c), not a bundle. */
        bool timestamp = has_suffix(base, ".timestamp.yaml");
        int r = read_stable(yaml, &a, timestamp ? TIMESTAMP_MAX_SIZE : POLICY_MAX_SIZE, &data, &size);
        int q = r < 0 ? 0 : read_stable(sigpath, &b, MINISIGN_MAX_FILE, &sig, &sig_size);
        if (r == -EAGAIN || q == -EAGAIN)
                return true; /* still being written after all */
        enum refusal rf;
        if (r == -EFBIG) {
                snprintf(why, sizeof why, "%s: larger than the limit of %u bytes", yaml,
                         timestamp ? TIMESTAMP_MAX_SIZE : POLICY_MAX_SIZE);
                sekisho_refusal_event(in->ctx, yaml, "inbox", rf = REFUSE_TOO_LARGE, why);
        } else if (r < 0 || q < 0) {
                snprintf(why, sizeof why, "%s: %s", r < 0 ? yaml : sigpath, strerror(r < 0 ? -r : -q));
                sekisho_refusal_event(in->ctx, yaml, "inbox", rf = r < 0 ? REFUSE_IO : REFUSE_SIGNATURE, why);
        } else if (timestamp)
                rf = freshness_offer(in->ctx, yaml, data, size, sig, sig_size, why, sizeof why);
        else
                rf = sekisho_apply_bundle(in->ctx, yaml, &data, size, sig, sig_size, "inbox", NULL, why, sizeof why);
        if (rf == REFUSE_NONE) {
                /* In the store now (or already was): the inbox copy has done its job. */
                unlink(yaml);
                unlink(sigpath);
        } else
                refuse_pair(in, base, true); /* kept for the officer, never just deleted */
        return false;
}

/* Every name in the inbox, however many. */
static int on_settle(struct loop_source *s, void *userdata) {
        struct inbox *in = userdata;
        in->settle_armed = false;
        DIR *d = opendir(in->dir);
        if (!d)
                return -errno;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (!has_suffix(de->d_name, ".yaml") && !has_suffix(de->d_name, ".yaml.minisig"))
                        continue;
                if (n == cap) {
                        char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *nn);
                        if (!nn) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nn;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        bool again = r < 0;
        for (size_t i = 0; i < n; i++) {
                again |= try_pair(in, names[i]); /* the pair's second name finds it gone: a no-op */
                free(names[i]);
        }
        free(names);
        if (again)
                arm_settle(in);
        return r;
}

static int on_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct inbox *in = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        if (ev->len && !(ev->mask & IN_ISDIR)) {
                                if (ev->mask & IN_MODIFY)
                                        set_writing(in, ev->name, true);
                                if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
                                        set_writing(in, ev->name, false);
                        }
                        /* Any event (an overflow too) ends in one scan of the whole inbox once it is quiet. */
                        arm_settle(in);
                        p += sizeof *ev + ev->len;
                }
        }
        return 0;
}

int inbox_start(struct sekisho *ctx, const char *dir, struct inbox **ret) {
        struct inbox *in = calloc(1, sizeof *in);
        if (!in)
                return -ENOMEM;
        in->ctx = ctx;
        in->fd = -1;
        in->dir = strdup(dir);
        in->refused = path_join(dir, "refused");
        int r = in->dir && in->refused ? mkdir_p(in->refused, 0700) : -ENOMEM;
        if (r == 0) {
                in->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (in->fd < 0 ||
                    inotify_add_watch(in->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY) < 0)
                        r = -errno;
        }
        if (r == 0)
                r = loop_add_io(ctx->loop, in->fd, EPOLLIN, on_inotify, in, &in->io);
        if (r == 0)
                r = loop_add_timer(ctx->loop, on_settle, in, &in->settle);
        if (r < 0) {
                inbox_free(in);
                return r;
        }
        /* What arrived while the daemon was not running: one scan once it has settled. */
        arm_settle(in);
        *ret = in;
        return 0;
}

struct inbox *inbox_free(struct inbox *in) {
        if (!in)
                return NULL;
        loop_source_free(in->io);
        loop_source_free(in->settle);
        closep(&in->fd);
        for (size_t i = 0; i < in->n_writing; i++)
                free(in->writing[i]);
        free(in->dir);
        free(in->refused);
        free(in);
        return NULL;
}
