/* uevent-sender.h — sends kernel-format uevents to the listeners of a umockdev testbed, waiting while a listener's queue is full: the one sender of the USB tests and benchmarks. */
#pragma once

/* Announce the device at syspath ("/sys/devices/...", as the testbed shows
 * it) with action ("add", "remove", ...) to every uevent listener of the
 * testbed whose root directory is root, in the kernel's own format
 * ("ACTION@DEVPATH\0ACTION=...\0DEVPATH=...\0SUBSYSTEM=...\0" + the device's
 * uevent file + "SEQNUM=n\0"). A blocking send: when a listener's queue is
 * full this waits, it never drops or fails with EAGAIN. Returns the number
 * of listeners reached, or -errno. */
int uevent_send(const char *root, const char *syspath, const char *action);

#include <stddef.h>

/* The parts, for senders that must be fast (a storm, a benchmark): the
 * message into msg (returns its length), the listeners' socket paths now
 * (a NULL-terminated malloc'd list; returns how many), and one blocking
 * send of a message to each of them (returns how many were reached). */
int uevent_format(const char *root, const char *syspath, const char *action, char *msg, size_t size);
int uevent_listeners(const char *root, char ***ret);
int uevent_send_raw(char *const *listeners, const char *msg, size_t len);

#include <stddef.h>
#include <stdint.h>

/* A USB device written straight into the testbed's sysfs (no uevent, and
 * much faster than umockdev for a storm of thousands): the directory
 * parent_syspath/name with authorized, descriptors, idVendor, idProduct,
 * product, uevent (DEVTYPE=usb_device) and the subsystem link, as the kernel
 * shows an unauthorized device. *ret_syspath ("/sys/devices/...") is
 * malloc'd. Returns 0 or -errno. */
int testbed_add_usb(const char *root, const char *parent_syspath, const char *name, const uint8_t *desc, size_t n,
                    const char *authorized, char **ret_syspath);
/* Remove such a device directory again. */
int testbed_remove_usb(const char *root, const char *syspath);

/* umockdev builds a testbed only inside its own preload: outside it, re-exec
 * argv under umockdev-wrapper. Returns only when that cannot be done: 77
 * (SKIP) when umockdev-wrapper is missing or already failed to preload, 1 when
 * out of memory; 0 when already inside the preload (go on). */
int umockdev_reexec(const char *name, int argc, char **argv);
