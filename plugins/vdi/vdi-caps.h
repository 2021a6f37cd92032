/* vdi-caps.h — the resources the vdi plugin controls, the clients it knows, and how each deny is enforced per client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Redirection resources, as named in the policy's vdi: section. */
enum vdi_res {
        VDI_RES_CLIPBOARD,
        VDI_RES_DRIVES,
        VDI_RES_PRINTERS,
        VDI_RES_SERIAL,          /* serial and parallel ports */
        VDI_RES_USB,             /* generic USB / device / camera redirection */
        VDI_RES_AUDIO_IN,        /* microphone */
        VDI_RES_SMARTCARD,       /* smart cards (and WebAuthn tokens) */
        VDI_RES_CHANNELS,        /* generic or unknown virtual channels, TCP tunnels */
        _VDI_RES_MAX,
};
#define VDI_RES_ALL ((1u << _VDI_RES_MAX) - 1)

/* Policy key of a resource ("clipboard", "drives", ...). */
const char *vdi_res_key(enum vdi_res r);
/* Short human name for messages ("clipboard", "drive redirection", ...). */
const char *vdi_res_name(enum vdi_res r);

enum vdi_client {
        VDI_CLIENT_FREERDP,
        VDI_CLIENT_REMMINA,
        VDI_CLIENT_CITRIX,
        VDI_CLIENT_HORIZON,
        VDI_CLIENT_SPICE,
        VDI_CLIENT_GNOME_CONNECTIONS,
        VDI_CLIENT_RDESKTOP,
        VDI_CLIENT_KRDC,
        VDI_CLIENT_VNC,
        VDI_CLIENT_BROWSER,
        _VDI_CLIENT_MAX,
        VDI_CLIENT_NONE = -1,
};

/* How sekisho enforces a deny of one resource in one client. */
enum vdi_enforce {
        VDI_ENF_NONE,        /* the client has no such channel: nothing to enforce */
        VDI_ENF_CONFIG,      /* a mandatory configuration file sekisho owns, watched and restored */
        VDI_ENF_ARGS,        /* the invocation (argv, connection file) is checked at exec */
        VDI_ENF_REFUSE,      /* the client cannot be locked: it is not allowed to run */
        VDI_ENF_SERVER,      /* only the VDI server can enforce it: refused unless the policy lists
                              * the client under server-enforced */
};
const char *vdi_enforce_name(enum vdi_enforce e);

struct vdi_client_info {
        enum vdi_client id;
        const char *key;              /* policy name: "freerdp", "citrix", ... */
        const char *display;          /* "FreeRDP", ... */
        const char *const *execs;     /* executable basenames, NULL-terminated (none for browsers: never stopped by name) */
        enum vdi_enforce enforce[_VDI_RES_MAX];
        const char *how[_VDI_RES_MAX]; /* one line: the option, key or reason */
};

#define VDI_CLIENT_KEYS "freerdp, remmina, citrix, horizon, spice, gnome-connections, rdesktop, krdc, vnc or browser"

extern const struct vdi_client_info vdi_clients[_VDI_CLIENT_MAX];

/* The client an executable basename belongs to, or NULL. Exact match only. */
const struct vdi_client_info *vdi_client_by_exec(const char *basename);
const struct vdi_client_info *vdi_client_by_key(const char *key);
