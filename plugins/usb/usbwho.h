/* usbwho.h — who and where a USB decision is made for: the active seat's user and groups (logind's seat file), this terminal's machine-id and host name, the time. */
#pragma once

#include "usbpolicy.h"

struct usb_who_buf {
        struct usb_who who;          /* points into the fields below */
        char user[64];
        char *groups[65];            /* NULL-terminated */
        char *terminals[3];
        char machine_id[64], host[256];
};

/* Fill w for the terminal under root ("/" normally; tests use a private
 * tree): ACTIVE_UID of root/run/systemd/seats/seat0, that user's name and
 * groups (NSS), root/etc/machine-id, the host name, now_unix(). Nobody on
 * the seat, or an unknown uid, is no user. Returns 0 or -ENOMEM. */
int usb_who_read(struct usb_who_buf *w, const char *root);
void usb_who_done(struct usb_who_buf *w);
