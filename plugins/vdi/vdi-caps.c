/* vdi-caps.c — the capability table: per VDI client and resource, how a deny is enforced (config, invocation check, refusal). */
#include "config.h"

#include <string.h>

#include "vdi-caps.h"

static const char *const res_keys[_VDI_RES_MAX] = {
        [VDI_RES_CLIPBOARD] = "clipboard",   [VDI_RES_DRIVES] = "drives",
        [VDI_RES_PRINTERS] = "printers",     [VDI_RES_SERIAL] = "serial-ports",
        [VDI_RES_USB] = "usb-redirect",      [VDI_RES_AUDIO_IN] = "audio-input",
        [VDI_RES_SMARTCARD] = "smartcard",   [VDI_RES_CHANNELS] = "virtual-channels",
};

static const char *const res_names[_VDI_RES_MAX] = {
        [VDI_RES_CLIPBOARD] = "clipboard redirection",  [VDI_RES_DRIVES] = "drive redirection",
        [VDI_RES_PRINTERS] = "printer redirection",     [VDI_RES_SERIAL] = "serial/parallel port redirection",
        [VDI_RES_USB] = "USB/device redirection",       [VDI_RES_AUDIO_IN] = "audio input redirection",
        [VDI_RES_SMARTCARD] = "smart card redirection", [VDI_RES_CHANNELS] = "generic virtual channel",
};

const char *vdi_res_key(enum vdi_res r) {
        return (unsigned) r < _VDI_RES_MAX ? res_keys[r] : "?";
}

const char *vdi_res_name(enum vdi_res r) {
        return (unsigned) r < _VDI_RES_MAX ? res_names[r] : "?";
}

const char *vdi_enforce_name(enum vdi_enforce e) {
        switch (e) {
        case VDI_ENF_NONE: return "n/a";
        case VDI_ENF_CONFIG: return "config";
        case VDI_ENF_ARGS: return "invocation";
        case VDI_ENF_REFUSE: return "refuse";
        case VDI_ENF_SERVER: return "server";
        }
        return "?";
}

static const char *const freerdp_execs[] = {
        "xfreerdp", "wlfreerdp", "sdl-freerdp", "xfreerdp3", "wlfreerdp3", "sdl-freerdp3", "sdl3-freerdp", NULL,
};
static const char *const remmina_execs[] = { "remmina", NULL };
static const char *const citrix_execs[] = { "wfica", "selfservice", NULL };
static const char *const horizon_execs[] = { "vmware-view", "horizon-client", "vmware-remotemks", NULL };
static const char *const spice_execs[] = { "remote-viewer", "virt-viewer", "spicy", NULL };
static const char *const gnome_execs[] = { "gnome-connections", NULL };
static const char *const rdesktop_execs[] = { "rdesktop", NULL };
static const char *const krdc_execs[] = { "krdc", NULL };
static const char *const vnc_execs[] = {
        "vncviewer", "xtightvncviewer", "xvnc4viewer", "xtigervncviewer", "gvncviewer", "ssvncviewer", "xvncviewer", NULL,
};
static const char *const no_execs[] = { NULL };

#define C VDI_ENF_CONFIG
#define A VDI_ENF_ARGS
#define R VDI_ENF_REFUSE
#define S VDI_ENF_SERVER
#define N VDI_ENF_NONE

/* Order of columns: clipboard, drives, printers, serial, usb, audio-in, smartcard, channels. */
const struct vdi_client_info vdi_clients[_VDI_CLIENT_MAX] = {
        [VDI_CLIENT_FREERDP] = {
                VDI_CLIENT_FREERDP, "freerdp", "FreeRDP 2/3", freerdp_execs,
                { A, A, A, A, A, A, A, A },
                { "on by default: needs -clipboard (or redirectclipboard:i:0); +clipboard, /clipboard[:...], /vc:cliprdr refused",
                  "/drive:, +drives, +home-drive, /a:drive, drivestoredirect:s:, redirectdrives:i:1 refused",
                  "/printer, /a:printer, redirectprinters:i:1 refused",
                  "/serial, /tty, /parallel, /a:serial|parallel, redirectcomports:i:1 refused",
                  "/usb:, /dvc:urbdrc, /camera, devicestoredirect:s:, usbdevicestoredirect:s:, camerastoredirect:s: refused",
                  "/microphone, /mic, /dvc:audin, audiocapturemode:i:1 refused",
                  "/smartcard, /smartcard-logon, /a:smartcard, redirectsmartcards:i:1, redirectwebauthn:i:1 refused",
                  "/vc:, /dvc:, /a: with other channels, /rdp2tcp, /ssh-agent, /echo, /assistance refused" },
        },
        [VDI_CLIENT_REMMINA] = {
                VDI_CLIENT_REMMINA, "remmina", "Remmina", remmina_execs,
                { C, C, C, C, C, C, C, C },
                { "disableclipboard=1 in every profile; remmina -c with an unlocked profile, a URI or an .rdp file is stopped", "sharefolder= empty",
                  "shareprinter=0", "shareserial=0, shareparallel=0", "usb= empty",
                  "microphone= empty", "sharesmartcard=0", "vc= and dvc= empty" },
        },
        [VDI_CLIENT_CITRIX] = {
                VDI_CLIENT_CITRIX, "citrix", "Citrix Workspace app", citrix_execs,
                { C, C, C, C, C, C, C, S },
                { "All_Regions.ini [Virtual Channels\\Clipboard] ClipboardAllowed=False",
                  "All_Regions.ini [Virtual Channels\\Drives] CDMAllowed=Off",
                  "All_Regions.ini [Virtual Channels\\Printers] CPMAllowed=Off",
                  "All_Regions.ini [Virtual Channels\\Serial Port] COMAllowed=Off",
                  "usb.conf: DENY: for every device",
                  "All_Regions.ini [Virtual Channels\\Audio] AllowAudioInput=Off",
                  "All_Regions.ini [Virtual Channels\\Smartcard] SmartCardAllowed=False",
                  "custom virtual channels: Studio policy \"Virtual channel allow list\" on the server" },
        },
        [VDI_CLIENT_HORIZON] = {
                VDI_CLIENT_HORIZON, "horizon", "VMware/Omnissa Horizon Client", horizon_execs,
                { S, S, S, S, C, S, S, S },
                { "agent-side policy (clipboard redirection)", "agent-side policy (client drive redirection)",
                  "agent-side policy (integrated printing)", "agent-side policy (serial port redirection)",
                  "view-mandatory-config view.usbAutoConnectAtStartUp/OnInsert=FALSE, /etc/vmware/config viewusb.ExcludeAllDevices=TRUE",
                  "agent-side policy (real-time audio-video)", "agent-side policy (smart card redirection)",
                  "agent-side policy" },
        },
        [VDI_CLIENT_SPICE] = {
                VDI_CLIENT_SPICE, "spice", "SPICE remote-viewer/virt-viewer", spice_execs,
                { R, R, N, N, R, R, R, R },
                { "clipboard sharing cannot be switched off in the client", "folder sharing (.vv, --spice-shared-dir)",
                  "no printer channel", "no port channel", "usbredir can be enabled from a .vv file or the menu",
                  "record channel", "smartcard channel", "port/webdav channels" },
        },
        [VDI_CLIENT_GNOME_CONNECTIONS] = {
                VDI_CLIENT_GNOME_CONNECTIONS, "gnome-connections", "GNOME Connections", gnome_execs,
                { R, R, N, N, N, N, N, R },
                { "clipboard is always shared (gtk-frdp / gtk-vnc)", "no switch to turn off sharing",
                  "no printer channel", "no port channel", "no USB channel", "no audio input channel",
                  "no smart card channel", "no switch for channels" },
        },
        [VDI_CLIENT_RDESKTOP] = {
                VDI_CLIENT_RDESKTOP, "rdesktop", "rdesktop 1.9", rdesktop_execs,
                { R, R, R, R, N, R, R, R },
                { "clipboard is on unless -r clipboard:off; no configuration file sekisho can own and no launcher",
                  "-r disk: on the command line, no mandatory configuration", "-r printer: on the command line",
                  "-r comport:/lptport: on the command line", "no USB channel", "-r sound:...,record on the command line",
                  "-r scard on the command line", "-r addin: loads any channel plug-in" },
        },
        [VDI_CLIENT_KRDC] = {
                VDI_CLIENT_KRDC, "krdc", "KRDC", krdc_execs,
                { R, R, R, R, R, R, R, R },
                { "settings live in the person's own krdcrc and bookmarks; it starts xfreerdp with options of its choosing",
                  "share-media folder set in the person's own settings", "printer sharing in the person's own settings",
                  "no switch sekisho can own", "no switch sekisho can own", "sound recording in the person's own settings",
                  "no switch sekisho can own", "no switch sekisho can own" },
        },
        [VDI_CLIENT_VNC] = {
                VDI_CLIENT_VNC, "vnc", "VNC viewers (TigerVNC, TightVNC, gvncviewer, SSVNC)", vnc_execs,
                { R, N, N, N, N, N, N, N },
                { "cut text is exchanged both ways by the protocol; the viewers' switches are per-user settings",
                  "no drive channel", "no printer channel", "no port channel", "no USB channel", "no audio input",
                  "no smart card channel", "no other channels" },
        },
        [VDI_CLIENT_BROWSER] = {
                VDI_CLIENT_BROWSER, "browser", "web browser with an HTML5 client (Guacamole, Citrix/Horizon HTML5)", no_execs,
                { R, R, R, N, R, R, R, R },
                { "the page reads and writes the clipboard (Clipboard API); nothing on the terminal can switch it off",
                  "file upload/download is the page's choice", "printing to PDF and downloading it is the page's choice",
                  "no port channel", "WebUSB/WebHID are the page's choice", "getUserMedia is the page's choice",
                  "WebAuthn is the page's choice", "the page speaks any protocol over its WebSocket" },
        },
};

#undef C
#undef A
#undef R
#undef S
#undef N

const struct vdi_client_info *vdi_client_by_exec(const char *basename) {
        if (!basename)
                return NULL;
        for (size_t i = 0; i < _VDI_CLIENT_MAX; i++)
                for (const char *const *e = vdi_clients[i].execs; *e; e++)
                        if (strcmp(*e, basename) == 0)
                                return &vdi_clients[i];
        return NULL;
}

const struct vdi_client_info *vdi_client_by_key(const char *key) {
        if (!key)
                return NULL;
        for (size_t i = 0; i < _VDI_CLIENT_MAX; i++)
                if (strcmp(vdi_clients[i].key, key) == 0)
                        return &vdi_clients[i];
        return NULL;
}
