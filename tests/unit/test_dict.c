/* test_dict.c — unit tests for core/store/dict.c: lookups that never fail while
 * an incremental rehash is in progress (growing and shrinking), the
 * reverse-binary SCAN cursor's guarantee across resizes, dict_random,
 * dict_expand (RESIZEDB's pre-sizing). */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "util.h"
#include "unit.h"

/* A test node: the key is a 64-bit number, stored as 8 bytes. */
struct tnode {
    struct dnode node;
    uint64_t key;
    int seen; /* scan bookkeeping */
};

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t t_hash(const struct dnode *n)
{
    return mix(((const struct tnode *)n)->key);
}

static bool t_eq(const struct dnode *n, const void *key, size_t len)
{
    return len == sizeof(uint64_t) && memcmp(&((const struct tnode *)n)->key, key, len) == 0;
}

static const struct dict_type ttype = {t_hash, t_eq};

static struct tnode *t_find(struct dict *d, uint64_t k)
{
    return (struct tnode *)dict_find(d, &k, sizeof(k), mix(k));
}

static struct tnode *t_add(struct dict *d, struct tnode *nodes, uint64_t k)
{
    struct tnode *n = &nodes[k];
    n->key = k;
    n->seen = 0;
    dict_add(d, &n->node, mix(k));
    return n;
}

static struct tnode *t_del(struct dict *d, uint64_t k)
{
    return (struct tnode *)dict_unlink(d, &k, sizeof(k), mix(k));
}

#define BIG 100000

START_TEST(insert_find_delete_while_rehashing)
{
    struct dict d;
    struct tnode *nodes = xcalloc(BIG, sizeof(*nodes));
    bool saw_rehash = false, saw_shrink_rehash = false;
    uint64_t i, k;

    dict_init(&d, &ttype);
    ck_assert_ptr_null(t_find(&d, 1));
    ck_assert_ptr_null(t_del(&d, 1));

    for (i = 0; i < BIG; i++) {
        t_add(&d, nodes, i);
        if (dict_is_rehashing(&d)) saw_rehash = true;
        ck_assert_uint_eq(dict_size(&d), i + 1);
        /* The one just added and a random older one are always found. */
        ck_assert_ptr_eq(t_find(&d, i), &nodes[i]);
        k = util_rand64() % (i + 1);
        ck_assert_msg(t_find(&d, k) == &nodes[k], "lost key %llu after %llu inserts",
                      (unsigned long long)k, (unsigned long long)i + 1);
        /* Never-inserted keys stay absent. */
        ck_assert_ptr_null(t_find(&d, BIG + i));
        /* A full sweep now and then, preferably mid-rehash. */
        if (dict_is_rehashing(&d) && (i & 0x3fff) == 0x3fff) {
            for (k = 0; k <= i; k++)
                ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
        }
    }
    ck_assert_msg(saw_rehash, "dict_is_rehashing never became true");
    for (k = 0; k < BIG; k++)
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);

    /* Delete the even keys, shrinking from "cron" as we go. */
    for (i = 0; i < BIG; i += 2) {
        ck_assert_ptr_eq(t_del(&d, i), &nodes[i]);
        ck_assert_ptr_null(t_del(&d, i));
        ck_assert_ptr_null(t_find(&d, i));
        k = (util_rand64() % (BIG / 2)) * 2 + 1;
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    }
    ck_assert_uint_eq(dict_size(&d), BIG / 2);
    /* Delete most odd keys too, and let cron shrink the table while we look. */
    for (i = 1; i < BIG - 2000; i += 2) {
        ck_assert_ptr_eq(t_del(&d, i), &nodes[i]);
        if ((i & 0xff) == 1) dict_maybe_shrink(&d);
        if (dict_is_rehashing(&d) && d.size[1] < d.size[0]) saw_shrink_rehash = true;
        k = BIG - 1 - 2 * (util_rand64() % 1000);
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    }
    dict_maybe_shrink(&d);
    if (dict_is_rehashing(&d) && d.size[1] < d.size[0]) saw_shrink_rehash = true;
    ck_assert_msg(saw_shrink_rehash, "the table never shrank incrementally");
    for (k = BIG - 1999; k < BIG; k += 2)
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    for (k = 0; k < BIG - 2000; k++)
        ck_assert_ptr_null(t_find(&d, k));
    ck_assert_uint_eq(dict_size(&d), 1000);

    /* Finish the rehash and check again. */
    while (dict_rehash(&d, 100)) {
    }
    ck_assert(!dict_is_rehashing(&d));
    ck_assert(d.size[0] >= 1000 && d.size[0] <= 2048); /* shrank near the survivors */
    for (k = BIG - 1999; k < BIG; k += 2)
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    dict_release(&d, NULL);
    ck_assert_uint_eq(dict_size(&d), 0);
    free(nodes);
}
END_TEST

static void count_fn(void *priv, struct dnode *n)
{
    (void)n;
    (*(int *)priv)++;
}

START_TEST(replace_and_foreach)
{
    struct dict d;
    struct tnode *nodes = xcalloc(2000, sizeof(*nodes)), other;
    uint64_t i;
    int count = 0;
    dict_init(&d, &ttype);
    for (i = 0; i < 1000; i++)
        t_add(&d, nodes, i);
    /* Replace key 7's node by another node with the same key. */
    other.key = 7;
    dict_replace(&d, &nodes[7].node, &other.node, mix(7));
    ck_assert_ptr_eq(t_find(&d, 7), &other);
    ck_assert_uint_eq(dict_size(&d), 1000);
    dict_foreach(&d, count_fn, &count);
    ck_assert_int_eq(count, 1000);
    dict_release(&d, NULL);
    free(nodes);
}
END_TEST

/* ---- SCAN ---- */

struct scan_state {
    uint64_t nbase; /* keys [0, nbase) are present for the whole scan */
    long long emitted;
};

static void scan_cb(void *priv, struct dnode *n)
{
    struct scan_state *st = priv;
    struct tnode *t = (struct tnode *)n;
    st->emitted++;
    if (t->key < st->nbase) t->seen++;
}

/* Scan a dict holding keys [0, nbase), applying `mutate` between calls.
 * Every base key must be returned at least once. */
static void scan_with(uint64_t nbase, void (*mutate)(struct dict *, struct tnode *, int call))
{
    struct dict d;
    struct tnode *nodes = xcalloc(nbase + 200000, sizeof(*nodes));
    struct scan_state st = {nbase, 0};
    uint64_t cursor = 0, k;
    int calls = 0;

    dict_init(&d, &ttype);
    for (k = 0; k < nbase; k++)
        t_add(&d, nodes, k);
    do {
        cursor = dict_scan(&d, cursor, scan_cb, &st);
        calls++;
        ck_assert_msg(calls < 10000000, "scan does not terminate");
        if (mutate) mutate(&d, nodes, calls);
    } while (cursor != 0);
    for (k = 0; k < nbase; k++)
        ck_assert_msg(nodes[k].seen >= 1, "key %llu never returned (%d scan calls)",
                      (unsigned long long)k, calls);
    dict_release(&d, NULL);
    free(nodes);
}

START_TEST(scan_stable)
{
    scan_with(5000, NULL);
    scan_with(1, NULL);
}
END_TEST

/* Grow a lot at the 3rd call, stop half-way through that rehash; finish it
 * later; then delete the extra keys and shrink, again stopping mid-rehash;
 * then grow again. */
static void grow_shrink(struct dict *d, struct tnode *nodes, int call)
{
    uint64_t base = 5000, k;
    if (call == 3) {
        for (k = base; k < base + 60000; k++)
            t_add(d, nodes, k);
        /* leave whatever rehash is in progress half-done */
    } else if (call == 20) {
        while (dict_rehash(d, 100)) {
        }
    } else if (call == 40) {
        for (k = base; k < base + 60000; k++)
            t_del(d, k);
        dict_maybe_shrink(d);
        ck_assert(dict_is_rehashing(d));
        dict_rehash(d, 10);
    } else if (call == 60) {
        while (dict_rehash(d, 100)) {
        }
        dict_maybe_shrink(d);
    } else if (call == 80) {
        for (k = base + 60000; k < base + 70000; k++)
            t_add(d, nodes, k);
    }
}

START_TEST(scan_across_grow_and_shrink)
{
    scan_with(5000, grow_shrink);
}
END_TEST

/* Shrink first: most of a large table is deleted before the scan ends. */
static void shrink_first(struct dict *d, struct tnode *nodes, int call)
{
    uint64_t k;
    (void)nodes;
    if (call == 2) {
        /* base is 300 keys; the extra 100000 go away */
        for (k = 300; k < 100300; k++)
            t_del(d, k);
        dict_maybe_shrink(d);
    } else if (call > 2 && call % 3 == 0) {
        dict_rehash(d, 1);
    }
}

static void scan_shrink_first(void)
{
    struct dict d;
    struct tnode *nodes = xcalloc(100300, sizeof(*nodes));
    struct scan_state st = {300, 0};
    uint64_t cursor = 0, k;
    int calls = 0;
    dict_init(&d, &ttype);
    for (k = 0; k < 100300; k++)
        t_add(&d, nodes, k);
    while (dict_rehash(&d, 100)) {
    }
    do {
        cursor = dict_scan(&d, cursor, scan_cb, &st);
        calls++;
        ck_assert(calls < 10000000);
        shrink_first(&d, nodes, calls);
    } while (cursor != 0);
    for (k = 0; k < 300; k++)
        ck_assert_msg(nodes[k].seen >= 1, "key %llu lost", (unsigned long long)k);
    dict_release(&d, NULL);
    free(nodes);
}

START_TEST(scan_across_shrink)
{
    scan_shrink_first();
}
END_TEST

/* Random mutations: every call may add or delete non-base keys and step
 * the rehash by a random amount. */
static void random_mutations(struct dict *d, struct tnode *nodes, int call)
{
    static uint64_t next = 2000; /* extra keys live in [2000, next) */
    static uint64_t low = 2000;
    int op = (int)(util_rand64() % 4), i;
    (void)call;
    if (call == 1) next = low = 2000;
    if (op == 0) {
        for (i = 0; i < 500 && next < 2000 + 190000; i++)
            t_add(d, nodes, next++);
    } else if (op == 1) {
        for (i = 0; i < 700 && low < next; i++)
            t_del(d, low++);
        dict_maybe_shrink(d);
    } else if (op == 2) {
        dict_rehash(d, (int)(util_rand64() % 8));
    }
}

START_TEST(scan_random_resizes)
{
    int round;
    for (round = 0; round < 20; round++)
        scan_with(2000, random_mutations);
}
END_TEST

/* ---- dict_random ---- */

START_TEST(random_returns_members)
{
    struct dict d;
    struct tnode *nodes = xcalloc(4000, sizeof(*nodes));
    int *hits = xcalloc(4000, sizeof(int));
    uint64_t k;
    int i, distinct = 0;
    bool saw_rehash = false;

    dict_init(&d, &ttype);
    ck_assert_ptr_null(dict_random(&d));
    t_add(&d, nodes, 0);
    for (i = 0; i < 100; i++)
        ck_assert_ptr_eq(dict_random(&d), &nodes[0].node);
    for (k = 1; k < 1000; k++) {
        struct tnode *r;
        t_add(&d, nodes, k);
        if (dict_is_rehashing(&d)) saw_rehash = true;
        r = (struct tnode *)dict_random(&d);
        ck_assert_ptr_nonnull(r);
        ck_assert_msg(r >= nodes && r <= &nodes[k], "dict_random returned a non-member");
        ck_assert_ptr_eq(t_find(&d, r->key), r);
    }
    ck_assert(saw_rehash);
    for (i = 0; i < 50000; i++) {
        struct tnode *r = (struct tnode *)dict_random(&d);
        ck_assert_ptr_nonnull(r);
        ck_assert_ptr_eq(t_find(&d, r->key), r);
        hits[r->key]++;
    }
    for (k = 0; k < 1000; k++)
        distinct += hits[k] > 0;
    /* 50 draws per member on average: (nearly) every member shows up. */
    ck_assert_msg(distinct > 990, "only %d distinct members of 1000 returned", distinct);

    /* While shrinking too. */
    for (k = 0; k < 990; k++)
        t_del(&d, k);
    dict_maybe_shrink(&d);
    ck_assert(dict_is_rehashing(&d));
    for (i = 0; i < 2000; i++) {
        struct tnode *r = (struct tnode *)dict_random(&d);
        ck_assert_ptr_nonnull(r);
        ck_assert(r->key >= 990 && r->key < 1000);
    }
    dict_release(&d, NULL);
    free(hits);
    free(nodes);
}
END_TEST

START_TEST(move_detaches)
{
    struct dict d, out;
    struct tnode *nodes = xcalloc(100, sizeof(*nodes));
    uint64_t k;
    dict_init(&d, &ttype);
    for (k = 0; k < 100; k++)
        t_add(&d, nodes, k);
    dict_move(&d, &out);
    ck_assert_uint_eq(dict_size(&d), 0);
    ck_assert_ptr_null(t_find(&d, 5));
    ck_assert_uint_eq(dict_size(&out), 100);
    ck_assert_ptr_eq(t_find(&out, 5), &nodes[5]);
    t_add(&d, nodes, 5); /* the emptied dict is usable again */
    ck_assert_ptr_eq(t_find(&d, 5), &nodes[5]);
    dict_release(&d, NULL);
    dict_release(&out, NULL);
    free(nodes);
}
END_TEST

START_TEST(expand_presizes)
{
    struct dict d;
    struct tnode *nodes = xcalloc(5000, sizeof(*nodes));
    uint64_t k;
    dict_init(&d, &ttype);
    /* an empty dict: the whole table at once, no rehash while filling it */
    dict_expand(&d, 1000);
    ck_assert_uint_eq(d.size[0], 1024);
    ck_assert(!dict_is_rehashing(&d));
    for (k = 0; k < 1000; k++) {
        t_add(&d, nodes, k);
        ck_assert(!dict_is_rehashing(&d));
    }
    ck_assert_uint_eq(d.size[0], 1024);
    /* smaller or equal: nothing */
    dict_expand(&d, 500);
    dict_expand(&d, 1024);
    ck_assert_uint_eq(d.size[0], 1024);
    ck_assert(!dict_is_rehashing(&d));
    /* bigger with elements: an incremental rehash into the new size */
    dict_expand(&d, 4000);
    ck_assert(dict_is_rehashing(&d));
    ck_assert_uint_eq(d.size[1], 4096);
    /* while rehashing: ignored */
    dict_expand(&d, 100000);
    ck_assert_uint_eq(d.size[1], 4096);
    for (k = 0; k < 1000; k++)
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    while (dict_rehash(&d, 100))
        ;
    ck_assert_uint_eq(d.size[0], 4096);
    for (k = 1000; k < 4000; k++)
        t_add(&d, nodes, k);
    ck_assert(!dict_is_rehashing(&d));
    ck_assert_uint_eq(d.size[0], 4096);
    for (k = 0; k < 4000; k++)
        ck_assert_ptr_eq(t_find(&d, k), &nodes[k]);
    dict_release(&d, NULL);
    free(nodes);
}
END_TEST

static Suite *dict_suite(void)
{
    Suite *s = suite_create("dict");
    TCase *tc = unit_tcase("rehash", 300);
    tcase_add_test(tc, insert_find_delete_while_rehashing);
    tcase_add_test(tc, replace_and_foreach);
    tcase_add_test(tc, move_detaches);
    tcase_add_test(tc, expand_presizes);
    suite_add_tcase(s, tc);
    tc = unit_tcase("scan", 300);
    tcase_add_test(tc, scan_stable);
    tcase_add_test(tc, scan_across_grow_and_shrink);
    tcase_add_test(tc, scan_across_shrink);
    tcase_add_test(tc, scan_random_resizes);
    suite_add_tcase(s, tc);
    tc = unit_tcase("random", 120);
    tcase_add_test(tc, random_returns_members);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(dict_suite());
}
