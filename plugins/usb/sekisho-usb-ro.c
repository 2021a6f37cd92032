/* sekisho-usb-ro.c — the udev hook for read-only sticks: makes a new block device read-only, inside udev's processing of its add event, if sekishod marked its USB stick read-only; de-authorizes the stick if that fails. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "usbro.h"

/* Run by systemd/60-sekisho-usb.rules as IMPORT{program} for every block
 * device added below a USB device, so it runs before udev widens the
 * node's permissions and before udev tells anyone (udisks, systemd's
 * mount units) that the device exists: nobody but root can open it for
 * writing before it is read-only (plugins/usb/README-usb.md). */
int main(int argc, char **argv) {
        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: %s DEVNODE SYSPATH [MARKER-DIR]\n", argv[0]);
                return 2;
        }
        const char *devnode = argv[1], *syspath = argv[2], *dir = argc > 3 ? argv[3] : USBRO_DIR;
        char usb[4096];
        if (usbro_usb_device_of(syspath, usb, sizeof usb) < 0)
                return 0; /* not on USB: not ours */
        const char *port = strrchr(usb, '/') + 1;
        if (!usbro_marked(dir, port))
                return 0;
        int r = usbro_set_read_only(devnode);
        if (r == 0) {
                printf("SEKISHO_USB_READ_ONLY=1\n");
                return 0;
        }
        /* Fail-closed: a stick approved read-only that cannot be made so goes away. */
        char path[4200];
        snprintf(path, sizeof path, "%s/authorized", usb);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int w = fd >= 0 && write(fd, "0", 1) == 1 ? 0 : -errno;
        if (fd >= 0)
                close(fd);
        fprintf(stderr, "sekisho-usb-ro: %s on USB %s: cannot make it read-only (%s); %s\n", devnode, port,
                strerror(-r), w == 0 ? "the stick was de-authorized" : "and the stick could NOT be de-authorized");
        printf("SEKISHO_USB_READ_ONLY=failed\n");
        return 1;
}
