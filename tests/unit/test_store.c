/* test_store.c — unit tests for core/store/store.c: set/get/delete, SET's
 * KEEPTTL, TTL changes that move the entry, lazy and active expiry (stats
 * and the "expired" event), FLUSHDB sync/async, SWAPDB, the side set of
 * repl-diskless-load swapdb (store_swap_main), and the event every
 * mutation emits (recorded by an observer registered with store_observe). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "util.h"
#include "unit.h"

/* ---- an observer that records events ---- */

#define MAX_EV 64
struct rec_event {
    int db, db2; /* ids; -1 when none */
    char key[64];
    long klen; /* -1: whole-database event */
    char name[32];
    int klass;
};
static struct rec_event evs[MAX_EV];
static int nev;    /* events recorded (at most MAX_EV kept) */
static long total; /* every event seen */
static long nexpired_ev;

static long nnew, nkeymiss;

static void observer(const struct store_event *ev, void *priv)
{
    ck_assert_ptr_eq(priv, &nev);
    /* "new" (a key created) and "keymiss" (a read miss) are counted apart:
     * the other checks look at each mutation's own event. */
    if (ev->klass == NOTIFY_NEW) {
        ck_assert_str_eq(ev->name, "new");
        nnew++;
        return;
    }
    if (ev->klass == NOTIFY_KEY_MISS) {
        ck_assert_str_eq(ev->name, "keymiss");
        nkeymiss++;
        return;
    }
    total++;
    if (strcmp(ev->name, "expired") == 0) {
        nexpired_ev++;
        ck_assert_int_eq(ev->klass, NOTIFY_EXPIRED);
    }
    if (nev < MAX_EV) {
        struct rec_event *r = &evs[nev++];
        r->db = ev->db ? ev->db->id : -1;
        r->db2 = ev->db2 ? ev->db2->id : -1;
        r->klen = ev->key ? (long)ev->klen : -1;
        if (ev->key) {
            size_t n = ev->klen < sizeof(r->key) - 1 ? ev->klen : sizeof(r->key) - 1;
            memcpy(r->key, ev->key, n);
            r->key[n] = 0;
        } else {
            r->key[0] = 0;
        }
        snprintf(r->name, sizeof(r->name), "%s", ev->name);
        r->klass = ev->klass;
    }
}

/* Creations emit "new", read misses "keymiss" (notification classes n, m). */
START_TEST(new_and_keymiss_events)
{
    struct db *db = store_db(0);
    long n0 = nnew, m0 = nkeymiss;
    store_add(db, kv_new_string("a", 1, "v", 1, true), "set", NOTIFY_STRING);
    ck_assert_int_eq(nnew, n0 + 1);
    store_set(db, kv_new_string("a", 1, "w", 1, true), false, "set", NOTIFY_STRING);
    ck_assert_int_eq(nnew, n0 + 1); /* an overwrite creates nothing */
    store_set(db, kv_new_string("b", 1, "w", 1, true), false, "set", NOTIFY_STRING);
    ck_assert_int_eq(nnew, n0 + 2);
    ck_assert_ptr_null(store_lookup_read(db, "zz", 2));
    ck_assert_int_eq(nkeymiss, m0 + 1);
    ck_assert_ptr_nonnull(store_lookup_read(db, "a", 1));
    ck_assert_ptr_null(store_lookup_write(db, "zz", 2)); /* writes do not miss */
    ck_assert_int_eq(nkeymiss, m0 + 1);
}
END_TEST

static void setup(void)
{
    store_init(16);
    memset(evs, 0, sizeof(evs));
    nev = 0;
    total = 0;
    nexpired_ev = 0;
    store_observe(observer, &nev);
}

static void teardown(void)
{
    store_shutdown();
}

static void reset_events(void)
{
    nev = 0;
}

/* Assert event i is (db, key, name, klass); key NULL for database events. */
static void expect_event(int i, int db, const char *key, const char *name, int klass)
{
    ck_assert_msg(i < nev, "event %d (%s) was not emitted (%d events)", i, name, nev);
    ck_assert_str_eq(evs[i].name, name);
    ck_assert_int_eq(evs[i].db, db);
    ck_assert_int_eq(evs[i].klass, klass);
    if (key) {
        ck_assert_int_eq(evs[i].klen, (long)strlen(key));
        ck_assert_str_eq(evs[i].key, key);
    } else {
        ck_assert_int_eq(evs[i].klen, -1);
    }
}

/* ---- helpers ---- */

static struct kv *str(const char *k, const char *v)
{
    return kv_new_string(k, strlen(k), v, strlen(v), true);
}

static struct kv *get(struct db *db, const char *k)
{
    return store_lookup_read(db, k, strlen(k));
}

static void expect_value(struct kv *e, const char *v)
{
    struct strview sv;
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->type, OBJ_STRING);
    kv_string_view(e, &sv);
    ck_assert_uint_eq(sv.n, strlen(v));
    ck_assert_mem_eq(sv.p, v, sv.n);
}

static bool del(struct db *db, const char *k)
{
    return store_delete(db, k, strlen(k), "del", NOTIFY_GENERIC);
}

/* ---- tests ---- */

START_TEST(set_get_delete)
{
    struct db *db = store_db(0);
    ck_assert_ptr_nonnull(db);
    ck_assert_ptr_eq(store_db(15), &g_store.dbs[15]);
    ck_assert_ptr_null(store_db(16));
    ck_assert_ptr_null(store_db(-1));
    ck_assert_int_eq(g_store.ndb, 16);

    ck_assert_ptr_null(get(db, "k"));
    ck_assert_int_eq(g_store.stats.keyspace_misses, 1);
    store_add(db, str("k", "hello"), "set", NOTIFY_STRING);
    expect_value(get(db, "k"), "hello");
    ck_assert_int_eq(g_store.stats.keyspace_hits, 1);
    ck_assert(store_exists(db, "k", 1));
    ck_assert_ptr_nonnull(store_peek(db, "k", 1));
    ck_assert_int_eq(g_store.stats.keyspace_hits, 1); /* peek and exists count nothing */
    ck_assert_int_eq(g_store.stats.keyspace_misses, 1);
    ck_assert_ptr_null(get(store_db(1), "k")); /* other databases are separate */

    /* Integers, long strings, binary keys. */
    store_add(db, str("n", "12345"), "set", NOTIFY_STRING);
    ck_assert_int_eq(get(db, "n")->enc, ENC_INT);
    expect_value(get(db, "n"), "12345");
    {
        char big[100];
        memset(big, 'x', sizeof(big) - 1);
        big[99] = 0;
        store_add(db, str("big", big), "set", NOTIFY_STRING);
        ck_assert_int_eq(get(db, "big")->enc, ENC_RAW);
        expect_value(get(db, "big"), big);
    }
    store_add(db, kv_new_string("a\0b", 3, "v", 1, true), "set", NOTIFY_STRING);
    ck_assert_ptr_nonnull(store_lookup_read(db, "a\0b", 3));
    ck_assert_ptr_null(store_lookup_read(db, "a", 1));
    ck_assert_uint_eq(dict_size(&db->keys), 4);

    ck_assert(del(db, "k"));
    ck_assert(!del(db, "k"));
    ck_assert_ptr_null(get(db, "k"));
    ck_assert(!store_exists(db, "k", 1));
    ck_assert_uint_eq(dict_size(&db->keys), 3);
}
END_TEST

START_TEST(set_replaces_and_keepttl)
{
    struct db *db = store_db(0);
    long long when = util_mstime() + 100000;
    struct kv *e;

    store_add(db, str("k", "v1"), "set", NOTIFY_STRING);
    e = store_set_expire(db, get(db, "k"), when, "expire");
    ck_assert_int_eq(kv_expire(e), when);
    ck_assert_uint_eq(db->nexp, 1);

    /* SET k v2 KEEPTTL: the TTL moves to the new value. */
    e = store_set(db, str("k", "v2"), true, "set", NOTIFY_STRING);
    ck_assert_ptr_eq(e, get(db, "k"));
    expect_value(e, "v2");
    ck_assert_int_eq(kv_expire(e), when);
    ck_assert_uint_eq(db->nexp, 1);
    ck_assert_uint_eq(dict_size(&db->keys), 1);

    /* SET k v3: the TTL is dropped. */
    e = store_set(db, str("k", "v3"), false, "set", NOTIFY_STRING);
    ck_assert_ptr_eq(e, get(db, "k"));
    expect_value(e, "v3");
    ck_assert_int_eq(kv_expire(e), -1);
    ck_assert_uint_eq(db->nexp, 0);

    /* KEEPTTL on a key without TTL, and on a missing key. */
    e = store_set(db, str("k", "v4"), true, "set", NOTIFY_STRING);
    ck_assert_int_eq(kv_expire(get(db, "k")), -1);
    e = store_set(db, str("new", "x"), true, "set", NOTIFY_STRING);
    ck_assert_ptr_eq(e, get(db, "new"));
    ck_assert_int_eq(kv_expire(e), -1);

    /* The expire vector still works after all that: expire "k" lazily. */
    e = store_set_expire(db, get(db, "k"), util_mstime() - 1, NULL);
    ck_assert_ptr_null(get(db, "k"));
    ck_assert_uint_eq(db->nexp, 0);
    ck_assert_uint_eq(dict_size(&db->keys), 1);
}
END_TEST

START_TEST(set_expire_moves_entry)
{
    struct db *db = store_db(3);
    long long when = util_mstime() + 60000;
    struct kv *e, *moved;
    int i;

    /* Several keys with TTLs, so the expire vector has to track indexes. */
    for (i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof(k), "key:%d", i);
        store_add(db, str(k, "some value"), "set", NOTIFY_STRING);
        e = get(db, k);
        moved = store_set_expire(db, e, when + i, "expire");
        ck_assert_ptr_nonnull(moved);
        ck_assert_ptr_eq(get(db, k), moved); /* the key resolves to the returned entry */
        ck_assert_int_eq(kv_expire(moved), when + i);
        expect_value(moved, "some value");
        ck_assert(moved->has_expire);
    }
    ck_assert_uint_eq(db->nexp, 50);

    /* Changing an existing TTL. */
    e = store_set_expire(db, get(db, "key:7"), when + 1000, "expire");
    ck_assert_ptr_eq(get(db, "key:7"), e);
    ck_assert_int_eq(kv_expire(e), when + 1000);
    ck_assert_uint_eq(db->nexp, 50);

    /* PERSIST also returns the (moved) entry. */
    for (i = 0; i < 50; i += 2) {
        char k[16];
        snprintf(k, sizeof(k), "key:%d", i);
        e = store_persist(db, get(db, k), "persist");
        ck_assert_ptr_eq(get(db, k), e);
        ck_assert_int_eq(kv_expire(e), -1);
        ck_assert(!e->has_expire);
        expect_value(e, "some value");
    }
    ck_assert_uint_eq(db->nexp, 25);
    /* Persisting a key without TTL changes nothing. */
    e = get(db, "key:0");
    ck_assert_ptr_eq(store_persist(db, e, "persist"), e);

    /* Integer and raw values survive the move too. */
    store_add(db, str("int", "-42"), "set", NOTIFY_STRING);
    e = store_set_expire(db, get(db, "int"), when, "expire");
    ck_assert_int_eq(e->enc, ENC_INT);
    expect_value(get(db, "int"), "-42");
    {
        char big[200];
        memset(big, 'r', sizeof(big) - 1);
        big[199] = 0;
        store_add(db, str("raw", big), "set", NOTIFY_STRING);
        e = store_set_expire(db, get(db, "raw"), when, "expire");
        expect_value(get(db, "raw"), big);
        e = store_persist(db, e, "persist");
        expect_value(get(db, "raw"), big);
    }

    /* Odd keys still expire (the vector indexes are right). */
    for (i = 1; i < 50; i += 2) {
        char k[16];
        snprintf(k, sizeof(k), "key:%d", i);
        store_set_expire(db, get(db, k), util_mstime() - 10, "expire");
    }
    for (i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof(k), "key:%d", i);
        if (i % 2)
            ck_assert_ptr_null(get(db, k));
        else
            ck_assert_ptr_nonnull(get(db, k));
    }
    ck_assert_uint_eq(db->nexp, 1); /* "int" */
}
END_TEST

START_TEST(lazy_expiry)
{
    struct db *db = store_db(0);
    long long expired0 = g_store.stats.expired_keys, misses0;
    struct kv *e;

    store_add(db, str("gone", "v"), "set", NOTIFY_STRING);
    e = store_set_expire(db, get(db, "gone"), util_mstime() - 1000, NULL);
    ck_assert(store_is_expired(e));
    reset_events();
    /* peek neither expires nor counts */
    ck_assert_ptr_eq(store_peek(db, "gone", 4), e);
    ck_assert_int_eq(nev, 0);

    misses0 = g_store.stats.keyspace_misses;
    ck_assert_ptr_null(get(db, "gone"));
    ck_assert_int_eq(g_store.stats.expired_keys, expired0 + 1);
    ck_assert_int_eq(g_store.stats.keyspace_misses, misses0 + 1);
    ck_assert_int_eq(nev, 1);
    expect_event(0, 0, "gone", "expired", NOTIFY_EXPIRED);
    ck_assert_ptr_null(store_peek(db, "gone", 4)); /* really deleted */
    ck_assert_uint_eq(db->nexp, 0);
    ck_assert_uint_eq(dict_size(&db->keys), 0);

    /* The write lookup and exists expire lazily too. */
    store_add(db, str("w", "v"), "set", NOTIFY_STRING);
    store_set_expire(db, get(db, "w"), util_mstime() - 1, NULL);
    ck_assert_ptr_null(store_lookup_write(db, "w", 1));
    ck_assert_int_eq(g_store.stats.expired_keys, expired0 + 2);
    store_add(db, str("x", "v"), "set", NOTIFY_STRING);
    store_set_expire(db, get(db, "x"), util_mstime() - 1, NULL);
    ck_assert(!store_exists(db, "x", 1));
    ck_assert_int_eq(g_store.stats.expired_keys, expired0 + 3);
    ck_assert_int_eq(nexpired_ev, 3);

    /* A future TTL does not expire. */
    store_add(db, str("y", "v"), "set", NOTIFY_STRING);
    e = store_set_expire(db, get(db, "y"), util_mstime() + 100000, NULL);
    ck_assert(!store_is_expired(e));
    ck_assert_ptr_eq(get(db, "y"), e);
    ck_assert_int_eq(g_store.stats.expired_keys, expired0 + 3);

    /* A long key (beyond any small stack buffer) expires with its name intact. */
    {
        char k[600];
        memset(k, 'k', sizeof(k));
        store_add(db, kv_new_string(k, sizeof(k), "v", 1, true), "set", NOTIFY_STRING);
        store_set_expire(db, store_peek(db, k, sizeof(k)), util_mstime() - 1, NULL);
        reset_events();
        ck_assert_ptr_null(store_lookup_read(db, k, sizeof(k)));
        ck_assert_int_eq(nev, 1);
        ck_assert_str_eq(evs[0].name, "expired");
        ck_assert_int_eq(evs[0].klen, (long)sizeof(k));
    }
}
END_TEST

START_TEST(active_expiry)
{
    struct db *db = store_db(2);
    long long past = util_mstime() - 1000, future = util_mstime() + 3600 * 1000;
    long long expired0 = g_store.stats.expired_keys;
    int i, live = 0;
    const int nexpired = 20000, nlive = 2000;

    for (i = 0; i < nexpired + nlive; i++) {
        char k[32];
        struct kv *e;
        snprintf(k, sizeof(k), "%s:%d", i < nexpired ? "dead" : "live", i);
        e = str(k, "v");
        store_add(db, e, "set", NOTIFY_STRING);
        store_set_expire(db, e, i < nexpired ? past : future, NULL);
    }
    ck_assert_uint_eq(db->nexp, (size_t)(nexpired + nlive));
    /* A few cron ticks with a generous budget (100 ms each). */
    for (i = 0; i < 10; i++)
        store_cron(100000);

    ck_assert_msg(g_store.stats.expired_keys - expired0 >= nexpired * 9 / 10,
                  "active expiry removed only %lld of %d expired keys",
                  g_store.stats.expired_keys - expired0, nexpired);
    ck_assert_int_eq(nexpired_ev, g_store.stats.expired_keys - expired0);
    ck_assert_uint_eq(dict_size(&db->keys), (uint64_t)(nexpired + nlive) -
                                                (uint64_t)(g_store.stats.expired_keys - expired0));
    ck_assert_uint_eq(db->nexp, dict_size(&db->keys));
    /* Every live key is still there. */
    for (i = nexpired; i < nexpired + nlive; i++) {
        char k[32];
        snprintf(k, sizeof(k), "live:%d", i);
        if (store_peek(db, k, strlen(k))) live++;
    }
    ck_assert_int_eq(live, nlive);
    ck_assert(db->avg_ttl > 0);

    /* With active expiry off, cron leaves expired keys alone. */
    g_store.active_expire = false;
    expired0 = g_store.stats.expired_keys;
    store_add(db, str("late", "v"), "set", NOTIFY_STRING);
    store_set_expire(db, get(db, "late"), past, NULL);
    store_cron(100000);
    ck_assert_int_eq(g_store.stats.expired_keys, expired0);
    ck_assert_ptr_nonnull(store_peek(db, "late", 4));
}
END_TEST

static void fill(struct db *db, const char *prefix, int n, int with_ttl_every)
{
    int i;
    for (i = 0; i < n; i++) {
        char k[32];
        struct kv *e;
        snprintf(k, sizeof(k), "%s%d", prefix, i);
        e = str(k, i % 3 ? "value" : "123");
        store_add(db, e, "set", NOTIFY_STRING);
        if (with_ttl_every && i % with_ttl_every == 0)
            store_set_expire(db, e, util_mstime() + 100000, NULL);
    }
}

START_TEST(flushdb_sync)
{
    struct db *db = store_db(4);
    fill(db, "k", 100, 3);
    fill(store_db(5), "other", 10, 0);
    reset_events();
    ck_assert_int_eq(store_flushdb(db, false), 100);
    ck_assert_uint_eq(dict_size(&db->keys), 0);
    ck_assert_uint_eq(db->nexp, 0);
    ck_assert_ptr_null(get(db, "k1"));
    ck_assert_uint_eq(dict_size(&store_db(5)->keys), 10); /* other dbs untouched */
    ck_assert_int_eq(nev, 1);
    expect_event(0, 4, NULL, "flushdb", NOTIFY_GENERIC);
    /* usable again, TTLs included */
    fill(db, "k", 10, 2);
    ck_assert_uint_eq(dict_size(&db->keys), 10);
    ck_assert_uint_eq(db->nexp, 5);
    ck_assert_int_eq(store_flushdb(db, false), 10);
    ck_assert_int_eq(store_flushdb(db, false), 0);
}
END_TEST

START_TEST(flushdb_async)
{
    struct db *db = store_db(4);
    long long n;
    fill(db, "k", 5000, 4);
    reset_events();
    n = store_flushdb(db, true);
    ck_assert_int_eq(n, 5000);
    ck_assert_uint_eq(dict_size(&db->keys), 0);
    ck_assert_uint_eq(db->nexp, 0);
    ck_assert_ptr_null(get(db, "k1"));
    ck_assert_int_eq(nev, 1);
    expect_event(0, 4, NULL, "flushdb", NOTIFY_GENERIC);
    /* The database is immediately usable while the old one is freed. */
    fill(db, "k", 2000, 2);
    ck_assert_uint_eq(dict_size(&db->keys), 2000);
    expect_value(get(db, "k1"), "value");
    ck_assert_int_eq(store_flushdb(db, true), 2000);
    /* a small database is freed inline */
    fill(db, "s", 3, 0);
    ck_assert_int_eq(store_flushdb(db, true), 3);
    usleep(200 * 1000); /* let the background frees finish before exit */
}
END_TEST

START_TEST(swapdb)
{
    struct db *a = store_db(0), *b = store_db(1);
    struct kv *e;
    fill(a, "a", 10, 0);
    fill(b, "b", 20, 0);
    store_add(b, str("ttl", "v"), "set", NOTIFY_STRING);
    e = store_set_expire(b, get(b, "ttl"), util_mstime() + 100000, NULL);
    store_add(b, str("dead", "v"), "set", NOTIFY_STRING);
    store_set_expire(b, get(b, "dead"), util_mstime() - 1, NULL);
    reset_events();
    store_swapdb(0, 1);
    ck_assert_int_eq(nev, 1);
    ck_assert_str_eq(evs[0].name, "swapdb");
    ck_assert_int_eq(evs[0].klen, -1);
    ck_assert((evs[0].db == 0 && evs[0].db2 == 1) || (evs[0].db == 1 && evs[0].db2 == 0));

    a = store_db(0);
    b = store_db(1);
    ck_assert_int_eq(a->id, 0);
    ck_assert_int_eq(b->id, 1);
    ck_assert_uint_eq(dict_size(&a->keys), 22);
    ck_assert_uint_eq(dict_size(&b->keys), 10);
    ck_assert_ptr_nonnull(get(a, "b3"));
    ck_assert_ptr_null(get(a, "a3"));
    ck_assert_ptr_nonnull(get(b, "a3"));
    ck_assert_ptr_eq(get(a, "ttl"), e);
    ck_assert_int_eq(a->nexp, 2);
    ck_assert_int_eq(b->nexp, 0);

    /* Expiry follows the keys: the expired one goes from db 0 now. */
    reset_events();
    store_cron(100000);
    ck_assert_ptr_null(store_peek(a, "dead", 4));
    ck_assert_int_eq(nev, 1);
    expect_event(0, 0, "dead", "expired", NOTIFY_EXPIRED);
    ck_assert_ptr_nonnull(store_peek(a, "ttl", 3));

    /* Swap back: both databases return. */
    store_swapdb(1, 0);
    ck_assert_ptr_nonnull(get(store_db(0), "a3"));
    ck_assert_ptr_nonnull(get(store_db(1), "b3"));
    ck_assert_int_eq(store_db(0)->id, 0);
    ck_assert_int_eq(store_db(1)->id, 1);
    /* Swapping a database with itself changes nothing. */
    store_swapdb(2, 2);
    ck_assert_int_eq(store_db(2)->id, 2);
}
END_TEST

/* repl-diskless-load swapdb's side set: filled with no event, swapped in
 * with one "swapmain" per database (db: the new content, db2: the old),
 * the old content then in the side set, freed with it. */
START_TEST(side_set_swap_main)
{
    struct db *side = store_side_new(), *main0 = store_db(0);
    long long nnew_before = nnew;
    int i;
    fill(main0, "old", 10, 2);
    fill(store_db(3), "old3_", 4, 0);
    reset_events();
    nnew_before = nnew;
    fill(&side[0], "new", 30, 3);
    fill(&side[3], "new3_", 5, 0);
    ck_assert_int_eq(nev, 0); /* a side database emits nothing */
    ck_assert_int_eq(nnew, nnew_before);
    ck_assert_int_eq(side[0].id, 0);
    /* the main databases still answer with the old data */
    ck_assert_ptr_nonnull(get(main0, "old1"));
    ck_assert_ptr_null(get(main0, "new1"));
    reset_events();
    store_swap_main(side);
    ck_assert_int_eq(nev, g_store.ndb);
    for (i = 0; i < g_store.ndb; i++) {
        expect_event(i, i, NULL, "swapmain", NOTIFY_GENERIC);
        ck_assert_int_eq(evs[i].db2, i);
    }
    ck_assert_ptr_eq(store_db(0), main0); /* the same slot, new content */
    ck_assert_uint_eq(dict_size(&main0->keys), 30);
    ck_assert_uint_eq(main0->nexp, 10);
    ck_assert_ptr_nonnull(get(main0, "new1"));
    ck_assert_ptr_null(get(main0, "old1"));
    ck_assert_uint_eq(dict_size(&store_db(3)->keys), 5);
    ck_assert_uint_eq(dict_size(&side[0].keys), 10);
    ck_assert_uint_eq(side[0].nexp, 5);
    ck_assert_ptr_nonnull(store_peek(&side[3], "old3_1", 6));
    /* the main databases emit again, the side ones (old content) do not */
    reset_events();
    del(main0, "new1");
    ck_assert_int_eq(nev, 1);
    del(&side[0], "old2");
    ck_assert_int_eq(nev, 1);
    store_side_free(side, true);
    store_side_free(NULL, true);
    usleep(100 * 1000); /* the lazy-free thread */
}
END_TEST

START_TEST(events_for_mutations)
{
    struct db *db = store_db(7), *db8 = store_db(8);
    long long dirty0 = g_store.stats.dirty, emitted0 = g_store.stats.events_emitted;
    long side0 = nnew + nkeymiss;
    struct kv *e;
    int i = 0;

    reset_events();
    store_add(db, str("k", "v"), "set", NOTIFY_STRING);
    expect_event(i++, 7, "k", "set", NOTIFY_STRING);
    e = store_set(db, str("k", "w"), false, "set", NOTIFY_STRING);
    expect_event(i++, 7, "k", "set", NOTIFY_STRING);
    e = store_set(db, str("n", "5"), false, "incrby", NOTIFY_STRING);
    expect_event(i++, 7, "n", "incrby", NOTIFY_STRING);
    e = store_set_expire(db, get(db, "k"), util_mstime() + 5000, "expire");
    expect_event(i++, 7, "k", "expire", NOTIFY_GENERIC);
    e = store_set_expire(db, e, util_mstime() + 9000, "expire");
    expect_event(i++, 7, "k", "expire", NOTIFY_GENERIC);
    e = store_persist(db, e, "persist");
    expect_event(i++, 7, "k", "persist", NOTIFY_GENERIC);

    /* APPEND: unshare, change in place, then one event. */
    {
        struct rstr *s = store_string_unshare(e, 10);
        ck_assert_int_eq(e->enc, ENC_RAW);
        ck_assert_uint_ge(s->cap, 10);
        ck_assert_uint_eq(s->len, 1);
        ck_assert_int_eq(s->buf[0], 'w');
        memcpy(s->buf + 1, "xyz", 3);
        s->len = 4;
        ck_assert_int_eq(nev, i); /* no event yet */
        store_modified(db, e, "append", NOTIFY_STRING);
        expect_event(i++, 7, "k", "append", NOTIFY_STRING);
        expect_value(get(db, "k"), "wxyz");
        /* unsharing an integer value */
        s = store_string_unshare(get(db, "n"), 3);
        ck_assert_uint_eq(s->len, 1);
        ck_assert_int_eq(s->buf[0], '5');
        store_modified(db, get(db, "n"), "setrange", NOTIFY_STRING);
        expect_event(i++, 7, "n", "setrange", NOTIFY_STRING);
        expect_value(get(db, "n"), "5");
    }

    /* RENAME: unlink (no event), then the two events of RENAME. */
    e = store_set_expire(db, get(db, "k"), util_mstime() + 7000, NULL);
    ck_assert_int_eq(nev, i);
    {
        long long when = kv_expire(e);
        struct kv *moved = store_unlink(db, e);
        struct kv *renamed;
        ck_assert_ptr_eq(moved, e);
        ck_assert_int_eq(nev, i);
        ck_assert_ptr_null(get(db, "k"));
        store_emit(db, "k", 1, "rename_from", NOTIFY_GENERIC);
        expect_event(i++, 7, "k", "rename_from", NOTIFY_GENERIC);
        renamed = kv_dup(moved, "k2", 2);
        renamed = store_set(db, renamed, false, NULL, 0);
        renamed = store_set_expire(db, renamed, when, NULL);
        kv_free(moved);
        store_emit(db, "k2", 2, "rename_to", NOTIFY_GENERIC);
        expect_event(i++, 7, "k2", "rename_to", NOTIFY_GENERIC);
        ck_assert_int_eq(kv_expire(get(db, "k2")), when);
    }

    /* MOVE: unlink from db 7, relink into db 8 with the TTL kept. */
    {
        struct kv *m = get(db, "k2");
        long long when = kv_expire(m);
        m = store_unlink(db, m);
        store_emit(db, "k2", 2, "move_from", NOTIFY_GENERIC);
        expect_event(i++, 7, "k2", "move_from", NOTIFY_GENERIC);
        store_relink(db8, m, "move_to", NOTIFY_GENERIC);
        expect_event(i++, 8, "k2", "move_to", NOTIFY_GENERIC);
        ck_assert_ptr_null(store_peek(db, "k2", 2));
        ck_assert_ptr_eq(get(db8, "k2"), m);
        ck_assert_int_eq(kv_expire(m), when);
        ck_assert_uint_eq(db->nexp, 0);
        ck_assert_uint_eq(db8->nexp, 1);
        /* and it still expires from its new home */
        m = store_set_expire(db8, m, util_mstime() - 1, NULL);
        ck_assert_ptr_null(get(db8, "k2"));
        expect_event(i++, 8, "k2", "expired", NOTIFY_EXPIRED);
        ck_assert_uint_eq(db8->nexp, 0);
    }

    /* COPY: a duplicate under a new key. */
    e = kv_dup(get(db, "n"), "n2", 2);
    store_add(db, e, "copy_to", NOTIFY_GENERIC);
    expect_event(i++, 7, "n2", "copy_to", NOTIFY_GENERIC);
    expect_value(get(db, "n2"), "5");

    /* DEL, and an ev of NULL (internal half of a compound op): no event. */
    ck_assert(del(db, "n2"));
    expect_event(i++, 7, "n2", "del", NOTIFY_GENERIC);
    ck_assert(store_delete(db, "n", 1, NULL, 0));
    store_add(db, str("quiet", "v"), NULL, 0);
    store_set(db, str("quiet", "v2"), false, NULL, 0);
    ck_assert_int_eq(nev, i);
    ck_assert(!del(db, "missing")); /* nothing deleted, nothing emitted */
    ck_assert_int_eq(nev, i);

    ck_assert_int_eq(g_store.stats.events_emitted - emitted0 - (nnew + nkeymiss - side0), i);
    ck_assert_int_eq(total, i);
    ck_assert(g_store.stats.dirty - dirty0 >= i);
}
END_TEST

static int order_log[8], norder;
static void first_obs(const struct store_event *ev, void *priv)
{
    (void)ev;
    (void)priv;
    order_log[norder++ & 7] = 1;
}
static void second_obs(const struct store_event *ev, void *priv)
{
    (void)ev;
    (void)priv;
    order_log[norder++ & 7] = 2;
}

START_TEST(observers_in_order)
{
    store_observe(first_obs, NULL);
    store_observe(second_obs, NULL);
    norder = 0;
    store_emit(store_db(0), "x", 1, "custom", NOTIFY_GENERIC);
    ck_assert_int_eq(norder, 2);
    ck_assert_int_eq(order_log[0], 1);
    ck_assert_int_eq(order_log[1], 2);
    ck_assert_int_eq(nev, 1); /* the recorder registered first saw it too */
    expect_event(0, 0, "x", "custom", NOTIFY_GENERIC);
}
END_TEST

START_TEST(lru_and_idle)
{
    struct db *db = store_db(0);
    struct kv *e;
    store_add(db, str("k", "v"), "set", NOTIFY_STRING);
    e = get(db, "k");
    ck_assert_uint_eq(e->lru, g_store.lruclock);
    ck_assert_uint_lt(store_idle_ms(e), 2000);
    e->lru = (g_store.lruclock - 10) & KV_LRU_MAX;
    ck_assert_uint_eq(store_idle_ms(e), 10000);
    store_peek(db, "k", 1); /* peek does not touch */
    ck_assert_uint_eq(store_idle_ms(e), 10000);
    get(db, "k");
    ck_assert_uint_lt(store_idle_ms(e), 2000);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = unit_tcase("keyspace", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, set_get_delete);
    tcase_add_test(tc, set_replaces_and_keepttl);
    tcase_add_test(tc, set_expire_moves_entry);
    tcase_add_test(tc, lru_and_idle);
    suite_add_tcase(s, tc);

    tc = unit_tcase("expiry", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lazy_expiry);
    tcase_add_test(tc, active_expiry);
    suite_add_tcase(s, tc);

    tc = unit_tcase("databases", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, flushdb_sync);
    tcase_add_test(tc, flushdb_async);
    tcase_add_test(tc, swapdb);
    tcase_add_test(tc, side_set_swap_main);
    suite_add_tcase(s, tc);

    tc = unit_tcase("events", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, events_for_mutations);
    tcase_add_test(tc, new_and_keymiss_events);
    tcase_add_test(tc, observers_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(store_suite());
}
