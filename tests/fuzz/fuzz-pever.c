/* fuzz-pever.c — libFuzzer target for the PE version resource reader (executables found in wine prefixes). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pever.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pe_version v;
        if (pe_version_parse(data, size, &v) == 0) {
                /* Every string is terminated within its field. */
                const char *s[] = { v.original_filename, v.internal_name, v.product_name, v.file_description,
                                    v.company_name, v.file_version };
                for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
                        if (strnlen(s[i], PE_STRING_MAX) >= PE_STRING_MAX)
                                __builtin_trap();
        }
        return 0;
}
