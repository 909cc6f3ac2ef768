/* test_json_reply.c — unit tests for adapters/web/json_reply.c (the JSON
 * reply sink) and the bytes sink of adapters/http/http_format.c: the exact
 * JSON of every reply type for RESP2 and RESP3 clients (doubles as strings
 * or numbers, inf/nan always strings, booleans), nesting, maps as objects
 * with non-string keys quoted, deferred aggregates, the begin/end callbacks
 * around each top-level value, elem_names wrapping (atomic batches), string
 * escaping (NUL, control bytes, U+2028/U+2029), {"base64":..} for invalid
 * UTF-8 with its padding, the UTF-8 validator, lossy keys; then the formats
 * table and the bytes sink (separators, nil, flattened nesting, errors,
 * only the first top-level value). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_format.h"
#include "json_reply.h"
#include "unit.h"

/* ---- a JSON sink with recording callbacks ---- */

struct js {
    struct json_sink s;
    struct reply r;
    char log[512]; /* "B<agg><e>" / "E" events */
    bool wrap;     /* begin/end write {"X": ... } around the value */
    struct obuf names[4];
    int nnames;
};

static void cb_begin(struct json_sink *s, int agg, bool is_err, void *arg)
{
    struct js *j = arg;
    size_t l = strlen(j->log);
    snprintf(j->log + l, sizeof(j->log) - l, "B%d%s ", agg, is_err ? "e" : "");
    if (j->wrap) obuf_append(&s->out, "{\"X\":", 5);
    if (j->nnames) {
        s->elem_names = j->names;
        s->nelem_names = j->nnames;
    }
}

static void cb_end(struct json_sink *s, void *arg)
{
    struct js *j = arg;
    size_t l = strlen(j->log);
    snprintf(j->log + l, sizeof(j->log) - l, "E ");
    if (j->wrap) obuf_append(&s->out, "}", 1);
    s->elem_names = NULL;
    s->nelem_names = 0;
}

static void js_init(struct js *j, int resp, bool callbacks)
{
    memset(j, 0, sizeof(*j));
    json_sink_init(&j->s, resp);
    j->r.ops = &json_reply_ops;
    j->r.ctx = &j->s;
    j->r.resp = resp;
    if (callbacks) {
        j->s.begin = cb_begin;
        j->s.end = cb_end;
        j->s.arg = j;
    }
}

static void js_free(struct js *j)
{
    int i;
    json_sink_free(&j->s);
    for (i = 0; i < 4; i++)
        obuf_free(&j->names[i]);
}

static void expect_out(struct obuf *o, const char *want, size_t n, const char *what)
{
    ck_assert_msg(o->len == n && memcmp(o->buf, want, n) == 0, "%s: got [%.*s], want [%.*s]", what,
                  (int)o->len, o->buf ? o->buf : "", (int)n, want);
    o->len = 0;
}
#define EXPECT(j, lit) expect_out(&(j)->s.out, lit, sizeof(lit) - 1, #lit)
#define EXPECT_O(o, lit) expect_out(o, lit, sizeof(lit) - 1, #lit)
#define BULK(j, lit) reply_bulk(&(j)->r, lit, sizeof(lit) - 1)

/* ---- scalars ---- */

START_TEST(scalars_both_protocols)
{
    int resp;
    for (resp = 2; resp <= 3; resp++) {
        struct js j;
        bool r3 = resp == 3;
        js_init(&j, resp, false);
        reply_ok(&j.r);
        EXPECT(&j, "[true,\"OK\"]");
        reply_status(&j.r, "QUEUED");
        EXPECT(&j, "[true,\"QUEUED\"]");
        reply_error(&j.r, "ERR unknown command 'x'");
        EXPECT(&j, "[false,\"ERR unknown command 'x'\"]");
        ck_assert_uint_eq(j.r.nerr, 1);
        reply_err(&j.r, E_WRONGTYPE);
        EXPECT(&j, "[false,\"WRONGTYPE Operation against a key holding the wrong kind of "
                   "value\"]");
        ck_assert_uint_eq(j.r.nerr, 2);
        reply_int(&j.r, 0);
        EXPECT(&j, "0");
        reply_int(&j.r, -42);
        EXPECT(&j, "-42");
        reply_int(&j.r, LLONG_MAX);
        EXPECT(&j, "9223372036854775807");
        reply_int(&j.r, LLONG_MIN);
        EXPECT(&j, "-9223372036854775808");
        reply_bulk(&j.r, "hello", 5);
        EXPECT(&j, "\"hello\"");
        reply_bulk(&j.r, "", 0);
        EXPECT(&j, "\"\"");
        reply_null(&j.r);
        EXPECT(&j, "null");
        reply_null_array(&j.r);
        EXPECT(&j, "null");
        reply_double(&j.r, 1.5);
        if (r3)
            EXPECT(&j, "1.5");
        else
            EXPECT(&j, "\"1.5\"");
        reply_double(&j.r, 0.1);
        if (r3)
            EXPECT(&j, "0.10000000000000001");
        else
            EXPECT(&j, "\"0.10000000000000001\"");
        reply_double(&j.r, -3);
        if (r3)
            EXPECT(&j, "-3");
        else
            EXPECT(&j, "\"-3\"");
        reply_double(&j.r, 1e300);
        if (r3)
            EXPECT(&j, "1.0000000000000001e+300");
        else
            EXPECT(&j, "\"1.0000000000000001e+300\"");
        /* inf and nan are strings for everyone. */
        reply_double(&j.r, INFINITY);
        EXPECT(&j, "\"inf\"");
        reply_double(&j.r, -INFINITY);
        EXPECT(&j, "\"-inf\"");
        reply_double(&j.r, NAN);
        EXPECT(&j, "\"nan\"");
        reply_bool(&j.r, true);
        if (r3)
            EXPECT(&j, "true");
        else
            EXPECT(&j, "1");
        reply_bool(&j.r, false);
        if (r3)
            EXPECT(&j, "false");
        else
            EXPECT(&j, "0");
        reply_verbatim(&j.r, "some text\n", 10);
        EXPECT(&j, "\"some text\\n\"");
        j.r.ops->bignum(&j.r, "123456789012345678901234567890", 30);
        EXPECT(&j, "\"123456789012345678901234567890\"");
        reply_cstr(&j.r, "c\"s\\");
        EXPECT(&j, "\"c\\\"s\\\\\"");
        reply_bulk_ll(&j.r, -7);
        EXPECT(&j, "\"-7\"");
        ck_assert_int_eq(j.s.depth, 0);
        /* plain_status: statuses as plain strings (the /_commands docs). */
        j.s.plain_status = true;
        reply_ok(&j.r);
        EXPECT(&j, "\"OK\"");
        reply_array(&j.r, 2);
        reply_status(&j.r, "PONG");
        reply_error(&j.r, "ERR e");
        EXPECT(&j, "[\"PONG\",[false,\"ERR e\"]]");
        js_free(&j);
    }
}
END_TEST

START_TEST(string_escapes)
{
    struct js j;
    js_init(&j, 2, false);
    BULK(&j, "a\0b");
    EXPECT(&j, "\"a\\u0000b\"");
    BULK(&j, "\"\\/\b\f\n\r\t\x01\x1f\x7f");
    EXPECT(&j, "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\""); /* as jansson */
    /* Valid UTF-8 stays as is (U+2028/U+2029 too, as jansson writes them). */
    BULK(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    EXPECT(&j, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    BULK(&j, "a\xe2\x80\xa8z\xe2\x80\xa9");
    EXPECT(&j, "\"a\xe2\x80\xa8z\xe2\x80\xa9\"");
    BULK(&j, "\x1f\x10\x0b\x1b");
    EXPECT(&j, "\"\\u001F\\u0010\\u000B\\u001B\"");
    /* Statuses and errors are escaped the same way. */
    reply_status(&j.r, "a\"b");
    EXPECT(&j, "[true,\"a\\\"b\"]");
    js_free(&j);
}
END_TEST

START_TEST(base64_fallback)
{
    struct js j;
    js_init(&j, 3, false);
    BULK(&j, "\xff");
    EXPECT(&j, "{\"base64\":\"/w==\"}");
    BULK(&j, "\xff\xfe");
    EXPECT(&j, "{\"base64\":\"//4=\"}");
    BULK(&j, "\xff\xfe\xfd");
    EXPECT(&j, "{\"base64\":\"//79\"}");
    BULK(&j, "\xff\x00\x01\x02");
    EXPECT(&j, "{\"base64\":\"/wABAg==\"}");
    BULK(&j, "hello\x80");
    EXPECT(&j, "{\"base64\":\"aGVsbG+A\"}");
    BULK(&j, "Man\xc0");
    EXPECT(&j, "{\"base64\":\"TWFuwA==\"}");
    BULK(&j, "\xfb\xff\xbf"); /* every alphabet edge: '+' '/' */
    EXPECT(&j, "{\"base64\":\"+/+/\"}");
    /* Inside aggregates too. */
    reply_array(&j.r, 2);
    BULK(&j, "ok");
    BULK(&j, "\xc3");
    EXPECT(&j, "[\"ok\",{\"base64\":\"ww==\"}]");
    /* The helper directly. */
    {
        struct obuf o = {0};
        json_put_string(&o, "\xed\xa0\x80", 3); /* a surrogate: invalid */
        EXPECT_O(&o, "{\"base64\":\"7aCA\"}");
        json_put_string(&o, "", 0);
        EXPECT_O(&o, "\"\"");
        obuf_free(&o);
    }
    js_free(&j);
}
END_TEST

START_TEST(utf8_validator)
{
    static const struct {
        const char *s;
        size_t n;
        bool ok;
    } t[] = {
        {"", 0, true},
        {"ascii\x7f", 6, true},
        {"\0", 1, true},
        {"\xc2\x80", 2, true},
        {"\xdf\xbf", 2, true},
        {"\xe0\xa0\x80", 3, true},
        {"\xef\xbf\xbf", 3, true},
        {"\xed\x9f\xbf", 3, true},
        {"\xf0\x90\x80\x80", 4, true},
        {"\xf4\x8f\xbf\xbf", 4, true},
        {"\x80", 1, false},
        {"\xbf", 1, false},
        {"\xc0\x80", 2, false},         /* overlong NUL */
        {"\xc1\xbf", 2, false},         /* overlong */
        {"\xe0\x9f\xbf", 3, false},     /* overlong */
        {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong */
        {"\xed\xa0\x80", 3, false},     /* surrogate */
        {"\xed\xbf\xbf", 3, false},     /* surrogate */
        {"\xf4\x90\x80\x80", 4, false}, /* > U+10FFFF */
        {"\xf5\x80\x80\x80", 4, false},
        {"\xff", 1, false},
        {"\xc3", 1, false},         /* truncated */
        {"\xe2\x82", 2, false},     /* truncated */
        {"\xf0\x9f\x98", 3, false}, /* truncated */
        {"\xc3\x28", 2, false},     /* bad continuation */
        {"\xe2\x28\xa1", 3, false},
        {"\xf0\x9f\x28\x80", 4, false},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(json_utf8_valid(t[i].s, t[i].n) == t[i].ok, "case %zu", i);
    /* A truncated sequence at the end of the given length (more bytes
     * follow in memory but do not count). */
    ck_assert(!json_utf8_valid("\xc3\xa9", 1));
}
END_TEST

START_TEST(lossy_strings)
{
    struct obuf o = {0};
    json_put_string_lossy(&o,
                          "a\xff"
                          "b",
                          3);
    EXPECT_O(&o, "\"a\\u00FFb\"");
    json_put_string_lossy(&o, "caf\xc3\xa9\xe2\x82", 7);
    EXPECT_O(&o, "\"caf\xc3\xa9\\u00E2\\u0082\"");
    json_put_string_lossy(&o, "\xf0\x9f\x98\x80\xc0\x80", 6);
    EXPECT_O(&o, "\"\xf0\x9f\x98\x80\\u00C0\\u0080\"");
    json_put_string_lossy(&o, "\xe2\x80\xa8\x00\n", 5);
    EXPECT_O(&o, "\"\xe2\x80\xa8\\u0000\\n\"");
    json_put_string_lossy(&o, "", 0);
    EXPECT_O(&o, "\"\"");
    obuf_free(&o);
}
END_TEST

/* ---- aggregates ---- */

START_TEST(arrays_and_nesting)
{
    int resp;
    for (resp = 2; resp <= 3; resp++) {
        struct js j;
        js_init(&j, resp, false);
        reply_array(&j.r, 0);
        EXPECT(&j, "[]");
        reply_array(&j.r, 3);
        reply_int(&j.r, 1);
        reply_bulk(&j.r, "a", 1);
        reply_null(&j.r);
        EXPECT(&j, "[1,\"a\",null]");
        ck_assert_int_eq(j.s.depth, 0);
        /* [[1,2],[],[3,[4,[]]],[true,"OK"]] */
        reply_array(&j.r, 4);
        reply_array(&j.r, 2);
        reply_int(&j.r, 1);
        reply_int(&j.r, 2);
        reply_array(&j.r, 0);
        reply_array(&j.r, 2);
        reply_int(&j.r, 3);
        reply_array(&j.r, 2);
        reply_int(&j.r, 4);
        reply_set(&j.r, 0);
        reply_ok(&j.r);
        EXPECT(&j, "[[1,2],[],[3,[4,[]]],[true,\"OK\"]]");
        /* Sets and pushes are arrays; errors inside arrays. */
        reply_set(&j.r, 2);
        reply_bulk(&j.r, "x", 1);
        reply_error(&j.r, "ERR e");
        EXPECT(&j, "[\"x\",[false,\"ERR e\"]]");
        reply_push(&j.r, 3);
        reply_bulk(&j.r, "message", 7);
        reply_bulk(&j.r, "c", 1);
        reply_bulk(&j.r, "hi", 2);
        EXPECT(&j, "[\"message\",\"c\",\"hi\"]");
        reply_null_array(&j.r);
        EXPECT(&j, "null");
        /* Two top-level values one after the other. */
        reply_array(&j.r, 1);
        reply_int(&j.r, 1);
        reply_int(&j.r, 2);
        EXPECT(&j, "[1]2");
        /* Doubles inside. */
        reply_array(&j.r, 2);
        reply_double(&j.r, 2.5);
        reply_double(&j.r, INFINITY);
        if (resp == 3)
            EXPECT(&j, "[2.5,\"inf\"]");
        else
            EXPECT(&j, "[\"2.5\",\"inf\"]");
        js_free(&j);
    }
}
END_TEST

START_TEST(deep_nesting)
{
    struct js j;
    int i;
    js_init(&j, 3, false);
    for (i = 0; i < JSON_MAX_DEPTH; i++)
        reply_array(&j.r, 1);
    ck_assert_int_eq(j.s.depth, JSON_MAX_DEPTH);
    reply_int(&j.r, 7);
    ck_assert_int_eq(j.s.depth, 0);
    ck_assert_uint_eq(j.s.out.len, 2 * JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(j.s.out.buf[JSON_MAX_DEPTH], '7');
    ck_assert_int_eq(j.s.out.buf[0], '[');
    ck_assert_int_eq(j.s.out.buf[2 * JSON_MAX_DEPTH], ']');
    js_free(&j);
}
END_TEST

START_TEST(maps_as_objects)
{
    int resp;
    for (resp = 2; resp <= 3; resp++) {
        struct js j;
        bool r3 = resp == 3;
        js_init(&j, resp, false);
        reply_map(&j.r, 0);
        EXPECT(&j, "{}");
        reply_map(&j.r, 2);
        reply_bulk(&j.r, "f1", 2);
        reply_bulk(&j.r, "v1", 2);
        reply_bulk(&j.r, "f2", 2);
        reply_int(&j.r, 2);
        EXPECT(&j, "{\"f1\":\"v1\",\"f2\":2}");
        /* Non-string keys are quoted; values keep their type. */
        reply_map(&j.r, 7);
        reply_int(&j.r, 1);
        reply_int(&j.r, 10);
        reply_double(&j.r, 1.5);
        reply_double(&j.r, 2.5);
        reply_bool(&j.r, true);
        reply_bool(&j.r, false);
        reply_null(&j.r);
        reply_null(&j.r);
        reply_status(&j.r, "st");
        reply_status(&j.r, "st");
        reply_bulk(&j.r, "k\xff", 2); /* invalid UTF-8 key: lossy */
        reply_bulk(&j.r, "v\xff", 2); /* invalid UTF-8 value: base64 */
        reply_error(&j.r, "ERR k");
        reply_error(&j.r, "ERR v");
        if (r3)
            EXPECT(&j, "{\"1\":10,\"1.5\":2.5,\"true\":false,\"\":null,\"st\":[true,\"st\"],"
                       "\"k\\u00FF\":{\"base64\":\"dv8=\"},\"ERR k\":[false,\"ERR v\"]}");
        else
            EXPECT(&j, "{\"1\":10,\"1.5\":\"2.5\",\"1\":0,\"\":null,\"st\":[true,\"st\"],"
                       "\"k\\u00FF\":{\"base64\":\"dv8=\"},\"ERR k\":[false,\"ERR v\"]}");
        /* Double keys: inf stays a quoted string, not double-quoted. */
        reply_map(&j.r, 1);
        reply_double(&j.r, -INFINITY);
        reply_int(&j.r, 1);
        EXPECT(&j, "{\"-inf\":1}");
        /* Nested values: arrays and maps inside maps, maps inside arrays. */
        reply_map(&j.r, 3);
        reply_bulk(&j.r, "a", 1);
        reply_array(&j.r, 2);
        reply_int(&j.r, 1);
        reply_map(&j.r, 1);
        reply_bulk(&j.r, "x", 1);
        reply_array(&j.r, 0);
        reply_bulk(&j.r, "b", 1);
        reply_map(&j.r, 0);
        reply_bulk(&j.r, "c", 1);
        reply_null(&j.r);
        EXPECT(&j, "{\"a\":[1,{\"x\":[]}],\"b\":{},\"c\":null}");
        reply_array(&j.r, 2);
        reply_map(&j.r, 1);
        reply_bulk(&j.r, "k", 1);
        reply_bulk(&j.r, "v", 1);
        reply_map(&j.r, 1);
        reply_bulk(&j.r, "k2", 2);
        reply_bulk(&j.r, "v2", 2);
        EXPECT(&j, "[{\"k\":\"v\"},{\"k2\":\"v2\"}]");
        /* Attributes are dropped (attributes_dropped). */
        j.r.ops->aggregate(&j.r, AGG_ATTR, 1);
        reply_bulk(&j.r, "a", 1);
        reply_int(&j.r, 1);
        EXPECT(&j, "");
        ck_assert_int_eq(j.s.depth, 0);
        js_free(&j);
    }
}
END_TEST

START_TEST(deferred_aggregates)
{
    struct js j;
    void *h, *h2;
    js_init(&j, 3, true);
    /* A deferred array with elements. */
    h = reply_defer(&j.r, AGG_ARRAY);
    ck_assert_ptr_nonnull(h);
    reply_bulk(&j.r, "a", 1);
    reply_int(&j.r, 2);
    reply_array(&j.r, 1);
    reply_null(&j.r);
    ck_assert_str_eq(j.log, "B0 ");
    reply_set_deferred(&j.r, h, 3);
    EXPECT(&j, "[\"a\",2,[null]]");
    ck_assert_str_eq(j.log, "B0 E ");
    j.log[0] = 0;
    /* Empty deferred array and map. */
    h = reply_defer(&j.r, AGG_ARRAY);
    reply_set_deferred(&j.r, h, 0);
    EXPECT(&j, "[]");
    h = reply_defer(&j.r, AGG_MAP);
    reply_set_deferred(&j.r, h, 0);
    EXPECT(&j, "{}");
    ck_assert_str_eq(j.log, "B0 E B1 E ");
    j.log[0] = 0;
    /* A deferred map with pairs. */
    h = reply_defer(&j.r, AGG_MAP);
    reply_bulk(&j.r, "k1", 2);
    reply_int(&j.r, 1);
    reply_int(&j.r, 2);
    reply_bulk(&j.r, "v2", 2);
    reply_set_deferred(&j.r, h, 2);
    EXPECT(&j, "{\"k1\":1,\"2\":\"v2\"}");
    /* Deferred inside a known-length array, known inside deferred,
     * deferred inside deferred (SCAN's shape and worse). */
    reply_array(&j.r, 3);
    reply_bulk(&j.r, "0", 1);
    h = reply_defer(&j.r, AGG_ARRAY);
    reply_array(&j.r, 2);
    reply_int(&j.r, 1);
    h2 = reply_defer(&j.r, AGG_SET);
    reply_int(&j.r, 2);
    reply_set_deferred(&j.r, h2, 1);
    reply_bulk(&j.r, "k", 1);
    reply_set_deferred(&j.r, h, 2);
    ck_assert_int_eq(j.s.depth, 1);
    reply_int(&j.r, 9);
    EXPECT(&j, "[\"0\",[[1,[2]],\"k\"],9]");
    ck_assert_int_eq(j.s.depth, 0);
    /* A stale or foreign handle is ignored. */
    h = reply_defer(&j.r, AGG_ARRAY);
    reply_set_deferred(&j.r, NULL, 0);
    reply_set_deferred(&j.r, (void *)(intptr_t)5, 0);
    ck_assert_int_eq(j.s.depth, 1);
    reply_set_deferred(&j.r, h, 0);
    ck_assert_int_eq(j.s.depth, 0);
    EXPECT(&j, "[]");
    js_free(&j);
}
END_TEST

/* A RESP3 attribute is dropped: the JSON is the reply that follows it,
 * at the top level (one begin/end pair, for the real reply) and nested. */
START_TEST(attributes_dropped)
{
    struct js j;
    js_init(&j, 3, true);
    j.wrap = true;
    reply_attribute(&j.r, 1);
    BULK(&j, "key-popularity");
    reply_array(&j.r, 2);
    BULK(&j, "key:123");
    reply_int(&j.r, 90);
    ck_assert_str_eq(j.log, "");
    BULK(&j, "real");
    EXPECT(&j, "{\"X\":\"real\"}");
    ck_assert_str_eq(j.log, "B-1 E ");
    j.log[0] = 0;
    /* inside an array, between elements; an empty attribute */
    reply_array(&j.r, 2);
    reply_int(&j.r, 1);
    reply_attribute(&j.r, 1);
    BULK(&j, "a");
    reply_map(&j.r, 1);
    BULK(&j, "b");
    BULK(&j, "c");
    reply_int(&j.r, 2);
    reply_attribute(&j.r, 0);
    reply_null(&j.r);
    EXPECT(&j, "{\"X\":[1,2]}{\"X\":null}");
    js_free(&j);
}
END_TEST

START_TEST(begin_end_callbacks)
{
    struct js j;
    js_init(&j, 2, true);
    j.wrap = true;
    reply_ok(&j.r);
    EXPECT(&j, "{\"X\":[true,\"OK\"]}");
    ck_assert_str_eq(j.log, "B-1 E ");
    j.log[0] = 0;
    reply_error(&j.r, "ERR x");
    EXPECT(&j, "{\"X\":[false,\"ERR x\"]}");
    ck_assert_str_eq(j.log, "B-1e E ");
    j.log[0] = 0;
    reply_int(&j.r, 5);
    reply_null(&j.r);
    EXPECT(&j, "{\"X\":5}{\"X\":null}");
    ck_assert_str_eq(j.log, "B-1 E B-1 E ");
    j.log[0] = 0;
    /* Aggregates: one begin before the first byte, one end after the last,
     * nothing for the nested values. */
    reply_array(&j.r, 2);
    ck_assert_str_eq(j.log, "B0 ");
    reply_map(&j.r, 1);
    reply_bulk(&j.r, "a", 1);
    reply_array(&j.r, 0);
    ck_assert_str_eq(j.log, "B0 ");
    reply_error(&j.r, "ERR inner");
    ck_assert_str_eq(j.log, "B0 E ");
    EXPECT(&j, "{\"X\":[{\"a\":[]},[false,\"ERR inner\"]]}");
    j.log[0] = 0;
    reply_map(&j.r, 0);
    reply_set(&j.r, 1);
    reply_int(&j.r, 1);
    reply_push(&j.r, 0);
    EXPECT(&j, "{\"X\":{}}{\"X\":[1]}{\"X\":[]}");
    ck_assert_str_eq(j.log, "B1 E B2 E B3 E ");
    j.log[0] = 0;
    reply_double(&j.r, 2.0);
    reply_bool(&j.r, true);
    reply_null_array(&j.r);
    EXPECT(&j, "{\"X\":\"2\"}{\"X\":1}{\"X\":null}");
    ck_assert_str_eq(j.log, "B-1 E B-1 E B-1 E ");
    js_free(&j);
}
END_TEST

static void set_name(struct obuf *o, const char *json)
{
    o->len = 0;
    obuf_append(o, json, strlen(json));
}

START_TEST(elem_names_wrapping)
{
    struct js j;
    js_init(&j, 2, true);
    set_name(&j.names[0], "\"SET\"");
    set_name(&j.names[1], "\"GET\"");
    set_name(&j.names[2], "\"HGETALL\"");
    j.nnames = 3;
    /* EXEC's results: each element wrapped with its command's name. */
    reply_array(&j.r, 3);
    reply_ok(&j.r);
    reply_bulk(&j.r, "v", 1);
    reply_map(&j.r, 1);
    reply_bulk(&j.r, "f", 1);
    reply_array(&j.r, 2);
    reply_int(&j.r, 1);
    reply_error(&j.r, "ERR x");
    EXPECT(&j, "[{\"SET\":[true,\"OK\"]},{\"GET\":\"v\"},{\"HGETALL\":{\"f\":[1,[false,\"ERR "
               "x\"]]}}]");
    ck_assert_str_eq(j.log, "B0 E ");
    ck_assert_ptr_null(j.s.elem_names); /* end() cleared them */
    j.log[0] = 0;
    /* More elements than names: "?". Empty nested aggregates count. */
    reply_array(&j.r, 4);
    reply_array(&j.r, 0);
    reply_null_array(&j.r);
    reply_int(&j.r, 3);
    reply_int(&j.r, 4);
    EXPECT(&j, "[{\"SET\":[]},{\"GET\":null},{\"HGETALL\":3},{\"?\":4}]");
    /* A deferred top-level array is wrapped the same way. */
    {
        void *h = reply_defer(&j.r, AGG_ARRAY);
        reply_int(&j.r, 1);
        void *h2 = reply_defer(&j.r, AGG_ARRAY); /* a nested deferred element */
        reply_set_deferred(&j.r, h2, 0);
        reply_set_deferred(&j.r, h, 2);
        EXPECT(&j, "[{\"SET\":1},{\"GET\":[]}]");
    }
    /* After end(), without names, nothing is wrapped. */
    j.nnames = 0;
    reply_array(&j.r, 2);
    reply_int(&j.r, 1);
    reply_int(&j.r, 2);
    EXPECT(&j, "[1,2]");
    /* A scalar top-level value (an aborted EXEC) is not wrapped either. */
    j.nnames = 3;
    reply_error(&j.r, "EXECABORT Transaction discarded because of previous errors.");
    EXPECT(&j, "[false,\"EXECABORT Transaction discarded because of previous errors.\"]");
    reply_null_array(&j.r);
    EXPECT(&j, "null");
    js_free(&j);
}
END_TEST

/* ---- formats and the bytes sink ---- */

START_TEST(formats_table)
{
    static const struct {
        const char *ext, *ct;
        enum http_fmt fmt;
    } t[] = {
        {"", "application/json", FMT_JSON},
        {"json", "application/json", FMT_JSON},
        {"raw", "binary/octet-stream", FMT_RAW},
        {"txt", "text/plain", FMT_BYTES},
        {"html", "text/html", FMT_BYTES},
        {"xml", "text/xml", FMT_BYTES},
        {"png", "image/png", FMT_BYTES},
        {"jpg", "image/jpeg", FMT_BYTES},
        {"jpeg", "image/jpeg", FMT_BYTES},
        {"css", "text/css", FMT_BYTES},
        {"js", "application/javascript", FMT_JSON},
        {"xhtml", "application/xhtml+xml", FMT_BYTES},
        {"bin", "binary/octet-stream", FMT_BYTES},
        {"msg", "application/x-msgpack", FMT_MSGPACK},
        {"foo", "application/json", FMT_JSON},
        {"TXT", "application/json", FMT_JSON},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *ct = NULL;
        ck_assert_int_eq(http_format_for(t[i].ext, &ct), t[i].fmt);
        ck_assert_str_eq(ct, t[i].ct);
    }
}
END_TEST

struct bs {
    struct bytes_sink s;
    struct reply r;
};

static void bs_init(struct bs *b, const char *sep)
{
    memset(b, 0, sizeof(*b));
    b->r.ops = &bytes_reply_ops;
    b->r.ctx = &b->s;
    b->r.resp = 2;
    bytes_sink_reset(&b->s, sep, strlen(sep));
}

#define BEXPECT(b, lit) expect_out(&(b)->s.out, lit, sizeof(lit) - 1, #lit)

START_TEST(bytes_scalars)
{
    struct bs b;
    bs_init(&b, ",");
    reply_bulk(&b.r, "a\0b\xff", 4);
    ck_assert(b.s.done && !b.s.nil && !b.s.error);
    BEXPECT(&b, "a\0b\xff");
    /* Only the first top-level value counts. */
    reply_bulk(&b.r, "more", 4);
    reply_array(&b.r, 1);
    reply_int(&b.r, 1);
    reply_null(&b.r);
    ck_assert_uint_eq(b.s.out.len, 0);
    ck_assert(!b.s.nil);

    bytes_sink_reset(&b.s, ",", 1);
    reply_ok(&b.r); /* Webdis's text form of a status */
    BEXPECT(&b, "+OK");
    bytes_sink_reset(&b.s, ",", 1);
    reply_int(&b.r, -12);
    BEXPECT(&b, "-12");
    bytes_sink_reset(&b.s, ",", 1);
    reply_double(&b.r, 1.5);
    BEXPECT(&b, "1.5");
    bytes_sink_reset(&b.s, ",", 1);
    reply_double(&b.r, -INFINITY);
    BEXPECT(&b, "-inf");
    bytes_sink_reset(&b.s, ",", 1);
    reply_bool(&b.r, true);
    BEXPECT(&b, "1");
    bytes_sink_reset(&b.s, ",", 1);
    reply_verbatim(&b.r, "txt body", 8);
    BEXPECT(&b, "txt body");
    bytes_sink_reset(&b.s, ",", 1);
    b.r.ops->bignum(&b.r, "12345678901234567890", 20);
    BEXPECT(&b, "12345678901234567890");

    /* nil: flagged (404), no bytes. */
    bytes_sink_reset(&b.s, ",", 1);
    reply_null(&b.r);
    ck_assert(b.s.nil && b.s.done && !b.s.error);
    BEXPECT(&b, "");
    bytes_sink_reset(&b.s, ",", 1);
    ck_assert(!b.s.nil && !b.s.done);
    reply_null_array(&b.r);
    ck_assert(b.s.nil && b.s.done);

    /* An error: flagged, "-" and its text as the bytes; counted once. */
    bytes_sink_reset(&b.s, ",", 1);
    reply_error(&b.r, "ERR bad");
    ck_assert(b.s.error && b.s.done && !b.s.nil);
    ck_assert_uint_eq(b.r.nerr, 1);
    BEXPECT(&b, "-ERR bad");
    bytes_sink_reset(&b.s, ",", 1);
    ck_assert(!b.s.error);
    obuf_free(&b.s.out);
}
END_TEST

START_TEST(bytes_aggregates)
{
    struct bs b;
    bs_init(&b, ",");
    reply_array(&b.r, 3);
    reply_bulk(&b.r, "a", 1);
    reply_int(&b.r, 2);
    ck_assert(!b.s.done);
    reply_bulk(&b.r, "c", 1);
    ck_assert(b.s.done);
    BEXPECT(&b, "a,2,c");

    /* No separator; a multi-byte separator. */
    bytes_sink_reset(&b.s, "", 0);
    reply_array(&b.r, 3);
    reply_bulk(&b.r, "a", 1);
    reply_bulk(&b.r, "b", 1);
    reply_bulk(&b.r, "c", 1);
    BEXPECT(&b, "abc");
    bytes_sink_reset(&b.s, "\r\n", 2);
    reply_array(&b.r, 2);
    reply_bulk(&b.r, "x", 1);
    reply_bulk(&b.r, "y", 1);
    BEXPECT(&b, "x\r\ny");

    /* Nested arrays are flattened; empty ones vanish; nils are empty
     * elements; maps are key,value. */
    bytes_sink_reset(&b.s, ",", 1);
    reply_array(&b.r, 4);
    reply_array(&b.r, 2);
    reply_bulk(&b.r, "a", 1);
    reply_bulk(&b.r, "b", 1);
    reply_array(&b.r, 0);
    reply_array(&b.r, 1);
    reply_array(&b.r, 1);
    reply_bulk(&b.r, "c", 1);
    reply_null(&b.r);
    ck_assert(b.s.done && !b.s.nil);
    BEXPECT(&b, "a,b,c,");
    bytes_sink_reset(&b.s, ",", 1);
    reply_array(&b.r, 3);
    reply_bulk(&b.r, "a", 1);
    reply_null(&b.r);
    reply_bulk(&b.r, "b", 1);
    BEXPECT(&b, "a,,b");
    bytes_sink_reset(&b.s, ",", 1);
    reply_map(&b.r, 2);
    reply_bulk(&b.r, "k1", 2);
    reply_bulk(&b.r, "v1", 2);
    reply_bulk(&b.r, "k2", 2);
    reply_int(&b.r, 2);
    ck_assert(b.s.done);
    BEXPECT(&b, "k1,v1,k2,2");

    /* An error inside an array is just bytes; the reply is not an error. */
    bytes_sink_reset(&b.s, "|", 1);
    reply_array(&b.r, 2);
    reply_ok(&b.r);
    reply_error(&b.r, "ERR inner");
    ck_assert(b.s.done && !b.s.error);
    BEXPECT(&b, "+OK|-ERR inner");

    /* Empty top-level array: done, nothing written, not nil. */
    bytes_sink_reset(&b.s, ",", 1);
    reply_array(&b.r, 0);
    ck_assert(b.s.done && !b.s.nil);
    BEXPECT(&b, "");
    bytes_sink_reset(&b.s, ",", 1);
    reply_map(&b.r, 0);
    ck_assert(b.s.done);

    /* Deferred aggregates. */
    bytes_sink_reset(&b.s, ",", 1);
    {
        void *h = reply_defer(&b.r, AGG_ARRAY), *h2;
        ck_assert_ptr_nonnull(h);
        reply_bulk(&b.r, "a", 1);
        h2 = reply_defer(&b.r, AGG_MAP);
        reply_bulk(&b.r, "k", 1);
        reply_bulk(&b.r, "v", 1);
        reply_set_deferred(&b.r, h2, 1);
        ck_assert(!b.s.done);
        reply_array(&b.r, 1);
        reply_int(&b.r, 3);
        reply_set_deferred(&b.r, NULL, 0);
        ck_assert(!b.s.done);
        reply_set_deferred(&b.r, h, 3);
        ck_assert(b.s.done);
        BEXPECT(&b, "a,k,v,3");
        /* Nothing more after done. */
        ck_assert_ptr_null(reply_defer(&b.r, AGG_ARRAY));
        ck_assert_uint_eq(b.s.out.len, 0);
    }
    obuf_free(&b.s.out);
}
END_TEST

static Suite *json_reply_suite(void)
{
    Suite *s = suite_create("json_reply");
    TCase *tc = unit_tcase("json", 60);
    tcase_add_test(tc, scalars_both_protocols);
    tcase_add_test(tc, string_escapes);
    tcase_add_test(tc, base64_fallback);
    tcase_add_test(tc, utf8_validator);
    tcase_add_test(tc, lossy_strings);
    tcase_add_test(tc, arrays_and_nesting);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, maps_as_objects);
    tcase_add_test(tc, deferred_aggregates);
    tcase_add_test(tc, begin_end_callbacks);
    tcase_add_test(tc, attributes_dropped);
    tcase_add_test(tc, elem_names_wrapping);
    suite_add_tcase(s, tc);
    tc = unit_tcase("bytes", 60);
    tcase_add_test(tc, formats_table);
    tcase_add_test(tc, bytes_scalars);
    tcase_add_test(tc, bytes_aggregates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(json_reply_suite());
}
