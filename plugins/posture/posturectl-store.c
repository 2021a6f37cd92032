/* posturectl-store.c — `sekishoctl posture` on the policy in force: finds it in the store the way the daemon does at start, then runs the offline report. */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "posturectl.h"
#include "util.h"

int posture_ctl_installed(int argc, char *argv[], const char *state_dir, const char *keys_dir, const char *config) {
        struct perrors errs = { 0 };
        struct sekisho_conf conf = { 0 };
        struct keyring keys = { 0 };
        struct store *s = NULL;
        struct store_choice ch = { 0 };
        const struct pnode *section = NULL;

        /* --policy FILE needs no store. */
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--policy") == 0 || strncmp(argv[i], "--policy=", 9) == 0)
                        return posture_ctl_main(argc, argv, NULL, NULL, stdout, stderr);

        conf_load(config, &conf, &errs);
        keyring_load(keys_dir, &keys, &errs);
        perrors_clear(&errs);
        if (store_open(state_dir, false, &s) == 0 && store_choose(s, &keys, &conf, now_unix(), &ch) == 0 && ch.policy &&
            ch.policy->tree && ch.policy->tree->root)
                section = pmap_get(ch.policy->tree->root, "posture");
        else {
                /* No readable store: the embedded default is what the daemon would enforce. */
                policy_free(ch.policy);
                ch.policy = NULL;
                if (policy_embedded(&ch.policy) == 0 && ch.policy->tree && ch.policy->tree->root)
                        section = pmap_get(ch.policy->tree->root, "posture");
        }
        char name[64] = "embedded default";
        if (ch.policy && ch.source && strcmp(ch.source, "embedded") != 0)
                snprintf(name, sizeof name, "%s serial %llu", ch.source, (unsigned long long)ch.policy->serial);
        int r = posture_ctl_main(argc, argv, section, name, stdout, stderr);
        policy_free(ch.policy);
        store_close(s);
        keyring_done(&keys);
        conf_done(&conf);
        return r;
}
