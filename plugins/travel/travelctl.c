/* travelctl.c — `sekishoctl travel status|plan`: the travel state, pending reset and reset journal, read from the state directory (works without a daemon). */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "plugin.h"
#include "travel.h"
#include "util.h"

static void kvline(FILE *out, bool json, bool *first, const char *key, const char *value) {
        if (json) {
                fputs(*first ? "{" : ",", out);
                json_write_string(out, key);
                fputc(':', out);
                json_write_string(out, value);
        } else
                fprintf(out, "%-16s %s\n", key, value);
        *first = false;
}

/* Exit-code style return: 0 ok, -ENOENT nothing recorded yet (reported as
 * home), other -errno unreadable state. */
int travelctl_status(const char *state_dir, bool json, FILE *out) {
        _cleanup_free_ char *dir = path_join(state_dir, "travel");
        _cleanup_free_ char *sp = dir ? path_join(dir, TRAVEL_STATE_FILE) : NULL;
        _cleanup_free_ char *jp = dir ? path_join(dir, TRAVEL_JOURNAL_FILE) : NULL;
        if (!sp || !jp)
                return -ENOMEM;
        struct travel_state s;
        int r = travel_state_load(sp, &s);
        if (r == -ENOENT)
                travel_state_init(&s);
        else if (r < 0) {
                fprintf(stderr, "%s: unreadable travel state: %s\n", sp, strerror(-r));
                return r;
        }
        bool first = true;
        char buf[64];
        kvline(out, json, &first, "state", travel_phase_name(s.phase));
        if (s.trip[0]) {
                kvline(out, json, &first, "trip", s.trip);
                kvline(out, json, &first, "destination", s.destination);
                kvline(out, json, &first, "risk", s.high_risk ? "high" : "normal");
                format_rfc3339(s.trip_end, buf);
                kvline(out, json, &first, "trip-end", buf);
        }
        if (s.since) {
                format_rfc3339(s.since, buf);
                kvline(out, json, &first, "since", buf);
        }
        if (s.phase == TRAVEL_RESET_PENDING) {
                format_rfc3339(s.deadline, buf);
                kvline(out, json, &first, "reset-deadline", buf);
                int64_t left = s.deadline - now_unix();
                snprintf(buf, sizeof buf, "%lld", (long long)(left > 0 ? left : 0));
                kvline(out, json, &first, "seconds-left", buf);
                kvline(out, json, &first, "reset-requested", s.reset_requested ? "yes" : "no");
                kvline(out, json, &first, "sessions-locked", s.sessions_locked ? "yes" : "no");
        }
        if (s.hold[0])
                kvline(out, json, &first, "held", s.hold);
        snprintf(buf, sizeof buf, "%zu", s.n_done);
        kvline(out, json, &first, "trips-finished", buf);

        struct kvlist j = { 0 };
        if (kv_load(jp, &j) == 0) {
                size_t done = 0, failed = 0;
                for (size_t i = 0; i < j.n; i++) {
                        done += strcmp(j.keys[i], "done") == 0;
                        failed += strcmp(j.keys[i], "failed") == 0;
                }
                const char *intent = kvlist_get(&j, "intent");
                snprintf(buf, sizeof buf, "%s, %zu step(s) done, %zu failure(s)",
                         kvlist_get(&j, "complete") ? "complete" : "in progress", done, failed);
                kvline(out, json, &first, "reset-journal", buf);
                if (intent)
                        kvline(out, json, &first, "reset-trip", intent);
                kvlist_clear(&j);
        }
        if (json)
                fputs("}\n", out);
        return 0;
}

int travelctl_plan(const char *state_dir, FILE *out) {
        _cleanup_free_ char *dir = path_join(state_dir, "travel");
        _cleanup_free_ char *pp = dir ? path_join(dir, TRAVEL_PLAN_FILE) : NULL;
        _cleanup_free_ char *jp = dir ? path_join(dir, TRAVEL_JOURNAL_FILE) : NULL;
        if (!pp || !jp)
                return -ENOMEM;
        /* A reset in progress runs the plan in its journal, not the plan file. */
        struct kvlist kv = { 0 };
        const char *from = jp;
        int r = kv_load(jp, &kv);
        if (r < 0 || kvlist_get(&kv, "complete")) {
                kvlist_clear(&kv);
                from = pp;
                r = kv_load(pp, &kv);
        }
        if (r == -ENOENT) {
                fprintf(out, "no reset plan: no reset is pending on this terminal\n");
                return 0;
        }
        if (r < 0) {
                fprintf(stderr, "%s: unreadable: %s\n", from, strerror(-r));
                return r;
        }
        struct reset_plan plan;
        r = reset_plan_from_kv(&kv, &plan);
        if (r < 0) {
                fprintf(stderr, "%s: invalid reset plan: %s\n", from, strerror(-r));
                kvlist_clear(&kv);
                return r;
        }
        const char *trip = kvlist_get(&kv, from == jp ? "intent" : "trip");
        fprintf(out, "reset plan for trip %s (%s):\n", trip ? trip : "?", from);
        reset_plan_print(&plan, out);
        reset_plan_clear(&plan);
        kvlist_clear(&kv);
        return 0;
}

const char travel_ctl_usage[] =
        "  travel status [--json]          trip, risk, reset deadline and the reset's progress\n"
        "  travel plan                     what a factory reset would do (or is doing)\n";

/* `sekishoctl travel status [--json] | plan`: offline, from the state directory. */
int travel_ctl(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv) {
        (void)section; /* status and plan read the plugin's state, which the daemon keeps */
        bool json = false;
        const char *verb = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (!verb)
                        verb = argv[i];
                else
                        verb = "";
        }
        if (verb && strcmp(verb, "status") == 0)
                return travelctl_status(env->state_dir, json, stdout) < 0 ? 1 : 0;
        if (verb && strcmp(verb, "plan") == 0 && !json)
                return travelctl_plan(env->state_dir, stdout) < 0 ? 1 : 0;
        fprintf(stderr, "Usage: sekishoctl travel status [--json] | plan\n");
        return 2;
}
