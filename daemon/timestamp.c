/* timestamp.c — parse and check a repository timestamp file (timestamp.h): the one parser the fetcher and the daemon share. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "policy.h"
#include "timestamp.h"
#include "util.h"

static const struct pkey timestamp_keys[] = {
        { "sekisho-timestamp", PT_INT, true, 1, 1 },
        { "target", PT_STRING, true },
        { "bundle", PT_STRING, true },
        { "serial", PT_INT, true, 1, INT64_MAX },
        { "sha256", PT_STRING, true },
        { "size", PT_INT, true, 1, POLICY_MAX_SIZE },
        { "issued", PT_TIME, true },
        { "expires", PT_TIME, true },
        { NULL },
};

static bool bundle_name_ok(const char *s) {
        size_t n = strlen(s);
        return n >= 6 && n <= TIMESTAMP_NAME_MAX && strcmp(s + n - 5, ".yaml") == 0 && name_is_plain(s);
}

bool timestamp_target_ok(const char *s) {
        if (strcmp(s, "all") == 0)
                return true;
        const char *name = strncmp(s, "host:", 5) == 0 ? s + 5 : strncmp(s, "group:", 6) == 0 ? s + 6 : NULL;
        return name && strlen(name) <= TIMESTAMP_NAME_MAX && name_is_plain(name);
}

int timestamp_parse(const char *file, const char *data, size_t size, struct timestamp *ret, struct perrors *errs) {
        struct ptree *t = NULL;
        int r = ptree_parse(file, data, size, &t, errs);
        if (r < 0)
                return r;
        struct timestamp ts = { 0 };
        const struct pnode *root = t->root;
        if (!root || root->kind != PNODE_MAP) {
                perrors_add(errs, file, 1, 1, "a timestamp is a mapping (sekisho-timestamp: 1, target, bundle, ...)");
                goto bad;
        }
        if (pmap_check(root, timestamp_keys, errs) > 0)
                goto bad;

        const struct pnode *n = pmap_get(root, "target");
        if (!timestamp_target_ok(n->scalar)) {
                perr(errs, n, "target must be all, host:ID or group:NAME (letters, digits, . _ -)");
                goto bad;
        }
        strcpy(ts.target, n->scalar);
        n = pmap_get(root, "bundle");
        if (!bundle_name_ok(n->scalar)) {
                perr(errs, n, "bundle must be a plain file name ending in .yaml (letters, digits, . _ -)");
                goto bad;
        }
        strcpy(ts.bundle, n->scalar);
        n = pmap_get(root, "sha256");
        if (hex_decode(n->scalar, ts.sha256, sizeof ts.sha256) < 0) {
                perr(errs, n, "sha256 must be 64 hexadecimal digits");
                goto bad;
        }
        int64_t v;
        pnode_int(pmap_get(root, "serial"), &v);
        ts.serial = (uint64_t)v;
        pnode_int(pmap_get(root, "size"), &v);
        ts.size = (uint64_t)v;
        pnode_time(pmap_get(root, "issued"), &ts.issued);
        n = pmap_get(root, "expires");
        pnode_time(n, &ts.expires);
        if (ts.expires <= ts.issued) {
                perr(errs, n, "expires must be after issued");
                goto bad;
        }
        ptree_free(t);
        *ret = ts;
        return 0;
bad:
        ptree_free(t);
        return -EINVAL;
}
