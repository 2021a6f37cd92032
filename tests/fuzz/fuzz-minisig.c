/* fuzz-minisig.c — libFuzzer target for minisign signature files: parse, verify, and re-sign what was accepted. */
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
        static struct minisign_pubkey pk;
        static struct minisign_seckey sk;
        static bool ready;
        struct minisign_sig sig, again;
        char why[128];

        if (!ready) {
                if (sodium_init() < 0 ||
                    minisign_parse_pubkey(fuzz_pubkey_text, strlen(fuzz_pubkey_text), &pk, why, sizeof why) < 0 ||
                    minisign_parse_seckey(fuzz_seckey_text, strlen(fuzz_seckey_text), NULL, &sk, why, sizeof why) < 0)
                        abort();
                ready = true;
        }

        why[0] = '\0';
        if (minisign_parse_sig((const char *)data, size, &sig, why, sizeof why) < 0) {
                if (!why[0])
                        abort();        /* every refusal says why */
                return 0;
        }

        size_t tc_len = strlen(sig.trusted_comment);
        if (tc_len > MINISIGN_TRUSTED_COMMENT_MAX || !string_is_clean_utf8(sig.trusted_comment, tc_len))
                abort();

        enum minisign_result r = minisign_verify(&pk, &sig, fuzz_data, strlen(fuzz_data));
        if (r == MINISIGN_OK && (!sig.prehashed || memcmp(sig.keynum, pk.keynum, sizeof pk.keynum) != 0))
                abort();
        (void)minisign_verify(&pk, &sig, data, size);

        /* Whatever comment we accept, we can sign and read back. */
        _cleanup_free_ char *text = NULL;
        if (minisign_sign(&sk, data, size, NULL, sig.trusted_comment, &text) < 0)
                abort();
        if (minisign_parse_sig(text, strlen(text), &again, why, sizeof why) < 0 ||
            strcmp(again.trusted_comment, sig.trusted_comment) != 0 ||
            minisign_verify(&pk, &again, data, size) != MINISIGN_OK)
                abort();
        return 0;
}
