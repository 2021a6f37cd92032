/* ptree.c — libyaml events to a positioned tree; schema checks, typed access and profile merging. */
#include "config.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <yaml.h>

#include "ptree.h"
#include "util.h"

/* ---- errors ---- */

static void perrors_vadd(struct perrors *e, bool warning, const char *file, unsigned line, unsigned col,
                         const char *fmt, va_list ap) {
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        if (e->n >= PERRORS_MAX)
                return;
        if (ARRAY_GROW(e->msgs, e->cap, e->n + 1) < 0)
                return;
        char *s;
        if (asprintf(&s, "%s:%u:%u: %s%s", file ? file : "<policy>", line, col, warning ? "warning: " : "", msg) < 0)
                return;
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->msgs[i], s) == 0) { /* the same node seen through two profiles */
                        free(s);
                        return;
                }
        if (e->n == PERRORS_MAX - 1) {
                free(s);
                if (asprintf(&s, "%s:%u:%u: too many errors, stopping here", file ? file : "<policy>", line, col) < 0)
                        return;
        }
        e->msgs[e->n++] = s;
        if (!warning)
                e->n_errors++;
}

void perrors_add(struct perrors *e, const char *file, unsigned line, unsigned col, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        perrors_vadd(e, false, file, line, col, fmt, ap);
        va_end(ap);
}

void perr(struct perrors *e, const struct pnode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        perrors_vadd(e, false, at ? at->file : NULL, at ? at->line : 1, at ? at->col : 1, fmt, ap);
        va_end(ap);
}

void pwarn(struct perrors *e, const struct pnode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        perrors_vadd(e, true, at ? at->file : NULL, at ? at->line : 1, at ? at->col : 1, fmt, ap);
        va_end(ap);
}

void perrors_clear(struct perrors *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->msgs[i]);
        free(e->msgs);
        *e = (struct perrors){ 0 };
}

const char *perrors_first(const struct perrors *e) {
        for (size_t i = 0; i < e->n; i++)
                if (!strstr(e->msgs[i], ": warning: "))
                        return e->msgs[i];
        return NULL;
}

/* ---- tree ---- */

/* Every node, scalar and child array of a tree is carved from its chunks and
 * freed with them at once: a 10 000-rule policy is 20 000 pieces, and
 * allocating them one by one was a fifth of its install. */
struct ptree_chunk {
        struct ptree_chunk *next;
        size_t size, used;
        alignas(max_align_t) unsigned char data[];
};

#define PTREE_CHUNK_MIN (4096 - sizeof(struct ptree_chunk) - 16)
#define PTREE_CHUNK_MAX ((size_t)1 << 20)

static void *tree_alloc(struct ptree *t, size_t size, size_t align) {
        struct ptree_chunk *c = t->chunks;
        size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
        if (!c || at > c->size || size > c->size - at) {
                /* Each chunk as large as all before it together (so a tree of any size takes few), up to a limit. */
                size_t want = t->chunk_bytes < PTREE_CHUNK_MIN ? PTREE_CHUNK_MIN : t->chunk_bytes;
                if (want > PTREE_CHUNK_MAX)
                        want = PTREE_CHUNK_MAX;
                if (want < size)
                        want = size;
                c = malloc(sizeof *c + want);
                if (!c)
                        return NULL;
                c->size = want;
                c->next = t->chunks;
                t->chunks = c;
                t->chunk_bytes += want;
                at = 0;
        }
        c->used = at + size;
        return c->data + at;
}

/* Room for n children of node (none at all for an empty collection): 0 or -ENOMEM. */
static int children_new(struct ptree *t, struct pnode *node, size_t n) {
        node->children = n ? tree_alloc(t, n * sizeof(struct pnode *), alignof(struct pnode *)) : NULL;
        return n && !node->children ? -ENOMEM : 0;
}

static char *scalar_new(struct ptree *t, const char *s, size_t len) {
        char *c = tree_alloc(t, len + 1, 1);
        if (c) {
                memcpy(c, s, len);
                c[len] = '\0';
        }
        return c;
}

struct ptree *ptree_free(struct ptree *t) {
        if (!t)
                return NULL;
        while (t->chunks) {
                struct ptree_chunk *c = t->chunks;
                t->chunks = c->next;
                free(c);
        }
        free(t->file);
        free(t);
        return NULL;
}

static struct ptree *tree_new(const char *file) {
        struct ptree *t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->file = strdup(file);
        return t->file ? t : ptree_free(t);
}

static struct pnode *node_new(struct ptree *t, enum pnode_kind kind, unsigned line, unsigned col) {
        if (t->nodes >= PTREE_MAX_NODES)
                return NULL;
        struct pnode *n = tree_alloc(t, sizeof *n, alignof(struct pnode));
        if (!n)
                return NULL;
        *n = (struct pnode){ .kind = kind, .line = line, .col = col, .file = t->file };
        t->nodes++;
        return n;
}

static const char *event_name(yaml_event_type_t t) {
        switch (t) {
        case YAML_ALIAS_EVENT: return "an alias";
        default: return "this construct";
        }
}

/* Recursive descent over the event stream. */
struct builder {
        yaml_parser_t parser;
        struct ptree *t;
        struct perrors *errs;
        struct pnode **stack; /* the children read so far of each open collection, innermost last */
        size_t n_stack, cap_stack;
};

static int next_event(struct builder *b, yaml_event_t *ev) {
        if (!yaml_parser_parse(&b->parser, ev)) {
                perrors_add(b->errs, b->t->file, (unsigned)b->parser.problem_mark.line + 1,
                            (unsigned)b->parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
                            b->parser.problem ? b->parser.problem : "unknown problem",
                            b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
                return -EINVAL;
        }
        return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct pnode **ret);

static bool key_seen(struct pnode *const *keys, size_t n, const struct pnode *key) {
        for (size_t i = 0; i < n; i += 2)
                if (keys[i]->scalar_len == key->scalar_len && memcmp(keys[i]->scalar, key->scalar, key->scalar_len) == 0)
                        return true;
        return false;
}

static int build_children(struct builder *b, struct pnode *n, yaml_event_type_t end, unsigned depth) {
        size_t first = b->n_stack;
        for (;;) {
                yaml_event_t ev;
                int r = next_event(b, &ev);
                if (r < 0)
                        return r;
                if (ev.type == end) {
                        yaml_event_delete(&ev);
                        break;
                }
                struct pnode *child;
                r = build_node(b, &ev, depth + 1, &child);
                if (r < 0)
                        return r;
                if (n->kind == PNODE_MAP && (b->n_stack - first) % 2 == 0) {
                        if (child->kind != PNODE_SCALAR) {
                                perr(b->errs, child, "mapping keys must be plain scalars");
                                return -EINVAL;
                        }
                        if (key_seen(b->stack + first, b->n_stack - first, child)) {
                                perr(b->errs, child, "duplicate key '%s'", child->scalar);
                                return -EINVAL;
                        }
                }
                if (ARRAY_GROW(b->stack, b->cap_stack, b->n_stack + 1) < 0)
                        return -ENOMEM;
                b->stack[b->n_stack++] = child;
        }
        n->n = b->n_stack - first;
        if (children_new(b->t, n, n->n) < 0)
                return -ENOMEM;
        if (n->n)
                memcpy(n->children, b->stack + first, n->n * sizeof *n->children);
        b->n_stack = first;
        return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct pnode **ret) {
        unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
        const yaml_char_t *anchor = NULL, *tag = NULL;
        enum pnode_kind kind;

        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                kind = PNODE_SCALAR;
                anchor = ev->data.scalar.anchor;
                tag = ev->data.scalar.tag;
                break;
        case YAML_SEQUENCE_START_EVENT:
                kind = PNODE_SEQ;
                anchor = ev->data.sequence_start.anchor;
                tag = ev->data.sequence_start.tag;
                break;
        case YAML_MAPPING_START_EVENT:
                kind = PNODE_MAP;
                anchor = ev->data.mapping_start.anchor;
                tag = ev->data.mapping_start.tag;
                break;
        default:
                perrors_add(b->errs, b->t->file, line, col, "%s is not allowed in a policy", event_name(ev->type));
                yaml_event_delete(ev);
                return -EINVAL;
        }
        if (anchor || tag) {
                perrors_add(b->errs, b->t->file, line, col, "%s not allowed in a policy",
                            anchor ? "anchors are" : "tags are");
                yaml_event_delete(ev);
                return -EINVAL;
        }
        if (depth > PTREE_MAX_DEPTH) {
                perrors_add(b->errs, b->t->file, line, col, "nested deeper than %d levels", PTREE_MAX_DEPTH);
                yaml_event_delete(ev);
                return -EINVAL;
        }
        struct pnode *n = node_new(b->t, kind, line, col);
        if (!n) {
                if (b->t->nodes >= PTREE_MAX_NODES)
                        perrors_add(b->errs, b->t->file, line, col, "document too large (more than %u nodes)",
                                    PTREE_MAX_NODES);
                yaml_event_delete(ev);
                return b->t->nodes >= PTREE_MAX_NODES ? -EINVAL : -ENOMEM;
        }
        *ret = n;
        if (kind != PNODE_SCALAR) {
                yaml_event_delete(ev);
                return build_children(b, n, kind == PNODE_SEQ ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth);
        }
        const char *value = (const char *)ev->data.scalar.value;
        n->scalar_len = ev->data.scalar.length;
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        bool nul = memchr(value, '\0', n->scalar_len) != NULL;
        n->scalar = nul ? NULL : scalar_new(b->t, value, n->scalar_len);
        yaml_event_delete(ev);
        if (nul) {
                perr(b->errs, n, "NUL byte in a scalar");
                return -EINVAL;
        }
        return n->scalar ? 0 : -ENOMEM;
}

static int expect(struct builder *b, yaml_event_type_t type, const char *what) {
        yaml_event_t ev;
        int r = next_event(b, &ev);
        if (r < 0)
                return r;
        if (ev.type != type) {
                perrors_add(b->errs, b->t->file, (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                            "%s", what);
                yaml_event_delete(&ev);
                return -EINVAL;
        }
        yaml_event_delete(&ev);
        return 0;
}

int ptree_parse(const char *file, const char *data, size_t size, struct ptree **ret, struct perrors *errs) {
        struct ptree *t = tree_new(file);
        if (!t)
                return -ENOMEM;
        struct builder b = { .t = t, .errs = errs };
        if (!yaml_parser_initialize(&b.parser)) {
                ptree_free(t);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, size);
        yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);

        int r = expect(&b, YAML_STREAM_START_EVENT, "not a YAML stream");
        yaml_event_t ev;
        if (r == 0)
                r = next_event(&b, &ev);
        if (r == 0 && ev.type == YAML_DOCUMENT_START_EVENT) {
                yaml_event_delete(&ev);
                r = next_event(&b, &ev);
                if (r == 0 && ev.type == YAML_DOCUMENT_END_EVENT)
                        yaml_event_delete(&ev); /* empty document */
                else if (r == 0) {
                        r = build_node(&b, &ev, 0, &t->root);
                        if (r == 0)
                                r = expect(&b, YAML_DOCUMENT_END_EVENT, "only one value per document");
                }
                if (r == 0)
                        r = expect(&b, YAML_STREAM_END_EVENT, "only one document per file is allowed");
        } else if (r == 0) /* stream end: empty input */
                yaml_event_delete(&ev);
        yaml_parser_delete(&b.parser);
        free(b.stack);
        if (r < 0) {
                ptree_free(t);
                return r == -ENOMEM ? r : -EINVAL;
        }
        *ret = t;
        return 0;
}

/* ---- access ---- */

const struct pnode *pmap_get(const struct pnode *map, const char *key) {
        if (!map || map->kind != PNODE_MAP)
                return NULL;
        for (size_t i = 0; i + 1 < map->n; i += 2)
                if (strcmp(map->children[i]->scalar, key) == 0)
                        return map->children[i + 1];
        return NULL;
}

const char *pnode_str(const struct pnode *n) { return n && n->kind == PNODE_SCALAR ? n->scalar : NULL; }

int pnode_bool(const struct pnode *n, bool *ret) {
        const char *s = pnode_str(n);
        if (!s || n->quoted)
                return -EINVAL;
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
                *ret = true;
        else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

int pnode_int(const struct pnode *n, int64_t *ret) {
        const char *s = pnode_str(n);
        if (!s || n->quoted || !*s)
                return -EINVAL;
        bool neg = *s == '-';
        uint64_t v;
        if (parse_u64(s + neg, &v) < 0 || v > (uint64_t)INT64_MAX)
                return -EINVAL;
        *ret = neg ? -(int64_t)v : (int64_t)v;
        return 0;
}

int pnode_time(const struct pnode *n, int64_t *ret) {
        const char *s = pnode_str(n);
        return s ? parse_rfc3339(s, ret) : -EINVAL;
}

static const char *ptype_name(enum ptype t) {
        switch (t) {
        case PT_STRING: return "a string";
        case PT_INT: return "an integer";
        case PT_BOOL: return "true or false";
        case PT_TIME: return "an RFC 3339 time such as 2026-11-20T09:00:00+09:00";
        case PT_MAP: return "a mapping";
        case PT_SEQ: return "a list";
        case PT_STRING_SEQ: return "a list of strings";
        case PT_ENUM: return "one of";
        default: return "a value";
        }
}

static bool enum_has(const char *const *values, const char *s) {
        for (; *values; values++)
                if (strcmp(*values, s) == 0)
                        return true;
        return false;
}

static void check_value(const struct pnode *v, const struct pkey *k, struct perrors *errs) {
        int64_t i;
        bool b;
        switch (k->type) {
        case PT_ANY:
                return;
        case PT_STRING:
                if (v->kind != PNODE_SCALAR)
                        break;
                return;
        case PT_INT:
                if (pnode_int(v, &i) < 0)
                        break;
                if (k->min < k->max && (i < k->min || i > k->max))
                        perr(errs, v, "'%s' must be between %lld and %lld", k->name, (long long)k->min,
                             (long long)k->max);
                return;
        case PT_BOOL:
                if (pnode_bool(v, &b) < 0)
                        break;
                return;
        case PT_TIME:
                if (pnode_time(v, &i) < 0)
                        break;
                return;
        case PT_MAP:
                if (v->kind != PNODE_MAP)
                        break;
                return;
        case PT_SEQ:
                if (v->kind != PNODE_SEQ)
                        break;
                return;
        case PT_STRING_SEQ:
                if (v->kind != PNODE_SEQ)
                        break;
                for (size_t j = 0; j < v->n; j++)
                        if (v->children[j]->kind != PNODE_SCALAR)
                                perr(errs, v->children[j], "'%s' must be a list of strings", k->name);
                return;
        case PT_ENUM:
                if (v->kind == PNODE_SCALAR && enum_has(k->values, v->scalar))
                        return;
                {
                        char list[256] = "";
                        for (const char *const *e = k->values; *e; e++) {
                                strncat(list, *e, sizeof list - strlen(list) - 1);
                                if (e[1])
                                        strncat(list, ", ", sizeof list - strlen(list) - 1);
                        }
                        perr(errs, v, "'%s' must be one of: %s", k->name, list);
                }
                return;
        }
        perr(errs, v, "'%s' must be %s", k->name, ptype_name(k->type));
}

size_t pmap_check(const struct pnode *map, const struct pkey *keys, struct perrors *errs) {
        size_t before = errs->n_errors;
        if (map && map->kind != PNODE_MAP) {
                perr(errs, map, "expected a mapping");
                return errs->n_errors - before;
        }
        for (size_t i = 0; i < pmap_len(map); i++) {
                const struct pnode *key = pmap_key(map, i);
                const struct pkey *k = keys;
                for (; k->name; k++)
                        if (strcmp(k->name, key->scalar) == 0)
                                break;
                if (!k->name) {
                        perr(errs, key, "unknown key '%s'", key->scalar);
                        continue;
                }
                check_value(pmap_val(map, i), k, errs);
        }
        for (const struct pkey *k = keys; k->name; k++)
                if (k->required && !pmap_get(map, k->name))
                        perr(errs, map, "missing required key '%s'", k->name);
        return errs->n_errors - before;
}

/* ---- merging ---- */

static struct pnode *copy_node(struct ptree *t, const struct pnode *src) {
        struct pnode *n = node_new(t, src->kind, src->line, src->col);
        if (!n)
                return NULL;
        n->quoted = src->quoted;
        if (src->kind == PNODE_SCALAR) {
                n->scalar = scalar_new(t, src->scalar, src->scalar_len);
                n->scalar_len = src->scalar_len;
                return n->scalar ? n : NULL;
        }
        if (children_new(t, n, src->n) < 0)
                return NULL;
        for (; n->n < src->n; n->n++)
                if (!(n->children[n->n] = copy_node(t, src->children[n->n])))
                        return NULL;
        return n;
}

/* A subtree of one side as it is: a copy, or the node itself when borrowing. */
static struct pnode *take_node(struct ptree *t, const struct pnode *src) {
        return t->view ? (struct pnode *)src : copy_node(t, src);
}

/* NULL when out of memory (what was made is freed with the tree). */
static struct pnode *merge_node(struct ptree *t, const struct pnode *base, const struct pnode *over) {
        if (!over)
                return take_node(t, base);
        if (!base || base->kind != PNODE_MAP || over->kind != PNODE_MAP)
                return take_node(t, over);
        struct pnode *n = node_new(t, PNODE_MAP, base->line, base->col);
        if (!n || children_new(t, n, base->n + over->n) < 0)
                return NULL;
        for (size_t i = 0; i < pmap_len(base); i++) {
                const struct pnode *k = pmap_key(base, i);
                if (!(n->children[n->n++] = take_node(t, k)) ||
                    !(n->children[n->n++] = merge_node(t, pmap_val(base, i), pmap_get(over, k->scalar))))
                        return NULL;
        }
        for (size_t i = 0; i < pmap_len(over); i++) {
                const struct pnode *k = pmap_key(over, i);
                if (pmap_get(base, k->scalar))
                        continue;
                if (!(n->children[n->n++] = take_node(t, k)) || !(n->children[n->n++] = take_node(t, pmap_val(over, i))))
                        return NULL;
        }
        return n;
}

static struct ptree *merge(const char *file, const struct pnode *base, const struct pnode *overlay, bool view) {
        struct ptree *t = tree_new(file ? file : "<policy>");
        if (!t)
                return NULL;
        t->view = view;
        if ((base || overlay) && !(t->root = merge_node(t, base, overlay)))
                return ptree_free(t);
        return t;
}

struct ptree *ptree_merge(const char *file, const struct pnode *base, const struct pnode *overlay) {
        return merge(file, base, overlay, false);
}

struct ptree *ptree_merge_view(const char *file, const struct pnode *base, const struct pnode *overlay) {
        return merge(file, base, overlay, true);
}
