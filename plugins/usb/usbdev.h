/* usbdev.h — reads one USB device's model (ids, strings, descriptors, hashes) from sysfs through libudev. */
#pragma once

#include <libudev.h>
#include <stdbool.h>

#include "usbpolicy.h"

/* Model the USB device at devpath ("/devices/...", as a uevent names it)
 * from ONE read of its descriptors (ids and interfaces), plus the attributes
 * in need (USBDEV_*). Problems with the device (garbage, vanished) do not
 * fail: they set ret->ok = false and ret->problem, so the device is decided
 * block. Returns -ENOMEM only. */
int usbdev_model(const char *devpath, unsigned need, struct usb_device_info *ret);
/* Read what the model still lacks of need (after the decision: for the
 * audit record). Returns -ENOMEM only. */
int usbdev_complete(struct usb_device_info *d, unsigned need);

/* usbdev_model with everything, for a libudev device (enumeration, sekishoctl).
 * Fill ret for a usb_device. Problems with the device (garbage, vanished)
 * do not fail: they set ret->ok = false and ret->problem, so the device is
 * decided block. Returns -ENOMEM only. */
int usbdev_read(struct udev_device *dev, bool want_parent_hash, struct usb_device_info *ret);

/* Drop the trailing NUL, LF, CR, TAB and BS bytes of an attribute of len
 * bytes, as USBGuard does; returns the new length. */
size_t usbdev_trim(char *s, size_t len);

/* "usb_device" / "usb_interface" / NULL */
bool usbdev_is_device(struct udev_device *dev);
bool usbdev_is_interface(struct udev_device *dev);
/* A root hub: a usb_device whose parent is not a usb_device. */
bool usbdev_is_root_hub(struct udev_device *dev);

/* Parse an interface sysname "1-4.2:1.0" into configuration and number. */
int usbdev_interface_address(const char *sysname, uint8_t *ret_config, uint8_t *ret_number);
