/* usbro.h — read-only media: the marker sekishod leaves for a stick approved read-only, and the BLKROSET the udev hook does with it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where sekishod leaves one empty file per read-only stick, named by its
 * USB port ("2-1.4"), before it authorizes the stick; the udev hook
 * (sekisho-usb-ro) looks there for every new block device. */
#define USBRO_DIR "/run/sekisho/usb-read-only"

/* Create (on) or remove (!on) the marker for port in dir (made if missing). */
int usbro_mark(const char *dir, const char *port, bool on);
/* Remove every marker in dir that keep (NULL: none) does not want kept. */
int usbro_sweep(const char *dir, bool (*keep)(const char *port, void *ctx), void *ctx);
/* Is there a marker for port in dir? */
bool usbro_marked(const char *dir, const char *port);

/* The USB device a block device hangs off: from a sysfs path of the block
 * device (/sys/devices/.../usb2/2-1/2-1:1.0/host6/.../block/sda/sda1), the
 * path of the USB device (/sys/devices/.../usb2/2-1) in ret (size bytes).
 * -ENODEV if it is not on USB. */
int usbro_usb_device_of(const char *block_syspath, char *ret, size_t size);

/* Make the block device at devnode read-only (BLKROSET; on a whole disk it
 * covers its partitions, present and future) and read it back (BLKROGET). */
int usbro_set_read_only(const char *devnode);
