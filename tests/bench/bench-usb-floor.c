/* bench-usb-floor.c — the floor of a USB decision, for bench-usb-vs: one netlink read, one descriptors read, one authorized write, nothing else. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* No checks beyond what keeps it from crashing: it is a measuring stick, not
 * a guard. A device with a mass-storage interface (class 08) gets 0, anything
 * else 1, so the blocked stick is written as the daemons write it. */
int main(void) {
        int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                perror("bench-usb-floor: uevent socket");
                return 1;
        }
        static char msg[8192], path[4352];
        static uint8_t desc[4096];
        for (;;) {
                ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
                if (n <= 0)
                        continue;
                msg[n] = '\0';
                char *at = strchr(msg, '@');
                if (!at || strncmp(msg, "add@", 4) != 0)
                        continue;
                snprintf(path, sizeof path, "/sys%s/descriptors", at + 1);
                int d = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t k = d >= 0 ? read(d, desc, sizeof desc) : -1;
                if (d >= 0)
                        close(d);
                const char *v = k > 18 ? "1" : "0";
                for (ssize_t i = 0; k > 0 && i + 5 < k && desc[i] > 0; i += desc[i])
                        if (desc[i + 1] == 4 && desc[i + 5] == 8)
                                v = "0";
                snprintf(path, sizeof path, "/sys%s/authorized", at + 1);
                int w = open(path, O_WRONLY | O_CLOEXEC);
                if (w >= 0) {
                        if (write(w, v, 1) < 0)
                                perror("bench-usb-floor: write");
                        close(w);
                }
        }
}
