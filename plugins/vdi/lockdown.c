/* lockdown.c — writes and guards the lockdown files each VDI client honours; never follows a symlink, replaces atomically. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockdown.h"
#include "util.h"
#include "vdi-caps.h"

#define LD_MAX_FILE (1024u * 1024u)
#define LD_MAX_USERS 4096
#define LD_TMP_PREFIX ".sekisho-tmp-"

enum ld_kind { LD_CITRIX_CFG, LD_CITRIX_ROOT, LD_HORIZON, LD_REMMINA };

struct ld_watch {
        int wd;
        enum ld_kind kind;
        char *dir;          /* absolute path (for messages and reopening) */
        uid_t uid;
        gid_t gid;
};

struct lockdown {
        struct loop *loop;
        char *sysroot;
        lockdown_fn cb;
        void *userdata;
        int ifd;
        struct loop_source *src;
        struct ld_watch *watches;
        size_t n_watches, cap_watches;
        unsigned deny;
        bool applied;
        unsigned long restored, failures;
        bool citrix, horizon;
        size_t remmina_dirs, remmina_profiles;
};

/* ---- content ---- */

struct sbuf { char *p; size_t n, cap; bool oom; };

static void sb_add(struct sbuf *b, const char *s, size_t n) {
        if (b->oom)
                return;
        if (ARRAY_GROW(b->p, b->cap, b->n + n + 1) < 0) {
                b->oom = true;
                return;
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) _printf_(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...) {
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n > 0)
                sb_add(b, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

static int sb_done(struct sbuf *b, char **ret, size_t *ret_size) {
        if (b->oom || !b->p) {
                free(b->p);
                if (b->oom)
                        return -ENOMEM;
                b->p = strdup("");
                if (!b->p)
                        return -ENOMEM;
        }
        *ret = b->p;
        *ret_size = b->n;
        return 0;
}

#define DENIED(d, r) (((d) >> (r)) & 1u)

int lockdown_citrix_ini(unsigned deny, char **ret, size_t *ret_size) {
        struct sbuf b = { 0 };
        sb_printf(&b, "; All_Regions.ini — written by sekisho from the vdi: policy; changes are reverted.\n"
                      "; A single value here is enforced over wfclient.ini, module.ini and ICA files.\n");
        if (DENIED(deny, VDI_RES_CLIPBOARD))
                sb_printf(&b, "\n[Virtual Channels\\Clipboard]\nClipboardAllowed=False\n");
        if (DENIED(deny, VDI_RES_DRIVES))
                sb_printf(&b, "\n[Virtual Channels\\Drives]\nCDMAllowed=Off\n");
        if (DENIED(deny, VDI_RES_PRINTERS))
                sb_printf(&b, "\n[Virtual Channels\\Printers]\nCPMAllowed=Off\n");
        if (DENIED(deny, VDI_RES_SERIAL))
                sb_printf(&b, "\n[Virtual Channels\\Serial Port]\nCOMAllowed=Off\n");
        if (DENIED(deny, VDI_RES_AUDIO_IN))
                sb_printf(&b, "\n[Virtual Channels\\Audio]\nAllowAudioInput=Off\n");
        if (DENIED(deny, VDI_RES_SMARTCARD))
                sb_printf(&b, "\n[Virtual Channels\\Smartcard]\nSmartCardAllowed=False\n");
        return sb_done(&b, ret, ret_size);
}

int lockdown_citrix_usb(unsigned deny, char **ret, size_t *ret_size) {
        struct sbuf b = { 0 };
        sb_printf(&b, "# usb.conf — written by sekisho from the vdi: policy; changes are reverted.\n");
        if (DENIED(deny, VDI_RES_USB))
                sb_printf(&b, "DENY: # no USB device is redirected into a session\n");
        else
                sb_printf(&b, "ALLOW: # usb-redirect: allow\n");
        return sb_done(&b, ret, ret_size);
}

int lockdown_horizon(unsigned deny, char **ret, size_t *ret_size) {
        struct sbuf b = { 0 };
        sb_printf(&b, "# view-mandatory-config — written by sekisho from the vdi: policy; changes are reverted.\n"
                      "# Settings here override the user's and the command line's.\n");
        if (DENIED(deny, VDI_RES_USB))
                sb_printf(&b, "view.usbAutoConnectAtStartUp = \"FALSE\"\n"
                              "view.usbAutoConnectOnInsert = \"FALSE\"\n"
                              "viewusb.ExcludeAllDevices = \"TRUE\"\n");
        return sb_done(&b, ret, ret_size);
}

struct rkey { const char *key; const char *value; int res; };
static const struct rkey remmina_keys[] = {
        { "disableclipboard", "1", VDI_RES_CLIPBOARD },
        { "sharefolder", "", VDI_RES_DRIVES },
        { "shareprinter", "0", VDI_RES_PRINTERS },
        { "shareserial", "0", VDI_RES_SERIAL },
        { "shareparallel", "0", VDI_RES_SERIAL },
        { "usb", "", VDI_RES_USB },
        { "microphone", "", VDI_RES_AUDIO_IN },
        { "sharesmartcard", "0", VDI_RES_SMARTCARD },
        { "vc", "", VDI_RES_CHANNELS },
        { "dvc", "", VDI_RES_CHANNELS },
};

static const struct rkey *remmina_key(const char *line, size_t len) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        size_t start = i;
        while (i < len && line[i] != '=' && line[i] != ' ' && line[i] != '\t')
                i++;
        size_t klen = i - start;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i >= len || line[i] != '=')
                return NULL;
        for (size_t k = 0; k < ARRAY_SIZE(remmina_keys); k++)
                if (strlen(remmina_keys[k].key) == klen && memcmp(remmina_keys[k].key, line + start, klen) == 0)
                        return &remmina_keys[k];
        return NULL;
}

int lockdown_remmina_profile(unsigned deny, const char *old, size_t old_size, char **ret, size_t *ret_size) {
        struct sbuf b = { 0 };
        bool in_group = false, seen_group = false, written = false;

        if (memchr(old, 0, old_size))
                return -EBADMSG;
        for (size_t i = 0; i < old_size;) {
                const char *nl = memchr(old + i, '\n', old_size - i);
                size_t end = nl ? (size_t) (nl - old) : old_size;
                const char *line = old + i;
                size_t len = end - i;
                size_t t = 0;
                while (t < len && (line[t] == ' ' || line[t] == '\t'))
                        t++;
                if (t < len && line[t] == '[') {
                        if (in_group && !written) {
                                for (size_t k = 0; k < ARRAY_SIZE(remmina_keys); k++)
                                        if (DENIED(deny, remmina_keys[k].res))
                                                sb_printf(&b, "%s=%s\n", remmina_keys[k].key, remmina_keys[k].value);
                                written = true;
                        }
                        in_group = len - t >= 9 && memcmp(line + t, "[remmina]", 9) == 0;
                        seen_group = seen_group || in_group;
                }
                const struct rkey *k = in_group ? remmina_key(line, len) : NULL;
                if (!(k && DENIED(deny, k->res)))
                        sb_add(&b, line, len), sb_add(&b, "\n", nl ? 1 : 0);
                i = end + 1;
        }
        if (b.n > 0 && b.p[b.n - 1] != '\n')
                sb_add(&b, "\n", 1);
        if (!seen_group)
                sb_printf(&b, "[remmina]\n");
        if (!written)
                for (size_t k = 0; k < ARRAY_SIZE(remmina_keys); k++)
                        if (DENIED(deny, remmina_keys[k].res))
                                sb_printf(&b, "%s=%s\n", remmina_keys[k].key, remmina_keys[k].value);
        return sb_done(&b, ret, ret_size);
}

/* ---- safe file system access ---- */

/* Open sysroot-relative directory path, refusing a symlink at every step. */
static int open_dir_nofollow(const char *sysroot, const char *rel) {
        int fd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy) {
                close(fd);
                return -ENOMEM;
        }
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, "..") == 0) {
                        close(fd);
                        return -EINVAL;
                }
                int nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                close(fd);
                if (nfd < 0)
                        return -e;
                fd = nfd;
        }
        return fd;
}

/* Replace dirfd/name with content atomically (temp file, fsync, rename, fsync dir). */
static int replace_at(int dirfd, const char *name, const char *content, size_t len, uid_t uid, gid_t gid, mode_t mode) {
        char tmp[NAME_MAX + 1];
        int fd = -1;
        for (unsigned attempt = 0; attempt < 16 && fd < 0; attempt++) {
                snprintf(tmp, sizeof tmp, LD_TMP_PREFIX "%x-%u", (unsigned) getpid(), (unsigned) (now_usec_monotonic() + attempt));
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return -errno;
        }
        if (fd < 0)
                return -EEXIST;
        int r = 0;
        /* Mode first, while the file is still ours: fchmod() of a user's file would need CAP_FOWNER. */
        if (fchmod(fd, mode) < 0 || fchown(fd, uid, gid) < 0)
                r = -errno;
        if (r == 0)
                r = write_all(fd, content, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        (void) fsync(dirfd);
        return 0;
}

/* Make dirfd/name hold exactly content (owner uid:gid, mode). *what says what was wrong,
 * NULL if nothing was. */
static int enforce_file(int dirfd, const char *name, const char *content, size_t len, uid_t uid, gid_t gid,
                        mode_t mode, const char **what) {
        *what = NULL;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP)
                        *what = "was a symlink";
                else if (errno == ENOENT)
                        *what = "was missing";
                else
                        *what = "could not be opened";
        } else {
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return -EISDIR;
                if (!S_ISREG(st.st_mode))
                        *what = "was not a regular file";
                else if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode)
                        *what = "had its owner or mode changed";
                else if (st.st_nlink != 1)
                        *what = "was hard-linked";
                else {
                        _cleanup_free_ char *old = NULL;
                        size_t old_size = 0;
                        int r = read_fd_capped(fd, LD_MAX_FILE, &old, &old_size);
                        if (r < 0 || old_size != len || memcmp(old, content, len) != 0)
                                *what = "was changed";
                }
        }
        if (!*what)
                return 0;
        return replace_at(dirfd, name, content, len, uid, gid, mode);
}

/* ---- watches ---- */

static int watch_dir(struct lockdown *ld, int dirfd, const char *path, enum ld_kind kind, uid_t uid, gid_t gid) {
        char magic[64];
        snprintf(magic, sizeof magic, "/proc/self/fd/%d", dirfd);
        int wd = inotify_add_watch(ld->ifd, magic,
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK);
        if (wd < 0)
                return -errno;
        for (size_t i = 0; i < ld->n_watches; i++)
                if (ld->watches[i].wd == wd)
                        return 0; /* same directory, already watched */
        if (ARRAY_GROW(ld->watches, ld->cap_watches, ld->n_watches + 1) < 0)
                return -ENOMEM;
        char *d = strdup(path);
        if (!d)
                return -ENOMEM;
        ld->watches[ld->n_watches++] = (struct ld_watch) { .wd = wd, .kind = kind, .dir = d, .uid = uid, .gid = gid };
        return 0;
}

static void report(struct lockdown *ld, const char *client, const char *dir, const char *name, const char *what,
                   bool tampered) {
        _cleanup_free_ char *p = path_join(dir, name);
        ld->restored++;
        if (ld->cb)
                ld->cb(ld->userdata, client, p ? p : name, what, tampered);
}

static const char CITRIX_CFG[] = "opt/Citrix/ICAClient/config";
static const char CITRIX_ROOT[] = "opt/Citrix/ICAClient";
static const char HORIZON_DIR[] = "etc/vmware";

/* Write one generated lockdown file into the directory rel (below the sysroot; NULL: the
 * kind's system-wide place), if that directory exists (the client is installed there). */
static int enforce_generated(struct lockdown *ld, enum ld_kind kind, const char *at, bool tampered) {
        const char *rel, *name, *client;
        char *content = NULL;
        size_t len = 0;
        int r;
        switch (kind) {
        case LD_CITRIX_CFG:
                rel = CITRIX_CFG, name = "All_Regions.ini", client = "citrix";
                r = lockdown_citrix_ini(ld->deny, &content, &len);
                break;
        case LD_CITRIX_ROOT:
                rel = CITRIX_ROOT, name = "usb.conf", client = "citrix";
                r = lockdown_citrix_usb(ld->deny, &content, &len);
                break;
        case LD_HORIZON:
                rel = HORIZON_DIR, name = "view-mandatory-config", client = "horizon";
                r = lockdown_horizon(ld->deny, &content, &len);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (at)
                rel = at;
        _cleanup_free_ char *dirpath = path_join(ld->sysroot, rel);
        _cleanup_close_ int dfd = open_dir_nofollow(ld->sysroot, rel);
        if (dfd < 0) {
                free(content);
                return dfd == -ENOENT ? 0 : dfd; /* client not installed */
        }
        if (kind == LD_HORIZON)
                ld->horizon = true;
        else
                ld->citrix = true;
        const char *what;
        r = enforce_file(dfd, name, content, len, 0, 0, 0644, &what);
        free(content);
        if (r < 0) {
                ld->failures++;
                return log_error_errno(r, "vdi: cannot write %s/%s", dirpath ? dirpath : rel, name);
        }
        if (what)
                report(ld, client, dirpath ? dirpath : rel, name, what, tampered);
        if (!tampered)
                (void) watch_dir(ld, dfd, dirpath ? dirpath : rel, kind, 0, 0);
        return 0;
}

static bool is_profile_name(const char *n) {
        size_t l = strlen(n);
        return l > 8 && n[0] != '.' && strcmp(n + l - 8, ".remmina") == 0;
}

static int enforce_remmina_one(struct lockdown *ld, int dfd, const char *dirpath, const char *name, bool tampered) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ELOOP) {
                        /* Remmina would follow it to a profile we cannot lock safely. */
                        if (unlinkat(dfd, name, 0) < 0)
                                return -errno;
                        report(ld, "remmina", dirpath, name, "was a symlink and was removed", tampered);
                        return 0;
                }
                return -errno;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return 0;
        ld->remmina_profiles++;
        _cleanup_free_ char *old = NULL, *neu = NULL;
        size_t old_size = 0, new_size = 0;
        int r = read_fd_capped(fd, LD_MAX_FILE, &old, &old_size);
        if (r == 0)
                r = lockdown_remmina_profile(ld->deny, old, old_size, &neu, &new_size);
        if (r == -EFBIG || r == -EBADMSG) {
                /* Cannot be rewritten faithfully: take it out of Remmina's sight. */
                char aside[NAME_MAX + 1];
                snprintf(aside, sizeof aside, "%.200s.sekisho-refused", name);
                if (renameat(dfd, name, dfd, aside) < 0)
                        return -errno;
                report(ld, "remmina", dirpath, name, r == -EFBIG ? "was too large to check and was set aside"
                                                                 : "was not text and was set aside", tampered);
                return 0;
        }
        if (r < 0)
                return r;
        if (new_size == old_size && memcmp(old, neu, new_size) == 0 && st.st_nlink == 1)
                return 0;
        r = replace_at(dfd, name, neu, new_size, st.st_uid, st.st_gid, st.st_mode & 0777);
        if (r < 0)
                return r;
        report(ld, "remmina", dirpath, name, "enabled a denied redirection", tampered);
        return 0;
}

static int enforce_remmina_dir(struct lockdown *ld, const char *dirpath, int dfd, const char *only, bool tampered) {
        if (only)
                return is_profile_name(only) ? enforce_remmina_one(ld, dfd, dirpath, only, tampered) : 0;
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return -errno;
        }
        int ret = 0;
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d)) && n < 100000; n++)
                if (is_profile_name(de->d_name)) {
                        int r = enforce_remmina_one(ld, dfd, dirpath, de->d_name, tampered);
                        if (r < 0) {
                                ld->failures++;
                                log_error_errno(r, "vdi: cannot lock Remmina profile %s/%s", dirpath, de->d_name);
                                ret = r;
                        }
                }
        closedir(d);
        return ret;
}

/* Where Remmina keeps profiles below a home: the package's and the Flatpak's
 * (~/.var/app/org.remmina.Remmina/data/remmina). The first `existing` parts must be
 * there already (the Flatpak's app directory: made by Flatpak when it runs Remmina);
 * the rest is made as the user where missing. */
struct remmina_place {
        const char *parts[5];
        size_t n, existing;
};
static const struct remmina_place remmina_places[] = {
        { { ".local", "share", "remmina" }, 3, 0 },
        { { ".var", "app", "org.remmina.Remmina", "data", "remmina" }, 5, 3 },
};

/* Open HOME/<place> without following symlinks, every component the user's own. */
static int open_remmina_dir(const char *sysroot, const char *home, uid_t uid, gid_t gid, const struct remmina_place *pl) {
        int fd = open_dir_nofollow(sysroot, home);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != uid) {
                close(fd);
                return -EPERM; /* a home that is not the user's own: leave it */
        }
        for (size_t i = 0; i < pl->n; i++) {
                int nfd = openat(fd, pl->parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && i >= pl->existing) {
                        if (mkdirat(fd, pl->parts[i], 0700) < 0 && errno != EEXIST) {
                                int e = -errno;
                                close(fd);
                                return e;
                        }
                        nfd = openat(fd, pl->parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd >= 0 && fchown(nfd, uid, gid) < 0) {
                                int e = -errno;
                                close(nfd);
                                close(fd);
                                return e;
                        }
                }
                int e = -errno;
                close(fd);
                if (nfd < 0)
                        return e;
                fd = nfd;
                if (fstat(fd, &st) < 0 || st.st_uid != uid) {
                        close(fd);
                        return -EPERM;
                }
        }
        return fd;
}

static int enforce_remmina_all(struct lockdown *ld) {
        _cleanup_free_ char *passwd = NULL;
        _cleanup_free_ char *pwpath = path_join(ld->sysroot, "etc/passwd");
        if (!pwpath)
                return -ENOMEM;
        int r = read_file_capped(pwpath, 4u * 1024 * 1024, &passwd, NULL);
        if (r == -ENOENT)
                return 0; /* no users (a test sysroot) */
        if (r < 0)
                return log_warning_errno(r, "vdi: cannot read %s to find Remmina profiles", pwpath);
        size_t users = 0;
        ld->remmina_dirs = ld->remmina_profiles = 0;
        for (char *line = passwd, *nl; line && *line && users < LD_MAX_USERS; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *f[7] = { 0 };
                char *p = line;
                size_t nf = 0;
                for (; nf < 7 && p; nf++) {
                        f[nf] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                if (nf < 7)
                        continue;
                uint64_t uid, gid;
                if (parse_u64(f[2], &uid) < 0 || parse_u64(f[3], &gid) < 0 || uid < 1000 || uid >= 65534 ||
                    f[5][0] != '/' || strstr(f[5], "/../") || strlen(f[5]) > 512)
                        continue;
                users++;
                /* Citrix Workspace installed by the user (non-root install): HOME/ICAClient/linuxx64. */
                char cx[700];
                snprintf(cx, sizeof cx, "%s/ICAClient/linuxx64/config", f[5] + 1);
                (void) enforce_generated(ld, LD_CITRIX_CFG, cx, false);
                snprintf(cx, sizeof cx, "%s/ICAClient/linuxx64", f[5] + 1);
                (void) enforce_generated(ld, LD_CITRIX_ROOT, cx, false);
                for (size_t pi = 0; pi < ARRAY_SIZE(remmina_places); pi++) {
                        const struct remmina_place *pl = &remmina_places[pi];
                        char rel[700];
                        size_t n = (size_t) snprintf(rel, sizeof rel, "%s", f[5]);
                        for (size_t k = 0; k < pl->n && n < sizeof rel; k++)
                                n += (size_t) snprintf(rel + n, sizeof rel - n, "/%s", pl->parts[k]);
                        _cleanup_free_ char *dirpath = path_join(ld->sysroot, rel + 1);
                        _cleanup_close_ int dfd = open_remmina_dir(ld->sysroot, f[5] + 1, (uid_t) uid, (gid_t) gid, pl);
                        if (dfd < 0) {
                                if (dfd != -ENOENT)
                                        log_warning_errno(dfd, "vdi: cannot open the Remmina profiles of %s (%s)", f[0], rel);
                                continue;
                        }
                        ld->remmina_dirs++;
                        (void) enforce_remmina_dir(ld, dirpath ? dirpath : rel, dfd, NULL, false);
                        r = watch_dir(ld, dfd, dirpath ? dirpath : rel, LD_REMMINA, (uid_t) uid, (gid_t) gid);
                        if (r < 0)
                                log_warning_errno(r, "vdi: cannot watch %s", dirpath ? dirpath : rel);
                }
        }
        return 0;
}

static void on_watch_event(struct lockdown *ld, const struct inotify_event *ev) {
        struct ld_watch *w = NULL;
        for (size_t i = 0; i < ld->n_watches; i++)
                if (ld->watches[i].wd == ev->wd)
                        w = &ld->watches[i];
        if (!w)
                return;
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                log_warning("vdi: lockdown directory %s was removed or moved; it is re-created at the next policy apply", w->dir);
                return;
        }
        const char *name = ev->len ? ev->name : NULL;
        if (!name || strncmp(name, LD_TMP_PREFIX, sizeof LD_TMP_PREFIX - 1) == 0)
                return;
        if (w->kind == LD_REMMINA) {
                /* Reopen the directory the same careful way. */
                const char *root = ld->sysroot;
                size_t rl = strlen(root);
                const char *rel = strncmp(w->dir, root, rl) == 0 ? w->dir + rl : w->dir;
                while (*rel == '/')
                        rel++;
                _cleanup_close_ int dfd = open_dir_nofollow(root, rel);
                if (dfd < 0)
                        return;
                int r = enforce_remmina_dir(ld, w->dir, dfd, name, true);
                if (r < 0) {
                        ld->failures++;
                        log_error_errno(r, "vdi: cannot restore Remmina profile %s/%s", w->dir, name);
                }
                return;
        }
        const char *expect = w->kind == LD_CITRIX_CFG ? "All_Regions.ini" : w->kind == LD_CITRIX_ROOT ? "usb.conf"
                                                                                                       : "view-mandatory-config";
        if (strcmp(name, expect) == 0) {
                /* The directory watched: system-wide or a per-user install. */
                size_t rl = strlen(ld->sysroot);
                const char *rel = strncmp(w->dir, ld->sysroot, rl) == 0 ? w->dir + rl : w->dir;
                while (*rel == '/')
                        rel++;
                (void) enforce_generated(ld, w->kind, rel, true);
        }
}

static int on_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct lockdown *ld = userdata;
        (void) s;
        (void) revents;
        for (unsigned rounds = 0; rounds < 64; rounds++) {
                char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *) p;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                log_warning("vdi: lockdown watch queue overflowed, re-checking every lockdown file");
                                (void) lockdown_apply(ld, ld->deny);
                        } else
                                on_watch_event(ld, ev);
                        p += sizeof *ev + ev->len;
                }
        }
        return 0;
}

int lockdown_new(struct loop *l, const char *sysroot, lockdown_fn cb, void *userdata, struct lockdown **ret) {
        struct lockdown *ld = calloc(1, sizeof *ld);
        if (!ld)
                return -ENOMEM;
        ld->loop = l;
        ld->cb = cb;
        ld->userdata = userdata;
        ld->sysroot = strdup(sysroot && *sysroot ? sysroot : "/");
        ld->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        int r = ld->sysroot ? 0 : -ENOMEM;
        if (r == 0 && ld->ifd < 0)
                r = -errno;
        if (r == 0)
                r = loop_add_io(l, ld->ifd, EPOLLIN, on_inotify, ld, &ld->src);
        if (r < 0) {
                lockdown_free(ld);
                return r;
        }
        *ret = ld;
        return 0;
}

static void drop_watches(struct lockdown *ld) {
        for (size_t i = 0; i < ld->n_watches; i++) {
                inotify_rm_watch(ld->ifd, ld->watches[i].wd);
                free(ld->watches[i].dir);
        }
        free(ld->watches);
        ld->watches = NULL;
        ld->n_watches = 0;
}

struct lockdown *lockdown_free(struct lockdown *ld) {
        if (!ld)
                return NULL;
        if (ld->ifd >= 0)
                drop_watches(ld);
        loop_source_free(ld->src);
        if (ld->ifd >= 0)
                close(ld->ifd);
        free(ld->sysroot);
        free(ld);
        return NULL;
}

int lockdown_apply(struct lockdown *ld, unsigned deny) {
        ld->deny = deny;
        ld->citrix = ld->horizon = false;
        drop_watches(ld);
        int r = 0, k;
        if ((k = enforce_generated(ld, LD_CITRIX_CFG, NULL, false)) < 0)
                r = k;
        if ((k = enforce_generated(ld, LD_CITRIX_ROOT, NULL, false)) < 0)
                r = k;
        if ((k = enforce_generated(ld, LD_HORIZON, NULL, false)) < 0)
                r = k;
        if ((k = enforce_remmina_all(ld)) < 0)
                r = k;
        ld->applied = true;
        return r;
}

void lockdown_status(struct lockdown *ld, struct kvlist *out) {
        kvlist_add(out, "lockdown-citrix", "%s", ld->citrix ? "enforced" : "not installed");
        kvlist_add(out, "lockdown-horizon", "%s", ld->horizon ? "enforced" : "not installed");
        kvlist_add(out, "lockdown-remmina", "%zu profiles in %zu directories", ld->remmina_profiles, ld->remmina_dirs);
        kvlist_add(out, "lockdown-restored", "%lu", ld->restored);
        kvlist_add(out, "lockdown-failures", "%lu", ld->failures);
        kvlist_add(out, "lockdown-watches", "%zu", ld->n_watches);
}
