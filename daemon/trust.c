/* trust.c — the keys a terminal trusts: the signed trust root (roles, thresholds, revocation, rotation), keys.d, StrictModes. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "util.h"

#define ROOT_NAME "root.yaml"
#define ROOT_SIG_NAME "root.yaml.minisig"
#define ROOT_FORMAT 1
#define ROOT_MAX_SIZE (256u * 1024)
#define ANCHOR_DIR "trust"

static const char *const role_names[TRUST_ROLES] = { "root", "policy", "timestamp" };

const char *trust_role_name(unsigned role) {
        for (unsigned i = 0; i < TRUST_ROLES; i++)
                if (role == 1u << i)
                        return role_names[i];
        return "?";
}

static unsigned role_index(unsigned role) {
        for (unsigned i = 0; i < TRUST_ROLES; i++)
                if (role == 1u << i)
                        return i;
        return 0;
}

void keyring_done(struct keyring *k) {
        for (size_t i = 0; i < k->n; i++)
                free(k->keys[i].name);
        free(k->keys);
        free(k->revoked);
        free(k->root_data);
        free(k->root_sig);
        perrors_clear(&k->problems);
        *k = (struct keyring){ 0 };
}

bool keyring_revoked(const struct keyring *k, const uint8_t keynum[MINISIGN_KEYNUM_BYTES]) {
        for (size_t i = 0; k && i < k->n_revoked; i++)
                if (memcmp(k->revoked[i], keynum, MINISIGN_KEYNUM_BYTES) == 0)
                        return true;
        return false;
}

const struct trust_key *keyring_find(const struct keyring *k, const uint8_t keynum[MINISIGN_KEYNUM_BYTES], unsigned role) {
        for (size_t i = 0; k && i < k->n; i++)
                if ((k->keys[i].roles & role) && memcmp(k->keys[i].pub.keynum, keynum, MINISIGN_KEYNUM_BYTES) == 0)
                        return keyring_revoked(k, keynum) ? NULL : &k->keys[i];
        return NULL;
}

/* One refusal for the status, the report and the audit log: "PATH: what is wrong". */
_printf_(3, 4) static void problem(struct perrors *e, const char *path, const char *fmt, ...) {
        char msg[768], *s;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (e->n >= PERRORS_MAX || ARRAY_GROW(e->msgs, e->cap, e->n + 1) < 0 || asprintf(&s, "%s: %s", path, msg) < 0)
                return;
        e->msgs[e->n++] = s;
        e->n_errors++;
}

/* ---- StrictModes ---- */

int trust_open_strict(const char *path, bool dir, int *ret_fd, char *why, size_t why_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (dir ? O_DIRECTORY : O_NOFOLLOW));
        if (fd < 0) {
                int r = -errno;
                snprintf(why, why_size, "%s", r == -ELOOP ? "a symbolic link, not trusted" : strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                snprintf(why, why_size, "%s", strerror(errno));
                return -errno;
        }
        if (!dir && !S_ISREG(st.st_mode)) {
                snprintf(why, why_size, "not a regular file, not trusted");
                return -EPERM;
        }
        /* As sshd: root's, or the user's own when a test runs it unprivileged. */
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                snprintf(why, why_size, "owned by uid %u, not root; not trusted (chown root %s)", (unsigned)st.st_uid,
                         path);
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, why_size, "writable by %s (mode %04o); not trusted (chmod go-w %s)",
                         (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777), path);
                return -EPERM;
        }
        *ret_fd = fd;
        fd = -1;
        return 0;
}

/* Read dir/name through a strictly checked fd; -ENOENT passes through unreported. */
static int read_strict(const char *dir, const char *name, size_t max, char **ret, size_t *ret_size, struct perrors *problems) {
        _cleanup_free_ char *path = path_join(dir, name);
        char why[512];
        int fd = -1;
        if (!path)
                return -ENOMEM;
        int r = trust_open_strict(path, false, &fd, why, sizeof why);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                problem(problems, path, "%s", why);
                return r;
        }
        r = read_fd_capped(fd, max, ret, ret_size);
        closep(&fd);
        if (r < 0)
                problem(problems, path, "cannot read (%s)", r == -EFBIG ? "too large" : strerror(-r));
        return r;
}

/* ---- the root document ---- */

static const struct pkey root_keys[] = {
        { "sekisho-root", PT_INT, .required = true },
        { "version", PT_INT, .required = true, .min = 1, .max = INT64_MAX },
        { "issued", PT_TIME, .required = true },
        { "expires", PT_TIME, .required = true },
        { "description", PT_STRING },
        { "keys", PT_SEQ, .required = true },
        { "roles", PT_MAP, .required = true },
        { "revoked", PT_SEQ },
        { "lower-serial", PT_INT, .min = 0, .max = INT64_MAX },
        { NULL },
};

static const struct pkey key_keys[] = {
        { "id", PT_STRING, .required = true },
        { "public", PT_STRING, .required = true },
        { "name", PT_STRING },
        { "roles", PT_STRING_SEQ, .required = true },
        { "not-before", PT_TIME },
        { "not-after", PT_TIME },
        { NULL },
};

static const struct pkey role_keys[] = {
        { "threshold", PT_INT, .required = true, .min = 1, .max = TRUST_MAX_KEYS },
        { "description", PT_STRING },
        { NULL },
};

static const struct pkey revoked_keys[] = {
        { "id", PT_STRING, .required = true },
        { "reason", PT_STRING },
        { NULL },
};

static int parse_role(const char *s) {
        for (unsigned i = 0; i < TRUST_ROLES; i++)
                if (strcmp(s, role_names[i]) == 0)
                        return (int)(1u << i);
        return -EINVAL;
}

/* A key id as minisign prints it: up to 16 hex digits (minisign drops leading zeros). */
static int parse_keyid(const char *s, uint8_t out[MINISIGN_KEYNUM_BYTES]) {
        uint64_t v = 0;
        size_t len = s ? strlen(s) : 0;
        if (len == 0 || len > 16)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0)
                        return -EINVAL;
                v = (v << 4) | (uint64_t)d;
        }
        for (size_t i = 0; i < MINISIGN_KEYNUM_BYTES; i++)
                out[i] = (uint8_t)(v >> (8 * i));
        return 0;
}

static void parse_one_key(const struct pnode *n, struct keyring *k, struct perrors *errs) {
        if (n->kind != PNODE_MAP) {
                perr(errs, n, "a key must be a mapping with id, public and roles");
                return;
        }
        if (pmap_check(n, key_keys, errs) > 0)
                return;
        struct trust_key key = { 0 };
        char why[160];
        const struct pnode *id = pmap_get(n, "id"), *pub = pmap_get(n, "public"), *roles = pmap_get(n, "roles");
        uint8_t keynum[MINISIGN_KEYNUM_BYTES];
        if (parse_keyid(pnode_str(id), keynum) < 0) {
                perr(errs, id, "'id' must be a minisign key id (up to 16 hex digits)");
                return;
        }
        if (minisign_parse_pubkey_b64(pnode_str(pub), &key.pub, why, sizeof why) < 0) {
                perr(errs, pub, "'public': %s", why);
                return;
        }
        if (memcmp(keynum, key.pub.keynum, sizeof keynum) != 0) {
                char real[17];
                minisign_keynum_hex(key.pub.keynum, real);
                perr(errs, id, "'id' %s is not the id of this public key (%s)", pnode_str(id), real);
                return;
        }
        for (size_t i = 0; i < k->n; i++)
                if (memcmp(k->keys[i].pub.keynum, keynum, sizeof keynum) == 0) {
                        perr(errs, id, "key %s is listed twice", pnode_str(id));
                        return;
                }
        for (size_t i = 0; i < roles->n; i++) {
                int role = parse_role(pnode_str(roles->children[i]));
                if (role < 0)
                        perr(errs, roles->children[i], "unknown role '%s' (root, policy or timestamp)",
                             pnode_str(roles->children[i]));
                else
                        key.roles |= (unsigned)role;
        }
        if (!key.roles)
                perr(errs, roles, "a key needs at least one role");
        pnode_time(pmap_get(n, "not-before"), &key.not_before);
        pnode_time(pmap_get(n, "not-after"), &key.not_after);
        if (key.not_before && key.not_after && key.not_after <= key.not_before)
                perr(errs, pmap_get(n, "not-after"), "'not-after' is not after 'not-before'");
        if (k->n >= TRUST_MAX_KEYS) {
                perr(errs, n, "more than %d keys", TRUST_MAX_KEYS);
                return;
        }
        const char *name = pnode_str(pmap_get(n, "name"));
        key.name = strdup(name ? name : pnode_str(id));
        if (key.name)
                k->keys[k->n++] = key;
}

int trust_root_parse(const char *file, const char *data, size_t size, struct keyring *ret, struct perrors *errs) {
        struct ptree *t = NULL;
        struct keyring k = { 0 };
        size_t before = errs->n_errors;
        if (size > ROOT_MAX_SIZE) {
                perrors_add(errs, file, 1, 1, "larger than the limit of %u bytes", ROOT_MAX_SIZE);
                return -EFBIG;
        }
        int r = ptree_parse(file, data, size, &t, errs);
        if (r < 0)
                return r;
        const struct pnode *root = t->root;
        if (!root || root->kind != PNODE_MAP) {
                perrors_add(errs, file, 1, 1, "a trust root is a mapping (sekisho-trust(5))");
                ptree_free(t);
                return -EINVAL;
        }
        if (pmap_check(root, root_keys, errs) > 0) {
                ptree_free(t);
                return -EINVAL;
        }
        int64_t v;
        if (pnode_int(pmap_get(root, "sekisho-root"), &v) == 0 && v != ROOT_FORMAT)
                perr(errs, pmap_get(root, "sekisho-root"), "unsupported trust root format %lld (this sekisho reads %d)",
                     (long long)v, ROOT_FORMAT);
        pnode_int(pmap_get(root, "version"), &v);
        k.root_version = (uint64_t)v;
        pnode_time(pmap_get(root, "issued"), &k.root_issued);
        pnode_time(pmap_get(root, "expires"), &k.root_expires);
        if (k.root_expires <= k.root_issued)
                perr(errs, pmap_get(root, "expires"), "'expires' is not after 'issued'");
        if (pnode_int(pmap_get(root, "lower-serial"), &v) == 0) {
                k.has_lower_serial = true;
                k.lower_serial = (uint64_t)v;
        }

        const struct pnode *keys = pmap_get(root, "keys");
        k.keys = calloc(TRUST_MAX_KEYS, sizeof *k.keys);
        k.revoked = calloc(TRUST_MAX_KEYS, sizeof *k.revoked);
        if (!k.keys || !k.revoked) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < keys->n; i++)
                parse_one_key(keys->children[i], &k, errs);

        const struct pnode *revoked = pmap_get(root, "revoked");
        for (size_t i = 0; revoked && i < revoked->n; i++) {
                const struct pnode *n = revoked->children[i];
                if (n->kind != PNODE_MAP) {
                        perr(errs, n, "a revoked key is a mapping with id (and reason)");
                        continue;
                }
                if (pmap_check(n, revoked_keys, errs) > 0)
                        continue;
                const struct pnode *id = pmap_get(n, "id");
                if (k.n_revoked >= TRUST_MAX_KEYS || parse_keyid(pnode_str(id), k.revoked[k.n_revoked]) < 0) {
                        perr(errs, id, "'id' must be a minisign key id (up to 16 hex digits)");
                        continue;
                }
                for (size_t j = 0; j < k.n; j++)
                        if (memcmp(k.keys[j].pub.keynum, k.revoked[k.n_revoked], MINISIGN_KEYNUM_BYTES) == 0)
                                perr(errs, id, "key %s is both trusted and revoked", pnode_str(id));
                k.n_revoked++;
        }

        const struct pnode *roles = pmap_get(root, "roles");
        for (size_t i = 0; i < pmap_len(roles); i++) {
                const struct pnode *name = pmap_key(roles, i), *val = pmap_val(roles, i);
                int role = parse_role(name->scalar);
                if (role < 0) {
                        perr(errs, name, "unknown role '%s' (root, policy or timestamp)", name->scalar);
                        continue;
                }
                if (val->kind != PNODE_MAP) {
                        perr(errs, val, "role '%s' must be a mapping with a threshold", name->scalar);
                        continue;
                }
                if (pmap_check(val, role_keys, errs) > 0)
                        continue;
                int64_t th;
                pnode_int(pmap_get(val, "threshold"), &th);
                unsigned have = 0;
                for (size_t j = 0; j < k.n; j++)
                        have += (k.keys[j].roles & (unsigned)role) != 0;
                if ((unsigned)th > have)
                        perr(errs, pmap_get(val, "threshold"), "role '%s' needs %lld signatures but has %u key%s",
                             name->scalar, (long long)th, have, have == 1 ? "" : "s");
                k.threshold[role_index((unsigned)role)] = (unsigned)th;
        }
        for (unsigned i = 0; i < TRUST_ROLES; i++) {
                bool used = false;
                for (size_t j = 0; j < k.n; j++)
                        used |= (k.keys[j].roles & (1u << i)) != 0;
                if (k.threshold[i] == 0 && (used || i < 2))
                        perrors_add(errs, file, roles->line, roles->col, "role '%s' has no threshold in 'roles'",
                                    role_names[i]);
        }
        r = errs->n_errors > before ? -EINVAL : 0;
out:
        ptree_free(t);
        if (r < 0) {
                keyring_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

/* ---- signatures ---- */

int trust_count_signers(const struct keyring *k, unsigned role, int64_t at, const char *data, size_t size,
                        const char *sig_text, size_t sig_size, struct minisign_pubkey *ret_signers, size_t *ret_n,
                        uint8_t ret_unknown[MINISIGN_KEYNUM_BYTES], char *why, size_t why_size) {
        struct minisign_sig sigs[MINISIGN_MAX_SIGS];
        size_t n = 0, count = 0;
        char sub[160];
        if (minisign_parse_sigs(sig_text, sig_size, sigs, MINISIGN_MAX_SIGS, &n, sub, sizeof sub) < 0) {
                snprintf(why, why_size, "%s", sub);
                return -EINVAL;
        }
        bool unknown_set = false;
        for (size_t i = 0; i < n; i++) {
                char id[17];
                minisign_keynum_hex(sigs[i].keynum, id);
                const struct trust_key *key = keyring_find(k, sigs[i].keynum, role);
                if (key && at && ((key->not_before && at < key->not_before) || (key->not_after && at >= key->not_after)))
                        key = NULL; /* outside its validity period: as good as unknown */
                if (!key) {
                        if (ret_unknown && !unknown_set)
                                memcpy(ret_unknown, sigs[i].keynum, MINISIGN_KEYNUM_BYTES);
                        unknown_set = true;
                        continue;
                }
                switch (minisign_verify(&key->pub, &sigs[i], data, size)) {
                case MINISIGN_OK:
                        break;
                case MINISIGN_LEGACY:
                        snprintf(why, why_size, "legacy (non-prehashed) signature (key %s); sign with minisign -S", id);
                        return -EBADMSG;
                case MINISIGN_BAD_COMMENT:
                        snprintf(why, why_size, "trusted comment does not match its signature (key %s)", id);
                        return -EBADMSG;
                default:
                        snprintf(why, why_size, "signature does not match the file (key %s)", id);
                        return -EBADMSG;
                }
                bool dup = false;
                for (size_t j = 0; j < count; j++)
                        dup |= memcmp(ret_signers[j].keynum, key->pub.keynum, MINISIGN_KEYNUM_BYTES) == 0;
                if (!dup)
                        ret_signers[count++] = key->pub;
        }
        *ret_n = count;
        return 0;
}

/* Enough signatures of role by the keys of k (valid now)? */
static int check_threshold(const struct keyring *k, const char *who, const char *file, const char *data, size_t size,
                           const char *sig, size_t sig_size, int64_t now, char *why, size_t why_size) {
        struct minisign_pubkey signers[MINISIGN_MAX_SIGS];
        size_t n = 0;
        char sub[192];
        int r = trust_count_signers(k, ROLE_ROOT, now, data, size, sig, sig_size, signers, &n, NULL, sub, sizeof sub);
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", file, sub);
                return -EPERM;
        }
        if (n < k->threshold[0]) {
                snprintf(why, why_size, "%s: signed by %zu of %s root keys, %u needed", file, n, who, k->threshold[0]);
                return -EPERM;
        }
        return 0;
}

int trust_root_verify(const struct keyring *current, const char *file, const char *data, size_t size, const char *sig,
                      size_t sig_size, int64_t now, struct keyring *ret, char *why, size_t why_size) {
        struct perrors errs = { 0 };
        struct keyring k = { 0 };
        int r = trust_root_parse(file, data, size, &k, &errs);
        if (r < 0) {
                snprintf(why, why_size, "%s", perrors_first(&errs) ? perrors_first(&errs) : strerror(-r));
                perrors_clear(&errs);
                return -EPERM;
        }
        perrors_clear(&errs);
        char t[32];
        if (now && now >= k.root_expires) {
                format_rfc3339(k.root_expires, t);
                snprintf(why, why_size, "%s: version %" PRIu64 " expired at %s", file, k.root_version, t);
                r = -EPERM;
        } else if (current && current->root_version && k.root_version <= current->root_version)
                snprintf(why, why_size, "%s: version %" PRIu64 " is not newer than the trusted version %" PRIu64, file,
                         k.root_version, current->root_version),
                        r = -EPERM;
        else if (current && current->root_version)
                r = check_threshold(current, "the current root's", file, data, size, sig, sig_size, now, why, why_size);
        if (r == 0)
                r = check_threshold(&k, "its own", file, data, size, sig, sig_size, now, why, why_size);
        if (r == 0 && (!(k.root_data = malloc(size + 1)) || !(k.root_sig = malloc(sig_size + 1))))
                r = -ENOMEM;
        if (r < 0) {
                keyring_done(&k);
                return r;
        }
        memcpy(k.root_data, data, size);
        k.root_data[size] = '\0';
        k.root_size = size;
        memcpy(k.root_sig, sig, sig_size);
        k.root_sig[sig_size] = '\0';
        k.root_sig_size = sig_size;
        crypto_generichash(k.root_digest, sizeof k.root_digest, (const unsigned char *)data, size, NULL, 0);
        *ret = k;
        return 0;
}

int trust_save_anchor(const char *state_dir, const struct keyring *ring) {
        _cleanup_free_ char *dir = path_join(state_dir, ANCHOR_DIR);
        _cleanup_free_ char *doc = dir ? path_join(dir, ROOT_NAME) : NULL, *sig = dir ? path_join(dir, ROOT_SIG_NAME) : NULL;
        if (!doc || !sig)
                return -ENOMEM;
        int r = mkdir_p(dir, 0700);
        /* The signatures first: a root is the anchor only once its document is in place. */
        if (r == 0)
                r = write_file_atomic(sig, ring->root_sig, ring->root_sig_size, 0600);
        if (r == 0)
                r = write_file_atomic(doc, ring->root_data, ring->root_size, 0600);
        return r;
}

/* ---- loading ---- */

static int pub_filter(const struct dirent *d) { return fnmatch("*.pub", d->d_name, FNM_PERIOD) == 0; }

/* keys.d/NAME.pub: each a policy key, threshold 1. */
static int load_pub_files(const char *dir, struct keyring *k) {
        struct dirent **names = NULL;
        int n = scandir(dir, &names, pub_filter, alphasort);
        if (n < 0)
                return -errno;
        int r = 0;
        k->keys = calloc((size_t)n + 1, sizeof *k->keys);
        if (!k->keys)
                r = -ENOMEM;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL, *path = r == 0 ? path_join(dir, names[i]->d_name) : NULL;
                size_t len;
                char why[160];
                struct trust_key key = { .roles = ROLE_POLICY };
                if (path && read_strict(dir, names[i]->d_name, MINISIGN_MAX_FILE, &text, &len, &k->problems) == 0) {
                        if (minisign_parse_pubkey(text, len, &key.pub, why, sizeof why) < 0)
                                problem(&k->problems, path, "not a minisign public key (%s), ignored", why);
                        else if ((key.name = strdup(path)))
                                k->keys[k->n++] = key;
                }
                free(names[i]);
        }
        free(names);
        k->threshold[1] = 1;
        return r;
}

static int read_pair(const char *dir, char **doc, size_t *doc_size, char **sig, size_t *sig_size, struct perrors *problems) {
        int r = read_strict(dir, ROOT_NAME, ROOT_MAX_SIZE, doc, doc_size, problems);
        if (r < 0)
                return r;
        r = read_strict(dir, ROOT_SIG_NAME, MINISIGN_MAX_FILE, sig, sig_size, problems);
        if (r == -ENOENT) {
                _cleanup_free_ char *path = path_join(dir, ROOT_SIG_NAME);
                problem(problems, path ? path : ROOT_SIG_NAME, "missing: the trust root is not signed");
                r = -EPERM; /* only a missing document means "no root here" */
        }
        if (r < 0) {
                free(*doc);
                *doc = NULL;
        }
        return r;
}

int keyring_load(const char *keys_dir, const char *state_dir, int64_t now, struct keyring *ret) {
        struct keyring k = { 0 };
        _cleanup_free_ char *anchor_dir = state_dir ? path_join(state_dir, ANCHOR_DIR) : NULL;
        _cleanup_free_ char *doc = NULL, *sig = NULL, *adoc = NULL, *asig = NULL;
        size_t doc_size = 0, sig_size = 0, adoc_size = 0, asig_size = 0;
        char why[512];
        bool have_anchor = false;

        /* The anchor: what this terminal accepted last (the daemon's own, 0700 state directory). */
        struct perrors scratch = { 0 };
        if (anchor_dir && read_pair(anchor_dir, &adoc, &adoc_size, &asig, &asig_size, &scratch) == 0) {
                /* Its signatures were checked when it was accepted; check them again against itself. */
                if (trust_root_verify(NULL, "trust anchor", adoc, adoc_size, asig, asig_size, 0, &k, why,
                                      sizeof why) == 0)
                        have_anchor = true;
                else
                        problem(&k.problems, anchor_dir, "the accepted trust root is damaged (%s); "
                                    "no key is trusted until a valid root is installed", why);
        }
        for (size_t i = 0; i < scratch.n; i++)
                problem(&k.problems, "trust anchor", "%s", scratch.msgs[i]);
        perrors_clear(&scratch);
        bool damaged_anchor = !have_anchor && k.problems.n > 0;

        int fd = -1;
        int r = trust_open_strict(keys_dir, true, &fd, why, sizeof why);
        closep(&fd);
        if (r < 0) {
                if (r != -ENOENT || !have_anchor)
                        problem(&k.problems, keys_dir, "%s", why);
                if (!have_anchor) {
                        /* keys.d refused: no key from it, whatever the files say. */
                        keyring_done(&k);
                        k.problems = (struct perrors){ 0 };
                        problem(&k.problems, keys_dir, "%s", why);
                        k.threshold[1] = 1;
                        *ret = k;
                        return 0;
                }
        }
        int q = r < 0 ? r : read_pair(keys_dir, &doc, &doc_size, &sig, &sig_size, &k.problems);
        if (q == 0) {
                struct keyring next = { 0 };
                _cleanup_free_ char *file = path_join(keys_dir, ROOT_NAME);
                if (have_anchor && doc_size == k.root_size && memcmp(doc, k.root_data, doc_size) == 0)
                        ; /* the one in force */
                else if (damaged_anchor)
                        ;
                else if (trust_root_verify(have_anchor ? &k : NULL, file ? file : ROOT_NAME, doc, doc_size, sig, sig_size,
                                           now, &next, why, sizeof why) == 0) {
                        next.problems = k.problems;
                        k.problems = (struct perrors){ 0 };
                        keyring_done(&k);
                        k = next;
                        k.root_new = true;
                        have_anchor = true;
                } else if (have_anchor)
                        problem(&k.problems, why, "not accepted; keeping trust root version %" PRIu64, k.root_version);
                else
                        problem(&k.problems, why, "not accepted; no key is trusted");
        }
        if (q != -ENOENT && !have_anchor) {
                /* A root was offered and refused: no fallback to the .pub files beside it. */
                k.threshold[1] = 1;
                *ret = k;
                return 0;
        }
        if (have_anchor || damaged_anchor) {
                if (have_anchor && r == 0) {
                        struct dirent **names = NULL;
                        int n = scandir(keys_dir, &names, pub_filter, alphasort);
                        if (n > 0)
                                problem(&k.problems, keys_dir, "%d .pub file%s ignored: the trust root "
                                            "(version %" PRIu64 ") names the keys", n, n == 1 ? "" : "s", k.root_version);
                        for (int i = 0; i < n; i++)
                                free(names[i]);
                        free(names);
                }
                *ret = k;
                return 0;
        }
        r = load_pub_files(keys_dir, &k);
        if (r == -ENOMEM) {
                keyring_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}
