/* travel-harness.c — runs the travel plugin on the real loop with a stub core, for the shell integration tests (TLS probe, D-Bus, persistence). */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "plugin.h"
#include "ptree.h"
#include "stub-core.h"
#include "travel.h"
#include "util.h"

/* Usage: travel-harness --state-dir DIR --policy FILE [--log FILE]
 *                       [--until state=PHASE|event=NAME|signal=NAME] [--max-seconds N]
 * Exit 0 when the condition held, 2 if the policy was refused (errors on
 * stderr), 3 if the guard time ran out (a hang guard, not a measurement). */

extern const struct sekisho_plugin sekisho_plugin_travel;

static bool done(struct sekisho_plugin_handle *ctx, const char *state_dir, const char *until) {
        if (!until)
                return true;
        if (strncmp(until, "state=", 6) == 0) {
                _cleanup_free_ char *dir = path_join(state_dir, "travel/state");
                struct travel_state s;
                return dir && travel_state_load(dir, &s) == 0 && strcmp(travel_phase_name(s.phase), until + 6) == 0;
        }
        if (strncmp(until, "event=", 6) == 0)
                return stub_count(ctx, "audit", until + 6, NULL) > 0;
        if (strncmp(until, "signal=", 7) == 0)
                return stub_count(ctx, "signal", until + 7, NULL) > 0;
        return false;
}

int main(int argc, char **argv) {
        const char *state_dir = NULL, *policy = NULL, *logpath = NULL, *until = NULL;
        const char *probe_helper = ABS_TOP_BUILDDIR "/sekisho-probe";
        uint64_t max_seconds = 60;
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, 's' }, { "policy", required_argument, NULL, 'p' },
                { "log", required_argument, NULL, 'l' },       { "until", required_argument, NULL, 'u' },
                { "max-seconds", required_argument, NULL, 'm' }, { "probe-helper", required_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 's': state_dir = optarg; break;
                case 'p': policy = optarg; break;
                case 'l': logpath = optarg; break;
                case 'u': until = optarg; break;
                case 'h': probe_helper = optarg; break;
                case 'm':
                        if (parse_u64(optarg, &max_seconds) < 0)
                                return 1;
                        break;
                default: return 1;
                }
        }
        if (!state_dir || !policy) {
                fprintf(stderr, "usage: travel-harness --state-dir DIR --policy FILE [--log FILE] [--until COND]\n");
                return 1;
        }
        log_setup("travel-harness", true);

        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(policy, 1 << 20, &data, &size);
        if (r < 0)
                return log_error_errno(r, "cannot read %s", policy), 1;
        struct ptree *tree = NULL;
        struct perrors errs = { 0 };
        if (ptree_parse(policy, data, size, &tree, &errs) < 0 ||
            sekisho_plugin_travel.check(tree ? pmap_get(tree->root, "travel") : NULL, &errs) > 0) {
                for (size_t i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                perrors_clear(&errs);
                ptree_free(tree);
                return 2;
        }

        struct sekisho_plugin_handle *ctx;
        if (stub_core_new(&sekisho_plugin_travel, state_dir, "/nonexistent-sysroot", &ctx) < 0)
                return 1;
        /* The probe helper of the build tree, as sekishod starts it (tlsprobe.h). */
        if (tls_probe_helper_start(NULL, probe_helper, NULL, NULL) < 0)
                fprintf(stderr, "travel-harness: cannot start sekisho-probe; probes will fail\n");
        if (logpath)
                ctx->log = fopen(logpath, "ae");
        void *st;
        r = sekisho_plugin_travel.init(ctx, &st);
        if (r < 0)
                return log_error_errno(r, "travel init failed"), 1;
        r = sekisho_plugin_travel.apply(st, pmap_get(tree->root, "travel"));
        if (r < 0)
                return log_error_errno(r, "travel apply failed"), 1;

        uint64_t deadline = now_usec_monotonic() + max_seconds * 1000000u;
        int rc = 0;
        while (!done(ctx, state_dir, until)) {
                if (now_usec_monotonic() > deadline) {
                        fprintf(stderr, "travel-harness: gave up waiting for %s\n", until);
                        rc = 3;
                        break;
                }
                loop_iterate(ctx->loop, 200);
        }
        struct kvlist kl = { 0 };
        sekisho_plugin_travel.status(st, &kl);
        for (size_t i = 0; i < kl.n; i++)
                printf("%s: %s\n", kl.keys[i], kl.values[i]);
        kvlist_clear(&kl);
        sekisho_plugin_travel.shutdown(st);
        if (ctx->log)
                fclose(ctx->log);
        stub_core_free(ctx);
        ptree_free(tree);
        return rc;
}
