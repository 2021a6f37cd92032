/* usbctl.c — sekishoctl's usb verbs: list attached devices with their decision, and generate rules for them; offline, through libudev. */
#include "config.h"

#include <errno.h>
#include <libudev.h>
#include <string.h>

#include "plugin.h"
#include "usbctl.h"
#include "usbdev.h"
#include "usbpolicy.h"
#include "util.h"

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
};

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
        /* The rule goes into a single-quoted YAML scalar: double the quotes. */
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
        fclose(f);
        fputs("    - '", c->out);
        for (const char *p = buf; p && *p; p++) {
                if (*p == '\'')
                        fputc('\'', c->out);
                fputc(*p, c->out);
        }
        fputs("'\n", c->out);
        free(buf);
        usb_device_info_done(&d);
        return 0;
}

int usbctl_generate_rules(FILE *out, bool with_port) {
        struct gen_ctx c = { .out = out, .with_port = with_port };
        fputs("# Generated by sekishoctl usb generate-rules: one rule per device attached now.\n"
              "usb:\n  default: block\n  rules:\n",
              out);
        return each_device(gen_one, &c);
}

int usbctl_main(int argc, char **argv, const struct sekisho_ctl_env *env, const struct pnode *section_in_force) {
        const char *usage = "usage: sekishoctl usb list [--policy FILE]\n"
                            "       sekishoctl usb generate-rules [--with-port]\n";
        if (argc < 1) {
                fputs(usage, stderr);
                return 2;
        }
        if (strcmp(argv[0], "generate-rules") == 0) {
                bool with_port = argc == 2 && strcmp(argv[1], "--with-port") == 0;
                if (argc > 2 || (argc == 2 && !with_port)) {
                        fputs(usage, stderr);
                        return 2;
                }
                int r = usbctl_generate_rules(stdout, with_port);
                if (r < 0)
                        fprintf(stderr, "sekishoctl usb generate-rules: %s\n", strerror(-r));
                return r < 0 ? 1 : 0;
        }
        if (strcmp(argv[0], "list") != 0 || (argc != 1 && !(argc == 3 && strcmp(argv[1], "--policy") == 0))) {
                fputs(usage, stderr);
                return 2;
        }
        struct ptree *t = NULL, *merged = NULL;
        const struct pnode *section = section_in_force;
        if (argc == 1 && env) {
                printf("# decisions under the %s, profiles: ", env->policy_name);
                for (size_t i = 0; i < env->n_active; i++)
                        printf("%s%s", i ? ", " : "", env->active[i]);
                printf("%s%s\n", env->n_active ? "" : "none",
                       env->live ? " (as sekishod decides now)" : " (sekishod is not running)");
        }
        if (argc == 3) {
                _cleanup_free_ char *data = NULL;
                size_t size = 0;
                struct perrors errs = { 0 };
                int r = read_file_capped(argv[2], 4 << 20, &data, &size);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[2], strerror(-r));
                        return 1;
                }
                if (ptree_parse(argv[2], data, size, &t, &errs) < 0) {
                        fprintf(stderr, "%s\n", perrors_first(&errs) ?: "cannot parse the policy");
                        perrors_clear(&errs);
                        return 1;
                }
                perrors_clear(&errs);
                /* The file's section over the embedded default's, as a bundle would be. */
                merged = ptree_merge(argv[2], env ? env->default_section : NULL, t->root ? pmap_get(t->root, "usb") : NULL);
                if (!merged) {
                        ptree_free(t);
                        return 1;
                }
                section = merged->root;
        }
        int r = usbctl_list(stdout, section);
        ptree_free(merged);
        ptree_free(t);
        if (r < 0 && r != -EINVAL)
                fprintf(stderr, "sekishoctl usb list: %s\n", strerror(-r));
        return r < 0 ? 1 : 0;
}
