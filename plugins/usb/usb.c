/* usb.c — the usb plugin: keeps controllers fail-closed and decides every USB device and interface from the kernel's own uevent, writing the decision to sysfs first and reporting after. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <limits.h>
#include <search.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copyrec.h"
#include "plugin.h"
#include "uevent.h"
#include "usbctl.h"
#include "usbdev.h"
#include "usbpermit.h"
#include "usbpolicy.h"
#include "usbunlock.h"
#include "usbwho.h"
#include "usbro.h"
#include "util.h"

#define USB_CLAUSE "6.1.2(2)-1"
#define USB_MAX_TRACKED 65536   /* devices remembered for status and change detection */
#define USB_MAX_PENDING 1024    /* decisions waiting for their report; beyond, the socket waits */
#define USB_RCVBUF (32 * 1024 * 1024) /* a storm's worth of uevents (about 600 bytes each, with overhead) */
#define USB_REPORTS_PER_ROUND 64 /* then the socket gets its turn again */

struct tracked {
        char *devpath;
        enum usb_target target;
        bool read_only;              /* authorized read-only: its port is marked for the udev hook */
        uint64_t generation;         /* the policy it was last decided under (0: its decision was not written) */
};

/* A decision already written to sysfs, waiting for its audit record, signal and interface work. */
struct pending {
        struct pending *next;
        struct usb_device_info d;
        struct usb_verdict v;
        char *interface;             /* NULL: the device itself */
        bool quiet;                  /* a re-evaluation that changed nothing: a record, no signal */
        bool if_report, if_blocked, if_notify;  /* for an interface */
};

struct usb_state {
        struct sekisho_plugin_handle *h;
        struct udev *udev;           /* enumeration only: at start, on a policy change, after an overflow */
        int fd;                      /* the kernel's uevent socket */
        int defer_fd;                /* eventfd: readable while reports are pending */
        struct loop_source *src, *defer_src;
        struct pending *head, **tail;
        size_t n_pending;
        struct usb_policy policy;
        void *devices;               /* tsearch tree of struct tracked, by devpath */
        size_t n_tracked;
        uint64_t generation;         /* counts apply()s: the policy in force */
        size_t n_current;            /* tracked devices decided under it (written at once, reported later) */
        char *ro_dir;                /* USBRO_DIR below the sysroot: markers for the udev hook */
        uint64_t read_only_sticks, read_only_errors;
        bool markers_unswept;
        struct copyrec *copyrec;     /* NULL: copies are not recorded (copyrec_error says why) */
        char copyrec_error[160];        /* markers of an earlier run may be stale until the first apply() */
        bool storage_blocked;        /* the policy in force keeps mass storage out */
        char storage_why[400];       /* if not, what lets it in */
        uint64_t events, decided, allowed, blocked, rejected, if_allowed, if_blocked, controllers, write_errors;
        uint64_t rescans, foreign, malformed;
        struct usb_permits permits;  /* temporary permits and blocks in force (state_dir/usb/permits) */
        char *permits_path;
        int inotify_fd;              /* the state directory: sekishoctl usb allow/block/unlock write there */
        int requests_wd;             /* ... and its unlock-requests/, where anyone hands in a code */
        int seats_wd;                /* logind's seats: the register's "for:" follows the user on seat0 */
        char *usb_dir;
        struct loop_source *inotify_src, *expiry_timer;
        char msg[UEVENT_MSG_MAX + 1];
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

static struct tracked *tracked_find(struct usb_state *s, const char *devpath) {
        struct tracked key = { .devpath = (char *)devpath };
        struct tracked **found = tfind(&key, &s->devices, tracked_cmp);
        return found ? *found : NULL;
}

/* Remember the decision as soon as it is written (its report may come
 * later); returns the previous target, or -1 if new. */
static int track(struct usb_state *s, const char *devpath, enum usb_target target, bool read_only, bool written,
                 bool *ret_was_read_only) {
        struct tracked *found = tracked_find(s, devpath);
        *ret_was_read_only = found && found->read_only;
        if (found) {
                int prev = (int)found->target;
                found->target = target;
                found->read_only = read_only;
                set_generation(s, found, written);
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
        t->read_only = read_only;
        if (!tsearch(t, &s->devices, tracked_cmp)) {
                tracked_free(t);
                return -1;
        }
        s->n_tracked++;
        set_generation(s, t, written);
        return -1;
}

/* The marker the udev hook (sekisho-usb-ro) looks for: only ever made for
 * a read-only stick, never on the way to another device's write. */
static int read_only_mark(struct usb_state *s, const char *port, bool on) {
        int r = s->ro_dir ? usbro_mark(s->ro_dir, port, on) : -ENOMEM;
        if (r == 0)
                plog_info(s->h, "read-only marker of %s %s", port, on ? "left" : "removed");
        if (r < 0) {
                s->read_only_errors++;
                plog_error_errno(s->h, r, "cannot %s the read-only marker of %s in %s", on ? "leave" : "remove", port,
                                 s->ro_dir ? s->ro_dir : "?");
        }
        return r;
}

static void untrack(struct usb_state *s, const char *devpath) {
        struct tracked key = { .devpath = (char *)devpath };
        struct tracked **found = tfind(&key, &s->devices, tracked_cmp);
        if (!found)
                return;
        struct tracked *t = *found;
        if (t->read_only)
                read_only_mark(s, strrchr(devpath, '/') + 1, false);
        set_generation(s, t, false);
        tdelete(&key, &s->devices, tracked_cmp);
        tracked_free(t);
        s->n_tracked--;
}

/* ---- sysfs writes ---- */

/* One open and one write: the decision itself. */
static int write_attr(struct usb_state *s, const char *syspath, const char *attr, const char *value) {
        char path[PATH_MAX];
        int r = 0;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", syspath, attr) >= sizeof path)
                r = -ENAMETOOLONG;
        else {
                int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 || write(fd, value, strlen(value)) < 0)
                        r = -errno;
                if (fd >= 0)
                        close(fd);
        }
        if (r < 0) {
                s->write_errors++;
                if (r == -ENOENT || r == -ENODEV)
                        plog_info(s->h, "%s vanished before %s=%s could be written", syspath, attr, value);
                else
                        plog_error_errno(s->h, r, "writing %s=%s for %s failed", attr, value, syspath);
        }
        return r;
}

/* Fail-closed: new devices on this controller wait for us, and so do the
 * interfaces of devices we authorize (so a blocked interface is never
 * probed by a driver, not even for a moment). */
static void controller_close(struct usb_state *s, const char *syspath) {
        int r = write_attr(s, syspath, "authorized_default", "0");
        /* read back from sysfs, not what we meant to write */
        _cleanup_free_ char *path = path_join(syspath, "authorized_default"), *now = NULL;
        _cleanup_free_ char *ifpath = path_join(syspath, "interface_authorized_default");
        const char *name = strrchr(syspath, '/') ? strrchr(syspath, '/') + 1 : syspath;
        size_t len;
        if (r >= 0 && (!path || read_file_capped(path, 64, &now, &len) < 0))
                r = -EIO;
        if (r < 0 || !now || now[0] != '0') {
                plog_error(s->h, "could not set authorized_default=0 on controller %s: new devices there are NOT "
                          "held back",
                          name);
                struct audit_field f[] = {
                        { "controller", name },
                        { "problem", "authorized_default could not be set to 0" },
                        { NULL, NULL },
                };
                sekisho_audit(s->h, "usb.controller.open", USB_CLAUSE, f);
                s->write_errors++;
        }
        if (ifpath && access(ifpath, F_OK) == 0)
                write_attr(s, syspath, "interface_authorized_default", "0");
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
        else if (v->entry)
                snprintf(rule, sizeof rule, "(register entry %zd: %s)", v->entry_index + 1, v->entry->name);
        else if (v->permit)
                snprintf(rule, sizeof rule, "(temporary %s by %s, uid %u)",
                         v->permit->kind == USB_PERMIT_BLOCK ? "block" : "permit", v->permit->source,
                         (unsigned)v->permit->uid);
        else if (strcmp(v->reason, "default") == 0)
                snprintf(rule, sizeof rule, "(default: %s)", usb_target_name(v->target));
        else
                snprintf(rule, sizeof rule, "(%s)", v->reason);
        _cleanup_free_ char *name = usb_display_string(d->name), *serial = usb_display_string(d->serial);
        char index[24], dcode[6] = "";
        snprintf(index, sizeof index, "%zd", v->index >= 0 ? v->index + 1 : 0);
        if (blocked && d->hash[0]) /* what the person reads out to get an unlock code */
                usb_unlock_device_code(usb_unlock_device_tag(d->hash), dcode);
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
                { "register", v->entry ? v->entry->name : "" },
                { "read-only", v->read_only && !blocked ? "yes" : "no" },
                { "permit", v->permit ? v->permit->source : "" },
                { "device-code", dcode },
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

/* ---- after the decision: reports, interfaces, driver probing ---- */

/* An interface directory below its device: "1-4.2:1.0", and "1-0:1.0" below
 * root hub usb1 (not "usb1:1.0"); nothing else in a device directory has a colon. */
static bool is_interface_name(const char *name) {
        return name[0] != '.' && strchr(name, ':') != NULL;
}

/* Decide one interface of a device whose verdict is v: the write, and
 * whether it needs a record (whole-device allows need none; exceptions do). */
static bool decide_interface_with(struct usb_state *s, const char *ifpath, const char *ifname,
                                  const struct usb_device_info *d, const struct usb_verdict *v, bool *ret_allow) {
        uint8_t config, number;
        bool allow = usbdev_interface_address(ifname, &config, &number) == 0 &&
                     usb_policy_interface_allowed(v, d, config, number);
        int w = write_attr(s, ifpath, "authorized", allow ? "1" : "0");
        if (allow)
                s->if_allowed++;
        else
                s->if_blocked++;
        *ret_allow = allow && w >= 0;
        return !allow || (v->rule && v->rule->ifmode != USB_IFMODE_ALL);
}

/* The interfaces already present under an authorized device (devices present
 * at start, re-evaluated on a policy change, or authorized by someone else):
 * the device directory's "<port>:<config>.<n>" entries. Never on the path
 * from the uevent to the decision. */
static void decide_present_interfaces(struct usb_state *s, const struct usb_device_info *d,
                                      const struct usb_verdict *v, bool notify) {
        DIR *dir = opendir(d->syspath);
        if (!dir)
                return;
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(dir)) && n < USBDESC_MAX_IFS) {
                if (!is_interface_name(de->d_name))
                        continue;
                _cleanup_free_ char *p = path_join(d->syspath, de->d_name);
                if (!p)
                        continue;
                n++;
                bool allowed;
                if (decide_interface_with(s, p, de->d_name, d, v, &allowed))
                        report(s, d, v, de->d_name, !allowed, notify && !allowed);
        }
        closedir(dir);
}

/* An interface authorized after it was created is not probed by the kernel
 * (Documentation/usb/authorization.rst says the probe "must be triggered
 * manually"; found by tests/e2e, umockdev has no drivers): ask for it through drivers_probe,
 * for every authorized interface of the device that has no driver yet, so
 * drivers that need several interfaces find them all authorized. */
static void probe_interfaces(struct usb_state *s, const struct usb_device_info *d) {
        DIR *dir = opendir(d->syspath);
        if (!dir)
                return;
        _cleanup_close_ int fd = -1;
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(dir)) && n < USBDESC_MAX_IFS) {
                if (!is_interface_name(de->d_name))
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
                        fd = open("/sys/bus/usb/drivers_probe", O_WRONLY | O_APPEND | O_CLOEXEC);
                        if (fd < 0) {
                                plog_debug(s->h, "cannot open drivers_probe: %m");
                                break;
                        }
                }
                if (write(fd, de->d_name, strlen(de->d_name)) < 0 && errno != ENODEV)
                        plog_warning(s->h, "probing drivers for %s failed: %m", de->d_name);
        }
        closedir(dir);
}

static void pending_free(struct pending *p) {
        if (!p)
                return;
        usb_device_info_done(&p->d);
        free(p->interface);
        free(p);
}

/* Queue the rest of a decision already written; takes d. */
static void defer(struct usb_state *s, struct usb_device_info *d, const struct usb_verdict *v, const char *interface,
                  bool quiet, bool if_report, bool if_blocked, bool if_notify) {
        struct pending *p = calloc(1, sizeof *p);
        if (!p || (interface && !(p->interface = strdup(interface)))) {
                /* the decision stands; only its record is lost, and said so */
                plog_error(s->h, "out of memory: no audit record for %s", d->port ? d->port : "?");
                free(p);
                usb_device_info_done(d);
                return;
        }
        p->d = *d;
        p->v = *v;
        if (v->reason == d->problem) /* the reason lives in the model, which moves */
                p->v.reason = p->d.problem;
        *d = (struct usb_device_info){ 0 };
        p->quiet = quiet;
        p->if_report = if_report;
        p->if_blocked = if_blocked;
        p->if_notify = if_notify;
        *s->tail = p;
        s->tail = &p->next;
        if (s->n_pending++ == 0 && s->defer_fd >= 0) {
                uint64_t one = 1;
                if (write(s->defer_fd, &one, sizeof one) < 0)
                        plog_debug(s->h, "eventfd write: %m");
        }
}

static void finish(struct usb_state *s, struct pending *p) {
        struct usb_device_info *d = &p->d;
        if (usbdev_complete(d, USBDEV_STRINGS | USBDEV_CONNECT_TYPE) < 0)
                plog_error(s->h, "out of memory reading the strings of %s", d->port);
        if (p->interface) {
                if (p->if_report)
                        report(s, d, &p->v, p->interface, p->if_blocked, p->if_notify);
                if (!p->if_blocked)
                        probe_interfaces(s, d);
                return;
        }
        bool allow = p->v.target == USB_TARGET_ALLOW;
        report(s, d, &p->v, NULL, !allow, !p->quiet);
        if (allow) {
                decide_present_interfaces(s, d, &p->v, !p->quiet);
                probe_interfaces(s, d);
        }
}

/* Report up to max pending decisions (all if max is 0); returns how many are left. */
static size_t finish_pending(struct usb_state *s, size_t max) {
        for (size_t i = 0; s->head && (max == 0 || i < max); i++) {
                struct pending *p = s->head;
                s->head = p->next;
                if (!s->head)
                        s->tail = &s->head;
                s->n_pending--;
                finish(s, p);
                pending_free(p);
        }
        if (!s->head && s->defer_fd >= 0) {
                uint64_t v; /* nothing pending: not readable any more */
                if (read(s->defer_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                        plog_debug(s->h, "eventfd read: %m");
        }
        return s->n_pending;
}

/* ---- decisions: the write first ---- */

/* What a decision needs to read, the permits included. */
static unsigned need_of(const struct usb_state *s) {
        return s->policy.need | (s->permits.n ? USBDEV_STRINGS : 0);
}

/* Decide d for the user on the seat now (read only when the register asks who). */
static void decide_now(struct usb_state *s, const struct usb_device_info *d, struct usb_verdict *v) {
        if (s->policy.n_reg == 0) {
                struct usb_who who = { .now = now_unix(), .permits = &s->permits };
                usb_policy_decide_for(&s->policy, d, &who, v);
                return;
        }
        struct usb_who_buf w;
        const char *root = sekisho_env(s->h)->sysroot;
        if (usb_who_read(&w, root ? root : "/") < 0) {
                struct usb_who who = { .now = now_unix(), .permits = &s->permits };
                usb_policy_decide_for(&s->policy, d, &who, v);
                return;
        }
        w.who.permits = &s->permits;
        usb_policy_decide_for(&s->policy, d, &w.who, v);
        usb_who_done(&w);
}

/* Before a stick approved read-only is authorized (only then: other
 * devices have nothing before their write). If it is authorized now and
 * not marked read-only already (a policy change made it so), take it away first so its writable block devices go; then
 * leave the marker, so every block device it gets is made read-only by the
 * udev hook before anyone else hears of it. */
static int read_only_prepare(struct usb_state *s, const struct usb_device_info *d) {
        if (!usbro_marked(s->ro_dir, d->port)) {
                _cleanup_free_ char *path = path_join(d->syspath, "authorized"), *now = NULL;
                size_t len;
                if (path && read_file_capped(path, 16, &now, &len) == 0 && now[0] == '1')
                        write_attr(s, d->syspath, "authorized", "0");
        }
        return read_only_mark(s, d->port, true);
}

static int decide_device(struct usb_state *s, const char *devpath, bool reevaluation) {
        struct usb_device_info d;
        int r = usbdev_model(devpath, need_of(s), &d);
        if (r < 0) {
                /* Out of memory: still never leave it authorized. */
                char path[PATH_MAX];
                snprintf(path, sizeof path, "/sys%s", devpath);
                write_attr(s, path, "authorized", "0");
                s->blocked++;
                return plog_error_errno(s->h, r, "cannot model %s, blocked", devpath);
        }
        struct usb_verdict v;
        decide_now(s, &d, &v);
        if (v.target == USB_TARGET_ALLOW && v.read_only && read_only_prepare(s, &d) < 0) {
                v.target = USB_TARGET_BLOCK; /* fail-closed: never writable by accident */
                v.read_only = false;
                v.reason = "read-only could not be arranged";
                v.rule = NULL;
                v.index = -1;
                v.entry = NULL;         /* the reason is the failure, not the entry that allowed it */
                v.entry_index = -1;
                v.permit = NULL;
        }
        /* Every decision is written, block included: never trust the state a
         * device arrived in. */
        int w = write_attr(s, d.syspath, "authorized", v.target == USB_TARGET_ALLOW ? "1" : "0");
        /* Counted for R1 now, with the write, not when its report goes out. */
        bool ro = v.target == USB_TARGET_ALLOW && v.read_only, was_ro;
        int prev = track(s, d.devpath, v.target, ro, w >= 0, &was_ro);
        bool changed = prev < 0 || prev != (int)v.target || ro != was_ro;
        if (ro)
                s->read_only_sticks++;
        else if (was_ro || (s->markers_unswept && prev < 0 && v.target == USB_TARGET_ALLOW && !d.is_controller)) {
                /* No longer read-only (or a marker of an earlier run): the
                 * marker goes, before any interface is authorized; a stick
                 * that was read-only comes back so its block devices are
                 * made afresh, writable. */
                read_only_mark(s, d.port, false);
                if (was_ro && v.target == USB_TARGET_ALLOW && w >= 0) {
                        write_attr(s, d.syspath, "authorized", "0");
                        write_attr(s, d.syspath, "authorized", "1");
                }
        }
        if (v.target == USB_TARGET_REJECT)
                write_attr(s, d.syspath, "remove", "1");
        s->decided++;
        if (v.target == USB_TARGET_ALLOW)
                s->allowed++;
        else if (v.target == USB_TARGET_REJECT)
                s->rejected++;
        else
                s->blocked++;
        defer(s, &d, &v, NULL, reevaluation && !changed, false, false, false);
        return 0;
}

static int decide_interface(struct usb_state *s, const char *ifdevpath) {
        char ifpath[PATH_MAX];
        snprintf(ifpath, sizeof ifpath, "/sys%s", ifdevpath);
        const char *ifname = strrchr(ifdevpath, '/') + 1;
        _cleanup_free_ char *devpath = strndup(ifdevpath, (size_t)(ifname - 1 - ifdevpath));
        if (!devpath) {
                write_attr(s, ifpath, "authorized", "0");
                return plog_error_errno(s->h, -ENOMEM, "cannot model %s, interface blocked", ifdevpath);
        }
        struct usb_device_info d;
        int r = usbdev_model(devpath, need_of(s), &d);
        if (r < 0) {
                write_attr(s, ifpath, "authorized", "0");
                return plog_error_errno(s->h, r, "cannot model %s, interface blocked", devpath);
        }
        struct usb_verdict v;
        decide_now(s, &d, &v);
        bool allowed = false;
        if (v.target != USB_TARGET_ALLOW) {
                /* Someone authorized a device we block: undo it. */
                write_attr(s, ifpath, "authorized", "0");
                write_attr(s, d.syspath, "authorized", "0");
                s->if_blocked++;
                defer(s, &d, &v, ifname, false, true, true, false);
                return 0;
        }
        if (v.read_only && read_only_mark(s, d.port, true) < 0) {
                /* its block devices could not be made read-only: not its interfaces either */
                write_attr(s, ifpath, "authorized", "0");
                s->if_blocked++;
                defer(s, &d, &v, ifname, false, true, true, false);
                return 0;
        }
        bool rep = decide_interface_with(s, ifpath, ifname, &d, &v, &allowed);
        defer(s, &d, &v, ifname, false, rep, !allowed, !allowed);
        return 0;
}

static bool is_root_hub_devpath(const char *devpath) {
        const char *name = strrchr(devpath, '/') + 1;
        return strncmp(name, "usb", 3) == 0 && name[3] >= '0' && name[3] <= '9';
}

static void handle(struct usb_state *s, const struct uevent *u) {
        s->events++;
        if (!u->subsystem || strcmp(u->subsystem, "usb") != 0 || !u->devtype)
                return;
        bool add = strcmp(u->action, "add") == 0;
        if (strcmp(u->devtype, "usb_device") == 0) {
                if (add) {
                        if (is_root_hub_devpath(u->devpath)) {
                                char path[PATH_MAX];
                                snprintf(path, sizeof path, "/sys%s", u->devpath);
                                controller_close(s, path);
                        }
                        decide_device(s, u->devpath, false);
                } else if (strcmp(u->action, "remove") == 0) {
                        untrack(s, u->devpath);
                        plog_info(s->h, "device at %s removed", strrchr(u->devpath, '/') + 1);
                }
        } else if (strcmp(u->devtype, "usb_interface") == 0 && add)
                decide_interface(s, u->devpath);
}

static int evaluate_all(struct usb_state *s, bool reevaluation);
static void sweep_markers(struct usb_state *s);

/* The kernel dropped uevents (our queue overflowed): what they said is
 * lost, so look at the whole tree again, and say so. */
static void rescan(struct usb_state *s) {
        s->rescans++;
        plog_warning(s->h, "the kernel dropped uevents (receive queue full): deciding every USB device again");
        char n[24];
        snprintf(n, sizeof n, "%" PRIu64, s->rescans);
        struct audit_field f[] = {
                { "reason", "uevents dropped by the kernel (ENOBUFS)" },
                { "rescans", n },
                { NULL, NULL },
        };
        sekisho_audit(s->h, "usb.rescan", USB_CLAUSE, f);
        tdestroy(s->devices, tracked_free);
        s->devices = NULL;
        s->n_tracked = s->n_current = 0;
        int r = evaluate_all(s, false);
        if (r >= 0)
                sweep_markers(s);
        if (r < 0)
                plog_error_errno(s->h, r, "rescan failed; devices that arrived unseen stay unauthorized");
}

/* Decisions first, for everything queued; then a share of the reports. */
static void pump(struct usb_state *s) {
        bool any = false;
        while (s->n_pending < USB_MAX_PENDING) {
                size_t len;
                int r = uevent_receive(s->fd, s->msg, sizeof s->msg, &len);
                if (r == -EAGAIN)
                        break;
                if (r == -EINTR)
                        continue;
                any = true;
                if (r == -ENOBUFS) {
                        rescan(s);
                        continue;
                }
                if (r == -EPERM) {
                        s->foreign++;
                        continue;
                }
                struct uevent u;
                if (r < 0 || (r = uevent_parse(s->msg, len, &u)) < 0) {
                        if (r < 0 && r != -EBADMSG) {
                                plog_error_errno(s->h, r, "reading uevents failed");
                                break;
                        }
                        s->malformed++;
                        continue;
                }
                handle(s, &u);
        }
        if (s->head) {
                any = true;
                finish_pending(s, USB_REPORTS_PER_ROUND);
        }
        if (any)
                sekisho_status_changed(s->h);
}

static int on_uevent(struct loop_source *src, int fd, uint32_t revents, void *userdata) {
        pump(userdata);
        return 0;
}

/* Decide everything attached: controllers closed first, then devices in
 * path order (a hub before what is behind it). libudev's enumeration is the
 * right tool here; the reports follow at once (nothing is timed here). */
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
                        const char *dp = udev_device_get_devpath(dev);
                        if (pass == 0 && usbdev_is_root_hub(dev))
                                controller_close(s, udev_device_get_syspath(dev));
                        else if (pass == 1 && dp && usbdev_is_device(dev)) {
                                decide_device(s, dp, reevaluation);
                                finish_pending(s, 0);
                        }
                        udev_device_unref(dev);
                }
        }
        udev_enumerate_unref(e);
        return 0;
}

/* ---- temporary permits: the file sekishoctl writes, audited here ---- */

static bool permit_same(const struct usb_permit *a, const struct usb_permit *b) {
        return a->kind == b->kind && strcmp(a->hash, b->hash) == 0 && a->expires == b->expires &&
               a->granted == b->granted;
}

static void audit_permit(struct usb_state *s, const char *event, const struct usb_permit *e, const char *why) {
        char expires[32], uid[16];
        format_rfc3339(e->expires, expires);
        snprintf(uid, sizeof uid, "%u", (unsigned)e->uid);
        struct audit_field f[] = {
                { "kind", e->kind == USB_PERMIT_BLOCK ? "block" : e->kind == USB_PERMIT_HID ? "keyboards-and-mice" : "allow" },
                { "hash", e->kind == USB_PERMIT_HID ? "" : e->hash },
                { "device", e->label },
                { "expires", expires },
                { "uid", uid },
                { "source", e->source },
                { "reason", why ? why : "" },
                { NULL, NULL },
        };
        sekisho_audit(s->h, event, USB_CLAUSE, f);
        plog_notice(s->h, "%s: %s (%s, uid %s) until %s%s%s", event, e->label, e->source, uid, expires,
                    why ? ": " : "", why ? why : "");
}

static void arm_expiry(struct usb_state *s) {
        if (!s->expiry_timer)
                return;
        int64_t now = now_unix(), next = usb_permits_next_expiry(&s->permits, now);
        for (size_t i = 0; i < s->policy.n_reg; i++)
                if (s->policy.reg[i].expires > now && (!next || s->policy.reg[i].expires < next))
                        next = s->policy.reg[i].expires;
        if (next)
                loop_timer_arm(s->expiry_timer, (uint64_t)(next - now) * 1000000u, 0);
        else
                loop_timer_disarm(s->expiry_timer);
}

/* Take the permits file as it is now; audit what came and went. Returns true if anything changed. */
static bool permits_reload(struct usb_state *s) {
        struct usb_permits nu;
        char err[200];
        int r = usb_permits_load(s->permits_path, &nu, err, sizeof err);
        if (r < 0) {
                plog_error(s->h, "%s: %s: keeping the permits in force", s->permits_path, err);
                return false;
        }
        int64_t now = now_unix();
        usb_permits_expire(&nu, now);
        if (!s->policy.permits && nu.n) {
                for (size_t i = 0; i < nu.n; i++)
                        audit_permit(s, "usb.permit.refused", &nu.v[i], "the policy in force turns temporary permits off");
                usb_permits_done(&nu);
                usb_permits_save(s->permits_path, &nu, now);
        }
        bool changed = nu.n != s->permits.n;
        for (size_t i = 0; i < nu.n; i++) {
                bool known = false;
                for (size_t k = 0; k < s->permits.n && !known; k++)
                        known = permit_same(&nu.v[i], &s->permits.v[k]);
                if (!known) {
                        audit_permit(s, nu.v[i].kind == USB_PERMIT_BLOCK ? "usb.permit.block" : "usb.permit.granted",
                                     &nu.v[i], NULL);
                        changed = true;
                }
        }
        for (size_t k = 0; k < s->permits.n; k++) {
                bool kept = false;
                for (size_t i = 0; i < nu.n && !kept; i++)
                        kept = permit_same(&nu.v[i], &s->permits.v[k]);
                if (!kept)
                        audit_permit(s, "usb.permit.ended", &s->permits.v[k],
                                     s->permits.v[k].expires <= now ? "expired" : "revoked");
        }
        usb_permits_done(&s->permits);
        s->permits = nu;
        return changed;
}

/* NAME.code handed in by anyone (sekishoctl usb unlock, not root): verify
 * it as root would, answer in NAME.result, which the caller created. */
static void unlock_request(struct usb_state *s, const char *name) {
        size_t len = strlen(name);
        if (len < 6 || len > 64 || strcmp(name + len - 5, ".code") != 0 || strchr(name, '/'))
                return;
        _cleanup_free_ char *dir = path_join(s->usb_dir, USB_UNLOCK_REQUESTS);
        _cleanup_free_ char *req = dir ? path_join(dir, name) : NULL, *res = NULL;
        if (!req || asprintf(&res, "%s/%.*s.result", dir, (int)(len - 5), name) < 0)
                return;
        _cleanup_close_ int fd = open(req, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        char code[65];
        ssize_t n = -1;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)sizeof code)
                n = read(fd, code, sizeof code - 1);
        unlink(req);
        if (n < 0)
                return;
        code[n] = '\0';
        char why[300] = "", uid[16];
        snprintf(uid, sizeof uid, "%u", (unsigned)st.st_uid);
        struct usb_permit e;
        int r = -EPERM;
        if (!s->policy.permits)
                snprintf(why, sizeof why, "the policy in force turns temporary permits off");
        else {
                const char *root = sekisho_env(s->h)->sysroot;
                r = usbctl_unlock_here(code, s->usb_dir, root ? root : "/", &e, why, sizeof why);
        }
        if (r == 0) {
                e.uid = (uint32_t)st.st_uid;
                if ((r = usb_permits_add(&s->permits, &e)) < 0 ||
                    (r = usb_permits_save(s->permits_path, &s->permits, now_unix())) < 0)
                        snprintf(why, sizeof why, "cannot keep the permit: %s", strerror(-r));
        }
        char answer[512], t[32];
        if (r == 0) {
                format_rfc3339(e.expires, t);
                snprintf(answer, sizeof answer, "ok unlocked: %s until %s\n", e.label, t);
                audit_permit(s, "usb.permit.granted", &e, "unlock code");
                evaluate_all(s, true);
                arm_expiry(s);
                sekisho_status_changed(s->h);
        } else {
                snprintf(answer, sizeof answer, "refused %s\n", why);
                struct audit_field f[] = { { "uid", uid }, { "reason", why }, { NULL, NULL } };
                sekisho_audit(s->h, "usb.unlock.refused", USB_CLAUSE, f);
                plog_notice(s->h, "unlock code from uid %s refused: %s", uid, why);
        }
        /* the caller made NAME.result; write only into that very file of theirs */
        _cleanup_close_ int rfd = open(res, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat rst;
        if (rfd >= 0 && fstat(rfd, &rst) == 0 && S_ISREG(rst.st_mode) && rst.st_uid == st.st_uid &&
            write(rfd, answer, strlen(answer)) < 0)
                plog_debug(s->h, "cannot answer %s: %m", res);
}

static int on_state_dir(struct loop_source *src, int fd, uint32_t revents, void *userdata) {
        struct usb_state *s = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool ours = false;
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        if (ev->len && ev->wd == s->requests_wd)
                                unlock_request(s, ev->name);
                        else if (ev->len && ev->wd == s->seats_wd && strcmp(ev->name, "seat0") == 0 &&
                                 s->policy.n_reg)
                                ours = true; /* someone else on the seat: entries for users decide again */
                        else if (ev->len && strcmp(ev->name, USB_PERMITS_FILE) == 0)
                                ours = true;
                        p += sizeof *ev + ev->len;
                }
        if (ours && (permits_reload(s) || s->policy.n_reg)) {
                evaluate_all(s, true);
                arm_expiry(s);
                sekisho_status_changed(s->h);
        }
        return 0;
}

static int on_expiry(struct loop_source *src, void *userdata) {
        struct usb_state *s = userdata;
        int64_t now = now_unix();
        size_t before = s->permits.n;
        for (size_t i = 0; i < s->permits.n; i++)
                if (s->permits.v[i].expires <= now)
                        audit_permit(s, "usb.permit.ended", &s->permits.v[i], "expired");
        if (usb_permits_expire(&s->permits, now) && s->permits_path)
                usb_permits_save(s->permits_path, &s->permits, now);
        plog_info(s->h, "%zu temporary permit(s) or register entries ended: deciding again", before - s->permits.n);
        evaluate_all(s, true);
        arm_expiry(s);
        sekisho_status_changed(s->h);
        return 0;
}

/* The state directory and what sekishoctl leaves there; a plugin without
 * one (tests) has no permits. */
static int permits_start(struct usb_state *s) {
        const char *sd = sekisho_env(s->h)->state_dir;
        int r = loop_add_timer(sekisho_loop(s->h), on_expiry, s, &s->expiry_timer);
        if (r < 0)
                return r;
        if (!sd)
                return 0;
        _cleanup_free_ char *dir = path_join(sd, "usb");
        if (!dir || !(s->permits_path = path_join(dir, USB_PERMITS_FILE)))
                return -ENOMEM;
        if (mkdir_p(dir, 0755) < 0) {
                plog_warning(s->h, "cannot create %s: no temporary permits", dir);
                return 0;
        }
        s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->inotify_fd < 0 || inotify_add_watch(s->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
                return -errno;
        /* Anyone may hand in an unlock code, nobody may see another's (sticky, not listable). */
        _cleanup_free_ char *req = path_join(dir, USB_UNLOCK_REQUESTS);
        if (!req || !(s->usb_dir = strdup(dir)))
                return -ENOMEM;
        if ((mkdir(req, 01733) < 0 && errno != EEXIST) || chmod(req, 01733) < 0 ||
            (s->requests_wd = inotify_add_watch(s->inotify_fd, req, IN_MOVED_TO)) < 0)
                plog_warning(s->h, "cannot set up %s: unlock codes only through root", req);
        const char *root = sekisho_env(s->h)->sysroot;
        _cleanup_free_ char *seats = path_join(root ? root : "/", "run/systemd/seats");
        if (seats)
                s->seats_wd = inotify_add_watch(s->inotify_fd, seats, IN_CLOSE_WRITE | IN_MOVED_TO);
        r = loop_add_io(sekisho_loop(s->h), s->inotify_fd, EPOLLIN, on_state_dir, s, &s->inotify_src);
        if (r < 0)
                return r;
        permits_reload(s);
        return 0;
}

/* Markers of sticks no longer attached read-only (their removal was missed:
 * a dropped uevent, a stop of sekishod) go once everything is decided. */
struct ro_ports {
        const char **v;
        size_t n, cap;
};

static void collect_read_only(const void *node, VISIT which, void *ctx) {
        const struct tracked *t = *(const struct tracked *const *)node;
        struct ro_ports *l = ctx;
        if ((which == postorder || which == leaf) && t->read_only && ARRAY_GROW(l->v, l->cap, l->n + 1) == 0)
                l->v[l->n++] = strrchr(t->devpath, '/') + 1;
}

static bool keep_marker(const char *port, void *ctx) {
        const struct ro_ports *l = ctx;
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], port) == 0)
                        return true;
        return false;
}

static void sweep_markers(struct usb_state *s) {
        struct ro_ports l = { 0 };
        twalk_r(s->devices, collect_read_only, &l);
        int r = usbro_sweep(s->ro_dir, keep_marker, &l);
        if (r < 0)
                plog_warning_errno(s->h, r, "cannot remove stale read-only markers in %s", s->ro_dir);
        free(l.v);
        s->markers_unswept = false;
}

/* ---- copies to approved sticks ---- */

/* For copyrec: is the filesystem on dev on a stick the policy in force
 * allows, and what do its records call it? A stick approved read-only is
 * not watched (nothing can be written), but checked: mounted writable, or
 * with a block device the kernel does not hold read-only, it is taken away. */
static int identify_medium(void *ctx, dev_t dev, const char *mountpoint, bool mounted_ro,
                           struct copyrec_labels *ret) {
        struct usb_state *s = ctx;
        char block[64], usb[PATH_MAX];
        snprintf(block, sizeof block, "/sys/dev/block/%u:%u", major(dev), minor(dev));
        if (major(dev) == 0 || usbro_usb_device_of(block, usb, sizeof usb) < 0 || strncmp(usb, "/sys/", 5) != 0)
                return 0;
        const char *devpath = usb + 4;
        struct tracked *t = tracked_find(s, devpath);
        if (!t || t->target != USB_TARGET_ALLOW)
                return 0;
        if (t->read_only) {
                _cleanup_free_ char *ropath = path_join(block, "ro"), *ro = NULL;
                size_t len;
                if (mounted_ro && ropath && read_file_capped(ropath, 16, &ro, &len) == 0 && ro[0] == '1')
                        return 0;
                s->read_only_errors++;
                write_attr(s, usb, "authorized", "0");
                plog_error(s->h, "stick at %s approved read-only is mounted writable at %s: taken away",
                           strrchr(devpath, '/') + 1, mountpoint);
                struct audit_field f[] = {
                        { "port", strrchr(devpath, '/') + 1 },
                        { "mountpoint", mountpoint },
                        { "problem", mounted_ro ? "the kernel does not hold its block device read-only"
                                                : "mounted writable" },
                        { "action", "de-authorized" },
                        { NULL, NULL },
                };
                sekisho_audit(s->h, "usb.read-only.failed", USB_CLAUSE, f);
                return 0;
        }
        struct usb_device_info d;
        if (usbdev_model(devpath, s->policy.need | USBDEV_STRINGS, &d) < 0)
                return -ENOMEM;
        struct usb_verdict v;
        usb_policy_decide(&s->policy, &d, &v);
        _cleanup_free_ char *name = usb_display_string(v.entry ? v.entry->name : d.name);
        _cleanup_free_ char *serial = usb_display_string(d.serial);
        snprintf(ret->name, sizeof ret->name, "%s", name ? name : "");
        snprintf(ret->serial, sizeof ret->serial, "%s", serial ? serial : "");
        snprintf(ret->port, sizeof ret->port, "%s", d.port ? d.port : "");
        usb_device_info_done(&d);
        return 1;
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
         * devices stay blocked. Decisions written but not yet reported are
         * reported now. */
        finish_pending(s, 0);
        copyrec_free(s->copyrec);
        loop_source_free(s->src);
        loop_source_free(s->defer_src);
        if (s->fd >= 0)
                close(s->fd);
        if (s->defer_fd >= 0)
                close(s->defer_fd);
        udev_unref(s->udev);
        loop_source_free(s->inotify_src);
        loop_source_free(s->expiry_timer);
        if (s->inotify_fd >= 0)
                close(s->inotify_fd);
        usb_permits_done(&s->permits);
        free(s->permits_path);
        free(s->usb_dir);
        usb_policy_done(&s->policy);
        tdestroy(s->devices, tracked_free);
        free(s->ro_dir);
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
        s->fd = s->defer_fd = s->inotify_fd = s->requests_wd = s->seats_wd = -1;
        s->tail = &s->head;
        int r;
        /* Markers left by an earlier run stay until the first apply() has
         * decided everything again: a stale one only makes a stick read-only. */
        const struct sekisho_env *env = sekisho_env(h);
        if (strcmp(env->sysroot, "/") != 0)
                s->ro_dir = path_join(env->sysroot, USBRO_DIR + 1);
        else if (env->test_mode && !getenv("SEKISHO_TEST_DISPOSABLE_MACHINE"))
                s->ro_dir = path_join(env->state_dir, "usb-read-only"); /* never this machine's /run */
        else
                s->ro_dir = strdup(USBRO_DIR);
        s->markers_unswept = true;
        if (!s->ro_dir) {
                r = -ENOMEM;
                goto fail;
        }
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
        /* Listen before looking, so nothing arrives unseen in between; to the
         * kernel itself, not to udevd's re-broadcast after its rules ran. */
        r = uevent_open(USB_RCVBUF, &s->fd);
        if (r < 0) {
                sekisho_fail(h, r, "cannot open the kernel uevent socket");
                goto fail;
        }
        s->defer_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->defer_fd < 0) {
                r = sekisho_fail(h, -errno, "eventfd failed");
                goto fail;
        }
        if ((r = loop_add_io(sekisho_loop(h), s->fd, EPOLLIN, on_uevent, s, &s->src)) < 0 ||
            (r = loop_add_io(sekisho_loop(h), s->defer_fd, EPOLLIN, on_uevent, s, &s->defer_src)) < 0) {
                sekisho_fail(h, r, "cannot watch the uevent socket");
                goto fail;
        }
        if ((r = permits_start(s)) < 0) {
                sekisho_fail(h, r, "cannot watch the state directory for temporary permits");
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
                                controller_close(s, udev_device_get_syspath(dev));
                        udev_device_unref(dev);
                }
                udev_enumerate_unref(e);
        }
        /* The record of copies needs fanotify (CAP_SYS_ADMIN): without it,
         * devices are still decided, and status says copies are not recorded. */
        r = copyrec_new(h, identify_medium, s, &s->copyrec);
        if (r < 0) {
                snprintf(s->copyrec_error, sizeof s->copyrec_error, "not recorded: %s", strerror(-r));
                plog_error_errno(h, r, "copies to USB sticks are NOT recorded: fanotify");
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
        finish_pending(s, 0); /* their verdicts point into the rules about to go */
        usb_policy_done(&s->policy);
        s->policy = p;
        s->generation++;
        s->n_current = 0;
        if (!s->policy.permits && s->permits.n) {
                /* the travel profile: every temporary permit ends at once */
                for (size_t i = 0; i < s->permits.n; i++)
                        audit_permit(s, "usb.permit.ended", &s->permits.v[i],
                                     "the policy in force turns temporary permits off");
                usb_permits_done(&s->permits);
                if (s->permits_path)
                        usb_permits_save(s->permits_path, &s->permits, now_unix());
        }
        arm_expiry(s);
        s->storage_blocked = usb_policy_blocks_storage(&s->policy, s->storage_why, sizeof s->storage_why);
        plog_info(s->h, "%zu rule(s), default %s", s->policy.n, usb_target_name(s->policy.deflt));
        r = evaluate_all(s, true);
        if (r >= 0)
                sweep_markers(s);
        if (s->copyrec && r >= 0)
                copyrec_rescan(s->copyrec);
        sekisho_status_changed(s->h);
        return r < 0 ? sekisho_fail(s->h, r, "cannot enumerate USB devices") : 0;
}

static void usb_status(void *state, struct kvlist *out) {
        struct usb_state *s = state;
        kvlist_add(out, "rules", "%zu", s->policy.n);
        kvlist_add(out, "default", "%s", usb_target_name(s->policy.deflt));
        kvlist_add(out, "register-entries", "%zu", s->policy.n_reg);
        kvlist_add(out, "temporary-permits", "%zu", s->permits.n);
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
        kvlist_add(out, "rescans", "%" PRIu64, s->rescans);
        kvlist_add(out, "uevents-refused", "%" PRIu64, s->foreign + s->malformed);
        kvlist_add(out, "read-only-sticks", "%" PRIu64, s->read_only_sticks);
        kvlist_add(out, "read-only-errors", "%" PRIu64, s->read_only_errors);
        uint64_t recorded, summarised, overflows;
        size_t watched;
        copyrec_counts(s->copyrec, &recorded, &summarised, &watched, &overflows);
        if (s->copyrec)
                kvlist_add(out, "copy-records", "on: %zu stick(s) mounted", watched);
        else
                kvlist_add(out, "copy-records", "%s", s->copyrec_error);
        kvlist_add(out, "copies-recorded", "%" PRIu64, recorded);
        kvlist_add(out, "copies-summarised", "%" PRIu64, summarised);
        kvlist_add(out, "copy-queue-overflows", "%" PRIu64, overflows);
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
        SCMP_SYS(lseek), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(eventfd2),
        SCMP_SYS(fanotify_init), SCMP_SYS(fanotify_mark), -1,
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
                     "  usb list-rules [--policy FILE]   default, temporary permits, register, rules\n"
                     "  usb explain DEVICE [--policy FILE]   what decides the device and why\n"
                     "  usb generate-rules [--with-port]   a policy allowing what is attached now\n"
                     "  usb import-rules RULES.CONF   a usbguard rules.conf as a usb: section\n"
                     "  usb register DEVICE [--name L] [--read-only] [--expires D] [--user U] [--group G] [--terminal T]\n"
                     "                               the register entry for a stick plugged in here\n"
                     "  usb allow DEVICE --for DURATION   a temporary permit (root or an administrator)\n"
                     "  usb block DEVICE [--for DURATION]   a temporary block (default 1d)\n"
                     "  usb unlock CODE              an offline unlock code from the officer\n"
                     "  usb unlock-key --install     the terminal's unlock key, from stdin\n"
                     "  usb unlock-code --master F --terminal ID (--device HASH|--keyboards) --for D\n"
                     "                               the officer's side: make a code\n",
        .syscalls = usb_syscalls);
