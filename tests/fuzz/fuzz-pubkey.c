/* fuzz-pubkey.c — libFuzzer target for minisign public key files (and unencrypted secret key files). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "minisign-fuzz-keys.h"
#include "minisign.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct minisign_pubkey real;
        static struct minisign_sig sig;
        static bool ready;
        struct minisign_pubkey pk;
        struct minisign_seckey sk;
        char why[128];

        if (!ready) {
                if (sodium_init() < 0 ||
                    minisign_parse_pubkey(fuzz_pubkey_text, strlen(fuzz_pubkey_text), &real, why, sizeof why) < 0 ||
                    minisign_parse_sig(fuzz_sig_text, strlen(fuzz_sig_text), &sig, why, sizeof why) < 0)
                        abort();
                ready = true;
        }

        why[0] = '\0';
        if (minisign_parse_pubkey((const char *)data, size, &pk, why, sizeof why) == 0) {
                char hex[17];
                minisign_keynum_hex(pk.keynum, hex);
                if (strlen(hex) != 16)
                        abort();
                /* Only the real key verifies the real signature. */
                if (minisign_verify(&pk, &sig, fuzz_data, strlen(fuzz_data)) == MINISIGN_OK &&
                    memcmp(pk.pk, real.pk, sizeof pk.pk) != 0)
                        abort();
        } else if (!why[0])
                abort();

        /* Secret key files share the layout; without a password no scrypt runs. */
        why[0] = '\0';
        int r = minisign_parse_seckey((const char *)data, size, NULL, &sk, why, sizeof why);
        if (r < 0 && !why[0])
                abort();
        sodium_memzero(&sk, sizeof sk);
        return 0;
}
