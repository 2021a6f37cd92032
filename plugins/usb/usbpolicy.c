/* usbpolicy.c — compiles the usb: policy section and decides devices and interfaces from the device model. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usbpolicy.h"
#include "util.h"

static const char *const targets[] = { "allow", "block", "reject", NULL };

static const struct pkey usb_keys[] = {
        { .name = "default", .type = PT_ENUM, .values = targets },
        { .name = "rules", .type = PT_STRING_SEQ },
        { .name = "register", .type = PT_SEQ },
        { NULL },
};

static const struct pkey register_keys[] = {
        { .name = "name", .type = PT_STRING, .required = true },
        { .name = "id", .type = PT_STRING, .required = true },
        { .name = "serial", .type = PT_STRING, .required = true },
        { .name = "hash", .type = PT_STRING, .required = true },
        { .name = "for", .type = PT_MAP },
        { .name = "expires", .type = PT_STRING },
        { .name = "read-only", .type = PT_BOOL },
        { NULL },
};

static const struct pkey for_keys[] = {
        { .name = "users", .type = PT_STRING_SEQ },
        { .name = "groups", .type = PT_STRING_SEQ },
        { .name = "terminals", .type = PT_STRING_SEQ },
        { NULL },
};

static enum usb_target target_from(const char *s) {
        if (s && strcmp(s, "allow") == 0)
                return USB_TARGET_ALLOW;
        if (s && strcmp(s, "reject") == 0)
                return USB_TARGET_REJECT;
        return USB_TARGET_BLOCK;
}

static void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void register_entry_done(struct usb_register_entry *e) {
        free(e->name);
        free(e->serial);
        free(e->hash);
        strv_free(e->users);
        strv_free(e->groups);
        strv_free(e->terminals);
        *e = (struct usb_register_entry){ 0 };
}

void usb_policy_done(struct usb_policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                usbrule_done(&p->rules[i]);
        free(p->rules);
        for (size_t i = 0; i < p->n_reg; i++)
                register_entry_done(&p->reg[i]);
        free(p->reg);
        *p = (struct usb_policy){ 0 };
}

int usb_parse_expiry(const char *s, int64_t *ret) {
        int Y, M, D, h = 0, m = 0, sec = 0;
        char tail;
        size_t len = strlen(s);
        if (parse_rfc3339(s, ret) == 0)
                return 0;
        /* Without a zone: the terminal's local time. A date alone: through that day. */
        if (len == 10 && sscanf(s, "%4d-%2d-%2d%c", &Y, &M, &D, &tail) == 3)
                D++, h = 0;
        else if (!((len == 16 && sscanf(s, "%4d-%2d-%2dT%2d:%2d%c", &Y, &M, &D, &h, &m, &tail) == 5) ||
                   (len == 19 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &Y, &M, &D, &h, &m, &sec, &tail) == 6)))
                return -EINVAL;
        if (s[4] != '-' || s[7] != '-' || Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > 32 || h < 0 ||
            h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == ':' || s[i] == 'T'))
                        return -EINVAL;
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int day = len == 10 ? D - 1 : D;
        if (day > mdays[M - 1] || (M == 2 && day == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0)))
                return -EINVAL;
        struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m,
                         .tm_sec = sec, .tm_isdst = -1 };
        time_t t = mktime(&tm); /* normalises the day after the last of a month */
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = (int64_t)t;
        return 0;
}

static bool is_b64(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* A NULL-terminated copy of a list of strings (NULL for an absent or empty one). */
static int strv_from(const struct pnode *seq, char ***ret) {
        *ret = NULL;
        if (!seq || seq->kind != PNODE_SEQ || seq->n == 0)
                return 0;
        char **v = calloc(seq->n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0, k = 0; i < seq->n; i++) {
                const char *s = pnode_str(seq->children[i]);
                if (s && !(v[k++] = strdup(s))) {
                        strv_free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        return 0;
}

/* One register entry: checked, and compiled into e unless e is NULL. */
static int register_entry(const struct pnode *n, struct usb_register_entry *e, struct perrors *errs,
                          size_t *nerr) {
        if (n->kind != PNODE_MAP) {
                perr(errs, n, "usb.register: each entry is a mapping (name, id, serial, hash, for, expires, read-only)");
                (*nerr)++;
                return 0;
        }
        size_t before = *nerr;
        *nerr += pmap_check(n, register_keys, errs);
        const struct pnode *f = pmap_get(n, "for");
        if (f)
                *nerr += pmap_check(f, for_keys, errs);
        const struct pnode *id = pmap_get(n, "id"), *hash = pmap_get(n, "hash"), *exp = pmap_get(n, "expires");
        const char *ids = pnode_str(id), *hs = pnode_str(hash), *es = pnode_str(exp);
        struct usb_devid devid = { 0 };
        if (ids) {
                bool ok = strlen(ids) == 9 && ids[4] == ':';
                for (int i = 0; ok && i < 9; i++)
                        ok = i == 4 || (ids[i] >= '0' && ids[i] <= '9') || (ids[i] >= 'a' && ids[i] <= 'f');
                if (!ok) {
                        perr(errs, id, "usb.register: id must be vvvv:pppp in lower-case hex, as sysfs shows it");
                        (*nerr)++;
                } else {
                        memcpy(devid.vid, ids, 4);
                        memcpy(devid.pid, ids + 5, 4);
                }
        }
        if (hs) {
                bool ok = strlen(hs) == USB_HASH_B64 - 1 && hs[USB_HASH_B64 - 2] == '=';
                for (size_t i = 0; ok && i < USB_HASH_B64 - 2; i++)
                        ok = is_b64(hs[i]);
                if (!ok) {
                        perr(errs, hash, "usb.register: hash must be the device's USBGuard hash (44 characters of "
                                         "base64, as 'sekishoctl usb register' prints it)");
                        (*nerr)++;
                }
        }
        int64_t expires = 0;
        if (es && usb_parse_expiry(es, &expires) < 0) {
                perr(errs, exp, "usb.register: expires must be a date (2027-03-31: through that day) or a date and "
                                "time (2027-03-31T17:00, 2027-03-31T17:00:00+09:00)");
                (*nerr)++;
        }
        if (!e || *nerr > before)
                return 0;
        *e = (struct usb_register_entry){ .id = devid, .expires = expires };
        bool ro = false;
        if (pmap_get(n, "read-only"))
                pnode_bool(pmap_get(n, "read-only"), &ro);
        e->read_only = ro;
        if (!(e->name = strdup(pnode_str(pmap_get(n, "name")))) ||
            !(e->serial = strdup(pnode_str(pmap_get(n, "serial")))) || !(e->hash = strdup(hs)) ||
            strv_from(pmap_get(f, "users"), &e->users) < 0 || strv_from(pmap_get(f, "groups"), &e->groups) < 0 ||
            strv_from(pmap_get(f, "terminals"), &e->terminals) < 0) {
                register_entry_done(e);
                return -ENOMEM;
        }
        return 1;
}

/* keep=false (check): each rule is parsed and dropped at once. */
static int compile(const struct pnode *section, struct usb_policy *ret, struct perrors *errs, size_t *n_errors,
                   bool keep) {
        *ret = (struct usb_policy){ .deflt = USB_TARGET_BLOCK };
        size_t nerr = pmap_check(section, usb_keys, errs);
        if (!section || section->kind != PNODE_MAP) {
                *n_errors = nerr;
                return 0;
        }
        ret->deflt = target_from(pnode_str(pmap_get(section, "default")));
        const struct pnode *rules = pmap_get(section, "rules");
        if (rules && rules->kind == PNODE_SEQ) {
                if (rules->n > USB_MAX_RULES) {
                        perr(errs, rules, "more than %d USB rules", USB_MAX_RULES);
                        *n_errors = nerr + 1;
                        return 0;
                }
                ret->rules = calloc(keep && rules->n ? rules->n : 1, sizeof *ret->rules);
                if (!ret->rules)
                        return -ENOMEM;
                for (size_t i = 0; i < rules->n; i++) {
                        const struct pnode *rn = rules->children[i];
                        if (rn->kind != PNODE_SCALAR)
                                continue; /* pmap_check reported it */
                        struct usbrule_error e;
                        int r = usbrule_parse(rn->scalar, rn->scalar_len, &ret->rules[ret->n], &e);
                        if (r == -ENOMEM)
                                return r;
                        if (r == -ENOENT) {
                                perr(errs, rn, "empty USB rule");
                                nerr++;
                                continue;
                        }
                        if (r < 0) {
                                /* A plain scalar maps byte for byte onto the line; a
                                 * quoted one does not, so say the column in the rule. */
                                if (!rn->quoted && !strchr(rn->scalar, '\n'))
                                        perrors_add(errs, rn->file, rn->line, rn->col + e.col - 1, "USB rule: %s",
                                                    e.msg);
                                else
                                        perr(errs, rn, "USB rule, column %u of the rule: %s", e.col, e.msg);
                                nerr++;
                                continue;
                        }
                        if (ret->rules[ret->n].uppercase_id)
                                pwarn(errs, rn,
                                      "USB rule: id with upper-case hex never matches (sysfs ids are lower case; "
                                      "USBGuard compares them as text)");
                        const struct usb_rule *nr = &ret->rules[ret->n];
                        if (nr->parent_hash.present)
                                ret->need |= USBDEV_PARENT_HASH;
                        if (nr->name.present || nr->serial.present || nr->hash.present)
                                ret->need |= USBDEV_STRINGS;
                        if (nr->connect_type.present)
                                ret->need |= USBDEV_CONNECT_TYPE;
                        if (keep)
                                ret->n++;
                        else
                                usbrule_done(&ret->rules[0]);
                }
        }
        const struct pnode *reg = pmap_get(section, "register");
        if (reg && reg->kind == PNODE_SEQ) {
                if (reg->n > USB_MAX_REGISTER) {
                        perr(errs, reg, "more than %d entries in the USB register", USB_MAX_REGISTER);
                        *n_errors = nerr + 1;
                        return 0;
                }
                if (keep && reg->n && !(ret->reg = calloc(reg->n, sizeof *ret->reg)))
                        return -ENOMEM;
                for (size_t i = 0; i < reg->n; i++) {
                        int r = register_entry(reg->children[i], keep ? &ret->reg[ret->n_reg] : NULL, errs, &nerr);
                        if (r < 0)
                                return r;
                        ret->n_reg += (size_t)r;
                }
                if (reg->n)
                        ret->need |= USBDEV_STRINGS;
        }
        *n_errors = nerr;
        return 0;
}

size_t usb_policy_check(const struct pnode *section, struct perrors *errs) {
        struct usb_policy p;
        size_t n = 0;
        int r = compile(section, &p, errs, &n, false);
        usb_policy_done(&p);
        if (r < 0) {
                perr(errs, section, "out of memory while checking the usb section");
                n++;
        }
        return n;
}

int usb_policy_load(const struct pnode *section, struct usb_policy *ret, struct perrors *errs) {
        size_t n = 0;
        int r = compile(section, ret, errs, &n, true);
        if (r < 0 || n > 0) {
                usb_policy_done(ret);
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}

void usb_device_info_done(struct usb_device_info *d) {
        if (!d)
                return;
        free(d->syspath);
        free(d->devpath);
        free(d->port);
        free(d->name);
        free(d->serial);
        free(d->connect_type);
        free(d->desc);
        free(d->blob);
        *d = (struct usb_device_info){ 0 };
}

bool usb_register_is_device(const struct usb_register_entry *e, const struct usb_device_info *d) {
        return d->ok && d->serial && d->hash[0] && strcmp(e->id.vid, d->vid) == 0 && strcmp(e->id.pid, d->pid) == 0 &&
               strcmp(e->serial, d->serial) == 0 && strcmp(e->hash, d->hash) == 0;
}

static bool strv_has(char *const *v, const char *s) {
        for (size_t i = 0; s && v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static void strv_join(char *const *v, char *out, size_t size) {
        size_t o = 0;
        out[0] = '\0';
        for (size_t i = 0; v && v[i] && o + 1 < size; i++)
                o += (size_t)snprintf(out + o, size - o, "%s%s", i ? ", " : "", v[i]);
}

const char *usb_register_why_not(const struct usb_register_entry *e, const struct usb_who *who, char *buf,
                                 size_t size) {
        int64_t now = who ? who->now : now_unix();
        char list[256];
        if (e->expires && now >= e->expires) {
                char t[32];
                format_rfc3339(e->expires, t);
                snprintf(buf, size, "expired at %s", t);
                return buf;
        }
        if (e->terminals) {
                bool here = false;
                for (size_t i = 0; who && who->terminals && who->terminals[i] && !here; i++)
                        here = strv_has(e->terminals, who->terminals[i]);
                if (!here) {
                        strv_join(e->terminals, list, sizeof list);
                        snprintf(buf, size, "for terminals %s only", list);
                        return buf;
                }
        }
        if (e->users || e->groups) {
                const char *user = who ? who->user : NULL;
                bool member = strv_has(e->users, user);
                for (size_t i = 0; user && who->groups && who->groups[i] && !member; i++)
                        member = strv_has(e->groups, who->groups[i]);
                if (!member) {
                        char groups[256];
                        strv_join(e->users, list, sizeof list);
                        strv_join(e->groups, groups, sizeof groups);
                        snprintf(buf, size, "for %s%s%s%s%s only, not %s", e->users ? "users " : "", list,
                                 e->users && e->groups ? " and " : "", e->groups ? "groups " : "", groups,
                                 user ? user : "nobody logged in");
                        return buf;
                }
        }
        return NULL;
}

void usb_policy_decide(const struct usb_policy *p, const struct usb_device_info *d, struct usb_verdict *ret) {
        usb_policy_decide_for(p, d, NULL, ret);
}

void usb_policy_decide_for(const struct usb_policy *p, const struct usb_device_info *d, const struct usb_who *who,
                           struct usb_verdict *ret) {
        *ret = (struct usb_verdict){ .target = USB_TARGET_BLOCK, .index = -1, .entry_index = -1 };
        if (!d->ok) {
                ret->reason = d->problem[0] ? d->problem : "unreadable device";
                return;
        }
        if (d->is_controller) {
                /* Never cut a controller: that would take internal keyboards
                 * with it. Devices behind it are decided one by one. */
                ret->target = USB_TARGET_ALLOW;
                ret->reason = "controller";
                return;
        }
        struct usb_devinfo di = {
                .name = d->name, .serial = d->serial, .hash = d->hash, .parent_hash = d->parent_hash,
                .port = d->port, .connect_type = d->connect_type,
                .ifs = d->desc->types, .n_ifs = d->desc->n_ifs,
        };
        memcpy(di.vid, d->vid, sizeof di.vid);
        memcpy(di.pid, d->pid, sizeof di.pid);
        for (size_t i = 0; p && i < p->n_reg; i++) {
                char why[8];
                if (!usb_register_is_device(&p->reg[i], d) || usb_register_why_not(&p->reg[i], who, why, sizeof why))
                        continue;
                ret->target = USB_TARGET_ALLOW;
                ret->entry = &p->reg[i];
                ret->entry_index = (ssize_t)i;
                ret->read_only = p->reg[i].read_only;
                ret->reason = "register";
                return;
        }
        for (size_t i = 0; p && i < p->n; i++) {
                if (!usbrule_matches(&p->rules[i], &di))
                        continue;
                if (p->rules[i].target == USB_TARGET_MATCH)
                        continue;
                ret->target = p->rules[i].target;
                ret->rule = &p->rules[i];
                ret->index = (ssize_t)i;
                ret->reason = "rule";
                return;
        }
        ret->target = p ? p->deflt : USB_TARGET_BLOCK;
        ret->reason = "default";
}

bool usb_policy_interface_allowed(const struct usb_verdict *v, const struct usb_device_info *d, uint8_t config,
                                  uint8_t number) {
        if (v->target != USB_TARGET_ALLOW || !d->ok || !d->desc)
                return false;
        if (!v->rule)
                return true; /* controller, or default allow: the whole device */
        struct usb_iftype alts[USBDESC_MAX_IFS];
        size_t n = usbdesc_interface_types(d->desc, config, number, alts, USBDESC_MAX_IFS);
        if (n == 0 && v->rule->ifmode != USB_IFMODE_ALL)
                return false; /* an interface its descriptors do not show: block */
        return usbrule_interface_allowed(v->rule, alts, n);
}

/* A device no rule can know by id, offering the given interfaces in configuration 1. */
static int probe_storage(const struct usb_policy *p, const struct usb_iftype *ifs, size_t n, char *why,
                         size_t why_size) {
        struct usb_desc *desc = calloc(1, sizeof *desc);
        if (!desc)
                return -ENOMEM;
        desc->n_configs = 1;
        for (size_t i = 0; i < n; i++) {
                desc->ifs[i] = (struct usb_ifdesc){ .config = 1, .number = (uint8_t)i, .type = ifs[i] };
                desc->types[i] = ifs[i];
        }
        desc->n_ifs = n;
        struct usb_device_info d = { .port = (char *)"", .name = (char *)"", .serial = (char *)"",
                                     .connect_type = (char *)"", .ok = true, .desc = desc };
        struct usb_verdict v;
        usb_policy_decide(p, &d, &v);
        int lets_in = 0;
        for (size_t i = 0; i < n; i++)
                if (ifs[i].cls == 0x08 && usb_policy_interface_allowed(&v, &d, 1, (uint8_t)i))
                        lets_in = 1;
        if (lets_in) {
                if (v.rule)
                        snprintf(why, why_size, "rule %zd (%s) allows it", v.index + 1, v.rule->text);
                else
                        snprintf(why, why_size, "the default is %s", usb_target_name(v.target));
        }
        free(desc);
        return lets_in;
}

bool usb_policy_blocks_storage(const struct usb_policy *p, char *why, size_t why_size) {
        static const struct usb_iftype stick[] = { { 0x08, 0x06, 0x50, USB_IF_MATCH_ALL } };
        static const struct usb_iftype badusb[] = { { 0x03, 0x01, 0x01, USB_IF_MATCH_ALL },
                                                    { 0x08, 0x06, 0x50, USB_IF_MATCH_ALL } };
        char w[400];
        int r = probe_storage(p, stick, ARRAY_SIZE(stick), w, sizeof w);
        if (r == 0) {
                r = probe_storage(p, badusb, ARRAY_SIZE(badusb), w, sizeof w);
                if (r > 0)
                        snprintf(why, why_size, "a keyboard with a storage interface gets its storage: %s", w);
        } else if (r > 0)
                snprintf(why, why_size, "a USB stick is authorized: %s", w);
        if (r < 0)
                snprintf(why, why_size, "cannot tell: %s", strerror(-r));
        return r == 0;
}

void usb_device_interfaces_string(const struct usb_device_info *d, char *out, size_t size) {
        size_t o = 0;
        out[0] = '\0';
        if (!d->desc)
                return;
        for (size_t i = 0; i < d->desc->n_ifs && o + 10 < size; i++) {
                char t[9];
                usb_iftype_format(&d->desc->types[i], t);
                o += (size_t)snprintf(out + o, size - o, "%s%s", o ? " " : "", t);
        }
}

char *usb_display_string(const char *s) {
        if (!s)
                return strdup("");
        size_t len = strlen(s);
        if (string_is_clean_utf8(s, len))
                return strdup(s);
        char *out = malloc(len * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c >= 0x20 && *c < 0x7f && *c != '\\')
                        *o++ = (char)*c;
                else
                        o += sprintf(o, "\\x%02x", *c);
        }
        *o = '\0';
        return out;
}
