/* test-travel-ctl.c — `sekishoctl travel status|plan` output from a state directory (no daemon). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "travel.h"
#include "util.h"

static char *run(int (*fn)(const char *, FILE *), const char *dir, int *ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        *ret = fn(dir, f);
        fclose(f);
        return buf;
}

static int status_text(const char *dir, FILE *f) { return travelctl_status(dir, false, f); }
static int status_json(const char *dir, FILE *f) { return travelctl_status(dir, true, f); }

static void test_ctl(void **state) {
        char dir[] = "/tmp/test-travel-ctl-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int r;
        char *out = run(status_text, dir, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "state            home"));
        free(out);
        out = run(travelctl_plan, dir, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "no reset is pending"));
        free(out);

        char path[512];
        snprintf(path, sizeof path, "%s/travel", dir);
        assert_int_equal(mkdir_p(path, 0700), 0);
        struct travel_state s;
        travel_state_init(&s);
        s.phase = TRAVEL_RESET_PENDING;
        strcpy(s.trip, "trip-1");
        strcpy(s.destination, "CN");
        s.high_risk = true;
        s.trip_end = 1800000000;
        s.since = 1800000000;
        s.deadline = 1800086400;
        snprintf(path, sizeof path, "%s/travel/state", dir);
        assert_int_equal(travel_state_save(path, &s), 0);
        const char plan[] = "format=1\ntrip=trip-1\nluks-volume=/dev/disk/by-partlabel/home\nwipe-directory=/srv/u\nreboot=yes\n";
        snprintf(path, sizeof path, "%s/travel/reset-plan", dir);
        assert_int_equal(write_file_atomic(path, plan, sizeof plan - 1, 0600), 0);

        out = run(status_json, dir, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "{\"state\":\"reset-pending\",\"trip\":\"trip-1\""));
        assert_non_null(strstr(out, "\"reset-deadline\":\"2027-01-16T"));
        free(out);
        out = run(travelctl_plan, dir, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "reset plan for trip trip-1"));
        assert_non_null(strstr(out, "destroy every LUKS keyslot of /dev/disk/by-partlabel/home"));
        assert_non_null(strstr(out, ". reboot"));
        free(out);

        /* an unreadable state is an error, not "home" */
        snprintf(path, sizeof path, "%s/travel/state", dir);
        assert_int_equal(write_file_atomic(path, "phase=\x01\n", 8, 0600), 0);
        FILE *devnull = fopen("/dev/null", "we");
        assert_true(travelctl_status(dir, false, devnull) < 0);
        fclose(devnull);

        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_ctl) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
