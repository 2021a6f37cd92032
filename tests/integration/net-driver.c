/* net-driver.c — runs the net plugin alone on the real loop with the stub core, for namespace tests and benchmarks before (and besides) sekishod. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

#include "default-fragment.h"
#include "loop.h"
#include "netctl.h"
#include "plugin.h"
#include "ptree.h"
#include "stub-core.h"
#include "tlsprobe.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_net;

struct driver {
        struct sekisho_plugin_handle *core;   /* the stub core */
        struct sekisho_plugin_handle *claimer; /* another plugin's handle on the same claims registry */
        const char *claims_path;
        const char *sysroot, *audit_path, *status_path, *policy_path, *profile;
        void *state;
        int sfd;
};

/* Audit records and signals as "KIND EVENT CLAUSE k=v ...", appended to --audit (stderr without). */
static void record(struct sekisho_plugin_handle *core, const char *kind, const char *event, const char *clause,
                   const struct audit_field *fields) {
        struct driver *ctx = core->userdata;
        if (strcmp(kind, "profile") == 0)
                return;
        FILE *f = ctx->audit_path ? fopen(ctx->audit_path, "ae") : NULL;
        FILE *o = f ? f : stderr;
        fprintf(o, "%s %s %s", kind, event, clause ? clause : "-");
        for (const struct audit_field *x = fields; x && x->name; x++)
                fprintf(o, " %s=%s", x->name, x->value);
        fputc('\n', o);
        if (f)
                fclose(f);
}

/* Load the policy file and return the effective network: section
 * (profiles.<profile>.network merged over the base, as the core does). */
static int load(struct driver *ctx, struct ptree **ret_tree, struct ptree **ret_merged, const struct pnode **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(ctx->policy_path, 64u << 20, &data, &size);
        if (r < 0)
                return log_error_errno(r, "%s", ctx->policy_path);
        struct perrors errs = { 0 };
        struct ptree *t = NULL;
        if (ptree_parse(ctx->policy_path, data, size, &t, &errs) < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                perrors_clear(&errs);
                return -EINVAL;
        }
        /* The file's section over the plugin's default fragment, as the core merges a bundle's. */
        struct ptree *d = default_fragment("net");
        if (!d) {
                ptree_free(t);
                return log_error_errno(-ENOENT, "cannot read plugins/net/default.yaml (set top_srcdir)");
        }
        struct ptree *b = ptree_merge(ctx->policy_path, pmap_get(d->root, "network"),
                                      t->root ? pmap_get(t->root, "network") : NULL);
        ptree_free(d);
        const struct pnode *ov = NULL;
        if (ctx->profile && t->root)
                ov = pmap_get(pmap_get(pmap_get(t->root, "profiles"), ctx->profile), "network");
        struct ptree *m = b ? ptree_merge(ctx->policy_path, b->root, ov) : NULL;
        ptree_free(b);
        if (!m) {
                ptree_free(t);
                return -ENOMEM;
        }
        const struct pnode *section = m->root;
        if (sekisho_plugin_net.check(section, &errs) > 0) {
                for (size_t i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                perrors_clear(&errs);
                ptree_free(m);
                ptree_free(t);
                return -EINVAL;
        }
        perrors_clear(&errs);
        *ret_tree = t;
        *ret_merged = m;
        *ret = section;
        return 0;
}

static int apply(struct driver *ctx) {
        struct ptree *t = NULL, *m = NULL;
        const struct pnode *section = NULL;
        int r = load(ctx, &t, &m, &section);
        if (r < 0)
                return r;
        uint64_t t0 = now_usec_monotonic();
        r = sekisho_plugin_net.apply(ctx->state, section);
        uint64_t t1 = now_usec_monotonic();
        if (r == 0)
                printf("applied in %llu us\n", (unsigned long long)(t1 - t0));
        else
                printf("apply failed: %s\n", strerror(-r));
        fflush(stdout);
        ptree_free(m);
        ptree_free(t);
        return r;
}

static void write_status(struct driver *ctx) {
        struct kvlist l = { 0 };
        sekisho_plugin_net.status(ctx->state, &l);
        FILE *f = ctx->status_path ? fopen(ctx->status_path, "we") : stdout;
        for (size_t i = 0; f && i < l.n; i++)
                fprintf(f, "%s=%s\n", l.keys[i], l.values[i]);
        if (f && f != stdout)
                fclose(f);
        fflush(stdout);
        kvlist_clear(&l);
}

/* --claims FILE: lines "DEST PROTO PORTS CGROUP" ("-" for any protocol or
 * port), set as the claims of a plugin named "vdi", as i16's would be. */
static void set_claims(struct driver *ctx) {
        struct sekisho_net_claim v[64];
        char dest[64][256], proto[64][8], cg[64][256];
        size_t n = 0;
        FILE *f = fopen(ctx->claims_path, "re");
        char line[1024];
        while (f && n < 64 && fgets(line, sizeof line, f)) {
                char ports[32];
                if (sscanf(line, "%255s %7s %31s %255s", dest[n], proto[n], ports, cg[n]) != 4)
                        continue;
                unsigned lo = 0, hi = 0;
                if (strcmp(ports, "-") != 0 && sscanf(ports, "%u-%u", &lo, &hi) < 2)
                        hi = lo;
                v[n] = (struct sekisho_net_claim){ .destination = dest[n], .protocol = strcmp(proto[n], "-") ? proto[n] : NULL,
                                                   .port_lo = (uint16_t)lo, .port_hi = (uint16_t)hi, .cgroup = cg[n] };
                n++;
        }
        if (f)
                fclose(f);
        int r = sekisho_net_claim_set(ctx->claimer, v, n);
        printf("claims set: %zu (%s)\n", n, r < 0 ? strerror(-r) : "ok");
        fflush(stdout);
}

static int on_signal(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct driver *ctx = userdata;
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) != sizeof si)
                return 0;
        switch (si.ssi_signo) {
        case SIGHUP: {
                /* Re-read the policy; a file named POLICY.profile (if present) names the active profile. */
                static char prof[64];
                _cleanup_free_ char *pp = NULL, *pdata = NULL;
                size_t psize;
                ctx->profile = NULL;
                if (asprintf(&pp, "%s.profile", ctx->policy_path) >= 0 &&
                    read_file_capped(pp, sizeof prof - 1, &pdata, &psize) == 0) {
                        snprintf(prof, sizeof prof, "%.*s", (int)strcspn(pdata, "\n"), pdata);
                        if (prof[0])
                                ctx->profile = prof;
                }
                apply(ctx);
                break;
        }
        case SIGUSR2:
                if (ctx->claimer)
                        set_claims(ctx);
                break;
        case SIGUSR1:
                write_status(ctx);
                printf("status written\n");
                fflush(stdout);
                break;
        default:
                loop_quit(ctx->core->loop, 0);
        }
        return 0;
}

int main(int argc, char **argv) {
        struct driver ctx = { .sysroot = "/" };
        bool once = false;
        static const struct option opts[] = {
                { "policy", required_argument, NULL, 'p' }, { "sysroot", required_argument, NULL, 'r' },
                { "audit", required_argument, NULL, 'a' },  { "status", required_argument, NULL, 's' },
                { "profile", required_argument, NULL, 'P' }, { "once", no_argument, NULL, '1' },
                { "check", no_argument, NULL, 'c' },        { "show", no_argument, NULL, 'S' },
                { "claims", required_argument, NULL, 'C' },
                { NULL, 0, NULL, 0 },
        };
        bool check_only = false;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'p': ctx.policy_path = optarg; break;
                case 'r': ctx.sysroot = optarg; break;
                case 'a': ctx.audit_path = optarg; break;
                case 's': ctx.status_path = optarg; break;
                case 'P': ctx.profile = optarg; break;
                case 'C': ctx.claims_path = optarg; break;
                case '1': once = true; break;
                case 'c': check_only = true; break;
                case 'S': return netctl_show(stdout, false) < 0 ? 1 : 0; /* what `sekishoctl net show` prints */
                default: return 2;
                }
        if (!ctx.policy_path) {
                fprintf(stderr, "usage: net-driver --policy FILE [--sysroot DIR] [--audit FILE] [--status FILE] "
                                "[--profile NAME] [--claims FILE] [--once] [--check]\n       net-driver --show\n");
                return 2;
        }
        log_setup("net-driver", getenv("NET_DRIVER_DEBUG") != NULL);
        if (check_only) {
                struct ptree *t = NULL, *m = NULL;
                const struct pnode *s;
                int r = load(&ctx, &t, &m, &s);
                ptree_free(m);
                ptree_free(t);
                if (r == 0)
                        printf("OK\n");
                return r == 0 ? 0 : 1;
        }
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        ctx.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        int r = stub_core_new(&sekisho_plugin_net, "/tmp", ctx.sysroot, &ctx.core);
        if (r < 0 || ctx.sfd < 0)
                return 1;
        /* The probe helper of the build tree, as sekishod starts it (tlsprobe.h). */
        if (tls_probe_helper_start(NULL, ABS_TOP_BUILDDIR "/sekisho-probe", NULL, NULL) < 0)
                fprintf(stderr, "net-driver: cannot start sekisho-probe; office probes will fail\n");
        ctx.core->no_records = true;
        ctx.core->on_record = record;
        ctx.core->userdata = &ctx;
        struct loop_source *ss = NULL;
        loop_add_io(ctx.core->loop, ctx.sfd, EPOLLIN, on_signal, &ctx, &ss);
        static const struct sekisho_plugin vdi = { .name = "vdi" };
        if (ctx.claims_path) {
                if (stub_core_new(&vdi, "/tmp", ctx.sysroot, &ctx.claimer) < 0)
                        return 1;
                stub_share_claims(ctx.core, ctx.claimer);
                set_claims(&ctx); /* before init: the plugin reads what is there, then watches */
        }
        r = sekisho_plugin_net.init(ctx.core, &ctx.state);
        if (r < 0) {
                fprintf(stderr, "init failed: %s\n", strerror(-r));
                return 1;
        }
        r = apply(&ctx);
        if (r == 0 && !once) {
                printf("enforcing\n");
                fflush(stdout);
                loop_run(ctx.core->loop);
        }
        if (once && ctx.status_path)
                write_status(&ctx);
        sekisho_plugin_net.shutdown(ctx.state);
        loop_source_free(ss);
        stub_core_free(ctx.claimer);
        stub_core_free(ctx.core);
        close(ctx.sfd);
        return r == 0 ? 0 : 1;
}
