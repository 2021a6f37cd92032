/* usbctl-store.c — "sekishoctl usb ...": the usb verbs, deciding under the policy this terminal has in force (kept apart so the plugin's tests need no store). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "policy.h"
#include "usbctl.h"

int usb_ctl(const struct sekisho_ctl_env *env, int argc, char **argv) {
        /* argv[0] is "usb" */
        bool own_policy = false;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--policy") == 0)
                        own_policy = true;
        if (argc < 2 || strcmp(argv[1], "list") != 0 || own_policy)
                return usbctl_main(argc - 1, argv + 1, NULL);

        struct store_choice ch;
        struct ptree *section = NULL;
        if (policy_in_force(env->state_dir, env->keys_dir, env->config, &ch, NULL, NULL) < 0 ||
            policy_effective_section(ch.policy, "usb", NULL, 0, &section) < 0) {
                policy_free(ch.policy);
                fprintf(stderr, "sekishoctl usb: no policy to decide with\n");
                return 3;
        }
        printf("# decisions under the %s policy (serial %llu)\n", ch.source, (unsigned long long)ch.policy->serial);
        int r = usbctl_main(argc - 1, argv + 1, section->root);
        ptree_free(section);
        policy_free(ch.policy);
        return r;
}
