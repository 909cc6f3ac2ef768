/* test_zset.c — core/types/t_zset.c: the listpack encoding (Redis's bytes, score
 * then member order under random changes), the skiplist (span/rank
 * invariants, rank look-ups, score updates in and out of place, range
 * searches and deletions), conversions between the two, and iteration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "t_zset.h"
#include "unit.h"

static void limits(long long entries, long long value)
{
    g_config.zset_max_listpack_entries = entries;
    g_config.zset_max_listpack_value = value;
}

/* ---- a tiny model: members "m<k>" with scores, sorted like Redis ---- */
struct melem {
    char m[16];
    size_t n;
    double s;
};

static int melem_cmp(const void *a, const void *b)
{
    const struct melem *x = a, *y = b;
    int c;
    if (x->s < y->s) return -1;
    if (x->s > y->s) return 1;
    c = memcmp(x->m, y->m, x->n < y->n ? x->n : y->n);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Check e holds exactly model[0..n) in order, both directions. */
static void check_same(struct kv *e, struct melem *model, size_t n)
{
    struct zset_iter it;
    size_t i = 0;
    qsort(model, n, sizeof(*model), melem_cmp);
    ck_assert_uint_eq(zset_length(e), n);
    for (zset_iter_rank(&it, e, 0, false); zset_iter_valid(&it); zset_iter_next(&it), i++) {
        size_t len;
        const char *m = zset_iter_member(&it, &len);
        ck_assert_uint_lt(i, n);
        ck_assert_uint_eq(len, model[i].n);
        ck_assert(memcmp(m, model[i].m, len) == 0);
        ck_assert(zset_iter_get_score(&it) == model[i].s);
    }
    ck_assert_uint_eq(i, n);
    for (zset_iter_rank(&it, e, 0, true); zset_iter_valid(&it); zset_iter_next(&it)) {
        size_t len;
        const char *m = zset_iter_member(&it, &len);
        ck_assert_uint_gt(i, 0);
        i--;
        ck_assert(memcmp(m, model[i].m, len) == 0 && len == model[i].n);
    }
    ck_assert_uint_eq(i, 0);
}

/* Skiplist invariants: backward links, tail, and every level's spans
 * adding up to each node's level-0 rank. */
static void check_skiplist(struct zset *zs)
{
    struct zskiplist *zsl = &zs->zsl;
    struct zsl_node *x, *prev = NULL;
    unsigned long rank = 0;
    int i;
    for (x = zsl->header->lv[0].forward; x; x = x->lv[0].forward) {
        ck_assert_ptr_eq(x->backward, prev);
        ck_assert_uint_eq(x->lv[0].span, x->lv[0].forward ? 1u : 0u);
        prev = x;
        rank++;
    }
    ck_assert_ptr_eq(zsl->tail, prev);
    ck_assert_uint_eq(zsl->length, rank);
    ck_assert_uint_eq(dict_size(&zs->dict), rank);
    for (i = 0; i < zsl->level; i++) {
        unsigned long r = 0;
        x = zsl->header;
        while (x->lv[i].forward) {
            r += x->lv[i].span;
            x = x->lv[i].forward;
            ck_assert_uint_eq(zsl_rank(zsl, x->score, zsl_member(x), x->mlen), r);
            ck_assert_ptr_eq(zsl_by_rank(zsl, r), x);
        }
    }
    for (i = zsl->level; i < ZSKIPLIST_MAXLEVEL; i++)
        ck_assert_ptr_null(zsl->header->lv[i].forward);
}

START_TEST(listpack_redis_bytes)
{
    /* DUMP of ZADD z 1 a 2.5 b -0 c inf d in redis-server 7.0.15. */
    static const unsigned char want[] = {0x21, 0,    0,    0,   0x08, 0,    0x81, 'c',  0x02,
                                         0x00, 0x01, 0x81, 'a', 0x02, 0x01, 0x01, 0x81, 'b',
                                         0x02, 0x83, '2',  '.', '5',  0x04, 0x81, 'd',  0x02,
                                         0x83, 'i',  'n',  'f', 0x04, 0xff};
    struct kv *e;
    int out;
    double ns;
    limits(128, 64);
    e = zset_new_kv("z", 1, 1, 1);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    ck_assert(zset_add(e, 1, "a", 1, 0, &out, &ns));
    ck_assert(zset_add(e, 2.5, "b", 1, 0, &out, &ns));
    ck_assert(zset_add(e, -0.0, "c", 1, 0, &out, &ns));
    ck_assert(zset_add(e, INFINITY, "d", 1, 0, &out, &ns));
    ck_assert_uint_eq(lp_bytes(e->v.ptr), sizeof(want));
    ck_assert_mem_eq(e->v.ptr, want, sizeof(want));
    kv_free(e);
}
END_TEST

START_TEST(score_text)
{
    char b[128];
    ck_assert_int_eq(zset_score_text(b, sizeof(b), 0.0), 1);
    ck_assert_str_eq(b, "0");
    zset_score_text(b, sizeof(b), -0.0);
    ck_assert_str_eq(b, "0");
    zset_score_text(b, sizeof(b), 0.1);
    ck_assert_str_eq(b, "0.10000000000000001");
    zset_score_text(b, sizeof(b), 4503599627370495.0);
    ck_assert_str_eq(b, "4503599627370495");
    zset_score_text(b, sizeof(b), 1e20);
    ck_assert_str_eq(b, "1e+20");
    zset_score_text(b, sizeof(b), -INFINITY);
    ck_assert_str_eq(b, "-inf");
    zset_score_text(b, sizeof(b), -12.0);
    ck_assert_str_eq(b, "-12");
}
END_TEST

/* Random adds/updates/removes, run on either encoding against the model. */
static void random_ops(long long entries, int rounds, unsigned seed)
{
    struct melem model[400];
    size_t n = 0, i;
    struct kv *e;
    limits(entries, 64);
    srand(seed);
    e = zset_new_kv("z", 1, 1, 1);
    for (int r = 0; r < rounds; r++) {
        struct melem m;
        int op = rand() % 10, out;
        double ns;
        m.n = (size_t)snprintf(m.m, sizeof(m.m), "m%d", rand() % 300);
        m.s = (double)(rand() % 41 - 20) / (rand() % 3 + 1);
        for (i = 0; i < n; i++)
            if (model[i].n == m.n && !memcmp(model[i].m, m.m, m.n)) break;
        if (op < 6) {
            ck_assert(zset_add(e, m.s, m.m, m.n, 0, &out, &ns));
            if (i == n) {
                ck_assert(out & ZADD_OUT_ADDED);
                model[n++] = m;
            } else {
                ck_assert(!(out & ZADD_OUT_ADDED));
                ck_assert(!!(out & ZADD_OUT_UPDATED) == (model[i].s != m.s));
                model[i].s = m.s;
            }
        } else if (op < 8) {
            ck_assert(zset_delete(e, m.m, m.n) == (i < n));
            if (i < n) model[i] = model[--n];
        } else {
            double sc;
            long rank;
            ck_assert(zset_score(e, m.m, m.n, &sc) == (i < n));
            if (i < n) ck_assert(sc == model[i].s);
            rank = zset_rank(e, m.m, m.n, false, NULL);
            if (i < n) {
                size_t k, want = 0;
                for (k = 0; k < n; k++)
                    if (melem_cmp(&model[k], &model[i]) < 0) want++;
                ck_assert_int_eq(rank, (long)want);
                ck_assert_int_eq(zset_rank(e, m.m, m.n, true, NULL), (long)(n - 1 - want));
            } else {
                ck_assert_int_eq(rank, -1);
            }
        }
        if (r % 97 == 0) {
            check_same(e, model, n);
            if (e->enc == ENC_SKIPLIST) check_skiplist(e->v.ptr);
        }
    }
    check_same(e, model, n);
    if (entries >= 300)
        ck_assert_int_eq(e->enc, ENC_LISTPACK);
    else if (n > (size_t)entries)
        ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    kv_free(e);
}

START_TEST(listpack_order_random)
{
    random_ops(1000, 4000, 1);
}
END_TEST

START_TEST(skiplist_random)
{
    random_ops(0, 6000, 2);
}
END_TEST

START_TEST(converting_random)
{
    random_ops(20, 4000, 3);
}
END_TEST

START_TEST(skiplist_ranks_large)
{
    struct zset *zs = zs_new();
    int i;
    for (i = 0; i < 20000; i++) {
        char m[16];
        int n = snprintf(m, sizeof(m), "k%05d", (i * 7919) % 20000);
        zs_insert(zs, (double)((i * 7919) % 20000), m, (size_t)n);
    }
    check_skiplist(zs);
    for (i = 0; i < 20000; i += 37) {
        char m[16];
        int n = snprintf(m, sizeof(m), "k%05d", i);
        ck_assert_uint_eq(zsl_rank(&zs->zsl, (double)i, m, (size_t)n), (unsigned long)i + 1);
        ck_assert_double_eq(zsl_by_rank(&zs->zsl, (unsigned long)i + 1)->score, (double)i);
    }
    ck_assert_ptr_null(zsl_by_rank(&zs->zsl, 0));
    ck_assert_ptr_null(zsl_by_rank(&zs->zsl, 20001));
    /* move nodes around: in place and across the list */
    for (i = 0; i < 20000; i += 13) {
        char m[16];
        int n = snprintf(m, sizeof(m), "k%05d", i);
        struct zsl_node *x = zs_find(zs, m, (size_t)n);
        ck_assert_ptr_nonnull(x);
        zs_update_score(zs, x, i % 2 ? (double)i + 0.5 : (double)(20000 - i));
    }
    check_skiplist(zs);
    for (i = 0; i < 20000; i += 3) {
        char m[16];
        int n = snprintf(m, sizeof(m), "k%05d", i);
        ck_assert(zs_delete(zs, m, (size_t)n));
        ck_assert(!zs_delete(zs, m, (size_t)n));
    }
    check_skiplist(zs);
    zs_free(zs);
}
END_TEST

START_TEST(update_keeps_node)
{
    struct zset *zs = zs_new();
    struct zsl_node *a, *b, *c;
    zs_insert(zs, 1, "a", 1);
    zs_insert(zs, 2, "b", 1);
    zs_insert(zs, 3, "c", 1);
    a = zs_find(zs, "a", 1);
    zs_update_score(zs, a, 1.5); /* stays in place */
    ck_assert_ptr_eq(zs_find(zs, "a", 1), a);
    zs_update_score(zs, a, 10); /* moves to the tail, same node */
    ck_assert_ptr_eq(zs->zsl.tail, a);
    b = zsl_by_rank(&zs->zsl, 1);
    c = zsl_by_rank(&zs->zsl, 2);
    ck_assert(b->mlen == 1 && zsl_member(b)[0] == 'b');
    ck_assert(c->mlen == 1 && zsl_member(c)[0] == 'c');
    zs_update_score(zs, c, 2); /* tie with b: member order decides */
    ck_assert_ptr_eq(zsl_by_rank(&zs->zsl, 1), b);
    ck_assert_ptr_eq(zsl_by_rank(&zs->zsl, 2), c);
    check_skiplist(zs);
    zs_free(zs);
}
END_TEST

/* Both encodings answer range questions the same way. */
START_TEST(ranges_both_encodings)
{
    struct kv *e[2];
    int k, i, out;
    double ns;
    limits(128, 64);
    for (k = 0; k < 2; k++) {
        e[k] = zset_new_kv("z", 1, 1, 1);
        for (i = 0; i < 100; i++) {
            char m[8];
            int n = snprintf(m, sizeof(m), "%c%02d", 'a' + i % 3, i);
            zset_add(e[k], (double)(i / 2), m, (size_t)n, 0, &out, &ns);
        }
        if (k == 1) zset_convert(e[k], ENC_SKIPLIST);
    }
    ck_assert_int_eq(e[0]->enc, ENC_LISTPACK);
    ck_assert_int_eq(e[1]->enc, ENC_SKIPLIST);
    for (i = 0; i < 300; i++) {
        struct zrange_spec r;
        unsigned long c0, c1;
        struct zset_iter it0, it1;
        bool rev = i % 2;
        r.min = (double)(rand() % 60) - 5;
        r.max = (double)(rand() % 60) - 5;
        r.minex = rand() % 2;
        r.maxex = rand() % 2;
        c0 = zset_count_score(e[0], &r);
        c1 = zset_count_score(e[1], &r);
        ck_assert_uint_eq(c0, c1);
        ck_assert(zset_iter_score(&it0, e[0], &r, rev) == zset_iter_score(&it1, e[1], &r, rev));
        while (zset_iter_valid(&it0)) {
            size_t n0, n1;
            const char *m0 = zset_iter_member(&it0, &n0), *m1;
            ck_assert(zset_iter_valid(&it1));
            m1 = zset_iter_member(&it1, &n1);
            ck_assert(n0 == n1 && memcmp(m0, m1, n0) == 0);
            zset_iter_next(&it0);
            zset_iter_next(&it1);
        }
    }
    {
        struct zrange_spec r = {10, 20, true, false};
        ck_assert_uint_eq(zset_delete_score(e[0], &r), 20);
        ck_assert_uint_eq(zset_delete_score(e[1], &r), 20);
        ck_assert_uint_eq(zset_delete_rank(e[0], 5, 14), 10);
        ck_assert_uint_eq(zset_delete_rank(e[1], 5, 14), 10);
        zset_delete_end(e[0], true);
        zset_delete_end(e[1], true);
        zset_delete_end(e[0], false);
        zset_delete_end(e[1], false);
        check_skiplist(e[1]->v.ptr);
        zset_convert(e[1], ENC_LISTPACK);
        ck_assert_uint_eq(lp_bytes(e[0]->v.ptr), lp_bytes(e[1]->v.ptr));
        ck_assert_mem_eq(e[0]->v.ptr, e[1]->v.ptr, lp_bytes(e[0]->v.ptr));
    }
    kv_free(e[0]);
    kv_free(e[1]);
}
END_TEST

START_TEST(lex_ranges)
{
    struct kv *e[2];
    const char *ms[] = {"a", "b", "bb", "c", "d", "e"};
    int k, i, out;
    double ns;
    limits(128, 64);
    for (k = 0; k < 2; k++) {
        e[k] = zset_new_kv("l", 1, 1, 1);
        for (i = 0; i < 6; i++)
            zset_add(e[k], 0, ms[i], strlen(ms[i]), 0, &out, &ns);
        if (k) zset_convert(e[k], ENC_SKIPLIST);
    }
    for (k = 0; k < 2; k++) {
        struct zlex_spec all = {NULL, NULL, 0, 0, ZLEX_MIN, ZLEX_MAX, true, true};
        struct zlex_spec bd = {"b", "d", 1, 1, ZLEX_STR, ZLEX_STR, false, true};
        struct zlex_spec none = {NULL, NULL, 0, 0, ZLEX_MAX, ZLEX_MIN, true, true};
        struct zlex_spec same = {NULL, NULL, 0, 0, ZLEX_MIN, ZLEX_MIN, true, true};
        ck_assert_uint_eq(zset_count_lex(e[k], &all), 6);
        ck_assert_uint_eq(zset_count_lex(e[k], &bd), 3); /* b bb c */
        ck_assert_uint_eq(zset_count_lex(e[k], &none), 0);
        ck_assert_uint_eq(zset_count_lex(e[k], &same), 0);
        ck_assert(zlex_empty(&none) && zlex_empty(&same) && !zlex_empty(&bd));
        ck_assert_uint_eq(zset_delete_lex(e[k], &bd), 3);
        ck_assert_uint_eq(zset_length(e[k]), 3);
        ck_assert_uint_eq(zset_delete_lex(e[k], &all), 3);
        ck_assert_uint_eq(zset_length(e[k]), 0);
        kv_free(e[k]);
    }
}
END_TEST

START_TEST(conversion_thresholds)
{
    struct kv *e;
    int i, out;
    double ns;
    char big[100];
    limits(4, 8);
    e = zset_new_kv("z", 1, 1, 1);
    for (i = 0; i < 4; i++) {
        char m[4] = {'m', (char)('0' + i), 0, 0};
        zset_add(e, i, m, 2, 0, &out, &ns);
    }
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    zset_add(e, 9, "m9", 2, 0, &out, &ns);
    ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    check_skiplist(e->v.ptr);
    /* a store result that fits goes back to a listpack */
    zset_delete(e, "m9", 2);
    zset_shrink_if_needed(e, 2, 8);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    zset_shrink_if_needed(e, 2, 8);
    kv_free(e);
    /* too long a member */
    memset(big, 'x', sizeof(big));
    e = zset_new_kv("z", 1, 1, 1);
    zset_add(e, 1, big, 8, 0, &out, &ns);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    zset_add(e, 1, big, 9, 0, &out, &ns);
    ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    kv_free(e);
    e = zset_new_kv("z", 1, 1, 9);
    ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    kv_free(e);
    limits(0, 64);
    e = zset_new_kv("z", 1, 1, 1);
    ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    kv_free(e);
    limits(128, 64);
}
END_TEST

START_TEST(add_flags)
{
    struct kv *e;
    int out;
    double ns = 0;
    limits(128, 64);
    for (int enc = 0; enc < 2; enc++) {
        e = zset_new_kv("z", 1, 1, 1);
        if (enc) zset_convert(e, ENC_SKIPLIST);
        ck_assert(zset_add(e, 5, "a", 1, ZADD_IN_XX, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_NOP);
        ck_assert(zset_add(e, 5, "a", 1, ZADD_IN_NX, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_ADDED);
        ck_assert(zset_add(e, 6, "a", 1, ZADD_IN_NX, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_NOP);
        ck_assert(zset_add(e, 4, "a", 1, ZADD_IN_GT, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_NOP);
        ck_assert(zset_add(e, 7, "a", 1, ZADD_IN_GT, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_UPDATED);
        ck_assert(zset_add(e, 1, "a", 1, ZADD_IN_INCR | ZADD_IN_LT, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_NOP);
        ck_assert(zset_add(e, -1, "a", 1, ZADD_IN_INCR | ZADD_IN_LT, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_UPDATED);
        ck_assert_double_eq(ns, 6);
        ck_assert(zset_add(e, 0, "a", 1, ZADD_IN_INCR, &out, &ns));
        ck_assert_int_eq(out, 0); /* processed, not changed */
        ck_assert(zset_add(e, INFINITY, "b", 1, 0, &out, &ns));
        ck_assert(!zset_add(e, -INFINITY, "b", 1, ZADD_IN_INCR, &out, &ns));
        ck_assert_int_eq(out, ZADD_OUT_NAN);
        ck_assert(!zset_add(e, NAN, "c", 1, 0, &out, &ns));
        ck_assert_uint_eq(zset_length(e), 2);
        kv_free(e);
    }
}
END_TEST

START_TEST(dup_is_deep)
{
    struct kv *e, *d;
    int out, enc;
    double ns, s;
    limits(128, 64);
    for (enc = 0; enc < 2; enc++) {
        e = zset_new_kv("z", 1, 1, 1);
        zset_add(e, 1, "a", 1, 0, &out, &ns);
        zset_add(e, 2, "b", 1, 0, &out, &ns);
        if (enc) zset_convert(e, ENC_SKIPLIST);
        d = kv_dup(e, "d", 1);
        ck_assert_int_eq(d->enc, e->enc);
        zset_delete(e, "a", 1);
        ck_assert(zset_score(d, "a", 1, &s) && s == 1);
        ck_assert_uint_eq(zset_length(d), 2);
        kv_free(e);
        kv_free(d);
    }
}
END_TEST

static Suite *zset_suite(void)
{
    Suite *s = suite_create("zset");
    TCase *tc = unit_tcase("core", 120);
    tcase_add_test(tc, listpack_redis_bytes);
    tcase_add_test(tc, score_text);
    tcase_add_test(tc, listpack_order_random);
    tcase_add_test(tc, skiplist_random);
    tcase_add_test(tc, converting_random);
    tcase_add_test(tc, skiplist_ranks_large);
    tcase_add_test(tc, update_keeps_node);
    tcase_add_test(tc, ranges_both_encodings);
    tcase_add_test(tc, lex_ranges);
    tcase_add_test(tc, conversion_thresholds);
    tcase_add_test(tc, add_flags);
    tcase_add_test(tc, dup_is_deep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(zset_suite());
}
