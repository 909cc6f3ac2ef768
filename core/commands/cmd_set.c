/* cmd_set.c — the set group: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
 * SDIFF SDIFFSTORE (SSCAN: cmd_scan.c), with Redis 7.0's algorithms (so that results
 * come in the same order and encoding whenever Redis's order is
 * deterministic: intsets are iterated in ascending order), replies, errors
 * and keyspace events ("sadd" "srem" "spop" "sinterstore" "sunionstore"
 * "sdiffstore"; SMOVE emits "srem" then "sadd" as Redis 7.0 does; "del"
 * when a set is emptied). The value is core/types/t_set.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propagate.h" /* AOF rewrites (SPOP -> SREM / DEL) */
#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "t_set.h"
#include "util.h"

/* The set at key, or NULL when absent; *bad (WRONGTYPE replied) when the
 * key holds another type. */
static struct kv *lookup_set(struct exec *x, const char *key, size_t klen, bool write, bool *bad)
{
    struct kv *e =
        write ? store_lookup_write(x->db, key, klen) : store_lookup_read(x->db, key, klen);
    *bad = false;
    if (e && e->type != OBJ_SET) {
        reply_err(x->r, E_WRONGTYPE);
        *bad = true;
        return NULL;
    }
    return e;
}

static void reply_elem(struct reply *r, const struct set_elem *el)
{
    reply_bulk(r, el->p, el->n);
}

/* Store a computed set under dst (replacing whatever is there, TTL
 * dropped) with event ev, or delete dst ("del") when the set is empty;
 * replies with the set's size. Takes ownership of s. */
static void store_result(struct exec *x, const struct argv_ref *dst, struct setv *s, const char *ev)
{
    size_t n = set_size(s);
    if (n > 0) {
        struct kv *e = kv_new_ptr(dst->p, dst->n, OBJ_SET, s->enc, s->ptr);
        store_set(x->db, e, false, ev, NOTIFY_SET);
        reply_int(x->r, (long long)n);
    } else {
        set_free(s);
        reply_int(x->r, 0);
        store_delete(x->db, dst->p, dst->n, "del", NOTIFY_GENERIC);
    }
}

/* ----------------------------------------------------------- SADD / SREM */

/* SADD key member [member ...] */
void cmd_sadd(struct exec *x)
{
    const char *key = ARGP(x, A_SADD_key);
    size_t klen = ARGN(x, A_SADD_key);
    const struct argval *m = ARG(x, A_SADD_member);
    struct kv *e;
    struct setv s;
    long long added = 0, mark;
    bool bad;
    int k;

    e = lookup_set(x, key, klen, true, &bad);
    if (bad) return;
    if (!e) {
        const struct argv_ref *first = &x->argv[m->list[0]];
        s = set_new_for(first->p, first->n);
    } else {
        s = set_of(e);
    }
    for (k = 0; k < m->count; k++) {
        const struct argv_ref *a = &x->argv[m->list[k]];
        added += set_add(&s, a->p, a->n);
    }
    mark = store_dirty_mark();
    if (!e) {
        e = kv_new_ptr(key, klen, OBJ_SET, s.enc, s.ptr);
        store_add(x->db, e, "sadd", NOTIFY_SET);
    } else {
        set_store(e, s);
        if (added) store_modified(x->db, e, "sadd", NOTIFY_SET);
    }
    store_dirty_settle(mark, added); /* Redis: one change per member added */
    reply_int(x->r, added);
}

/* SREM key member [member ...] */
void cmd_srem(struct exec *x)
{
    const char *key = ARGP(x, A_SREM_key);
    size_t klen = ARGN(x, A_SREM_key);
    const struct argval *m = ARG(x, A_SREM_member);
    struct kv *e;
    struct setv s;
    long long deleted = 0;
    bool bad, emptied = false;
    int k;

    e = lookup_set(x, key, klen, true, &bad);
    if (bad) return;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    s = set_of(e);
    for (k = 0; k < m->count; k++) {
        const struct argv_ref *a = &x->argv[m->list[k]];
        if (set_remove(&s, a->p, a->n)) {
            deleted++;
            if (set_size(&s) == 0) {
                emptied = true;
                break;
            }
        }
    }
    set_store(e, s);
    if (deleted) {
        long long mark = store_dirty_mark();
        store_modified(x->db, e, "srem", NOTIFY_SET);
        if (emptied) store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
        store_dirty_settle(mark, deleted); /* Redis: one change per member */
    }
    reply_int(x->r, deleted);
}

/* ------------------------------------------------ membership and size */

/* SISMEMBER key member */
void cmd_sismember(struct exec *x)
{
    bool bad;
    struct kv *e = lookup_set(x, ARGP(x, A_SISMEMBER_key), ARGN(x, A_SISMEMBER_key), false, &bad);
    struct setv s;
    if (bad) return;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    s = set_of(e);
    reply_int(x->r, set_ismember(&s, ARGP(x, A_SISMEMBER_member), ARGN(x, A_SISMEMBER_member)));
}

/* SMISMEMBER key member [member ...] */
void cmd_smismember(struct exec *x)
{
    bool bad;
    struct kv *e = lookup_set(x, ARGP(x, A_SMISMEMBER_key), ARGN(x, A_SMISMEMBER_key), false, &bad);
    const struct argval *m = ARG(x, A_SMISMEMBER_member);
    struct setv s = {NULL, 0};
    int k;
    if (bad) return;
    if (e) s = set_of(e);
    reply_array(x->r, m->count);
    for (k = 0; k < m->count; k++) {
        const struct argv_ref *a = &x->argv[m->list[k]];
        reply_int(x->r, e && set_ismember(&s, a->p, a->n));
    }
}

/* SCARD key */
void cmd_scard(struct exec *x)
{
    bool bad;
    struct kv *e = lookup_set(x, ARGP(x, A_SCARD_key), ARGN(x, A_SCARD_key), false, &bad);
    struct setv s;
    if (bad) return;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    s = set_of(e);
    reply_int(x->r, (long long)set_size(&s));
}

/* ------------------------------------------------------------ algebra */

/* Look up the sets at keys (absent keys give ptr NULL). False (WRONGTYPE
 * replied) if one holds another type. As Redis, lookups count as reads
 * even for the STORE variants. */
static bool lookup_sets(struct exec *x, const struct argv_ref *keys, long n, struct setv *sets,
                        long *empty)
{
    long j;
    *empty = 0;
    for (j = 0; j < n; j++) {
        bool bad;
        struct kv *e = lookup_set(x, keys[j].p, keys[j].n, false, &bad);
        if (bad) return false;
        if (!e) {
            sets[j].ptr = NULL;
            sets[j].enc = 0;
            (*empty)++;
        } else {
            sets[j] = set_of(e);
        }
    }
    return true;
}

static size_t size_or_zero(const struct setv *s)
{
    return s->ptr ? set_size(s) : 0;
}

/* Stable sort by cardinality, ascending (SINTER) or descending (SDIFF's
 * subtrahends), as glibc's qsort (a merge sort) orders Redis's array. */
static void sort_sets(struct setv *sets, long n, bool desc)
{
    long i, j;
    for (i = 1; i < n; i++) {
        struct setv t = sets[i];
        size_t ts = size_or_zero(&t);
        for (j = i; j > 0; j--) {
            size_t ps = size_or_zero(&sets[j - 1]);
            if (desc ? ps >= ts : ps <= ts) break;
            sets[j] = sets[j - 1];
        }
        sets[j] = t;
    }
}

/* SINTER / SINTERSTORE / SINTERCARD (card_only, limit 0 = none): Redis's
 * sinterGenericCommand. */
static void sinter_generic(struct exec *x, const struct argv_ref *keys, long n,
                           const struct argv_ref *dst, bool card_only, unsigned long limit)
{
    struct setv stack[16], *sets = n <= 16 ? stack : xmalloc(sizeof(*sets) * (size_t)n);
    struct setv out = {NULL, 0};
    struct set_iter it;
    struct set_elem el;
    void *h = NULL;
    unsigned long card = 0;
    long empty, j;

    if (!lookup_sets(x, keys, n, sets, &empty)) goto done;
    if (empty > 0) {
        if (dst) {
            store_delete(x->db, dst->p, dst->n, "del", NOTIFY_GENERIC);
            reply_int(x->r, 0);
        } else if (card_only) {
            reply_int(x->r, 0);
        } else {
            reply_set(x->r, 0);
        }
        goto done;
    }
    sort_sets(sets, n, false);
    if (dst)
        out = set_new_intset();
    else if (!card_only)
        h = reply_defer(x->r, AGG_SET);

    set_iter_init(&it, &sets[0]);
    while (set_iter_next(&it, &el)) {
        for (j = 1; j < n; j++) {
            if (sets[j].ptr == sets[0].ptr) continue;
            if (!set_ismember_elem(&sets[j], &el)) break;
        }
        if (j < n) continue;
        if (card_only) {
            card++;
            if (limit && card >= limit) break;
        } else if (!dst) {
            reply_elem(x->r, &el);
            card++;
        } else {
            set_add_elem(&out, &el);
        }
    }
    set_iter_release(&it);

    if (card_only)
        reply_int(x->r, (long long)card);
    else if (dst)
        store_result(x, dst, &out, "sinterstore");
    else
        reply_set_deferred(x->r, h, (long long)card);
done:
    if (sets != stack) free(sets);
}

enum { OP_UNION, OP_DIFF };

/* SUNION / SUNIONSTORE / SDIFF / SDIFFSTORE: Redis's
 * sunionDiffGenericCommand, both DIFF algorithms included (the choice
 * decides whether the result stays an intset, hence its order). */
static void sunion_diff_generic(struct exec *x, const struct argv_ref *keys, long n,
                                const struct argv_ref *dst, int op)
{
    struct setv stack[16], *sets = n <= 16 ? stack : xmalloc(sizeof(*sets) * (size_t)n);
    struct setv out;
    struct set_iter it;
    struct set_elem el;
    long long card = 0;
    long empty, j;
    int algo = 1;

    if (!lookup_sets(x, keys, n, sets, &empty)) goto done;

    if (op == OP_DIFF && sets[0].ptr) {
        long long one = 0, two = 0;
        for (j = 0; j < n; j++) {
            if (!sets[j].ptr) continue;
            one += (long long)set_size(&sets[0]);
            two += (long long)set_size(&sets[j]);
        }
        one /= 2;
        algo = one <= two ? 1 : 2;
        if (algo == 1 && n > 1) sort_sets(sets + 1, n - 1, true);
    }

    out = set_new_intset();
    if (op == OP_UNION) {
        for (j = 0; j < n; j++) {
            if (!sets[j].ptr) continue;
            set_iter_init(&it, &sets[j]);
            while (set_iter_next(&it, &el))
                card += set_add_elem(&out, &el);
            set_iter_release(&it);
        }
    } else if (sets[0].ptr && algo == 1) {
        set_iter_init(&it, &sets[0]);
        while (set_iter_next(&it, &el)) {
            for (j = 1; j < n; j++) {
                if (!sets[j].ptr) continue;
                if (sets[j].ptr == sets[0].ptr) break;
                if (set_ismember_elem(&sets[j], &el)) break;
            }
            if (j == n) {
                set_add_elem(&out, &el);
                card++;
            }
        }
        set_iter_release(&it);
    } else if (sets[0].ptr) {
        for (j = 0; j < n; j++) {
            if (!sets[j].ptr) continue;
            set_iter_init(&it, &sets[j]);
            while (set_iter_next(&it, &el)) {
                if (j == 0)
                    card += set_add_elem(&out, &el);
                else
                    card -= set_remove(&out, el.p, el.n);
            }
            set_iter_release(&it);
            if (card == 0) break;
        }
    }

    if (!dst) {
        reply_set(x->r, card);
        set_iter_init(&it, &out);
        while (set_iter_next(&it, &el))
            reply_elem(x->r, &el);
        set_iter_release(&it);
        set_free(&out);
    } else {
        store_result(x, dst, &out, op == OP_UNION ? "sunionstore" : "sdiffstore");
    }
done:
    if (sets != stack) free(sets);
}

/* The argv run of a "multiple" key argument. */
static const struct argv_ref *keys_of(struct exec *x, int slot, long *n)
{
    *n = ARG(x, slot)->count;
    return &x->argv[ARG(x, slot)->list[0]];
}

/* SMEMBERS key */
void cmd_smembers(struct exec *x)
{
    /* Redis 7.0 serves SMEMBERS with SINTER's code. */
    sinter_generic(x, &x->argv[ARG(x, A_SMEMBERS_key)->pos], 1, NULL, false, 0);
}

/* SINTER key [key ...] */
void cmd_sinter(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SINTER_key, &n);
    sinter_generic(x, keys, n, NULL, false, 0);
}

/* SINTERSTORE destination key [key ...] */
void cmd_sinterstore(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SINTERSTORE_key, &n);
    sinter_generic(x, keys, n, &x->argv[ARG(x, A_SINTERSTORE_destination)->pos], false, 0);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
void cmd_sintercard(struct exec *x)
{
    /* numkeys is keel_numkeys: the matcher has checked it and made the key
     * list exactly that long. */
    struct argval *keys = ARG(x, A_SINTERCARD_key);
    long long limit = HAS(x, A_SINTERCARD_limit) ? ARGI(x, A_SINTERCARD_limit) : 0;
    if (limit < 0) {
        reply_error(x->r, "ERR LIMIT can't be negative");
        return;
    }
    sinter_generic(x, &x->argv[keys->list[0]], keys->count, NULL, true, (unsigned long)limit);
}

/* SUNION key [key ...] */
void cmd_sunion(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SUNION_key, &n);
    sunion_diff_generic(x, keys, n, NULL, OP_UNION);
}

/* SUNIONSTORE destination key [key ...] */
void cmd_sunionstore(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SUNIONSTORE_key, &n);
    sunion_diff_generic(x, keys, n, &x->argv[ARG(x, A_SUNIONSTORE_destination)->pos], OP_UNION);
}

/* SDIFF key [key ...] */
void cmd_sdiff(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SDIFF_key, &n);
    sunion_diff_generic(x, keys, n, NULL, OP_DIFF);
}

/* SDIFFSTORE destination key [key ...] */
void cmd_sdiffstore(struct exec *x)
{
    long n;
    const struct argv_ref *keys = keys_of(x, A_SDIFFSTORE_key, &n);
    sunion_diff_generic(x, keys, n, &x->argv[ARG(x, A_SDIFFSTORE_destination)->pos], OP_DIFF);
}

/* ---------------------------------------------------------------- SMOVE */

/* SMOVE source destination member */
void cmd_smove(struct exec *x)
{
    const struct argv_ref *src = &x->argv[ARG(x, A_SMOVE_source)->pos];
    const struct argv_ref *dst = &x->argv[ARG(x, A_SMOVE_destination)->pos];
    const char *mp = ARGP(x, A_SMOVE_member);
    size_t mn = ARGN(x, A_SMOVE_member);
    struct kv *se = store_lookup_write(x->db, src->p, src->n);
    struct kv *de = store_lookup_write(x->db, dst->p, dst->n);
    struct setv s;
    long long mark;

    if (!se) {
        reply_int(x->r, 0);
        return;
    }
    if (se->type != OBJ_SET || (de && de->type != OBJ_SET)) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    s = set_of(se);
    if (se == de) {
        reply_int(x->r, set_ismember(&s, mp, mn));
        return;
    }
    if (!set_remove(&s, mp, mn)) {
        reply_int(x->r, 0);
        return;
    }
    set_store(se, s);
    mark = store_dirty_mark();
    store_modified(x->db, se, "srem", NOTIFY_SET);
    if (set_size(&s) == 0) store_delete(x->db, src->p, src->n, "del", NOTIFY_GENERIC);
    store_dirty_settle(mark, 1); /* Redis: the emptied source's deletion is no change */
    if (!de) {
        struct setv d = set_new_for(mp, mn);
        set_add(&d, mp, mn);
        de = kv_new_ptr(dst->p, dst->n, OBJ_SET, d.enc, d.ptr);
        store_add(x->db, de, "sadd", NOTIFY_SET);
    } else {
        struct setv d = set_of(de);
        int added = set_add(&d, mp, mn);
        set_store(de, d);
        if (added) store_modified(x->db, de, "sadd", NOTIFY_SET);
    }
    reply_int(x->r, 1);
}

/* ----------------------------------------------------------------- SPOP */

/* How much bigger than what is left the popped part must be for SPOP to
 * rebuild the set from the members that stay (Redis's constant). */
#define SPOP_MOVE_STRATEGY_MUL 5

static void spop_count(struct exec *x, const char *key, size_t klen, unsigned long long count)
{
    struct kv *e;
    struct setv s;
    struct set_elem el;
    unsigned long long size, remaining, popped;
    long long mark;
    bool bad;

    e = lookup_set(x, key, klen, true, &bad);
    if (bad) return;
    if (!e || count == 0) {
        reply_set(x->r, 0);
        return;
    }
    s = set_of(e);
    size = set_size(&s);

    if (count >= size) {
        /* The whole set, as SUNION of it would give it, then the key goes. */
        struct argv_ref k = {key, klen};
        long long mark = store_dirty_mark();
        store_modified(x->db, e, "spop", NOTIFY_SET);
        sunion_diff_generic(x, &k, 1, NULL, OP_UNION);
        store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
        store_dirty_settle(mark, (long long)size);             /* Redis: one change per member */
        propagate_rewritev(x, 2, "DEL", (size_t)3, key, klen); /* AOF (core/persist/propagate.c) */
        return;
    }

    remaining = size - count;
    popped = count;
    reply_set(x->r, (long long)count);
    if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
        /* Few members go: pop them one by one. */
        while (count--) {
            set_pop(&s, &el);
            reply_elem(x->r, &el);
            /* AOF: one SREM per member, as Redis 7.0 (core/persist/propagate.c) */
            propagate_rewritev(x, 3, "SREM", (size_t)4, key, klen, el.p, el.n);
            set_elem_release(&el);
        }
        set_store(e, s);
    } else {
        /* Most members go: move the ones that stay into a new set and
         * reply with what is left of the old one. */
        struct setv keep = {NULL, 0};
        struct set_iter it;
        while (remaining--) {
            set_pop(&s, &el);
            if (!keep.ptr) keep = set_new_for(el.p, el.n);
            set_add_elem(&keep, &el);
            set_elem_release(&el);
        }
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &el)) {
            reply_elem(x->r, &el);
            propagate_rewritev(x, 3, "SREM", (size_t)4, key, klen, el.p, el.n); /* AOF */
        }
        set_iter_release(&it);
        set_free(&s);
        set_store(e, keep);
    }
    mark = store_dirty_mark();
    store_modified(x->db, e, "spop", NOTIFY_SET);
    store_dirty_settle(mark, (long long)popped); /* Redis: one change per member */
}

/* SPOP key [count] */
void cmd_spop(struct exec *x)
{
    const char *key = ARGP(x, A_SPOP_key);
    size_t klen = ARGN(x, A_SPOP_key);
    struct kv *e;
    struct setv s;
    struct set_elem el;
    long long mark;
    bool bad;

    if (HAS(x, A_SPOP_count)) {
        long long c = ARGI(x, A_SPOP_count);
        if (c < 0) {
            reply_err(x->r, E_POSITIVE);
            return;
        }
        spop_count(x, key, klen, (unsigned long long)c);
        return;
    }
    e = lookup_set(x, key, klen, true, &bad);
    if (bad) return;
    if (!e) {
        reply_null(x->r);
        return;
    }
    s = set_of(e);
    set_pop(&s, &el);
    set_store(e, s);
    mark = store_dirty_mark();
    store_modified(x->db, e, "spop", NOTIFY_SET);
    reply_elem(x->r, &el);
    propagate_rewritev(x, 3, "SREM", (size_t)4, key, klen, el.p, el.n); /* AOF: SREM key member */
    set_elem_release(&el);
    if (set_size(&s) == 0) store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
    store_dirty_settle(mark, 1); /* Redis: one change, the deletion none */
}

/* ---------------------------------------------------------- SRANDMEMBER */

/* When the set is at most this many times the count, SRANDMEMBER copies it
 * and removes random members instead of picking (Redis's constant). */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

static void srandmember_count(struct exec *x, struct setv *s, unsigned long long count, bool uniq)
{
    unsigned long long size = set_size(s);
    struct set_elem el;
    struct set_iter it;
    struct setv aux;

    if (!uniq || count == 1) {
        /* Repeats allowed: independent picks, in pick order. */
        reply_array(x->r, (long long)count);
        while (count--) {
            set_random(s, &el);
            reply_elem(x->r, &el);
        }
        return;
    }
    if (count >= size) {
        reply_array(x->r, (long long)size);
        set_iter_init(&it, s);
        while (set_iter_next(&it, &el))
            reply_elem(x->r, &el);
        set_iter_release(&it);
        return;
    }
    if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
        /* Copy everything, then drop random members down to count. */
        aux = set_new_ht(size);
        set_iter_init(&it, s);
        while (set_iter_next(&it, &el))
            set_add(&aux, el.p, el.n);
        set_iter_release(&it);
        while (size > count) {
            set_pop(&aux, &el);
            set_elem_release(&el);
            size--;
        }
    } else {
        /* Pick until count distinct members are collected. */
        unsigned long long added = 0;
        aux = set_new_ht(count);
        while (added < count) {
            set_random(s, &el);
            added += (unsigned long long)set_add(&aux, el.p, el.n);
        }
    }
    reply_array(x->r, (long long)count);
    set_iter_init(&it, &aux);
    while (set_iter_next(&it, &el))
        reply_elem(x->r, &el);
    set_iter_release(&it);
    set_free(&aux);
}

/* SRANDMEMBER key [count] */
void cmd_srandmember(struct exec *x)
{
    const char *key = ARGP(x, A_SRANDMEMBER_key);
    size_t klen = ARGN(x, A_SRANDMEMBER_key);
    unsigned long long count = 0;
    bool uniq = true, bad;
    struct kv *e;
    struct setv s;

    if (HAS(x, A_SRANDMEMBER_count)) {
        long long l = ARGI(x, A_SRANDMEMBER_count);
        if (l == LLONG_MIN) {
            reply_errorf(x->r, "ERR value is out of range, value must between %lld and %lld",
                         -LLONG_MAX, LLONG_MAX);
            return;
        }
        if (l >= 0) {
            count = (unsigned long long)l;
        } else {
            count = (unsigned long long)-l;
            uniq = false;
        }
    }
    e = lookup_set(x, key, klen, false, &bad);
    if (bad) return;
    if (!HAS(x, A_SRANDMEMBER_count)) {
        struct set_elem el;
        if (!e) {
            reply_null(x->r);
            return;
        }
        s = set_of(e);
        set_random(&s, &el);
        reply_elem(x->r, &el);
        return;
    }
    if (!e || count == 0) {
        reply_array(x->r, 0);
        return;
    }
    s = set_of(e);
    srandmember_count(x, &s, count, uniq);
}
