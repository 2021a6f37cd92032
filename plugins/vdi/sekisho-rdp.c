/* sekisho-rdp.c — launcher: starts the installed FreeRDP with redirection off (-clipboard, no drives/printers/devices), refusing options that would turn any on. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdpcheck.h"
#include "util.h"

static const char *const candidates[] = {
        "/usr/bin/xfreerdp3", "/usr/bin/sdl-freerdp3", "/usr/bin/xfreerdp", "/usr/bin/sdl-freerdp", NULL,
};
static const char *const wayland_candidates[] = { "/usr/bin/wlfreerdp3", "/usr/bin/wlfreerdp", NULL };

static void usage(FILE *f) {
        fputs("Usage: sekisho-rdp [--smartcard] [--dry-run] HOST[:PORT] [FreeRDP options...]\n"
              "Starts FreeRDP with clipboard, drive, printer, port, USB, audio-input and other\n"
              "redirection switched off, as the terminal's policy requires. Options that would\n"
              "switch any of them on are refused. --smartcard redirects smart cards (only where\n"
              "the policy allows it; sekishod stops the client otherwise).\n",
              f);
}

static const char *find_client(void) {
        const char *env = getenv("SEKISHO_RDP_CLIENT");
        if (env && *env)
                return env;
        if (getenv("WAYLAND_DISPLAY") && !getenv("DISPLAY"))
                for (const char *const *c = wayland_candidates; *c; c++)
                        if (access(*c, X_OK) == 0)
                                return *c;
        for (const char *const *c = candidates; *c; c++)
                if (access(*c, X_OK) == 0)
                        return *c;
        return NULL;
}

int main(int argc, char **argv) {
        bool smartcard = false, dry_run = false;
        int i = 1;
        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--smartcard") == 0)
                        smartcard = true;
                else if (strcmp(argv[i], "--dry-run") == 0)
                        dry_run = true;
                else if (strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (i >= argc || argv[i][0] == '/' || argv[i][0] == '+' || argv[i][0] == '-' || strlen(argv[i]) > 1024) {
                usage(stderr);
                return 2;
        }
        const char *client = find_client();
        if (!client) {
                fprintf(stderr, "sekisho-rdp: no FreeRDP client installed (install freerdp2-x11 or freerdp3-x11)\n");
                return 1;
        }
        size_t n = 0, cap = (size_t) argc + 8;
        _cleanup_free_ char **nargv = calloc(cap, sizeof *nargv);
        _cleanup_free_ char *host = malloc(strlen(argv[i]) + 4);
        if (!nargv || !host)
                return 1;
        sprintf(host, "/v:%s", argv[i]);
        nargv[n++] = (char *) client;
        nargv[n++] = host;
        nargv[n++] = "-clipboard";
        if (smartcard)
                nargv[n++] = "/smartcard";
        for (i++; i < argc; i++)
                nargv[n++] = argv[i];
        nargv[n] = NULL;

        unsigned deny = VDI_RES_ALL & ~(smartcard ? 1u << VDI_RES_SMARTCARD : 0);
        struct rdp_verdict v;
        if (rdp_check_invocation(deny, n, nargv, NULL, NULL, &v) < 0)
                return 1;
        if (v.deny) {
                fprintf(stderr, "sekisho-rdp: refusing '%s': %s\n", v.option, v.reason);
                return 2;
        }
        if (dry_run) {
                for (size_t k = 0; k < n; k++)
                        printf("%s%s", k ? " " : "", nargv[k]);
                printf("\n");
                return 0;
        }
        /* sekishod stops a client whose loader was told to inject code; start a clean one. */
        unsetenv("LD_PRELOAD");
        unsetenv("LD_AUDIT");
        unsetenv("LD_LIBRARY_PATH");
        execv(client, nargv);
        fprintf(stderr, "sekisho-rdp: cannot start %s: %s\n", client, strerror(errno));
        return 1;
}
