/* fuzz-policy.c — libFuzzer target for the policy loader: YAML tree, header, every built-in plugin's section check, profiles. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"
#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct perrors errs = { 0 };
        struct policy *p = NULL;
        if (policy_parse("fuzz.yaml", (const char *)data, size, &p, &errs) == 0) {
                /* Exercise what the daemon does with a valid policy: every profile merged over every section. */
                const struct pnode *profiles = policy_profiles(p);
                char *active[8];
                size_t n = 0;
                for (size_t i = 0; i < pmap_len(profiles) && n < 8; i++)
                        active[n++] = pmap_key(profiles, i)->scalar;
                for (const struct sekisho_plugin *const *pl = sekisho_builtin_plugins; *pl; pl++) {
                        struct ptree *eff = NULL;
                        if (policy_effective_section(p, (*pl)->section, active, n, &eff) == 0)
                                ptree_free(eff);
                }
        }
        perrors_clear(&errs);
        policy_free(p);
        return 0;
}
