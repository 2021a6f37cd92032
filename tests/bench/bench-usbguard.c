/* bench-usbguard.c — the other half of the USB benchmark: insert -> authorized latency of Debian's usbguard-daemon on its own umockdev testbed, for comparison with bench-usb. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

/* usbguard-daemon's umockdev backend (DeviceManagerBackend=umockdev) keeps
 * its own testbed and takes devices as umockdev definition files appearing
 * in $USBGUARD_UMOCKDEV_DEVICEDIR (inotify IN_CREATE), then sends itself the
 * "add" uevent and decides. This harness writes each definition (the
 * template with its port 1-1 renamed 1-N) beside that directory, hard-links
 * it in (so the file is complete when IN_CREATE fires), starts the clock at
 * the link, and stops it when the device's authorized file in usbguard's
 * testbed reads 1 (checked every 20 us). usbguard's backend does not remove
 * devices when their file goes, so devices accumulate (sekisho's bench-usb
 * removes each one). Usage:
 *   bench-usbguard DEVICEDIR TESTBED-ROOT DEFINITION-TEMPLATE N */

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int read_char(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        char c = 0;
        ssize_t k = read(fd, &c, 1);
        close(fd);
        return k == 1 ? c : -1;
}

static int cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: %s DEVICEDIR TESTBED-ROOT TEMPLATE N\n", argv[0]);
                return 2;
        }
        const char *devdir = argv[1], *root = argv[2], *tmpl = argv[3];
        unsigned n = (unsigned)atoi(argv[4]), lost = 0;
        static char tbuf[65536];
        FILE *tf = fopen(tmpl, "re");
        size_t tlen = tf ? fread(tbuf, 1, sizeof tbuf - 1, tf) : 0;
        if (tf)
                fclose(tf);
        char *slot = strstr(tbuf, "/usb1/1-1\n");
        if (!slot) {
                fprintf(stderr, "template must describe .../usb1/1-1\n");
                return 2;
        }
        uint64_t *lat = calloc(n, sizeof *lat);
        for (unsigned i = 0; i < n; i++) {
                char def[4200], link_path[4200], auth[4400];
                snprintf(def, sizeof def, "%s.%u", tmpl, i);
                snprintf(link_path, sizeof link_path, "%s/k%u.umockdev", devdir, i);
                snprintf(auth, sizeof auth, "%s/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%u/authorized", root, i + 2);
                FILE *f = fopen(def, "we");
                if (!f)
                        return 1;
                fwrite(tbuf, 1, (size_t)(slot - tbuf) + 6, f);
                fprintf(f, "1-%u", i + 2);
                fwrite(slot + 9, 1, tlen - (size_t)(slot + 9 - tbuf), f);
                fclose(f);
                uint64_t t0 = now_us();
                if (link(def, link_path) < 0) {
                        perror("link");
                        return 1;
                }
                int ok = 0;
                while (now_us() - t0 < 5000000) {
                        if (read_char(auth) == '1') {
                                ok = 1;
                                break;
                        }
                        usleep(20);
                }
                lat[i] = now_us() - t0;
                if (!ok)
                        lost++;
                unlink(def);
        }
        qsort(lat, n, sizeof *lat, cmp);
        printf("usbguard-daemon insert->authorized over %u inserts: p50 %.3f ms  p99 %.3f ms  max %.3f ms  (not "
               "decided: %u)\n",
               n, lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0, lat[n - 1] / 1000.0, lost);
        free(lat);
        return 0;
}
