/* test_set.c — unit tests for core/types/intset.c (Redis's byte layout, in-place
 * upgrades 16 -> 32 -> 64 bits, sorted order, removal, random members) and
 * core/types/t_set.c (intset while every member is an integer and there are at
 * most set-max-intset-entries, then a hash table; iteration, pop, dup,
 * scan), both against simple reference models, and the set group's
 * handlers run through the kernel: replies, OBJECT ENCODING-visible
 * encodings and the keyspace events each mutation emits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "intset.h"
#include "kernel.h"
#include "store.h"
#include "t_set.h"
#include "util.h"
#include "registry.h"
#include "rec_sink.h"
#include "unit.h"

/* ================================================================ intset */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(intset_layout)
{
    struct intset *is = intset_new();
    bool added;
    const uint8_t *b;
    ck_assert_uint_eq(intset_blob_len(is), 8);
    is = intset_add(is, 5, &added);
    ck_assert(added);
    is = intset_add(is, -3, &added);
    ck_assert(added);
    is = intset_add(is, 5, &added);
    ck_assert(!added);
    ck_assert_uint_eq(intset_len(is), 2);
    ck_assert_uint_eq(intset_blob_len(is), 8 + 2 * 2);
    /* encoding=2, length=2, then -3 and 5 as little-endian int16 */
    b = (const uint8_t *)is;
    {
        const uint8_t want[] = {2, 0, 0, 0, 2, 0, 0, 0, 0xfd, 0xff, 5, 0};
        ck_assert_mem_eq(b, want, sizeof(want));
    }
    free(is);
}
END_TEST

START_TEST(intset_upgrades)
{
    struct intset *is = intset_new();
    bool added;
    int64_t v;
    is = intset_add(is, 1, &added);
    is = intset_add(is, 2, &added);
    ck_assert_uint_eq(is->encoding, INTSET_ENC_INT16);
    is = intset_add(is, 70000, &added); /* appended, widened to 32 bits */
    ck_assert(added);
    ck_assert_uint_eq(is->encoding, INTSET_ENC_INT32);
    ck_assert(intset_find(is, 1) && intset_find(is, 2) && intset_find(is, 70000));
    is = intset_add(is, -5000000000LL, &added); /* prepended, 64 bits */
    ck_assert(added);
    ck_assert_uint_eq(is->encoding, INTSET_ENC_INT64);
    ck_assert_uint_eq(intset_blob_len(is), 8 + 4 * 8);
    ck_assert(intset_get(is, 0, &v) && v == -5000000000LL);
    ck_assert(intset_get(is, 1, &v) && v == 1);
    ck_assert(intset_get(is, 2, &v) && v == 2);
    ck_assert(intset_get(is, 3, &v) && v == 70000);
    ck_assert(!intset_get(is, 4, &v));
    ck_assert(intset_validate(is));
    /* extremes */
    is = intset_add(is, INT64_MAX, &added);
    is = intset_add(is, INT64_MIN, &added);
    ck_assert(intset_find(is, INT64_MAX) && intset_find(is, INT64_MIN));
    ck_assert(intset_get(is, 0, &v) && v == INT64_MIN);
    ck_assert(intset_get(is, intset_len(is) - 1, &v) && v == INT64_MAX);
    /* a removal never narrows the encoding (Redis neither) */
    is = intset_remove(is, INT64_MAX, &added);
    ck_assert(added);
    is = intset_remove(is, INT64_MIN, &added);
    is = intset_remove(is, -5000000000LL, &added);
    ck_assert_uint_eq(is->encoding, INTSET_ENC_INT64);
    ck_assert_uint_eq(intset_len(is), 3);
    free(is);
}
END_TEST

START_TEST(intset_value_encodings)
{
    ck_assert_uint_eq(intset_value_encoding(0), 2);
    ck_assert_uint_eq(intset_value_encoding(32767), 2);
    ck_assert_uint_eq(intset_value_encoding(-32768), 2);
    ck_assert_uint_eq(intset_value_encoding(32768), 4);
    ck_assert_uint_eq(intset_value_encoding(-32769), 4);
    ck_assert_uint_eq(intset_value_encoding(INT32_MAX), 4);
    ck_assert_uint_eq(intset_value_encoding((int64_t)INT32_MAX + 1), 8);
    ck_assert_uint_eq(intset_value_encoding(INT32_MIN), 4);
    ck_assert_uint_eq(intset_value_encoding((int64_t)INT32_MIN - 1), 8);
}
END_TEST

START_TEST(intset_missing_and_wide_lookups)
{
    struct intset *is = intset_new();
    bool removed;
    is = intset_add(is, 10, NULL);
    /* a value wider than the encoding cannot be there */
    ck_assert(!intset_find(is, 1LL << 40));
    is = intset_remove(is, 1LL << 40, &removed);
    ck_assert(!removed);
    is = intset_remove(is, 11, &removed);
    ck_assert(!removed);
    is = intset_remove(is, 10, &removed);
    ck_assert(removed);
    ck_assert_uint_eq(intset_len(is), 0);
    ck_assert(!intset_find(is, 10));
    free(is);
}
END_TEST

/* Random adds/removes against a sorted-array model. */
START_TEST(intset_random_vs_model)
{
    enum { N = 20000 };
    static int64_t model[N];
    size_t n = 0, i;
    struct intset *is = intset_new();
    for (i = 0; i < N; i++) {
        uint64_t r = util_rand64();
        int64_t v;
        bool changed, in_model = false;
        size_t k;
        switch (r % 3) {
        case 0:
            v = (int64_t)(r >> 8) % 300 - 150;
            break;
        case 1:
            v = (int64_t)(r >> 8) % 200000 - 100000;
            break;
        default:
            v = (int64_t)(util_rand64());
            break;
        }
        for (k = 0; k < n; k++)
            if (model[k] == v) in_model = true;
        if ((r >> 60) < 10) {
            is = intset_add(is, v, &changed);
            ck_assert(changed == !in_model);
            if (!in_model) model[n++] = v;
        } else {
            is = intset_remove(is, v, &changed);
            ck_assert(changed == in_model);
            if (in_model) {
                for (k = 0; k < n; k++)
                    if (model[k] == v) break;
                model[k] = model[--n];
            }
        }
        ck_assert_uint_eq(intset_len(is), n);
    }
    qsort(model, n, sizeof(int64_t), cmp_i64);
    ck_assert(intset_validate(is));
    for (i = 0; i < n; i++) {
        int64_t v;
        ck_assert(intset_get(is, (uint32_t)i, &v));
        ck_assert(v == model[i]);
        ck_assert(intset_find(is, v));
    }
    /* random members are members, and every member comes up */
    if (n > 0) {
        for (i = 0; i < 200; i++)
            ck_assert(intset_find(is, intset_random(is)));
    }
    {
        struct intset *d = intset_dup(is);
        ck_assert_uint_eq(intset_blob_len(d), intset_blob_len(is));
        ck_assert_mem_eq(d, is, intset_blob_len(is));
        free(d);
    }
    free(is);
}
END_TEST

START_TEST(intset_random_covers_all)
{
    struct intset *is = intset_new();
    int seen[5] = {0}, i;
    for (i = 0; i < 5; i++)
        is = intset_add(is, i * 1000, NULL);
    for (i = 0; i < 2000; i++)
        seen[intset_random(is) / 1000]++;
    for (i = 0; i < 5; i++)
        ck_assert_int_gt(seen[i], 250);
    free(is);
}
END_TEST

/* ================================================================ sets */

/* config_load runs once in main(); tests change the one limit they use. */
static void set_defaults(void)
{
    g_config.set_max_intset_entries = 512;
}

static struct setv mk(const char *const *members, int n)
{
    struct setv s = set_new_for(members[0], strlen(members[0]));
    int i;
    for (i = 0; i < n; i++)
        set_add(&s, members[i], strlen(members[i]));
    return s;
}

START_TEST(set_encodings)
{
    struct setv s;
    char buf[32];
    int i;
    set_defaults();
    g_config.set_max_intset_entries = 4;

    s = set_new_for("12", 2);
    ck_assert_int_eq(s.enc, ENC_INTSET);
    set_free(&s);
    s = set_new_for("012", 3); /* not Redis's canonical integer */
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    set_free(&s);
    s = set_new_for("", 0);
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    set_free(&s);

    /* integers up to the limit stay an intset; one more converts */
    s = set_new_intset();
    for (i = 0; i < 4; i++) {
        snprintf(buf, sizeof(buf), "%d", 10 - i);
        ck_assert_int_eq(set_add(&s, buf, strlen(buf)), 1);
    }
    ck_assert_int_eq(set_add(&s, "7", 1), 0);
    ck_assert_int_eq(s.enc, ENC_INTSET);
    ck_assert_int_eq(set_add(&s, "100", 3), 1);
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    ck_assert_uint_eq(set_size(&s), 5);
    ck_assert(set_ismember(&s, "7", 1) && set_ismember(&s, "100", 3));
    ck_assert(!set_ismember(&s, "07", 2));
    /* removing never converts back */
    for (i = 0; i < 4; i++) {
        snprintf(buf, sizeof(buf), "%d", 10 - i);
        ck_assert_int_eq(set_remove(&s, buf, strlen(buf)), 1);
    }
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    ck_assert_uint_eq(set_size(&s), 1);
    set_free(&s);

    /* a non-integer member converts at once */
    s = set_new_intset();
    set_add(&s, "1", 1);
    set_add(&s, "-2", 2);
    ck_assert_int_eq(s.enc, ENC_INTSET);
    ck_assert(!set_ismember(&s, "x", 1));
    ck_assert_int_eq(set_remove(&s, "x", 1), 0);
    ck_assert_int_eq(set_add(&s, "x", 1), 1);
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    ck_assert(set_ismember(&s, "1", 1) && set_ismember(&s, "-2", 2) && set_ismember(&s, "x", 1));
    set_free(&s);

    /* limit 0: even one integer makes a hash table */
    g_config.set_max_intset_entries = 0;
    s = set_new_for("5", 1);
    set_add(&s, "5", 1);
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    set_free(&s);
    set_defaults();
}
END_TEST

START_TEST(set_iteration_order_and_dup)
{
    const char *ints[] = {"30", "-7", "12", "9999999999", "0"};
    const char *strs[] = {"a", "bb", "", "12", "ccc"};
    struct setv s, d;
    struct set_iter it;
    struct set_elem el;
    const char *want[] = {"-7", "0", "12", "30", "9999999999"};
    int i = 0, seen = 0;
    set_defaults();

    s = mk(ints, 5);
    ck_assert_int_eq(s.enc, ENC_INTSET);
    set_iter_init(&it, &s);
    while (set_iter_next(&it, &el)) {
        ck_assert(el.is_int);
        ck_assert_uint_eq(el.n, strlen(want[i]));
        ck_assert_mem_eq(el.p, want[i], el.n);
        i++;
    }
    set_iter_release(&it);
    ck_assert_int_eq(i, 5);
    d = set_dup(&s);
    ck_assert_int_eq(d.enc, ENC_INTSET);
    ck_assert_uint_eq(set_size(&d), 5);
    set_free(&d);
    set_free(&s);

    s = mk(strs, 5);
    ck_assert_int_eq(s.enc, ENC_HASHTABLE);
    set_iter_init(&it, &s);
    while (set_iter_next(&it, &el)) {
        int k;
        for (k = 0; k < 5; k++)
            if (el.n == strlen(strs[k]) && memcmp(el.p, strs[k], el.n) == 0) seen |= 1 << k;
    }
    set_iter_release(&it);
    ck_assert_int_eq(seen, 31);
    d = set_dup(&s);
    ck_assert_int_eq(d.enc, ENC_HASHTABLE);
    for (i = 0; i < 5; i++)
        ck_assert(set_ismember(&d, strs[i], strlen(strs[i])));
    set_free(&d);
    set_free(&s);
}
END_TEST

/* A large random workload against a reference model (an array of
 * distinct strings), crossing the intset limit both ways. */
START_TEST(set_random_vs_model)
{
    enum { OPS = 30000, MAXM = 4096 };
    static char model[MAXM][24];
    int n = 0, op;
    struct setv s = set_new_intset();
    set_defaults();
    g_config.set_max_intset_entries = 64;
    for (op = 0; op < OPS; op++) {
        uint64_t r = util_rand64();
        char buf[24];
        int k, found = -1;
        if (r % 10 < 7)
            snprintf(buf, sizeof(buf), "%d", (int)(r >> 8) % 700 - 350);
        else
            snprintf(buf, sizeof(buf), "m%d", (int)(r >> 8) % 300);
        for (k = 0; k < n; k++)
            if (strcmp(model[k], buf) == 0) found = k;
        if ((r >> 40) % 3 != 0) {
            ck_assert_int_eq(set_add(&s, buf, strlen(buf)), found < 0);
            if (found < 0) strcpy(model[n++], buf);
        } else {
            ck_assert_int_eq(set_remove(&s, buf, strlen(buf)), found >= 0);
            if (found >= 0) memmove(model[found], model[--n], sizeof(model[0]));
        }
        ck_assert_uint_eq(set_size(&s), (size_t)n);
        if (op % 5000 == 0 && n > 0) {
            struct set_elem el;
            set_random(&s, &el);
            ck_assert(set_ismember(&s, el.p, el.n));
        }
    }
    for (op = 0; op < n; op++)
        ck_assert(set_ismember(&s, model[op], strlen(model[op])));
    /* pop everything: each popped member was there exactly once */
    while (set_size(&s) > 0) {
        struct set_elem el;
        char buf[24];
        int k;
        set_pop(&s, &el);
        ck_assert_uint_lt(el.n, sizeof(buf));
        memcpy(buf, el.p, el.n);
        buf[el.n] = 0;
        set_elem_release(&el);
        for (k = 0; k < n; k++)
            if (strcmp(model[k], buf) == 0) break;
        ck_assert_int_lt(k, n);
        memmove(model[k], model[--n], sizeof(model[0]));
    }
    ck_assert_int_eq(n, 0);
    set_free(&s);
    set_defaults();
}
END_TEST

struct scan_seen {
    int counts[2000];
};

static void scan_cb(void *priv, const char *p, size_t n)
{
    struct scan_seen *s = priv;
    char buf[16];
    ck_assert_uint_lt(n, sizeof(buf));
    memcpy(buf, p, n);
    buf[n] = 0;
    s->counts[atoi(buf + 1)]++;
}

START_TEST(set_scan_covers_everything)
{
    static struct scan_seen seen;
    struct setv s = set_new_ht(0);
    uint64_t cursor = 0;
    int i;
    char buf[16];
    memset(&seen, 0, sizeof(seen));
    for (i = 0; i < 2000; i++) {
        snprintf(buf, sizeof(buf), "k%d", i);
        set_add(&s, buf, strlen(buf));
    }
    do {
        cursor = set_scan_ht(&s, cursor, scan_cb, &seen);
        /* shrink while scanning: everything present throughout is seen */
        if (set_size(&s) > 1000) {
            snprintf(buf, sizeof(buf), "k%d", 1999 - (int)(2000 - set_size(&s)));
            set_remove(&s, buf, strlen(buf));
        }
    } while (cursor);
    for (i = 0; i < 1000; i++)
        ck_assert_int_ge(seen.counts[i], 1);
    set_free(&s);
}
END_TEST

START_TEST(set_presized_and_shrinks)
{
    struct setv s = set_new_ht(513);
    struct dict *d = s.ptr;
    char buf[16];
    int i;
    ck_assert_uint_eq(d->size[0], 1024);
    for (i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        set_add(&s, buf, strlen(buf));
    }
    for (i = 0; i < 995; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        ck_assert_int_eq(set_remove(&s, buf, strlen(buf)), 1);
    }
    while (dict_is_rehashing(d))
        dict_rehash(d, 100);
    ck_assert_uint_le(d->size[0], 128); /* shrunk from 1024, as Redis's dictResize */
    ck_assert_uint_eq(set_size(&s), 5);
    set_free(&s);
}
END_TEST

/* ====================================================== handlers + events */

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
    set_defaults();
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

static void expect_events(const char *spec)
{
    /* spec: "sadd:k del:k" */
    char buf[512], *save = NULL, *tok;
    int i = 0;
    snprintf(buf, sizeof(buf), "%s", spec);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
        char *colon = strchr(tok, ':');
        ck_assert_msg(i < nev, "event %d (%s) missing (%d events)", i, tok, nev);
        *colon = 0;
        ck_assert_str_eq(evname[i], tok);
        ck_assert_str_eq(evkey[i], colon + 1);
        ck_assert_int_eq(evclass[i], strcmp(tok, "del") == 0 ? NOTIFY_GENERIC : NOTIFY_SET);
    }
    ck_assert_msg(i == nev, "%d events, expected %d (%s)", nev, i, spec);
}

static int enc_of(const char *key)
{
    struct kv *e = store_peek(store_db(0), key, strlen(key));
    return e ? (int)e->enc : -1;
}

START_TEST(h_sadd_srem_events)
{
    expect("SADD s 3 1 2 1", "3");
    expect_events("sadd:s");
    ck_assert_int_eq(enc_of("s"), ENC_INTSET);
    expect("SMEMBERS s", "~? \"1\" \"2\" \"3\" (3)");
    expect("SADD s 1 2", "0");
    expect_events("");
    expect("SADD s x", "1");
    ck_assert_int_eq(enc_of("s"), ENC_HASHTABLE);
    expect("SREM s nope", "0");
    expect_events("");
    expect("SREM s 1 2 3", "3");
    expect_events("srem:s");
    expect("SREM s x y", "1");
    expect_events("srem:s del:s");
    ck_assert_int_eq(enc_of("s"), -1);
    expect("SREM s x", "0");
    expect("SET str v", "+OK");
    expect("SADD str a", "-WRONGTYPE Operation against a key holding the wrong kind of value");
    expect("SREM str a", "-WRONGTYPE Operation against a key holding the wrong kind of value");
}
END_TEST

START_TEST(h_spop_events)
{
    expect("SADD s 1 2 3", "3");
    run("SPOP s");
    expect_events("spop:s");
    run("SPOP s 0");
    expect_events("");
    run("SPOP s 5");
    expect_events("spop:s del:s");
    ck_assert_int_eq(enc_of("s"), -1);
    expect("SPOP s", "nil");
    expect("SPOP s 2", "~0");
    expect("SPOP s -1", "-ERR value is out of range, must be positive");
    expect("SADD t a", "1");
    run("SPOP t");
    expect_events("spop:t del:t");
    /* CASE 3 of Redis's SPOP: the members that stay form a new set, an
     * intset again when they are integers */
    {
        char line[8192];
        size_t n = (size_t)snprintf(line, sizeof(line), "SADD big");
        int i;
        for (i = 0; i < 600; i++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, " %d", i);
        run(line);
    }
    ck_assert_int_eq(enc_of("big"), ENC_HASHTABLE);
    run("SPOP big 550");
    expect_events("spop:big");
    expect("SCARD big", "50");
    ck_assert_int_eq(enc_of("big"), ENC_INTSET);
}
END_TEST

START_TEST(h_smove_events)
{
    expect("SADD a 1 2", "2");
    expect("SMOVE a b 1", "1");
    expect_events("srem:a sadd:b");
    ck_assert_int_eq(enc_of("b"), ENC_INTSET);
    expect("SMOVE a b 9", "0");
    expect_events("");
    expect("SADD b 2", "1");
    expect("SMOVE a b 2", "1"); /* already in b: no sadd */
    expect_events("srem:a del:a");
    expect("SMOVE b b 2", "1");
    expect_events("");
    expect("SMOVE nokey b 2", "0");
    expect("SET str v", "+OK");
    expect("SMOVE str b 2", "-WRONGTYPE Operation against a key holding the wrong kind of value");
    expect("SMOVE b str 2", "-WRONGTYPE Operation against a key holding the wrong kind of value");
    expect("SMOVE nokey str 2", "0");
}
END_TEST

START_TEST(h_store_events)
{
    expect("SADD a 1 2 3 x", "4");
    expect("SADD b 2 3 4", "3");
    expect("SINTERSTORE d a b", "2");
    expect_events("sinterstore:d");
    ck_assert_int_eq(enc_of("d"), ENC_INTSET);
    expect("SMEMBERS d", "~? \"2\" \"3\" (2)");
    expect("SUNIONSTORE d a b", "5");
    expect_events("sunionstore:d");
    ck_assert_int_eq(enc_of("d"), ENC_HASHTABLE);
    expect("SDIFFSTORE d b a", "1");
    expect_events("sdiffstore:d");
    expect("SMEMBERS d", "~? \"4\" (1)");
    expect("SDIFFSTORE d a a", "0");
    expect_events("del:d");
    expect("SDIFFSTORE d a a", "0");
    expect_events("");
    expect("SET d v", "+OK");
    expect("SINTERSTORE d a nokey", "0");
    expect_events("del:d");
    expect("SUNIONSTORE d nokey", "0");
    expect_events("");
    /* the destination may be a source */
    expect("SUNIONSTORE a a b", "5");
    expect_events("sunionstore:a");
    expect("SCARD a", "5");
}
END_TEST

START_TEST(h_read_commands)
{
    expect("SADD s 5 1 3", "3");
    expect("SISMEMBER s 3", "1");
    expect("SISMEMBER s 4", "0");
    expect("SISMEMBER nokey 4", "0");
    expect("SMISMEMBER s 1 2 3", "*3 1 0 1");
    expect("SMISMEMBER nokey 1", "*1 0");
    expect("SCARD s", "3");
    expect("SCARD nokey", "0");
    expect("SRANDMEMBER s 10", "*3 \"1\" \"3\" \"5\"");
    expect("SRANDMEMBER s 0", "*0");
    expect("SRANDMEMBER nokey", "nil");
    expect("SRANDMEMBER nokey 3", "*0");
    expect("SRANDMEMBER s -9223372036854775808",
           "-ERR value is out of range, value must between -9223372036854775807 and "
           "9223372036854775807");
    ck_assert_int_eq(strncmp(run("SRANDMEMBER s -5"), "*5 ", 3), 0);
    expect("SINTER s nokey", "~0");
    expect("SUNION s nokey", "~3 \"1\" \"3\" \"5\"");
    expect("SDIFF s nokey", "~3 \"1\" \"3\" \"5\"");
    expect("SINTERCARD 2 s s", "3");
    expect("SINTERCARD 1 s LIMIT 2", "2");
    expect("SINTERCARD 0 s", "-ERR numkeys should be greater than 0");
    expect("SINTERCARD 3 s s", "-ERR Number of keys can't be greater than number of args");
    expect("SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative");
    expect("SINTERCARD 1 s FOO", "-ERR syntax error");
    expect("SSCAN s 0", "*2 \"0\" *3 \"1\" \"3\" \"5\"");
    expect("SSCAN s 0 MATCH 1*", "*2 \"0\" *1 \"1\"");
    expect("SSCAN nokey 0 COUNT 0", "*2 \"0\" *0");
    expect("SSCAN s 0 COUNT 0", "-ERR syntax error");
    expect("SSCAN s x", "-ERR invalid cursor");
    /* every read is a read: the sets are unchanged, no events */
    ck_assert_int_eq(nev, 0);
}
END_TEST

START_TEST(h_copy_keeps_encoding)
{
    expect("SADD a 1 2 3", "3");
    expect("SADD h x y", "2");
    /* COPY goes through obj_ops[OBJ_SET].dup_value */
    {
        struct kv *e = store_peek(store_db(0), "h", 1), *c = kv_dup(e, "h2", 2);
        struct setv s = set_of(c);
        ck_assert_int_eq(c->enc, ENC_HASHTABLE);
        ck_assert(set_ismember(&s, "x", 1) && set_ismember(&s, "y", 1));
        kv_free(c);
        e = store_peek(store_db(0), "a", 1);
        c = kv_dup(e, "a2", 2);
        ck_assert_int_eq(c->enc, ENC_INTSET);
        kv_free(c);
    }
}
END_TEST

static Suite *set_suite(void)
{
    Suite *s = suite_create("set");
    TCase *tc = unit_tcase("intset", 60);
    tcase_add_test(tc, intset_layout);
    tcase_add_test(tc, intset_upgrades);
    tcase_add_test(tc, intset_value_encodings);
    tcase_add_test(tc, intset_missing_and_wide_lookups);
    tcase_add_test(tc, intset_random_vs_model);
    tcase_add_test(tc, intset_random_covers_all);
    suite_add_tcase(s, tc);

    tc = unit_tcase("set", 120);
    tcase_add_test(tc, set_encodings);
    tcase_add_test(tc, set_iteration_order_and_dup);
    tcase_add_test(tc, set_random_vs_model);
    tcase_add_test(tc, set_scan_covers_everything);
    tcase_add_test(tc, set_presized_and_shrinks);
    suite_add_tcase(s, tc);

    tc = unit_tcase("handlers", 60);
    tcase_add_checked_fixture(tc, h_setup, h_teardown);
    tcase_add_test(tc, h_sadd_srem_events);
    tcase_add_test(tc, h_spop_events);
    tcase_add_test(tc, h_smove_events);
    tcase_add_test(tc, h_store_events);
    tcase_add_test(tc, h_read_commands);
    tcase_add_test(tc, h_copy_keeps_encoding);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    static char *argv[] = {"test_set", NULL};
    config_init(config_table);
    if (!config_load(1, argv)) return EXIT_FAILURE;
    registry_init(); /* once: not idempotent */
    return unit_run(set_suite());
}
