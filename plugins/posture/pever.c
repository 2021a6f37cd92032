/* pever.c — reads the strings of a PE executable's version resource (OriginalFilename, ProductName, ...) strictly within bounds. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pever.h"

#define RT_VERSION 16
#define MAX_SECTIONS 96
#define MAX_DIR_ENTRIES 4096
#define VERSION_RES_MAX 65536   /* wLength is 16 bits */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

struct pe {
        const uint8_t *data;
        size_t size;
        const uint8_t *sec;     /* section table */
        unsigned n_sec;
};

/* The file offset of [rva, rva+len), which must lie in one section's raw data. */
static int rva_to_off(const struct pe *pe, uint32_t rva, uint32_t len, size_t *ret) {
        for (unsigned i = 0; i < pe->n_sec; i++) {
                const uint8_t *s = pe->sec + 40 * i;
                uint64_t va = le32(s + 12), raw_size = le32(s + 16), raw_off = le32(s + 20);
                if (rva < va || (uint64_t)rva + len > va + raw_size)
                        continue;
                if (raw_off + raw_size > pe->size)
                        return -EINVAL;
                *ret = (size_t)(raw_off + (rva - va));
                return 0;
        }
        return -EINVAL;
}

/* One entry of a resource directory at off (relative to the resource
 * section start res, len bytes): the entry with id, or the first one if
 * id < 0. Returns the entry's OffsetToData or -ENOENT / -EINVAL. */
static int64_t res_dir_entry(const uint8_t *res, size_t len, uint32_t off, int id) {
        if ((uint64_t)off + 16 > len)
                return -EINVAL;
        unsigned n = (unsigned)le16(res + off + 12) + le16(res + off + 14);
        if (n > MAX_DIR_ENTRIES || (uint64_t)off + 16 + 8ull * n > len)
                return -EINVAL;
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *e = res + off + 16 + 8 * i;
                uint32_t name = le32(e);
                if (id < 0 || (!(name & 0x80000000u) && name == (uint32_t)id))
                        return le32(e + 4);
        }
        return -ENOENT;
}

/* A VS_VERSIONINFO-style block: wLength, wValueLength, wType, szKey, Value, Children. */
struct blk {
        const uint8_t *key;     /* UTF-16LE, key_n units, no NUL */
        size_t key_n;
        const uint8_t *value;
        size_t value_len;       /* bytes */
        size_t children, end;   /* offsets from the version resource start */
};

static size_t align4(size_t x) { return (x + 3) & ~(size_t)3; }

/* Parse the block at offset off of v (vlen bytes) that must end by limit. */
static int block(const uint8_t *v, size_t off, size_t limit, struct blk *b) {
        if (off + 6 > limit)
                return -EINVAL;
        size_t len = le16(v + off), vl = le16(v + off + 2), type = le16(v + off + 4);
        if (len < 6 || off + len > limit || type > 1)
                return -EINVAL;
        size_t end = off + len, p = off + 6;
        b->key = v + p;
        for (b->key_n = 0;; b->key_n++, p += 2) {
                if (p + 2 > end || b->key_n > 64)
                        return -EINVAL;
                if (le16(v + p) == 0)
                        break;
        }
        p = align4(p + 2);
        size_t vbytes = type == 1 ? 2 * vl : vl;
        if (vbytes > 0 && p + vbytes > end)
                return -EINVAL;
        b->value = v + (p < end ? p : end);
        b->value_len = vbytes;
        p = align4(p + vbytes);
        b->children = p < end ? p : end;
        b->end = end;
        return 0;
}

static bool key_is(const struct blk *b, const char *ascii) {
        size_t n = strlen(ascii);
        if (b->key_n != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (le16(b->key + 2 * i) != (uint8_t)ascii[i])
                        return false;
        return true;
}

/* UTF-16LE (up to the first NUL) to UTF-8, cut at a character boundary to
 * fit; control characters become '?'. -EINVAL on a lone surrogate. */
static int utf16_to_utf8(const uint8_t *s, size_t units, char *out, size_t out_size) {
        size_t o = 0;
        for (size_t i = 0; i < units; i++) {
                uint32_t c = le16(s + 2 * i);
                if (c == 0)
                        break;
                if (c >= 0xdc00 && c <= 0xdfff)
                        return -EINVAL;
                if (c >= 0xd800 && c <= 0xdbff) {
                        uint32_t lo = i + 1 < units ? le16(s + 2 * (i + 1)) : 0;
                        if (lo < 0xdc00 || lo > 0xdfff)
                                return -EINVAL;
                        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                        i++;
                }
                char u[4];
                size_t n;
                if (c < 0x20 || c == 0x7f)
                        u[0] = '?', n = 1;
                else if (c < 0x80)
                        u[0] = (char)c, n = 1;
                else if (c < 0x800)
                        u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), n = 2;
                else if (c < 0x10000)
                        u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 0x3f)),
                        u[2] = (char)(0x80 | (c & 0x3f)), n = 3;
                else
                        u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 0x3f)),
                        u[2] = (char)(0x80 | ((c >> 6) & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), n = 4;
                if (o + n >= out_size)
                        break;
                memcpy(out + o, u, n);
                o += n;
        }
        out[o] = '\0';
        return 0;
}

/* The String children of the first StringTable of a StringFileInfo block. */
static int string_file_info(const uint8_t *v, const struct blk *sfi, struct pe_version *ret) {
        if (sfi->children >= sfi->end)
                return 0;
        struct blk table;
        if (block(v, sfi->children, sfi->end, &table) < 0 || table.key_n != 8)
                return -EINVAL;
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
                { "OriginalFilename", offsetof(struct pe_version, original_filename) },
                { "InternalName", offsetof(struct pe_version, internal_name) },
                { "ProductName", offsetof(struct pe_version, product_name) },
                { "FileDescription", offsetof(struct pe_version, file_description) },
                { "CompanyName", offsetof(struct pe_version, company_name) },
                { "FileVersion", offsetof(struct pe_version, file_version) },
        };
        for (size_t p = table.children; p < table.end;) {
                struct blk s;
                if (block(v, p, table.end, &s) < 0)
                        return -EINVAL;
                for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                        if (key_is(&s, keys[i].key) &&
                            utf16_to_utf8(s.value, s.value_len / 2, (char *)ret + keys[i].off, PE_STRING_MAX) < 0)
                                return -EINVAL;
                p = align4(s.end);
        }
        return 0;
}

static int version_info(const uint8_t *v, size_t len, struct pe_version *ret) {
        struct blk top;
        if (block(v, 0, len, &top) < 0 || !key_is(&top, "VS_VERSION_INFO"))
                return -EINVAL;
        if (top.value_len != 0 && (top.value_len != 52 || le32(top.value) != 0xfeef04bdu))
                return -EINVAL;
        bool seen = false;
        for (size_t p = top.children; p < top.end;) {
                struct blk c;
                if (block(v, p, top.end, &c) < 0)
                        return -EINVAL;
                if (key_is(&c, "StringFileInfo") && !seen) {
                        seen = true;
                        if (string_file_info(v, &c, ret) < 0)
                                return -EINVAL;
                } else if (!key_is(&c, "VarFileInfo") && !key_is(&c, "StringFileInfo"))
                        return -EINVAL;
                p = align4(c.end);
        }
        return 0;
}

int pe_version_parse(const uint8_t *data, size_t size, struct pe_version *ret) {
        struct pe pe = { .data = data, .size = size };
        if (size < 64 || data[0] != 'M' || data[1] != 'Z')
                return -EINVAL;
        uint64_t h = le32(data + 0x3c);
        if (h + 24 > size || memcmp(data + h, "PE\0\0", 4) != 0)
                return -EINVAL;
        pe.n_sec = le16(data + h + 6);
        uint64_t opt = h + 24, opt_size = le16(data + h + 20);
        if (pe.n_sec > MAX_SECTIONS || opt + opt_size + 40ull * pe.n_sec > size || opt_size < 2)
                return -EINVAL;
        pe.sec = data + opt + opt_size;
        uint16_t magic = le16(data + opt);
        uint64_t nrva_at = magic == 0x10b ? 92 : magic == 0x20b ? 108 : 0;
        if (!nrva_at || nrva_at + 4 > opt_size)
                return -EINVAL;
        uint32_t nrva = le32(data + opt + nrva_at);
        uint64_t dirs = nrva_at + 4;
        if (nrva > 16 || dirs + 8ull * nrva > opt_size)
                return -EINVAL;
        if (nrva < 3)
                return -ENOENT;
        uint32_t res_rva = le32(data + opt + dirs + 16), res_len = le32(data + opt + dirs + 20);
        if (res_rva == 0 || res_len == 0)
                return -ENOENT;
        size_t res_off;
        if (rva_to_off(&pe, res_rva, res_len, &res_off) < 0)
                return -EINVAL;
        const uint8_t *res = data + res_off;

        int64_t e = res_dir_entry(res, res_len, 0, RT_VERSION);
        if (e < 0)
                return (int)e;
        for (int level = 0; level < 2; level++) {   /* name, then language: the first of each */
                if (!(e & 0x80000000))
                        return -EINVAL;
                e = res_dir_entry(res, res_len, (uint32_t)e & 0x7fffffffu, -1);
                if (e == -ENOENT)
                        return -EINVAL;
                if (e < 0)
                        return (int)e;
        }
        if (e & 0x80000000 || (uint64_t)e + 16 > res_len)
                return -EINVAL;
        uint32_t v_rva = le32(res + e), v_len = le32(res + e + 4);
        size_t v_off;
        if (v_len < 6 || v_len > VERSION_RES_MAX || rva_to_off(&pe, v_rva, v_len, &v_off) < 0)
                return -EINVAL;
        struct pe_version out = { 0 };
        int r = version_info(data + v_off, v_len, &out);
        if (r < 0)
                return r;
        *ret = out;
        return 0;
}
