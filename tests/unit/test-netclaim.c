/* test-netclaim.c — the registry of destinations reserved for one cgroup: replace per owner, validation, bounds, watchers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "test-skip.h"

#include "netclaim.h"
#include "util.h"

static void count(void *userdata) { (*(int *)userdata)++; }

static void test_replace_per_owner(void **state) {
        struct netclaims *reg;
        assert_int_equal(netclaims_new(&reg), 0);
        int changes = 0;
        assert_int_equal(netclaims_watch(reg, count, &changes), 0);

        const struct sekisho_net_claim vdi[] = {
                { .destination = "198.51.100.20", .protocol = "tcp", .port_lo = 3389, .port_hi = 3389,
                  .cgroup = "sekisho.slice/sekisho-vdi.slice" },
                { .destination = "vdi.example.lg.jp", .cgroup = "sekisho.slice/sekisho-vdi.slice" },
        };
        const struct sekisho_net_claim other[] = {
                { .destination = "2001:db8::5", .protocol = "udp", .port_lo = 1, .port_hi = 9, .cgroup = "x" },
        };
        assert_int_equal(netclaims_set(reg, "vdi", vdi, 2), 0);
        assert_int_equal(netclaims_set(reg, "another", other, 1), 0);
        assert_int_equal(changes, 2);

        const struct sekisho_net_claim *v;
        assert_int_equal(netclaims_get(reg, &v), 3);
        assert_string_equal(v[0].owner, "another");   /* by owner, then as given */
        assert_string_equal(v[1].destination, "198.51.100.20");
        assert_string_equal(v[1].owner, "vdi");
        assert_null(v[2].protocol);

        /* The same set again is no change; a new one replaces only that owner's. */
        assert_int_equal(netclaims_set(reg, "vdi", vdi, 2), 0);
        assert_int_equal(changes, 2);
        assert_int_equal(netclaims_set(reg, "vdi", vdi + 1, 1), 0);
        assert_int_equal(changes, 3);
        assert_int_equal(netclaims_get(reg, &v), 2);
        assert_string_equal(v[1].destination, "vdi.example.lg.jp");
        assert_int_equal(netclaims_set(reg, "vdi", NULL, 0), 0);
        assert_int_equal(netclaims_get(reg, &v), 1);

        netclaims_unwatch(reg, count, &changes);
        assert_int_equal(netclaims_set(reg, "another", NULL, 0), 0);
        assert_int_equal(changes, 4);
        netclaims_free(reg);
}

static void test_refused(void **state) {
        struct netclaims *reg;
        assert_int_equal(netclaims_new(&reg), 0);
        const struct sekisho_net_claim ok = { .destination = "192.0.2.1", .cgroup = "a" };
        assert_int_equal(netclaims_set(reg, "vdi", &ok, 1), 0);
        const struct sekisho_net_claim bad[] = {
                { .destination = "", .cgroup = "a" },
                { .destination = "192.0.2.1", .cgroup = NULL },
                { .destination = "192.0.2.1", .protocol = "icmp", .cgroup = "a" },
                { .destination = "192.0.2.1", .port_lo = 9, .port_hi = 1, .cgroup = "a" },
                { .destination = "192.0.2.1", .port_lo = 0, .port_hi = 80, .cgroup = "a" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const struct sekisho_net_claim two[] = { ok, bad[i] };
                assert_int_equal(netclaims_set(reg, "vdi", two, 2), -EINVAL);
        }
        assert_int_equal(netclaims_set(reg, "", &ok, 1), -EINVAL);

        struct sekisho_net_claim many[NETCLAIMS_PER_OWNER + 1];
        for (size_t i = 0; i < ARRAY_SIZE(many); i++)
                many[i] = ok;
        assert_int_equal(netclaims_set(reg, "vdi", many, ARRAY_SIZE(many)), -E2BIG);

        /* Nothing refused changed what was there. */
        const struct sekisho_net_claim *v;
        assert_int_equal(netclaims_get(reg, &v), 1);
        assert_string_equal(v[0].destination, "192.0.2.1");

        int n = 0;
        for (size_t i = 0; i < NETCLAIMS_WATCHERS; i++)
                assert_int_equal(netclaims_watch(reg, count, &n), 0);
        assert_int_equal(netclaims_watch(reg, count, &n), -ENOSPC);
        netclaims_free(reg);
}

/* The file the launcher waits on: what the plugin writes names exactly the
 * (path, id) pairs given; anything else is malformed, never a match. */
static void test_in_force(void **state) {
        (void)state;
        char *paths[] = { "sekisho.slice/sekisho-vdi.service/client", "a/b" };
        uint64_t ids[] = { 18446744073709551615ull, 0 };
        char *text = NULL;
        assert_int_equal(netclaims_in_force_format(paths, ids, 2, &text), 0);
        assert_string_equal(text, "18446744073709551615 sekisho.slice/sekisho-vdi.service/client\n0 a/b\n");
        size_t len = strlen(text);
        assert_int_equal(netclaims_in_force_has(text, len, paths[0], ids[0]), 1);
        assert_int_equal(netclaims_in_force_has(text, len, "a/b", 0), 1);
        assert_int_equal(netclaims_in_force_has(text, len, "a/b", 7), 0);          /* re-created: another id */
        assert_int_equal(netclaims_in_force_has(text, len, "a", 0), 0);            /* a prefix is not the path */
        assert_int_equal(netclaims_in_force_has(text, len, "sekisho.slice", ids[0]), 0);
        assert_int_equal(netclaims_in_force_has("", 0, "a/b", 0), 0);              /* no claims loaded */
        free(text);
        assert_int_equal(netclaims_in_force_format(paths, ids, 0, &text), 0);
        assert_string_equal(text, "");
        free(text);
        const char *bad[] = { "1 a/b", "x a/b\n", " a/b\n", "1\n", "1 \n", "1 a b\n", "1  a\n",
                              "18446744073709551616 a\n", "99999999999999999999 a\n" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(netclaims_in_force_has(bad[i], strlen(bad[i]), "a", 1), -EBADMSG);
        assert_int_equal(netclaims_in_force_has("1 a\0b\n", 6, "a", 1), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replace_per_owner),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_in_force),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
