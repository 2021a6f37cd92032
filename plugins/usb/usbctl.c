/* usbctl.c — sekishoctl's usb verbs: list, list-rules, explain, generate-rules, import-rules, register, allow, block and the unlock codes (both sides); offline, through libudev and the state directory. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <libudev.h>
#include <string.h>

#include "plugin.h"
#include "usbctl.h"
#include "usbdev.h"
#include "usbpermit.h"
#include "usbpolicy.h"
#include "usbunlock.h"
#include "usbwho.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

void usbctl_write_rule_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c < 0x20 || *c >= 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

/* Calls fn for each attached usb_device in path order. */
static int each_device(int (*fn)(struct udev_device *dev, void *userdata), void *userdata) {
        struct udev *udev = udev_new();
        if (!udev)
                return -ENOMEM;
        struct udev_enumerate *e = udev_enumerate_new(udev);
        if (!e) {
                udev_unref(udev);
                return -ENOMEM;
        }
        udev_enumerate_add_match_subsystem(e, "usb");
        udev_enumerate_add_match_property(e, "DEVTYPE", "usb_device");
        int r = udev_enumerate_scan_devices(e);
        struct udev_list_entry *le;
        udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
                if (r < 0)
                        break;
                struct udev_device *dev = udev_device_new_from_syspath(udev, udev_list_entry_get_name(le));
                if (!dev)
                        continue;
                r = fn(dev, userdata);
                udev_device_unref(dev);
        }
        udev_enumerate_unref(e);
        udev_unref(udev);
        return r;
}

struct list_ctx {
        FILE *out;
        struct usb_policy policy;
};

static int list_one(struct udev_device *dev, void *userdata) {
        struct list_ctx *c = userdata;
        struct usb_device_info d;
        int r = usbdev_read(dev, true, &d);
        if (r < 0)
                return r;
        struct usb_verdict v;
        usb_policy_decide(&c->policy, &d, &v);
        _cleanup_free_ char *name = usb_display_string(d.name);
        fprintf(c->out, "%s %s:%s \"%s\" %s", d.port, d.vid[0] ? d.vid : "????", d.pid[0] ? d.pid : "????",
                name ? name : "", v.target == USB_TARGET_ALLOW ? "allow" : usb_target_name(v.target));
        if (v.rule)
                fprintf(c->out, " (rule %zd: %s)\n", v.index + 1, v.rule->text);
        else if (strcmp(v.reason, "default") == 0)
                fprintf(c->out, " (default)\n");
        else
                fprintf(c->out, " (%s)\n", v.reason);
        const char *auth = udev_device_get_sysattr_value(dev, "authorized");
        fprintf(c->out, "    authorized now: %s   hash: %s\n", auth ? auth : "?", d.hash[0] ? d.hash : "-");
        if (d.desc) {
                for (size_t i = 0; i < d.desc->n_ifs; i++) {
                        const struct usb_ifdesc *f = &d.desc->ifs[i];
                        char t[9];
                        usb_iftype_format(&f->type, t);
                        fprintf(c->out, "    %s:%u.%u%s %s %s\n", d.port, f->config, f->number,
                                f->alt ? " (alt)" : "", t,
                                usb_policy_interface_allowed(&v, &d, f->config, f->number) ? "allow" : "block");
                }
        }
        usb_device_info_done(&d);
        return 0;
}

int usbctl_list(FILE *out, const struct pnode *section) {
        struct list_ctx c = { .out = out };
        struct perrors errs = { 0 };
        int r = usb_policy_load(section, &c.policy, &errs);
        if (r < 0) {
                fprintf(stderr, "%s\n", perrors_first(&errs) ?: "usb: cannot load the policy");
                perrors_clear(&errs);
                return r;
        }
        perrors_clear(&errs);
        r = each_device(list_one, &c);
        usb_policy_done(&c.policy);
        return r;
}

struct gen_ctx {
        FILE *out;
        bool with_port;
        size_t storage;              /* storage devices the rules allow */
};


static bool has_storage(const struct usb_device_info *d) {
        for (size_t i = 0; d->desc && i < d->desc->n_ifs; i++)
                if (d->desc->types[i].cls == 0x08)
                        return true;
        return d->desc && d->desc->dev_class == 0x08;
}

static int gen_one(struct udev_device *dev, void *userdata) {
        struct gen_ctx *c = userdata;
        struct usb_device_info d;
        int r = usbdev_read(dev, true, &d);
        if (r < 0)
                return r;
        if (!d.ok) {
                fprintf(c->out, "    # %s: no rule (%s)\n", d.port, d.problem);
                usb_device_info_done(&d);
                return 0;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                usb_device_info_done(&d);
                return -ENOMEM;
        }
        fprintf(f, "allow id %s:%s serial ", d.vid, d.pid);
        usbctl_write_rule_string(f, d.serial);
        fputs(" name ", f);
        usbctl_write_rule_string(f, d.name);
        fprintf(f, " hash \"%s\" parent-hash \"%s\"", d.hash, d.parent_hash);
        if (c->with_port) {
                fputs(" via-port ", f);
                usbctl_write_rule_string(f, d.port);
        }
        if (d.desc->n_ifs == 1) {
                char t[9];
                usb_iftype_format(&d.desc->types[0], t);
                fprintf(f, " with-interface %s", t);
        } else if (d.desc->n_ifs > 1) {
                fputs(" with-interface {", f);
                for (size_t i = 0; i < d.desc->n_ifs; i++) {
                        char t[9];
                        usb_iftype_format(&d.desc->types[i], t);
                        fprintf(f, " %s", t);
                }
                fputs(" }", f);
        }
        fputs(" with-connect-type ", f);
        usbctl_write_rule_string(f, d.connect_type);
        if (fclose(f) != 0 || !buf) {
                free(buf);
                usb_device_info_done(&d);
                return -ENOMEM;
        }
        usb_write_yaml_rule(c->out, "    ", buf, len);
        if (has_storage(&d) && !d.is_controller) {
                _cleanup_free_ char *name = usb_display_string(d.name);
                fprintf(stderr, "warning: %s %s:%s \"%s\" is USB mass storage: the generated rules allow it; "
                                "remove its rule, or register it (sekishoctl usb register %s) with an owner and an "
                                "expiry\n",
                        d.port, d.vid, d.pid, name ? name : "", d.port);
                c->storage++;
        }
        free(buf);
        usb_device_info_done(&d);
        return 0;
}

int usbctl_generate_rules(FILE *out, bool with_port) {
        struct gen_ctx c = { .out = out, .with_port = with_port };
        char issued[32], expires[32];
        int64_t now = now_unix();
        format_rfc3339(now, issued);
        format_rfc3339(now + 365 * 86400, expires);
        fprintf(out,
                "# Generated by sekishoctl usb generate-rules: one rule per device attached now.\n"
                "# A complete policy: raise serial above the one in force, check the rules, then sign it.\n"
                "sekisho: 1\n"
                "serial: 1\n"
                "issued: %s\n"
                "expires: %s\n"
                "description: USB devices attached to this machine when the policy was generated\n"
                "usb:\n  default: block\n  rules:\n",
                issued, expires);
        int r = each_device(gen_one, &c);
        if (r >= 0 && c.storage)
                fprintf(stderr, "warning: %zu mass storage device(s) allowed by the generated rules\n", c.storage);
        return r;
}

/* ---- import-rules: a usbguard rules.conf as a usb: section ---- */

int usbctl_import_rules(FILE *out, const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = read_file_capped(path, 64 << 20, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        return usb_rules_conf_import(out, stderr, path, data, size);
}

/* ---- one device by name: its port ("1-4.2"), devpath, or id when only one has it ---- */

struct find_ctx {
        const char *spec;
        struct usb_device_info found;
        size_t n;
};

static int find_one(struct udev_device *dev, void *userdata) {
        struct find_ctx *c = userdata;
        const char *sysname = udev_device_get_sysname(dev), *devpath = udev_device_get_devpath(dev);
        const char *vid = udev_device_get_sysattr_value(dev, "idVendor");
        const char *pid = udev_device_get_sysattr_value(dev, "idProduct");
        char id[16] = "";
        if (vid && pid)
                snprintf(id, sizeof id, "%.4s:%.4s", vid, pid);
        if (!(sysname && strcmp(sysname, c->spec) == 0) && !(devpath && strcmp(devpath, c->spec) == 0) &&
            strcmp(id, c->spec) != 0)
                return 0;
        if (c->n++ > 0)
                return 0;
        return usbdev_read(dev, true, &c->found);
}

/* 0 with ret, -ENODEV (none), -ENOTUNIQ (an id several devices have). Says which on stderr. */
static int find_device(const char *spec, struct usb_device_info *ret) {
        struct find_ctx c = { .spec = spec };
        int r = each_device(find_one, &c);
        if (r < 0) {
                usb_device_info_done(&c.found);
                fprintf(stderr, "cannot read USB devices: %s\n", strerror(-r));
                return r;
        }
        if (c.n == 0) {
                fprintf(stderr, "no USB device '%s' attached (name it by port as 'sekishoctl usb list' shows, e.g. "
                                "1-4.2, or by vvvv:pppp)\n",
                        spec);
                return -ENODEV;
        }
        if (c.n > 1) {
                usb_device_info_done(&c.found);
                fprintf(stderr, "%zu devices have the id %s: name one by its port (sekishoctl usb list)\n", c.n, spec);
                return -ENOTUNIQ;
        }
        *ret = c.found;
        return 0;
}

/* ---- register: the entry for a stick plugged in here ---- */

static void yaml_quoted(FILE *f, const char *s) {
        /* a double-quoted YAML scalar: \\, \", and \xHH for the rest that is not printable */
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static void yaml_list(FILE *f, const char *key, char *const *v, size_t n) {
        if (!n)
                return;
        fprintf(f, "        %s: [", key);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ", " : "", f);
                yaml_quoted(f, v[i]);
        }
        fputs("]\n", f);
}

static int verb_register(int argc, char **argv) {
        static const struct option opts[] = {
                { "name", required_argument, NULL, 'n' },     { "read-only", no_argument, NULL, 'r' },
                { "expires", required_argument, NULL, 'e' },  { "user", required_argument, NULL, 'u' },
                { "group", required_argument, NULL, 'g' },    { "terminal", required_argument, NULL, 't' },
                { NULL, 0, NULL, 0 },
        };
        const char *name = NULL, *expires = NULL;
        bool ro = false;
        char *users[16], *groups[16], *terms[16];
        size_t nu = 0, ng = 0, nt = 0;
        int o;
        optind = 0;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'n': name = optarg; break;
                case 'r': ro = true; break;
                case 'e': expires = optarg; break;
                case 'u': if (nu < 16) users[nu++] = optarg; break;
                case 'g': if (ng < 16) groups[ng++] = optarg; break;
                case 't': if (nt < 16) terms[nt++] = optarg; break;
                default: return 2;
                }
        }
        if (optind != argc - 1)
                return 2;
        int64_t t;
        if (expires && usb_parse_expiry(expires, &t) < 0) {
                fprintf(stderr, "--expires %s: a date (2027-03-31) or a date and time (2027-03-31T17:00)\n", expires);
                return 2;
        }
        struct usb_device_info d;
        if (find_device(argv[optind], &d) < 0)
                return 1;
        if (!d.ok || d.is_controller) {
                fprintf(stderr, "%s: %s\n", d.port, d.ok ? "a controller is not media" : d.problem);
                usb_device_info_done(&d);
                return 1;
        }
        _cleanup_free_ char *shown = usb_display_string(d.name);
        char label[300];
        snprintf(label, sizeof label, "%s %s", shown ? shown : "", d.serial);
        fputs("  # sekishoctl usb register: add under usb: register:\n", stdout);
        fputs("    - name: ", stdout);
        yaml_quoted(stdout, name ? name : label);
        printf("\n      id: \"%s:%s\"\n      serial: ", d.vid, d.pid);
        yaml_quoted(stdout, d.serial);
        printf("\n      hash: \"%s\"\n", d.hash);
        if (nu || ng || nt) {
                fputs("      for:\n", stdout);
                yaml_list(stdout, "users", users, nu);
                yaml_list(stdout, "groups", groups, ng);
                yaml_list(stdout, "terminals", terms, nt);
        }
        if (expires)
                printf("      expires: \"%s\"\n", expires);
        printf("      read-only: %s\n", ro ? "true" : "false");
        if (!d.serial[0])
                fprintf(stderr, "warning: %s has no serial number: only its hash tells it from others of its model\n",
                        d.port);
        usb_device_info_done(&d);
        return 0;
}

/* ---- the policy a verb judges by: the one in force, or --policy FILE over the embedded default ---- */

struct section_src {
        struct ptree *t, *merged;
        const struct pnode *section;
};

static int section_from(const char *file, const struct sekisho_ctl_env *env, const struct pnode *in_force,
                        struct section_src *ret) {
        *ret = (struct section_src){ .section = in_force };
        if (!file)
                return 0;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        struct perrors errs = { 0 };
        int r = read_file_capped(file, 4 << 20, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", file, strerror(-r));
                return r;
        }
        if (ptree_parse(file, data, size, &ret->t, &errs) < 0) {
                fprintf(stderr, "%s\n", perrors_first(&errs) ?: "cannot parse the policy");
                perrors_clear(&errs);
                return -EINVAL;
        }
        perrors_clear(&errs);
        /* The file's section over the embedded default's, as a bundle would be. */
        ret->merged = ptree_merge(file, env ? env->default_section : NULL,
                                  ret->t->root ? pmap_get(ret->t->root, "usb") : NULL);
        if (!ret->merged) {
                ret->t = ptree_free(ret->t);
                return -ENOMEM;
        }
        ret->section = ret->merged->root;
        return 0;
}

static void section_done(struct section_src *s) {
        ptree_free(s->merged);
        ptree_free(s->t);
}

static int load_policy(const struct pnode *section, struct usb_policy *p) {
        struct perrors errs = { 0 };
        int r = usb_policy_load(section, p, &errs);
        if (r < 0)
                fprintf(stderr, "%s\n", perrors_first(&errs) ?: "usb: cannot load the policy");
        perrors_clear(&errs);
        return r;
}

/* Where the system's files are: "/", or a test's tree (as sekishod --sysroot). */
static const char *ctl_sysroot(void) {
        const char *r = getenv("SEKISHO_SYSROOT");
        return r && *r ? r : "/";
}

static char *state_path(const struct sekisho_ctl_env *env, const char *name) {
        if (!env || !env->state_dir)
                return NULL;
        _cleanup_free_ char *dir = path_join(env->state_dir, "usb");
        return dir ? path_join(dir, name) : NULL;
}

static void print_time(FILE *f, int64_t t) {
        char buf[32];
        format_rfc3339(t, buf);
        fputs(buf, f);
}

static const char *permit_kind_name(const struct usb_permit *e) {
        return e->kind == USB_PERMIT_BLOCK ? "block" : e->kind == USB_PERMIT_HID ? "allow keyboards and mice" : "allow";
}

/* ---- list-rules ---- */

static int verb_list_rules(const struct sekisho_ctl_env *env, const struct pnode *section) {
        struct usb_policy p;
        if (load_policy(section, &p) < 0)
                return 1;
        printf("default: %s\n", usb_target_name(p.deflt));
        printf("temporary permits: %s\n", p.permits ? "honoured" : "off (this policy or profile turns them off)");
        _cleanup_free_ char *path = state_path(env, USB_PERMITS_FILE);
        struct usb_permits ps = { 0 };
        char err[200] = "";
        int64_t now = now_unix();
        if (path && usb_permits_load(path, &ps, err, sizeof err) < 0)
                printf("  %s: %s (the daemon ignores the file)\n", path, err);
        for (size_t i = 0; i < ps.n; i++) {
                if (ps.v[i].expires <= now)
                        continue;
                printf("  permit %zu: %s %s \"%s\" until ", i + 1, permit_kind_name(&ps.v[i]),
                       ps.v[i].kind == USB_PERMIT_HID ? "-" : ps.v[i].hash, ps.v[i].label);
                print_time(stdout, ps.v[i].expires);
                printf(" (%s, uid %" PRIu32 ")\n", ps.v[i].source, ps.v[i].uid);
        }
        usb_permits_done(&ps);
        printf("register: %zu entr%s\n", p.n_reg, p.n_reg == 1 ? "y" : "ies");
        for (size_t i = 0; i < p.n_reg; i++) {
                const struct usb_register_entry *e = &p.reg[i];
                _cleanup_free_ char *name = usb_display_string(e->name), *serial = usb_display_string(e->serial);
                printf("  entry %zu: \"%s\" %s:%s serial \"%s\"%s", i + 1, name ? name : "", e->id.vid, e->id.pid,
                       serial ? serial : "", e->read_only ? " read-only" : "");
                if (e->expires) {
                        fputs(e->expires <= now ? " expired " : " until ", stdout);
                        print_time(stdout, e->expires);
                }
                fputc('\n', stdout);
        }
        printf("rules: %zu\n", p.n);
        for (size_t i = 0; i < p.n; i++) {
                _cleanup_free_ char *text = usb_display_string(p.rules[i].text);
                printf("  rule %zu: %s\n", i + 1, text ? text : "");
        }
        usb_policy_done(&p);
        return 0;
}

/* ---- explain ---- */

static int verb_explain(const char *spec, const struct sekisho_ctl_env *env, const struct pnode *section) {
        struct usb_policy p;
        if (load_policy(section, &p) < 0)
                return 1;
        struct usb_device_info d;
        if (find_device(spec, &d) < 0) {
                usb_policy_done(&p);
                return 1;
        }
        struct usb_who_buf w;
        _cleanup_free_ char *path = state_path(env, USB_PERMITS_FILE);
        struct usb_permits ps = { 0 };
        char err[200] = "";
        if (usb_who_read(&w, ctl_sysroot()) < 0) {
                usb_device_info_done(&d);
                usb_policy_done(&p);
                return 1;
        }
        if (path && usb_permits_load(path, &ps, err, sizeof err) < 0)
                printf("permits: %s: %s (ignored)\n", path, err);
        w.who.permits = &ps;
        char ifs[1024];
        usb_device_interfaces_string(&d, ifs, sizeof ifs);
        _cleanup_free_ char *name = usb_display_string(d.name), *serial = usb_display_string(d.serial);
        char dcode[6] = "-";
        if (d.hash[0])
                usb_unlock_device_code(usb_unlock_device_tag(d.hash), dcode);
        printf("device %s %s:%s \"%s\" serial \"%s\"\n  hash %s (device code %s)\n  interfaces %s\n", d.port, d.vid,
               d.pid, name ? name : "", serial ? serial : "", d.hash[0] ? d.hash : "-", dcode, ifs);
        printf("for: user %s, terminal %s\n", w.who.user ? w.who.user : "(nobody on seat0)",
               w.machine_id[0] ? w.machine_id : "?");
        struct usb_verdict v;
        usb_policy_decide_for(&p, &d, &w.who, &v);
        /* everything that had a say, in the order it is asked */
        const struct usb_permit *pm = usb_permit_for(&ps, &d, w.who.now);
        if (pm) {
                printf("temporary %s (%s, uid %" PRIu32 ") until ", permit_kind_name(pm), pm->source, pm->uid);
                print_time(stdout, pm->expires);
                printf("%s\n", p.permits ? "" : ": not honoured, the policy in force turns permits off");
        } else
                printf("no temporary permit or block for it\n");
        bool any = false;
        for (size_t i = 0; i < p.n_reg; i++) {
                if (!usb_register_is_device(&p.reg[i], &d))
                        continue;
                any = true;
                char why[300];
                _cleanup_free_ char *en = usb_display_string(p.reg[i].name);
                const char *no = usb_register_why_not(&p.reg[i], &w.who, why, sizeof why);
                printf("register entry %zu \"%s\": this device; %s%s\n", i + 1, en ? en : "", no ? "does not apply: " : "applies",
                       no ? no : (p.reg[i].read_only ? " (read-only)" : ""));
        }
        for (size_t i = 0; i < p.n_reg && !any; i++)
                if (strcmp(p.reg[i].id.vid, d.vid) == 0 && strcmp(p.reg[i].id.pid, d.pid) == 0) {
                        _cleanup_free_ char *en = usb_display_string(p.reg[i].name);
                        printf("register entry %zu \"%s\" has this id but %s\n", i + 1, en ? en : "",
                               strcmp(p.reg[i].serial, d.serial) != 0 ? "another serial" : "another hash (other descriptors)");
                        any = true;
                }
        if (!any)
                printf("not in the register\n");
        printf("decision: %s, by ", usb_target_name(v.target));
        if (v.permit)
                printf("the temporary %s\n", permit_kind_name(v.permit));
        else if (v.entry)
                printf("register entry %zd\n", v.entry_index + 1);
        else if (v.rule) {
                _cleanup_free_ char *text = usb_display_string(v.rule->text);
                printf("rule %zd: %s\n", v.index + 1, text ? text : "");
        } else if (strcmp(v.reason, "default") == 0)
                printf("the default (no rule matches)\n");
        else
                printf("%s\n", v.reason);
        if (v.target == USB_TARGET_ALLOW && d.desc)
                for (size_t i = 0; i < d.desc->n_ifs; i++) {
                        char t[9];
                        usb_iftype_format(&d.desc->ifs[i].type, t);
                        printf("  interface %s:%u.%u %s %s\n", d.port, d.desc->ifs[i].config, d.desc->ifs[i].number, t,
                               usb_policy_interface_allowed(&v, &d, d.desc->ifs[i].config, d.desc->ifs[i].number)
                                       ? "allow" : "block");
                }
        usb_permits_done(&ps);
        usb_who_done(&w);
        usb_device_info_done(&d);
        usb_policy_done(&p);
        return 0;
}

/* ---- allow / block / unlock: write the permits file the daemon watches ---- */

/* Who asked: the admin behind sudo or pkexec, else the caller. */
static uint32_t asking_uid(void) {
        const char *e = getenv("PKEXEC_UID") ?: getenv("SUDO_UID");
        uint64_t v;
        if (e && parse_u64(e, &v) == 0 && v < UINT32_MAX)
                return (uint32_t)v;
        return (uint32_t)getuid();
}

static int need_root(const char *verb) {
        if (geteuid() == 0)
                return 0;
        fprintf(stderr, "sekishoctl usb %s: only root or an administrator may (run it with sudo, or pkexec "
                        "sekishoctl usb %s ..., which asks polkit for an administrator)\n",
                verb, verb);
        return -EPERM;
}

static int permits_update(const struct sekisho_ctl_env *env, const struct usb_permit *add, const char *remove_hash,
                          bool remove_hid) {
        _cleanup_free_ char *path = state_path(env, USB_PERMITS_FILE);
        _cleanup_free_ char *dir = env && env->state_dir ? path_join(env->state_dir, "usb") : NULL;
        if (!path || !dir)
                return -ENOMEM;
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        struct usb_permits ps;
        char err[200];
        if (usb_permits_load(path, &ps, err, sizeof err) < 0) {
                fprintf(stderr, "%s: %s; starting a new one\n", path, err);
                ps = (struct usb_permits){ 0 };
        }
        int64_t now = now_unix();
        usb_permits_expire(&ps, now);
        if (remove_hash)
                usb_permits_remove(&ps, remove_hash);
        if (remove_hid)
                usb_permits_remove(&ps, NULL);
        if (add && (r = usb_permits_add(&ps, add)) < 0) {
                usb_permits_done(&ps);
                return r;
        }
        r = usb_permits_save(path, &ps, now);
        usb_permits_done(&ps);
        return r;
}

static void label_of(const struct usb_device_info *d, char *out, size_t size) {
        char raw[300];
        snprintf(raw, sizeof raw, "%s:%s %s %s", d->vid, d->pid, d->name ? d->name : "", d->serial ? d->serial : "");
        size_t o = 0;
        for (const unsigned char *c = (const unsigned char *)raw; *c && o + 1 < size; c++)
                out[o++] = *c >= 0x20 && *c < 0x7f ? (char)*c : '?';
        out[o] = '\0';
}

static int verb_allow_block(int argc, char **argv, const struct sekisho_ctl_env *env, const struct pnode *section) {
        bool allow = strcmp(argv[0], "allow") == 0;
        const char *spec = NULL, *dur = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--for") == 0 && i + 1 < argc)
                        dur = argv[++i];
                else if (!spec && argv[i][0] != '-')
                        spec = argv[i];
                else
                        return 2;
        }
        if (!spec || (allow && !dur))
                return 2;
        int64_t seconds = 86400;
        if (dur && usb_parse_duration(dur, &seconds) < 0) {
                fprintf(stderr, "--for %s: a duration from 1m to 30d (15m, 2h, 7d, 1d12h)\n", dur);
                return 2;
        }
        if (need_root(argv[0]) < 0)
                return 1;
        struct usb_policy p;
        if (load_policy(section, &p) < 0)
                return 1;
        bool honoured = p.permits;
        usb_policy_done(&p);
        if (allow && !honoured) {
                fprintf(stderr, "sekishoctl usb allow: the policy in force turns temporary permits off (the travel "
                                "profile is active?)\n");
                return 1;
        }
        struct usb_device_info d;
        if (find_device(spec, &d) < 0)
                return 1;
        if (!d.ok || !d.hash[0] || d.is_controller) {
                fprintf(stderr, "%s: %s\n", d.port, d.ok ? "not a device a permit can name" : d.problem);
                usb_device_info_done(&d);
                return 1;
        }
        int64_t now = now_unix();
        struct usb_permit e = { .kind = allow ? USB_PERMIT_ALLOW : USB_PERMIT_BLOCK, .granted = now,
                                .expires = now + seconds, .uid = asking_uid() };
        memcpy(e.hash, d.hash, sizeof e.hash);
        snprintf(e.source, sizeof e.source, "ctl");
        label_of(&d, e.label, sizeof e.label);
        int r = permits_update(env, &e, NULL, false);
        if (r < 0)
                fprintf(stderr, "sekishoctl usb %s: cannot write the permits: %s\n", argv[0], strerror(-r));
        else {
                printf("%s %s (%s) until ", allow ? "allowed" : "blocked", d.port, e.label);
                print_time(stdout, e.expires);
                printf("; sekishod applies it now%s\n", env && env->live ? "" : " (when it runs)");
        }
        usb_device_info_done(&d);
        return r < 0 ? 1 : 0;
}

/* ---- unlock codes ---- */

static int read_key_hex(const char *path, uint8_t key[static USB_UNLOCK_KEY_LEN]) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = read_file_capped(path, 256, &data, &size);
        if (r < 0)
                return r;
        size_t bin_len = 0;
        if (sodium_hex2bin(key, USB_UNLOCK_KEY_LEN, data, size, " \n", &bin_len, NULL) < 0 ||
            bin_len != USB_UNLOCK_KEY_LEN)
                return -EBADMSG;
        return 0;
}

int usbctl_unlock(const char *typed, const char *key_path, const char *state_path_, const char *machine_id,
                  const struct usb_device_info *devs, size_t n_devs, int64_t now, struct usb_permit *ret,
                  char *why, size_t why_size) {
        struct usb_unlock_state st;
        int r = usb_unlock_state_load(state_path_, &st);
        if (r < 0) {
                snprintf(why, why_size, "the unlock state is unreadable (%s): refusing codes until it is fixed",
                         strerror(-r));
                return -EIO;
        }
        int64_t retry;
        if (usb_unlock_may_try(&st, now, &retry) < 0) {
                char t[32];
                format_rfc3339(retry, t);
                snprintf(why, why_size, "too many wrong codes: try again after %s", t);
                return -EBUSY;
        }
        uint8_t key[USB_UNLOCK_KEY_LEN];
        if ((r = read_key_hex(key_path, key)) < 0) {
                snprintf(why, why_size, "this terminal has no unlock key (%s: %s)", key_path, strerror(-r));
                return -ENOKEY;
        }
        char canon[USB_UNLOCK_CODE_LEN + 1];
        struct usb_unlock u;
        r = usb_unlock_normalize(typed, canon) < 0 ? -EBADMSG : usb_unlock_verify(key, machine_id, canon, now, &u);
        sodium_memzero(key, sizeof key);
        if (r == 0 && usb_unlock_was_used(&st, canon))
                r = -EALREADY;
        const struct usb_device_info *dev = NULL;
        for (size_t i = 0; r == 0 && u.scope == USB_UNLOCK_DEVICE && i < n_devs; i++)
                if (devs[i].ok && devs[i].hash[0] && usb_unlock_device_tag(devs[i].hash) == u.device_tag)
                        dev = &devs[i];
        if (r == 0 && u.scope == USB_UNLOCK_DEVICE && !dev)
                r = -ENODEV;
        if (r == -EBADMSG || r == -ETIME) {
                usb_unlock_record(&st, NULL, 0, now);
                int w = usb_unlock_state_save(state_path_, &st);
                snprintf(why, why_size, "%s%s", r == -ETIME ? "the code has expired" : "not a code for this terminal",
                         w < 0 ? " (and the attempt could not be recorded: codes refused)" : "");
                return w < 0 ? -EIO : r;
        }
        if (r == -EALREADY) {
                snprintf(why, why_size, "this code was used already");
                return r;
        }
        if (r == -ENODEV) {
                snprintf(why, why_size, "the device the code is for is not attached: plug it in and try again");
                return r;
        }
        if (usb_unlock_record(&st, canon, u.expires, now) < 0 || usb_unlock_state_save(state_path_, &st) < 0) {
                snprintf(why, why_size, "cannot record the code as used: refused");
                return -EIO;
        }
        *ret = (struct usb_permit){ .kind = u.scope == USB_UNLOCK_HID ? USB_PERMIT_HID : USB_PERMIT_ALLOW,
                                    .granted = now, .expires = u.expires, .uid = asking_uid() };
        snprintf(ret->source, sizeof ret->source, "unlock");
        if (dev) {
                memcpy(ret->hash, dev->hash, sizeof ret->hash);
                label_of(dev, ret->label, sizeof ret->label);
        } else
                snprintf(ret->label, sizeof ret->label, "keyboards and mice");
        return 0;
}

struct devs_ctx {
        struct usb_device_info *v;
        size_t n;
};

static int collect_one(struct udev_device *dev, void *userdata) {
        struct devs_ctx *c = userdata;
        if (c->n >= 256)
                return 0;
        struct usb_device_info *v = realloc(c->v, (c->n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        c->v = v;
        int r = usbdev_read(dev, false, &c->v[c->n]);
        if (r == 0)
                c->n++;
        return r;
}

int usbctl_unlock_here(const char *typed, const char *usb_state_dir, const char *sysroot, struct usb_permit *ret,
                       char *why, size_t why_size) {
        _cleanup_free_ char *key = path_join(usb_state_dir, USB_UNLOCK_KEY_FILE);
        _cleanup_free_ char *st = path_join(usb_state_dir, USB_UNLOCK_STATE_FILE);
        if (!key || !st)
                return -ENOMEM;
        struct usb_who_buf w;
        if (usb_who_read(&w, sysroot) < 0)
                return -ENOMEM;
        if (!w.machine_id[0]) {
                usb_who_done(&w);
                snprintf(why, why_size, "this terminal has no machine-id (/etc/machine-id)");
                return -ENOKEY;
        }
        struct devs_ctx devs = { 0 };
        int r = each_device(collect_one, &devs);
        if (r >= 0)
                r = usbctl_unlock(typed, key, st, w.machine_id, devs.v, devs.n, now_unix(), ret, why, why_size);
        else
                snprintf(why, why_size, "cannot read USB devices: %s", strerror(-r));
        for (size_t i = 0; i < devs.n; i++)
                usb_device_info_done(&devs.v[i]);
        free(devs.v);
        usb_who_done(&w);
        return r;
}

/* Not root: hand the code to sekishod through its drop directory and wait for the answer. */
static int unlock_through_daemon(const char *code, const struct sekisho_ctl_env *env) {
        _cleanup_free_ char *dir = state_path(env, USB_UNLOCK_REQUESTS);
        uint8_t rnd[8];
        char hex[17], *req = NULL, *tmp = NULL, *res = NULL;
        _cleanup_close_ int rfd = -1;
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        int r = -ENOMEM;
        if (!dir || asprintf(&req, "%s/%s.code", dir, hex) < 0 || asprintf(&tmp, "%s/%s.tmp", dir, hex) < 0 ||
            asprintf(&res, "%s/%s.result", dir, hex) < 0)
                goto out;
        rfd = open(res, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (rfd < 0) {
                r = -errno;
                fprintf(stderr, "sekishoctl usb unlock: cannot reach sekishod (%s: %s)\n", dir, strerror(-r));
                goto out;
        }
        r = write_file_replace(tmp, code, strnlen(code, 64), 0600);
        if (r >= 0 && rename(tmp, req) < 0)
                r = -errno;
        if (r < 0) {
                fprintf(stderr, "sekishoctl usb unlock: cannot hand the code over: %s\n", strerror(-r));
                goto out;
        }
        char answer[512] = "";
        for (int i = 0; i < 150 && !answer[0]; i++) {
                usleep(100 * 1000);
                ssize_t n = pread(rfd, answer, sizeof answer - 1, 0);
                answer[n > 0 ? n : 0] = '\0';
                if (!strchr(answer, '\n'))
                        answer[0] = '\0'; /* not complete yet */
        }
        unlink(req);
        if (!answer[0]) {
                fprintf(stderr, "sekishoctl usb unlock: sekishod did not answer (is it running?)\n");
                r = -ETIMEDOUT;
        } else if (strncmp(answer, "ok ", 3) == 0) {
                fputs(answer + 3, stdout);
                r = 0;
        } else {
                fprintf(stderr, "sekishoctl usb unlock: %s", strncmp(answer, "refused ", 8) == 0 ? answer + 8 : answer);
                r = -EACCES;
        }
out:
        if (res)
                unlink(res);
        free(req), free(tmp), free(res);
        return r;
}

static int verb_unlock(const char *code, const struct sekisho_ctl_env *env, const struct pnode *section) {
        if (geteuid() != 0)
                return unlock_through_daemon(code, env) < 0 ? 1 : 0;
        struct usb_policy p;
        if (load_policy(section, &p) < 0)
                return 1;
        bool honoured = p.permits;
        usb_policy_done(&p);
        if (!honoured) {
                fprintf(stderr, "sekishoctl usb unlock: the policy in force turns temporary permits off\n");
                return 1;
        }
        _cleanup_free_ char *dir = env && env->state_dir ? path_join(env->state_dir, "usb") : NULL;
        struct usb_permit e;
        char why[300];
        int r = dir ? usbctl_unlock_here(code, dir, ctl_sysroot(), &e, why, sizeof why) : -ENOMEM;
        if (r == -ENOMEM)
                snprintf(why, sizeof why, "out of memory");
        if (r == 0 && (r = permits_update(env, &e, NULL, false)) < 0)
                snprintf(why, sizeof why, "cannot write the permit: %s", strerror(-r));
        if (r < 0) {
                fprintf(stderr, "sekishoctl usb unlock: %s\n", why);
                return 1;
        }
        printf("unlocked: %s until ", e.label);
        print_time(stdout, e.expires);
        fputc('\n', stdout);
        return 0;
}

/* The officer's side: terminal keys and codes, from the master key file (64 hex digits). */
static int verb_unlock_code(int argc, char **argv) {
        static const struct option opts[] = {
                { "master", required_argument, NULL, 'm' },   { "terminal", required_argument, NULL, 't' },
                { "device", required_argument, NULL, 'd' },   { "keyboards", no_argument, NULL, 'k' },
                { "for", required_argument, NULL, 'f' },      { "terminal-key", no_argument, NULL, 'K' },
                { NULL, 0, NULL, 0 },
        };
        const char *master = NULL, *terminal = NULL, *device = NULL, *dur = NULL;
        bool kbd = false, want_key = false;
        int o;
        optind = 0;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'm': master = optarg; break;
                case 't': terminal = optarg; break;
                case 'd': device = optarg; break;
                case 'k': kbd = true; break;
                case 'f': dur = optarg; break;
                case 'K': want_key = true; break;
                default: return 2;
                }
        }
        if (optind != argc || !master || !terminal || (!want_key && (!dur || !!device == kbd)))
                return 2;
        uint8_t mk[USB_UNLOCK_KEY_LEN], tk[USB_UNLOCK_KEY_LEN];
        int r = read_key_hex(master, mk);
        if (r < 0) {
                fprintf(stderr, "%s: %s (64 hex digits: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\n",
                        master, strerror(-r));
                return 1;
        }
        usb_unlock_terminal_key(mk, terminal, tk);
        sodium_memzero(mk, sizeof mk);
        if (want_key) {
                char hex[2 * USB_UNLOCK_KEY_LEN + 1];
                sodium_bin2hex(hex, sizeof hex, tk, sizeof tk);
                printf("%s\n", hex);
                sodium_memzero(hex, sizeof hex);
                sodium_memzero(tk, sizeof tk);
                return 0;
        }
        int64_t seconds;
        if (usb_parse_duration(dur, &seconds) < 0 || seconds < USB_UNLOCK_UNIT) {
                fprintf(stderr, "--for %s: from 15m to 30d\n", dur);
                return 2;
        }
        struct usb_unlock u = { .scope = kbd ? USB_UNLOCK_HID : USB_UNLOCK_DEVICE };
        if (device && usb_unlock_parse_device(device, &u.device_tag) < 0) {
                fprintf(stderr, "--device %s: the device code the notice shows (5 characters) or the device's hash\n",
                        device);
                return 2;
        }
        int64_t now = now_unix();
        u.expires = now + seconds;
        char code[USB_UNLOCK_CODE_LEN + 1];
        r = usb_unlock_make(tk, terminal, &u, now, code);
        sodium_memzero(tk, sizeof tk);
        if (r < 0) {
                fprintf(stderr, "cannot make the code: %s\n", strerror(-r));
                return 1;
        }
        printf("%s\n", code);
        fprintf(stderr, "for terminal %s, %s, valid until ", terminal, kbd ? "keyboards and mice" : "that device");
        print_time(stderr, (u.expires + USB_UNLOCK_UNIT - 1) / USB_UNLOCK_UNIT * USB_UNLOCK_UNIT);
        fputs(", once\n", stderr);
        return 0;
}

/* On the terminal, at enrolment: the terminal key from stdin to state_dir/usb/unlock.key. */
static int verb_unlock_key_install(const struct sekisho_ctl_env *env) {
        if (need_root("unlock-key") < 0)
                return 1;
        char line[256];
        uint8_t key[USB_UNLOCK_KEY_LEN];
        size_t bin_len = 0;
        if (!fgets(line, sizeof line, stdin) ||
            sodium_hex2bin(key, sizeof key, line, strlen(line), " \n", &bin_len, NULL) < 0 ||
            bin_len != USB_UNLOCK_KEY_LEN) {
                fprintf(stderr, "sekishoctl usb unlock-key: expected the terminal key (64 hex digits) on stdin\n");
                return 1;
        }
        sodium_memzero(key, sizeof key);
        _cleanup_free_ char *dir = env && env->state_dir ? path_join(env->state_dir, "usb") : NULL;
        _cleanup_free_ char *path = state_path(env, USB_UNLOCK_KEY_FILE);
        int r = !dir || !path ? -ENOMEM : mkdir_p(dir, 0755);
        if (r >= 0)
                r = write_file_atomic(path, line, strlen(line), 0600);
        sodium_memzero(line, sizeof line);
        if (r < 0) {
                fprintf(stderr, "sekishoctl usb unlock-key: %s\n", strerror(-r));
                return 1;
        }
        printf("unlock key installed in %s; codes made with the previous key no longer work\n", path);
        return 0;
}

int usbctl_main(int argc, char **argv, const struct sekisho_ctl_env *env, const struct pnode *section_in_force) {
        const char *usage =
                "usage: sekishoctl usb list [--policy FILE]\n"
                "       sekishoctl usb list-rules [--policy FILE]\n"
                "       sekishoctl usb explain DEVICE [--policy FILE]\n"
                "       sekishoctl usb generate-rules [--with-port]\n"
                "       sekishoctl usb import-rules RULES.CONF\n"
                "       sekishoctl usb register DEVICE [--name LABEL] [--read-only] [--expires DATE]\n"
                "                               [--user U]... [--group G]... [--terminal T]...\n"
                "       sekishoctl usb allow DEVICE --for DURATION\n"
                "       sekishoctl usb block DEVICE [--for DURATION]\n"
                "       sekishoctl usb unlock CODE\n"
                "       sekishoctl usb unlock-key --install < KEY\n"
                "       sekishoctl usb unlock-code --master FILE --terminal MACHINE-ID\n"
                "                                  (--device CODE|HASH | --keyboards) --for DURATION | --terminal-key\n";
        int r = 2;
        if (argc < 1) {
                fputs(usage, stderr);
                return 2;
        }
        const char *verb = argv[0];
        if (strcmp(verb, "generate-rules") == 0) {
                bool with_port = argc == 2 && strcmp(argv[1], "--with-port") == 0;
                if (argc > 2 || (argc == 2 && !with_port)) {
                        fputs(usage, stderr);
                        return 2;
                }
                r = usbctl_generate_rules(stdout, with_port);
                if (r < 0)
                        fprintf(stderr, "sekishoctl usb generate-rules: %s\n", strerror(-r));
                return r < 0 ? 1 : 0;
        }
        if (strcmp(verb, "import-rules") == 0 && argc == 2)
                return usbctl_import_rules(stdout, argv[1]) < 0 ? 1 : 0;
        if (strcmp(verb, "register") == 0)
                r = verb_register(argc, argv);
        else if (strcmp(verb, "allow") == 0 || strcmp(verb, "block") == 0)
                r = verb_allow_block(argc, argv, env, section_in_force);
        else if (strcmp(verb, "unlock") == 0 && argc == 2)
                r = verb_unlock(argv[1], env, section_in_force);
        else if (strcmp(verb, "unlock-key") == 0 && argc == 2 && strcmp(argv[1], "--install") == 0)
                r = verb_unlock_key_install(env);
        else if (strcmp(verb, "unlock-code") == 0)
                r = verb_unlock_code(argc, argv);
        else if (strcmp(verb, "list") == 0 || strcmp(verb, "list-rules") == 0 || strcmp(verb, "explain") == 0) {
                bool explain = strcmp(verb, "explain") == 0;
                int base = explain ? 2 : 1;
                if (argc < base || !(argc == base || (argc == base + 2 && strcmp(argv[base], "--policy") == 0))) {
                        fputs(usage, stderr);
                        return 2;
                }
                struct section_src src;
                if (section_from(argc == base + 2 ? argv[base + 1] : NULL, env, section_in_force, &src) < 0)
                        return 1;
                if (strcmp(verb, "list") == 0 && argc == 1 && env) {
                        printf("# decisions under the %s, profiles: ", env->policy_name);
                        for (size_t i = 0; i < env->n_active; i++)
                                printf("%s%s", i ? ", " : "", env->active[i]);
                        printf("%s%s\n", env->n_active ? "" : "none",
                               env->live ? " (as sekishod decides now)" : " (sekishod is not running)");
                }
                if (explain)
                        r = verb_explain(argv[1], env, src.section);
                else if (strcmp(verb, "list-rules") == 0)
                        r = verb_list_rules(env, src.section);
                else {
                        r = usbctl_list(stdout, src.section);
                        if (r < 0 && r != -EINVAL)
                                fprintf(stderr, "sekishoctl usb list: %s\n", strerror(-r));
                        r = r < 0 ? 1 : 0;
                }
                section_done(&src);
        }
        if (r == 2)
                fputs(usage, stderr);
        return r;
}
