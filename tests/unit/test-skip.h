/* test-skip.h — a cmocka check that cannot run here makes its whole program report SKIP (exit 77), never PASS. */
#pragma once

/* cmocka counts a skip() as success: remember it for the exit status. */
static unsigned test_skipped;

#define skip_because(...)                                   \
        do {                                                \
                print_message("SKIP: " __VA_ARGS__);        \
                print_message("\n");                        \
                test_skipped++;                             \
                skip();                                     \
        } while (0)

/* main()'s return: failures first, then 77 if any part could not run. */
static inline int test_exit(int failed) {
        return failed ? failed : test_skipped ? 77 : 0;
}
