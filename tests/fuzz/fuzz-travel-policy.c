/* fuzz-travel-policy.c — libFuzzer target: a YAML document whose travel: section goes through the checker and, if clean, the parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ptree.h"
#include "travel.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        if (ptree_parse("fuzz.yaml", (const char *)data, size, &t, &errs) == 0 && t && t->root) {
                const struct pnode *sec = pmap_get(t->root, "travel");
                if (travel_policy_check(sec, &errs) == 0) {
                        struct travel_policy p;
                        if (travel_policy_parse(sec, &p) == 0) {
                                struct travel_state s;
                                struct travel_eval e;
                                travel_state_init(&s);
                                for (int64_t now = 1700000000; now < 1900000000; now += 50000000) {
                                        struct travel_inputs in = { .now = now, .home_proven = true };
                                        travel_evaluate(&s, &p, &in, &e);
                                }
                                travel_policy_clear(&p);
                        }
                }
        }
        perrors_clear(&errs);
        ptree_free(t);
        return 0;
}
