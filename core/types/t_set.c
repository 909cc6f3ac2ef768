/* t_set.c — the set value: intset or hash table, with Redis 7.0's
 * conversion rule (set-max-intset-entries, capped at 2^30 as Redis caps it),
 * iteration, random picks and the free / deep-copy hooks of OBJ_SET
 * (t_set.h). Hash-table members are `struct smember` nodes hashed with the
 * seeded SipHash. */
#include "t_set.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "siphash.h"
#include "util.h"

/* ---- the hash-table encoding ---- */

static uint64_t sm_hash(const struct dnode *n)
{
    const struct smember *m = (const struct smember *)n;
    return siphash(m->data, m->len);
}

static bool sm_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct smember *m = (const struct smember *)n;
    return m->len == len && memcmp(m->data, key, len) == 0;
}

static const struct dict_type set_dict_type = {sm_hash, sm_eq};

static void sm_free(struct dnode *n)
{
    free(n);
}

static struct smember *sm_new(const char *p, size_t n)
{
    struct smember *m = xmalloc(offsetof(struct smember, data) + (n ? n : 1));
    m->node.next = NULL;
    m->len = (uint32_t)n;
    if (n) memcpy(m->data, p, n);
    return m;
}

/* Redis's dictExpand on an empty dict: a table of the next power of two. */
static struct dict *ht_new(size_t n)
{
    struct dict *d = xmalloc(sizeof(*d));
    dict_init(d, &set_dict_type);
    if (n > DICT_INITIAL) {
        uint64_t size = DICT_INITIAL;
        while (size < n)
            size <<= 1;
        d->table[0] = xcalloc(size, sizeof(struct dnode *));
        d->size[0] = size;
    }
    return d;
}

static int ht_add(struct dict *d, const char *p, size_t n)
{
    uint64_t h = siphash(p, n);
    if (dict_find(d, p, n, h)) return 0;
    dict_add(d, &sm_new(p, n)->node, h);
    return 1;
}

static void ht_shrink(struct dict *d)
{
    /* Redis's htNeedsResize + dictResize after a delete. */
    dict_maybe_shrink(d);
}

/* ---- creation and lifecycle ---- */

struct setv set_new_intset(void)
{
    struct setv s = {intset_new(), ENC_INTSET};
    return s;
}

struct setv set_new_ht(size_t n)
{
    struct setv s = {ht_new(n), ENC_HASHTABLE};
    return s;
}

struct setv set_new_for(const char *p, size_t n)
{
    long long ll;
    if (util_str2ll(p, n, &ll)) return set_new_intset();
    return set_new_ht(0);
}

void set_free(struct setv *s)
{
    if (!s->ptr) return;
    if (s->enc == ENC_INTSET) {
        free(s->ptr);
    } else {
        dict_release(s->ptr, sm_free);
        free(s->ptr);
    }
    s->ptr = NULL;
}

size_t set_size(const struct setv *s)
{
    if (s->enc == ENC_INTSET) return intset_len(s->ptr);
    return (size_t)dict_size(s->ptr);
}

struct setv set_dup(const struct setv *s)
{
    struct setv out;
    if (s->enc == ENC_INTSET) {
        out.ptr = intset_dup(s->ptr);
        out.enc = ENC_INTSET;
    } else {
        struct set_iter it;
        struct set_elem el;
        struct dict *d = ht_new(set_size(s));
        set_iter_init(&it, s);
        while (set_iter_next(&it, &el))
            dict_add(d, &sm_new(el.p, el.n)->node, siphash(el.p, el.n));
        set_iter_release(&it);
        out.ptr = d;
        out.enc = ENC_HASHTABLE;
    }
    return out;
}

void set_convert_ht(struct setv *s, size_t n)
{
    struct intset *is = s->ptr;
    struct dict *d;
    uint32_t i;
    int64_t v;
    if (s->enc != ENC_INTSET) return;
    d = ht_new(n > intset_len(is) ? n : intset_len(is));
    for (i = 0; intset_get(is, i, &v); i++) {
        char buf[24];
        int len = util_ll2str(buf, v);
        dict_add(d, &sm_new(buf, (size_t)len)->node, siphash(buf, (size_t)len));
    }
    free(is);
    s->ptr = d;
    s->enc = ENC_HASHTABLE;
}

/* ---- members ---- */

static size_t max_intset_entries(void)
{
    long long max = g_config.set_max_intset_entries;
    if (max >= (1LL << 30)) max = 1LL << 30; /* intset internals, as Redis */
    return max < 0 ? 0 : (size_t)max;
}

static int add_int(struct setv *s, int64_t v)
{
    bool added;
    s->ptr = intset_add(s->ptr, v, &added);
    if (!added) return 0;
    if (intset_len(s->ptr) > max_intset_entries()) set_convert_ht(s, intset_len(s->ptr));
    return 1;
}

int set_add(struct setv *s, const char *p, size_t n)
{
    long long ll;
    if (s->enc == ENC_HASHTABLE) return ht_add(s->ptr, p, n);
    if (util_str2ll(p, n, &ll)) return add_int(s, ll);
    /* Not an integer: the set becomes a hash table. */
    set_convert_ht(s, intset_len(s->ptr));
    dict_add(s->ptr, &sm_new(p, n)->node, siphash(p, n));
    return 1;
}

int set_add_elem(struct setv *s, const struct set_elem *el)
{
    if (el->is_int && s->enc == ENC_INTSET) return add_int(s, el->ll);
    return set_add(s, el->p, el->n);
}

int set_remove(struct setv *s, const char *p, size_t n)
{
    if (s->enc == ENC_HASHTABLE) {
        struct dnode *node = dict_unlink(s->ptr, p, n, siphash(p, n));
        if (!node) return 0;
        free(node);
        ht_shrink(s->ptr);
        return 1;
    } else {
        long long ll;
        bool removed;
        if (!util_str2ll(p, n, &ll)) return 0;
        s->ptr = intset_remove(s->ptr, ll, &removed);
        return removed;
    }
}

bool set_ismember(const struct setv *s, const char *p, size_t n)
{
    long long ll;
    if (s->enc == ENC_HASHTABLE) return dict_find(s->ptr, p, n, siphash(p, n)) != NULL;
    return util_str2ll(p, n, &ll) && intset_find(s->ptr, ll);
}

bool set_ismember_elem(const struct setv *s, const struct set_elem *el)
{
    if (el->is_int && s->enc == ENC_INTSET) return intset_find(s->ptr, el->ll);
    return set_ismember(s, el->p, el->n);
}

/* ---- random members ---- */

/* Redis's dictGetSomeKeys: up to count nodes from consecutive buckets
 * starting at a random one (both tables while rehashing), jumping
 * elsewhere after a run of empty buckets. */
static unsigned some_nodes(struct dict *d, struct dnode **out, unsigned count)
{
    uint64_t maxmask, i, emptylen = 0, maxsteps;
    unsigned stored = 0, j, tables;
    if (dict_size(d) < count) count = (unsigned)dict_size(d);
    maxsteps = (uint64_t)count * 10;
    for (j = 0; j < count && dict_is_rehashing(d) && !d->pauserehash; j++)
        dict_rehash(d, 1);
    tables = dict_is_rehashing(d) ? 2 : 1;
    maxmask = d->size[0] - 1;
    if (tables > 1 && maxmask < d->size[1] - 1) maxmask = d->size[1] - 1;
    i = util_rand64() & maxmask;
    while (stored < count && maxsteps--) {
        for (j = 0; j < tables; j++) {
            struct dnode *he;
            if (tables == 2 && j == 0 && i < (uint64_t)d->rehashidx) {
                /* ht[0] is empty below rehashidx */
                if (i >= d->size[1])
                    i = (uint64_t)d->rehashidx;
                else
                    continue;
            }
            if (i >= d->size[j]) continue;
            he = d->table[j][i];
            if (!he) {
                emptylen++;
                if (emptylen >= 5 && emptylen > count) {
                    i = util_rand64() & maxmask;
                    emptylen = 0;
                }
            } else {
                emptylen = 0;
                while (he) {
                    out[stored++] = he;
                    he = he->next;
                    if (stored == count) return stored;
                }
            }
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}

/* Redis's dictGetFairRandomKey: a uniform pick among a sample of nearby
 * nodes, much fairer than bucket-then-chain when chains differ in length. */
static struct smember *ht_random(struct dict *d)
{
    struct dnode *nodes[15];
    unsigned n = some_nodes(d, nodes, 15);
    if (n == 0) return (struct smember *)dict_random(d);
    return (struct smember *)nodes[util_rand64() % n];
}

static void elem_int(struct set_elem *el, int64_t v)
{
    el->is_int = true;
    el->ll = v;
    el->n = (size_t)util_ll2str(el->buf, v);
    el->p = el->buf;
    el->owned = NULL;
}

static void elem_node(struct set_elem *el, struct smember *m)
{
    el->is_int = false;
    el->ll = 0;
    el->p = m->data;
    el->n = m->len;
    el->owned = NULL;
}

void set_random(const struct setv *s, struct set_elem *el)
{
    if (s->enc == ENC_INTSET)
        elem_int(el, intset_random(s->ptr));
    else
        elem_node(el, ht_random(s->ptr));
}

void set_pop(struct setv *s, struct set_elem *el)
{
    if (s->enc == ENC_INTSET) {
        elem_int(el, intset_random(s->ptr));
        s->ptr = intset_remove(s->ptr, el->ll, NULL);
    } else {
        struct smember *m = ht_random(s->ptr);
        dict_unlink(s->ptr, m->data, m->len, siphash(m->data, m->len));
        elem_node(el, m);
        el->owned = m;
        ht_shrink(s->ptr);
    }
}

void set_elem_release(struct set_elem *el)
{
    free(el->owned);
    el->owned = NULL;
}

/* ---- iteration ---- */

void set_iter_init(struct set_iter *it, const struct setv *s)
{
    it->s = *s;
    it->pos = 0;
    it->table = 0;
    it->bucket = 0;
    it->next = NULL;
    if (s->enc == ENC_HASHTABLE) ((struct dict *)s->ptr)->pauserehash++;
}

bool set_iter_next(struct set_iter *it, struct set_elem *el)
{
    struct dict *d;
    if (it->s.enc == ENC_INTSET) {
        int64_t v;
        if (!intset_get(it->s.ptr, it->pos, &v)) return false;
        it->pos++;
        elem_int(el, v);
        return true;
    }
    d = it->s.ptr;
    while (!it->next) {
        if (it->bucket >= d->size[it->table]) {
            if (it->table == 1 || !dict_is_rehashing(d)) return false;
            it->table = 1;
            it->bucket = 0;
            continue;
        }
        it->next = d->table[it->table][it->bucket++];
    }
    elem_node(el, (struct smember *)it->next);
    it->next = it->next->next;
    return true;
}

void set_iter_release(struct set_iter *it)
{
    if (it->s.enc == ENC_HASHTABLE && it->s.ptr) ((struct dict *)it->s.ptr)->pauserehash--;
    it->s.ptr = NULL;
}

/* ---- SSCAN ---- */

struct scan_ctx {
    set_scan_fn fn;
    void *priv;
};

static void scan_node(void *priv, struct dnode *n)
{
    struct scan_ctx *c = priv;
    struct smember *m = (struct smember *)n;
    c->fn(c->priv, m->data, m->len);
}

uint64_t set_scan_ht(const struct setv *s, uint64_t cursor, set_scan_fn fn, void *priv)
{
    struct scan_ctx c = {fn, priv};
    return dict_scan(s->ptr, cursor, scan_node, &c);
}

/* ---- OBJ_SET value hooks ---- */

void set_free_value(void *ptr, int enc)
{
    struct setv s = {ptr, enc};
    set_free(&s);
}

void *set_dup_value(void *ptr, int enc)
{
    struct setv s = {ptr, enc};
    return set_dup(&s).ptr;
}

size_t set_free_effort(void *ptr, int enc)
{
    return enc == ENC_HASHTABLE ? (size_t)dict_size(ptr) : 1;
}
