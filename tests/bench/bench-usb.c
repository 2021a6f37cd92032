/* bench-usb.c — prints insert-to-authorized latency (p50/p99 over 1000 inserts), a 10000-insert burst rate with a lost-event count, and RSS, for the usb plugin on a umockdev testbed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <umockdev.h>
#include <unistd.h>

#include "plugin.h"
#include "stub-core.h"
#include "uevent-sender.h"
#include "usbctl.h"
#include "util.h"

/* The plugin runs in this process with a stub core (no audit file, no bus),
 * fed kernel-format uevents by tests/unit/uevent-sender.c. Latency is
 * measured from the moment the "add" uevent was sent to the moment the plugin has written
 * "authorized"; the clock stops when the written value is read back. */

extern const struct sekisho_plugin sekisho_plugin_usb;
static struct sekisho_plugin_handle *core;

static UMockdevTestbed *tb;
static char *root, *tbdir;

static void keyboard_desc(uint8_t *d, size_t *n) {
        static const uint8_t kbd[] = {
                18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x6d, 0x04, 0x1c, 0xc3, 0x00, 0x01, 1, 2, 0, 1,   /* device */
                9,  2, 34,   0,    1, 1, 0, 0x80, 50,                                               /* config */
                9,  4, 0,    0,    1, 3, 1, 1,    0,                                                /* 03:01:01 */
                9,  0x21, 0x11, 0x01, 0, 1, 0x22, 0x41, 0,                                          /* HID */
                7,  5, 0x81, 3,    8, 0, 10,                                                        /* endpoint */
        };
        memcpy(d, kbd, sizeof kbd);
        *n = sizeof kbd;
}

static char *add_keyboard(const char *name) {
        uint8_t d[64];
        size_t n;
        keyboard_desc(d, &n);
        char *p = umockdev_testbed_add_device(tb, "usb", name, root, "authorized", "0", "idVendor", "046d",
                                              "idProduct", "c31c", "product", "USB Keyboard", NULL, "DEVTYPE",
                                              "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(tb, p, "descriptors", d, (gssize)n);
        uevent_send(tbdir, p, "add"); /* the kernel's uevent: what the plugin listens to */
        return p;
}

static bool authorized_is(const char *syspath, char want) {
        char path[512];
        snprintf(path, sizeof path, "%s/authorized", syspath);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        int c = fgetc(f);
        fclose(f);
        return c == want;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static long rss_kib(void) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

int main(int argc, char **argv) {
        int rr = umockdev_reexec("bench-usb", argc, argv);
        if (rr)
                return rr;
        unsigned inserts = argc > 1 ? (unsigned)atoi(argv[1]) : 1000, burst = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
        log_setup("bench-usb", false);
        if (!getenv("VERBOSE") && !freopen("/dev/null", "w", stderr))
                return 1; /* one log line per decision would measure the terminal */
        tb = umockdev_testbed_new();
        tbdir = umockdev_testbed_get_root_dir(tb);
        char *pci = umockdev_testbed_add_device(tb, "pci", "0000:00:14.0", NULL, NULL, NULL);
        uint8_t rd[] = { 18, 1, 0, 2, 9, 0, 1, 64, 0x6b, 0x1d, 2, 0, 0, 1, 3, 2, 1, 1,
                         9,  2, 25, 0, 1, 1, 0, 0xe0, 0, 9, 4, 0, 0, 1, 9, 0, 0, 0, 7, 5, 0x81, 3, 4, 0, 12 };
        root = umockdev_testbed_add_device(tb, "usb", "usb1", pci, "authorized", "1", "authorized_default", "1",
                                           "idVendor", "1d6b", "idProduct", "0002", NULL, "DEVTYPE", "usb_device",
                                           NULL);
        umockdev_testbed_set_attribute_binary(tb, root, "descriptors", rd, sizeof rd);

        if (stub_core_new(&sekisho_plugin_usb, "/nonexistent", NULL, &core) < 0)
                return 1;
        /* The keyboards it inserts are allowed by a rule, as under the embedded default. */
        static const char policy[] = "usb:\n  default: block\n  rules:\n    - allow with-interface one-of { 03:*:* }\n";
        struct ptree *pt = NULL;
        struct perrors errs = { 0 };
        core->no_records = true;
        void *st;
        if (ptree_parse("bench.yaml", policy, sizeof policy - 1, &pt, &errs) < 0 ||
            sekisho_plugin_usb.init(core, &st) < 0 || sekisho_plugin_usb.apply(st, pmap_get(pt->root, "usb")) < 0)
                return 1;
        ptree_free(pt);
        long rss_start = rss_kib();
        size_t heap_start = mallinfo2().uordblks;

        /* 1. insert -> authorized written, one device at a time */
        uint64_t *lat = calloc(inserts, sizeof *lat);
        unsigned lost = 0;
        for (unsigned i = 0; i < inserts; i++) {
                char *p = add_keyboard("1-1");
                uint64_t t0 = now_usec_monotonic();
                bool done = false;
                for (int k = 0; k < 1000 && !done; k++) {
                        loop_iterate(core->loop, 100);
                        done = authorized_is(p, '1');
                }
                lat[i] = now_usec_monotonic() - t0;
                if (!done)
                        lost++;
                uevent_send(tbdir, p, "remove");
                umockdev_testbed_remove_device(tb, p);
                while (loop_iterate(core->loop, 0) > 0)
                        ;
                g_free(p);
        }
        qsort(lat, inserts, sizeof *lat, cmp_u64);
        printf("usb insert->authorized over %u inserts: p50 %.3f ms  p99 %.3f ms  max %.3f ms  (not decided: %u)\n",
               inserts, lat[inserts / 2] / 1000.0, lat[inserts * 99 / 100] / 1000.0, lat[inserts - 1] / 1000.0,
               lost);
        free(lat);

        /* 2. a burst, in this one thread: chunks of 4 devices (each also announced by umockdev in
         * udevd's format, which aborts when the socket queue of net.unix.max_dgram_qlen, 10 by
         * default, is full), each chunk drained before the next; the plugin time is what the
         * loop spends dispatching. bench-usb-vs has the storm with a separate waiting sender. */
        char **paths = calloc(burst, sizeof *paths);
        uint64_t plugin_us = 0, t_start = now_usec_monotonic();
        for (unsigned i = 0; i < burst; i++) {
                char name[32];
                snprintf(name, sizeof name, "1-%u", i + 2);
                paths[i] = add_keyboard(name);
                if (i % 4 == 3 || i + 1 == burst) {
                        uint64_t t = now_usec_monotonic();
                        while (loop_iterate(core->loop, 0) > 0)
                                ;
                        plugin_us += now_usec_monotonic() - t;
                }
        }
        uint64_t t = now_usec_monotonic();
        while (loop_iterate(core->loop, 200) > 0)
                ;
        plugin_us += now_usec_monotonic() - t;
        uint64_t total_us = now_usec_monotonic() - t_start;
        unsigned missing = 0;
        for (unsigned i = 0; i < burst; i++)
                if (!authorized_is(paths[i], '1'))
                        missing++;
        struct kvlist kv = { 0 };
        sekisho_plugin_usb.status(st, &kv);
        char events[32] = "?", tracked[32] = "?";
        for (size_t i = 0; i < kv.n; i++) {
                if (strcmp(kv.keys[i], "events") == 0)
                        snprintf(events, sizeof events, "%s", kv.values[i]);
                if (strcmp(kv.keys[i], "devices-attached") == 0)
                        snprintf(tracked, sizeof tracked, "%s", kv.values[i]);
        }
        printf("usb burst of %u inserts: plugin busy %.1f ms = %.0f events/s (wall %.1f ms with the testbed creating "
               "devices), events seen %s, not decided: %u\n",
               burst, plugin_us / 1000.0, burst / ((double)plugin_us / 1e6), total_us / 1000.0, events, missing);
        kvlist_clear(&kv);
        unsigned fds = 0;
        DIR *fdd = opendir("/proc/self/fd");
        while (fdd && readdir(fdd))
                fds++;
        if (fdd)
                closedir(fdd);
        printf("usb open fds after the run: %u\n", fds > 2 ? fds - 2 : fds);
        printf("usb heap in use: %zu KiB after start, %zu KiB after the burst (malloc'd by the plugin, libudev and the "
               "testbed; %s devices tracked)\n",
               heap_start / 1024, mallinfo2().uordblks / 1024, tracked);
        printf("usb RSS: %ld KiB at start, %ld KiB after the burst (whole test process: umockdev, GLib and libudev "
               "included)\n",
               rss_start, rss_kib());
        sekisho_plugin_usb.shutdown(st);
        for (unsigned i = 0; i < burst; i++)
                g_free(paths[i]);
        free(paths);
        stub_core_free(core);
        g_object_unref(tb);
        return 0;
}
