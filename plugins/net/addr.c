/* addr.c — address ranges for the network plugin: CIDR and port parsing, merging, /etc/hosts and resolv.conf readers, packet summaries. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "util.h"

int net_ranges_add(struct net_ranges *l, const struct net_range *r) {
        if (ARRAY_GROW(l->v, l->cap, l->n + 1) < 0)
                return -ENOMEM;
        l->v[l->n++] = *r;
        return 0;
}

void net_ranges_clear(struct net_ranges *l) {
        free(l->v);
        *l = (struct net_ranges){ 0 };
}

static int range_cmp(const void *a, const void *b) {
        const struct net_range *x = a, *y = b;
        if (x->family != y->family)
                return x->family - y->family;
        int c = memcmp(x->lo, y->lo, net_addr_len(x->family));
        if (c)
                return c;
        return memcmp(x->hi, y->hi, net_addr_len(x->family));
}

void net_ranges_sort(struct net_ranges *l) {
        if (l->n > 1)
                qsort(l->v, l->n, sizeof *l->v, range_cmp);
}

/* a + 1 == b, big-endian, n bytes. */
static bool addr_is_next(const uint8_t *a, const uint8_t *b, size_t n) {
        uint8_t t[16];
        memcpy(t, a, n);
        for (size_t i = n; i-- > 0;)
                if (++t[i] != 0)
                        break;
                else if (i == 0)
                        return false; /* wrapped: a was all ones */
        return memcmp(t, b, n) == 0;
}

void net_ranges_normalize(struct net_ranges *l) {
        if (l->n < 2)
                return;
        qsort(l->v, l->n, sizeof *l->v, range_cmp);
        size_t w = 0;
        for (size_t i = 1; i < l->n; i++) {
                struct net_range *cur = &l->v[w], *nx = &l->v[i];
                size_t n = net_addr_len(cur->family);
                if (nx->family == cur->family &&
                    (memcmp(nx->lo, cur->hi, n) <= 0 || addr_is_next(cur->hi, nx->lo, n))) {
                        if (memcmp(nx->hi, cur->hi, n) > 0)
                                memcpy(cur->hi, nx->hi, n);
                } else
                        l->v[++w] = *nx;
        }
        l->n = w + 1;
}

bool net_ranges_contains(const struct net_ranges *l, int family, const uint8_t *addr) {
        size_t n = net_addr_len(family);
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].family == family && memcmp(l->v[i].lo, addr, n) <= 0 && memcmp(addr, l->v[i].hi, n) <= 0)
                        return true;
        return false;
}

bool net_ranges_equal(const struct net_ranges *a, const struct net_ranges *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (range_cmp(&a->v[i], &b->v[i]) != 0)
                        return false;
        return true;
}

void net_range_from_prefix(int family, const uint8_t *addr, unsigned len, struct net_range *ret) {
        size_t n = net_addr_len(family);
        if (len > n * 8)
                len = (unsigned)n * 8;
        memset(ret, 0, sizeof *ret);
        ret->family = family;
        for (size_t i = 0; i < n; i++) {
                unsigned bits = len >= (i + 1) * 8 ? 8 : len > i * 8 ? len - (unsigned)i * 8 : 0;
                uint8_t mask = bits ? (uint8_t)(0xff << (8 - bits)) : 0;
                ret->lo[i] = addr[i] & mask;
                ret->hi[i] = (uint8_t)(addr[i] | ~mask);
        }
}

int net_parse_cidr(const char *s, struct net_range *ret, const char **why) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = "not an IPv4 or IPv6 address or prefix";
        size_t sl = strlen(s);
        if (sl == 0 || sl >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, sl + 1);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash++ = '\0';
        uint8_t a[16] = { 0 };
        int family;
        if (inet_pton(AF_INET, buf, a) == 1)
                family = NET_V4;
        else if (inet_pton(AF_INET6, buf, a) == 1)
                family = NET_V6;
        else
                return -EINVAL;
        unsigned max = (unsigned)net_addr_len(family) * 8, len = max;
        if (slash) {
                if (!*slash || strlen(slash) > 3)
                        goto badlen;
                for (const char *c = slash; *c; c++)
                        if (!isdigit((unsigned char)*c))
                                goto badlen;
                len = (unsigned)atoi(slash);
                if (len > max)
                        goto badlen;
        }
        net_range_from_prefix(family, a, len, ret);
        if (memcmp(ret->lo, a, net_addr_len(family)) != 0) {
                *why = "host bits are set behind the prefix length";
                return -EINVAL;
        }
        if (slash && len == 0) {
                *why = "a /0 prefix covers every address";
                return -EINVAL;
        }
        return 0;
badlen:
        *why = family == NET_V4 ? "prefix length must be 1..32" : "prefix length must be 1..128";
        return -EINVAL;
}

bool net_range_overlaps(const struct net_range *a, const struct net_range *b) {
        if (a->family != b->family)
                return false;
        size_t n = net_addr_len(a->family);
        return memcmp(a->lo, b->hi, n) <= 0 && memcmp(b->lo, a->hi, n) <= 0;
}

bool net_range_covers(const struct net_range *outer, const struct net_range *inner) {
        if (outer->family != inner->family)
                return false;
        size_t n = net_addr_len(outer->family);
        return memcmp(outer->lo, inner->lo, n) <= 0 && memcmp(inner->hi, outer->hi, n) <= 0;
}

void net_range_format(const struct net_range *r, char *out, size_t size) {
        int af = r->family == NET_V4 ? AF_INET : AF_INET6;
        size_t n = net_addr_len(r->family);
        char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
        inet_ntop(af, r->lo, lo, sizeof lo);
        if (memcmp(r->lo, r->hi, n) == 0) {
                snprintf(out, size, "%s", lo);
                return;
        }
        /* A prefix? lo..hi differ in a run of trailing bits: lo has zeros, hi ones. */
        unsigned len = 0;
        size_t i = 0;
        while (i < n && r->lo[i] == r->hi[i])
                i++, len += 8;
        bool prefix = true;
        if (i < n) {
                uint8_t x = r->lo[i] ^ r->hi[i];
                unsigned b = 0;
                while (b < 8 && !(x & (0x80 >> b)))
                        b++;
                uint8_t mask = (uint8_t)(0xff >> b);
                if (x != mask || (r->lo[i] & mask) || (r->hi[i] & mask) != mask)
                        prefix = false;
                len += b;
                for (size_t j = i + 1; prefix && j < n; j++)
                        if (r->lo[j] != 0 || r->hi[j] != 0xff)
                                prefix = false;
        }
        if (prefix)
                snprintf(out, size, "%s/%u", lo, len);
        else {
                inet_ntop(af, r->hi, hi, sizeof hi);
                snprintf(out, size, "%s-%s", lo, hi);
        }
}

bool net_valid_hostname(const char *s) {
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > NET_MAX_NAME)
                return false;
        bool alpha = false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(isalnum((unsigned char)c) || c == '-') || (c == '-' && label == 0) || ++label > 63)
                        return false;
                if (isalpha((unsigned char)c))
                        alpha = true;
        }
        return alpha && s[len - 1] != '-' && s[len - 1] != '.';
}

bool net_valid_cgroup(const char *s) {
        size_t len = s ? strlen(s) : 0;
        if (len == 0 || len > NET_MAX_CGROUP || s[0] == '/' || s[len - 1] == '/')
                return false;
        for (const char *c = s; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!isalnum((unsigned char)c[i]) && !strchr("._@:-", c[i]))
                                return false;
                c += n + (c[n] == '/');
        }
        return true;
}

unsigned net_cgroup_level(const char *s) {
        unsigned n = 1;
        for (; *s; s++)
                n += *s == '/';
        return n;
}

/* Iterate over lines of a bounded text: returns the next line (not
 * NUL-terminated) in line and len, false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len) {
        if (*p >= end)
                return false;
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        *line = *p;
        *len = (size_t)((nl ? nl : end) - *p);
        *p = nl ? nl + 1 : end;
        return true;
}

/* Split a line into whitespace-separated words (at most max, each < 256). */
static size_t split_words(const char *line, size_t len, char words[][256], size_t max) {
        size_t n = 0, i = 0;
        while (i < len && n < max) {
                while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                        i++;
                if (i >= len || line[i] == '#' || line[i] == ';')
                        break;
                size_t s = i;
                while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#')
                        i++;
                size_t wl = i - s;
                if (wl >= 256)
                        continue; /* an overlong word is not an address or a name: skip it */
                memcpy(words[n], line + s, wl);
                words[n++][wl] = '\0';
        }
        return n;
}

size_t net_hosts_lookup(const char *hosts, size_t size, const char *name, struct net_ranges *out) {
        const char *p = hosts, *end = hosts + size, *line;
        size_t len, found = 0;
        char words[16][256];
        while (hosts && next_line(&p, end, &line, &len)) {
                size_t n = split_words(line, len, words, 16);
                if (n < 2)
                        continue;
                struct net_range r;
                if (net_parse_cidr(words[0], &r, NULL) < 0 || strchr(words[0], '/'))
                        continue;
                for (size_t i = 1; i < n; i++)
                        if (strcasecmp(words[i], name) == 0) {
                                if (net_ranges_add(out, &r) == 0)
                                        found++;
                                break;
                        }
        }
        return found;
}

void net_resolv_parse(const char *text, size_t size, struct net_ranges *out) {
        const char *p = text, *end = text + size, *line;
        size_t len;
        char words[4][256];
        while (text && next_line(&p, end, &line, &len)) {
                if (split_words(line, len, words, 4) < 2 || strcmp(words[0], "nameserver") != 0)
                        continue;
                char *pct = strchr(words[1], '%'); /* fe80::1%eth0 */
                if (pct)
                        *pct = '\0';
                struct net_range r;
                if (net_parse_cidr(words[1], &r, NULL) < 0 || strchr(words[1], '/'))
                        continue;
                static const uint8_t v6lo[16] = { [15] = 1 };
                if ((r.family == NET_V4 && r.lo[0] == 127) || (r.family == NET_V6 && memcmp(r.lo, v6lo, 16) == 0))
                        continue; /* a local resolver (systemd-resolved, dnsmasq): loopback is always allowed */
                if (out->n < NET_MAX_TOPO)
                        net_ranges_add(out, &r);
        }
}

int net_parse_ports(const char *s, uint16_t *lo, uint16_t *hi) {
        char a[8], b[8];
        const char *dash = strchr(s, '-');
        size_t la = dash ? (size_t)(dash - s) : strlen(s);
        if (la == 0 || la >= sizeof a)
                return -EINVAL;
        memcpy(a, s, la);
        a[la] = '\0';
        if (dash) {
                size_t lb = strlen(dash + 1);
                if (lb == 0 || lb >= sizeof b)
                        return -EINVAL;
                memcpy(b, dash + 1, lb + 1);
        } else
                memcpy(b, a, la + 1);
        unsigned long x[2];
        const char *parts[2] = { a, b };
        for (int i = 0; i < 2; i++) {
                for (const char *c = parts[i]; *c; c++)
                        if (!isdigit((unsigned char)*c))
                                return -EINVAL;
                x[i] = strtoul(parts[i], NULL, 10);
                if (x[i] == 0 || x[i] > 65535)
                        return -ERANGE;
        }
        if (x[0] > x[1])
                return -ERANGE;
        *lo = (uint16_t)x[0];
        *hi = (uint16_t)x[1];
        return 0;
}

int net_pkt_parse(const uint8_t *p, size_t len, int family_hint, struct net_pkt *ret) {
        memset(ret, 0, sizeof *ret);
        if (!p || len < 1)
                return -EBADMSG;
        int ver = p[0] >> 4;
        size_t l4off;
        if (ver == 4) {
                if (len < 20)
                        return -EBADMSG;
                size_t ihl = (size_t)(p[0] & 0x0f) * 4;
                if (ihl < 20 || ihl > len)
                        return -EBADMSG;
                ret->family = NET_V4;
                memcpy(ret->src, p + 12, 4);
                memcpy(ret->dst, p + 16, 4);
                ret->proto = p[9];
                /* Only the first fragment carries ports. */
                if ((((p[6] & 0x1f) << 8) | p[7]) != 0)
                        return 0;
                l4off = ihl;
        } else if (ver == 6) {
                if (len < 40)
                        return -EBADMSG;
                ret->family = NET_V6;
                memcpy(ret->src, p + 8, 16);
                memcpy(ret->dst, p + 24, 16);
                ret->proto = p[6]; /* extension headers are not walked: reported as they are */
                l4off = 40;
        } else
                return -EBADMSG;
        (void)family_hint;
        if ((ret->proto == 6 || ret->proto == 17) && len >= l4off + 4) {
                ret->sport = (uint16_t)(p[l4off] << 8 | p[l4off + 1]);
                ret->dport = (uint16_t)(p[l4off + 2] << 8 | p[l4off + 3]);
        }
        return 0;
}
