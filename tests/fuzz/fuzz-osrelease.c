/* fuzz-osrelease.c — libFuzzer target for the os-release(5) parser. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct osrelease o;
        char why[256];
        if (osrelease_parse((const char *)data, size, &o, why, sizeof why) == 0) {
                /* Every field is NUL-terminated inside its buffer. */
                if (strlen(o.id) >= sizeof o.id || strlen(o.pretty_name) >= sizeof o.pretty_name || !o.id[0])
                        __builtin_trap();
        }
        return 0;
}
