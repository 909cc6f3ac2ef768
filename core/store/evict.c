/* evict.c — maxmemory's policy (evict.h): the LRU clock and LFU counter in
 * kv->lru, the access update, the pool of 16 candidates filled by sampling
 * maxmemory-samples keys of each database, and the eviction loop. Victims
 * are deleted through the store and announced with an "evicted" event
 * (NOTIFY_EVICTED), so WATCH, tracking, keyspace notifications and the AOF
 * (a DEL) see them as Redis's do. */
#include "evict.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lazyfree.h"
#include "lru.h"
#include "mem.h"
#include "siphash.h"
#include "store.h"
#include "util.h"

bool g_pre_command_oom;
struct evict_stats g_evict;

void evict_set_lru_or_lfu(struct kv *e, long long freq, long long idle_s)
{
    if (lru_policy_lfu()) {
        if (freq >= 0) e->lru = (unsigned)((lru_lfu_minutes() << 8) | (unsigned)(freq & 255));
    } else if (idle_s >= 0) {
        unsigned long long idle = (unsigned long long)idle_s;
        unsigned now = g_store.lruclock;
        if (idle > KV_LRU_MAX) idle = KV_LRU_MAX;
        e->lru = now >= idle ? now - (unsigned)idle : KV_LRU_MAX - ((unsigned)idle - now);
    }
}

/* ---- the pool ---- */

static void pool_free_key(struct evpool_entry *p)
{
    free(p->heap);
    p->heap = NULL;
    p->used = false;
}

void evpool_clear(struct evpool_entry *pool)
{
    int i;
    for (i = 0; i < EVPOOL_SIZE; i++)
        pool_free_key(&pool[i]);
}

void evpool_insert(struct evpool_entry *pool, unsigned long long idle, const char *key, size_t klen,
                   int dbid)
{
    int k = 0;
    /* The first empty slot or the first entry idler than us. */
    while (k < EVPOOL_SIZE && pool[k].used && pool[k].idle < idle)
        k++;
    if (k == 0 && pool[EVPOOL_SIZE - 1].used) return; /* not better than any kept */
    if (k < EVPOOL_SIZE && !pool[k].used) {
        /* an empty slot: insert here */
    } else if (!pool[EVPOOL_SIZE - 1].used) {
        /* room on the right: shift k.. one right over the empty last slot */
        memmove(pool + k + 1, pool + k, sizeof(pool[0]) * (size_t)(EVPOOL_SIZE - k - 1));
    } else {
        /* full: drop the least idle (first) entry, shift 1..k-1 left */
        k--;
        pool_free_key(&pool[0]);
        memmove(pool, pool + 1, sizeof(pool[0]) * (size_t)k);
    }
    pool[k].heap = NULL;
    if (klen > sizeof(pool[k].cached)) {
        pool[k].heap = xmalloc(klen);
        memcpy(pool[k].heap, key, klen);
    } else {
        memcpy(pool[k].cached, key, klen);
    }
    pool[k].used = true;
    pool[k].klen = klen;
    pool[k].idle = idle;
    pool[k].dbid = dbid;
}

/* ---- choosing a victim ---- */

static struct evpool_entry pool[EVPOOL_SIZE];

static bool allkeys(void)
{
    return g_config.maxmemory_policy >= MM_ALLKEYS_LRU &&
           g_config.maxmemory_policy <= MM_ALLKEYS_RANDOM;
}

static unsigned long long idle_of(struct kv *e)
{
    switch (g_config.maxmemory_policy) {
    case MM_VOLATILE_LRU:
    case MM_ALLKEYS_LRU:
        return store_idle_ms(e);
    case MM_VOLATILE_LFU:
    case MM_ALLKEYS_LFU:
        return 255 - lru_freq(e);
    default: /* volatile-ttl: the sooner it expires, the better */
        return ULLONG_MAX - (unsigned long long)kv_expire(e);
    }
}

/* One random entry of db among all keys or those with a TTL. */
static struct kv *sample_one(struct db *db)
{
    if (allkeys()) return (struct kv *)dict_random(&db->keys);
    if (db->nexp == 0) return NULL;
    return db->exp[util_rand64() % db->nexp];
}

static size_t candidates(struct db *db)
{
    return allkeys() ? (size_t)dict_size(&db->keys) : db->nexp;
}

static void pool_populate(struct db *db)
{
    struct dnode *some[64], **buf = some;
    size_t want = (size_t)g_config.maxmemory_samples, n, i;
    if (!allkeys()) {
        for (i = 0; i < want; i++) {
            struct kv *e = sample_one(db);
            if (!e) break;
            evpool_insert(pool, idle_of(e), kv_key(e), e->klen, db->id);
        }
        return;
    }
    /* All keys: a run of buckets from a random one, as Redis samples. */
    if (want > 64) buf = xmalloc(sizeof(*buf) * want);
    n = dict_sample(&db->keys, buf, want);
    for (i = 0; i < n; i++) {
        struct kv *e = (struct kv *)buf[i];
        evpool_insert(pool, idle_of(e), kv_key(e), e->klen, db->id);
    }
    if (buf != some) free(buf);
}

/* The key to evict, copied into buf (or *heap when longer): its db. */
static struct db *select_victim(char *buf, size_t bufsz, char **heap, size_t *klen)
{
    static unsigned next_db;
    int i, k;
    *heap = NULL;
    if (g_config.maxmemory_policy == MM_ALLKEYS_RANDOM ||
        g_config.maxmemory_policy == MM_VOLATILE_RANDOM) {
        for (i = 0; i < g_store.ndb; i++) {
            struct db *db = &g_store.dbs[(++next_db) % (unsigned)g_store.ndb];
            struct kv *e;
            if (candidates(db) == 0) continue;
            e = sample_one(db);
            if (!e) continue;
            *klen = e->klen;
            if (e->klen > bufsz) *heap = xmalloc(e->klen);
            memcpy(*heap ? *heap : buf, kv_key(e), e->klen);
            return db;
        }
        return NULL;
    }
    for (;;) {
        size_t total = 0;
        for (i = 0; i < g_store.ndb; i++) {
            struct db *db = &g_store.dbs[i];
            size_t n = candidates(db);
            if (n == 0) continue;
            pool_populate(db);
            total += n;
        }
        if (total == 0) return NULL;
        /* From the idlest backwards: the first that still exists. */
        for (k = EVPOOL_SIZE - 1; k >= 0; k--) {
            struct evpool_entry *p = &pool[k];
            struct db *db;
            struct kv *e;
            if (!p->used) continue;
            db = &g_store.dbs[p->dbid];
            e = store_peek(db, evpool_key(p), p->klen);
            if (e && !allkeys() && !e->has_expire) e = NULL;
            if (e) {
                *klen = p->klen;
                if (p->klen > bufsz) *heap = xmalloc(p->klen);
                memcpy(*heap ? *heap : buf, evpool_key(p), p->klen);
            }
            pool_free_key(p);
            p->idle = 0;
            if (e) return db;
        }
    }
}

/* ---- the loop ---- */

static bool cycle_pending;

bool evict_pending(void)
{
    return cycle_pending;
}

bool evict_over_limit(size_t not_counted, size_t *used, size_t *tofree)
{
    size_t u = mem_used(), max = (size_t)g_config.maxmemory;
    if (used) *used = u;
    if (tofree) *tofree = 0;
    if (g_config.maxmemory <= 0 || u <= max) return false;
    u = u > not_counted ? u - not_counted : 0;
    if (u <= max) return false;
    if (tofree) *tofree = u - max;
    return true;
}

long long evict_exceeded_now_ms(void)
{
    return g_evict.over_since_ms ? util_mstime() - g_evict.over_since_ms : 0;
}

/* Redis's evictionTimeLimitUs: 50 us per tenacity unit up to 10, then
 * growing 15% a unit; 100 is no limit. */
static unsigned long long time_limit_us(void)
{
    long long t = g_config.maxmemory_eviction_tenacity;
    if (t <= 10) return 50ULL * (unsigned long long)t;
    if (t < 100) return (unsigned long long)(500.0 * pow(1.15, (double)t - 10.0));
    return ULLONG_MAX;
}

static void note_over(bool over)
{
    if (over && !g_evict.over_since_ms) {
        g_evict.over_since_ms = util_mstime();
    } else if (!over && g_evict.over_since_ms) {
        g_evict.total_eviction_exceeded_time_ms += util_mstime() - g_evict.over_since_ms;
        g_evict.over_since_ms = 0;
    }
}

enum evict_result evict_perform(size_t not_counted)
{
    size_t tofree, freed = 0;
    long long start, keys = 0, t_del;
    unsigned long long limit;
    enum evict_result res = EVICT_OK;

    /* replica-ignore-maxmemory: a replica's memory follows its primary's */
    if (g_store.replica && g_config.replica_ignore_maxmemory) return EVICT_OK;
    if (!evict_over_limit(not_counted, NULL, &tofree)) {
        cycle_pending = false;
        note_over(false);
        return EVICT_OK;
    }
    note_over(true);
    if (g_config.maxmemory_policy == MM_NOEVICTION) return EVICT_FAIL;
    limit = time_limit_us();
    start = util_ustime();
    cycle_pending = false;
    while (freed < tofree) {
        char buf[256], *heap;
        size_t klen = 0, before, after;
        long long mark;
        struct db *db = select_victim(buf, sizeof(buf), &heap, &klen);
        const char *key = heap ? heap : buf;
        if (!db) {
            res = EVICT_FAIL;
            break;
        }
        before = mem_used();
        t_del = util_mstime();
        /* lazyfree-lazy-eviction: big values go to the lazy-free thread */
        mark = store_dirty_mark();
        store_delete_lazy(db, key, klen, NULL, 0, g_config.lazyfree_lazy_eviction);
        store_dirty_settle(mark, 0); /* an eviction is no change Redis counts */
        store_latency_sample("eviction-del", util_mstime() - t_del); /* as Redis 7.0 */
        after = mem_used();
        if (before > after) freed += before - after;
        g_evict.evicted_keys++;
        store_emit(db, key, klen, "evicted", NOTIFY_EVICTED);
        free(heap);
        keys++;
        /* freed in the background, memory drops later: check it directly */
        if (keys % 16 == 0 && g_config.lazyfree_lazy_eviction &&
            !evict_over_limit(not_counted, NULL, NULL))
            break;
        if (keys % 16 == 0 && (unsigned long long)(util_ustime() - start) > limit) {
            cycle_pending = true;
            break;
        }
    }
    /* Out of victims while the lazy-free thread still frees some: a short
     * wait for it, as Redis does, before answering -OOM. */
    if (res == EVICT_FAIL && lazyfree_pending_objects() > 0) {
        usleep((useconds_t)(limit < 1000000 ? limit : 1000000));
        if (!evict_over_limit(not_counted, NULL, NULL)) res = EVICT_OK;
    }
    store_latency_sample("eviction-cycle", (util_ustime() - start) / 1000);
    if (res != EVICT_FAIL) res = cycle_pending ? EVICT_RUNNING : EVICT_OK;
    if (res == EVICT_OK) note_over(evict_over_limit(not_counted, NULL, NULL));
    return res;
}
