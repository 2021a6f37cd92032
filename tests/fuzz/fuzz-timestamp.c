/* fuzz-timestamp.c — libFuzzer target for the repository timestamp parser (timestamp.c), which the fetcher runs on what any server sends. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timestamp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct timestamp ts;
        struct perrors errs = { 0 };
        if (timestamp_parse("timestamp.yaml", (const char *)data, size, &ts, &errs) == 0) {
                /* What the fetcher builds paths and URLs from is plain and bounded. */
                if (!name_is_plain(ts.bundle) || !timestamp_target_ok(ts.target) || ts.expires <= ts.issued ||
                    ts.size == 0 || strlen(ts.bundle) > TIMESTAMP_NAME_MAX)
                        __builtin_trap();
        } else if (!perrors_first(&errs))
                __builtin_trap();   /* a refusal always says why */
        perrors_clear(&errs);
        return 0;
}
