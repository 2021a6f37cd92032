/* minisign.h — minisign public keys, signatures and secret keys (Ed25519 over BLAKE2b-512), with libsodium. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINISIGN_KEYNUM_BYTES 8
#define MINISIGN_PK_BYTES 32
#define MINISIGN_SK_BYTES 64
#define MINISIGN_SIG_BYTES 64
#define MINISIGN_MAX_FILE 4096         /* a .pub or .minisig is a few hundred bytes */
#define MINISIGN_TRUSTED_COMMENT_MAX 1024

struct minisign_pubkey {
        uint8_t keynum[MINISIGN_KEYNUM_BYTES];
        uint8_t pk[MINISIGN_PK_BYTES];
};

struct minisign_sig {
        bool prehashed;                 /* "ED": Ed25519 over BLAKE2b-512 of the file */
        uint8_t keynum[MINISIGN_KEYNUM_BYTES];
        uint8_t sig[MINISIGN_SIG_BYTES];
        char trusted_comment[MINISIGN_TRUSTED_COMMENT_MAX + 1];
        uint8_t global_sig[MINISIGN_SIG_BYTES];
};

struct minisign_seckey {
        uint8_t keynum[MINISIGN_KEYNUM_BYTES];
        uint8_t sk[MINISIGN_SK_BYTES];
};

/* Parsers for untrusted text. Each returns 0 or -EINVAL, with a short
 * reason ("line 2: invalid base64", ...) in why (may be NULL); *ret is
 * untouched on failure. Lines end in LF or CRLF, the final one optionally;
 * nothing may follow. An accepted trusted comment is at most
 * MINISIGN_TRUSTED_COMMENT_MAX bytes of clean UTF-8 (string_is_clean_utf8). */
int minisign_parse_pubkey(const char *text, size_t len, struct minisign_pubkey *ret, char *why, size_t why_size);
int minisign_parse_sig(const char *text, size_t len, struct minisign_sig *ret, char *why, size_t why_size);
/* Secret keys: unencrypted (minisign -G -W) or scrypt-encrypted with password
 * (may be NULL for unencrypted keys). -EKEYREJECTED on a wrong password,
 * -ENOKEY for an encrypted key without a password, -ENOMEM if the key
 * derivation (up to 1 GiB, as minisign asks) cannot get its memory.
 * Wipe *ret (sodium_memzero) when done with it. */
int minisign_parse_seckey(const char *text, size_t len, const char *password, struct minisign_seckey *ret,
                          char *why, size_t why_size);

/* One or more signatures in one .minisig file: minisign's four-line blocks
 * one after the other (`cat a.minisig b.minisig`), blank lines between them
 * allowed. The whole file is at most MINISIGN_MAX_FILE bytes; at most max
 * blocks. Errors name the line in the whole file. */
#define MINISIGN_MAX_SIGS 8
int minisign_parse_sigs(const char *text, size_t len, struct minisign_sig *sigs, size_t max, size_t *ret_n, char *why,
                        size_t why_size);

/* A public key as the second line of a .pub file ("RW..."), and back. */
#define MINISIGN_PUBKEY_B64_LEN 56
int minisign_parse_pubkey_b64(const char *b64, struct minisign_pubkey *ret, char *why, size_t why_size);
void minisign_format_pubkey_b64(const struct minisign_pubkey *pk, char out[MINISIGN_PUBKEY_B64_LEN + 1]);

enum minisign_result {
        MINISIGN_OK = 0,
        MINISIGN_BAD_SIGNATURE,   /* signature does not verify */
        MINISIGN_BAD_COMMENT,     /* global signature over the trusted comment fails */
        MINISIGN_WRONG_KEY,       /* key id differs */
        MINISIGN_LEGACY,          /* non-prehashed "Ed" signature: refused */
};

/* Verify data against sig under pk. Checks the key id, the signature over
 * BLAKE2b-512(data) and the global signature over sig||trusted_comment. */
enum minisign_result minisign_verify(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
                                     const void *data, size_t size);

/* Produce a .minisig text (prehashed) that `minisign -V` accepts. The
 * returned buffer is malloc()ed and NUL-terminated. */
int minisign_sign(const struct minisign_seckey *sk, const void *data, size_t size, const char *untrusted_comment,
                  const char *trusted_comment, char **ret_text);

/* Key id as minisign prints it (16 upper-case hex digits, little endian). */
void minisign_keynum_hex(const uint8_t keynum[MINISIGN_KEYNUM_BYTES], char out[17]);
