/* test_list.c — unit tests for core/types/t_list.c: the quicklist against a plain
 * array model under random pushes, pops, inserts (node splits and merges),
 * replacements, range deletes and deletes while iterating, for every kind
 * of list-max-listpack-size and with list-compress-depth on; node limits
 * and compression depth invariants (ql_check); plain nodes for elements
 * over the packed threshold; deep copies; LZF round trips
 * and refusal of corrupt input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_list.h"
#include "util.h"
#include "unit.h"

/* ---- the model: an array of byte strings ---- */

struct mval {
    char *p;
    size_t n;
};

struct model {
    struct mval *v;
    size_t n, cap;
};

static void m_insert(struct model *m, size_t at, const char *p, size_t n)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    m->v[at].p = malloc(n ? n : 1);
    memcpy(m->v[at].p, p, n);
    m->v[at].n = n;
    m->n++;
}

static void m_delete(struct model *m, size_t at, size_t cnt)
{
    size_t i;
    if (cnt == 0) return;
    for (i = at; i < at + cnt; i++)
        free(m->v[i].p);
    memmove(m->v + at, m->v + at + cnt, (m->n - at - cnt) * sizeof(*m->v));
    m->n -= cnt;
}

static void m_free(struct model *m)
{
    m_delete(m, 0, m->n);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random element: integers (canonical and not), short and long strings. */
static size_t rand_val(char *buf)
{
    int kind = (int)(rnd() % 10);
    size_t n, i;
    switch (kind) {
    case 0:
        return (size_t)sprintf(buf, "%d", (int)(rnd() % 200) - 100);
    case 1:
        return (size_t)sprintf(buf, "%lld", (long long)rnd());
    case 2:
        return (size_t)sprintf(buf, "0%d", (int)(rnd() % 100)); /* not canonical */
    case 3:
        n = 100 + rnd() % 3000;
        break;
    case 4:
        return 0; /* empty string */
    default:
        n = 1 + rnd() % 20;
        break;
    }
    for (i = 0; i < n; i++)
        buf[i] = (char)('a' + rnd() % 4); /* compressible */
    return n;
}

/* The packed threshold plain_nodes sets (0: the default, not checked). */
static size_t plain_threshold;

static void check_plain(struct quicklist *ql, size_t threshold)
{
    struct ql_node *n;
    struct ql_iter it;
    struct ql_val v;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    for (n = ql->head; n; n = n->next) {
        uint32_t k;
        if (n->plain) ck_assert_uint_eq(n->count, 1);
        for (k = 0; k < n->count; k++) {
            ck_assert(ql_iter_next(&it, &v));
            ck_assert_msg((v.n >= threshold) == (n->plain != 0),
                          "element of %zu bytes in a %s node", v.n, n->plain ? "plain" : "packed");
        }
    }
    ck_assert(!ql_iter_next(&it, &v));
    ql_iter_release(&it);
}

static void expect_same(struct quicklist *ql, struct model *m)
{
    const char *bad = ql_check(ql);
    struct ql_iter it;
    struct ql_val v;
    size_t i = 0;
    ck_assert_msg(bad == NULL, "ql_check: %s", bad ? bad : "");
    if (plain_threshold) check_plain(ql, plain_threshold);
    ck_assert_uint_eq(ql_count(ql), m->n);
    ql_iter_init(&it, ql, 0, QL_TAIL);
    while (ql_iter_next(&it, &v)) {
        ck_assert_uint_lt(i, m->n);
        ck_assert_uint_eq(v.n, m->v[i].n);
        ck_assert(memcmp(v.p, m->v[i].p, v.n) == 0);
        i++;
    }
    ql_iter_release(&it);
    ck_assert_uint_eq(i, m->n);
    /* and backwards */
    ql_iter_init(&it, ql, -1, QL_HEAD);
    while (ql_iter_next(&it, &v)) {
        i--;
        ck_assert_uint_eq(v.n, m->v[i].n);
        ck_assert(memcmp(v.p, m->v[i].p, v.n) == 0);
    }
    ql_iter_release(&it);
    ck_assert_uint_eq(i, 0);
    bad = ql_check(ql);
    ck_assert_msg(bad == NULL, "ql_check after iteration: %s", bad ? bad : "");
}

static bool val_is(const struct ql_val *v, const struct mval *m)
{
    return v->n == m->n && memcmp(v->p, m->p, v->n) == 0;
}

static void random_ops(int fill, int compress, int rounds)
{
    struct quicklist *ql = ql_new(fill, compress);
    struct model m = {0};
    static char buf[4096];
    int r;
    for (r = 0; r < rounds; r++) {
        int op = (int)(rnd() % 100);
        size_t n = rand_val(buf);
        struct ql_val v;
        if (op < 30) { /* push */
            bool head = rnd() & 1;
            ql_push(ql, head ? QL_HEAD : QL_TAIL, buf, n);
            m_insert(&m, head ? 0 : m.n, buf, n);
        } else if (op < 40) { /* pop */
            bool head = rnd() & 1;
            bool some = ql_peek(ql, head ? QL_HEAD : QL_TAIL, &v);
            ck_assert(some == (m.n > 0));
            if (some) {
                ck_assert(val_is(&v, &m.v[head ? 0 : m.n - 1]));
                ql_pop(ql, head ? QL_HEAD : QL_TAIL);
                m_delete(&m, head ? 0 : m.n - 1, 1);
            }
        } else if (op < 55 && m.n) { /* insert next to a random element */
            size_t at = rnd() % m.n;
            bool after = rnd() & 1;
            struct ql_iter it;
            bool fwd = rnd() & 1;
            ql_iter_init(&it, ql, fwd ? (long long)at : (long long)at - (long long)m.n,
                         fwd ? QL_TAIL : QL_HEAD);
            ck_assert(ql_iter_next(&it, &v));
            ck_assert(val_is(&v, &m.v[at]));
            ql_iter_insert(&it, after ? QL_TAIL : QL_HEAD, buf, n);
            ql_iter_release(&it);
            m_insert(&m, after ? at + 1 : at, buf, n);
        } else if (op < 65 && m.n) { /* replace */
            size_t at = rnd() % m.n;
            long long idx = (rnd() & 1) ? (long long)at : (long long)at - (long long)m.n;
            ck_assert(ql_replace(ql, idx, buf, n));
            free(m.v[at].p);
            m.v[at].p = malloc(n ? n : 1);
            memcpy(m.v[at].p, buf, n);
            m.v[at].n = n;
        } else if (op < 70) { /* range delete */
            size_t at = m.n ? rnd() % m.n : 0, cnt = rnd() % 50;
            long long start = (rnd() & 1) ? (long long)at : (long long)at - (long long)m.n;
            unsigned long got = ql_del_range(ql, start, cnt);
            if (at + cnt > m.n) cnt = m.n - at;
            if (!m.n) cnt = 0;
            ck_assert_uint_eq(got, cnt);
            m_delete(&m, at, cnt);
        } else if (op < 75 && m.n) { /* delete matches while iterating (LREM) */
            struct ql_needle nd;
            struct ql_iter it;
            size_t at = rnd() % m.n, i, limit = rnd() % 4;
            char *needle = malloc(m.v[at].n + 1);
            size_t nlen = m.v[at].n, removed = 0;
            bool fwd = rnd() & 1;
            memcpy(needle, m.v[at].p, nlen);
            ql_needle_init(&nd, needle, nlen);
            ql_iter_init(&it, ql, fwd ? 0 : -1, fwd ? QL_TAIL : QL_HEAD);
            while (ql_iter_next(&it, &v)) {
                if (ql_val_eq(&v, &nd)) {
                    ql_iter_del(&it);
                    removed++;
                    if (limit && removed == limit) break;
                }
            }
            ql_iter_release(&it);
            /* the model: same removals */
            if (fwd) {
                size_t done = 0;
                for (i = 0; i < m.n && (!limit || done < limit);) {
                    if (m.v[i].n == nlen && memcmp(m.v[i].p, needle, nlen) == 0) {
                        m_delete(&m, i, 1);
                        done++;
                    } else {
                        i++;
                    }
                }
                ck_assert_uint_eq(done, removed);
            } else {
                size_t done = 0;
                for (i = m.n; i > 0 && (!limit || done < limit); i--) {
                    if (m.v[i - 1].n == nlen && memcmp(m.v[i - 1].p, needle, nlen) == 0) {
                        m_delete(&m, i - 1, 1);
                        done++;
                    }
                }
                ck_assert_uint_eq(done, removed);
            }
            free(needle);
        } else if (m.n) { /* index */
            size_t at = rnd() % m.n;
            struct ql_iter it;
            ql_iter_init(&it, ql, (rnd() & 1) ? (long long)at : (long long)at - (long long)m.n,
                         QL_TAIL);
            ck_assert(ql_iter_next(&it, &v));
            ck_assert(val_is(&v, &m.v[at]));
            ql_iter_release(&it);
        }
        if (r % 97 == 0) expect_same(ql, &m);
    }
    expect_same(ql, &m);
    {
        struct quicklist *c = ql_dup(ql);
        expect_same(c, &m);
        ql_free(c);
    }
    ql_free(ql);
    m_free(&m);
}

START_TEST(random_against_model)
{
    static const int fills[] = {-2, -1, -5, 1, 2, 5, 128, 0};
    static const int depths[] = {0, 1, 2};
    size_t f, d;
    for (f = 0; f < sizeof(fills) / sizeof(fills[0]); f++)
        for (d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
            rng_state = 1234567 + f * 31 + d;
            random_ops(fills[f], depths[d], 3000);
        }
}
END_TEST

/* Plain nodes: with the packed threshold at 100 bytes every long element
 * (rand_val's 100..3099-byte strings) must sit alone in a plain node and
 * every plain node hold one such element, through the random operations. */
START_TEST(plain_nodes)
{
    static const int fills[] = {-2, 3, 128};
    size_t f, d, i;
    char big[300];
    struct quicklist *ql;
    struct ql_val v;
    unsigned char *tmp;
    ck_assert(!ql_set_packed_threshold((1ull << 32) - (1ull << 20) + 1));
    ck_assert(ql_set_packed_threshold(100));
    plain_threshold = 100;
    for (f = 0; f < sizeof(fills) / sizeof(fills[0]); f++)
        for (d = 0; d < 3; d++) {
            rng_state = 7654321 + f * 31 + d;
            random_ops(fills[f], (int)d, 1500);
        }
    /* pushes at both ends, replacements both ways, a deep copy */
    memset(big, 'z', sizeof(big));
    ql = ql_new(-2, 1);
    for (i = 0; i < 40; i++) {
        ql_push(ql, i % 2 ? QL_HEAD : QL_TAIL, big, i % 3 ? 5 : 150 + i);
        ck_assert_ptr_null(ql_check(ql));
        check_plain(ql, 100);
    }
    for (i = 0; i < 40; i++) {
        ck_assert(ql_replace(ql, (long long)i, big, i % 2 ? 7 : 200));
        ck_assert_ptr_null(ql_check(ql));
        check_plain(ql, 100);
    }
    {
        struct quicklist *c = ql_dup(ql);
        ck_assert_ptr_null(ql_check(c));
        check_plain(c, 100);
        ql_free(c);
    }
    /* a plain node read without opening it, compressed or not */
    for (struct ql_node *n = ql->head; n; n = n->next)
        if (n->plain) {
            ql_node_first(n, &v, &tmp);
            ck_assert_uint_eq(v.n, 200);
            free(tmp);
        }
    /* RDB's PLAIN containers come back as plain nodes of any size */
    ql_push_plain(ql, "x", 1);
    ck_assert(ql->tail->plain && ql->tail->count == 1);
    ql_push(ql, QL_TAIL, "y", 1);
    ck_assert(!ql->tail->plain && ql->tail->prev->plain);
    ck_assert_ptr_null(ql_check(ql));
    ql_free(ql);
    plain_threshold = 0;
    ck_assert(ql_set_packed_threshold(0)); /* back to 1 GB */
}
END_TEST

START_TEST(push_pop_many_node_limits)
{
    struct quicklist *ql = ql_new(-2, 0);
    struct ql_node *n;
    char buf[32];
    int i;
    for (i = 0; i < 100000; i++) {
        int len = sprintf(buf, "element:%d", i);
        ql_push(ql, QL_TAIL, buf, (size_t)len);
    }
    ck_assert_uint_eq(ql_count(ql), 100000);
    ck_assert_ptr_null(ql_check(ql));
    /* every node but the last is near the 8 KB class of fill -2 */
    for (n = ql->head; n && n->next; n = n->next) {
        ck_assert_uint_le(ql_node_bytes(n), 8192);
        ck_assert_uint_gt(ql_node_bytes(n), 8000);
    }
    for (i = 0; i < 100000; i++) {
        struct ql_val v;
        int len = sprintf(buf, "element:%d", i);
        ck_assert(ql_peek(ql, QL_HEAD, &v));
        ck_assert_uint_eq(v.n, (size_t)len);
        ck_assert(memcmp(v.p, buf, v.n) == 0);
        ql_pop(ql, QL_HEAD);
    }
    ck_assert_uint_eq(ql_count(ql), 0);
    ck_assert_ptr_null(ql->head);
    ck_assert_uint_eq(ql->len, 0);
    ql_free(ql);

    /* positive fill: exactly that many entries per node */
    ql = ql_new(3, 0);
    for (i = 0; i < 10; i++)
        ql_push(ql, QL_HEAD, "x", 1);
    ck_assert_uint_eq(ql->len, 4);
    for (n = ql->head; n; n = n->next)
        ck_assert_uint_le(n->count, 3);
    ql_free(ql);

    /* a large element gets a node of its own */
    ql = ql_new(-2, 0);
    {
        char *big = malloc(20000);
        memset(big, 'z', 20000);
        ql_push(ql, QL_TAIL, "a", 1);
        ql_push(ql, QL_TAIL, big, 20000);
        ql_push(ql, QL_TAIL, "b", 1);
        ck_assert_uint_eq(ql->len, 3);
        free(big);
    }
    ck_assert_ptr_null(ql_check(ql));
    ql_free(ql);
}
END_TEST

START_TEST(compression_depth)
{
    struct quicklist *ql = ql_new(-1, 1);
    struct ql_node *n;
    char buf[64];
    int i, compressed = 0;
    for (i = 0; i < 20000; i++) {
        int len = sprintf(buf, "value-%d-aaaaaaaaaaaaaaaa", i % 100);
        ql_push(ql, (i & 1) ? QL_HEAD : QL_TAIL, buf, (size_t)len);
    }
    ck_assert_ptr_null(ql_check(ql));
    ck_assert(!ql->head->compressed && !ql->tail->compressed);
    for (n = ql->head->next; n != ql->tail; n = n->next)
        compressed += n->compressed;
    ck_assert_int_eq(compressed, (int)ql->len - 2);
    /* reading the middle decompresses only while reading */
    {
        struct ql_iter it;
        struct ql_val v;
        ql_iter_init(&it, ql, 10000, QL_TAIL);
        ck_assert(ql_iter_next(&it, &v));
        ql_iter_release(&it);
    }
    ck_assert_ptr_null(ql_check(ql));
    for (n = ql->head->next, compressed = 0; n != ql->tail; n = n->next)
        compressed += n->compressed;
    ck_assert_int_eq(compressed, (int)ql->len - 2);
    /* trimming to a few nodes leaves none compressed inside the depth */
    ql_del_range(ql, 0, 19000);
    ck_assert_ptr_null(ql_check(ql));
    ql_free(ql);
}
END_TEST

START_TEST(lzf_round_trip)
{
    static unsigned char in[70000], out[80000], back[70000];
    size_t sizes[] = {0, 1, 2, 3, 4, 31, 32, 33, 100, 8192, 65536, 70000};
    size_t s, i;
    int pattern;
    for (pattern = 0; pattern < 3; pattern++) {
        for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t n = sizes[s], c, d;
            for (i = 0; i < n; i++)
                in[i] = pattern == 0   ? (unsigned char)rnd()
                        : pattern == 1 ? (unsigned char)('a' + i % 7)
                                       : (unsigned char)(i < n / 2 ? 0 : rnd() % 3);
            c = ql_lzf_compress(in, n, out, sizeof(out));
            if (n) ck_assert_uint_gt(c, 0);
            d = ql_lzf_decompress(out, c, back, sizeof(back));
            ck_assert_uint_eq(d, n);
            ck_assert(memcmp(in, back, n) == 0);
            if (pattern == 1 && n >= 1000) ck_assert_uint_lt(c, n / 4);
            /* too small an output buffer: refused, no overflow */
            if (n > 10) ck_assert_uint_eq(ql_lzf_decompress(out, c, back, n - 1), 0);
        }
    }
    /* corrupt input: a back reference before the start, truncated input */
    {
        unsigned char bad1[] = {0x20, 0x05};
        unsigned char bad2[] = {0x05, 'a', 'b'};
        unsigned char bad3[] = {0xE0};
        ck_assert_uint_eq(ql_lzf_decompress(bad1, sizeof(bad1), back, sizeof(back)), 0);
        ck_assert_uint_eq(ql_lzf_decompress(bad2, sizeof(bad2), back, sizeof(back)), 0);
        ck_assert_uint_eq(ql_lzf_decompress(bad3, sizeof(bad3), back, sizeof(back)), 0);
    }
    /* random garbage never crashes */
    for (s = 0; s < 2000; s++) {
        size_t n = rnd() % 200;
        for (i = 0; i < n; i++)
            in[i] = (unsigned char)rnd();
        (void)ql_lzf_decompress(in, n, back, 1000);
    }
}
END_TEST

START_TEST(index_and_edges)
{
    struct quicklist *ql = ql_new(2, 0);
    struct ql_iter it;
    struct ql_val v;
    char buf[8];
    int i;
    for (i = 0; i < 7; i++) {
        int len = sprintf(buf, "%d", i);
        ql_push(ql, QL_TAIL, buf, (size_t)len);
    }
    ql_iter_init(&it, ql, -7, QL_TAIL);
    ck_assert(ql_iter_next(&it, &v));
    ck_assert(v.isint && v.v == 0);
    ql_iter_release(&it);
    ql_iter_init(&it, ql, -8, QL_TAIL);
    ck_assert(!ql_iter_next(&it, &v));
    ql_iter_release(&it);
    ql_iter_init(&it, ql, 7, QL_TAIL);
    ck_assert(!ql_iter_next(&it, &v));
    ql_iter_release(&it);
    ql_iter_init(&it, ql, (long long)-9223372036854775807LL - 1, QL_TAIL);
    ck_assert(!ql_iter_next(&it, &v));
    ql_iter_release(&it);
    ck_assert(!ql_replace(ql, 7, "x", 1));
    ck_assert(!ql_replace(ql, -8, "x", 1));
    ck_assert(ql_replace(ql, -1, "last", 4));
    ck_assert(ql_peek(ql, QL_TAIL, &v));
    ck_assert(!v.isint && v.n == 4 && memcmp(v.p, "last", 4) == 0);
    ck_assert_uint_eq(ql_del_range(ql, -100, 3), 3);
    ck_assert_uint_eq(ql_del_range(ql, 100, 3), 0);
    ck_assert_uint_eq(ql_del_range(ql, 0, 100), 4);
    ck_assert_ptr_null(ql_check(ql));
    ck_assert(!ql_peek(ql, QL_HEAD, &v));
    ql_pop(ql, QL_HEAD); /* no-op on empty */
    ql_free(ql);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("list");
    TCase *tc = unit_tcase("quicklist", 600);
    tcase_add_test(tc, random_against_model);
    tcase_add_test(tc, plain_nodes);
    tcase_add_test(tc, push_pop_many_node_limits);
    tcase_add_test(tc, compression_depth);
    tcase_add_test(tc, lzf_round_trip);
    tcase_add_test(tc, index_and_edges);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
