/* rdpcheck.c — hostile-input parser for FreeRDP command lines and .rdp files: deny unless every denied channel is provably off. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rdpcheck.h"
#include "util.h"

/* What FreeRDP accepts (2.11 list from `xfreerdp /help` and its argument
 * table, plus FreeRDP 3 additions). Any option not listed is "in doubt".
 *
 * Syntax model. FreeRDP guesses between three syntaxes: Windows style
 * (/opt:value, +bool, -bool), POSIX style (--opt value, --enable-x,
 * --disable-x, where "-clipboard" ENABLES the clipboard) and the 1.0
 * legacy style (--plugin cliprdr ...). It picks Windows style when it
 * counts at least as many Windows-style options as POSIX-style ones. We
 * accept only invocations in which every argument is a known Windows-style
 * option: then POSIX detection can count only the "-bool" arguments, which
 * Windows detection counts too, so FreeRDP must pick Windows style, and
 * "-clipboard" means off. Anything starting with "--", a bare word (other
 * than the .rdp file in first position) or an unknown option is denied. */

enum special { SP_NONE, SP_CLIPBOARD, SP_ADDIN, SP_VC, SP_DVC, SP_ARGS_FROM };

struct rdp_opt {
        const char *name;
        const char *alias;
        bool is_bool;       /* accepts +name / -name */
        int res;            /* resource it enables, or -1 */
        enum special sp;
};

#define H -1 /* harmless for R3 */
static const struct rdp_opt opts[] = {
        /* switches (+name / -name / /name) */
        { "aero", NULL, true, H, 0 },
        { "async-channels", NULL, true, H, 0 },
        { "async-input", NULL, true, H, 0 },
        { "async-update", NULL, true, H, 0 },
        { "auth-only", NULL, true, H, 0 },
        { "authentication", NULL, true, H, 0 },
        { "auto-reconnect", NULL, true, H, 0 },
        { "bitmap-cache", NULL, true, H, 0 },
        { "clipboard", NULL, true, VDI_RES_CLIPBOARD, SP_CLIPBOARD },
        { "compression", "z", true, H, 0 },
        { "credentials-delegation", NULL, true, H, 0 },
        { "decorations", NULL, true, H, 0 },
        { "drives", NULL, true, VDI_RES_DRIVES, 0 },
        { "encryption", NULL, true, H, 0 },
        { "enforce-tlsv1_2", NULL, true, H, 0 },
        { "fast-path", NULL, true, H, 0 },
        { "fipsmode", NULL, true, H, 0 },
        { "fonts", NULL, true, H, 0 },
        { "gestures", NULL, true, H, 0 },
        { "gfx-progressive", NULL, true, H, 0 },
        { "gfx-small-cache", NULL, true, H, 0 },
        { "gfx-thin-client", NULL, true, H, 0 },
        { "glyph-cache", NULL, true, H, 0 },
        { "grab-keyboard", NULL, true, H, 0 },
        { "grab-mouse", NULL, true, H, 0 },
        { "heartbeat", NULL, true, H, 0 },
        { "home-drive", NULL, true, VDI_RES_DRIVES, 0 },
        { "menu-anims", NULL, true, H, 0 },
        { "mouse-motion", NULL, true, H, 0 },
        { "mouse-relative", NULL, true, H, 0 },
        { "multitouch", NULL, true, H, 0 },
        { "multitransport", NULL, true, H, 0 },
        { "nego", NULL, true, H, 0 },
        { "offscreen-cache", NULL, true, H, 0 },
        { "old-license", NULL, true, H, 0 },
        { "password-is-pin", NULL, true, H, 0 },
        { "print-reconnect-cookie", NULL, true, H, 0 },
        { "sec-ext", NULL, true, H, 0 },
        { "sec-nla", NULL, true, H, 0 },
        { "sec-rdp", NULL, true, H, 0 },
        { "sec-tls", NULL, true, H, 0 },
        { "suppress-output", NULL, true, H, 0 },
        { "themes", NULL, true, H, 0 },
        { "toggle-fullscreen", NULL, true, H, 0 },
        { "unmap-buttons", NULL, true, H, 0 },
        { "wallpaper", NULL, true, H, 0 },
        { "window-drag", NULL, true, H, 0 },
        /* options and flags (/name[:value] only) */
        { "a", "addin", false, H, SP_ADDIN },
        { "action-script", NULL, false, H, 0 },
        { "admin", "console", false, H, 0 },
        { "app", NULL, false, H, 0 },
        { "app-cmd", NULL, false, H, 0 },
        { "app-file", NULL, false, H, 0 },
        { "app-guid", NULL, false, H, 0 },
        { "app-icon", NULL, false, H, 0 },
        { "app-name", NULL, false, H, 0 },
        { "app-workdir", NULL, false, H, 0 },
        { "args-from", NULL, false, H, SP_ARGS_FROM },
        { "assistance", NULL, false, VDI_RES_CHANNELS, 0 },
        { "audio-mode", NULL, false, H, 0 },
        { "auth-pkg-list", NULL, false, H, 0 },
        { "auto-reconnect-max-retries", NULL, false, H, 0 },
        { "auto-request-control", NULL, false, VDI_RES_CHANNELS, 0 },
        { "bpp", NULL, false, H, 0 },
        { "buildconfig", NULL, false, H, 0 },
        { "camera", NULL, false, VDI_RES_USB, 0 },
        { "cert", NULL, false, H, 0 },
        { "cert-deny", NULL, false, H, 0 },
        { "cert-ignore", NULL, false, H, 0 },
        { "cert-name", NULL, false, H, 0 },
        { "cert-tofu", NULL, false, H, 0 },
        { "client-build-number", NULL, false, H, 0 },
        { "client-hostname", NULL, false, H, 0 },
        { "codec-cache", NULL, false, H, 0 },
        { "compression-level", NULL, false, H, 0 },
        { "d", NULL, false, H, 0 },
        { "disp", NULL, false, H, 0 },
        { "drive", NULL, false, VDI_RES_DRIVES, 0 },
        { "dvc", NULL, false, H, SP_DVC },
        { "dynamic-resolution", NULL, false, H, 0 },
        { "echo", NULL, false, VDI_RES_CHANNELS, 0 },
        { "encryption-methods", NULL, false, H, 0 },
        { "f", NULL, false, H, 0 },
        { "floatbar", NULL, false, H, 0 },
        { "frame-ack", NULL, false, H, 0 },
        { "from-stdin", NULL, false, H, 0 },
        { "g", NULL, false, H, 0 },
        { "gateway", NULL, false, H, 0 },
        { "gateway-usage-method", "gum", false, H, 0 },
        { "gat", NULL, false, H, 0 },
        { "gd", NULL, false, H, 0 },
        { "gdi", NULL, false, H, 0 },
        { "geometry", NULL, false, H, 0 },
        { "gfx", NULL, false, H, 0 },
        { "gfx-h264", NULL, false, H, 0 },
        { "gp", NULL, false, H, 0 },
        { "gt", NULL, false, H, 0 },
        { "gu", NULL, false, H, 0 },
        { "h", NULL, false, H, 0 },
        { "help", "?", false, H, 0 },
        { "ipv4", "4", false, H, 0 },
        { "ipv6", "6", false, H, 0 },
        { "jpeg", NULL, false, H, 0 },
        { "jpeg-quality", NULL, false, H, 0 },
        { "kbd", NULL, false, H, 0 },
        { "kbd-fn-key", NULL, false, H, 0 },
        { "kbd-lang", NULL, false, H, 0 },
        { "kbd-lang-list", NULL, false, H, 0 },
        { "kbd-list", NULL, false, H, 0 },
        { "kbd-remap", NULL, false, H, 0 },
        { "kbd-subtype", NULL, false, H, 0 },
        { "kbd-type", NULL, false, H, 0 },
        { "kerberos", NULL, false, H, 0 },
        { "list", NULL, false, H, 0 },
        { "load-balance-info", NULL, false, H, 0 },
        { "log-filters", NULL, false, H, 0 },
        { "log-level", NULL, false, H, 0 },
        { "max-fast-path-size", NULL, false, H, 0 },
        { "max-loop-time", NULL, false, H, 0 },
        { "microphone", "mic", false, VDI_RES_AUDIO_IN, 0 },
        { "monitor-list", NULL, false, H, 0 },
        { "monitors", NULL, false, H, 0 },
        { "mouse", NULL, false, H, 0 },
        { "multimedia", "mmr", false, H, 0 },
        { "multimon", NULL, false, H, 0 },
        { "network", NULL, false, H, 0 },
        { "nsc", "nscodec", false, H, 0 },
        { "orientation", NULL, false, H, 0 },
        { "p", NULL, false, H, 0 },
        { "parallel", NULL, false, VDI_RES_SERIAL, 0 },
        { "parent-window", NULL, false, H, 0 },
        { "pcb", NULL, false, H, 0 },
        { "pcid", NULL, false, H, 0 },
        { "pheight", NULL, false, H, 0 },
        { "play-rfx", NULL, false, H, 0 },
        { "port", NULL, false, H, 0 },
        { "prevent-session-lock", NULL, false, H, 0 },
        { "printer", NULL, false, VDI_RES_PRINTERS, 0 },
        { "proxy", NULL, false, H, 0 },
        { "pth", "pass-the-hash", false, H, 0 },
        { "pwidth", NULL, false, H, 0 },
        { "rdp2tcp", NULL, false, VDI_RES_CHANNELS, 0 },
        { "reconnect-cookie", NULL, false, H, 0 },
        { "redirect-prefer", NULL, false, H, 0 },
        { "relax-order-checks", NULL, false, H, 0 },
        { "restricted-admin", "restrictedAdmin", false, H, 0 },
        { "rfx", NULL, false, H, 0 },
        { "rfx-mode", NULL, false, H, 0 },
        { "scale", NULL, false, H, 0 },
        { "scale-desktop", NULL, false, H, 0 },
        { "scale-device", NULL, false, H, 0 },
        { "sec", NULL, false, H, 0 },
        { "serial", "tty", false, VDI_RES_SERIAL, 0 },
        { "shell", NULL, false, H, 0 },
        { "shell-dir", NULL, false, H, 0 },
        { "size", NULL, false, H, 0 },
        { "smart-sizing", NULL, false, H, 0 },
        { "smartcard", NULL, false, VDI_RES_SMARTCARD, 0 },
        { "smartcard-logon", NULL, false, VDI_RES_SMARTCARD, 0 },
        { "sound", "audio", false, H, 0 },
        { "span", NULL, false, H, 0 },
        { "spn-class", NULL, false, H, 0 },
        { "ssh-agent", NULL, false, VDI_RES_CHANNELS, 0 },
        { "t", "title", false, H, 0 },
        { "timeout", NULL, false, H, 0 },
        { "timezone", NULL, false, H, 0 },
        { "tls", NULL, false, H, 0 },
        { "tls-ciphers", NULL, false, H, 0 },
        { "tls-seclevel", NULL, false, H, 0 },
        { "tune", NULL, false, H, 0 },
        { "tune-list", NULL, false, H, 0 },
        { "u", NULL, false, H, 0 },
        { "usb", NULL, false, VDI_RES_USB, 0 },
        { "v", NULL, false, H, 0 },
        { "vc", NULL, false, H, SP_VC },
        { "version", NULL, false, H, 0 },
        { "video", NULL, false, H, 0 },
        { "vmconnect", NULL, false, H, 0 },
        { "w", NULL, false, H, 0 },
        { "window-position", NULL, false, H, 0 },
        { "wm-class", NULL, false, H, 0 },
        { "workarea", NULL, false, H, 0 },
};

/* Channel names given to /vc:, /dvc: and /a: (first comma field). */
struct chan { const char *name; int res; };
static const struct chan chans[] = {
        { "cliprdr", VDI_RES_CLIPBOARD },
        { "rdpdr", VDI_RES_DRIVES },      /* the device redirection container itself */
        { "drive", VDI_RES_DRIVES },
        { "printer", VDI_RES_PRINTERS },
        { "serial", VDI_RES_SERIAL },
        { "parallel", VDI_RES_SERIAL },
        { "smartcard", VDI_RES_SMARTCARD },
        { "urbdrc", VDI_RES_USB },
        { "rdpecam", VDI_RES_USB },
        { "audin", VDI_RES_AUDIO_IN },
        /* display, input and audio output channels: not redirection of local resources */
        { "rdpsnd", H }, { "disp", H }, { "rdpgfx", H }, { "geometry", H }, { "video", H },
        { "rail", H }, { "rdpei", H }, { "drdynvc", H },
};

/* .rdp keys that can turn a resource on. Names are case-insensitive. */
struct rdpkey { const char *name; char type; int res; };
static const struct rdpkey rdpkeys[] = {
        { "redirectclipboard", 'i', VDI_RES_CLIPBOARD },
        { "redirectdrives", 'i', VDI_RES_DRIVES },
        { "drivestoredirect", 's', VDI_RES_DRIVES },
        { "redirectprinters", 'i', VDI_RES_PRINTERS },
        { "redirectcomports", 'i', VDI_RES_SERIAL },
        { "redirectsmartcards", 'i', VDI_RES_SMARTCARD },
        { "redirectwebauthn", 'i', VDI_RES_SMARTCARD },
        { "devicestoredirect", 's', VDI_RES_USB },
        { "usbdevicestoredirect", 's', VDI_RES_USB },
        { "camerastoredirect", 's', VDI_RES_USB },
        { "redirectposdevices", 'i', VDI_RES_USB },
        { "audiocapturemode", 'i', VDI_RES_AUDIO_IN },
        { "redirectlocation", 'i', VDI_RES_CHANNELS },
};
#undef H

struct state {
        unsigned deny;
        unsigned enabled;
        char enabled_by[_VDI_RES_MAX][96];
        bool clipboard_off;
        bool doubt;
        char doubt_opt[96];
        char doubt_reason[160];
        rdp_read_fn rd;
        void *userdata;
};

void rdp_sanitize(const char *s, char *out, size_t out_size) {
        size_t o = 0;
        if (out_size == 0)
                return;
        for (size_t i = 0; s && s[i]; i++) {
                if (o + 1 >= out_size) {
                        if (out_size > 4)
                                memcpy(out + out_size - 4, "...", 3), o = out_size - 1;
                        break;
                }
                unsigned char c = (unsigned char) s[i];
                out[o++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
        }
        out[o] = 0;
}

static void set_doubt(struct state *st, const char *opt, const char *fmt, ...) _printf_(3, 4);
static void set_doubt(struct state *st, const char *opt, const char *fmt, ...) {
        if (st->doubt)
                return; /* keep the first */
        st->doubt = true;
        rdp_sanitize(opt ? opt : "", st->doubt_opt, sizeof st->doubt_opt);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->doubt_reason, sizeof st->doubt_reason, fmt, ap);
        va_end(ap);
}

static void enable(struct state *st, int res, const char *opt) {
        if (res < 0 || res >= _VDI_RES_MAX)
                return;
        if (!(st->enabled & (1u << res)))
                rdp_sanitize(opt, st->enabled_by[res], sizeof st->enabled_by[res]);
        st->enabled |= 1u << res;
}

static const struct rdp_opt *find_opt(const char *name, size_t len, bool *ret_exact) {
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
                const char *cands[2] = { opts[i].name, opts[i].alias };
                for (size_t k = 0; k < 2; k++) {
                        const char *c = cands[k];
                        if (c && strlen(c) == len && strncasecmp(c, name, len) == 0) {
                                *ret_exact = strncmp(c, name, len) == 0;
                                return &opts[i];
                        }
                }
        }
        return NULL;
}

/* First comma-separated field of a channel option value. */
static int channel_res(const char *value, bool *known) {
        size_t len = strcspn(value, ",");
        for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++)
                if (strlen(chans[i].name) == len && strncasecmp(chans[i].name, value, len) == 0) {
                        *known = true;
                        return chans[i].res;
                }
        *known = false;
        return VDI_RES_CHANNELS;
}

static void check_lines_as_args(struct state *st, const char *data, size_t size, const char *what, unsigned depth);

static void check_arg(struct state *st, const char *arg, unsigned depth) {
        size_t len = strnlen(arg, RDP_MAX_ARG_LEN + 1);
        if (len == 0)
                return set_doubt(st, arg, "an empty argument");
        if (len > RDP_MAX_ARG_LEN)
                return set_doubt(st, arg, "an argument longer than %u bytes", RDP_MAX_ARG_LEN);
        char sigil = arg[0];
        if (sigil != '/' && sigil != '+' && sigil != '-')
                return set_doubt(st, arg, "a bare argument (only /option, +switch and -switch are accepted)");
        if (sigil == '-' && arg[1] == '-')
                return set_doubt(st, arg, "POSIX or legacy option syntax (--option) is not accepted");
        const char *name = arg + 1;
        size_t nlen = strcspn(name, ":");
        const char *value = name[nlen] == ':' ? name + nlen + 1 : NULL;
        if (nlen == 0)
                return set_doubt(st, arg, "an option without a name");
        bool exact = false;
        const struct rdp_opt *o = find_opt(name, nlen, &exact);
        if (!o)
                return set_doubt(st, arg, "an option sekisho does not know");

        if (o->is_bool && sigil == '-') {
                /* Turning a switch off is fine, but only in the exact spelling
                 * FreeRDP matches; anything else does not count as "off". */
                if (value || !exact)
                        return set_doubt(st, arg, "a switch spelled in a way FreeRDP may not read as off");
                if (o->sp == SP_CLIPBOARD)
                        st->clipboard_off = true;
                return;
        }
        if (!o->is_bool && sigil != '/')
                return set_doubt(st, arg, "'%c' on an option that is not a switch", sigil);

        switch (o->sp) {
        case SP_ADDIN:
        case SP_VC:
        case SP_DVC: {
                if (!value || !*value)
                        return set_doubt(st, arg, "a channel option without a channel name");
                bool known;
                int res = channel_res(value, &known);
                if (o->sp == SP_ADDIN && !known)
                        res = VDI_RES_CHANNELS;
                enable(st, res, arg);
                return;
        }
        case SP_ARGS_FROM: {
                if (!value || !*value)
                        return set_doubt(st, arg, "/args-from without a source");
                if (strcmp(value, "stdin") == 0 || strncmp(value, "fd:", 3) == 0 || strncmp(value, "env:", 4) == 0)
                        return set_doubt(st, arg, "arguments from stdin, a descriptor or the environment cannot be checked");
                if (depth > 0)
                        return set_doubt(st, arg, "nested /args-from");
                if (!st->rd)
                        return set_doubt(st, arg, "the arguments file cannot be read");
                char *data = NULL;
                size_t size = 0;
                int r = st->rd(st->userdata, value, RDP_MAX_FILE, &data, &size);
                if (r < 0)
                        return set_doubt(st, arg, "the arguments file cannot be read (%s)", strerror(-r));
                check_lines_as_args(st, data, size, arg, depth + 1);
                free(data);
                return;
        }
        default:
                enable(st, o->res, arg);
                return;
        }
}

static void check_lines_as_args(struct state *st, const char *data, size_t size, const char *what, unsigned depth) {
        if (memchr(data, 0, size))
                return set_doubt(st, what, "a NUL byte in the arguments file");
        size_t lines = 0;
        for (size_t i = 0; i < size;) {
                const char *nl = memchr(data + i, '\n', size - i);
                size_t end = nl ? (size_t) (nl - data) : size;
                size_t n = end - i;
                if (n > 0 && data[i + n - 1] == '\r')
                        n--;
                if (++lines > RDP_MAX_LINES)
                        return set_doubt(st, what, "an arguments file with too many lines");
                if (n > RDP_MAX_ARG_LEN)
                        return set_doubt(st, what, "a line longer than %u bytes", RDP_MAX_ARG_LEN);
                if (n > 0) {
                        char buf[RDP_MAX_ARG_LEN + 1];
                        memcpy(buf, data + i, n);
                        buf[n] = 0;
                        check_arg(st, buf, depth);
                        if (st->doubt)
                                return;
                }
                i = end + 1;
        }
}

static bool strict_int(const char *s, long *ret) {
        size_t i = 0;
        if (s[i] == '-' || s[i] == '+')
                i++;
        if (!isdigit((unsigned char) s[i]))
                return false;
        long v = 0;
        for (; s[i]; i++) {
                if (!isdigit((unsigned char) s[i]) || i > 10)
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = s[0] == '-' ? -v : v;
        return true;
}

static void trim(char **b, char **e) {
        while (*b < *e && (**b == ' ' || **b == '\t'))
                (*b)++;
        while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
                (*e)--;
}

static void check_rdp_line(struct state *st, char *line) {
        char *b = line, *e = line + strlen(line);
        trim(&b, &e);
        *e = 0;
        if (!*b)
                return;
        if (*b == '/')
                return check_arg(st, b, 0);   /* FreeRDP reads such lines as command-line options */
        if (*b == '+' || *b == '-')
                return set_doubt(st, b, "a switch line in the connection file");
        char *colon = strchr(b, ':');
        char *ne = colon ? colon : e;
        char *nb = b;
        trim(&nb, &ne);
        const struct rdpkey *k = NULL;
        for (size_t i = 0; i < sizeof rdpkeys / sizeof rdpkeys[0]; i++)
                if (strlen(rdpkeys[i].name) == (size_t) (ne - nb) && strncasecmp(rdpkeys[i].name, nb, (size_t) (ne - nb)) == 0)
                        k = &rdpkeys[i];
        if (!k)
                return; /* not a key we care about */
        if (!colon || tolower((unsigned char) colon[1]) != k->type || colon[2] != ':')
                return set_doubt(st, b, "a malformed %s line", k->name);
        char *vb = colon + 3, *ve = e;
        trim(&vb, &ve);
        *ve = 0;
        if (k->type == 'i') {
                long v;
                if (!strict_int(vb, &v))
                        return set_doubt(st, b, "a %s value that is not a number", k->name);
                if (v != 0)
                        enable(st, k->res, b);
                else if (k->res == VDI_RES_CLIPBOARD)
                        st->clipboard_off = true;
        } else if (*vb)
                enable(st, k->res, b);
}

static void check_rdp_data(struct state *st, const char *data, size_t size, const char *what) {
        _cleanup_free_ char *text = NULL;
        size_t tlen = 0;
        const unsigned char *u = (const unsigned char *) data;

        if (size > RDP_MAX_FILE)
                return set_doubt(st, what, "a connection file larger than %u bytes", RDP_MAX_FILE);
        if (size >= 2 && u[0] == 0xff && u[1] == 0xfe) {
                /* UTF-16LE as mstsc writes it: keys are ASCII, anything else becomes '?'. */
                if (size % 2)
                        return set_doubt(st, what, "a UTF-16 connection file with an odd length");
                text = malloc(size / 2 + 1);
                if (!text)
                        return set_doubt(st, what, "out of memory");
                for (size_t i = 2; i < size; i += 2) {
                        unsigned c = u[i] | (unsigned) u[i + 1] << 8;
                        if (c == 0)
                                return set_doubt(st, what, "a NUL character in the connection file");
                        text[tlen++] = c < 0x80 ? (char) c : '?';
                }
        } else if (size >= 2 && u[0] == 0xfe && u[1] == 0xff) {
                return set_doubt(st, what, "a big-endian UTF-16 connection file");
        } else {
                size_t off = (size >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) ? 3 : 0;
                if (memchr(data + off, 0, size - off))
                        return set_doubt(st, what, "a NUL byte in the connection file");
                text = malloc(size - off + 1);
                if (!text)
                        return set_doubt(st, what, "out of memory");
                memcpy(text, data + off, size - off);
                tlen = size - off;
        }
        text[tlen] = 0;

        size_t lines = 0;
        for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl = 0;
                if (++lines > RDP_MAX_LINES)
                        return set_doubt(st, what, "a connection file with too many lines");
                if (strlen(p) > RDP_MAX_ARG_LEN)
                        return set_doubt(st, what, "a line longer than %u bytes in the connection file", RDP_MAX_ARG_LEN);
                check_rdp_line(st, p);
                if (st->doubt)
                        return;
        }
}

static bool ends_with_ci(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void finish(struct state *st, struct rdp_verdict *v) {
        memset(v, 0, sizeof *v);
        v->res = RDP_RES_DOUBT;
        if (st->doubt) {
                v->deny = true;
                snprintf(v->option, sizeof v->option, "%s", st->doubt_opt);
                snprintf(v->reason, sizeof v->reason, "cannot be checked: %s", st->doubt_reason);
                return;
        }
        for (int r = 0; r < _VDI_RES_MAX; r++)
                if ((st->deny & st->enabled) & (1u << r)) {
                        v->deny = true;
                        v->res = r;
                        snprintf(v->option, sizeof v->option, "%s", st->enabled_by[r]);
                        snprintf(v->reason, sizeof v->reason, "turns on %s, which the policy denies", vdi_res_name(r));
                        return;
                }
        if ((st->deny & (1u << VDI_RES_CLIPBOARD)) && !st->clipboard_off) {
                v->deny = true;
                v->res = VDI_RES_CLIPBOARD;
                snprintf(v->option, sizeof v->option, "(no -clipboard)");
                snprintf(v->reason, sizeof v->reason,
                         "FreeRDP shares the clipboard unless told not to; the policy denies it (use -clipboard or sekisho-rdp)");
                return;
        }
        v->res = -2;
        snprintf(v->reason, sizeof v->reason, "every denied channel is off");
}

int rdp_check_invocation(unsigned deny, size_t argc, char *const *argv, rdp_read_fn rd, void *userdata,
                         struct rdp_verdict *v) {
        struct state st = { .deny = deny & VDI_RES_ALL, .rd = rd, .userdata = userdata };

        if (st.deny == 0) {
                finish(&st, v);
                return 0;
        }
        if (argc > RDP_MAX_ARGS)
                set_doubt(&st, argc > 0 ? argv[argc - 1] : "", "more than %u arguments", RDP_MAX_ARGS);
        size_t i = 1;
        if (!st.doubt && argc > 1 && argv[1]) {
                if (ends_with_ci(argv[1], ".msrcIncident")) {
                        set_doubt(&st, argv[1], "a remote assistance file");
                } else if (ends_with_ci(argv[1], ".rdp")) {
                        /* FreeRDP takes a first argument ending in .rdp as the connection
                         * file whatever it starts with ("/home/u/x.rdp" included). */
                        i = 2;
                        if (!rd)
                                set_doubt(&st, argv[1], "the connection file cannot be read");
                        else {
                                char *data = NULL;
                                size_t size = 0;
                                int r = rd(userdata, argv[1], RDP_MAX_FILE, &data, &size);
                                if (r == -ENOMEM)
                                        return r;
                                if (r == -EFBIG)
                                        set_doubt(&st, argv[1], "a connection file larger than %u bytes", RDP_MAX_FILE);
                                else if (r < 0)
                                        set_doubt(&st, argv[1], "the connection file cannot be read (%s)", strerror(-r));
                                else
                                        check_rdp_data(&st, data, size, argv[1]);
                                free(data);
                        }
                }
        }
        for (; !st.doubt && i < argc; i++) {
                if (!argv[i]) {
                        set_doubt(&st, "", "a missing argument");
                        break;
                }
                check_arg(&st, argv[i], 0);
        }
        finish(&st, v);
        return 0;
}

int rdp_check_file(unsigned deny, const char *data, size_t size, struct rdp_verdict *v) {
        struct state st = { .deny = deny & VDI_RES_ALL };
        if (st.deny)
                check_rdp_data(&st, data, size, "connection file");
        finish(&st, v);
        return 0;
}
