/* json.c — a small bounded JSON reader for the files sekisho writes itself (status.json, audit lines). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

struct jp {
        const char *p, *end;
        unsigned nodes;
};

struct json *json_free(struct json *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n; i++) {
                if (v->keys)
                        free(v->keys[i]);
                if (v->items)
                        json_free(v->items[i]);
        }
        free(v->keys);
        free(v->items);
        free(v->text);
        free(v);
        return NULL;
}

static void skip_ws(struct jp *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static void put_utf8(char *out, size_t *o, uint32_t c) {
        if (c < 0x80)
                out[(*o)++] = (char)c;
        else if (c < 0x800) {
                out[(*o)++] = (char)(0xc0 | (c >> 6));
                out[(*o)++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
                out[(*o)++] = (char)(0xe0 | (c >> 12));
                out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
                out[(*o)++] = (char)(0x80 | (c & 0x3f));
        } else {
                out[(*o)++] = (char)(0xf0 | (c >> 18));
                out[(*o)++] = (char)(0x80 | ((c >> 12) & 0x3f));
                out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
                out[(*o)++] = (char)(0x80 | (c & 0x3f));
        }
}

static int hex4(const char *s, uint32_t *ret) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t)(c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* At the opening quote. The decoded text is never longer than the encoded one. */
static int parse_string(struct jp *j, char **ret) {
        j->p++;
        const char *start = j->p;
        while (j->p < j->end && *j->p != '"') {
                if (*j->p == '\\')
                        j->p++;
                j->p++;
        }
        if (j->p >= j->end)
                return -EINVAL;
        size_t len = (size_t)(j->p - start);
        _cleanup_free_ char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (const char *s = start; s < j->p; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20)
                        return -EINVAL;
                if (c != '\\') {
                        out[o++] = (char)c;
                        continue;
                }
                s++;
                switch (*s) {
                case '"': out[o++] = '"'; break;
                case '\\': out[o++] = '\\'; break;
                case '/': out[o++] = '/'; break;
                case 'b': out[o++] = '\b'; break;
                case 'f': out[o++] = '\f'; break;
                case 'n': out[o++] = '\n'; break;
                case 'r': out[o++] = '\r'; break;
                case 't': out[o++] = '\t'; break;
                case 'u': {
                        uint32_t cp, lo;
                        if (j->p - s < 5 || hex4(s + 1, &cp) < 0)
                                return -EINVAL;
                        s += 4;
                        if (cp >= 0xd800 && cp < 0xdc00) {
                                if (j->p - s < 7 || s[1] != '\\' || s[2] != 'u' || hex4(s + 3, &lo) < 0 ||
                                    lo < 0xdc00 || lo > 0xdfff)
                                        return -EINVAL;
                                s += 6;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        } else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0)
                                return -EINVAL;
                        /* "\uXXXX" is six bytes, its UTF-8 at most three; a pair is twelve for four. */
                        put_utf8(out, &o, cp);
                        break;
                }
                default:
                        return -EINVAL;
                }
        }
        out[o] = '\0';
        j->p++;
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_value(struct jp *j, unsigned depth, struct json **ret);

static int add_item(struct json *v, char *key, struct json *item) {
        size_t ic = v->cap, kc = v->cap;
        if (ARRAY_GROW(v->items, ic, v->n + 1) < 0 ||
            (v->type == JSON_OBJECT && ARRAY_GROW(v->keys, kc, v->n + 1) < 0))
                return -ENOMEM;
        v->cap = v->type == JSON_OBJECT && kc < ic ? kc : ic;
        if (v->type == JSON_OBJECT)
                v->keys[v->n] = key;
        v->items[v->n++] = item;
        return 0;
}

static int parse_container(struct jp *j, unsigned depth, struct json *v) {
        char close = v->type == JSON_OBJECT ? '}' : ']';
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == close) {
                j->p++;
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *key = NULL;
                skip_ws(j);
                if (v->type == JSON_OBJECT) {
                        if (j->p >= j->end || *j->p != '"')
                                return -EINVAL;
                        int r = parse_string(j, &key);
                        if (r < 0)
                                return r;
                        skip_ws(j);
                        if (j->p >= j->end || *j->p != ':')
                                return -EINVAL;
                        j->p++;
                }
                struct json *item = NULL;
                int r = parse_value(j, depth + 1, &item);
                if (r < 0)
                        return r;
                r = add_item(v, key, item);
                if (r < 0) {
                        json_free(item);
                        return r;
                }
                key = NULL;
                skip_ws(j);
                if (j->p >= j->end)
                        return -EINVAL;
                if (*j->p == close) {
                        j->p++;
                        return 0;
                }
                if (*j->p != ',')
                        return -EINVAL;
                j->p++;
        }
}

static bool take_word(struct jp *j, const char *w) {
        size_t n = strlen(w);
        if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
                return false;
        j->p += n;
        return true;
}

static int parse_value(struct jp *j, unsigned depth, struct json **ret) {
        if (depth > JSON_MAX_DEPTH || ++j->nodes > JSON_MAX_NODES)
                return -EINVAL;
        skip_ws(j);
        if (j->p >= j->end)
                return -EINVAL;
        struct json *v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        int r = 0;
        char c = *j->p;
        if (c == '{' || c == '[') {
                v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
                r = parse_container(j, depth, v);
        } else if (c == '"') {
                v->type = JSON_STRING;
                r = parse_string(j, &v->text);
        } else if (take_word(j, "true") || take_word(j, "false")) {
                v->type = JSON_BOOL;
                v->boolean = j->p[-1] == 'e' && j->p[-2] == 'u';
        } else if (take_word(j, "null"))
                v->type = JSON_NULL;
        else if (c == '-' || (c >= '0' && c <= '9')) {
                const char *s = j->p;
                if (*j->p == '-')
                        j->p++;
                size_t digits = 0;
                while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
                                         *j->p == 'E' || *j->p == '+' || *j->p == '-')) {
                        j->p++;
                        digits++;
                }
                v->type = JSON_NUMBER;
                v->text = digits ? strndup(s, (size_t)(j->p - s)) : NULL;
                r = digits ? (v->text ? 0 : -ENOMEM) : -EINVAL;
        } else
                r = -EINVAL;
        if (r < 0) {
                json_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

/* Well-formed UTF-8, shortest forms, no surrogates; control characters are
 * allowed (the printers escape them). */
static bool utf8_valid(const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                unsigned c = *p, n, cp;
                if (c < 0x80) {
                        p++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
                else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
                else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
                else return false;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;   /* also stops at the NUL */
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };
                if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                        return false;
                p += n + 1;
        }
        return true;
}

/* Every string of the tree is valid UTF-8 (no NUL: \u0000 is refused). */
static bool strings_valid(const struct json *v) {
        if (v->type == JSON_STRING && !utf8_valid(v->text))
                return false;
        for (size_t i = 0; i < v->n; i++)
                if ((v->keys && !utf8_valid(v->keys[i])) || !strings_valid(v->items[i]))
                        return false;
        return true;
}

int json_parse(const char *data, size_t size, struct json **ret) {
        struct jp j = { data, data + size, 0 };
        struct json *v = NULL;
        int r = parse_value(&j, 0, &v);
        if (r < 0)
                return r;
        skip_ws(&j);
        if (j.p != j.end || !strings_valid(v)) {
                json_free(v);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

const struct json *json_get(const struct json *obj, const char *key) {
        if (!obj || obj->type != JSON_OBJECT)
                return NULL;
        for (size_t i = 0; i < obj->n; i++)
                if (strcmp(obj->keys[i], key) == 0)
                        return obj->items[i];
        return NULL;
}

const char *json_string(const struct json *v) {
        return v && v->type == JSON_STRING ? v->text : NULL;
}

bool json_u64(const struct json *v, uint64_t *ret) {
        return v && v->type == JSON_NUMBER && v->text[0] != '-' && parse_u64(v->text, ret) == 0;
}
