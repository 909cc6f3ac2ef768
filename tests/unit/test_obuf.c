/* test_obuf.c — unit tests for core/lib/obuf.c's text: obuf_cat keeping a
 * NUL past the text, and obuf_printf (the one printf-into-a-buffer the
 * debugger, the latency report and HTTP headers share): growth past the
 * first allocation, text longer than any stack buffer, %% and NUL-kept
 * buffers mixed with obuf_append; obuf_trim giving back an emptied big
 * buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"
#include "unit.h"

START_TEST(printf_into_empty)
{
    struct obuf o = {0};
    obuf_printf(&o, "%s-%d-%05.1f", "ab", -7, 2.25);
    ck_assert_uint_eq(o.len, strlen("ab--7-002.2"));
    ck_assert_str_eq(o.buf, "ab--7-002.2");
    obuf_printf(&o, "|%%|%c%%", 'x');
    ck_assert_str_eq(o.buf, "ab--7-002.2|%|x%");
    ck_assert_uint_eq(o.len, strlen(o.buf));
    obuf_free(&o);
}
END_TEST

START_TEST(printf_empty_result_terminates)
{
    struct obuf o = {0};
    obuf_printf(&o, "%s", "");
    ck_assert_ptr_nonnull(o.buf);
    ck_assert_uint_eq(o.len, 0);
    ck_assert_str_eq(o.buf, "");
    obuf_free(&o);
}
END_TEST

/* One piece longer than the first allocation (16 KB) and far longer than
 * the old helpers' stack buffers (512, 1024 bytes): nothing truncated. */
START_TEST(printf_long_string)
{
    struct obuf o = {0};
    size_t n = 100000, i;
    char *big = malloc(n + 1);
    for (i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = 0;
    obuf_printf(&o, "<%s>%d", big, 42);
    ck_assert_uint_eq(o.len, n + 4);
    ck_assert_int_eq(o.buf[0], '<');
    ck_assert_int_eq(memcmp(o.buf + 1, big, n), 0);
    ck_assert_str_eq(o.buf + 1 + n, ">42");
    ck_assert_uint_ge(o.cap, o.len + 1);
    free(big);
    obuf_free(&o);
}
END_TEST

/* Many small pieces: the buffer grows past its first size across calls
 * (each call finding the room short at a different point). */
START_TEST(printf_grows_across_calls)
{
    struct obuf o = {0};
    size_t first, i, want = 0;
    char line[64];
    obuf_printf(&o, "%s", "start;");
    first = o.cap;
    want = strlen("start;");
    for (i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof(line), "%zu:%%:%x;", i, (unsigned)i * 7919u);
        obuf_printf(&o, "%zu:%%:%x;", i, (unsigned)i * 7919u);
        want += (size_t)n;
        ck_assert_uint_eq(o.len, want);
        ck_assert_int_eq(memcmp(o.buf + o.len - (size_t)n, line, (size_t)n), 0);
        ck_assert_int_eq(o.buf[o.len], 0);
    }
    ck_assert_uint_gt(o.cap, first);
    ck_assert_uint_eq(strlen(o.buf), o.len);
    obuf_free(&o);
}
END_TEST

/* Appending after bytes obuf_append wrote (no NUL there) and at exactly
 * the buffer's end: the text lands after them, NUL kept. */
START_TEST(printf_after_append_and_at_the_edge)
{
    struct obuf o = {0};
    char fill[16384];
    memset(fill, 'z', sizeof(fill));
    obuf_append(&o, fill, sizeof(fill) - 3); /* 3 bytes of room left */
    obuf_printf(&o, "%d", 123);              /* fits, but not with its NUL */
    ck_assert_uint_eq(o.len, sizeof(fill));
    ck_assert_int_eq(memcmp(o.buf + o.len - 3, "123", 3), 0);
    ck_assert_int_eq(o.buf[o.len], 0);
    obuf_cat(&o, "ab", 2);
    obuf_cats(&o, "cd");
    ck_assert_uint_eq(o.len, sizeof(fill) + 4);
    ck_assert_str_eq(o.buf + sizeof(fill), "abcd");
    obuf_free(&o);
}
END_TEST

static void vwrap(struct obuf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    obuf_vprintf(o, fmt, ap);
    va_end(ap);
}

START_TEST(vprintf_retries_with_its_own_copy)
{
    struct obuf o = {0};
    char big[40000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vwrap(&o, "%s|%s|%d", "head", big, 9); /* second pass reads the args again */
    ck_assert_uint_eq(o.len, 4 + 1 + sizeof(big) - 1 + 2);
    ck_assert_str_eq(o.buf + o.len - 2, "|9");
    obuf_free(&o);
}
END_TEST

START_TEST(trim_gives_back_only_an_empty_buffer_past_keep)
{
    struct obuf o = {0};
    char big[100000];
    memset(big, 'z', sizeof(big));
    obuf_append(&o, big, sizeof(big));
    obuf_trim(&o, 16384); /* not empty: kept */
    ck_assert_uint_eq(o.len, sizeof(big));
    ck_assert_ptr_nonnull(o.buf);
    o.len = 0;
    obuf_trim(&o, 16384); /* empty, past keep: freed */
    ck_assert_ptr_null(o.buf);
    ck_assert_uint_eq(o.cap, 0);
    obuf_append(&o, big, 100); /* usable again */
    ck_assert_uint_eq(o.len, 100);
    o.len = 0;
    obuf_trim(&o, 16384); /* empty, within keep: kept */
    ck_assert_ptr_nonnull(o.buf);
    obuf_free(&o);
}
END_TEST

static Suite *obuf_suite(void)
{
    Suite *s = suite_create("obuf");
    TCase *tc = unit_tcase("text", 60);
    tcase_add_test(tc, printf_into_empty);
    tcase_add_test(tc, printf_empty_result_terminates);
    tcase_add_test(tc, printf_long_string);
    tcase_add_test(tc, printf_grows_across_calls);
    tcase_add_test(tc, printf_after_append_and_at_the_edge);
    tcase_add_test(tc, vprintf_retries_with_its_own_copy);
    tcase_add_test(tc, trim_gives_back_only_an_empty_buffer_past_keep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(obuf_suite());
}
