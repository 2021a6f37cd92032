/* repo.h — the officer's side of a static repository (sekishoctl repo publish), checked the way terminals check it. */
#pragma once

#include <stdint.h>

#include "minisign.h"
#include "policy.h"

struct repo_publish {
        const char *dir;                         /* the repository's root (what the web server serves) */
        const char *target;                      /* all, host:ID or group:NAME */
        const char *bundle;                      /* BUNDLE.yaml (with .minisig); NULL: renew the timestamp only */
        int64_t hours;                           /* the timestamp's life (never past the bundle's expires) */
        const struct minisign_seckey *timestamp_key;
        const struct keyring *keys;              /* the trust terminals have (--keys-dir) */
};

/* Check the bundle as a terminal will (valid, the policy threshold signed it),
 * put it under DIR/<target>/, then write and sign timestamp.yaml naming it,
 * checked against the timestamp threshold before it is written. why: what
 * was published, or why not. */
int repo_publish(const struct repo_publish *o, char *why, size_t why_size);
