/* sekishod.c — the daemon's main: options, then start and run the core. */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "core.h"
#include "journal.h"
#include "util.h"

/* The trusted-network probe helper (tlsprobe.h): the test build runs the one in its build tree. */
#ifdef SEKISHO_TEST_BUILD
#define PROBE_HELPER ABS_TOP_BUILDDIR "/sekisho-probe"
#else
#define PROBE_HELPER PKGLIBEXECDIR "/sekisho-probe"
#endif

static void help(void) {
        printf("Usage: sekishod [OPTIONS]\n\n"
               "Endpoint enforcement daemon: USB, network, VDI, posture and travel policy from signed bundles.\n\n"
               "  -f --foreground          stay in the foreground (the only mode; systemd runs it so)\n"
               "  -c --config FILE         terminal identity (default %s/sekisho/sekisho.conf)\n"
               "     --state-dir DIR       installed policies and state (default %s/lib/sekisho)\n"
               "     --keys-dir DIR        trusted minisign public keys (default %s/sekisho/keys.d)\n"
               "     --inbox DIR           dropped bundles (default STATE-DIR/inbox)\n"
               "     --audit-log FILE      audit log (default %s/log/sekisho/audit.log)\n"
               "     --audit-max-size BYTES  rotate the audit log beyond this size (default 8 MiB)\n"
               "     --journal-socket PATH  journald's socket for structured audit records (default %s\n"
               "                           with --bus=system; none otherwise; \"\" for none)\n"
               "     --bus=system|session|none\n"
               "     --plugins=LIST        comma-separated plugins to start (default: all built in)\n"
               "     --sysroot DIR         read the system's files below DIR (tests)\n"
               "     --no-sandbox          do not install the seccomp allowlist (debugging only)\n"
               "     --probe-helper PATH   the TLS probe helper (default %s)\n"
               "     --check-config        check configuration, keys and the policy in force; print OK\n"
               "  -v --verbose             debug messages\n"
               "  -h --help, --version\n",
               SYSCONFDIR, LOCALSTATEDIR, SYSCONFDIR, LOCALSTATEDIR, JOURNAL_SOCKET, PROBE_HELPER);
        printf("\nBuilt-in plugins:\n");
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                printf("  %-8s %s%s\n", (*p)->name, (*p)->summary, (*p)->test_only ? " (test only)" : "");
}

/* --check-config: identity, keys, and which policy would be in force. */
static int check_config(const struct sekisho_options *o) {
        struct perrors errs = { 0 };
        struct store_choice c;
        int r = policy_in_force(o->state_dir, o->keys_dir, o->config, &c, NULL, &errs);
        bool ok = r == 0 && errs.n_errors == 0 && !c.reason[0];
        for (size_t i = 0; i < errs.n; i++)
                printf("%s\n", errs.msgs[i]);
        if (c.reason[0])
                printf("%s\n", c.reason);
        if (r == 0)
                printf("policy: serial %llu from %s\n", (unsigned long long)c.policy->serial, c.source);
        policy_free(c.policy);
        perrors_clear(&errs);
        printf("%s\n", ok ? "OK" : "FAILED");
        return ok ? 0 : 1;
}

int main(int argc, char **argv) {
        enum { ARG_STATE = 0x100, ARG_KEYS, ARG_INBOX, ARG_AUDIT, ARG_BUS, ARG_PLUGINS, ARG_SYSROOT, ARG_NOSANDBOX,
               ARG_CHECK, ARG_VERSION, ARG_AUDIT_MAX, ARG_JOURNAL, ARG_PROBE };
        static const struct option opts[] = {
                { "foreground", no_argument, NULL, 'f' },
                { "config", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, ARG_STATE },
                { "keys-dir", required_argument, NULL, ARG_KEYS },
                { "inbox", required_argument, NULL, ARG_INBOX },
                { "audit-log", required_argument, NULL, ARG_AUDIT },
                { "audit-max-size", required_argument, NULL, ARG_AUDIT_MAX },
                { "journal-socket", required_argument, NULL, ARG_JOURNAL },
                { "bus", required_argument, NULL, ARG_BUS },
                { "plugins", required_argument, NULL, ARG_PLUGINS },
                { "sysroot", required_argument, NULL, ARG_SYSROOT },
                { "no-sandbox", no_argument, NULL, ARG_NOSANDBOX },
                { "probe-helper", required_argument, NULL, ARG_PROBE },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { NULL, 0, NULL, 0 },
        };
        struct sekisho_options o = {
                .config = SYSCONFDIR "/sekisho/sekisho.conf",
                .state_dir = LOCALSTATEDIR "/lib/sekisho",
                .keys_dir = SYSCONFDIR "/sekisho/keys.d",
                .audit_log = LOCALSTATEDIR "/log/sekisho/audit.log",
                .bus = BUS_SYSTEM,
                .probe_helper = PROBE_HELPER,
        };
        bool check = false;
        int c;
        while ((c = getopt_long(argc, argv, "fc:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'f': o.foreground = true; break;
                case 'c': o.config = optarg; break;
                case ARG_STATE: o.state_dir = optarg; break;
                case ARG_KEYS: o.keys_dir = optarg; break;
                case ARG_INBOX: o.inbox = optarg; break;
                case ARG_AUDIT: o.audit_log = optarg; break;
                case ARG_AUDIT_MAX:
                        if (parse_u64(optarg, &o.audit_rotate_bytes) < 0 || o.audit_rotate_bytes < 4096) {
                                fprintf(stderr, "sekishod: --audit-max-size wants a number of bytes, at least 4096\n");
                                return 2;
                        }
                        break;
                case ARG_JOURNAL: o.journal_socket = optarg; break;
                case ARG_PLUGINS: o.plugins = optarg; break;
                case ARG_SYSROOT: o.sysroot = optarg; break;
                case ARG_NOSANDBOX: o.no_sandbox = true; break;
                case ARG_PROBE: o.probe_helper = optarg; break;
                case ARG_CHECK: check = true; break;
                case 'v': o.verbose = true; break;
                case ARG_BUS:
                        if (strcmp(optarg, "system") == 0)
                                o.bus = BUS_SYSTEM;
                        else if (strcmp(optarg, "session") == 0)
                                o.bus = BUS_SESSION;
                        else if (strcmp(optarg, "none") == 0)
                                o.bus = BUS_NONE;
                        else {
                                fprintf(stderr, "sekishod: --bus must be system, session or none\n");
                                return 2;
                        }
                        break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("sekishod %s\n", PACKAGE_VERSION); return 0;
                default: return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "sekishod: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        _cleanup_free_ char *inbox = NULL;
        if (!o.inbox)
                o.inbox = inbox = path_join(o.state_dir, "inbox");
        log_setup("sekishod", o.verbose);
        if (check)
                return check_config(&o);

        struct sekisho *ctx;
        int r = sekisho_new(&o, &ctx);
        if (r < 0)
                return 1;
        r = sekisho_start(ctx);
        if (r == 0)
                r = sekisho_run(ctx);
        sekisho_free(ctx);
        return r < 0 ? 1 : 0;
}
