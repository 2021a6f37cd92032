/* mountinfo.c — parses one /proc/self/mountinfo line in place: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...", every byte treated as hostile. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

/* The next space-separated field; NULL at the end of the line. */
static char *field(char **p) {
        char *s = *p;
        while (*s == ' ')
                s++;
        if (!*s || *s == '\n')
                return NULL;
        char *e = s;
        while (*e && *e != ' ' && *e != '\n')
                e++;
        *p = *e ? e + 1 : e;
        *e = '\0';
        return s;
}

/* The kernel escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
        char *o = s;
        for (char *i = s; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' &&
                    i[3] <= '7') {
                        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else
                        *o++ = *i;
        }
        *o = '\0';
}

static bool number(const char *s, const char *end, unsigned *ret) {
        if (s == end || end - s > 9)
                return false;
        unsigned v = 0;
        for (; s < end; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned)(*s - '0');
        }
        *ret = v;
        return true;
}

int mountinfo_parse_line(char *line, struct mountinfo_entry *ret) {
        char *p = line, *id = field(&p), *parent = field(&p), *dev = field(&p), *root = field(&p);
        char *mp = field(&p), *opts = field(&p);
        if (!id || !parent || !dev || !root || !mp || !opts || mp[0] != '/')
                return -EBADMSG;
        char *colon = strchr(dev, ':');
        struct mountinfo_entry e = { .mountpoint = mp };
        if (!colon || !number(dev, colon, &e.major) || !number(colon + 1, colon + strlen(colon), &e.minor))
                return -EBADMSG;
        for (char *o = opts, *next; o; o = next) {
                next = strchr(o, ',');
                size_t n = next ? (size_t)(next - o) : strlen(o);
                if (n == 2 && o[0] == 'r' && o[1] == 'o')
                        e.read_only = true;
                if (next)
                        next++;
        }
        unescape(mp);
        *ret = e;
        return 0;
}
