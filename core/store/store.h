/* store.h — the keyspace: 16 (configurable) databases of `struct kv`, lazy
 * and active expiry with Redis's semantics, and the event emitter. Every
 * mutation goes through a store_* function, which ends by calling
 * store_emit(); observers (WATCH, tracking, blocking, notifications) hook
 * in with store_observe(). This is also the backend seam: the kernel and
 * handlers reach data only through this interface. */
#ifndef KEEL_STORE_H
#define KEEL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "dict.h"
#include "object.h"

struct db {
    int id;
    struct dict keys;
    struct kv **exp; /* entries that carry a TTL, for active expiry */
    size_t nexp, capexp;
    long long avg_ttl;
    unsigned long expires_cursor;
    bool side; /* a side set's (store_side_new): its changes emit no event */
};

/* Notification classes, as Redis's NOTIFY_* (used by keyspace events). */
enum {
    NOTIFY_KEYSPACE = 1 << 0,
    NOTIFY_KEYEVENT = 1 << 1,
    NOTIFY_GENERIC = 1 << 2,
    NOTIFY_STRING = 1 << 3,
    NOTIFY_LIST = 1 << 4,
    NOTIFY_SET = 1 << 5,
    NOTIFY_HASH = 1 << 6,
    NOTIFY_ZSET = 1 << 7,
    NOTIFY_EXPIRED = 1 << 8,
    NOTIFY_EVICTED = 1 << 9,
    NOTIFY_STREAM = 1 << 10,
    NOTIFY_KEY_MISS = 1 << 11,
    NOTIFY_LOADED = 1 << 12,
    NOTIFY_MODULE = 1 << 13,
    NOTIFY_NEW = 1 << 14,
};

struct store_event {
    struct db *db;
    const char *key; /* NULL for whole-database events (flushdb, swapdb) */
    size_t klen;
    const char *name; /* Redis's event name: "set", "del", "expired", ... */
    int klass;        /* NOTIFY_* */
    struct db *db2;   /* swapdb: the other database */
};

typedef void (*store_observer_fn)(const struct store_event *ev, void *priv);

struct store_stats {
    long long expired_keys, expired_stale_perc, expired_time_cap_reached;
    long long keyspace_hits, keyspace_misses;
    long long dirty; /* changes since last save */
    long long events_emitted;
    long long
        expire_cycle_us; /* time the active expiry took (INFO expire_cycle_cpu_milliseconds) */
};

struct store {
    struct db *dbs;
    int ndb;
    bool active_expire;
    /* A CLIENT PAUSE is in effect (set by the kernel): as Redis 7.0, no key
     * is expired (reads see an expired key as missing, but it stays) and
     * none is evicted until it ends. */
    bool paused;
    /* This server is a replica (core/repl): as Redis 7.0's, it expires
     * nothing itself (its primary's DELs do): an expired key reads as
     * missing and stays, except for the master client's commands
     * (obey_master set around them), which see it as it is. */
    bool replica;
    bool obey_master;
    /* A replica's async load runs (core/persist/loading.c): as Redis 7.0's
     * keyIsExpired while loading, no key counts as expired. */
    bool keep_expired;
    /* Set by the kernel for the length of a command (a script or a
     * transaction included): keys expire against this time, not the
     * clock, as Redis 7.0's (a key alive when the command began stays so
     * to its end); 0 outside commands. */
    long long fixed_now_ms;
    unsigned lruclock;
    struct store_stats stats;
};

extern struct store g_store;

/* The dirty counter (INFO rdb_changes_since_last_save, the save rules,
 * whether a command is propagated) counts one change per event. Redis
 * counts some commands its own way: one per element pushed, added or
 * removed, and an emptied key's deletion or a SET's expire as part of the
 * one change. A handler that knows Redis's count takes a mark after its
 * lookups (an expired key deleted there counts nothing) and settles the
 * counter to mark + n once its events are emitted. */
static inline long long store_dirty_mark(void)
{
    return g_store.stats.dirty;
}
static inline void store_dirty_settle(long long mark, long long n)
{
    g_store.stats.dirty = mark + n;
}

void store_init(int ndb);
void store_shutdown(void);
struct db *store_db(int id);

/* Observers run synchronously, in registration order, on every event. */
void store_observe(store_observer_fn fn, void *priv);
/* The latency monitor's sampler (core_init wires latency.c's): the store
 * reports how long deleting an expired key took ("expire-del", ms). */
void store_set_latency_hook(void (*fn)(const char *event, long long ms));
/* A latency sample through that hook (nothing when none is set): the
 * store's rooms use it (eviction: "eviction-del", "eviction-cycle"). */
void store_latency_sample(const char *event, long long ms);
void store_emit(struct db *db, const char *key, size_t klen, const char *name, int klass);

/* Look-ups. Both expire the key lazily if its time has come. _read counts
 * a hit or a miss and touches the LRU clock; _write only touches. */
struct kv *store_lookup_read(struct db *db, const char *key, size_t klen);
struct kv *store_lookup_write(struct db *db, const char *key, size_t klen);
/* The same, giving the key's hash too (for store_set_known). */
struct kv *store_lookup_write_h(struct db *db, const char *key, size_t klen, uint64_t *hash);
/* No expiry, no stats, no touch (OBJECT, SCAN filters, DEBUG). */
struct kv *store_peek(struct db *db, const char *key, size_t klen);
/* The RDB loader's pair: the key's hash (store_key_hash) computed once for
 * the duplicate check (store_peek_hashed) and the insert
 * (store_add_expire_hashed, as store_add_expire with no event name). */
uint64_t store_key_hash(const char *key, size_t klen);
struct kv *store_peek_hashed(struct db *db, const char *key, size_t klen, uint64_t hash);
struct kv *store_add_expire_hashed(struct db *db, struct kv *e, long long when, uint64_t hash);
/* Room for n keys, nexp of them with a TTL (RESIZEDB: Redis sizes the
 * table before loading, so it never grows and rehashes meanwhile). */
void store_reserve(struct db *db, uint64_t n, uint64_t nexp);
bool store_exists(struct db *db, const char *key, size_t klen);

/* Mutators. Each takes the event name Redis uses for the command ("set",
 * "incrby", "del", ...) and its NOTIFY_* class, and emits it (ev NULL: no
 * event, for the internal halves of compound operations). */

/* Add e (key absent). */
void store_add(struct db *db, struct kv *e, const char *ev, int klass);
/* Set key to e: add, or replace the present entry (freed); its TTL moves
 * to e when keepttl, else it is dropped. Returns e (it may move). */
struct kv *store_set(struct db *db, struct kv *e, bool keepttl, const char *ev, int klass);
/* store_set for a caller that has just looked the key up with
 * store_lookup_write_h: old is the live entry under e's key, or NULL when
 * absent, h the key's hash (no second search, no second hash). The TTL is
 * dropped. Returns e. */
struct kv *store_set_known(struct db *db, struct kv *old, struct kv *e, uint64_t h, const char *ev,
                           int klass);
/* Delete by key; true if it existed. */
bool store_delete(struct db *db, const char *key, size_t klen, const char *ev, int klass);
/* The same, freeing a big value on the lazy-free thread when async (UNLINK;
 * DEL under lazyfree-lazy-user-del). store_delete follows
 * lazyfree-lazy-server-del, expiry lazyfree-lazy-expire. */
bool store_delete_lazy(struct db *db, const char *key, size_t klen, const char *ev, int klass,
                       bool async);
/* Unlink e from db and return it, TTL kept in it (RENAME/MOVE); caller owns it. */
struct kv *store_unlink(struct db *db, struct kv *e);
/* Link an entry returned by store_unlink (key absent), TTL included. */
void store_relink(struct db *db, struct kv *e, const char *ev, int klass);
/* An entry's value was changed in place by its type's code. */
void store_modified(struct db *db, struct kv *e, const char *ev, int klass);

/* TTLs. when is unix ms. Return e (it may move in memory). */
struct kv *store_set_expire(struct db *db, struct kv *e, long long when, const char *ev);
struct kv *store_persist(struct db *db, struct kv *e, const char *ev);
bool store_is_expired(struct kv *e);

/* Make a string value a growable raw string with room for need bytes
 * (APPEND, SETRANGE); returns the rstr now at e->v.ptr. No event: the
 * caller calls store_modified once its change is done. */
struct rstr *store_string_unshare(struct kv *e, size_t need);

/* Whole databases. async frees in a background thread. The "flushdb"
 * event is emitted BEFORE the keys go; "swapdb" after the swap. */
long long store_flushdb(struct db *db, bool async);
void store_swapdb(int a, int b);
/* repl-diskless-load swapdb (core/repl), as Redis 7.0's temp databases:
 * a side set of ndb empty databases (ids 0..ndb-1, not g_store's) the
 * replica's RDB loads into while the main ones keep serving the old data;
 * store_swap_main puts the side content in place and the old content in
 * side (observers see one "swapmain" event per database: db the new
 * content, db2 the old one: WATCH touches keys in either, tracking
 * invalidates everything, blocked clients re-check); store_side_free frees
 * a side set (async: the keys on the lazy-free thread). */
struct db *store_side_new(void);
void store_swap_main(struct db *side);
void store_side_free(struct db *side, bool async);

/* Periodic work (server cron): active expiry and incremental rehash. */
void store_cron(long long budget_us);
void store_update_lruclock(void);
unsigned long long store_idle_ms(struct kv *e);

/* ---- helpers for the keys group (cmd_keys.c) ---- */

/* As store_lookup_read (lazy expiry, hit/miss stats) but without touching
 * the LRU clock: Redis's LOOKUP_NOTOUCH (TYPE, TTL, EXISTS, OBJECT). */
struct kv *store_lookup_read_notouch(struct db *db, const char *key, size_t klen);
/* The same without the "keymiss" event: Redis's LOOKUP_NONOTIFY too (OBJECT). */
struct kv *store_lookup_read_quiet(struct db *db, const char *key, size_t klen);
/* Add e (key absent) with expire time `when` (unix ms; -1: none), emitting
 * ev once (COPY). Returns e (it may move). */
struct kv *store_add_expire(struct db *db, struct kv *e, long long when, const char *ev, int klass);
/* Rename e (present in db) to key (absent in db): the value and TTL move
 * without a copy. Emits ev_from on the old name, then ev_to on the new one
 * (NOTIFY_GENERIC). Returns the entry under its new name (e is freed). */
struct kv *store_rename(struct db *db, struct kv *e, const char *key, size_t klen,
                        const char *ev_from, const char *ev_to);
/* Move e from src to dst (its key absent in dst), TTL included. Emits
 * ev_from in src, then ev_to in dst (NOTIFY_GENERIC). */
void store_move(struct db *src, struct kv *e, struct db *dst, const char *ev_from,
                const char *ev_to);

#endif
