/* t_list.c — the list value (t_list.h): Redis 7.0's quicklist, a doubly
 * linked list of listpack nodes sized by list-max-listpack-size, with the
 * nodes beyond list-compress-depth from either end LZF-compressed, and the
 * value hooks (free, deep copy) of OBJ_LIST. Node splitting and merging
 * follow Redis's limits (4..64 KB by size, or N entries with an 8 KB safety
 * cap). An element of at least the packed threshold (1 GB unless DEBUG
 * QUICKLIST-PACKED-THRESHOLD changed it) gets a node of its own, marked
 * plain: nothing is ever inserted into or merged with such a node, and the
 * RDB writer saves it as Redis's PLAIN container (the element's bytes).
 * No arguments, no replies: cmd_list.c drives it. */
#include "t_list.h"

#include <limits.h>
#include <liblzf/lzf.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "util.h"

#define SIZE_SAFETY_LIMIT 8192
#define SIZE_ESTIMATE_OVERHEAD 8
#define MIN_COMPRESS_BYTES 48
#define MIN_COMPRESS_IMPROVE 8
#define FILL_MAX (1 << 15)
#define COMPRESS_MAX 65535
#define CLEN_MAX ((1u << 29) - 1)
#define PACKED_THRESHOLD_DEFAULT (1ull << 30)

/* Redis's packed_threshold: elements this large live in a plain node. */
static size_t packed_threshold = PACKED_THRESHOLD_DEFAULT;

bool ql_set_packed_threshold(unsigned long long sz)
{
    if (sz > (1ull << 32) - (1ull << 20)) return false;
    packed_threshold = sz == 0 ? PACKED_THRESHOLD_DEFAULT : (size_t)sz;
    return true;
}

static bool is_large(size_t sz)
{
    return sz >= packed_threshold;
}

/* Listpack framing (listpack.h documents it): a 6-byte header (total bytes
 * u32 LE, count u16 LE, 65535 = unknown), the entries, a 0xFF terminator.
 * Entries are self-contained, so a run of them can be moved between
 * listpacks as bytes (splitting and merging nodes). */
#define LPX_HDR 6
#define LPX_EOF 0xFF
#define LPX_COUNT_UNKNOWN 65535

static const size_t opt_level[] = {4096, 8192, 16384, 32768, 65536};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* A listpack made of the entry bytes [begin, end) holding cnt entries. */
static unsigned char *lpx_from(const unsigned char *begin, size_t body, unsigned long cnt,
                               const unsigned char *begin2, size_t body2)
{
    size_t tot = LPX_HDR + body + body2 + 1;
    unsigned char *lp = xmalloc(tot);
    unsigned c = cnt < LPX_COUNT_UNKNOWN ? (unsigned)cnt : LPX_COUNT_UNKNOWN;
    wr32(lp, (uint32_t)tot);
    lp[4] = (unsigned char)c;
    lp[5] = (unsigned char)(c >> 8);
    if (body) memcpy(lp + LPX_HDR, begin, body);
    if (body2) memcpy(lp + LPX_HDR + body, begin2, body2);
    lp[tot - 1] = LPX_EOF;
    return lp;
}

/* ---- limits ---- */

static int norm_fill(int fill)
{
    if (fill > FILL_MAX) return FILL_MAX;
    if (fill < -5) return -5;
    return fill;
}

/* Redis's quicklist limit: a size class for negative fills; for positive
 * ones an entry count under an 8 KB safety cap. */
static bool exceeds(int fill, size_t new_sz, unsigned long new_count)
{
    if (fill < 0 && new_sz <= opt_level[-fill - 1]) return false;
    if (new_sz > SIZE_SAFETY_LIMIT) return true;
    return (long)new_count > fill;
}

static size_t raw_bytes(const struct ql_node *n)
{
    return n->compressed ? rd32(n->lp) : lp_bytes(n->lp);
}

size_t ql_node_bytes(const struct ql_node *n)
{
    return n->compressed ? n->clen : lp_bytes(n->lp);
}

static bool allow_insert(const struct quicklist *ql, const struct ql_node *n, size_t sz)
{
    if (!n || n->plain || is_large(sz)) return false;
    return !exceeds(ql->fill, raw_bytes(n) + sz + SIZE_ESTIMATE_OVERHEAD, n->count + 1);
}

static bool allow_merge(const struct quicklist *ql, const struct ql_node *a,
                        const struct ql_node *b)
{
    if (!a || !b || a->plain || b->plain) return false;
    return !exceeds(ql->fill, raw_bytes(a) + raw_bytes(b) - LPX_HDR - 1, a->count + b->count);
}

/* ---- compression ---- */

static void node_compress(struct ql_node *n)
{
    size_t sz, c;
    unsigned char *blob;
    n->recompress = 0;
    if (n->compressed) return;
    sz = lp_bytes(n->lp);
    if (sz < MIN_COMPRESS_BYTES || sz > CLEN_MAX) return;
    blob = xmalloc(4 + sz);
    c = ql_lzf_compress(n->lp, sz, blob + 4, sz);
    if (c == 0 || c + MIN_COMPRESS_IMPROVE >= sz) {
        free(blob);
        return;
    }
    wr32(blob, (uint32_t)sz);
    blob = xrealloc(blob, 4 + c);
    lp_free(n->lp);
    n->lp = blob;
    n->clen = (uint32_t)(4 + c);
    n->compressed = 1;
}

static void node_decompress(struct ql_node *n)
{
    size_t sz;
    unsigned char *lp;
    if (!n->compressed) return;
    sz = rd32(n->lp);
    lp = xmalloc(sz);
    if (ql_lzf_decompress(n->lp + 4, n->clen - 4, lp, sz) != sz) abort(); /* corrupted memory */
    free(n->lp);
    n->lp = lp;
    n->compressed = 0;
    n->clen = 0;
}

/* Make n's listpack readable; a node opened this way is compressed again
 * by node_close. */
static void node_open(struct ql_node *n)
{
    if (n->compressed) {
        node_decompress(n);
        n->recompress = 1;
    }
}

/* Redis's __quicklistCompress: the `compress` nodes at each end are kept
 * raw, node (if given and outside them) and the first node past the depth
 * on each side are compressed. */
static void ql_compress(struct quicklist *ql, struct ql_node *node)
{
    struct ql_node *fw, *rv;
    int depth = 0;
    bool in_depth = false;
    if (node) node->recompress = 0;
    if (ql->compress == 0 || !ql->head) return;
    fw = ql->head;
    rv = ql->tail;
    while (depth++ < ql->compress) {
        node_decompress(fw);
        node_decompress(rv);
        fw->recompress = rv->recompress = 0;
        if (fw == node || rv == node) in_depth = true;
        if (fw == rv || fw->next == rv) return;
        fw = fw->next;
        rv = rv->prev;
    }
    if (node && !in_depth) node_compress(node);
    node_compress(fw);
    node_compress(rv);
}

static void node_close(struct quicklist *ql, struct ql_node *n)
{
    if (n && n->recompress) ql_compress(ql, n);
}

/* ---- nodes ---- */

static struct ql_node *node_new(unsigned char *lp, uint32_t count)
{
    struct ql_node *n = xmalloc(sizeof(*n));
    n->prev = n->next = NULL;
    n->lp = lp;
    n->count = count;
    n->compressed = 0;
    n->recompress = 0;
    n->plain = 0;
    n->clen = 0;
    return n;
}

/* A node holding the one element s: plain when s is large. */
static struct ql_node *node_one(const char *s, size_t n)
{
    struct ql_node *nd = node_new(lp_append(lp_new(0), s, n), 1);
    nd->plain = is_large(n);
    return nd;
}

/* Link nw after old (old NULL: at the head). */
static void link_after(struct quicklist *ql, struct ql_node *old, struct ql_node *nw)
{
    nw->prev = old;
    nw->next = old ? old->next : ql->head;
    if (nw->next)
        nw->next->prev = nw;
    else
        ql->tail = nw;
    if (old)
        old->next = nw;
    else
        ql->head = nw;
    ql->len++;
}

static void link_before(struct quicklist *ql, struct ql_node *old, struct ql_node *nw)
{
    link_after(ql, old ? old->prev : ql->tail, nw);
}

static void unlink_free(struct quicklist *ql, struct ql_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        ql->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        ql->tail = n->prev;
    ql->len--;
    ql->count -= n->count;
    free(n->lp);
    free(n);
}

/* Merge b into a (a->next == b) when the result fits; returns a or NULL. */
static struct ql_node *try_merge(struct quicklist *ql, struct ql_node *a, struct ql_node *b)
{
    unsigned char *lp;
    unsigned long cnt;
    if (!allow_merge(ql, a, b)) return NULL;
    node_open(a);
    node_open(b);
    cnt = (unsigned long)a->count + b->count;
    lp = lpx_from(a->lp + LPX_HDR, lp_bytes(a->lp) - LPX_HDR - 1, cnt, b->lp + LPX_HDR,
                  lp_bytes(b->lp) - LPX_HDR - 1);
    free(a->lp);
    a->lp = lp;
    a->count = (uint32_t)cnt;
    b->count = 0; /* its entries now live in a */
    unlink_free(ql, b);
    ql_compress(ql, a);
    return a;
}

/* Redis's _quicklistMergeNodes around center: prev_prev with prev, next
 * with next_next, then center with its prev, then the result with its next. */
static void merge_around(struct quicklist *ql, struct ql_node *center)
{
    struct ql_node *prev = center->prev, *next = center->next, *target;
    if (prev && prev->prev) try_merge(ql, prev->prev, prev);
    if (next && next->next) try_merge(ql, next, next->next);
    target = center->prev ? try_merge(ql, center->prev, center) : NULL;
    if (!target) target = center;
    if (target->next) try_merge(ql, target, target->next);
}

/* Split n after entry p: n keeps the entries up to p, the rest (if any)
 * moves to a new node linked after n, which is returned (NULL if p was
 * last). n must be open. */
static struct ql_node *split_after(struct quicklist *ql, struct ql_node *n, unsigned char *p)
{
    unsigned char *q = lp_next(n->lp, p), *lp;
    unsigned long left = 0;
    unsigned char *e;
    size_t cut, total;
    struct ql_node *r;
    if (!q) return NULL;
    for (e = lp_first(n->lp); e && e != q; e = lp_next(n->lp, e))
        left++;
    cut = (size_t)(q - n->lp);
    total = lp_bytes(n->lp);
    r = node_new(lpx_from(q, total - 1 - cut, n->count - left, NULL, 0),
                 (uint32_t)(n->count - left));
    lp = lpx_from(n->lp + LPX_HDR, cut - LPX_HDR, left, NULL, 0);
    free(n->lp);
    n->lp = lp;
    n->count = (uint32_t)left;
    link_after(ql, n, r);
    return r;
}

/* ---- the list ---- */

struct quicklist *ql_new(int fill, int compress)
{
    struct quicklist *ql = xmalloc(sizeof(*ql));
    ql->head = ql->tail = NULL;
    ql->count = ql->len = 0;
    ql->fill = norm_fill(fill);
    ql->compress = compress < 0 ? 0 : compress > COMPRESS_MAX ? COMPRESS_MAX : compress;
    return ql;
}

void ql_free(struct quicklist *ql)
{
    struct ql_node *n, *nx;
    if (!ql) return;
    for (n = ql->head; n; n = nx) {
        nx = n->next;
        free(n->lp);
        free(n);
    }
    free(ql);
}

struct quicklist *ql_dup(struct quicklist *ql)
{
    struct quicklist *c = ql_new(ql->fill, ql->compress);
    struct ql_node *n;
    for (n = ql->head; n; n = n->next) {
        struct ql_node *m = node_new(xmemdup(n->lp, ql_node_bytes(n)), n->count);
        m->compressed = n->compressed;
        m->plain = n->plain;
        m->clen = n->clen;
        link_after(c, c->tail, m);
    }
    c->count = ql->count;
    return c;
}

static void read_val(const unsigned char *p, struct ql_val *v)
{
    v->p = lp_get(p, &v->n, v->buf, &v->isint, &v->v);
}

void ql_push(struct quicklist *ql, enum ql_where where, const char *s, size_t n)
{
    struct ql_node *e = where == QL_HEAD ? ql->head : ql->tail;
    if (allow_insert(ql, e, n)) {
        node_open(e);
        e->lp = where == QL_HEAD ? lp_prepend(e->lp, s, n) : lp_append(e->lp, s, n);
        e->count++;
        node_close(ql, e);
    } else {
        e = node_one(s, n);
        if (where == QL_HEAD)
            link_after(ql, NULL, e);
        else
            link_after(ql, ql->tail, e);
        ql_compress(ql, e);
    }
    ql->count++;
}

void ql_push_plain(struct quicklist *ql, const char *s, size_t n)
{
    struct ql_node *e = node_one(s, n);
    e->plain = 1;
    link_after(ql, ql->tail, e);
    ql_compress(ql, e);
    ql->count++;
}

void ql_append_listpack(struct quicklist *ql, unsigned char *lp, uint32_t count)
{
    struct ql_node *e = node_new(lp, count);
    link_after(ql, ql->tail, e);
    ql_compress(ql, e);
    ql->count += count;
}

bool ql_peek(struct quicklist *ql, enum ql_where where, struct ql_val *v)
{
    struct ql_node *e = where == QL_HEAD ? ql->head : ql->tail;
    if (!e) return false;
    node_open(e); /* the ends are raw unless compress-depth is 0: a no-op */
    read_val(where == QL_HEAD ? lp_first(e->lp) : lp_last(e->lp), v);
    return true;
}

void ql_pop(struct quicklist *ql, enum ql_where where)
{
    struct ql_node *e = where == QL_HEAD ? ql->head : ql->tail;
    if (!e) return;
    if (e->count == 1) {
        unlink_free(ql, e);
        ql_compress(ql, NULL);
        return;
    }
    node_open(e);
    e->lp = lp_delete(e->lp, where == QL_HEAD ? lp_first(e->lp) : lp_last(e->lp), NULL);
    e->count--;
    ql->count--;
    node_close(ql, e);
}

/* The node holding index idx (0 <= idx < count) and idx's offset in it,
 * walking from the nearer end. */
static struct ql_node *seek_node(struct quicklist *ql, unsigned long idx, unsigned long *off)
{
    struct ql_node *n;
    unsigned long acc;
    if (idx < ql->count / 2) {
        n = ql->head;
        acc = 0;
        while (acc + n->count <= idx) {
            acc += n->count;
            n = n->next;
        }
        *off = idx - acc;
    } else {
        n = ql->tail;
        acc = ql->count; /* the index just past n */
        while (acc - n->count > idx) {
            acc -= n->count;
            n = n->prev;
        }
        *off = idx - (acc - n->count);
    }
    return n;
}

/* Normalize a possibly negative index; false when out of range. */
static bool norm_index(const struct quicklist *ql, long long idx, unsigned long *out)
{
    if (idx < 0) {
        if ((unsigned long long)-(idx + 1) >= ql->count) return false;
        idx += (long long)ql->count;
    }
    if ((unsigned long long)idx >= ql->count) return false;
    *out = (unsigned long)idx;
    return true;
}

/* Insert s next to entry p of (open) node n. */
static void insert_at(struct quicklist *ql, struct ql_node *n, unsigned char *p, enum ql_where side,
                      const char *s, size_t len)
{
    struct ql_node *nb, *r, *nw;
    ql->count++;
    if (allow_insert(ql, n, len)) {
        n->lp = lp_insert(n->lp, s, len, p, side == QL_TAIL ? LP_AFTER : LP_BEFORE, NULL);
        n->count++;
        node_close(ql, n);
        return;
    }
    if (side == QL_TAIL && !lp_next(n->lp, p)) {
        /* after the node's last entry: the next node's head, or a new node */
        nb = n->next;
        node_close(ql, n);
        if (allow_insert(ql, nb, len)) {
            node_open(nb);
            nb->lp = lp_prepend(nb->lp, s, len);
            nb->count++;
            node_close(ql, nb);
        } else {
            nw = node_one(s, len);
            link_after(ql, n, nw);
            ql_compress(ql, nw);
        }
        return;
    }
    if (side == QL_HEAD && !lp_prev(n->lp, p)) {
        nb = n->prev;
        node_close(ql, n);
        if (allow_insert(ql, nb, len)) {
            node_open(nb);
            nb->lp = lp_append(nb->lp, s, len);
            nb->count++;
            node_close(ql, nb);
        } else {
            nw = node_one(s, len);
            link_before(ql, n, nw);
            ql_compress(ql, nw);
        }
        return;
    }
    /* In the middle of a full node, as Redis 7.0's _quicklistInsert: the
     * node keeps the entries from the target on its side, the others
     * become a new node holding the value at the cut; the node is
     * compressed again (only itself when it was compressed before), then
     * the new node as the depth says, then _quicklistMergeNodes merges
     * around the node. */
    {
        bool was = n->recompress;
        struct ql_node *center, *fresh;
        r = split_after(ql, n, side == QL_TAIL ? p : lp_prev(n->lp, p));
        if (is_large(len)) {
            /* a large value: a plain node of its own between the parts,
             * no merging (Redis 7.0's _quicklistInsert returns there) */
            struct ql_node *pl = node_one(s, len);
            link_after(ql, n, pl);
            n->recompress = side == QL_TAIL ? was : 0;
            r->recompress = side == QL_TAIL ? 0 : was;
            center = side == QL_TAIL ? n : r;
            fresh = side == QL_TAIL ? r : n;
            if (center->recompress)
                node_compress(center);
            else
                ql_compress(ql, center);
            ql_compress(ql, pl);
            ql_compress(ql, fresh);
            return;
        }
        if (side == QL_TAIL) {
            r->lp = lp_prepend(r->lp, s, len);
            r->count++;
            center = n;
            fresh = r;
        } else {
            n->lp = lp_append(n->lp, s, len);
            n->count++;
            n->recompress = 0;
            r->recompress = was;
            center = r;
            fresh = n;
        }
        if (center->recompress)
            node_compress(center);
        else
            ql_compress(ql, center);
        ql_compress(ql, fresh);
        merge_around(ql, center);
    }
}

bool ql_replace(struct quicklist *ql, long long idx, const char *s, size_t len)
{
    unsigned long i, off;
    struct ql_node *n, *r;
    unsigned char *p;
    if (!norm_index(ql, idx, &i)) return false;
    n = seek_node(ql, i, &off);
    node_open(n);
    p = lp_seek(n->lp, (long)off);
    if (n->plain && !is_large(len) && allow_insert(ql, n->next, len)) {
        /* A small value replacing a plain node's element goes to the head
         * of the next node, as Redis inserts it after and drops the node. */
        struct ql_node *nb = n->next;
        node_close(ql, n);
        node_open(nb);
        nb->lp = lp_prepend(nb->lp, s, len);
        nb->count++;
        node_close(ql, nb);
        unlink_free(ql, n);
        ql->count++; /* unlink_free took the plain node's element */
        ql_compress(ql, nb);
        return true;
    }
    /* Redis 7.0 replaces a packed node's entry in place whatever the node's
     * fill or size becomes (7.2 added a limit); only a large value leaves */
    if (n->count == 1 || !is_large(len)) {
        n->lp = lp_insert(n->lp, s, len, p, LP_REPLACE, NULL);
        n->plain = is_large(len);
        /* Redis's quicklistCompress: compressed outside the depth even when
         * it was raw before (a node that did not compress may now) */
        ql_compress(ql, n);
        return true;
    }
    /* Too big for its node: cut the node right after the entry, drop the
     * entry (now the left part's last) and insert the value after it. */
    r = split_after(ql, n, p);
    if (n->count == 1) {
        n->lp = lp_insert(n->lp, s, len, lp_first(n->lp), LP_REPLACE, NULL);
        n->plain = is_large(len);
        node_close(ql, n);
    } else {
        n->lp = lp_delete(n->lp, lp_last(n->lp), NULL);
        n->count--;
        ql->count--;
        insert_at(ql, n, lp_last(n->lp), QL_TAIL, s, len); /* frees no node */
    }
    if (r) ql_compress(ql, r); /* only now: n was open until here */
    return true;
}

unsigned long ql_del_range(struct quicklist *ql, long long start, unsigned long count)
{
    unsigned long i, off, done = 0;
    struct ql_node *n, *nx;
    if (count == 0) return 0;
    if (start < 0 && (unsigned long long)-(start + 1) >= ql->count) start = 0;
    if (!norm_index(ql, start, &i)) return 0;
    if (count > ql->count - i) count = ql->count - i;
    n = seek_node(ql, i, &off);
    while (n && done < count) {
        unsigned long k = n->count - off;
        nx = n->next;
        if (k > count - done) k = count - done;
        if (k == n->count) {
            unlink_free(ql, n);
        } else {
            node_open(n);
            n->lp = lp_delete_range(n->lp, (long)off, k);
            n->count -= (uint32_t)k;
            ql->count -= k;
            node_close(ql, n);
        }
        done += k;
        off = 0;
        n = nx;
    }
    ql_compress(ql, NULL);
    return done;
}

void ql_needle_init(struct ql_needle *nd, const char *s, size_t n)
{
    nd->s = s;
    nd->n = n;
    nd->isint = n <= 20 && util_str2ll(s, n, &nd->v);
}

bool ql_val_eq(const struct ql_val *v, const struct ql_needle *nd)
{
    if (v->isint) return nd->isint && nd->v == v->v;
    return !nd->isint && v->n == nd->n && memcmp(v->p, nd->s, nd->n) == 0;
}

/* ---- iteration ---- */

void ql_iter_init(struct ql_iter *it, struct quicklist *ql, long long idx, enum ql_where dir)
{
    unsigned long i, off;
    it->ql = ql;
    it->dir = dir;
    it->cur = it->pend = NULL;
    it->node = NULL;
    it->started = false;
    it->done = false;
    if (!norm_index(ql, idx, &i)) {
        it->done = true;
        return;
    }
    it->node = seek_node(ql, i, &off);
    node_open(it->node);
    it->pend = lp_seek(it->node->lp, (long)off);
}

bool ql_iter_next(struct ql_iter *it, struct ql_val *v)
{
    unsigned char *p;
    struct ql_node *n = it->node;
    if (it->done) return false;
    if (!it->started) {
        it->started = true;
        p = it->pend;
    } else if (it->cur) {
        p = it->dir == QL_TAIL ? lp_next(n->lp, it->cur) : lp_prev(n->lp, it->cur);
    } else {
        p = it->pend; /* set by ql_iter_del: the entry after the deleted one */
    }
    while (!p) {
        struct ql_node *nx = it->dir == QL_TAIL ? n->next : n->prev;
        node_close(it->ql, n);
        if (!nx) {
            it->node = NULL;
            it->cur = NULL;
            it->done = true;
            return false;
        }
        n = nx;
        node_open(n);
        p = it->dir == QL_TAIL ? lp_first(n->lp) : lp_last(n->lp);
    }
    it->node = n;
    it->cur = p;
    read_val(p, v);
    return true;
}

void ql_iter_del(struct ql_iter *it)
{
    struct quicklist *ql = it->ql;
    struct ql_node *n = it->node;
    unsigned char *p = it->cur, *nx;
    if (!p) return;
    it->cur = NULL;
    if (n->count == 1) {
        struct ql_node *nb = it->dir == QL_TAIL ? n->next : n->prev;
        unlink_free(ql, n);
        ql_compress(ql, NULL);
        if (!nb) {
            it->node = NULL;
            it->pend = NULL;
            it->done = true;
            return;
        }
        node_open(nb);
        it->node = nb;
        it->pend = it->dir == QL_TAIL ? lp_first(nb->lp) : lp_last(nb->lp);
        return;
    }
    if (it->dir == QL_TAIL) {
        n->lp = lp_delete(n->lp, p, &nx);
        it->pend = nx;
    } else {
        unsigned char *q = lp_prev(n->lp, p);
        size_t qoff = q ? (size_t)(q - n->lp) : 0;
        n->lp = lp_delete(n->lp, p, NULL);
        it->pend = q ? n->lp + qoff : NULL;
    }
    n->count--;
    ql->count--;
    if (!it->pend) {
        /* deleted the node's last entry in this direction: continue with the
         * neighbour (the walk in ql_iter_next starts from n) */
        struct ql_node *nb = it->dir == QL_TAIL ? n->next : n->prev;
        node_close(ql, n);
        if (!nb) {
            it->node = NULL;
            it->done = true;
            return;
        }
        node_open(nb);
        it->node = nb;
        it->pend = it->dir == QL_TAIL ? lp_first(nb->lp) : lp_last(nb->lp);
    }
}

void ql_iter_insert(struct ql_iter *it, enum ql_where side, const char *s, size_t n)
{
    if (!it->cur) return;
    insert_at(it->ql, it->node, it->cur, side, s, n);
    it->node = NULL;
    it->cur = NULL;
    it->done = true;
}

void ql_iter_release(struct ql_iter *it)
{
    if (it->node) node_close(it->ql, it->node);
    it->node = NULL;
    it->done = true;
}

void ql_node_first(const struct ql_node *n, struct ql_val *v, unsigned char **tmp)
{
    const unsigned char *lp = n->lp;
    *tmp = NULL;
    if (n->compressed) {
        size_t sz = rd32(n->lp);
        *tmp = xmalloc(sz);
        ql_lzf_decompress(n->lp + 4, n->clen - 4, *tmp, sz);
        lp = *tmp;
    }
    read_val(lp_first((unsigned char *)lp), v);
}

unsigned long ql_uncompressed_size(const struct quicklist *ql)
{
    const struct ql_node *n;
    unsigned long sz = 0;
    for (n = ql->head; n; n = n->next) {
        if (n->plain) {
            struct ql_val v;
            unsigned char *tmp;
            ql_node_first(n, &v, &tmp);
            sz += v.n;
            free(tmp);
        } else {
            sz += raw_bytes(n);
        }
    }
    return sz;
}

/* ---- invariants (tests) ---- */

const char *ql_check(struct quicklist *ql)
{
    struct ql_node *n, *prev = NULL;
    unsigned long count = 0, len = 0, pos = 0;
    for (n = ql->head; n; prev = n, n = n->next, pos++) {
        unsigned char *lp;
        size_t sz;
        if (n->prev != prev) return "broken prev link";
        if (n->count == 0) return "empty node";
        if (n->recompress) return "node left open";
        if (n->plain && n->count != 1) return "plain node with more than one element";
        if (n->compressed) {
            if (ql->compress == 0) return "compressed node with compress-depth 0";
            sz = rd32(n->lp);
            lp = xmalloc(sz);
            if (ql_lzf_decompress(n->lp + 4, n->clen - 4, lp, sz) != sz) {
                free(lp);
                return "bad compressed node";
            }
        } else {
            lp = n->lp;
            sz = lp_bytes(lp);
        }
        if (!lp_validate(lp, sz)) {
            if (lp != n->lp) free(lp);
            return "invalid listpack";
        }
        if (lp_count(lp) != n->count) {
            if (lp != n->lp) free(lp);
            return "node count mismatch";
        }
        if (lp != n->lp) free(lp);
        count += n->count;
        len++;
    }
    if (prev != ql->tail) return "bad tail";
    if (count != ql->count) return "list count mismatch";
    if (len != ql->len) return "node count (len) mismatch";
    if (ql->compress) {
        unsigned long i = 0;
        for (n = ql->head; n; n = n->next, i++)
            if (n->compressed &&
                (i < (unsigned long)ql->compress || len - 1 - i < (unsigned long)ql->compress))
                return "compressed node inside compress depth";
    }
    return NULL;
}

/* ---- LZF ----
 * Debian's liblzf, the library redis-server links: compressed nodes and
 * RDB strings are byte for byte what Redis writes. */

size_t ql_lzf_compress(const void *in, size_t inlen, void *out, size_t outlen)
{
    if (inlen > UINT_MAX || outlen > UINT_MAX) return 0;
    return lzf_compress(in, (unsigned)inlen, out, (unsigned)outlen);
}

size_t ql_lzf_decompress(const void *in, size_t inlen, void *out, size_t outlen)
{
    if (inlen > UINT_MAX || outlen > UINT_MAX) return 0;
    return lzf_decompress(in, (unsigned)inlen, out, (unsigned)outlen);
}

/* ---- OBJ_LIST value hooks ---- */

void list_free_value(void *ptr, int enc)
{
    (void)enc;
    ql_free(ptr);
}

void *list_dup_value(void *ptr, int enc)
{
    (void)enc;
    return ql_dup(ptr);
}

size_t list_free_effort(void *ptr, int enc)
{
    (void)enc;
    return ((struct quicklist *)ptr)->len;
}
