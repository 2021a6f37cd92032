/* travel-stub-core.h — a stand-in for the core's plugin services (loop, env, profiles, audit, signals) so the travel plugin runs without sekishod. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "plugin.h"

#define STUB_MAX_RECORDS 256

struct stub_record {
        char kind[16];    /* "audit", "signal", "profile" */
        char name[64];    /* event, signal name, or profile name */
        char text[1024];  /* the fields as "k=v k=v" */
};

struct sekisho {
        struct loop *loop;
        struct sekisho_env env;
        bool profile_active;
        char profile[64];
        struct stub_record rec[STUB_MAX_RECORDS];
        size_t n_rec;
        FILE *log;        /* optional: every record also written here */
        unsigned status_changes;
};

int stub_core_new(const char *state_dir, struct sekisho **ret);
void stub_core_free(struct sekisho *ctx);
/* Number of records of that kind and name whose text contains needle (NULL: any). */
size_t stub_count(const struct sekisho *ctx, const char *kind, const char *name, const char *needle);
void stub_clear(struct sekisho *ctx);
