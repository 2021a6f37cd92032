/* test-usbrule.c — unit tests of the USB rule language, descriptor parser, USBGuard hash and the usb: policy decisions. */
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
#include <time.h>

#include "default-fragment.h"
#include "usbdesc.h"
#include "usbpolicy.h"
#include "usbrule.h"
#include "util.h"

static int parse(const char *s, struct usb_rule *r, struct usbrule_error *e) {
        return usbrule_parse(s, strlen(s), r, e);
}

static void expect_error(const char *rule, unsigned col, const char *fragment) {
        struct usb_rule r;
        struct usbrule_error e;
        int x = parse(rule, &r, &e);
        if (x != -EINVAL || e.col != col || !strstr(e.msg, fragment))
                fail_msg("rule <%s>: got %d col %u '%s', want col %u '%s'", rule, x, e.col, e.msg, col, fragment);
}

static void test_parse_basic(void **state) {
        struct usb_rule r;
        struct usbrule_error e;
        assert_int_equal(parse("allow id 046d:c52b name \"USB Receiver\" with-interface { 03:01:01 03:01:02 }", &r, &e), 0);
        assert_int_equal(r.target, USB_TARGET_ALLOW);
        assert_true(r.id.present);
        assert_string_equal(r.id.v.id[0].vid, "046d");
        assert_int_equal(r.with_interface.n, 2);
        assert_int_equal(r.with_interface.op, USB_OP_EQUALS);
        assert_int_equal(r.name.v.str[0].len, 12);
        usbrule_done(&r);

        assert_int_equal(parse("block 1234:* # a comment", &r, &e), 0);
        assert_int_equal(r.target, USB_TARGET_BLOCK);
        usbrule_done(&r);
        assert_int_equal(parse("   # only a comment", &r, &e), -ENOENT);
        assert_int_equal(parse("", &r, &e), -ENOENT);

        /* escapes: octal, hex, quote */
        assert_int_equal(parse("allow name \"a\\\"b\\x41\\101\\t\"", &r, &e), 0);
        assert_int_equal(r.name.v.str[0].len, 6);
        assert_memory_equal(r.name.v.str[0].s, "a\"bAA\t", 6);
        usbrule_done(&r);

        /* sekisho extension */
        assert_int_equal(parse("allow with-interface one-of { 03:*:* 08:*:* } block-interfaces { 08:*:* }", &r, &e), 0);
        assert_int_equal(r.ifmode, USB_IFMODE_BLOCK_LISTED);
        assert_int_equal(r.n_ifpat, 1);
        usbrule_done(&r);
}

static void test_parse_errors(void **state) {
        expect_error("allow if true", 7, "conditions");
        expect_error("allow name \"x\" if !rule-applied", 16, "conditions");
        expect_error("allow nmae \"x\"", 7, "unknown attribute 'nmae'");
        expect_error("allow id 1234:12345", 19, "unexpected");
        expect_error("allow with-interface 08:*:50", 22, "interface type");
        expect_error("allow name \"abc", 12, "unterminated");
        expect_error("allow name \"a\\q\"", 14, "invalid escape");
        expect_error("block with-interface 08:*:* block-interfaces { 08:*:* }", 29, "only makes sense with target allow");
        expect_error("allow block-interfaces one-of { 08:*:* }", 24, "without an operator");
        expect_error("allow block-interfaces 08:*:* allow-interfaces 03:*:*", 31, "only one of");
        expect_error("allow name \"a\" name \"b\"", 16, "given twice");
        expect_error("device id 1234:5678", 1, "target 'device'");
        expect_error("allow with-interface { }", 22, "empty set");
}

/* tests/data/usbguard/{good,bad}.txt: the project's own vectors of USBGuard's rule
 * language, each line checked against USBGuard's parser too (usb-rules-usbguard.sh). */
static void match_line(const char *file, bool good) {
        const char *top = getenv("top_srcdir");
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/usbguard/%s", top ? top : ".", file);
        FILE *f = fopen(path, "re");
        if (!f)
                fail_msg("%s: %s", path, strerror(errno));
        char line[4096];
        unsigned n = 0, parsed = 0, wrong = 0;
        while (fgets(line, sizeof line, f)) {
                size_t l = strlen(line);
                if (l && line[l - 1] == '\n')
                        line[--l] = '\0';
                n++;
                struct usb_rule r;
                struct usbrule_error e;
                int x = usbrule_parse(line, l, &r, &e);
                if (x == 0)
                        usbrule_done(&r);
                if (good ? x == 0 || x == -ENOENT : x == -EINVAL)
                        parsed++;
                else if (good) {
                        print_message("%s:%u: good rule refused at col %u (%s): %s\n", file, n, e.col, e.msg, line);
                        wrong++;
                } else {
                        print_message("%s:%u: bad rule accepted: %s\n", file, n, line);
                        wrong++;
                }
        }
        fclose(f);
        print_message("%s: %u lines, %u as USBGuard decides\n", file, n, parsed);
        assert_int_equal(wrong, 0);
        assert_true(n > 0);
}

static void test_usbguard_good(void **state) { match_line("good.txt", true); }
static void test_usbguard_bad(void **state) { match_line("bad.txt", false); }

/* ---- descriptors ---- */

/* A device descriptor, one configuration, and the given interfaces (each
 * with one endpoint). */
static size_t build_desc(uint8_t *out, uint16_t vid, uint16_t pid, uint8_t devclass, const uint8_t (*ifs)[3],
                         size_t n) {
        size_t o = 0;
        uint8_t dev[18] = { 18, 1, 0x00, 0x02, devclass, 0, 0, 64, (uint8_t)vid, (uint8_t)(vid >> 8), (uint8_t)pid,
                            (uint8_t)(pid >> 8), 0x00, 0x01, 1, 2, 3, 1 };
        memcpy(out, dev, 18);
        o = 18;
        size_t total = 9 + n * (9 + 7);
        uint8_t cfg[9] = { 9, 2, (uint8_t)total, (uint8_t)(total >> 8), (uint8_t)n, 1, 0, 0x80, 50 };
        memcpy(out + o, cfg, 9);
        o += 9;
        for (size_t i = 0; i < n; i++) {
                uint8_t itf[9] = { 9, 4, (uint8_t)i, 0, 1, ifs[i][0], ifs[i][1], ifs[i][2], 0 };
                memcpy(out + o, itf, 9);
                o += 9;
                uint8_t ep[7] = { 7, 5, (uint8_t)(0x81 + i), 3, 8, 0, 10 };
                memcpy(out + o, ep, 7);
                o += 7;
        }
        return o;
}

static void test_desc_parse(void **state) {
        uint8_t buf[512];
        static const uint8_t kbd[][3] = { { 3, 1, 1 }, { 3, 0, 0 } };
        size_t n = build_desc(buf, 0x046d, 0xc31c, 0, kbd, 2);
        struct usb_desc *d = malloc(sizeof *d);
        char why[160];
        assert_int_equal(usbdesc_parse(buf, n, d, why, sizeof why), 0);
        assert_int_equal(d->vid, 0x046d);
        assert_int_equal(d->n_ifs, 2);
        assert_int_equal(d->types[0].cls, 3);
        assert_int_equal(d->types[0].proto, 1);
        assert_int_equal(d->ifs[1].number, 1);
        assert_int_equal(d->ifs[1].config, 1);

        /* garbage: each refused with a reason, never a crash */
        assert_int_equal(usbdesc_parse(buf, n + 1, d, why, sizeof why), -EBADMSG); /* trailing byte */
        assert_int_equal(usbdesc_parse(buf, 17, d, why, sizeof why), -EBADMSG);    /* truncated */
        assert_int_equal(usbdesc_parse(buf, 0, d, why, sizeof why), -EBADMSG);
        uint8_t bad[512];
        memcpy(bad, buf, n);
        bad[18] = 0; /* config bLength 0 */
        assert_int_equal(usbdesc_parse(bad, n, d, why, sizeof why), -EBADMSG);
        memcpy(bad, buf, n);
        bad[27] = 10; /* interface bLength 10 */
        assert_int_equal(usbdesc_parse(bad, n, d, why, sizeof why), -EBADMSG);
        memcpy(bad, buf, n);
        memcpy(bad + n, buf, 18); /* second device descriptor */
        assert_int_equal(usbdesc_parse(bad, n + 18, d, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "second device"));

        /* absurd interface count */
        size_t big = 18 + 9 + 300 * 9;
        uint8_t *huge = calloc(1, big);
        memcpy(huge, buf, 27);
        for (size_t i = 0; i < 300; i++) {
                uint8_t itf[9] = { 9, 4, (uint8_t)i, 0, 0, 8, 6, 0x50, 0 };
                memcpy(huge + 27 + i * 9, itf, 9);
        }
        assert_int_equal(usbdesc_parse(huge, big, d, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "absurd"));
        free(huge);
        free(d);
}

static int unhex(const char *hex, uint8_t *out, size_t max) {
        size_t n = strlen(hex) / 2;
        if (n > max)
                return -1;
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                        return -1;
                out[i] = (uint8_t)v;
        }
        return (int)n;
}

/* The hashes Debian's usbguard 1.1.2 gives the devices of tests/data/usbguard/devices.umockdev
 * (usbguard-daemon with DeviceManagerBackend=umockdev, then usbguard list-devices; README.md). */
static void test_hash_usbguard(void **state) {
        const char *top = getenv("top_srcdir");
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/usbguard/devices.umockdev", top ? top : ".");
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(path, 1 << 20, &data, &size);
        if (r < 0)
                fail_msg("%s: %s", path, strerror(-r));
        static const struct {
                const char *port, *hash;
        } want[] = {
                { "/usb1\n", "Ofc3AIhSwLK+zj5UH1BZFumInjVvxEGYSQ+VLcHI+LA=" },
                { "/1-1\n", "LIWulz1kLa2W2OX9Sey0HAqvMZH/8Um8GytepjJnQ2M=" },
                { "/1-2\n", "YUjAOAMfp5Z+x4CDrNwHBiBTgXPdOjca+XtF/wA6390=" },
        };
        for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
                char *found = strstr(data, want[k].port);
                assert_non_null(found);
                _cleanup_free_ char *blk = strdup(found);
                char *end = strstr(blk, "\n\n");
                if (end)
                        *end = '\0';
                char name[256] = "", vid[8] = "", pid[8] = "", serial[256] = "", hex[8192] = "";
                for (char *l = strtok(blk, "\n"); l; l = strtok(NULL, "\n")) {
                        sscanf(l, "A: product=%255[^\n]", name);
                        sscanf(l, "A: idVendor=%7s", vid);
                        sscanf(l, "A: idProduct=%7s", pid);
                        sscanf(l, "A: serial=%255[^\n]", serial);
                        sscanf(l, "H: descriptors=%8191s", hex);
                }
                uint8_t bin[4096];
                int n = unhex(hex, bin, sizeof bin);
                assert_true(n > 0);
                struct usb_desc *d = malloc(sizeof *d);
                assert_int_equal(usbdesc_parse(bin, (size_t)n, d, NULL, 0), 0);
                char h[USB_HASH_B64];
                usbdesc_hash(name, vid, pid, serial, bin, d, h);
                assert_string_equal(h, want[k].hash);
                free(d);
        }
}

/* ---- decisions under the built-in default ---- */

struct fake {
        struct usb_device_info info;
        uint8_t raw[512];
};

static void fake_device(struct fake *f, uint16_t vid, uint16_t pid, uint8_t devclass, const uint8_t (*ifs)[3], size_t n,
                        bool controller) {
        memset(f, 0, sizeof *f);
        size_t len = build_desc(f->raw, vid, pid, devclass, ifs, n);
        f->info.ok = true;
        f->info.is_controller = controller;
        f->info.desc = malloc(sizeof *f->info.desc);
        assert_int_equal(usbdesc_parse(f->raw, len, f->info.desc, NULL, 0), 0);
        snprintf(f->info.vid, 5, "%04x", vid);
        snprintf(f->info.pid, 5, "%04x", pid);
        f->info.name = strdup("dev");
        f->info.serial = strdup("");
        f->info.connect_type = strdup("hotplug");
        f->info.port = strdup("1-1");
        usbdesc_hash(f->info.name, f->info.vid, f->info.pid, f->info.serial, f->raw, f->info.desc, f->info.hash);
}

static void decide(const struct usb_policy *p, const struct fake *f, struct usb_verdict *v) {
        usb_policy_decide(p, &f->info, v);
}

/* The plugin's default fragment, plugins/usb/default.yaml, as compiled into the embedded default. */
static void test_default_policy(void **state) {
        struct ptree *t = default_fragment("usb");
        assert_non_null(t);
        struct perrors errs = { 0 };
        struct usb_policy p;
        assert_int_equal(usb_policy_load(pmap_get(t->root, "usb"), &p, &errs), 0);
        perrors_clear(&errs);
        ptree_free(t);
        struct fake f;
        struct usb_verdict v;

        static const uint8_t kbd[][3] = { { 3, 1, 1 }, { 3, 0, 0 } };
        fake_device(&f, 0x046d, 0xc31c, 0, kbd, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        assert_true(usb_policy_interface_allowed(&v, &f.info, 1, 0));
        assert_true(usb_policy_interface_allowed(&v, &f.info, 1, 1));
        usb_device_info_done(&f.info);

        static const uint8_t stick[][3] = { { 8, 6, 0x50 } };
        fake_device(&f, 0x0781, 0x5567, 0, stick, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK);
        usb_device_info_done(&f.info);

        static const uint8_t badusb[][3] = { { 3, 1, 1 }, { 8, 6, 0x50 } };
        fake_device(&f, 0x1234, 0x5678, 0, badusb, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK); /* neither keyboard nor storage */
        assert_false(usb_policy_interface_allowed(&v, &f.info, 1, 0));
        usb_device_info_done(&f.info);

        static const uint8_t icc[][3] = { { 0x0b, 0, 0 } };
        fake_device(&f, 0x04e6, 0x5116, 0, icc, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        usb_device_info_done(&f.info);

        static const uint8_t hub[][3] = { { 9, 0, 0 } };
        fake_device(&f, 0x05e3, 0x0610, 9, hub, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        usb_device_info_done(&f.info);

        static const uint8_t fp[][3] = { { 0xff, 0, 0 } };
        fake_device(&f, 0x138a, 0x0097, 0xff, fp, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK); /* unknown class */
        assert_string_equal(v.reason, "default");
        usb_device_info_done(&f.info);

        /* keyboard with a vendor interface: keyboard yes, vendor interface no */
        static const uint8_t kbdff[][3] = { { 3, 1, 1 }, { 0xff, 0, 0 } };
        fake_device(&f, 0x1111, 0x2222, 0, kbdff, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        assert_true(usb_policy_interface_allowed(&v, &f.info, 1, 0));
        assert_false(usb_policy_interface_allowed(&v, &f.info, 1, 1));
        usb_device_info_done(&f.info);

        /* a device with a problem is blocked whatever the rules say */
        fake_device(&f, 0x046d, 0xc31c, 0, kbd, 2, false);
        f.info.ok = false;
        snprintf(f.info.problem, sizeof f.info.problem, "garbage");
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK);
        usb_device_info_done(&f.info);
        usb_policy_done(&p);
}

static int load_yaml(const char *yaml, struct usb_policy *p, struct perrors *errs) {
        struct ptree *t = NULL;
        int r = ptree_parse("test.yaml", yaml, strlen(yaml), &t, errs);
        if (r < 0)
                return r;
        r = usb_policy_load(pmap_get(t->root, "usb"), p, errs);
        ptree_free(t);
        return r;
}

static void test_policy_operators(void **state) {
        struct usb_policy p;
        struct perrors errs = { 0 };
        assert_int_equal(load_yaml("usb:\n"
                                   "  default: allow\n"
                                   "  rules:\n"
                                   "    - match with-interface one-of { 03:*:* }\n"
                                   "    - allow id 1234:5678 block-interfaces { 08:*:* }\n"
                                   "    - block with-interface all-of { 03:01:01 08:*:* }\n"
                                   "    - reject with-interface equals-ordered { 08:06:50 03:01:01 }\n"
                                   "    - block with-interface none-of { 03:*:* }\n",
                                   &p, &errs),
                         0);
        perrors_clear(&errs);
        struct fake f;
        struct usb_verdict v;
        static const uint8_t badusb[][3] = { { 3, 1, 1 }, { 8, 6, 0x50 } };
        fake_device(&f, 0x1234, 0x5678, 0, badusb, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        assert_int_equal(v.index, 1);
        assert_true(usb_policy_interface_allowed(&v, &f.info, 1, 0));  /* keyboard kept */
        assert_false(usb_policy_interface_allowed(&v, &f.info, 1, 1)); /* storage blocked */
        usb_device_info_done(&f.info);

        fake_device(&f, 0x9999, 0x5678, 0, badusb, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK);
        assert_int_equal(v.index, 2);
        usb_device_info_done(&f.info);

        static const uint8_t rev[][3] = { { 8, 6, 0x50 }, { 3, 1, 1 } };
        fake_device(&f, 0x9999, 0x5678, 0, rev, 2, false);
        decide(&p, &f, &v);
        assert_int_equal(v.index, 2); /* all-of ignores order */
        usb_device_info_done(&f.info);

        static const uint8_t stick[][3] = { { 8, 6, 0x50 } };
        fake_device(&f, 0x9999, 0x5678, 0, stick, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.index, 4); /* none-of 03 */
        usb_device_info_done(&f.info);

        static const uint8_t kbd[][3] = { { 3, 1, 1 } };
        fake_device(&f, 0x9999, 0x5678, 0, kbd, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW); /* match rule decides nothing: default allow */
        assert_string_equal(v.reason, "default");
        usb_device_info_done(&f.info);
        usb_policy_done(&p);

        /* upper-case ids never match, as in USBGuard, and check() warns */
        assert_int_equal(load_yaml("usb:\n  rules:\n    - allow id 046D:C31C\n", &p, &errs), 0);
        assert_non_null(errs.n ? strstr(errs.msgs[0], "upper-case") : NULL);
        perrors_clear(&errs);
        fake_device(&f, 0x046d, 0xc31c, 0, kbd, 1, false);
        decide(&p, &f, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK);
        usb_device_info_done(&f.info);
        usb_policy_done(&p);
}

/* The string attributes and ids, one at a time, against one device. */
static void test_attributes(void **state) {
        static const struct usb_iftype ifs[] = { { 3, 1, 1, USB_IF_MATCH_ALL }, { 3, 0, 0, USB_IF_MATCH_ALL } };
        struct usb_devinfo d = { .vid = "046d", .pid = "c31c", .name = "USB Keyboard", .serial = "SN1",
                                 .hash = "H=", .parent_hash = "P=", .port = "1-4.2", .connect_type = "hotplug",
                                 .ifs = ifs, .n_ifs = 2 };
        static const struct {
                const char *rule;
                bool match;
        } cases[] = {
                { "allow", true },
                { "allow id 046d:*", true },
                { "allow id *:*", true },
                { "allow id 046d:c31d", false },
                { "allow 046d:c31c", true },
                { "allow name \"USB Keyboard\"", true },
                { "allow name \"USB\"", false },
                { "allow serial one-of { \"x\" \"SN1\" }", true },
                { "allow serial none-of { \"x\" \"SN1\" }", false },
                { "allow hash \"H=\" parent-hash \"P=\"", true },
                { "allow parent-hash \"H=\"", false },
                { "allow via-port \"1-4.2\"", true },
                { "allow via-port \"1-4\"", false },
                { "allow with-connect-type \"hotplug\"", true },
                { "allow with-connect-type { \"hardwired\" \"unknown\" }", false },
                { "allow with-interface 03:01:01", false },                       /* equals: sizes differ */
                { "allow with-interface { 03:00:00 03:01:01 }", true },           /* equals ignores order */
                { "allow with-interface equals-ordered { 03:00:00 03:01:01 }", false },
                { "allow with-interface equals-ordered { 03:01:* 03:00:* }", true },
                { "allow with-interface all-of { 03:*:* }", true },
                { "allow with-interface one-of { 08:*:* 03:01:* }", true },
                { "allow with-interface match-all { 08:*:* }", true },
                { "allow label \"kept for people\" id 046d:c31c", true },
                { "allow id 046d:c31c key \"abc\" # trailing comment", true },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct usb_rule r;
                struct usbrule_error e;
                if (parse(cases[i].rule, &r, &e) != 0)
                        fail_msg("<%s> does not parse: %s", cases[i].rule, e.msg);
                if (usbrule_matches(&r, &d) != cases[i].match)
                        fail_msg("<%s> should %smatch", cases[i].rule, cases[i].match ? "" : "not ");
                usbrule_done(&r);
        }
}

static void test_policy_errors(void **state) {
        struct perrors errs = { 0 };
        struct ptree *t = NULL;
        const char *yaml = "usb:\n"
                           "  default: block\n"
                           "  rules:\n"
                           "    - allow id 1234:5678 if true\n"
                           "    - \"allow nmae \\\"x\\\"\"\n"
                           "  extra: 1\n";
        assert_int_equal(ptree_parse("p.yaml", yaml, strlen(yaml), &t, &errs), 0);
        size_t n = usb_policy_check(pmap_get(t->root, "usb"), &errs);
        assert_int_equal(n, 3);
        bool cond = false, quoted = false, unknown = false;
        for (size_t i = 0; i < errs.n; i++) {
                if (strstr(errs.msgs[i], "p.yaml:4:26: USB rule: conditions"))
                        cond = true;
                if (strstr(errs.msgs[i], "p.yaml:5:7: USB rule, column 7 of the rule: unknown attribute 'nmae'"))
                        quoted = true;
                if (strstr(errs.msgs[i], "p.yaml:6:"))
                        unknown = true;
        }
        if (!cond || !quoted || !unknown)
                for (size_t i = 0; i < errs.n; i++)
                        print_message("%s\n", errs.msgs[i]);
        assert_true(cond && quoted && unknown);
        perrors_clear(&errs);
        ptree_free(t);
        assert_int_equal(usb_policy_check(NULL, &errs), 0);
}

/* The register of approved media: identity, period, users, groups and terminals. */
static void test_register(void **state) {
        static const uint8_t stick[][3] = { { 8, 6, 0x50 } };
        struct fake f;
        fake_device(&f, 0x0781, 0x5567, 0, stick, 1, false);
        free(f.info.serial);
        f.info.serial = strdup("4C530001");
        usbdesc_hash(f.info.name, f.info.vid, f.info.pid, f.info.serial, f.raw, f.info.desc, f.info.hash);
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "usb:\n"
                 "  rules:\n"
                 "    - block with-interface one-of { 08:*:* }\n"
                 "  register:\n"
                 "    - name: wrong serial\n"
                 "      id: \"0781:5567\"\n"
                 "      serial: \"4C530002\"\n"
                 "      hash: \"%s\"\n"
                 "    - name: soumu-3\n"
                 "      id: \"0781:5567\"\n"
                 "      serial: \"4C530001\"\n"
                 "      hash: \"%s\"\n"
                 "      for:\n"
                 "        users: [tanaka]\n"
                 "        groups: [soumu]\n"
                 "        terminals: [f00dfeed, pc-soumu-12]\n"
                 "      expires: 2027-03-31\n"
                 "      read-only: true\n",
                 f.info.hash, f.info.hash);
        struct usb_policy p;
        struct perrors errs = { 0 };
        if (load_yaml(yaml, &p, &errs) != 0)
                fail_msg("%s", perrors_first(&errs));
        perrors_clear(&errs);
        assert_int_equal(p.n_reg, 2);
        assert_true(p.reg[1].read_only);
        assert_false(p.reg[0].read_only);

        char *terms[] = { "0123", "pc-soumu-12", NULL }, *groups[] = { "users", "soumu", NULL }, *none[] = { NULL };
        int64_t before = 0, after = 0;
        assert_int_equal(usb_parse_expiry("2027-03-31T23:59:59", &before), 0);
        assert_int_equal(usb_parse_expiry("2027-04-01T00:00", &after), 0);
        struct usb_who who = { .now = before, .user = "tanaka", .groups = none, .terminals = terms };
        struct usb_verdict v;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        assert_string_equal(v.reason, "register");
        assert_int_equal(v.entry_index, 1);
        assert_ptr_equal(v.entry, &p.reg[1]);
        assert_true(v.read_only);
        assert_true(usb_policy_interface_allowed(&v, &f.info, 1, 0));

        /* a member of the group, not named */
        who.user = "sato";
        who.groups = groups;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_int_equal(v.entry_index, 1);

        /* expired: the rules decide (storage blocked) */
        who.now = after;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_int_equal(v.target, USB_TARGET_BLOCK);
        assert_null(v.entry);
        assert_false(v.read_only);
        assert_int_equal(v.index, 0);
        char why[256];
        assert_non_null(strstr(usb_register_why_not(&p.reg[1], &who, why, sizeof why), "expired"));

        /* another user, another terminal, nobody */
        who.now = before;
        who.groups = none;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_null(v.entry);
        assert_non_null(strstr(usb_register_why_not(&p.reg[1], &who, why, sizeof why), "not sato"));
        who.user = "tanaka";
        who.terminals = none;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_null(v.entry);
        assert_non_null(strstr(usb_register_why_not(&p.reg[1], &who, why, sizeof why), "terminals"));
        usb_policy_decide(&p, &f.info, &v);
        assert_null(v.entry);

        /* the same stick with another hash (descriptors differ: a clone) */
        f.info.hash[0] = f.info.hash[0] == 'A' ? 'B' : 'A';
        who.terminals = terms;
        usb_policy_decide_for(&p, &f.info, &who, &v);
        assert_null(v.entry);
        usb_policy_done(&p);

        /* an entry for anyone, anywhere, forever */
        usbdesc_hash(f.info.name, f.info.vid, f.info.pid, f.info.serial, f.raw, f.info.desc, f.info.hash);
        snprintf(yaml, sizeof yaml,
                 "usb:\n  register:\n    - { name: any, id: \"0781:5567\", serial: \"4C530001\", hash: \"%s\" }\n",
                 f.info.hash);
        assert_int_equal(load_yaml(yaml, &p, &errs), 0);
        usb_policy_decide(&p, &f.info, &v);
        assert_int_equal(v.target, USB_TARGET_ALLOW);
        assert_false(v.read_only);
        usb_policy_done(&p);
        usb_device_info_done(&f.info);

        /* bad entries: each named with its line */
        const char *bad = "usb:\n"
                          "  register:\n"
                          "    - name: a\n"
                          "      id: \"0781:55G7\"\n"
                          "      serial: x\n"
                          "      hash: \"short=\"\n"
                          "      expires: 2027-02-30\n"
                          "      for: { people: [x] }\n"
                          "      read-only: maybe\n"
                          "    - id: \"0781:5567\"\n"
                          "    - just a string\n";
        struct ptree *t = NULL;
        assert_int_equal(ptree_parse("r.yaml", bad, strlen(bad), &t, &errs), 0);
        size_t n = usb_policy_check(pmap_get(t->root, "usb"), &errs);
        const char *want[] = { "r.yaml:4:", "r.yaml:6:", "r.yaml:7:", "people", "r.yaml:9:", "'name'", "r.yaml:11:" };
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
                bool found = false;
                for (size_t i = 0; i < errs.n && !found; i++)
                        found = strstr(errs.msgs[i], want[k]) != NULL;
                if (!found) {
                        for (size_t i = 0; i < errs.n; i++)
                                print_message("%s\n", errs.msgs[i]);
                        fail_msg("no error with %s", want[k]);
                }
        }
        assert_true(n >= 9);
        perrors_clear(&errs);
        ptree_free(t);
}

static void test_expiry(void **state) {
        int64_t t;
        assert_int_equal(usb_parse_expiry("2027-03-31T17:00:00+09:00", &t), 0);
        assert_int_equal(t, 1806480000);
        assert_int_equal(usb_parse_expiry("2027-03-31T08:00:00Z", &t), 0);
        assert_int_equal(t, 1806480000);
        setenv("TZ", "Asia/Tokyo", 1);
        tzset();
        assert_int_equal(usb_parse_expiry("2027-03-31T17:00", &t), 0);
        assert_int_equal(t, 1806480000);
        assert_int_equal(usb_parse_expiry("2027-03-31", &t), 0);
        assert_int_equal(t, 1806480000 + 7 * 3600); /* 2027-04-01T00:00+09:00 */
        assert_int_equal(usb_parse_expiry("2028-02-29", &t), 0);
        assert_int_equal(usb_parse_expiry("2027-12-31", &t), 0);
        const char *bad[] = { "2027-02-29", "2027-13-01", "2027-3-31", "2027-03-31T25:00", "tomorrow", "",
                              "2027-03-31 17:00", "+027-03-31", "2027-03-31T17:00:00+9" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (usb_parse_expiry(bad[i], &t) == 0)
                        fail_msg("%s accepted", bad[i]);
        unsetenv("TZ");
        tzset();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_basic),     cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_usbguard_good),   cmocka_unit_test(test_usbguard_bad),
                cmocka_unit_test(test_desc_parse),      cmocka_unit_test(test_hash_usbguard),
                cmocka_unit_test(test_default_policy),  cmocka_unit_test(test_policy_operators),
                cmocka_unit_test(test_attributes),      cmocka_unit_test(test_policy_errors),
                cmocka_unit_test(test_register),        cmocka_unit_test(test_expiry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
