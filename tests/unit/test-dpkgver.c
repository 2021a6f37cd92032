/* test-dpkgver.c — the dpkg version order, checked pair by pair against dpkg's own answers (stored and live). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-skip.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpkgver.h"

extern char **environ;

struct pair {
        char *a, *b;
        char want; /* '<', '=', '>', 'E' */
};

static struct pair *pairs;
static size_t n_pairs;

static void load_pairs(void) {
        if (pairs)
                return;
        const char *top = getenv("top_srcdir");
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/dpkgver-pairs.txt", top ? top : ".");
        FILE *f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s: %s (set top_srcdir)", path, strerror(errno));
        char line[1024];
        size_t cap = 0;
        while (fgets(line, sizeof line, f)) {
                if (line[0] == '#')
                        continue;
                line[strcspn(line, "\n")] = '\0';
                char *t1 = strchr(line, '\t');
                assert_non_null(t1);
                char *t2 = strchr(t1 + 1, '\t');
                assert_non_null(t2);
                *t1 = *t2 = '\0';
                if (n_pairs == cap) {
                        cap = cap ? cap * 2 : 1024;
                        pairs = realloc(pairs, cap * sizeof *pairs);
                        assert_non_null(pairs);
                }
                pairs[n_pairs++] = (struct pair){ strdup(line), strdup(t1 + 1), t2[1] };
        }
        fclose(f);
}

static char ours(const char *a, const char *b) {
        int c, r = dpkgver_compare_str(a, b, &c);
        if (r < 0)
                return 'E';
        return c < 0 ? '<' : c > 0 ? '>' : '=';
}

static void test_table(void **state) {
        load_pairs();
        assert_true(n_pairs >= 2000);
        size_t bad = 0;
        for (size_t i = 0; i < n_pairs; i++) {
                char got = ours(pairs[i].a, pairs[i].b);
                if (got != pairs[i].want) {
                        print_error("'%s' vs '%s': dpkg says %c, we say %c\n", pairs[i].a, pairs[i].b,
                                    pairs[i].want, got);
                        bad++;
                }
                /* The order is antisymmetric. */
                char rev = ours(pairs[i].b, pairs[i].a);
                char want_rev = got == '<' ? '>' : got == '>' ? '<' : got;
                if (rev != want_rev) {
                        print_error("'%s' vs '%s' is not antisymmetric\n", pairs[i].a, pairs[i].b);
                        bad++;
                }
        }
        print_message("%zu pairs checked against dpkg's stored answers\n", n_pairs);
        assert_int_equal(bad, 0);
}

static int run_dpkg(const char *a, const char *op, const char *b) {
        char *argv[] = { (char *)"dpkg", (char *)"--compare-versions", (char *)"--", (char *)a, (char *)op,
                         (char *)b, NULL };
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int r = posix_spawnp(&pid, "dpkg", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
                return -EIO;
        return WEXITSTATUS(st);
}

/* The stored answers could be stale or wrong: ask the dpkg on this machine
 * again, one call per pair, for the relation we compute. */
static void test_live_dpkg(void **state) {
        if (access("/usr/bin/dpkg", X_OK) < 0)
                skip_because("dpkg is not installed here: the live check against dpkg cannot run");
        load_pairs();
        size_t bad = 0;
        for (size_t i = 0; i < n_pairs; i++) {
                char got = ours(pairs[i].a, pairs[i].b);
                const char *op = got == '<' ? "lt" : got == '>' ? "gt" : "eq";
                int r = run_dpkg(pairs[i].a, op, pairs[i].b);
                assert_true(r >= 0);
                bool agree = got == 'E' ? r == 2 : r == 0;
                if (!agree) {
                        print_error("live dpkg disagrees: '%s' %s '%s' exit %d\n", pairs[i].a, op, pairs[i].b, r);
                        bad++;
                }
        }
        print_message("%zu pairs re-checked with the live dpkg\n", n_pairs);
        assert_int_equal(bad, 0);
}

static void test_parse(void **state) {
        struct dpkgver v;
        const char *why;
        assert_int_equal(dpkgver_parse("2:1.0~rc1-3+deb12u1", &v, &why), 0);
        assert_int_equal(v.epoch, 2);
        assert_string_equal(v.version, "1.0~rc1");
        assert_string_equal(v.revision, "3+deb12u1");
        assert_int_equal(dpkgver_parse("1.2-3-4", &v, &why), 0);
        assert_string_equal(v.version, "1.2-3");
        assert_string_equal(v.revision, "4");
        assert_int_equal(dpkgver_parse("abc", &v, &why), 1);
        assert_string_equal(why, "version number does not start with digit");
        assert_int_equal(dpkgver_parse("", &v, &why), -EINVAL);
        assert_int_equal(dpkgver_parse("1:", &v, &why), -EINVAL);
        assert_int_equal(dpkgver_parse("1-", &v, &why), -EINVAL);
        assert_int_equal(dpkgver_parse("4294967296:1", &v, &why), -EINVAL);
        assert_string_equal(why, "epoch in version is too big");
        assert_int_equal(dpkgver_parse("-1:1", &v, &why), -EINVAL);
        assert_string_equal(why, "epoch in version is negative");
        char big[DPKGVER_MAX + 8];
        memset(big, '1', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(dpkgver_parse(big, &v, &why), -E2BIG);
        big[DPKGVER_MAX] = '\0';
        assert_int_equal(dpkgver_parse(big, &v, &why), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_live_dpkg),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
