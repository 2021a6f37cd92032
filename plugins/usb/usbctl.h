/* usbctl.h — the offline "sekishoctl usb list" and "usb generate-rules" verbs (the lead wires them into sekishoctl). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "ptree.h"

/* Print every attached USB device (read from sysfs through libudev), its
 * interfaces, and the decision and matching rule under the given usb:
 * section (NULL = the built-in default). Returns 0 or -errno. */
int usbctl_list(FILE *out, const struct pnode *section);

/* Print a usb: policy section (YAML) with one allow rule per attached
 * device, like "usbguard generate-policy": id, serial, name, hash,
 * parent-hash, with-interface, with-connect-type, and via-port if asked. */
int usbctl_generate_rules(FILE *out, bool with_port);

/* Append s as a rule string literal ("..." with USBGuard escapes) to f. */
void usbctl_write_rule_string(FILE *f, const char *s);

/* The whole "sekishoctl usb ..." verb, for sekishoctl to call with the
 * arguments after "usb" and the usb: section of the policy in force (NULL:
 * the built-in default):
 *   list [--policy FILE]         decisions under FILE's usb: section instead
 *   generate-rules [--with-port]
 * Returns the exit code (0 ok, 1 error, 2 usage). */
int usbctl_main(int argc, char **argv, const struct pnode *section_in_force);

struct sekisho_ctl_env;
/* The plugin's ctl hook (usbctl-store.c): argv[0] is "usb"; "list" without
 * --policy decides under the policy in force (active profiles not applied). */
int usb_ctl(const struct sekisho_ctl_env *env, int argc, char **argv);
