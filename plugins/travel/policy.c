/* policy.c — the travel: policy section: schema, semantic checks (regions, trips, pins, reset plan) and parsing into struct travel_policy. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "travel.h"
#include "util.h"

static const struct pkey travel_keys[] = {
        { .name = "high-risk-regions", .type = PT_STRING_SEQ },
        { .name = "profile", .type = PT_STRING },
        { .name = "trips", .type = PT_SEQ },
        { .name = "return", .type = PT_MAP },
        { .name = "reset-plan", .type = PT_MAP },
        { NULL },
};

static const struct pkey trip_keys[] = {
        { .name = "id", .type = PT_STRING, .required = true },
        { .name = "destination", .type = PT_STRING, .required = true },
        { .name = "start", .type = PT_TIME, .required = true },
        { .name = "end", .type = PT_TIME, .required = true },
        { .name = "returned", .type = PT_BOOL },
        { .name = "cancelled", .type = PT_BOOL },
        { NULL },
};

static const struct pkey return_keys[] = {
        { .name = "reset", .type = PT_BOOL },
        { .name = "grace", .type = PT_STRING },
        { .name = "probe-interval", .type = PT_STRING },
        { .name = "home-server", .type = PT_STRING },
        { .name = "server-name", .type = PT_STRING },
        { .name = "spki-sha256", .type = PT_STRING },
        { NULL },
};

static const struct pkey plan_keys[] = {
        { .name = "luks-volumes", .type = PT_STRING_SEQ },
        { .name = "credentials", .type = PT_STRING_SEQ },
        { .name = "wipe-directories", .type = PT_STRING_SEQ },
        { .name = "restore", .type = PT_STRING_SEQ },
        { .name = "reboot", .type = PT_BOOL },
        /* the whole-machine reset, carried out by the initramfs */
        { .name = "root-volume", .type = PT_STRING },
        { .name = "journal-dir", .type = PT_STRING },
        { .name = "restore-image", .type = PT_STRING },
        { .name = "factory-reset", .type = PT_STRING },
        { .name = "drive-erase", .type = PT_STRING },
        { .name = "ack-timeout", .type = PT_STRING },
        { .name = "on-no-ack", .type = PT_STRING },
        { .name = "contact", .type = PT_STRING },
        { NULL },
};

/* ---- small parsers ---- */

int parse_duration(const char *s, int64_t *ret) {
        if (!s || !*s)
                return -EINVAL;
        size_t len = strlen(s);
        if (len > 12)
                return -EINVAL;
        int64_t mult = 1;
        char num[16];
        memcpy(num, s, len + 1);
        switch (num[len - 1]) {
        case 's': mult = 1; num[--len] = 0; break;
        case 'm': mult = 60; num[--len] = 0; break;
        case 'h': mult = 3600; num[--len] = 0; break;
        case 'd': mult = 86400; num[--len] = 0; break;
        default:
                if (!isdigit((unsigned char)num[len - 1]))
                        return -EINVAL;
        }
        uint64_t v;
        if (len == 0 || parse_u64(num, &v) < 0 || v > (uint64_t)366 * 86400 / (uint64_t)mult)
                return -EINVAL;
        *ret = (int64_t)v * mult;
        return 0;
}




bool travel_path_ok(const char *p) {
        if (!p || p[0] != '/' || strlen(p) >= TRAVEL_PATH_MAX || !string_is_clean_utf8(p, strlen(p)))
                return false;
        if (strchr(p, '\t') || strstr(p, "//"))
                return false;
        /* no "." or ".." components */
        for (const char *c = p; *c; c++)
                if (c[0] == '/' && c[1] == '.' && (c[2] == '/' || c[2] == 0 || (c[2] == '.' && (c[3] == '/' || c[3] == 0))))
                        return false;
        return true;
}

bool travel_wipe_path_ok(const char *p) {
        static const char *const forbidden[] = { "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32",
                                                 "/lib64", "/proc", "/root", "/run", "/sbin", "/srv", "/sys",
                                                 "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/opt", NULL };
        if (!travel_path_ok(p))
                return false;
        size_t len = strlen(p);
        char buf[TRAVEL_PATH_MAX];
        memcpy(buf, p, len + 1);
        while (len > 1 && buf[len - 1] == '/')
                buf[--len] = 0;
        for (size_t i = 0; forbidden[i]; i++)
                if (strcmp(buf, forbidden[i]) == 0)
                        return false;
        return true;
}

bool travel_volume_ok(const char *v) {
        if (v && strncmp(v, "PARTLABEL=", 10) == 0) {
                size_t len = strlen(v + 10);
                return len > 0 && len <= 72 && strspn(v + 10, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
        }
        return travel_path_ok(v);
}

/* a is b or lies below it, component by component ("/srv/a" is not below "/srv/ab"). */
static bool path_below(const char *a, const char *b) {
        size_t n = strlen(b);
        while (n > 1 && b[n - 1] == '/')
                n--;
        if (strncmp(a, b, n) != 0)
                return false;
        return a[n] == 0 || a[n] == '/' || (n == 1 && b[0] == '/');
}

size_t reset_dependencies(const struct reset_plan *plan, const char *state_dir, const char *journal_dir,
                          const char *restore_image, struct reset_dependency out[TRAVEL_MAX_DEPENDENCIES]) {
        size_t n = 0;
        if (journal_dir)
                out[n++] = (struct reset_dependency){ "the reset journal's directory", journal_dir };
        if (restore_image)
                out[n++] = (struct reset_dependency){ "the restore image", restore_image };
        if (!journal_dir) /* else the plan and journal live there, and the state directory may go */
                out[n++] = (struct reset_dependency){ "the state directory (the reset's plan and journal)", state_dir };
        out[n++] = (struct reset_dependency){ "the kernel and initramfs", "/boot" };
        for (size_t i = 0; i < plan->n_restore && n < TRAVEL_MAX_DEPENDENCIES; i++)
                if (plan->restore[i][0] == '/')
                        out[n++] = (struct reset_dependency){ i == 0 ? "the restore program" : "a file of the restore action",
                                                              plan->restore[i] };
        return n;
}

const struct reset_dependency *reset_path_endangers(const char *path, const struct reset_dependency *deps, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (path_below(deps[i].path, path) || path_below(path, deps[i].path))
                        return &deps[i];
        return NULL;
}

static bool id_ok(const char *s) {
        size_t len = strlen(s);
        if (len == 0 || len > TRAVEL_ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

/* ---- check ---- */

/* Every entry of a removed or wiped list against what the reset depends on. */
static void check_endangers(const struct pnode *seq, const struct reset_dependency *deps, size_t n, struct perrors *errs) {
        for (size_t i = 0; seq && seq->kind == PNODE_SEQ && i < seq->n; i++) {
                const char *s = pnode_str(seq->children[i]);
                const struct reset_dependency *d = s && travel_path_ok(s) ? reset_path_endangers(s, deps, n) : NULL;
                if (d)
                        perr(errs, seq->children[i],
                             "erasing '%s' would erase %s (%s), which the reset itself depends on", s, d->what, d->path);
        }
}

static void check_paths(const struct pnode *seq, bool wipe, struct perrors *errs) {
        if (!seq || seq->kind != PNODE_SEQ)
                return;
        if (seq->n > TRAVEL_MAX_PATHS)
                perr(errs, seq, "too many entries (%zu, at most %d)", seq->n, TRAVEL_MAX_PATHS);
        for (size_t i = 0; i < seq->n; i++) {
                const char *s = pnode_str(seq->children[i]);
                if (!s)
                        continue;
                if (!travel_path_ok(s))
                        perr(errs, seq->children[i], "'%s' is not a clean absolute path", s);
                else if (wipe && !travel_wipe_path_ok(s))
                        perr(errs, seq->children[i], "refusing to remove or wipe the system directory '%s'", s);
        }
}

struct trip_span {
        int64_t start, end;
        const struct pnode *node;
        const char *id;
};

static int span_cmp(const void *a, const void *b) {
        const struct trip_span *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

size_t travel_policy_check(const struct pnode *section, struct perrors *errs) {
        size_t before = errs->n_errors;
        if (!section)
                return 0;
        if (pmap_check(section, travel_keys, errs) > 0 && section->kind != PNODE_MAP)
                return errs->n_errors - before;

        const struct pnode *regions = pmap_get(section, "high-risk-regions");
        if (regions && regions->kind == PNODE_SEQ) {
                if (regions->n > TRAVEL_MAX_REGIONS)
                        perr(errs, regions, "too many regions (%zu)", regions->n);
                for (size_t i = 0; i < regions->n; i++) {
                        const char *c = pnode_str(regions->children[i]);
                        if (c && !iso3166_alpha2_valid(c))
                                perr(errs, regions->children[i],
                                     "unknown region code '%s' (expected an ISO 3166-1 alpha-2 code such as JP)", c);
                }
        }

        const char *profile = pnode_str(pmap_get(section, "profile"));
        if (profile && !id_ok(profile))
                perr(errs, pmap_get(section, "profile"), "invalid profile name '%s'", profile);

        const struct pnode *trips = pmap_get(section, "trips");
        if (trips && trips->kind == PNODE_SEQ) {
                if (trips->n > TRAVEL_MAX_TRIPS) {
                        perr(errs, trips, "too many trips (%zu, at most %d)", trips->n, TRAVEL_MAX_TRIPS);
                        return errs->n_errors - before;
                }
                struct trip_span *spans = calloc(trips->n ? trips->n : 1, sizeof *spans);
                size_t n_spans = 0;
                for (size_t i = 0; i < trips->n; i++) {
                        const struct pnode *t = trips->children[i];
                        if (pmap_check(t, trip_keys, errs) > 0 && t->kind != PNODE_MAP)
                                continue;
                        const char *id = pnode_str(pmap_get(t, "id"));
                        const char *dest = pnode_str(pmap_get(t, "destination"));
                        if (id && !id_ok(id))
                                perr(errs, pmap_get(t, "id"),
                                     "invalid trip id '%s' (1-%d letters, digits, '.', '_', '-')", id, TRAVEL_ID_MAX);
                        for (size_t j = 0; id && j < i; j++) {
                                const char *other = pnode_str(pmap_get(trips->children[j], "id"));
                                if (other && strcmp(other, id) == 0) {
                                        perr(errs, pmap_get(t, "id"), "duplicate trip id '%s'", id);
                                        break;
                                }
                        }
                        if (dest && !iso3166_alpha2_valid(dest))
                                perr(errs, pmap_get(t, "destination"),
                                     "unknown region code '%s' (expected an ISO 3166-1 alpha-2 code such as JP)", dest);
                        int64_t start, end;
                        if (pnode_time(pmap_get(t, "start"), &start) < 0 || pnode_time(pmap_get(t, "end"), &end) < 0)
                                continue;
                        if (end <= start) {
                                perr(errs, pmap_get(t, "end"), "trip '%s' ends before it starts", id ? id : "?");
                                continue;
                        }
                        if (end - start > (int64_t)TRAVEL_MAX_TRIP_DAYS * 86400) {
                                perr(errs, pmap_get(t, "end"), "trip '%s' is longer than %d days", id ? id : "?",
                                     TRAVEL_MAX_TRIP_DAYS);
                                continue;
                        }
                        bool cancelled = false;
                        (void)pnode_bool(pmap_get(t, "cancelled"), &cancelled);
                        if (spans && !cancelled)
                                spans[n_spans++] = (struct trip_span){ start, end, t, id ? id : "?" };
                }
                if (spans) {
                        qsort(spans, n_spans, sizeof *spans, span_cmp);
                        for (size_t i = 1; i < n_spans; i++)
                                if (spans[i].start < spans[i - 1].end)
                                        perr(errs, pmap_get(spans[i].node, "start"),
                                             "trip '%s' overlaps trip '%s' (a terminal is in one place at a time)",
                                             spans[i].id, spans[i - 1].id);
                }
                free(spans);
        }

        const struct pnode *ret = pmap_get(section, "return");
        bool reset = false;
        if (ret && ret->kind == PNODE_MAP) {
                pmap_check(ret, return_keys, errs);
                (void)pnode_bool(pmap_get(ret, "reset"), &reset);
                int64_t d;
                const char *g = pnode_str(pmap_get(ret, "grace"));
                if (g && parse_duration(g, &d) < 0)
                        perr(errs, pmap_get(ret, "grace"), "invalid duration '%s' (e.g. 30m, 24h, 2d)", g);
                const char *pi = pnode_str(pmap_get(ret, "probe-interval"));
                if (pi && (parse_duration(pi, &d) < 0 || d < 10))
                        perr(errs, pmap_get(ret, "probe-interval"), "invalid probe interval '%s' (at least 10s)", pi);
                const char *hs = pnode_str(pmap_get(ret, "home-server"));
                char host[64];
                uint16_t port;
                if (hs && parse_host_port(hs, host, sizeof host, &port) < 0)
                        perr(errs, pmap_get(ret, "home-server"),
                             "invalid home-server '%s' (an IP literal and port: 192.0.2.10:443 or [2001:db8::1]:443)", hs);
                const char *sn = pnode_str(pmap_get(ret, "server-name"));
                if (sn && (strlen(sn) == 0 || strlen(sn) > 253 ||
                           strspn(sn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(sn)))
                        perr(errs, pmap_get(ret, "server-name"), "invalid server-name '%s'", sn);
                const char *pin = pnode_str(pmap_get(ret, "spki-sha256"));
                uint8_t pb[TRAVEL_PIN_LEN];
                if (pin && parse_spki_pin(pin, pb) < 0)
                        perr(errs, pmap_get(ret, "spki-sha256"),
                             "invalid spki-sha256 pin (base64 of 32 bytes, or 64 hex digits)");
                if (reset && (!hs || !pin))
                        perr(errs, ret, "reset: true needs home-server and spki-sha256 (strong return evidence)");
        }

        const struct pnode *plan = pmap_get(section, "reset-plan");
        if (plan && plan->kind == PNODE_MAP) {
                pmap_check(plan, plan_keys, errs);
                check_paths(pmap_get(plan, "luks-volumes"), false, errs);
                check_paths(pmap_get(plan, "credentials"), true, errs); /* removed recursively: same guard */
                check_paths(pmap_get(plan, "wipe-directories"), true, errs);
                const struct pnode *restore = pmap_get(plan, "restore");
                if (restore && restore->kind == PNODE_SEQ) {
                        if (restore->n > TRAVEL_MAX_ARGS)
                                perr(errs, restore, "restore has too many arguments (%zu)", restore->n);
                        const char *argv0 = restore->n ? pnode_str(restore->children[0]) : NULL;
                        if (restore->n && (!argv0 || !travel_path_ok(argv0)))
                                perr(errs, restore, "restore must start with an absolute program path");
                        for (size_t i = 0; i < restore->n; i++) {
                                const char *a = pnode_str(restore->children[i]);
                                if (a && (strlen(a) >= TRAVEL_PATH_MAX || !string_is_clean_utf8(a, strlen(a))))
                                        perr(errs, restore->children[i], "restore argument is not clean text");
                        }
                }
                /* the whole-machine reset */
                const struct pnode *rv = pmap_get(plan, "root-volume"), *jd = pmap_get(plan, "journal-dir"),
                                   *ri = pmap_get(plan, "restore-image"), *fr = pmap_get(plan, "factory-reset"),
                                   *de = pmap_get(plan, "drive-erase");
                if (pnode_str(rv) && !travel_volume_ok(pnode_str(rv)))
                        perr(errs, rv, "root-volume '%s' is neither a clean absolute device path nor PARTLABEL=label", pnode_str(rv));
                if (pnode_str(jd) && !travel_wipe_path_ok(pnode_str(jd)))
                        perr(errs, jd, "journal-dir '%s' must be a clean absolute path below a partition that is not erased (e.g. /boot/sekisho-reset)",
                             pnode_str(jd));
                if (pnode_str(ri) && !travel_path_ok(pnode_str(ri)))
                        perr(errs, ri, "restore-image '%s' is not a clean absolute path", pnode_str(ri));
                if (pnode_str(fr) && strcmp(pnode_str(fr), "systemd-repart") != 0)
                        perr(errs, fr, "factory-reset '%s' is unknown (systemd-repart)", pnode_str(fr));
                if (pnode_str(de) && strcmp(pnode_str(de), "auto") != 0 && strcmp(pnode_str(de), "none") != 0)
                        perr(errs, de, "drive-erase '%s' is unknown (auto or none)", pnode_str(de));
                if (rv && !ri && !fr)
                        perr(errs, rv, "root-volume needs restore-image or factory-reset (else the terminal does not boot again)");
                if (ri && fr)
                        perr(errs, fr, "restore-image and factory-reset exclude each other");
                /* the initramfs mounts only /boot's fstab entry before the root is unlocked */
                if (pnode_str(jd) && travel_wipe_path_ok(pnode_str(jd)) && !path_below(pnode_str(jd), "/boot"))
                        perr(errs, jd, "journal-dir '%s' must be below /boot: the initramfs mounts only /boot", pnode_str(jd));
                if (pnode_str(ri) && travel_path_ok(pnode_str(ri)) && !path_below(pnode_str(ri), "/boot"))
                        perr(errs, ri, "restore-image '%s' must be below /boot: the initramfs mounts only /boot", pnode_str(ri));
                const struct pnode *lv = pmap_get(plan, "luks-volumes");
                for (size_t i = 0; pnode_str(rv) && lv && lv->kind == PNODE_SEQ && i < lv->n; i++)
                        if (pnode_str(lv->children[i]) && strcmp(pnode_str(lv->children[i]), pnode_str(rv)) == 0)
                                perr(errs, lv->children[i], "'%s' is the root-volume: list it once, as root-volume", pnode_str(rv));
                if (!rv && (jd || ri || fr || de))
                        perr(errs, plan, "journal-dir, restore-image, factory-reset and drive-erase belong to a root-volume reset");
                const char *at = pnode_str(pmap_get(plan, "ack-timeout"));
                int64_t d;
                if (at && (parse_duration(at, &d) < 0 || d > TRAVEL_MAX_ACK_TIMEOUT))
                        perr(errs, pmap_get(plan, "ack-timeout"), "invalid ack-timeout '%s' (0 to 24h, e.g. 10m)", at);
                const char *na = pnode_str(pmap_get(plan, "on-no-ack"));
                if (na && strcmp(na, "proceed") != 0 && strcmp(na, "hold") != 0)
                        perr(errs, pmap_get(plan, "on-no-ack"), "invalid on-no-ack '%s' (proceed or hold)", na);
                const char *ct = pnode_str(pmap_get(plan, "contact"));
                if (ct && (strlen(ct) == 0 || strlen(ct) > TRAVEL_CONTACT_MAX || !string_is_clean_utf8(ct, strlen(ct)) ||
                           strpbrk(ct, "\t\n")))
                        perr(errs, pmap_get(plan, "contact"), "invalid contact (1-%d bytes of text on one line)",
                             TRAVEL_CONTACT_MAX);
                /* Nothing the reset needs may be among what it erases. */
                struct reset_plan rp = { 0 };
                if (restore && restore->kind == PNODE_SEQ)
                        for (size_t i = 0; i < restore->n && rp.n_restore < TRAVEL_MAX_ARGS; i++)
                                if (pnode_str(restore->children[i]))
                                        rp.restore[rp.n_restore++] = (char *)pnode_str(restore->children[i]);
                struct reset_dependency deps[TRAVEL_MAX_DEPENDENCIES];
                /* A root-volume reset keeps its plan and journal in journal-dir and needs its restore image. */
                const char *jdir = rv ? (pnode_str(jd) ? pnode_str(jd) : TRAVEL_JOURNAL_DIR) : NULL;
                size_t nd = reset_dependencies(&rp, LOCALSTATEDIR "/lib/sekisho", jdir, rv ? pnode_str(ri) : NULL, deps);
                check_endangers(pmap_get(plan, "credentials"), deps, nd, errs);
                check_endangers(pmap_get(plan, "wipe-directories"), deps, nd, errs);
        }
        if (reset && (!plan || plan->kind != PNODE_MAP))
                perr(errs, ret, "reset: true needs a reset-plan");
        else if (reset) {
                const struct pnode *v = pmap_get(plan, "luks-volumes"), *rs = pmap_get(plan, "restore");
                if (!(v && v->kind == PNODE_SEQ && v->n > 0) && !(rs && rs->kind == PNODE_SEQ && rs->n > 0) &&
                    !pnode_str(pmap_get(plan, "root-volume")))
                        perr(errs, plan,
                             "reset: true needs luks-volumes, a restore action or a root-volume in the reset-plan (else nothing returns the terminal to factory state)");
        }
        return errs->n_errors - before;
}

/* ---- parse ---- */

void reset_plan_clear(struct reset_plan *plan) {
        for (size_t i = 0; i < plan->n_volumes; i++)
                free(plan->volumes[i]);
        for (size_t i = 0; i < plan->n_credentials; i++)
                free(plan->credentials[i]);
        for (size_t i = 0; i < plan->n_wipe; i++)
                free(plan->wipe[i]);
        for (size_t i = 0; i < plan->n_restore; i++)
                free(plan->restore[i]);
        free(plan->root_volume);
        free(plan->journal_dir);
        free(plan->restore_image);
        *plan = (struct reset_plan){ 0 };
}

static int strv_copy(char *const *src, size_t n, char **dst, size_t *dst_n, size_t max) {
        for (size_t i = 0; i < n && i < max; i++) {
                if (!(dst[i] = strdup(src[i])))
                        return -ENOMEM;
                (*dst_n)++;
        }
        return 0;
}

int reset_plan_copy(const struct reset_plan *src, struct reset_plan *dst) {
        *dst = (struct reset_plan){ .reboot = src->reboot, .factory_repart = src->factory_repart, .drive_erase = src->drive_erase,
                                    .ack_timeout = src->ack_timeout, .hold_without_ack = src->hold_without_ack };
        memcpy(dst->reset_id, src->reset_id, sizeof dst->reset_id);
        if ((src->root_volume && !(dst->root_volume = strdup(src->root_volume))) ||
            (src->journal_dir && !(dst->journal_dir = strdup(src->journal_dir))) ||
            (src->restore_image && !(dst->restore_image = strdup(src->restore_image))) ||
            strv_copy(src->volumes, src->n_volumes, dst->volumes, &dst->n_volumes, TRAVEL_MAX_PATHS) < 0 ||
            strv_copy(src->credentials, src->n_credentials, dst->credentials, &dst->n_credentials, TRAVEL_MAX_PATHS) < 0 ||
            strv_copy(src->wipe, src->n_wipe, dst->wipe, &dst->n_wipe, TRAVEL_MAX_PATHS) < 0 ||
            strv_copy(src->restore, src->n_restore, dst->restore, &dst->n_restore, TRAVEL_MAX_ARGS) < 0) {
                reset_plan_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

static int seq_to_strv(const struct pnode *seq, char **dst, size_t *n, size_t max) {
        if (!seq || seq->kind != PNODE_SEQ)
                return 0;
        for (size_t i = 0; i < seq->n && *n < max; i++) {
                const char *s = pnode_str(seq->children[i]);
                if (!s)
                        continue;
                if (!(dst[*n] = strdup(s)))
                        return -ENOMEM;
                (*n)++;
        }
        return 0;
}

void travel_policy_clear(struct travel_policy *p) {
        free(p->trips);
        reset_plan_clear(&p->plan);
        *p = (struct travel_policy){ 0 };
}

int travel_policy_parse(const struct pnode *section, struct travel_policy *ret) {
        struct travel_policy p = { .grace = TRAVEL_DEFAULT_GRACE, .probe_interval = 300,
                                   .plan.ack_timeout = TRAVEL_DEFAULT_ACK_TIMEOUT };
        strcpy(p.profile, "travel");
        if (!section) {
                *ret = p;
                return 0;
        }
        const struct pnode *regions = pmap_get(section, "high-risk-regions");
        for (size_t i = 0; regions && regions->kind == PNODE_SEQ && i < regions->n && p.n_regions < TRAVEL_MAX_REGIONS; i++) {
                const char *c = pnode_str(regions->children[i]);
                if (c && iso3166_alpha2_valid(c))
                        memcpy(p.regions[p.n_regions++], c, 3);
        }
        const char *profile = pnode_str(pmap_get(section, "profile"));
        if (profile && strlen(profile) <= TRAVEL_ID_MAX)
                strcpy(p.profile, profile);

        const struct pnode *trips = pmap_get(section, "trips");
        if (trips && trips->kind == PNODE_SEQ && trips->n > 0) {
                p.trips = calloc(trips->n < TRAVEL_MAX_TRIPS ? trips->n : TRAVEL_MAX_TRIPS, sizeof *p.trips);
                if (!p.trips)
                        return -ENOMEM;
                for (size_t i = 0; i < trips->n && p.n_trips < TRAVEL_MAX_TRIPS; i++) {
                        const struct pnode *t = trips->children[i];
                        struct travel_trip *tr = &p.trips[p.n_trips];
                        const char *id = pnode_str(pmap_get(t, "id"));
                        const char *dest = pnode_str(pmap_get(t, "destination"));
                        if (!id || !dest || !id_ok(id) || !iso3166_alpha2_valid(dest) ||
                            pnode_time(pmap_get(t, "start"), &tr->start) < 0 ||
                            pnode_time(pmap_get(t, "end"), &tr->end) < 0 || tr->end <= tr->start)
                                continue; /* check() refused it already; never half-use a bad trip */
                        strcpy(tr->id, id);
                        memcpy(tr->destination, dest, 3);
                        (void)pnode_bool(pmap_get(t, "returned"), &tr->returned);
                        (void)pnode_bool(pmap_get(t, "cancelled"), &tr->cancelled);
                        for (size_t j = 0; j < p.n_regions; j++)
                                if (strcmp(p.regions[j], dest) == 0)
                                        tr->high_risk = true;
                        p.n_trips++;
                }
        }

        const struct pnode *r = pmap_get(section, "return");
        if (r) {
                (void)pnode_bool(pmap_get(r, "reset"), &p.reset);
                const char *g = pnode_str(pmap_get(r, "grace"));
                if (g)
                        (void)parse_duration(g, &p.grace);
                const char *pi = pnode_str(pmap_get(r, "probe-interval"));
                if (pi)
                        (void)parse_duration(pi, &p.probe_interval);
                const char *hs = pnode_str(pmap_get(r, "home-server"));
                if (hs && strlen(hs) < sizeof p.server)
                        strcpy(p.server, hs);
                const char *sn = pnode_str(pmap_get(r, "server-name"));
                if (sn && strlen(sn) < sizeof p.server_name)
                        strcpy(p.server_name, sn);
                const char *pin = pnode_str(pmap_get(r, "spki-sha256"));
                p.have_pin = pin && parse_spki_pin(pin, p.pin) == 0;
        }
        if (p.reset && (!p.have_pin || !p.server[0]))
                p.reset = false; /* no strong evidence possible: never a reset */

        const struct pnode *plan = pmap_get(section, "reset-plan");
        if (plan) {
                int k = 0;
                if (seq_to_strv(pmap_get(plan, "luks-volumes"), p.plan.volumes, &p.plan.n_volumes, TRAVEL_MAX_PATHS) < 0 ||
                    seq_to_strv(pmap_get(plan, "credentials"), p.plan.credentials, &p.plan.n_credentials, TRAVEL_MAX_PATHS) < 0 ||
                    seq_to_strv(pmap_get(plan, "wipe-directories"), p.plan.wipe, &p.plan.n_wipe, TRAVEL_MAX_PATHS) < 0 ||
                    seq_to_strv(pmap_get(plan, "restore"), p.plan.restore, &p.plan.n_restore, TRAVEL_MAX_ARGS) < 0)
                        k = -ENOMEM;
                p.plan.reboot = true;
                (void)pnode_bool(pmap_get(plan, "reboot"), &p.plan.reboot);
                /* the whole-machine reset */
                const char *rv = pnode_str(pmap_get(plan, "root-volume")), *jd = pnode_str(pmap_get(plan, "journal-dir")),
                           *ri = pnode_str(pmap_get(plan, "restore-image")), *de = pnode_str(pmap_get(plan, "drive-erase"));
                p.plan.factory_repart = pnode_str(pmap_get(plan, "factory-reset")) != NULL;
                p.plan.drive_erase = !de || strcmp(de, "none") != 0;
                if ((rv && !(p.plan.root_volume = strdup(rv))) ||
                    (rv && !(p.plan.journal_dir = strdup(jd ? jd : TRAVEL_JOURNAL_DIR))) ||
                    (rv && ri && !(p.plan.restore_image = strdup(ri))))
                        k = -ENOMEM;
                const char *at = pnode_str(pmap_get(plan, "ack-timeout"));
                if (at)
                        (void)parse_duration(at, &p.plan.ack_timeout);
                const char *na = pnode_str(pmap_get(plan, "on-no-ack"));
                p.plan.hold_without_ack = na && strcmp(na, "hold") == 0;
                const char *ct = pnode_str(pmap_get(plan, "contact"));
                if (ct && strlen(ct) <= TRAVEL_CONTACT_MAX)
                        strcpy(p.contact, ct);
                if (k < 0) {
                        travel_policy_clear(&p);
                        return k;
                }
        } else if (p.reset)
                p.reset = false;
        *ret = p;
        return 0;
}

const struct travel_trip *travel_policy_find_trip(const struct travel_policy *p, const char *id) {
        for (size_t i = 0; i < p->n_trips; i++)
                if (strcmp(p->trips[i].id, id) == 0)
                        return &p->trips[i];
        return NULL;
}
