/* test-audit.c — the audit chain: continuation across reopen, and detection of edits, drops, reorders, truncation. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "util.h"

static char dir[64], log_path[128];

static int setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/sekisho-audit.XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(log_path, sizeof log_path, "%s/audit.log", dir);
        struct audit *a;
        if (audit_open(log_path, "term-1", false, &a) < 0)
                return -1;
        for (int i = 0; i < 5; i++) {
                char v[16];
                snprintf(v, sizeof v, "%d", i);
                const struct audit_field f[] = { { "i", v }, { "tricky", "\"prev\":\"x\" \n\\" }, { NULL } };
                if (audit_write(a, "test.event", "6.5(4)", f, NULL) < 0)
                        return -1;
        }
        audit_close(a);
        /* Reopening continues the chain. */
        if (audit_open(log_path, "term-1", false, &a) < 0)
                return -1;
        uint64_t seq;
        if (audit_write(a, "test.reopen", NULL, NULL, &seq) < 0 || seq != 6)
                return -1;
        audit_close(a);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void expect_verify(int want, const char *want_why) {
        char why[512];
        uint64_t n;
        int r = audit_verify(log_path, why, sizeof why, &n);
        if (r != want || (want_why && !strstr(why, want_why)))
                fail_msg("verify returned %d: %s (expected %d, '%s')", r, why, want, want_why ? want_why : "");
}

/* Rewrite the log with a sed expression applied. */
static void mangle(const char *sed) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s.orig' && cp '%s.head' '%s.head.orig' && sed -i -e '%s' '%s'", log_path,
                 log_path, log_path, log_path, sed, log_path);
        assert_int_equal(system(cmd), 0);
}

static void restore(void) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "mv '%s.orig' '%s' && mv '%s.head.orig' '%s.head'", log_path, log_path, log_path,
                 log_path);
        assert_int_equal(system(cmd), 0);
}

static void test_intact(void **state) { expect_verify(0, "6 records, chain intact"); }

static void test_edited(void **state) {
        mangle("3s/test.event/test.evenT/");
        expect_verify(-EBADMSG, "audit.log:4: record 4 does not chain");
        restore();
}

static void test_dropped(void **state) {
        mangle("2d");
        expect_verify(-EBADMSG, "record 3 where 2 was expected");
        restore();
}

static void test_reordered(void **state) {
        mangle("2{h;d};3{G}");
        expect_verify(-EBADMSG, "record 3 where 2 was expected");
        restore();
}

static void test_truncated_tail(void **state) {
        mangle("$d");
        expect_verify(-EBADMSG, "records removed from the end or the last one edited");
        restore();
}

static void test_last_edited(void **state) {
        mangle("$s/test.reopen/test.reopeN/");
        expect_verify(-EBADMSG, "the last one edited");
        restore();
}

static void test_garbage(void **state) {
        mangle("3s/.*/garbage/");
        expect_verify(-EBADMSG, "audit.log:3: not an audit record");
        restore();
        expect_verify(0, NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_intact),   cmocka_unit_test(test_edited),         cmocka_unit_test(test_dropped),
                cmocka_unit_test(test_reordered), cmocka_unit_test(test_truncated_tail), cmocka_unit_test(test_last_edited),
                cmocka_unit_test(test_garbage),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
