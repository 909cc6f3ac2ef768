/* test_upstream.c — unit tests for upstream mode's protocol-free parts and
 * its wire decoder: CRC16 and key slots with hash tags (the values Redis
 * Cluster gives), the slot map from a CLUSTER SLOTS tree, the masters'
 * order, replaying a reply tree through the RESP encoder (RESP2 and RESP3
 * bytes), and up_resp_read on whole, partial and malformed replies. */
#include <event2/buffer.h>
#include <string.h>

#include "resp_encode.h"
#include "up_route.h"
#include "up_value.h"
#include "upstream.h"
#include "util.h"
#include "unit.h"

START_TEST(crc16_and_slots)
{
    ck_assert_uint_eq(up_crc16("123456789", 9), 0x31C3);
    ck_assert_uint_eq(up_keyslot("foo", 3), 12182);
    ck_assert_uint_eq(up_keyslot("bar", 3), 5061);
    ck_assert_uint_eq(up_keyslot("{user1000}.following", 20),
                      up_keyslot("{user1000}.followers", 20));
    ck_assert_uint_eq(up_keyslot("{user1000}.following", 20), up_keyslot("user1000", 8));
    /* an empty tag hashes the whole key; only the first { counts */
    ck_assert_uint_eq(up_keyslot("foo{}{bar}", 10), up_crc16("foo{}{bar}", 10) & 16383);
    ck_assert_uint_eq(up_keyslot("foo{{bar}}zap", 13), up_keyslot("{bar", 4));
    ck_assert_uint_eq(up_keyslot("foo{bar}{zap}", 13), up_keyslot("bar", 3));
    ck_assert_uint_eq(up_keyslot("{unclosed", 9), up_crc16("{unclosed", 9) & 16383);
    ck_assert_uint_eq(up_keyslot("", 0), 0);
}
END_TEST

static struct up_value bulk(const char *s)
{
    struct up_value v;
    memset(&v, 0, sizeof(v));
    v.type = UV_BULK;
    v.n = strlen(s);
    v.s = xmalloc(v.n + 1);
    memcpy(v.s, s, v.n + 1);
    return v;
}

static struct up_value integer(long long i)
{
    struct up_value v;
    memset(&v, 0, sizeof(v));
    v.type = UV_INT;
    v.i = i;
    return v;
}

static struct up_value array(int n)
{
    struct up_value v;
    memset(&v, 0, sizeof(v));
    v.type = UV_ARRAY;
    v.i = n;
    v.elem = xcalloc((size_t)(n ? n : 1), sizeof(struct up_value));
    return v;
}

/* [start, end, [host, port, id]] */
static struct up_value range(long long a, long long b, const char *host, long long port)
{
    struct up_value r = array(3), m = array(3);
    r.elem[0] = integer(a);
    r.elem[1] = integer(b);
    m.elem[0] = bulk(host);
    m.elem[1] = integer(port);
    m.elem[2] = bulk("id");
    r.elem[2] = m;
    return r;
}

START_TEST(slot_map)
{
    struct up_value v = array(3);
    int m[8], first[8], n;
    up_route_init();
    ck_assert_int_eq(up_node_parse("127.0.0.1:7000", 14), 0);
    ck_assert_int_eq(up_node_parse("nope", 4), -1);
    ck_assert_int_eq(up_node_parse("[::1]:7001", 10), 1);
    ck_assert_str_eq(g_up.nodes[1].host, "::1");
    v.elem[0] = range(10923, 16383, "127.0.0.1", 7002);
    v.elem[1] = range(0, 5460, "", 7000); /* empty host: the one that answered */
    v.elem[2] = range(5461, 10922, "127.0.0.1", 7001);
    ck_assert(up_route_load_slots(&v, "127.0.0.1"));
    ck_assert(g_up.cluster && g_up.ready);
    ck_assert_int_eq(g_up.slots_ok, 16384);
    ck_assert_int_eq(g_up.slot_node[0], 0);
    ck_assert_str_eq(g_up.nodes[g_up.slot_node[5461]].addr, "127.0.0.1:7001");
    ck_assert_str_eq(g_up.nodes[g_up.slot_node[16383]].addr, "127.0.0.1:7002");
    n = up_route_masters_slots(m, first, 8);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(first[1], 5461);
    ck_assert_int_eq(m[2], g_up.slot_node[10923]);
    ck_assert(!g_up.nodes[1].master); /* [::1]:7001 owns nothing */
    ck_assert_str_eq(up_route_state(), "ok");
    g_up.nodes[m[1]].up = false;
    ck_assert_str_eq(up_route_state(), "degraded");
    up_value_clear(&v);
    /* not a map: the old one stays */
    v = integer(3);
    ck_assert(!up_route_load_slots(&v, "127.0.0.1"));
    ck_assert_int_eq(g_up.slots_ok, 16384);
    up_route_single(0);
    ck_assert(!g_up.cluster);
    ck_assert_int_eq(g_up.slot_node[16383], 0);
}
END_TEST

/* Decode wire bytes, then replay the tree as RESP for a client of resp. */
static void roundtrip(const char *wire, int resp, const char *want)
{
    struct evbuffer *in = evbuffer_new();
    struct up_value v;
    struct obuf o;
    struct reply r;
    memset(&o, 0, sizeof(o));
    r.ops = &resp_reply_ops;
    r.ctx = &o;
    r.resp = resp;
    r.nerr = 0;
    evbuffer_add(in, wire, strlen(wire));
    ck_assert_int_eq(up_resp_read(in, &v), 1);
    ck_assert_uint_eq(evbuffer_get_length(in), 0);
    up_value_replay(&v, &r);
    ck_assert_msg(o.len == strlen(want) && memcmp(o.buf, want, o.len) == 0, "%s -> [%.*s]", wire,
                  (int)o.len, o.buf);
    up_value_clear(&v);
    obuf_free(&o);
    evbuffer_free(in);
}

START_TEST(decode_and_replay)
{
    roundtrip("+OK\r\n", 2, "+OK\r\n");
    roundtrip("-ERR x\r\n", 3, "-ERR x\r\n");
    roundtrip(":-5\r\n", 2, ":-5\r\n");
    roundtrip("$3\r\na\r\n\r\n", 2, "$3\r\na\r\n\r\n");
    roundtrip("$-1\r\n", 2, "$-1\r\n");
    roundtrip("$-1\r\n", 3, "_\r\n");
    roundtrip("*-1\r\n", 2, "*-1\r\n");
    roundtrip("_\r\n", 3, "_\r\n");
    roundtrip("%1\r\n$1\r\nf\r\n$1\r\nv\r\n", 3, "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    roundtrip("%1\r\n$1\r\nf\r\n$1\r\nv\r\n", 2, "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    roundtrip(",1.5\r\n", 3, ",1.5\r\n");
    roundtrip(",1.5\r\n", 2, "$3\r\n1.5\r\n");
    roundtrip("#t\r\n", 3, "#t\r\n");
    roundtrip("~2\r\n:1\r\n:2\r\n", 3, "~2\r\n:1\r\n:2\r\n");
    roundtrip("=7\r\ntxt:abc\r\n", 3, "=7\r\ntxt:abc\r\n");
    roundtrip("(12345678901234567890\r\n", 3, "(12345678901234567890\r\n");
    roundtrip("|1\r\n+a\r\n+b\r\n:7\r\n", 3, ":7\r\n"); /* attributes dropped */
    roundtrip("*2\r\n*1\r\n:1\r\n*0\r\n", 2, "*2\r\n*1\r\n:1\r\n*0\r\n");
}
END_TEST

START_TEST(decode_partial_and_bad)
{
    static const char *const partial[] = {
        "", "+O", "+OK\r", "$3\r\nab", "*2\r\n:1\r\n", "%1\r\n$1\r\nf\r\n", "*1\r\n*1\r\n$2\r\nx"};
    static const char *const bad[] = {"?x\r\n", ":abc\r\n", "$-2\r\n", "+x\rz"};
    struct up_value v;
    size_t i;
    for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        struct evbuffer *in = evbuffer_new();
        evbuffer_add(in, partial[i], strlen(partial[i]));
        ck_assert_msg(up_resp_read(in, &v) == 0, "partial %zu", i);
        ck_assert_uint_eq(evbuffer_get_length(in), strlen(partial[i]));
        evbuffer_free(in);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct evbuffer *in = evbuffer_new();
        evbuffer_add(in, bad[i], strlen(bad[i]));
        ck_assert_msg(up_resp_read(in, &v) == -1, "bad %zu", i);
        evbuffer_free(in);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("upstream");
    TCase *tc = unit_tcase("upstream", 60);
    tcase_add_test(tc, crc16_and_slots);
    tcase_add_test(tc, slot_map);
    tcase_add_test(tc, decode_and_replay);
    tcase_add_test(tc, decode_partial_and_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
