/* uevent.h — the kernel's own USB uevents: the NETLINK_KOBJECT_UEVENT socket (kernel group 1) and a strict parser of its messages. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define UEVENT_MSG_MAX 8192   /* the kernel's UEVENT_BUFFER_SIZE is 2048; room to spare, never more */

/* One parsed message. The strings point into the caller's buffer. */
struct uevent {
        const char *action;      /* "add", "remove", "change", "bind", ... */
        const char *devpath;     /* "/devices/pci0000:00/.../1-4" */
        const char *subsystem;   /* "usb", or NULL if the message names none */
        const char *devtype;     /* "usb_device", "usb_interface", or NULL */
        uint64_t seqnum;
};

/* Parse a kernel-format uevent: "ACTION@DEVPATH\0KEY=VALUE\0...". The
 * header must agree with ACTION= and DEVPATH=, every field must be
 * KEY=VALUE, the buffer must end with NUL. udev's re-broadcast
 * ("libudev\0" header) is not a kernel message and is refused. buf is
 * modified in place (no copy). Returns 0 or -EBADMSG. */
int uevent_parse(char *buf, size_t len, struct uevent *ret);

/* Open the kernel uevent socket: non-blocking, close-on-exec, credentials
 * passed, a receive buffer of rcvbuf bytes (SO_RCVBUFFORCE, else as much as
 * SO_RCVBUF allows), bound to the kernel's multicast group 1. */
int uevent_open(int rcvbuf, int *ret_fd);

/* Receive one message into buf (size bytes, NUL-terminated on success).
 * Returns 0; -EAGAIN when nothing is queued; -ENOBUFS when the kernel
 * dropped messages (the queue overflowed: rescan); -EPERM for a message
 * that is not from the kernel (ignore it); other -errno. */
int uevent_receive(int fd, char *buf, size_t size, size_t *ret_len);
