/* store.c — the installed policies under the state directory: atomic install, anti-rollback serial, start-up choice. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <sys/stat.h>

#include "policy.h"
#include "util.h"

#define KEEP_PREVIOUS 3
#define MAX_BAD_SERIALS 1024

struct store *store_close(struct store *s) {
        if (!s)
                return NULL;
        free(s->dir);
        free(s->bad);
        free(s->uncounted);
        free(s);
        return NULL;
}

static char *store_path(const struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *store_path(const struct store *s, const char *fmt, ...) {
        char rel[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof rel, fmt, ap);
        va_end(ap);
        return path_join(s->dir, rel);
}

static int read_u64_file(const char *path, uint64_t *ret) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_capped(path, 64, &data, NULL);
        if (r < 0)
                return r;
        data[strcspn(data, "\n")] = '\0';
        return parse_u64(data, ret);
}

/* Serial of the directory "current" points to, or 0. */
static uint64_t current_serial(const struct store *s) {
        _cleanup_free_ char *link = store_path(s, "current");
        char target[PATH_MAX];
        ssize_t n = link ? readlink(link, target, sizeof target - 1) : -1;
        if (n <= 0)
                return 0;
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        uint64_t v;
        return parse_u64(base ? base + 1 : target, &v) == 0 ? v : 0;
}

static int load_bad(struct store *s) {
        _cleanup_free_ char *path = store_path(s, "bad-serials"), *data = NULL;
        if (!path)
                return -ENOMEM;
        int r = read_file_capped(path, MAX_BAD_SERIALS * 21, &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        s->bad = calloc(MAX_BAD_SERIALS, sizeof *s->bad);
        if (!s->bad)
                return -ENOMEM;
        for (char *save = NULL, *tok = strtok_r(data, "\n", &save); tok && s->n_bad < MAX_BAD_SERIALS;
             tok = strtok_r(NULL, "\n", &save))
                if (parse_u64(tok, &s->bad[s->n_bad]) == 0)
                        s->n_bad++;
        return 0;
}

/* A list of serials, one a line (at most MAX_BAD_SERIALS); a missing file is an empty list. */
static int load_serial_list(struct store *s, const char *name, uint64_t **ret, size_t *ret_n) {
        _cleanup_free_ char *path = store_path(s, "%s", name), *data = NULL;
        if (!path)
                return -ENOMEM;
        int r = read_file_capped(path, MAX_BAD_SERIALS * 21, &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        uint64_t *list = calloc(MAX_BAD_SERIALS, sizeof *list);
        size_t n = 0;
        if (!list)
                return -ENOMEM;
        for (char *save = NULL, *tok = strtok_r(data, "\n", &save); tok && n < MAX_BAD_SERIALS; tok = strtok_r(NULL, "\n", &save))
                if (parse_u64(tok, &list[n]) == 0)
                        n++;
        *ret = list;
        *ret_n = n;
        return 0;
}

/* Remove a bundle directory: its two files, then itself. */
static void remove_bundle_dir(const char *dir) {
        _cleanup_free_ char *f1 = path_join(dir, "policy.yaml"), *f2 = path_join(dir, "policy.yaml.minisig");
        _cleanup_free_ char *f3 = path_join(dir, "signers");
        if (f1)
                unlink(f1);
        if (f2)
                unlink(f2);
        if (f3)
                unlink(f3);
        rmdir(dir);
}

/* Remove what an interrupted install left behind (policies/N.tmp, current.tmp). */
static void remove_leftovers(struct store *s) {
        _cleanup_free_ char *pdir = store_path(s, "policies"), *ctmp = store_path(s, "current.tmp");
        if (ctmp)
                unlink(ctmp);
        DIR *d = pdir ? opendir(pdir) : NULL;
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 5 || strcmp(de->d_name + len - 4, ".tmp") != 0)
                        continue;
                _cleanup_free_ char *dir = path_join(pdir, de->d_name);
                if (dir)
                        remove_bundle_dir(dir);
        }
        closedir(d);
}

int store_open(const char *state_dir, bool create, struct store **ret) {
        struct store *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->dir = strdup(state_dir);
        _cleanup_free_ char *pdir = s->dir ? path_join(state_dir, "policies") : NULL;
        if (!pdir) {
                store_close(s);
                return -ENOMEM;
        }
        int r = create ? mkdir_p(pdir, 0700) : 0;
        if (r < 0) {
                store_close(s);
                return r;
        }
        if (create)
                remove_leftovers(s);
        _cleanup_free_ char *serial = store_path(s, "serial");
        uint64_t v = 0;
        if (serial && read_u64_file(serial, &v) == 0)
                s->highest_serial = v;
        /* Not current's serial: a crash between switching "current" and
         * store_commit() leaves a policy that was never in force there. The
         * daemon commits it at start if it applies (before the inbox opens). */
        r = load_bad(s);
        if (r == 0)
                r = load_serial_list(s, "serials-lowered", &s->uncounted, &s->n_uncounted);
        if (r < 0) {
                store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int read_installed(const struct store *s, uint64_t serial, char **ret_data, size_t *ret_size, char **ret_sig,
                          size_t *ret_sig_size) {
        _cleanup_free_ char *f = store_path(s, "policies/%" PRIu64 "/policy.yaml", serial);
        _cleanup_free_ char *g = store_path(s, "policies/%" PRIu64 "/policy.yaml.minisig", serial);
        if (!f || !g)
                return -ENOMEM;
        int r = read_file_capped(f, POLICY_MAX_SIZE, ret_data, ret_size);
        if (r < 0)
                return r;
        r = read_file_capped(g, MINISIGN_MAX_FILE, ret_sig, ret_sig_size);
        if (r < 0) {
                free(*ret_data);
                *ret_data = NULL;
        }
        return r;
}

/* policies/<serial>/signers: one public key a line ("RW..."), the keys that verified it at install. */
static size_t read_signers(const struct store *s, uint64_t serial, struct minisign_pubkey *ret, size_t max) {
        _cleanup_free_ char *f = store_path(s, "policies/%" PRIu64 "/signers", serial), *data = NULL;
        size_t n = 0;
        if (!f || read_file_capped(f, 4096, &data, NULL) < 0)
                return 0;
        for (char *save = NULL, *tok = strtok_r(data, "\n", &save); tok && n < max; tok = strtok_r(NULL, "\n", &save))
                if (minisign_parse_pubkey_b64(tok, &ret[n], NULL, 0) == 0)
                        n++;
        return n;
}

void store_bundle_check(const struct store *s, struct bundle_check *bc, uint8_t digest_buf[32]) {
        bc->highest_serial = s->highest_serial;
        bc->bad_serials = s->bad;
        bc->n_bad_serials = s->n_bad;
        bc->installed_digest = NULL;
        _cleanup_free_ char *data = NULL, *sig = NULL;
        size_t size, sig_size;
        if (current_serial(s) == s->highest_serial &&
            read_installed(s, s->highest_serial, &data, &size, &sig, &sig_size) == 0) {
                crypto_generichash(digest_buf, 32, (const unsigned char *)data, size, NULL, 0);
                bc->installed_digest = digest_buf;
        }
}

/* Write a new file in dir; durability comes from one syncfs() after all of them. */
static int write_in(const char *dir, const char *name, const void *data, size_t size) {
        _cleanup_free_ char *path = path_join(dir, name);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        return write_all(fd, data, size);
}

/* Points "current" at policies/<serial> (or removes it for serial 0) by renaming a new symlink over it. */
static int switch_current(struct store *s, uint64_t serial) {
        _cleanup_free_ char *cur = store_path(s, "current"), *tmp = store_path(s, "current.tmp");
        if (!cur || !tmp)
                return -ENOMEM;
        if (serial == 0)
                return unlink(cur) < 0 && errno != ENOENT ? -errno : fsync_directory_of(cur);
        char target[64];
        snprintf(target, sizeof target, "policies/%" PRIu64, serial);
        unlink(tmp);
        if (symlink(target, tmp) < 0 || rename(tmp, cur) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return fsync_directory_of(cur);
}

/* The serial file needs to be durable only once "current" may point below
 * it (store_mark_bad): until then a lost write is redone by the daemon's
 * start, which commits the policy "current" names once it is in force. */
static int write_serial(struct store *s, uint64_t serial, bool durable) {
        _cleanup_free_ char *path = store_path(s, "serial");
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", serial);
        if (!path)
                return -ENOMEM;
        return durable ? write_file_atomic(path, buf, (size_t)n, 0600) : write_file_replace(path, buf, (size_t)n, 0600);
}

static int serial_cmp_desc(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

/* Installed serials, newest first. */
static int list_installed(const struct store *s, uint64_t **ret, size_t *ret_n) {
        _cleanup_free_ char *pdir = store_path(s, "policies");
        DIR *d = pdir ? opendir(pdir) : NULL;
        *ret = NULL;
        *ret_n = 0;
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        uint64_t *list = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                uint64_t v;
                if (parse_u64(de->d_name, &v) < 0)
                        continue;
                if (ARRAY_GROW(list, cap, n + 1) < 0) {
                        free(list);
                        closedir(d);
                        return -ENOMEM;
                }
                list[n++] = v;
        }
        closedir(d);
        if (n)
                qsort(list, n, sizeof *list, serial_cmp_desc);
        *ret = list;
        *ret_n = n;
        return 0;
}

static void remove_installed(const struct store *s, uint64_t serial) {
        _cleanup_free_ char *d = store_path(s, "policies/%" PRIu64, serial);
        if (d)
                remove_bundle_dir(d);
}

/* Keep the one in force and the KEEP_PREVIOUS newest others. */
static void prune(struct store *s) {
        _cleanup_free_ uint64_t *list = NULL;
        size_t n;
        if (list_installed(s, &list, &n) < 0)
                return;
        uint64_t cur = current_serial(s);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                if (list[i] == cur)
                        continue;
                if (kept++ < KEEP_PREVIOUS)
                        continue;
                remove_installed(s, list[i]);
        }
}

int store_install(struct store *s, const struct policy *p, const char *sig, size_t sig_size) {
        _cleanup_free_ char *tmp = store_path(s, "policies/%" PRIu64 ".tmp", p->serial);
        _cleanup_free_ char *final = store_path(s, "policies/%" PRIu64, p->serial);
        if (!tmp || !final)
                return -ENOMEM;
        /* 1. the new bundle in a directory of its own, not yet in force */
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return -errno;
        int r = write_in(tmp, "policy.yaml", p->data, p->size);
        if (r == 0)
                r = write_in(tmp, "policy.yaml.minisig", sig, sig_size);
        if (r == 0 && p->n_signers > 0) {
                char lines[MINISIGN_MAX_SIGS * (MINISIGN_PUBKEY_B64_LEN + 1)];
                size_t len = 0;
                for (size_t i = 0; i < p->n_signers && i < MINISIGN_MAX_SIGS; i++) {
                        minisign_format_pubkey_b64(&p->signers[i], lines + len);
                        len += MINISIGN_PUBKEY_B64_LEN;
                        lines[len++] = '\n';
                }
                r = write_in(tmp, "signers", lines, len);
        }
        if (r < 0) {
                remove_bundle_dir(tmp); /* a full disk leaves nothing half-written behind */
                return r;
        }
        fault_point("install-written");
        /* 2. published under its serial (a stale one from a refused apply goes first) */
        remove_installed(s, p->serial);
        if (rename(tmp, final) < 0) {
                r = -errno;
                remove_bundle_dir(tmp);
                return r;
        }
        /* Files, directory and rename reach the disk together: one flush, not one per step. */
        _cleanup_close_ int dfd = open(final, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || syncfs(dfd) < 0)
                return -errno;
        fault_point("install-published");
        /* 3. the one atomic step that puts it in force */
        r = switch_current(s, p->serial);
        if (r < 0)
                return r;
        fault_point("install-switched");
        return 0;
}

int store_commit(struct store *s, uint64_t serial) {
        if (serial <= s->highest_serial)
                return 0;
        /* A serial a trust root's lower-serial took back stays in force without counting again. */
        for (size_t i = 0; i < s->n_uncounted; i++)
                if (s->uncounted[i] == serial)
                        return 0;
        int r = write_serial(s, serial, false);
        if (r < 0)
                return r;
        s->highest_serial = serial;
        fault_point("install-serial");
        prune(s);
        return 0;
}

int store_lower_serial(struct store *s, uint64_t serial) {
        if (serial >= s->highest_serial)
                return 0;
        /* The installed serials above the new highest: the policy among them in force stays in force
         * (nothing in force is lost), but never raises the highest serial again. */
        _cleanup_free_ uint64_t *list = NULL;
        size_t n = 0;
        int r = list_installed(s, &list, &n);
        if (r < 0)
                return r;
        char *buf = malloc((n + s->n_uncounted) * 21 + 1);
        if (!buf)
                return -ENOMEM;
        size_t len = 0, kept = 0;
        for (size_t i = 0; i < s->n_uncounted; i++)
                len += (size_t)sprintf(buf + len, "%" PRIu64 "\n", s->uncounted[i]), kept++;
        for (size_t i = 0; i < n && kept < MAX_BAD_SERIALS; i++)
                if (list[i] > serial)
                        len += (size_t)sprintf(buf + len, "%" PRIu64 "\n", list[i]), kept++;
        _cleanup_free_ char *path = store_path(s, "serials-lowered");
        r = path ? write_file_atomic(path, buf, len, 0600) : -ENOMEM;
        free(buf);
        if (r == 0)
                r = write_serial(s, serial, true);
        if (r < 0)
                return r;
        s->highest_serial = serial;
        free(s->uncounted);
        s->uncounted = NULL;
        s->n_uncounted = 0;
        return load_serial_list(s, "serials-lowered", &s->uncounted, &s->n_uncounted);
}

int store_mark_bad(struct store *s, uint64_t serial) {
        if (s->n_bad >= MAX_BAD_SERIALS)
                return -ENOSPC;
        if (!s->bad && !(s->bad = calloc(MAX_BAD_SERIALS, sizeof *s->bad)))
                return -ENOMEM;
        s->bad[s->n_bad++] = serial;
        char *buf = malloc(s->n_bad * 21 + 1);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        for (size_t i = 0; i < s->n_bad; i++)
                len += (size_t)sprintf(buf + len, "%" PRIu64 "\n", s->bad[i]);
        _cleanup_free_ char *path = store_path(s, "bad-serials");
        int r = path ? write_file_atomic(path, buf, len, 0600) : -ENOMEM;
        free(buf);
        if (r < 0)
                return r;
        if (current_serial(s) != serial)
                return 0;
        /* current is about to point below the highest serial: make that durable first. */
        r = write_serial(s, s->highest_serial, true);
        if (r < 0)
                return r;
        /* Point current back at the newest installed serial that is not bad. */
        _cleanup_free_ uint64_t *list = NULL;
        size_t n;
        r = list_installed(s, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool bad = false;
                for (size_t j = 0; j < s->n_bad; j++)
                        bad |= s->bad[j] == list[i];
                if (!bad)
                        return switch_current(s, list[i]);
        }
        return switch_current(s, 0);
}

int store_choose(struct store *s, const struct keyring *keys, const struct sekisho_conf *conf, int64_t now,
                 struct store_choice *ret) {
        *ret = (struct store_choice){ 0 };
        struct bundle_check bc = { .keys = keys, .conf = conf, .now = now, .installed = true };
        _cleanup_free_ uint64_t *list = NULL;
        size_t n = 0;
        int r = list_installed(s, &list, &n);
        if (r < 0)
                log_warning_errno(r, "Cannot list installed policies in %s, using the embedded default", s->dir);
        uint64_t cur = current_serial(s);
        size_t used = 0;
        /* Candidates: current first, then the others newest first. */
        for (size_t pass = 0; pass < 2 && !ret->policy; pass++)
                for (size_t i = 0; i < n && !ret->policy; i++) {
                        uint64_t serial = list[i];
                        if ((pass == 0) != (serial == cur) || serial == 0)
                                continue;
                        bool bad = false;
                        for (size_t j = 0; j < s->n_bad; j++)
                                bad |= s->bad[j] == serial;
                        if (bad)
                                continue;
                        _cleanup_free_ char *data = NULL, *sig = NULL, *name = NULL;
                        size_t size, sig_size;
                        char why[384];
                        name = store_path(s, "policies/%" PRIu64 "/policy.yaml", serial);
                        r = read_installed(s, serial, &data, &size, &sig, &sig_size);
                        struct minisign_pubkey recorded[MINISIGN_MAX_SIGS];
                        bc.recorded = recorded;
                        bc.n_recorded = read_signers(s, serial, recorded, MINISIGN_MAX_SIGS);
                        enum refusal rf = r < 0 ? REFUSE_IO
                                                : bundle_verify(&bc, name, &data, size, sig, sig_size, &ret->policy,
                                                                NULL, why, sizeof why, NULL);
                        if (rf == REFUSE_IO)
                                snprintf(why, sizeof why, "%s: %s", name ? name : "policy", strerror(-r));
                        if (rf != REFUSE_NONE) {
                                log_warning("Installed policy serial %" PRIu64 " not usable: %s", serial, why);
                                if (!used++)
                                        snprintf(ret->reason, sizeof ret->reason, "%s", why);
                                continue;
                        }
                        ret->source = serial == cur ? "installed" : "previous";
                        free(ret->policy->origin);
                        ret->policy->origin = strdup(ret->source);
                }
        if (ret->policy)
                return 0;
        bool listed = false;
        for (size_t i = 0; i < n; i++)
                listed |= list[i] == cur;
        if (cur && !used)
                snprintf(ret->reason, sizeof ret->reason, listed ? "installed serial %" PRIu64 " is marked bad"
                                                                 : "installed serial %" PRIu64 " is missing from the store",
                         cur);
        ret->source = "embedded";
        return policy_embedded(&ret->policy);
}

int policy_in_force(const char *state_dir, const char *keys_dir, const char *config, struct store_choice *ret,
                    uint64_t *ret_highest, struct perrors *errs) {
        struct perrors local = { 0 };
        struct sekisho_conf conf = { 0 };
        struct keyring keys = { 0 };
        struct store *s = NULL;
        if (!errs)
                errs = &local;
        *ret = (struct store_choice){ 0 };
        conf_load(config, &conf, errs);
        int r = keyring_load(keys_dir, state_dir, now_unix(), &keys);
        if (r < 0)
                perrors_add(errs, keys_dir, 1, 1, "%s", strerror(-r));
        r = store_open(state_dir, false, &s);
        if (r == 0)
                r = store_choose(s, &keys, &conf, now_unix(), ret);
        if (ret_highest)
                *ret_highest = s ? store_effective_highest(s, &keys) : 0;
        if (r < 0 && !ret->policy) {
                snprintf(ret->reason, sizeof ret->reason, "%s: %s", state_dir, strerror(-r));
                ret->source = "embedded";
                r = policy_embedded(&ret->policy);
        }
        store_close(s);
        keyring_done(&keys);
        conf_done(&conf);
        perrors_clear(&local);
        return r;
}

uint64_t store_effective_highest(const struct store *s, const struct keyring *keys) {
        return keys->root_new && keys->has_lower_serial && keys->lower_serial < s->highest_serial ? keys->lower_serial
                                                                                                   : s->highest_serial;
}
