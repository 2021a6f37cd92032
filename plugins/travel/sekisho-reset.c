/* sekisho-reset.c — the factory-reset executor: journals each step before acting, destroys LUKS keyslots and headers, removes credentials, wipes directories, restores, reboots; schedules a root-volume reset that it then carries out from the initramfs (--boot); resumable after power loss. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <linux/nvme_ioctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>

#include <libcryptsetup.h>

#include "audit.h"
#include "journal.h"
#include "travel.h"
#include "util.h"

/* Exit codes: 0 done (or nothing to do), 1 a step failed (the journal keeps
 * the progress; run again), 2 usage, 3 refused (no reset requested, bad plan). */

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define MAX_WIPE_DEPTH 128
#define HEADER_FALLBACK_BYTES (16u << 20)

struct reset {
        const char *state_dir;
        const char *audit_log;
        const char *journal_socket, *read_journal, *upload_state;
        bool dry_run, no_reboot;
        bool boot;                 /* --boot: the initramfs carries out a scheduled root-volume reset */
        const char *boot_dir;      /* --journal-dir: where the initramfs mounted the journal */
        const char *map_from, *map_to; /* --map FROM=TO: the plan's paths below FROM are below TO here */
        char *dir, *state_path, *plan_path, *journal_path;
        char *vols[TRAVEL_MAX_PATHS + 1]; /* the LUKS volumes to erase: in --boot, the root volume first */
        size_t n_vols;
        char *journal;             /* the journal text as written */
        size_t journal_len;
        struct kvlist jkv;             /* parsed journal (steps done, header sizes) */
        struct reset_plan plan;
        char trip[TRAVEL_ID_MAX + 1];
        char return_proof[64];
        unsigned failures;
};

/* ---- journal ---- */

static int journal_append(struct reset *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int journal_append(struct reset *x, const char *fmt, ...) {
        char line[TRAVEL_PATH_MAX + 64];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof line - 1)
                return -EINVAL;
        line[n++] = '\n';
        char *nj = realloc(x->journal, x->journal_len + (size_t)n + 1);
        if (!nj)
                return -ENOMEM;
        memcpy(nj + x->journal_len, line, (size_t)n);
        x->journal = nj;
        x->journal_len += (size_t)n;
        x->journal[x->journal_len] = 0;
        /* temp file, fsync, rename, fsync the directory: on disk before we act */
        int r = write_file_atomic(x->journal_path, x->journal, x->journal_len, 0600);
        if (r < 0)
                return log_error_errno(r, "cannot write the reset journal %s", x->journal_path);
        kvlist_clear(&x->jkv);
        return kv_parse(x->journal, x->journal_len, &x->jkv);
}

static bool journal_has(const struct reset *x, const char *key, const char *value) {
        for (size_t i = 0; i < x->jkv.n; i++)
                if (strcmp(x->jkv.keys[i], key) == 0 && strcmp(x->jkv.values[i], value) == 0)
                        return true;
        return false;
}

/* ---- steps ---- */

static int step_audit(struct reset *x) {
        char host[256] = "unknown";
        (void)gethostname(host, sizeof host - 1);
        char volumes[16], creds[16], wipes[16];
        snprintf(volumes, sizeof volumes, "%zu", x->plan.n_volumes);
        snprintf(creds, sizeof creds, "%zu", x->plan.n_credentials);
        snprintf(wipes, sizeof wipes, "%zu", x->plan.n_wipe);
        const struct audit_field f[] = {
                { "trip", x->trip },          { "luks-volumes", volumes }, { "credentials", creds },
                { "wipe-directories", wipes }, { "restore", x->plan.n_restore ? x->plan.restore[0] : "-" },
                { NULL, NULL },
        };
        struct audit *a = NULL;
        int r = audit_open(x->audit_log, host, true, &a);
        if (r >= 0) {
                r = audit_write(a, "travel-reset-executing", "R2,R11", f, NULL);
                audit_close(a);
        }
        /* syslog too, for the collector, even if the local log is unwritable */
        openlog("sekisho-reset", LOG_PID, LOG_AUTHPRIV);
        syslog(LOG_NOTICE, "factory reset after high-risk trip %s: erasing %zu LUKS volume(s), %zu credential(s), %zu directory(ies)",
               x->trip, x->plan.n_volumes, x->plan.n_credentials, x->plan.n_wipe);
        closelog();
        sync();
        if (r < 0)
                log_warning_errno(r, "cannot write the final audit record to %s; continuing (syslog has it)", x->audit_log);
        return 0; /* the erase must not wait on a full or broken log */
}

/* The decision and its evidence to the collector, and the bounded wait for
 * it (handover.c). Not acknowledged: recorded, then on-no-ack decides. */
static int step_handover(struct reset *x, size_t i) {
        if (!x->plan.reset_id[0]) {
                /* a plan from before reset ids: name this reset now, in the journal */
                uint8_t id[TRAVEL_RESET_ID_LEN / 2];
                if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
                        return log_error_errno(-EIO, "getrandom failed");
                hex_encode(id, sizeof id, x->plan.reset_id);
                int r = journal_append(x, "reset-id=%s", x->plan.reset_id);
                if (r < 0)
                        return r;
        }
        const struct handover_env env = {
                .trip = x->trip,
                .return_proof = x->return_proof,
                .audit_log = x->audit_log,
                .journal_socket = x->journal_socket,
                .read_journal = x->read_journal,
                .upload_state = x->upload_state,
        };
        char detail[512] = "";
        log_info("handing reset %s over to the collector; waiting up to %lld s", x->plan.reset_id,
                 (long long)x->plan.ack_timeout);
        int r = reset_handover(&x->plan, &env, detail, sizeof detail);
        if (r < 0 && r != -ETIMEDOUT)
                return log_error_errno(r, "cannot hand reset %s over", x->plan.reset_id);
        int k = journal_append(x, "ack=%s", r == 0 ? "acknowledged" : "not-acknowledged");
        if (k < 0)
                return k;
        if (r == 0) {
                log_info("reset %s acknowledged: %s", x->plan.reset_id, detail);
                return 0;
        }
        if (x->plan.hold_without_ack)
                return log_error_errno(-ETIMEDOUT, "reset %s not acknowledged (%s); holding as the policy says (on-no-ack: hold)",
                                       x->plan.reset_id, detail);
        log_warning("reset %s not acknowledged (%s); proceeding as the policy says", x->plan.reset_id, detail);
        return 0;
}

static int step_luks_keyslots(struct reset *x, size_t i) {
        const char *dev = x->vols[i];
        struct crypt_device *cd = NULL;
        int r = crypt_init(&cd, dev);
        if (r < 0)
                return log_error_errno(r, "cannot open %s", dev);
        r = crypt_load(cd, CRYPT_LUKS, NULL);
        if (r < 0) {
                crypt_free(cd);
                char key[32];
                snprintf(key, sizeof key, "header-bytes-%zu", i);
                if (kvlist_get(&x->jkv, key)) {
                        /* a previous run got far enough to record the header: the
                         * header is gone now, and with it every keyslot */
                        log_info("%s: no LUKS header any more; keyslots already destroyed", dev);
                        return 0;
                }
                return log_error_errno(r, "%s is not a LUKS volume", dev);
        }
        uint64_t offset = crypt_get_data_offset(cd) * 512u;
        if (offset == 0 || offset > (1ull << 32))
                offset = HEADER_FALLBACK_BYTES;
        char key[32];
        snprintf(key, sizeof key, "header-bytes-%zu", i);
        if (!kvlist_get(&x->jkv, key) && (r = journal_append(x, "%s=%llu", key, (unsigned long long)offset)) < 0) {
                crypt_free(cd);
                return r;
        }
        /* the root volume's UUID: the new volume keeps it, so that the
         * initramfs's crypttab still finds the root after the restore */
        const char *uuid = crypt_get_uuid(cd);
        if (x->boot && i == 0 && uuid && !kvlist_get(&x->jkv, "root-uuid") &&
            (r = journal_append(x, "root-uuid=%s", uuid)) < 0) {
                crypt_free(cd);
                return r;
        }
        const char *type = crypt_get_type(cd);
        int max = crypt_keyslot_max(type ? type : CRYPT_LUKS2);
        unsigned destroyed = 0;
        for (int slot = 0; slot < max; slot++) {
                crypt_keyslot_info ki = crypt_keyslot_status(cd, slot);
                if (ki == CRYPT_SLOT_INVALID || ki == CRYPT_SLOT_INACTIVE)
                        continue;
                r = crypt_keyslot_destroy(cd, slot);
                if (r < 0) {
                        crypt_free(cd);
                        return log_error_errno(r, "%s: cannot destroy keyslot %d", dev, slot);
                }
                destroyed++;
        }
        crypt_free(cd);
        log_info("%s: destroyed %u keyslot(s)", dev, destroyed);
        return journal_append(x, "destroyed-%zu=%u", i, destroyed);
}

static int step_luks_header(struct reset *x, size_t i) {
        const char *dev = x->vols[i];
        char key[32];
        snprintf(key, sizeof key, "header-bytes-%zu", i);
        int64_t bytes;
        if (kv_get_i64(&x->jkv, key, &bytes) < 0 || bytes <= 0)
                return log_error_errno(-EINVAL, "%s: header size unknown; refusing to overwrite blindly", dev);
        _cleanup_close_ int fd = open(dev, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "cannot open %s for writing", dev);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "cannot stat %s", dev);
        uint64_t size = 0;
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return log_error_errno(-errno, "cannot get the size of %s", dev);
        } else if (S_ISREG(st.st_mode))
                size = (uint64_t)st.st_size;
        else
                return log_error_errno(-ENOTBLK, "%s is neither a block device nor an image file", dev);
        uint64_t len = (uint64_t)bytes < size ? (uint64_t)bytes : size;
        const size_t bufsize = 1 << 20;
        _cleanup_free_ uint8_t *buf = malloc(bufsize);
        if (!buf)
                return log_error_errno(-ENOMEM, "out of memory");
        /* random, not zeros: an overwritten header must not look like an empty
         * but valid one, and carries nothing of the old keyslot area */
        for (uint64_t off = 0; off < len;) {
                size_t n = len - off < bufsize ? (size_t)(len - off) : bufsize;
                if (getrandom(buf, n, 0) != (ssize_t)n)
                        return log_error_errno(-EIO, "getrandom failed");
                ssize_t w = pwrite(fd, buf, n, (off_t)off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "cannot overwrite %s", dev);
                }
                off += (uint64_t)w;
        }
        if (fsync(fd) < 0)
                return log_error_errno(-errno, "cannot flush %s", dev);
        if (S_ISBLK(st.st_mode)) {
                /* a hint to the SSD's FTL; not a guarantee (see sekisho-reset(8)) */
                uint64_t range[2] = { 0, len };
                (void)ioctl(fd, BLKDISCARD, range);
        }
        log_info("%s: overwrote %llu bytes of LUKS header and keyslot area", dev, (unsigned long long)len);
        return 0;
}

/* Remove everything below dirfd, staying on one file system and never
 * following symlinks. */
static int rm_children(int dirfd, dev_t dev, unsigned depth, const char *where) {
        if (depth > MAX_WIPE_DEPTH)
                return log_error_errno(-ELOOP, "%s: directory tree too deep", where);
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        int ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                ret = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                log_warning("%s/%s is another file system; not wiping it", where, de->d_name);
                                ret = -EXDEV;
                                continue;
                        }
                        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                ret = -errno;
                                continue;
                        }
                        int r = rm_children(sub, dev, depth + 1, where);
                        close(sub);
                        if (r < 0)
                                ret = r;
                        if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                ret = -errno;
                } else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
                        ret = -errno;
        }
        closedir(d);
        return ret;
}

/* The plan's paths passed the system-directory guard as written; a
 * symlink on the way (say /srv/data -> /) must not get around it. */
static int resolved_ok(const char *p) {
        _cleanup_free_ char *real = realpath(p, NULL);
        if (!real)
                return errno == ENOENT ? 0 : -errno;
        if (!travel_wipe_path_ok(real))
                return log_error_errno(-EPERM, "%s resolves to %s, a system directory; refusing", p, real);
        return 0;
}

static int step_credential(struct reset *x, size_t i) {
        const char *p = x->plan.credentials[i];
        struct stat st;
        if (lstat(p, &st) < 0) {
                if (errno == ENOENT)
                        return 0; /* gone already: repeating is harmless */
                return log_error_errno(-errno, "cannot stat credential %s", p);
        }
        if (S_ISDIR(st.st_mode)) {
                int k = resolved_ok(p);
                if (k < 0)
                        return k;
                _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(-errno, "cannot open %s", p);
                int r = rm_children(fd, st.st_dev, 0, p);
                if (r < 0)
                        return log_error_errno(r, "cannot remove everything in %s", p);
                if (rmdir(p) < 0 && errno != ENOENT)
                        return log_error_errno(-errno, "cannot remove %s", p);
        } else {
                if (S_ISREG(st.st_mode)) {
                        /* best effort overwrite first; see the man page on what it cannot promise */
                        _cleanup_close_ int fd = open(p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                        static const uint8_t zero[4096];
                        for (off_t off = 0; fd >= 0 && off < st.st_size;) {
                                size_t n = st.st_size - off < (off_t)sizeof zero ? (size_t)(st.st_size - off) : sizeof zero;
                                ssize_t w = pwrite(fd, zero, n, off);
                                if (w <= 0)
                                        break;
                                off += w;
                        }
                        if (fd >= 0)
                                (void)fsync(fd);
                }
                if (unlink(p) < 0 && errno != ENOENT)
                        return log_error_errno(-errno, "cannot remove credential %s", p);
        }
        (void)fsync_directory_of(p);
        log_info("removed credential %s", p);
        return 0;
}

static int step_wipe(struct reset *x, size_t i) {
        const char *p = x->plan.wipe[i];
        int k = resolved_ok(p);
        if (k < 0)
                return k;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_error_errno(-errno, "cannot open %s", p);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "cannot stat %s", p);
        int r = rm_children(fd, st.st_dev, 0, p);
        if (r < 0)
                return log_error_errno(r, "cannot wipe everything in %s", p);
        (void)syncfs(fd);
        log_info("wiped %s", p);
        return 0;
}

static int step_restore(struct reset *x) {
        if (x->plan.n_restore == 0)
                return 0;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "fork");
        if (pid == 0) {
                setenv("SEKISHO_RESET_TRIP", x->trip, 1);
                execv(x->plan.restore[0], x->plan.restore);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(-errno, "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(-EIO, "restore action %s failed (status %d)", x->plan.restore[0], status);
        log_info("restore action %s finished", x->plan.restore[0]);
        return 0;
}

/* ---- the whole-machine reset: scheduled here, carried out by the initramfs ---- */

/* Tell the person at the terminal: the console (our stdout in the
 * initramfs) and, when plymouth is showing a splash, its message line. */
static void show(const struct reset *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void show(const struct reset *x, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        printf("sekisho-reset: %s\n", msg);
        fflush(stdout);
        static const char plymouth[] = "/bin/plymouth";
        if (!x->boot || access(plymouth, X_OK) < 0)
                return;
        char text[600];
        snprintf(text, sizeof text, "--text=sekisho: %s", msg);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execl(plymouth, "plymouth", "message", text, (char *)NULL);
                _exit(127);
        }
        while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* A plan path as seen here: below --map's FROM it is below TO. */
static char *mapped(const struct reset *x, const char *p) {
        size_t n = x->map_from ? strlen(x->map_from) : 0;
        char *ret = NULL;
        if (n && strncmp(p, x->map_from, n) == 0 && (p[n] == '/' || p[n] == 0)) {
                if (asprintf(&ret, "%s%s", x->map_to, p + n) < 0)
                        return NULL;
                return ret;
        }
        return strdup(p);
}

/* "PARTLABEL=x" -> /dev/disk/by-partlabel/x (udev's link; the initramfs runs udev). */
static char *volume_path(const char *v) {
        char *ret = NULL;
        if (strncmp(v, "PARTLABEL=", 10) == 0)
                return asprintf(&ret, "/dev/disk/by-partlabel/%s", v + 10) < 0 ? NULL : ret;
        return strdup(v);
}

/* The kernel's name of a block device ("nvme0n1", "nvme0n1p2", "vda2") and
 * whether it is a partition, from sysfs. */
static int block_name(dev_t dev, char *name, size_t size, bool *partition) {
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof link, "/sys/dev/block/%u:%u", major(dev), minor(dev));
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (strlen(base) >= size)
                return -ENAMETOOLONG;
        memcpy(name, base, strlen(base) + 1);
        char part[96];
        snprintf(part, sizeof part, "%s/partition", link);
        *partition = access(part, F_OK) == 0;
        return 0;
}

static int nvme_admin(int fd, uint8_t opcode, uint32_t nsid, uint32_t cdw10, void *data, uint32_t len, uint32_t timeout_ms) {
        struct nvme_admin_cmd cmd = {
                .opcode = opcode, .nsid = nsid, .cdw10 = cdw10,
                .addr = (uint64_t)(uintptr_t)data, .data_len = len, .timeout_ms = timeout_ms,
        };
        int r = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
        if (r < 0)
                return -errno;
        return r == 0 ? 0 : -EIO; /* r > 0: the NVMe status code */
}

#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_FORMAT 0x80
#define NVME_ID_OACS 256        /* Optional Admin Command Support: bit 1 Format NVM */
#define NVME_ID_FNA 524         /* Format NVM Attributes: bit 0 all namespaces, bit 2 crypto erase */
#define NVME_NS_FLBAS 26        /* Formatted LBA Size: bits 0-3 the LBA format in use */

/* The drive's own erase of the root volume, after its keyslots are gone:
 * NVMe Format NVM with Secure Erase Settings 2 (cryptographic erase: the
 * drive's media key is replaced, remapped blocks included), or 1 (user
 * data erase) where the controller says crypto erase is unsupported. Only
 * a root volume that is a whole NVMe namespace qualifies: a Format acts on
 * the namespace, and the journal must be on another device. The journal
 * says which, or why not. A repeat formats again: harmless. */
static int step_drive_erase(struct reset *x, size_t i) {
        (void)i;
        if (!x->plan.drive_erase)
                return journal_append(x, "drive-erase=none (drive-erase: none)");
        const char *dev = x->vols[0];
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "cannot open %s", dev);
        struct stat st, jst;
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "cannot stat %s", dev);
        char name[64] = "", jname[64] = "";
        bool part = false, jpart;
        if (!S_ISBLK(st.st_mode))
                return journal_append(x, "drive-erase=unsupported %s is not a block device", dev);
        int r = block_name(st.st_rdev, name, sizeof name, &part);
        if (r < 0)
                return journal_append(x, "drive-erase=unsupported %s has no sysfs entry (%s)", dev, strerror(-r));
        if (strncmp(name, "nvme", 4) != 0)
                return journal_append(x, "drive-erase=unsupported %s (%s) is not an NVMe namespace", dev, name);
        if (part)
                return journal_append(x, "drive-erase=unsupported %s (%s) is a partition: a Format would erase the whole namespace",
                                      dev, name);
        int nsid = ioctl(fd, NVME_IOCTL_ID);
        if (nsid <= 0)
                return journal_append(x, "drive-erase=unsupported %s: no NVMe namespace id", dev);
        _cleanup_free_ uint8_t *id = calloc(1, 4096);
        if (!id)
                return -ENOMEM;
        if ((r = nvme_admin(fd, NVME_ADMIN_IDENTIFY, 0, 1, id, 4096, 10000)) < 0)
                return journal_append(x, "drive-erase=unsupported %s: Identify Controller failed (%s)", dev, strerror(-r));
        uint16_t oacs = (uint16_t)(id[NVME_ID_OACS] | id[NVME_ID_OACS + 1] << 8);
        uint8_t fna = id[NVME_ID_FNA];
        if (!(oacs & 2))
                return journal_append(x, "drive-erase=unsupported %s: the controller has no Format NVM (OACS 0x%x)", dev, oacs);
        /* a Format that applies to all namespaces must not reach the journal's */
        if ((fna & 1) && stat(x->boot_dir, &jst) == 0 && block_name(jst.st_dev, jname, sizeof jname, &jpart) == 0) {
                size_t c = strcspn(name + 4, "n") + 4; /* "nvme0" of "nvme0n1" */
                if (strncmp(jname, name, c) == 0)
                        return journal_append(x, "drive-erase=unsupported %s: a Format erases every namespace of the controller, the journal's %s too",
                                              dev, jname);
        }
        memset(id, 0, 4096);
        if ((r = nvme_admin(fd, NVME_ADMIN_IDENTIFY, (uint32_t)nsid, 0, id, 4096, 10000)) < 0)
                return journal_append(x, "drive-erase=unsupported %s: Identify Namespace failed (%s)", dev, strerror(-r));
        uint32_t lbaf = id[NVME_NS_FLBAS] & 0xf;
        uint32_t ses = (fna & 4) ? 2 : 1;
        show(x, "drive erase: NVMe Format of %s, secure erase setting %u%s", name, ses,
             ses == 2 ? " (cryptographic)" : " (user data; the drive has no cryptographic erase)");
        /* The keys are gone already: a drive that refuses the Format is
         * recorded as such, and the reset goes on to the factory state. */
        if ((r = nvme_admin(fd, NVME_ADMIN_FORMAT, (uint32_t)nsid, lbaf | ses << 9, NULL, 0, 30 * 60 * 1000)) < 0) {
                log_error_errno(r, "%s: NVMe Format (SES=%u) failed", dev, ses);
                return journal_append(x, "drive-erase=failed ses=%u fna=0x%02x: %s", ses, fna, strerror(-r));
        }
        (void)ioctl(fd, BLKFLSBUF, 0); /* the page cache still holds blocks from before */
        return journal_append(x, "drive-erase=done ses=%u fna=0x%02x%s", ses, fna,
                              ses == 2 ? "" : " (crypto erase unsupported: FNA bit 2 clear; user data erase)");
}

/* The factory state from a restore image: a new LUKS2 volume on the root
 * volume (new random volume key, the old UUID kept for crypttab), unlocked
 * by the enrolment passphrase IT provisions beside the image
 * (IMAGE.key), and the image written into it. A repeat makes a new
 * volume and writes the image again. */
#define RESTORE_MAPPING "sekisho-restore"
static int step_restore_image(struct reset *x) {
        const char *dev = x->vols[0];
        _cleanup_free_ char *img = mapped(x, x->plan.restore_image), *keyp = NULL;
        if (!img || asprintf(&keyp, "%s.key", img) < 0)
                return -ENOMEM;
        _cleanup_free_ char *key = NULL;
        size_t keylen = 0;
        int r = read_file_capped(keyp, 512, &key, &keylen);
        if (r < 0 || keylen == 0)
                return log_error_errno(r < 0 ? r : -EINVAL, "cannot read the enrolment passphrase %s", keyp);
        _cleanup_close_ int in = open(img, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return log_error_errno(-errno, "cannot open the restore image %s", img);
        struct crypt_device *cd = NULL;
        if (access("/dev/mapper/" RESTORE_MAPPING, F_OK) == 0 && crypt_init_by_name(&cd, RESTORE_MAPPING) == 0) {
                /* left active by an interrupted run */
                (void)crypt_deactivate(cd, RESTORE_MAPPING);
                crypt_free(cd);
                cd = NULL;
        }
        if ((r = crypt_init(&cd, dev)) < 0)
                return log_error_errno(r, "cannot open %s", dev);
        struct crypt_pbkdf_type pbkdf = { .type = CRYPT_KDF_ARGON2ID, .hash = "sha256", .time_ms = 2000,
                                          .max_memory_kb = 256 * 1024, .parallel_threads = 1 };
        struct crypt_params_luks2 params = { .pbkdf = &pbkdf, .sector_size = 512 };
        const char *uuid = kvlist_get(&x->jkv, "root-uuid");
        show(x, "restore: a new LUKS2 volume on %s with a new key", dev);
        if ((r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", uuid, NULL, 64, &params)) < 0 ||
            (r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, key, keylen)) < 0 ||
            (r = crypt_activate_by_volume_key(cd, RESTORE_MAPPING, NULL, 0, 0)) < 0) {
                crypt_free(cd);
                return log_error_errno(r, "%s: cannot make the new LUKS2 volume", dev);
        }
        show(x, "restore: writing %s", img);
        _cleanup_close_ int out = open("/dev/mapper/" RESTORE_MAPPING, O_WRONLY | O_CLOEXEC);
        const size_t bufsize = 1 << 20;
        _cleanup_free_ uint8_t *buf = malloc(bufsize);
        r = out < 0 ? -errno : buf ? 0 : -ENOMEM;
        for (off_t off = 0; r == 0;) {
                ssize_t n = read(in, buf, bufsize);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                for (ssize_t w = 0; w < n && r == 0;) {
                        ssize_t k = pwrite(out, buf + w, (size_t)(n - w), off + w);
                        if (k < 0 && errno != EINTR)
                                r = -errno;
                        else if (k > 0)
                                w += k;
                }
                off += n;
        }
        if (r == 0 && fsync(out) < 0)
                r = -errno;
        if (out >= 0)
                close(TAKE_FD(out));
        int d = crypt_deactivate(cd, RESTORE_MAPPING);
        crypt_free(cd);
        if (r < 0)
                return log_error_errno(r, "cannot write %s into the new volume", img);
        if (d < 0)
                return log_error_errno(d, "cannot close the new volume");
        return journal_append(x, "restored=%s", x->plan.restore_image);
}

/* systemd's factory reset: systemd-repart recreates the partitions marked
 * FactoryReset=yes in its repart.d definitions; it must be in the
 * initramfs (the hook copies it when the system has it). */
static int step_factory_repart(struct reset *x) {
        static const char *const repart[] = { "/usr/bin/systemd-repart", "/bin/systemd-repart", NULL };
        const char *prog = NULL;
        for (size_t i = 0; repart[i] && !prog; i++)
                if (access(repart[i], X_OK) == 0)
                        prog = repart[i];
        if (!prog)
                return log_error_errno(-ENOENT, "factory-reset: systemd-repart is not in this initramfs");
        show(x, "restore: systemd-repart --factory-reset=yes");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execl(prog, "systemd-repart", "--dry-run=no", "--factory-reset=yes", (char *)NULL);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(-EIO, "systemd-repart failed (status %d)", status);
        return journal_append(x, "restored=systemd-repart");
}

static int step_boot_restore(struct reset *x, size_t i) {
        (void)i;
        return x->plan.restore_image ? step_restore_image(x) : step_factory_repart(x);
}

/* The running system's last step for a root-volume reset (the hand-over to
 * the collector was reset_run's first): the plan and a fresh journal in
 * journal-dir, which the initramfs carries out at the next boot. Repeating
 * finds the same journal. */
static int step_schedule(struct reset *x, size_t i) {
        (void)i;
        int r;
        _cleanup_free_ char *dir = mapped(x, x->plan.journal_dir);
        _cleanup_free_ char *plan = dir ? path_join(dir, TRAVEL_BOOT_PLAN) : NULL;
        _cleanup_free_ char *journal = dir ? path_join(dir, TRAVEL_BOOT_JOURNAL) : NULL;
        if (!plan || !journal)
                return -ENOMEM;
        struct kvlist old = { 0 };
        if (kv_load(journal, &old) == 0) {
                const char *intent = kvlist_get(&old, "intent");
                bool same = intent && strcmp(intent, x->trip) == 0, complete = kvlist_get(&old, "complete") != NULL;
                kvlist_clear(&old);
                if (same)
                        return 0; /* scheduled already (or done): nothing to add */
                if (!complete)
                        return log_error_errno(-EBUSY, "%s holds an unfinished reset of another trip; refusing", journal);
        }
        if ((r = mkdir_p(dir, 0700)) < 0)
                return log_error_errno(r, "cannot create %s", dir);
        _cleanup_free_ char *text = NULL, *jtext = NULL;
        size_t len;
        char now[32];
        format_rfc3339(now_unix(), now);
        if ((r = reset_plan_format(&x->plan, x->trip, &text, &len)) < 0)
                return r;
        /* the journal starts like the running system's: intent, then the plan */
        if (asprintf(&jtext, "intent=%s\nscheduled=%s\n%s", x->trip, now, text) < 0)
                return -ENOMEM;
        if ((r = write_file_atomic(plan, text, len, 0600)) < 0 ||
            (r = write_file_atomic(journal, jtext, strlen(jtext), 0600)) < 0)
                return log_error_errno(r, "cannot write the reset plan and journal in %s", dir);
        (void)sync();
        log_info("the reset of the root volume %s is scheduled for the next boot (journal %s)", x->plan.root_volume, journal);
        return 0;
}

/* Run one step unless the journal says it is done: "begin" is on disk
 * before the step acts, "done" after. A power loss in between repeats the
 * step on the next run, so every step is written to be safe to repeat. */
static void run_step(struct reset *x, const char *id, const char *fault, int (*fn)(struct reset *, size_t), size_t i) {
        if (journal_has(x, "done", id))
                return;
        if (journal_append(x, "begin=%s", id) < 0) {
                x->failures++;
                return;
        }
        int r = fn(x, i);
        fault_point(fault); /* tests: a power loss after acting, before "done" is recorded */
        if (r < 0) {
                x->failures++;
                (void)journal_append(x, "failed=%s", id);
                return;
        }
        if (journal_append(x, "done=%s", id) < 0)
                x->failures++;
}

static int audit_adapter(struct reset *x, size_t i) { return step_audit(x); }
static int handover_adapter(struct reset *x, size_t i) { return step_handover(x, i); }
static int restore_adapter(struct reset *x, size_t i) { return step_restore(x); }

/* ---- set-up ---- */

static int load_plan_from(const struct kvlist *kv, struct reset *x) {
        return reset_plan_from_kv(kv, &x->plan);
}

static void print_status(struct reset *x, FILE *out) {
        fprintf(out, "sekisho-reset: plan for trip %s:\n", x->trip);
        reset_plan_print(&x->plan, out);
        size_t done = 0, begun = 0;
        for (size_t i = 0; i < x->jkv.n; i++) {
                if (strcmp(x->jkv.keys[i], "done") == 0)
                        done++;
                if (strcmp(x->jkv.keys[i], "begin") == 0)
                        begun++;
        }
        if (x->jkv.n)
                fprintf(out, "journal: %zu step(s) done, %zu begun%s\n", done, begun,
                        kvlist_get(&x->jkv, "complete") ? ", complete" : "");
}

static int reset_run(struct reset *x) {
        int rc = 0, r;
        struct travel_state st;
        bool have_state = travel_state_load(x->state_path, &st) == 0;
        bool requested = have_state && st.phase == TRAVEL_RESET_PENDING && st.reset_requested;
        if (have_state)
                snprintf(x->return_proof, sizeof x->return_proof, "%s", st.return_proof);

        /* An existing journal: resume it, unless it is complete. */
        _cleanup_free_ char *jdata = NULL;
        size_t jsize = 0;
        r = read_file_capped(x->journal_path, TRAVEL_KV_MAX_SIZE, &jdata, &jsize);
        if (r >= 0) {
                if ((r = kv_parse(jdata, jsize, &x->jkv)) < 0 || !kvlist_get(&x->jkv, "intent")) {
                        log_error("%s is unreadable; refusing to guess where the reset stopped", x->journal_path);
                        return 3;
                }
                const char *intent = kvlist_get(&x->jkv, "intent");
                if (kvlist_get(&x->jkv, "complete")) {
                        if (!requested || strcmp(st.trip, intent) == 0) {
                                printf("sekisho-reset: the reset for trip %s is complete; nothing to do\n", intent);
                                return 0;
                        }
                        /* a new reset for another trip: keep the old journal as evidence */
                        _cleanup_free_ char *old = NULL;
                        if (asprintf(&old, "%s.%s", x->journal_path, intent) < 0 || rename(x->journal_path, old) < 0)
                                return log_error_errno(-errno, "cannot archive the old journal"), 1;
                        kvlist_clear(&x->jkv);
                } else {
                        snprintf(x->trip, sizeof x->trip, "%s", intent);
                        if ((r = load_plan_from(&x->jkv, x)) < 0) {
                                log_error_errno(r, "the plan in %s is invalid", x->journal_path);
                                return 3;
                        }
                        x->journal = TAKE_PTR(jdata);
                        x->journal_len = jsize;
                }
        } else if (r != -ENOENT)
                return log_error_errno(r, "cannot read %s", x->journal_path), 1;

        if (!x->journal) {
                /* No reset in progress: only a reset the daemon ordered. */
                struct kvlist pkv = { 0 };
                r = kv_load(x->plan_path, &pkv);
                if (r >= 0) {
                        const char *ptrip = kvlist_get(&pkv, "trip");
                        snprintf(x->trip, sizeof x->trip, "%s", ptrip ? ptrip : "");
                        r = load_plan_from(&pkv, x);
                }
                kvlist_clear(&pkv);
                if (!requested) {
                        printf("sekisho-reset: no reset has been requested (travel state: %s); nothing to do\n",
                               have_state ? travel_phase_name(st.phase) : "none");
                        if (x->dry_run && r >= 0)
                                print_status(x, stdout);
                        return 0;
                }
                if (r < 0) {
                        log_error_errno(r, "a reset was requested but the plan %s is missing or invalid", x->plan_path);
                        return 3;
                }
                if (strcmp(x->trip, st.trip) != 0) {
                        log_error("the plan is for trip '%s' but the reset was requested for trip '%s'; refusing", x->trip,
                                  st.trip);
                        return 3;
                }
                /* What the reset depends on must survive it: the daemon checked
                 * from its sandbox, this checks again with every disk in view. */
                struct reset_dependency deps[TRAVEL_MAX_DEPENDENCIES];
                size_t nd = reset_dependencies(&x->plan, x->state_dir, x->plan.root_volume ? x->plan.journal_dir : NULL, x->plan.root_volume ? x->plan.restore_image : NULL, deps);
                char why[TRAVEL_PATH_MAX * 2 + 128];
                if (reset_plan_devices_check(&x->plan, deps, nd, "/sys", why, sizeof why) == -EBUSY) {
                        log_error("%s; refusing to start", why);
                        const struct handover_env env = { .audit_log = x->audit_log, .journal_socket = x->journal_socket };
                        const struct audit_field f[] = { { "trip", x->trip }, { "reason", why }, { NULL, NULL } };
                        (void)reset_record(&env, "travel.reset.refused", f);
                        return 3;
                }
                if (x->dry_run) {
                        print_status(x, stdout);
                        printf("(dry run: nothing was changed)\n");
                        return 0;
                }
                /* Intent first, with the whole plan: a later edit of the plan file
                 * cannot change a reset that has begun. */
                char now[32];
                format_rfc3339(now_unix(), now);
                _cleanup_free_ char *plan_text = NULL;
                size_t plan_len;
                if ((r = reset_plan_format(&x->plan, x->trip, &plan_text, &plan_len)) < 0 ||
                    (r = journal_append(x, "intent=%s", x->trip)) < 0 || (r = journal_append(x, "started=%s", now)) < 0)
                        return 1;
                /* copy the plan lines (all but the comment, "format" and "trip") */
                for (char *line = strtok(plan_text, "\n"); line; line = strtok(NULL, "\n"))
                        if (line[0] != '#' && strncmp(line, "trip=", 5) != 0 && strncmp(line, "format=", 7) != 0 &&
                            journal_append(x, "%s", line) < 0)
                                return 1;
                if (journal_append(x, "format=1") < 0)
                        return 1;
                fault_point("reset-intent");
        } else if (x->dry_run) {
                print_status(x, stdout);
                printf("(dry run: an interrupted reset would resume; nothing was changed)\n");
                return 0;
        }

        log_info("factory reset for trip %s: %s", x->trip, journal_has(x, "begin", "audit") ? "resuming" : "starting");
        char id[64];
        /* Nothing is erased before the collector has the decision, or the wait for it is over. */
        run_step(x, "handover", "reset-handover", handover_adapter, 0);
        if (!journal_has(x, "done", "handover")) {
                log_error("factory reset for trip %s held before anything was erased; run again", x->trip);
                return 1;
        }
        run_step(x, "audit", "reset-audit", audit_adapter, 0);
        /* with a root volume every LUKS volume is erased by the initramfs,
         * where none of them is open */
        for (size_t i = 0; !x->plan.root_volume && i < x->plan.n_volumes; i++)
                x->vols[x->n_vols++] = x->plan.volumes[i];
        for (size_t i = 0; i < x->n_vols; i++) {
                snprintf(id, sizeof id, "luks-keyslots-%zu", i);
                run_step(x, id, "reset-luks-keyslots", step_luks_keyslots, i);
                /* the header goes only after its keyslots were destroyed and recorded */
                snprintf(id, sizeof id, "luks-keyslots-%zu", i);
                if (!journal_has(x, "done", id))
                        continue;
                snprintf(id, sizeof id, "luks-header-%zu", i);
                run_step(x, id, "reset-luks-header", step_luks_header, i);
        }
        for (size_t i = 0; i < x->plan.n_credentials; i++) {
                snprintf(id, sizeof id, "credential-%zu", i);
                run_step(x, id, "reset-credential", step_credential, i);
        }
        for (size_t i = 0; i < x->plan.n_wipe; i++) {
                snprintf(id, sizeof id, "wipe-%zu", i);
                run_step(x, id, "reset-wipe", step_wipe, i);
        }
        if (x->failures == 0)
                run_step(x, "restore", "reset-restore", restore_adapter, 0);
        if (x->failures == 0 && x->plan.root_volume)
                run_step(x, "schedule", "reset-schedule", step_schedule, 0);

        if (x->failures > 0) {
                log_error("factory reset for trip %s incomplete: %u step(s) failed; the journal keeps the progress, run again",
                          x->trip, x->failures);
                rc = 1;
        } else {
                if (journal_append(x, "complete=yes") < 0)
                        rc = 1;
                else {
                        log_info("factory reset for trip %s complete", x->trip);
                        fault_point("reset-complete");
                        if (x->plan.reboot && !x->no_reboot) {
                                sync();
                                execl("/bin/systemctl", "systemctl", "reboot", (char *)NULL);
                                log_warning_errno(-errno, "systemctl reboot failed; rebooting directly");
                                sync();
                                reboot(RB_AUTOBOOT);
                                rc = 1;
                        }
                }
        }
        return rc;
}

/* --boot: the initramfs, before the root volume is unlocked. Acts only on
 * an unfinished journal in the journal directory the running system wrote. */
static int reset_boot(struct reset *x) {
        _cleanup_free_ char *jdata = NULL;
        size_t jsize = 0;
        int r = read_file_capped(x->journal_path, TRAVEL_KV_MAX_SIZE, &jdata, &jsize);
        if (r == -ENOENT) {
                printf("sekisho-reset: no reset is scheduled (%s); nothing to do\n", x->journal_path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "cannot read %s", x->journal_path), 1;
        const char *intent;
        if (kv_parse(jdata, jsize, &x->jkv) < 0 || !(intent = kvlist_get(&x->jkv, "intent"))) {
                log_error("%s is unreadable; refusing to guess where the reset stopped", x->journal_path);
                return 3;
        }
        snprintf(x->trip, sizeof x->trip, "%s", intent);
        if (kvlist_get(&x->jkv, "complete")) {
                printf("sekisho-reset: the reset for trip %s is complete; nothing to do\n", x->trip);
                return 0;
        }
        /* the plan is the journal's head: the steps' records (drive-erase=...)
         * come after the first begin= and are not plan lines */
        struct kvlist head = x->jkv;
        for (head.n = 0; head.n < x->jkv.n && strcmp(x->jkv.keys[head.n], "begin") != 0; head.n++)
                ;
        if ((r = reset_plan_from_kv(&head, &x->plan)) < 0 || !x->plan.root_volume) {
                log_error_errno(r < 0 ? r : -EINVAL, "the plan in %s is invalid or names no root volume", x->journal_path);
                return 3;
        }
        x->journal = TAKE_PTR(jdata);
        x->journal_len = jsize;
        if (!(x->vols[x->n_vols++] = volume_path(x->plan.root_volume)))
                return 1;
        for (size_t i = 0; i < x->plan.n_volumes; i++)
                if (!(x->vols[x->n_vols++] = strdup(x->plan.volumes[i])))
                        return 1;
        if (x->dry_run) {
                print_status(x, stdout);
                printf("(dry run: nothing was changed)\n");
                return 0;
        }

        show(x, "factory reset after trip %s: %s; do not switch the terminal off", x->trip,
             journal_has(x, "begin", "luks-keyslots-0") ? "resuming" : "starting");
        char id[64];
        for (size_t i = 0; i < x->n_vols; i++) {
                snprintf(id, sizeof id, "luks-keyslots-%zu", i);
                if (!journal_has(x, "done", id))
                        show(x, "destroying the keyslots of %s", x->vols[i]);
                run_step(x, id, "reset-luks-keyslots", step_luks_keyslots, i);
                if (!journal_has(x, "done", id))
                        continue;
                snprintf(id, sizeof id, "luks-header-%zu", i);
                if (!journal_has(x, "done", id))
                        show(x, "overwriting the LUKS header of %s", x->vols[i]);
                run_step(x, id, "reset-luks-header", step_luks_header, i);
        }
        /* the drive's erase and the new volume only once every key is gone */
        if (x->failures == 0)
                run_step(x, "drive-erase", "reset-drive-erase", step_drive_erase, 0);
        if (x->failures == 0)
                run_step(x, "restore", "reset-restore", step_boot_restore, 0);
        if (x->failures > 0) {
                show(x, "the factory reset is incomplete (%u step(s) failed); it resumes at the next boot", x->failures);
                return 1;
        }
        if (journal_append(x, "complete=yes") < 0)
                return 1;
        show(x, "factory reset after trip %s complete; restarting into the factory state", x->trip);
        fault_point("reset-complete");
        if (!x->no_reboot) {
                sync();
                reboot(RB_AUTOBOOT);
                return log_error_errno(-errno, "reboot failed"), 1;
        }
        return 0;
}

static void usage(FILE *f) {
        fprintf(f, "Usage: sekisho-reset [--state-dir DIR] [--audit-log FILE] [--dry-run] [--no-reboot]\n"
                   "                     [--journal-socket PATH] [--read-journal DIR] [--upload-state FILE]\n"
                   "       sekisho-reset --boot --journal-dir DIR [--map FROM=TO] [--dry-run] [--no-reboot]\n"
                   "       sekisho-reset --send-completion DIR [--audit-log FILE] [--journal-socket PATH]\n"
                   "Factory reset after a high-risk trip, as ordered by sekishod. Resumes an interrupted reset.\n"
                   "--map FROM=TO: the plan's paths below FROM (journal-dir, restore-image) are below TO here.\n"
                   "--boot: the initramfs carries out the scheduled reset of the root volume.\n"
                   "--send-completion: after the first boot of the re-provisioned system, report the reset\n"
                   "recorded in DIR/journal and DIR/plan to the collector; DIR/journal becomes journal.acked.\n");
}

int main(int argc, char **argv) {
        struct reset x = {
                .state_dir = LOCALSTATEDIR "/lib/sekisho",
                /* Its own hash chain, not sekishod's audit.log: the daemon is
                 * running while this runs and keeps the chain's head in memory,
                 * so two writers would break it. Both chains go to syslog. */
                .audit_log = LOCALSTATEDIR "/log/sekisho/reset-audit.log",
                .journal_socket = JOURNAL_SOCKET,
                .upload_state = "/var/lib/systemd/journal-upload/state", /* systemd-journal-upload.service's */
        };
        const char *completion = NULL;
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, 's' }, { "audit-log", required_argument, NULL, 'a' },
                { "dry-run", no_argument, NULL, 'n' },         { "no-reboot", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },            { "boot", no_argument, NULL, 'B' },
                { "journal-dir", required_argument, NULL, 'j' }, { "map", required_argument, NULL, 'M' },
                { "journal-socket", required_argument, NULL, 'J' },
                { "read-journal", required_argument, NULL, 'D' },
                { "upload-state", required_argument, NULL, 'U' },
                { "send-completion", required_argument, NULL, 'C' },
                { NULL, 0, NULL, 0 },
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 's': x.state_dir = optarg; break;
                case 'a': x.audit_log = optarg; break;
                case 'n': x.dry_run = true; break;
                case 'R': x.no_reboot = true; break;
                case 'B': x.boot = true; break;
                case 'j': x.boot_dir = optarg; break;
                case 'M': {
                        char *eq = strchr(optarg, '=');
                        if (!eq || optarg[0] != '/' || eq[1] != '/') {
                                usage(stderr);
                                return 2;
                        }
                        *eq = 0;
                        x.map_from = optarg;
                        x.map_to = eq + 1;
                        break;
                }
                case 'J': x.journal_socket = optarg; break;
                case 'D': x.read_journal = optarg; break;
                case 'U': x.upload_state = optarg; break;
                case 'C': completion = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind != argc || x.boot != !!x.boot_dir) {
                usage(stderr);
                return 2;
        }
        log_setup("sekisho-reset", false);
        if (x.boot) {
                int rc = 1;
                if ((x.journal_path = path_join(x.boot_dir, TRAVEL_BOOT_JOURNAL)))
                        rc = reset_boot(&x);
                for (size_t i = 0; i < x.n_vols; i++)
                        free(x.vols[i]);
                reset_plan_clear(&x.plan);
                kvlist_clear(&x.jkv);
                free(x.journal);
                free(x.journal_path);
                return rc;
        }
        if (completion) {
                const struct handover_env env = { .audit_log = x.audit_log, .journal_socket = x.journal_socket };
                char detail[512] = "";
                int r = reset_send_completion(completion, &env, detail, sizeof detail);
                if (r < 0) {
                        log_error_errno(r, "cannot send the completion record: %s", detail);
                        return 1;
                }
                log_info("completion record sent: %s", detail);
                return 0;
        }
        if (!(x.dir = path_join(x.state_dir, "travel")) || !(x.state_path = path_join(x.dir, TRAVEL_STATE_FILE)) ||
            !(x.plan_path = path_join(x.dir, TRAVEL_PLAN_FILE)) || !(x.journal_path = path_join(x.dir, TRAVEL_JOURNAL_FILE)))
                return 1;

        int rc = reset_run(&x);
        reset_plan_clear(&x.plan);
        kvlist_clear(&x.jkv);
        free(x.journal);
        free(x.dir);
        free(x.state_path);
        free(x.plan_path);
        free(x.journal_path);
        return rc;
}
