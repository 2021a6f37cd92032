/* test-minisign.c — minisign keys and signatures against the real minisign binary: round trips, tampering, garbage. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sodium.h>

#include "minisign.h"
#include "util.h"

#define PASSWORD "correct horse battery staple"
#define DATA "sekisho: 1\nserial: 42\nusb:\n  default: block\n"

/* Keys and signatures made by minisign once for the whole group. */
struct fixture {
        char dir[256];
};
static struct fixture fx;

static int run(const char *fmt, ...) _printf_(1, 2);
static int run(const char *fmt, ...) {
        char cmd[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        int r = system(cmd);
        return r == -1 ? -1 : WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

static char *path(const char *name) {
        static char buf[4][512];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, sizeof buf[0], "%s/%s", fx.dir, name);
        return p;
}

static char *slurp(const char *name, size_t *ret_size) {
        char *data = NULL;
        size_t size = 0;
        int r = read_file_capped(path(name), 1 << 20, &data, &size);
        if (r < 0)
                fail_msg("cannot read %s: %s", name, strerror(-r));
        *ret_size = size;
        return data;
}

static void spit(const char *name, const void *data, size_t size) {
        FILE *f = fopen(path(name), "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
}

/* Copy into a buffer of exactly len bytes, without a terminating NUL, so
 * AddressSanitizer catches any read past the end. */
static char *exact(const char *text, size_t len) {
        char *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, text, len);
        return p;
}

static int parse_sig(const char *text, size_t len, struct minisign_sig *sig, char *why, size_t why_size) {
        char *p = exact(text, len);
        int r = minisign_parse_sig(p, len, sig, why, why_size);
        free(p);
        return r;
}

static int parse_pub(const char *text, size_t len, struct minisign_pubkey *pk, char *why, size_t why_size) {
        char *p = exact(text, len);
        int r = minisign_parse_pubkey(p, len, pk, why, why_size);
        free(p);
        return r;
}

static int parse_sec(const char *text, size_t len, const char *pw, struct minisign_seckey *sk, char *why,
                     size_t why_size) {
        char *p = exact(text, len);
        int r = minisign_parse_seckey(p, len, pw, sk, why, why_size);
        free(p);
        return r;
}

static void load_pub(const char *name, struct minisign_pubkey *pk) {
        char why[128] = "";
        size_t n;
        _cleanup_free_ char *t = slurp(name, &n);
        int r = parse_pub(t, n, pk, why, sizeof why);
        if (r < 0)
                fail_msg("%s: %s", name, why);
}

static void load_sig(const char *name, struct minisign_sig *sig) {
        char why[128] = "";
        size_t n;
        _cleanup_free_ char *t = slurp(name, &n);
        int r = parse_sig(t, n, sig, why, sizeof why);
        if (r < 0)
                fail_msg("%s: %s", name, why);
}

static void load_sec(const char *name, const char *pw, struct minisign_seckey *sk) {
        char why[128] = "";
        size_t n;
        _cleanup_free_ char *t = slurp(name, &n);
        int r = parse_sec(t, n, pw, sk, why, sizeof why);
        if (r < 0)
                fail_msg("%s: %s", name, why);
}

static int group_setup(void **state) {
        (void)state;
        assert_true(sodium_init() >= 0);
        const char *tmp = getenv("TMPDIR");
        snprintf(fx.dir, sizeof fx.dir, "%s/test-minisign.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fx.dir))
                return -1;
        spit("data", DATA, strlen(DATA));
        if (run("cd %s && minisign -G -W -f -p a.pub -s a.key >/dev/null 2>&1 && "
                "minisign -G -W -f -p b.pub -s b.key >/dev/null 2>&1 && "
                "printf '%%s\\n%%s\\n' '" PASSWORD "' '" PASSWORD "' | minisign -G -f -p e.pub -s e.key >/dev/null 2>&1 && "
                "minisign -S -s a.key -m data -t 'sekisho test' </dev/null >/dev/null 2>&1 && "
                "minisign -S -l -s a.key -m data -x data.legacy -t 'legacy' </dev/null >/dev/null 2>&1",
                fx.dir) != 0) {
                print_error("minisign failed to make the test keys in %s\n", fx.dir);
                return -1;
        }
        return 0;
}

static int group_teardown(void **state) {
        (void)state;
        if (fx.dir[0] && !getenv("TEST_KEEP"))
                run("rm -rf '%s'", fx.dir);
        return 0;
}

/* A signature made by minisign -S verifies. */
static void test_verify_minisign_signature(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        load_pub("a.pub", &pk);
        load_sig("data.minisig", &sig);
        assert_true(sig.prehashed);
        assert_string_equal(sig.trusted_comment, "sekisho test");
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);
}

/* The key id as minisign prints it in the public key's comment. */
static void test_keynum_hex(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        char hex[17], line[128];
        size_t n;
        load_pub("a.pub", &pk);
        minisign_keynum_hex(pk.keynum, hex);
        _cleanup_free_ char *t = slurp("a.pub", &n);
        assert_int_equal(strlen(hex), 16);
        /* minisign -G writes the id with "%" PRIX64, without leading zeros */
        const char *h = hex;
        while (h[0] == '0' && h[1])
                h++;
        snprintf(line, sizeof line, "untrusted comment: minisign public key %s\n", h);
        assert_memory_equal(t, line, strlen(line));
        /* and prints it zero-padded elsewhere, as we do */
        const uint8_t low[MINISIGN_KEYNUM_BYTES] = { 0x42, 0x01 };
        minisign_keynum_hex(low, hex);
        assert_string_equal(hex, "0000000000000142");
}

/* What we sign, minisign -V accepts, and so do we. */
static void test_sign_verified_by_minisign(void **state) {
        (void)state;
        struct minisign_seckey sk;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        char why[128] = "";
        _cleanup_free_ char *text = NULL, *text2 = NULL;

        load_sec("a.key", NULL, &sk);
        load_pub("a.pub", &pk);
        assert_memory_equal(sk.keynum, pk.keynum, MINISIGN_KEYNUM_BYTES);

        assert_int_equal(minisign_sign(&sk, DATA, strlen(DATA), NULL, "serial:42\tfile:data ポリシー", &text), 0);
        spit("ours.minisig", text, strlen(text));
        assert_int_equal(run("cd %s && minisign -Vm data -x ours.minisig -p a.pub -q", fx.dir), 0);
        assert_int_equal(run("cd %s && minisign -QVm data -x ours.minisig -p a.pub | grep -qx 'serial:42.file:data ポリシー'",
                             fx.dir), 0);
        assert_int_equal(parse_sig(text, strlen(text), &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);

        /* Default comments, and an empty file. */
        assert_int_equal(minisign_sign(&sk, "", 0, "made by a test", NULL, &text2), 0);
        spit("empty", "", 0);
        spit("empty.minisig", text2, strlen(text2));
        assert_int_equal(run("cd %s && minisign -Vm empty -p a.pub -q", fx.dir), 0);
        assert_int_equal(parse_sig(text2, strlen(text2), &sig, why, sizeof why), 0);
        assert_true(strncmp(sig.trusted_comment, "timestamp:", 10) == 0);
        assert_int_equal(minisign_verify(&pk, &sig, "", 0), MINISIGN_OK);

        /* Comments we could not read back are refused. */
        char *t = NULL;
        assert_int_equal(minisign_sign(&sk, DATA, 3, NULL, "two\nlines", &t), -EINVAL);
        assert_int_equal(minisign_sign(&sk, DATA, 3, "two\rlines", "x", &t), -EINVAL);
        char long_tc[MINISIGN_TRUSTED_COMMENT_MAX + 2];
        memset(long_tc, 'x', sizeof long_tc - 1);
        long_tc[sizeof long_tc - 1] = '\0';
        assert_int_equal(minisign_sign(&sk, DATA, 3, NULL, long_tc, &t), -EINVAL);
        long_tc[MINISIGN_TRUSTED_COMMENT_MAX] = '\0';
        assert_int_equal(minisign_sign(&sk, DATA, 3, NULL, long_tc, &t), 0);
        assert_int_equal(parse_sig(t, strlen(t), &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, 3), MINISIGN_OK);
        free(t);
        sodium_memzero(&sk, sizeof sk);
}

static void test_tampered_data(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        char data[] = DATA;
        load_pub("a.pub", &pk);
        load_sig("data.minisig", &sig);
        for (size_t i = 0; i < strlen(data); i += 7) {
                data[i] ^= 0x01;
                assert_int_equal(minisign_verify(&pk, &sig, data, strlen(data)), MINISIGN_BAD_SIGNATURE);
                data[i] ^= 0x01;
        }
        assert_int_equal(minisign_verify(&pk, &sig, data, strlen(data) - 1), MINISIGN_BAD_SIGNATURE);
        assert_int_equal(minisign_verify(&pk, &sig, data, strlen(data)), MINISIGN_OK);
        sig.sig[10] ^= 0x40;
        assert_int_equal(minisign_verify(&pk, &sig, data, strlen(data)), MINISIGN_BAD_SIGNATURE);
}

/* Edit the trusted comment in the file: the signature still fits the data, the global signature does not. */
static void test_tampered_comment(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        char why[128] = "";
        size_t n;
        load_pub("a.pub", &pk);
        _cleanup_free_ char *t = slurp("data.minisig", &n);
        char *tc = strstr(t, "trusted comment: sekisho test");
        assert_non_null(tc);
        tc[strlen("trusted comment: sekisho")] = 'T';
        assert_int_equal(parse_sig(t, n, &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_BAD_COMMENT);

        load_sig("data.minisig", &sig);
        sig.global_sig[0] ^= 1;
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_BAD_COMMENT);
        /* An unterminated comment in a caller-built struct is not read past. */
        load_sig("data.minisig", &sig);
        memset(sig.trusted_comment, 'A', sizeof sig.trusted_comment);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_BAD_COMMENT);
}

static void test_other_key(void **state) {
        (void)state;
        struct minisign_pubkey a, b;
        struct minisign_sig sig;
        load_pub("a.pub", &a);
        load_pub("b.pub", &b);
        load_sig("data.minisig", &sig);
        assert_int_equal(minisign_verify(&b, &sig, DATA, strlen(DATA)), MINISIGN_WRONG_KEY);
        /* Same key id, other key: the signature itself fails. */
        memcpy(b.keynum, a.keynum, sizeof b.keynum);
        assert_int_equal(minisign_verify(&b, &sig, DATA, strlen(DATA)), MINISIGN_BAD_SIGNATURE);
}

static void test_legacy_refused(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        load_pub("a.pub", &pk);
        load_sig("data.legacy", &sig);
        assert_false(sig.prehashed);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_LEGACY);
}

/* CRLF line ends and a missing final newline are fine. */
static void test_line_ends(void **state) {
        (void)state;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        char why[128] = "";
        size_t n, m = 0;
        _cleanup_free_ char *t = slurp("data.minisig", &n);
        _cleanup_free_ char *crlf = malloc(2 * n);
        assert_non_null(crlf);
        for (size_t i = 0; i < n; i++) {
                if (t[i] == '\n')
                        crlf[m++] = '\r';
                crlf[m++] = t[i];
        }
        load_pub("a.pub", &pk);
        assert_int_equal(parse_sig(crlf, m, &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);
        assert_int_equal(parse_sig(crlf, m - 2, &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);
        assert_int_equal(parse_sig(t, n - 1, &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);
        /* minisign agrees about CRLF. */
        spit("crlf.minisig", crlf, m);
        assert_int_equal(run("cd %s && minisign -Vm data -x crlf.minisig -p a.pub -q", fx.dir), 0);

        size_t pn;
        _cleanup_free_ char *p = slurp("a.pub", &pn);
        assert_int_equal(parse_pub(p, pn - 1, &pk, why, sizeof why), 0);
}

struct bad {
        const char *text;
        const char *why;        /* expected reason (prefix) */
};

static void expect_bad_sig(const char *text, size_t len, const char *want) {
        struct minisign_sig sig;
        char why[128] = "";
        int r = parse_sig(text, len, &sig, why, sizeof why);
        if (r != -EINVAL)
                fail_msg("accepted or wrong error %d for %.*s", r, (int)len, text);
        assert_true(why[0] != '\0');
        if (want && strncmp(why, want, strlen(want)) != 0)
                fail_msg("reason \"%s\", expected \"%s\"", why, want);
}

static void expect_bad_pub(const char *text, size_t len, const char *want) {
        struct minisign_pubkey pk;
        char why[128] = "";
        int r = parse_pub(text, len, &pk, why, sizeof why);
        if (r != -EINVAL)
                fail_msg("accepted or wrong error %d for %.*s", r, (int)len, text);
        assert_true(why[0] != '\0');
        if (want && strncmp(why, want, strlen(want)) != 0)
                fail_msg("reason \"%s\", expected \"%s\"", why, want);
}

/* Replace the n-th line (1-based) of text by repl. */
static char *with_line(const char *text, int n, const char *repl) {
        char *out = malloc(strlen(text) + strlen(repl) + 2);
        assert_non_null(out);
        const char *p = text;
        char *o = out;
        for (int i = 1; *p; i++) {
                const char *e = strchr(p, '\n');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (i == n) {
                        o = stpcpy(o, repl);
                } else {
                        memcpy(o, p, l);
                        o += l;
                }
                if (e)
                        *o++ = '\n';
                p += l + (e ? 1 : 0);
        }
        *o = '\0';
        return out;
}

static void test_garbage_sig(void **state) {
        (void)state;
        size_t n;
        _cleanup_free_ char *t = slurp("data.minisig", &n);
        struct minisign_sig sig;
        char why[128];

        /* Every truncation fails, except the one that only drops the final newline. */
        for (size_t k = 0; k < n - 1; k++)
                expect_bad_sig(t, k, NULL);
        expect_bad_sig("", 0, "line 1: missing untrusted comment");
        expect_bad_sig(t, strlen("untrusted comment: x\n"), NULL);

        /* Reasons for the usual mistakes. */
        struct {
                int line;
                const char *repl;
                const char *why;
        } cases[] = {
                { 1, "untrusted comment x", "line 1: does not start with" },
                { 1, "", "line 1: does not start with" },
                { 2, "", "line 2: signature has wrong length" },
                { 2, "RUSYcC9j2rUtr0NM8vfiBZzrCRokmuU1b7+7IVLHnpqRzYtgeCzcOBLlJH2AfohHoGNGwxvHqDMOpuJhJuD7q3Q7ZN5SGcKRGgE",
                  "line 2: signature has wrong length" },
                { 2, "RUSYcC9j2rUtr0NM8vfiBZzrCRokmuU1b7+7IVLHnpqRzYtgeCzcOBLlJH2AfohHoGNGwxvHqDMOpuJhJuD7q3Q7ZN5SGcKRG!E=",
                  "line 2: invalid base64" },
                { 2, "RUSYcC9j2rUtr0NM8vfiBZzrCRokmuU1b7+7IVLHnpqRzYtgeCzcOBLlJH2AfohHoGNGwxvHqDMOpuJhJuD7q3Q7ZN5SGcKRGgF=",
                  "line 2: invalid base64" }, /* non-zero padding bits */
                { 2, "RXSYcC9j2rUtr0NM8vfiBZzrCRokmuU1b7+7IVLHnpqRzYtgeCzcOBLlJH2AfohHoGNGwxvHqDMOpuJhJuD7q3Q7ZN5SGcKRGgE=",
                  "line 2: unsupported signature algorithm" },
                { 3, "trusted comment:x", "line 3: does not start with" },
                { 3, "untrusted comment: x", "line 3: does not start with" },
                { 3, "trusted comment: bell\a", "line 3: trusted comment is not clean UTF-8" },
                { 3, "trusted comment: \xff\xfe", "line 3: trusted comment is not clean UTF-8" },
                { 4, "", "line 4: missing global signature" },
                { 4, "+IQEcE6Q/ilFAhwSwL1riD79uvxJOw2b44aD7Psz5Ol50nfFW9moRe4Z1EIF4ckkbMUJk9g2XgKWTAOgMW7WAw",
                  "line 4: global signature has wrong length" },
                { 4, "+IQEcE6Q/ilFAhwSwL1riD79uvxJOw2b44aD7Psz5Ol50nfFW9moRe4Z1EIF4ckkbMUJk9g2XgKWTAOgMW7WA===",
                  "line 4: invalid base64" },
                { 4, " +IQEcE6Q/ilFAhwSwL1riD79uvxJOw2b44aD7Psz5Ol50nfFW9moRe4Z1EIF4ckkbMUJk9g2XgKWTAOgMW7WAw==",
                  "line 4: global signature has wrong length" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *b = with_line(t, cases[i].line, cases[i].repl);
                size_t bl = strlen(b);
                /* "missing" cases: an empty last line is no line at all */
                if (cases[i].line == 4 && !cases[i].repl[0])
                        bl = strlen(b) - 1;
                expect_bad_sig(b, bl, cases[i].why);
        }

        /* Anything after the fourth line. */
        _cleanup_free_ char *extra = malloc(n + 8);
        memcpy(extra, t, n);
        memcpy(extra + n, "\n", 1);
        expect_bad_sig(extra, n + 1, "line 5: unexpected content");
        memcpy(extra + n, "more", 4);
        expect_bad_sig(extra, n + 4, "line 5: unexpected content");

        /* NUL inside. */
        _cleanup_free_ char *nul = exact(t, n);
        nul[strlen("untrusted comment: signature from minisign secret key\n") + 50] = '\0';
        expect_bad_sig(nul, n, "line 2: invalid base64");

        /* Trusted comment: at the limit fine, one more refused. */
        char tc[sizeof "trusted comment: " + MINISIGN_TRUSTED_COMMENT_MAX + 1];
        strcpy(tc, "trusted comment: ");
        memset(tc + strlen(tc), 'c', MINISIGN_TRUSTED_COMMENT_MAX + 1);
        tc[sizeof tc - 1] = '\0';
        _cleanup_free_ char *toolong = with_line(t, 3, tc);
        expect_bad_sig(toolong, strlen(toolong), "line 3: trusted comment too long");
        tc[sizeof tc - 2] = '\0';
        _cleanup_free_ char *atlimit = with_line(t, 3, tc);
        assert_int_equal(parse_sig(atlimit, strlen(atlimit), &sig, why, sizeof why), 0);
        assert_int_equal(strlen(sig.trusted_comment), MINISIGN_TRUSTED_COMMENT_MAX);

        /* Oversized file. */
        _cleanup_free_ char *big = malloc(MINISIGN_MAX_FILE + 1);
        memset(big, 'A', MINISIGN_MAX_FILE + 1);
        expect_bad_sig(big, MINISIGN_MAX_FILE + 1, "file too large");

        /* A public key is not a signature and vice versa. */
        size_t pn;
        _cleanup_free_ char *p = slurp("a.pub", &pn);
        expect_bad_sig(p, pn, "line 2: signature has wrong length");
        expect_bad_pub(t, n, "line 2: public key has wrong length");

        /* why may be absent. */
        assert_int_equal(minisign_parse_sig("x", 1, &sig, NULL, 0), -EINVAL);
}

static void test_garbage_pub(void **state) {
        (void)state;
        size_t n;
        _cleanup_free_ char *t = slurp("a.pub", &n);
        struct minisign_pubkey pk;
        char why[128];

        for (size_t k = 0; k < n - 1; k++)
                expect_bad_pub(t, k, NULL);
        expect_bad_pub("", 0, "line 1: missing untrusted comment");
        expect_bad_pub("untrusted comment: x\n", strlen("untrusted comment: x\n"), "line 2: missing public key");
        expect_bad_pub("RWSYcC9j2rUtr02auaGPVijGgaG+gODsSCrQVEBFKWvTU6B5hF1TikVG\n", 57, "line 1: does not start with");

        _cleanup_free_ char *alg = with_line(t, 2, "RXSYcC9j2rUtr02auaGPVijGgaG+gODsSCrQVEBFKWvTU6B5hF1TikVG");
        expect_bad_pub(alg, strlen(alg), "line 2: unsupported signature algorithm");
        _cleanup_free_ char *b64 = with_line(t, 2, "RWSYcC9j2rUtr02auaGPVijGgaG+gODsSCrQVEBFKWvTU6B5hF1Tik*G");
        expect_bad_pub(b64, strlen(b64), "line 2: invalid base64");
        /* keynum and an all-zero (small order) point */
        uint8_t bin[42];
        size_t bl;
        char enc[64];
        char *line2 = strchr(t, '\n') + 1;
        assert_int_equal(sodium_base642bin(bin, sizeof bin, line2, 56, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
        memset(bin + 10, 0, 32);
        sodium_bin2base64(enc, sizeof enc, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
        _cleanup_free_ char *zero = with_line(t, 2, enc);
        expect_bad_pub(zero, strlen(zero), "line 2: not a valid Ed25519 public key");

        _cleanup_free_ char *extra = malloc(n + 8);
        memcpy(extra, t, n);
        memcpy(extra + n, "\r\n", 2);
        expect_bad_pub(extra, n + 2, "line 3: unexpected content after the public key");

        _cleanup_free_ char *longc = malloc(2000 + n);
        strcpy(longc, "untrusted comment: ");
        memset(longc + strlen(longc), 'x', 1100);
        strcpy(longc + strlen("untrusted comment: ") + 1100, strchr(t, '\n'));
        expect_bad_pub(longc, strlen(longc), "line 1: untrusted comment too long");

        assert_int_equal(parse_pub(t, n, &pk, why, sizeof why), 0);
}

static void test_seckey_unencrypted(void **state) {
        (void)state;
        size_t n;
        _cleanup_free_ char *t = slurp("a.key", &n);
        struct minisign_seckey sk;
        char why[128] = "";

        /* A password given for an unencrypted key is not needed and does no harm. */
        assert_int_equal(parse_sec(t, n, "unused", &sk, why, sizeof why), 0);
        for (size_t k = 0; k < n - 1; k += 5)
                assert_int_equal(parse_sec(t, k, NULL, &sk, why, sizeof why), -EINVAL);

        /* Flip one bit of the seed inside the base64: the halves no longer match. */
        char *line2 = strchr(t, '\n') + 1;
        size_t seed_char = 4 * (54 + 8 + 3) / 3;   /* well inside sk */
        line2[seed_char] = line2[seed_char] == 'A' ? 'B' : 'A';
        assert_int_equal(parse_sec(t, n, NULL, &sk, why, sizeof why), -EINVAL);
        assert_string_equal(why, "line 2: secret key is inconsistent");
}

static void test_seckey_encrypted(void **state) {
        (void)state;
        size_t n;
        _cleanup_free_ char *t = slurp("e.key", &n);
        struct minisign_seckey sk;
        struct minisign_pubkey pk;
        struct minisign_sig sig;
        char why[128] = "";
        _cleanup_free_ char *text = NULL;

        assert_int_equal(parse_sec(t, n, NULL, &sk, why, sizeof why), -ENOKEY);
        assert_int_equal(parse_sec(t, n, "wrong password", &sk, why, sizeof why), -EKEYREJECTED);
        assert_string_equal(why, "wrong password for this secret key");

        load_sec("e.key", PASSWORD, &sk);
        load_pub("e.pub", &pk);
        assert_int_equal(minisign_sign(&sk, DATA, strlen(DATA), NULL, "encrypted key", &text), 0);
        spit("enc.minisig", text, strlen(text));
        assert_int_equal(run("cd %s && minisign -Vm data -x enc.minisig -p e.pub -q", fx.dir), 0);
        assert_int_equal(parse_sig(text, strlen(text), &sig, why, sizeof why), 0);
        assert_int_equal(minisign_verify(&pk, &sig, DATA, strlen(DATA)), MINISIGN_OK);
        sodium_memzero(&sk, sizeof sk);
}

/* A hostile key file must not make us derive with absurd scrypt limits. */
static void test_seckey_kdf_limits(void **state) {
        (void)state;
        size_t n;
        _cleanup_free_ char *t = slurp("e.key", &n);
        struct minisign_seckey sk;
        char why[128] = "";
        uint8_t bin[158];
        size_t bl;
        char *line2 = strchr(t, '\n') + 1;
        char *end = strchr(line2, '\n');
        assert_int_equal(sodium_base642bin(bin, sizeof bin, line2, (size_t)(end - line2), NULL, &bl, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        assert_int_equal(bl, sizeof bin);
        bin[6 + 32 + 8 + 7] = 0x40;   /* memlimit 2^62 */
        char b64[sizeof bin * 2];
        sodium_bin2base64(b64, sizeof b64, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
        _cleanup_free_ char *bad = with_line(t, 2, b64);
        assert_int_equal(parse_sec(bad, strlen(bad), PASSWORD, &sk, why, sizeof why), -EINVAL);
        assert_string_equal(why, "line 2: unreasonable key derivation parameters");
}

/* Several minisign signatures in one file (cat a.minisig b.minisig), as thresholds need. */
static void test_multi_sigs(void **state) {
        (void)state;
        assert_int_equal(run("cd %s && minisign -S -s b.key -m data -x data.b -t 'second' </dev/null >/dev/null 2>&1 && "
                             "{ cat data.minisig; echo; cat data.b; } > data.two && cat data.minisig data.b data.b > data.three",
                             fx.dir), 0);
        struct minisign_pubkey a, b;
        load_pub("a.pub", &a);
        load_pub("b.pub", &b);
        struct minisign_sig sigs[MINISIGN_MAX_SIGS];
        size_t n = 0, len;
        char why[160] = "";
        _cleanup_free_ char *two = slurp("data.two", &len);
        _cleanup_free_ char *p = exact(two, len);
        assert_int_equal(minisign_parse_sigs(p, len, sigs, MINISIGN_MAX_SIGS, &n, why, sizeof why), 0);
        assert_int_equal(n, 2);
        assert_int_equal(minisign_verify(&a, &sigs[0], DATA, strlen(DATA)), MINISIGN_OK);
        assert_int_equal(minisign_verify(&b, &sigs[1], DATA, strlen(DATA)), MINISIGN_OK);
        /* A cap on the count, and an error names the line in the whole file. */
        assert_int_equal(minisign_parse_sigs(p, len, sigs, 1, &n, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "more than 1 signatures"));
        _cleanup_free_ char *three = slurp("data.three", &len);
        three[len - 3] = '#'; /* the global signature of the third block, line 12 */
        free(p);
        p = exact(three, len);
        assert_int_equal(minisign_parse_sigs(p, len, sigs, MINISIGN_MAX_SIGS, &n, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "line 12:"));
        assert_int_equal(minisign_parse_sigs("", 0, sigs, MINISIGN_MAX_SIGS, &n, why, sizeof why), -EINVAL);
}

/* The second line of a .pub file, as a trust root carries it, and back. */
static void test_pubkey_b64(void **state) {
        (void)state;
        struct minisign_pubkey a, back;
        load_pub("a.pub", &a);
        char b64[MINISIGN_PUBKEY_B64_LEN + 1], why[160];
        minisign_format_pubkey_b64(&a, b64);
        size_t len;
        _cleanup_free_ char *text = slurp("a.pub", &len);
        assert_non_null(strstr(text, b64));
        assert_int_equal(minisign_parse_pubkey_b64(b64, &back, why, sizeof why), 0);
        assert_memory_equal(&a, &back, sizeof a);
        b64[10] = '!';
        assert_int_equal(minisign_parse_pubkey_b64(b64, &back, why, sizeof why), -EINVAL);
        assert_int_equal(minisign_parse_pubkey_b64("RWQ", &back, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "expected 56"));
}

int main(void) {
        if (run("command -v minisign >/dev/null 2>&1") != 0) {
                printf("SKIP: minisign(1) is not installed (Debian package minisign); these tests need it\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_verify_minisign_signature),
                cmocka_unit_test(test_keynum_hex),
                cmocka_unit_test(test_sign_verified_by_minisign),
                cmocka_unit_test(test_tampered_data),
                cmocka_unit_test(test_tampered_comment),
                cmocka_unit_test(test_other_key),
                cmocka_unit_test(test_legacy_refused),
                cmocka_unit_test(test_line_ends),
                cmocka_unit_test(test_garbage_sig),
                cmocka_unit_test(test_garbage_pub),
                cmocka_unit_test(test_seckey_unencrypted),
                cmocka_unit_test(test_seckey_encrypted),
                cmocka_unit_test(test_seckey_kdf_limits),
                cmocka_unit_test(test_multi_sigs),
                cmocka_unit_test(test_pubkey_b64),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
