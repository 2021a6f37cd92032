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
#include "stub-core.h"
#include "util.h"

extern const struct sekisho_plugin sekisho_plugin_vdi;

/* The audit and signal lines, as JSON with a monotonic time stamp. */
struct audit_out {
        FILE *f;
        unsigned long seq;
};

static void write_record(struct sekisho_plugin_handle *core, const char *kind, const char *event, const char *clause,
                         const struct audit_field *fields) {
        struct audit_out *o = core->userdata;
        if (!o->f || strcmp(kind, "profile") == 0)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(o->f, "{\"seq\":%lu,\"mono_ns\":%lld,\"%s\":\"%s\"", ++o->seq,
                (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec, strcmp(kind, "audit") == 0 ? "event" : kind, event);
        if (clause)
                fprintf(o->f, ",\"clause\":\"%s\"", clause);
        for (const struct audit_field *f = fields; f && f->name; f++) {
                fprintf(o->f, ",\"%s\":", f->name);
                json_write_string(o->f, f->value ? f->value : "");
        }
        fprintf(o->f, "}\n");
        fflush(o->f);
}

struct harness {
        struct sekisho_plugin_handle *core;
        void *state;
        const char *status_file;
};

static void dump_status(struct harness *h) {
        struct kvlist kv = { 0 };
        sekisho_plugin_vdi.status(h->state, &kv);
        FILE *f = h->status_file ? fopen(h->status_file, "we") : stderr;
        for (size_t i = 0; f && i < kv.n; i++)
                fprintf(f, "%s: %s\n", kv.keys[i], kv.values[i]);
        /* The network claims the plugin made, as the net plugin would see them. */
        const struct sekisho_net_claim *c;
        size_t n = sekisho_net_claims(h->core, &c);
        for (size_t i = 0; f && i < n; i++)
                fprintf(f, "claim: %s %s %u-%u %s\n", c[i].owner, c[i].destination, c[i].port_lo, c[i].port_hi, c[i].cgroup);
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
                loop_quit(h->core->loop, 0);
        return 0;
}

int main(int argc, char **argv) {
        const char *policy = NULL, *sysroot = "/", *audit = NULL, *status = NULL, *state = "/nonexistent";
        static const struct option lo[] = {
                { "policy", required_argument, NULL, 'p' }, { "sysroot", required_argument, NULL, 'r' },
                { "audit", required_argument, NULL, 'a' },  { "status", required_argument, NULL, 's' },
                { "state", required_argument, NULL, 'd' },  { NULL, 0, NULL, 0 },
        };
        for (int c; (c = getopt_long(argc, argv, "", lo, NULL)) != -1;)
                switch (c) {
                case 'p': policy = optarg; break;
                case 'r': sysroot = optarg; break;
                case 'a': audit = optarg; break;
                case 's': status = optarg; break;
                case 'd': state = optarg; break;
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

        struct audit_out out = { 0 };
        if (audit && !(out.f = fopen(audit, "ae")))
                return log_error_errno(-errno, "cannot open %s", audit), 1;
        struct sekisho_plugin_handle *core;
        if (stub_core_new(&sekisho_plugin_vdi, state, sysroot, &core) < 0)
                return 1;
        core->no_records = true;
        core->on_record = write_record;
        core->userdata = &out;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        struct harness h = { .core = core, .status_file = status };
        struct loop_source *ss = NULL;
        loop_add_io(core->loop, sfd, EPOLLIN, on_signal, &h, &ss);

        int r = sekisho_plugin_vdi.init(core, &h.state);
        if (r < 0)
                return log_error_errno(r, "vdi init failed"), 1;
        r = sekisho_plugin_vdi.apply(h.state, section);
        if (r < 0)
                log_error_errno(r, "vdi apply");
        fprintf(stderr, "vdi-harness: enforcing\n");
        dump_status(&h);
        loop_run(core->loop);
        sekisho_plugin_vdi.shutdown(h.state);
        loop_source_free(ss);
        close(sfd);
        stub_core_free(core);
        ptree_free(tree);
        if (out.f)
                fclose(out.f);
        return 0;
}
