/* test_hash.c — unit tests for core/types/t_hash.c: get/set/delete in both
 * encodings, listpack -> hashtable conversion on each threshold (field
 * count, field length, value length, hashTypeTryConversion's look-ahead),
 * iteration, random picks, the HSCAN step, the free/dup hooks, a randomized
 * run against a plain array model across conversions; and the handlers
 * driven through the kernel with a recording sink: replies and the store
 * events each command emits (hset, hdel + del, hincrby, hincrbyfloat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kernel.h"
#include "object.h"
#include "store.h"
#include "t_hash.h"
#include "util.h"
#include "registry.h"
#include "rec_sink.h"
#include "unit.h"

static void limits(long long entries, long long value)
{
    g_config.hash_max_listpack_entries = entries;
    g_config.hash_max_listpack_value = value;
}

static struct kv *new_hash(void)
{
    return hash_new_kv("h", 1);
}

static bool get_is(struct kv *e, const char *f, const char *want)
{
    struct hval v;
    if (!hash_get(e, f, strlen(f), &v)) return want == NULL;
    return want && v.n == strlen(want) && memcmp(v.p, want, v.n) == 0;
}

static bool set(struct kv *e, const char *f, const char *v)
{
    return hash_set(e, f, strlen(f), v, strlen(v));
}

START_TEST(listpack_basics)
{
    struct kv *e;
    struct hval v;
    limits(128, 64);
    e = new_hash();
    ck_assert_int_eq(e->type, OBJ_HASH);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    ck_assert_uint_eq(hash_len(e), 0);
    ck_assert(set(e, "a", "1"));
    ck_assert(set(e, "b", "hello"));
    ck_assert(set(e, "-5", "-123456789012"));
    ck_assert(!set(e, "a", "one")); /* update: not new */
    ck_assert_uint_eq(hash_len(e), 3);
    ck_assert(get_is(e, "a", "one"));
    ck_assert(get_is(e, "b", "hello"));
    ck_assert(get_is(e, "-5", "-123456789012"));
    ck_assert(get_is(e, "c", NULL));
    ck_assert(hash_get(e, "-5", 2, &v));
    ck_assert(v.isint);
    ck_assert_int_eq(v.ll, -123456789012LL);
    ck_assert_uint_eq(hash_strlen(e, "-5", 2), 13);
    ck_assert_uint_eq(hash_strlen(e, "zz", 2), 0);
    ck_assert(hash_exists(e, "b", 1));
    ck_assert(!hash_exists(e, "1", 1)); /* values are not fields */
    ck_assert(hash_delete(e, "b", 1));
    ck_assert(!hash_delete(e, "b", 1));
    ck_assert_uint_eq(hash_len(e), 2);
    ck_assert(get_is(e, "a", "one"));
    ck_assert(get_is(e, "-5", "-123456789012"));
    /* non-canonical integers stay strings, byte for byte */
    ck_assert(set(e, "007", "+1"));
    ck_assert(get_is(e, "007", "+1"));
    ck_assert(get_is(e, "7", NULL));
    ck_assert(set(e, "", ""));
    ck_assert(get_is(e, "", ""));
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    kv_free(e);
}
END_TEST

START_TEST(convert_on_entries)
{
    struct kv *e;
    char f[32], v[32];
    int i;
    limits(8, 64);
    e = new_hash();
    for (i = 0; i < 8; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        snprintf(v, sizeof(v), "%d", i * 7);
        ck_assert(set(e, f, v));
    }
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    ck_assert(!set(e, "f0", "updated")); /* updates never convert */
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    ck_assert(set(e, "f8", "x"));
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    ck_assert_uint_eq(hash_len(e), 9);
    ck_assert(get_is(e, "f0", "updated"));
    for (i = 1; i < 8; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        snprintf(v, sizeof(v), "%d", i * 7);
        ck_assert(get_is(e, f, v));
    }
    /* never converts back */
    for (i = 0; i < 9; i++) {
        snprintf(f, sizeof(f), "f%d", i);
        ck_assert(hash_delete(e, f, strlen(f)));
    }
    ck_assert_uint_eq(hash_len(e), 0);
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    kv_free(e);
}
END_TEST

START_TEST(convert_on_lengths)
{
    struct kv *e;
    char big[66];
    limits(128, 64);
    memset(big, 'x', 65);
    big[65] = 0;

    e = new_hash(); /* a value of exactly 64 bytes fits */
    big[64] = 0;
    ck_assert(set(e, "a", big));
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    big[64] = 'x';
    ck_assert(!set(e, "a", big)); /* 65: converts */
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    ck_assert(get_is(e, "a", big));
    kv_free(e);

    e = new_hash(); /* a long field converts too (HINCRBY's path) */
    ck_assert(set(e, "a", "1"));
    ck_assert(set(e, big, "1"));
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    ck_assert(get_is(e, "a", "1"));
    ck_assert(get_is(e, big, "1"));
    kv_free(e);

    e = new_hash(); /* the look-ahead: any word too long converts first */
    hash_try_convert(e, 64, 128);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    hash_try_convert(e, 65, 65);
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    hash_try_convert(e, 65, 65); /* no-op once a table */
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    kv_free(e);

    e = new_hash(); /* a listpack never grows past 1 GB */
    hash_try_convert(e, 1, (1ULL << 30));
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    kv_free(e);

    limits(0, 64); /* zero entries: the first field converts */
    e = new_hash();
    ck_assert(set(e, "a", "1"));
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    kv_free(e);
}
END_TEST

START_TEST(hashtable_updates)
{
    struct kv *e;
    char f[32];
    int i;
    limits(0, 64);
    e = new_hash();
    for (i = 0; i < 1000; i++) {
        snprintf(f, sizeof(f), "field:%d", i);
        ck_assert(set(e, f, "abc"));
    }
    ck_assert_uint_eq(hash_len(e), 1000);
    ck_assert(!set(e, "field:5", "xyz"));        /* same length: in place */
    ck_assert(!set(e, "field:6", "longer one")); /* new node */
    ck_assert(!set(e, "field:7", ""));
    ck_assert(get_is(e, "field:5", "xyz"));
    ck_assert(get_is(e, "field:6", "longer one"));
    ck_assert(get_is(e, "field:7", ""));
    ck_assert_uint_eq(hash_strlen(e, "field:6", 7), 10);
    for (i = 0; i < 990; i++) {
        snprintf(f, sizeof(f), "field:%d", i);
        ck_assert(hash_delete(e, f, strlen(f)));
    }
    ck_assert_uint_eq(hash_len(e), 10);
    for (i = 990; i < 1000; i++) {
        snprintf(f, sizeof(f), "field:%d", i);
        ck_assert(get_is(e, f, "abc"));
    }
    kv_free(e);
}
END_TEST

/* Iterate and check every pair against field:i -> value i. */
static void check_iter(struct kv *e, int n)
{
    struct hash_iter it;
    struct hval f, v;
    char *seen = calloc((size_t)n, 1);
    int count = 0;
    hash_iter_init(&it, e);
    while (hash_iter_next(&it, &f, &v)) {
        long long fi, vi;
        ck_assert(f.n > 2 && memcmp(f.p, "f:", 2) == 0);
        ck_assert(util_str2ll(f.p + 2, f.n - 2, &fi));
        ck_assert(util_str2ll(v.p, v.n, &vi));
        ck_assert_int_eq(fi, vi);
        ck_assert(fi >= 0 && fi < n && !seen[fi]);
        seen[fi] = 1;
        count++;
    }
    hash_iter_done(&it);
    ck_assert_int_eq(count, n);
    free(seen);
}

static struct kv *filled(int n)
{
    struct kv *e = new_hash();
    char f[32], v[32];
    int i;
    for (i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "f:%d", i);
        snprintf(v, sizeof(v), "%d", i);
        set(e, f, v);
    }
    return e;
}

START_TEST(iterate_both_encodings)
{
    struct kv *e;
    limits(128, 64);
    e = filled(100);
    ck_assert_int_eq(e->enc, ENC_LISTPACK);
    check_iter(e, 100);
    kv_free(e);
    e = filled(5000);
    ck_assert_int_eq(e->enc, ENC_HASHTABLE);
    check_iter(e, 5000);
    kv_free(e);
    e = filled(0);
    check_iter(e, 0);
    kv_free(e);
}
END_TEST

START_TEST(dup_and_free)
{
    struct kv *e, *c;
    limits(128, 64);
    e = filled(50);
    c = kv_dup(e, "copy", 4);
    ck_assert_int_eq(c->enc, ENC_LISTPACK);
    ck_assert_ptr_ne(c->v.ptr, e->v.ptr);
    set(e, "f:1", "changed");
    check_iter(c, 50); /* deep copy: untouched */
    kv_free(e);
    kv_free(c);

    e = filled(3000);
    c = kv_dup(e, "copy", 4);
    ck_assert_int_eq(c->enc, ENC_HASHTABLE);
    set(e, "f:1", "changed");
    hash_delete(e, "f:2", 3);
    check_iter(c, 3000);
    kv_free(e);
    kv_free(c);
}
END_TEST

START_TEST(random_and_views)
{
    int enc_round;
    limits(128, 64);
    for (enc_round = 0; enc_round < 2; enc_round++) {
        int n = enc_round ? 1000 : 40, i;
        struct kv *e = filled(n);
        struct hval *fs = malloc(sizeof(*fs) * (size_t)n), *vs = malloc(sizeof(*vs) * (size_t)n);
        char *seen = calloc((size_t)n, 1);
        int distinct = 0;
        for (i = 0; i < 100 * n; i++) { /* bucket-uniform picks: be generous */
            struct hval f, v;
            long long fi, vi;
            hash_random(e, &f, &v);
            ck_assert(util_str2ll(f.p + 2, f.n - 2, &fi));
            ck_assert(util_str2ll(v.p, v.n, &vi));
            ck_assert_int_eq(fi, vi);
            if (!seen[fi]) distinct++;
            seen[fi] = 1;
        }
        ck_assert_int_eq(distinct, n); /* every pair shows up */
        hash_views(e, fs, vs);
        memset(seen, 0, (size_t)n);
        for (i = 0; i < n; i++) {
            long long fi, vi;
            ck_assert(util_str2ll(fs[i].p + 2, fs[i].n - 2, &fi));
            ck_assert(util_str2ll(vs[i].p, vs[i].n, &vi)); /* views of ints stay valid */
            ck_assert_int_eq(fi, vi);
            ck_assert(!seen[fi]);
            seen[fi] = 1;
        }
        free(fs);
        free(vs);
        free(seen);
        kv_free(e);
    }
}
END_TEST

static void scan_mark(void *priv, struct dnode *n)
{
    struct hfield *h = (struct hfield *)n;
    int *seen = priv;
    long long fi;
    ck_assert(util_str2ll(h->data + 2, h->flen - 2, &fi));
    seen[fi]++;
}

START_TEST(scan_visits_all)
{
    struct kv *e;
    int *seen, i, n = 2000, calls = 0;
    uint64_t cursor = 0;
    limits(16, 64);
    e = filled(n);
    seen = calloc((size_t)n, sizeof(int));
    do {
        cursor = hash_scan(e, cursor, scan_mark, seen);
        calls++;
    } while (cursor);
    ck_assert(calls > 1);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(seen[i], 1); /* no resize: exactly once */
    free(seen);
    kv_free(e);
}
END_TEST

/* A model: parallel arrays of field/value strings, linear search. */
struct model {
    char **f, **v;
    int n, cap;
};

static int model_find(struct model *m, const char *f)
{
    int i;
    for (i = 0; i < m->n; i++)
        if (strcmp(m->f[i], f) == 0) return i;
    return -1;
}

START_TEST(randomized_against_model)
{
    struct model m = {NULL, NULL, 0, 0};
    struct kv *e;
    int step, i;
    unsigned seed = 12345;
    limits(32, 16);
    e = new_hash();
    for (step = 0; step < 20000; step++) {
        char f[16], v[48];
        int op = (int)(rand_r(&seed) % 10), at;
        int vlen = (int)(rand_r(&seed) % 20);
        snprintf(f, sizeof(f), "k%u", rand_r(&seed) % 60);
        if (rand_r(&seed) % 3 == 0)
            snprintf(v, sizeof(v), "%d", (int)(rand_r(&seed) % 2000) - 1000);
        else {
            for (i = 0; i < vlen; i++)
                v[i] = (char)('a' + rand_r(&seed) % 26);
            v[vlen] = 0;
        }
        at = model_find(&m, f);
        if (op < 6) {
            ck_assert_int_eq(set(e, f, v), at < 0);
            if (at < 0) {
                if (m.n == m.cap) {
                    m.cap = m.cap ? m.cap * 2 : 16;
                    m.f = realloc(m.f, sizeof(char *) * (size_t)m.cap);
                    m.v = realloc(m.v, sizeof(char *) * (size_t)m.cap);
                }
                m.f[m.n] = strdup(f);
                m.v[m.n++] = strdup(v);
            } else {
                free(m.v[at]);
                m.v[at] = strdup(v);
            }
        } else if (op < 9) {
            ck_assert_int_eq(hash_delete(e, f, strlen(f)), at >= 0);
            if (at >= 0) {
                free(m.f[at]);
                free(m.v[at]);
                m.f[at] = m.f[m.n - 1];
                m.v[at] = m.v[m.n - 1];
                m.n--;
            }
        } else {
            ck_assert(get_is(e, f, at >= 0 ? m.v[at] : NULL));
        }
        ck_assert_uint_eq(hash_len(e), (unsigned long)m.n);
        if (step % 5000 == 4999) {
            /* start over with a fresh hash now and then: both encodings get used */
            for (i = 0; i < m.n; i++)
                ck_assert(get_is(e, m.f[i], m.v[i]));
            kv_free(e);
            e = new_hash();
            for (i = 0; i < m.n; i++) {
                free(m.f[i]);
                free(m.v[i]);
            }
            m.n = 0;
        }
    }
    for (i = 0; i < m.n; i++) {
        ck_assert(get_is(e, m.f[i], m.v[i]));
        free(m.f[i]);
        free(m.v[i]);
    }
    free(m.f);
    free(m.v);
    kv_free(e);
}
END_TEST

/* ------------------------------------------------ handlers via the kernel */

#define MAX_EV 64
static char evname[MAX_EV][32], evkey[MAX_EV][32];
static int evclass[MAX_EV], nev;

static void observer(const struct store_event *ev, void *priv)
{
    (void)priv;
    /* "new" and "keymiss" accompany creations and read misses (notify
     * classes n and m); test_store checks them, these tests the command's own. */
    if (ev->klass == NOTIFY_NEW || ev->klass == NOTIFY_KEY_MISS) return;
    if (nev < MAX_EV && ev->key) {
        snprintf(evname[nev], sizeof(evname[nev]), "%s", ev->name);
        snprintf(evkey[nev], sizeof(evkey[nev]), "%.*s", (int)ev->klen, ev->key);
        evclass[nev] = ev->klass;
        nev++;
    }
}

static struct rec_sink sink; /* the replies of run()'s command */

static struct client *cli;

static void h_setup(void)
{
    limits(512, 64);
    store_init(16);
    kernel_init();
    store_observe(observer, NULL);
    cli = client_new(NULL, &sink, &rec_sink_ops);
}

static void h_teardown(void)
{
    client_free(cli);
    store_shutdown();
}

/* Run one command line; return its rendered reply. Events are reset. */
static const char *run(const char *line)
{
    char **w;
    size_t *l;
    static struct argv_ref argv[1024];
    int n = util_split_args(line, strlen(line), &w, &l), i;
    ck_assert_msg(n > 0 && n <= 1024, "bad line %s", line);
    for (i = 0; i < n; i++) {
        argv[i].p = w[i];
        argv[i].n = l[i];
    }
    rec_sink_reset(&sink);
    nev = 0;
    kernel_submit(cli, n, argv);
    util_free_words(w, l, n);
    return sink.out;
}

static void expect(const char *line, const char *want)
{
    const char *got = run(line);
    ck_assert_msg(strcmp(got, want) == 0, "%s: got [%s], want [%s]", line, got, want);
}

/* spec: "hset:h del:h" — names, keys and classes in order. */
static void expect_events(const char *spec)
{
    char buf[512], *save = NULL, *tok;
    int i = 0;
    snprintf(buf, sizeof(buf), "%s", spec);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
        char *colon = strchr(tok, ':');
        ck_assert_msg(i < nev, "event %d (%s) missing (%d events)", i, tok, nev);
        *colon = 0;
        ck_assert_str_eq(evname[i], tok);
        ck_assert_str_eq(evkey[i], colon + 1);
        ck_assert_int_eq(evclass[i], strcmp(tok, "del") == 0 ? NOTIFY_GENERIC : NOTIFY_HASH);
    }
    ck_assert_msg(i == nev, "%d events, expected %d (%s)", nev, i, spec);
}

static int enc_of(const char *key)
{
    struct kv *e = store_peek(store_db(0), key, strlen(key));
    return e ? (int)e->enc : -1;
}

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"

START_TEST(h_set_events)
{
    expect("HSET h a 1 b 2", "2");
    expect_events("hset:h");
    ck_assert_int_eq(enc_of("h"), ENC_LISTPACK);
    expect("HSET h a 1", "0");
    expect_events("hset:h"); /* Redis signals even when nothing changed */
    expect("HMSET h c 3", "+OK");
    expect_events("hset:h");
    expect("HSETNX h a 9", "0");
    expect_events("");
    expect("HSETNX h d 4", "1");
    expect_events("hset:h");
    expect("HSETNX n x 1", "1");
    expect_events("hset:n");
    expect("HSET h a", "-ERR wrong number of arguments for 'hset' command");
    expect("HSET h a 1 b", "-ERR wrong number of arguments for 'hset' command");
    expect("HMSET h a 1 b", "-ERR wrong number of arguments for 'hmset' command");
    expect_events("");
    expect("SET s v", "+OK");
    expect("HSET s a 1", WRONGTYPE);
    expect("HSETNX s a 1", WRONGTYPE);
    expect_events("");
    expect("HGETALL h", "%4 \"a\" \"1\" \"b\" \"2\" \"c\" \"3\" \"d\" \"4\"");
    expect_events("");
}
END_TEST

START_TEST(h_del_events)
{
    expect("HSET h a 1 b 2 c 3", "3");
    expect("HDEL h zz", "0");
    expect_events("");
    expect("HDEL h a zz", "1");
    expect_events("hdel:h");
    expect("HDEL h b c d", "2");
    expect_events("hdel:h del:h");
    ck_assert_int_eq(enc_of("h"), -1);
    expect("HDEL h a", "0");
    expect_events("");
    /* a hashtable emptied the same way */
    limits(128, 64);
    {
        char line[8192];
        size_t n = (size_t)snprintf(line, sizeof(line), "HSET big");
        int i;
        for (i = 0; i < 300; i++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, " f%d %d", i, i);
        ck_assert_str_eq(run(line), "300");
        ck_assert_int_eq(enc_of("big"), ENC_HASHTABLE);
        n = (size_t)snprintf(line, sizeof(line), "HDEL big");
        for (i = 0; i < 300; i++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, " f%d", i);
        ck_assert_str_eq(run(line), "300");
        expect_events("hdel:big del:big");
        ck_assert_int_eq(enc_of("big"), -1);
    }
}
END_TEST

START_TEST(h_incr_events)
{
    expect("HINCRBY h n 5", "5");
    expect_events("hincrby:h");
    expect("HINCRBY h n -7", "-2");
    expect_events("hincrby:h");
    expect("HINCRBY h n x", "-ERR value is not an integer or out of range");
    expect("HINCRBY h n 9223372036854775807", "9223372036854775805");
    expect("HINCRBY h n 9", "-ERR increment or decrement would overflow");
    expect_events("");
    expect("HSET h s abc", "1");
    expect("HINCRBY h s 1", "-ERR hash value is not an integer");
    expect("HINCRBYFLOAT h s 1", "-ERR hash value is not a float");
    expect_events("");
    expect("HINCRBYFLOAT h f 1.5", "\"1.5\"");
    expect_events("hincrbyfloat:h");
    expect("HINCRBYFLOAT h f inf", "-ERR value is NaN or Infinity");
    expect("HINCRBYFLOAT h f abc", "-ERR value is not a valid float");
    expect("HSET h big 1e4932", "1"); /* near the long double maximum */
    expect("HINCRBYFLOAT h big 1e4932", "-ERR increment would produce NaN or Infinity");
    expect_events("");
    /* new keys: created with the value, one event, nothing left on errors */
    expect("HINCRBYFLOAT n2 f 2.5", "\"2.5\"");
    expect_events("hincrbyfloat:n2");
    expect("HINCRBYFLOAT n3 f nan", "-ERR value is not a valid float");
    ck_assert_int_eq(enc_of("n3"), -1);
    expect("HINCRBY n4 f 1", "1");
    expect_events("hincrby:n4");
    expect("SET s v", "+OK");
    expect("HINCRBY s f 1", WRONGTYPE);
    expect("HINCRBYFLOAT s f 1", WRONGTYPE);
    expect_events("");
}
END_TEST

START_TEST(h_read_commands)
{
    expect("HSET h a 1 b hello c ''", "3");
    expect("HGET h b", "\"hello\"");
    expect("HGET h x", "nil");
    expect("HGET nokey x", "nil");
    expect("HMGET h a x c", "*3 \"1\" nil \"\"");
    expect("HMGET nokey a", "*1 nil");
    expect("HLEN h", "3");
    expect("HSTRLEN h b", "5");
    expect("HEXISTS h c", "1");
    expect("HKEYS h", "*3 \"a\" \"b\" \"c\"");
    expect("HVALS h", "*3 \"1\" \"hello\" \"\"");
    expect("HGETALL h", "%3 \"a\" \"1\" \"b\" \"hello\" \"c\" \"\"");
    expect("HGETALL nokey", "%0");
    expect("HKEYS nokey", "*0");
    expect("HSCAN h 0", "*2 \"0\" *6 \"a\" \"1\" \"b\" \"hello\" \"c\" \"\"");
    expect("HSCAN h 0 MATCH [ab]", "*2 \"0\" *4 \"a\" \"1\" \"b\" \"hello\"");
    expect("HSCAN nokey 0", "*2 \"0\" *0");
    expect("HSCAN h x", "-ERR invalid cursor");
    expect("HSCAN h 0 COUNT 0", "-ERR syntax error");
    expect("HRANDFIELD h 3", "*3 \"a\" \"b\" \"c\"");
    expect("HRANDFIELD h 0", "*0");
    expect("HRANDFIELD nokey", "nil");
    expect("HRANDFIELD h 1 WITHVALUES x", "-ERR syntax error");
    expect_events("");
    expect("SET s v", "+OK");
    expect("HGET s a", WRONGTYPE);
    expect("HSCAN s 0", WRONGTYPE);
    expect("HRANDFIELD s", WRONGTYPE);
}
END_TEST

START_TEST(h_copy_and_encoding)
{
    expect("HSET h a 1", "1");
    expect("COPY h h2", "1");
    ck_assert_int_eq(enc_of("h2"), ENC_LISTPACK);
    expect("HSET h2 long xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
           "1");
    ck_assert_int_eq(enc_of("h2"), ENC_HASHTABLE);
    ck_assert_int_eq(enc_of("h"), ENC_LISTPACK);
    expect("OBJECT ENCODING h2", "\"hashtable\"");
    expect("COPY h2 h3", "1");
    ck_assert_int_eq(enc_of("h3"), ENC_HASHTABLE);
    expect("HDEL h2 long a", "2");
    expect("HGET h3 a", "\"1\"");
    expect("HLEN h3", "2");
}
END_TEST

static Suite *hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = unit_tcase("encodings", 120);
    tcase_add_test(tc, listpack_basics);
    tcase_add_test(tc, convert_on_entries);
    tcase_add_test(tc, convert_on_lengths);
    tcase_add_test(tc, hashtable_updates);
    suite_add_tcase(s, tc);
    tc = unit_tcase("walk", 120);
    tcase_add_test(tc, iterate_both_encodings);
    tcase_add_test(tc, dup_and_free);
    tcase_add_test(tc, random_and_views);
    tcase_add_test(tc, scan_visits_all);
    suite_add_tcase(s, tc);
    tc = unit_tcase("model", 300);
    tcase_add_test(tc, randomized_against_model);
    suite_add_tcase(s, tc);
    tc = unit_tcase("handlers", 120);
    tcase_add_checked_fixture(tc, h_setup, h_teardown);
    tcase_add_test(tc, h_set_events);
    tcase_add_test(tc, h_del_events);
    tcase_add_test(tc, h_incr_events);
    tcase_add_test(tc, h_read_commands);
    tcase_add_test(tc, h_copy_and_encoding);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    registry_init(); /* once: not idempotent */
    return unit_run(hash_suite());
}
