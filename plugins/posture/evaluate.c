/* evaluate.c — checks and loads the posture: policy section and evaluates it against the facts, with evidence and remediation. */
#include "config.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>

#include "dpkgver.h"
#include "evaluate.h"
#include "util.h"

static const char *const check_names[_PC_MAX] = {
        [PC_OS_ALLOWED] = "os.allowed",
        [PC_OS_VERSION] = "os.version",
        [PC_SOFTWARE_FORBIDDEN] = "software.forbidden",
        [PC_SOFTWARE_WINE] = "software.wine",
        [PC_AV_INSTALLED] = "antivirus.installed",
        [PC_AV_SIGNATURES] = "antivirus.signatures",
        [PC_STORAGE_ROOT] = "storage.root-encrypted",
        [PC_STORAGE_HOME] = "storage.home-encrypted",
        [PC_SCREEN_LOCK] = "screenlock.enabled",
        [PC_PASSWORD_LENGTH] = "password.min-length",
        [PC_PASSWORD_AGE] = "password.max-age",
};

static const char *const remedy_en[_PC_MAX] = {
        [PC_OS_ALLOWED] = "Install an operating system the municipality permits (see the BYOD rules), then apply again.",
        [PC_OS_VERSION] = "Update the operating system (for Debian: apt update && apt full-upgrade) to the required version, then restart.",
        [PC_SOFTWARE_FORBIDDEN] = "Remove the file-sharing software listed in the evidence with the tool that installed it (apt, dnf, zypper, flatpak, snap), or delete the file.",
        [PC_SOFTWARE_WINE] = "Delete the Windows file-sharing program found under wine (Winny, Share, Perfect Dark) and its folder.",
        [PC_AV_INSTALLED] = "Install ClamAV (apt install clamav clamav-freshclam) or the antivirus the municipality provides.",
        [PC_AV_SIGNATURES] = "Update the antivirus signatures (systemctl restart clamav-freshclam, or freshclam) while connected to a network.",
        [PC_STORAGE_ROOT] = "The system disk must be encrypted (LUKS). Ask the information systems section to reinstall with encryption.",
        [PC_STORAGE_HOME] = "The disk holding /home must be encrypted (LUKS). Ask the information systems section for help.",
        [PC_SCREEN_LOCK] = "Turn on the automatic screen lock in the desktop settings (GNOME: Settings > Privacy > Screen Lock; KDE: System Settings > Screen Locking).",
        [PC_PASSWORD_LENGTH] = "Require longer passwords: set minlen in /etc/security/pwquality.conf and use pam_pwquality in the PAM password stack (Debian: apt install libpam-pwquality).",
        [PC_PASSWORD_AGE] = "Set PASS_MAX_DAYS in /etc/login.defs (and chage -M DAYS USER for existing accounts).",
};

static const char *const remedy_ja[_PC_MAX] = {
        [PC_OS_ALLOWED] = "自治体が認めるOSをインストールしてから、再度申請してください（BYOD利用規程を参照）。",
        [PC_OS_VERSION] = "OSを必要なバージョンに更新してください（Debianの場合: apt update && apt full-upgrade）。更新後に再起動してください。",
        [PC_SOFTWARE_FORBIDDEN] = "証跡に示されたファイル共有ソフトを、導入に使ったツール（apt、dnf、zypper、flatpak、snap）で削除するか、ファイルを削除してください。",
        [PC_SOFTWARE_WINE] = "wine上で見つかったWindows用ファイル共有ソフト（Winny、Share、Perfect Dark）をフォルダごと削除してください。",
        [PC_AV_INSTALLED] = "ClamAV（apt install clamav clamav-freshclam）または自治体が指定するウイルス対策ソフトを導入してください。",
        [PC_AV_SIGNATURES] = "ネットワークに接続した状態でウイルス定義を更新してください（systemctl restart clamav-freshclam または freshclam）。",
        [PC_STORAGE_ROOT] = "システムディスクの暗号化（LUKS）が必要です。情報システム担当課に暗号化での再インストールを依頼してください。",
        [PC_STORAGE_HOME] = "/home のディスクの暗号化（LUKS）が必要です。情報システム担当課に相談してください。",
        [PC_SCREEN_LOCK] = "デスクトップの設定で画面の自動ロックを有効にしてください（GNOME: 設定 > プライバシー > 画面ロック、KDE: システム設定 > 画面ロック）。",
        [PC_PASSWORD_LENGTH] = "パスワードの最小文字数を引き上げてください（/etc/security/pwquality.conf の minlen を設定し、PAM で pam_pwquality を使用。Debianの場合: apt install libpam-pwquality）。",
        [PC_PASSWORD_AGE] = "/etc/login.defs の PASS_MAX_DAYS を設定してください（既存のアカウントは chage -M 日数 ユーザー名）。",
};

const char *posture_check_name(enum posture_check_id id) { return id < _PC_MAX ? check_names[id] : "?"; }

const char *posture_remedy(enum posture_check_id id, bool japanese) {
        return id < _PC_MAX ? (japanese ? remedy_ja : remedy_en)[id] : "";
}

const char *posture_fix(const struct posture_result *res, enum posture_check_id id, bool japanese) {
        if (id >= _PC_MAX)
                return "";
        const char *own = japanese ? res->c[id].fix_ja : res->c[id].fix_en;
        return own[0] ? own : posture_remedy(id, japanese);
}

const char *posture_status_name(enum posture_status s) {
        static const char *const n[] = { "pass", "fail", "unknown", "skip" };
        return (unsigned)s < ARRAY_SIZE(n) ? n[s] : "?";
}

static const char *const action_values[] = { "report", "notify", "quarantine-after", "quarantine", NULL };

const char *posture_action_name(enum posture_action a) {
        return (unsigned)a < ARRAY_SIZE(action_values) - 1 ? action_values[a] : "?";
}

/* ------------------------------------------------------------------ */
/* Policy section                                                      */

static const struct pkey posture_keys[] = {
        { .name = "action", .type = PT_ENUM, .values = action_values },
        { .name = "grace-hours", .type = PT_INT, .min = 0, .max = 8760 },
        { .name = "allowed-os", .type = PT_SEQ },
        { .name = "forbidden-software", .type = PT_STRING_SEQ },
        { .name = "forbidden-wine-programs", .type = PT_STRING_SEQ },
        { .name = "require-antivirus", .type = PT_BOOL },
        { .name = "max-signature-age-days", .type = PT_INT, .min = 1, .max = 365 },
        { .name = "require-encryption", .type = PT_BOOL },
        { .name = "require-screen-lock", .type = PT_BOOL },
        { .name = "screen-lock-max-idle-minutes", .type = PT_INT, .min = 1, .max = 1440 },
        { .name = "password-min-length", .type = PT_INT, .min = 1, .max = 128 },
        { .name = "password-max-age-days", .type = PT_INT, .min = 1, .max = 3650 },
        { .name = NULL },
};

static const struct pkey os_keys[] = {
        { .name = "id", .type = PT_STRING, .required = true },
        { .name = "min-version", .type = PT_STRING },
        { .name = "max-version", .type = PT_STRING },
        { .name = "rolling", .type = PT_BOOL },
        { .name = NULL },
};

#define MAX_PATTERNS 1024
#define MAX_OS_RULES 64

static size_t check_version(const struct pnode *v, const char *key, struct perrors *errs) {
        const char *s = pnode_str(v);
        struct dpkgver dv;
        if (s && dpkgver_parse(s, &dv, NULL) != 0) {
                perr(errs, v, "'%s' is not a version dpkg can order (digits, letters and . + ~ -)", key);
                return 1;
        }
        return 0;
}

static size_t check_patterns(const struct pnode *seq, const char *key, struct perrors *errs) {
        size_t n = 0;
        if (!seq || seq->kind != PNODE_SEQ)
                return 0;
        if (seq->n > MAX_PATTERNS) {
                perr(errs, seq, "'%s' has more than %d entries", key, MAX_PATTERNS);
                return 1;
        }
        for (size_t i = 0; i < seq->n; i++) {
                const char *s = pnode_str(seq->children[i]);
                if (!s)
                        continue; /* pmap_check reported it */
                if (!*s || strlen(s) > 128 || strchr(s, '/') || !string_is_clean_utf8(s, strlen(s))) {
                        perr(errs, seq->children[i], "'%s' entries must be non-empty name patterns without '/'", key);
                        n++;
                }
        }
        return n;
}

size_t posture_check_section(const struct pnode *section, struct perrors *errs) {
        if (!section)
                return 0;
        if (section->kind != PNODE_MAP) {
                perr(errs, section, "'posture' must be a mapping");
                return 1;
        }
        size_t n = pmap_check(section, posture_keys, errs);
        const struct pnode *os = pmap_get(section, "allowed-os");
        if (os && os->kind == PNODE_SEQ) {
                if (os->n > MAX_OS_RULES) {
                        perr(errs, os, "'allowed-os' has more than %d entries", MAX_OS_RULES);
                        n++;
                }
                for (size_t i = 0; i < os->n && i < MAX_OS_RULES; i++) {
                        const struct pnode *e = os->children[i];
                        if (e->kind != PNODE_MAP) {
                                perr(errs, e, "'allowed-os' entries must be mappings such as { id: debian, min-version: \"12.5\" }");
                                n++;
                                continue;
                        }
                        n += pmap_check(e, os_keys, errs);
                        const char *id = pnode_str(pmap_get(e, "id"));
                        if (id) {
                                bool ok = *id && strlen(id) < 64;
                                for (const char *c = id; *c; c++)
                                        ok = ok && ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                                                    strchr("._-", *c));
                                if (!ok) {
                                        perr(errs, pmap_get(e, "id"),
                                             "'id' must be an os-release ID (lower case letters, digits, . _ -)");
                                        n++;
                                }
                        }
                        const struct pnode *mn = pmap_get(e, "min-version"), *mx = pmap_get(e, "max-version");
                        size_t bad = check_version(mn, "min-version", errs) + check_version(mx, "max-version", errs);
                        n += bad;
                        int c;
                        if (!bad && pnode_str(mn) && pnode_str(mx) &&
                            dpkgver_compare_str(pnode_str(mn), pnode_str(mx), &c) == 0 && c > 0) {
                                perr(errs, mx, "'max-version' is lower than 'min-version'");
                                n++;
                        }
                }
        }
        n += check_patterns(pmap_get(section, "forbidden-software"), "forbidden-software", errs);
        n += check_patterns(pmap_get(section, "forbidden-wine-programs"), "forbidden-wine-programs", errs);
        /* A requirement no terminal of an allowed OS could ever prove. */
        const struct pnode *fsw = pmap_get(section, "forbidden-software");
        if (os && os->kind == PNODE_SEQ && fsw && fsw->kind == PNODE_SEQ && fsw->n > 0)
                for (size_t i = 0; i < os->n && i < MAX_OS_RULES; i++) {
                        const struct pnode *idn = os->children[i]->kind == PNODE_MAP ? pmap_get(os->children[i], "id") : NULL;
                        const char *id = pnode_str(idn);
                        const char *db = id ? os_package_db(id) : "";
                        if (!db)
                                pwarn(errs, idn,
                                      "software.forbidden can never be answered on '%s': its package database is not "
                                      "one this plugin reads (dpkg, rpm), so such a terminal is never compliant", id);
#ifndef HAVE_RPM
                        else if (strcmp(db, "rpm") == 0)
                                pwarn(errs, idn,
                                      "software.forbidden can never be answered on '%s': sekisho was built without "
                                      "librpm, so such a terminal is never compliant", id);
#endif
                }
        const struct pnode *lock = pmap_get(section, "require-screen-lock"), *idle = pmap_get(section, "screen-lock-max-idle-minutes");
        bool lock_on = true;
        if (idle && lock && pnode_bool(lock, &lock_on) == 0 && !lock_on) {
                perr(errs, idle, "'screen-lock-max-idle-minutes' needs a screen lock, but 'require-screen-lock' is false");
                n++;
        }
        if ((lock && pnode_bool(lock, &lock_on) == 0 && lock_on) || idle)
                pwarn(errs, lock ? lock : idle,
                      "the screen lock is read from GNOME (dconf) and KDE (kscreenlockerrc) settings only: a terminal "
                      "where no user has either is unknown, so never compliant");
        const struct pnode *grace = pmap_get(section, "grace-hours");
        const char *action = pnode_str(pmap_get(section, "action"));
        if (grace && (!action || strcmp(action, "quarantine-after") != 0))
                pwarn(errs, grace, "'grace-hours' has an effect only with 'action: quarantine-after'");
        return n;
}

void posture_policy_clear(struct posture_policy *p) {
        for (size_t i = 0; i < p->n_os; i++) {
                free(p->os[i].id);
                free(p->os[i].min);
                free(p->os[i].max);
        }
        free(p->os);
        for (size_t i = 0; i < p->n_forbidden; i++)
                free(p->forbidden[i]);
        free(p->forbidden);
        for (size_t i = 0; i < p->n_wine; i++)
                free(p->wine[i]);
        free(p->wine);
        *p = (struct posture_policy){ 0 };
}

static int strv_from(const struct pnode *seq, char ***ret, size_t *ret_n) {
        size_t n = seq ? seq->n : 0;
        char **v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i] = strdup(pnode_str(seq->children[i]));
                if (!v[i]) {
                        while (i > 0)
                                free(v[--i]);
                        free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int posture_policy_load(const struct pnode *section, struct posture_policy *ret) {
        struct posture_policy p = { .action = POSTURE_REPORT, .grace_hours = 72 };
        int r;

        const char *action = pnode_str(pmap_get(section, "action"));
        for (size_t i = 0; action && action_values[i]; i++)
                if (strcmp(action, action_values[i]) == 0)
                        p.action = (enum posture_action)i;
        (void)pnode_int(pmap_get(section, "grace-hours"), &p.grace_hours);
        (void)pnode_int(pmap_get(section, "max-signature-age-days"), &p.max_sig_age_days);
        (void)pnode_bool(pmap_get(section, "require-antivirus"), &p.require_antivirus);
        (void)pnode_bool(pmap_get(section, "require-encryption"), &p.require_encryption);
        (void)pnode_bool(pmap_get(section, "require-screen-lock"), &p.require_screen_lock);
        (void)pnode_int(pmap_get(section, "screen-lock-max-idle-minutes"), &p.lock_max_idle_minutes);
        (void)pnode_int(pmap_get(section, "password-min-length"), &p.password_min_length);
        (void)pnode_int(pmap_get(section, "password-max-age-days"), &p.password_max_age_days);
        if (p.lock_max_idle_minutes > 0)
                p.require_screen_lock = true;
        if (p.max_sig_age_days > 0)
                p.require_antivirus = true;

        const struct pnode *os = pmap_get(section, "allowed-os");
        if (os && os->kind == PNODE_SEQ) {
                p.check_os = true;
                p.os = calloc(os->n ? os->n : 1, sizeof *p.os);
                if (!p.os)
                        return -ENOMEM;
                for (size_t i = 0; i < os->n; i++, p.n_os++) {
                        const struct pnode *e = os->children[i];
                        const char *id = pnode_str(pmap_get(e, "id"));
                        const char *mn = pnode_str(pmap_get(e, "min-version"));
                        const char *mx = pnode_str(pmap_get(e, "max-version"));
                        struct os_rule *o = &p.os[i];
                        (void)pnode_bool(pmap_get(e, "rolling"), &o->rolling);
                        if (!(o->id = strdup(id ? id : "")) || (mn && !(o->min = strdup(mn))) ||
                            (mx && !(o->max = strdup(mx)))) {
                                p.n_os++;
                                posture_policy_clear(&p);
                                return -ENOMEM;
                        }
                }
        }
        const struct pnode *fs = pmap_get(section, "forbidden-software");
        r = strv_from(fs && fs->kind == PNODE_SEQ ? fs : NULL, &p.forbidden, &p.n_forbidden);
        if (r < 0) {
                posture_policy_clear(&p);
                return r;
        }
        const struct pnode *wp = pmap_get(section, "forbidden-wine-programs");
        r = strv_from(wp && wp->kind == PNODE_SEQ ? wp : NULL, &p.wine, &p.n_wine);
        if (r < 0) {
                posture_policy_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

static void set(struct posture_result *res, enum posture_check_id id, enum posture_status st, const char *fmt, ...)
        _printf_(4, 5);
static void set(struct posture_result *res, enum posture_check_id id, enum posture_status st, const char *fmt, ...) {
        va_list ap;
        res->c[id].status = st;
        va_start(ap, fmt);
        vsnprintf(res->c[id].evidence, sizeof res->c[id].evidence, fmt, ap);
        va_end(ap);
}

static void eval_os(const struct posture_facts *f, const struct posture_policy *p, struct posture_result *res) {
        if (!p->check_os) {
                set(res, PC_OS_ALLOWED, PS_SKIP, "no allowed-os list in the policy");
                set(res, PC_OS_VERSION, PS_SKIP, "no allowed-os list in the policy");
                return;
        }
        if (!f->os_known) {
                set(res, PC_OS_ALLOWED, PS_UNKNOWN, "operating system unknown: %s", f->os_reason);
                set(res, PC_OS_VERSION, PS_UNKNOWN, "operating system unknown");
                return;
        }
        const struct os_rule *rule = NULL;
        for (size_t i = 0; i < p->n_os && !rule; i++)
                if (strcmp(p->os[i].id, f->os.id) == 0)
                        rule = &p->os[i];
        if (!rule) {
                char list[256] = "";
                for (size_t i = 0; i < p->n_os; i++) {
                        size_t l = strlen(list);
                        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", p->os[i].id);
                }
                set(res, PC_OS_ALLOWED, PS_FAIL, "%s is not an allowed operating system (allowed: %s)", f->os.id,
                    list[0] ? list : "none");
                set(res, PC_OS_VERSION, PS_SKIP, "operating system not allowed");
                return;
        }
        set(res, PC_OS_ALLOWED, PS_PASS, "%s (%s)", f->os.id, f->os.pretty_name[0] ? f->os.pretty_name : f->os.name);

        if (f->os_rolling) {
                if (rule->rolling)
                        set(res, PC_OS_VERSION, PS_PASS, "%s is a rolling release (no VERSION_ID), allowed", f->os.id);
                else
                        set(res, PC_OS_VERSION, PS_FAIL,
                            "%s has no VERSION_ID (a rolling or development release); the policy requires a versioned release",
                            f->os.id);
                return;
        }
        struct dpkgver have, want;
        const char *why = NULL;
        if (dpkgver_parse(f->os_version, &have, &why) != 0) {
                set(res, PC_OS_VERSION, PS_UNKNOWN, "%s version '%s' cannot be ordered: %s", f->os.id, f->os_version,
                    why ? why : "invalid");
                return;
        }
        if (rule->min && dpkgver_parse(rule->min, &want, NULL) == 0 && dpkgver_cmp(&have, &want) < 0) {
                set(res, PC_OS_VERSION, PS_FAIL, "%s %s < %s required (from %s)", f->os.id, f->os_version, rule->min,
                    f->os_version_source);
                return;
        }
        if (rule->max && dpkgver_parse(rule->max, &want, NULL) == 0 && dpkgver_cmp(&have, &want) > 0) {
                set(res, PC_OS_VERSION, PS_FAIL, "%s %s > %s allowed at most (from %s)", f->os.id, f->os_version,
                    rule->max, f->os_version_source);
                return;
        }
        set(res, PC_OS_VERSION, PS_PASS, "%s %s%s%s%s%s (from %s)", f->os.id, f->os_version,
            rule->min ? " >= " : "", rule->min ? rule->min : "", rule->max ? ", <= " : "", rule->max ? rule->max : "",
            f->os_version_source);
}


/* The fix for what each package manager installed, in its own words. */
static void software_fix(struct posture_check *c, char names[_SW_MAX][256], const char *os_id) {
        bool zypper = os_id && (strncmp(os_id, "opensuse", 8) == 0 || strncmp(os_id, "sle", 3) == 0);
        for (int s = 0; s < _SW_MAX; s++) {
                if (!names[s][0])
                        continue;
                const char *sep_en = c->fix_en[0] ? " " : "", *sep_ja = c->fix_ja[0] ? " " : "";
                switch ((enum sw_source)s) {
                case SW_DPKG:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sRemove with apt: sudo apt purge %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%saptで削除してください: sudo apt purge %s", sep_ja, names[s]);
                        break;
                case SW_RPM:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sRemove with %s: sudo %s remove %s.", sep_en,
                               zypper ? "zypper" : "dnf", zypper ? "zypper" : "dnf", names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%s%sで削除してください: sudo %s remove %s", sep_ja,
                               zypper ? "zypper" : "dnf", zypper ? "zypper" : "dnf", names[s]);
                        break;
                case SW_FLATPAK:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sRemove the Flatpak: sudo flatpak uninstall --system --delete-data %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%sFlatpakを削除してください: sudo flatpak uninstall --system --delete-data %s", sep_ja, names[s]);
                        break;
                case SW_FLATPAK_USER:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sRemove the Flatpak as the user who installed it: flatpak uninstall --user --delete-data %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%s導入したユーザーでFlatpakを削除してください: flatpak uninstall --user --delete-data %s", sep_ja, names[s]);
                        break;
                case SW_SNAP:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sRemove the snap: sudo snap remove --purge %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%ssnapを削除してください: sudo snap remove --purge %s", sep_ja, names[s]);
                        break;
                case SW_APPIMAGE:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sDelete the AppImage file: %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%sAppImageファイルを削除してください: %s", sep_ja, names[s]);
                        break;
                case SW_WINE:
                        buf_append(c->fix_en, sizeof c->fix_en, "%sDelete the Windows program and its folder: %s.", sep_en, names[s]);
                        buf_append(c->fix_ja, sizeof c->fix_ja, "%sWindows用プログラムをフォルダごと削除してください: %s", sep_ja, names[s]);
                        break;
                default:
                        break;
                }
        }
}

static void add_name(char names[_SW_MAX][256], enum sw_source s, const char *name) {
        if (strlen(names[s]) + strlen(name) + 6 >= 256) {
                if (!strstr(names[s], " ..."))
                        buf_append(names[s], 256, " ...");
                return;
        }
        buf_append(names[s], 256, "%s%s", names[s][0] ? " " : "", name);
}

static void eval_software(const struct posture_facts *f, const struct posture_policy *p, struct posture_result *res) {
        struct posture_check *c = &res->c[PC_SOFTWARE_FORBIDDEN];
        char names[_SW_MAX][256] = { { 0 } };
        if (p->n_forbidden == 0)
                set(res, PC_SOFTWARE_FORBIDDEN, PS_SKIP, "no forbidden-software in the policy");
        else if (f->dpkg_present && !f->pkgs_known)
                set(res, PC_SOFTWARE_FORBIDDEN, PS_UNKNOWN, "installed packages unknown: %s", f->pkgs_reason);
        else if (f->rpm_present && !f->rpm_known)
                set(res, PC_SOFTWARE_FORBIDDEN, PS_UNKNOWN, "installed packages unknown: %s", f->rpm_reason);
        else if (!f->dpkg_present && !f->rpm_present)
                set(res, PC_SOFTWARE_FORBIDDEN, PS_UNKNOWN,
                    "installed packages unknown: no dpkg or rpm database (%s%s)",
                    f->os_known ? f->os.id : "unknown OS",
                    f->os_known && !os_package_db(f->os.id) ? ": its package manager is not read" : "");
        else {
                char found[480] = "";
                size_t hits = 0;
                for (size_t i = 0; i < f->pkgs.n; i++) {
                        const struct pkg *k = &f->pkgs.pkgs[i];
                        if (!pkg_present(k) || !sw_name_forbidden((const char *const *)p->forbidden, k->name, false))
                                continue;
                        if (strlen(found) + strlen(k->name) + strlen(k->version) + 8 < sizeof found)
                                buf_append(found, sizeof found, "%s%s %s", found[0] ? ", " : "", k->name, k->version);
                        add_name(names, SW_DPKG, k->name);
                        hits++;
                }
                for (size_t i = 0; i < f->sw.n; i++) {
                        const struct sw_item *it = &f->sw.v[i];
                        if (!sw_forbidden((const char *const *)p->forbidden, it))
                                continue;
                        const char *shown = it->src == SW_APPIMAGE ? it->where : it->name;
                        if (strlen(found) + strlen(shown) + strlen(it->version) + 24 < sizeof found)
                                buf_append(found, sizeof found, "%s%s%s%s (%s)", found[0] ? ", " : "", shown,
                                       it->version[0] ? " " : "", it->version, sw_source_name(it->src));
                        add_name(names, it->src, it->src == SW_APPIMAGE ? it->where : it->name);
                        hits++;
                }
                char counts[200];
                snprintf(counts, sizeof counts, "%zu dpkg, %zu rpm packages, %zu Flatpaks, %zu snaps, %zu AppImages",
                         f->pkgs.n, f->n_by_source[SW_RPM], f->n_by_source[SW_FLATPAK] + f->n_by_source[SW_FLATPAK_USER],
                         f->n_by_source[SW_SNAP], f->n_by_source[SW_APPIMAGE]);
                if (hits) {
                        set(res, PC_SOFTWARE_FORBIDDEN, PS_FAIL, "%zu forbidden program%s installed: %s%s", hits,
                            hits == 1 ? "" : "s", found, strlen(found) + 40 > sizeof found ? ", ..." : "");
                        software_fix(c, names, f->os_known ? f->os.id : NULL);
                } else
                        set(res, PC_SOFTWARE_FORBIDDEN, PS_PASS, "none forbidden among %s%s%s", counts,
                            f->scan_note[0] ? "; " : "", f->scan_note);
        }

        char wnames[_SW_MAX][256] = { { 0 } };
        if (p->n_wine == 0)
                set(res, PC_SOFTWARE_WINE, PS_SKIP, "no forbidden-wine-programs in the policy");
        else if (f->wine.n) {
                char found[480] = "";
                for (size_t i = 0; i < f->wine.n; i++) {
                        const struct sw_item *it = &f->wine.v[i];
                        if (strlen(found) + strlen(it->where) + strlen(it->version) + 8 < sizeof found)
                                buf_append(found, sizeof found, "%s%s [%s]", found[0] ? ", " : "", it->where, it->version);
                        add_name(wnames, SW_WINE, it->where);
                }
                set(res, PC_SOFTWARE_WINE, PS_FAIL, "found in wine prefixes: %s", found);
                software_fix(&res->c[PC_SOFTWARE_WINE], wnames, NULL);
        } else
                set(res, PC_SOFTWARE_WINE, PS_PASS,
                    "%zu wine prefix%s searched by file name and version resource%s%s", f->wine_prefixes,
                    f->wine_prefixes == 1 ? "" : "es", f->scan_note[0] ? "; " : "", f->scan_note);
}

static void eval_antivirus(const struct posture_facts *f, const struct posture_policy *p, int64_t now,
                           struct posture_result *res) {
        if (!p->require_antivirus) {
                set(res, PC_AV_INSTALLED, PS_SKIP, "antivirus not required by the policy");
                set(res, PC_AV_SIGNATURES, PS_SKIP, "antivirus not required by the policy");
                return;
        }
        if (f->clamav == TRI_YES)
                set(res, PC_AV_INSTALLED, PS_PASS, "ClamAV installed (%s)", f->clamav_evidence);
        else if (f->clamav == TRI_NO)
                set(res, PC_AV_INSTALLED, PS_FAIL, "ClamAV not installed (%s)", f->clamav_evidence);
        else
                set(res, PC_AV_INSTALLED, PS_UNKNOWN, "%s", f->clamav_evidence);

        if (p->max_sig_age_days <= 0) {
                set(res, PC_AV_SIGNATURES, PS_SKIP, "no max-signature-age-days in the policy");
                return;
        }
        if (f->sig_none) {
                set(res, PC_AV_SIGNATURES, PS_FAIL, "no signature databases (%s)", f->sig_evidence);
                return;
        }
        if (!f->sig_known) {
                set(res, PC_AV_SIGNATURES, PS_UNKNOWN, "signature age unknown: %s", f->sig_evidence);
                return;
        }
        int64_t age = now - f->sig_time;
        if (age < -86400) {
                set(res, PC_AV_SIGNATURES, PS_UNKNOWN, "signatures dated in the future (%s): clock or file is wrong",
                    f->sig_evidence);
                return;
        }
        if (age < 0)
                age = 0;
        int64_t days = age / 86400, hours = (age % 86400) / 3600;
        if (age > p->max_sig_age_days * 86400)
                set(res, PC_AV_SIGNATURES, PS_FAIL, "signatures %lld days %lld hours old > %lld days allowed (%s)",
                    (long long)days, (long long)hours, (long long)p->max_sig_age_days, f->sig_evidence);
        else
                set(res, PC_AV_SIGNATURES, PS_PASS, "signatures %lld days %lld hours old, <= %lld days (%s)",
                    (long long)days, (long long)hours, (long long)p->max_sig_age_days, f->sig_evidence);
}

static void eval_storage(const struct storage_fact *s, bool required, enum posture_check_id id,
                         struct posture_result *res) {
        if (!required)
                set(res, id, PS_SKIP, "encryption not required by the policy");
        else if (s->encrypted == TRI_YES)
                set(res, id, PS_PASS, "%s", s->evidence);
        else if (s->encrypted == TRI_NO)
                set(res, id, PS_FAIL, "%s", s->evidence);
        else
                set(res, id, PS_UNKNOWN, "%s", s->evidence);
}

static void eval_screen_lock(const struct posture_facts *f, const struct posture_policy *p,
                             struct posture_result *res) {
        if (!p->require_screen_lock)
                set(res, PC_SCREEN_LOCK, PS_SKIP, "screen lock not required by the policy");
        else if (f->screen_lock == TRI_NO)
                set(res, PC_SCREEN_LOCK, PS_FAIL, "screen lock %s", f->screen_lock_reason);
        else if (f->screen_lock != TRI_YES)
                set(res, PC_SCREEN_LOCK, PS_UNKNOWN, "screen lock %s", f->screen_lock_reason);
        else if (p->lock_max_idle_minutes > 0 && f->lock_idle_max > p->lock_max_idle_minutes * 60)
                set(res, PC_SCREEN_LOCK, PS_FAIL, "locks only after %lld s idle > %lld min allowed: %s",
                    (long long)f->lock_idle_max, (long long)p->lock_max_idle_minutes, f->screen_lock_reason);
        else
                set(res, PC_SCREEN_LOCK, PS_PASS, "%s", f->screen_lock_reason);
}

static void eval_password(const struct posture_facts *f, const struct posture_policy *p, struct posture_result *res) {
        if (p->password_min_length <= 0)
                set(res, PC_PASSWORD_LENGTH, PS_SKIP, "no password-min-length in the policy");
        else if (f->pw_min_len < 0)
                set(res, PC_PASSWORD_LENGTH, PS_UNKNOWN, "%s", f->pw_min_len_evidence);
        else
                set(res, PC_PASSWORD_LENGTH, f->pw_min_len >= p->password_min_length ? PS_PASS : PS_FAIL,
                    "%s %s %lld required", f->pw_min_len_evidence, f->pw_min_len >= p->password_min_length ? ">=" : "<",
                    (long long)p->password_min_length);
        if (p->password_max_age_days <= 0)
                set(res, PC_PASSWORD_AGE, PS_SKIP, "no password-max-age-days in the policy");
        else if (f->pw_max_days < 0)
                set(res, PC_PASSWORD_AGE, PS_UNKNOWN, "%s", f->pw_max_days_evidence);
        else
                set(res, PC_PASSWORD_AGE, f->pw_max_days <= p->password_max_age_days ? PS_PASS : PS_FAIL,
                    "%s %s %lld days allowed", f->pw_max_days_evidence,
                    f->pw_max_days <= p->password_max_age_days ? "<=" : ">", (long long)p->password_max_age_days);
}

void posture_evaluate(const struct posture_facts *f, const struct posture_policy *p, int64_t now,
                      struct posture_result *ret) {
        struct posture_result res = { 0 };
        eval_os(f, p, &res);
        eval_software(f, p, &res);
        eval_antivirus(f, p, now, &res);
        eval_storage(&f->root_fs, p->require_encryption, PC_STORAGE_ROOT, &res);
        eval_storage(&f->home_fs, p->require_encryption, PC_STORAGE_HOME, &res);
        eval_screen_lock(f, p, &res);
        eval_password(f, p, &res);

        for (int i = 0; i < _PC_MAX; i++) {
                if (res.c[i].status == PS_FAIL)
                        res.failed++;
                else if (res.c[i].status == PS_UNKNOWN)
                        res.unknown++;
        }
        /* Unknown is not compliant: a fact we cannot read is never a pass. */
        res.compliant = res.failed == 0 && res.unknown == 0;
        *ret = res;
}
