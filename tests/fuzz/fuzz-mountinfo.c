/* fuzz-mountinfo.c — libFuzzer target for the /proc/self/mountinfo line parser (mount points come from volume labels people choose). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 65536)
                return 0;
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        struct mountinfo_entry m;
        if (mountinfo_parse_line(buf, &m) == 0) {
                /* the mount point lies inside the line, ends there, and is absolute */
                if (m.mountpoint < buf || m.mountpoint + strlen(m.mountpoint) > buf + size || m.mountpoint[0] != '/')
                        __builtin_trap();
        }
        free(buf);
        return 0;
}
