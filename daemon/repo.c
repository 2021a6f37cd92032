/* repo.c — `sekishoctl repo publish`: the officer lays out a static repository (bundle pair and a signed timestamp per target) and checks it the way a terminal will. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "repo.h"
#include "timestamp.h"
#include "util.h"

#define REPO_ISSUED_AHEAD_MAX 60    /* seconds the last timestamp may be ahead of our clock */

/* DIR/host/ID, DIR/group/NAME or DIR/all for target. */
static char *target_dir(const char *dir, const char *target) {
        char *out = NULL;
        int n = strncmp(target, "host:", 5) == 0    ? asprintf(&out, "%s/host/%s", dir, target + 5)
                : strncmp(target, "group:", 6) == 0 ? asprintf(&out, "%s/group/%s", dir, target + 6)
                                                      : asprintf(&out, "%s/all", dir);
        return n < 0 ? NULL : out;
}

/* Enough signers of role for data? 0, or -EPERM with why. */
static int signed_enough(const struct keyring *keys, unsigned role, const char *file, const char *data, size_t size,
                         const char *sig, size_t sig_size, char *why, size_t why_size) {
        unsigned idx = role == ROLE_POLICY ? 1 : 2;
        if (keys->threshold[idx] == 0) {
                snprintf(why, why_size, "%s: the trust here names no %s key", file, trust_role_name(role));
                return -EPERM;
        }
        struct minisign_pubkey signers[MINISIGN_MAX_SIGS];
        size_t n = 0;
        uint8_t unknown[MINISIGN_KEYNUM_BYTES];
        char w[256] = "";
        int r = trust_count_signers(keys, role, now_unix(), data, size, sig, sig_size, signers, &n, unknown, w, sizeof w);
        if (r < 0 || n < keys->threshold[idx]) {
                snprintf(why, why_size, "%s: %s", file,
                         r < 0 ? w : "not signed by enough keys of its role; terminals would refuse it");
                return -EPERM;
        }
        return 0;
}

static int read_pair(const char *path, size_t max, char **data, size_t *size, char **sig, size_t *sig_size, char *why,
                     size_t why_size) {
        _cleanup_free_ char *sp = NULL;
        int r = asprintf(&sp, "%s.minisig", path) < 0 ? -ENOMEM : read_file_capped(path, max, data, size);
        if (r >= 0)
                r = read_file_capped(sp, MINISIGN_MAX_FILE, sig, sig_size);
        if (r < 0)
                snprintf(why, why_size, "%s: %s", r == -ENOENT && *data ? sp : path, strerror(-r));
        return r;
}

int repo_publish(const struct repo_publish *o, char *why, size_t why_size) {
        if (!timestamp_target_ok(o->target)) {
                snprintf(why, why_size, "%s: the target must be all, host:ID or group:NAME (letters, digits, . _ -)", o->target);
                return -EINVAL;
        }
        _cleanup_free_ char *tdir = target_dir(o->dir, o->target), *tspath = NULL, *tssig = NULL;
        _cleanup_free_ char *data = NULL, *sig = NULL;
        size_t size = 0, sig_size = 0;
        if (!tdir || asprintf(&tspath, "%s/timestamp.yaml", tdir) < 0 || asprintf(&tssig, "%s.minisig", tspath) < 0)
                return -ENOMEM;

        /* The timestamp published before, if any: the new one is issued after it. */
        struct timestamp prev;
        bool have_prev = false;
        {
                _cleanup_free_ char *old = NULL;
                size_t old_size;
                struct perrors errs = { 0 };
                int r = read_file_capped(tspath, TIMESTAMP_MAX_SIZE, &old, &old_size);
                if (r == 0 && timestamp_parse(tspath, old, old_size, &prev, &errs) == 0)
                        have_prev = true;
                else if (!o->bundle) {
                        snprintf(why, why_size, "%s", r < 0 ? strerror(-r) : perrors_first(&errs));
                        perrors_clear(&errs);
                        return -EINVAL;
                }
                perrors_clear(&errs);
        }
        /* The bundle: the one given, or (renewing) the one the current timestamp names. */
        const char *bundle = o->bundle;
        _cleanup_free_ char *current = NULL;
        if (!bundle) {
                if (asprintf(&current, "%s/%s", tdir, prev.bundle) < 0)
                        return -ENOMEM;
                bundle = current;
        }
        int r = read_pair(bundle, POLICY_MAX_SIZE, &data, &size, &sig, &sig_size, why, why_size);
        if (r < 0)
                return r;
        const char *base = strrchr(bundle, '/') ? strrchr(bundle, '/') + 1 : bundle;
        size_t bl = strlen(base);
        if (bl < 6 || bl > TIMESTAMP_NAME_MAX || strcmp(base + bl - 5, ".yaml") != 0 || !name_is_plain(base)) {
                snprintf(why, why_size, "%s: a bundle's file name must be plain (letters, digits, . _ -) and end in .yaml", base);
                return -EINVAL;
        }

        /* As a terminal will: a valid bundle, signed by the policy threshold, for this target. */
        struct perrors errs = { 0 };
        struct policy *p = NULL;
        r = policy_parse(bundle, data, size, &p, &errs);
        if (r == 0 && policy_check_bundle(p, &errs) > 0)
                r = -EINVAL;
        if (r < 0) {
                snprintf(why, why_size, "%s", perrors_first(&errs) ? perrors_first(&errs) : strerror(-r));
                perrors_clear(&errs);
                policy_free(p);
                return -EINVAL;
        }
        perrors_clear(&errs);
        uint64_t serial = p->serial;
        int64_t expires_bundle = p->expires;
        policy_free(p);
        r = signed_enough(o->keys, ROLE_POLICY, bundle, data, size, sig, sig_size, why, why_size);
        if (r < 0)
                return r;

        /* The layout, then the timestamp last: a terminal never sees a timestamp before its bundle. */
        _cleanup_free_ char *dst = NULL, *dst_sig = NULL;
        if (asprintf(&dst, "%s/%s", tdir, base) < 0 || asprintf(&dst_sig, "%s.minisig", dst) < 0)
                return -ENOMEM;
        r = mkdir_p(tdir, 0755);
        if (r >= 0 && o->bundle)
                r = write_file_atomic(dst_sig, sig, sig_size, 0644);
        if (r >= 0 && o->bundle)
                r = write_file_atomic(dst, data, size, 0644);
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", tdir, strerror(-r));
                return r;
        }
        /* Each timestamp issued strictly after the one before: terminals refuse one
         * that is not (a replay), and its mtime is set to it below. Publishing twice
         * in one second issues the second a second later. */
        int64_t now = now_unix();
        if (have_prev && prev.issued >= now) {
                if (prev.issued >= now + REPO_ISSUED_AHEAD_MAX) {
                        snprintf(why, why_size, "%s: issued %" PRId64 " s in the future; a wrong clock here or there?",
                                 tspath, prev.issued - now);
                        return -ERANGE;
                }
                now = prev.issued + 1;
        }
        int64_t until = now + o->hours * 3600;
        if (expires_bundle && until > expires_bundle)
                until = expires_bundle;   /* never fresh past the bundle's own expiry */
        uint8_t digest[32];
        char hex[65], issued[32], exp[32];
        crypto_hash_sha256(digest, (const unsigned char *)data, size);
        hex_encode(digest, sizeof digest, hex);
        format_rfc3339(now, issued);
        format_rfc3339(until, exp);
        _cleanup_free_ char *ts = NULL, *ts_sig = NULL;
        if (asprintf(&ts, "sekisho-timestamp: 1\ntarget: %s\nbundle: %s\nserial: %" PRIu64 "\nsha256: %s\nsize: %zu\n"
                          "issued: %s\nexpires: %s\n", o->target, base, serial, hex, size, issued, exp) < 0)
                return -ENOMEM;
        char comment[160];
        snprintf(comment, sizeof comment, "timestamp:%lld\tfile:timestamp.yaml\ttarget:%s\tserial:%" PRIu64,
                 (long long)now, o->target, serial);
        r = minisign_sign(o->timestamp_key, ts, strlen(ts), "signature from sekishoctl (timestamp)", comment, &ts_sig);
        if (r < 0) {
                snprintf(why, why_size, "cannot sign the timestamp: %s", strerror(-r));
                return r;
        }
        /* Checked before it is published: the timestamp key must be one terminals trust for that role. */
        struct timestamp check;
        r = timestamp_parse(tspath, ts, strlen(ts), &check, &errs);
        perrors_clear(&errs);
        if (r == 0)
                r = signed_enough(o->keys, ROLE_TIMESTAMP, "timestamp.yaml", ts, strlen(ts), ts_sig, strlen(ts_sig), why,
                                  why_size);
        if (r < 0)
                return r;
        r = write_file_atomic(tssig, ts_sig, strlen(ts_sig), 0644);
        if (r >= 0)
                r = write_file_atomic(tspath, ts, strlen(ts), 0644);
        /* nginx's ETag (and Last-Modified) is the mtime in seconds and the size: two
         * timestamps of one size written in one second would look unchanged to a
         * terminal's If-None-Match. The mtime is the issued time, which only grows. */
        const struct timespec times[2] = { { .tv_sec = now }, { .tv_sec = now } };
        if (r >= 0 && utimensat(AT_FDCWD, tspath, times, 0) < 0)
                r = -errno;
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", tspath, strerror(-r));
                return r;
        }
        snprintf(why, why_size, "%s: serial %" PRIu64 " (%s), fresh until %s", o->target, serial, base, exp);
        return 0;
}
