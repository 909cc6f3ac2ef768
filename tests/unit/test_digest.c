/* test_digest.c — unit tests for core/persist/digest.c (DEBUG DIGEST and
 * DIGEST-VALUE): the digests redis-server 7.0.15 gave for the same values
 * (taken from DEBUG DIGEST-VALUE / DEBUG DIGEST on it), one per type, with
 * and without a TTL; the same digest whatever the encoding (listpack or
 * hash table, intset or hash table, skiplist); zeros for an empty dataset;
 * the per-type hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "digest.h"
#include "kernel.h"
#include "registry.h"
#include "rec_sink.h"
#include "store.h"
#include "util.h"
#include "unit.h"

static struct rec_sink sink;
static struct client *cli;

static void limits(long long n)
{
    g_config.hash_max_listpack_entries = n;
    g_config.hash_max_listpack_value = 64;
    g_config.set_max_intset_entries = n;
    g_config.zset_max_listpack_entries = n;
    g_config.zset_max_listpack_value = 64;
    g_config.list_max_listpack_size = -2;
}

static void setup(void)
{
    limits(128);
    store_init(16);
    kernel_init();
    cli = client_new(NULL, &sink, &rec_sink_ops);
}

static void teardown(void)
{
    client_free(cli);
    store_shutdown();
}

static void run(const char *line)
{
    char **w;
    size_t *l;
    static struct argv_ref argv[64];
    int n = util_split_args(line, strlen(line), &w, &l), i;
    ck_assert(n > 0 && n <= 64);
    for (i = 0; i < n; i++) {
        argv[i].p = w[i];
        argv[i].n = l[i];
    }
    rec_sink_reset(&sink);
    kernel_submit(cli, n, argv);
    ck_assert_msg(sink.nerr == 0, "%s: %s", line, sink.err);
    util_free_words(w, l, n);
}

static void expect_value(const char *key, const char *hex)
{
    unsigned char d[20] = {0};
    char got[41];
    struct kv *e = store_peek(store_db(0), key, strlen(key));
    ck_assert_msg(e != NULL, "no key %s", key);
    digest_value(d, e);
    digest_hex(d, got);
    ck_assert_msg(strcmp(got, hex) == 0, "%s: got %s, want %s", key, got, hex);
}

/* The data whose digests redis-server 7.0.15 printed. */
static void load_sample(void)
{
    run("SET s hello");
    run("RPUSH l a b c");
    run("SADD st a b 7");
    run("ZADD z 1 a 2.5 b");
    run("HSET h f v g 12");
    run("SET e 42 EX 1000");
}

static void expect_sample(void)
{
    unsigned char d[20];
    char hex[41];
    expect_value("s", "36b23a1456b2dce2c3ed252c456761301dba8060");
    expect_value("l", "8bf72d812571eea9b927f3c11beb0c4165a6ff89");
    expect_value("st", "4db2915dc242371e719444ddc8b328e38ac18e1c");
    expect_value("z", "c45c5b051acd64070e5ed1a949939d5145f806c5");
    expect_value("h", "8530acc75d5274eb0fc0da86f28ed5533274a6d4");
    expect_value("e", "b2fffeb5eb322d48ec77f4f949383d7cace23627");
    digest_dataset(d);
    digest_hex(d, hex);
    ck_assert_str_eq(hex, "65c85b8b6d3f6b93ab44f55908509d9f668cc6f3");
}

START_TEST(same_as_redis)
{
    unsigned char d[20];
    char hex[41];
    digest_dataset(d);
    digest_hex(d, hex);
    ck_assert_str_eq(hex, "0000000000000000000000000000000000000000");
    load_sample();
    expect_sample();
}
END_TEST

START_TEST(encoding_independent)
{
    /* every aggregate in its big encoding: hash table, skiplist */
    limits(0);
    load_sample();
    ck_assert_int_eq(store_peek(store_db(0), "st", 2)->enc, ENC_HASHTABLE);
    ck_assert_int_eq(store_peek(store_db(0), "z", 1)->enc, ENC_SKIPLIST);
    ck_assert_int_eq(store_peek(store_db(0), "h", 1)->enc, ENC_HASHTABLE);
    expect_sample();
}
END_TEST

START_TEST(order_and_databases)
{
    unsigned char a[20], b[20];
    /* set members and hash fields in any order: the same digest */
    run("SADD x 3 1 2");
    run("SADD y 2 3 1");
    {
        unsigned char dx[20] = {0}, dy[20] = {0};
        digest_value(dx, store_peek(store_db(0), "x", 1));
        digest_value(dy, store_peek(store_db(0), "y", 1));
        ck_assert(memcmp(dx, dy, 20) == 0);
    }
    /* list order matters */
    run("RPUSH l1 a b");
    run("RPUSH l2 b a");
    {
        unsigned char d1[20] = {0}, d2[20] = {0};
        digest_value(d1, store_peek(store_db(0), "l1", 2));
        digest_value(d2, store_peek(store_db(0), "l2", 2));
        ck_assert(memcmp(d1, d2, 20) != 0);
    }
    /* the same data in another database: another digest */
    run("FLUSHALL");
    run("SET k v");
    digest_dataset(a);
    run("MOVE k 1");
    digest_dataset(b);
    ck_assert(memcmp(a, b, 20) != 0);
}
END_TEST

START_TEST(stream_as_redis)
{
    /* entries (ids, fields, values) digest as in redis-server 7.0.15; a
     * consumer group does not change it; a deleted entry does */
    run("XADD x 1-1 a 1 b 2");
    run("XADD x 2-0 a 3 bb hello");
    run("XADD x 3-5 a 3 b 4");
    expect_value("x", "cfe9cf161e3df129c79cd5cefd8d88a7e6367287");
    run("XGROUP CREATE x g 0");
    expect_value("x", "cfe9cf161e3df129c79cd5cefd8d88a7e6367287");
    run("XDEL x 2-0");
    expect_value("x", "cb646f5f4193ee549b1c6139e6287bc306aeb338");
}
END_TEST

static Suite *digest_suite(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = unit_tcase("digest", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_as_redis);
    tcase_add_test(tc, encoding_independent);
    tcase_add_test(tc, order_and_databases);
    tcase_add_test(tc, stream_as_redis);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    registry_init();
    return unit_run(digest_suite());
}
