/* fuzz-rdpfile.c — libFuzzer target: .rdp connection files and Remmina profiles through their parsers. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lockdown.h"
#include "rdpcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > RDP_MAX_FILE + 16)
                return 0;
        struct rdp_verdict v;
        rdp_check_file(VDI_RES_ALL, (const char *) data, size, &v);
        rdp_check_file(1u << VDI_RES_DRIVES, (const char *) data, size, &v);

        /* Remmina rewriting must be idempotent and keep every denied key forced. */
        char *out = NULL, *out2 = NULL;
        size_t n = 0, n2 = 0;
        if (lockdown_remmina_profile(VDI_RES_ALL, (const char *) data, size, &out, &n) == 0) {
                if (lockdown_remmina_profile(VDI_RES_ALL, out, n, &out2, &n2) != 0 || n != n2 || memcmp(out, out2, n) != 0)
                        abort();
                if (!strstr(out, "disableclipboard=1\n"))
                        abort();
        }
        free(out);
        free(out2);
        return 0;
}
