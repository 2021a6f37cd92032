/* cgroup.c — the cgroups claimed destinations are reserved for: found in the cgroup v2 hierarchy, made when missing, watched so that a re-created one (a new id) reloads the rules. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"
#include "loop.h"
#include "net.h"
#include "netclaim.h"
#include "util.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR)

/* nft resolves `socket cgroupv2 level N "PATH"` as /sys/fs/cgroup/PATH (its
 * inode number is the cgroup's id): the hierarchy must be mounted there
 * (unified) or below it (hybrid: /sys/fs/cgroup/unified). */
#define CGROUP_FS "/sys/fs/cgroup"

struct net_cgwatch {
        struct loop *loop;
        void (*changed)(void *userdata);
        void *userdata;
        int fd;                         /* inotify on the claimed cgroups' parents (or nearest ancestors) */
        struct loop_source *src;
        char *in_force;                 /* NETCLAIMS_IN_FORCE below the state directory, or NULL */
        char mount[PATH_MAX];           /* the hierarchy's mount point, "" when none */
        char prefix[64];                /* mount below CGROUP_FS, "" or "unified/" */
        char **paths;                   /* what the loaded rules name, and the ids they got */
        uint64_t *ids;
        size_t n;
};

/* The cgroup2 mount at or below CGROUP_FS whose root is the hierarchy's. */
static int find_root(struct net_cgwatch *w) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_file_capped("/proc/self/mountinfo", 1u << 20, &text, &size);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
                char root[PATH_MAX], mnt[PATH_MAX];
                const char *sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0 ||
                    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 || strcmp(root, "/") != 0)
                        continue;
                size_t base = strlen(CGROUP_FS);
                if (strcmp(mnt, CGROUP_FS) == 0)
                        w->prefix[0] = '\0';
                else if (strncmp(mnt, CGROUP_FS "/", base + 1) == 0 && strlen(mnt + base + 1) + 2 <= sizeof w->prefix &&
                         !strchr(mnt + base + 1, '\\')) { /* no octal escapes: it goes into the script */
                        size_t len = strlen(mnt + base + 1);
                        memcpy(w->prefix, mnt + base + 1, len);
                        memcpy(w->prefix + len, "/", 2);
                } else
                        continue;
                snprintf(w->mount, sizeof w->mount, "%s", mnt);
                return 0;
        }
        return -ENOENT;
}

/* mkdir -p below the mount; 0 when it is there afterwards. */
static int make_cgroup(const char *mount, const char *path, uint64_t *ret_id) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", mount, path) >= (int)sizeof p)
                return -ENAMETOOLONG;
        for (char *s = p + strlen(mount) + 1;; s++) {
                bool end = *s == '\0';
                if (*s == '/' || end) {
                        *s = '\0';
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        if (!end)
                                *s = '/';
                }
                if (end)
                        break;
        }
        struct stat st;
        if (stat(p, &st) < 0)
                return -errno;
        *ret_id = st.st_ino;
        return 0;
}

static uint64_t cgroup_id(const struct net_cgwatch *w, const char *path) {
        char p[PATH_MAX];
        struct stat st;
        if (snprintf(p, sizeof p, "%s/%s", w->mount, path) >= (int)sizeof p || stat(p, &st) < 0)
                return 0;
        return st.st_ino;
}

/* Watch each claimed cgroup's parent, or its nearest existing ancestor
 * while the parent is missing (the launcher's service cgroup before the
 * service starts): called again on every event, so each level is watched
 * as it appears and the claimed cgroup's own appearance is never missed.
 * Watching a directory twice is one watch. */
static void arm(struct net_cgwatch *w) {
        for (size_t i = 0; w->fd >= 0 && i < w->n; i++) {
                char p[PATH_MAX];
                if (snprintf(p, sizeof p, "%s/%s", w->mount, w->paths[i]) >= (int)sizeof p)
                        continue; /* make_cgroup() refused such a path already */
                char *cut = strrchr(p, '/');
                while (cut && cut >= p + strlen(w->mount)) {
                        *cut = '\0';
                        if (inotify_add_watch(w->fd, p, WATCH_MASK) >= 0 || errno != ENOENT)
                                break;
                        cut = strrchr(p, '/');
                }
        }
}

/* Something was made or removed next to a claimed cgroup: if one of them
 * is gone or has another id now, the rules name a dead id. */
static int on_event(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        (void)s, (void)revents;
        struct net_cgwatch *w = userdata;
        _Alignas(struct inotify_event) char buf[4096];
        while (read(fd, buf, sizeof buf) > 0)
                ;
        arm(w);
        for (size_t i = 0; i < w->n; i++)
                if (cgroup_id(w, w->paths[i]) != w->ids[i]) {
                        w->changed(w->userdata);
                        break;
                }
        return 0;
}

int net_cgwatch_new(struct loop *loop, const char *in_force, void (*changed)(void *userdata), void *userdata,
                    struct net_cgwatch **ret) {
        struct net_cgwatch *w = calloc(1, sizeof *w);
        if (!w || (in_force && !(w->in_force = strdup(in_force)))) {
                free(w);
                return -ENOMEM;
        }
        w->loop = loop;
        w->changed = changed;
        w->userdata = userdata;
        w->fd = -1;
        *ret = w;
        net_cgwatch_publish(w); /* nothing in force of ours is proven until the first load */
        return 0;
}

void net_cgwatch_publish(struct net_cgwatch *w) {
        if (!w->in_force)
                return;
        _cleanup_free_ char *text = NULL, *dir = strdup(w->in_force);
        int r = dir && netclaims_in_force_format(w->paths, w->ids, w->n, &text) == 0 ? 0 : -ENOMEM;
        if (r == 0) {
                *strrchr(dir, '/') = '\0';
                r = mkdir_p(dir, 0700);
        }
        if (r == 0)
                r = write_file_atomic(w->in_force, text, strlen(text), 0600);
        if (r < 0) /* the launcher then waits its bound before starting a client: slower, never wider */
                log_warning_errno(r, "network: cannot write %s", w->in_force);
}

static void forget(struct net_cgwatch *w) {
        w->src = loop_source_free(w->src);
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
        for (size_t i = 0; i < w->n; i++)
                free(w->paths[i]);
        free(w->paths);
        free(w->ids);
        w->paths = NULL;
        w->ids = NULL;
        w->n = 0;
}

struct net_cgwatch *net_cgwatch_free(struct net_cgwatch *w) {
        if (w) {
                forget(w);
                free(w->in_force);
                free(w);
        }
        return NULL;
}

int net_cgwatch_prepare(struct net_cgwatch *w, struct net_resolved *res) {
        forget(w);
        res->cg_prefix = NULL;
        if (res->claims.n == 0)
                return 0;
        int r = find_root(w);
        if (r < 0) {
                for (size_t i = 0; i < res->claims.n; i++)
                        res->claims.v[i].cg_missing = true;
                return log_error_errno(r, "network: no cgroup v2 hierarchy at " CGROUP_FS ": claimed destinations "
                                          "are refused to every program");
        }
        res->cg_prefix = w->prefix;
        w->paths = calloc(res->claims.n, sizeof *w->paths);
        w->ids = calloc(res->claims.n, sizeof *w->ids);
        w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (!w->paths || !w->ids)
                return -ENOMEM;
        for (size_t i = 0; i < res->claims.n; i++) {
                struct net_dest *d = &res->claims.v[i];
                uint64_t id = 0;
                r = d->cgroup ? make_cgroup(w->mount, d->cgroup, &id) : -EINVAL; /* NULL: a claim named a bad path */
                d->cg_missing = r < 0;
                if (r < 0) {
                        /* Under sekishod's unit the cgroup tree is read-only: the cgroup's owner (the VDI
                         * launcher service, in its delegated subtree) makes it, and the watch below
                         * reloads the rules when it appears. Fail-closed until then. */
                        bool owner_makes_it = d->cgroup && (r == -EROFS || r == -EACCES || r == -EPERM);
                        if (!owner_makes_it) {
                                log_error_errno(r, "network: cannot make cgroup %s/%s: its claimed destinations are refused "
                                                   "to every program", w->mount, d->cgroup ? d->cgroup : "(invalid)");
                                continue;
                        }
                        log_info("network: cgroup %s/%s does not exist yet and only its owner may make it here: its "
                                 "claimed destinations are refused to every program until it appears", w->mount, d->cgroup);
                        id = 0; /* watched: its appearance is a new id, which reloads the rules */
                }
                size_t k = 0;
                while (k < w->n && strcmp(w->paths[k], d->cgroup) != 0)
                        k++;
                if (k < w->n)
                        continue;
                if (!(w->paths[w->n] = strdup(d->cgroup)))
                        return -ENOMEM;
                w->ids[w->n++] = id;
        }
        arm(w);
        if (w->fd < 0 || loop_add_io(w->loop, w->fd, EPOLLIN, on_event, w, &w->src) < 0)
                log_warning("network: cannot watch the claimed cgroups; a re-created one is noticed at the next change");
        return 0;
}
