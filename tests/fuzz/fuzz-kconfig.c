/* fuzz-kconfig.c — libFuzzer target for the KConfig reader (a user's kscreenlockerrc, which the screen-lock check reads). */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = { "Autolock", "Timeout", "LockGrace", "" };
        char out[64], why[128];
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                bool imm = false;
                if (kconfig_get((const char *)data, size, "Daemon", keys[i], out, sizeof out, &imm, why, sizeof why) == 0 &&
                    strnlen(out, sizeof out) >= sizeof out)
                        __builtin_trap();
        }
        return 0;
}
