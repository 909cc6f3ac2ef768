/* test_web_sinks.c — unit tests for the Upstash REST sink
 * (adapters/web/upstash.c: {"result"}/{"error"} shapes, pipelines,
 * multi-exec's wrapped EXEC array, base64 with the OK exemption, RESP3
 * maps flattened, attributes dropped, deferred aggregates, the HTTP status)
 * and the MessagePack sink (adapters/web/msgpack_reply.c: the exact bytes
 * of each type and length class, HGETALL and INFO as maps, deferred
 * lengths patched, batches), and INFO's field splitter. */
#include <stdio.h>
#include <string.h>

#include "msgpack_reply.h"
#include "unit.h"
#include "upstash.h"
#include "webdis_info.h"

/* s: zeroed by its declaration, then reused (its buffers freed here). */
static void us_init(struct upstash_sink *s, struct reply *r, enum upstash_mode m, bool b64)
{
    upstash_sink_free(s);
    memset(s, 0, sizeof(*s));
    upstash_sink_reset(s, m, b64);
    r->ops = &upstash_reply_ops;
    r->ctx = s;
    r->resp = 2;
}

static char *us_text(struct upstash_sink *s, int *status)
{
    static char buf[1024];
    *status = upstash_sink_finish(s);
    snprintf(buf, sizeof(buf), "%.*s", (int)s->out.len, s->out.buf);
    return buf;
}

START_TEST(upstash_single)
{
    struct upstash_sink s = {0};
    struct reply r;
    int st;
    us_init(&s, &r, UPSTASH_SINGLE, false);
    reply_status(&r, "OK");
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":\"OK\"}");
    ck_assert_int_eq(st, 200);
    us_init(&s, &r, UPSTASH_SINGLE, false);
    reply_err(&r, E_WRONGTYPE);
    ck_assert_str_eq(us_text(&s, &st),
                     "{\"error\":\"WRONGTYPE Operation against a key holding the wrong kind of "
                     "value\"}");
    ck_assert_int_eq(st, 400);
    us_init(&s, &r, UPSTASH_SINGLE, false);
    reply_map(&r, 2);
    reply_bulk(&r, "a", 1);
    reply_int(&r, 1);
    reply_bulk(&r, "b", 1);
    reply_null(&r);
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":[\"a\",1,\"b\",null]}");
    us_init(&s, &r, UPSTASH_SINGLE, false);
    reply_double(&r, 1.5);
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":\"1.5\"}");
    upstash_sink_free(&s);
}
END_TEST

START_TEST(upstash_base64)
{
    struct upstash_sink s = {0};
    struct reply r;
    int st;
    us_init(&s, &r, UPSTASH_SINGLE, true);
    reply_bulk(&r, "\xff\x00v", 3);
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":\"/wB2\"}");
    us_init(&s, &r, UPSTASH_SINGLE, true);
    reply_status(&r, "OK"); /* a result's OK stays plain */
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":\"OK\"}");
    us_init(&s, &r, UPSTASH_SINGLE, true);
    reply_array(&r, 3);
    reply_status(&r, "OK"); /* nested: encoded */
    reply_bulk(&r, "", 0);
    reply_int(&r, -7);
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":[\"T0s=\",\"\",-7]}");
    us_init(&s, &r, UPSTASH_SINGLE, true);
    reply_err(&r, E_SYNTAX); /* errors are never encoded */
    ck_assert_str_eq(us_text(&s, &st), "{\"error\":\"ERR syntax error\"}");
    upstash_sink_free(&s);
}
END_TEST

START_TEST(upstash_pipeline_and_multi)
{
    struct upstash_sink s = {0};
    struct reply r;
    int st;
    void *h;
    us_init(&s, &r, UPSTASH_PIPELINE, false);
    reply_status(&r, "OK");
    reply_err(&r, E_NOT_INT);
    h = reply_defer(&r, AGG_ARRAY);
    reply_bulk(&r, "x", 1);
    reply_set_deferred(&r, h, 1);
    ck_assert_str_eq(us_text(&s, &st),
                     "[{\"result\":\"OK\"},{\"error\":\"ERR value is not an integer or out of "
                     "range\"},{\"result\":[\"x\"]}]");
    ck_assert_int_eq(st, 200);
    /* multi-exec: EXEC's array is the response, each element wrapped */
    us_init(&s, &r, UPSTASH_MULTI_EXEC, true);
    reply_array(&r, 3);
    reply_status(&r, "OK");
    reply_err(&r, E_WRONGTYPE);
    reply_array(&r, 2);
    reply_bulk(&r, "a", 1);
    reply_null(&r);
    ck_assert_str_eq(us_text(&s, &st),
                     "[{\"result\":\"OK\"},{\"error\":\"WRONGTYPE Operation against a key holding "
                     "the wrong kind of value\"},{\"result\":[\"YQ==\",null]}]");
    ck_assert_int_eq(st, 200);
    us_init(&s, &r, UPSTASH_MULTI_EXEC, false);
    reply_error(&r, "EXECABORT Transaction discarded because of previous errors.");
    ck_assert_str_eq(us_text(&s, &st),
                     "{\"error\":\"EXECABORT Transaction discarded because of previous errors.\"}");
    ck_assert_int_eq(st, 400);
    /* a RESP3 attribute before a reply is dropped */
    us_init(&s, &r, UPSTASH_SINGLE, false);
    r.ops->aggregate(&r, AGG_ATTR, 1);
    reply_bulk(&r, "k", 1);
    reply_int(&r, 1);
    reply_int(&r, 42);
    ck_assert_str_eq(us_text(&s, &st), "{\"result\":42}");
    upstash_sink_free(&s);
}
END_TEST

/* ---- MessagePack ---- */

static void mp_init(struct msgpack_sink *s, struct reply *r, const char *name)
{
    memset(s, 0, sizeof(*s));
    msgpack_sink_reset(s, false, 1);
    msgpack_sink_name(s, name, strlen(name));
    r->ops = &msgpack_reply_ops;
    r->ctx = s;
    r->resp = 2;
}

static void mp_is(struct msgpack_sink *s, const char *want, size_t n)
{
    ck_assert_uint_eq(s->out.len, n);
    ck_assert(memcmp(s->out.buf, want, n) == 0);
    s->out.len = 0;
}
#define MP_IS(s, lit) mp_is(s, lit, sizeof(lit) - 1)

START_TEST(msgpack_scalars)
{
    struct msgpack_sink s;
    struct reply r;
    mp_init(&s, &r, "GET");
    reply_bulk(&r, "v", 1);
    MP_IS(&s, "\x81\xa3GET\xa1v");
    reply_null(&r);
    MP_IS(&s, "\x81\xa3GET\xc0");
    reply_status(&r, "OK");
    MP_IS(&s, "\x81\xa3GET\x92\xc3\xa2OK");
    reply_error(&r, "ERR x");
    MP_IS(&s, "\x81\xa3GET\x92\xc2\xa5"
              "ERR x");
    reply_int(&r, 5);
    MP_IS(&s, "\x81\xa3GET\x05");
    reply_int(&r, -1);
    MP_IS(&s, "\x81\xa3GET\xff");
    reply_int(&r, 200);
    MP_IS(&s, "\x81\xa3GET\xcc\xc8");
    reply_int(&r, -200);
    MP_IS(&s, "\x81\xa3GET\xd1\xff\x38");
    reply_int(&r, 70000);
    MP_IS(&s, "\x81\xa3GET\xce\x00\x01\x11\x70");
    {
        char big[40];
        memset(big, 'x', sizeof(big));
        reply_bulk(&r, big, sizeof(big)); /* 32+ bytes: str16 (0xda) */
        ck_assert_uint_eq((unsigned char)s.out.buf[5], 0xda);
        ck_assert_uint_eq(s.out.len, 5 + 3 + sizeof(big));
        s.out.len = 0;
    }
    msgpack_sink_free(&s);
}
END_TEST

START_TEST(msgpack_aggregates)
{
    struct msgpack_sink s;
    struct reply r;
    void *h;
    mp_init(&s, &r, "LRANGE");
    reply_array(&r, 2);
    reply_bulk(&r, "a", 1);
    reply_array(&r, 0);
    MP_IS(&s, "\x81\xa6LRANGE\x92\xa1"
              "a\x90");
    msgpack_sink_name(&s, "hgetall", 7); /* any case: a map */
    reply_array(&r, 2);
    reply_bulk(&r, "f", 1);
    reply_bulk(&r, "v", 1);
    MP_IS(&s, "\x81\xa7hgetall\x81\xa1"
              "f\xa1v");
    msgpack_sink_name(&s, "SCAN", 4);
    h = reply_defer(&r, AGG_ARRAY);
    reply_bulk(&r, "k", 1);
    reply_bulk(&r, "l", 1);
    reply_set_deferred(&r, h, 2);
    MP_IS(&s, "\x81\xa4SCAN\xdd\x00\x00\x00\x02\xa1k\xa1l");
    msgpack_sink_name(&s, "INFO", 4);
    reply_bulk(&r, "# Server\r\nredis_version:7.0.15\r\n\r\nx:1\r\n", 38);
    MP_IS(&s, "\x81\xa4INFO\x82\xadredis_version\xa6"
              "7.0.15\xa1x\xa1"
              "1");
    msgpack_sink_reset(&s, true, 2);
    msgpack_sink_name(&s, "A", 1);
    reply_int(&r, 1);
    msgpack_sink_name(&s, "B", 1);
    reply_null(&r);
    MP_IS(&s, "\x92\x81\xa1"
              "A\x01\x81\xa1"
              "B\xc0");
    msgpack_sink_free(&s);
}
END_TEST

static void count_field(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    char *out = arg;
    size_t l = strlen(out);
    snprintf(out + l, 256 - l, "%.*s=%.*s;", (int)kl, k, (int)vl, v);
}

START_TEST(info_fields)
{
    char out[256] = "";
    const char *t = "# Server\r\nredis_version:7.0.15\r\nos:Linux 6:x\r\n\r\n# Keyspace\r\n"
                    "db0:keys=1,expires=0\nnocolon\n:novalue\n";
    ck_assert_uint_eq(webdis_info_fields(t, strlen(t), count_field, out), 3);
    ck_assert_str_eq(out, "redis_version=7.0.15;os=Linux 6:x;db0=keys=1,expires=0;");
    ck_assert_uint_eq(webdis_info_fields("", 0, NULL, NULL), 0);
}
END_TEST

static Suite *web_sinks_suite(void)
{
    Suite *s = suite_create("web_sinks");
    TCase *tc = unit_tcase("upstash", 60);
    tcase_add_test(tc, upstash_single);
    tcase_add_test(tc, upstash_base64);
    tcase_add_test(tc, upstash_pipeline_and_multi);
    suite_add_tcase(s, tc);
    tc = unit_tcase("msgpack", 60);
    tcase_add_test(tc, msgpack_scalars);
    tcase_add_test(tc, msgpack_aggregates);
    tcase_add_test(tc, info_fields);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(web_sinks_suite());
}
