/* test_ldb_text.c — unit tests for core/script/script_ldb_text.c: Redis's
 * quoting (sdscatrepr), the "<reply>" notation the debugger's tee writes
 * for every reply type in RESP2 and RESP3 (nested and deferred aggregates
 * included) while every call still reaches the sink behind it, and the
 * capture of an error. */
#include <stdlib.h>
#include <string.h>

#include "rec_sink.h"
#include "script_ldb_text.h"
#include "unit.h"

START_TEST(repr_escapes)
{
    struct obuf t = {0};
    ldbt_repr(&t, "a\"b\\c\n\r\t\a\b\x01\xff z", 14);
    ck_assert_str_eq(t.buf, "\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff z\"");
    free(t.buf);
}
END_TEST

/* Run f against a tee (resp) in front of a recording sink: the notation. */
static char *notation(int resp, void (*f)(struct reply *r), struct rec_sink *rec)
{
    struct reply next = {&rec_sink_ops, rec, resp, 0}, r;
    struct ldb_tee tee;
    rec_sink_reset(rec);
    ldb_tee_init(&tee, &r, &next);
    f(&r);
    return tee.text.buf;
}

static void scalars(struct reply *r)
{
    reply_array(r, 9);
    reply_status(r, "OK");
    reply_error(r, "ERR bad");
    reply_int(r, -42);
    reply_bulk(r, "x\ny", 3);
    reply_null(r);
    reply_null_array(r);
    reply_double(r, 1.5);
    reply_bool(r, true);
    reply_verbatim(r, "txt", 3);
}

static void nested(struct reply *r)
{
    void *h;
    reply_map(r, 2);
    reply_bulk(r, "a", 1);
    reply_array(r, 0);
    reply_bulk(r, "b", 1);
    h = reply_defer(r, AGG_SET);
    reply_int(r, 1);
    reply_array(r, 2);
    reply_int(r, 2);
    reply_int(r, 3);
    reply_set_deferred(r, h, 2);
}

START_TEST(resp2_notation)
{
    struct rec_sink rec;
    char *t = notation(2, scalars, &rec);
    ck_assert_str_eq(t, "<reply> [\"+OK\",\"-ERR bad\",-42,\"x\\ny\",NULL,NULL,\"1.5\",1,\"txt\"]");
    ck_assert_int_eq(rec.nerr, 1); /* the sink behind got every call */
    free(t);
    t = notation(2, nested, &rec);
    ck_assert_str_eq(t, "<reply> [\"a\",[],\"b\",[1,[2,3]]]");
    free(t);
}
END_TEST

START_TEST(resp3_notation)
{
    struct rec_sink rec;
    char *t = notation(3, scalars, &rec);
    ck_assert_str_eq(t, "<reply> [\"+OK\",\"-ERR bad\",-42,\"x\\ny\",(null),(null),(double) 1.5,"
                        "#true,]");
    free(t);
    t = notation(3, nested, &rec);
    ck_assert_str_eq(t, "<reply> {\"a\" => [],\"b\" => ~(1,[2,3])}");
    free(t);
}
END_TEST

START_TEST(capture_keeps_the_error)
{
    struct reply r;
    char *err = NULL;
    ldb_capture_init(&r, &err, 2);
    reply_ok(&r);
    reply_error(&r, "ERR first");
    reply_error(&r, "ERR Number of keys can't be greater than number of args");
    ck_assert_str_eq(err, "ERR Number of keys can't be greater than number of args");
    free(err);
}
END_TEST

static Suite *ldb_text_suite(void)
{
    Suite *s = suite_create("ldb_text");
    TCase *tc = unit_tcase("text", 120);
    tcase_add_test(tc, repr_escapes);
    tcase_add_test(tc, resp2_notation);
    tcase_add_test(tc, resp3_notation);
    tcase_add_test(tc, capture_keeps_the_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(ldb_text_suite());
}
