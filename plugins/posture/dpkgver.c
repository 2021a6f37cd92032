/* dpkgver.c — Debian version strings parsed and ordered exactly as dpkg does (lib/dpkg/parsehelp.c, version.c). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dpkgver.h"

/* dpkg uses its own locale-independent ctype (c_isdigit, c_isalpha, c_isblank). */
static bool c_isdigit(int c) { return c >= '0' && c <= '9'; }
static bool c_isalpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool c_isblank(int c) { return c == ' ' || c == '\t'; }
/* strtol() skips isspace() in the C locale before the number. */
static bool c_isspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int fail(const char **why, const char *msg, int r) {
        if (why)
                *why = msg;
        return r;
}

int dpkgver_parse(const char *s, struct dpkgver *ret, const char **why) {
        const char *end, *p;

        if (why)
                *why = NULL;
        while (*s && c_isblank(*s))
                s++;
        if (!*s)
                return fail(why, "version string is empty", -EINVAL);
        end = s;
        while (*end && !c_isblank(*end))
                end++;
        for (p = end; *p && c_isblank(*p); p++)
                ;
        if (*p)
                return fail(why, "version string has embedded spaces", -EINVAL);

        unsigned epoch = 0;
        const char *colon = memchr(s, ':', (size_t)(end - s));
        if (colon) {
                /* The epoch is what strtol() makes of the text before the first
                 * colon: optional white space and sign, then decimal digits. */
                const char *q = s;
                bool neg = false;
                unsigned long long v = 0;
                bool big = false;
                while (q < colon && c_isspace((unsigned char)*q))
                        q++;
                if (q < colon && (*q == '+' || *q == '-'))
                        neg = *q++ == '-';
                const char *digits = q;
                while (q < end && c_isdigit(*q)) {
                        if (v > (unsigned long long)INT_MAX * 10)
                                big = true;
                        else
                                v = v * 10 + (unsigned)(*q - '0');
                        q++;
                }
                if (q == digits)
                        return fail(why, "epoch in version is empty", -EINVAL);
                if (q != colon)
                        return fail(why, "epoch in version is not number", -EINVAL);
                if (neg && (v > 0 || big))
                        return fail(why, "epoch in version is negative", -EINVAL);
                if (big || v > INT_MAX)
                        return fail(why, "epoch in version is too big", -EINVAL);
                if (colon + 1 == end)
                        return fail(why, "nothing after colon in version number", -EINVAL);
                epoch = (unsigned)v;
                s = colon + 1;
        }

        size_t len = (size_t)(end - s);
        if (len > DPKGVER_MAX)
                return fail(why, "version string is too long", -E2BIG);

        struct dpkgver v = { .epoch = epoch };
        memcpy(v.version, s, len);
        v.version[len] = '\0';
        char *hyphen = strrchr(v.version, '-');
        if (hyphen) {
                *hyphen++ = '\0';
                if (!*hyphen)
                        return fail(why, "revision number is empty", -EINVAL);
                memcpy(v.revision, hyphen, strlen(hyphen) + 1);
        }

        int r = 0;
        p = v.version;
        if (!*p)
                return fail(why, "version number is empty", -EINVAL);
        if (!c_isdigit(*p++))
                r = fail(why, "version number does not start with digit", 1);
        else {
                for (; *p; p++)
                        if (!c_isdigit(*p) && !c_isalpha(*p) && !strchr(".-+~:", *p)) {
                                r = fail(why, "invalid character in version number", 1);
                                break;
                        }
                if (r == 0)
                        for (p = v.revision; *p; p++)
                                if (!c_isdigit(*p) && !c_isalpha(*p) && !strchr(".+~", *p)) {
                                        r = fail(why, "invalid character in revision number", 1);
                                        break;
                                }
        }
        *ret = v;
        return r;
}

/* The weight of a character in a non-digit run: '~' sorts before the end
 * of the string, letters before everything else. */
static int order(int c) {
        if (c_isdigit(c))
                return 0;
        if (c_isalpha(c))
                return c;
        if (c == '~')
                return -1;
        if (c)
                return c + 256;
        return 0;
}

static int verrevcmp(const char *a, const char *b) {
        while (*a || *b) {
                int first_diff = 0;

                while ((*a && !c_isdigit(*a)) || (*b && !c_isdigit(*b))) {
                        int ac = order((unsigned char)*a);
                        int bc = order((unsigned char)*b);
                        if (ac != bc)
                                return ac - bc;
                        /* Equal weights here mean neither is at its end. */
                        a++;
                        b++;
                }
                while (*a == '0')
                        a++;
                while (*b == '0')
                        b++;
                while (c_isdigit(*a) && c_isdigit(*b)) {
                        if (!first_diff)
                                first_diff = *a - *b;
                        a++;
                        b++;
                }
                if (c_isdigit(*a))
                        return 1;
                if (c_isdigit(*b))
                        return -1;
                if (first_diff)
                        return first_diff;
        }
        return 0;
}

int dpkgver_cmp(const struct dpkgver *a, const struct dpkgver *b) {
        if (a->epoch != b->epoch)
                return a->epoch > b->epoch ? 1 : -1;
        int r = verrevcmp(a->version, b->version);
        if (r)
                return r;
        return verrevcmp(a->revision, b->revision);
}

int dpkgver_compare_str(const char *a, const char *b, int *ret) {
        struct dpkgver va, vb;
        int r = dpkgver_parse(a, &va, NULL);
        if (r < 0)
                return r;
        r = dpkgver_parse(b, &vb, NULL);
        if (r < 0)
                return r;
        *ret = dpkgver_cmp(&va, &vb);
        return 0;
}
