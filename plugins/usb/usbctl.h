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
