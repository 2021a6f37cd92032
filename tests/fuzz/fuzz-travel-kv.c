/* fuzz-travel-kv.c — libFuzzer target: the key=value parser behind the travel state, reset plan and reset journal files. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "travel.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kvlist kv;
        if (kv_parse((const char *)data, size, &kv) < 0)
                return 0;
        struct travel_state s;
        if (travel_state_from_kv(&kv, &s) == 0) {
                char *out;
                size_t n;
                if (travel_state_format(&s, &out, &n) == 0)
                        free(out);
        }
        struct reset_plan p;
        if (reset_plan_from_kv(&kv, &p) == 0) {
                char *out;
                size_t n;
                if (reset_plan_format(&p, kvlist_get(&kv, "trip"), &out, &n) == 0)
                        free(out);
                reset_plan_clear(&p);
        }
        int64_t v;
        (void)kv_get_i64(&kv, "deadline", &v);
        kvlist_clear(&kv);
        return 0;
}
