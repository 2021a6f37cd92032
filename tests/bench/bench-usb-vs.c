/* bench-usb-vs.c — side by side on ONE umockdev testbed: hot-plug to authorized-written latency, storms and a full hub, for several USB deciders fed the same kernel-format uevents by one blocking sender; prints figures and ratios. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include "uevent-sender.h"

/* Usage: bench-usb-vs BATCHES PER-BATCH STORMS NAME=COMMAND...
 * Each COMMAND is run by sh with LD_PRELOAD=libumockdev-preload and
 * UMOCKDEV_DIR set to the testbed: it sees the testbed as /sys and its
 * NETLINK_KOBJECT_UEVENT socket becomes one of the testbed's event* sockets,
 * which is how this harness tells the deciders apart and talks to one at a
 * time. The clock starts just before the uevent is sent and stops when
 * inotify reports the write to the device's authorized file (IN_MODIFY):
 * every decider writes its decision, block included. STORMS is a
 * comma-separated list of storm sizes. */

#define MAX_C 4

struct contender {
        const char *name, *cmd;
        pid_t pid;
        char *listener[2];           /* its event socket, NULL-terminated */
        uint64_t *lat[2];            /* [0] keyboard, [1] stick */
        size_t n[2];
        unsigned lost;
        uint64_t hub[16];
        size_t n_hub;
};

static char *root, *hub_parent;
static unsigned port_seq = 1;
static const char *kinds[2] = { "keyboard (allowed)", "stick (blocked)" };

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t make_desc(uint8_t *d, uint16_t vid, uint16_t pid, uint8_t devclass, uint8_t ifclass, uint8_t sub,
                        uint8_t proto) {
        uint8_t b[] = { 18, 1, 0x00, 0x02, devclass, 0, 0, 64, (uint8_t)vid, (uint8_t)(vid >> 8), (uint8_t)pid,
                        (uint8_t)(pid >> 8), 0x00, 0x01, 1, 2, 0, 1,
                        9, 2, 25, 0, 1, 1, 0, 0x80, 50,
                        9, 4, 0, 0, 1, ifclass, sub, proto, 0,
                        7, 5, 0x81, 3, 8, 0, 10 };
        memcpy(d, b, sizeof b);
        return sizeof b;
}

static char *add_device(const char *parent, const char *name, int kind) {
        uint8_t d[64];
        size_t n = kind == 0 ? make_desc(d, 0x046d, 0xc31c, 0, 3, 1, 1)
                 : kind == 1 ? make_desc(d, 0x0781, 0x5567, 0, 8, 6, 0x50)
                             : make_desc(d, 0x05e3, 0x0610, 9, 9, 0, 0);
        char *p = NULL;
        int r = testbed_add_usb(root, parent, name, d, n, "0", &p);
        if (r < 0) {
                fprintf(stderr, "bench-usb-vs: cannot add %s: %s\n", name, strerror(-r));
                exit(1);
        }
        return p;
}

static int watch(int in, const char *syspath) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s/authorized", root, syspath);
        return inotify_add_watch(in, path, IN_MODIFY);
}

/* Wait until every one of n watches fired once; returns the time of the last, 0 when
 * timeout_ms passed without any of them firing. */
static uint64_t wait_all(int in, int *wds, size_t n, unsigned timeout_ms, size_t *ret_seen) {
        bool *seen = calloc(n, sizeof *seen);
        size_t left = n;
        uint64_t last = 0, deadline = now_us() + (uint64_t)timeout_ms * 1000;
        char buf[65536] __attribute__((aligned(8)));
        while (left > 0 && now_us() < deadline) {
                struct pollfd p = { .fd = in, .events = POLLIN };
                if (poll(&p, 1, (int)((deadline - now_us()) / 1000) + 1) <= 0)
                        continue;
                ssize_t k = read(in, buf, sizeof buf);
                uint64_t t = now_us();
                for (ssize_t o = 0; k > 0 && o < k;) {
                        struct inotify_event *e = (struct inotify_event *)(buf + o);
                        o += (ssize_t)sizeof *e + e->len;
                        /* wds are handed out in order: find it */
                        for (size_t i = 0; i < n; i++)
                                if (wds[i] == e->wd && !seen[i]) {
                                        seen[i] = true;
                                        left--;
                                        last = t;
                                        deadline = t + (uint64_t)timeout_ms * 1000;
                                        break;
                                }
                }
        }
        free(seen);
        if (ret_seen)
                *ret_seen = n - left;
        return left == 0 ? last : 0;
}

static void plug(struct contender *c, int in, int kind) {
        char name[32];
        snprintf(name, sizeof name, "1-%u", port_seq++);
        char *p = add_device(hub_parent, name, kind);
        int wd = watch(in, p);
        char msg[1024];
        int len = uevent_format(root, p, "add", msg, sizeof msg);
        uint64_t t0 = now_us();
        if (len < 0 || uevent_send_raw(c->listener, msg, (size_t)len) != 1) {
                fprintf(stderr, "bench-usb-vs: cannot send to %s\n", c->name);
                exit(1);
        }
        uint64_t t1 = wait_all(in, &wd, 1, 5000, NULL);
        if (t1)
                c->lat[kind][c->n[kind]++] = t1 - t0;
        else
                c->lost++;
        inotify_rm_watch(in, wd);
        free(p);
}

/* A hub and 7 keyboards behind it, announced back to back: time until all 8 are decided. */
static void hub7(struct contender *c, int in) {
        char name[32], *paths[8];
        int wds[8];
        snprintf(name, sizeof name, "1-%u", port_seq++);
        paths[0] = add_device(hub_parent, name, 2);
        for (int i = 1; i < 8; i++) {
                char child[48];
                snprintf(child, sizeof child, "%s.%d", name, i);
                paths[i] = add_device(paths[0], child, 0);
        }
        char msgs[8][1024];
        int lens[8];
        for (int i = 0; i < 8; i++) {
                wds[i] = watch(in, paths[i]);
                lens[i] = uevent_format(root, paths[i], "add", msgs[i], sizeof msgs[i]);
        }
        uint64_t t0 = now_us();
        for (int i = 0; i < 8; i++)
                uevent_send_raw(c->listener, msgs[i], (size_t)lens[i]);
        uint64_t t1 = wait_all(in, wds, 8, 10000, NULL);
        if (t1 && c->n_hub < 16)
                c->hub[c->n_hub++] = t1 - t0;
        for (int i = 0; i < 8; i++) {
                inotify_rm_watch(in, wds[i]);
                free(paths[i]);
        }
}

/* n keyboards at once, from a sender process that waits whenever the queue is full. */
static void storm(struct contender *c, int in, unsigned n, double *ret_rate, size_t *ret_undecided) {
        char **paths = calloc(n, sizeof *paths), *msgs = malloc((size_t)n * 512);
        int *wds = calloc(n, sizeof *wds), *lens = calloc(n, sizeof *lens);
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof name, "1-%u", port_seq++);
                paths[i] = add_device(hub_parent, name, 0);
                wds[i] = watch(in, paths[i]);
                lens[i] = uevent_format(root, paths[i], "add", msgs + (size_t)i * 512, 512);
        }
        uint64_t t0 = now_us();
        pid_t pid = fork();
        if (pid == 0) {
                for (unsigned i = 0; i < n; i++)
                        if (uevent_send_raw(c->listener, msgs + (size_t)i * 512, (size_t)lens[i]) != 1)
                                _exit(1);
                _exit(0);
        }
        size_t seen = 0;
        uint64_t t1 = wait_all(in, wds, n, 30000, &seen);
        waitpid(pid, NULL, 0);
        size_t undecided = 0;
        for (unsigned i = 0; i < n; i++) {
                char path[4200], v = 0;
                snprintf(path, sizeof path, "%s%s/authorized", root, paths[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || read(fd, &v, 1) != 1 || v != '1')
                        undecided++;
                if (fd >= 0)
                        close(fd);
                inotify_rm_watch(in, wds[i]);
                testbed_remove_usb(root, paths[i]);
                free(paths[i]);
        }
        *ret_rate = t1 ? n / ((t1 - t0) / 1e6) : 0;
        *ret_undecided = undecided;
        free(paths), free(msgs), free(wds), free(lens);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, int p) {
        if (n == 0)
                return 0;
        size_t i = (n * (size_t)p + 99) / 100;
        return v[i ? i - 1 : 0] / 1000.0;
}

static char **listeners_now(void) {
        char **l = NULL;
        if (uevent_listeners(root, &l) < 0)
                exit(1);
        return l;
}

static bool listed(char **l, const char *p) {
        for (; l && *l; l++)
                if (strcmp(*l, p) == 0)
                        return true;
        return false;
}

static void start(struct contender *c) {
        char **before = listeners_now();
        c->pid = fork();
        if (c->pid == 0) {
                setenv("LD_PRELOAD", "libumockdev-preload.so.0", 1);
                setpgid(0, 0);
                execl("/bin/sh", "sh", "-c", c->cmd, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 3000 && !c->listener[0]; i++) {
                usleep(10000);
                char **now = listeners_now();
                for (char **p = now; *p; p++)
                        if (!listed(before, *p) && !c->listener[0])
                                c->listener[0] = strdup(*p);
                for (char **p = now; *p; p++)
                        free(*p);
                free(now);
                if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
                        fprintf(stderr, "bench-usb-vs: %s exited at start\n", c->name);
                        exit(1);
                }
        }
        for (char **p = before; *p; p++)
                free(*p);
        free(before);
        if (!c->listener[0]) {
                fprintf(stderr, "bench-usb-vs: %s never opened a uevent socket\n", c->name);
                exit(1);
        }
        usleep(1500000); /* let it finish starting (enumeration, policy) */
}

int main(int argc, char **argv) {
        if (argc < 5) {
                fprintf(stderr, "usage: %s BATCHES PER-BATCH STORMS NAME=COMMAND...\n", argv[0]);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        int rr = umockdev_reexec("bench-usb-vs", argc, argv);
        if (rr)
                return rr;
        unsigned batches = (unsigned)atoi(argv[1]), per = (unsigned)atoi(argv[2]);
        const char *storms = argv[3];
        struct contender c[MAX_C] = { 0 };
        size_t nc = 0;
        for (int i = 4; i < argc && nc < MAX_C; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq)
                        return 2;
                *eq = '\0';
                c[nc].name = argv[i];
                c[nc].cmd = eq + 1;
                c[nc].lat[0] = calloc(batches * per, sizeof(uint64_t));
                c[nc].lat[1] = calloc(batches * per, sizeof(uint64_t));
                nc++;
        }
        UMockdevTestbed *tb = umockdev_testbed_new();
        root = umockdev_testbed_get_root_dir(tb);
        char *pci = umockdev_testbed_add_device(tb, "pci", "0000:00:14.0", NULL, "class", "0x0c0330", NULL,
                                                "PCI_CLASS", "C0330", NULL);
        uint8_t rd[64];
        size_t rn = make_desc(rd, 0x1d6b, 0x0002, 9, 9, 0, 0);
        hub_parent = umockdev_testbed_add_device(tb, "usb", "usb1", pci, "authorized", "1", "authorized_default", "1",
                                                 "interface_authorized_default", "1", "idVendor", "1d6b", "idProduct",
                                                 "0002", "product", "xHCI Host Controller", NULL, "DEVTYPE",
                                                 "usb_device", NULL);
        umockdev_testbed_set_attribute_binary(tb, hub_parent, "descriptors", rd, (gssize)rn);
        printf("testbed %s; %zu deciders, each its own uevent socket on it; %u interleaved batches of %u hot-plugs "
               "(keyboard and stick alternating) per decider\n",
               root, nc, batches, per);
        for (size_t i = 0; i < nc; i++) {
                start(&c[i]);
                printf("  %-10s listens on %s\n", c[i].name, strrchr(c[i].listener[0], '/') + 1);
        }
        int in = inotify_init1(IN_CLOEXEC);
        /* warm-up: one of each per decider, not counted */
        for (size_t i = 0; i < nc; i++) {
                plug(&c[i], in, 0);
                plug(&c[i], in, 1);
                c[i].n[0] = c[i].n[1] = 0;
                c[i].lost = 0;
        }
        for (unsigned b = 0; b < batches; b++)
                for (size_t k = 0; k < nc; k++) {
                        struct contender *x = &c[(k + b) % nc]; /* rotate who goes first */
                        for (unsigned j = 0; j < per; j++) {
                                plug(x, in, (int)(j % 2));
                                usleep(5000); /* a person plugs devices far apart: let the reports finish */
                        }
                        for (int h = 0; h < 2; h++) {
                                hub7(x, in);
                                usleep(20000);
                        }
                }
        printf("\nhot-plug add uevent sent -> authorized written (ms)\n");
        printf("  %-10s %-20s %8s %8s %8s %8s %6s\n", "decider", "device", "p50", "p90", "p99", "max", "lost");
        for (size_t i = 0; i < nc; i++)
                for (int k = 0; k < 2; k++) {
                        qsort(c[i].lat[k], c[i].n[k], sizeof(uint64_t), cmp_u64);
                        printf("  %-10s %-20s %8.3f %8.3f %8.3f %8.3f %6u\n", c[i].name, kinds[k],
                               pct(c[i].lat[k], c[i].n[k], 50), pct(c[i].lat[k], c[i].n[k], 90),
                               pct(c[i].lat[k], c[i].n[k], 99), c[i].n[k] ? c[i].lat[k][c[i].n[k] - 1] / 1000.0 : 0,
                               k == 0 ? c[i].lost : 0);
                }
        printf("\nhub with 7 keyboards, announced back to back -> all 8 decided (ms)\n");
        for (size_t i = 0; i < nc; i++) {
                qsort(c[i].hub, c[i].n_hub, sizeof(uint64_t), cmp_u64);
                printf("  %-10s median %8.3f   max %8.3f   (%zu hubs)\n", c[i].name, pct(c[i].hub, c[i].n_hub, 50),
                       c[i].n_hub ? c[i].hub[c[i].n_hub - 1] / 1000.0 : 0, c[i].n_hub);
        }
        if (nc >= 2) {
                printf("\nratios (%s / other; at most 0.5 vs usbguard-daemon and 3 vs the floor is the goal)\n",
                       c[0].name);
                for (size_t i = 1; i < nc; i++)
                        for (int k = 0; k < 2; k++)
                                printf("  vs %-10s %-20s p50 %.2f   p99 %.2f\n", c[i].name, kinds[k],
                                       pct(c[0].lat[k], c[0].n[k], 50) / pct(c[i].lat[k], c[i].n[k], 50),
                                       pct(c[0].lat[k], c[0].n[k], 99) / pct(c[i].lat[k], c[i].n[k], 99));
        }
        printf("\nstorms: every device announced at once by one sender that waits when the queue is full\n");
        for (char *s = strdup(storms), *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
                for (size_t i = 0; i < nc; i++) {
                        double rate;
                        size_t undecided;
                        storm(&c[i], in, (unsigned)atoi(tok), &rate, &undecided);
                        printf("  %-10s %6s devices: %8.0f decisions/s   undecided %zu\n", c[i].name, tok, rate,
                               undecided);
                        fflush(stdout);
                }
        /* Each runs as PID 1 of its own namespace, which ignores SIGTERM without a handler of
         * its own: SIGKILL the whole process group after a grace period. */
        for (size_t i = 0; i < nc; i++)
                kill(-c[i].pid, SIGTERM);
        usleep(500000);
        for (size_t i = 0; i < nc; i++) {
                kill(-c[i].pid, SIGKILL);
                waitpid(c[i].pid, NULL, 0);
        }
        g_object_unref(tb);
        return 0;
}
