/* sekisho-usb-early.c — the initramfs decider: while usbcore.authorized_default=0 holds, authorize only hubs and HID boot keyboards/mice, judged from raw descriptors, until sekishod takes over. */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Deliberately self-contained (no libudev, no libsodium): it runs in the
 * initramfs before udev has settled. */

static const char *sysfs = "/sys";

static ssize_t read_small(const char *dir, const char *name, uint8_t *buf, size_t max) {
        char path[4600];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return -ENAMETOOLONG;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t n = 0;
        while (n < max) {
                ssize_t k = read(fd, buf + n, max - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        close(fd);
        return (ssize_t)n;
}

static int write_small(const char *dir, const char *name, const char *value) {
        char path[4600];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return -ENAMETOOLONG;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = write(fd, value, strlen(value));
        int r = k == (ssize_t)strlen(value) ? 0 : -errno;
        close(fd);
        return r;
}

enum kind { OTHER, HUB, BOOT_HID };

/* Strict walk of device + configuration descriptors. A device qualifies
 * when every interface of every configuration is a hub (09), or every one
 * is HID (03) and at least one is a boot keyboard or mouse (03:01:01/02). */
static enum kind classify(const uint8_t *d, size_t n) {
        if (n < 18 || d[0] != 18 || d[1] != 1)
                return OTHER;
        size_t off = 18, n_if = 0;
        bool all_hub = true, all_hid = true, boot = false, have_cfg = false;
        while (off < n) {
                if (n - off < 2 || d[off] < 2 || d[off] > n - off)
                        return OTHER;
                uint8_t len = d[off], type = d[off + 1];
                if (type == 1)
                        return OTHER; /* second device descriptor */
                if (type == 2) {
                        if (len != 9)
                                return OTHER;
                        have_cfg = true;
                } else if (type == 4) {
                        if (len != 9 || !have_cfg)
                                return OTHER;
                        uint8_t cls = d[off + 5], sub = d[off + 6], proto = d[off + 7];
                        n_if++;
                        if (cls != 0x09)
                                all_hub = false;
                        if (cls != 0x03)
                                all_hid = false;
                        if (cls == 0x03 && sub == 0x01 && (proto == 1 || proto == 2))
                                boot = true;
                }
                off += len;
        }
        if (n_if == 0 || n_if > 64)
                return OTHER;
        if (all_hub)
                return HUB;
        if (all_hid && boot)
                return BOOT_HID;
        return OTHER;
}

static void scan(bool verbose) {
        char base[4096];
        snprintf(base, sizeof base, "%s/bus/usb/devices", sysfs);
        DIR *dir = opendir(base);
        if (!dir)
                return;
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
                        continue; /* interfaces have a ':' */
                char dev[4096 + 256 + 2];
                snprintf(dev, sizeof dev, "%s/%s", base, de->d_name);
                uint8_t v[8];
                if (strncmp(de->d_name, "usb", 3) == 0) {
                        /* a controller: hold new devices back */
                        write_small(dev, "authorized_default", "0");
                        continue;
                }
                ssize_t k = read_small(dev, "authorized", v, sizeof v);
                if (k < 1 || v[0] != '0')
                        continue;
                static uint8_t desc[65536 + 18];
                ssize_t n = read_small(dev, "descriptors", desc, sizeof desc);
                if (n < 0)
                        continue;
                enum kind c = classify(desc, (size_t)n);
                if (c == OTHER)
                        continue;
                int r = write_small(dev, "authorized", "1");
                if (verbose || r < 0)
                        fprintf(stderr, "sekisho-usb-early: %s %s: %s\n", de->d_name,
                                c == HUB ? "hub" : "boot keyboard/mouse", r < 0 ? strerror(-r) : "authorized");
        }
        closedir(dir);
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
        bool verbose = false;
        long watch = 0;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--verbose") == 0)
                        verbose = true;
                else if (strcmp(argv[i], "--watch") == 0 && i + 1 < argc)
                        watch = strtol(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--sysfs") == 0 && i + 1 < argc)
                        sysfs = argv[++i];
                else {
                        fprintf(stderr, "usage: %s [--verbose] [--watch SECONDS] [--sysfs DIR]\n"
                                        "Authorizes hubs and HID boot keyboards/mice only; everything else stays "
                                        "blocked for sekishod to decide.\n",
                                argv[0]);
                        return 2;
                }
        }
        scan(verbose);
        if (watch <= 0)
                return 0;
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        /* Wake on kernel uevents, not on a timer: rescan after each burst. */
        int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                fprintf(stderr, "sekisho-usb-early: no uevent socket (%s); one scan only\n", strerror(errno));
                return 0;
        }
        time_t end = time(NULL) + watch;
        while (!stop && time(NULL) < end) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, (int)((end - time(NULL)) * 1000));
                if (r <= 0)
                        continue;
                char buf[8192];
                while (recv(fd, buf, sizeof buf, 0) > 0)
                        ;
                scan(verbose);
        }
        close(fd);
        return 0;
}
