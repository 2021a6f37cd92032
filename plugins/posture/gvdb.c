/* gvdb.c — reads dconf's binary GVDB databases strictly: every pointer, key and parent chain is checked before anything is looked up. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gvdb.h"

#define ITEM_SIZE 24
#define NO_PARENT 0xffffffffu

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* A pointer {start, end} into the file: in bounds, ordered and aligned. */
static int pointer(const struct gvdb_table *t, const uint8_t *p, unsigned align, uint32_t *ret_start,
                   uint32_t *ret_end) {
        uint32_t s = le32(p), e = le32(p + 4);
        if (s > e || e > t->size || s % align != 0)
                return -EINVAL;
        *ret_start = s;
        *ret_end = e;
        return 0;
}

static int table_at(const uint8_t *data, size_t size, const uint8_t *ptr, struct gvdb_table *ret) {
        struct gvdb_table t = { .data = data, .size = size };
        uint32_t s, e;
        if (pointer(&t, ptr, 4, &s, &e) < 0 || e - s < 8)
                return -EINVAL;
        uint64_t n_bloom = le32(data + s) & ((1u << 27) - 1), n_buckets = le32(data + s + 4);
        uint64_t items = (uint64_t)s + 8 + 4 * n_bloom + 4 * n_buckets;
        if (items > e || (e - items) % ITEM_SIZE != 0 || (e - items) / ITEM_SIZE > GVDB_MAX_ITEMS)
                return -EINVAL;
        t.items = data + items;
        t.n_items = (uint32_t)((e - items) / ITEM_SIZE);
        /* Every bucket points at an item (or one past the last). */
        for (uint64_t b = 0; b < n_buckets; b++)
                if (le32(data + s + 8 + 4 * n_bloom + 4 * b) > t.n_items)
                        return -EINVAL;
        for (uint32_t i = 0; i < t.n_items; i++) {
                const uint8_t *it = t.items + (size_t)i * ITEM_SIZE;
                uint32_t parent = le32(it + 4), key = le32(it + 8), depth = 0;
                uint16_t klen = le16(it + 12);
                char type = (char)it[14];
                if ((uint64_t)key + klen > size || memchr(data + key, '\0', klen))
                        return -EINVAL;
                /* The parent chain ends, without a cycle, within GVDB_MAX_DEPTH steps. */
                for (uint32_t p = parent; p != NO_PARENT; p = le32(t.items + (size_t)p * ITEM_SIZE + 4))
                        if (p >= t.n_items || ++depth > GVDB_MAX_DEPTH)
                                return -EINVAL;
                uint32_t vs, ve;
                switch (type) {
                case 'v':
                        if (pointer(&t, it + 16, 8, &vs, &ve) < 0 || ve - vs < 2)
                                return -EINVAL;
                        break;
                case 'H':
                        if (pointer(&t, it + 16, 4, &vs, &ve) < 0)
                                return -EINVAL;
                        break;
                case 'L':
                        if (pointer(&t, it + 16, 4, &vs, &ve) < 0 || (ve - vs) % 4 != 0)
                                return -EINVAL;
                        for (uint32_t o = vs; o < ve; o += 4)
                                if (le32(data + o) >= t.n_items)
                                        return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        }
        *ret = t;
        return 0;
}

int gvdb_open(const uint8_t *data, size_t size, struct gvdb_table *ret) {
        if (size > GVDB_FILE_MAX)
                return -EFBIG;
        if (size < 24)
                return -EINVAL;
        if (memcmp(data, "GVariant", 8) != 0)
                return memcmp(data, "raVGtnai", 8) == 0 ? -EPROTONOSUPPORT : -EINVAL;
        if (le32(data + 8) != 0)   /* version */
                return -EINVAL;
        return table_at(data, size, data + 16, ret);
}

/* Does item i's full key (its parents' keys, then its own) equal key[0..len)? */
static bool item_is(const struct gvdb_table *t, uint32_t i, const char *key, size_t len) {
        for (;;) {
                const uint8_t *it = t->items + (size_t)i * ITEM_SIZE;
                uint32_t k = le32(it + 8), parent = le32(it + 4);
                uint16_t kl = le16(it + 12);
                if (kl > len || memcmp(key + len - kl, t->data + k, kl) != 0)
                        return false;
                len -= kl;
                if (parent == NO_PARENT)
                        return len == 0;
                i = parent;   /* bounded: table_at() checked every chain */
        }
}

static const uint8_t *find(const struct gvdb_table *t, const char *key) {
        size_t len = strlen(key);
        for (uint32_t i = 0; i < t->n_items; i++)
                if (item_is(t, i, key, len))
                        return t->items + (size_t)i * ITEM_SIZE;
        return NULL;
}

bool gvdb_has(const struct gvdb_table *t, const char *key) {
        return find(t, key) != NULL;
}

int gvdb_get(const struct gvdb_table *t, const char *key, struct gvdb_value *ret) {
        const uint8_t *it = find(t, key);
        if (!it || it[14] != 'v')
                return -ENOENT;
        uint32_t s = le32(it + 16), e = le32(it + 20);
        const uint8_t *v = t->data + s;
        size_t n = e - s;
        /* A serialised variant: the value, a NUL, then its type string. */
        const uint8_t *sep = NULL;
        for (size_t i = n; i-- > 0;)
                if (v[i] == '\0') {
                        sep = v + i;
                        break;
                }
        if (!sep || sep == v + n - 1)
                return -EINVAL;
        size_t vlen = (size_t)(sep - v), tlen = n - vlen - 1;
        struct gvdb_value out = { .type = '?' };
        if (tlen == 1 && sep[1] == 'b') {
                if (vlen != 1 || v[0] > 1)
                        return -EINVAL;
                out.type = 'b';
                out.b = v[0];
        } else if (tlen == 1 && (sep[1] == 'u' || sep[1] == 'i')) {
                if (vlen != 4)
                        return -EINVAL;
                out.type = (char)sep[1];
                out.u = le32(v);
                out.i = (int32_t)out.u;
        } else if (tlen == 1 && sep[1] == 's') {
                if (vlen < 1 || v[vlen - 1] != '\0' || memchr(v, '\0', vlen - 1))
                        return -EINVAL;
                out.type = 's';
                out.s = (const char *)v;
        }
        *ret = out;
        return 0;
}

int gvdb_subtable(const struct gvdb_table *t, const char *key, struct gvdb_table *ret) {
        const uint8_t *it = find(t, key);
        if (!it || it[14] != 'H')
                return -ENOENT;
        return table_at(t->data, t->size, it + 16, ret);
}
