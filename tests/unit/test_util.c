/* test_util.c — unit tests for core/lib/util.c: Redis's string2ll rules,
 * INCRBYFLOAT / RESP3 number formatting, stringmatchlen-style globbing and
 * sdssplitargs-style line splitting. Expected values were taken from
 * redis-server 7.0.15 (INCRBYFLOAT results, KEYS pattern results). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "unit.h"

/* ---- util_str2ll ---- */

static bool s2ll(const char *s, long long *v)
{
    return util_str2ll(s, strlen(s), v);
}

START_TEST(str2ll_accepts)
{
    static const struct {
        const char *s;
        long long v;
    } ok[] = {
        {"0", 0},
        {"1", 1},
        {"-1", -1},
        {"9", 9},
        {"10", 10},
        {"12345", 12345},
        {"-12345", -12345},
        {"9223372036854775807", LLONG_MAX},
        {"-9223372036854775808", LLONG_MIN},
        {"9223372036854775806", LLONG_MAX - 1},
        {"-9223372036854775807", LLONG_MIN + 1},
    };
    size_t i;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        long long v = 42;
        ck_assert_msg(s2ll(ok[i].s, &v), "rejected \"%s\"", ok[i].s);
        ck_assert_msg(v == ok[i].v, "\"%s\" parsed as %lld", ok[i].s, v);
    }
}
END_TEST

START_TEST(str2ll_rejects)
{
    static const char *const bad[] = {
        "",
        "-",
        "-0", /* Redis: only "0" may start with a zero */
        "00",
        "01",
        "-01",
        "007",
        "+1",
        "+0",
        " 1",
        "1 ",
        "\t1",
        "1\n",
        "1a",
        "a1",
        "1.0",
        "1e3",
        "0x10",
        "--1",
        "9223372036854775808",   /* LLONG_MAX + 1 */
        "-9223372036854775809",  /* LLONG_MIN - 1 */
        "18446744073709551615",  /* ULLONG_MAX */
        "18446744073709551616",  /* ULLONG_MAX + 1 */
        "99999999999999999999",  /* 20 digits */
        "-99999999999999999999", /* 21 chars */
        "100000000000000000000", /* 21 digits */
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v = 42;
        ck_assert_msg(!s2ll(bad[i], &v), "accepted \"%s\" as %lld", bad[i], v);
    }
}
END_TEST

START_TEST(str2ll_uses_length_not_nul)
{
    long long v = 0;
    /* The buffer is not NUL-terminated where the length ends. */
    ck_assert(util_str2ll("123456", 3, &v));
    ck_assert_int_eq(v, 123);
    /* An embedded NUL is not a digit. */
    ck_assert(!util_str2ll("12\0"
                           "3",
                           4, &v));
    ck_assert(!util_str2ll("0", 0, &v));
}
END_TEST

START_TEST(ll2str_round_trips)
{
    static const long long vals[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    size_t i;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char buf[32];
        long long back;
        int n = util_ll2str(buf, vals[i]);
        ck_assert_int_eq(n, (int)strlen(buf));
        ck_assert(util_str2ll(buf, (size_t)n, &back));
        ck_assert(back == vals[i]);
    }
    {
        char buf[32];
        util_ll2str(buf, LLONG_MIN);
        ck_assert_str_eq(buf, "-9223372036854775808");
        util_ull2str(buf, ULLONG_MAX);
        ck_assert_str_eq(buf, "18446744073709551615");
    }
    {
        /* every digit count and its edges, and a sweep, against printf */
        unsigned long long p = 1, v;
        char buf[32], want[32];
        int d, k;
        for (d = 0; d < 20; d++, p *= 10) {
            unsigned long long edges[] = {p - 1, p, p + 1, p * 9 / 10 * 10 / 9, p + p / 2};
            for (k = 0; k < 5; k++) {
                snprintf(want, sizeof(want), "%llu", edges[k]);
                ck_assert_int_eq(util_ull2str(buf, edges[k]), (int)strlen(want));
                ck_assert_str_eq(buf, want);
            }
        }
        for (v = 0; v < 200000; v += 7) {
            snprintf(want, sizeof(want), "%llu", v * 1000003ULL);
            util_ull2str(buf, v * 1000003ULL);
            ck_assert_str_eq(buf, want);
        }
    }
}
END_TEST

/* ---- util_ld2str (INCRBYFLOAT) and util_d2str (RESP3 double) ---- */

/* Parse a and b as INCRBYFLOAT does, add, and format the sum. */
static const char *incrbyfloat(const char *a, const char *b, char *buf, size_t len)
{
    long double x, y;
    ck_assert(util_str2ld(a, strlen(a), &x));
    ck_assert(util_str2ld(b, strlen(b), &y));
    ck_assert(util_ld2str(buf, len, x + y) > 0);
    return buf;
}

START_TEST(ld2str_like_incrbyfloat)
{
    /* value, increment, what redis-server 7.0.15 replies to INCRBYFLOAT */
    static const char *const cases[][3] = {
        {"10.50", "0.1", "10.6"},
        {"10.6", "-5", "5.6"},
        {"5.0e3", "2.0e2", "5200"},
        {"0", "0.1", "0.1"},
        {"3", "0.5", "3.5"},
        {"0", "-3.14", "-3.14"},
        {"0", "1.23456789012345678", "1.23456789012345678"},
        {"0", "-0.0", "0"},
        {"0", "1e-20", "0"},
        {"0", "-1e-20", "0"}, /* "-0" becomes "0" */
        {"1", "0.00000000000000001", "1.00000000000000001"},
        {"0", "1e17", "100000000000000000"},
        {"0", "123456789.123456789", "123456789.12345678899873747"},
        {"0", "17179869184.1", "17179869184.09999999962747097"},
        {"0", "1e30", "1000000000000000000024696061952"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[5 * 1024];
        const char *got = incrbyfloat(cases[i][0], cases[i][1], buf, sizeof(buf));
        ck_assert_msg(strcmp(got, cases[i][2]) == 0, "%s + %s: got \"%s\", Redis says \"%s\"",
                      cases[i][0], cases[i][1], got, cases[i][2]);
    }
}
END_TEST

START_TEST(ld2str_special)
{
    char buf[64];
    int n;
    n = util_ld2str(buf, sizeof(buf), (long double)INFINITY);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(buf, "inf");
    n = util_ld2str(buf, sizeof(buf), -(long double)INFINITY);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(buf, "-inf");
    /* No room: 0, as Redis's ld2string. */
    ck_assert_int_eq(util_ld2str(buf, 4, -(long double)INFINITY), 0);
    ck_assert_int_eq(util_ld2str(buf, 5, 123456.5L), 0);
    n = util_ld2str(buf, sizeof(buf), 2.0L);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(buf, "2");
    n = util_ld2str(buf, sizeof(buf), -2.25L);
    ck_assert_str_eq(buf, "-2.25");
    ck_assert_int_eq(n, 5);
}
END_TEST

START_TEST(str2ld_rules)
{
    long double v;
    ck_assert(util_str2ld("1.5", 3, &v) && v == 1.5L);
    ck_assert(util_str2ld("-1e3", 4, &v) && v == -1000.0L);
    ck_assert(util_str2ld("inf", 3, &v) && isinf(v));
    ck_assert(!util_str2ld("nan", 3, &v));
    ck_assert(!util_str2ld(" 1", 2, &v));
    ck_assert(!util_str2ld("1 ", 2, &v));
    ck_assert(!util_str2ld("1x", 2, &v));
    ck_assert(!util_str2ld("", 0, &v));
    {
        double d;
        ck_assert(util_str2d("0.25", 4, &d) && d == 0.25);
        ck_assert(!util_str2d("1e999", 5, &d)); /* overflow: ERANGE */
        ck_assert(!util_str2d("abc", 3, &d));
        ck_assert(!util_str2d("NaN", 3, &d));
    }
}
END_TEST

START_TEST(d2str_resp3)
{
    static const struct {
        double d;
        const char *s;
    } cases[] = {
        {1.5, "1.5"},
        {0.1, "0.10000000000000001"}, /* %.17g, as Redis 7.0's addReplyDouble */
        {3.0, "3"},
        {-2.5, "-2.5"},
        {0.0, "0"},
        {1e300, "1.0000000000000001e+300"},
        {123456789012345678.0, "1.2345678901234568e+17"},
    };
    size_t i;
    char buf[128];
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = util_d2str(buf, sizeof(buf), cases[i].d);
        ck_assert_str_eq(buf, cases[i].s);
        ck_assert_int_eq(n, (int)strlen(cases[i].s));
    }
    util_d2str(buf, sizeof(buf), INFINITY);
    ck_assert_str_eq(buf, "inf");
    util_d2str(buf, sizeof(buf), -INFINITY);
    ck_assert_str_eq(buf, "-inf");
}
END_TEST

/* ---- util_glob ---- */

static bool glob(const char *p, const char *s)
{
    return util_glob(p, strlen(p), s, strlen(s), false);
}

START_TEST(glob_cases)
{
    /* pattern, string, Redis's answer (KEYS on a db holding only that key) */
    static const struct {
        const char *p, *s;
        bool m;
    } cases[] = {
        {"*", "abc", true},
        /* stringmatchlen never matches an empty string (KEYS * skips the
         * matcher: that is the handler's business). */
        {"*", "", false},
        {"**", "", false},
        {"?", "", false},
        {"*a", "a", true},
        {"a*", "a", true},
        {"a**b", "ab", true},
        {"h?llo", "hello", true},
        {"h?llo", "hllo", false},
        {"h*llo", "hllo", true},
        {"h*llo", "heeello", true},
        {"h[ae]llo", "hello", true},
        {"h[ae]llo", "hillo", false},
        {"h[^e]llo", "hallo", true},
        {"h[^e]llo", "hello", false},
        {"h[a-b]llo", "hbllo", true},
        {"h[a-b]llo", "hcllo", false},
        {"[c-a]", "b", true}, /* reversed range */
        {"\\*", "*", true},
        {"\\*", "a", false},
        {"a\\?", "a?", true},
        {"a\\?", "ab", false},
        {"a[", "a", false},
        {"a[", "a[", false},
        {"a[b", "ab", true},
        {"a[b-", "ab", true},
        {"a[b-", "a-", true},
        {"a\\", "a\\", true}, /* trailing backslash is literal */
        {"a\\", "a", false},
        {"[\\]]", "]", true},
        {"[]]", "]", false},
        {"[]", "]", false},
        {"[^]", "a", true},
        {"[a-]", "-", false},
        {"[a-]", "a", true},
        {"a*b*c", "axxbyyc", true},
        {"a*b*c", "axxbyy", false},
        {"[[]", "[", true},
        {"[\\", "\\", true},
        {"[a\\-c]", "-", true},
        {"[a\\-c]", "b", false},
        {"[\\x]", "x", true},
        {"*?", "a", true},
        {"*?", "", false},
        {"*\\", "a\\", true},
        {"h[A-B]llo", "hbllo", false},
        {"H*", "hx", false},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(glob(cases[i].p, cases[i].s) == cases[i].m,
                      "pattern \"%s\" string \"%s\": expected %s", cases[i].p, cases[i].s,
                      cases[i].m ? "match" : "no match");
}
END_TEST

START_TEST(glob_nocase)
{
    ck_assert(util_glob("HELLO", 5, "hello", 5, true));
    ck_assert(!util_glob("HELLO", 5, "hello", 5, false));
    ck_assert(util_glob("h[A-C]llo", 9, "hbllo", 5, true));
    ck_assert(util_glob("h[a-c]llo", 9, "HBLLO", 5, true));
    ck_assert(util_glob("h[^X]llo", 8, "hxllo", 5, false));
    ck_assert(!util_glob("h[^X]llo", 8, "hxllo", 5, true));
    ck_assert(util_glob("*B?", 3, "aabc", 4, true));
}
END_TEST

START_TEST(glob_binary)
{
    /* Lengths, not NULs, delimit pattern and string. */
    ck_assert(util_glob("a\0*", 3, "a\0bc", 4, false));
    ck_assert(!util_glob("a\0*", 3, "a\1bc", 4, false));
    ck_assert(util_glob("a?c", 3, "a\0c", 3, false));
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(glob_pathological_is_fast)
{
    /* Redis's keyspace test "Regression for pattern matching long nested
     * loops" (CVE-2022-36021): each '*' must not retry longer matches once
     * the rest of the pattern failed everywhere. Redis answers in well
     * under a millisecond; an exponential matcher never finishes. */
    char pat[256], str[256];
    size_t pl = 0, sl;
    int i;
    double t0, dt;
    for (i = 0; i < 50; i++) {
        pat[pl++] = 'a';
        pat[pl++] = '*';
    }
    pat[pl++] = 'b';
    memset(str, 'a', 200);
    sl = 200;
    t0 = now_s();
    ck_assert(!util_glob(pat, pl, str, sl, false));
    dt = now_s() - t0;
    ck_assert_msg(dt < 1.0, "a*a*...b took %.2f s", dt);
}
END_TEST

/* unit repeated k times against k 'a's: does util_glob match? */
static bool glob_repeat(const char *unit, size_t k)
{
    size_t ul = strlen(unit), i;
    char *pat = xmalloc(ul * k), *str = xmalloc(k);
    bool m;
    for (i = 0; i < k; i++)
        memcpy(pat + i * ul, unit, ul);
    memset(str, 'a', k);
    m = util_glob(pat, ul * k, str, k, false);
    free(pat);
    free(str);
    return m;
}

START_TEST(glob_deep_pattern_no_crash)
{
    /* Redis 7.0.15's stringmatchlen gives up (no match) once a '*' would
     * recurse more than 1000 levels deep, even where the pattern would
     * match. KEYS on redis-server 7.0.15, one key of k 'a's:
     *   "*?" x 1000 matches, "*?" x 1001 does not;
     *   "a*" x 1001 matches (its last '*' is trailing: no recursion),
     *   "a*" x 1002 does not; "*?" x 50000: no match, no crash. */
    double t0 = now_s();
    ck_assert(glob_repeat("*?", 10));
    ck_assert(glob_repeat("*?", 1000));
    ck_assert_msg(!glob_repeat("*?", 1001), "\"*?\" x 1001 matched; Redis gives up at depth 1000");
    ck_assert(glob_repeat("a*", 1001));
    ck_assert_msg(!glob_repeat("a*", 1002), "\"a*\" x 1002 matched; Redis gives up at depth 1000");
    ck_assert_msg(!glob_repeat("*?", 50000),
                  "\"*?\" x 50000 matched; Redis gives up at depth 1000");
    ck_assert_msg(now_s() - t0 < 5.0, "deep patterns took too long");
}
END_TEST

/* ---- util_split_args ---- */

static int split(const char *line, char ***w, size_t **l)
{
    return util_split_args(line, strlen(line), w, l);
}

START_TEST(split_plain)
{
    char **w;
    size_t *l;
    int n = split("  set   key  value \r\n", &w, &l);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(w[0], "set");
    ck_assert_str_eq(w[1], "key");
    ck_assert_str_eq(w[2], "value");
    ck_assert_uint_eq(l[2], 5);
    util_free_words(w, l, n);

    n = split("", &w, &l);
    ck_assert_int_eq(n, 0);
    util_free_words(w, l, n);
    n = split("   \t ", &w, &l);
    ck_assert_int_eq(n, 0);
    util_free_words(w, l, n);
}
END_TEST

START_TEST(split_quotes)
{
    char **w;
    size_t *l;
    int n = split("set \"a b\" 'c d' \"\" ''", &w, &l);
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(w[1], "a b");
    ck_assert_str_eq(w[2], "c d");
    ck_assert_uint_eq(l[3], 0);
    ck_assert_str_eq(w[3], "");
    ck_assert_uint_eq(l[4], 0);
    util_free_words(w, l, n);

    /* A word may start unquoted and continue quoted: a"b c" is one word. */
    n = split("a\"b c\" d", &w, &l);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(w[0], "ab c");
    ck_assert_str_eq(w[1], "d");
    util_free_words(w, l, n);
}
END_TEST

START_TEST(split_escapes)
{
    char **w;
    size_t *l;
    int n = split("\"\\x41\\x62\\n\\r\\t\\b\\a\\\"\\\\\\q\" 'it\\'s' '\\n'", &w, &l);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(l[0], 10);
    ck_assert_mem_eq(w[0], "Ab\n\r\t\b\a\"\\q", 10);
    ck_assert_str_eq(w[1], "it's");
    ck_assert_str_eq(w[2], "\\n"); /* single quotes: only \' is an escape */
    util_free_words(w, l, n);

    /* \x00 yields a NUL inside the word; the length counts it. */
    n = split("\"a\\x00b\"", &w, &l);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(l[0], 3);
    ck_assert_mem_eq(w[0], "a\0b", 3);
    util_free_words(w, l, n);

    /* Not a valid hex escape: \x then the literal characters. */
    n = split("\"\\xZZ\"", &w, &l);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(w[0], "xZZ");
    util_free_words(w, l, n);
}
END_TEST

START_TEST(split_unbalanced)
{
    static const char *const bad[] = {
        "\"abc", "'abc",       "set \"k v", "\"a\"b", /* closing quote then a non-space */
        "'a'b",  "\"a\"\"b\"", "set 'x",    "\"\\\"", "\"abc\\\"",
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char **w = (char **)1;
        size_t *l = (size_t *)1;
        ck_assert_msg(split(bad[i], &w, &l) == -1, "accepted [%s]", bad[i]);
        ck_assert_ptr_null(w);
        ck_assert_ptr_null(l);
    }
    {
        /* A closing quote followed by a space or the end is fine. */
        char **w;
        size_t *l;
        int n = split("\"a\" \"b\"", &w, &l);
        ck_assert_int_eq(n, 2);
        util_free_words(w, l, n);
    }
}
END_TEST

START_TEST(split_uses_length)
{
    char **w;
    size_t *l;
    /* Only the first 5 bytes ("ab cd") count. */
    int n = util_split_args("ab cdef", 5, &w, &l);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(w[1], "cd");
    util_free_words(w, l, n);
    /* A quote that closes only beyond the length is unbalanced. */
    ck_assert_int_eq(util_split_args("\"ab\"", 3, &w, &l), -1);
}
END_TEST

START_TEST(eqci)
{
    ck_assert(util_eqci("GeT", 3, "get"));
    ck_assert(!util_eqci("GE", 2, "get"));
    ck_assert(!util_eqci("GETX", 4, "get"));
    ck_assert(util_eqci("", 0, ""));
}
END_TEST

static void put_buf(void *ctx, const char *s, size_t n)
{
    char *b = ctx;
    strncat(b, s, n);
}

/* util_repr: sdscatrepr's text (MONITOR lines and the Lua debugger). */
START_TEST(repr)
{
    char b[128];
    b[0] = 0;
    util_repr("ab\\\"\n\r\t\a\bc\x01\xff~ ", 14, put_buf, b);
    ck_assert_str_eq(b, "\"ab\\\\\\\"\\n\\r\\t\\a\\bc\\x01\\xff~ \"");
    b[0] = 0;
    util_repr("", 0, put_buf, b);
    ck_assert_str_eq(b, "\"\"");
    b[0] = 0;
    util_repr("a\0b", 3, put_buf, b);
    ck_assert_str_eq(b, "\"a\\x00b\"");
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = unit_tcase("numbers", 30);
    tcase_add_test(tc, str2ll_accepts);
    tcase_add_test(tc, str2ll_rejects);
    tcase_add_test(tc, str2ll_uses_length_not_nul);
    tcase_add_test(tc, ll2str_round_trips);
    tcase_add_test(tc, ld2str_like_incrbyfloat);
    tcase_add_test(tc, ld2str_special);
    tcase_add_test(tc, str2ld_rules);
    tcase_add_test(tc, d2str_resp3);
    suite_add_tcase(s, tc);

    tc = unit_tcase("glob", 30);
    tcase_add_test(tc, glob_cases);
    tcase_add_test(tc, glob_nocase);
    tcase_add_test(tc, glob_binary);
    suite_add_tcase(s, tc);

    /* Patterns that make a naive backtracking matcher exponential: a short
     * timeout, so a regression fails fast instead of hanging the suite. */
    tc = unit_tcase("glob_pathological", 10);
    tcase_add_test(tc, glob_pathological_is_fast);
    tcase_add_test(tc, glob_deep_pattern_no_crash);
    suite_add_tcase(s, tc);

    tc = unit_tcase("split_args", 30);
    tcase_add_test(tc, split_plain);
    tcase_add_test(tc, split_quotes);
    tcase_add_test(tc, split_escapes);
    tcase_add_test(tc, split_unbalanced);
    tcase_add_test(tc, split_uses_length);
    tcase_add_test(tc, eqci);
    tcase_add_test(tc, repr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(util_suite());
}
