/* fuzz-dpkgver.c — libFuzzer target for dpkg version parsing and ordering: no crash, and the order is antisymmetric and reflexive. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dpkgver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Input: two versions separated by the first NUL (or the second half). */
        char a[600], b[600];
        const uint8_t *nul = memchr(data, 0, size);
        size_t la = nul ? (size_t)(nul - data) : size / 2;
        size_t lb = size - la - (nul ? 1 : 0);
        if (la >= sizeof a || lb >= sizeof b)
                return 0;
        memcpy(a, data, la);
        a[la] = '\0';
        memcpy(b, data + la + (nul ? 1 : 0), lb);
        b[lb] = '\0';
        struct dpkgver va, vb;
        if (dpkgver_parse(a, &va, NULL) < 0 || dpkgver_parse(b, &vb, NULL) < 0)
                return 0;
        int ab = dpkgver_cmp(&va, &vb), ba = dpkgver_cmp(&vb, &va);
        if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0) || dpkgver_cmp(&va, &va) != 0)
                __builtin_trap();
        return 0;
}
