/* usbctl.h — the offline "sekishoctl usb list" and "usb generate-rules" verbs (the lead wires them into sekishoctl). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "ptree.h"

/* Print every attached USB device (read from sysfs through libudev), its
 * interfaces, and the decision and matching rule under the given usb:
 * section (NULL: no section, every device blocked). Returns 0 or -errno. */
int usbctl_list(FILE *out, const struct pnode *section);

/* Print a usb: policy section (YAML) with one allow rule per attached
 * device, like "usbguard generate-policy": id, serial, name, hash,
 * parent-hash, with-interface, with-connect-type, and via-port if asked. */
int usbctl_generate_rules(FILE *out, bool with_port);

/* Append s as a rule string literal ("..." with USBGuard escapes) to f. */
void usbctl_write_rule_string(FILE *f, const char *s);

struct sekisho_ctl_env;
/* The whole "sekishoctl usb ..." verb, with the arguments after "usb", what
 * the core knows of the terminal (env, may be NULL in tests) and the usb:
 * section the daemon applies now (active profiles merged):
 *   list [--policy FILE]         decisions under FILE's usb: section (over
 *                                the embedded default's) instead
 *   generate-rules [--with-port]
 * Returns the exit code (0 ok, 1 error, 2 usage). */
int usbctl_main(int argc, char **argv, const struct sekisho_ctl_env *env, const struct pnode *section_in_force);
