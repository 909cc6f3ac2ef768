/* test_stream.c — core/types/t_stream.c: ids (parse, format, order), the
 * node codec in Redis 7.0's layout (master entry, SAMEFIELDS, deltas,
 * lp-count) checked byte for byte against a listpack built by hand, node
 * limits, walks both ways, tombstones, trimming, groups and PELs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "listpack.h"
#include "t_stream.h"
#include "unit.h"

static int add(struct stream *s, uint64_t ms, uint64_t seq, int nf, const char **fv)
{
    size_t lens[16];
    struct sid id = {ms, seq}, got;
    int i;
    for (i = 0; i < nf * 2; i++)
        lens[i] = strlen(fv[i]);
    return stream_append(s, fv, lens, nf, &id, true, &got);
}

static unsigned char *first_node(struct stream *s, struct sid *master)
{
    struct rax_iter it;
    unsigned char *lp = NULL;
    rax_iter_start(&it, s->rax);
    if (rax_seek(&it, RAX_FIRST, NULL, 0)) {
        lp = it.data;
        sid_decode(it.key, master);
    }
    rax_iter_stop(&it);
    return lp;
}

START_TEST(ids)
{
    struct sid a, b;
    bool given;
    char buf[48];
    ck_assert(sid_parse("5-3", 3, 0, false, false, &a, &given) && a.ms == 5 && a.seq == 3);
    ck_assert(sid_parse("5", 1, 7, false, false, &a, &given) && a.ms == 5 && a.seq == 7);
    ck_assert(sid_parse("5-*", 3, 0, false, true, &a, &given) && !given && a.ms == 5);
    ck_assert(!sid_parse("5-*", 3, 0, false, false, &a, &given));
    ck_assert(!sid_parse("-", 1, 0, false, false, &a, NULL));
    ck_assert(sid_parse("+", 1, 0, true, false, &a, NULL) && a.ms == UINT64_MAX);
    ck_assert(!sid_parse("18446744073709551616", 20, 0, false, false, &a, NULL));
    ck_assert(!sid_parse("1-2-3", 5, 0, false, false, &a, NULL));
    ck_assert(!sid_parse("", 0, 0, false, false, &a, NULL));
    ck_assert(!sid_parse("-1", 2, 0, false, false, &a, NULL));
    /* what strtoull takes (Redis's string2ull): white space, '+', leading
     * zeros, a wrapped "-05" after the dash; the id ends at a NUL */
    ck_assert(sid_parse(" 7-+2", 5, 0, false, false, &a, NULL) && a.ms == 7 && a.seq == 2);
    ck_assert(sid_parse("007", 3, 0, false, false, &a, NULL) && a.ms == 7);
    ck_assert(sid_parse("1--05", 5, 0, false, false, &a, NULL) && a.seq == UINT64_MAX - 4);
    ck_assert(!sid_parse("1--5", 4, 0, false, false, &a, NULL));
    ck_assert(!sid_parse("7 ", 2, 0, false, false, &a, NULL));
    ck_assert(!sid_parse("+", 1, 0, false, false, &a, NULL));
    ck_assert(sid_parse("9\0-x", 4, 0, false, false, &a, NULL) && a.ms == 9 && a.seq == 0);
    a = (struct sid){UINT64_MAX, UINT64_MAX};
    ck_assert_int_eq(sid_format(buf, &a), 41);
    ck_assert_str_eq(buf, "18446744073709551615-18446744073709551615");
    ck_assert(!sid_incr(&a));
    b = (struct sid){1, UINT64_MAX};
    ck_assert(sid_incr(&b) && b.ms == 2 && b.seq == 0);
    ck_assert(sid_decr(&b) && b.ms == 1 && b.seq == UINT64_MAX);
    b = (struct sid){0, 0};
    ck_assert(!sid_decr(&b));
    {
        unsigned char k1[16], k2[16];
        struct sid x = {1, 2}, y = {1, 3}, z;
        sid_encode(k1, &x);
        sid_encode(k2, &y);
        ck_assert_int_lt(memcmp(k1, k2, 16), 0);
        sid_decode(k2, &z);
        ck_assert(sid_cmp(&z, &y) == 0);
    }
}
END_TEST

/* The node of XADD s 10-5 a 1 b x / 12-1 a 2 b y / 12-2 c 3 built by hand. */
START_TEST(node_layout_is_redis)
{
    const char *e1[] = {"a", "1", "b", "x"}, *e2[] = {"a", "2", "b", "y"}, *e3[] = {"c", "3"};
    struct stream *s = stream_new();
    struct sid master;
    unsigned char *lp, *want = lp_new(0);
    g_config.stream_node_max_entries = 100;
    g_config.stream_node_max_bytes = 4096;
    ck_assert_int_eq(add(s, 10, 5, 2, e1), 0);
    ck_assert_int_eq(add(s, 12, 1, 2, e2), 0);
    ck_assert_int_eq(add(s, 12, 2, 1, e3), 0);
    /* master: count deleted nfields fields... 0 */
    want = lp_append_int(want, 3);
    want = lp_append_int(want, 0);
    want = lp_append_int(want, 2);
    want = lp_append(want, "a", 1);
    want = lp_append(want, "b", 1);
    want = lp_append_int(want, 0);
    /* 10-5: SAMEFIELDS, deltas 0 0, values, lp-count 2+3 */
    want = lp_append_int(want, SF_SAMEFIELDS);
    want = lp_append_int(want, 0);
    want = lp_append_int(want, 0);
    want = lp_append(want, "1", 1);
    want = lp_append(want, "x", 1);
    want = lp_append_int(want, 5);
    /* 12-1: deltas 2 and -4 */
    want = lp_append_int(want, SF_SAMEFIELDS);
    want = lp_append_int(want, 2);
    want = lp_append_int(want, -4);
    want = lp_append(want, "2", 1);
    want = lp_append(want, "y", 1);
    want = lp_append_int(want, 5);
    /* 12-2: other fields: flags 0, deltas, nfields, pairs, lp-count 1*2+4 */
    want = lp_append_int(want, SF_NONE);
    want = lp_append_int(want, 2);
    want = lp_append_int(want, -3);
    want = lp_append_int(want, 1);
    want = lp_append(want, "c", 1);
    want = lp_append(want, "3", 1);
    want = lp_append_int(want, 6);
    lp = first_node(s, &master);
    ck_assert(master.ms == 10 && master.seq == 5);
    ck_assert_uint_eq(lp_bytes(lp), lp_bytes(want));
    ck_assert_mem_eq(lp, want, lp_bytes(want));
    ck_assert_uint_eq(s->length, 3);
    ck_assert_uint_eq(s->entries_added, 3);
    ck_assert(s->last_id.ms == 12 && s->last_id.seq == 2);
    ck_assert(s->first_id.ms == 10 && s->first_id.seq == 5);
    /* a deletion flags the entry and moves the master counters */
    {
        struct sid d = {12, 1};
        unsigned char *p;
        ck_assert(stream_delete(s, &d));
        ck_assert(!stream_delete(s, &d));
        lp = first_node(s, &master);
        p = lp_first(lp);
        ck_assert_str_eq(lp_get(p, &(size_t){0}, (char[LP_INTBUF]){0}, NULL, NULL), "2");
        ck_assert_uint_eq(s->length, 2);
        ck_assert(s->max_deleted_id.ms == 12 && s->max_deleted_id.seq == 1);
    }
    lp_free(want);
    stream_free_value(s, 0);
}
END_TEST

START_TEST(appends_ids_and_errors)
{
    const char *fv[] = {"f", "v"};
    size_t lens[] = {1, 1};
    struct stream *s = stream_new();
    struct sid id = {5, 0}, got;
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, false, &got), 0);
    ck_assert(got.ms == 5 && got.seq == 0);
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, false, &got), 0);
    ck_assert(got.ms == 5 && got.seq == 1);
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, true, &got), EDOM);
    id.ms = 4;
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, false, &got), EDOM);
    id = (struct sid){6, UINT64_MAX};
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, true, &got), 0);
    ck_assert_int_eq(stream_append(s, fv, lens, 1, &id, false, &got), ERANGE); /* 6-* */
    ck_assert_int_eq(stream_append(s, fv, lens, 1, NULL, false, &got), 0);
    ck_assert_uint_gt(got.ms, 1000000000000ULL); /* the clock */
    s->last_id = (struct sid){UINT64_MAX, UINT64_MAX};
    ck_assert_int_eq(stream_append(s, fv, lens, 1, NULL, false, &got), ERANGE);
    stream_free_value(s, 0);
}
END_TEST

START_TEST(nodes_walks_trim)
{
    const char *fv[] = {"f", "v"};
    struct stream *s = stream_new(), *d;
    struct stream_iter it;
    struct sid id, lo = {100, 0}, hi = {200, 0};
    long long nf;
    int i, n;
    g_config.stream_node_max_entries = 10;
    for (i = 1; i <= 1000; i++)
        ck_assert_int_eq(add(s, (uint64_t)i, 0, 1, fv), 0);
    ck_assert_uint_eq(rax_size(s->rax), 100);
    /* forward and backward over a range crossing nodes */
    stream_iter_start(&it, s, &lo, &hi, false);
    for (n = 0; stream_iter_next(&it, &id, &nf); n++)
        ck_assert_uint_eq(id.ms, (uint64_t)(100 + n));
    stream_iter_stop(&it);
    ck_assert_int_eq(n, 101);
    stream_iter_start(&it, s, &lo, &hi, true);
    for (n = 0; stream_iter_next(&it, &id, &nf); n++)
        ck_assert_uint_eq(id.ms, (uint64_t)(200 - n));
    stream_iter_stop(&it);
    ck_assert_int_eq(n, 101);
    /* tombstones are skipped; a node whose entries are all deleted goes */
    for (i = 1; i <= 10; i++) {
        struct sid k = {(uint64_t)i, 0};
        ck_assert(stream_delete(s, &k));
    }
    ck_assert_uint_eq(rax_size(s->rax), 99);
    ck_assert(s->first_id.ms == 11);
    /* exact MAXLEN trims inside a node; approximate stops at a node */
    ck_assert_int_eq(stream_trim(s, TRIM_MAXLEN, 985, NULL, false, 0), 5);
    ck_assert_uint_eq(s->length, 985);
    ck_assert(s->first_id.ms == 16);
    ck_assert_int_eq(stream_trim(s, TRIM_MAXLEN, 900, NULL, true, 0), 85);
    ck_assert_uint_eq(s->length, 900);
    {
        struct sid m = {500, 0};
        ck_assert_int_eq(stream_trim(s, TRIM_MINID, 0, &m, false, 0), 399);
        ck_assert(s->first_id.ms == 500);
    }
    /* a deep copy walks the same */
    d = stream_dup_value(s, 0);
    ck_assert_uint_eq(d->length, s->length);
    ck_assert(stream_edge_id(d, false, &id) && id.ms == 1000);
    ck_assert(stream_edge_id(d, true, &id) && id.ms == 500);
    stream_free_value(d, 0);
    stream_free_value(s, 0);
    g_config.stream_node_max_entries = 100;
}
END_TEST

START_TEST(groups_and_pel)
{
    const char *fv[] = {"f", "v"};
    struct stream *s = stream_new(), *d;
    struct sid z = {0, 0};
    struct sgroup *g;
    struct sconsumer *c;
    bool created;
    int i;
    for (i = 1; i <= 5; i++)
        add(s, (uint64_t)i, 0, 1, fv);
    g = stream_group_create(s, "g", 1, &z, SCG_INVALID_READ);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(stream_group_create(s, "g", 1, &z, 0));
    c = stream_consumer_get(g, "alice", 5, 1000, &created);
    ck_assert(created);
    ck_assert_ptr_eq(stream_consumer_get(g, "alice", 5, 2000, &created), c);
    ck_assert(!created);
    for (i = 1; i <= 3; i++) {
        unsigned char k[16];
        struct sid id = {(uint64_t)i, 0};
        struct snack *n = snack_new(c, 1000);
        sid_encode(k, &id);
        rax_insert(g->pel, k, 16, n, NULL);
        rax_insert(c->pel, k, 16, n, NULL);
    }
    {
        long long lag;
        ck_assert(stream_group_lag(s, g, &lag));
        ck_assert_int_eq(lag, 5 - 0); /* entries-read unknown: estimated */
        g->last_id = (struct sid){3, 0};
        g->entries_read = 3;
        ck_assert(stream_group_lag(s, g, &lag));
        ck_assert_int_eq(lag, 2);
        g->entries_read = 9; /* ENTRIESREAD past the entries added: negative */
        ck_assert(stream_group_lag(s, g, &lag));
        ck_assert_int_eq(lag, -4);
        g->entries_read = 3;
    }
    d = stream_dup_value(s, 0);
    {
        struct sgroup *g2 = stream_group_find(d, "g", 1);
        ck_assert_uint_eq(rax_size(g2->pel), 3);
        ck_assert_uint_eq(rax_size(stream_consumer_find(g2, "alice", 5)->pel), 3);
    }
    ck_assert_int_eq(stream_consumer_delete(g, "alice", 5), 3);
    ck_assert_uint_eq(rax_size(g->pel), 0);
    ck_assert(stream_group_destroy(s, "g", 1));
    ck_assert(!stream_group_destroy(s, "g", 1));
    stream_free_value(d, 0);
    stream_free_value(s, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = unit_tcase("stream", 120);
    tcase_add_test(tc, ids);
    tcase_add_test(tc, node_layout_is_redis);
    tcase_add_test(tc, appends_ids_and_errors);
    tcase_add_test(tc, nodes_walks_trim);
    tcase_add_test(tc, groups_and_pel);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
