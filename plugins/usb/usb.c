/* usb.c — the usb plugin: keeps controllers fail-closed, decides every USB device and interface through libudev, and writes the decision to sysfs. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <search.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"
#include "usbctl.h"
#include "usbdev.h"
#include "usbpolicy.h"
#include "util.h"

#define USB_CLAUSE "6.1.2(2)-1"
#define USB_MAX_TRACKED 65536   /* devices remembered for status and change detection */


struct tracked {
        char *devpath;
        enum usb_target target;
        uint64_t generation;         /* the policy it was last decided under (0: its decision was not written) */
};

struct usb_state {
        struct sekisho_plugin_handle *h;
        struct udev *udev;
        struct udev_monitor *mon;
        struct loop_source *src;
        struct usb_policy policy;
        void *devices;               /* tsearch tree of struct tracked, by devpath */
        size_t n_tracked;
        uint64_t generation;         /* counts apply()s: the policy in force */
        size_t n_current;            /* tracked devices decided under it */
        bool storage_blocked;        /* the policy in force keeps mass storage out */
        char storage_why[400];       /* if not, what lets it in */
        uint64_t events, decided, allowed, blocked, rejected, if_allowed, if_blocked, controllers, write_errors;
};

static int tracked_cmp(const void *a, const void *b) {
        return strcmp(((const struct tracked *)a)->devpath, ((const struct tracked *)b)->devpath);
}

static void tracked_free(void *p) {
        struct tracked *t = p;
        free(t->devpath);
        free(t);
}

/* Count t as decided under the policy in force, or not (its decision could not be written). */
static void set_generation(struct usb_state *s, struct tracked *t, bool written) {
        uint64_t g = written ? s->generation : 0;
        if (t->generation == s->generation && g != s->generation)
                s->n_current--;
        else if (t->generation != s->generation && g == s->generation)
                s->n_current++;
        t->generation = g;
}

/* Remember the decision; returns the previous target, or -1 if new. */
static int track(struct usb_state *s, const char *devpath, enum usb_target target, bool written) {
        struct tracked key = { .devpath = (char *)devpath };
        struct tracked **found = tfind(&key, &s->devices, tracked_cmp);
        if (found) {
                int prev = (int)(*found)->target;
                (*found)->target = target;
                set_generation(s, *found, written);
                return prev;
        }
        if (s->n_tracked >= USB_MAX_TRACKED)
                return -1;
        struct tracked *t = calloc(1, sizeof *t);
        if (!t || !(t->devpath = strdup(devpath))) {
                free(t);
                return -1;
        }
        t->target = target;
        if (!tsearch(t, &s->devices, tracked_cmp)) {
                tracked_free(t);
                return -1;
        }
        s->n_tracked++;
        set_generation(s, t, written);
        return -1;
}

static void untrack(struct usb_state *s, const char *devpath) {
        struct tracked key = { .devpath = (char *)devpath };
        struct tracked **found = tfind(&key, &s->devices, tracked_cmp);
        if (!found)
                return;
        struct tracked *t = *found;
        set_generation(s, t, false);
        tdelete(&key, &s->devices, tracked_cmp);
        tracked_free(t);
        s->n_tracked--;
}

/* ---- sysfs writes ---- */

static int write_attr(struct usb_state *s, struct udev_device *dev, const char *attr, const char *value) {
        int r = udev_device_set_sysattr_value(dev, attr, value);
        if (r < 0) {
                s->write_errors++;
                if (r == -ENOENT || r == -ENODEV)
                        plog_info(s->h, "%s vanished before %s=%s could be written", udev_device_get_sysname(dev), attr,
                                 value);
                else
                        plog_error_errno(s->h, r, "writing %s=%s for %s failed", attr, value,
                                        udev_device_get_syspath(dev));
        }
        return r;
}

/* Fail-closed: new devices on this controller wait for us, and so do the
 * interfaces of devices we authorize (so a blocked interface is never
 * probed by a driver, not even for a moment). */
static void controller_close(struct usb_state *s, struct udev_device *hub) {
        int r = write_attr(s, hub, "authorized_default", "0");
        /* read back from sysfs, not libudev's cache of what we wrote */
        _cleanup_free_ char *path = path_join(udev_device_get_syspath(hub), "authorized_default"), *now = NULL;
        size_t len;
        if (r >= 0 && (!path || read_file_capped(path, 64, &now, &len) < 0))
                r = -EIO;
        if (r < 0 || !now || now[0] != '0') {
                plog_error(s->h, "could not set authorized_default=0 on controller %s: new devices there are NOT "
                          "held back",
                          udev_device_get_sysname(hub));
                struct audit_field f[] = {
                        { "controller", udev_device_get_sysname(hub) },
                        { "problem", "authorized_default could not be set to 0" },
                        { NULL, NULL },
                };
                sekisho_audit(s->h, "usb.controller.open", USB_CLAUSE, f);
                s->write_errors++;
        }
        if (udev_device_get_sysattr_value(hub, "interface_authorized_default"))
                write_attr(s, hub, "interface_authorized_default", "0");
        s->controllers++;
}

/* ---- audit ---- */

static void report(struct usb_state *s, const struct usb_device_info *d, const struct usb_verdict *v,
                   const char *interface, bool blocked, bool notify) {
        char ifs[1024], id[10], rule[512];
        usb_device_interfaces_string(d, ifs, sizeof ifs);
        snprintf(id, sizeof id, "%s:%s", d->vid[0] ? d->vid : "????", d->pid[0] ? d->pid : "????");
        if (v->rule)
                snprintf(rule, sizeof rule, "%s", v->rule->text);
        else if (strcmp(v->reason, "default") == 0)
                snprintf(rule, sizeof rule, "(default: %s)", usb_target_name(v->target));
        else
                snprintf(rule, sizeof rule, "(%s)", v->reason);
        _cleanup_free_ char *name = usb_display_string(d->name), *serial = usb_display_string(d->serial);
        char index[24];
        snprintf(index, sizeof index, "%zd", v->index >= 0 ? v->index + 1 : 0);
        struct audit_field f[] = {
                { "device", id },
                { "name", name ? name : "" },
                { "serial", serial ? serial : "" },
                { "port", d->port ? d->port : "" },
                { "interfaces", ifs },
                { "interface", interface ? interface : "" },
                { "rule", rule },
                { "rule-index", index },
                { "target", blocked ? (v->target == USB_TARGET_REJECT ? "reject" : "block") : "allow" },
                { "hash", d->hash },
                { NULL, NULL },
        };
        const char *event = interface ? (blocked ? "usb.interface.blocked" : "usb.interface.allowed")
                                      : (blocked ? "usb.device.blocked" : "usb.device.allowed");
        sekisho_audit(s->h, event, USB_CLAUSE, f);
        if (notify)
                sekisho_signal(s->h, blocked ? "DeviceBlocked" : "DeviceAllowed", f);
        if (blocked)
                plog_notice(s->h, "%s %s \"%s\" at %s%s%s: blocked by %s", interface ? "interface of" : "device", id,
                           name ? name : "", d->port, interface ? " interface " : "", interface ? interface : "",
                           rule);
        else
                plog_info(s->h, "%s %s \"%s\" at %s%s%s: allowed by %s", interface ? "interface of" : "device", id,
                         name ? name : "", d->port, interface ? " interface " : "", interface ? interface : "", rule);
}

/* ---- decisions ---- */

/* A real kernel does not probe drivers for an interface that is authorized after it was
 * created (interface_authorized_default=0): Documentation/usb/authorization.rst says the
 * probe "must be triggered manually" through the bus's drivers_probe. Without it an allowed
 * keyboard interface stays unbound (found by tests/e2e; umockdev has no drivers). A testbed
 * without that file, or an interface already bound, needs nothing. */
static void probe_interface(struct usb_state *s, struct udev_device *ifdev) {
        const char *syspath = udev_device_get_syspath(ifdev), *name = udev_device_get_sysname(ifdev);
        if (!syspath || !name)
                return;
        _cleanup_free_ char *link = path_join(syspath, "driver");
        struct stat st;
        if (!link || lstat(link, &st) == 0)
                return;
        _cleanup_close_ int fd = open("/sys/bus/usb/drivers_probe", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno != ENOENT)
                        plog_warning(s->h, "cannot open /sys/bus/usb/drivers_probe for %s: %m", name);
                return;
        }
        if (write(fd, name, strlen(name)) < 0 && errno != ENODEV)
                plog_warning(s->h, "probing drivers for %s failed: %m", name);
}

static void decide_interface_with(struct usb_state *s, struct udev_device *ifdev, const struct usb_device_info *d,
                                  const struct usb_verdict *v, bool notify) {
        uint8_t config, number;
        const char *sysname = udev_device_get_sysname(ifdev);
        bool allow = usbdev_interface_address(sysname, &config, &number) == 0 &&
                     usb_policy_interface_allowed(v, d, config, number);
        int w = write_attr(s, ifdev, "authorized", allow ? "1" : "0");
        if (allow && w >= 0)
                probe_interface(s, ifdev);
        if (allow)
                s->if_allowed++;
        else
                s->if_blocked++;
        /* Whole-device allows need no record per interface; exceptions do. */
        if (!allow || (v->rule && v->rule->ifmode != USB_IFMODE_ALL))
                report(s, d, v, sysname, !allow, notify && !allow);
}

/* The interfaces already present under an authorized device (devices present
 * at start, or re-evaluated on a policy change): the device directory's
 * "<port>:<config>.<n>" entries, so the cost does not grow with the bus. */
static void decide_present_interfaces(struct usb_state *s, const struct usb_device_info *d,
                                      const struct usb_verdict *v, bool notify) {
        DIR *dir = opendir(d->syspath);
        if (!dir)
                return;
        size_t plen = strlen(d->port);
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(dir)) && n < USBDESC_MAX_IFS) {
                if (strncmp(de->d_name, d->port, plen) != 0 || de->d_name[plen] != ':')
                        continue;
                _cleanup_free_ char *p = path_join(d->syspath, de->d_name);
                struct udev_device *ifdev = p ? udev_device_new_from_syspath(s->udev, p) : NULL;
                if (!ifdev)
                        continue;
                if (usbdev_is_interface(ifdev)) {
                        decide_interface_with(s, ifdev, d, v, notify);
                        n++;
                }
                udev_device_unref(ifdev);
        }
        closedir(dir);
}

/* An interface authorized after it was created is not probed by the kernel
 * (Documentation/usb/authorization.rst): ask for it through drivers_probe,
 * for every authorized interface of the device that has no driver yet, so
 * drivers that need several interfaces find them all authorized. */
static void probe_interfaces(struct usb_state *s, const struct usb_device_info *d) {
        DIR *dir = opendir(d->syspath);
        if (!dir)
                return;
        _cleanup_close_ int fd = -1;
        size_t plen = strlen(d->port);
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(dir)) && n < USBDESC_MAX_IFS) {
                if (strncmp(de->d_name, d->port, plen) != 0 || de->d_name[plen] != ':')
                        continue;
                n++;
                _cleanup_free_ char *ifpath = path_join(d->syspath, de->d_name);
                _cleanup_free_ char *auth = ifpath ? path_join(ifpath, "authorized") : NULL;
                _cleanup_free_ char *drv = ifpath ? path_join(ifpath, "driver") : NULL;
                _cleanup_free_ char *v = NULL;
                size_t vlen;
                if (!auth || !drv || read_file_capped(auth, 16, &v, &vlen) < 0 || v[0] != '1' ||
                    access(drv, F_OK) == 0)
                        continue;
                if (fd < 0) {
                        /* the same /sys libudev reads (umockdev redirects both) */
                        fd = open("/sys/bus/usb/drivers_probe", O_WRONLY | O_APPEND | O_CLOEXEC);
                        if (fd < 0) {
                                plog_debug(s->h, "cannot open drivers_probe: %m");
                                break;
                        }
                }
                if (write(fd, de->d_name, strlen(de->d_name)) < 0)
                        plog_warning(s->h, "probing drivers for %s failed: %m", de->d_name);
        }
        closedir(dir);
}

static int decide_device(struct usb_state *s, struct udev_device *dev, bool reevaluation) {
        struct usb_device_info d;
        int r = usbdev_read(dev, s->policy.need_parent_hash, &d);
        if (r < 0) {
                /* Out of memory: still never leave it authorized. */
                write_attr(s, dev, "authorized", "0");
                s->blocked++;
                return plog_error_errno(s->h, r, "cannot model %s, blocked", udev_device_get_sysname(dev));
        }
        struct usb_verdict v;
        usb_policy_decide(&s->policy, &d, &v);
        s->decided++;
        bool allow = v.target == USB_TARGET_ALLOW;
        /* Every decision is written, block included: never trust the state a
         * device arrived in. */
        int w = write_attr(s, dev, "authorized", allow ? "1" : "0");
        if (v.target == USB_TARGET_REJECT)
                write_attr(s, dev, "remove", "1");
        if (allow)
                s->allowed++;
        else if (v.target == USB_TARGET_REJECT)
                s->rejected++;
        else
                s->blocked++;
        int prev = track(s, d.devpath, v.target, w >= 0);
        bool changed = prev < 0 || prev != (int)v.target;
        report(s, &d, &v, NULL, !allow, !reevaluation || changed);
        if (allow) {
                decide_present_interfaces(s, &d, &v, !reevaluation || changed);
                probe_interfaces(s, &d);
        }
        usb_device_info_done(&d);
        return 0;
}

static int decide_interface(struct usb_state *s, struct udev_device *ifdev) {
        struct udev_device *dev = udev_device_get_parent_with_subsystem_devtype(ifdev, "usb", "usb_device");
        if (!dev) {
                write_attr(s, ifdev, "authorized", "0");
                plog_warning(s->h, "interface %s has no USB device above it, blocked", udev_device_get_sysname(ifdev));
                return 0;
        }
        struct usb_device_info d;
        int r = usbdev_read(dev, s->policy.need_parent_hash, &d);
        if (r < 0) {
                write_attr(s, ifdev, "authorized", "0");
                return plog_error_errno(s->h, r, "cannot model %s, interface blocked", udev_device_get_sysname(dev));
        }
        struct usb_verdict v;
        usb_policy_decide(&s->policy, &d, &v);
        if (v.target != USB_TARGET_ALLOW) {
                /* Someone authorized a device we block: undo it. */
                write_attr(s, ifdev, "authorized", "0");
                write_attr(s, dev, "authorized", "0");
                s->if_blocked++;
                report(s, &d, &v, udev_device_get_sysname(ifdev), true, false);
        } else {
                decide_interface_with(s, ifdev, &d, &v, true);
                probe_interfaces(s, &d);
        }
        usb_device_info_done(&d);
        return 0;
}

static void handle(struct usb_state *s, struct udev_device *dev, const char *action) {
        s->events++;
        if (usbdev_is_device(dev)) {
                if (strcmp(action, "add") == 0) {
                        if (usbdev_is_root_hub(dev))
                                controller_close(s, dev);
                        decide_device(s, dev, false);
                } else if (strcmp(action, "remove") == 0) {
                        const char *dp = udev_device_get_devpath(dev);
                        if (dp)
                                untrack(s, dp);
                        plog_info(s->h, "device at %s removed", udev_device_get_sysname(dev));
                }
        } else if (usbdev_is_interface(dev) && strcmp(action, "add") == 0)
                decide_interface(s, dev);
}

static int on_monitor(struct loop_source *src, int fd, uint32_t revents, void *userdata) {
        struct usb_state *s = userdata;
        for (unsigned i = 0; i < 4096; i++) { /* bounded per wake-up; the fd stays readable */
                struct udev_device *dev = udev_monitor_receive_device(s->mon);
                if (!dev)
                        break;
                const char *action = udev_device_get_action(dev);
                if (action)
                        handle(s, dev, action);
                udev_device_unref(dev);
        }
        sekisho_status_changed(s->h);
        return 0;
}

/* Decide everything attached: controllers closed first, then devices in
 * path order (a hub before what is behind it). */
static int evaluate_all(struct usb_state *s, bool reevaluation) {
        struct udev_enumerate *e = udev_enumerate_new(s->udev);
        if (!e)
                return -ENOMEM;
        udev_enumerate_add_match_subsystem(e, "usb");
        udev_enumerate_add_match_property(e, "DEVTYPE", "usb_device");
        int r = udev_enumerate_scan_devices(e);
        if (r < 0) {
                udev_enumerate_unref(e);
                return r;
        }
        for (int pass = 0; pass < 2; pass++) {
                struct udev_list_entry *le;
                udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
                        struct udev_device *dev = udev_device_new_from_syspath(s->udev, udev_list_entry_get_name(le));
                        if (!dev)
                                continue;
                        if (pass == 0 && usbdev_is_root_hub(dev))
                                controller_close(s, dev);
                        else if (pass == 1 && usbdev_is_device(dev))
                                decide_device(s, dev, reevaluation);
                        udev_device_unref(dev);
                }
        }
        udev_enumerate_unref(e);
        return 0;
}

/* ---- plugin callbacks ---- */

static size_t usb_check(const struct pnode *section, struct perrors *errs) {
        return usb_policy_check(section, errs);
}

static void usb_shutdown(void *state) {
        struct usb_state *s = state;
        if (!s)
                return;
        /* Controllers stay at authorized_default=0: when we are gone, new
         * devices stay blocked. */
        loop_source_free(s->src);
        udev_monitor_unref(s->mon);
        udev_unref(s->udev);
        usb_policy_done(&s->policy);
        tdestroy(s->devices, tracked_free);
        free(s);
}

static int usb_init(struct sekisho_plugin_handle *h, void **ret_state) {
        /* A test or demo daemon decides only emulated devices, never this machine's: under
         * umockdev, or inside a throw-away VM that says so (the QEMU tier, tests/e2e). */
        if (sekisho_env(h)->test_mode && !getenv("UMOCKDEV_DIR") && !getenv("SEKISHO_TEST_DISPOSABLE_MACHINE"))
                return sekisho_fail(h, -EPERM, "test mode (not on the system bus) outside umockdev: "
                                               "not touching this machine's USB devices");
        struct usb_state *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->h = h;
        int r;
        struct perrors errs = { 0 };
        r = usb_policy_load(NULL, &s->policy, &errs);
        if (r < 0) {
                sekisho_fail(h, r, "built-in policy does not compile: %s", perrors_first(&errs) ?: "?");
                perrors_clear(&errs);
                goto fail;
        }
        perrors_clear(&errs);
        s->udev = udev_new();
        if (!s->udev) {
                r = sekisho_fail(h, -errno ?: -ENOMEM, "udev_new failed");
                goto fail;
        }
        /* Listen before looking, so nothing arrives unseen in between. */
        s->mon = udev_monitor_new_from_netlink(s->udev, "udev");
        if (!s->mon) {
                r = sekisho_fail(h, -EPROTONOSUPPORT, "cannot open the udev monitor");
                goto fail;
        }
        udev_monitor_set_receive_buffer_size(s->mon, 8 * 1024 * 1024);
        if ((r = udev_monitor_filter_add_match_subsystem_devtype(s->mon, "usb", NULL)) < 0 ||
            (r = udev_monitor_enable_receiving(s->mon)) < 0) {
                sekisho_fail(h, r, "cannot start the udev monitor");
                goto fail;
        }
        r = loop_add_io(sekisho_loop(h), udev_monitor_get_fd(s->mon), EPOLLIN, on_monitor, s, &s->src);
        if (r < 0) {
                sekisho_fail(h, r, "cannot watch the udev monitor");
                goto fail;
        }
        /* Fail-closed before any decision: every controller holds new devices
         * back. Devices present now are decided by the first apply(). */
        struct udev_enumerate *e = udev_enumerate_new(s->udev);
        if (e) {
                udev_enumerate_add_match_subsystem(e, "usb");
                udev_enumerate_add_match_property(e, "DEVTYPE", "usb_device");
                udev_enumerate_scan_devices(e);
                struct udev_list_entry *le;
                udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
                        struct udev_device *dev = udev_device_new_from_syspath(s->udev, udev_list_entry_get_name(le));
                        if (dev && usbdev_is_root_hub(dev))
                                controller_close(s, dev);
                        udev_device_unref(dev);
                }
                udev_enumerate_unref(e);
        }
        *ret_state = s;
        return 0;
fail:
        usb_shutdown(s);
        return r;
}

static int usb_apply(void *state, const struct pnode *section) {
        struct usb_state *s = state;
        struct usb_policy p;
        struct perrors errs = { 0 };
        int r = usb_policy_load(section, &p, &errs);
        if (r < 0) {
                sekisho_fail(s->h, r, "policy refused, previous rules stay in force: %s", perrors_first(&errs) ?: "?");
                perrors_clear(&errs);
                return r;
        }
        perrors_clear(&errs);
        usb_policy_done(&s->policy);
        s->policy = p;
        s->generation++;
        s->n_current = 0;
        s->storage_blocked = usb_policy_blocks_storage(&s->policy, s->storage_why, sizeof s->storage_why);
        plog_info(s->h, "%zu rule(s), default %s", s->policy.n, usb_target_name(s->policy.deflt));
        r = evaluate_all(s, true);
        sekisho_status_changed(s->h);
        return r < 0 ? sekisho_fail(s->h, r, "cannot enumerate USB devices") : 0;
}

static void usb_status(void *state, struct kvlist *out) {
        struct usb_state *s = state;
        kvlist_add(out, "rules", "%zu", s->policy.n);
        kvlist_add(out, "default", "%s", usb_target_name(s->policy.deflt));
        kvlist_add(out, "devices-attached", "%zu", s->n_tracked);
        kvlist_add(out, "devices-not-decided-under-policy", "%zu", s->n_tracked - s->n_current);
        kvlist_add(out, "mass-storage", "%s", s->storage_blocked ? "blocked" : s->storage_why);
        kvlist_add(out, "decisions", "%" PRIu64, s->decided);
        kvlist_add(out, "allowed", "%" PRIu64, s->allowed);
        kvlist_add(out, "blocked", "%" PRIu64, s->blocked + s->rejected);
        kvlist_add(out, "interfaces-allowed", "%" PRIu64, s->if_allowed);
        kvlist_add(out, "interfaces-blocked", "%" PRIu64, s->if_blocked);
        kvlist_add(out, "controller-closings", "%" PRIu64, s->controllers);
        kvlist_add(out, "events", "%" PRIu64, s->events);
        kvlist_add(out, "write-errors", "%" PRIu64, s->write_errors);
}

/* R1: "enforced" needs the policy in force to keep mass storage out and
 * every attached device to have been decided under it. */
static void usb_report(const struct pnode *section, const struct kvlist *live, struct report_rows *out) {
        struct report_row *row = report_row_add(out, "R1", USB_CLAUSE, "usb.");
        if (!row)
                return;
        struct usb_policy p;
        struct perrors errs = { 0 };
        int r = usb_policy_load(section, &p, &errs);
        perrors_clear(&errs);
        if (r < 0) {
                report_reason(row, REPORT_NOT_ENFORCED, "the usb section does not compile (%s)", strerror(-r));
                return;
        }
        char why[400];
        bool blocks = usb_policy_blocks_storage(&p, why, sizeof why);
        report_setting(row, "usb.default", "%s", usb_target_name(p.deflt));
        report_setting(row, "usb.rules", "%zu rule(s)", p.n);
        usb_policy_done(&p);
        const char *storage = kvlist_get(live, "mass-storage");
        const char *attached = kvlist_get(live, "devices-attached");
        const char *undecided = kvlist_get(live, "devices-not-decided-under-policy");
        if (!blocks)
                report_reason(row, REPORT_NOT_ENFORCED, "mass storage is not blocked: %s", why);
        else if (!live)
                report_reason(row, REPORT_ENFORCED, "the policy blocks mass storage and every USB device no rule "
                              "allows (sysfs authorized=0)");
        else if (!storage || strcmp(storage, "blocked") != 0)
                report_reason(row, REPORT_NOT_ENFORCED, "the policy sekishod applies does not block mass storage: %s",
                              storage ? storage : "it does not say");
        else if (!undecided || strcmp(undecided, "0") != 0)
                report_reason(row, REPORT_NOT_ENFORCED, "mass storage is blocked by the policy, but %s of %s attached "
                              "device(s) were not decided under it", undecided ? undecided : "?",
                              attached ? attached : "?");
        else
                report_reason(row, REPORT_ENFORCED, "mass storage and every USB device no rule allows are blocked now; "
                              "all %s attached device(s) were decided under this policy (sysfs authorized)",
                              attached ? attached : "?");
}

/* `sekishoctl usb ...` (argv[0] is "usb"). */
static int usb_ctl(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv) {
        return usbctl_main(argc - 1, argv + 1, env, section);
}

static const int usb_syscalls[] = {
        SCMP_SYS(recvmsg), SCMP_SYS(getdents64), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
        SCMP_SYS(newfstatat), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(access), SCMP_SYS(openat), SCMP_SYS(fstat),
        SCMP_SYS(lseek), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), -1,
};

SEKISHO_PLUGIN_DEFINE(usb,
        .section = "usb",
        .summary = "USB device and interface control through sysfs authorized (fail-closed)",
        .check = usb_check,
        .init = usb_init,
        .apply = usb_apply,
        .status = usb_status,
        .shutdown = usb_shutdown,
        .report = usb_report,
        .ctl = usb_ctl,
        .ctl_usage = "  usb list [--policy FILE]     attached USB devices, interfaces, decision, rule\n"
                     "  usb generate-rules [--with-port]   allow rules for what is attached now\n",
        .syscalls = usb_syscalls);
