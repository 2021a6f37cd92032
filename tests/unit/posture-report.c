/* posture-report.c — a stand-alone `sekishoctl posture` for tests and demos until the verb is wired into sekishoctl. */
#include "config.h"

#include "default-fragment.h"
#include "posturectl.h"
#include "util.h"

/* The plugin's default fragment stands for the policy in force and for what a --policy file is merged over. */
int main(int argc, char *argv[]) {
        log_setup("posture-report", false);
        struct ptree *d = default_fragment("posture");
        if (!d) {
                fprintf(stderr, "posture-report: cannot read plugins/posture/default.yaml (set top_srcdir)\n");
                return 2;
        }
        const struct pnode *sec = pmap_get(d->root, "posture");
        int r = posture_ctl_main(argc, argv, sec, "embedded default", sec, stdout, stderr);
        ptree_free(d);
        return r;
}
