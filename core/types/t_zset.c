/* t_zset.c — the sorted set value (t_zset.h): the listpack encoding
 * (member,score pairs in score-then-member order), the skiplist with span
 * counts whose nodes double as the member dict's entries, conversion
 * between them at Redis's thresholds, range searches, range deletions and
 * rank-order iteration. No arguments, no replies. */
#include "t_zset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "siphash.h"
#include "util.h"

/* ---- members and scores ---- */

static int cmp_member(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return an < bn ? -1 : (an > bn ? 1 : 0);
}

int zset_score_text(char *buf, size_t len, double v)
{
    const double min = -4503599627370495.0, max = 4503599627370496.0;
    if (isnan(v)) return snprintf(buf, len, "nan");
    if (isinf(v)) return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    if (v > min && v < max && v == (double)(long long)v) return util_ll2str(buf, (long long)v);
    return snprintf(buf, len, "%.17g", v);
}

/* ---- the dict of skiplist nodes ---- */

static uint64_t node_hash(const struct dnode *d)
{
    const struct zsl_node *n = (const struct zsl_node *)d;
    return siphash(zsl_member(n), n->mlen);
}

static bool node_eq(const struct dnode *d, const void *key, size_t len)
{
    const struct zsl_node *n = (const struct zsl_node *)d;
    return n->mlen == len && (len == 0 || memcmp(zsl_member(n), key, len) == 0);
}

static const struct dict_type zset_dict_type = {node_hash, node_eq};

/* ---- the skiplist ---- */

static uint64_t rng_state;

static int random_level(void)
{
    uint64_t x;
    int level = 1;
    if (rng_state == 0) rng_state = util_rand64() | 1;
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    x = rng_state * 2685821657736338717ULL;
    /* Each further level with probability 1/4: two random bits at a time. */
    while ((x & 3) == 0 && level < ZSKIPLIST_MAXLEVEL) {
        level++;
        x >>= 2;
    }
    return level;
}

static struct zsl_node *node_new(int level, double score, const char *m, size_t n)
{
    struct zsl_node *x =
        xmalloc(sizeof(struct zsl_node) + (size_t)level * sizeof(struct zsl_level) + n);
    x->dn.next = NULL;
    x->score = score;
    x->backward = NULL;
    x->mlen = (uint32_t)n;
    x->level = (uint32_t)level;
    if (n) memcpy((char *)zsl_member(x), m, n);
    return x;
}

/* Whether node x sorts before (score, m). */
static inline bool node_before(const struct zsl_node *x, double score, const char *m, size_t n)
{
    return x->score < score || (x->score == score && cmp_member(zsl_member(x), x->mlen, m, n) < 0);
}

struct zset *zs_new(void)
{
    struct zset *zs = xmalloc(sizeof(*zs));
    int j;
    dict_init(&zs->dict, &zset_dict_type);
    zs->zsl.header = node_new(ZSKIPLIST_MAXLEVEL, 0, NULL, 0);
    for (j = 0; j < ZSKIPLIST_MAXLEVEL; j++) {
        zs->zsl.header->lv[j].forward = NULL;
        zs->zsl.header->lv[j].span = 0;
    }
    zs->zsl.header->backward = NULL;
    zs->zsl.tail = NULL;
    zs->zsl.length = 0;
    zs->zsl.level = 1;
    return zs;
}

void zs_free(struct zset *zs)
{
    struct zsl_node *x = zs->zsl.header->lv[0].forward, *next;
    dict_release(&zs->dict, NULL);
    free(zs->zsl.header);
    while (x) {
        next = x->lv[0].forward;
        free(x);
        x = next;
    }
    free(zs);
}

/* Link an allocated node (score and level set) into its place. */
static void zsl_link(struct zskiplist *zsl, struct zsl_node *x)
{
    struct zsl_node *update[ZSKIPLIST_MAXLEVEL], *h = zsl->header;
    unsigned long rank[ZSKIPLIST_MAXLEVEL];
    const char *m = zsl_member(x);
    int i, level = (int)x->level;

    for (i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (h->lv[i].forward && node_before(h->lv[i].forward, x->score, m, x->mlen)) {
            rank[i] += h->lv[i].span;
            h = h->lv[i].forward;
        }
        update[i] = h;
    }
    if (level > zsl->level) {
        for (i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            update[i]->lv[i].span = zsl->length;
        }
        zsl->level = level;
    }
    for (i = 0; i < level; i++) {
        x->lv[i].forward = update[i]->lv[i].forward;
        update[i]->lv[i].forward = x;
        x->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
        update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
    }
    for (i = level; i < zsl->level; i++)
        update[i]->lv[i].span++;
    x->backward = update[0] == zsl->header ? NULL : update[0];
    if (x->lv[0].forward)
        x->lv[0].forward->backward = x;
    else
        zsl->tail = x;
    zsl->length++;
}

/* Fill update[] with the last node before x on every level. */
static void zsl_find_update(struct zskiplist *zsl, const struct zsl_node *x,
                            struct zsl_node **update)
{
    struct zsl_node *h = zsl->header;
    const char *m = zsl_member(x);
    int i;
    for (i = zsl->level - 1; i >= 0; i--) {
        while (h->lv[i].forward && node_before(h->lv[i].forward, x->score, m, x->mlen))
            h = h->lv[i].forward;
        update[i] = h;
    }
}

static void zsl_unlink(struct zskiplist *zsl, struct zsl_node *x, struct zsl_node **update)
{
    int i;
    for (i = 0; i < zsl->level; i++) {
        if (update[i]->lv[i].forward == x) {
            update[i]->lv[i].span += x->lv[i].span - 1;
            update[i]->lv[i].forward = x->lv[i].forward;
        } else {
            update[i]->lv[i].span -= 1;
        }
    }
    if (x->lv[0].forward)
        x->lv[0].forward->backward = x->backward;
    else
        zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->lv[zsl->level - 1].forward == NULL)
        zsl->level--;
    zsl->length--;
}

struct zsl_node *zs_insert(struct zset *zs, double score, const char *m, size_t n)
{
    struct zsl_node *x = node_new(random_level(), score, m, n);
    zsl_link(&zs->zsl, x);
    dict_add(&zs->dict, &x->dn, siphash(m, n));
    return x;
}

struct zsl_node *zs_find(struct zset *zs, const char *m, size_t n)
{
    return (struct zsl_node *)dict_find(&zs->dict, m, n, siphash(m, n));
}

/* Remove node x (already out of the dict) from the skiplist and free it. */
static void zs_drop(struct zset *zs, struct zsl_node *x)
{
    struct zsl_node *update[ZSKIPLIST_MAXLEVEL];
    zsl_find_update(&zs->zsl, x, update);
    zsl_unlink(&zs->zsl, x, update);
    free(x);
}

bool zs_delete(struct zset *zs, const char *m, size_t n)
{
    struct zsl_node *x = (struct zsl_node *)dict_unlink(&zs->dict, m, n, siphash(m, n));
    if (!x) return false;
    zs_drop(zs, x);
    return true;
}

void zs_update_score(struct zset *zs, struct zsl_node *x, double newscore)
{
    struct zsl_node *update[ZSKIPLIST_MAXLEVEL];
    /* Still in the same place: change the score only. */
    if ((x->backward == NULL || x->backward->score < newscore) &&
        (x->lv[0].forward == NULL || x->lv[0].forward->score > newscore)) {
        x->score = newscore;
        return;
    }
    zsl_find_update(&zs->zsl, x, update);
    zsl_unlink(&zs->zsl, x, update);
    x->score = newscore;
    zsl_link(&zs->zsl, x);
}

unsigned long zsl_rank(struct zskiplist *zsl, double score, const char *m, size_t n)
{
    struct zsl_node *x = zsl->header;
    unsigned long rank = 0;
    int i;
    for (i = zsl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward &&
               (x->lv[i].forward->score < score ||
                (x->lv[i].forward->score == score &&
                 cmp_member(zsl_member(x->lv[i].forward), x->lv[i].forward->mlen, m, n) <= 0))) {
            rank += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (x != zsl->header && x->mlen == n && cmp_member(zsl_member(x), x->mlen, m, n) == 0)
            return rank;
    }
    return 0;
}

struct zsl_node *zsl_by_rank(struct zskiplist *zsl, unsigned long rank)
{
    struct zsl_node *x = zsl->header;
    unsigned long traversed = 0;
    int i;
    for (i = zsl->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && traversed + x->lv[i].span <= rank) {
            traversed += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (traversed == rank) return x == zsl->header ? NULL : x;
    }
    return NULL;
}

bool zr_empty(const struct zrange_spec *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

static bool zsl_in_range(struct zskiplist *zsl, const struct zrange_spec *r)
{
    if (zr_empty(r)) return false;
    if (!zsl->tail || !zr_gte_min(zsl->tail->score, r)) return false;
    if (!zsl->header->lv[0].forward || !zr_lte_max(zsl->header->lv[0].forward->score, r))
        return false;
    return true;
}

struct zsl_node *zsl_first_in_range(struct zskiplist *zsl, const struct zrange_spec *r)
{
    struct zsl_node *x = zsl->header;
    int i;
    if (!zsl_in_range(zsl, r)) return NULL;
    for (i = zsl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && !zr_gte_min(x->lv[i].forward->score, r))
            x = x->lv[i].forward;
    x = x->lv[0].forward;
    return x && zr_lte_max(x->score, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_range(struct zskiplist *zsl, const struct zrange_spec *r)
{
    struct zsl_node *x = zsl->header;
    int i;
    if (!zsl_in_range(zsl, r)) return NULL;
    for (i = zsl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && zr_lte_max(x->lv[i].forward->score, r))
            x = x->lv[i].forward;
    return x != zsl->header && zr_gte_min(x->score, r) ? x : NULL;
}

/* ---- lexicographical intervals ---- */

/* Redis's sdscmplex over bound kinds. */
static int lex_cmp_bounds(int ak, const char *a, size_t an, int bk, const char *b, size_t bn)
{
    if (ak != ZLEX_STR && ak == bk) return 0;
    if (ak == ZLEX_MIN || bk == ZLEX_MAX) return -1;
    if (ak == ZLEX_MAX || bk == ZLEX_MIN) return 1;
    return cmp_member(a, an, b, bn);
}

bool zlex_empty(const struct zlex_spec *r)
{
    int c = lex_cmp_bounds(r->minkind, r->min, r->minlen, r->maxkind, r->max, r->maxlen);
    return c > 0 || (c == 0 && (r->minex || r->maxex));
}

bool zlex_gte_min(const char *s, size_t n, const struct zlex_spec *r)
{
    int c = lex_cmp_bounds(ZLEX_STR, s, n, r->minkind, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}

bool zlex_lte_max(const char *s, size_t n, const struct zlex_spec *r)
{
    int c = lex_cmp_bounds(ZLEX_STR, s, n, r->maxkind, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}

static inline bool node_gte_lex(const struct zsl_node *x, const struct zlex_spec *r)
{
    return zlex_gte_min(zsl_member(x), x->mlen, r);
}
static inline bool node_lte_lex(const struct zsl_node *x, const struct zlex_spec *r)
{
    return zlex_lte_max(zsl_member(x), x->mlen, r);
}

static bool zsl_in_lex(struct zskiplist *zsl, const struct zlex_spec *r)
{
    if (zlex_empty(r)) return false;
    if (!zsl->tail || !node_gte_lex(zsl->tail, r)) return false;
    if (!zsl->header->lv[0].forward || !node_lte_lex(zsl->header->lv[0].forward, r)) return false;
    return true;
}

struct zsl_node *zsl_first_in_lex(struct zskiplist *zsl, const struct zlex_spec *r)
{
    struct zsl_node *x = zsl->header;
    int i;
    if (!zsl_in_lex(zsl, r)) return NULL;
    for (i = zsl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && !node_gte_lex(x->lv[i].forward, r))
            x = x->lv[i].forward;
    x = x->lv[0].forward;
    return x && node_lte_lex(x, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_lex(struct zskiplist *zsl, const struct zlex_spec *r)
{
    struct zsl_node *x = zsl->header;
    int i;
    if (!zsl_in_lex(zsl, r)) return NULL;
    for (i = zsl->level - 1; i >= 0; i--)
        while (x->lv[i].forward && node_lte_lex(x->lv[i].forward, r))
            x = x->lv[i].forward;
    return x != zsl->header && node_gte_lex(x, r) ? x : NULL;
}

/* ---- the listpack encoding ---- */

/* A listpack score entry as a double (Redis's zzlGetScore). */
static double lp_score(const unsigned char *sp)
{
    char ibuf[LP_INTBUF], buf[128];
    size_t len;
    bool isint;
    long long iv;
    const char *s = lp_get(sp, &len, ibuf, &isint, &iv);
    if (isint) return (double)iv;
    if (len >= sizeof(buf)) len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    return strtod(buf, NULL);
}

static const char *lp_member(const unsigned char *ep, size_t *n, char *ibuf)
{
    return lp_get(ep, n, ibuf, NULL, NULL);
}

static int lp_cmp_member(const unsigned char *ep, const char *m, size_t n)
{
    char ibuf[LP_INTBUF];
    size_t len;
    const char *s = lp_member(ep, &len, ibuf);
    return cmp_member(s, len, m, n);
}

static unsigned char *zzl_find(unsigned char *lp, const char *m, size_t n, double *score)
{
    unsigned char *ep = lp_first(lp);
    if (!ep) return NULL;
    ep = lp_find(lp, ep, m, n, 1);
    if (ep && score) *score = lp_score(lp_next(lp, ep));
    return ep;
}

/* Insert member+score before ep (NULL: at the tail). */
static unsigned char *zzl_insert_at(unsigned char *lp, unsigned char *ep, const char *m, size_t n,
                                    double score)
{
    char sbuf[128];
    int slen = zset_score_text(sbuf, sizeof(sbuf), score);
    unsigned char *mp;
    if (!ep) {
        lp = lp_append(lp, m, n);
        return lp_append(lp, sbuf, (size_t)slen);
    }
    lp = lp_insert(lp, m, n, ep, LP_BEFORE, &mp);
    return lp_insert(lp, sbuf, (size_t)slen, mp, LP_AFTER, NULL);
}

static unsigned char *zzl_insert(unsigned char *lp, const char *m, size_t n, double score)
{
    unsigned char *ep = lp_first(lp), *sp;
    while (ep) {
        double s;
        sp = lp_next(lp, ep);
        s = lp_score(sp);
        if (s > score || (s == score && lp_cmp_member(ep, m, n) > 0)) break;
        ep = lp_next(lp, sp);
    }
    return zzl_insert_at(lp, ep, m, n, score);
}

static unsigned char *zzl_delete(unsigned char *lp, unsigned char *ep)
{
    size_t off = (size_t)(ep - lp);
    lp = lp_delete(lp, ep, NULL);
    return lp_delete(lp, lp + off, NULL);
}

static unsigned long zzl_length(const unsigned char *lp)
{
    return lp_count(lp) / 2;
}

/* Redis's zzlIsInLexRange: the interval is not empty, the last member is
 * >= min and the first <= max. Lex intervals assume equal scores; on mixed
 * scores the answers are Redis's because the walk is the same. */
static bool zzl_in_lex(unsigned char *lp, const struct zlex_spec *r)
{
    char ibuf[LP_INTBUF];
    size_t n;
    const char *m;
    unsigned char *p;
    if (zlex_empty(r)) return false;
    p = lp_seek(lp, -2);
    if (!p) return false;
    m = lp_member(p, &n, ibuf);
    if (!zlex_gte_min(m, n, r)) return false;
    p = lp_first(lp);
    m = lp_member(p, &n, ibuf);
    return zlex_lte_max(m, n, r);
}

static unsigned char *zzl_first_in_lex(unsigned char *lp, const struct zlex_spec *r)
{
    unsigned char *ep = lp_first(lp);
    char ibuf[LP_INTBUF];
    if (!zzl_in_lex(lp, r)) return NULL;
    while (ep) {
        size_t n;
        const char *m = lp_member(ep, &n, ibuf);
        if (zlex_gte_min(m, n, r)) return zlex_lte_max(m, n, r) ? ep : NULL;
        ep = lp_next(lp, lp_next(lp, ep));
    }
    return NULL;
}

static unsigned char *zzl_last_in_lex(unsigned char *lp, const struct zlex_spec *r)
{
    unsigned char *ep = lp_seek(lp, -2), *sp;
    char ibuf[LP_INTBUF];
    if (!zzl_in_lex(lp, r)) return NULL;
    while (ep) {
        size_t n;
        const char *m = lp_member(ep, &n, ibuf);
        if (zlex_lte_max(m, n, r)) return zlex_gte_min(m, n, r) ? ep : NULL;
        sp = lp_prev(lp, ep);
        ep = sp ? lp_prev(lp, sp) : NULL;
    }
    return NULL;
}

/* ---- the value ---- */

struct kv *zset_new_kv(const char *key, size_t klen, size_t size_hint, size_t len_hint)
{
    if (size_hint > (size_t)g_config.zset_max_listpack_entries ||
        len_hint > (size_t)g_config.zset_max_listpack_value)
        return kv_new_ptr(key, klen, OBJ_ZSET, ENC_SKIPLIST, zs_new());
    return kv_new_ptr(key, klen, OBJ_ZSET, ENC_LISTPACK, lp_new(0));
}

unsigned long zset_length(const struct kv *e)
{
    if (e->enc == ENC_LISTPACK) return zzl_length(e->v.ptr);
    return ((const struct zset *)e->v.ptr)->zsl.length;
}

void zset_convert(struct kv *e, int enc)
{
    if ((int)e->enc == enc) return;
    if (enc == ENC_SKIPLIST) {
        unsigned char *lp = e->v.ptr, *ep = lp_first(lp);
        struct zset *zs = zs_new();
        char ibuf[LP_INTBUF];
        while (ep) {
            unsigned char *sp = lp_next(lp, ep);
            size_t n;
            const char *m = lp_member(ep, &n, ibuf);
            zs_insert(zs, lp_score(sp), m, n);
            ep = lp_next(lp, sp);
        }
        lp_free(lp);
        e->v.ptr = zs;
        e->enc = ENC_SKIPLIST;
    } else {
        struct zset *zs = e->v.ptr;
        unsigned char *lp = lp_new(0);
        struct zsl_node *x = zs->zsl.header->lv[0].forward;
        while (x) {
            lp = zzl_insert_at(lp, NULL, zsl_member(x), x->mlen, x->score);
            x = x->lv[0].forward;
        }
        zs_free(zs);
        e->v.ptr = lp;
        e->enc = ENC_LISTPACK;
    }
}

void zset_shrink_if_needed(struct kv *e, size_t maxelelen, size_t totelelen)
{
    if (e->enc == ENC_LISTPACK) return;
    if (zset_length(e) <= (unsigned long)g_config.zset_max_listpack_entries &&
        maxelelen <= (size_t)g_config.zset_max_listpack_value && totelelen < ZSET_LP_SAFETY_SIZE)
        zset_convert(e, ENC_LISTPACK);
}

bool zset_add(struct kv *e, double score, const char *m, size_t n, int in, int *out,
              double *newscore)
{
    bool incr = in & ZADD_IN_INCR, nx = in & ZADD_IN_NX, xx = in & ZADD_IN_XX;
    bool gt = in & ZADD_IN_GT, lt = in & ZADD_IN_LT;
    double cur;

    *out = 0;
    if (isnan(score)) {
        *out = ZADD_OUT_NAN;
        return false;
    }
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *ep = zzl_find(lp, m, n, &cur);
        if (ep) {
            if (nx) {
                *out |= ZADD_OUT_NOP;
                return true;
            }
            if (incr) {
                score += cur;
                if (isnan(score)) {
                    *out |= ZADD_OUT_NAN;
                    return false;
                }
            }
            if ((lt && score >= cur) || (gt && score <= cur)) {
                *out |= ZADD_OUT_NOP;
                return true;
            }
            if (newscore) *newscore = score;
            if (score != cur) {
                lp = zzl_delete(lp, ep);
                e->v.ptr = zzl_insert(lp, m, n, score);
                *out |= ZADD_OUT_UPDATED;
            }
            return true;
        }
        if (xx) {
            *out |= ZADD_OUT_NOP;
            return true;
        }
        if (zzl_length(lp) + 1 > (unsigned long)g_config.zset_max_listpack_entries ||
            n > (size_t)g_config.zset_max_listpack_value ||
            lp_bytes(lp) + n > ZSET_LP_SAFETY_SIZE) {
            zset_convert(e, ENC_SKIPLIST);
        } else {
            e->v.ptr = zzl_insert(lp, m, n, score);
            if (newscore) *newscore = score;
            *out |= ZADD_OUT_ADDED;
            return true;
        }
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zs_find(zs, m, n);
        if (x) {
            if (nx) {
                *out |= ZADD_OUT_NOP;
                return true;
            }
            cur = x->score;
            if (incr) {
                score += cur;
                if (isnan(score)) {
                    *out |= ZADD_OUT_NAN;
                    return false;
                }
            }
            if ((lt && score >= cur) || (gt && score <= cur)) {
                *out |= ZADD_OUT_NOP;
                return true;
            }
            if (newscore) *newscore = score;
            if (score != cur) {
                zs_update_score(zs, x, score);
                *out |= ZADD_OUT_UPDATED;
            }
            return true;
        }
        if (xx) {
            *out |= ZADD_OUT_NOP;
            return true;
        }
        zs_insert(zs, score, m, n);
        *out |= ZADD_OUT_ADDED;
        if (newscore) *newscore = score;
        return true;
    }
}

bool zset_delete(struct kv *e, const char *m, size_t n)
{
    if (e->enc == ENC_LISTPACK) {
        unsigned char *ep = zzl_find(e->v.ptr, m, n, NULL);
        if (!ep) return false;
        e->v.ptr = zzl_delete(e->v.ptr, ep);
        return true;
    }
    if (!zs_delete(e->v.ptr, m, n)) return false;
    dict_maybe_shrink(&((struct zset *)e->v.ptr)->dict);
    return true;
}

bool zset_score(struct kv *e, const char *m, size_t n, double *score)
{
    if (e->enc == ENC_LISTPACK) return zzl_find(e->v.ptr, m, n, score) != NULL;
    {
        struct zsl_node *x = zs_find(e->v.ptr, m, n);
        if (!x) return false;
        *score = x->score;
        return true;
    }
}

long zset_rank(struct kv *e, const char *m, size_t n, bool rev, double *score)
{
    unsigned long len = zset_length(e);
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *ep = lp_first(lp);
        unsigned long rank = 0;
        while (ep) {
            unsigned char *sp = lp_next(lp, ep);
            if (lp_eq(ep, m, n)) {
                if (score) *score = lp_score(sp);
                return (long)(rev ? len - 1 - rank : rank);
            }
            rank++;
            ep = lp_next(lp, sp);
        }
        return -1;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zs_find(zs, m, n);
        unsigned long rank;
        if (!x) return -1;
        rank = zsl_rank(&zs->zsl, x->score, m, n);
        if (score) *score = x->score;
        return (long)(rev ? len - rank : rank - 1);
    }
}

unsigned long zset_delete_rank(struct kv *e, unsigned long start, unsigned long end)
{
    unsigned long n = end - start + 1, removed = 0;
    if (e->enc == ENC_LISTPACK) {
        e->v.ptr = lp_delete_range(e->v.ptr, (long)(2 * start), 2 * n);
        return n;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zsl_by_rank(&zs->zsl, start + 1);
        while (x && removed < n) {
            struct zsl_node *next = x->lv[0].forward;
            dict_unlink(&zs->dict, zsl_member(x), x->mlen, siphash(zsl_member(x), x->mlen));
            zs_drop(zs, x);
            removed++;
            x = next;
        }
        dict_maybe_shrink(&zs->dict);
        return removed;
    }
}

/* Delete the listpack pairs from pair index `first` for `count` pairs. */
static unsigned char *zzl_delete_pairs(unsigned char *lp, unsigned long first, unsigned long count)
{
    return count ? lp_delete_range(lp, (long)(2 * first), 2 * count) : lp;
}

unsigned long zset_delete_score(struct kv *e, const struct zrange_spec *r)
{
    unsigned long removed = 0;
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *ep = lp_first(lp);
        unsigned long idx = 0, first = 0;
        bool started = false;
        while (ep) {
            unsigned char *sp = lp_next(lp, ep);
            double s = lp_score(sp);
            if (!started) {
                if (zr_gte_min(s, r)) {
                    if (!zr_lte_max(s, r)) break;
                    started = true;
                    first = idx;
                    removed = 1;
                }
            } else {
                if (!zr_lte_max(s, r)) break;
                removed++;
            }
            idx++;
            ep = lp_next(lp, sp);
        }
        e->v.ptr = zzl_delete_pairs(lp, first, removed);
        return removed;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zsl_first_in_range(&zs->zsl, r);
        while (x && zr_lte_max(x->score, r)) {
            struct zsl_node *next = x->lv[0].forward;
            dict_unlink(&zs->dict, zsl_member(x), x->mlen, siphash(zsl_member(x), x->mlen));
            zs_drop(zs, x);
            removed++;
            x = next;
        }
        dict_maybe_shrink(&zs->dict);
        return removed;
    }
}

unsigned long zset_delete_lex(struct kv *e, const struct zlex_spec *r)
{
    unsigned long removed = 0;
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *ep = zzl_first_in_lex(lp, r), *p;
        char ibuf[LP_INTBUF];
        long first = 0;
        if (!ep) return 0;
        for (p = lp_first(lp); p != ep; p = lp_next(lp, p))
            first++;
        while (ep) {
            size_t n;
            const char *m = lp_member(ep, &n, ibuf);
            if (!zlex_lte_max(m, n, r)) break;
            removed++;
            ep = lp_next(lp, lp_next(lp, ep));
        }
        e->v.ptr = zzl_delete_pairs(lp, (unsigned long)first / 2, removed);
        return removed;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zsl_first_in_lex(&zs->zsl, r);
        while (x && node_lte_lex(x, r)) {
            struct zsl_node *next = x->lv[0].forward;
            dict_unlink(&zs->dict, zsl_member(x), x->mlen, siphash(zsl_member(x), x->mlen));
            zs_drop(zs, x);
            removed++;
            x = next;
        }
        dict_maybe_shrink(&zs->dict);
        return removed;
    }
}

void zset_delete_end(struct kv *e, bool max)
{
    if (e->enc == ENC_LISTPACK) {
        e->v.ptr = lp_delete_range(e->v.ptr, max ? -2 : 0, 2);
        return;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = max ? zs->zsl.tail : zs->zsl.header->lv[0].forward;
        if (!x) return;
        dict_unlink(&zs->dict, zsl_member(x), x->mlen, siphash(zsl_member(x), x->mlen));
        zs_drop(zs, x);
        dict_maybe_shrink(&zs->dict);
    }
}

unsigned long zset_count_score(struct kv *e, const struct zrange_spec *r)
{
    unsigned long count = 0;
    if (e->enc == ENC_LISTPACK) {
        struct zset_iter it;
        if (!zset_iter_score(&it, e, r, false)) return 0;
        while (zset_iter_valid(&it) && zr_lte_max(zset_iter_get_score(&it), r)) {
            count++;
            zset_iter_next(&it);
        }
        return count;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zsl_first_in_range(&zs->zsl, r);
        unsigned long rank;
        if (!x) return 0;
        rank = zsl_rank(&zs->zsl, x->score, zsl_member(x), x->mlen);
        count = zs->zsl.length - (rank - 1);
        x = zsl_last_in_range(&zs->zsl, r);
        if (x) {
            rank = zsl_rank(&zs->zsl, x->score, zsl_member(x), x->mlen);
            count -= zs->zsl.length - rank;
        }
        return count;
    }
}

unsigned long zset_count_lex(struct kv *e, const struct zlex_spec *r)
{
    unsigned long count = 0;
    if (e->enc == ENC_LISTPACK) {
        struct zset_iter it;
        if (!zset_iter_lex(&it, e, r, false)) return 0;
        while (zset_iter_valid(&it)) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            if (!zlex_lte_max(m, n, r)) break;
            count++;
            zset_iter_next(&it);
        }
        return count;
    }
    {
        struct zset *zs = e->v.ptr;
        struct zsl_node *x = zsl_first_in_lex(&zs->zsl, r);
        unsigned long rank;
        if (!x) return 0;
        rank = zsl_rank(&zs->zsl, x->score, zsl_member(x), x->mlen);
        count = zs->zsl.length - (rank - 1);
        x = zsl_last_in_lex(&zs->zsl, r);
        if (x) {
            rank = zsl_rank(&zs->zsl, x->score, zsl_member(x), x->mlen);
            count -= zs->zsl.length - rank;
        }
        return count;
    }
}

void *zset_dup_value(void *ptr, int enc)
{
    if (enc == ENC_LISTPACK) {
        size_t n = lp_bytes(ptr);
        unsigned char *lp = xmalloc(n);
        memcpy(lp, ptr, n);
        return lp;
    }
    {
        struct zset *src = ptr, *zs = zs_new();
        struct zsl_node *x = src->zsl.header->lv[0].forward;
        while (x) {
            zs_insert(zs, x->score, zsl_member(x), x->mlen);
            x = x->lv[0].forward;
        }
        return zs;
    }
}

void zset_free_value(void *ptr, int enc)
{
    if (enc == ENC_LISTPACK)
        lp_free(ptr);
    else
        zs_free(ptr);
}

/* ---- iteration ---- */

void zset_iter_rank(struct zset_iter *it, struct kv *e, unsigned long rank, bool rev)
{
    it->e = e;
    it->rev = rev;
    it->ep = NULL;
    it->node = NULL;
    if (e->enc == ENC_LISTPACK) {
        long idx = rev ? -2 - 2 * (long)rank : 2 * (long)rank;
        it->ep = lp_seek(e->v.ptr, idx);
    } else {
        struct zset *zs = e->v.ptr;
        unsigned long len = zs->zsl.length;
        if (rank < len) it->node = zsl_by_rank(&zs->zsl, rev ? len - rank : rank + 1);
    }
}

bool zset_iter_score(struct zset_iter *it, struct kv *e, const struct zrange_spec *r, bool rev)
{
    it->e = e;
    it->rev = rev;
    it->ep = NULL;
    it->node = NULL;
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *ep;
        if (zr_empty(r)) return false;
        if (!rev) {
            ep = lp_first(lp);
            while (ep) {
                unsigned char *sp = lp_next(lp, ep);
                double s = lp_score(sp);
                if (zr_gte_min(s, r)) {
                    if (zr_lte_max(s, r)) it->ep = ep;
                    break;
                }
                ep = lp_next(lp, sp);
            }
        } else {
            unsigned char *sp = lp_last(lp);
            while (sp) {
                double s = lp_score(sp);
                ep = lp_prev(lp, sp);
                if (zr_lte_max(s, r)) {
                    if (zr_gte_min(s, r)) it->ep = ep;
                    break;
                }
                sp = lp_prev(lp, ep);
            }
        }
    } else {
        struct zset *zs = e->v.ptr;
        it->node = rev ? zsl_last_in_range(&zs->zsl, r) : zsl_first_in_range(&zs->zsl, r);
    }
    return zset_iter_valid(it);
}

bool zset_iter_lex(struct zset_iter *it, struct kv *e, const struct zlex_spec *r, bool rev)
{
    it->e = e;
    it->rev = rev;
    it->ep = NULL;
    it->node = NULL;
    if (e->enc == ENC_LISTPACK) {
        it->ep = rev ? zzl_last_in_lex(e->v.ptr, r) : zzl_first_in_lex(e->v.ptr, r);
    } else {
        struct zset *zs = e->v.ptr;
        it->node = rev ? zsl_last_in_lex(&zs->zsl, r) : zsl_first_in_lex(&zs->zsl, r);
    }
    return zset_iter_valid(it);
}

const char *zset_iter_member(struct zset_iter *it, size_t *n)
{
    if (it->ep) return lp_member(it->ep, n, it->ibuf);
    *n = it->node->mlen;
    return zsl_member(it->node);
}

double zset_iter_get_score(struct zset_iter *it)
{
    if (it->ep) return lp_score(lp_next(it->e->v.ptr, it->ep));
    return it->node->score;
}

void zset_iter_next(struct zset_iter *it)
{
    if (it->ep) {
        unsigned char *lp = it->e->v.ptr;
        if (!it->rev) {
            unsigned char *sp = lp_next(lp, it->ep);
            it->ep = lp_next(lp, sp);
        } else {
            unsigned char *sp = lp_prev(lp, it->ep);
            it->ep = sp ? lp_prev(lp, sp) : NULL;
        }
    } else if (it->node) {
        it->node = it->rev ? it->node->backward : it->node->lv[0].forward;
    }
}

/* ---- ZSCAN ---- */

struct scan_ctx {
    zset_scan_fn fn;
    void *priv;
};

static void scan_one(void *priv, struct dnode *d)
{
    struct scan_ctx *c = priv;
    struct zsl_node *x = (struct zsl_node *)d;
    c->fn(c->priv, zsl_member(x), x->mlen, x->score);
}

uint64_t zset_scan(struct kv *e, uint64_t cursor, zset_scan_fn fn, void *priv)
{
    struct zset *zs = e->v.ptr;
    struct scan_ctx c = {fn, priv};
    return dict_scan(&zs->dict, cursor, scan_one, &c);
}

size_t zset_free_effort(void *ptr, int enc)
{
    return enc == ENC_SKIPLIST ? (size_t)((struct zset *)ptr)->zsl.length : 1;
}
