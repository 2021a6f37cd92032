/* timestamp.h — the repository's freshness file: which bundle is current for a target, its digest and size, and until when that statement holds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ptree.h"

#define TIMESTAMP_MAX_SIZE (64u * 1024)   /* cap checked before a timestamp is read */
#define TIMESTAMP_NAME_MAX 128            /* the bundle's file name */

/* timestamp.yaml, signed (timestamp.yaml.minisig) by a key of the trust
 * root's timestamp role:
 *   sekisho-timestamp: 1
 *   target: group:takeout            # host:ID, group:NAME or all
 *   bundle: takeout-2026120301.yaml  # a file name in the same directory
 *   serial: 2026120301
 *   sha256: <64 hex digits>          # of the bundle's bytes
 *   size: 18231
 *   issued: 2026-12-03T09:00:00Z
 *   expires: 2026-12-04T09:00:00Z */
struct timestamp {
        char target[TIMESTAMP_NAME_MAX + 8];
        char bundle[TIMESTAMP_NAME_MAX + 1];
        uint64_t serial;
        uint8_t sha256[32];
        uint64_t size;
        int64_t issued, expires;
};

/* Parse and check one; errors name file, line and column. -EINVAL on any
 * problem (unknown key, wrong type, a bundle name with a path in it, expires
 * not after issued, ...). */
int timestamp_parse(const char *file, const char *data, size_t size, struct timestamp *ret, struct perrors *errs);

/* all, host:ID or group:NAME with a plain name (name_is_plain, util.h). */
bool timestamp_target_ok(const char *s);
