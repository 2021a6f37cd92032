/* policy.c — policy validation, profiles, targeting, trusted keys, terminal identity and bundle verification. */
#include "config.h"

#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "plugin.h"
#include "policy.h"
#include "util.h"

static const struct refusal_info refusals[_REFUSE_MAX] = {
        [REFUSE_NONE] = { "ok", 0, NULL },
        [REFUSE_IO] = { "unreadable", 1, "org.sekisho.Sekisho1.Error.Unreadable" },
        [REFUSE_SIGNATURE] = { "bad-signature", 10, "org.sekisho.Sekisho1.Error.BadSignature" },
        [REFUSE_UNKNOWN_KEY] = { "unknown-key", 11, "org.sekisho.Sekisho1.Error.UnknownKey" },
        [REFUSE_MALFORMED] = { "malformed-policy", 12, "org.sekisho.Sekisho1.Error.MalformedPolicy" },
        [REFUSE_TIME] = { "not-valid-now", 13, "org.sekisho.Sekisho1.Error.NotValidNow" },
        [REFUSE_NOT_TARGETED] = { "not-targeted", 14, "org.sekisho.Sekisho1.Error.NotTargeted" },
        [REFUSE_SERIAL_OLD] = { "serial-not-newer", 15, "org.sekisho.Sekisho1.Error.SerialNotNewer" },
        [REFUSE_SERIAL_CONFLICT] = { "serial-conflict", 16, "org.sekisho.Sekisho1.Error.SerialConflict" },
        [REFUSE_TOO_LARGE] = { "too-large", 17, "org.sekisho.Sekisho1.Error.TooLarge" },
        [REFUSE_SERIAL_BAD] = { "serial-known-bad", 18, "org.sekisho.Sekisho1.Error.SerialKnownBad" },
        [REFUSE_APPLY_FAILED] = { "apply-failed", 19, "org.sekisho.Sekisho1.Error.ApplyFailed" },
        [REFUSE_NO_SPACE] = { "no-space", 20, "org.sekisho.Sekisho1.Error.NoSpace" },
        [REFUSE_STORE_FAILED] = { "store-failed", 21, "org.sekisho.Sekisho1.Error.StoreFailed" },
};

enum refusal refusal_for_write_error(int r) {
        return r == -ENOSPC || r == -EDQUOT ? REFUSE_NO_SPACE : REFUSE_STORE_FAILED;
}

const struct refusal_info *refusal_info(enum refusal r) {
        return r >= 0 && r < _REFUSE_MAX ? &refusals[r] : &refusals[REFUSE_IO];
}

/* Policy sections sekisho defines; a section whose plugin is not built into
 * this binary is accepted with a warning (a fleet shares one policy). */
static const char *const official_sections[] = { "usb", "network", "vdi", "posture", "travel", NULL };

static const struct pkey header_keys[] = {
        { "sekisho", PT_INT, .required = true, .min = POLICY_FORMAT, .max = POLICY_FORMAT + 1 },
        { "serial", PT_INT, .required = true, .min = 0, .max = INT64_MAX },
        { "issued", PT_TIME },
        { "expires", PT_TIME },
        { "applies-to", PT_STRING_SEQ },
        { "description", PT_STRING },
        { "profiles", PT_MAP },
        { NULL },
};

static bool is_header_key(const char *k) {
        for (const struct pkey *h = header_keys; h->name; h++)
                if (strcmp(h->name, k) == 0)
                        return true;
        return false;
}

static bool is_official_section(const char *k) {
        for (const char *const *s = official_sections; *s; s++)
                if (strcmp(*s, k) == 0)
                        return true;
        return false;
}

/* A section key is either a built-in plugin's, or an official one whose
 * plugin is not built in (warned), or an error. */
static bool check_section_name(const struct pnode *key, struct perrors *errs) {
        if (plugin_find_section(key->scalar))
                return true;
        if (is_official_section(key->scalar)) {
                pwarn(errs, key, "section '%s' is ignored: its plugin is not built into this sekisho", key->scalar);
                return false;
        }
        perr(errs, key, "unknown key '%s'", key->scalar);
        return false;
}

static void check_applies_to(const struct pnode *list, struct perrors *errs) {
        for (size_t i = 0; list && list->kind == PNODE_SEQ && i < list->n; i++) {
                const char *s = pnode_str(list->children[i]);
                if (!s)
                        continue;
                if (strcmp(s, "*") == 0)
                        continue;
                if ((strncmp(s, "group:", 6) == 0 && s[6]) || (strncmp(s, "host:", 5) == 0 && s[5]))
                        continue;
                perr(errs, list->children[i], "applies-to entry '%s' must be 'group:NAME', 'host:TERMINAL-ID' or '*'", s);
        }
}

/* What a plugin's check sees: the default's section, the policy's section over
 * it, and an overlay over both (each may be NULL). */
static void check_merged(const struct sekisho_plugin *plugin, const struct pnode *defaults_root,
                         const struct pnode *section, const struct pnode *overlay, const struct pnode *at,
                         struct perrors *errs) {
        const char *file = at ? at->file : NULL;
        struct ptree *base = ptree_merge(file, pmap_get(defaults_root, plugin->section), section);
        struct ptree *merged = base ? ptree_merge(file, base->root, overlay) : NULL;
        if (merged)
                plugin->check(merged->root, errs);
        else
                perr(errs, at, "out of memory");
        ptree_free(merged);
        ptree_free(base);
}

static void check_profiles(const struct pnode *root, const struct pnode *defaults_root, struct perrors *errs) {
        const struct pnode *profiles = pmap_get(root, "profiles");
        if (!profiles || profiles->kind != PNODE_MAP)
                return;
        for (size_t i = 0; i < pmap_len(profiles); i++) {
                const struct pnode *name = pmap_key(profiles, i), *overlay = pmap_val(profiles, i);
                if (overlay->kind != PNODE_MAP) {
                        perr(errs, overlay, "profile '%s' must be a mapping of policy sections", name->scalar);
                        continue;
                }
                for (size_t j = 0; j < pmap_len(overlay); j++) {
                        const struct pnode *sec = pmap_key(overlay, j);
                        if (!check_section_name(sec, errs))
                                continue;
                        /* Check what the plugin would really get with this profile active. */
                        check_merged(plugin_find_section(sec->scalar), defaults_root, pmap_get(root, sec->scalar),
                                     pmap_val(overlay, j), sec, errs);
                }
        }
}

/* Checks every key of a parsed policy; returns the number of errors. */
static size_t policy_validate(const struct ptree *t, const struct pnode *defaults_root, struct perrors *errs) {
        size_t before = errs->n_errors;
        const struct pnode *root = t->root;
        if (!root) {
                perrors_add(errs, t->file, 1, 1, "empty policy");
                return 1;
        }
        if (root->kind != PNODE_MAP) {
                perr(errs, root, "a policy must be a mapping");
                return 1;
        }
        /* Header keys through the schema; sections through their plugins. */
        struct pnode header = *root;
        _cleanup_free_ struct pnode **kids = calloc(root->n ? root->n : 1, sizeof *kids);
        if (!kids) {
                perr(errs, root, "out of memory");
                return 1;
        }
        header.children = kids;
        header.n = 0;
        for (size_t i = 0; i < pmap_len(root); i++) {
                const struct pnode *k = pmap_key(root, i);
                if (is_header_key(k->scalar)) {
                        kids[header.n++] = root->children[2 * i];
                        kids[header.n++] = root->children[2 * i + 1];
                } else if (check_section_name(k, errs)) {
                        check_merged(plugin_find_section(k->scalar), defaults_root, pmap_val(root, i), NULL, k, errs);
                }
        }
        pmap_check(&header, header_keys, errs);
        check_applies_to(pmap_get(root, "applies-to"), errs);
        /* A section the policy leaves out is the default's: it must pass too. */
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                if (!pmap_get(root, (*p)->section))
                        check_merged(*p, defaults_root, NULL, NULL, root, errs);
        check_profiles(root, defaults_root, errs);
        return errs->n_errors - before;
}

struct policy *policy_free(struct policy *p) {
        if (!p)
                return NULL;
        ptree_free(p->tree);
        free(p->data);
        free(p->origin);
        free(p);
        return NULL;
}

static int parse_policy(const char *file, const char *data, size_t size, const struct policy *defaults,
                        struct policy **ret, struct perrors *errs) {
        if (size > POLICY_MAX_SIZE) {
                perrors_add(errs, file, 1, 1, "file is %zu bytes, larger than the limit of %u", size, POLICY_MAX_SIZE);
                return -EFBIG;
        }
        if (!string_is_clean_utf8(data, size) && memchr(data, '\0', size)) {
                perrors_add(errs, file, 1, 1, "file contains NUL bytes");
                return -EINVAL;
        }
        struct policy *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        int r = ptree_parse(file, data, size, &p->tree, errs);
        if (r < 0) {
                policy_free(p);
                return r;
        }
        if (policy_validate(p->tree, defaults ? defaults->tree->root : NULL, errs) > 0) {
                policy_free(p);
                return -EINVAL;
        }
        const struct pnode *root = p->tree->root;
        int64_t v;
        if (pnode_int(pmap_get(root, "serial"), &v) == 0)
                p->serial = (uint64_t)v;
        if (pnode_time(pmap_get(root, "issued"), &v) == 0)
                p->issued = v;
        if (pnode_time(pmap_get(root, "expires"), &v) == 0)
                p->expires = v;
        p->data = malloc(size + 1);
        if (!p->data) {
                policy_free(p);
                return -ENOMEM;
        }
        memcpy(p->data, data, size);
        p->data[size] = '\0';
        p->size = size;
        crypto_generichash(p->digest, sizeof p->digest, (const unsigned char *)data, size, NULL, 0);
        *ret = p;
        return 0;
}

extern const unsigned char sekisho_default_policy[];
extern const size_t sekisho_default_policy_size;

const struct policy *policy_defaults(void) {
        static struct policy *defaults; /* constant once set: the compiled-in bytes never change */
        if (!defaults) {
                struct perrors errs = { 0 };
                if (parse_policy("<embedded default>", (const char *)sekisho_default_policy,
                                 sekisho_default_policy_size, NULL, &defaults, &errs) < 0)
                        defaults = NULL;
                perrors_clear(&errs);
        }
        return defaults;
}

int policy_parse(const char *file, const char *data, size_t size, struct policy **ret, struct perrors *errs) {
        const struct policy *defaults = policy_defaults();
        if (!defaults) {
                perrors_add(errs, file, 1, 1, "the embedded default policy of this build does not load");
                return -EINVAL;
        }
        return parse_policy(file, data, size, defaults, ret, errs);
}

int policy_embedded(struct policy **ret) {
        struct perrors errs = { 0 };
        int r = parse_policy("<embedded default>", (const char *)sekisho_default_policy, sekisho_default_policy_size,
                             NULL, ret, &errs);
        if (r < 0)
                log_error("embedded default policy is invalid (a build error): %s",
                          perrors_first(&errs) ? perrors_first(&errs) : strerror(-r));
        perrors_clear(&errs);
        if (r == 0)
                (*ret)->origin = strdup("embedded");
        return r;
}

bool policy_targets(const struct policy *p, const struct sekisho_conf *conf) {
        const struct pnode *list = pmap_get(p->tree->root, "applies-to");
        if (!list)
                return true;
        for (size_t i = 0; i < list->n; i++) {
                const char *s = pnode_str(list->children[i]);
                if (!s)
                        continue;
                if (strcmp(s, "*") == 0)
                        return true;
                if (strncmp(s, "host:", 5) == 0 && conf->terminal_id && fnmatch(s + 5, conf->terminal_id, 0) == 0)
                        return true;
                if (strncmp(s, "group:", 6) == 0)
                        for (size_t g = 0; g < conf->n_groups; g++)
                                if (strcmp(s + 6, conf->groups[g]) == 0)
                                        return true;
        }
        return false;
}

const struct pnode *policy_profiles(const struct policy *p) { return pmap_get(p->tree->root, "profiles"); }

int policy_effective_section(const struct policy *p, const char *section, char *const *active, size_t n_active,
                             struct ptree **ret) {
        const struct pnode *profiles = policy_profiles(p);
        const struct policy *defaults = policy_defaults();
        struct ptree *cur = ptree_merge(p->tree->file, defaults ? pmap_get(defaults->tree->root, section) : NULL,
                                        pmap_get(p->tree->root, section));
        if (!cur)
                return -ENOMEM;
        for (size_t i = 0; i < pmap_len(profiles); i++) {
                const char *name = pmap_key(profiles, i)->scalar;
                bool on = false;
                for (size_t j = 0; j < n_active && !on; j++)
                        on = strcmp(active[j], name) == 0;
                const struct pnode *overlay = on ? pmap_get(pmap_val(profiles, i), section) : NULL;
                if (!overlay)
                        continue;
                struct ptree *next = ptree_merge(p->tree->file, cur->root, overlay);
                ptree_free(cur);
                if (!next)
                        return -ENOMEM;
                cur = next;
        }
        *ret = cur;
        return 0;
}

/* ---- this terminal ---- */

static const struct pkey conf_keys[] = {
        { "terminal-id", PT_STRING },
        { "groups", PT_STRING_SEQ },
        { "audit-syslog", PT_BOOL },
        { NULL },
};

void conf_done(struct sekisho_conf *c) {
        free(c->terminal_id);
        for (size_t i = 0; i < c->n_groups; i++)
                free(c->groups[i]);
        free(c->groups);
        *c = (struct sekisho_conf){ 0 };
}

int conf_load(const char *path, struct sekisho_conf *ret, struct perrors *errs) {
        struct sekisho_conf c = { .audit_syslog = true };
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(path, 64 * 1024, &data, &size);
        if (r == -ENOENT) {
                /* Not provisioned: the host name identifies us, no groups. */
                char host[256] = "";
                gethostname(host, sizeof host - 1);
                c.terminal_id = strdup(host);
                *ret = c;
                return c.terminal_id ? 0 : -ENOMEM;
        }
        if (r < 0) {
                perrors_add(errs, path, 1, 1, "cannot read: %s", strerror(-r));
                return r;
        }
        struct ptree *t = NULL;
        r = ptree_parse(path, data, size, &t, errs);
        if (r < 0)
                return r;
        if (pmap_check(t->root, conf_keys, errs) > 0) {
                ptree_free(t);
                return -EINVAL;
        }
        const char *id = pnode_str(pmap_get(t->root, "terminal-id"));
        const struct pnode *groups = pmap_get(t->root, "groups");
        pnode_bool(pmap_get(t->root, "audit-syslog"), &c.audit_syslog);
        r = -ENOMEM;
        if (id && !(c.terminal_id = strdup(id)))
                goto out;
        if (groups && groups->n) {
                c.groups = calloc(groups->n, sizeof *c.groups);
                if (!c.groups)
                        goto out;
                for (; c.n_groups < groups->n; c.n_groups++)
                        if (!(c.groups[c.n_groups] = strdup(groups->children[c.n_groups]->scalar)))
                                goto out;
        }
        r = 0;
        *ret = c;
        c = (struct sekisho_conf){ 0 };
out:
        conf_done(&c);
        ptree_free(t);
        return r;
}

/* ---- trusted keys ---- */

void keyring_done(struct keyring *k) {
        for (size_t i = 0; i < k->n; i++)
                free(k->names[i]);
        free(k->names);
        free(k->keys);
        *k = (struct keyring){ 0 };
}

static int pub_filter(const struct dirent *d) { return fnmatch("*.pub", d->d_name, FNM_PERIOD) == 0; }

int keyring_load(const char *dir, struct keyring *ret, struct perrors *errs) {
        struct dirent **names = NULL;
        int n = scandir(dir, &names, pub_filter, alphasort);
        if (n < 0)
                return -errno;
        struct keyring k = { 0 };
        int r = 0;
        if (n > 0) {
                k.keys = calloc((size_t)n, sizeof *k.keys);
                k.names = calloc((size_t)n, sizeof *k.names);
                if (!k.keys || !k.names)
                        r = -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = r == 0 ? path_join(dir, names[i]->d_name) : NULL;
                _cleanup_free_ char *text = NULL;
                size_t len;
                char why[128];
                int q = path ? read_file_capped(path, MINISIGN_MAX_FILE, &text, &len) : -ENOMEM;
                if (q == 0 && minisign_parse_pubkey(text, len, &k.keys[k.n], why, sizeof why) < 0)
                        perrors_add(errs, path, 1, 1, "not a minisign public key (%s), ignored", why);
                else if (q < 0 && path)
                        perrors_add(errs, path, 1, 1, "cannot read (%s), ignored", strerror(-q));
                else if (q == 0 && (k.names[k.n] = strdup(path)))
                        k.n++;
                free(names[i]);
        }
        free(names);
        if (r < 0) {
                keyring_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

static const struct minisign_pubkey *keyring_find(const struct keyring *k, const uint8_t keynum[8]) {
        for (size_t i = 0; k && i < k->n; i++)
                if (memcmp(k->keys[i].keynum, keynum, MINISIGN_KEYNUM_BYTES) == 0)
                        return &k->keys[i];
        return NULL;
}

/* ---- bundles ---- */

#define REFUSE(code, ...) ({ snprintf(why, why_size, __VA_ARGS__); (code); })

enum refusal bundle_verify(const struct bundle_check *bc, const char *file, const char *data, size_t size,
                           const char *sig_text, size_t sig_size, struct policy **ret, bool *ret_noop,
                           char *why, size_t why_size, struct perrors *errs) {
        struct minisign_sig sig;
        char reason[160];
        if (ret_noop)
                *ret_noop = false;
        if (size > POLICY_MAX_SIZE)
                return REFUSE(REFUSE_TOO_LARGE, "%s: %zu bytes, larger than the limit of %u", file, size, POLICY_MAX_SIZE);
        if (!sig_text)
                return REFUSE(REFUSE_SIGNATURE, "%s.minisig: missing signature", file);
        if (minisign_parse_sig(sig_text, sig_size, &sig, reason, sizeof reason) < 0)
                return REFUSE(REFUSE_SIGNATURE, "%s.minisig: %s", file, reason);
        const struct minisign_pubkey *pk = keyring_find(bc->keys, sig.keynum);
        if (!pk) {
                char id[17];
                minisign_keynum_hex(sig.keynum, id);
                return REFUSE(REFUSE_UNKNOWN_KEY, "%s.minisig: signed by key %s, which is not a trusted key", file, id);
        }
        switch (minisign_verify(pk, &sig, data, size)) {
        case MINISIGN_OK:
                break;
        case MINISIGN_LEGACY:
                return REFUSE(REFUSE_SIGNATURE, "%s.minisig: legacy (non-prehashed) signature; sign with minisign -S",
                              file);
        case MINISIGN_BAD_COMMENT:
                return REFUSE(REFUSE_SIGNATURE, "%s.minisig: trusted comment does not match its signature", file);
        default:
                return REFUSE(REFUSE_SIGNATURE, "%s: signature does not match the file", file);
        }

        /* Only now is a byte of the policy parsed. */
        struct perrors local = { 0 };
        struct perrors *e = errs ? errs : &local;
        struct policy *p = NULL;
        int r = policy_parse(file, data, size, &p, e);
        if (r == 0 && !bc->installed) {
                const struct pnode *root = p->tree->root;
                if (p->serial == 0)
                        perr(e, pmap_get(root, "serial"), "a bundle's serial must be 1 or more");
                if (!p->issued)
                        perr(e, root, "missing required key 'issued'");
                if (!p->expires)
                        perr(e, root, "missing required key 'expires'");
                if (p->issued && p->expires && p->expires <= p->issued)
                        perr(e, pmap_get(root, "expires"), "'expires' is not after 'issued'");
                if (e->n_errors)
                        r = -EINVAL, p = policy_free(p);
        }
        if (r < 0) {
                enum refusal code = r == -EFBIG ? REFUSE_TOO_LARGE : REFUSE_MALFORMED;
                snprintf(why, why_size, "%s", perrors_first(e) ? perrors_first(e) : strerror(-r));
                perrors_clear(&local);
                return code;
        }
        perrors_clear(&local);

        enum refusal code = REFUSE_NONE;
        char t1[32], t2[32];
        if (!policy_targets(p, bc->conf))
                code = REFUSE(REFUSE_NOT_TARGETED, "%s: applies-to does not name this terminal (%s)", file,
                              bc->conf->terminal_id ? bc->conf->terminal_id : "?");
        else if (bc->installed)
                ; /* re-verifying what is installed: serial and time were checked at install */
        else if (bc->bad_serials && ({
                         bool bad = false;
                         for (size_t i = 0; i < bc->n_bad_serials; i++)
                                 bad |= bc->bad_serials[i] == p->serial;
                         bad;
                 }))
                code = REFUSE(REFUSE_SERIAL_BAD, "%s: serial %" PRIu64 " failed to apply before; issue a new serial",
                              file, p->serial);
        else if (p->serial < bc->highest_serial)
                code = REFUSE(REFUSE_SERIAL_OLD, "%s: serial %" PRIu64 " is older than the installed %" PRIu64, file,
                              p->serial, bc->highest_serial);
        else if (p->serial == bc->highest_serial) {
                if (bc->installed_digest && memcmp(bc->installed_digest, p->digest, sizeof p->digest) == 0) {
                        if (ret_noop)
                                *ret_noop = true;
                } else
                        code = REFUSE(REFUSE_SERIAL_CONFLICT,
                                      "%s: serial %" PRIu64 " is already installed with different content", file,
                                      p->serial);
        } else if (bc->now >= p->expires) {
                format_rfc3339(p->expires, t1);
                code = REFUSE(REFUSE_TIME, "%s: expired at %s", file, t1);
        } else if (p->issued > bc->now + POLICY_CLOCK_SKEW) {
                format_rfc3339(p->issued, t1);
                format_rfc3339(bc->now, t2);
                code = REFUSE(REFUSE_TIME, "%s: issued %s, in the future (now %s)", file, t1, t2);
        }
        if (code != REFUSE_NONE) {
                policy_free(p);
                return code;
        }
        p->origin = strdup("bundle");
        *ret = p;
        return REFUSE_NONE;
}

enum refusal bundle_verify_files(const struct bundle_check *bc, const char *file, struct policy **ret,
                                 bool *ret_noop, char *why, size_t why_size, struct perrors *errs) {
        _cleanup_free_ char *data = NULL, *sig = NULL, *sigpath = NULL;
        size_t size = 0, sig_size = 0;
        int r = read_file_capped(file, POLICY_MAX_SIZE, &data, &size);
        if (r == -EFBIG)
                return REFUSE(REFUSE_TOO_LARGE, "%s: larger than the limit of %u bytes", file, POLICY_MAX_SIZE);
        if (r < 0)
                return REFUSE(REFUSE_IO, "%s: %s", file, strerror(-r));
        if (asprintf(&sigpath, "%s.minisig", file) < 0)
                return REFUSE(REFUSE_IO, "%s: out of memory", file);
        r = read_file_capped(sigpath, MINISIGN_MAX_FILE, &sig, &sig_size);
        if (r == -ENOENT)
                return REFUSE(REFUSE_SIGNATURE, "%s: missing signature", sigpath);
        if (r < 0)
                return REFUSE(REFUSE_SIGNATURE, "%s: %s", sigpath, strerror(-r));
        return bundle_verify(bc, file, data, size, sig, sig_size, ret, ret_noop, why, why_size, errs);
}
