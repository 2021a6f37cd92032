/* posture-stub-core.h — the test stand-in for the core services the posture plugin calls. */
#pragma once

#include <stdbool.h>

#include "plugin.h"

struct stub_core {
        struct loop *loop;
        struct sekisho_env env;
        unsigned profile_requests, audits, signals;
        bool quarantine;
        char last_profile[64], last_reason[512];
        char log[16384];   /* every audit record and signal, one per line */
};

struct sekisho *stub_core_ctx(struct stub_core *c);
