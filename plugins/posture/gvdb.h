/* gvdb.h — a strict reader of GVDB files (the binary dconf databases: ~/.config/dconf/user, /etc/dconf/db/NAME). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GVDB_FILE_MAX (8u * 1024 * 1024)
#define GVDB_MAX_ITEMS 200000
#define GVDB_MAX_DEPTH 64       /* parent chain of one key */

/* One hash table of a file; every item was checked when it was opened. */
struct gvdb_table {
        const uint8_t *data;    /* the whole file */
        size_t size;
        const uint8_t *items;   /* 24 bytes each */
        uint32_t n_items;
};

/* A value: only the GVariant types dconf settings we read use are decoded. */
struct gvdb_value {
        char type;              /* 'b', 'u', 'i', 's', or '?' for any other type */
        bool b;
        uint32_t u;
        int32_t i;
        const char *s;          /* points into the file, NUL-terminated there */
};

/* Open the root table of a little-endian GVDB file (dconf writes the
 * machine's byte order; big-endian files are refused with -EPROTONOSUPPORT).
 * -EINVAL when any header, item, key or pointer is out of bounds or
 * malformed: a damaged database is never half-read. */
int gvdb_open(const uint8_t *data, size_t size, struct gvdb_table *ret);

/* Look up a full key ("/org/gnome/desktop/session/idle-delay"). -ENOENT if
 * absent, -EINVAL if its value is not a well-formed variant. */
int gvdb_get(const struct gvdb_table *t, const char *key, struct gvdb_value *ret);

/* Is key present in the table (of any item type)? */
bool gvdb_has(const struct gvdb_table *t, const char *key);

/* The nested table stored under key (dconf keeps its locks in ".locks"). */
int gvdb_subtable(const struct gvdb_table *t, const char *key, struct gvdb_table *ret);
