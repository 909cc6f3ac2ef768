/* test_evict.c — unit tests for core/store/evict.c: the LFU counter's
 * logarithmic increment and its decay by idle minutes (with the 16-bit
 * minute clock wrapping), the eviction pool's ordering and replacement,
 * the victim choice of the sampled policies over a real store, and the
 * allocation count (core/lib/mem.c) maxmemory compares with. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "evict.h"
#include "mem.h"
#include "store.h"
#include "unit.h"

START_TEST(lfu_increment_is_logarithmic)
{
    uint8_t c;
    /* At or below LFU_INIT_VAL every access counts (p = 1). */
    ck_assert_uint_eq(lru_lfu_incr(0, 10, 0.999), 1);
    ck_assert_uint_eq(lru_lfu_incr(LFU_INIT_VAL, 10, 0.999), LFU_INIT_VAL + 1);
    /* Above it, p = 1 / ((counter - 5) * factor + 1). */
    ck_assert_uint_eq(lru_lfu_incr(6, 10, 1.0 / 11 - 1e-9), 7);
    ck_assert_uint_eq(lru_lfu_incr(6, 10, 1.0 / 11 + 1e-9), 6);
    ck_assert_uint_eq(lru_lfu_incr(105, 1, 1.0 / 101 - 1e-9), 106);
    ck_assert_uint_eq(lru_lfu_incr(105, 1, 1.0 / 101 + 1e-9), 105);
    /* factor 0: always; saturates at 255. */
    ck_assert_uint_eq(lru_lfu_incr(200, 0, 0.999), 201);
    ck_assert_uint_eq(lru_lfu_incr(255, 0, 0.0), 255);
    /* A million hits with factor 10 stay far below 255 (Redis's table:
     * about 100 hits -> 10, 1M hits -> ~255 only with factor 1). */
    {
        uint64_t s = 88172645463325252ULL;
        int i;
        c = LFU_INIT_VAL;
        for (i = 0; i < 1000; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            c = lru_lfu_incr(c, 10, (double)(s >> 11) / 9007199254740992.0);
        }
        ck_assert_uint_ge(c, 12);
        ck_assert_uint_le(c, 35);
    }
}
END_TEST

START_TEST(lfu_decay_by_minutes)
{
    unsigned lru = (100u << 8) | 20; /* accessed at minute 100, counter 20 */
    ck_assert_uint_eq(lru_lfu_decr(lru, 100, 1), 20);
    ck_assert_uint_eq(lru_lfu_decr(lru, 103, 1), 17);
    ck_assert_uint_eq(lru_lfu_decr(lru, 110, 5), 18);
    ck_assert_uint_eq(lru_lfu_decr(lru, 200, 1), 0);  /* never below 0 */
    ck_assert_uint_eq(lru_lfu_decr(lru, 200, 0), 20); /* decay off */
    /* the minute clock wraps at 65535 */
    ck_assert_uint_eq(lru_lfu_elapsed(65530, 4), 9);
    ck_assert_uint_eq(lru_lfu_decr((65530u << 8) | 20, 4, 1), 11);
}
END_TEST

static int slot_of(struct evpool_entry *pool, const char *key)
{
    int i;
    for (i = 0; i < EVPOOL_SIZE; i++)
        if (pool[i].used && pool[i].klen == strlen(key) &&
            memcmp(evpool_key(&pool[i]), key, pool[i].klen) == 0)
            return i;
    return -1;
}

START_TEST(pool_keeps_the_idlest_sorted)
{
    struct evpool_entry pool[EVPOOL_SIZE];
    char key[80];
    int i;
    memset(pool, 0, sizeof(pool));
    /* 16 candidates in scrambled order: kept sorted by idle, ascending. */
    for (i = 0; i < EVPOOL_SIZE; i++) {
        int v = (i * 7) % EVPOOL_SIZE;
        snprintf(key, sizeof(key), "k%d", v);
        evpool_insert(pool, (unsigned long long)(v + 1) * 10, key, strlen(key), 0);
    }
    for (i = 0; i < EVPOOL_SIZE; i++) {
        ck_assert(pool[i].used);
        ck_assert_uint_eq(pool[i].idle, (unsigned long long)(i + 1) * 10);
    }
    /* Full: one less idle than all is ignored... */
    evpool_insert(pool, 5, "fresh", 5, 0);
    ck_assert_int_eq(slot_of(pool, "fresh"), -1);
    /* ...one in the middle drops the least idle (k0) and takes its rank. */
    evpool_insert(pool, 55, "mid", 3, 2);
    ck_assert_int_eq(slot_of(pool, "k0"), -1);
    ck_assert_int_eq(slot_of(pool, "mid"), 4);
    ck_assert_int_eq(pool[4].dbid, 2);
    /* A long key is held on the heap, and moves with its entry. */
    memset(key, 'x', 70);
    key[70] = 0;
    evpool_insert(pool, 1000, key, 70, 0);
    ck_assert_int_eq(slot_of(pool, key), EVPOOL_SIZE - 1);
    ck_assert_ptr_nonnull(pool[EVPOOL_SIZE - 1].heap);
    evpool_insert(pool, 2000, "top", 3, 0);
    ck_assert_int_eq(slot_of(pool, key), EVPOOL_SIZE - 2);
    ck_assert_int_eq(slot_of(pool, "top"), EVPOOL_SIZE - 1);
    for (i = 1; i < EVPOOL_SIZE; i++)
        ck_assert_uint_le(pool[i - 1].idle, pool[i].idle);
    evpool_clear(pool);
    for (i = 0; i < EVPOOL_SIZE; i++)
        ck_assert(!pool[i].used);
}
END_TEST

START_TEST(pool_with_empty_slots)
{
    struct evpool_entry pool[EVPOOL_SIZE];
    memset(pool, 0, sizeof(pool));
    evpool_insert(pool, 30, "c", 1, 0);
    evpool_insert(pool, 10, "a", 1, 0);
    evpool_insert(pool, 20, "b", 1, 0);
    ck_assert_int_eq(slot_of(pool, "a"), 0);
    ck_assert_int_eq(slot_of(pool, "b"), 1);
    ck_assert_int_eq(slot_of(pool, "c"), 2);
    ck_assert(!pool[3].used);
    evpool_clear(pool);
}
END_TEST

static void add_key(struct db *db, const char *k, long long expire_ms)
{
    struct kv *e = kv_new_string(k, strlen(k), "value-value-value", 17, false);
    if (expire_ms > 0)
        store_add_expire(db, e, expire_ms, NULL, 0);
    else
        store_add(db, e, NULL, 0);
}

START_TEST(volatile_ttl_evicts_soonest)
{
    struct db *db;
    char k[32];
    int i;
    long long now = 4102444800000LL; /* far in the future: nothing expires */
    config_init(config_table);
    store_init(1);
    db = store_db(0);
    for (i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "keep:%d", i);
        add_key(db, k, 0);
        snprintf(k, sizeof(k), "ttl:%02d", i);
        add_key(db, k, now + (long long)i * 1000);
    }
    g_config.maxmemory_policy = MM_VOLATILE_TTL;
    g_config.maxmemory_samples = 64;            /* every volatile key is a candidate */
    g_config.maxmemory_eviction_tenacity = 100; /* no time limit */
    /* Ten times over by a byte: ten evictions, each of the soonest-expiring
     * key the pool has seen (the sampling is random, the ranking is not:
     * none of the later half can go while the earlier half is around). */
    for (i = 0; i < 10; i++) {
        g_config.maxmemory = (long long)mem_used() - 1;
        ck_assert_int_eq(evict_perform(0), EVICT_OK);
    }
    ck_assert_int_eq(g_evict.evicted_keys, 10);
    ck_assert_uint_eq(db->nexp, 40);
    for (i = 25; i < 50; i++) {
        snprintf(k, sizeof(k), "ttl:%02d", i);
        ck_assert_ptr_nonnull(store_peek(db, k, strlen(k)));
    }
    for (i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "keep:%d", i);
        ck_assert_ptr_nonnull(store_peek(db, k, strlen(k)));
    }
    /* noeviction: nothing goes, the caller is told to refuse. */
    g_config.maxmemory_policy = MM_NOEVICTION;
    g_config.maxmemory = 1;
    ck_assert_int_eq(evict_perform(0), EVICT_FAIL);
    /* volatile-lru with no volatile key left: FAIL after taking them all. */
    g_config.maxmemory_policy = MM_VOLATILE_LRU;
    ck_assert_int_eq(evict_perform(0), EVICT_FAIL);
    ck_assert_uint_eq(db->nexp, 0);
    ck_assert_uint_eq(dict_size(&db->keys), 50);
    g_config.maxmemory = 0;
    store_shutdown();
}
END_TEST

START_TEST(dict_sample_returns_members)
{
    struct db *db;
    struct dnode *out[16];
    char k[32];
    int i, round;
    config_init(config_table);
    store_init(1);
    db = store_db(0);
    ck_assert_uint_eq(dict_sample(&db->keys, out, 5), 0);
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "k:%d", i);
        add_key(db, k, 0);
        /* sample while the table grows (and rehashes) as well */
        if (i % 97 == 0) {
            size_t n = dict_sample(&db->keys, out, 5), j;
            ck_assert_uint_le(n, 5);
            ck_assert_uint_ge(n, 1);
            for (j = 0; j < n; j++) {
                struct kv *e = (struct kv *)out[j];
                ck_assert_ptr_eq(store_peek(db, kv_key(e), e->klen), e);
            }
        }
    }
    for (round = 0; round < 50; round++) {
        size_t n = dict_sample(&db->keys, out, 16), j;
        ck_assert_uint_eq(n, 16);
        for (j = 0; j < n; j++) {
            struct kv *e = (struct kv *)out[j];
            ck_assert_ptr_eq(store_peek(db, kv_key(e), e->klen), e);
        }
    }
    /* fewer keys than asked: at most all of them */
    store_flushdb(db, false);
    add_key(db, "only", 0);
    ck_assert_uint_eq(dict_sample(&db->keys, out, 5), 1);
    store_shutdown();
}
END_TEST

START_TEST(mem_counts_live_blocks)
{
    size_t before = mem_used(), grown;
    char *p = malloc(1 << 20), *q;
    ck_assert_ptr_nonnull(p);
    memset(p, 1, 1 << 20);
    grown = mem_used();
    ck_assert_uint_ge(grown, before + (1 << 20));
    q = realloc(p, 2 << 20);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_ge(mem_used(), before + (2 << 20));
    free(q);
    /* back to where it was, give or take what other code did meanwhile */
    ck_assert_uint_le(mem_used(), before + 4096);
}
END_TEST

static Suite *evict_suite(void)
{
    Suite *s = suite_create("evict");
    TCase *tc = unit_tcase("lfu", 60);
    tcase_add_test(tc, lfu_increment_is_logarithmic);
    tcase_add_test(tc, lfu_decay_by_minutes);
    suite_add_tcase(s, tc);
    tc = unit_tcase("pool", 60);
    tcase_add_test(tc, pool_keeps_the_idlest_sorted);
    tcase_add_test(tc, pool_with_empty_slots);
    suite_add_tcase(s, tc);
    tc = unit_tcase("perform", 60);
    tcase_add_test(tc, volatile_ttl_evicts_soonest);
    tcase_add_test(tc, dict_sample_returns_members);
    tcase_add_test(tc, mem_counts_live_blocks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(evict_suite());
}
