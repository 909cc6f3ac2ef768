/* test_rax.c — core/types/rax.c: insert/find/remove with edge splits and
 * merges, ordered seeks (first, last, >=, >, <=, <, =) and walks both ways,
 * checked against a sorted-array model on random keys; numnodes checked
 * against the node count Redis's rax has for the same stream ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rax.h"
#include "unit.h"

START_TEST(basic_split_merge)
{
    struct rax *r = rax_new();
    void *v;
    ck_assert(rax_insert(r, (const unsigned char *)"annibale", 8, (void *)1, NULL));
    ck_assert(rax_insert(r, (const unsigned char *)"annientare", 10, (void *)2, NULL));
    ck_assert(rax_insert(r, (const unsigned char *)"ann", 3, (void *)3, NULL));
    ck_assert(rax_insert(r, (const unsigned char *)"", 0, (void *)4, NULL));
    ck_assert(!rax_insert(r, (const unsigned char *)"ann", 3, (void *)5, &v));
    ck_assert_ptr_eq(v, (void *)3);
    ck_assert(!rax_try_insert(r, (const unsigned char *)"ann", 3, (void *)6));
    ck_assert(rax_find(r, (const unsigned char *)"ann", 3, &v));
    ck_assert_ptr_eq(v, (void *)5);
    ck_assert(!rax_find(r, (const unsigned char *)"anni", 4, &v));
    ck_assert(!rax_find(r, (const unsigned char *)"annibalex", 9, &v));
    ck_assert_uint_eq(rax_size(r), 4);
    ck_assert(rax_remove(r, (const unsigned char *)"ann", 3, &v));
    ck_assert(!rax_remove(r, (const unsigned char *)"ann", 3, &v));
    ck_assert(rax_remove(r, (const unsigned char *)"annibale", 8, NULL));
    ck_assert(rax_find(r, (const unsigned char *)"annientare", 10, &v));
    ck_assert_ptr_eq(v, (void *)2);
    ck_assert(rax_find(r, (const unsigned char *)"", 0, &v));
    ck_assert_uint_eq(rax_size(r), 2);
    ck_assert_uint_le(r->numnodes, 3);
    rax_free(r, NULL);
}
END_TEST

#define NK 3000
static unsigned char keys[NK][6];
static size_t klen[NK];
static int present[NK];

static int kcmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static int model_seek(enum rax_op op, const unsigned char *k, size_t l)
{
    int best = -1, i;
    for (i = 0; i < NK; i++) {
        int c;
        if (!present[i]) continue;
        c = kcmp(keys[i], klen[i], k, l);
        switch (op) {
        case RAX_GE:
            if (c < 0) continue;
            break;
        case RAX_GT:
            if (c <= 0) continue;
            break;
        case RAX_LE:
            if (c > 0) continue;
            break;
        case RAX_LT:
            if (c >= 0) continue;
            break;
        case RAX_EQ:
            if (c != 0) continue;
            break;
        default:
            break;
        }
        if (best < 0) {
            best = i;
            continue;
        }
        c = kcmp(keys[i], klen[i], keys[best], klen[best]);
        if ((op == RAX_GE || op == RAX_GT || op == RAX_FIRST) ? c < 0 : c > 0) best = i;
    }
    return best;
}

START_TEST(randomized_against_model)
{
    struct rax *r = rax_new();
    struct rax_iter it;
    int step, i;
    srand(7);
    for (i = 0; i < NK; i++) {
        int j;
        klen[i] = (size_t)(rand() % 6);
        for (j = 0; j < (int)klen[i]; j++)
            keys[i][j] = (unsigned char)("ab\x00\xff"[rand() % 4]);
        present[i] = 0;
        for (j = 0; j < i; j++)
            if (kcmp(keys[i], klen[i], keys[j], klen[j]) == 0) klen[i] = 6; /* dup: lengthen */
        if (klen[i] == 6)
            for (j = 0; j < 6; j++)
                keys[i][j] = (unsigned char)(rand() & 0xff);
    }
    rax_iter_start(&it, r);
    for (step = 0; step < 20000; step++) {
        int k = rand() % NK, op = rand() % 4, m, q = rand() % NK;
        void *v;
        bool dup = false;
        for (i = 0; i < NK; i++)
            if (i != k && present[i] && kcmp(keys[i], klen[i], keys[k], klen[k]) == 0) dup = true;
        if (dup) continue;
        if (op < 2) {
            bool isnew = rax_insert(r, keys[k], klen[k], (void *)(intptr_t)(k + 1), NULL);
            ck_assert_int_eq(isnew, !present[k]);
            present[k] = 1;
        } else if (op == 2) {
            bool had = rax_remove(r, keys[k], klen[k], &v);
            ck_assert_int_eq(had, present[k]);
            if (had) ck_assert_int_eq((int)(intptr_t)v, k + 1);
            present[k] = 0;
        } else {
            bool has = rax_find(r, keys[k], klen[k], &v);
            ck_assert_int_eq(has, present[k]);
        }
        op = rand() % 7;
        m = model_seek((enum rax_op)op, keys[q], klen[q]);
        if (rax_seek(&it, (enum rax_op)op, keys[q], klen[q])) {
            ck_assert_int_ge(m, 0);
            ck_assert_int_eq(kcmp(it.key, it.key_len, keys[m], klen[m]), 0);
            ck_assert_int_eq((int)(intptr_t)it.data, m + 1);
        } else {
            ck_assert_int_lt(m, 0);
        }
    }
    /* A full walk both ways visits every key in order. */
    {
        uint64_t n = 0;
        unsigned char prev[8];
        size_t pl = 0;
        bool ok = rax_seek(&it, RAX_FIRST, NULL, 0);
        while (ok) {
            if (n) ck_assert_int_lt(kcmp(prev, pl, it.key, it.key_len), 0);
            memcpy(prev, it.key, it.key_len);
            pl = it.key_len;
            n++;
            ok = rax_next(&it);
        }
        ck_assert_uint_eq(n, rax_size(r));
        n = 0;
        ok = rax_seek(&it, RAX_LAST, NULL, 0);
        while (ok) {
            n++;
            ok = rax_prev(&it);
        }
        ck_assert_uint_eq(n, rax_size(r));
    }
    rax_iter_stop(&it);
    rax_free(r, NULL);
}
END_TEST

START_TEST(stream_ids_big_endian)
{
    struct rax *r = rax_new();
    struct rax_iter it;
    uint64_t i, n = 0;
    for (i = 0; i < 5000; i++) {
        unsigned char k[16];
        uint64_t ms = i * 37 % 5000, seq = i % 3;
        int b;
        for (b = 0; b < 8; b++) {
            k[b] = (unsigned char)(ms >> (56 - 8 * b));
            k[8 + b] = (unsigned char)(seq >> (56 - 8 * b));
        }
        rax_insert(r, k, 16, (void *)(uintptr_t)(ms + 1), NULL);
    }
    rax_iter_start(&it, r);
    for (bool ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it)) {
        ck_assert_uint_eq((uintptr_t)it.data, n + 1);
        n++;
    }
    ck_assert_uint_eq(n, 5000);
    rax_iter_stop(&it);
    rax_free(r, NULL);
}
END_TEST

/* Redis's rax node count for a set of keys of one length (no key a prefix
 * of another, as stream ids): the head, every key, every position where the
 * keys branch, and every child position of a branch (Redis keeps one byte
 * per child there, so each child starts a node). */
#define NID 400
#define IDLEN 16
static unsigned char ids[NID][IDLEN];
static int idin[NID];

static int idcmp(const void *a, const void *b)
{
    return memcmp(*(const unsigned char *const *)a, *(const unsigned char *const *)b, IDLEN);
}

/* distinct bytes at depth l among sorted keys k[lo..hi) (all share l bytes) */
static int fanout(unsigned char **k, int lo, int hi, int l)
{
    int d = 0, i;
    for (i = lo; i < hi; i++)
        if (i == lo || k[i][l] != k[i - 1][l]) d++;
    return d;
}

static uint64_t redis_nodes(void)
{
    unsigned char *k[NID];
    int n = 0, i, l;
    uint64_t nodes = 1; /* the head */
    for (i = 0; i < NID; i++)
        if (idin[i]) k[n++] = ids[i];
    qsort(k, (size_t)n, sizeof(k[0]), idcmp);
    for (l = 1; l <= IDLEN; l++) {
        int lo = 0;
        while (lo < n) {
            int hi = lo + 1, plo = lo, phi;
            while (hi < n && memcmp(k[hi], k[lo], (size_t)l) == 0)
                hi++;
            /* the parent group: the keys sharing l - 1 bytes */
            while (plo > 0 && memcmp(k[plo - 1], k[lo], (size_t)l - 1) == 0)
                plo--;
            phi = hi;
            while (phi < n && memcmp(k[phi], k[lo], (size_t)l - 1) == 0)
                phi++;
            if (l == IDLEN || fanout(k, lo, hi, l) >= 2 || fanout(k, plo, phi, l - 1) >= 2) nodes++;
            lo = hi;
        }
    }
    return nodes;
}

START_TEST(numnodes_as_redis_counts)
{
    struct rax *r = rax_new();
    unsigned seed = 7;
    int step;
    for (step = 0; step < NID; step++) {
        uint64_t ms = (uint64_t)(rand_r(&seed) % 2000), seq = (uint64_t)(rand_r(&seed) % 4);
        int b;
        if (step % 3 == 0) ms = (uint64_t)rand_r(&seed) * 65537u; /* far apart */
        for (b = 0; b < 8; b++) {
            ids[step][b] = (unsigned char)(ms >> (56 - 8 * b));
            ids[step][8 + b] = (unsigned char)(seq >> (56 - 8 * b));
        }
    }
    memset(idin, 0, sizeof(idin));
    ck_assert_uint_eq(r->numnodes, redis_nodes());
    for (step = 0; step < 6000; step++) {
        int i = rand_r(&seed) % NID;
        if (idin[i]) {
            ck_assert(rax_remove(r, ids[i], IDLEN, NULL));
            idin[i] = 0;
        } else if (rax_insert(r, ids[i], IDLEN, NULL, NULL)) {
            idin[i] = 1;
        }
        ck_assert_uint_eq(r->numnodes, redis_nodes());
    }
    rax_free(r, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rax");
    TCase *tc = unit_tcase("rax", 120);
    tcase_add_test(tc, basic_split_merge);
    tcase_add_test(tc, randomized_against_model);
    tcase_add_test(tc, stream_ids_big_endian);
    tcase_add_test(tc, numnodes_as_redis_counts);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
