/* seal.h — forward-secure sealing of the audit log: an evolving key on the terminal, its seed with the officer. */
#pragma once

#include <stdint.h>

#define SEAL_KEY_BYTES 32
#define SEAL_DEFAULT_INTERVAL 3600

/* What the officer keeps (the "verification key"), written as
 * "SEED-HEX/START/INTERVAL": the epoch-0 key, the time epoch 0 began, and
 * the epoch length in seconds. Key of epoch e+1 = BLAKE2b(key of epoch e);
 * the terminal holds only the key of the current epoch. */
struct seal_key {
        uint8_t seed[SEAL_KEY_BYTES];
        int64_t start;
        uint64_t interval;
};

/* Create the sealing state at path (refuses to overwrite one) and return
 * the verification key for the officer. */
int seal_init(const char *path, int64_t now, uint64_t interval, char *ret_key, size_t key_size);

/* Move the state at path forward to the epoch of now (each older key
 * overwritten on disk before this returns) and MAC (seq, prev) with it. */
int seal_make(const char *path, int64_t now, uint64_t seq, const char *prev, uint64_t *ret_epoch,
              char ret_mac[2 * SEAL_KEY_BYTES + 1]);

/* Parse "SEED-HEX/START/INTERVAL". */
int seal_key_parse(const char *s, struct seal_key *ret);

/* Does mac seal (seq, prev) under the key of epoch? 1 yes, 0 no. cache
 * (zeroed by the caller) keeps the last key derived, so a log is checked in
 * one pass of hashing. */
struct seal_cache {
        uint64_t epoch;
        uint8_t key[SEAL_KEY_BYTES];
        int valid;
};
int seal_check(const struct seal_key *k, struct seal_cache *cache, uint64_t epoch, uint64_t seq, const char *prev,
               const char *mac);
