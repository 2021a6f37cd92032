/* demo.c — a test-only plugin: writes the section it was given to a file, so tests can see profiles and re-application. */
#include "config.h"

#include <string.h>

#include "plugin.h"
#include "util.h"

/* Section "demo:" (test only, started only when named in --plugins):
 *   label: text written to STATE/demo/applied
 *   level: 0..10
 *   request-profile: a profile this plugin asks the core to activate
 *   fail-apply: true makes apply fail, to test the core's runtime revert */
static const struct pkey demo_keys[] = {
        { "label", PT_STRING },
        { "level", PT_INT, .min = 0, .max = 10 },
        { "request-profile", PT_STRING },
        { "fail-apply", PT_BOOL },
        { NULL },
};

struct demo {
        struct sekisho_plugin_handle *h;
        char *path;
        unsigned applied;
        char label[128];
};

static size_t demo_check(const struct pnode *section, struct perrors *errs) {
        return pmap_check(section, demo_keys, errs);
}

static int demo_init(struct sekisho_plugin_handle *h, void **ret_state) {
        struct demo *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->h = h;
        _cleanup_free_ char *dir = path_join(sekisho_env(h)->state_dir, "demo");
        if (!dir || !(d->path = path_join(dir, "applied"))) {
                free(d);
                return -ENOMEM;
        }
        int r = mkdir_p(dir, 0700);
        if (r < 0) {
                free(d->path);
                free(d);
                return r;
        }
        *ret_state = d;
        return 0;
}


static int demo_apply(void *state, const struct pnode *section) {
        struct demo *d = state;
        const char *label = pnode_str(pmap_get(section, "label"));
        const char *level = pnode_str(pmap_get(section, "level"));
        const char *want = pnode_str(pmap_get(section, "request-profile"));
        bool fail = false;
        pnode_bool(pmap_get(section, "fail-apply"), &fail);
        if (fail)
                return -EIO;
        char buf[512];
        int n = snprintf(buf, sizeof buf, "label=%s\nlevel=%s\ncount=%u\n", label ? label : "(none)",
                         level ? level : "0", ++d->applied);
        snprintf(d->label, sizeof d->label, "%s", label ? label : "(none)");
        int r = write_file_atomic(d->path, buf, (size_t)n, 0600);
        if (r < 0)
                return r;
        if (want)
                sekisho_profile_request(d->h, want, true, "requested by the demo policy");
        return 0;
}

static void demo_status(void *state, struct kvlist *out) {
        struct demo *d = state;
        kvlist_add(out, "label", "%s", d->label);
        kvlist_add(out, "applied", "%u", d->applied);
}

static void demo_shutdown(void *state) {
        struct demo *d = state;
        free(d->path);
        free(d);
}

SEKISHO_PLUGIN_DEFINE(demo,
        .section = "demo",
        .summary = "test-only plugin that records the section it enforces",
        .test_only = true,
        .check = demo_check,
        .init = demo_init,
        .apply = demo_apply,
        .status = demo_status,
        .shutdown = demo_shutdown);
