/* test_repl_feed.c — unit tests for how the replication stream reaches an
 * online replica (core/repl/repl_primary.c with repl.c's backlog): the
 * bytes are read from the backlog once a loop iteration
 * (repl_primary_flush), a replica whose unsent bytes would be overwritten
 * by the ring takes them first, bytes larger than the ring go to it
 * directly, a resize keeps what it has not got, and the replicas' feed is
 * skipped while none needs the bytes (the gate); also the propagated
 * command's RESP (propagate_format) against a reference encoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "kernel.h"
#include "propagate.h"
#include "rdb.h"
#include "rec_sink.h"
#include "repl.h"
#include "repl_primary.h"
#include "store.h"
#include "unit.h"
#include "util.h"

/* The fake connection: what the adapter's raw hook received, in order. */
static struct sbuf got;
static int raw_calls;

static void fake_raw(struct client *c, const void *p, size_t n)
{
    (void)c;
    sbuf_append(&got, p, n);
    raw_calls++;
}

static void fake_close(struct client *c, bool after_reply)
{
    (void)after_reply;
    client_free(c);
}

static void fake_buffers(struct client *c, size_t *qb, size_t *qf, size_t *obl, size_t *oll,
                         size_t *omem)
{
    (void)c;
    *qb = *qf = *obl = *oll = *omem = 0;
}

static const struct client_adapter fake = {
    .name = "fake",
    .close = fake_close,
    .buffers = fake_buffers,
    .raw = fake_raw,
};

static struct rec_sink sink;
static struct client *rc;
/* every byte fed, for comparison */
static struct sbuf all;

static void setup(void)
{
    store_init(16);
    kernel_init();
    repl_primary_init();
    repl_set_replica_feed(repl_primary_feed, repl_primary_count);
    g_repl_cfg.backlog_size = 16384;
    repl_init();
    repl_backlog_ensure();
    sbuf_init(&got);
    sbuf_init(&all);
    raw_calls = 0;
    rc = NULL;
}

static void teardown(void)
{
    if (rc) client_free(rc);
    repl_backlog_free();
    repl_set_replica_feed(NULL, NULL);
    sbuf_free(&got);
    sbuf_free(&all);
    store_shutdown();
}

static void feed(size_t n, int seed)
{
    char *p = xmalloc(n);
    size_t i;
    for (i = 0; i < n; i++)
        p[i] = (char)((seed * 131 + (int)i) % 251);
    repl_feed_stream(p, n);
    sbuf_append(&all, p, n);
    free(p);
}

/* A replica that continued (PSYNC at the next byte): online, nothing owed. */
static void attach_online(void)
{
    rc = client_new(&fake, &sink, &rec_sink_ops);
    repl_primary_sync(rc, g_repl.replid, g_repl.offset + 1, true);
    ck_assert_int_eq(repl_replicas_online(), 1);
    /* "+CONTINUE\r\n" (no capa psync2) and an empty backlog tail */
    ck_assert_uint_eq(got.len, 11);
    ck_assert(memcmp(got.p, "+CONTINUE\r\n", 11) == 0);
    got.len = 0;
    raw_calls = 0;
}

START_TEST(stream_waits_for_the_flush)
{
    int i;
    attach_online();
    for (i = 0; i < 50; i++)
        feed(40, i); /* 2000 bytes, well inside the ring */
    ck_assert_uint_eq(got.len, 0);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 2000);
    ck_assert(memcmp(got.p, all.p, 2000) == 0);
    ck_assert_int_le(raw_calls, 2); /* one run, or two when the ring wraps */
    /* nothing new: nothing sent */
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 2000);
}
END_TEST

START_TEST(ring_drains_before_overwriting)
{
    int i;
    attach_online();
    /* 40 KB in 1000-byte pieces through a 16 KB ring, never flushed by
     * the loop: the replica must still get every byte, in order */
    for (i = 0; i < 40; i++)
        feed(1000, i);
    ck_assert(got.len >= 40000 - 16384);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 40000);
    ck_assert(memcmp(got.p, all.p, 40000) == 0);
    ck_assert_int_eq(repl_replicas_online(), 1);
}
END_TEST

START_TEST(bigger_than_the_ring)
{
    attach_online();
    feed(100, 1);
    feed(50000, 2); /* over 16 KB: sent as it is */
    feed(100, 3);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 50200);
    ck_assert(memcmp(got.p, all.p, 50200) == 0);
    ck_assert_int_eq(g_repl.offset, 50200);
}
END_TEST

START_TEST(resize_keeps_unsent_bytes)
{
    int i;
    attach_online();
    g_repl_cfg.backlog_size = 65536;
    repl_backlog_resize();
    for (i = 0; i < 60; i++)
        feed(1000, i);
    ck_assert_uint_eq(got.len, 0); /* 60 KB fit in the ring */
    /* shrinking to 16 KB as CONFIG SET does: the replica takes its bytes
     * first (repl_config.c's hook) */
    g_repl_cfg.backlog_size = 16384;
    repl_primary_flush();
    repl_backlog_resize();
    feed(1000, 99);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 61000);
    ck_assert(memcmp(got.p, all.p, 61000) == 0);
}
END_TEST

/* The replicas' feed, counted (the gate decides when it is called). */
static int primary_feeds;

static void counting_feed(const void *p, size_t n)
{
    primary_feeds++;
    repl_primary_feed(p, n);
}

START_TEST(gate_skips_the_feed_while_nothing_is_due)
{
    int i;
    attach_online();
    repl_set_replica_feed(counting_feed, repl_primary_count);
    primary_feeds = 0;
    /* a new feed has not set the gate: called once, then skipped while
     * the replica's unsent bytes fit in the 16 KB ring */
    for (i = 0; i < 100; i++)
        feed(100, i);
    ck_assert_int_eq(primary_feeds, 1);
    ck_assert_uint_eq(got.len, 0);
    /* past the ring's worth of unsent bytes: called, the replica drained */
    for (i = 0; i < 100; i++)
        feed(100, i);
    ck_assert_int_ge(primary_feeds, 2);
    ck_assert(got.len >= 20000 - 16384);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 20000);
    ck_assert(memcmp(got.p, all.p, 20000) == 0);
    /* after the flush the gate is set again: skipped */
    primary_feeds = 0;
    feed(100, 1);
    ck_assert_int_eq(primary_feeds, 0);
    /* a resize opens it */
    g_repl_cfg.backlog_size = 32768;
    repl_backlog_resize();
    feed(100, 2);
    ck_assert_int_eq(primary_feeds, 1);
    repl_primary_flush();
    ck_assert_uint_eq(got.len, 20200);
    ck_assert(memcmp(got.p, all.p, 20200) == 0);
}
END_TEST

static long long seen_offset;
static size_t seen_histlen;

static void spy_feed(const void *p, size_t n)
{
    (void)p, (void)n;
    seen_offset = g_repl.offset;
    seen_histlen = repl_backlog_histlen();
}

static int spy_count(void)
{
    return 1;
}

START_TEST(feed_sees_the_offset_before_the_bytes)
{
    /* the replicas' hook runs before the bytes enter the backlog, with the
     * offset still before them (repl_primary_feed relies on both) */
    feed(5, 1);
    repl_set_replica_feed(spy_feed, spy_count);
    feed(10, 2);
    ck_assert_int_eq(seen_offset, 5);
    ck_assert_uint_eq(seen_histlen, 5);
    ck_assert_int_eq(g_repl.offset, 15);
    ck_assert_uint_eq(repl_backlog_histlen(), 15);
}
END_TEST

/* The reference: snprintf, as the old encoder wrote it. */
static void ref_format(struct sbuf *out, int argc, const struct argv_ref *argv)
{
    char h[32];
    int i;
    sbuf_append(out, h, (size_t)snprintf(h, sizeof(h), "*%d\r\n", argc));
    for (i = 0; i < argc; i++) {
        sbuf_append(out, h, (size_t)snprintf(h, sizeof(h), "$%zu\r\n", argv[i].n));
        sbuf_append(out, argv[i].p, argv[i].n);
        sbuf_append(out, "\r\n", 2);
    }
}

START_TEST(format_matches_reference)
{
    static const size_t lens[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 100000};
    struct argv_ref argv[120];
    char *text = xmalloc(100000);
    struct sbuf a, b;
    size_t i;
    int argc;
    memset(text, 'x', 100000);
    sbuf_init(&a);
    sbuf_init(&b);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        argv[0].p = "SET";
        argv[0].n = 3;
        argv[1].p = text;
        argv[1].n = lens[i];
        a.len = b.len = 0;
        propagate_format(&a, 2, argv);
        ref_format(&b, 2, argv);
        ck_assert_uint_eq(a.len, b.len);
        ck_assert(memcmp(a.p, b.p, a.len) == 0);
    }
    /* argument counts past one and two digits, appended after earlier bytes */
    for (argc = 1; argc <= 120; argc += 7) {
        int k;
        for (k = 0; k < argc; k++) {
            argv[k].p = text;
            argv[k].n = (size_t)(k * 13 % 150);
        }
        propagate_format(&a, argc, argv);
        ref_format(&b, argc, argv);
        ck_assert_uint_eq(a.len, b.len);
        ck_assert(memcmp(a.p, b.p, a.len) == 0);
    }
    sbuf_free(&a);
    sbuf_free(&b);
    free(text);
}
END_TEST

static Suite *feed_suite(void)
{
    Suite *s = suite_create("repl_feed");
    TCase *tc = unit_tcase("repl_feed", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stream_waits_for_the_flush);
    tcase_add_test(tc, ring_drains_before_overwriting);
    tcase_add_test(tc, bigger_than_the_ring);
    tcase_add_test(tc, resize_keeps_unsent_bytes);
    tcase_add_test(tc, feed_sees_the_offset_before_the_bytes);
    tcase_add_test(tc, gate_skips_the_feed_while_nothing_is_due);
    suite_add_tcase(s, tc);
    tc = unit_tcase("format", 60);
    tcase_add_test(tc, format_matches_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(feed_suite());
}
