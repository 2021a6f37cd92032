/* test-travel-policy.c — the travel: section: schema and semantic checks (regions, trips, pins, plan), parsing, and the state/plan file formats. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "ptree.h"
#include "travel.h"
#include "util.h"

#define PIN_B64 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static const char good[] =
        "travel:\n"
        "  high-risk-regions: [CN, RU, KP]\n"
        "  profile: travel\n"
        "  trips:\n"
        "    - id: trip-1\n"
        "      destination: CN\n"
        "      start: 2026-12-01T00:00:00+09:00\n"
        "      end: 2026-12-10T00:00:00+09:00\n"
        "    - id: trip-2\n"
        "      destination: FR\n"
        "      start: 2026-12-10T00:00:00+09:00\n"
        "      end: 2026-12-20T00:00:00+09:00\n"
        "  return:\n"
        "    reset: true\n"
        "    grace: 24h\n"
        "    home-server: 192.0.2.10:443\n"
        "    server-name: home.example.lg.jp\n"
        "    spki-sha256: " PIN_B64 "\n"
        "  reset-plan:\n"
        "    luks-volumes: [/dev/disk/by-partlabel/home]\n"
        "    credentials: [/etc/NetworkManager/system-connections, /etc/sekisho/enroll.key]\n"
        "    wipe-directories: [/var/cache/sekisho-user]\n"
        "    restore: [/usr/bin/systemd-repart, --factory-reset=yes]\n"
        "    reboot: true\n";

/* Parse a document and check its travel: section; returns the error count
 * and leaves the first message in first (if any). */
static size_t check_doc(const char *doc, char *first, size_t first_size) {
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        assert_int_equal(ptree_parse("test.yaml", doc, strlen(doc), &t, &errs), 0);
        size_t n = travel_policy_check(pmap_get(t->root, "travel"), &errs);
        if (first)
                snprintf(first, first_size, "%s", perrors_first(&errs) ? perrors_first(&errs) : "");
        perrors_clear(&errs);
        ptree_free(t);
        return n;
}

static void expect_error(const char *doc, const char *needle) {
        char first[512];
        size_t n = check_doc(doc, first, sizeof first);
        if (n == 0 || !strstr(first, needle))
                fail_msg("expected an error containing '%s', got %zu errors, first: %s", needle, n, first);
}

static void test_good(void **state) {
        char first[512];
        assert_int_equal(check_doc(good, first, sizeof first), 0);

        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        assert_int_equal(ptree_parse("test.yaml", good, strlen(good), &t, &errs), 0);
        struct travel_policy p;
        assert_int_equal(travel_policy_parse(pmap_get(t->root, "travel"), &p), 0);
        assert_int_equal(p.n_regions, 3);
        assert_int_equal(p.n_trips, 2);
        assert_true(p.trips[0].high_risk);
        assert_false(p.trips[1].high_risk);
        assert_true(p.reset);
        assert_int_equal(p.grace, 86400);
        assert_true(p.have_pin);
        assert_string_equal(p.server, "192.0.2.10:443");
        assert_int_equal(p.plan.n_volumes, 1);
        assert_int_equal(p.plan.n_credentials, 2);
        assert_int_equal(p.plan.n_restore, 2);
        assert_true(p.plan.reboot);
        assert_string_equal(p.profile, "travel");
        travel_policy_clear(&p);
        ptree_free(t);
}

static void test_absent_is_strict(void **state) {
        struct travel_policy p;
        assert_int_equal(travel_policy_parse(NULL, &p), 0);
        assert_int_equal(p.n_trips, 0);
        assert_false(p.reset);
        assert_string_equal(p.profile, "travel");
        travel_policy_clear(&p);
}

static void test_unknown_region(void **state) {
        expect_error("travel:\n  high-risk-regions: [CN, XX]\n", "test.yaml:2:27: unknown region code 'XX'");
        expect_error("travel:\n  high-risk-regions: [cn]\n", "unknown region code 'cn'");
        expect_error("travel:\n  high-risk-regions: [UK]\n", "unknown region code 'UK'");
        expect_error("travel:\n  trips:\n    - {id: a, destination: ZZ, start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}\n",
                     "unknown region code 'ZZ'");
}

static void test_overlap(void **state) {
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: 2026-01-01T00:00:00Z, end: 2026-01-10T00:00:00Z}\n"
                     "    - {id: b, destination: FR, start: 2026-01-09T00:00:00+09:00, end: 2026-01-12T00:00:00Z}\n",
                     "trip 'b' overlaps trip 'a'");
        /* back to back is fine; a cancelled trip does not overlap */
        assert_int_equal(check_doc("travel:\n  trips:\n"
                                   "    - {id: a, destination: CN, start: 2026-01-01T00:00:00Z, end: 2026-01-10T00:00:00Z}\n"
                                   "    - {id: b, destination: FR, start: 2026-01-10T00:00:00Z, end: 2026-01-12T00:00:00Z}\n"
                                   "    - {id: c, destination: FR, start: 2026-01-05T00:00:00Z, end: 2026-01-06T00:00:00Z, cancelled: true}\n",
                                   NULL, 0),
                         0);
}

static void test_end_before_start(void **state) {
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: 2026-01-10T00:00:00Z, end: 2026-01-01T00:00:00Z}\n",
                     "trip 'a' ends before it starts");
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: 2026-01-10T00:00:00Z, end: 2026-01-10T00:00:00Z}\n",
                     "ends before it starts");
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: 2026-01-10T00:00:00Z, end: 2028-01-10T00:00:00Z}\n",
                     "longer than 366 days");
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: yesterday, end: 2026-01-10T00:00:00Z}\n",
                     "test.yaml:3:");
}

static void test_bad_keys_and_ids(void **state) {
        expect_error("travel:\n  tripz: []\n", "unknown key 'tripz'");
        expect_error("travel:\n  trips:\n    - {id: 'a b', destination: CN, start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}\n",
                     "invalid trip id");
        expect_error("travel:\n  trips:\n    - {destination: CN, start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}\n",
                     "missing required key 'id'");
        expect_error("travel:\n  trips:\n"
                     "    - {id: a, destination: CN, start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}\n"
                     "    - {id: a, destination: CN, start: 2026-02-01T00:00:00Z, end: 2026-02-02T00:00:00Z}\n",
                     "duplicate trip id 'a'");
}

static void test_return_section(void **state) {
        expect_error("travel:\n  return: {reset: true}\n", "reset: true needs home-server and spki-sha256");
        expect_error("travel:\n  return: {reset: true, home-server: '192.0.2.1:443', spki-sha256: '" PIN_B64 "'}\n",
                     "reset: true needs a reset-plan");
        expect_error("travel:\n  return: {reset: true, home-server: '192.0.2.1:443', spki-sha256: '" PIN_B64 "'}\n"
                     "  reset-plan: {wipe-directories: [/srv/x]}\n",
                     "needs luks-volumes, a restore action or a root-volume");
        expect_error("travel:\n  return: {home-server: 'home.example:443'}\n", "invalid home-server");
        expect_error("travel:\n  return: {home-server: '192.0.2.1:0'}\n", "invalid home-server");
        expect_error("travel:\n  return: {spki-sha256: 'abcd'}\n", "invalid spki-sha256");
        expect_error("travel:\n  return: {grace: 'soon'}\n", "invalid duration 'soon'");
        expect_error("travel:\n  return: {probe-interval: '1s'}\n", "invalid probe interval");
        assert_int_equal(check_doc("travel:\n  return: {home-server: '[2001:db8::1]:8443'}\n", NULL, 0), 0);
}

static void test_plan_paths(void **state) {
        expect_error("travel:\n  reset-plan: {wipe-directories: [/]}\n", "refusing to remove or wipe the system directory '/'");
        expect_error("travel:\n  reset-plan: {wipe-directories: [/etc/]}\n", "refusing to remove or wipe");
        expect_error("travel:\n  reset-plan: {credentials: [/]}\n", "refusing to remove or wipe the system directory '/'");
        expect_error("travel:\n  reset-plan: {credentials: [/var/lib]}\n", "refusing to remove or wipe");
        expect_error("travel:\n  reset-plan: {wipe-directories: [/home/../etc]}\n", "not a clean absolute path");
        expect_error("travel:\n  reset-plan: {credentials: [relative/path]}\n", "not a clean absolute path");
        expect_error("travel:\n  reset-plan: {restore: [systemd-repart]}\n", "absolute program path");
        /* the whole-machine reset */
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2}\n", "root-volume needs restore-image or factory-reset");
        expect_error("travel:\n  reset-plan: {root-volume: 'PARTLABEL=a b', factory-reset: systemd-repart}\n",
                     "neither a clean absolute device path nor PARTLABEL=label");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, restore-image: /boot/f.img, factory-reset: systemd-repart}\n",
                     "exclude each other");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, restore-image: /boot/f.img, journal-dir: /boot}\n",
                     "journal-dir '/boot' must be");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, factory-reset: mkfs}\n", "factory-reset 'mkfs' is unknown");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, factory-reset: systemd-repart, drive-erase: maybe}\n",
                     "drive-erase 'maybe' is unknown");
        expect_error("travel:\n  reset-plan: {restore-image: /boot/f.img}\n", "belong to a root-volume reset");
        /* what the initramfs cannot reach, and one volume named twice (found at the merge of both halves) */
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, restore-image: /srv/f.img}\n",
                     "restore-image '/srv/f.img' must be below /boot");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, restore-image: /boot/f.img, journal-dir: /var/reset}\n",
                     "journal-dir '/var/reset' must be below /boot");
        expect_error("travel:\n  reset-plan: {root-volume: /dev/vda2, restore-image: /boot/f.img, luks-volumes: [/dev/vda2]}\n",
                     "is the root-volume");
        assert_int_equal(check_doc("travel:\n  reset-plan: {root-volume: PARTLABEL=root, restore-image: /boot/sekisho-reset/f.img}\n",
                                   NULL, 0), 0);
}

/* A plan must not erase what the reset itself needs: its state directory
 * (plan and journal), /boot (kernel and initramfs), its restore files. */
static void test_plan_dependencies(void **state) {
        expect_error("travel:\n  reset-plan:\n    wipe-directories: [/srv/ok, /boot/efi]\n",
                     "test.yaml:3:33: erasing '/boot/efi' would erase the kernel and initramfs (/boot)");
        expect_error("travel:\n  reset-plan: {credentials: [" LOCALSTATEDIR "/lib/sekisho/travel]}\n",
                     "would erase the state directory (the reset's plan and journal)");
        expect_error("travel:\n  reset-plan: {wipe-directories: [" LOCALSTATEDIR "/lib/sekisho]}\n",
                     "the state directory");
        expect_error("travel:\n  reset-plan: {wipe-directories: [/srv/images], restore: [/usr/sbin/restore, /srv/images/factory.img]}\n",
                     "erasing '/srv/images' would erase a file of the restore action (/srv/images/factory.img)");
        expect_error("travel:\n  reset-plan: {wipe-directories: [/opt/tools], restore: [/opt/tools/restore]}\n",
                     "would erase the restore program (/opt/tools/restore)");
        /* lexically, by whole components: a sibling with a longer name is fine */
        assert_int_equal(check_doc("travel:\n  reset-plan: {wipe-directories: [/srv/image, /bootx], restore: [/srv/images/r]}\n",
                                   NULL, 0), 0);
        /* the hand-over keys */
        expect_error("travel:\n  reset-plan: {ack-timeout: 25h}\n", "invalid ack-timeout '25h' (0 to 24h");
        expect_error("travel:\n  reset-plan: {ack-timeout: soon}\n", "invalid ack-timeout 'soon'");
        expect_error("travel:\n  reset-plan: {on-no-ack: wait}\n", "invalid on-no-ack 'wait' (proceed or hold)");
        expect_error("travel:\n  reset-plan: {contact: \"a\\tb\"}\n", "invalid contact");
        assert_int_equal(check_doc("travel:\n  reset-plan: {ack-timeout: 24h, on-no-ack: hold, contact: 情報政策課 内線1234}\n",
                                   NULL, 0), 0);

        /* a reset run from the initramfs keeps its journal elsewhere: then that is what must stay */
        struct reset_plan none = { 0 };
        struct reset_dependency deps[TRAVEL_MAX_DEPENDENCIES];
        size_t nd = reset_dependencies(&none, "/var/lib/sekisho", "/boot/sekisho-reset", "/srv/factory.img", deps);
        assert_null(reset_path_endangers("/var/lib/sekisho", deps, nd));
        assert_string_equal(reset_path_endangers("/srv", deps, nd)->what, "the restore image");
        assert_string_equal(reset_path_endangers("/boot/sekisho-reset/old", deps, nd)->what, "the reset journal's directory");

        /* the daemon's part: which block devices hold a path */
        assert_int_equal(path_on_device("/proc/self", makedev(7, 0), "/sys"), 0); /* no block device at all */
}

static void put(const char *dir, const char *rel, const char *text) {
        char p[512], cmd[1200];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", p);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

/* path_on_device over a fake sysfs: the file system of this test's
 * directory is on a partition (its disk is erased: that holds it too)
 * of a device-mapper device (LUKS) on a loop device on another one. */
static void test_device_stack(void **state) {
        char dir[] = "/tmp/test-travel-sysfs-XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        if (major(st.st_dev) == 0) {
                char cmd[600];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
                assert_int_equal(system(cmd), 0);
                skip(); /* an anonymous device (overlay, tmpfs): nothing to stack a fake on */
        }
        char link[256], target[256], rel[256];
        snprintf(target, sizeof target, "%s/devices/disk/part", dir);
        put(dir, "devices/disk/part/partition", "1\n");
        put(dir, "devices/disk/dev", "7:98\n");
        put(dir, "devices/disk/part/slaves/dm-7/dev", "7:96\n");
        put(dir, "dev/block/7:96/slaves/loop9/dev", "7:95\n");
        snprintf(link, sizeof link, "%s/dev/block/%u:%u", dir, major(st.st_dev), minor(st.st_dev));
        assert_int_equal(symlink(target, link), 0);
        snprintf(rel, sizeof rel, "%s/not/yet/there", dir); /* judged by the file system it would be on */
        assert_int_equal(path_on_device(dir, st.st_dev, dir), 1);       /* the device itself */
        assert_int_equal(path_on_device(rel, makedev(7, 98), dir), 1); /* the disk of the partition */
        assert_int_equal(path_on_device(dir, makedev(7, 96), dir), 1); /* dm's backing device */
        assert_int_equal(path_on_device(dir, makedev(7, 95), dir), 1); /* and the one below it */
        assert_int_equal(path_on_device(dir, makedev(7, 94), dir), 0); /* another device */

        /* volumes named where /dev holds no disks (PrivateDevices=): by sysfs */
        put(dir, "class/block/dm-3/dm/name", "sekisho-fake-root\n");
        put(dir, "class/block/dm-3/dev", "253:3\n");
        put(dir, "class/block/sekisho-fake-p3/uevent", "MAJOR=259\nMINOR=3\nPARTN=3\nPARTNAME=sekisho-fake-home\n");
        put(dir, "class/block/sekisho-fake-p3/dev", "259:3\n");
        dev_t dev;
        assert_int_equal(volume_devno("/dev/mapper/sekisho-fake-root", dir, &dev), 0);
        assert_true(dev == makedev(253, 3));
        assert_int_equal(volume_devno("/dev/disk/by-partlabel/sekisho-fake-home", dir, &dev), 0);
        assert_true(dev == makedev(259, 3));
        assert_int_equal(volume_devno("/dev/sekisho-fake-p3", dir, &dev), 0);
        assert_true(dev == makedev(259, 3));
        assert_int_equal(volume_devno("/dev/disk/by-uuid/0000", dir, &dev), -ENODEV);
        assert_int_equal(volume_devno("/proc/self/status", dir, &dev), -ENOTBLK);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_hand_over_fields(void **state) {
        struct travel_policy p;
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        const char doc[] = "travel:\n  reset-plan: {wipe-directories: [/srv/x], ack-timeout: 1h, on-no-ack: hold, contact: 情報政策課 内線1234}\n";
        assert_int_equal(ptree_parse("p.yaml", doc, strlen(doc), &t, &errs), 0);
        assert_int_equal(travel_policy_parse(pmap_get(t->root, "travel"), &p), 0);
        assert_int_equal(p.plan.ack_timeout, 3600);
        assert_true(p.plan.hold_without_ack);
        assert_string_equal(p.contact, "情報政策課 内線1234");
        strcpy(p.plan.reset_id, "0123456789abcdef0123456789abcdef");
        char *data;
        size_t size;
        assert_int_equal(reset_plan_format(&p.plan, "trip-1", &data, &size), 0);
        struct kvlist kv;
        assert_int_equal(kv_parse(data, size, &kv), 0);
        struct reset_plan q;
        assert_int_equal(reset_plan_from_kv(&kv, &q), 0);
        assert_string_equal(q.reset_id, "0123456789abcdef0123456789abcdef");
        assert_int_equal(q.ack_timeout, 3600);
        assert_true(q.hold_without_ack);
        struct reset_plan c;
        assert_int_equal(reset_plan_copy(&q, &c), 0);
        assert_string_equal(c.reset_id, q.reset_id);
        assert_int_equal(c.ack_timeout, 3600);
        reset_plan_clear(&c);
        reset_plan_clear(&q);
        kvlist_clear(&kv);
        free(data);
        /* defaults: 10 minutes, proceed; a bad id or timeout in a plan file is refused */
        travel_policy_clear(&p);
        assert_int_equal(travel_policy_parse(NULL, &p), 0);
        assert_int_equal(p.plan.ack_timeout, TRAVEL_DEFAULT_ACK_TIMEOUT);
        assert_false(p.plan.hold_without_ack);
        static const char *const bad[] = { "format=1\nreset-id=0123456789ABCDEF0123456789abcdef\n", "format=1\nreset-id=01\n",
                                           "format=1\nack-timeout=86401\n", "format=1\non-no-ack=maybe\n" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(kv_parse(bad[i], strlen(bad[i]), &kv), 0);
                assert_int_equal(reset_plan_from_kv(&kv, &q), -EBADMSG);
                kvlist_clear(&kv);
        }
        ptree_free(t);
}

static void test_small_parsers(void **state) {
        int64_t d;
        assert_int_equal(parse_duration("90s", &d), 0);
        assert_int_equal(d, 90);
        assert_int_equal(parse_duration("2d", &d), 0);
        assert_int_equal(d, 172800);
        assert_int_equal(parse_duration("0", &d), 0);
        assert_int_equal(d, 0);
        assert_int_equal(parse_duration("-1h", &d), -EINVAL);
        assert_int_equal(parse_duration("h", &d), -EINVAL);
        assert_int_equal(parse_duration("999d", &d), -EINVAL);
        uint8_t pin[32], pin2[32];
        assert_int_equal(parse_spki_pin(PIN_B64, pin), 0);
        assert_int_equal(parse_spki_pin("sha256//" PIN_B64, pin2), 0);
        assert_memory_equal(pin, pin2, 32);
        assert_int_equal(parse_spki_pin("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", pin2), 0);
        assert_memory_equal(pin, pin2, 32); /* both are SHA-256("") */
        assert_int_equal(parse_spki_pin("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", pin2), -EINVAL); /* stray bits */
        char host[64];
        uint16_t port;
        assert_int_equal(parse_host_port("[2001:db8::1]:443", host, sizeof host, &port), 0);
        assert_string_equal(host, "2001:db8::1");
        assert_int_equal(port, 443);
        assert_int_equal(parse_host_port("192.0.2.1", host, sizeof host, &port), -EINVAL);
        assert_int_equal(parse_host_port("192.0.2.1:70000", host, sizeof host, &port), -EINVAL);
        assert_true(iso3166_alpha2_valid("JP"));
        assert_false(iso3166_alpha2_valid("J"));
        assert_false(iso3166_alpha2_valid("EU"));
}

static void test_plan_roundtrip(void **state) {
        struct reset_plan p = { .reboot = false };
        p.volumes[p.n_volumes++] = strdup("/dev/loop7");
        p.wipe[p.n_wipe++] = strdup("/srv/data/user");
        p.restore[p.n_restore++] = strdup("/bin/true");
        p.restore[p.n_restore++] = strdup("with space");
        char *data;
        size_t size;
        assert_int_equal(reset_plan_format(&p, "trip-1", &data, &size), 0);
        struct kvlist kv;
        assert_int_equal(kv_parse(data, size, &kv), 0);
        assert_string_equal(kvlist_get(&kv, "trip"), "trip-1");
        struct reset_plan q;
        assert_int_equal(reset_plan_from_kv(&kv, &q), 0);
        assert_int_equal(q.n_volumes, 1);
        assert_string_equal(q.restore[1], "with space");
        assert_false(q.reboot);
        reset_plan_clear(&q);
        kvlist_clear(&kv);
        free(data);
        reset_plan_clear(&p);

        /* the root reset's fields survive the round trip, with their defaults */
        struct reset_plan r = { .reboot = true, .drive_erase = false };
        r.root_volume = strdup("PARTLABEL=root");
        r.restore_image = strdup("/boot/sekisho-reset/factory.img");
        assert_int_equal(reset_plan_format(&r, "trip-2", &data, &size), 0);
        assert_int_equal(kv_parse(data, size, &kv), 0);
        assert_string_equal(kvlist_get(&kv, "journal-dir"), TRAVEL_JOURNAL_DIR);
        assert_int_equal(reset_plan_from_kv(&kv, &q), 0);
        assert_string_equal(q.root_volume, "PARTLABEL=root");
        assert_string_equal(q.journal_dir, TRAVEL_JOURNAL_DIR);
        assert_string_equal(q.restore_image, "/boot/sekisho-reset/factory.img");
        assert_false(q.drive_erase);
        assert_false(q.factory_repart);
        reset_plan_clear(&q);
        kvlist_clear(&kv);
        free(data);
        reset_plan_clear(&r);
        const char both[] = "format=1\nroot-volume=/dev/vda2\nrestore-image=/boot/x\nfactory-reset=systemd-repart\n";
        assert_int_equal(kv_parse(both, sizeof both - 1, &kv), 0);
        assert_int_equal(reset_plan_from_kv(&kv, &q), -EBADMSG);
        kvlist_clear(&kv);
        const char none[] = "format=1\nroot-volume=/dev/vda2\n";
        assert_int_equal(kv_parse(none, sizeof none - 1, &kv), 0);
        assert_int_equal(reset_plan_from_kv(&kv, &q), -EBADMSG);
        kvlist_clear(&kv);

        /* a plan file naming "/" for wiping is refused even if someone wrote it by hand */
        const char bad[] = "format=1\nwipe-directory=/\n";
        assert_int_equal(kv_parse(bad, sizeof bad - 1, &kv), 0);
        assert_int_equal(reset_plan_from_kv(&kv, &q), -EBADMSG);
        kvlist_clear(&kv);
        const char ctl[] = "format=1\ncredential=/a\x01\n";
        assert_int_equal(kv_parse(ctl, sizeof ctl - 1, &kv), -EBADMSG);
        const char nokey[] = "=x\n";
        assert_int_equal(kv_parse(nokey, sizeof nokey - 1, &kv), -EBADMSG);
}

static void test_state_roundtrip(void **state) {
        struct travel_state s, t;
        travel_state_init(&s);
        s.phase = TRAVEL_RESET_PENDING;
        strcpy(s.trip, "trip-1");
        strcpy(s.destination, "CN");
        s.high_risk = true;
        s.trip_end = 100;
        s.since = 200;
        s.deadline = 300;
        s.last_wall = 250;
        s.reset_requested = true;
        strcpy(s.done[s.n_done++], "old-trip");
        strcpy(s.reset_id, "fedcba9876543210fedcba9876543210");
        strcpy(s.return_proof, "pinned-tls");
        char *data;
        size_t size;
        assert_int_equal(travel_state_format(&s, &data, &size), 0);
        struct kvlist kv;
        assert_int_equal(kv_parse(data, size, &kv), 0);
        assert_int_equal(travel_state_from_kv(&kv, &t), 0);
        assert_int_equal(t.phase, TRAVEL_RESET_PENDING);
        assert_string_equal(t.trip, "trip-1");
        assert_true(t.high_risk);
        assert_int_equal(t.deadline, 300);
        assert_true(t.reset_requested);
        assert_int_equal(t.n_done, 1);
        assert_string_equal(t.reset_id, "fedcba9876543210fedcba9876543210");
        assert_string_equal(t.return_proof, "pinned-tls");
        kvlist_clear(&kv);
        free(data);

        /* a hostile reason (a D-Bus error text) cannot inject lines or break UTF-8 */
        strcpy(s.hold, "unit missing\nphase=home\xff\x01");
        assert_int_equal(travel_state_format(&s, &data, &size), 0);
        assert_int_equal(kv_parse(data, size, &kv), 0);
        assert_int_equal(travel_state_from_kv(&kv, &t), 0);
        assert_int_equal(t.phase, TRAVEL_RESET_PENDING);
        assert_string_equal(t.hold, "unit missing?phase=home??");
        kvlist_clear(&kv);
        free(data);

        const char nodeadline[] = "format=1\nphase=reset-pending\ntrip=a\ndestination=CN\ntrip-end=1\nsince=1\n";
        assert_int_equal(kv_parse(nodeadline, sizeof nodeadline - 1, &kv), 0);
        assert_int_equal(travel_state_from_kv(&kv, &t), -EBADMSG);
        kvlist_clear(&kv);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),           cmocka_unit_test(test_absent_is_strict),
                cmocka_unit_test(test_unknown_region), cmocka_unit_test(test_overlap),
                cmocka_unit_test(test_end_before_start), cmocka_unit_test(test_bad_keys_and_ids),
                cmocka_unit_test(test_return_section), cmocka_unit_test(test_plan_paths),
                cmocka_unit_test(test_small_parsers),  cmocka_unit_test(test_plan_roundtrip),
                cmocka_unit_test(test_state_roundtrip), cmocka_unit_test(test_plan_dependencies),
                cmocka_unit_test(test_hand_over_fields), cmocka_unit_test(test_device_stack),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
