/* usbpolicy.c — compiles the usb: policy section and decides devices and interfaces from the device model. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbpolicy.h"
#include "util.h"

static const char *const targets[] = { "allow", "block", "reject", NULL };

static const struct pkey usb_keys[] = {
        { .name = "default", .type = PT_ENUM, .values = targets },
        { .name = "rules", .type = PT_STRING_SEQ },
        { NULL },
};

static enum usb_target target_from(const char *s) {
        if (s && strcmp(s, "allow") == 0)
                return USB_TARGET_ALLOW;
        if (s && strcmp(s, "reject") == 0)
                return USB_TARGET_REJECT;
        return USB_TARGET_BLOCK;
}

void usb_policy_done(struct usb_policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                usbrule_done(&p->rules[i]);
        free(p->rules);
        *p = (struct usb_policy){ 0 };
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

void usb_policy_decide(const struct usb_policy *p, const struct usb_device_info *d, struct usb_verdict *ret) {
        *ret = (struct usb_verdict){ .target = USB_TARGET_BLOCK, .index = -1 };
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
