/* cmd_zset_range.c — the sorted set commands over ranges and across sets:
 * ZCOUNT ZLEXCOUNT, the ZRANGE family (ZRANGE ZRANGESTORE ZREVRANGE
 * ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX, one option
 * loop in Redis, so ZRANGEBYLEX's WITHSCORES and ZREVRANGE's LIMIT are
 * keel_hidden words refused here), ZREMRANGEBYRANK ZREMRANGEBYSCORE
 * ZREMRANGEBYLEX, and ZUNION ZINTER ZDIFF, their STORE forms and
 * ZINTERCARD (one body on the zsetop family's slots: numkeys, then the
 * keys' types, then the options' first error, as Redis's
 * zunionInterDiffGenericCommand). Redis 7.0's replies, errors and events. */
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
    /* as Redis: a negative offset skips every element, a negative limit
     * is none (counted without overflow from LLONG_MIN) */
    if (offset < 0) offset = LLONG_MAX;
    if (limit < 0) limit = LLONG_MAX;
    if (zset_iter_score(&it, e, r, rev)) {
        for (; zset_iter_valid(&it) && offset > 0; offset--)
            zset_iter_next(&it);
        for (; zset_iter_valid(&it) && limit > 0; limit--) {
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
    /* as Redis: a negative offset skips every element, a negative limit
     * is none (counted without overflow from LLONG_MIN) */
    if (offset < 0) offset = LLONG_MAX;
    if (limit < 0) limit = LLONG_MAX;
    if (zset_iter_lex(&it, e, r, rev)) {
        for (; zset_iter_valid(&it) && offset > 0; offset--)
            zset_iter_next(&it);
        for (; zset_iter_valid(&it) && limit > 0; limit--) {
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
        long long mark = store_dirty_mark();
        store_modified(x->db, e, ev, NOTIFY_ZSET);
        delete_if_empty(x, e, key, klen);
        store_dirty_settle(mark, (long long)deleted); /* Redis: one change per member */
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
        /* a read look-up with or without a destination: Redis 7.0 counts
         * the sources in keyspace_hits / keyspace_misses */
        struct kv *e = store_lookup_read(x->db, key->p, key->n);
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
