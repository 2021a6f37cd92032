/* vdi-harness.c — runs the vdi plugin alone over a stub of the core services, for tests and benchmarks before/without sekishod. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_vdi;

struct sekisho {
        struct loop *loop;
        struct sekisho_env env;
        FILE *audit;
        unsigned long seq;
};

struct loop *sekisho_loop(struct sekisho *ctx) { return ctx->loop; }
const struct sekisho_env *sekisho_env(struct sekisho *ctx) { return &ctx->env; }

int sekisho_profile_request(struct sekisho *ctx, const struct sekisho_plugin *who, const char *profile, bool active,
                            const char *reason) {
        (void) ctx; (void) who; (void) profile; (void) active; (void) reason;
        return 0;
}

static void write_record(struct sekisho *ctx, const char *kind, const char *event, const char *clause,
                         const struct audit_field *fields) {
        if (!ctx->audit)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(ctx->audit, "{\"seq\":%lu,\"mono_ns\":%lld,\"%s\":\"%s\"", ++ctx->seq,
                (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec, kind, event);
        if (clause)
                fprintf(ctx->audit, ",\"clause\":\"%s\"", clause);
        for (const struct audit_field *f = fields; f && f->name; f++) {
                fprintf(ctx->audit, ",\"%s\":\"", f->name);
                for (const char *c = f->value ? f->value : ""; *c; c++)
                        if (*c == '"' || *c == '\\')
                                fprintf(ctx->audit, "\\%c", *c);
                        else if ((unsigned char) *c < 0x20)
                                fprintf(ctx->audit, "\\u%04x", *c);
                        else
                                fputc(*c, ctx->audit);
                fputc('"', ctx->audit);
        }
        fprintf(ctx->audit, "}\n");
        fflush(ctx->audit);
}

int sekisho_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        write_record(ctx, "event", event, clause, fields);
        return 0;
}

int sekisho_signal(struct sekisho *ctx, const char *signal_name, const struct audit_field *fields) {
        write_record(ctx, "signal", signal_name, NULL, fields);
        return 0;
}


struct harness {
        struct sekisho *ctx;
        void *state;
        const char *status_file;
};

static void dump_status(struct harness *h) {
        struct kvlist kv = { 0 };
        sekisho_plugin_vdi.status(h->state, &kv);
        FILE *f = h->status_file ? fopen(h->status_file, "we") : stderr;
        for (size_t i = 0; f && i < kv.n; i++)
                fprintf(f, "%s: %s\n", kv.keys[i], kv.values[i]);
        if (f && f != stderr)
                fclose(f);
        kvlist_clear(&kv);
}

static int on_signal(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct harness *h = userdata;
        (void) s; (void) revents;
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) != sizeof si)
                return 0;
        if (si.ssi_signo == SIGUSR1)
                dump_status(h);
        else
                loop_quit(h->ctx->loop, 0);
        return 0;
}

int main(int argc, char **argv) {
        const char *policy = NULL, *sysroot = "/", *audit = NULL, *status = NULL;
        static const struct option lo[] = {
                { "policy", required_argument, NULL, 'p' }, { "sysroot", required_argument, NULL, 'r' },
                { "audit", required_argument, NULL, 'a' },  { "status", required_argument, NULL, 's' },
                { NULL, 0, NULL, 0 },
        };
        for (int c; (c = getopt_long(argc, argv, "", lo, NULL)) != -1;)
                switch (c) {
                case 'p': policy = optarg; break;
                case 'r': sysroot = optarg; break;
                case 'a': audit = optarg; break;
                case 's': status = optarg; break;
                default: return 2;
                }
        log_setup("vdi-harness", getenv("VDI_VERBOSE") != NULL);

        struct ptree *tree = NULL;
        const struct pnode *section = NULL;
        if (policy) {
                _cleanup_free_ char *data = NULL;
                size_t size = 0;
                struct perrors errs = { 0 };
                int r = read_file_capped(policy, 1 << 20, &data, &size);
                if (r < 0)
                        return log_error_errno(r, "cannot read %s", policy), 1;
                if (ptree_parse(policy, data, size, &tree, &errs) < 0 || !tree->root) {
                        fprintf(stderr, "%s\n", perrors_first(&errs) ? perrors_first(&errs) : "empty policy");
                        return 1;
                }
                section = pmap_get(tree->root, "vdi");
                if (sekisho_plugin_vdi.check(section, &errs) > 0) {
                        for (size_t i = 0; i < errs.n; i++)
                                fprintf(stderr, "%s\n", errs.msgs[i]);
                        return 1;
                }
                perrors_clear(&errs);
        }

        struct sekisho ctx = { .env = { .state_dir = "/nonexistent", .sysroot = sysroot, .test_mode = true } };
        if (audit && !(ctx.audit = fopen(audit, "ae")))
                return log_error_errno(-errno, "cannot open %s", audit), 1;
        if (loop_new(&ctx.loop) < 0)
                return 1;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        struct harness h = { .ctx = &ctx, .status_file = status };
        struct loop_source *ss = NULL;
        loop_add_io(ctx.loop, sfd, EPOLLIN, on_signal, &h, &ss);

        int r = sekisho_plugin_vdi.init(&ctx, &h.state);
        if (r < 0)
                return log_error_errno(r, "vdi init failed"), 1;
        r = sekisho_plugin_vdi.apply(h.state, section);
        if (r < 0)
                log_error_errno(r, "vdi apply");
        fprintf(stderr, "vdi-harness: enforcing\n");
        dump_status(&h);
        loop_run(ctx.loop);
        sekisho_plugin_vdi.shutdown(h.state);
        loop_source_free(ss);
        close(sfd);
        loop_free(ctx.loop);
        ptree_free(tree);
        if (ctx.audit)
                fclose(ctx.audit);
        return 0;
}
