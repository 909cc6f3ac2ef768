/* cmd_zset.c — the sorted set group: ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT
 * ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE
 * ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK
 * ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION
 * ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN, with
 * Redis 7.0's replies (RESP2 and RESP3 shapes), error texts and their order,
 * and keyspace-event names. The value itself is core/t_zset.c.
 *
 * ZUNION ZINTER ZDIFF (+STORE) and ZINTERCARD read their options from
 * argv after the key list, as Redis's zunionInterDiffGenericCommand does:
 * Redis checks numkeys with its own texts ("at least 1 input key is
 * needed"), then the keys' types (WRONGTYPE wins over a bad option), and
 * only then the options; their schemas leave all trailing words to the key
 * list so the handler sees them in that order. ZMPOP's numkeys is
 * keel_numkeys (the matcher sizes its key list). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propagate.h" /* AOF rewrites of blocking pops and ZMPOP */
#include "../config/config.h"
#include "commands_gen.h"
#include "blocking.h"
#include "kernel.h"
#include "store.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

static const struct argv_ref *slot_ref(struct exec *x, int slot)
{
    return &x->argv[ARG(x, slot)->pos];
}

/* e is missing, or a sorted set; otherwise WRONGTYPE is replied. */
static bool not_zset(struct exec *x, struct kv *e)
{
    if (e && e->type != OBJ_ZSET) {
        reply_err(x->r, E_WRONGTYPE);
        return true;
    }
    return false;
}

static void reply_empty_array(struct exec *x)
{
    reply_array(x->r, 0);
}

/* The whole buffer as a NUL-terminated C string (stack when small). */
struct cbuf {
    char small[128];
    char *p;
};
static char *cbuf_of(struct cbuf *b, const char *s, size_t n)
{
    b->p = n < sizeof(b->small) ? b->small : xmalloc(n + 1);
    memcpy(b->p, s, n);
    b->p[n] = 0;
    return b->p;
}
static void cbuf_free(struct cbuf *b)
{
    if (b->p != b->small) free(b->p);
}

/* One bound of a score interval, as Redis's zslParseRange: strtod on the
 * C string (so leading spaces, hex and an empty string are accepted), an
 * optional "(" for exclusive, no trailing bytes, no NaN. */
static bool parse_score_bound(const struct argv_ref *a, double *v, bool *ex)
{
    struct cbuf b;
    char *s = cbuf_of(&b, a->p, a->n), *end;
    bool ok;
    *ex = false;
    if (s[0] == '(') {
        *ex = true;
        s++;
    }
    *v = strtod(s, &end);
    ok = end[0] == 0 && !isnan(*v);
    cbuf_free(&b);
    return ok;
}

static bool parse_score_range(const struct argv_ref *min, const struct argv_ref *max,
                              struct zrange_spec *r)
{
    return parse_score_bound(min, &r->min, &r->minex) && parse_score_bound(max, &r->max, &r->maxex);
}

/* One bound of a lex interval (zslParseLexRangeItem): "+", "-", "(x" or "[x". */
static bool parse_lex_bound(const struct argv_ref *a, const char **p, size_t *n, int *kind,
                            bool *ex)
{
    char c = a->n ? a->p[0] : 0;
    switch (c) {
    case '+':
    case '-':
        if (a->n > 1 && a->p[1] != 0) return false;
        *ex = true;
        *kind = c == '+' ? ZLEX_MAX : ZLEX_MIN;
        *p = NULL;
        *n = 0;
        return true;
    case '(':
    case '[':
        *ex = c == '(';
        *kind = ZLEX_STR;
        *p = a->p + 1;
        *n = a->n - 1;
        return true;
    default:
        return false;
    }
}

static bool parse_lex_range(const struct argv_ref *min, const struct argv_ref *max,
                            struct zlex_spec *r)
{
    return parse_lex_bound(min, &r->min, &r->minlen, &r->minkind, &r->minex) &&
           parse_lex_bound(max, &r->max, &r->maxlen, &r->maxkind, &r->maxex);
}

static bool parse_ll(const struct argv_ref *a, long long *v)
{
    return util_str2ll(a->p, a->n, v);
}

/* A member and, optionally, its score: [m, s] pairs in RESP3 (pairs true),
 * flat in RESP2. */
static void reply_member(struct reply *r, const char *m, size_t n, bool withscores, double score,
                         bool pairs)
{
    if (pairs) reply_array(r, 2);
    reply_bulk(r, m, n);
    if (withscores) reply_double(r, score);
}

/* Delete key if its sorted set is empty, with Redis's "del" event. */
static void delete_if_empty(struct exec *x, struct kv *e, const char *key, size_t klen)
{
    if (zset_length(e) == 0) store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
}

/* ---------------------------------------------------------- ZADD ZINCRBY */

static const char nan_err[] = "ERR resulting score is not a number (NaN)";

/* The ZADD core on already-validated flags and the argv index of the first
 * score; pairs score/member pairs. */
static void zadd_generic(struct exec *x, const char *key, size_t klen, int flags, bool ch,
                         int first, int pairs)
{
    bool incr = flags & ZADD_IN_INCR;
    double scores_small[16], *scores = scores_small, score = 0;
    long long added = 0, updated = 0, processed = 0;
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
    if (created) {
        if (zset_length(e))
            store_add(x->db, e, incr ? "zincr" : "zadd", NOTIFY_ZSET);
        else
            kv_free(e);
    } else if (added || updated) {
        store_modified(x->db, e, incr ? "zincr" : "zadd", NOTIFY_ZSET);
    }
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
        store_modified(x->db, e, "zrem", NOTIFY_ZSET);
        delete_if_empty(x, e, key, klen);
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

/* --------------------------------------------------- ZCOUNT ZLEXCOUNT */

/* ZCOUNT key min max */
void cmd_zcount(struct exec *x)
{
    struct zrange_spec r;
    struct kv *e;
    if (!parse_score_range(slot_ref(x, A_ZCOUNT_min), slot_ref(x, A_ZCOUNT_max), &r)) {
        reply_error(x->r, "ERR min or max is not a float");
        return;
    }
    e = store_lookup_read(x->db, ARGP(x, A_ZCOUNT_key), ARGN(x, A_ZCOUNT_key));
    if (not_zset(x, e)) return;
    reply_int(x->r, e ? (long long)zset_count_score(e, &r) : 0);
}

/* ZLEXCOUNT key min max */
void cmd_zlexcount(struct exec *x)
{
    struct zlex_spec r;
    struct kv *e;
    if (!parse_lex_range(slot_ref(x, A_ZLEXCOUNT_min), slot_ref(x, A_ZLEXCOUNT_max), &r)) {
        reply_error(x->r, "ERR min or max not valid string range item");
        return;
    }
    e = store_lookup_read(x->db, ARGP(x, A_ZLEXCOUNT_key), ARGN(x, A_ZLEXCOUNT_key));
    if (not_zset(x, e)) return;
    reply_int(x->r, e ? (long long)zset_count_lex(e, &r) : 0);
}

/* ------------------------------------------------------ the ZRANGE family */

enum zr_type { ZRT_RANK, ZRT_SCORE, ZRT_LEX };

/* Where a range goes: to the client, or into a new sorted set (ZRANGESTORE). */
struct zr_sink {
    struct exec *x;
    bool withscores, pairs;
    const char *dst; /* ZRANGESTORE: destination key, else NULL */
    size_t dstlen;
    struct kv *obj;
    void *deferred;
    long long n;
};

static void sink_begin(struct zr_sink *s, long long len)
{
    s->n = 0;
    if (s->dst) {
        /* Redis sizes the result by the rank range's length (unknown for
         * score and lex ranges): observable as the skiplist keeping -0. */
        s->obj = zset_new_kv(s->dst, s->dstlen, len > 0 ? (size_t)len : 0, 0);
        return;
    }
    if (len > 0) {
        reply_array(s->x->r, s->withscores && !s->pairs ? len * 2 : len);
        s->deferred = NULL;
    } else {
        s->deferred = reply_defer(s->x->r, AGG_ARRAY);
    }
}

static void sink_emit(struct zr_sink *s, const char *m, size_t n, double score)
{
    s->n++;
    if (s->dst) {
        int out;
        double ns;
        zset_add(s->obj, score, m, n, ZADD_IN_NX, &out, &ns);
        return;
    }
    reply_member(s->x->r, m, n, s->withscores, score, s->pairs);
}

static void sink_end(struct zr_sink *s)
{
    struct exec *x = s->x;
    if (s->dst) {
        if (s->n) {
            store_set(x->db, s->obj, false, "zrangestore", NOTIFY_ZSET);
            reply_int(x->r, s->n);
        } else {
            kv_free(s->obj);
            reply_int(x->r, 0);
            store_delete(x->db, s->dst, s->dstlen, "del", NOTIFY_GENERIC);
        }
        return;
    }
    if (s->deferred)
        reply_set_deferred(x->r, s->deferred, s->withscores && !s->pairs ? s->n * 2 : s->n);
}

static void range_by_rank(struct zr_sink *s, struct kv *e, long long start, long long end, bool rev)
{
    long long llen = (long long)zset_length(e), k;
    struct zset_iter it;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        sink_begin(s, 0);
        sink_end(s);
        return;
    }
    if (end >= llen) end = llen - 1;
    sink_begin(s, end - start + 1);
    zset_iter_rank(&it, e, (unsigned long)start, rev);
    for (k = start; k <= end && zset_iter_valid(&it); k++) {
        size_t n;
        const char *m = zset_iter_member(&it, &n);
        sink_emit(s, m, n, zset_iter_get_score(&it));
        zset_iter_next(&it);
    }
    sink_end(s);
}

static void range_by_score(struct zr_sink *s, struct kv *e, const struct zrange_spec *r,
                           long long offset, long long limit, bool rev)
{
    struct zset_iter it;
    if (offset > 0 && offset >= (long long)zset_length(e)) {
        sink_begin(s, 0);
        sink_end(s);
        return;
    }
    sink_begin(s, -1);
    if (zset_iter_score(&it, e, r, rev)) {
        while (zset_iter_valid(&it) && offset--)
            zset_iter_next(&it);
        while (zset_iter_valid(&it) && limit--) {
            double score = zset_iter_get_score(&it);
            size_t n;
            const char *m;
            if (rev ? !zr_gte_min(score, r) : !zr_lte_max(score, r)) break;
            m = zset_iter_member(&it, &n);
            sink_emit(s, m, n, score);
            zset_iter_next(&it);
        }
    }
    sink_end(s);
}

static void range_by_lex(struct zr_sink *s, struct kv *e, const struct zlex_spec *r,
                         long long offset, long long limit, bool rev)
{
    struct zset_iter it;
    if (offset > 0 && offset >= (long long)zset_length(e)) {
        sink_begin(s, 0);
        sink_end(s);
        return;
    }
    sink_begin(s, -1);
    if (zset_iter_lex(&it, e, r, rev)) {
        while (zset_iter_valid(&it) && offset--)
            zset_iter_next(&it);
        while (zset_iter_valid(&it) && limit--) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            if (rev ? !zlex_gte_min(m, n, r) : !zlex_lte_max(m, n, r)) break;
            sink_emit(s, m, n, zset_iter_get_score(&it));
            zset_iter_next(&it);
        }
    }
    sink_end(s);
}

/* Redis's zrangeGenericCommand from step 1's checks on: options are
 * parsed; lo/hi are the range words as given (swapped here for REV score
 * and lex ranges, which take max first). */
static void zrange_generic(struct zr_sink *s, const struct argv_ref *key, const struct argv_ref *lo,
                           const struct argv_ref *hi, enum zr_type type, bool rev, bool has_limit,
                           long long offset, long long limit)
{
    struct exec *x = s->x;
    long long start = 0, end = 0;
    struct zrange_spec sr;
    struct zlex_spec lr;
    struct kv *e;

    /* (Redis's test is on the count: LIMIT x -1 passes a rank range) */
    if (has_limit && limit != -1 && type == ZRT_RANK) {
        reply_error(x->r, "ERR syntax error, LIMIT is only supported in combination with either "
                          "BYSCORE or BYLEX");
        return;
    }
    if (s->withscores && type == ZRT_LEX) {
        reply_error(x->r, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    if (rev && type != ZRT_RANK) {
        const struct argv_ref *t = lo;
        lo = hi;
        hi = t;
    }
    switch (type) {
    case ZRT_RANK:
        if (!parse_ll(lo, &start) || !parse_ll(hi, &end)) {
            reply_err(x->r, E_NOT_INT);
            return;
        }
        break;
    case ZRT_SCORE:
        if (!parse_score_range(lo, hi, &sr)) {
            reply_error(x->r, "ERR min or max is not a float");
            return;
        }
        break;
    case ZRT_LEX:
        if (!parse_lex_range(lo, hi, &lr)) {
            reply_error(x->r, "ERR min or max not valid string range item");
            return;
        }
        break;
    }
    e = store_lookup_read(x->db, key->p, key->n);
    if (!e) {
        if (s->dst) {
            sink_begin(s, -1);
            sink_end(s);
        } else {
            reply_empty_array(x);
        }
        return;
    }
    if (not_zset(x, e)) return;
    switch (type) {
    case ZRT_RANK:
        range_by_rank(s, e, start, end, rev);
        break;
    case ZRT_SCORE:
        range_by_score(s, e, &sr, offset, limit, rev);
        break;
    case ZRT_LEX:
        range_by_lex(s, e, &lr, offset, limit, rev);
        break;
    }
}

static void sink_init(struct zr_sink *s, struct exec *x, bool withscores)
{
    memset(s, 0, sizeof(*s));
    s->x = x;
    s->withscores = withscores;
    s->pairs = withscores && x->r->resp > 2;
}

/* ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
void cmd_zrange(struct exec *x)
{
    struct zr_sink s;
    const struct argval *by = ARG(x, A_ZRANGE_sortby);
    enum zr_type type = !by->present ? ZRT_RANK : by->choice == 0 ? ZRT_SCORE : ZRT_LEX;
    bool lim = HAS(x, A_ZRANGE_offset_count);
    sink_init(&s, x, HAS(x, A_ZRANGE_withscores));
    zrange_generic(&s, slot_ref(x, A_ZRANGE_key), slot_ref(x, A_ZRANGE_start),
                   slot_ref(x, A_ZRANGE_stop), type, HAS(x, A_ZRANGE_rev), lim,
                   lim ? ARGI(x, A_ZRANGE_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZRANGE_offset_count_count) : -1);
}

/* ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count] */
void cmd_zrangestore(struct exec *x)
{
    struct zr_sink s;
    const struct argval *by = ARG(x, A_ZRANGESTORE_sortby);
    enum zr_type type = !by->present ? ZRT_RANK : by->choice == 0 ? ZRT_SCORE : ZRT_LEX;
    bool lim = HAS(x, A_ZRANGESTORE_offset_count);
    sink_init(&s, x, false);
    s.dst = ARGP(x, A_ZRANGESTORE_dst);
    s.dstlen = ARGN(x, A_ZRANGESTORE_dst);
    zrange_generic(&s, slot_ref(x, A_ZRANGESTORE_src), slot_ref(x, A_ZRANGESTORE_min),
                   slot_ref(x, A_ZRANGESTORE_max), type, HAS(x, A_ZRANGESTORE_rev), lim,
                   lim ? ARGI(x, A_ZRANGESTORE_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZRANGESTORE_offset_count_count) : -1);
}

/* ZREVRANGE key start stop [WITHSCORES] */
void cmd_zrevrange(struct exec *x)
{
    /* Redis's loop also takes LIMIT here (keel_hidden), to refuse it. */
    struct zr_sink s;
    bool lim = HAS(x, A_ZREVRANGE_offset_count);
    sink_init(&s, x, HAS(x, A_ZREVRANGE_withscores));
    zrange_generic(&s, slot_ref(x, A_ZREVRANGE_key), slot_ref(x, A_ZREVRANGE_start),
                   slot_ref(x, A_ZREVRANGE_stop), ZRT_RANK, true, lim,
                   lim ? ARGI(x, A_ZREVRANGE_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZREVRANGE_offset_count_count) : -1);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
void cmd_zrangebyscore(struct exec *x)
{
    struct zr_sink s;
    bool lim = HAS(x, A_ZRANGEBYSCORE_offset_count);
    sink_init(&s, x, HAS(x, A_ZRANGEBYSCORE_withscores));
    zrange_generic(&s, slot_ref(x, A_ZRANGEBYSCORE_key), slot_ref(x, A_ZRANGEBYSCORE_min),
                   slot_ref(x, A_ZRANGEBYSCORE_max), ZRT_SCORE, false, lim,
                   lim ? ARGI(x, A_ZRANGEBYSCORE_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZRANGEBYSCORE_offset_count_count) : -1);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
void cmd_zrevrangebyscore(struct exec *x)
{
    struct zr_sink s;
    bool lim = HAS(x, A_ZREVRANGEBYSCORE_offset_count);
    sink_init(&s, x, HAS(x, A_ZREVRANGEBYSCORE_withscores));
    zrange_generic(&s, slot_ref(x, A_ZREVRANGEBYSCORE_key), slot_ref(x, A_ZREVRANGEBYSCORE_max),
                   slot_ref(x, A_ZREVRANGEBYSCORE_min), ZRT_SCORE, true, lim,
                   lim ? ARGI(x, A_ZREVRANGEBYSCORE_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZREVRANGEBYSCORE_offset_count_count) : -1);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
void cmd_zrangebylex(struct exec *x)
{
    struct zr_sink s;
    bool lim = HAS(x, A_ZRANGEBYLEX_offset_count);
    /* WITHSCORES is keel_hidden: Redis's loop takes it to refuse it. */
    sink_init(&s, x, HAS(x, A_ZRANGEBYLEX_withscores));
    zrange_generic(&s, slot_ref(x, A_ZRANGEBYLEX_key), slot_ref(x, A_ZRANGEBYLEX_min),
                   slot_ref(x, A_ZRANGEBYLEX_max), ZRT_LEX, false, lim,
                   lim ? ARGI(x, A_ZRANGEBYLEX_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZRANGEBYLEX_offset_count_count) : -1);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
void cmd_zrevrangebylex(struct exec *x)
{
    struct zr_sink s;
    bool lim = HAS(x, A_ZREVRANGEBYLEX_offset_count);
    sink_init(&s, x, HAS(x, A_ZREVRANGEBYLEX_withscores));
    zrange_generic(&s, slot_ref(x, A_ZREVRANGEBYLEX_key), slot_ref(x, A_ZREVRANGEBYLEX_max),
                   slot_ref(x, A_ZREVRANGEBYLEX_min), ZRT_LEX, true, lim,
                   lim ? ARGI(x, A_ZREVRANGEBYLEX_offset_count_offset) : 0,
                   lim ? ARGI(x, A_ZREVRANGEBYLEX_offset_count_count) : -1);
}

/* ----------------------------------------------------- ZREMRANGEBY* */

static void zremrange_tail(struct exec *x, struct kv *e, const char *key, size_t klen,
                           unsigned long deleted, const char *ev)
{
    if (deleted) {
        store_modified(x->db, e, ev, NOTIFY_ZSET);
        delete_if_empty(x, e, key, klen);
    }
    reply_int(x->r, (long long)deleted);
}

/* ZREMRANGEBYRANK key start stop */
void cmd_zremrangebyrank(struct exec *x)
{
    const char *key = ARGP(x, A_ZREMRANGEBYRANK_key);
    size_t klen = ARGN(x, A_ZREMRANGEBYRANK_key);
    long long start = ARGI(x, A_ZREMRANGEBYRANK_start), end = ARGI(x, A_ZREMRANGEBYRANK_stop), llen;
    struct kv *e = store_lookup_write(x->db, key, klen);
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_zset(x, e)) return;
    llen = (long long)zset_length(e);
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        reply_int(x->r, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    zremrange_tail(x, e, key, klen, zset_delete_rank(e, (unsigned long)start, (unsigned long)end),
                   "zremrangebyrank");
}

/* ZREMRANGEBYSCORE key min max */
void cmd_zremrangebyscore(struct exec *x)
{
    const char *key = ARGP(x, A_ZREMRANGEBYSCORE_key);
    size_t klen = ARGN(x, A_ZREMRANGEBYSCORE_key);
    struct zrange_spec r;
    struct kv *e;
    if (!parse_score_range(slot_ref(x, A_ZREMRANGEBYSCORE_min), slot_ref(x, A_ZREMRANGEBYSCORE_max),
                           &r)) {
        reply_error(x->r, "ERR min or max is not a float");
        return;
    }
    e = store_lookup_write(x->db, key, klen);
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_zset(x, e)) return;
    zremrange_tail(x, e, key, klen, zset_delete_score(e, &r), "zremrangebyscore");
}

/* ZREMRANGEBYLEX key min max */
void cmd_zremrangebylex(struct exec *x)
{
    const char *key = ARGP(x, A_ZREMRANGEBYLEX_key);
    size_t klen = ARGN(x, A_ZREMRANGEBYLEX_key);
    struct zlex_spec r;
    struct kv *e;
    if (!parse_lex_range(slot_ref(x, A_ZREMRANGEBYLEX_min), slot_ref(x, A_ZREMRANGEBYLEX_max),
                         &r)) {
        reply_error(x->r, "ERR min or max not valid string range item");
        return;
    }
    e = store_lookup_write(x->db, key, klen);
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_zset(x, e)) return;
    zremrange_tail(x, e, key, klen, zset_delete_lex(e, &r), "zremrangebylex");
}

/* ------------------------------------------------ ZPOPMIN ZPOPMAX ZMPOP */

/* Redis's genericZpopCommand: pop up to count (-1: one, flat) members from
 * the first existing key of keys. emitkey: ZMPOP's [key, [...]] shape. */
static void zpop_generic(struct exec *x, const struct argv_ref *keys, int nkeys, bool max,
                         bool emitkey, long long count, bool nested, bool nil_when_empty)
{
    const struct argv_ref *key = NULL;
    struct kv *e = NULL;
    long long llen, rangelen, done = 0;
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
    store_modified(x->db, e, max ? "zpopmax" : "zpopmin", NOTIFY_ZSET);
    delete_if_empty(x, e, key->p, key->n);
    if (emitkey && propagating()) { /* AOF: [B]ZMPOP -> ZPOPMIN/MAX key n (core/propagate.c) */
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
        struct zr_sink s;
        sink_init(&s, x, withscores);
        range_by_rank(&s, e, 0, -1, true);
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
        if (l < -LLONG_MAX) {
            reply_errorf(x->r, "ERR value is out of range, value must between %lld and %lld",
                         -LLONG_MAX, LLONG_MAX);
            return;
        }
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

/* ------------------------------------- ZUNION ZINTER ZDIFF (+STORE), ZINTERCARD */

enum setop { OP_UNION, OP_INTER, OP_DIFF };
enum aggr { AGG_SUM, AGG_MIN, AGG_MAX };

struct zsrc {
    struct kv *e; /* NULL: missing key (empty) */
    double weight;
    unsigned long len;
    int idx; /* position in the command (stable sort) */
};

static unsigned long src_len(const struct kv *e)
{
    if (!e) return 0;
    if (e->type == OBJ_ZSET) return zset_length(e);
    {
        struct setv s = set_of(e);
        return set_size(&s);
    }
}

/* Score of member m in src (a set member scores 1). */
static bool src_find(const struct zsrc *src, const char *m, size_t n, double *score)
{
    if (!src->e) return false;
    if (src->e->type == OBJ_ZSET) return zset_score(src->e, m, n, score);
    {
        struct setv s = set_of(src->e);
        if (!set_ismember(&s, m, n)) return false;
        *score = 1.0;
        return true;
    }
}

typedef void (*src_visit_fn)(void *priv, const char *m, size_t n, double score);

/* Visit every member of a source with its (unweighted) score. */
static void src_each(const struct zsrc *src, src_visit_fn fn, void *priv)
{
    if (!src->e) return;
    if (src->e->type == OBJ_ZSET) {
        struct zset_iter it;
        for (zset_iter_rank(&it, src->e, 0, false); zset_iter_valid(&it); zset_iter_next(&it)) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            fn(priv, m, n, zset_iter_get_score(&it));
        }
    } else {
        struct setv s = set_of(src->e);
        struct set_iter it;
        struct set_elem el;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &el))
            fn(priv, el.p, el.n, 1.0);
        set_iter_release(&it);
    }
}

static void aggregate(double *target, double val, enum aggr a)
{
    if (a == AGG_SUM) {
        *target = *target + val;
        if (isnan(*target)) *target = 0.0;
    } else if (a == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

struct setop_ctx {
    struct zset *dst;
    struct zsrc *src;
    long nsrc;
    enum aggr agg;
    double weight;
    size_t maxelelen, totelelen;
    bool card_only;
    unsigned long card, limit;
    bool stop;
};

static void note_len(struct setop_ctx *c, size_t n)
{
    c->totelelen += n;
    if (n > c->maxelelen) c->maxelelen = n;
}

static void union_visit(void *priv, const char *m, size_t n, double s)
{
    struct setop_ctx *c = priv;
    double score = c->weight * s;
    struct zsl_node *x;
    if (isnan(score)) score = 0;
    x = zs_find(c->dst, m, n);
    if (!x) {
        zs_insert(c->dst, score, m, n);
        note_len(c, n);
    } else {
        double t = x->score;
        aggregate(&t, score, c->agg);
        /* equal values may still differ in sign (-0 + 0 = 0) */
        if (t == x->score)
            x->score = t;
        else
            zs_update_score(c->dst, x, t);
    }
}

static void inter_visit(void *priv, const char *m, size_t n, double s)
{
    struct setop_ctx *c = priv;
    double score = c->src[0].weight * s, value;
    long j;
    if (c->stop) return;
    if (isnan(score)) score = 0;
    for (j = 1; j < c->nsrc; j++) {
        if (!src_find(&c->src[j], m, n, &value)) break;
        value *= c->src[j].weight;
        aggregate(&score, value, c->agg);
    }
    if (j < c->nsrc) return;
    if (c->card_only) {
        c->card++;
        if (c->limit && c->card >= c->limit) c->stop = true;
        return;
    }
    zs_insert(c->dst, score, m, n);
    note_len(c, n);
}

static void diff_visit(void *priv, const char *m, size_t n, double s)
{
    struct setop_ctx *c = priv;
    double value;
    long j;
    for (j = 1; j < c->nsrc; j++)
        if (src_find(&c->src[j], m, n, &value)) return;
    zs_insert(c->dst, s, m, n);
    note_len(c, n);
}

static int cmp_src_card(const void *a, const void *b)
{
    const struct zsrc *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->idx - y->idx;
}

/* Redis's zunionInterDiffGenericCommand, one body for the zsetop family
 * (ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD): the matcher checked
 * numkeys and sized the key list; the keys' types come next, and only then
 * the options' errors (keel_deferred_from), as Redis parses them. */
static void setop_generic(struct exec *x, enum setop op, bool card_only)
{
    const struct argval *keys = ARG(x, A_ZSETOP_key), *w = ARG(x, A_ZSETOP_weight);
    const struct argv_ref *dst =
        HAS(x, A_ZSETOP_destination) ? &x->argv[ARG(x, A_ZSETOP_destination)->pos] : NULL;
    long long setnum = keys->count, limit = 0;
    enum aggr agg = AGG_SUM;
    bool withscores = HAS(x, A_ZSETOP_withscores);
    struct zsrc *src;
    struct setop_ctx c;
    int i;
    long k;

    src = xcalloc((size_t)setnum, sizeof(*src));
    for (i = 0; i < setnum; i++) {
        const struct argv_ref *key = &x->argv[keys->list[i]];
        struct kv *e = dst ? store_lookup_write(x->db, key->p, key->n)
                           : store_lookup_read(x->db, key->p, key->n);
        if (e && e->type != OBJ_ZSET && e->type != OBJ_SET) {
            free(src);
            reply_err(x->r, E_WRONGTYPE);
            return;
        }
        src[i].e = e;
        src[i].weight = 1.0;
        src[i].idx = i;
    }
    if (!arg_ok(x, A_ZSETOP_deferred)) {
        free(src);
        return;
    }
    /* The last WEIGHTS' values (the matcher parsed them). */
    for (i = 0; w->present && i < setnum; i++)
        util_str2d(x->argv[w->list[i]].p, x->argv[w->list[i]].n, &src[i].weight);
    if (HAS(x, A_ZSETOP_aggregate))
        agg = (enum aggr[]){AGG_SUM, AGG_MIN, AGG_MAX}[ARG(x, A_ZSETOP_aggregate)->choice];
    if (HAS(x, A_ZSETOP_limit)) limit = ARGI(x, A_ZSETOP_limit);

    for (i = 0; i < setnum; i++)
        src[i].len = src_len(src[i].e);
    /* Smallest first (a stable order for equal sizes); ZDIFF keeps its first. */
    if (op != OP_DIFF) qsort(src, (size_t)setnum, sizeof(*src), cmp_src_card);
    memset(&c, 0, sizeof(c));
    c.dst = zs_new();
    c.src = src;
    c.nsrc = (long)setnum;
    c.agg = agg;
    c.card_only = card_only;
    c.limit = (unsigned long)limit;

    if (op == OP_INTER) {
        if (src[0].len > 0) src_each(&src[0], inter_visit, &c);
    } else if (op == OP_UNION) {
        for (k = 0; k < c.nsrc; k++) {
            if (src[k].len == 0) continue;
            c.weight = src[k].weight;
            src_each(&src[k], union_visit, &c);
        }
    } else {
        if (src[0].len > 0) src_each(&src[0], diff_visit, &c);
    }
    free(src);

    if (dst) {
        static const char *const ev[] = {"zunionstore", "zinterstore", "zdiffstore"};
        if (c.dst->zsl.length) {
            struct kv *e = kv_new_ptr(dst->p, dst->n, OBJ_ZSET, ENC_SKIPLIST, c.dst);
            long long len = (long long)c.dst->zsl.length;
            zset_shrink_if_needed(e, c.maxelelen, c.totelelen);
            store_set(x->db, e, false, ev[op], NOTIFY_ZSET);
            reply_int(x->r, len);
        } else {
            zs_free(c.dst);
            reply_int(x->r, 0);
            store_delete(x->db, dst->p, dst->n, "del", NOTIFY_GENERIC);
        }
    } else if (card_only) {
        zs_free(c.dst);
        reply_int(x->r, (long long)c.card);
    } else {
        bool pairs = withscores && x->r->resp > 2;
        unsigned long len = c.dst->zsl.length;
        struct zsl_node *n = c.dst->zsl.header->lv[0].forward;
        reply_array(x->r, withscores && !pairs ? (long long)len * 2 : (long long)len);
        for (; n; n = n->lv[0].forward)
            reply_member(x->r, zsl_member(n), n->mlen, withscores, n->score, pairs);
        zs_free(c.dst);
    }
}

/* ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *     [AGGREGATE SUM | MIN | MAX] */
void cmd_zunionstore(struct exec *x)
{
    setop_generic(x, OP_UNION, false);
}

/* ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *     [AGGREGATE SUM | MIN | MAX] */
void cmd_zinterstore(struct exec *x)
{
    setop_generic(x, OP_INTER, false);
}

/* ZDIFFSTORE destination numkeys key [key ...] */
void cmd_zdiffstore(struct exec *x)
{
    setop_generic(x, OP_DIFF, false);
}

/* ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
 *     [WITHSCORES] */
void cmd_zunion(struct exec *x)
{
    setop_generic(x, OP_UNION, false);
}

/* ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
 *     [WITHSCORES] */
void cmd_zinter(struct exec *x)
{
    setop_generic(x, OP_INTER, false);
}

/* ZDIFF numkeys key [key ...] [WITHSCORES] */
void cmd_zdiff(struct exec *x)
{
    setop_generic(x, OP_DIFF, false);
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
void cmd_zintercard(struct exec *x)
{
    setop_generic(x, OP_INTER, true);
}

/* ------------------------------------- BZPOPMIN BZPOPMAX BZMPOP (blocking) */

/* BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score] from the
 * first non-empty sorted set, else wait (core/blocking.h). */
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
        store_modified(x->db, e, max ? "zpopmax" : "zpopmin", NOTIFY_ZSET);
        delete_if_empty(x, e, key->p, key->n);
        /* AOF: ZPOPMIN/ZPOPMAX key, as Redis 7.0 (core/propagate.c) */
        propagate_rewritev(x, 2, max ? "ZPOPMAX" : "ZPOPMIN", (size_t)7, key->p, key->n);
        return;
    }
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY))
        reply_null_array(x->r);
}

/* BZPOPMIN key [key ...] timeout */
void cmd_bzpopmin(struct exec *x) { bzpop_generic(x, A_BZPOPMIN_key, A_BZPOPMIN_timeout, false); }

/* BZPOPMAX key [key ...] timeout */
void cmd_bzpopmax(struct exec *x) { bzpop_generic(x, A_BZPOPMAX_key, A_BZPOPMAX_timeout, true); }

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
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY))
        reply_null_array(x->r);
}
