/* usb-bed.c — holds a umockdev USB testbed for integration tests and changes it on commands from stdin, shaped as a real kernel shows devices. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <umockdev.h>
#include <unistd.h>

#include "uevent-sender.h"

/* Protocol, one command per line, answered with "ok ..." or "error ...":
 *   dev NAME PARENT VID PID AUTH PRODUCT CC:SS:PP[,CC:SS:PP...]   a device with descriptors
 *   root NAME                                                     a controller (root hub)
 *   iface DEV N CC:SS:PP                                          an interface node (authorized 0)
 *   uevent NAME ACTION                                            the kernel's uevent (not udevd's)
 *   rm NAME
 * PARENT is a device NAME or "-" for the PCI controller. Started, it prints
 * "dir PATH" (the testbed root: read attributes below PATH/sys). */

#define MAX_NODES 512

static UMockdevTestbed *tb;
static struct {
        char name[160];
        char *path;
} nodes[MAX_NODES];
static unsigned n_nodes;
static char *pci;

static const char *lookup(const char *name) {
        if (strcmp(name, "-") == 0)
                return pci;
        for (unsigned i = 0; i < n_nodes; i++)
                if (strcmp(nodes[i].name, name) == 0)
                        return nodes[i].path;
        return NULL;
}

static void remember(const char *name, char *path) {
        if (n_nodes < MAX_NODES) {
                snprintf(nodes[n_nodes].name, sizeof nodes[n_nodes].name, "%s", name);
                nodes[n_nodes++].path = path;
        }
}

static size_t build(uint8_t *d, unsigned vid, unsigned pid, unsigned devclass, const char *ifs) {
        size_t n = 0;
        uint8_t dev[18] = { 18, 1, 0, 2, (uint8_t)devclass, 0, 0, 64, (uint8_t)vid, (uint8_t)(vid >> 8), (uint8_t)pid,
                            (uint8_t)(pid >> 8), 0, 1, 1, 2, 0, 1 };
        memcpy(d, dev, 18);
        n = 18;
        size_t cfg = n;
        n += 9;
        unsigned k = 0;
        for (const char *p = ifs; p && *p && k < 32;) {
                unsigned c, s, pr;
                if (sscanf(p, "%2x:%2x:%2x", &c, &s, &pr) != 3)
                        break;
                uint8_t itf[9] = { 9, 4, (uint8_t)k, 0, 1, (uint8_t)c, (uint8_t)s, (uint8_t)pr, 0 };
                uint8_t ep[7] = { 7, 5, (uint8_t)(0x81 + k), 3, 8, 0, 10 };
                memcpy(d + n, itf, 9);
                memcpy(d + n + 9, ep, 7);
                n += 16;
                k++;
                p = strchr(p, ',');
                if (p)
                        p++;
        }
        uint8_t c9[9] = { 9, 2, (uint8_t)(n - cfg), (uint8_t)((n - cfg) >> 8), (uint8_t)k, 1, 0, 0x80, 50 };
        memcpy(d + cfg, c9, 9);
        return n;
}

int main(void) {
        tb = umockdev_testbed_new();
        pci = umockdev_testbed_add_device(tb, "pci", "0000:00:14.0", NULL, "class", "0x0c0330", NULL, NULL);
        char *root = umockdev_testbed_get_root_dir(tb);
        printf("dir %s\n", root);
        fflush(stdout);
        char line[1024];
        while (fgets(line, sizeof line, stdin)) {
                char cmd[16] = "", a[64] = "", b[64] = "", c[16] = "", d[16] = "", e[8] = "", f[128] = "", g[256] = "";
                sscanf(line, "%15s %63s %63s %15s %15s %7s %127s %255s", cmd, a, b, c, d, e, f, g);
                if (strcmp(cmd, "dev") == 0 || strcmp(cmd, "root") == 0) {
                        bool is_root = cmd[0] == 'r';
                        unsigned vid = is_root ? 0x1d6b : (unsigned)strtoul(c, NULL, 16);
                        unsigned pid = is_root ? 2 : (unsigned)strtoul(d, NULL, 16);
                        char vs[8], ps[8];
                        snprintf(vs, sizeof vs, "%04x", vid);
                        snprintf(ps, sizeof ps, "%04x", pid);
                        const char *parent = lookup(is_root ? "-" : b);
                        if (!parent) {
                                printf("error no parent %s\n", b);
                                fflush(stdout);
                                continue;
                        }
                        uint8_t desc[1024];
                        size_t n = build(desc, vid, pid, is_root ? 9 : 0, is_root ? "09:00:00" : g);
                        char *path;
                        if (is_root)
                                path = umockdev_testbed_add_device(tb, "usb", a, parent, "authorized", "1",
                                                                   "authorized_default", "1",
                                                                   "interface_authorized_default", "1", "idVendor", vs,
                                                                   "idProduct", ps, "product", "xHCI Host Controller",
                                                                   NULL, "DEVTYPE", "usb_device", NULL);
                        else
                                path = umockdev_testbed_add_device(tb, "usb", a, parent, "authorized", e, "idVendor",
                                                                   vs, "idProduct", ps, "product", f, "remove", "0",
                                                                   NULL, "DEVTYPE", "usb_device", NULL);
                        umockdev_testbed_set_attribute_binary(tb, path, "descriptors", (guint8 *)desc, (gssize)n);
                        /* umockdev announced the device in udevd's format, before its
                         * binary descriptors existed; the kernel announces a complete
                         * device, in its own format: that is what sekishod listens to. */
                        uevent_send(root, path, "add");
                        remember(a, path);
                        printf("ok %s\n", path);
                } else if (strcmp(cmd, "iface") == 0) {
                        const char *dev = lookup(a);
                        unsigned cl, sc, pr;
                        if (!dev || sscanf(c, "%2x:%2x:%2x", &cl, &sc, &pr) != 3) {
                                printf("error iface\n");
                                fflush(stdout);
                                continue;
                        }
                        char name[160], s1[4], s2[4], s3[4];
                        snprintf(name, sizeof name, "%s:1.%s", a, b);
                        snprintf(s1, sizeof s1, "%02x", cl);
                        snprintf(s2, sizeof s2, "%02x", sc);
                        snprintf(s3, sizeof s3, "%02x", pr);
                        char *path = umockdev_testbed_add_device(tb, "usb", name, dev, "authorized", "0",
                                                                 "bInterfaceClass", s1, "bInterfaceSubClass", s2,
                                                                 "bInterfaceProtocol", s3, NULL, "DEVTYPE",
                                                                 "usb_interface", NULL);
                        remember(name, path);
                        uevent_send(root, path, "add");
                        printf("ok %s\n", path);
                } else if (strcmp(cmd, "uevent") == 0 && lookup(a)) {
                        uevent_send(root, lookup(a), b);
                        printf("ok\n");
                } else if (strcmp(cmd, "rm") == 0 && lookup(a)) {
                        umockdev_testbed_remove_device(tb, lookup(a));
                        printf("ok\n");
                } else
                        printf("error unknown command\n");
                fflush(stdout);
        }
        g_object_unref(tb);
        return 0;
}
