/* mountinfo.h — one line of /proc/self/mountinfo: device, mount point (unescaped), options; mount points are chosen by users (udisks names them after volume labels). */
#pragma once

#include <stdbool.h>

struct mountinfo_entry {
        unsigned major, minor;
        char *mountpoint;            /* inside the line, \ooo escapes undone */
        bool read_only;              /* the per-mount options say "ro" */
};

/* Parse line in place (NUL-terminated, newline optional). -EBADMSG if it is
 * not a mountinfo line. */
int mountinfo_parse_line(char *line, struct mountinfo_entry *ret);
