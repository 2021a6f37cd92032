/* usb-stub-core.h — what the stub core records, for the usb plugin's tests and benchmark. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

#define STUB_MAX_RECORDS 4096

struct stub_core {
        struct loop *loop;
        bool record;              /* keep the text of each audit record and signal */
        char *records[STUB_MAX_RECORDS];
        size_t n;
        unsigned long audits, signals, status_changes;
};

extern struct stub_core stub_core;
void stub_core_clear(void);
