/* sbom.h — the SBOM the package installs (SPDX 2.3 JSON, written by packaging/sbom.py): its digest and what it says about sekisho. */
#pragma once

#include <stddef.h>

#define SBOM_MAX (8u << 20)     /* bytes; sekisho's own is about 60 KiB */

struct sbom {
        char sha256[2 * 32 + 1];        /* of the file as installed */
        char version[128];              /* the sekisho package's versionInfo */
        char source[2 * 32 + 1];        /* the source digest sekisho is GENERATED_FROM */
        size_t n_libraries;             /* packages of purpose LIBRARY */
};

/* What an SBOM document says: -EBADMSG when it is not an SPDX 2.3
 * document describing a versioned sekisho package built from a source
 * with a SHA256 digest; -ENOMEM. */
int sbom_parse(const char *data, size_t size, struct sbom *ret);

/* Read path (at most SBOM_MAX bytes), digest and parse it. On success
 * *ret_data (if asked for) holds the file, NUL-terminated. -errno of the
 * read, or sbom_parse's. */
int sbom_read(const char *path, struct sbom *ret, char **ret_data, size_t *ret_size);

/* One sentence for an auditor (the report's R10 row): the SBOM at path,
 * its SHA-256, the sekisho version and source it describes, how to print
 * it; or why there is none usable. running is this sekisho's version: an
 * SBOM of another version is pointed out. */
void sbom_describe(const char *path, const char *running, char *buf, size_t size);
