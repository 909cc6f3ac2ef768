/* test_resp_ldb.c — unit tests for proto/resp_ldb.c, the Lua debugger's
 * request reader: Redis 7.0's lenient rules (bytes before '*' skipped,
 * atoi counts), its refusals (no '*', a count outside 1..1024, an empty or
 * over-long word, a word not followed by CRLF, a missing '$'), and every
 * prefix of a valid request asking for more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_ldb.h"
#include "unit.h"

static enum resp_ldb_result parse(const char *s, size_t n, int *argc, char ***argv, size_t **lens)
{
    *argc = 0;
    *argv = NULL;
    *lens = NULL;
    return resp_ldb_parse(s, n, argc, argv, lens);
}

START_TEST(one_request)
{
    static const char req[] = "*3\r\n$1\r\nb\r\n$2\r\n12\r\n$3\r\na b\r\n";
    int argc;
    char **argv;
    size_t *lens;
    ck_assert_int_eq(parse(req, sizeof(req) - 1, &argc, &argv, &lens), RESP_LDB_OK);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[0], "b");
    ck_assert_str_eq(argv[1], "12");
    ck_assert_str_eq(argv[2], "a b");
    ck_assert_uint_eq(lens[2], 3);
    resp_ldb_free(argc, argv, lens);
}
END_TEST

START_TEST(every_prefix_wants_more)
{
    static const char req[] = "*2\r\n$1\r\np\r\n$4\r\nARGV\r\n";
    size_t i;
    for (i = 0; i < sizeof(req) - 1; i++) {
        int argc;
        char **argv;
        size_t *lens;
        ck_assert_msg(parse(req, i, &argc, &argv, &lens) == RESP_LDB_MORE, "prefix %zu", i);
    }
}
END_TEST

START_TEST(lenient)
{
    /* bytes before the '*' are skipped; a trailing request is ignored */
    static const char req[] = "xx*1\r\n$1\r\ns\r\n*1\r\n$1\r\nc\r\n";
    int argc;
    char **argv;
    size_t *lens;
    ck_assert_int_eq(parse(req, sizeof(req) - 1, &argc, &argv, &lens), RESP_LDB_OK);
    ck_assert_int_eq(argc, 1);
    ck_assert_str_eq(argv[0], "s");
    resp_ldb_free(argc, argv, lens);
}
END_TEST

START_TEST(refused)
{
    static const char *const bad[] = {
        "hello\r\n",               /* no '*' */
        "*0\r\n",                  /* no words */
        "*-1\r\n",                 /* negative */
        "*1025\r\n",               /* too many */
        "*1\r\n$0\r\n\r\n",        /* empty word */
        "*1\r\n$1025\r\n",         /* word too long */
        "*1\r\n:1\r\n",            /* not a bulk */
        "*1\r\n$1\r\nabc\r\n",     /* no CRLF after the word */
        "*2\r\n$1\r\na\r\nxx\r\n", /* second word not a bulk */
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int argc;
        char **argv;
        size_t *lens;
        ck_assert_msg(parse(bad[i], strlen(bad[i]), &argc, &argv, &lens) == RESP_LDB_ERROR,
                      "case %zu", i);
    }
}
END_TEST

START_TEST(limits)
{
    /* a 1024-byte word is the longest taken */
    char req[1100];
    int n = snprintf(req, sizeof(req), "*1\r\n$1024\r\n"), argc;
    char **argv;
    size_t *lens;
    memset(req + n, 'x', 1024);
    memcpy(req + n + 1024, "\r\n", 2);
    ck_assert_int_eq(parse(req, (size_t)n + 1026, &argc, &argv, &lens), RESP_LDB_OK);
    ck_assert_uint_eq(lens[0], 1024);
    resp_ldb_free(argc, argv, lens);
    ck_assert_int_eq(parse("", 0, &argc, &argv, &lens), RESP_LDB_MORE);
}
END_TEST

static Suite *ldb_suite(void)
{
    Suite *s = suite_create("resp_ldb");
    TCase *tc = unit_tcase("parse", 120);
    tcase_add_test(tc, one_request);
    tcase_add_test(tc, every_prefix_wants_more);
    tcase_add_test(tc, lenient);
    tcase_add_test(tc, refused);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(ldb_suite());
}
