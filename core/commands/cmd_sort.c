/* cmd_sort.c — SORT and SORT_RO on lists, sets and sorted sets: numeric or
 * ALPHA order, BY pattern (a string key or a hash field "key->field" per
 * element; a pattern without '*' means "don't sort"), LIMIT, ASC/DESC,
 * GET patterns ("#" = the element), STORE into a list ("sortstore"), with
 * Redis 7.0's replies and errors. The order of equal elements follows
 * Redis too: the full sort is the C library's qsort (stable with glibc), a
 * partial sort (BY with LIMIT) Redis's pqsort (core/lib/pqsort.c). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "acl.h"
#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "pqsort.h"
#include "util.h"

/* ---- the sort vector ---- */

struct sort_item {
    size_t off, n; /* the element's bytes in the arena (NUL-terminated) */
    double score;
    long cmpoff; /* ALPHA BY: the BY value in the arena, -1 if none */
    size_t cmpn;
};

struct sort_arena {
    char *buf;
    size_t len, cap;
};

static size_t arena_put(struct sort_arena *a, const char *p, size_t n)
{
    size_t off = a->len;
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        while (cap < a->len + n + 1)
            cap *= 2;
        a->buf = xrealloc(a->buf, cap);
        a->cap = cap;
    }
    if (n) memcpy(a->buf + a->len, p, n);
    a->buf[a->len + n] = 0;
    a->len += n + 1;
    return off;
}

/* What the comparison needs (Redis keeps it in server.sort_*). */
static struct {
    bool desc, alpha, bypattern, store;
    const char *arena;
} S;

static int cmp_binary(const char *a, size_t an, const char *b, size_t bn)
{
    size_t min = an < bn ? an : bn;
    int c = memcmp(a, b, min);
    if (c) return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Redis's sortCompare. */
static int sort_compare(const void *p1, const void *p2)
{
    const struct sort_item *a = p1, *b = p2;
    int cmp;
    if (!S.alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else /* equal scores: by the elements' bytes, so the order is defined */
            cmp = cmp_binary(S.arena + a->off, a->n, S.arena + b->off, b->n);
    } else if (S.bypattern) {
        if (a->cmpoff < 0 || b->cmpoff < 0) {
            /* a missing BY value sorts first */
            cmp = a->cmpoff == b->cmpoff ? 0 : a->cmpoff < 0 ? -1 : 1;
        } else if (S.store) {
            cmp = cmp_binary(S.arena + a->cmpoff, a->cmpn, S.arena + b->cmpoff, b->cmpn);
        } else {
            cmp = strcoll(S.arena + a->cmpoff, S.arena + b->cmpoff);
        }
    } else if (S.store) {
        cmp = cmp_binary(S.arena + a->off, a->n, S.arena + b->off, b->n);
    } else {
        cmp = strcoll(S.arena + a->off, S.arena + b->off);
    }
    return S.desc ? -cmp : cmp;
}

/* ---- patterns ---- */

/* Length up to the first NUL byte (Redis reads patterns as C strings). */
static size_t cstrlen(const char *p, size_t n)
{
    const char *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

/* A looked-up value: its bytes (valid until the store changes). */
struct patval {
    const char *p;
    size_t n;
    struct strview sv;
    struct hval hv;
};

/* Redis's lookupKeyByPattern: the first '*' of pattern replaced by the
 * element names a string key, or with "->field" after it a hash field.
 * "#" is the element itself. False when there is no such value. */
static bool pattern_value(struct exec *x, const struct argv_ref *pat, const char *el, size_t eln,
                          struct patval *out)
{
    const char *p = pat->p, *star, *arrow;
    size_t plen = pat->n, clen = cstrlen(p, plen), prefix, postfix, fieldlen = 0;
    char small[256], *key = small;
    struct kv *e;
    bool found = false;

    if (clen == 1 && p[0] == '#') {
        out->p = el;
        out->n = eln;
        return true;
    }
    star = memchr(p, '*', clen);
    if (!star) return false;
    /* "->" after the '*', followed by at least one byte */
    arrow = NULL;
    {
        const char *s = star + 1, *end = p + clen;
        for (; s + 1 < end; s++)
            if (s[0] == '-' && s[1] == '>') {
                arrow = s;
                break;
            }
    }
    if (arrow && arrow + 2 < p + clen)
        fieldlen = plen - (size_t)(arrow - p) - 2;
    else
        arrow = NULL;
    prefix = (size_t)(star - p);
    postfix = plen - (prefix + 1) - (fieldlen ? fieldlen + 2 : 0);
    if (prefix + eln + postfix > sizeof(small)) key = xmalloc(prefix + eln + postfix);
    memcpy(key, p, prefix);
    memcpy(key + prefix, el, eln);
    memcpy(key + prefix + eln, star + 1, postfix);

    e = store_lookup_read(x->db, key, prefix + eln + postfix);
    if (e) {
        if (arrow) {
            if (e->type == OBJ_HASH && hash_get(e, arrow + 2, fieldlen, &out->hv)) {
                out->p = out->hv.p;
                out->n = out->hv.n;
                found = true;
            }
        } else if (e->type == OBJ_STRING) {
            kv_string_view(e, &out->sv);
            out->p = out->sv.p;
            out->n = out->sv.n;
            found = true;
        }
    }
    if (key != small) free(key);
    return found;
}

/* Redis's strtod test of a score: the whole C string must parse, no
 * overflow, not NaN. */
static bool parse_score(const char *p, size_t n, double *out)
{
    char small[128], *buf = small, *eptr;
    bool ok;
    if (n >= sizeof(small)) buf = xmalloc(n + 1);
    memcpy(buf, p, n);
    buf[n] = 0;
    errno = 0;
    *out = strtod(buf, &eptr);
    ok = eptr[0] == '\0' && errno != ERANGE && !isnan(*out);
    if (buf != small) free(buf);
    return ok;
}

/* ---- SORT ---- */

struct sort_args {
    const struct argv_ref *by;
    bool dontsort;
    long long limit_start, limit_count;
    bool desc, alpha, has_store;
    const struct argv_ref *store;
    int ngets;
    const struct argv_ref **gets;
};

static void sort_generic(struct exec *x, const struct sort_args *a)
{
    struct sort_arena arena = {NULL, 0, 0};
    struct sort_item *vec = NULL;
    bool dontsort = false, alpha = a->alpha, conversion_error = false;
    const struct argv_ref *sortby = a->by;
    long long vectorlen = 0, start, end, outputlen, j, k;
    struct kv *sv;
    int type;

    dontsort = a->dontsort;

    sv = store_lookup_read(x->db, x->argv[1].p, x->argv[1].n);
    if (sv && sv->type != OBJ_SET && sv->type != OBJ_LIST && sv->type != OBJ_ZSET) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    type = sv ? (int)sv->type : OBJ_LIST; /* a missing key sorts as an empty list */

    /* A set has no order of its own: when the result is stored or goes to
     * a script, sort it (ALPHA) so that it does not depend on the hash
     * table (replicas and the AOF see the same result). */
    if (dontsort && type == OBJ_SET && (a->has_store || (x->c->flags & CF_SCRIPT))) {
        dontsort = false;
        alpha = true;
        sortby = NULL;
    }
    /* Redis converts a listpack sorted set for SORT (it stays converted). */
    if (sv && type == OBJ_ZSET) zset_convert(sv, ENC_SKIPLIST);

    if (sv) {
        if (type == OBJ_LIST) {
            vectorlen = (long long)ql_count(sv->v.ptr);
        } else if (type == OBJ_SET) {
            struct setv s = set_of(sv);
            vectorlen = (long long)set_size(&s);
        } else {
            vectorlen = (long long)zset_length(sv);
        }
    }

    /* LIMIT sanity, as Redis (an overflowing start + count saturates). */
    start = a->limit_start < 0 ? 0 : a->limit_start;
    if (a->limit_count < 0)
        end = vectorlen - 1;
    else
        end = a->limit_count > LLONG_MAX - start ? LLONG_MAX : start + a->limit_count - 1;
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen) end = vectorlen - 1;

    /* Lists and sorted sets keep their order: without sorting only the
     * LIMIT range is loaded. */
    if ((type == OBJ_ZSET || type == OBJ_LIST) && dontsort && (start != 0 || end != vectorlen - 1))
        vectorlen = end - start + 1;
    if (vectorlen < 0) vectorlen = 0;

    vec = xmalloc(sizeof(*vec) * (size_t)(vectorlen ? vectorlen : 1));
    j = 0;
    if (!sv) {
        /* nothing to load */
    } else if (type == OBJ_LIST) {
        struct quicklist *ql = sv->v.ptr;
        if (!dontsort || end >= start) {
            struct ql_iter it;
            struct ql_val v;
            long long from = 0;
            enum ql_where dir = QL_TAIL;
            if (dontsort) {
                from = a->desc ? (long long)ql_count(ql) - start - 1 : start;
                dir = a->desc ? QL_HEAD : QL_TAIL;
            }
            ql_iter_init(&it, ql, from, dir);
            while (j < vectorlen && ql_iter_next(&it, &v)) {
                vec[j].off = arena_put(&arena, v.p, v.n);
                vec[j].n = v.n;
                vec[j].score = 0;
                vec[j].cmpoff = -1;
                j++;
            }
            ql_iter_release(&it);
            if (dontsort) {
                end -= start;
                start = 0;
            }
        }
    } else if (type == OBJ_SET) {
        struct setv s = set_of(sv);
        struct set_iter it;
        struct set_elem el;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &el)) {
            vec[j].off = arena_put(&arena, el.p, el.n);
            vec[j].n = el.n;
            vec[j].score = 0;
            vec[j].cmpoff = -1;
            j++;
        }
        set_iter_release(&it);
    } else {
        struct zset_iter it;
        long long want = vectorlen;
        if (want > 0)
            zset_iter_rank(&it, sv, dontsort ? (unsigned long)start : 0, dontsort && a->desc);
        while (want-- > 0 && zset_iter_valid(&it)) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            vec[j].off = arena_put(&arena, m, n);
            vec[j].n = n;
            vec[j].score = 0;
            vec[j].cmpoff = -1;
            j++;
            zset_iter_next(&it);
        }
        if (dontsort) {
            end -= start;
            start = 0;
        }
    }
    vectorlen = j;

    /* The keys to sort by. */
    if (!dontsort) {
        for (j = 0; j < vectorlen; j++) {
            struct patval pv;
            const char *el = arena.buf + vec[j].off;
            if (sortby) {
                if (!pattern_value(x, sortby, el, vec[j].n, &pv)) continue;
            } else {
                pv.p = el;
                pv.n = vec[j].n;
            }
            if (alpha) {
                if (sortby) {
                    /* "#" is the element itself, already in the arena
                     * (which the copy below could move) */
                    vec[j].cmpoff =
                        pv.p == el ? (long)vec[j].off : (long)arena_put(&arena, pv.p, pv.n);
                    vec[j].cmpn = pv.n;
                }
            } else if (!parse_score(pv.p, pv.n, &vec[j].score)) {
                conversion_error = true;
            }
        }
        S.desc = a->desc;
        S.alpha = alpha;
        S.bypattern = sortby != NULL;
        S.store = a->has_store;
        S.arena = arena.buf;
        if (vectorlen > 1 && end >= start) { /* an empty range shows nothing */
            if (sortby && (start != 0 || end != vectorlen - 1))
                pqsort(vec, (size_t)vectorlen, sizeof(*vec), sort_compare, (size_t)start,
                       (size_t)end);
            else
                qsort(vec, (size_t)vectorlen, sizeof(*vec), sort_compare);
        }
    }

    outputlen = a->ngets ? a->ngets * (end - start + 1) : end - start + 1;
    if (conversion_error) {
        reply_error(x->r, "ERR One or more scores can't be converted into double");
    } else if (!a->has_store) {
        reply_array(x->r, outputlen);
        for (j = start; j <= end; j++) {
            const char *el = arena.buf + vec[j].off;
            if (!a->ngets) reply_bulk(x->r, el, vec[j].n);
            for (k = 0; k < a->ngets; k++) {
                struct patval pv;
                if (pattern_value(x, a->gets[k], el, vec[j].n, &pv))
                    reply_bulk(x->r, pv.p, pv.n);
                else
                    reply_null(x->r);
            }
        }
    } else {
        /* Redis 7.0 stores the result in a list made with quicklist's own
         * defaults (createQuicklistObject: fill -2, no compression), not
         * list-max-listpack-size / list-compress-depth */
        struct quicklist *ql = ql_new(-2, 0);
        for (j = start; j <= end; j++) {
            const char *el = arena.buf + vec[j].off;
            if (!a->ngets) ql_push(ql, QL_TAIL, el, vec[j].n);
            for (k = 0; k < a->ngets; k++) {
                struct patval pv;
                if (pattern_value(x, a->gets[k], el, vec[j].n, &pv))
                    ql_push(ql, QL_TAIL, pv.p, pv.n);
                else
                    ql_push(ql, QL_TAIL, "", 0);
            }
        }
        if (outputlen) {
            struct kv *e = kv_new_ptr(a->store->p, a->store->n, OBJ_LIST, ENC_QUICKLIST, ql);
            long long mark = store_dirty_mark();
            store_set(x->db, e, false, "sortstore", NOTIFY_LIST);
            store_dirty_settle(mark, outputlen); /* Redis: one per element stored */
        } else {
            ql_free(ql);
            store_delete(x->db, a->store->p, a->store->n, "del", NOTIFY_GENERIC);
        }
        reply_int(x->r, outputlen);
    }
    free(vec);
    free(arena.buf);
}

/* A BY pattern without '*' means "don't sort". */
static bool sort_by_nothing(const struct argv_ref *by)
{
    return !memchr(by->p, '*', cstrlen(by->p, by->n));
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *     [ASC | DESC] [ALPHA] [STORE destination]
 * (and SORT_RO): one body on the sort family's slots. */
void cmd_sort(struct exec *x)
{
    struct sort_args a;
    const struct argval *g = ARG(x, A_SORT_pattern_get), *by = ARG(x, A_SORT_pattern);
    const struct argv_ref *small[16];
    int k;

    memset(&a, 0, sizeof(a));
    /* A user without access to every key may not use BY patterns (with a
     * '*') nor GET: Redis's error names the first such option. */
    if ((by->present || g->present) && !acl_client_can_read_key(x->c, "*", 1)) {
        int first_by = -1, first_get = g->present ? g->list[0] : -1;
        for (k = 0; k < by->count; k++)
            if (!sort_by_nothing(&x->argv[by->list[k]])) {
                first_by = by->list[k];
                break;
            }
        if (first_by >= 0 || first_get >= 0) {
            bool is_by = first_by >= 0 && (first_get < 0 || first_by < first_get);
            reply_errorf(x->r, "ERR %s option of SORT denied due to insufficient ACL permissions.",
                         is_by ? "BY" : "GET");
            return;
        }
    }
    /* Redis keeps the last BY, but any BY without '*' (keel_keep_all lists
     * them all) leaves the elements unsorted. */
    a.by = by->present ? &x->argv[by->pos] : NULL;
    for (k = 0; k < by->count; k++)
        if (sort_by_nothing(&x->argv[by->list[k]])) a.dontsort = true;
    a.limit_count = -1;
    if (HAS(x, A_SORT_offset_count)) {
        a.limit_start = ARGI(x, A_SORT_offset_count_offset);
        a.limit_count = ARGI(x, A_SORT_offset_count_count);
    }
    a.desc = HAS(x, A_SORT_order) && ARG(x, A_SORT_order)->choice == 1;
    a.alpha = HAS(x, A_SORT_sorting);
    a.has_store = HAS(x, A_SORT_destination);
    a.store = a.has_store ? &x->argv[ARG(x, A_SORT_destination)->pos] : NULL;
    a.ngets = g->present ? g->count : 0;
    a.gets = (size_t)a.ngets <= sizeof(small) / sizeof(small[0])
                 ? small
                 : xmalloc(sizeof(*a.gets) * (size_t)a.ngets);
    for (k = 0; k < a.ngets; k++)
        a.gets[k] = &x->argv[g->list[k]];
    sort_generic(x, &a);
    if (a.gets != small) free((void *)a.gets);
}

/* SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *     [ASC | DESC] [ALPHA] */
void cmd_sort_ro(struct exec *x)
{
    cmd_sort(x);
}
