/* unit.h — what every check suite under tests/unit/ shares: running a suite
 * with check's summary line ("100%: Checks: N, Failures: 0, Errors: 0") and
 * the process exit status meson's `test()` reads. */
#ifndef KEEL_TESTS_UNIT_H
#define KEEL_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

#include "core_init.h"

/* Run s; exit status 0 only when every check passed. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;
    core_init_types(); /* the value types' free/dup hooks, as the server wires them */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A test case with a generous timeout: the sanitizer build is slow, and
 * check's default (4 s) would turn slowness into errors. */
static inline TCase *unit_tcase(const char *name, double timeout_s)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout_s);
    return tc;
}

#endif
