/* test_resp_encode.c — unit tests for proto/resp_encode.c: the exact
 * RESP2 and RESP3 bytes of every reply type through resp_reply_ops (maps
 * and sets degraded to arrays for RESP2, doubles as %.17g bulk strings,
 * booleans as integers, verbatim strings as bulk), deferred lengths with
 * nested aggregates, and the shared helpers of core/kernel/reply.c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "resp_encode.h"
#include "util.h"
#include "unit.h"

struct enc {
    struct obuf o;
    struct reply r;
};

static void enc_init(struct enc *e, int resp)
{
    memset(e, 0, sizeof(*e));
    e->r.ops = &resp_reply_ops;
    e->r.ctx = &e->o;
    e->r.resp = resp;
}

/* Compare the bytes written so far with want (length given), then reset. */
static void expect_bytes(struct enc *e, const char *want, size_t n, const char *what)
{
    ck_assert_msg(e->o.len == n && memcmp(e->o.buf, want, n) == 0,
                  "RESP%d %s: got %zu bytes [%.*s], want %zu bytes [%.*s]", e->r.resp, what,
                  e->o.len, (int)e->o.len, e->o.buf ? e->o.buf : "", n, (int)n, want);
    e->o.len = 0;
}
#define EXPECT(e, lit, what) expect_bytes(e, lit, sizeof(lit) - 1, what)

/* Each scalar case: (RESP2 bytes, RESP3 bytes). */
static void scalars(int resp)
{
    struct enc e;
    bool r3 = resp == 3;
    enc_init(&e, resp);

    reply_ok(&e.r);
    EXPECT(&e, "+OK\r\n", "ok");
    reply_status(&e.r, "PONG");
    EXPECT(&e, "+PONG\r\n", "status");
    reply_error(&e.r, "ERR oops");
    EXPECT(&e, "-ERR oops\r\n", "error");

    reply_int(&e.r, 0);
    EXPECT(&e, ":0\r\n", "int 0");
    reply_int(&e.r, 9);
    EXPECT(&e, ":9\r\n", "int 9");
    reply_int(&e.r, 10);
    EXPECT(&e, ":10\r\n", "int 10");
    reply_int(&e.r, -1);
    EXPECT(&e, ":-1\r\n", "int -1");
    reply_int(&e.r, LLONG_MAX);
    EXPECT(&e, ":9223372036854775807\r\n", "int max");
    reply_int(&e.r, LLONG_MIN);
    EXPECT(&e, ":-9223372036854775808\r\n", "int min");

    reply_bulk(&e.r, "hello", 5);
    EXPECT(&e, "$5\r\nhello\r\n", "bulk");
    reply_bulk(&e.r, "", 0);
    EXPECT(&e, "$0\r\n\r\n", "empty bulk");
    reply_bulk(&e.r, "a\r\n\0b", 5);
    EXPECT(&e, "$5\r\na\r\n\0b\r\n", "binary bulk");
    reply_cstr(&e.r, "0123456789");
    EXPECT(&e, "$10\r\n0123456789\r\n", "cstr");
    reply_bulk_ll(&e.r, -42);
    EXPECT(&e, "$3\r\n-42\r\n", "bulk_ll");

    reply_null(&e.r);
    if (r3)
        EXPECT(&e, "_\r\n", "null");
    else
        EXPECT(&e, "$-1\r\n", "null");
    reply_null_array(&e.r);
    if (r3)
        EXPECT(&e, "_\r\n", "null array");
    else
        EXPECT(&e, "*-1\r\n", "null array");

    reply_double(&e.r, 1.5);
    if (r3)
        EXPECT(&e, ",1.5\r\n", "double 1.5");
    else
        EXPECT(&e, "$3\r\n1.5\r\n", "double 1.5");
    reply_double(&e.r, 0.1);
    if (r3)
        EXPECT(&e, ",0.10000000000000001\r\n", "double 0.1");
    else
        EXPECT(&e, "$19\r\n0.10000000000000001\r\n", "double 0.1");
    reply_double(&e.r, 3.0);
    if (r3)
        EXPECT(&e, ",3\r\n", "double 3");
    else
        EXPECT(&e, "$1\r\n3\r\n", "double 3");
    reply_double(&e.r, INFINITY);
    if (r3)
        EXPECT(&e, ",inf\r\n", "double inf");
    else
        EXPECT(&e, "$3\r\ninf\r\n", "double inf");
    reply_double(&e.r, -INFINITY);
    if (r3)
        EXPECT(&e, ",-inf\r\n", "double -inf");
    else
        EXPECT(&e, "$4\r\n-inf\r\n", "double -inf");
    reply_double(&e.r, -1e-300);
    if (r3)
        EXPECT(&e, ",-1e-300\r\n", "double tiny");
    else
        EXPECT(&e, "$7\r\n-1e-300\r\n", "double tiny");
    reply_double(&e.r, 1.0 / 3);
    if (r3)
        EXPECT(&e, ",0.33333333333333331\r\n", "double 1/3");
    else
        EXPECT(&e, "$19\r\n0.33333333333333331\r\n", "double 1/3");

    reply_bool(&e.r, true);
    if (r3)
        EXPECT(&e, "#t\r\n", "true");
    else
        EXPECT(&e, ":1\r\n", "true");
    reply_bool(&e.r, false);
    if (r3)
        EXPECT(&e, "#f\r\n", "false");
    else
        EXPECT(&e, ":0\r\n", "false");

    reply_verbatim(&e.r, "hello", 5);
    if (r3)
        EXPECT(&e, "=9\r\ntxt:hello\r\n", "verbatim");
    else
        EXPECT(&e, "$5\r\nhello\r\n", "verbatim");
    reply_verbatim(&e.r, "a\r\nb", 4);
    if (r3)
        EXPECT(&e, "=8\r\ntxt:a\r\nb\r\n", "verbatim crlf");
    else
        EXPECT(&e, "$4\r\na\r\nb\r\n", "verbatim crlf");
    e.r.ops->verbatim(&e.r, "mkd", "# x", 3);
    if (r3)
        EXPECT(&e, "=7\r\nmkd:# x\r\n", "verbatim mkd");
    else
        EXPECT(&e, "$3\r\n# x\r\n", "verbatim mkd");

    e.r.ops->bignum(&e.r, "1234567999999999999999999999", 28);
    if (r3)
        EXPECT(&e, "(1234567999999999999999999999\r\n", "bignum");
    else
        EXPECT(&e, "$28\r\n1234567999999999999999999999\r\n", "bignum");
    obuf_free(&e.o);
}

START_TEST(scalars_resp2)
{
    scalars(2);
}
END_TEST

START_TEST(scalars_resp3)
{
    scalars(3);
}
END_TEST

START_TEST(aggregates)
{
    struct enc e;
    int resp;
    for (resp = 2; resp <= 3; resp++) {
        bool r3 = resp == 3;
        enc_init(&e, resp);
        reply_array(&e.r, 3);
        EXPECT(&e, "*3\r\n", "array 3");
        reply_array(&e.r, 0);
        EXPECT(&e, "*0\r\n", "array 0");
        reply_array(&e.r, 12);
        EXPECT(&e, "*12\r\n", "array 12");
        reply_map(&e.r, 2);
        if (r3)
            EXPECT(&e, "%2\r\n", "map 2");
        else
            EXPECT(&e, "*4\r\n", "map 2");
        reply_map(&e.r, 0);
        if (r3)
            EXPECT(&e, "%0\r\n", "map 0");
        else
            EXPECT(&e, "*0\r\n", "map 0");
        reply_map(&e.r, 7);
        if (r3)
            EXPECT(&e, "%7\r\n", "map 7");
        else
            EXPECT(&e, "*14\r\n", "map 7");
        reply_set(&e.r, 2);
        if (r3)
            EXPECT(&e, "~2\r\n", "set");
        else
            EXPECT(&e, "*2\r\n", "set");
        reply_push(&e.r, 3);
        if (r3)
            EXPECT(&e, ">3\r\n", "push");
        else
            EXPECT(&e, "*3\r\n", "push");
        if (r3) {
            /* DEBUG PROTOCOL attrib's bytes (handlers send attributes to
             * RESP3 clients only) */
            reply_attribute(&e.r, 1);
            reply_cstr(&e.r, "key-popularity");
            reply_array(&e.r, 2);
            reply_cstr(&e.r, "key:123");
            reply_int(&e.r, 90);
            reply_cstr(&e.r, "x");
            EXPECT(&e, "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$1\r\nx\r\n",
                   "attribute");
        }

        /* a whole nested reply: map { "a": [1, nil], "b": 1.5 } */
        reply_map(&e.r, 2);
        reply_cstr(&e.r, "a");
        reply_array(&e.r, 2);
        reply_int(&e.r, 1);
        reply_null(&e.r);
        reply_cstr(&e.r, "b");
        reply_double(&e.r, 1.5);
        if (r3)
            EXPECT(&e, "%2\r\n$1\r\na\r\n*2\r\n:1\r\n_\r\n$1\r\nb\r\n,1.5\r\n", "nested");
        else
            EXPECT(&e, "*4\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n$1\r\nb\r\n$3\r\n1.5\r\n", "nested");
        obuf_free(&e.o);
    }
}
END_TEST

START_TEST(deferred_nested)
{
    struct enc e;
    int resp;
    for (resp = 2; resp <= 3; resp++) {
        void *outer, *inner;
        enc_init(&e, resp);
        reply_status(&e.r, "before"); /* the deferred header is not at offset 0 */
        outer = reply_defer(&e.r, AGG_ARRAY);
        reply_cstr(&e.r, "a");
        inner = reply_defer(&e.r, AGG_MAP);
        reply_cstr(&e.r, "k");
        reply_int(&e.r, 1);
        reply_set_deferred(&e.r, inner, 1);
        reply_array(&e.r, 2);
        reply_int(&e.r, 1);
        reply_int(&e.r, 2);
        reply_set_deferred(&e.r, outer, 3);
        reply_status(&e.r, "after");
        if (resp == 3)
            EXPECT(
                &e,
                "+before\r\n*3\r\n$1\r\na\r\n%1\r\n$1\r\nk\r\n:1\r\n*2\r\n:1\r\n:2\r\n+after\r\n",
                "deferred nested");
        else
            EXPECT(
                &e,
                "+before\r\n*3\r\n$1\r\na\r\n*2\r\n$1\r\nk\r\n:1\r\n*2\r\n:1\r\n:2\r\n+after\r\n",
                "deferred nested");
        obuf_free(&e.o);
    }
}
END_TEST

START_TEST(deferred_shapes)
{
    struct enc e;
    void *h, *h2;
    int i;

    /* empty, and more than 9 items (a multi-digit header) */
    enc_init(&e, 2);
    h = reply_defer(&e.r, AGG_ARRAY);
    reply_set_deferred(&e.r, h, 0);
    EXPECT(&e, "*0\r\n", "deferred empty");
    h = reply_defer(&e.r, AGG_ARRAY);
    for (i = 0; i < 12; i++)
        reply_int(&e.r, i % 10);
    reply_set_deferred(&e.r, h, 12);
    EXPECT(&e, "*12\r\n:0\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n:9\r\n:0\r\n:1\r\n",
           "deferred 12");
    /* a deferred map and set degrade for RESP2, too */
    h = reply_defer(&e.r, AGG_MAP);
    reply_cstr(&e.r, "f");
    reply_cstr(&e.r, "v");
    reply_set_deferred(&e.r, h, 1);
    EXPECT(&e, "*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "deferred map resp2");
    h = reply_defer(&e.r, AGG_SET);
    reply_int(&e.r, 5);
    reply_set_deferred(&e.r, h, 1);
    EXPECT(&e, "*1\r\n:5\r\n", "deferred set resp2");
    /* siblings inside a deferred parent */
    h = reply_defer(&e.r, AGG_ARRAY);
    h2 = reply_defer(&e.r, AGG_ARRAY);
    reply_int(&e.r, 1);
    reply_set_deferred(&e.r, h2, 1);
    h2 = reply_defer(&e.r, AGG_ARRAY);
    reply_set_deferred(&e.r, h2, 0);
    reply_set_deferred(&e.r, h, 2);
    EXPECT(&e, "*2\r\n*1\r\n:1\r\n*0\r\n", "deferred siblings");
    obuf_free(&e.o);

    enc_init(&e, 3);
    h = reply_defer(&e.r, AGG_MAP);
    reply_cstr(&e.r, "f");
    reply_cstr(&e.r, "v");
    reply_set_deferred(&e.r, h, 1);
    EXPECT(&e, "%1\r\n$1\r\nf\r\n$1\r\nv\r\n", "deferred map resp3");
    h = reply_defer(&e.r, AGG_SET);
    reply_set_deferred(&e.r, h, 0);
    EXPECT(&e, "~0\r\n", "deferred set resp3");
    h = reply_defer(&e.r, AGG_PUSH);
    reply_set_deferred(&e.r, h, 0);
    EXPECT(&e, ">0\r\n", "deferred push resp3");
    obuf_free(&e.o);
}
END_TEST

START_TEST(deferred_large)
{
    /* Enough content after the deferred header to make the buffer grow
     * (realloc) before the length is set. */
    struct enc e;
    void *h;
    int i, n = 5000;
    size_t want_len = 0;
    char *want = xmalloc(200000), hdr[32];
    enc_init(&e, 2);
    h = reply_defer(&e.r, AGG_ARRAY);
    for (i = 0; i < n; i++)
        reply_cstr(&e.r, "some-key-name-0123456789");
    reply_set_deferred(&e.r, h, n);
    want_len += (size_t)snprintf(hdr, sizeof(hdr), "*%d\r\n", n);
    memcpy(want, hdr, want_len);
    for (i = 0; i < n; i++) {
        memcpy(want + want_len, "$24\r\nsome-key-name-0123456789\r\n", 31);
        want_len += 31;
    }
    expect_bytes(&e, want, want_len, "deferred large");
    obuf_free(&e.o);
    free(want);
}
END_TEST

START_TEST(helpers)
{
    struct enc e;
    static const char *const lines[] = {"ENCODING <key>", "    Return the kind of encoding.", NULL};
    enc_init(&e, 2);
    reply_err(&e.r, E_SYNTAX);
    EXPECT(&e, "-ERR syntax error\r\n", "E_SYNTAX");
    reply_err(&e.r, E_WRONGTYPE);
    EXPECT(&e, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "E_WRONGTYPE");
    ck_assert_uint_eq(e.r.nerr, 2);
    /* newlines inside formatted errors become spaces (Redis does so) */
    reply_errorf(&e.r, "ERR bad '%s'", "a\r\nb");
    EXPECT(&e, "-ERR bad 'a  b'\r\n", "errorf newline");
    ck_assert_uint_eq(e.r.nerr, 3);
    {
        /* longer than any small stack buffer */
        char big[3000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        reply_errorf(&e.r, "ERR %s", big);
        ck_assert_uint_eq(e.o.len, 1 + 4 + 2999 + 2);
        ck_assert_mem_eq(e.o.buf, "-ERR xxx", 8);
        e.o.len = 0;
    }
    /* addReplyHelp's layout (as OBJECT HELP on redis-server 7.0.15) */
    reply_help(&e.r, "OBJECT", lines);
    EXPECT(&e,
           "*5\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
           "+ENCODING <key>\r\n+    Return the kind of encoding.\r\n+HELP\r\n"
           "+    Prints this help.\r\n",
           "help");
    obuf_free(&e.o);

    /* the discard sink accepts everything */
    reply_int(&reply_discard, 1);
    reply_array(&reply_discard, 2);
    reply_set_deferred(&reply_discard, reply_defer(&reply_discard, AGG_ARRAY), 3);
}
END_TEST

START_TEST(obuf_appends)
{
    struct obuf o = {0};
    int i;
    for (i = 0; i < 10000; i++)
        obuf_append(&o, "0123456789", 10);
    ck_assert_uint_eq(o.len, 100000);
    ck_assert_uint_ge(o.cap, o.len);
    ck_assert_mem_eq(o.buf + 99990, "0123456789", 10);
    obuf_free(&o);
    ck_assert_ptr_null(o.buf);
    ck_assert_uint_eq(o.len, 0);
}
END_TEST

static Suite *encode_suite(void)
{
    Suite *s = suite_create("resp_encode");
    TCase *tc = unit_tcase("encode", 60);
    tcase_add_test(tc, scalars_resp2);
    tcase_add_test(tc, scalars_resp3);
    tcase_add_test(tc, aggregates);
    tcase_add_test(tc, deferred_nested);
    tcase_add_test(tc, deferred_shapes);
    tcase_add_test(tc, deferred_large);
    tcase_add_test(tc, helpers);
    tcase_add_test(tc, obuf_appends);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(encode_suite());
}
