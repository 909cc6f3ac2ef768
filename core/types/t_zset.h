/* t_zset.h — the sorted set value (OBJ_ZSET). Two encodings, as Redis 7.0:
 *  - ENC_LISTPACK: one listpack of member,score,member,score... sorted by
 *    score then member (bytewise); a score is stored as Redis's d2string
 *    text (an integer entry when the score is integral and |score| < 2^52).
 *  - ENC_SKIPLIST: a `struct zset`, a skiplist with span counts (rank in
 *    O(log n)) whose nodes are also the entries of a member -> node hash
 *    table (core/store/dict.h): one allocation per member holding chain link,
 *    score, back link, levels and member bytes.
 * A set starts compact and converts to the skiplist past
 * zset-max-listpack-entries / zset-max-listpack-value (g_config). No
 * arguments and no replies here: the handlers (cmd_zset.c) use this API. */
#ifndef KEEL_T_ZSET_H
#define KEEL_T_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "listpack.h"
#include "object.h"

#define ZSKIPLIST_MAXLEVEL 32
#define ZSKIPLIST_P 0.25
/* Redis's listpack safety limit (lpSafeToAdd). */
#define ZSET_LP_SAFETY_SIZE (1u << 30)

struct zsl_node;
struct zsl_level {
    struct zsl_node *forward;
    unsigned long span;
};
struct zsl_node {
    struct dnode dn; /* the member dict's chain link: must be first */
    double score;
    struct zsl_node *backward;
    uint32_t mlen;
    uint32_t level;
    struct zsl_level lv[]; /* `level` levels, then the member bytes */
};
static inline const char *zsl_member(const struct zsl_node *n)
{
    return (const char *)(n->lv + n->level);
}

struct zskiplist {
    struct zsl_node *header, *tail;
    unsigned long length;
    int level;
};

struct zset {
    struct dict dict; /* member -> node (the nodes themselves) */
    struct zskiplist zsl;
};

/* Score interval (ZRANGEBYSCORE): min/max, each inclusive or exclusive. */
struct zrange_spec {
    double min, max;
    bool minex, maxex;
};

/* Lexicographical interval (ZRANGEBYLEX): a bound is "-" (ZLEX_MIN),
 * "+" (ZLEX_MAX) or a string, inclusive "[" or exclusive "(". */
enum { ZLEX_STR = 0, ZLEX_MIN = -1, ZLEX_MAX = 1 };
struct zlex_spec {
    const char *min, *max;
    size_t minlen, maxlen;
    int minkind, maxkind;
    bool minex, maxex;
};

/* zset_add flags, as Redis's ZADD_IN_* / ZADD_OUT_*. */
enum { ZADD_IN_INCR = 1, ZADD_IN_NX = 2, ZADD_IN_XX = 4, ZADD_IN_GT = 8, ZADD_IN_LT = 16 };
enum { ZADD_OUT_NOP = 1, ZADD_OUT_NAN = 2, ZADD_OUT_ADDED = 4, ZADD_OUT_UPDATED = 8 };

/* ---- the skiplist+dict structure (also used directly by unit tests) ---- */
struct zset *zs_new(void);
void zs_free(struct zset *zs);
/* Insert a member known to be absent; returns its node. */
struct zsl_node *zs_insert(struct zset *zs, double score, const char *m, size_t n);
struct zsl_node *zs_find(struct zset *zs, const char *m, size_t n);
/* Remove a member; false if absent. */
bool zs_delete(struct zset *zs, const char *m, size_t n);
/* Move node to newscore, keeping the node (no allocation). */
void zs_update_score(struct zset *zs, struct zsl_node *x, double newscore);
/* 1-based rank of (score, member), 0 if absent. */
unsigned long zsl_rank(struct zskiplist *zsl, double score, const char *m, size_t n);
/* Node at 1-based rank, or NULL. */
struct zsl_node *zsl_by_rank(struct zskiplist *zsl, unsigned long rank);
struct zsl_node *zsl_first_in_range(struct zskiplist *zsl, const struct zrange_spec *r);
struct zsl_node *zsl_last_in_range(struct zskiplist *zsl, const struct zrange_spec *r);
struct zsl_node *zsl_first_in_lex(struct zskiplist *zsl, const struct zlex_spec *r);
struct zsl_node *zsl_last_in_lex(struct zskiplist *zsl, const struct zlex_spec *r);

/* ---- interval tests (both encodings) ---- */
static inline bool zr_gte_min(double v, const struct zrange_spec *r)
{
    return r->minex ? v > r->min : v >= r->min;
}
static inline bool zr_lte_max(double v, const struct zrange_spec *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}
/* Whether the interval can hold anything at all. */
bool zr_empty(const struct zrange_spec *r);
bool zlex_empty(const struct zlex_spec *r);
bool zlex_gte_min(const char *s, size_t n, const struct zlex_spec *r);
bool zlex_lte_max(const char *s, size_t n, const struct zlex_spec *r);

/* Redis's d2string, the text a listpack stores for a score: integral values
 * with |v| < 2^52 as integers ("-0" becomes "0"), else "%.17g", inf/-inf. */
int zset_score_text(char *buf, size_t len, double v);

/* ---- the value behind a struct kv of type OBJ_ZSET ---- */

/* A new empty value: listpack unless the hints (expected number of members,
 * longest member) already exceed the limits (zsetTypeCreate). */
struct kv *zset_new_kv(const char *key, size_t klen, size_t size_hint, size_t len_hint);
unsigned long zset_length(const struct kv *e);
/* Redis's zsetAdd: add or update per in (ZADD_IN_*); *out gets ZADD_OUT_*,
 * *newscore the resulting score. False on a NaN (nothing changed). May
 * convert the encoding. */
bool zset_add(struct kv *e, double score, const char *m, size_t n, int in, int *out,
              double *newscore);
bool zset_delete(struct kv *e, const char *m, size_t n);
bool zset_score(struct kv *e, const char *m, size_t n, double *score);
/* 0-based rank (from the highest score when rev), -1 if absent. */
long zset_rank(struct kv *e, const char *m, size_t n, bool rev, double *score);
/* Change the encoding (ENC_LISTPACK <-> ENC_SKIPLIST). */
void zset_convert(struct kv *e, int enc);
/* Redis's zsetConvertToListpackIfNeeded (results of store commands). */
void zset_shrink_if_needed(struct kv *e, size_t maxelelen, size_t totelelen);
/* Range deletions; ranks are 0-based and inclusive. Return the count. */
unsigned long zset_delete_rank(struct kv *e, unsigned long start, unsigned long end);
unsigned long zset_delete_score(struct kv *e, const struct zrange_spec *r);
unsigned long zset_delete_lex(struct kv *e, const struct zlex_spec *r);
/* Remove the lowest (or highest) member. */
void zset_delete_end(struct kv *e, bool max);
unsigned long zset_count_score(struct kv *e, const struct zrange_spec *r);
unsigned long zset_count_lex(struct kv *e, const struct zlex_spec *r);
/* Deep copy / free of the value (obj_ops). */
void *zset_dup_value(void *ptr, int enc);
/* Lazy free effort (core/store/lazyfree.h): skiplist length, else 1. */
size_t zset_free_effort(void *ptr, int enc);
void zset_free_value(void *ptr, int enc);

/* ---- iteration in rank order, forward or reverse ---- */
struct zset_iter {
    struct kv *e;
    bool rev;
    unsigned char *ep;     /* listpack: current member entry (NULL: done) */
    struct zsl_node *node; /* skiplist: current node (NULL: done) */
    char ibuf[LP_INTBUF];
};
/* Position at the rank-th element counted in the direction of travel. */
void zset_iter_rank(struct zset_iter *it, struct kv *e, unsigned long rank, bool rev);
/* Position at the first element inside r in the direction of travel (the
 * lowest for forward, the highest for rev); false if none. */
bool zset_iter_score(struct zset_iter *it, struct kv *e, const struct zrange_spec *r, bool rev);
bool zset_iter_lex(struct zset_iter *it, struct kv *e, const struct zlex_spec *r, bool rev);
static inline bool zset_iter_valid(const struct zset_iter *it)
{
    return it->ep || it->node;
}
/* The current member (valid until the next step) and score. */
const char *zset_iter_member(struct zset_iter *it, size_t *n);
double zset_iter_get_score(struct zset_iter *it);
void zset_iter_next(struct zset_iter *it);

/* ---- ZSCAN over a skiplist-encoded value's dict ---- */
typedef void (*zset_scan_fn)(void *priv, const char *m, size_t n, double score);
uint64_t zset_scan(struct kv *e, uint64_t cursor, zset_scan_fn fn, void *priv);

#endif
