/* view.h — what sekishoctl sees of this terminal, worked out once: the policy in force (files), the daemon's status and active profiles (bus, else its status file). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "json.h"
#include "policy.h"

struct view {
        struct store_choice choice;   /* the policy in force, chosen as sekishod does at start */
        uint64_t highest;             /* highest serial ever installed */
        struct json *status;          /* the daemon's status, live or from its file; NULL if neither */
        bool live;                    /* a sekishod is running and status is its own */
        bool from_file;               /* status came from STATE_DIR/status.json */
        char note[1024];              /* where the status came from, and any disagreement */
        char **active;                /* active profiles (strings owned by status) */
        size_t n_active;
        char policy_name[96];         /* "installed policy (serial 42)", "embedded default" */
};

/* Fill v. Never fails for a missing daemon, store or status file (v says
 * so); only when no policy at all can be had (out of memory). */
int view_load(const char *state_dir, const char *keys_dir, const char *config, enum bus_kind bus, struct view *v);
void view_done(struct view *v);

/* The effective section sekishod applies now (policy in force, the embedded
 * default under it, the active profiles over it), or the one with exactly
 * the given profiles active. Free with ptree_free(). */
int view_section(const struct view *v, const char *section, struct ptree **ret);
