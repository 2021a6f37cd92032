/* minisign.c — parse minisign keys and signatures (hostile input), verify and produce prehashed signatures with libsodium. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "minisign.h"
#include "util.h"

/* The wire structures, as minisign lays them out (packed, no padding). */
#define ALG_BYTES 2
#define PUBKEY_BIN (ALG_BYTES + MINISIGN_KEYNUM_BYTES + MINISIGN_PK_BYTES)              /* 42 */
#define SIG_BIN (ALG_BYTES + MINISIGN_KEYNUM_BYTES + MINISIGN_SIG_BYTES)                /* 74 */
#define KDF_SALT_BYTES 32
#define CHK_BYTES 32
#define KEYNUM_SK_BIN (MINISIGN_KEYNUM_BYTES + MINISIGN_SK_BYTES + CHK_BYTES)           /* 104 */
#define SECKEY_BIN (3 * ALG_BYTES + KDF_SALT_BYTES + 8 + 8 + KEYNUM_SK_BIN)            /* 158 */

/* Base64 (original alphabet, padded) length of n bytes. */
#define B64_LEN(n) ((((n) + 2) / 3) * 4)

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
/* minisign reads the comment line with a 1024-byte buffer, newline included. */
#define UNTRUSTED_LINE_MAX 1023

#define ALG_LEGACY "Ed"
#define ALG_PREHASHED "ED"
#define KDF_SCRYPT "Sc"
#define KDF_NONE "\0\0"
#define CHK_BLAKE2B "B2"

#define SIG_FORMAT UNTRUSTED_PREFIX "%s\n%s\n" TRUSTED_PREFIX "%s\n%s\n"
#define DEFAULT_UNTRUSTED_COMMENT "signature from sekisho secret key"

struct line {
        const char *p;
        size_t len;
};

_printf_(3, 4) static int fail(char *why, size_t why_size, const char *fmt, ...) {
        if (why && why_size > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(why, why_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* The first n lines of a file. Each line ends with "\n" or "\r\n"; the last
 * one may lack its terminator. Splitting never fails on structure: each
 * parser reports missing or surplus lines itself, in line order. */
struct lines {
        struct line l[4];
        size_t n;               /* lines present */
        bool extra;             /* something follows the n-th line */
};

static int split_lines(const char *text, size_t len, size_t n, struct lines *ret, char *why, size_t why_size) {
        size_t pos = 0;

        *ret = (struct lines){ .n = 0 };
        if (len > MINISIGN_MAX_FILE)
                return fail(why, why_size, "file too large (%zu bytes, at most %d)", len, MINISIGN_MAX_FILE);
        if (!text)
                len = 0;

        while (ret->n < n && pos < len) {
                const char *start = text + pos;
                const char *nl = memchr(start, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - start) : len - pos;

                pos += l + (nl ? 1 : 0);
                if (l > 0 && start[l - 1] == '\r')
                        l--;
                ret->l[ret->n++] = (struct line){ start, l };
        }
        ret->extra = pos < len;
        return 0;
}

/* Line i (0-based) or a "missing" reason. */
static const struct line *need_line(const struct lines *ls, size_t i, const char *what, char *why, size_t why_size) {
        if (i >= ls->n) {
                fail(why, why_size, "line %zu: missing %s", i + 1, what);
                return NULL;
        }
        return &ls->l[i];
}

static int no_extra(const struct lines *ls, const char *last, char *why, size_t why_size) {
        if (ls->extra)
                return fail(why, why_size, "line %zu: unexpected content after the %s", ls->n + 1, last);
        return 0;
}

static bool has_prefix(const struct line *l, const char *prefix) {
        size_t pl = strlen(prefix);
        return l->len >= pl && memcmp(l->p, prefix, pl) == 0;
}

static int check_untrusted_comment(const struct line *l, char *why, size_t why_size) {
        if (!has_prefix(l, UNTRUSTED_PREFIX))
                return fail(why, why_size, "line 1: does not start with \"" UNTRUSTED_PREFIX "\"");
        if (l->len > UNTRUSTED_LINE_MAX)
                return fail(why, why_size, "line 1: untrusted comment too long");
        if (memchr(l->p, '\0', l->len))
                return fail(why, why_size, "line 1: NUL byte in untrusted comment");
        return 0;
}

/* Decode one line that must be exactly the base64 of n bytes. */
static int decode_line(const struct line *l, size_t lineno, uint8_t *out, size_t n, const char *what, char *why,
                       size_t why_size) {
        size_t bin_len = 0;

        if (l->len != B64_LEN(n))
                return fail(why, why_size, "line %zu: %s has wrong length (%zu characters, expected %zu)", lineno,
                            what, l->len, (size_t)B64_LEN(n));
        if (sodium_base642bin(out, n, l->p, l->len, NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            bin_len != n)
                return fail(why, why_size, "line %zu: invalid base64", lineno);
        return 0;
}

static uint64_t le64_load(const uint8_t *p) {
        uint64_t v = 0;
        for (size_t i = 8; i-- > 0;)
                v = (v << 8) | p[i];
        return v;
}

void minisign_keynum_hex(const uint8_t keynum[MINISIGN_KEYNUM_BYTES], char out[17]) {
        snprintf(out, 17, "%016" PRIX64, le64_load(keynum));
}

int minisign_parse_pubkey(const char *text, size_t len, struct minisign_pubkey *ret, char *why, size_t why_size) {
        struct lines ls;
        const struct line *l;
        uint8_t bin[PUBKEY_BIN];
        int r;

        r = split_lines(text, len, 2, &ls, why, why_size);
        if (r < 0)
                return r;
        if (!(l = need_line(&ls, 0, "untrusted comment", why, why_size)))
                return -EINVAL;
        r = check_untrusted_comment(l, why, why_size);
        if (r < 0)
                return r;
        if (!(l = need_line(&ls, 1, "public key", why, why_size)))
                return -EINVAL;
        r = decode_line(l, 2, bin, sizeof bin, "public key", why, why_size);
        if (r < 0)
                return r;
        if (memcmp(bin, ALG_LEGACY, ALG_BYTES) != 0)
                return fail(why, why_size, "line 2: unsupported signature algorithm");
        /* Every real Ed25519 key is a point of the main subgroup; anything else can only be forged. */
        if (crypto_core_ed25519_is_valid_point(bin + ALG_BYTES + MINISIGN_KEYNUM_BYTES) != 1)
                return fail(why, why_size, "line 2: not a valid Ed25519 public key");
        r = no_extra(&ls, "public key", why, why_size);
        if (r < 0)
                return r;

        memcpy(ret->keynum, bin + ALG_BYTES, MINISIGN_KEYNUM_BYTES);
        memcpy(ret->pk, bin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, MINISIGN_PK_BYTES);
        return 0;
}

int minisign_parse_sig(const char *text, size_t len, struct minisign_sig *ret, char *why, size_t why_size) {
        struct lines ls;
        const struct line *l;
        uint8_t bin[SIG_BIN];
        uint8_t global_sig[MINISIGN_SIG_BYTES];
        const char *tc;
        size_t tc_len;
        bool prehashed;
        int r;

        r = split_lines(text, len, 4, &ls, why, why_size);
        if (r < 0)
                return r;
        if (!(l = need_line(&ls, 0, "untrusted comment", why, why_size)))
                return -EINVAL;
        r = check_untrusted_comment(l, why, why_size);
        if (r < 0)
                return r;

        if (!(l = need_line(&ls, 1, "signature", why, why_size)))
                return -EINVAL;
        r = decode_line(l, 2, bin, sizeof bin, "signature", why, why_size);
        if (r < 0)
                return r;
        if (memcmp(bin, ALG_PREHASHED, ALG_BYTES) == 0)
                prehashed = true;
        else if (memcmp(bin, ALG_LEGACY, ALG_BYTES) == 0)
                prehashed = false;
        else
                return fail(why, why_size, "line 2: unsupported signature algorithm");

        if (!(l = need_line(&ls, 2, "trusted comment", why, why_size)))
                return -EINVAL;
        if (!has_prefix(l, TRUSTED_PREFIX))
                return fail(why, why_size, "line 3: does not start with \"" TRUSTED_PREFIX "\"");
        tc = l->p + strlen(TRUSTED_PREFIX);
        tc_len = l->len - strlen(TRUSTED_PREFIX);
        if (tc_len > MINISIGN_TRUSTED_COMMENT_MAX)
                return fail(why, why_size, "line 3: trusted comment too long (%zu bytes, at most %d)", tc_len,
                            MINISIGN_TRUSTED_COMMENT_MAX);
        /* It ends up in logs and the audit trail: text only (this also rules
         * out NUL, which would make the signed bytes differ from the string). */
        if (!string_is_clean_utf8(tc, tc_len))
                return fail(why, why_size, "line 3: trusted comment is not clean UTF-8 text");

        if (!(l = need_line(&ls, 3, "global signature", why, why_size)))
                return -EINVAL;
        r = decode_line(l, 4, global_sig, sizeof global_sig, "global signature", why, why_size);
        if (r < 0)
                return r;
        r = no_extra(&ls, "global signature", why, why_size);
        if (r < 0)
                return r;

        ret->prehashed = prehashed;
        memcpy(ret->keynum, bin + ALG_BYTES, MINISIGN_KEYNUM_BYTES);
        memcpy(ret->sig, bin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, MINISIGN_SIG_BYTES);
        memcpy(ret->trusted_comment, tc, tc_len);
        ret->trusted_comment[tc_len] = '\0';
        memcpy(ret->global_sig, global_sig, MINISIGN_SIG_BYTES);
        return 0;
}

int minisign_parse_sigs(const char *text, size_t len, struct minisign_sig *sigs, size_t max, size_t *ret_n, char *why,
                        size_t why_size) {
        size_t pos = 0, line = 1, n = 0;

        if (len > MINISIGN_MAX_FILE)
                return fail(why, why_size, "file too large (%zu bytes, at most %d)", len, MINISIGN_MAX_FILE);
        if (!text)
                len = 0;
        for (;;) {
                /* skip blank lines between blocks */
                while (pos < len && (text[pos] == '\n' || (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n'))) {
                        pos += text[pos] == '\r' ? 2 : 1;
                        line++;
                }
                if (pos >= len)
                        break;
                if (n == max)
                        return fail(why, why_size, "line %zu: more than %zu signatures", line, max);
                /* the block: four lines from pos */
                size_t end = pos;
                for (int k = 0; k < 4 && end < len; k++) {
                        const char *nl = memchr(text + end, '\n', len - end);
                        end = nl ? (size_t)(nl - text) + 1 : len;
                }
                char sub[160];
                if (minisign_parse_sig(text + pos, end - pos, &sigs[n], sub, sizeof sub) < 0) {
                        /* "line K: ..." of the block, as a line of the file */
                        unsigned k;
                        if (sscanf(sub, "line %u:", &k) == 1 && strchr(sub, ':'))
                                return fail(why, why_size, "line %zu:%s", line + k - 1, strchr(sub, ':') + 1);
                        return fail(why, why_size, "signature %zu: %s", n + 1, sub);
                }
                n++;
                pos = end;
                line += 4;
        }
        if (n == 0)
                return fail(why, why_size, "line 1: missing untrusted comment");
        *ret_n = n;
        return 0;
}

int minisign_parse_pubkey_b64(const char *b64, struct minisign_pubkey *ret, char *why, size_t why_size) {
        char text[64 + MINISIGN_PUBKEY_B64_LEN];
        size_t len = b64 ? strlen(b64) : 0;
        if (len != MINISIGN_PUBKEY_B64_LEN)
                return fail(why, why_size, "not a minisign public key (%zu characters, expected %d)", len,
                            MINISIGN_PUBKEY_B64_LEN);
        int n = snprintf(text, sizeof text, UNTRUSTED_PREFIX "\n%s\n", b64);
        char sub[160];
        if (minisign_parse_pubkey(text, (size_t)n, ret, sub, sizeof sub) < 0) {
                const char *p = strncmp(sub, "line 2: ", 8) == 0 ? sub + 8 : sub;
                return fail(why, why_size, "%s", p);
        }
        return 0;
}

void minisign_format_pubkey_b64(const struct minisign_pubkey *pk, char out[MINISIGN_PUBKEY_B64_LEN + 1]) {
        uint8_t bin[PUBKEY_BIN];
        memcpy(bin, ALG_LEGACY, ALG_BYTES);
        memcpy(bin + ALG_BYTES, pk->keynum, MINISIGN_KEYNUM_BYTES);
        memcpy(bin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, pk->pk, MINISIGN_PK_BYTES);
        sodium_bin2base64(out, MINISIGN_PUBKEY_B64_LEN + 1, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
}

/* BLAKE2b-256(sig_alg || keynum || sk), minisign's secret key checksum. */
static void seckey_chk(const uint8_t *sig_alg, const uint8_t *keynum, const uint8_t *sk, uint8_t out[CHK_BYTES]) {
        crypto_generichash_state st;

        crypto_generichash_init(&st, NULL, 0, CHK_BYTES);
        crypto_generichash_update(&st, sig_alg, ALG_BYTES);
        crypto_generichash_update(&st, keynum, MINISIGN_KEYNUM_BYTES);
        crypto_generichash_update(&st, sk, MINISIGN_SK_BYTES);
        crypto_generichash_final(&st, out, CHK_BYTES);
        sodium_memzero(&st, sizeof st);
}

static bool all_zero(const uint8_t *p, size_t n) {
        return sodium_is_zero(p, n) == 1;
}

/* Clears the secret material it handled before returning, whatever happens. */
static int seckey_decode(const char *text, size_t len, const char *password, struct minisign_seckey *ret,
                         char *why, size_t why_size, uint8_t *bin, uint8_t *stream) {
        struct lines ls;
        const struct line *l;
        uint8_t chk[CHK_BYTES];
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        const uint8_t *sig_alg = bin, *kdf_alg = bin + 2, *chk_alg = bin + 4, *salt = bin + 6;
        const uint8_t *ops_le = salt + KDF_SALT_BYTES, *mem_le = ops_le + 8;
        uint8_t *keynum_sk = bin + SECKEY_BIN - KEYNUM_SK_BIN;
        uint8_t *keynum = keynum_sk, *seckey = keynum_sk + MINISIGN_KEYNUM_BYTES,
                *stored_chk = seckey + MINISIGN_SK_BYTES;
        bool encrypted;
        int r;

        r = split_lines(text, len, 2, &ls, why, why_size);
        if (r < 0)
                return r;
        if (!(l = need_line(&ls, 0, "untrusted comment", why, why_size)))
                return -EINVAL;
        r = check_untrusted_comment(l, why, why_size);
        if (r < 0)
                return r;
        if (!(l = need_line(&ls, 1, "secret key", why, why_size)))
                return -EINVAL;
        r = decode_line(l, 2, bin, SECKEY_BIN, "secret key", why, why_size);
        if (r < 0)
                return r;
        r = no_extra(&ls, "secret key", why, why_size);
        if (r < 0)
                return r;
        if (memcmp(sig_alg, ALG_LEGACY, ALG_BYTES) != 0)
                return fail(why, why_size, "line 2: unsupported signature algorithm");
        if (memcmp(chk_alg, CHK_BLAKE2B, ALG_BYTES) != 0)
                return fail(why, why_size, "line 2: unsupported checksum algorithm");
        if (memcmp(kdf_alg, KDF_SCRYPT, ALG_BYTES) == 0)
                encrypted = true;
        else if (memcmp(kdf_alg, KDF_NONE, ALG_BYTES) == 0)
                encrypted = false;
        else
                return fail(why, why_size, "line 2: unsupported key derivation function");

        if (encrypted) {
                uint64_t ops = le64_load(ops_le), mem = le64_load(mem_le);

                if (!password) {
                        if (why && why_size > 0)
                                snprintf(why, why_size, "secret key is encrypted, a password is needed");
                        return -ENOKEY;
                }
                /* minisign uses the "sensitive" limits, halved while memory is short;
                 * a file asking for more would only make us burn memory and time. */
                if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
                    ops > crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE ||
                    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN ||
                    mem > crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE)
                        return fail(why, why_size, "line 2: unreasonable key derivation parameters");
                if (crypto_pwhash_scryptsalsa208sha256(stream, KEYNUM_SK_BIN, password, strlen(password), salt,
                                                       (unsigned long long)ops, (size_t)mem) != 0) {
                        if (why && why_size > 0)
                                snprintf(why, why_size, "key derivation failed (out of memory?)");
                        return -ENOMEM;
                }
                for (size_t i = 0; i < KEYNUM_SK_BIN; i++)
                        keynum_sk[i] ^= stream[i];
        }

        seckey_chk(sig_alg, keynum, seckey, chk);
        if (sodium_memcmp(chk, stored_chk, CHK_BYTES) != 0) {
                sodium_memzero(chk, sizeof chk);
                if (encrypted) {
                        if (why && why_size > 0)
                                snprintf(why, why_size, "wrong password for this secret key");
                        return -EKEYREJECTED;
                }
                /* minisign 0.11 -W leaves the checksum of unencrypted keys zeroed. */
                if (!all_zero(stored_chk, CHK_BYTES))
                        return fail(why, why_size, "line 2: secret key checksum mismatch");
        }
        sodium_memzero(chk, sizeof chk);

        /* The second half of an Ed25519 secret key is its public key: check
         * they belong together (catches damage the zeroed checksum cannot). */
        r = crypto_sign_seed_keypair(pk, sk, seckey);
        if (r == 0 && sodium_memcmp(sk, seckey, sizeof sk) != 0)
                r = -1;
        sodium_memzero(sk, sizeof sk);
        if (r != 0)
                return fail(why, why_size, "line 2: secret key is inconsistent");

        memcpy(ret->keynum, keynum, MINISIGN_KEYNUM_BYTES);
        memcpy(ret->sk, seckey, MINISIGN_SK_BYTES);
        return 0;
}

int minisign_parse_seckey(const char *text, size_t len, const char *password, struct minisign_seckey *ret,
                          char *why, size_t why_size) {
        uint8_t bin[SECKEY_BIN], stream[KEYNUM_SK_BIN];
        int r;

        if (sodium_init() < 0)
                return fail(why, why_size, "libsodium failed to initialise");
        r = seckey_decode(text, len, password, ret, why, why_size, bin, stream);
        sodium_memzero(bin, sizeof bin);
        sodium_memzero(stream, sizeof stream);
        return r;
}

enum minisign_result minisign_verify(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
                                     const void *data, size_t size) {
        uint8_t hash[crypto_generichash_BYTES_MAX];
        uint8_t buf[MINISIGN_SIG_BYTES + MINISIGN_TRUSTED_COMMENT_MAX];
        size_t tc_len;

        if (!sig->prehashed)
                return MINISIGN_LEGACY;
        if (sodium_memcmp(pk->keynum, sig->keynum, MINISIGN_KEYNUM_BYTES) != 0)
                return MINISIGN_WRONG_KEY;

        crypto_generichash(hash, sizeof hash, size > 0 ? data : NULL, size, NULL, 0);
        if (crypto_sign_verify_detached(sig->sig, hash, sizeof hash, pk->pk) != 0)
                return MINISIGN_BAD_SIGNATURE;

        /* The struct may not come from our parser: never trust its string to be terminated. */
        tc_len = strnlen(sig->trusted_comment, sizeof sig->trusted_comment);
        if (tc_len > MINISIGN_TRUSTED_COMMENT_MAX)
                return MINISIGN_BAD_COMMENT;
        memcpy(buf, sig->sig, MINISIGN_SIG_BYTES);
        memcpy(buf + MINISIGN_SIG_BYTES, sig->trusted_comment, tc_len);
        if (crypto_sign_verify_detached(sig->global_sig, buf, MINISIGN_SIG_BYTES + tc_len, pk->pk) != 0)
                return MINISIGN_BAD_COMMENT;
        return MINISIGN_OK;
}

static void b64(char *out, size_t out_size, const uint8_t *bin, size_t n) {
        sodium_bin2base64(out, out_size, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

int minisign_sign(const struct minisign_seckey *sk, const void *data, size_t size, const char *untrusted_comment,
                  const char *trusted_comment, char **ret_text) {
        uint8_t hash[crypto_generichash_BYTES_MAX];
        uint8_t sigbin[SIG_BIN];
        uint8_t buf[MINISIGN_SIG_BYTES + MINISIGN_TRUSTED_COMMENT_MAX];
        uint8_t global_sig[MINISIGN_SIG_BYTES];
        char sig_b64[B64_LEN(SIG_BIN) + 1], global_b64[B64_LEN(MINISIGN_SIG_BYTES) + 1];
        char default_tc[64];
        size_t tc_len;
        char *text = NULL;

        if (sodium_init() < 0)
                return -EIO;
        if (!untrusted_comment)
                untrusted_comment = DEFAULT_UNTRUSTED_COMMENT;
        if (!trusted_comment) {
                snprintf(default_tc, sizeof default_tc, "timestamp:%" PRId64, (int64_t)time(NULL));
                trusted_comment = default_tc;
        }
        /* Only what our own parser (and minisign) will read back. */
        if (strlen(UNTRUSTED_PREFIX) + strlen(untrusted_comment) > UNTRUSTED_LINE_MAX ||
            strpbrk(untrusted_comment, "\r\n"))
                return -EINVAL;
        tc_len = strlen(trusted_comment);
        if (tc_len > MINISIGN_TRUSTED_COMMENT_MAX || !string_is_clean_utf8(trusted_comment, tc_len))
                return -EINVAL;

        crypto_generichash(hash, sizeof hash, size > 0 ? data : NULL, size, NULL, 0);
        memcpy(sigbin, ALG_PREHASHED, ALG_BYTES);
        memcpy(sigbin + ALG_BYTES, sk->keynum, MINISIGN_KEYNUM_BYTES);
        if (crypto_sign_detached(sigbin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, NULL, hash, sizeof hash, sk->sk) != 0)
                return -EIO;

        memcpy(buf, sigbin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, MINISIGN_SIG_BYTES);
        memcpy(buf + MINISIGN_SIG_BYTES, trusted_comment, tc_len);
        if (crypto_sign_detached(global_sig, NULL, buf, MINISIGN_SIG_BYTES + tc_len, sk->sk) != 0)
                return -EIO;

        /* Check both against the public half before handing them out: a
         * faulty computation must not leave as a signature. */
        const uint8_t *pk = sk->sk + crypto_sign_SEEDBYTES;
        if (crypto_sign_verify_detached(sigbin + ALG_BYTES + MINISIGN_KEYNUM_BYTES, hash, sizeof hash, pk) != 0 ||
            crypto_sign_verify_detached(global_sig, buf, MINISIGN_SIG_BYTES + tc_len, pk) != 0)
                return -EIO;

        b64(sig_b64, sizeof sig_b64, sigbin, sizeof sigbin);
        b64(global_b64, sizeof global_b64, global_sig, sizeof global_sig);
        int n = snprintf(NULL, 0, SIG_FORMAT, untrusted_comment, sig_b64, trusted_comment, global_b64);
        if (n < 0)
                return -EIO;
        text = malloc((size_t)n + 1);
        if (!text)
                return -ENOMEM;
        snprintf(text, (size_t)n + 1, SIG_FORMAT, untrusted_comment, sig_b64, trusted_comment, global_b64);
        *ret_text = text;
        return 0;
}
