/* fuzz-sbom.c — libFuzzer target for the SBOM reader behind sekishoctl sbom and the report's R10 row. */
#include <stddef.h>
#include <stdint.h>

#include "sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sbom b;
        (void) sbom_parse((const char *)data, size, &b);
        return 0;
}
