/* fuzz-uevent.c — libFuzzer target for the kernel uevent parser (messages read from the NETLINK_KOBJECT_UEVENT socket). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > UEVENT_MSG_MAX + 16)
                return 0;
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        struct uevent u;
        if (uevent_parse(buf, size, &u) == 0) {
                /* every string the parser hands out lies inside the buffer and ends there */
                const char *s[] = { u.action, u.devpath, u.subsystem, u.devtype };
                for (size_t i = 0; i < 4; i++)
                        if (s[i] && (s[i] < buf || s[i] + strlen(s[i]) >= buf + size))
                                __builtin_trap();
                if (u.devpath[0] != '/' || strstr(u.devpath, "/.."))
                        __builtin_trap();
        }
        free(buf);
        return 0;
}
