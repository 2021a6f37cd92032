/* report.h — the compliance report: requirements R1–R11, the policy setting covering each, live enforcement and audit evidence. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "core.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_HTML };

struct report_options {
        const char *state_dir, *keys_dir, *config, *audit_log;
        enum bus_kind bus;             /* BUS_NONE: read status.json only */
        enum report_format format;
        const char *sbom;              /* the installed SBOM (R10) */
};

/* Write the report for this terminal to out. The live status comes from
 * sekishod over the bus; when it is not reachable the report says so and
 * uses STATE_DIR/status.json (and nothing counts as enforced right now).
 * Returns 0, or a negative errno when no report could be made at all. */
int report_run(const struct report_options *o, FILE *out);
