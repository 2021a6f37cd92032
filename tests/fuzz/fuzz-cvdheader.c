/* fuzz-cvdheader.c — libFuzzer target for the ClamAV .cvd/.cld header parser. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int64_t t;
        uint64_t v;
        (void)clamav_header_parse((const char *)data, size, &t, &v);
        if (size >= 11 && size < CLAMAV_HEADER_SIZE) {
                /* The same text padded with spaces, as sigtool writes it. */
                char h[CLAMAV_HEADER_SIZE];
                memset(h, ' ', sizeof h);
                memcpy(h, data, size);
                (void)clamav_header_parse(h, sizeof h, &t, &v);
        }
        return 0;
}
