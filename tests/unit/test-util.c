/* test-util.c — time parsing, UTF-8 checks, capped reads and atomic writes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include "test-skip.h"

#include "util.h"

static void test_rfc3339(void **state) {
        int64_t t;
        assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(parse_rfc3339("2026-11-20T09:00:00+09:00", &t), 0);
        assert_int_equal(t, 1795132800);
        assert_int_equal(parse_rfc3339("2026-11-20T00:00:00.123Z", &t), 0);
        assert_int_equal(t, 1795132800);
        assert_int_equal(parse_rfc3339("2024-02-29T00:00:00-01:30", &t), 0);
        assert_int_equal(t, 1709170200);
        const char *bad[] = { "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-20", "2026-11-20T09:00:00",
                              "2026-11-20T09:00:00+9:00", "2026-11-20T25:00:00Z", "2026-11-20T09:00:00Zjunk", "" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (parse_rfc3339(bad[i], &t) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
        char out[32];
        format_rfc3339(1795132800, out);
        assert_string_equal(out, "2026-11-20T00:00:00Z");
}

static void test_utf8(void **state) {
        assert_true(string_is_clean_utf8("関所 USB", strlen("関所 USB")));
        assert_false(string_is_clean_utf8("a\x1b[31m", 6));
        assert_false(string_is_clean_utf8("\xc0\xaf", 2));          /* overlong */
        assert_false(string_is_clean_utf8("\xed\xa0\x80", 3));      /* surrogate */
        assert_false(string_is_clean_utf8("\xe3\x81", 2));          /* truncated */
        assert_false(string_is_clean_utf8("\xc2\x85", 2));          /* C1 control */
}

static void test_files(void **state) {
        char dir[] = "/tmp/sekisho-util.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *p = path_join(dir, "a/b/c");
        assert_int_equal(mkdir_p(p, 0700), 0);
        char *f = path_join(p, "file");
        assert_int_equal(write_file_atomic(f, "hello", 5, 0600), 0);
        char *data;
        size_t size;
        assert_int_equal(read_file_capped(f, 5, &data, &size), 0);
        assert_int_equal(size, 5);
        assert_string_equal(data, "hello");
        free(data);
        assert_int_equal(read_file_capped(f, 4, &data, &size), -EFBIG);
        assert_int_equal(read_file_capped(p, 4, &data, &size), -EISDIR);
        /* A file as long as it says is read into a buffer its size, not one grown to twice it. */
        enum { BIG = 1 << 20 };
        char *big = calloc(1, BIG);
        assert_non_null(big);
        assert_int_equal(write_file_atomic(f, big, BIG, 0600), 0);
        free(big);
        assert_int_equal(read_file_capped(f, 4 << 20, &data, &size), 0);
        assert_int_equal(size, BIG);
        assert_true(malloc_usable_size(data) < BIG + 4096);
        free(data);
        uint64_t v;
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_u64("12a", &v), -EINVAL);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        free(p);
}

/* sysfs attributes report st_size 4096 whatever they hold: a small cap must still read them
 * (sekishod blocked every root hub on a real kernel, tests/e2e). Skipped without sysfs. */
static void test_pseudo_files(void **state) {
        (void)state;
        char *data;
        size_t size;
        struct stat st;
        const char *f = "/sys/kernel/uevent_seqnum";
        if (stat(f, &st) < 0 || st.st_size <= 64)
                skip_because("%s is not a sysfs attribute here: the pseudo-file check cannot run", f);
        assert_int_equal(read_file_capped(f, 64, &data, &size), 0);
        assert_true(size > 0 && size <= 64);
        free(data);
        assert_int_equal(read_file_capped(f, 1, &data, &size), -EFBIG);
}

/* The one escaping function: controls, bidi, backslash and bad UTF-8 escaped; text kept; cut between escapes. */
static void test_vis(void **state) {
        char out[64];
        str_vis(out, sizeof out, "a\nb\tc\\d\x1b[2J");
        assert_string_equal(out, "a\\nb\\tc\\\\d\\x1b[2J");
        str_vis(out, sizeof out, "\xe6\x97\xa5\xe6\x9c\xac \xc2\x9b \xe2\x80\xae \xff\xc0\xaf \x7f");
        assert_string_equal(out, "\xe6\x97\xa5\xe6\x9c\xac \\u009b \\u202e \\xff\\xc0\\xaf \\x7f");
        char small[6];
        assert_int_equal(str_vis(small, sizeof small, "ab\x1b"), 2); /* "ab\x1b" does not fit: cut before it */
        assert_string_equal(small, "ab");
        /* The JSON writer keeps the same characters off a terminal, as JSON escapes. */
        char *json = NULL;
        size_t json_len = 0;
        FILE *f = open_memstream(&json, &json_len);
        assert_non_null(f);
        json_write_string(f, "a\"\x1b\xc2\x9b\xe2\x80\xae\xff\xe6\x97\xa5");
        fclose(f);
        assert_string_equal(json, "\"a\\\"\\u001b\\u009b\\u202e\\\\xff\xe6\x97\xa5\"");
        free(json);
        assert_false(string_is_clean_utf8("\xe2\x80\xae", 3));
        assert_true(string_is_clean_utf8("a\tb \xe6\x97\xa5", 7));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rfc3339), cmocka_unit_test(test_utf8), cmocka_unit_test(test_files),
                cmocka_unit_test(test_pseudo_files), cmocka_unit_test(test_vis),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
