/* usbctl.h — the "sekishoctl usb ..." verbs, and the pieces of them sekishod shares (import of a rules.conf, unlock-code checking). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
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

/* Print a usbguard rules.conf (path) as a usb: policy section: its rules
 * in order, its comments kept. Errors go to stderr as FILE:LINE:COL. */
int usbctl_import_rules(FILE *out, const char *path);

struct usb_device_info;
struct usb_permit;
/* Check an unlock code typed on this terminal (machine_id, key file,
 * state file) against the attached devices at now: 0 with the permit it
 * grants (the code recorded as used), or -errno with why (a wrong or
 * expired code is a recorded failure; too many: -EBUSY). */
int usbctl_unlock(const char *typed, const char *key_path, const char *state_path, const char *machine_id,
                  const struct usb_device_info *devs, size_t n_devs, int64_t now, struct usb_permit *ret, char *why,
                  size_t why_size);

/* The same for this terminal: its devices (libudev), machine-id (under
 * sysroot) and the key and state in usb_state_dir (state_dir/usb). */
int usbctl_unlock_here(const char *typed, const char *usb_state_dir, const char *sysroot, struct usb_permit *ret,
                       char *why, size_t why_size);

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
