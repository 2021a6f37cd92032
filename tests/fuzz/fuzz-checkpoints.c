/* fuzz-checkpoints.c — libFuzzer target for the checkpoint reader of `sekishoctl audit verify --checkpoints` (a collector's syslog file). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct audit_checkpoint *list = NULL;
        size_t n = 0;
        char why[256];
        if (audit_checkpoints_parse((const char *)data, size, &list, &n, why, sizeof why) == 0) {
                for (size_t i = 0; i < n; i++)
                        if (strlen(list[i].hash) != AUDIT_HASH_HEX || (i && list[i - 1].seq > list[i].seq))
                                abort(); /* every hash whole, the list sorted */
                free(list);
        }
        return 0;
}
