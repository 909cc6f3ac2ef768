/* test_monitor.c — unit tests for core/events/monitor.c's line format:
 * time, database and address, then each argument quoted as Redis's
 * sdscatrepr (backslash, quote, \n \r \t \a \b, other bytes as \xHH),
 * redacted arguments as "(redacted)". Expected lines were taken from
 * redis-server 7.0's MONITOR for the same commands. */
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "unit.h"

START_TEST(line_format)
{
    struct argv_ref argv[3] = {{"SET", 3}, {"sp ace", 6}, {"q\"\\\n\r\t\a\b\x01\xff\x7f", 11}};
    bool redact[2] = {false, true};
    struct argv_ref auth[2] = {{"auth", 4}, {"secret", 6}};
    size_t n;
    char *l = monitor_format(1733371200000042LL, 3, "127.0.0.1:5555", 3, argv, NULL, &n);
    ck_assert_str_eq(l, "1733371200.000042 [3 127.0.0.1:5555] \"SET\" \"sp ace\" "
                        "\"q\\\"\\\\\\n\\r\\t\\a\\b\\x01\\xff\\x7f\"");
    ck_assert_int_eq(n, strlen(l));
    free(l);
    l = monitor_format(5000001, 0, "lua", 2, auth, redact, &n);
    ck_assert_str_eq(l, "5.000001 [0 lua] \"auth\" \"(redacted)\"");
    free(l);
    l = monitor_format(0, 0, "unix:/tmp/s", 0, NULL, NULL, &n);
    ck_assert_str_eq(l, "0.000000 [0 unix:/tmp/s] ");
    free(l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = unit_tcase("monitor", 60);
    tcase_add_test(tc, line_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
