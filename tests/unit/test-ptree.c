/* test-ptree.c — YAML tree positions, refused constructs, schema checks and profile merging. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptree.h"
#include "util.h"

static struct ptree *parse_ok(const char *text) {
        struct perrors e = { 0 };
        struct ptree *t = NULL;
        int r = ptree_parse("t.yaml", text, strlen(text), &t, &e);
        if (r < 0)
                fail_msg("unexpected error: %s", perrors_first(&e));
        perrors_clear(&e);
        return t;
}

/* Parse text, expect failure, and check the first message. */
static void parse_fails(const char *text, const char *expect) {
        struct perrors e = { 0 };
        struct ptree *t = NULL;
        assert_int_equal(ptree_parse("t.yaml", text, strlen(text), &t, &e), -EINVAL);
        assert_null(t);
        assert_non_null(perrors_first(&e));
        if (!strstr(perrors_first(&e), expect))
                fail_msg("got '%s', expected '%s'", perrors_first(&e), expect);
        perrors_clear(&e);
}

static void test_positions(void **state) {
        struct ptree *t = parse_ok("a: 1\nb:\n  c: [x, y]\n");
        const struct pnode *b = pmap_get(t->root, "b");
        assert_int_equal(b->kind, PNODE_MAP);
        const struct pnode *c = pmap_get(b, "c");
        assert_int_equal(c->line, 3);
        assert_int_equal(c->col, 6);
        assert_string_equal(c->children[1]->scalar, "y");
        assert_int_equal(c->children[1]->col, 10);
        ptree_free(t);
}

static void test_refused(void **state) {
        parse_fails("a: &x 1\nb: *x\n", "t.yaml:1:4: anchors are not allowed");
        parse_fails("a: !!str 1\n", "tags are not allowed");
        parse_fails("a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a'");
        parse_fails("a: [1, 2\n", "YAML syntax error");
        parse_fails("a: 1\n---\nb: 2\n", "only one document");
        parse_fails("? [a]\n: 1\n", "mapping keys must be plain scalars");
        char deep[512] = "";
        for (int i = 0; i < 40; i++)
                strcat(deep, "[");
        parse_fails(deep, "nested deeper than");
}

static const char *const modes[] = { "allow", "deny", NULL };
static const struct pkey keys[] = {
        { "name", PT_STRING, .required = true },
        { "count", PT_INT, .min = 1, .max = 10 },
        { "on", PT_BOOL },
        { "mode", PT_ENUM, .values = modes },
        { "list", PT_STRING_SEQ },
        { "when", PT_TIME },
        { NULL },
};

static void test_schema(void **state) {
        struct ptree *t = parse_ok("count: 11\non: maybe\nmode: open\nlist: [a, {b: c}]\nwhen: yesterday\nextra: 1\n");
        struct perrors e = { 0 };
        assert_int_equal(pmap_check(t->root, keys, &e), 7);
        const char *expect[] = {
                "t.yaml:1:8: 'count' must be between 1 and 10",
                "t.yaml:2:5: 'on' must be true or false",
                "t.yaml:3:7: 'mode' must be one of: allow, deny",
                "t.yaml:4:11: 'list' must be a list of strings",
                "t.yaml:5:7: 'when' must be an RFC 3339 time",
                "t.yaml:6:1: unknown key 'extra'",
                "t.yaml:1:1: missing required key 'name'",
        };
        for (size_t i = 0; i < ARRAY_SIZE(expect); i++)
                if (!strstr(e.msgs[i], expect[i]))
                        fail_msg("message %zu: got '%s', expected '%s'", i, e.msgs[i], expect[i]);
        perrors_clear(&e);
        ptree_free(t);

        t = parse_ok("name: x\ncount: 3\non: true\nmode: deny\nlist: [a]\nwhen: 2026-11-20T09:00:00+09:00\n");
        assert_int_equal(pmap_check(t->root, keys, &e), 0);
        ptree_free(t);
}

/* The copying merge and the borrowing one give the same tree. */
static void test_merge(void **state) {
        struct ptree *(*const merges[])(const char *, const struct pnode *, const struct pnode *) = {
                ptree_merge, ptree_merge_view,
        };
        struct ptree *base = parse_ok("a: 1\nm:\n  x: 1\n  y: [1, 2]\n");
        struct ptree *over = parse_ok("m:\n  y: [3]\n  z: 4\nb: 2\n");
        for (size_t i = 0; i < 2; i++) {
                struct ptree *m = merges[i]("t.yaml", base->root, over->root);
                assert_non_null(m);
                assert_string_equal(pnode_str(pmap_get(m->root, "a")), "1");
                assert_string_equal(pnode_str(pmap_get(m->root, "b")), "2");
                const struct pnode *mm = pmap_get(m->root, "m");
                assert_string_equal(pnode_str(pmap_get(mm, "x")), "1");
                assert_int_equal(pmap_get(mm, "y")->n, 1);          /* lists are replaced whole */
                assert_string_equal(pnode_str(pmap_get(mm, "y")->children[0]), "3");
                assert_int_equal(pmap_get(mm, "y")->line, 2);        /* position from the overlay */
                assert_string_equal(pnode_str(pmap_get(mm, "z")), "4");
                /* A view points into its sources; a copy does not. */
                assert_true((pmap_get(mm, "z") == pmap_get(pmap_get(over->root, "m"), "z")) == (i == 1));
                ptree_free(m);
                /* Either side may be absent. */
                m = merges[i]("t.yaml", NULL, NULL);
                assert_null(m->root);
                ptree_free(m);
                m = merges[i]("t.yaml", NULL, over->root);
                assert_string_equal(pnode_str(pmap_get(m->root, "b")), "2");
                ptree_free(m);
                /* A view over a view (the core checks default, policy and a profile so). */
                struct ptree *v = merges[i]("t.yaml", base->root, over->root);
                m = merges[i]("t.yaml", v->root, over->root);
                assert_string_equal(pnode_str(pmap_get(pmap_get(m->root, "m"), "x")), "1");
                ptree_free(m);
                ptree_free(v);
        }
        /* The sources are whole after the views are gone. */
        assert_string_equal(pnode_str(pmap_get(pmap_get(base->root, "m"), "x")), "1");
        assert_int_equal(pmap_get(pmap_get(base->root, "m"), "y")->n, 2);
        ptree_free(base);
        ptree_free(over);
}

static void test_scalars(void **state) {
        struct ptree *t = parse_ok("i: -42\nq: \"7\"\nb: off\nbig: 99999999999999999999\n");
        int64_t v;
        bool b;
        assert_int_equal(pnode_int(pmap_get(t->root, "i"), &v), 0);
        assert_int_equal(v, -42);
        assert_int_equal(pnode_int(pmap_get(t->root, "q"), &v), -EINVAL); /* quoted is a string */
        assert_int_equal(pnode_bool(pmap_get(t->root, "b"), &b), 0);
        assert_false(b);
        assert_int_equal(pnode_int(pmap_get(t->root, "big"), &v), -EINVAL);
        ptree_free(t);
}

/* Every node lives in its tree's chunks: empty collections, trees of many
 * chunks, a scalar larger than any chunk, and maps whose children are read
 * between the children of others all come out whole, parsed and copied. */
static void test_memory(void **state) {
        struct ptree *t = parse_ok("a: []\nb: {}\nc: [[], {}, [x]]\n");
        assert_int_equal(pmap_get(t->root, "a")->n, 0);
        assert_int_equal(pmap_get(t->root, "b")->kind, PNODE_MAP);
        assert_int_equal(pmap_get(t->root, "b")->n, 0);
        assert_int_equal(pmap_get(t->root, "c")->n, 3);
        struct ptree *m = ptree_merge("t.yaml", t->root, t->root);
        assert_int_equal(pmap_get(m->root, "c")->children[2]->n, 1);
        ptree_free(m);
        ptree_free(t);

        enum { ITEMS = 20000, BIG = 3 << 19 };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fprintf(f, "list:\n");
        for (int i = 0; i < ITEMS; i++)
                fprintf(f, "  - {k%d: v%0*d, z: %d}\n", i % 7, 1 + i % 40, i, i);
        fprintf(f, "big: ");
        for (int i = 0; i < BIG; i++)
                fputc('a' + i % 26, f);
        fprintf(f, "\nlast: end\n");
        fclose(f);
        t = parse_ok(buf);
        free(buf);
        for (int pass = 0; pass < 2; pass++) {
                struct ptree *c = pass ? ptree_merge("t.yaml", NULL, t->root) : NULL;
                const struct pnode *root = pass ? c->root : t->root, *list = pmap_get(root, "list");
                assert_int_equal(list->n, ITEMS);
                for (int i = 0; i < ITEMS; i += 997) {
                        char key[8], want[64];
                        snprintf(key, sizeof key, "k%d", i % 7);
                        snprintf(want, sizeof want, "v%0*d", 1 + i % 40, i);
                        assert_string_equal(pnode_str(pmap_get(list->children[i], key)), want);
                        int64_t z;
                        assert_int_equal(pnode_int(pmap_get(list->children[i], "z"), &z), 0);
                        assert_int_equal(z, i);
                }
                const struct pnode *big = pmap_get(root, "big");
                assert_int_equal(big->scalar_len, BIG);
                assert_int_equal(strlen(big->scalar), BIG);
                for (int i = 0; i < BIG; i += 4099)
                        assert_int_equal(big->scalar[i], 'a' + i % 26);
                assert_string_equal(pnode_str(pmap_get(root, "last")), "end");
                ptree_free(c);
        }
        ptree_free(t);
        parse_fails("a:\n  x: 1\n  y: {x: 1, y: 2}\n  x: 2\n", "duplicate key 'x'");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_positions), cmocka_unit_test(test_refused), cmocka_unit_test(test_schema),
                cmocka_unit_test(test_merge), cmocka_unit_test(test_scalars), cmocka_unit_test(test_memory),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
