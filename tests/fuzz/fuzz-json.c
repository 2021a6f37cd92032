/* fuzz-json.c — libFuzzer target for the JSON reader that sekishoctl report uses on status.json and audit lines. */
#include <stddef.h>
#include <stdint.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct json *v = NULL;
        if (json_parse((const char *)data, size, &v) == 0) {
                uint64_t n;
                (void) json_string(json_get(v, "event"));
                (void) json_u64(json_get(v, "seq"), &n);
                json_free(v);
        }
        return 0;
}
