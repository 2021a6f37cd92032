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
        expect_verify(-EBADMSG, "record 6 is not the one the head names");
        restore();
}

static void test_garbage(void **state) {
        mangle("3s/.*/garbage/");
        expect_verify(-EBADMSG, "audit.log:3: not an audit record");
        restore();
        expect_verify(0, NULL);
}


/* ---- a fresh log per test below ---- */

static void fresh(const char *name, int records, const char *anchor, char *path, size_t size) {
        snprintf(path, size, "%s/%s", dir, name);
        struct audit *a;
        assert_int_equal(audit_open(path, "term-1", false, &a), 0);
        if (anchor) {
                struct audit_gap gap;
                assert_int_equal(audit_anchor(a, anchor, &gap), 0);
                assert_false(gap.found);
        }
        for (int i = 0; i < records; i++)
                assert_int_equal(audit_write(a, "test.event", NULL, NULL, NULL), 0);
        audit_close(a);
}

/* Run a shell command with $P set to path. */
static void sh(const char *cmd, const char *path) {
        setenv("P", path, 1);
        assert_int_equal(system(cmd), 0);
}

static void expect_file(const char *path, int want, const char *want_why) {
        char why[1024];
        uint64_t n;
        int r = audit_verify(path, why, sizeof why, &n);
        if (r != want || (want_why && !strstr(why, want_why)))
                fail_msg("verify returned %d: %s (expected %d, '%s')", r, why, want, want_why ? want_why : "");
}

/* A kill between the record and the head leaves the head one behind: no alarm. */
static void test_head_behind(void **state) {
        char p[256];
        fresh("behind.log", 3, NULL, p, sizeof p);
        sh("cp \"$P.head\" \"$P.saved\"", p);
        fresh("behind.log", 1, NULL, p, sizeof p);
        sh("mv \"$P.saved\" \"$P.head\"", p);
        expect_file(p, 0, "4 records, chain intact");
}

static void test_head_missing(void **state) {
        char p[256];
        fresh("nohead.log", 3, NULL, p, sizeof p);
        sh("rm \"$P.head\"", p);
        expect_file(p, -EBADMSG, "nohead.log.head is missing");
}

static void test_cut_at_start(void **state) {
        char p[256];
        fresh("start.log", 6, NULL, p, sizeof p);
        sh("sed -i 1,2d \"$P\"", p);
        expect_file(p, -EBADMSG, "the log starts at record 3, not at record 1");
}

/* A torn last write is named by a repair record; verify accepts it, saying so. */
static void test_torn_repaired(void **state) {
        char p[256];
        fresh("torn.log", 3, NULL, p, sizeof p);
        sh("printf '{\"seq\":4,\"ti' >>\"$P\"", p);
        expect_file(p, -EBADMSG, "torn record (no end of line)");
        fresh("torn.log", 1, NULL, p, sizeof p);
        expect_file(p, 0, "5 records, chain intact; 1 torn write(s) repaired");
        sh("grep -q '\"seq\":4,.*\"event\":\"audit.repaired\",\"torn-offset\":\"[0-9]*\",\"torn-bytes\":\"13\"' \"$P\"", p);
        /* The repaired bytes are covered by the record's hash: changing them shows. */
        sh("sed -i 's/^{\"seq\":4,\"ti$/{\"seq\":4,\"tX/' \"$P\"", p);
        expect_file(p, -EBADMSG, ":4: not an audit record, and no repair record names it");
}

/* The daemon's anchor: records cut while it was not running are reported with the range. */
static void test_anchor_truncation(void **state) {
        char p[256], anchor[256];
        snprintf(anchor, sizeof anchor, "%s/anchor", dir);
        fresh("anch.log", 10, anchor, p, sizeof p);
        /* Cut the last three and fix up the head, as an attacker would. */
        sh("sed -i 8,10d \"$P\" && rm \"$P.head\"", p);
        struct audit *a;
        struct audit_gap gap;
        assert_int_equal(audit_open(p, "term-1", false, &a), 0);
        assert_int_equal(audit_anchor(a, anchor, &gap), 0);
        assert_true(gap.found);
        assert_int_equal(gap.from, 8);
        assert_int_equal(gap.to, 10);
        assert_string_equal(gap.what, "the log ends at record 7 but 10 was written last");
        assert_int_equal(access(gap.evidence, R_OK), 0);
        const struct audit_field f[] = { { "missing-from", "8" }, { "missing-to", "10" }, { NULL } };
        uint64_t seq;
        assert_int_equal(audit_write(a, "audit.truncated", NULL, f, &seq), 0);
        assert_int_equal(seq, 11);
        audit_close(a);
        expect_file(p, -EBADMSG, "records 8-10 removed or replaced (reported at record 11)");
        /* The last record replaced by another with its number: the anchored record's hash differs. */
        sh("sed -i '$d' \"$P\"", p);
        fresh("anch.log", 4, NULL, p, sizeof p); /* 8, 9, 10 and a new 11 */
        assert_int_equal(audit_open(p, "term-1", false, &a), 0);
        assert_int_equal(audit_anchor(a, anchor, &gap), 0);
        audit_close(a);
        assert_true(gap.found);
        assert_string_equal(gap.what, "record 11 is not the one written (log cut and refilled?)");
}

static void checkpoint_of(const char *path, char *out, size_t size) {
        _cleanup_free_ char *head = NULL;
        _cleanup_free_ char *hp = NULL;
        assert_true(asprintf(&hp, "%s.head", path) > 0);
        assert_int_equal(read_file_capped(hp, 256, &head, NULL), 0);
        unsigned long long seq;
        char hash[65];
        assert_int_equal(sscanf(head, "%llu %64s", &seq, hash), 2);
        _cleanup_free_ char *line = NULL;
        assert_true(asprintf(&line, "Dec  3 10:00:00 term sekishod[1]: sekisho-checkpoint seq=%llu hash=%s host=term-1\n",
                             seq, hash) > 0);
        assert_true(strlen(out) + strlen(line) < size);
        strcat(out, line);
}

static int verify_cp(const char *path, const char *cps, char *why, size_t why_size) {
        struct audit_checkpoint *list;
        size_t n;
        uint64_t count;
        assert_int_equal(audit_checkpoints_parse(cps, strlen(cps), &list, &n, why, why_size), 0);
        struct audit_verify_options o = { list, n };
        int r = audit_verify_series(&path, 1, &o, why, why_size, &count);
        free(list);
        return r;
}

/* What a collector holds finds a cut at either end even when the chain on the terminal was redone. */
static void test_checkpoints(void **state) {
        char p[256], cps[2048] = "unrelated line\n", why[1024];
        fresh("cp.log", 3, NULL, p, sizeof p);
        checkpoint_of(p, cps, sizeof cps);
        sh("cp \"$P\" \"$P.three\" && cp \"$P.head\" \"$P.three.head\"", p);
        fresh("cp.log", 4, NULL, p, sizeof p);
        checkpoint_of(p, cps, sizeof cps);
        if (verify_cp(p, cps, why, sizeof why) != 0)
                fail_msg("%s", why);
        assert_non_null(strstr(why, "7 records, chain intact; 2 checkpoints match"));
        /* Cut at the end, head fixed up: the collector saw record 7. */
        _cleanup_free_ char *three = NULL;
        assert_true(asprintf(&three, "%s.three", p) > 0);
        assert_int_equal(verify_cp(three, cps, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "ends at record 3 but the collector holds a checkpoint of record 7"));
        /* A chain written anew (cut at the start, renumbered): hashes differ. */
        char q[256];
        snprintf(q, sizeof q, "%s/forged.log", dir);
        struct audit *a;
        assert_int_equal(audit_open(q, "forger", false, &a), 0);
        for (int i = 0; i < 7; i++)
                assert_int_equal(audit_write(a, "test.event", NULL, NULL, NULL), 0);
        audit_close(a);
        assert_int_equal(verify_cp(q, cps, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "record 3 differs from the collector's checkpoint"));
        /* A malformed checkpoint line is an error, not skipped. */
        struct audit_checkpoint *list;
        size_t n;
        const char *bad = "x sekisho-checkpoint seq=3 hash=zz\n";
        assert_int_equal(audit_checkpoints_parse(bad, strlen(bad), &list, &n, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "line 1: malformed checkpoint"));
}

/* Rotation: every file starts with the hash of the previous one's last record. */
static void test_rotation(void **state) {
        char p[256], why[1024];
        snprintf(p, sizeof p, "%s/rot.log", dir);
        struct audit *a;
        assert_int_equal(audit_open(p, "term-1", false, &a), 0);
        audit_set_rotation(a, 700, 3);
        for (int i = 0; i < 12; i++)
                assert_int_equal(audit_write(a, "test.event", NULL, NULL, NULL), 0);
        audit_close(a);
        _cleanup_free_ char *p1 = NULL, *p2 = NULL;
        assert_true(asprintf(&p1, "%s.1", p) > 0 && asprintf(&p2, "%s.2", p) > 0);
        sh("test -s \"$P.1\" && test -s \"$P.2\" && head -n 1 \"$P\" | grep -q audit.continued", p);
        const char *series[] = { p2, p1, p };
        uint64_t count;
        assert_int_equal(audit_verify_series(series, 3, NULL, why, sizeof why, &count), 0);
        expect_file(p, 0, "continuing a rotated file not given");
        const char *gap[] = { p2, p };
        assert_int_equal(audit_verify_series(gap, 2, NULL, why, sizeof why, &count), -EBADMSG);
        assert_non_null(strstr(why, "where"));
        /* A rotation cut short (renamed, nothing written yet) continues from the old file. */
        sh("mv \"$P\" \"$P.x\" && mv \"$P.1\" \"$P.2\"", p);
        sh("mv \"$P.x\" \"$P.1\" && : >\"$P\"", p);
        fresh("rot.log", 1, NULL, p, sizeof p);
        sh("head -n 1 \"$P\" | grep -q audit.continued", p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_intact),   cmocka_unit_test(test_edited),         cmocka_unit_test(test_dropped),
                cmocka_unit_test(test_reordered), cmocka_unit_test(test_truncated_tail), cmocka_unit_test(test_last_edited),
                cmocka_unit_test(test_garbage),  cmocka_unit_test(test_head_behind),    cmocka_unit_test(test_head_missing),
                cmocka_unit_test(test_cut_at_start), cmocka_unit_test(test_torn_repaired),
                cmocka_unit_test(test_anchor_truncation), cmocka_unit_test(test_checkpoints),
                cmocka_unit_test(test_rotation),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
