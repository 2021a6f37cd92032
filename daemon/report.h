/* report.h — the compliance report: requirements R1–R11, each plugin's rows for those it covers (judged from what it enforces now), the core's own, and audit evidence. */
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

/* Write the report for this terminal to out. Each built-in plugin's report()
 * judges the section sekishod applies (the policy in force, the active
 * profiles) with its live status from sekishod over the bus (or the status
 * file of a running daemon); with no daemon running the rows are judged from
 * the policy in force, marked not live, and nothing counts as enforced now.
 * Returns 0, or a negative errno when no report could be made at all. */
int report_run(const struct report_options *o, FILE *out);
