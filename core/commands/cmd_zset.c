/* cmd_zset.c — the sorted set group's basic operations: ZADD ZINCRBY ZREM
 * ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER and
 * the blocking BZPOPMIN BZPOPMAX BZMPOP, with Redis 7.0's replies (RESP2
 * and RESP3 shapes), error texts and their order, and keyspace-event
 * names. Ranges and the set operations are core/commands/cmd_zset_range.c, ZSCAN is
 * core/commands/cmd_scan.c, the value itself core/types/t_zset.c. ZMPOP's numkeys is
 * keel_numkeys (the matcher sizes its key list), its COUNT keel_once. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propagate.h" /* AOF rewrites of blocking pops and ZMPOP */
#include "config.h"
#include "commands_gen.h"
#include "blocking.h"
#include "kernel.h"
#include "store.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "cmd_zset.h"

/* ---------------------------------------------------------- ZADD ZINCRBY */

static const char nan_err[] = "ERR resulting score is not a number (NaN)";

/* The ZADD core on already-validated flags and the argv index of the first
 * score; pairs score/member pairs. */
static void zadd_generic(struct exec *x, const char *key, size_t klen, int flags, bool ch,
                         int first, int pairs)
{
    bool incr = flags & ZADD_IN_INCR;
    double scores_small[16], *scores = scores_small, score = 0;
    long long added = 0, updated = 0, processed = 0, mark;
    struct kv *e;
    bool created = false;
    int j;

    if (pairs > 16) scores = xmalloc(sizeof(double) * (size_t)pairs);
    /* All scores first: the command either runs whole or not at all. */
    for (j = 0; j < pairs; j++) {
        const struct argv_ref *a = &x->argv[first + 2 * j];
        if (!util_str2d(a->p, a->n, &scores[j])) {
            reply_err(x->r, E_NOT_VALID_FLOAT);
            goto done;
        }
    }
    e = store_lookup_write(x->db, key, klen);
    if (not_zset(x, e)) goto done;
    if (!e) {
        if (flags & ZADD_IN_XX) goto reply;
        e = zset_new_kv(key, klen, 1, x->argv[first + 1].n);
        created = true;
    }
    for (j = 0; j < pairs; j++) {
        const struct argv_ref *m = &x->argv[first + 2 * j + 1];
        double newscore = scores[j];
        int out;
        if (!zset_add(e, scores[j], m->p, m->n, flags, &out, &newscore)) {
            reply_error(x->r, nan_err);
            break;
        }
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
        if (!(out & ZADD_OUT_NOP)) processed++;
        score = newscore;
    }
    if (j < pairs) { /* NaN: nothing else happens */
        if (created)
            kv_free(e);
        else if (added || updated)
            store_modified(x->db, e, incr ? "zincr" : "zadd", NOTIFY_ZSET);
        goto done;
    }
    mark = store_dirty_mark();
    if (created) {
        if (zset_length(e))
            store_add(x->db, e, incr ? "zincr" : "zadd", NOTIFY_ZSET);
        else
            kv_free(e);
    } else if (added || updated) {
        store_modified(x->db, e, incr ? "zincr" : "zadd", NOTIFY_ZSET);
    }
    store_dirty_settle(mark, added + updated); /* Redis: one change per member */
reply:
    if (incr) {
        if (processed)
            reply_double(x->r, score);
        else
            reply_null(x->r);
    } else {
        reply_int(x->r, ch ? added + updated : added);
    }
done:
    if (scores != scores_small) free(scores);
}

/* ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...] */
void cmd_zadd(struct exec *x)
{
    const struct argval *cond = ARG(x, A_ZADD_condition), *cmp = ARG(x, A_ZADD_comparison);
    const struct argval *sm = ARG(x, A_ZADD_score_member);
    bool nx = cond->present && (cond->mask & 1), xx = cond->present && (cond->mask & 2);
    bool gt = cmp->present && (cmp->mask & 1), lt = cmp->present && (cmp->mask & 2);
    bool incr = HAS(x, A_ZADD_increment);
    int flags = 0;

    if (xx && nx) {
        reply_error(x->r, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(x->r, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && sm->count > 1) {
        reply_error(x->r, "ERR INCR option supports a single increment-element pair");
        return;
    }
    if (nx) flags |= ZADD_IN_NX;
    if (xx) flags |= ZADD_IN_XX;
    if (gt) flags |= ZADD_IN_GT;
    if (lt) flags |= ZADD_IN_LT;
    if (incr) flags |= ZADD_IN_INCR;
    zadd_generic(x, ARGP(x, A_ZADD_key), ARGN(x, A_ZADD_key), flags, HAS(x, A_ZADD_change),
                 sm->list[0], sm->count);
}

/* ZINCRBY key increment member */
void cmd_zincrby(struct exec *x)
{
    /* Redis runs ZINCRBY through ZADD's option loop: a ZADD flag where the
     * increment belongs (keel_hidden NX XX CH INCR GT LT) leaves too few
     * words, a syntax error from the matcher. */
    zadd_generic(x, ARGP(x, A_ZINCRBY_key), ARGN(x, A_ZINCRBY_key), ZADD_IN_INCR, false,
                 ARG(x, A_ZINCRBY_increment)->pos, 1);
}

/* ------------------------------------------------------------ ZREM */

/* ZREM key member [member ...] */
void cmd_zrem(struct exec *x)
{
    const char *key = ARGP(x, A_ZREM_key);
    size_t klen = ARGN(x, A_ZREM_key);
    const struct argval *mem = ARG(x, A_ZREM_member);
    struct kv *e = store_lookup_write(x->db, key, klen);
    long long deleted = 0;
    int k;

    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_zset(x, e)) return;
    for (k = 0; k < mem->count; k++) {
        const struct argv_ref *m = &x->argv[mem->list[k]];
        if (zset_delete(e, m->p, m->n)) deleted++;
        if (zset_length(e) == 0) break;
    }
    if (deleted) {
        long long mark = store_dirty_mark();
        store_modified(x->db, e, "zrem", NOTIFY_ZSET);
        delete_if_empty(x, e, key, klen);
        store_dirty_settle(mark, deleted); /* Redis: one change per member */
    }
    reply_int(x->r, deleted);
}

/* ------------------------------------------------- ZCARD ZSCORE ZMSCORE */

/* ZCARD key */
void cmd_zcard(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_ZCARD_key), ARGN(x, A_ZCARD_key));
    if (not_zset(x, e)) return;
    reply_int(x->r, e ? (long long)zset_length(e) : 0);
}

/* ZSCORE key member */
void cmd_zscore(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_ZSCORE_key), ARGN(x, A_ZSCORE_key));
    double score;
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (not_zset(x, e)) return;
    if (zset_score(e, ARGP(x, A_ZSCORE_member), ARGN(x, A_ZSCORE_member), &score))
        reply_double(x->r, score);
    else
        reply_null(x->r);
}

/* ZMSCORE key member [member ...] */
void cmd_zmscore(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_ZMSCORE_key), ARGN(x, A_ZMSCORE_key));
    const struct argval *mem = ARG(x, A_ZMSCORE_member);
    int k;
    if (not_zset(x, e)) return;
    reply_array(x->r, mem->count);
    for (k = 0; k < mem->count; k++) {
        const struct argv_ref *m = &x->argv[mem->list[k]];
        double score;
        if (e && zset_score(e, m->p, m->n, &score))
            reply_double(x->r, score);
        else
            reply_null(x->r);
    }
}

/* ----------------------------------------------------- ZRANK ZREVRANK */

static void rank_generic(struct exec *x, int kslot, int mslot, bool rev)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, kslot), ARGN(x, kslot));
    long rank;
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (not_zset(x, e)) return;
    rank = zset_rank(e, ARGP(x, mslot), ARGN(x, mslot), rev, NULL);
    if (rank < 0)
        reply_null(x->r);
    else
        reply_int(x->r, rank);
}

/* ZRANK key member */
void cmd_zrank(struct exec *x)
{
    rank_generic(x, A_ZRANK_key, A_ZRANK_member, false);
}

/* ZREVRANK key member */
void cmd_zrevrank(struct exec *x)
{
    rank_generic(x, A_ZREVRANK_key, A_ZREVRANK_member, true);
}

/* ------------------------------------------------ ZPOPMIN ZPOPMAX ZMPOP */

/* Redis's genericZpopCommand: pop up to count (-1: one, flat) members from
 * the first existing key of keys. emitkey: ZMPOP's [key, [...]] shape. */
static void zpop_generic(struct exec *x, const struct argv_ref *keys, int nkeys, bool max,
                         bool emitkey, long long count, bool nested, bool nil_when_empty)
{
    const struct argv_ref *key = NULL;
    struct kv *e = NULL;
    long long llen, rangelen, done = 0, mark;
    int k;

    for (k = 0; k < nkeys; k++) {
        key = &keys[k];
        e = store_lookup_write(x->db, key->p, key->n);
        if (!e) continue;
        if (not_zset(x, e)) return;
        break;
    }
    if (!e) {
        if (nil_when_empty)
            reply_null_array(x->r);
        else
            reply_empty_array(x);
        return;
    }
    if (count == 0) {
        reply_empty_array(x);
        return;
    }
    if (count == -1) count = 1;
    llen = (long long)zset_length(e);
    rangelen = count > llen ? llen : count;
    if (!emitkey) {
        reply_array(x->r, nested ? rangelen : rangelen * 2);
    } else {
        reply_array(x->r, 2);
        reply_bulk(x->r, key->p, key->n);
        reply_array(x->r, rangelen);
    }
    while (done < rangelen) {
        struct zset_iter it;
        size_t n;
        const char *m;
        zset_iter_rank(&it, e, 0, max);
        m = zset_iter_member(&it, &n);
        reply_member(x->r, m, n, true, zset_iter_get_score(&it), nested);
        zset_delete_end(e, max);
        done++;
    }
    mark = store_dirty_mark();
    store_modified(x->db, e, max ? "zpopmax" : "zpopmin", NOTIFY_ZSET);
    delete_if_empty(x, e, key->p, key->n);
    store_dirty_settle(mark, rangelen); /* Redis: one change per member */
    if (emitkey &&
        propagating()) { /* AOF: [B]ZMPOP -> ZPOPMIN/MAX key n (core/persist/propagate.c) */
        char num[24];
        int l = util_ll2str(num, rangelen);
        propagate_rewritev(x, 3, max ? "ZPOPMAX" : "ZPOPMIN", (size_t)7, key->p, key->n, num,
                           (size_t)l);
    }
}

static void zpopminmax(struct exec *x, int kslot, int cslot, bool max)
{
    long long count = -1;
    if (HAS(x, cslot)) {
        count = ARGI(x, cslot);
        if (count < 0) {
            reply_err(x->r, E_POSITIVE);
            return;
        }
    }
    zpop_generic(x, slot_ref(x, kslot), 1, max, false, count, x->r->resp > 2 && count != -1, false);
}

/* ZPOPMIN key [count] */
void cmd_zpopmin(struct exec *x)
{
    zpopminmax(x, A_ZPOPMIN_key, A_ZPOPMIN_count, false);
}

/* ZPOPMAX key [count] */
void cmd_zpopmax(struct exec *x)
{
    zpopminmax(x, A_ZPOPMAX_key, A_ZPOPMAX_count, true);
}

/* ZMPOP numkeys key [key ...] MIN | MAX [COUNT count] */
void cmd_zmpop(struct exec *x)
{
    /* numkeys is keel_numkeys (the matcher sized the key list); COUNT is
     * keel_once with keel_min 1, checked as Redis's loop meets it. */
    const struct argval *keys = ARG(x, A_ZMPOP_key);
    bool max = ARG(x, A_ZMPOP_where)->choice == 1;
    long long count = HAS(x, A_ZMPOP_count) ? ARGI(x, A_ZMPOP_count) : 1;
    zpop_generic(x, &x->argv[keys->list[0]], keys->count, max, true, count, true, true);
}

/* ----------------------------------------------------------- ZRANDMEMBER */

/* A reply too large to build (a huge negative count): stop once the
 * client's output passes this, and close it, as Redis's output limits do. */
#define ZRAND_OUTPUT_CAP ((size_t)1 << 30)

static bool output_overflow(struct exec *x)
{
    size_t qb = 0, qf = 0, obl = 0, oll = 0, omem = 0;
    struct client *c = x->c;
    if (!c || !c->adapter || !c->adapter->buffers) return false;
    c->adapter->buffers(c, &qb, &qf, &obl, &oll, &omem);
    if (omem + obl < ZRAND_OUTPUT_CAP) return false;
    if (c->adapter->close) c->adapter->close(c, false);
    return true;
}

/* A member of e chosen uniformly (e not empty). */
static void random_member(struct kv *e, struct zset_iter *it)
{
    unsigned long len = zset_length(e);
    zset_iter_rank(it, e, (unsigned long)(util_rand64() % len), false);
}

/* count distinct values below size (count < size), in a random order:
 * a partial Fisher-Yates shuffle when the sample is a large part of the
 * set (Redis's case 3), else rejection sampling into a small hash set
 * (case 4). */
static unsigned long *pick_distinct(unsigned long size, unsigned long count)
{
    unsigned long *out = xmalloc(sizeof(unsigned long) * count), i;
    if (count * 3 > size) {
        unsigned long *all = xmalloc(sizeof(unsigned long) * size);
        for (i = 0; i < size; i++)
            all[i] = i;
        for (i = 0; i < count; i++) {
            unsigned long j = i + (unsigned long)(util_rand64() % (size - i)), t = all[i];
            all[i] = all[j];
            all[j] = t;
            out[i] = all[i];
        }
        free(all);
    } else {
        unsigned long cap = 16, mask, k = 0;
        unsigned long *tab;
        while (cap < count * 2)
            cap <<= 1;
        mask = cap - 1;
        tab = xmalloc(sizeof(unsigned long) * cap);
        for (i = 0; i < cap; i++)
            tab[i] = ULONG_MAX;
        while (k < count) {
            unsigned long v = (unsigned long)(util_rand64() % size),
                          h = (v * 0x9E3779B97F4A7C15ULL) & mask;
            while (tab[h] != ULONG_MAX && tab[h] != v)
                h = (h + 1) & mask;
            if (tab[h] == v) continue;
            tab[h] = v;
            out[k++] = v;
        }
        free(tab);
    }
    return out;
}

static void zrandmember_count(struct exec *x, struct kv *e, long long l, bool withscores)
{
    unsigned long size = zset_length(e), count, i;
    bool uniq = l >= 0, pairs = withscores && x->r->resp > 2;
    count = uniq ? (unsigned long)l : (unsigned long)(-l);

    if (count == 0) {
        reply_empty_array(x);
        return;
    }
    if (!uniq || count == 1) {
        reply_array(x->r, withscores && x->r->resp == 2 ? (long long)count * 2 : (long long)count);
        for (i = 0; i < count; i++) {
            struct zset_iter it;
            size_t n;
            const char *m;
            random_member(e, &it);
            m = zset_iter_member(&it, &n);
            reply_member(x->r, m, n, withscores, withscores ? zset_iter_get_score(&it) : 0, pairs);
            if ((i & 1023) == 1023 && output_overflow(x)) break;
        }
        return;
    }
    if (count >= size) {
        /* The whole set, in reverse rank order as Redis 7.0 answers. */
        struct zset_iter it;
        reply_array(x->r, withscores && !pairs ? (long long)size * 2 : (long long)size);
        for (zset_iter_rank(&it, e, 0, true); zset_iter_valid(&it); zset_iter_next(&it)) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            reply_member(x->r, m, n, withscores, zset_iter_get_score(&it), pairs);
        }
        return;
    }
    {
        /* count distinct ranks out of size, in a random order. */
        unsigned long *pick = pick_distinct(size, count);
        reply_array(x->r, withscores && x->r->resp == 2 ? (long long)count * 2 : (long long)count);
        for (i = 0; i < count; i++) {
            struct zset_iter it;
            size_t n;
            const char *m;
            zset_iter_rank(&it, e, pick[i], false);
            m = zset_iter_member(&it, &n);
            reply_member(x->r, m, n, withscores, withscores ? zset_iter_get_score(&it) : 0, pairs);
        }
        free(pick);
    }
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
void cmd_zrandmember(struct exec *x)
{
    const char *key = ARGP(x, A_ZRANDMEMBER_key);
    size_t klen = ARGN(x, A_ZRANDMEMBER_key);
    struct kv *e;
    if (HAS(x, A_ZRANDMEMBER_options)) {
        long long l = ARGI(x, A_ZRANDMEMBER_options_count);
        bool withscores = HAS(x, A_ZRANDMEMBER_options_withscores);
        /* count >= -LLONG_MAX: the schema's keel_min, checked in order */
        if (withscores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            reply_error(x->r, "ERR value is out of range");
            return;
        }
        e = store_lookup_read(x->db, key, klen);
        if (!e) {
            reply_empty_array(x);
            return;
        }
        if (not_zset(x, e)) return;
        zrandmember_count(x, e, l, withscores);
        return;
    }
    e = store_lookup_read(x->db, key, klen);
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (not_zset(x, e)) return;
    {
        struct zset_iter it;
        size_t n;
        const char *m;
        random_member(e, &it);
        m = zset_iter_member(&it, &n);
        reply_bulk(x->r, m, n);
    }
}

/* ------------------------------------- BZPOPMIN BZPOPMAX BZMPOP (blocking) */

/* BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score] from the
 * first non-empty sorted set, else wait (core/events/blocking.h). */
static void bzpop_generic(struct exec *x, int keyslot, int timeoutslot, bool max)
{
    const struct argval *keys = ARG(x, keyslot);
    long long deadline;
    int k;
    if (!arg_ok(x, timeoutslot) || !blocking_deadline(x, ARGLD(x, timeoutslot), &deadline)) return;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_write(x->db, key->p, key->n);
        struct zset_iter it;
        const char *m;
        long long mark;
        size_t n;
        if (!e || (e->type != OBJ_ZSET && blocking_is_retry(x))) continue;
        if (not_zset(x, e)) return;
        if (zset_length(e) == 0) continue;
        zset_iter_rank(&it, e, 0, max);
        m = zset_iter_member(&it, &n);
        reply_array(x->r, 3);
        reply_bulk(x->r, key->p, key->n);
        reply_member(x->r, m, n, true, zset_iter_get_score(&it), false);
        zset_delete_end(e, max);
        mark = store_dirty_mark();
        store_modified(x->db, e, max ? "zpopmax" : "zpopmin", NOTIFY_ZSET);
        delete_if_empty(x, e, key->p, key->n);
        store_dirty_settle(mark, 1); /* Redis: one change, the deletion none */
        /* AOF: ZPOPMIN/ZPOPMAX key, as Redis 7.0 (core/persist/propagate.c) */
        propagate_rewritev(x, 2, max ? "ZPOPMAX" : "ZPOPMIN", (size_t)7, key->p, key->n);
        return;
    }
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY)) reply_null_array(x->r);
}

/* BZPOPMIN key [key ...] timeout */
void cmd_bzpopmin(struct exec *x)
{
    bzpop_generic(x, A_BZPOPMIN_key, A_BZPOPMIN_timeout, false);
}

/* BZPOPMAX key [key ...] timeout */
void cmd_bzpopmax(struct exec *x)
{
    bzpop_generic(x, A_BZPOPMAX_key, A_BZPOPMAX_timeout, true);
}

/* BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count] */
void cmd_bzmpop(struct exec *x)
{
    const struct argval *keys = ARG(x, A_BZMPOP_key);
    bool max = ARG(x, A_BZMPOP_where)->choice == 1;
    long long count = HAS(x, A_BZMPOP_count) ? ARGI(x, A_BZMPOP_count) : 1, deadline;
    int k;
    /* Redis reads the timeout after the options (which the matcher checked). */
    if (!arg_ok(x, A_BZMPOP_timeout) ||
        !blocking_deadline(x, ARGLD(x, A_BZMPOP_timeout), &deadline))
        return;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_write(x->db, key->p, key->n);
        if (!e || (e->type != OBJ_ZSET && blocking_is_retry(x))) continue;
        if (not_zset(x, e)) return;
        if (zset_length(e) == 0) continue;
        zpop_generic(x, key, 1, max, true, count, true, true);
        return;
    }
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY)) reply_null_array(x->r);
}
