/* sbom.c — read the installed SBOM for sekishoctl sbom and the report's R10 row: its SHA-256, sekisho's version and source digest, the libraries it lists. */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "json.h"
#include "sbom.h"
#include "util.h"

static bool is_sha256_hex(const char *s) {
        return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static const struct json *by_id(const struct json *packages, const char *id) {
        for (size_t i = 0; id && i < packages->n; i++) {
                const char *p = json_string(json_get(packages->items[i], "SPDXID"));
                if (p && strcmp(p, id) == 0)
                        return packages->items[i];
        }
        return NULL;
}

/* The element related to from by a relationship of type, if exactly one is. */
static const char *related(const struct json *rels, const char *from, const char *type) {
        const char *found = NULL;
        for (size_t i = 0; from && i < rels->n; i++) {
                const struct json *r = rels->items[i];
                const char *a = json_string(json_get(r, "spdxElementId"));
                const char *t = json_string(json_get(r, "relationshipType"));
                const char *b = json_string(json_get(r, "relatedSpdxElement"));
                if (a && t && b && strcmp(a, from) == 0 && strcmp(t, type) == 0) {
                        if (found)
                                return NULL;
                        found = b;
                }
        }
        return found;
}

static int parse_tree(const struct json *doc, struct sbom *ret) {
        const struct json *packages = json_get(doc, "packages");
        const struct json *rels = json_get(doc, "relationships");
        const char *v = json_string(json_get(doc, "spdxVersion"));
        if (!v || strcmp(v, "SPDX-2.3") != 0 || !packages || packages->type != JSON_ARRAY || !rels ||
            rels->type != JSON_ARRAY)
                return -EBADMSG;
        const struct json *top = by_id(packages, related(rels, "SPDXRef-DOCUMENT", "DESCRIBES"));
        const char *name = json_string(json_get(top, "name"));
        const char *version = json_string(json_get(top, "versionInfo"));
        if (!name || strcmp(name, "sekisho") != 0 || !version || !*version || strlen(version) >= sizeof ret->version)
                return -EBADMSG;
        const struct json *src = by_id(packages, related(rels, json_string(json_get(top, "SPDXID")), "GENERATED_FROM"));
        const struct json *sums = json_get(src, "checksums");
        const char *digest = NULL;
        for (size_t i = 0; sums && sums->type == JSON_ARRAY && i < sums->n; i++) {
                const char *alg = json_string(json_get(sums->items[i], "algorithm"));
                if (alg && strcmp(alg, "SHA256") == 0)
                        digest = json_string(json_get(sums->items[i], "checksumValue"));
        }
        if (!is_sha256_hex(digest))
                return -EBADMSG;
        snprintf(ret->version, sizeof ret->version, "%s", version);
        snprintf(ret->source, sizeof ret->source, "%s", digest);
        ret->n_libraries = 0;
        for (size_t i = 0; i < packages->n; i++) {
                const char *purpose = json_string(json_get(packages->items[i], "primaryPackagePurpose"));
                ret->n_libraries += purpose && strcmp(purpose, "LIBRARY") == 0;
        }
        return 0;
}

int sbom_parse(const char *data, size_t size, struct sbom *ret) {
        struct json *doc = NULL;
        int r = json_parse(data, size, &doc);
        if (r == -ENOMEM)
                return r;
        r = r < 0 ? -EBADMSG : parse_tree(doc, ret);
        json_free(doc);
        return r;
}

int sbom_read(const char *path, struct sbom *ret, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(path, SBOM_MAX, &data, &size);
        if (r < 0)
                return r;
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const uint8_t *)data, size);
        r = sbom_parse(data, size, ret);
        if (r < 0)
                return r;
        hex_encode(h, sizeof h, ret->sha256);
        if (ret_data) {
                *ret_data = data;
                data = NULL;
                *ret_size = size;
        }
        return 0;
}

void sbom_describe(const char *path, const char *running, char *buf, size_t size) {
        struct sbom b;
        int r = sbom_read(path, &b, NULL, NULL);
        if (r < 0) {
                snprintf(buf, size, "NO usable SBOM at %s (%s): the package of this sekisho should carry one; the "
                         "secure-development evidence is the project's doc/ssdf.md", path,
                         r == -EBADMSG ? "not an SPDX 2.3 SBOM of sekisho" : strerror(-r));
                return;
        }
        size_t n = strlen(running);
        char note[192] = "";
        if (strncmp(b.version, running, n) != 0 || (b.version[n] != '\0' && b.version[n] != '-'))
                snprintf(note, sizeof note, "; NOTE: it describes sekisho %s, but sekisho %s is installed", b.version,
                         running);
        snprintf(buf, size, "a procurement and development measure: the package's SBOM %s (SPDX 2.3, sha256 %s) "
                 "lists package sekisho %s, built from source digest sha256:%s, and the %zu library packages it "
                 "links, with their versions (print it: sekishoctl sbom); secure development: doc/ssdf.md in "
                 "sekisho's source%s", path, b.sha256, b.version, b.source, b.n_libraries, note);
}
