/* desktop.c — screen lock (GNOME's dconf databases, KDE's kscreenlockerrc) and password policy (pam_pwquality, pam_unix, login.defs) read from files under the root. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "facts.h"
#include "gvdb.h"
#include "util.h"

#define KEYFILE_MAX (256u * 1024)
#define DCONF_SYSTEM_DBS 8
#define HOMES_MAX 256

/* ------------------------------------------------------------------ */
/* GNOME                                                               */

struct dconf_db {
        char *data;
        size_t size;
        struct gvdb_table t, locks;
        bool has_locks;
};

static void dconf_db_clear(struct dconf_db *d) {
        free(d->data);
        *d = (struct dconf_db){ 0 };
}

/* 0, -ENOENT when there is no such database, else -EINVAL (damaged) or another -errno. */
static int dconf_db_open(int rootfd, const char *path, struct dconf_db *d) {
        *d = (struct dconf_db){ 0 };
        int r = root_read(rootfd, path, GVDB_FILE_MAX, &d->data, &d->size);
        if (r < 0)
                return r;
        r = gvdb_open((const uint8_t *)d->data, d->size, &d->t);
        if (r < 0) {
                dconf_db_clear(d);
                return r;
        }
        d->has_locks = gvdb_subtable(&d->t, ".locks", &d->locks) == 0;
        return 0;
}

/* The system databases the "user" profile names (system-db:NAME lines);
 * without a profile dconf uses the user database alone. */
static size_t dconf_system_dbs(int rootfd, struct dconf_db *dbs, size_t max, char *why, size_t why_size) {
        _cleanup_free_ char *prof = NULL;
        size_t n, count = 0;
        if (root_read(rootfd, "/etc/dconf/profile/user", 64 * 1024, &prof, &n) < 0)
                return 0;
        char *save = NULL;
        for (char *line = strtok_r(prof, "\n", &save); line && count < max; line = strtok_r(NULL, "\n", &save)) {
                while (*line == ' ' || *line == '\t')
                        line++;
                if (strncmp(line, "system-db:", 10) != 0)
                        continue;
                char *name = line + 10;
                name[strcspn(name, " \t\r")] = '\0';
                if (!*name || strchr(name, '/') || name[0] == '.')
                        continue;
                char path[320];
                snprintf(path, sizeof path, "/etc/dconf/db/%.255s", name);
                int r = dconf_db_open(rootfd, path, &dbs[count]);
                if (r == 0)
                        count++;
                else if (r != -ENOENT && !why[0])
                        snprintf(why, why_size, "%.100s: %s", path, r == -EINVAL ? "not a valid dconf database" : strerror(-r));
        }
        return count;
}

/* dconf's order: a key locked in a system database takes that database's
 * value; else the user's value; else the first system database's; else the
 * schema default. */
static int dconf_value(struct dconf_db *sys, size_t n_sys, struct dconf_db *user, const char *key, char type,
                       struct gvdb_value *ret, const char **ret_from) {
        for (size_t i = 0; i < n_sys; i++)
                if (sys[i].has_locks && gvdb_has(&sys[i].locks, key) && gvdb_get(&sys[i].t, key, ret) == 0 &&
                    ret->type == type) {
                        *ret_from = "locked by the system";
                        return 0;
                }
        int r = user ? gvdb_get(&user->t, key, ret) : -ENOENT;
        if (r == 0 && ret->type == type) {
                *ret_from = "user setting";
                return 0;
        }
        if (r == -EINVAL)
                return r;
        for (size_t i = 0; i < n_sys; i++)
                if (gvdb_get(&sys[i].t, key, ret) == 0 && ret->type == type) {
                        *ret_from = "system default";
                        return 0;
                }
        return -ENOENT;
}

/* GNOME locks when lock-enabled (default true) and the session goes idle
 * (idle-delay seconds, default 300, 0 = never), lock-delay (default 0) later. */
static enum tristate gnome_lock(struct dconf_db *sys, size_t n_sys, struct dconf_db *user, int64_t *ret_idle,
                                char *ev, size_t ev_size) {
        struct gvdb_value en = { .type = 'b', .b = true }, idle = { .type = 'u', .u = 300 }, delay = { .type = 'u' };
        const char *f1 = "GNOME default", *f2 = "GNOME default", *f3 = "GNOME default";
        if (dconf_value(sys, n_sys, user, "/org/gnome/desktop/screensaver/lock-enabled", 'b', &en, &f1) == -EINVAL ||
            dconf_value(sys, n_sys, user, "/org/gnome/desktop/session/idle-delay", 'u', &idle, &f2) == -EINVAL ||
            dconf_value(sys, n_sys, user, "/org/gnome/desktop/screensaver/lock-delay", 'u', &delay, &f3) == -EINVAL) {
                snprintf(ev, ev_size, "GNOME setting with a malformed value");
                return TRI_UNKNOWN;
        }
        if (!en.b) {
                snprintf(ev, ev_size, "GNOME lock-enabled false (%s)", f1);
                return TRI_NO;
        }
        if (idle.u == 0) {
                snprintf(ev, ev_size, "GNOME idle-delay 0: the screen never blanks (%s)", f2);
                return TRI_NO;
        }
        *ret_idle = (int64_t)idle.u + delay.u;
        snprintf(ev, ev_size, "GNOME locks after %u s idle (%s)%s", idle.u + delay.u, f2,
                 delay.u ? " incl. lock-delay" : "");
        return TRI_YES;
}

/* ------------------------------------------------------------------ */
/* KDE                                                                 */

int kconfig_get(const char *data, size_t size, const char *group, const char *key, char *out, size_t out_size,
                bool *immutable, char *why, size_t why_size) {
        char cur[128] = "";
        bool cur_imm = false, found = false;
        unsigned lineno = 0;
        if (memchr(data, '\0', size)) {
                snprintf(why, why_size, "contains a NUL byte");
                return -EINVAL;
        }
        for (const char *p = data, *end = data + size; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
                const char *s = p;
                p = nl ? nl + 1 : end;
                lineno++;
                while (s < le && (*s == ' ' || *s == '\t'))
                        s++;
                size_t len = (size_t)(le - s);
                while (len && (s[len - 1] == '\r' || s[len - 1] == ' '))
                        len--;
                if (len == 0 || *s == '#')
                        continue;
                if (len > 4096) {
                        snprintf(why, why_size, "line %u: longer than 4096 bytes", lineno);
                        return -EINVAL;
                }
                if (*s == '[') {
                        const char *close = memchr(s, ']', len);
                        if (!close || (size_t)(close - s - 1) >= sizeof cur) {
                                snprintf(why, why_size, "line %u: bad group header", lineno);
                                return -EINVAL;
                        }
                        snprintf(cur, sizeof cur, "%.*s", (int)(close - s - 1), s + 1);
                        cur_imm = (size_t)(close - s) + 5 <= len && memcmp(close + 1, "[$i]", 4) == 0;
                        continue;
                }
                const char *eq = memchr(s, '=', len);
                if (!eq) {
                        snprintf(why, why_size, "line %u: not key=value", lineno);
                        return -EINVAL;
                }
                size_t kl = (size_t)(eq - s);
                while (kl && s[kl - 1] == ' ')
                        kl--;
                bool imm = kl >= 4 && memcmp(s + kl - 4, "[$i]", 4) == 0;
                if (imm)
                        kl -= 4;
                if (strcmp(cur, group) != 0 || kl != strlen(key) || memcmp(s, key, kl) != 0)
                        continue;
                const char *v = eq + 1;
                while (v < s + len && *v == ' ')
                        v++;
                snprintf(out, out_size, "%.*s", (int)(s + len - v), v);
                *immutable = imm || cur_imm;
                found = true;
        }
        return found ? 0 : -ENOENT;
}

struct kfile {
        char *data;
        size_t size;
        const char *path;
};

/* The value of [Daemon] key: the system file's if immutable, else the user's, else the system's. */
static int kde_value(struct kfile *sys, struct kfile *user, const char *key, char *out, size_t out_size, char *why,
                     size_t why_size) {
        bool imm = false;
        int r = -ENOENT;
        if (sys->data) {
                r = kconfig_get(sys->data, sys->size, "Daemon", key, out, out_size, &imm, why, why_size);
                if (r == -EINVAL)
                        return r;
                if (r == 0 && imm)
                        return 0;
        }
        char tmp[64];
        bool dummy;
        int u = user->data ? kconfig_get(user->data, user->size, "Daemon", key, tmp, sizeof tmp, &dummy, why, why_size)
                           : -ENOENT;
        if (u == -EINVAL)
                return u;
        if (u == 0) {
                snprintf(out, out_size, "%s", tmp);
                return 0;
        }
        return r;
}

static int kbool(const char *s, bool *ret) {
        if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "on") == 0 || strcasecmp(s, "yes") == 0)
                *ret = true;
        else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "off") == 0 ||
                 strcasecmp(s, "no") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* KDE locks when Autolock (default true) after Timeout minutes (default 5),
 * LockGrace seconds later (default 5). */
static enum tristate kde_lock(struct kfile *sys, struct kfile *user, int64_t *ret_idle, char *ev, size_t ev_size) {
        char v[64], why[128] = "";
        bool autolock = true;
        uint64_t timeout = 5, grace = 5;
        int r = kde_value(sys, user, "Autolock", v, sizeof v, why, sizeof why);
        if (r == 0 && kbool(v, &autolock) < 0)
                r = -EINVAL, snprintf(why, sizeof why, "Autolock=%.40s is not a boolean", v);
        if (r != -EINVAL) {
                r = kde_value(sys, user, "Timeout", v, sizeof v, why, sizeof why);
                if (r == 0 && (parse_u64(v, &timeout) < 0 || timeout > 100000))
                        r = -EINVAL, snprintf(why, sizeof why, "Timeout=%.40s is not a number of minutes", v);
        }
        if (r != -EINVAL) {
                r = kde_value(sys, user, "LockGrace", v, sizeof v, why, sizeof why);
                if (r == 0 && (parse_u64(v, &grace) < 0 || grace > 100000))
                        r = -EINVAL, snprintf(why, sizeof why, "LockGrace=%.40s is not a number of seconds", v);
        }
        if (r == -EINVAL) {
                snprintf(ev, ev_size, "KDE kscreenlockerrc: %s", why);
                return TRI_UNKNOWN;
        }
        if (!autolock) {
                snprintf(ev, ev_size, "KDE Autolock=false");
                return TRI_NO;
        }
        if (timeout == 0) {
                snprintf(ev, ev_size, "KDE Timeout=0: never locks when idle");
                return TRI_NO;
        }
        *ret_idle = (int64_t)(timeout * 60 + grace);
        snprintf(ev, ev_size, "KDE locks after %llu min idle", (unsigned long long)timeout);
        return TRI_YES;
}

/* ------------------------------------------------------------------ */


/* Every user with GNOME or KDE settings must lock; a user with neither is
 * not counted (no desktop we can read); none counted is unknown. */
void gather_screen_lock(int rootfd, struct posture_facts *f) {
        struct dconf_db sys[DCONF_SYSTEM_DBS];
        char why[FACT_REASON] = "", yes[512] = "", no[512] = "", unknown[512] = "";
        size_t n_sys = dconf_system_dbs(rootfd, sys, DCONF_SYSTEM_DBS, why, sizeof why);
        struct kfile ksys = { .path = "/etc/xdg/kscreenlockerrc" };
        (void)root_read(rootfd, ksys.path, KEYFILE_MAX, &ksys.data, &ksys.size);
        unsigned n_yes = 0, n_no = 0, n_unknown = 0, users = 0;
        int64_t worst = 0;

        _cleanup_closedir_ DIR *home = root_opendir(rootfd, "/home");
        struct dirent *de;
        for (int pass = 0; pass < 2; pass++) {
                for (;;) {
                        char user[256], base[300];
                        if (pass == 0)
                                snprintf(user, sizeof user, "root");
                        else {
                                if (!home || !(de = readdir(home)))
                                        break;
                                if (de->d_name[0] == '.' || strlen(de->d_name) > 200)
                                        continue;
                                snprintf(user, sizeof user, "%s", de->d_name);
                        }
                        if (++users > HOMES_MAX)
                                break;
                        snprintf(base, sizeof base, pass == 0 ? "/root" : "/home/%s", user);
                        char p[400], ev[200];
                        int64_t idle = 0;
                        enum tristate t[2] = { TRI_UNKNOWN, TRI_UNKNOWN };
                        bool has[2] = { false, false };

                        struct dconf_db udb;
                        snprintf(p, sizeof p, "%s/.config/dconf/user", base);
                        int r = dconf_db_open(rootfd, p, &udb);
                        if (r == 0 || r != -ENOENT) {
                                has[0] = true;
                                if (r < 0) {
                                        snprintf(ev, sizeof ev, "%.120s: %s", p, r == -EINVAL ? "not a valid dconf database" : strerror(-r));
                                        t[0] = TRI_UNKNOWN;
                                } else
                                        t[0] = gnome_lock(sys, n_sys, &udb, &idle, ev, sizeof ev);
                                dconf_db_clear(&udb);
                                buf_append(t[0] == TRI_YES ? yes : t[0] == TRI_NO ? no : unknown, 512, "%s%s: %s",
                                       (t[0] == TRI_YES ? yes : t[0] == TRI_NO ? no : unknown)[0] ? "; " : "", user, ev);
                                if (t[0] == TRI_YES && idle > worst)
                                        worst = idle;
                        }
                        struct kfile ku = { 0 };
                        snprintf(p, sizeof p, "%s/.config/kscreenlockerrc", base);
                        r = root_read(rootfd, p, KEYFILE_MAX, &ku.data, &ku.size);
                        char kg[400];
                        snprintf(kg, sizeof kg, "%s/.config/kdeglobals", base);
                        if (r == 0 || root_exists(rootfd, kg)) {
                                has[1] = true;
                                idle = 0;
                                t[1] = kde_lock(&ksys, &ku, &idle, ev, sizeof ev);
                                buf_append(t[1] == TRI_YES ? yes : t[1] == TRI_NO ? no : unknown, 512, "%s%s: %s",
                                       (t[1] == TRI_YES ? yes : t[1] == TRI_NO ? no : unknown)[0] ? "; " : "", user, ev);
                                if (t[1] == TRI_YES && idle > worst)
                                        worst = idle;
                        }
                        free(ku.data);
                        for (int i = 0; i < 2; i++)
                                if (has[i]) {
                                        n_yes += t[i] == TRI_YES;
                                        n_no += t[i] == TRI_NO;
                                        n_unknown += t[i] == TRI_UNKNOWN;
                                }
                        if (pass == 0)
                                break;
                }
        }
        for (size_t i = 0; i < n_sys; i++)
                dconf_db_clear(&sys[i]);
        free(ksys.data);

        if (n_no) {
                f->screen_lock = TRI_NO;
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason, "does not lock: %.480s", no);
        } else if (n_unknown) {
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason, "cannot be read: %.480s", unknown);
        } else if (why[0]) {
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason, "%s", why);
        } else if (n_yes) {
                f->screen_lock = TRI_YES;
                f->lock_idle_max = worst;
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason, "%s", yes);
        } else
                snprintf(f->screen_lock_reason, sizeof f->screen_lock_reason,
                         "no user has GNOME (dconf) or KDE (kscreenlockerrc) settings; other desktops' screen lock cannot be read");
}

/* ------------------------------------------------------------------ */
/* Password policy                                                     */

/* "minlen=N" among the module arguments of a PAM line, or -1. */
static int pam_arg_int(const char *line, const char *name) {
        size_t nl = strlen(name);
        for (const char *p = line; (p = strstr(p, name)); p += nl)
                if ((p == line || p[-1] == ' ' || p[-1] == '\t') && p[nl] == '=') {
                        uint64_t v;
                        char num[16];
                        snprintf(num, sizeof num, "%.*s", (int)strspn(p + nl + 1, "0123456789"), p + nl + 1);
                        if (parse_u64(num, &v) == 0 && v < 1000)
                                return (int)v;
                }
        return -1;
}

/* minlen in pwquality.conf ("minlen = 12"), or -1. */
static int pwquality_conf_minlen(int rootfd) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int v = -1;
        if (root_read(rootfd, "/etc/security/pwquality.conf", KEYFILE_MAX, &data, &n) < 0)
                return -1;
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (strncmp(l, "minlen", 6) != 0)
                        continue;
                char *e = l + 6;
                while (*e == ' ' || *e == '\t')
                        e++;
                if (*e != '=')
                        continue;
                e++;
                while (*e == ' ' || *e == '\t')
                        e++;
                uint64_t x;
                e[strspn(e, "0123456789")] = '\0';
                if (parse_u64(e, &x) == 0 && x < 1000)
                        v = (int)x;
        }
        return v;
}

void gather_password(int rootfd, struct posture_facts *f) {
        /* Debian and openSUSE: common-password; Fedora and RHEL: system-auth. */
        static const char *const stacks[] = { "/etc/pam.d/common-password", "/etc/pam.d/system-auth",
                                              "/etc/pam.d/password-auth" };
        bool any = false;
        for (size_t i = 0; i < ARRAY_SIZE(stacks) && f->pw_min_len < 0; i++) {
                _cleanup_free_ char *data = NULL;
                size_t n;
                if (root_read(rootfd, stacks[i], KEYFILE_MAX, &data, &n) < 0 || memchr(data, '\0', n))
                        continue;
                any = true;
                int unix_len = -2;   /* -2: no pam_unix password line */
                char *save = NULL;
                for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        while (*l == ' ' || *l == '\t')
                                l++;
                        if (strncmp(l, "password", 8) != 0 || (l[8] != ' ' && l[8] != '\t'))
                                continue;
                        if (strstr(l, "pam_pwquality.so") || strstr(l, "pam_cracklib.so")) {
                                int a = pam_arg_int(l, "minlen"), c = pwquality_conf_minlen(rootfd);
                                f->pw_min_len = a >= 0 ? a : c >= 0 ? c : 8;
                                snprintf(f->pw_min_len_evidence, sizeof f->pw_min_len_evidence,
                                         "%s: %s minlen %d (%s)", stacks[i],
                                         strstr(l, "pam_pwquality.so") ? "pam_pwquality" : "pam_cracklib",
                                         f->pw_min_len,
                                         a >= 0 ? "module argument" : c >= 0 ? "/etc/security/pwquality.conf" : "default");
                                break;
                        }
                        if (strstr(l, "pam_unix.so") && unix_len == -2)
                                unix_len = pam_arg_int(l, "minlen");
                }
                if (f->pw_min_len < 0 && unix_len != -2) {
                        /* pam_unix(8): "minlen=n ... Default 6". */
                        f->pw_min_len = unix_len >= 0 ? unix_len : 6;
                        snprintf(f->pw_min_len_evidence, sizeof f->pw_min_len_evidence,
                                 "%s: no pam_pwquality; pam_unix minlen %d (%s)", stacks[i], f->pw_min_len,
                                 unix_len >= 0 ? "module argument" : "default");
                }
        }
        if (f->pw_min_len < 0)
                snprintf(f->pw_min_len_evidence, sizeof f->pw_min_len_evidence, "%s",
                         any ? "no password line with pam_pwquality, pam_cracklib or pam_unix in the PAM stack"
                             : "no PAM password stack (common-password, system-auth) found");

        _cleanup_free_ char *defs = NULL;
        size_t n;
        int r = root_read(rootfd, "/etc/login.defs", KEYFILE_MAX, &defs, &n);
        if (r < 0) {
                snprintf(f->pw_max_days_evidence, sizeof f->pw_max_days_evidence, "/etc/login.defs: %s", strerror(-r));
                return;
        }
        f->pw_max_days = 99999;   /* shadow's "never" when login.defs says nothing */
        snprintf(f->pw_max_days_evidence, sizeof f->pw_max_days_evidence, "/etc/login.defs has no PASS_MAX_DAYS (never expires)");
        char *save = NULL;
        for (char *l = strtok_r(defs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (strncmp(l, "PASS_MAX_DAYS", 13) != 0 || (l[13] != ' ' && l[13] != '\t'))
                        continue;
                char *v = l + 13;
                v += strspn(v, " \t");
                v[strcspn(v, " \t\r")] = '\0';
                uint64_t x;
                if (parse_u64(v, &x) < 0 || x > 99999) {
                        f->pw_max_days = -1;
                        snprintf(f->pw_max_days_evidence, sizeof f->pw_max_days_evidence,
                                 "/etc/login.defs: PASS_MAX_DAYS '%.40s' is not a number of days", v);
                        return;
                }
                f->pw_max_days = (int)x;
                snprintf(f->pw_max_days_evidence, sizeof f->pw_max_days_evidence,
                         "/etc/login.defs PASS_MAX_DAYS %d (for accounts created from now on)", f->pw_max_days);
        }
}
