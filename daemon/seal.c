/* seal.c — forward-secure sealing (journald's FSS idea with a hash chain): evolve, erase, MAC; and the officer's check. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "seal.h"
#include "util.h"

#define SEAL_STATE_MAX 256
#define SEAL_MAX_EPOCHS (1ull << 24)   /* 1900 years of hours: a bound on the hashing a bad key can ask for */

static void evolve(uint8_t key[SEAL_KEY_BYTES]) {
        uint8_t next[SEAL_KEY_BYTES];
        crypto_generichash(next, sizeof next, key, SEAL_KEY_BYTES, NULL, 0);
        memcpy(key, next, SEAL_KEY_BYTES);
        sodium_memzero(next, sizeof next);
}

static void mac_of(const uint8_t key[SEAL_KEY_BYTES], uint64_t epoch, uint64_t seq, const char *prev,
                   char out[2 * SEAL_KEY_BYTES + 1]) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "sekisho-seal|%" PRIu64 "|%" PRIu64 "|%s", epoch, seq, prev);
        uint8_t mac[SEAL_KEY_BYTES];
        crypto_generichash(mac, sizeof mac, (const unsigned char *)msg, (size_t)n, key, SEAL_KEY_BYTES);
        hex_encode(mac, sizeof mac, out);
}

/* State file: "EPOCH KEY-HEX START INTERVAL\n". */
static int state_write(const char *path, uint64_t epoch, const uint8_t key[SEAL_KEY_BYTES], int64_t start,
                       uint64_t interval) {
        char hex[2 * SEAL_KEY_BYTES + 1], buf[SEAL_STATE_MAX];
        hex_encode(key, SEAL_KEY_BYTES, hex);
        int n = snprintf(buf, sizeof buf, "%" PRIu64 " %s %lld %" PRIu64 "\n", epoch, hex, (long long)start, interval);
        sodium_memzero(hex, sizeof hex);
        /* Overwrite in place first, so the old key's bytes do not linger in a freed block. */
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && (pwrite(fd, buf, (size_t)n, 0) != n || fdatasync(fd) < 0)) {
                sodium_memzero(buf, sizeof buf);
                return -errno;
        }
        int r = write_file_atomic(path, buf, (size_t)n, 0600);
        sodium_memzero(buf, sizeof buf);
        return r;
}

int seal_init(const char *path, int64_t now, uint64_t interval, char *ret_key, size_t key_size) {
        if (interval == 0)
                return -EINVAL;
        if (access(path, F_OK) == 0)
                return -EEXIST;
        uint8_t seed[SEAL_KEY_BYTES];
        randombytes_buf(seed, sizeof seed);
        char hex[2 * SEAL_KEY_BYTES + 1];
        hex_encode(seed, sizeof seed, hex);
        snprintf(ret_key, key_size, "%s/%lld/%" PRIu64, hex, (long long)now, interval);
        sodium_memzero(hex, sizeof hex);
        int r = state_write(path, 0, seed, now, interval);
        sodium_memzero(seed, sizeof seed);
        return r;
}

int seal_make(const char *path, int64_t now, uint64_t seq, const char *prev, uint64_t *ret_epoch,
              char ret_mac[2 * SEAL_KEY_BYTES + 1]) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_capped(path, SEAL_STATE_MAX, &data, NULL);
        if (r < 0)
                return r;
        unsigned long long epoch, interval;
        long long start;
        char hex[2 * SEAL_KEY_BYTES + 2];
        uint8_t key[SEAL_KEY_BYTES];
        if (sscanf(data, "%llu %65s %lld %llu", &epoch, hex, &start, &interval) != 4 || interval == 0 ||
            hex_decode(hex, key, sizeof key) < 0) {
                sodium_memzero(data, strlen(data));
                return -EBADMSG;
        }
        sodium_memzero(data, strlen(data));
        sodium_memzero(hex, sizeof hex);
        uint64_t want = now > start ? (uint64_t)(now - start) / interval : 0;
        if (want > epoch) {
                if (want - epoch > SEAL_MAX_EPOCHS) {
                        sodium_memzero(key, sizeof key);
                        return -ERANGE;
                }
                for (; epoch < want; epoch++)
                        evolve(key);
                r = state_write(path, epoch, key, start, interval);
                if (r < 0) {
                        sodium_memzero(key, sizeof key);
                        return r;
                }
        }
        mac_of(key, epoch, seq, prev, ret_mac);
        sodium_memzero(key, sizeof key);
        *ret_epoch = epoch;
        return 0;
}

int seal_key_parse(const char *s, struct seal_key *ret) {
        char hex[2 * SEAL_KEY_BYTES + 2];
        long long start;
        unsigned long long interval;
        char tail;
        if (sscanf(s, "%65[0-9a-fA-F]/%lld/%llu%c", hex, &start, &interval, &tail) != 3 || interval == 0 ||
            hex_decode(hex, ret->seed, sizeof ret->seed) < 0)
                return -EINVAL;
        ret->start = start;
        ret->interval = interval;
        return 0;
}

int seal_check(const struct seal_key *k, struct seal_cache *cache, uint64_t epoch, uint64_t seq, const char *prev,
               const char *mac) {
        if (epoch > SEAL_MAX_EPOCHS)
                return 0;
        if (!cache->valid || cache->epoch > epoch) {
                memcpy(cache->key, k->seed, SEAL_KEY_BYTES);
                cache->epoch = 0;
                cache->valid = 1;
        }
        for (; cache->epoch < epoch; cache->epoch++)
                evolve(cache->key);
        char want[2 * SEAL_KEY_BYTES + 1];
        mac_of(cache->key, epoch, seq, prev, want);
        return strlen(mac) == sizeof want - 1 && sodium_memcmp(want, mac, sizeof want - 1) == 0;
}
