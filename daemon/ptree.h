/* ptree.h — YAML documents as a tree of positioned nodes, and the checks that report FILE:LINE:COL errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pnode_kind { PNODE_SCALAR, PNODE_SEQ, PNODE_MAP };

/* A node of a parsed document. Maps keep their keys in document order as
 * pairs (children[2i] = key scalar, children[2i+1] = value). Every node
 * remembers where it came from, so errors can point at it. Nodes belong to
 * their tree's memory and are freed with it. */
struct pnode {
        enum pnode_kind kind;
        unsigned line, col;     /* 1-based */
        bool quoted;            /* scalar was quoted: never a number/bool */
        const char *file;       /* owned by the ptree */
        char *scalar;           /* PNODE_SCALAR: the text (NUL-terminated) */
        size_t scalar_len;
        size_t n;               /* number of children */
        struct pnode **children;
};

struct ptree_chunk;

struct ptree {
        char *file;
        struct pnode *root;     /* NULL for an empty document */
        size_t nodes;
        bool view;              /* from ptree_merge_view(): points into the trees it merged */
        struct ptree_chunk *chunks; /* the memory of every node it made */
        size_t chunk_bytes;
};

/* Limits that bound what a hostile document can make us allocate. */
#define PTREE_MAX_DEPTH 32
#define PTREE_MAX_NODES (1u << 20)

#define PERRORS_MAX 200

/* An error list: each message is "FILE:LINE:COL: text". */
struct perrors {
        char **msgs;
        size_t n, cap;
        size_t n_errors;
};

void perrors_add(struct perrors *e, const char *file, unsigned line, unsigned col, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void perr(struct perrors *e, const struct pnode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pwarn(struct perrors *e, const struct pnode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void perrors_clear(struct perrors *e);
/* First error as one line, or NULL. */
const char *perrors_first(const struct perrors *e);

/* Parse a YAML buffer (anchors, aliases, tags and multiple documents are
 * refused). Returns 0, or -EINVAL with the errors in *errs. */
int ptree_parse(const char *file, const char *data, size_t size, struct ptree **ret, struct perrors *errs);
struct ptree *ptree_free(struct ptree *t);

/* Lookups. */
const struct pnode *pmap_get(const struct pnode *map, const char *key);
static inline const struct pnode *pmap_key(const struct pnode *map, size_t i) { return map->children[2 * i]; }
static inline const struct pnode *pmap_val(const struct pnode *map, size_t i) { return map->children[2 * i + 1]; }
static inline size_t pmap_len(const struct pnode *map) { return map ? map->n / 2 : 0; }

/* Typed scalar access; each returns -EINVAL if the node is not of that type. */
int pnode_bool(const struct pnode *n, bool *ret);
int pnode_int(const struct pnode *n, int64_t *ret);
int pnode_time(const struct pnode *n, int64_t *ret);
const char *pnode_str(const struct pnode *n); /* NULL unless a scalar */

/* Declarative schema for a mapping: unknown keys, missing required keys
 * and wrong types are reported in one pass. */
enum ptype {
        PT_ANY,
        PT_STRING,
        PT_INT,
        PT_BOOL,
        PT_TIME,          /* RFC 3339 */
        PT_MAP,
        PT_SEQ,
        PT_STRING_SEQ,    /* sequence of scalars */
        PT_ENUM,          /* one of .values */
};

struct pkey {
        const char *name;
        enum ptype type;
        bool required;
        int64_t min, max;         /* PT_INT: range when min < max */
        const char *const *values; /* PT_ENUM: NULL-terminated */
};

/* Returns the number of errors added. A NULL map checks only the required keys. */
size_t pmap_check(const struct pnode *map, const struct pkey *keys, struct perrors *errs);

/* A new tree: base with overlay merged over it. Maps merge key by key
 * (keys of base first, in order, then new keys of overlay); scalars and
 * sequences of the overlay replace those of base whole. Either may be NULL.
 * Positions are kept, so errors in the result point into the source. */
struct ptree *ptree_merge(const char *file, const struct pnode *base, const struct pnode *overlay);
/* The same merge without copying: the result makes only the maps where both
 * sides have one and points into base and overlay for everything else, so it
 * is valid only while they are (checking a 10 000-rule section merged over
 * the default copied every rule). ptree_free() frees only what it made. */
struct ptree *ptree_merge_view(const char *file, const struct pnode *base, const struct pnode *overlay);
