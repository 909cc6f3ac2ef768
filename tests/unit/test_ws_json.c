/* test_ws_json.c — unit tests for adapters/ws/ws_json.c, the decoder of
 * JSON-mode WebSocket requests: single commands, batches, request objects
 * with an id (number or string), cmd/batch and atomic, numbers (64-bit
 * integers exact, reals, the fast path's limits), string escapes (\u
 * with surrogate pairs, \u0000), whitespace, and the error messages of
 * malformed requests (with the id when it was read). Every request is
 * decoded twice, with the fast scanner and with the general decoder only,
 * and both must agree on everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_json.h"
#include "unit.h"

/* A decoded request as text: "[id=<id>] [batch] [atomic] cmd|arg|arg ;
 * cmd|arg" (bytes outside printable ASCII as \xHH), or "error: <err>"
 * ("[id=<id>] error: ..."). */
static char *show(const struct ws_json_req *rq, bool ok)
{
    static char out[2][8192];
    static int which;
    char *o = out[which ^= 1];
    size_t n = 0;
    int k, i;
#define PUT(...) n += (size_t)snprintf(o + n, sizeof(out[0]) - n, __VA_ARGS__)
    o[0] = 0;
    if (rq->id) PUT("id=%.*s ", (int)rq->idlen, rq->id);
    if (!ok) {
        PUT("error: %s", rq->err);
        return o;
    }
    if (rq->batch) PUT("batch ");
    if (rq->atomic) PUT("atomic ");
    for (k = 0; k < rq->cb.ncmd; k++) {
        if (k) PUT(" ; ");
        for (i = 0; i < rq->cb.cmd_argc[k]; i++) {
            const struct argv_ref *a = &rq->cb.argv[rq->cb.cmd_start[k] + i];
            size_t j;
            if (i) PUT("|");
            for (j = 0; j < a->n; j++) {
                unsigned char c = (unsigned char)a->p[j];
                if (c >= 0x20 && c < 0x7f)
                    PUT("%c", c);
                else
                    PUT("\\x%02x", c);
            }
        }
    }
#undef PUT
    return o;
}

/* Decode msg both ways; they must agree. Returns the result as text;
 * *fast tells whether the fast scanner decoded the commands. */
static const char *decode_fast(const char *msg, size_t len, bool *fast)
{
    static struct ws_json_req a, b;
    bool oka = ws_json_decode(&a, msg, len, 0);
    bool okb = ws_json_decode(&b, msg, len, WS_JSON_NO_FAST);
    const char *sa = show(&a, oka), *sb = show(&b, okb);
    ck_assert_msg(strcmp(sa, sb) == 0, "fast and general decoders disagree on '%.*s': '%s' / '%s'",
                  (int)len, msg, sa, sb);
    ck_assert(!b.fast);
    if (fast) *fast = oka && a.fast;
    return sa;
}

static const char *decode(const char *msg)
{
    return decode_fast(msg, strlen(msg), NULL);
}

/* msg must decode to want, by the fast path or not (fast). */
static void expect(const char *msg, const char *want, bool fast)
{
    bool f;
    const char *got = decode_fast(msg, strlen(msg), &f);
    ck_assert_msg(strcmp(got, want) == 0, "'%s': got '%s', want '%s'", msg, got, want);
    ck_assert_msg(f == fast, "'%s': fast path %s", msg, f ? "taken" : "not taken");
}

START_TEST(single_command)
{
    expect("[\"SET\",\"k\",\"v\"]", "SET|k|v", true);
    expect("  [ \"GET\" ,\t\"k\"\r\n]  ", "GET|k", true);
    expect("[\"PING\"]", "PING", true);
    expect("[\"SET\",\"\",\"\"]", "SET||", true);
    /* the bytes of a string are its argument, UTF-8 included */
    expect("[\"SET\",\"k\",\"\xc3\xa9t\xc3\xa9\"]", "SET|k|\\xc3\\xa9t\\xc3\\xa9", true);
}
END_TEST

START_TEST(batch)
{
    expect("[[\"SET\",\"k\",\"v\"],[\"GET\",\"k\"]]", "batch SET|k|v ; GET|k", true);
    expect("[ [\"PING\"] , [\"PING\",\"x\"] ]", "batch PING ; PING|x", true);
    expect("[[\"PING\"]]", "batch PING", true);
    /* a batch's entries must all be commands */
    expect("[[\"PING\"],\"x\"]",
           "error: a command must be a non-empty array of strings and numbers", false);
    expect("[[\"PING\"],[]]", "error: a command must be a non-empty array of strings and numbers",
           false);
}
END_TEST

START_TEST(request_objects)
{
    expect("{\"id\":7,\"cmd\":[\"GET\",\"k\"]}", "id=7 GET|k", true);
    expect("{\"id\":-12,\"cmd\":[\"GET\",\"k\"]}", "id=-12 GET|k", true);
    expect("{\"id\":\"abc\",\"cmd\":[\"GET\",\"k\"]}", "id=\"abc\" GET|k", true);
    expect("{ \"id\" : 7 , \"cmd\" : [\"GET\",\"k\"] }", "id=7 GET|k", true);
    expect("{\"cmd\":[\"GET\",\"k\"],\"id\":7}", "id=7 GET|k", true);
    expect("{\"cmd\":[\"GET\",\"k\"]}", "GET|k", true);
    expect("{\"id\":1.5e3,\"cmd\":[\"GET\",\"k\"]}", "id=1.5e3 GET|k", true);
    /* an id is kept as sent, up to its JSON spelling */
    expect("{\"id\":\"a\\\"b\",\"cmd\":[\"PING\"]}", "id=\"a\\\"b\" PING", true);
    expect("{\"id\":8,\"batch\":[[\"SET\",\"k\",\"v\"],[\"GET\",\"k\"]]}",
           "id=8 batch SET|k|v ; GET|k", true);
    expect("{\"batch\":[[\"INCR\",\"n\"]],\"atomic\":true}", "batch atomic INCR|n", true);
    expect("{\"batch\":[[\"INCR\",\"n\"]],\"atomic\":false}", "batch INCR|n", true);
    expect("{\"atomic\":true,\"id\":3,\"batch\":[[\"INCR\",\"n\"]]}", "id=3 batch atomic INCR|n",
           true);
    /* the general decoder where the fast one stops */
    expect("{\"id\":7,\"cmd\":[\"INCRBYFLOAT\",\"k\",1.5]}", "id=7 INCRBYFLOAT|k|1.5", false);
    expect("{\"id\":8,\"batch\":[[\"PING\",0.5]]}", "id=8 batch PING|0.5", false);
}
END_TEST

START_TEST(numbers)
{
    expect("[\"SET\",\"k\",123]", "SET|k|123", true);
    expect("[\"SET\",\"k\",-5]", "SET|k|-5", true);
    expect("[\"SET\",\"k\",0]", "SET|k|0", true);
    expect("[\"SET\",\"k\",123456789012345678]", "SET|k|123456789012345678", true);
    expect("[\"SET\",\"k\",-123456789012345678]", "SET|k|-123456789012345678", true);
    /* past 18 digits, the general decoder: 64-bit integers exact */
    expect("[\"SET\",\"k\",1234567890123456789]", "SET|k|1234567890123456789", false);
    expect("[\"SET\",\"k\",9223372036854775807]", "SET|k|9223372036854775807", false);
    expect("[\"SET\",\"k\",-9223372036854775808]", "SET|k|-9223372036854775808", false);
    /* -0 and reals: the general decoder's shortest round-trip form */
    expect("[\"SET\",\"k\",-0]", "SET|k|0", false);
    expect("[\"SET\",\"k\",1.5]", "SET|k|1.5", false);
    expect("[\"SET\",\"k\",1e3]", "SET|k|1000", false);
    expect("[\"SET\",\"k\",2.5E-3]", "SET|k|0.0025", false);
    expect("[\"SET\",\"k\",0.1]", "SET|k|0.1", false);
    /* not numbers */
    ck_assert(strncmp(decode("[\"SET\",\"k\",01]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",+1]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",1.]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",-]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",9223372036854775808]"), "error: invalid JSON", 19) ==
              0);
}
END_TEST

START_TEST(escapes)
{
    expect("[\"SET\",\"k\",\"a\\\"b\\\\c\\/d\"]", "SET|k|a\"b\\c/d", true);
    expect("[\"SET\",\"k\",\"\\b\\f\\n\\r\\t\"]", "SET|k|\\x08\\x0c\\x0a\\x0d\\x09", true);
    expect("[\"SET\",\"k\",\"\\u0041\\u00e9\\u20AC\"]", "SET|k|A\\xc3\\xa9\\xe2\\x82\\xac", true);
    /* a surrogate pair: one 4-byte character */
    expect("[\"SET\",\"k\",\"\\ud83d\\ude00\"]", "SET|k|\\xf0\\x9f\\x98\\x80", true);
    expect("[\"SET\",\"k\",\"\\uDBFF\\uDFFF\"]", "SET|k|\\xf4\\x8f\\xbf\\xbf", true);
    /* NUL is a byte like any other */
    expect("[\"SET\",\"k\",\"a\\u0000b\"]", "SET|k|a\\x00b", true);
    /* escapes in a command name and in the id's request */
    expect("{\"id\":1,\"cmd\":[\"G\\u0045T\",\"k\\n\"]}", "id=1 GET|k\\x0a", true);
    /* lone or reversed surrogates, bad escapes: errors */
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\ud800\"]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\udc00\"]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\ude00\\ud83d\"]"), "error: invalid JSON", 19) ==
              0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\ud83dx\"]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\x41\"]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"\\u12\"]"), "error: invalid JSON", 19) == 0);
    ck_assert(strncmp(decode("[\"SET\",\"k\",\"a\tb\"]"), "error: invalid JSON", 19) == 0);
}
END_TEST

START_TEST(invalid_requests)
{
    static const char shape[] =
        "error: a request is a JSON array (a command or a batch of commands) or an object "
        "{\"id\":..,\"cmd\":[..]} / {\"id\":..,\"batch\":[[..],..],\"atomic\":true}";
    expect("", shape, false);
    expect("   ", shape, false);
    expect("\"PING\"", shape, false);
    expect("42", shape, false);
    expect("[]", "error: a command must be a non-empty array of strings and numbers", false);
    expect("[\"SET\",null]", "error: command arguments must be strings or numbers (argument 2)",
           false);
    expect("[\"SET\",[\"x\"]]", "error: command arguments must be strings or numbers (argument 2)",
           false);
    ck_assert(strncmp(decode("[\"SET\",\"k\""), "error: invalid JSON: ", 21) == 0);
    ck_assert(strncmp(decode("[\"SET\",]"), "error: invalid JSON: ", 21) == 0);
    ck_assert(strncmp(decode("[\"PING\"] x"), "error: invalid JSON: ", 21) == 0);
    ck_assert(strncmp(decode("[\"PING\"][\"PING\"]"), "error: invalid JSON: ", 21) == 0);
    /* request objects */
    expect("{}", "error: a request object needs \"cmd\" or \"batch\"", false);
    expect("{\"cmd\"}", "error: invalid JSON request (at byte 6)", false);
    expect("{\"id\":1,\"cmd\":[\"PING\"]} x", "id=1 error: invalid JSON request (at byte 22)",
           false);
    expect("{\"id\":1,\"cmd\":[\"PING\"],}", "id=1 error: invalid JSON request (at byte 23)",
           false);
    expect("{\"id\":1 \"cmd\":[\"PING\"]}", "id=1 error: invalid JSON request (at byte 8)", false);
    expect("{\"id\":true,\"cmd\":[\"PING\"]}", "error: \"id\" must be a number or a string", false);
    expect("{\"id\":1,\"id\":null,\"cmd\":[\"PING\"]}",
           "error: \"id\" must be a number or a string", false);
    expect("{\"id\":1,\"cmd\":[\"PING\"],\"batch\":[[\"PING\"]]}",
           "id=1 error: give either \"cmd\" or \"batch\", once", false);
    expect("{\"cmd\":[\"PING\"],\"cmd\":[\"PING\"]}",
           "error: give either \"cmd\" or \"batch\", once", false);
    expect("{\"id\":1,\"cmd\":[\"PING\"],\"atomic\":1}",
           "id=1 error: \"atomic\" must be true or false", false);
    expect("{\"id\":1,\"cmd\":[\"PING\"],\"atomic\":true}",
           "id=1 error: \"atomic\" goes with \"batch\"", false);
    expect("{\"id\":1,\"command\":[\"PING\"]}",
           "id=1 error: unknown field \"command\" (expected id, cmd, batch, atomic)", false);
    expect("{\"id\":1}", "id=1 error: a request object needs \"cmd\" or \"batch\"", false);
    expect("{\"id\":1,\"cmd\":[[\"PING\"]]}",
           "id=1 error: \"cmd\" must be one command array (use \"batch\" for several)", false);
    expect("{\"id\":1,\"batch\":[\"PING\"]}",
           "id=1 error: \"batch\" must be an array of command arrays", false);
    expect("{\"id\":5,\"cmd\":[\"SET\",{}]}",
           "id=5 error: command arguments must be strings or numbers (argument 2)", false);
    expect("{\"id\":5,\"cmd\":\"PING\"}",
           "id=5 error: a command must be a non-empty array of strings and numbers", false);
    ck_assert(strncmp(decode("{\"id\":5,\"cmd\":[\"PING\",1.]}"),
                      "id=5 error: invalid JSON request (at byte", 41) == 0);
}
END_TEST

START_TEST(reuse_and_binary)
{
    /* One request struct decodes request after request; its results do
     * not leak into the next one. */
    struct ws_json_req rq;
    static const char bin[] = "[\"SET\",\"k\\u0000\",\"a\\u0000\"]";
    static const char obj[] = "{\"id\":9,\"batch\":[[\"A\"],[\"B\"]],\"atomic\":true}";
    memset(&rq, 0, sizeof(rq));
    ck_assert(ws_json_decode(&rq, obj, sizeof(obj) - 1, 0));
    ck_assert(rq.batch && rq.atomic && rq.id && rq.cb.ncmd == 2);
    ck_assert(ws_json_decode(&rq, "[\"PING\"]", 8, 0));
    ck_assert(!rq.batch && !rq.atomic && !rq.id && rq.cb.ncmd == 1 && rq.fast);
    ck_assert(!ws_json_decode(&rq, "{\"id\":3}", 8, 0));
    ck_assert(rq.id && rq.idlen == 1 && rq.id[0] == '3');
    ck_assert(ws_json_decode(&rq, bin, sizeof(bin) - 1, 0));
    ck_assert_str_eq(show(&rq, true), "SET|k\\x00|a\\x00");
    /* only len bytes are read: a message is not NUL-terminated */
    ck_assert(ws_json_decode(&rq, "[\"PING\"]garbage", 8, 0));
    ck_assert_str_eq(show(&rq, true), "PING");
    ck_assert(!ws_json_decode(&rq, "[\"PING\"]", 7, 0));
    ws_json_req_free(&rq);
}
END_TEST

static Suite *ws_json_suite(void)
{
    Suite *s = suite_create("ws_json");
    TCase *tc = unit_tcase("json", 120);
    tcase_add_test(tc, single_command);
    tcase_add_test(tc, batch);
    tcase_add_test(tc, request_objects);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, invalid_requests);
    tcase_add_test(tc, reuse_and_binary);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(ws_json_suite());
}
