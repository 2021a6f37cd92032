/* test-travel-state.c — the travel state machine: pure transitions, and the plugin driven by a stub core (profile, audit, signals, persistence across restarts). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "plugin.h"
#include "ptree.h"
#include "stub-core.h"
#include "travel.h"
#include "util.h"

#define DAY 86400
#define T0 1800000000 /* 2027-01-15 */

static struct travel_trip trip(const char *id, const char *dest, bool high, int64_t start, int64_t end) {
        struct travel_trip t = { .start = start, .end = end, .high_risk = high };
        snprintf(t.id, sizeof t.id, "%s", id);
        snprintf(t.destination, sizeof t.destination, "%s", dest);
        return t;
}

static struct travel_policy policy(struct travel_trip *trips, size_t n, bool reset) {
        struct travel_policy p = { .trips = trips, .n_trips = n, .reset = reset, .grace = DAY, .probe_interval = 60,
                                   .have_pin = true };
        strcpy(p.profile, "travel");
        strcpy(p.server, "192.0.2.10:443");
        return p;
}

static void eval(struct travel_state *s, const struct travel_policy *p, int64_t now, bool home, bool done,
                 struct travel_eval *e) {
        struct travel_inputs in = { .now = now, .home_proven = home, .reset_complete = done };
        travel_evaluate(s, p, &in, e);
}

static void test_full_cycle(void **state) {
        struct travel_trip trips[] = { trip("t1", "CN", true, T0 + DAY, T0 + 10 * DAY) };
        struct travel_policy p = policy(trips, 1, true);
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);

        eval(&s, &p, T0, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_HOME);
        assert_int_equal(e.n, 0);
        assert_false(e.want_profile);
        assert_int_equal(e.next_wakeup, T0 + DAY);

        eval(&s, &p, T0 + DAY, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_int_equal(e.n, 1);
        assert_string_equal(e.t[0].trip, "t1");
        assert_true(e.want_profile);
        assert_false(e.want_probe);
        assert_int_equal(e.next_wakeup, T0 + 10 * DAY);

        /* home network proven before the trip ends: does not count */
        eval(&s, &p, T0 + 5 * DAY, true, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);

        /* trip over, no evidence: keep travelling and probe */
        eval(&s, &p, T0 + 11 * DAY, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_true(e.want_probe);
        assert_true(e.want_profile);

        /* pinned handshake succeeded: returned -> reset-pending */
        eval(&s, &p, T0 + 11 * DAY, true, false, &e);
        assert_int_equal(e.n, 2);
        assert_int_equal(e.t[0].to, TRAVEL_RETURNED);
        assert_int_equal(e.t[1].to, TRAVEL_RESET_PENDING);
        assert_int_equal(s.phase, TRAVEL_RESET_PENDING);
        assert_int_equal(s.deadline, T0 + 12 * DAY);
        assert_true(e.want_profile); /* USB stays blocked until the reset */
        assert_false(e.want_reset);
        assert_int_equal(e.next_wakeup, T0 + 12 * DAY);

        eval(&s, &p, T0 + 12 * DAY, false, false, &e);
        assert_true(e.want_reset);
        s.reset_requested = true;

        /* a newer policy cannot cancel once the reset was ordered */
        p.reset = false;
        eval(&s, &p, T0 + 12 * DAY + 5, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_RESET_PENDING);
        assert_true(e.want_reset);
        p.reset = true;

        eval(&s, &p, T0 + 12 * DAY + 60, false, true, &e);
        assert_int_equal(s.phase, TRAVEL_RESET_DONE);
        assert_false(e.want_profile);
        assert_true(travel_state_trip_done(&s, "t1"));

        /* the finished trip never starts again */
        eval(&s, &p, T0 + 13 * DAY, true, false, &e);
        assert_int_equal(s.phase, TRAVEL_RESET_DONE);
        assert_int_equal(e.n, 0);
}

static void test_cancel_in_grace(void **state) {
        struct travel_trip trips[] = { trip("t1", "RU", true, T0, T0 + DAY) };
        struct travel_policy p = policy(trips, 1, true);
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);
        eval(&s, &p, T0 + 2 * DAY, true, false, &e); /* home -> travelling -> returned -> reset-pending */
        assert_int_equal(s.phase, TRAVEL_RESET_PENDING);
        assert_int_equal(e.n, 3);
        trips[0].cancelled = true; /* the newer signed bundle */
        eval(&s, &p, T0 + 2 * DAY + 10, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_HOME);
        assert_int_equal(e.n, 1);
        assert_non_null(strstr(e.t[0].reason, "cancelled"));
        assert_false(e.want_profile);
        assert_false(e.want_reset);
}

static void test_normal_risk_and_no_reset(void **state) {
        struct travel_trip trips[] = { trip("paris", "FR", false, T0, T0 + DAY), trip("beijing", "CN", true, T0 + 2 * DAY, T0 + 3 * DAY) };
        struct travel_policy p = policy(trips, 2, false);
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);
        eval(&s, &p, T0 + 1, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_false(e.want_profile); /* normal risk: no travel profile */
        eval(&s, &p, T0 + DAY + 1, true, false, &e);
        assert_int_equal(s.phase, TRAVEL_HOME);
        assert_int_equal(e.t[e.n - 1].to, TRAVEL_HOME);
        eval(&s, &p, T0 + 2 * DAY + 1, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_true(e.want_profile);
        /* policy does not ask for a reset: home, never reset-pending */
        eval(&s, &p, T0 + 4 * DAY, true, false, &e);
        assert_int_equal(s.phase, TRAVEL_HOME);
        for (size_t i = 0; i < e.n; i++)
                assert_int_not_equal(e.t[i].to, TRAVEL_RESET_PENDING);
}

static void test_signed_return(void **state) {
        struct travel_trip trips[] = { trip("t1", "KP", true, T0, T0 + DAY) };
        struct travel_policy p = policy(trips, 1, true);
        p.have_pin = false;
        p.server[0] = 0;
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);
        eval(&s, &p, T0 + 2 * DAY, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_true(e.want_probe);
        trips[0].returned = true;
        eval(&s, &p, T0 + 2 * DAY, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_RESET_PENDING);
        assert_non_null(strstr(e.t[0].reason, "signed policy"));
}

static void test_clock_far_off(void **state) {
        struct travel_trip trips[] = { trip("t1", "CN", true, T0, T0 + 10 * DAY) };
        struct travel_policy p = policy(trips, 1, true);
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);
        eval(&s, &p, T0 + DAY, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        /* clock set back a year: the trip does not end, nothing is undone */
        eval(&s, &p, T0 - 365 * DAY, true, false, &e);
        assert_true(e.clock_back);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_true(e.want_profile);
        assert_non_null(strstr(s.hold, "behind"));
        assert_int_equal(s.last_wall, T0 + DAY);

        /* a clock set back before the trip began cannot avoid it either */
        struct travel_state s2;
        travel_state_init(&s2);
        s2.last_wall = T0 + DAY;
        eval(&s2, &p, T0 - DAY, false, false, &e);
        assert_true(e.clock_back);
        assert_int_equal(s2.phase, TRAVEL_TRAVELLING);

        /* a clock set far forward ends the trip on paper, but return still needs the pinned handshake */
        struct travel_state s3;
        travel_state_init(&s3);
        eval(&s3, &p, T0 + 1, false, false, &e);
        eval(&s3, &p, T0 + 900 * DAY, false, false, &e);
        assert_int_equal(s3.phase, TRAVEL_TRAVELLING);
        assert_true(e.want_probe);
        assert_false(e.want_reset);
}

static void test_trip_removed_keeps_snapshot(void **state) {
        struct travel_trip trips[] = { trip("t1", "CN", true, T0, T0 + DAY) };
        struct travel_policy p = policy(trips, 1, true);
        struct travel_state s;
        struct travel_eval e;
        travel_state_init(&s);
        eval(&s, &p, T0 + 1, false, false, &e);
        struct travel_policy empty = policy(NULL, 0, true);
        eval(&s, &empty, T0 + 2, false, false, &e);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING); /* dropping a trip from the list is not a cancellation */
        assert_true(e.want_profile);
        eval(&s, &empty, T0 + 2 * DAY, true, false, &e);
        assert_int_equal(s.phase, TRAVEL_RESET_PENDING);
}

/* ---- the plugin with a stub core ---- */

extern const struct sekisho_plugin sekisho_plugin_travel;

static const char doc[] =
        "travel:\n"
        "  high-risk-regions: [CN]\n"
        "  trips:\n"
        "    - {id: trip-1, destination: CN, start: 2027-01-10T00:00:00Z, end: 2027-01-20T00:00:00Z}\n"
        "  return:\n"
        "    reset: true\n"
        "    grace: 2h\n"
        "    home-server: 127.0.0.1:9\n"
        "    spki-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        "  reset-plan:\n"
        "    wipe-directories: [/srv/x]\n"
        "    restore: [/bin/true]\n"
        "    reboot: false\n";

static void apply_doc(void *st, const char *text) {
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        assert_int_equal(ptree_parse("p.yaml", text, strlen(text), &t, &errs), 0);
        assert_int_equal(sekisho_plugin_travel.check(pmap_get(t->root, "travel"), &errs), 0);
        assert_int_equal(sekisho_plugin_travel.apply(st, pmap_get(t->root, "travel")), 0);
        ptree_free(t);
}

static void test_plugin_persistence(void **state) {
        char dir[] = "/tmp/test-travel-XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct sekisho_plugin_handle *ctx;
        assert_int_equal(stub_core_new(&sekisho_plugin_travel, dir, "/nonexistent-sysroot", &ctx), 0);
        void *st = NULL;

        setenv("SEKISHO_TEST_NOW", "2027-01-05T00:00:00Z", 1);
        assert_int_equal(sekisho_plugin_travel.init(ctx, &st), 0);
        apply_doc(st, doc);
        assert_false(ctx->profile_active);
        assert_int_equal(stub_count(ctx, "audit", "travel-state", NULL), 0);

        setenv("SEKISHO_TEST_NOW", "2027-01-11T00:00:00Z", 1);
        apply_doc(st, doc);
        assert_true(ctx->profile_active);
        assert_string_equal(ctx->profile, "travel");
        assert_int_equal(stub_count(ctx, "audit", "travel-state", "to=travelling"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelStateChanged", "to=travelling"), 1);
        assert_true(ctx->status_changes > 0);
        /* applying again is idempotent: no new transition, no new request */
        size_t n = ctx->n_rec;
        apply_doc(st, doc);
        assert_int_equal(ctx->n_rec, n);

        struct kvlist kl = { 0 };
        sekisho_plugin_travel.status(st, &kl);
        assert_string_equal(kl.keys[0], "state");
        assert_string_equal(kl.values[0], "travelling");
        kvlist_clear(&kl);

        /* restart: the state survives */
        sekisho_plugin_travel.shutdown(st);
        stub_core_free(ctx);
        assert_int_equal(stub_core_new(&sekisho_plugin_travel, dir, "/nonexistent-sysroot", &ctx), 0);
        assert_int_equal(sekisho_plugin_travel.init(ctx, &st), 0);
        apply_doc(st, doc);
        assert_true(ctx->profile_active);
        assert_int_equal(stub_count(ctx, "audit", "travel-state", NULL), 0); /* no transition replayed */

        /* clock set back: audited, still travelling */
        setenv("SEKISHO_TEST_NOW", "2026-01-01T00:00:00Z", 1);
        apply_doc(st, doc);
        assert_int_equal(stub_count(ctx, "audit", "travel-clock", NULL), 1);
        assert_true(ctx->profile_active);

        char path[512];
        snprintf(path, sizeof path, "%s/travel/state", dir);
        struct travel_state s;
        assert_int_equal(travel_state_load(path, &s), 0);
        assert_int_equal(s.phase, TRAVEL_TRAVELLING);
        assert_string_equal(s.trip, "trip-1");

        /* a corrupt state file is moved aside and audited; the due trip comes back */
        sekisho_plugin_travel.shutdown(st);
        stub_core_free(ctx);
        assert_int_equal(write_file_atomic(path, "garbage\x01", 8, 0600), 0);
        setenv("SEKISHO_TEST_NOW", "2027-01-12T00:00:00Z", 1);
        assert_int_equal(stub_core_new(&sekisho_plugin_travel, dir, "/nonexistent-sysroot", &ctx), 0);
        assert_int_equal(sekisho_plugin_travel.init(ctx, &st), 0);
        assert_int_equal(stub_count(ctx, "audit", "travel-state-corrupt", NULL), 1);
        apply_doc(st, doc);
        assert_true(ctx->profile_active);

        /* a policy that renames the profile: the old name is released, the new one requested */
        char renamed[sizeof doc + 32];
        snprintf(renamed, sizeof renamed, "travel:\n  profile: abroad\n%s", doc + strlen("travel:\n"));
        apply_doc(st, renamed);
        assert_int_equal(stub_count(ctx, "profile", "travel", "active=no"), 1);
        assert_int_equal(stub_count(ctx, "profile", "abroad", "active=yes"), 1);
        assert_string_equal(ctx->profile, "abroad");

        sekisho_plugin_travel.shutdown(st);
        stub_core_free(ctx);
        unsetenv("SEKISHO_TEST_NOW");
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* The reset-pending notice names the time left and whom to call; ordering
 * the reset names it with a fresh id, kept in the state and the plan. */
static void test_contact_and_reset_id(void **state) {
        char dir[] = "/tmp/test-travel-XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct sekisho_plugin_handle *ctx;
        assert_int_equal(stub_core_new(&sekisho_plugin_travel, dir, "/nonexistent-sysroot", &ctx), 0);
        void *st = NULL;
        static const char returned[] =
                "travel:\n"
                "  high-risk-regions: [CN]\n"
                "  trips:\n"
                "    - {id: trip-1, destination: CN, start: 2027-01-10T00:00:00Z, end: 2027-01-20T00:00:00Z, returned: true}\n"
                "  return:\n"
                "    reset: true\n"
                "    grace: 2h\n"
                "    home-server: 127.0.0.1:9\n"
                "    spki-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
                "  reset-plan:\n"
                "    wipe-directories: [/srv/x]\n"
                "    restore: [/bin/true]\n"
                "    ack-timeout: 30m\n"
                "    contact: 情報政策課 内線1234\n";
        setenv("SEKISHO_TEST_NOW", "2027-01-21T00:00:00Z", 1);
        assert_int_equal(sekisho_plugin_travel.init(ctx, &st), 0);
        apply_doc(st, returned);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "seconds-left=7200"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "contact=情報政策課 内線1234"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "お問い合わせ先: 情報政策課 内線1234"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "in 2 h 0 min"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "Questions: call 情報政策課 内線1234."), 1);

        char path[512];
        struct travel_state s;
        snprintf(path, sizeof path, "%s/travel/state", dir);
        assert_int_equal(travel_state_load(path, &s), 0);
        assert_string_equal(s.reset_id, "");                 /* not before the reset is ordered */
        assert_string_equal(s.return_proof, "signed-policy");

        setenv("SEKISHO_TEST_NOW", "2027-01-21T03:00:00Z", 1);
        apply_doc(st, returned);
        assert_int_equal(travel_state_load(path, &s), 0);
        assert_true(s.reset_requested);
        assert_true(reset_id_ok(s.reset_id));
        struct kvlist status = { 0 };
        sekisho_plugin_travel.status(st, &status);
        assert_string_equal(kvlist_get(&status, "reset-id"), s.reset_id);
        kvlist_clear(&status);
        struct kvlist kv = { 0 };
        struct reset_plan plan;
        snprintf(path, sizeof path, "%s/travel/reset-plan", dir);
        assert_int_equal(kv_load(path, &kv), 0);
        assert_int_equal(reset_plan_from_kv(&kv, &plan), 0);
        assert_string_equal(plan.reset_id, s.reset_id);
        assert_int_equal(plan.ack_timeout, 1800);
        reset_plan_clear(&plan);
        kvlist_clear(&kv);

        sekisho_plugin_travel.shutdown(st);
        stub_core_free(ctx);
        unsetenv("SEKISHO_TEST_NOW");
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* A time-zone change is a weak signal: audited and noticed, never a transition. */
static void test_weak_signal_timezone(void **state) {
        char dir[] = "/tmp/test-travel-tz-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char etc[512], lt[600], tmp[600];
        snprintf(etc, sizeof etc, "%s/etc", dir);
        snprintf(lt, sizeof lt, "%s/localtime", etc);
        snprintf(tmp, sizeof tmp, "%s/.localtime.tmp", etc);
        assert_int_equal(mkdir(etc, 0755), 0);
        assert_int_equal(symlink("/usr/share/zoneinfo/Asia/Tokyo", lt), 0);
        struct sekisho_plugin_handle *ctx;
        assert_int_equal(stub_core_new(&sekisho_plugin_travel, dir, "/nonexistent-sysroot", &ctx), 0);
        ctx->env.sysroot = dir;
        setenv("SEKISHO_TEST_NOW", "2027-01-11T00:00:00Z", 1);
        void *st;
        assert_int_equal(sekisho_plugin_travel.init(ctx, &st), 0);
        apply_doc(st, doc);
        assert_true(ctx->profile_active);
        size_t transitions = stub_count(ctx, "audit", "travel-state", NULL);

        /* what timedatectl does: a new symlink renamed over the old one */
        assert_int_equal(symlink("/usr/share/zoneinfo/Asia/Shanghai", tmp), 0);
        assert_int_equal(rename(tmp, lt), 0);
        for (int i = 0; i < 50 && stub_count(ctx, "audit", "travel-weak-signal", NULL) == 0; i++)
                loop_iterate(ctx->loop, 100);
        assert_int_equal(stub_count(ctx, "audit", "travel-weak-signal", "to=/usr/share/zoneinfo/Asia/Shanghai"), 1);
        assert_int_equal(stub_count(ctx, "signal", "TravelNotice", "signal=timezone"), 1);
        assert_int_equal(stub_count(ctx, "audit", "travel-state", NULL), transitions);

        sekisho_plugin_travel.shutdown(st);
        stub_core_free(ctx);
        unsetenv("SEKISHO_TEST_NOW");
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        log_setup("test-travel-state", false);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_cycle),
                cmocka_unit_test(test_cancel_in_grace),
                cmocka_unit_test(test_normal_risk_and_no_reset),
                cmocka_unit_test(test_signed_return),
                cmocka_unit_test(test_clock_far_off),
                cmocka_unit_test(test_trip_removed_keeps_snapshot),
                cmocka_unit_test(test_plugin_persistence),
                cmocka_unit_test(test_weak_signal_timezone),
                cmocka_unit_test(test_contact_and_reset_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
