/* json.h — a small bounded JSON reader for the files sekisho writes itself (status.json, audit lines). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES 100000u

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* A parsed value. Strings are NUL-terminated UTF-8 (escapes decoded; a
 * \u0000 or an invalid byte makes the document invalid); numbers keep their
 * text. Objects keep keys in order (keys[i] names items[i]). */
struct json {
        enum json_type type;
        bool boolean;
        char *text;                /* JSON_STRING, JSON_NUMBER */
        size_t n, cap;
        char **keys;               /* JSON_OBJECT */
        struct json **items;       /* JSON_ARRAY, JSON_OBJECT */
};

/* Parse exactly one value (surrounding white space allowed). -EINVAL for
 * anything malformed, nested deeper than JSON_MAX_DEPTH or larger than
 * JSON_MAX_NODES values; -ENOMEM. */
int json_parse(const char *data, size_t size, struct json **ret);
struct json *json_free(struct json *v);

/* Lookups that accept NULL and the wrong type (returning NULL / false). */
const struct json *json_get(const struct json *obj, const char *key);
const char *json_string(const struct json *v);      /* NULL unless a string */
bool json_u64(const struct json *v, uint64_t *ret);  /* a non-negative integer number */
