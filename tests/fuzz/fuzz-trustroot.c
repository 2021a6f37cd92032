/* fuzz-trustroot.c — libFuzzer target for trust root documents (sekisho-trust(5)) and multi-signature .minisig files. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool ready;
        if (!ready) {
                if (sodium_init() < 0)
                        abort();
                log_setup("fuzz-trustroot", false);
                ready = true;
        }
        struct perrors errs = { 0 };
        struct keyring k = { 0 };
        int r = trust_root_parse("fuzz.yaml", (const char *)data, size, &k, &errs);
        if (r == 0) {
                /* What the parser accepts is whole: every threshold met by its keys, no key both trusted and revoked. */
                for (unsigned role = 0; role < TRUST_ROLES; role++) {
                        unsigned have = 0;
                        for (size_t i = 0; i < k.n; i++)
                                have += (k.keys[i].roles & (1u << role)) != 0;
                        if (k.threshold[role] > have)
                                abort();
                }
                for (size_t i = 0; i < k.n; i++)
                        if (keyring_revoked(&k, k.keys[i].pub.keynum) || !k.keys[i].roles)
                                abort();
                if (k.threshold[0] == 0 || k.threshold[1] == 0 || k.root_expires <= k.root_issued)
                        abort();
        } else if (errs.n == 0)
                abort();
        keyring_done(&k);
        perrors_clear(&errs);

        /* The same bytes as the signatures of a document. */
        struct minisign_sig sigs[MINISIGN_MAX_SIGS];
        size_t n = 0;
        char why[192] = "";
        if (minisign_parse_sigs((const char *)data, size, sigs, MINISIGN_MAX_SIGS, &n, why, sizeof why) == 0) {
                if (n == 0 || n > MINISIGN_MAX_SIGS)
                        abort();
        } else if (!why[0])
                abort();
        return 0;
}
