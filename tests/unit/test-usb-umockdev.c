/* test-usb-umockdev.c — the usb plugin on umockdev testbeds shaped as a real kernel shows them (unauthorized devices: descriptors only, no interface nodes), with a stub core. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <umockdev.h>
#include <unistd.h>

#include "default-fragment.h"
#include "plugin.h"
#include "ptree.h"
#include "stub-core.h"
#include "uevent-sender.h"
#include "usbctl.h"
#include "usbdesc.h"
#include "usbdev.h"
#include "usbro.h"
#include "usbrule.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_usb;
static struct sekisho_plugin_handle *core;


/* ---- descriptors, built the way devices send them ---- */

struct blob {
        uint8_t b[4096];
        size_t n;
};

static void put(struct blob *d, const uint8_t *p, size_t n) {
        memcpy(d->b + d->n, p, n);
        d->n += n;
}

/* device descriptor + one configuration with the given interfaces */
static struct blob make_desc(uint16_t vid, uint16_t pid, uint8_t devclass, const uint8_t (*ifs)[3], size_t n) {
        struct blob d = { .n = 0 };
        uint8_t dev[18] = { 18, 1, 0x00, 0x02, devclass, 0, 0, 64, (uint8_t)vid, (uint8_t)(vid >> 8), (uint8_t)pid,
                            (uint8_t)(pid >> 8), 0x00, 0x01, 1, 2, 3, 1 };
        put(&d, dev, 18);
        size_t total = 9 + n * 16;
        uint8_t cfg[9] = { 9, 2, (uint8_t)total, (uint8_t)(total >> 8), (uint8_t)n, 1, 0, 0x80, 50 };
        put(&d, cfg, 9);
        for (size_t i = 0; i < n; i++) {
                uint8_t itf[9] = { 9, 4, (uint8_t)i, 0, 1, ifs[i][0], ifs[i][1], ifs[i][2], 0 };
                uint8_t ep[7] = { 7, 5, (uint8_t)(0x81 + i), 3, 8, 0, 10 };
                put(&d, itf, 9);
                put(&d, ep, 7);
        }
        return d;
}

static const uint8_t IF_KBD[][3] = { { 3, 1, 1 }, { 3, 0, 0 } };
static const uint8_t IF_MOUSE[][3] = { { 3, 1, 2 } };
static const uint8_t IF_STICK[][3] = { { 8, 6, 0x50 } };
static const uint8_t IF_BADUSB[][3] = { { 3, 1, 1 }, { 8, 6, 0x50 } };
static const uint8_t IF_ICC[][3] = { { 0x0b, 0, 0 } };
static const uint8_t IF_FPR[][3] = { { 0xff, 0, 0 } };
static const uint8_t IF_HUB[][3] = { { 9, 0, 0 } };

/* ---- testbed ---- */

struct bed {
        UMockdevTestbed *tb;
        char *pci;
        char *root;       /* usb1 */
        void *state;
};

static char *attr_path_read(const char *syspath, const char *attr) {
        static char buf[256];
        _cleanup_free_ char *p = path_join(syspath, attr);
        _cleanup_free_ char *v = NULL;
        size_t n;
        if (read_file_capped(p, 200, &v, &n) < 0)
                return NULL;
        snprintf(buf, sizeof buf, "%s", v);
        size_t l = strlen(buf);
        while (l && buf[l - 1] == '\n')
                buf[--l] = '\0';
        return buf;
}

static void assert_attr(const char *syspath, const char *attr, const char *want) {
        const char *v = attr_path_read(syspath, attr);
        if (!v || strcmp(v, want) != 0)
                fail_msg("%s/%s is '%s', want '%s'", syspath, attr, v ? v : "(missing)", want);
}

/* What the kernel says about a device: its own uevent, not udevd's re-broadcast
 * (which umockdev sends by itself on add_device, and the plugin ignores). */
static void kernel_uevent(struct bed *b, const char *syspath, const char *action) {
        _cleanup_free_ char *root = umockdev_testbed_get_root_dir(b->tb);
        int sent = uevent_send(root, syspath, action);
        assert_true(sent >= 0);
}

static void pump(void) {
        /* deliver what umockdev sent; stop when a round brings nothing */
        for (int i = 0; i < 50; i++)
                if (loop_iterate(core->loop, i == 0 ? 200 : 20) <= 0)
                        break;
}

static char *add_usb_device(struct bed *b, const char *parent, const char *name, const char *vid, const char *pid,
                            const char *product, const char *serial, const struct blob *desc, const char *authorized) {
        char *path = umockdev_testbed_add_device(b->tb, "usb", name, parent, "authorized", authorized, "idVendor",
                                                 vid, "idProduct", pid, "product", product, "serial", serial,
                                                 "bConfigurationValue", "1", "remove", "0", NULL, "DEVTYPE",
                                                 "usb_device", "PRODUCT", "x", NULL);
        assert_non_null(path);
        umockdev_testbed_set_attribute_binary(b->tb, path, "descriptors", (guint8 *)desc->b, (gssize)desc->n);
        kernel_uevent(b, path, "add");
        return path;
}

/* What the kernel does once a device is authorized: interface nodes appear,
 * unauthorized because we set interface_authorized_default=0. */
static char *add_interface(struct bed *b, const char *devpath, const char *port, unsigned number, const uint8_t t[3]) {
        char name[64], cls[4], sub[4], proto[4];
        snprintf(name, sizeof name, "%s:1.%u", port, number);
        snprintf(cls, sizeof cls, "%02x", t[0]);
        snprintf(sub, sizeof sub, "%02x", t[1]);
        snprintf(proto, sizeof proto, "%02x", t[2]);
        char *path = umockdev_testbed_add_device(b->tb, "usb", name, devpath, "authorized", "0", "bInterfaceClass", cls,
                                                 "bInterfaceSubClass", sub, "bInterfaceProtocol", proto, NULL,
                                                 "DEVTYPE", "usb_interface", NULL);
        assert_non_null(path);
        kernel_uevent(b, path, "add");
        return path;
}

static void bed_new(struct bed *b, unsigned n_roots) {
        memset(b, 0, sizeof *b);
        b->tb = umockdev_testbed_new();
        assert_non_null(b->tb);
        b->pci = umockdev_testbed_add_device(b->tb, "pci", "0000:00:14.0", NULL, "class", "0x0c0330", NULL,
                                             "PCI_CLASS", "C0330", NULL);
        for (unsigned i = 1; i <= n_roots; i++) {
                char name[16];
                snprintf(name, sizeof name, "usb%u", i);
                struct blob d = make_desc(0x1d6b, 0x0002, 9, IF_HUB, 1);
                char *p = umockdev_testbed_add_device(
                        b->tb, "usb", name, b->pci, "authorized", "1", "authorized_default", "1",
                        "interface_authorized_default", "1", "idVendor", "1d6b", "idProduct", "0002", "product",
                        "xHCI Host Controller", "serial", "0000:00:14.0", NULL, "DEVTYPE", "usb_device", NULL);
                umockdev_testbed_set_attribute_binary(b->tb, p, "descriptors", (guint8 *)d.b, (gssize)d.n);
                if (i == 1)
                        b->root = p;
                else
                        g_free(p);
        }
}

/* The bus's drivers_probe file, as a plain file that collects what is written. */
static char *probe_path(struct bed *b) {
        _cleanup_free_ char *root = umockdev_testbed_get_root_dir(b->tb);
        char *dir = NULL, *file = NULL;
        if (asprintf(&dir, "%s/sys/bus/usb", root) < 0 || mkdir_p(dir, 0755) < 0 ||
            asprintf(&file, "%s/drivers_probe", dir) < 0)
                fail();
        free(dir);
        return file;
}

/* Apply a usb: section; NULL applies the plugin's default fragment
 * (plugins/usb/default.yaml), which is what the core passes when a policy
 * leaves the section out. */
static void bed_apply(struct bed *b, const char *yaml_section) {
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        if (yaml_section)
                assert_int_equal(ptree_parse("test.yaml", yaml_section, strlen(yaml_section), &t, &errs), 0);
        else
                assert_non_null(t = default_fragment("usb"));
        assert_int_equal(sekisho_plugin_usb.apply(b->state, pmap_get(t->root, "usb")), 0);
        ptree_free(t);
        perrors_clear(&errs);
        pump();
}

static void bed_start_at(struct bed *b, const char *yaml_section, const char *sysroot) {
        assert_int_equal(stub_core_new(&sekisho_plugin_usb, "/nonexistent", sysroot, &core), 0);
        assert_int_equal(sekisho_plugin_usb.init(core, &b->state), 0);
        bed_apply(b, yaml_section);
}

static void bed_start(struct bed *b, const char *yaml_section) {
        assert_int_equal(stub_core_new(&sekisho_plugin_usb, "/nonexistent", NULL, &core), 0);
        assert_int_equal(sekisho_plugin_usb.init(core, &b->state), 0);
        bed_apply(b, yaml_section);
}

static void bed_free(struct bed *b) {
        sekisho_plugin_usb.shutdown(b->state);
        core = stub_core_free(core);
        g_free(b->pci);
        g_free(b->root);
        g_object_unref(b->tb);
}

static bool recorded(const char *a, const char *b_) {
        for (size_t i = 0; i < core->n_rec; i++)
                if (strstr(core->rec[i].line, a) && (!b_ || strstr(core->rec[i].line, b_)))
                        return true;
        return false;
}

static const char *status_value(struct bed *b, const char *key) {
        static char buf[64];
        struct kvlist l = { 0 };
        sekisho_plugin_usb.status(b->state, &l);
        buf[0] = '\0';
        for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.keys[i], key) == 0)
                        snprintf(buf, sizeof buf, "%s", l.values[i]);
        kvlist_clear(&l);
        return buf;
}

/* The kernel dropped uevents: the next recvmsg() of the plugin says ENOBUFS
 * (linked with -Wl,--wrap=recvmsg; umockdev's unix sockets never overflow). */
static bool inject_enobufs;
ssize_t __real_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags) {
        if (inject_enobufs) {
                inject_enobufs = false;
                errno = ENOBUFS;
                return -1;
        }
        return __real_recvmsg(fd, msg, flags);
}

/* ---- tests ---- */

static bool recorded3(const char *a, const char *b_, const char *c) {
        for (size_t i = 0; i < core->n_rec; i++)
                if (strstr(core->rec[i].line, a) && strstr(core->rec[i].line, b_) && strstr(core->rec[i].line, c))
                        return true;
        return false;
}

static const char *device_hash(const char *syspath) {
        static char hash[USB_HASH_B64];
        struct usb_device_info d;
        assert_int_equal(usbdev_model(syspath + strlen("/sys"), USBDEV_STRINGS, &d), 0);
        assert_true(d.ok);
        snprintf(hash, sizeof hash, "%s", d.hash);
        usb_device_info_done(&d);
        return hash;
}

/* A register entry with read-only: true gets its marker (the udev hook's
 * cue, plugins/usb/README-usb.md) before the stick is authorized; the marker
 * goes with the stick, with read-only, and when stale; if it cannot be
 * made, the stick is blocked. */
static void test_read_only_marker(void **state) {
        struct bed b;
        bed_new(&b, 1);
        char sysroot[] = "usb-sysroot.XXXXXX", dir[256], m12[300], m13[300], m19[300];
        assert_non_null(mkdtemp(sysroot));
        snprintf(dir, sizeof dir, "%s%s", sysroot, USBRO_DIR);
        snprintf(m12, sizeof m12, "%s/1-2", dir);
        snprintf(m13, sizeof m13, "%s/1-3", dir);
        snprintf(m19, sizeof m19, "%s/1-9", dir);
        assert_int_equal(usbro_mark(dir, "1-9", true), 0); /* left by an earlier run */
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        /* the kernel let the read-only one in before we ran */
        char *ro = add_usb_device(&b, b.root, "1-2", "0781", "5567", "Cruzer Blade", "RO0001", &sd, "1");
        char *rw = add_usb_device(&b, b.root, "1-3", "0781", "5567", "Cruzer Blade", "RW0001", &sd, "0");
        char policy[2048], writable[2048];
#define RO_POLICY(ro)                                       \
        "usb:\n"                                            \
        "  default: block\n"                                \
        "  rules:\n"                                        \
        "    - block with-interface one-of { 08:*:* }\n"    \
        "  register:\n"                                     \
        "    - name: 総務課 1\n"                            \
        "      id: \"0781:5567\"\n"                         \
        "      serial: RO0001\n"                            \
        "      hash: \"%s\"\n"                              \
        "      read-only: " ro "\n"                         \
        "    - name: 総務課 2\n"                            \
        "      id: \"0781:5567\"\n"                         \
        "      serial: RW0001\n"                            \
        "      hash: \"%s\"\n"
        char hro[USB_HASH_B64];
        snprintf(hro, sizeof hro, "%s", device_hash(ro));
        snprintf(policy, sizeof policy, RO_POLICY("true"), hro, device_hash(rw));
        snprintf(writable, sizeof writable, RO_POLICY("false"), hro, device_hash(rw));
        bed_start_at(&b, policy, sysroot);
        assert_attr(ro, "authorized", "1");
        assert_attr(rw, "authorized", "1");
        assert_int_equal(access(m12, F_OK), 0);
        assert_int_equal(access(m13, F_OK), -1);
        assert_int_equal(access(m19, F_OK), -1); /* swept */
        assert_true(recorded3("usb.device.allowed", "port=1-2 ", "read-only=yes"));
        assert_true(recorded3("usb.device.allowed", "port=1-3 ", "read-only=no"));
        assert_string_equal(status_value(&b, "read-only-sticks"), "1");
        /* its storage interface is authorized: the marker is there */
        char *rif = add_interface(&b, ro, "1-2", 0, IF_STICK[0]);
        pump();
        assert_attr(rif, "authorized", "1");
        /* unplugged: the marker goes; plugged again: it is back before the write */
        kernel_uevent(&b, ro, "remove");
        pump();
        assert_int_equal(access(m12, F_OK), -1);
        umockdev_testbed_set_attribute(b.tb, ro, "authorized", "0");
        kernel_uevent(&b, ro, "add");
        pump();
        assert_attr(ro, "authorized", "1");
        assert_int_equal(access(m12, F_OK), 0);
        /* no longer read-only: the marker goes, the stick stays allowed */
        stub_clear(core);
        bed_apply(&b, writable);
        assert_int_equal(access(m12, F_OK), -1);
        assert_attr(ro, "authorized", "1");
        assert_true(recorded3("usb.device.allowed", "port=1-2 ", "read-only=no"));
        /* fail-closed: where the markers go is not a directory */
        assert_int_equal(rmdir(dir), 0);
        FILE *f = fopen(dir, "we");
        assert_non_null(f);
        fclose(f);
        stub_clear(core);
        bed_apply(&b, policy);
        assert_attr(ro, "authorized", "0");
        assert_true(recorded3("usb.device.blocked", "port=1-2 ", "read-only could not be arranged"));
        assert_attr(rw, "authorized", "1");
        assert_string_equal(status_value(&b, "read-only-errors"), "1");
        bed_free(&b);
        g_free(ro);
        g_free(rw);
        g_free(rif);
        assert_int_equal(unlink(dir), 0);
        char p[300];
        snprintf(p, sizeof p, "%s/run/sekisho", sysroot);
        assert_int_equal(rmdir(p), 0);
        snprintf(p, sizeof p, "%s/run", sysroot);
        assert_int_equal(rmdir(p), 0);
        assert_int_equal(rmdir(sysroot), 0);
}

/* Root hubs get authorized_default=0 before anything; devices present at
 * start are decided, whatever state they arrived in. */
static void test_present_at_start(void **state) {
        struct bed b;
        bed_new(&b, 2);
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2);
        char *kbd = add_usb_device(&b, b.root, "1-1", "046d", "c31c", "USB Keyboard", "", &kd, "1");
        char *kif0 = add_interface(&b, kbd, "1-1", 0, IF_KBD[0]);
        char *kif1 = add_interface(&b, kbd, "1-1", 1, IF_KBD[1]);
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        /* the kernel let it in before we ran (authorized_default was 1) */
        char *stick = add_usb_device(&b, b.root, "1-2", "0781", "5567", "Cruzer Blade", "4C530001", &sd, "1");
        char *sif = add_interface(&b, stick, "1-2", 0, IF_STICK[0]);
        umockdev_testbed_set_attribute(b.tb, sif, "authorized", "1");

        bed_start(&b, NULL);
        assert_attr(b.root, "authorized_default", "0");
        assert_attr(b.root, "interface_authorized_default", "0");
        assert_attr("/sys/devices/0000:00:14.0/usb2", "authorized_default", "0");
        assert_attr(b.root, "authorized", "1");
        assert_attr(kbd, "authorized", "1");
        assert_attr(kif0, "authorized", "1");
        assert_attr(kif1, "authorized", "1");
        assert_attr(stick, "authorized", "0");
        assert_true(recorded("audit usb.device.blocked", "device=0781:5567"));
        assert_true(recorded("audit usb.device.allowed", "device=046d:c31c"));
        assert_true(recorded("signal DeviceBlocked", "rule=block with-interface one-of { 08:*:* }"));
        g_free(kbd), g_free(kif0), g_free(kif1), g_free(stick), g_free(sif);
        bed_free(&b);
}

/* Hot insert of each kind of device, as the kernel shows it while
 * unauthorized: descriptors only, interfaces only after authorization. */
static void test_hotplug_default_policy(void **state) {
        struct bed b;
        bed_new(&b, 1);
        {
                _cleanup_free_ char *pp = probe_path(&b);
                FILE *pf = fopen(pp, "we");
                assert_non_null(pf);
                fclose(pf);
        }
        bed_start(&b,
                  "usb:\n"
                  "  default: block\n"
                  "  rules:\n"
                  "    - allow id 138a:0097 name \"Fingerprint Sensor\"\n"
                  "    - block with-interface one-of { 08:*:* }\n"
                  "    - allow with-interface one-of { 03:*:* 0b:*:* 09:*:* } allow-interfaces { 03:*:* 0b:*:* 09:*:* }\n");

        /* boot keyboard */
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2);
        char *kbd = add_usb_device(&b, b.root, "1-1", "046d", "c31c", "USB Keyboard", "", &kd, "0");
        pump();
        assert_attr(kbd, "authorized", "1");
        char *kif0 = add_interface(&b, kbd, "1-1", 0, IF_KBD[0]);
        char *kif1 = add_interface(&b, kbd, "1-1", 1, IF_KBD[1]);
        pump();
        assert_attr(kif0, "authorized", "1");
        assert_attr(kif1, "authorized", "1");
        /* authorized after creation: the kernel does not probe them by itself */
        _cleanup_free_ char *probe = probe_path(&b), *probed = NULL;
        size_t probed_len;
        assert_int_equal(read_file_capped(probe, 4096, &probed, &probed_len), 0);
        assert_non_null(strstr(probed, "1-1:1.0"));
        assert_non_null(strstr(probed, "1-1:1.1"));

        /* mouse */
        struct blob md = make_desc(0x046d, 0xc077, 0, IF_MOUSE, 1);
        char *mouse = add_usb_device(&b, b.root, "1-2", "046d", "c077", "USB Optical Mouse", "", &md, "0");
        pump();
        assert_attr(mouse, "authorized", "1");

        /* mass-storage stick: blocked, written as 0 even though it arrived 0 */
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        char *stick = add_usb_device(&b, b.root, "1-3", "0781", "5567", "Cruzer Blade", "4C530001", &sd, "0");
        umockdev_testbed_set_attribute(b.tb, stick, "authorized", "x");
        kernel_uevent(&b, stick, "add");
        pump();
        assert_attr(stick, "authorized", "0");

        /* BadUSB keyboard+storage: neither */
        struct blob bd = make_desc(0x1234, 0x5678, 0, IF_BADUSB, 2);
        char *bad = add_usb_device(&b, b.root, "1-4", "1234", "5678", "Keyboard", "", &bd, "0");
        pump();
        assert_attr(bad, "authorized", "0");

        /* IC-card reader */
        struct blob id = make_desc(0x04e6, 0x5116, 0, IF_ICC, 1);
        char *icc = add_usb_device(&b, b.root, "1-5", "04e6", "5116", "SCR3310 Smart Card Reader", "", &id, "0");
        pump();
        assert_attr(icc, "authorized", "1");
        char *iif = add_interface(&b, icc, "1-5", 0, IF_ICC[0]);
        pump();
        assert_attr(iif, "authorized", "1");

        /* fingerprint reader (vendor class): allowed by id only */
        struct blob fd = make_desc(0x138a, 0x0097, 0xff, IF_FPR, 1);
        char *fpr = add_usb_device(&b, b.root, "1-6", "138a", "0097", "Fingerprint Sensor", "", &fd, "0");
        pump();
        assert_attr(fpr, "authorized", "1");
        char *fif = add_interface(&b, fpr, "1-6", 0, IF_FPR[0]);
        pump();
        assert_attr(fif, "authorized", "1");
        /* the same vendor class from another id stays out */
        struct blob od = make_desc(0x2222, 0x0001, 0xff, IF_FPR, 1);
        char *other = add_usb_device(&b, b.root, "1-7", "2222", "0001", "Gadget", "", &od, "0");
        pump();
        assert_attr(other, "authorized", "0");

        /* hub with a stick behind it: each decided on its own */
        struct blob hd = make_desc(0x05e3, 0x0610, 9, IF_HUB, 1);
        char *hub = add_usb_device(&b, b.root, "1-8", "05e3", "0610", "USB2.0 Hub", "", &hd, "0");
        pump();
        assert_attr(hub, "authorized", "1");
        char *hif = add_interface(&b, hub, "1-8", 0, IF_HUB[0]);
        pump();
        assert_attr(hif, "authorized", "1");
        char *stick2 = add_usb_device(&b, hub, "1-8.1", "0781", "5567", "Cruzer Blade", "4C530002", &sd, "0");
        pump();
        assert_attr(stick2, "authorized", "0");
        assert_true(recorded("audit usb.device.blocked", "port=1-8.1"));

        /* remove */
        unsigned long before = strtoul(status_value(&b, "devices-attached"), NULL, 10);
        kernel_uevent(&b, stick2, "remove");
        umockdev_testbed_remove_device(b.tb, stick2);
        pump();
        assert_int_equal(strtoul(status_value(&b, "devices-attached"), NULL, 10), before - 1);

        g_free(kbd), g_free(kif0), g_free(kif1), g_free(mouse), g_free(stick), g_free(bad), g_free(icc);
        g_free(iif), g_free(fpr), g_free(fif), g_free(other), g_free(hub), g_free(hif), g_free(stick2);
        bed_free(&b);
}

/* Per-interface blocking: a composite allowed for its keyboard only. */
static void test_per_interface(void **state) {
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, "usb:\n"
                      "  rules:\n"
                      "    - allow id 1234:5678 block-interfaces { 08:*:* }\n"
                      "    - block with-interface one-of { 08:*:* }\n");
        struct blob bd = make_desc(0x1234, 0x5678, 0, IF_BADUSB, 2);
        char *dev = add_usb_device(&b, b.root, "1-1", "1234", "5678", "Keyboard", "", &bd, "0");
        pump();
        assert_attr(dev, "authorized", "1");
        char *if0 = add_interface(&b, dev, "1-1", 0, IF_BADUSB[0]);
        char *if1 = add_interface(&b, dev, "1-1", 1, IF_BADUSB[1]);
        pump();
        assert_attr(if0, "authorized", "1");
        assert_attr(if1, "authorized", "0");
        assert_true(recorded("audit usb.interface.blocked", "interface=1-1:1.1"));
        assert_true(recorded("signal DeviceBlocked", "interface=1-1:1.1"));
        g_free(dev), g_free(if0), g_free(if1);
        bed_free(&b);
}

/* reject: written as authorized=0, then the device is asked to go (remove=1). */
static void test_reject(void **state) {
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, "usb:\n  default: reject\n  rules:\n    - allow with-interface one-of { 03:*:* }\n");
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        char *stick = add_usb_device(&b, b.root, "1-1", "0781", "5567", "Cruzer", "", &sd, "1");
        pump();
        assert_attr(stick, "authorized", "0");
        assert_attr(stick, "remove", "1");
        assert_true(recorded("audit usb.device.blocked", "target=reject"));
        g_free(stick);
        bed_free(&b);
}

/* A policy change revokes an attached device at once; the travel profile
 * (rules: [] default block) takes everything but the controllers. */
static void test_policy_change_and_travel(void **state) {
        struct bed b;
        bed_new(&b, 1);
        const char *base = "usb:\n"
                           "  rules:\n"
                           "    - allow id 138a:0097\n"
                           "    - allow with-interface one-of { 03:*:* }\n";
        bed_start(&b, base);
        struct blob fd = make_desc(0x138a, 0x0097, 0xff, IF_FPR, 1);
        char *fpr = add_usb_device(&b, b.root, "1-1", "138a", "0097", "Fingerprint Sensor", "", &fd, "0");
        struct blob md = make_desc(0x046d, 0xc077, 0, IF_MOUSE, 1);
        char *mouse = add_usb_device(&b, b.root, "1-2", "046d", "c077", "USB Optical Mouse", "", &md, "0");
        pump();
        assert_attr(fpr, "authorized", "1");
        assert_attr(mouse, "authorized", "1");
        char *mif = add_interface(&b, mouse, "1-2", 0, IF_MOUSE[0]);
        pump();
        assert_attr(mif, "authorized", "1");

        /* the new policy no longer names the fingerprint reader */
        bed_apply(&b, "usb:\n  rules:\n    - allow with-interface one-of { 03:*:* }\n");
        assert_attr(fpr, "authorized", "0");
        assert_attr(mouse, "authorized", "1");
        assert_true(recorded("signal DeviceBlocked", "device=138a:0097"));

        /* travel profile merged over it */
        bed_apply(&b, "usb:\n  default: block\n  rules: []\n");
        assert_attr(mouse, "authorized", "0");
        assert_attr(b.root, "authorized", "1");
        assert_attr(b.root, "authorized_default", "0");
        /* back home */
        bed_apply(&b, base);
        assert_attr(mouse, "authorized", "1");
        assert_attr(fpr, "authorized", "1");
        g_free(fpr), g_free(mouse), g_free(mif);
        bed_free(&b);
}

/* Hostile devices: each decided block with a log line, never a crash. */
static void test_hostile(void **state) {
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, NULL);

        /* garbage descriptors, arriving authorized */
        struct blob g = { .n = 40 };
        memset(g.b, 0xff, g.n);
        g.b[0] = 18;
        g.b[1] = 1;
        char *garbage = add_usb_device(&b, b.root, "1-1", "046d", "c31c", "Keyboard", "", &g, "1");
        pump();
        assert_attr(garbage, "authorized", "0");
        assert_true(recorded("audit usb.device.blocked", "rule=(garbage descriptors"));

        /* absurd interface count */
        struct blob *ad = malloc(sizeof *ad);
        ad->n = 0;
        uint8_t dev[18] = { 18, 1, 0, 2, 0, 0, 0, 64, 0x11, 0x11, 0x22, 0x22, 0, 1, 0, 0, 0, 1 };
        put(ad, dev, 18);
        uint8_t cfg[9] = { 9, 2, 0, 0, 255, 1, 0, 0x80, 50 };
        put(ad, cfg, 9);
        for (int i = 0; i < 300; i++) {
                uint8_t itf[9] = { 9, 4, (uint8_t)i, 0, 0, 3, 1, 1, 0 };
                put(ad, itf, 9);
        }
        char *absurd = add_usb_device(&b, b.root, "1-2", "1111", "2222", "Keyboard", "", ad, "0");
        pump();
        assert_attr(absurd, "authorized", "0");
        free(ad);

        /* a name with control characters and invalid UTF-8: still decided */
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2);
        char *weird = add_usb_device(&b, b.root, "1-3", "046d", "c31c", "Key\x1b[2Jboard\xff\xfe", "", &kd, "0");
        pump();
        assert_attr(weird, "authorized", "1");
        assert_true(recorded("usb.device.allowed", "name=Key\\x1b[2Jboard\\xff\\xfe"));


        /* a device that vanishes before it is decided */
        char *ghost = add_usb_device(&b, b.root, "1-5", "046d", "c31c", "Keyboard", "", &kd, "0");
        umockdev_testbed_remove_device(b.tb, ghost);
        pump();

        /* a hub's child arrives first */
        struct blob hd = make_desc(0x05e3, 0x0610, 9, IF_HUB, 1);
        char *hub = umockdev_testbed_add_device(b.tb, "usb", "1-6", b.root, "authorized", "0", "idVendor", "05e3",
                                                "idProduct", "0610", "product", "Hub", NULL, "DEVTYPE", "usb_device",
                                                NULL);
        umockdev_testbed_set_attribute_binary(b.tb, hub, "descriptors", (guint8 *)hd.b, (gssize)hd.n);
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        char *child = add_usb_device(&b, hub, "1-6.1", "0781", "5567", "Cruzer", "", &sd, "0");
        kernel_uevent(&b, hub, "add");
        pump();
        assert_attr(child, "authorized", "0");
        assert_attr(hub, "authorized", "1");

        /* someone else authorized a stick we block: its interface appears,
         * and both are put back to 0 */
        char *sneaky = add_usb_device(&b, b.root, "1-7", "0781", "5567", "Cruzer", "", &sd, "0");
        pump();
        assert_attr(sneaky, "authorized", "0");
        umockdev_testbed_set_attribute(b.tb, sneaky, "authorized", "1");
        char *sif = add_interface(&b, sneaky, "1-7", 0, IF_STICK[0]);
        umockdev_testbed_set_attribute(b.tb, sif, "authorized", "1");
        kernel_uevent(&b, sif, "add");
        pump();
        assert_attr(sif, "authorized", "0");
        assert_attr(sneaky, "authorized", "0");
        g_free(sneaky), g_free(sif);

        /* a new controller arriving later is closed too */
        struct blob rd = make_desc(0x1d6b, 0x0003, 9, IF_HUB, 1);
        char *root3 = umockdev_testbed_add_device(b.tb, "usb", "usb3", b.pci, "authorized", "1", "authorized_default",
                                                  "1", "idVendor", "1d6b", "idProduct", "0003", NULL, "DEVTYPE",
                                                  "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(b.tb, root3, "descriptors", (guint8 *)rd.b, (gssize)rd.n);
        /* its hub interface is "3-0:1.0", and may be created after we closed the root hub
         * (interface_authorized_default=0): authorized, then probed, or nothing behind it enumerates */
        _cleanup_free_ char *pp = probe_path(&b);
        FILE *pf = fopen(pp, "we");
        assert_non_null(pf);
        fclose(pf);
        char *rif = umockdev_testbed_add_device(b.tb, "usb", "3-0:1.0", root3, "authorized", "0", "bInterfaceClass",
                                                "09", NULL, "DEVTYPE", "usb_interface", NULL);
        kernel_uevent(&b, root3, "add");
        kernel_uevent(&b, rif, "add");
        pump();
        assert_attr(root3, "authorized_default", "0");
        assert_attr(rif, "authorized", "1");
        _cleanup_free_ char *probed = NULL;
        size_t probed_len;
        assert_int_equal(read_file_capped(pp, 4096, &probed, &probed_len), 0);
        assert_non_null(strstr(probed, "3-0:1.0"));
        g_free(rif);

        g_free(garbage), g_free(absurd), g_free(weird), g_free(ghost), g_free(hub), g_free(child);
        g_free(root3);
        bed_free(&b);
}

/* sekishoctl usb list / generate-rules, offline over the same testbed; the
 * generated rules parse and, as a policy, allow exactly what is attached. */
static void test_usbctl(void **state) {
        struct bed b;
        bed_new(&b, 1);
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2);
        char *kbd = add_usb_device(&b, b.root, "1-1", "046d", "c31c", "USB \"Keyboard\"", "S/N 'x'", &kd, "0");
        struct blob bd = make_desc(0x1234, 0x5678, 0, IF_BADUSB, 2);
        char *bad = add_usb_device(&b, b.root, "1-2", "1234", "5678", "Keyboard", "", &bd, "0");

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct ptree *dflt = default_fragment("usb");
        assert_non_null(dflt);
        assert_int_equal(usbctl_list(f, pmap_get(dflt->root, "usb")), 0);
        fclose(f);
        assert_non_null(strstr(buf, "1-1 046d:c31c \"USB \"Keyboard\"\" allow"));
        assert_non_null(strstr(buf, "1-2 1234:5678 \"Keyboard\" block (rule 1: block with-interface one-of { 08:*:* })"));
        assert_non_null(strstr(buf, "1-1:1.0 03:01:01 allow"));
        free(buf);
        ptree_free(dflt);

        f = open_memstream(&buf, &len);
        assert_int_equal(usbctl_generate_rules(f, false), 0);
        fclose(f);
        assert_non_null(strstr(buf, "allow id 046d:c31c serial \"S/N ''x''\" name \"USB \\\"Keyboard\\\"\""));
        assert_non_null(strstr(buf, "with-interface { 03:01:01 08:06:50 }"));
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        assert_int_equal(ptree_parse("gen.yaml", buf, strlen(buf), &t, &errs), 0);
        assert_int_equal(sekisho_plugin_usb.check(pmap_get(t->root, "usb"), &errs), 0);
        perrors_clear(&errs);
        free(buf);

        /* the verb as sekishoctl calls it */
        char *argv_bad[] = { (char *)"frobnicate" };
        assert_int_equal(usbctl_main(1, argv_bad, NULL, NULL), 2);
        char pol[] = "/tmp/sekisho-usbctl-XXXXXX";
        int pfd = mkstemp(pol);
        assert_true(pfd >= 0);
        const char *ptext = "usb:\n  rules:\n    - allow id 1234:5678\n";
        assert_int_equal(write(pfd, ptext, strlen(ptext)), (ssize_t)strlen(ptext));
        close(pfd);
        char *argv_list[] = { (char *)"list", (char *)"--policy", pol };
        assert_int_equal(usbctl_main(3, argv_list, NULL, NULL), 0);
        unlink(pol);
        char *argv_missing[] = { (char *)"list", (char *)"--policy", (char *)"/nonexistent/p.yaml" };
        assert_int_equal(usbctl_main(3, argv_missing, NULL, NULL), 1);

        /* as the policy in force: both devices (and the controller) allowed */
        assert_int_equal(stub_core_new(&sekisho_plugin_usb, "/nonexistent", NULL, &core), 0);
        assert_int_equal(sekisho_plugin_usb.init(core, &b.state), 0);
        assert_int_equal(sekisho_plugin_usb.apply(b.state, pmap_get(t->root, "usb")), 0);
        ptree_free(t);
        assert_attr(kbd, "authorized", "1");
        assert_attr(bad, "authorized", "1");
        g_free(kbd), g_free(bad);
        bed_free(&b);
}

/* Names and serials that end in control characters (TAB, CR, NUL, BS) are
 * trimmed as usbguard-daemon 1.1 trims them, for name, serial and hash rules. */
static void test_trailing_controls(void **state) {
        struct bed b;
        bed_new(&b, 1);
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        struct usb_desc *desc = malloc(sizeof *desc);
        assert_int_equal(usbdesc_parse((const uint8_t *)sd.b, sd.n, desc, NULL, 0), 0);
        char hash[USB_HASH_B64], yaml[1024];
        usbdesc_hash("Cruzer", "0781", "5567", "SN2", (const uint8_t *)sd.b, desc, hash);
        free(desc);
        snprintf(yaml, sizeof yaml,
                 "usb:\n  rules:\n"
                 "    - allow name \"Stick\" serial \"SN1\"\n"
                 "    - allow hash \"%s\"\n",
                 hash);
        bed_start(&b, yaml);
        char *tab = add_usb_device(&b, b.root, "1-1", "0781", "5567", "Stick\t", "SN1\r\b", &sd, "0");
        /* NUL bytes need the binary form; the kernel's newline comes last */
        char *nul = umockdev_testbed_add_device(b.tb, "usb", "1-2", b.root, "authorized", "0", "idVendor", "0781",
                                                "idProduct", "5567", "remove", "0", NULL, "DEVTYPE", "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(b.tb, nul, "descriptors", (guint8 *)sd.b, (gssize)sd.n);
        umockdev_testbed_set_attribute_binary(b.tb, nul, "product", (guint8 *)(char[]){ "Cruzer\t\0\n" }, 9);
        umockdev_testbed_set_attribute_binary(b.tb, nul, "serial", (guint8 *)(char[]){ "SN2\0\0\b\n" }, 7);
        kernel_uevent(&b, nul, "add");
        pump();
        assert_attr(tab, "authorized", "1");
        assert_attr(nul, "authorized", "1");
        g_free(tab), g_free(nul);
        bed_free(&b);
}

/* The decision comes from the kernel's uevent, not from udevd's re-broadcast
 * of it (umockdev's own uevents have udev's "libudev" format): a device
 * only udevd announced is not decided, and the message is counted refused. */
static void test_kernel_uevents_only(void **state) {
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, NULL);
        struct blob sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        char *stick = umockdev_testbed_add_device(b.tb, "usb", "1-1", b.root, "authorized", "1", NULL, "DEVTYPE",
                                                  "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(b.tb, stick, "descriptors", (guint8 *)sd.b, (gssize)sd.n);
        umockdev_testbed_uevent(b.tb, stick, "add");
        pump();
        assert_attr(stick, "authorized", "1");
        assert_true(strtoul(status_value(&b, "uevents-refused"), NULL, 10) >= 2);
        kernel_uevent(&b, stick, "add");
        pump();
        assert_attr(stick, "authorized", "0");
        assert_true(recorded("audit usb.device.blocked", "device=0781:5567"));
        g_free(stick);
        bed_free(&b);
}

/* The kernel dropped uevents (usbguard#349 left USBGuard deaf until restart):
 * every device is decided again from sysfs, and the rescan is audited. */
static void test_overflow_rescan(void **state) {
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, NULL);
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2), sd = make_desc(0x0781, 0x5567, 0, IF_STICK, 1);
        /* their kernel uevents were lost: only umockdev's udev-format ones went out */
        char *kbd = umockdev_testbed_add_device(b.tb, "usb", "1-1", b.root, "authorized", "0", NULL, "DEVTYPE",
                                                "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(b.tb, kbd, "descriptors", (guint8 *)kd.b, (gssize)kd.n);
        char *stick = umockdev_testbed_add_device(b.tb, "usb", "1-2", b.root, "authorized", "1", NULL, "DEVTYPE",
                                                  "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(b.tb, stick, "descriptors", (guint8 *)sd.b, (gssize)sd.n);
        pump();
        assert_attr(kbd, "authorized", "0");
        assert_attr(stick, "authorized", "1");
        inject_enobufs = true;
        kernel_uevent(&b, b.root, "change"); /* anything, to wake the plugin up */
        pump();
        assert_false(inject_enobufs);
        assert_attr(kbd, "authorized", "1");
        assert_attr(stick, "authorized", "0");
        assert_true(recorded("audit usb.rescan", "reason=uevents dropped"));
        assert_string_equal(status_value(&b, "rescans"), "1");
        assert_string_equal(status_value(&b, "devices-attached"), "3");
        assert_string_equal(status_value(&b, "devices-not-decided-under-policy"), "0");
        g_free(kbd), g_free(stick);
        bed_free(&b);
}

/* A storm of hot-plugs, sent by a sender that waits whenever the plugin's
 * queue is full: every device decided, none lost. */
static void test_storm(void **state) {
        unsigned n = getenv("SEKISHO_STORM") ? (unsigned)atoi(getenv("SEKISHO_STORM")) : 10000;
        struct bed b;
        bed_new(&b, 1);
        bed_start(&b, NULL);
        core->no_records = true;
        struct blob kd = make_desc(0x046d, 0xc31c, 0, IF_KBD, 2);
        /* written into the testbed directly: umockdev takes milliseconds per device */
        char **paths = calloc(n, sizeof *paths);
        assert_non_null(paths);
        _cleanup_free_ char *root = umockdev_testbed_get_root_dir(b.tb);
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof name, "1-%u", i + 1);
                assert_int_equal(testbed_add_usb(root, b.root, name, kd.b, kd.n, "0", &paths[i]), 0);
        }
        /* the messages made beforehand: the sender only sends, as fast as the queue lets it */
        char *msgs = malloc((size_t)n * 512), **listeners = NULL;
        int *lens = calloc(n, sizeof *lens);
        assert_true(msgs && lens);
        for (unsigned i = 0; i < n; i++)
                assert_true((lens[i] = uevent_format(root, paths[i], "add", msgs + (size_t)i * 512, 512)) > 0);
        assert_int_equal(uevent_listeners(root, &listeners), 1);
        uint64_t t0 = now_usec_monotonic();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (unsigned i = 0; i < n; i++)
                        if (uevent_send_raw(listeners, msgs + (size_t)i * 512, (size_t)lens[i]) != 1)
                                _exit(1);
                _exit(0);
        }
        int status = 0;
        for (;;) {
                loop_iterate(core->loop, 100);
                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
        }
        while (loop_iterate(core->loop, 50) > 0)
                ;
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* R1's bookkeeping kept up with the fast path: every one counted as decided under this policy */
        assert_string_equal(status_value(&b, "devices-not-decided-under-policy"), "0");
        unsigned undecided = 0;
        for (unsigned i = 0; i < n; i++) {
                const char *v = attr_path_read(paths[i], "authorized");
                if (!v || strcmp(v, "1") != 0)
                        undecided++;
                testbed_remove_usb(root, paths[i]);
                free(paths[i]);
        }
        free(paths);
        free(msgs);
        free(lens);
        free(listeners[0]);
        free(listeners);
        printf("# storm of %u hot-plugs: %u undecided, %s decisions, %.1f ms\n", n, undecided,
               status_value(&b, "decisions"), (now_usec_monotonic() - t0) / 1000.0);
        assert_int_equal(undecided, 0);
        bed_free(&b);
}

int main(int argc, char **argv) {
        const char *pre = getenv("LD_PRELOAD");
        if (!pre || !strstr(pre, "libumockdev-preload")) {
                if (getenv("SEKISHO_UMOCKDEV_REEXEC")) {
                        printf("SKIP: umockdev preload did not take effect\n");
                        return 77;
                }
                setenv("SEKISHO_UMOCKDEV_REEXEC", "1", 1);
                /* umockdev works by LD_PRELOAD: run again under its wrapper */
                char **args = calloc((size_t)argc + 2, sizeof *args);
                if (!args)
                        return 1;
                args[0] = (char *)"umockdev-wrapper";
                for (int i = 0; i < argc; i++)
                        args[i + 1] = argv[i];
                args[argc + 1] = NULL;
                setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
                execvp("umockdev-wrapper", args);
                printf("SKIP: umockdev-wrapper is not available (%s)\n", strerror(errno));
                return 77;
        }
        log_setup("test-usb-umockdev", getenv("VERBOSE") != NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_present_at_start),
                cmocka_unit_test(test_hotplug_default_policy),
                cmocka_unit_test(test_per_interface),
                cmocka_unit_test(test_policy_change_and_travel),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_usbctl),
                cmocka_unit_test(test_trailing_controls),
                cmocka_unit_test(test_reject),
                cmocka_unit_test(test_kernel_uevents_only),
                cmocka_unit_test(test_overflow_rescan),
                cmocka_unit_test(test_storm),
                cmocka_unit_test(test_read_only_marker),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
