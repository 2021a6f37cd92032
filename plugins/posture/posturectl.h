/* posturectl.h — the posture report (text and JSON) and the offline `sekishoctl posture` verb. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "evaluate.h"
#include "facts.h"
#include "ptree.h"

/* Exit codes of `sekishoctl posture`. */
#define POSTURE_EXIT_COMPLIANT 0
#define POSTURE_EXIT_NONCOMPLIANT 1
#define POSTURE_EXIT_USAGE 2
#define POSTURE_EXIT_BAD_POLICY 3

/* Write the report: the BYOD application form data, the overall result and
 * one entry per check with evidence and remediation (ja and en). */
void posture_report_write(FILE *out, const char *root, const char *policy_name, int64_t now,
                          const struct posture_facts *f, const struct posture_policy *p,
                          const struct posture_result *res, bool json);


/* `sekishoctl posture [--json] [--root DIR] [--policy FILE]`: argv[0] is
 * "posture". Without --policy it evaluates installed_section (the posture
 * section the daemon applies now, which the core works out), named
 * installed_name in the report; with it, FILE's posture: section merged
 * over default_section (the embedded default's). Works without a daemon.
 * Returns an exit code above. */
int posture_ctl_main(int argc, char *argv[], const struct pnode *installed_section, const char *installed_name,
                     const struct pnode *default_section, FILE *out, FILE *err);
