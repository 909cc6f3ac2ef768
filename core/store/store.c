/* store.c — databases, lookups, lazy and active expiry, events (store.h). */
#include "store.h"

#include <stdlib.h>

#include "lazyfree.h"
#include "lru.h"
#include "siphash.h"
#include "util.h"

struct store g_store;

#define MAX_OBSERVERS 16
static struct {
    store_observer_fn fn;
    void *priv;
} observers[MAX_OBSERVERS];
static int nobservers;

static uint64_t kv_hash(const struct dnode *n)
{
    struct kv *e = (struct kv *)n;
    return siphash(kv_key(e), e->klen);
}

static bool kv_eq(const struct dnode *n, const void *key, size_t len)
{
    struct kv *e = (struct kv *)n;
    return e->klen == len && memcmp(kv_key(e), key, len) == 0;
}

static const struct dict_type kv_dict_type = {kv_hash, kv_eq};

void store_init(int ndb)
{
    int i;
    g_store.ndb = ndb;
    g_store.dbs = xcalloc((size_t)ndb, sizeof(struct db));
    g_store.active_expire = true;
    for (i = 0; i < ndb; i++) {
        g_store.dbs[i].id = i;
        dict_init(&g_store.dbs[i].keys, &kv_dict_type);
    }
    store_update_lruclock();
}

static void free_node(struct dnode *n)
{
    kv_free((struct kv *)n);
}

void store_shutdown(void)
{
    int i;
    lazyfree_drain(); /* nothing left half-freed behind us */
    for (i = 0; i < g_store.ndb; i++) {
        dict_release(&g_store.dbs[i].keys, free_node);
        free(g_store.dbs[i].exp);
    }
    free(g_store.dbs);
    g_store.dbs = NULL;
    nobservers = 0;
}

struct db *store_db(int id)
{
    return id >= 0 && id < g_store.ndb ? &g_store.dbs[id] : NULL;
}

void store_observe(store_observer_fn fn, void *priv)
{
    if (nobservers == MAX_OBSERVERS) abort();
    observers[nobservers].fn = fn;
    observers[nobservers].priv = priv;
    nobservers++;
}

static void emit_event(const struct store_event *ev)
{
    int i;
    /* a side set (store_side_new) is nobody's keyspace yet: no event */
    if (ev->db && ev->db->side) return;
    g_store.stats.events_emitted++;
    for (i = 0; i < nobservers; i++)
        observers[i].fn(ev, observers[i].priv);
}

void store_emit(struct db *db, const char *key, size_t klen, const char *name, int klass)
{
    struct store_event ev = {db, key, klen, name, klass, NULL};
    emit_event(&ev);
}

/* ---- the expire vector ---- */

static void exp_add(struct db *db, struct kv *e)
{
    if (db->nexp == db->capexp) {
        db->capexp = db->capexp ? db->capexp * 2 : 16;
        db->exp = xrealloc(db->exp, db->capexp * sizeof(*db->exp));
    }
    kv_exp(e)->idx = db->nexp;
    db->exp[db->nexp++] = e;
}

static void exp_remove(struct db *db, struct kv *e)
{
    uint64_t i = kv_exp(e)->idx;
    struct kv *last = db->exp[--db->nexp];
    db->exp[i] = last;
    kv_exp(last)->idx = i;
    if (db->capexp > 64 && db->nexp < db->capexp / 4) {
        db->capexp /= 2;
        db->exp = xrealloc(db->exp, db->capexp * sizeof(*db->exp));
    }
}

/* A copy of e with or without the expire header (e is not freed). */
static struct kv *kv_reshape(struct kv *e, bool with_exp)
{
    size_t datalen = e->klen + (e->type == OBJ_STRING && e->enc == ENC_EMBSTR ? e->v.len : 0);
    size_t hdr = with_exp ? sizeof(struct kv_exp) : 0;
    struct kv *n = xmalloc(sizeof(struct kv) + hdr + datalen);
    memcpy(n, e, sizeof(struct kv));
    n->has_expire = with_exp;
    memcpy(n->data + hdr, kv_key(e), datalen);
    return n;
}

static void relink(struct db *db, struct kv *old, struct kv *nw)
{
    dict_replace(&db->keys, &old->node, &nw->node, siphash(kv_key(nw), nw->klen));
}

/* ---- look-ups ---- */

/* The time keys expire against (store.h's fixed_now_ms). */
static long long expire_clock(void)
{
    return g_store.fixed_now_ms ? g_store.fixed_now_ms : util_mstime();
}

bool store_is_expired(struct kv *e)
{
    return e->has_expire && !g_store.keep_expired && kv_exp(e)->when <= expire_clock();
}

static void (*latency_hook)(const char *event, long long ms);

void store_set_latency_hook(void (*fn)(const char *event, long long ms))
{
    latency_hook = fn;
}

void store_latency_sample(const char *event, long long ms)
{
    if (latency_hook) latency_hook(event, ms);
}

static void expire_now(struct db *db, struct kv *e)
{
    char kbuf[256];
    char *key = e->klen <= sizeof(kbuf) ? kbuf : xmalloc(e->klen);
    size_t klen = e->klen;
    long long t0 = latency_hook ? util_mstime() : 0;
    long long mark = store_dirty_mark();
    memcpy(key, kv_key(e), klen);
    /* not a change Redis counts (its deleteExpiredKeyAndPropagate) */
    store_delete_lazy(db, key, klen, NULL, 0, lazyfree_lazy_expire);
    store_dirty_settle(mark, 0);
    if (latency_hook) latency_hook("expire-del", util_mstime() - t0); /* as Redis 7.0 */
    g_store.stats.expired_keys++;
    store_emit(db, key, klen, "expired", NOTIFY_EXPIRED);
    if (key != kbuf) free(key);
}

static struct kv *lookup_hashed(struct db *db, const char *key, size_t klen, uint64_t h, bool touch,
                                bool for_write)
{
    struct kv *e = (struct kv *)dict_find(&db->keys, key, klen, h);
    if (!e) return NULL;
    if (e->has_expire && !g_store.keep_expired && kv_exp(e)->when <= expire_clock()) {
        if (g_store.replica) {
            if (!g_store.obey_master) return NULL;
            goto live;
        }
        /* Paused (CLIENT PAUSE): the key reads as missing and stays. A
         * write never runs during a pause, but if one did, the key goes
         * first so that it is never added twice. */
        if (!g_store.paused || for_write) expire_now(db, e);
        return NULL;
    }
live:
    if (touch) lru_touch(e, g_store.lruclock);
    return e;
}

static struct kv *lookup_for(struct db *db, const char *key, size_t klen, bool touch,
                             bool for_write)
{
    return lookup_hashed(db, key, klen, siphash(key, klen), touch, for_write);
}

static struct kv *lookup(struct db *db, const char *key, size_t klen, bool touch)
{
    return lookup_for(db, key, klen, touch, false);
}

struct kv *store_lookup_read(struct db *db, const char *key, size_t klen)
{
    struct kv *e = lookup(db, key, klen, true);
    if (e) {
        g_store.stats.keyspace_hits++;
    } else {
        g_store.stats.keyspace_misses++;
        store_emit(db, key, klen, "keymiss", NOTIFY_KEY_MISS);
    }
    return e;
}

struct kv *store_lookup_write(struct db *db, const char *key, size_t klen)
{
    return lookup_for(db, key, klen, true, true);
}

struct kv *store_lookup_write_h(struct db *db, const char *key, size_t klen, uint64_t *hash)
{
    *hash = siphash(key, klen);
    return lookup_hashed(db, key, klen, *hash, true, true);
}

struct kv *store_peek(struct db *db, const char *key, size_t klen)
{
    return (struct kv *)dict_find(&db->keys, key, klen, siphash(key, klen));
}

uint64_t store_key_hash(const char *key, size_t klen)
{
    return siphash(key, klen);
}

struct kv *store_peek_hashed(struct db *db, const char *key, size_t klen, uint64_t hash)
{
    return (struct kv *)dict_find(&db->keys, key, klen, hash);
}

void store_reserve(struct db *db, uint64_t n, uint64_t nexp)
{
    dict_expand(&db->keys, n);
    if (nexp > db->capexp && nexp < ((uint64_t)1 << 40)) {
        db->capexp = (size_t)nexp;
        db->exp = xrealloc(db->exp, db->capexp * sizeof(*db->exp));
    }
}

bool store_exists(struct db *db, const char *key, size_t klen)
{
    return lookup(db, key, klen, false) != NULL;
}

/* ---- mutators ---- */

static void emit_for(struct db *db, struct kv *e, const char *ev, int klass)
{
    g_store.stats.dirty++;
    if (ev) store_emit(db, kv_key(e), e->klen, ev, klass);
}

static void add_hashed(struct db *db, struct kv *e, uint64_t hash, const char *ev, int klass)
{
    e->lru = lru_new(g_store.lruclock);
    dict_add(&db->keys, &e->node, hash);
    if (e->has_expire) exp_add(db, e);
    store_emit(db, kv_key(e), e->klen, "new", NOTIFY_NEW);
    emit_for(db, e, ev, klass);
}

void store_add(struct db *db, struct kv *e, const char *ev, int klass)
{
    add_hashed(db, e, siphash(kv_key(e), e->klen), ev, klass);
}

struct kv *store_set(struct db *db, struct kv *e, bool keepttl, const char *ev, int klass)
{
    uint64_t h = siphash(kv_key(e), e->klen);
    struct kv *old = (struct kv *)dict_find(&db->keys, kv_key(e), e->klen, h);
    long long when = -1;

    /* An overwritten key keeps its LFU counter (Redis's dbSetValue). */
    e->lru = old && lru_policy_lfu() ? old->lru : lru_new(g_store.lruclock);
    if (!old) {
        dict_add(&db->keys, &e->node, h);
        if (e->has_expire) exp_add(db, e);
        store_emit(db, kv_key(e), e->klen, "new", NOTIFY_NEW);
        emit_for(db, e, ev, klass);
        return e;
    }
    if (old->has_expire) {
        if (keepttl && kv_exp(old)->when > util_mstime()) when = kv_exp(old)->when;
        exp_remove(db, old);
    }
    dict_replace(&db->keys, &old->node, &e->node, h);
    lazyfree_kv(old, lazyfree_lazy_server_del); /* an overwrite */
    if (e->has_expire) exp_add(db, e);
    if (when != -1) e = store_set_expire(db, e, when, NULL);
    emit_for(db, e, ev, klass);
    return e;
}

struct kv *store_set_known(struct db *db, struct kv *old, struct kv *e, uint64_t h, const char *ev,
                           int klass)
{
    if (!old) {
        add_hashed(db, e, h, ev, klass);
        return e;
    }
    e->lru = lru_policy_lfu() ? old->lru : lru_new(g_store.lruclock);
    if (old->has_expire) exp_remove(db, old);
    dict_replace(&db->keys, &old->node, &e->node, h);
    lazyfree_kv(old, lazyfree_lazy_server_del); /* an overwrite */
    if (e->has_expire) exp_add(db, e);
    emit_for(db, e, ev, klass);
    return e;
}

bool store_delete_lazy(struct db *db, const char *key, size_t klen, const char *ev, int klass,
                       bool async)
{
    struct kv *e = (struct kv *)dict_unlink(&db->keys, key, klen, siphash(key, klen));
    if (!e) return false;
    if (e->has_expire) exp_remove(db, e);
    g_store.stats.dirty++;
    if (ev) store_emit(db, key, klen, ev, klass);
    lazyfree_kv(e, async);
    return true;
}

bool store_delete(struct db *db, const char *key, size_t klen, const char *ev, int klass)
{
    return store_delete_lazy(db, key, klen, ev, klass, lazyfree_lazy_server_del);
}

struct kv *store_unlink(struct db *db, struct kv *e)
{
    dict_unlink(&db->keys, kv_key(e), e->klen, siphash(kv_key(e), e->klen));
    if (e->has_expire) exp_remove(db, e);
    g_store.stats.dirty++;
    return e;
}

void store_relink(struct db *db, struct kv *e, const char *ev, int klass)
{
    store_add(db, e, ev, klass);
}

void store_modified(struct db *db, struct kv *e, const char *ev, int klass)
{
    emit_for(db, e, ev, klass);
}

struct kv *store_set_expire(struct db *db, struct kv *e, long long when, const char *ev)
{
    if (!e->has_expire) {
        struct kv *n = kv_reshape(e, true);
        relink(db, e, n);
        free(e); /* the value moved to n */
        e = n;
        kv_exp(e)->when = when;
        exp_add(db, e);
    } else {
        kv_exp(e)->when = when;
    }
    if (ev) emit_for(db, e, ev, NOTIFY_GENERIC);
    return e;
}

struct kv *store_persist(struct db *db, struct kv *e, const char *ev)
{
    struct kv *n;
    if (!e->has_expire) return e;
    exp_remove(db, e);
    n = kv_reshape(e, false);
    relink(db, e, n);
    free(e);
    if (ev) emit_for(db, n, ev, NOTIFY_GENERIC);
    return n;
}

struct rstr *store_string_unshare(struct kv *e, size_t need)
{
    struct rstr *s;
    if (e->enc == ENC_RAW) {
        s = rstr_grow(e->v.ptr, need);
        e->v.ptr = s;
        return s;
    }
    {
        /* Redis's copy (sdsnewlen) has its room; growing past it, the
         * copy gets sdsMakeRoomFor's greedy room, as rstr_grow gives. */
        struct strview sv;
        size_t cap;
        kv_string_view(e, &sv);
        cap = rstr_new_cap(sv.n);
        if (need > cap) cap = rstr_greedy_cap(need);
        s = rstr_new(sv.p, sv.n, cap);
    }
    /* An embedded value's bytes stay allocated behind the key until the
     * entry is next reshaped; they are at most EMBSTR_MAX bytes. */
    e->enc = ENC_RAW;
    e->v.ptr = s;
    return s;
}

/* ---- whole databases ---- */

/* Free a database's keys (async: on the lazy-free thread,
 * core/store/lazyfree.c) and its expiry index. */
static void release_db(struct db *db, bool async)
{
    if (async && dict_size(&db->keys) > 0) {
        struct dict *d = xmalloc(sizeof(*d));
        dict_move(&db->keys, d);
        lazyfree_dict(d);
    } else {
        dict_release(&db->keys, free_node);
    }
    free(db->exp);
    db->exp = NULL;
    db->nexp = db->capexp = 0;
}

long long store_flushdb(struct db *db, bool async)
{
    long long n = (long long)dict_size(&db->keys);
    /* Observers see the event while the keys are still there (WATCH breaks
     * only for watched keys that existed, as in Redis). */
    {
        struct store_event ev = {db, NULL, 0, "flushdb", NOTIFY_GENERIC, NULL};
        emit_event(&ev);
    }
    release_db(db, async);
    db->avg_ttl = 0;
    g_store.stats.dirty += n;
    return n;
}

struct db *store_side_new(void)
{
    struct db *side = xcalloc((size_t)g_store.ndb, sizeof(*side));
    int i;
    for (i = 0; i < g_store.ndb; i++) {
        side[i].id = i;
        side[i].side = true;
        dict_init(&side[i].keys, &kv_dict_type);
    }
    return side;
}

/* Redis 7.0's swapMainDbWithTempDb: each database takes the side one's
 * content, the side one the old content; observers see "swapmain" with
 * db (the new content) and db2 (the old one, now in side). */
void store_swap_main(struct db *side)
{
    int i;
    for (i = 0; i < g_store.ndb; i++) {
        struct db *db = &g_store.dbs[i], tmp = *db;
        /* a dict moves as a plain copy (dict_move) */
        *db = side[i];
        side[i] = tmp;
        db->id = i;
        db->side = false;
        side[i].id = i;
        side[i].side = true;
        {
            struct store_event ev = {db, NULL, 0, "swapmain", NOTIFY_GENERIC, &side[i]};
            emit_event(&ev);
        }
    }
}

void store_side_free(struct db *side, bool async)
{
    int i;
    if (!side) return;
    for (i = 0; i < g_store.ndb; i++)
        release_db(&side[i], async);
    free(side);
}

void store_swapdb(int a, int b)
{
    struct db *x = &g_store.dbs[a], *y = &g_store.dbs[b], tmp;
    tmp = *x;
    *x = *y;
    *y = tmp;
    x->id = a;
    y->id = b;
    g_store.stats.dirty++;
    {
        struct store_event ev = {x, NULL, 0, "swapdb", NOTIFY_GENERIC, y};
        emit_event(&ev);
    }
}

/* ---- periodic work ---- */

void store_update_lruclock(void)
{
    g_store.lruclock = (unsigned)((util_mstime() / 1000) & KV_LRU_MAX);
}

unsigned long long store_idle_ms(struct kv *e)
{
    unsigned now = g_store.lruclock;
    unsigned long long d = now >= e->lru ? now - e->lru : (KV_LRU_MAX - e->lru) + now;
    return d * 1000;
}

#define EXPIRE_SAMPLES 20

static void active_expire_db(struct db *db, long long deadline)
{
    for (;;) {
        int sampled = 0, expired = 0, i;
        long long now = util_mstime();
        long double ttl_sum = 0; /* far-future TTLs would overflow a long long */
        int ttl_n = 0;
        if (db->nexp == 0) {
            db->avg_ttl = 0;
            return;
        }
        for (i = 0; i < EXPIRE_SAMPLES && db->nexp > 0; i++) {
            struct kv *e = db->exp[util_rand64() % db->nexp];
            sampled++;
            if (kv_exp(e)->when <= now) {
                expire_now(db, e);
                expired++;
            } else {
                ttl_sum += kv_exp(e)->when - now;
                ttl_n++;
            }
        }
        if (ttl_n) {
            long long avg = (long long)(ttl_sum / ttl_n);
            db->avg_ttl =
                db->avg_ttl
                    ? (long long)((long double)db->avg_ttl / 50 * 49 + (long double)avg / 50)
                    : avg;
        }
        if (util_monotonic_us() > deadline) {
            g_store.stats.expired_time_cap_reached++;
            return;
        }
        if (expired * 100 / (sampled ? sampled : 1) <= 10) return;
    }
}

void store_cron(long long budget_us)
{
    long long deadline = util_monotonic_us() + budget_us;
    int i;
    store_update_lruclock();
    for (i = 0; i < g_store.ndb; i++) {
        struct db *db = &g_store.dbs[i];
        if (g_store.active_expire && !g_store.paused && !g_store.replica) {
            long long t0 = util_monotonic_us();
            active_expire_db(db, deadline);
            g_store.stats.expire_cycle_us += util_monotonic_us() - t0;
        }
        dict_maybe_shrink(&db->keys);
        if (dict_is_rehashing(&db->keys)) dict_rehash_ms(&db->keys, 1);
    }
}

/* ---- helpers for the keys group (cmd_keys.c) ---- */

static struct kv *lookup_read_notouch(struct db *db, const char *key, size_t klen, bool notify)
{
    struct kv *e = lookup(db, key, klen, false);
    if (e) {
        g_store.stats.keyspace_hits++;
    } else {
        g_store.stats.keyspace_misses++;
        if (notify) store_emit(db, key, klen, "keymiss", NOTIFY_KEY_MISS);
    }
    return e;
}

struct kv *store_lookup_read_notouch(struct db *db, const char *key, size_t klen)
{
    return lookup_read_notouch(db, key, klen, true);
}

struct kv *store_lookup_read_quiet(struct db *db, const char *key, size_t klen)
{
    return lookup_read_notouch(db, key, klen, false);
}

struct kv *store_add_expire(struct db *db, struct kv *e, long long when, const char *ev, int klass)
{
    if (when != -1) {
        if (!e->has_expire) {
            struct kv *n = kv_reshape(e, true);
            free(e); /* the value moved to n */
            e = n;
        }
        kv_exp(e)->when = when;
    }
    store_add(db, e, ev, klass);
    return e;
}

struct kv *store_add_expire_hashed(struct db *db, struct kv *e, long long when, uint64_t hash)
{
    if (when != -1) {
        if (!e->has_expire) {
            struct kv *n = kv_reshape(e, true);
            free(e);
            e = n;
        }
        kv_exp(e)->when = when;
    }
    add_hashed(db, e, hash, NULL, 0);
    return e;
}

struct kv *store_rename(struct db *db, struct kv *e, const char *key, size_t klen,
                        const char *ev_from, const char *ev_to)
{
    size_t hdr = e->has_expire ? sizeof(struct kv_exp) : 0;
    size_t vlen = e->type == OBJ_STRING && e->enc == ENC_EMBSTR ? e->v.len : 0;
    struct kv *n = xmalloc(sizeof(struct kv) + hdr + klen + vlen);

    dict_unlink(&db->keys, kv_key(e), e->klen, siphash(kv_key(e), e->klen));
    if (e->has_expire) exp_remove(db, e);
    memcpy(n, e, sizeof(struct kv)); /* type, encoding, value, lru, expire flag */
    n->node.next = NULL;
    n->klen = (uint32_t)klen;
    if (hdr) memcpy(n->data, e->data, hdr);
    memcpy(n->data + hdr, key, klen);
    if (vlen) memcpy(n->data + hdr + klen, kv_key(e) + e->klen, vlen);
    dict_add(&db->keys, &n->node, siphash(key, klen));
    if (n->has_expire) exp_add(db, n);
    g_store.stats.dirty++;
    store_emit(db, kv_key(n), n->klen, "new", NOTIFY_NEW); /* as Redis's dbAdd */
    if (ev_from) store_emit(db, kv_key(e), e->klen, ev_from, NOTIFY_GENERIC);
    if (ev_to) store_emit(db, kv_key(n), n->klen, ev_to, NOTIFY_GENERIC);
    free(e); /* the value moved to n */
    return n;
}

void store_move(struct db *src, struct kv *e, struct db *dst, const char *ev_from,
                const char *ev_to)
{
    uint64_t h = siphash(kv_key(e), e->klen);
    dict_unlink(&src->keys, kv_key(e), e->klen, h);
    if (e->has_expire) exp_remove(src, e);
    e->node.next = NULL;
    dict_add(&dst->keys, &e->node, h);
    if (e->has_expire) exp_add(dst, e);
    g_store.stats.dirty++;
    store_emit(dst, kv_key(e), e->klen, "new", NOTIFY_NEW); /* as Redis's dbAdd */
    if (ev_from) store_emit(src, kv_key(e), e->klen, ev_from, NOTIFY_GENERIC);
    if (ev_to) store_emit(dst, kv_key(e), e->klen, ev_to, NOTIFY_GENERIC);
}
