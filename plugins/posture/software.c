/* software.c — finds installed software beyond dpkg: rpm packages (librpm), Flatpaks, snaps, AppImages, and forbidden programs in every wine prefix. */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef HAVE_RPM
#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmts.h>
#endif

#include "dl.h"
#include "facts.h"
#include "pever.h"
#include "util.h"

/* Bounds of the file-system walks: a BYOD home holds anything. */
#define HOMES_MAX 256            /* home directories looked at */
#define HOME_DEPTH 5             /* ~/.local/share/bottles/bottles/NAME is 5 below the home */
#define HOME_ENTRIES 20000       /* directory entries per home */
#define PREFIX_DEPTH 6           /* below drive_c */
#define PREFIX_ENTRIES 20000     /* directory entries per wine prefix */
#define WALK_SECONDS 3           /* all homes together */
#define APPS_MAX 4096            /* Flatpaks or snaps per installation */

const char *sw_source_name(enum sw_source s) {
        static const char *const n[_SW_MAX] = {
                [SW_DPKG] = "dpkg",       [SW_RPM] = "rpm",   [SW_FLATPAK] = "flatpak",    [SW_FLATPAK_USER] = "flatpak --user",
                [SW_SNAP] = "snap",       [SW_APPIMAGE] = "AppImage", [SW_WINE] = "wine",
        };
        return (unsigned)s < _SW_MAX ? n[s] : "?";
}

int swlist_add(struct swlist *l, enum sw_source src, const char *name, const char *version, const char *where) {
        if (l->n >= SWLIST_MAX)
                return -E2BIG;
        if (ARRAY_GROW(l->v, l->cap, l->n + 1) < 0)
                return -ENOMEM;
        struct sw_item it = { .src = src, .name = strdup(name), .version = strdup(version ? version : ""),
                              .where = strdup(where ? where : "") };
        if (!it.name || !it.version || !it.where) {
                free(it.name);
                free(it.version);
                free(it.where);
                return -ENOMEM;
        }
        l->v[l->n++] = it;
        return 0;
}

void swlist_clear(struct swlist *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].version);
                free(l->v[i].where);
        }
        free(l->v);
        *l = (struct swlist){ 0 };
}

bool sw_name_forbidden(const char *const *patterns, const char *name, bool casefold) {
        for (const char *const *p = patterns; p && *p; p++) {
                /* The literal prefix rules out most names before fnmatch(). */
                size_t lit = strcspn(*p, "*?[\\");
                if ((casefold ? strncasecmp : strncmp)(*p, name, lit) == 0 &&
                    fnmatch(*p, name, casefold ? FNM_CASEFOLD : 0) == 0)
                        return true;
        }
        return false;
}

bool sw_forbidden(const char *const *patterns, const struct sw_item *it) {
        if (it->src == SW_DPKG)
                return sw_name_forbidden(patterns, it->name, false);
        if (sw_name_forbidden(patterns, it->name, true))
                return true;
        char alt[256];
        if (it->src == SW_FLATPAK || it->src == SW_FLATPAK_USER) {
                const char *dot = strrchr(it->name, '.');
                return dot && dot[1] && sw_name_forbidden(patterns, dot + 1, true);
        }
        if (it->src != SW_APPIMAGE)
                return false;
        snprintf(alt, sizeof alt, "%s", it->name);
        size_t l = strlen(alt);
        if (l > 9 && strcasecmp(alt + l - 9, ".appimage") == 0)
                alt[l - 9] = '\0';
        if (sw_name_forbidden(patterns, alt, true))
                return true;
        for (size_t i = 0; alt[i]; i++)
                if (strchr("-_. ", alt[i]) && (isdigit((unsigned char)alt[i + 1]) || alt[i + 1] == 'v')) {
                        alt[i] = '\0';
                        return sw_name_forbidden(patterns, alt, true);
                }
        return false;
}

const char *os_package_db(const char *id) {
        static const char *const dpkg[] = { "debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali", "devuan",
                                            "elementary", "zorin", "deepin", "uos", "neon", "mx", NULL };
        static const char *const rpm[] = { "fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn",
                                           "opensuse-leap", "opensuse-tumbleweed", "opensuse-slowroll", "sles", "sled",
                                           "mageia", "openmandriva", "openeuler", "anolis", "euleros", NULL };
        for (const char *const *p = dpkg; *p; p++)
                if (strcmp(*p, id) == 0)
                        return "dpkg";
        for (const char *const *p = rpm; *p; p++)
                if (strcmp(*p, id) == 0)
                        return "rpm";
        return NULL;
}

/* ------------------------------------------------------------------ */
/* rpm                                                                 */

#ifdef HAVE_RPM
/* librpm (with librpmio, liblua, libsqlite3 and more behind it) is loaded
 * by the core's one loader when a root first has an rpm database: most
 * terminals are Debian and never map it (daemon/dl.c says why). */
#define RPM_FUNCS(X) \
        X(headerGetString) X(rpmdbFreeIterator) X(rpmdbIndexIteratorFree) X(rpmdbIndexIteratorInit) \
        X(rpmdbIndexIteratorNext) X(rpmdbNextIterator) X(rpmlogSetMask) X(rpmPopMacro) X(rpmPushMacro) \
        X(rpmReadConfigFiles) X(rpmtsCreate) X(rpmtsFree) X(rpmtsGetRdb) X(rpmtsInitIterator) X(rpmtsOpenDB) \
        X(rpmtsSetRootDir) X(rpmtsSetVSFlags)
static struct {
        RPM_FUNCS(DL_FIELD)
} rpmlib;
static char rpm_load_error[256];

/* librpm keeps its configuration in process-wide state: load and read it
 * once. -ELIBACC/-ELIBBAD with rpm_load_error naming the library. */
static int rpm_configure(void) {
        static int configured = 0;
        static const char *const libs[] = { "librpm.so.9", "librpmio.so.9", NULL };
        if (configured == 0) {
                int r = DL_LOAD(rpmlib, RPM_FUNCS, libs, rpm_load_error, sizeof rpm_load_error);
                if (r < 0)
                        return r; /* tried again next time: a library may be installed meanwhile */
                rpmlib.rpmlogSetMask(RPMLOG_UPTO(RPMLOG_CRIT));
                configured = rpmlib.rpmReadConfigFiles(NULL, NULL) == 0 ? 1 : -1;
        }
        return configured > 0 ? 0 : -EIO;
}

/* The names from the rpmdb's Name index (no header is loaded: a header is
 * kilobytes, and 2000 of them were most of a check's time); the version
 * only of a name that is forbidden, for the evidence. */
static int rpm_read(const char *root, const char *dbpath, const char *const *forbidden, struct posture_facts *f) {
        int r = rpm_configure();
        if (r < 0)
                return r;
        rpmlib.rpmPushMacro(NULL, "_dbpath", NULL, dbpath, RMIL_CMDLINE);
        rpmts ts = rpmlib.rpmtsCreate();
        if (!ts || rpmlib.rpmtsSetRootDir(ts, root) != 0 || rpmlib.rpmtsOpenDB(ts, O_RDONLY) != 0)
                r = -EIO;
        else {
                rpmlib.rpmtsSetVSFlags(ts, _RPMVSF_NOSIGNATURES | _RPMVSF_NODIGESTS);
                rpmdbIndexIterator ii = rpmlib.rpmdbIndexIteratorInit(rpmlib.rpmtsGetRdb(ts), RPMDBI_NAME);
                const void *key;
                size_t kl;
                if (!ii)
                        r = -EIO;
                while (r == 0 && ii && rpmlib.rpmdbIndexIteratorNext(ii, &key, &kl) == 0) {
                        char name[256];
                        if (kl == 0 || kl >= sizeof name || memchr(key, '\0', kl))
                                continue;
                        memcpy(name, key, kl);
                        name[kl] = '\0';
                        char ver[160] = "";
                        struct sw_item probe = { .src = SW_RPM, .name = name };
                        if (sw_forbidden(forbidden, &probe)) {
                                rpmdbMatchIterator mi = rpmlib.rpmtsInitIterator(ts, RPMDBI_NAME, name, 0);
                                Header h = mi ? rpmlib.rpmdbNextIterator(mi) : NULL;
                                if (h) {
                                        const char *v = rpmlib.headerGetString(h, RPMTAG_VERSION),
                                                   *rel = rpmlib.headerGetString(h, RPMTAG_RELEASE);
                                        snprintf(ver, sizeof ver, "%.80s%s%.70s", v ? v : "", rel ? "-" : "",
                                                 rel ? rel : "");
                                }
                                rpmlib.rpmdbFreeIterator(mi);
                        }
                        /* One entry per name: several installed versions (kernels) count once. */
                        r = swlist_add(&f->sw, SW_RPM, name, ver, NULL);
                        if (r == 0)
                                f->n_by_source[SW_RPM]++;
                }
                rpmlib.rpmdbIndexIteratorFree(ii);
        }
        if (ts)
                rpmlib.rpmtsFree(ts);
        rpmlib.rpmPopMacro(NULL, "_dbpath");
        return r;
}
#endif

/* Fedora keeps the rpmdb in /usr/lib/sysimage/rpm (with /var/lib/rpm a
 * link to it), older systems and openSUSE in /var/lib/rpm; the backend
 * (sqlite, ndb, bdb) is recognised by librpm from its files. */
static void gather_rpm(int rootfd, const char *root, const char *const *forbidden, struct posture_facts *f) {
        static const char *const dirs[] = { "/usr/lib/sysimage/rpm", "/var/lib/rpm" };
        static const char *const files[] = { "rpmdb.sqlite", "Packages.db", "Packages" };
        const char *dbpath = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(dirs) && !dbpath; i++)
                for (size_t j = 0; j < ARRAY_SIZE(files) && !dbpath; j++) {
                        char p[96];
                        snprintf(p, sizeof p, "%s/%s", dirs[i], files[j]);
                        if (root_exists(rootfd, p))
                                dbpath = dirs[i];
                }
        if (!dbpath)
                return;
        f->rpm_present = true;
#ifdef HAVE_RPM
        int r = rpm_read(root, dbpath, forbidden, f);
        if (r < 0) {
                if (r == -ELIBACC || r == -ELIBBAD)
                        snprintf(f->rpm_reason, sizeof f->rpm_reason, "rpm database %s: cannot load librpm: %.200s",
                                 dbpath, rpm_load_error);
                else
                        snprintf(f->rpm_reason, sizeof f->rpm_reason, "rpm database %s: %s", dbpath,
                                 r == -EIO ? "librpm cannot open it" : strerror(-r));
                return;
        }
        f->rpm_known = true;
#else
        (void)root;
        (void)forbidden;
        snprintf(f->rpm_reason, sizeof f->rpm_reason,
                 "rpm database %s: sekisho was built without librpm (configure --with-rpm)", dbpath);
#endif
}

/* ------------------------------------------------------------------ */
/* Flatpak and snap                                                    */

static bool name_ok(const char *s, size_t max) {
        size_t n = strlen(s);
        if (n == 0 || n > max || s[0] == '.')
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("._-+", *s))
                        return false;
        return true;
}

/* A Flatpak installation's apps: app/ID/current -> ARCH/BRANCH, whose
 * "active" link names the deployed commit (a real deploy has its metadata). */
static void flatpak_apps(int rootfd, const char *inst, enum sw_source src, struct posture_facts *f) {
        char path[640];
        snprintf(path, sizeof path, "%s/app", inst);
        _cleanup_closedir_ DIR *d = root_opendir(rootfd, path);
        struct dirent *de;
        unsigned n = 0;
        while (d && (de = readdir(d)) && n++ < APPS_MAX) {
                if (!name_ok(de->d_name, 255))
                        continue;
                snprintf(path, sizeof path, "%s/app/%s/current/active/metadata", inst, de->d_name);
                if (!root_exists(rootfd, path))
                        continue;   /* not deployed (an interrupted install leaves no active) */
                snprintf(path, sizeof path, "%s/app/%s", inst, de->d_name);
                if (swlist_add(&f->sw, src, de->d_name, NULL, path) == 0)
                        f->n_by_source[src]++;
        }
}

/* Snaps: /snap/NAME/current (mounted), or NAME_REV.snap kept by snapd. */
static void snaps(int rootfd, struct posture_facts *f) {
        _cleanup_closedir_ DIR *d = root_opendir(rootfd, "/var/lib/snapd/snaps");
        struct dirent *de;
        unsigned n = 0;
        while (d && (de = readdir(d)) && n++ < APPS_MAX) {
                size_t l = strlen(de->d_name);
                const char *us = strrchr(de->d_name, '_');
                if (l < 6 || strcmp(de->d_name + l - 5, ".snap") != 0 || !us || us == de->d_name)
                        continue;
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)(us - de->d_name > 127 ? 127 : us - de->d_name), de->d_name);
                if (!name_ok(name, 127))
                        continue;
                bool dup = false;
                for (size_t i = 0; i < f->sw.n && !dup; i++)
                        dup = f->sw.v[i].src == SW_SNAP && strcmp(f->sw.v[i].name, name) == 0;
                char where[300], rev[64];
                snprintf(rev, sizeof rev, "r%.*s", (int)(l - 5 - (size_t)(us + 1 - de->d_name)) > 60 ? 60 :
                         (int)(l - 5 - (size_t)(us + 1 - de->d_name)), us + 1);
                snprintf(where, sizeof where, "/var/lib/snapd/snaps/%.255s", de->d_name);
                if (!dup && swlist_add(&f->sw, SW_SNAP, name, rev, where) == 0)
                        f->n_by_source[SW_SNAP]++;
        }
        _cleanup_closedir_ DIR *s = root_opendir(rootfd, "/snap");
        n = 0;
        while (s && (de = readdir(s)) && n++ < APPS_MAX) {
                if (!name_ok(de->d_name, 127) || strcmp(de->d_name, "bin") == 0)
                        continue;
                char path[300];
                snprintf(path, sizeof path, "/snap/%s/current", de->d_name);
                if (!root_exists(rootfd, path))
                        continue;
                bool dup = false;
                for (size_t i = 0; i < f->sw.n && !dup; i++)
                        dup = f->sw.v[i].src == SW_SNAP && strcmp(f->sw.v[i].name, de->d_name) == 0;
                snprintf(path, sizeof path, "/snap/%s", de->d_name);
                if (!dup && swlist_add(&f->sw, SW_SNAP, de->d_name, NULL, path) == 0)
                        f->n_by_source[SW_SNAP]++;
        }
}

/* ------------------------------------------------------------------ */
/* AppImages and wine prefixes: one bounded walk of each home          */

struct walk {
        struct posture_facts *f;
        const char *const *wine;       /* patterns */
        size_t budget;                 /* entries left in this home */
        dev_t dev;                     /* do not cross into other file systems */
        struct timespec deadline;
        bool stopped;                  /* budget or time ran out somewhere */
};

static bool walk_expired(struct walk *w) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > w->deadline.tv_sec ||
            (now.tv_sec == w->deadline.tv_sec && now.tv_nsec >= w->deadline.tv_nsec))
                w->stopped = true;
        return w->stopped;
}

static void note_stop(struct walk *w, const char *path, const char *what) {
        w->stopped = true;
        if (!w->f->scan_note[0])
                snprintf(w->f->scan_note, sizeof w->f->scan_note, "search stopped at %.180s (%s)", path, what);
}

/* ELF with the AppImage magic "AI" and the type (1: ISO 9660, 2: squashfs) at offset 8. */
static bool is_appimage(int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        uint8_t h[11];
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
                return false;
        return memcmp(h, "\177ELF", 4) == 0 && h[8] == 'A' && h[9] == 'I' && (h[10] == 1 || h[10] == 2);
}

static bool suffix_ci(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static void add_appimage(struct walk *w, const char *path, const char *name) {
        for (size_t i = 0; i < w->f->sw.n; i++)
                if (w->f->sw.v[i].src == SW_APPIMAGE && strcmp(w->f->sw.v[i].where, path) == 0)
                        return;
        if (swlist_add(&w->f->sw, SW_APPIMAGE, name, NULL, path) == 0)
                w->f->n_by_source[SW_APPIMAGE]++;
}

static const char *wine_match(const char *const *patterns, const char *name) {
        for (const char *const *p = patterns; p && *p; p++)
                if (fnmatch(*p, name, FNM_CASEFOLD) == 0)
                        return *p;
        return NULL;
}

/* Does this executable say, in its version resource, that it is a forbidden
 * program (renamed files keep their OriginalFilename and InternalName)? */
static bool pe_forbidden(int dirfd, const char *name, const char *const *patterns, char *ev, size_t ev_size) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *data = NULL;
        size_t n;
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PE_READ_MAX ||
            read_fd_capped(fd, PE_READ_MAX, &data, &n) < 0)
                return false;
        struct pe_version v;
        if (pe_version_parse((const uint8_t *)data, n, &v) < 0)
                return false;
        const char *cands[] = { v.original_filename, v.internal_name };
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
                char exe[PE_STRING_MAX + 8];
                if (!cands[i][0])
                        continue;
                snprintf(exe, sizeof exe, "%s%s", cands[i], suffix_ci(cands[i], ".exe") ? "" : ".exe");
                if (wine_match(patterns, exe)) {
                        snprintf(ev, ev_size, "%s \"%.60s\" (%.60s)", i == 0 ? "OriginalFilename" : "InternalName",
                                 cands[i], v.product_name[0] ? v.product_name : v.file_description);
                        return true;
                }
        }
        return false;
}

static void prefix_walk(struct walk *w, DIR *d, const char *path, unsigned depth, size_t *budget) {
        struct dirent *de;
        while ((de = readdir(d))) {
                if (*budget == 0 || walk_expired(w)) {
                        note_stop(w, path, *budget == 0 ? "too many files" : "time limit");
                        return;
                }
                (*budget)--;
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                char sub[1024];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub)
                        continue;
                unsigned char type = de->d_type;
                struct stat st;
                if (type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
                if (type == DT_DIR) {
                        /* drive_c/windows holds wine's own programs. */
                        if (depth == 0 || (depth == PREFIX_DEPTH && strcasecmp(de->d_name, "windows") == 0))
                                continue;
                        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        DIR *s = fd >= 0 ? fdopendir(fd) : NULL;
                        if (!s) {
                                if (fd >= 0)
                                        close(fd);
                                continue;
                        }
                        prefix_walk(w, s, sub, depth - 1, budget);
                        closedir(s);
                } else if (type == DT_REG) {
                        const char *hit = wine_match(w->wine, de->d_name);
                        char ev[200] = "";
                        if (!hit && suffix_ci(de->d_name, ".exe") && pe_forbidden(dirfd(d), de->d_name, w->wine, ev, sizeof ev))
                                hit = "version resource";
                        if (hit)
                                (void)swlist_add(&w->f->wine, SW_WINE, de->d_name, ev[0] ? ev : "file name", sub);
                }
        }
}

/* A wine prefix is a directory with drive_c/ and system.reg (wine, Bottles, Lutris, PlayOnLinux alike). */
static bool wine_prefix(int dirfd) {
        struct stat a, b;
        return fstatat(dirfd, "drive_c", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(a.st_mode) &&
               fstatat(dirfd, "system.reg", &b, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(b.st_mode);
}

static bool skip_dir(const char *name) {
        static const char *const skip[] = { ".cache", ".git", "node_modules", ".npm", ".cargo", ".rustup", ".var",
                                            "snap", ".mozilla", ".thunderbird", ".steam", NULL };
        for (const char *const *s = skip; *s; s++)
                if (strcmp(*s, name) == 0)
                        return true;
        return false;
}

/* Directories where people keep AppImages: every regular file there is checked by its magic. */
static bool appimage_place(const char *rel) {
        static const char *const places[] = { "Applications", "Downloads", "Desktop", "bin", ".local/bin",
                                              "AppImages", "Apps", "opt", NULL };
        for (const char *const *p = places; *p; p++)
                if (strcmp(*p, rel) == 0)
                        return true;
        return false;
}

/* Visit directory d (path, rel: its path below the home) at depth. */
static void home_walk(struct walk *w, DIR *d, const char *path, const char *rel, unsigned depth) {
        if (wine_prefix(dirfd(d))) {
                w->f->wine_prefixes++;
                int fd = openat(dirfd(d), "drive_c", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *c = fd >= 0 ? fdopendir(fd) : NULL;
                if (c) {
                        char cpath[1024];
                        size_t budget = PREFIX_ENTRIES;
                        snprintf(cpath, sizeof cpath, "%s/drive_c", path);
                        prefix_walk(w, c, cpath, PREFIX_DEPTH, &budget);
                        closedir(c);
                } else if (fd >= 0)
                        close(fd);
                return;
        }
        if (depth >= HOME_DEPTH)
                return;
        bool place = appimage_place(rel);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (w->budget == 0 || walk_expired(w)) {
                        note_stop(w, path, w->budget == 0 ? "too many files" : "time limit");
                        return;
                }
                w->budget--;
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                char sub[1024], subrel[512];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub ||
                    (size_t)snprintf(subrel, sizeof subrel, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= sizeof subrel)
                        continue;
                struct stat st;
                unsigned char type = de->d_type;
                if (type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
                if (type == DT_DIR) {
                        if (skip_dir(de->d_name))
                                continue;
                        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        if (fstat(fd, &st) < 0 || st.st_dev != w->dev) {
                                close(fd);
                                continue;
                        }
                        DIR *s = fdopendir(fd);
                        if (!s) {
                                close(fd);
                                continue;
                        }
                        home_walk(w, s, sub, subrel, depth + 1);
                        closedir(s);
                } else if (type == DT_REG && (place || suffix_ci(de->d_name, ".appimage")) &&
                           is_appimage(dirfd(d), de->d_name))
                        add_appimage(w, sub, de->d_name);
        }
}

static void walk_home(int rootfd, const char *home, struct walk *w) {
        _cleanup_closedir_ DIR *d = root_opendir(rootfd, home);
        struct stat st;
        if (!d || fstat(dirfd(d), &st) < 0)
                return;
        w->dev = st.st_dev;
        w->budget = HOME_ENTRIES;
        home_walk(w, d, home, "", 0);
}

/* System places for AppImages: /opt (two levels) and /usr/local/bin. */
static void system_appimages(int rootfd, struct walk *w) {
        static const char *const dirs[] = { "/opt", "/usr/local/bin", "/Applications" };
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_closedir_ DIR *d = root_opendir(rootfd, dirs[i]);
                struct dirent *de;
                unsigned n = 0;
                while (d && (de = readdir(d)) && n++ < 4096) {
                        char path[600];
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof path, "%s/%.255s", dirs[i], de->d_name);
                        if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) && is_appimage(dirfd(d), de->d_name))
                                add_appimage(w, path, de->d_name);
                        else if (de->d_type == DT_DIR && i == 0) {
                                _cleanup_closedir_ DIR *s = root_opendir(rootfd, path);
                                struct dirent *e;
                                unsigned m = 0;
                                while (s && (e = readdir(s)) && m++ < 256) {
                                        char p2[900];
                                        snprintf(p2, sizeof p2, "%s/%.255s", path, e->d_name);
                                        if (e->d_name[0] != '.' && (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) &&
                                            is_appimage(dirfd(s), e->d_name))
                                                add_appimage(w, p2, e->d_name);
                                }
                        }
                }
        }
}

void gather_software(int rootfd, const char *root, const char *const *forbidden, const char *const *wine_patterns,
                     struct posture_facts *f) {
        gather_rpm(rootfd, root, forbidden, f);
        flatpak_apps(rootfd, "/var/lib/flatpak", SW_FLATPAK, f);
        snaps(rootfd, f);

        struct walk w = { .f = f, .wine = wine_patterns };
        clock_gettime(CLOCK_MONOTONIC, &w.deadline);
        w.deadline.tv_sec += WALK_SECONDS;
        system_appimages(rootfd, &w);
        walk_home(rootfd, "/root", &w);
        flatpak_apps(rootfd, "/root/.local/share/flatpak", SW_FLATPAK_USER, f);
        _cleanup_closedir_ DIR *home = root_opendir(rootfd, "/home");
        struct dirent *de;
        unsigned users = 0;
        while (home && (de = readdir(home))) {
                if (de->d_name[0] == '.' || strlen(de->d_name) > 255)
                        continue;
                if (++users > HOMES_MAX) {
                        note_stop(&w, "/home", "too many home directories");
                        break;
                }
                char path[300];
                snprintf(path, sizeof path, "/home/%s", de->d_name);
                walk_home(rootfd, path, &w);
                snprintf(path, sizeof path, "/home/%s/.local/share/flatpak", de->d_name);
                flatpak_apps(rootfd, path, SW_FLATPAK_USER, f);
        }
}
