/* netclaim.c — the registry of destinations reserved for one cgroup's sockets: one plugin claims (vdi), another enforces (net). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netclaim.h"
#include "util.h"

struct netclaims {
        struct sekisho_net_claim *v;    /* sorted by owner, each owner's in the order given */
        size_t n, cap;
        struct {
                sekisho_net_claims_fn cb;
                void *userdata;
        } watchers[NETCLAIMS_WATCHERS];
        size_t n_watchers;
};

int netclaims_new(struct netclaims **ret) {
        *ret = calloc(1, sizeof **ret);
        return *ret ? 0 : -ENOMEM;
}

static void claim_done(struct sekisho_net_claim *c) {
        free((char *)c->destination);
        free((char *)c->protocol);
        free((char *)c->cgroup);
        free((char *)c->owner);
}

struct netclaims *netclaims_free(struct netclaims *reg) {
        if (!reg)
                return NULL;
        for (size_t i = 0; i < reg->n; i++)
                claim_done(&reg->v[i]);
        free(reg->v);
        free(reg);
        return NULL;
}

static bool claim_valid(const struct sekisho_net_claim *c) {
        if (!c->destination || !*c->destination || !c->cgroup || !*c->cgroup)
                return false;
        if (c->protocol && strcmp(c->protocol, "tcp") != 0 && strcmp(c->protocol, "udp") != 0)
                return false;
        return c->port_lo <= c->port_hi && (c->port_lo != 0 || c->port_hi == 0);
}

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static bool claim_eq(const struct sekisho_net_claim *a, const struct sekisho_net_claim *b) {
        return str_eq(a->destination, b->destination) && str_eq(a->protocol, b->protocol) &&
               a->port_lo == b->port_lo && a->port_hi == b->port_hi && str_eq(a->cgroup, b->cgroup);
}

static int claim_copy(const struct sekisho_net_claim *src, const char *owner, struct sekisho_net_claim *ret) {
        *ret = (struct sekisho_net_claim){
                .destination = strdup(src->destination),
                .protocol = src->protocol ? strdup(src->protocol) : NULL,
                .port_lo = src->port_lo,
                .port_hi = src->port_hi,
                .cgroup = strdup(src->cgroup),
                .owner = strdup(owner),
        };
        if (!ret->destination || (src->protocol && !ret->protocol) || !ret->cgroup || !ret->owner) {
                claim_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* [*lo, *hi) of owner's claims; *lo is where they go if there are none. */
static void owner_span(const struct netclaims *reg, const char *owner, size_t *lo, size_t *hi) {
        size_t i = 0;
        while (i < reg->n && strcmp(reg->v[i].owner, owner) < 0)
                i++;
        *lo = i;
        while (i < reg->n && strcmp(reg->v[i].owner, owner) == 0)
                i++;
        *hi = i;
}

int netclaims_set(struct netclaims *reg, const char *owner, const struct sekisho_net_claim *v, size_t n) {
        if (!owner || !*owner)
                return -EINVAL;
        if (n > NETCLAIMS_PER_OWNER)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (!claim_valid(&v[i]))
                        return -EINVAL;

        size_t lo, hi;
        owner_span(reg, owner, &lo, &hi);
        bool same = hi - lo == n;
        for (size_t i = 0; same && i < n; i++)
                same = claim_eq(&reg->v[lo + i], &v[i]);
        if (same)
                return 0;

        /* Copy first, so that a failed allocation changes nothing. */
        _cleanup_free_ struct sekisho_net_claim *fresh = n ? calloc(n, sizeof *fresh) : NULL;
        if (n && !fresh)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = claim_copy(&v[i], owner, &fresh[i]);
                if (r < 0) {
                        while (i-- > 0)
                                claim_done(&fresh[i]);
                        return r;
                }
        }
        size_t total = reg->n - (hi - lo) + n;
        if (ARRAY_GROW(reg->v, reg->cap, total) < 0) {
                for (size_t i = 0; i < n; i++)
                        claim_done(&fresh[i]);
                return -ENOMEM;
        }
        for (size_t i = lo; i < hi; i++)
                claim_done(&reg->v[i]);
        memmove(reg->v + lo + n, reg->v + hi, (reg->n - hi) * sizeof *reg->v);
        if (n)
                memcpy(reg->v + lo, fresh, n * sizeof *fresh);
        reg->n = total;

        for (size_t i = 0; i < reg->n_watchers; i++)
                reg->watchers[i].cb(reg->watchers[i].userdata);
        return 0;
}

size_t netclaims_get(const struct netclaims *reg, const struct sekisho_net_claim **ret) {
        *ret = reg->v;
        return reg->n;
}

int netclaims_watch(struct netclaims *reg, sekisho_net_claims_fn cb, void *userdata) {
        if (reg->n_watchers >= NETCLAIMS_WATCHERS)
                return -ENOSPC;
        reg->watchers[reg->n_watchers].cb = cb;
        reg->watchers[reg->n_watchers].userdata = userdata;
        reg->n_watchers++;
        return 0;
}

void netclaims_unwatch(struct netclaims *reg, sekisho_net_claims_fn cb, void *userdata) {
        for (size_t i = 0; i < reg->n_watchers; i++)
                if (reg->watchers[i].cb == cb && reg->watchers[i].userdata == userdata) {
                        memmove(&reg->watchers[i], &reg->watchers[i + 1], (reg->n_watchers - i - 1) * sizeof reg->watchers[0]);
                        reg->n_watchers--;
                        return;
                }
}

int netclaims_in_force_format(char *const *paths, const uint64_t *ids, size_t n, char **ret) {
        size_t size = 1;
        for (size_t i = 0; i < n; i++)
                size += 21 + 1 + strlen(paths[i]) + 1;
        char *text = malloc(size), *p = text;
        if (!text)
                return -ENOMEM;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%" PRIu64 " %s\n", ids[i], paths[i]);
        *ret = text;
        return 0;
}

int netclaims_in_force_has(const char *text, size_t size, const char *cgroup, uint64_t id) {
        size_t clen = strlen(cgroup);
        int found = 0;
        for (const char *line = text, *end = text + size; line < end;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                if (!nl)
                        return -EBADMSG; /* a line is whole or the file is not ours */
                const char *sp = line;
                uint64_t v = 0;
                for (; sp < nl && *sp >= '0' && *sp <= '9'; sp++) {
                        uint64_t d = (uint64_t)(*sp - '0');
                        if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
                                return -EBADMSG;
                        v = v * 10 + d;
                }
                if (sp == line || sp == nl || *sp != ' ' || sp + 1 == nl || memchr(sp + 1, ' ', (size_t)(nl - sp - 1)) ||
                    memchr(line, '\0', (size_t)(nl - line)))
                        return -EBADMSG;
                if (v == id && (size_t)(nl - sp - 1) == clen && memcmp(sp + 1, cgroup, clen) == 0)
                        found = 1;
                line = nl + 1;
        }
        return found;
}
