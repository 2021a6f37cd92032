/* posturectl-store.c — `sekishoctl posture` on the policy in force: finds it in the store the way the daemon does at start, then runs the offline report. */
#include "config.h"

#include <string.h>

#include "plugin.h"
#include "policy.h"
#include "posturectl.h"
#include "util.h"

int posture_ctl_installed(int argc, char *argv[], const char *state_dir, const char *keys_dir, const char *config) {
        /* --policy FILE needs no store. */
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--policy") == 0 || strncmp(argv[i], "--policy=", 9) == 0)
                        return posture_ctl_main(argc, argv, NULL, NULL, stdout, stderr);

        struct store_choice ch;
        struct ptree *section = NULL;
        if (policy_in_force(state_dir, keys_dir, config, &ch, NULL, NULL) < 0 ||
            policy_effective_section(ch.policy, "posture", NULL, 0, &section) < 0) {
                policy_free(ch.policy);
                fprintf(stderr, "sekishoctl posture: no policy to evaluate\n");
                return 3;
        }
        char name[64] = "embedded default";
        if (strcmp(ch.source, "embedded") != 0)
                snprintf(name, sizeof name, "%s serial %llu", ch.source, (unsigned long long)ch.policy->serial);
        int r = posture_ctl_main(argc, argv, section->root, name, stdout, stderr);
        ptree_free(section);
        policy_free(ch.policy);
        return r;
}

int posture_ctl(const struct sekisho_ctl_env *env, int argc, char **argv) {
        return posture_ctl_installed(argc, argv, env->state_dir, env->keys_dir, env->config);
}
