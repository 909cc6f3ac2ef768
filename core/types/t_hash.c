/* t_hash.c — the hash value type (t_hash.h): listpack encoding for small
 * hashes, a dict of single-allocation `struct hfield` nodes past
 * hash-max-listpack-entries / hash-max-listpack-value, the conversion
 * between them (one way, as Redis), iteration, random picks, the HSCAN step,
 * and the free / deep-copy hooks in obj_ops[OBJ_HASH]. */
#include "t_hash.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "siphash.h"
#include "util.h"

/* Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB. */
#define LP_SAFETY_SIZE (1ULL << 30)

/* ---------------------------------------------------------- hash table */

static uint64_t hf_hash(const struct dnode *n)
{
    const struct hfield *h = (const struct hfield *)n;
    return siphash(h->data, h->flen);
}

static bool hf_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct hfield *h = (const struct hfield *)n;
    return h->flen == len && memcmp(h->data, key, len) == 0;
}

static const struct dict_type hash_dict_type = {hf_hash, hf_eq};

static struct hfield *hf_new(const char *f, size_t fn, const char *v, size_t vn)
{
    struct hfield *h = xmalloc(sizeof(*h) + fn + vn);
    h->node.next = NULL;
    h->flen = (uint32_t)fn;
    h->vlen = (uint32_t)vn;
    if (fn) memcpy(h->data, f, fn);
    if (vn) memcpy(h->data + fn, v, vn);
    return h;
}

static void hf_free(struct dnode *n)
{
    free(n);
}

/* A new dict sized for n fields up front (Redis presizes on conversion). */
static struct dict *dict_sized(uint64_t n)
{
    struct dict *d = xmalloc(sizeof(*d));
    uint64_t size = DICT_INITIAL;
    dict_init(d, &hash_dict_type);
    while (size < n)
        size <<= 1;
    d->table[0] = xcalloc(size, sizeof(struct dnode *));
    d->size[0] = size;
    return d;
}

static void hval_set(struct hval *v, const char *p, size_t n)
{
    v->p = p;
    v->n = n;
    v->isint = false;
}

static void hval_lp(struct hval *v, const unsigned char *p)
{
    v->p = lp_get(p, &v->n, v->buf, &v->isint, &v->ll);
}

/* ----------------------------------------------------------- the value */

struct kv *hash_new_kv(const char *key, size_t klen)
{
    return kv_new_ptr(key, klen, OBJ_HASH, ENC_LISTPACK, lp_new(0));
}

unsigned long hash_len(struct kv *e)
{
    if (e->enc == ENC_LISTPACK) return lp_count(e->v.ptr) / 2;
    return (unsigned long)dict_size(e->v.ptr);
}

/* The field entry of f in a listpack, or NULL. */
static unsigned char *lp_field(unsigned char *lp, const char *f, size_t fn)
{
    unsigned char *p = lp_first(lp);
    return p ? lp_find(lp, p, f, fn, 1) : NULL;
}

bool hash_get(struct kv *e, const char *f, size_t fn, struct hval *v)
{
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *p = lp_field(lp, f, fn);
        if (!p) return false;
        hval_lp(v, lp_next(lp, p));
        return true;
    } else {
        struct hfield *h = (struct hfield *)dict_find(e->v.ptr, f, fn, siphash(f, fn));
        if (!h) return false;
        hval_set(v, hfield_val(h), h->vlen);
        return true;
    }
}

bool hash_exists(struct kv *e, const char *f, size_t fn)
{
    if (e->enc == ENC_LISTPACK) return lp_field(e->v.ptr, f, fn) != NULL;
    return dict_find(e->v.ptr, f, fn, siphash(f, fn)) != NULL;
}

size_t hash_strlen(struct kv *e, const char *f, size_t fn)
{
    struct hval v;
    return hash_get(e, f, fn, &v) ? v.n : 0;
}

void hash_convert(struct kv *e)
{
    unsigned char *lp, *p;
    struct dict *d;
    if (e->enc != ENC_LISTPACK) return;
    lp = e->v.ptr;
    d = dict_sized(lp_count(lp) / 2);
    for (p = lp_first(lp); p; p = lp_next(lp, p)) {
        struct hval f, v;
        struct hfield *h;
        hval_lp(&f, p);
        p = lp_next(lp, p);
        hval_lp(&v, p);
        h = hf_new(f.p, f.n, v.p, v.n);
        dict_add(d, &h->node, siphash(f.p, f.n));
    }
    lp_free(lp);
    e->enc = ENC_HASHTABLE;
    e->v.ptr = d;
}

void hash_try_convert(struct kv *e, size_t maxlen, size_t total)
{
    if (e->enc != ENC_LISTPACK) return;
    if (maxlen > (unsigned long long)g_config.hash_max_listpack_value ||
        lp_bytes(e->v.ptr) + total > LP_SAFETY_SIZE)
        hash_convert(e);
}

static bool table_set(struct dict *d, const char *f, size_t fn, const char *v, size_t vn)
{
    uint64_t hv = siphash(f, fn);
    struct hfield *old = (struct hfield *)dict_find(d, f, fn, hv), *h;
    if (old) {
        if (old->vlen == vn) {
            if (vn) memcpy(old->data + old->flen, v, vn);
        } else {
            h = hf_new(f, fn, v, vn);
            dict_replace(d, &old->node, &h->node, hv);
            free(old);
        }
        return false;
    }
    h = hf_new(f, fn, v, vn);
    dict_add(d, &h->node, hv);
    return true;
}

bool hash_set(struct kv *e, const char *f, size_t fn, const char *v, size_t vn)
{
    unsigned long long maxv = (unsigned long long)g_config.hash_max_listpack_value;
    unsigned char *lp, *p;
    if (e->enc == ENC_LISTPACK && (fn > maxv || vn > maxv)) hash_convert(e);
    if (e->enc != ENC_LISTPACK) return table_set(e->v.ptr, f, fn, v, vn);
    lp = e->v.ptr;
    p = lp_field(lp, f, fn);
    if (p) {
        e->v.ptr = lp_insert(lp, v, vn, lp_next(lp, p), LP_REPLACE, NULL);
        return false;
    }
    lp = lp_append(lp, f, fn);
    lp = lp_append(lp, v, vn);
    e->v.ptr = lp;
    if (lp_count(lp) / 2 > (unsigned long long)g_config.hash_max_listpack_entries) hash_convert(e);
    return true;
}

bool hash_delete(struct kv *e, const char *f, size_t fn)
{
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *p = lp_field(lp, f, fn), *next = NULL;
        if (!p) return false;
        lp = lp_delete(lp, p, &next); /* the field; next is its value */
        lp = lp_delete(lp, next, NULL);
        e->v.ptr = lp;
        return true;
    } else {
        struct dict *d = e->v.ptr;
        struct dnode *n = dict_unlink(d, f, fn, siphash(f, fn));
        if (!n) return false;
        free(n);
        /* Redis's htNeedsResize/dictResize after a delete. */
        dict_maybe_shrink(d);
        return true;
    }
}

/* ------------------------------------------------------------ iteration */

void hash_iter_init(struct hash_iter *it, struct kv *e)
{
    memset(it, 0, sizeof(*it));
    it->e = e;
    if (e->enc == ENC_LISTPACK) {
        it->lp = e->v.ptr;
        it->p = lp_first(it->lp);
    } else {
        it->d = e->v.ptr;
        it->d->pauserehash++;
        it->next = NULL;
        it->table = 0;
        it->bucket = 0;
    }
}

bool hash_iter_next(struct hash_iter *it, struct hval *f, struct hval *v)
{
    if (it->lp) {
        unsigned char *vp;
        if (!it->p) return false;
        vp = lp_next(it->lp, it->p);
        if (f) hval_lp(f, it->p);
        if (v) hval_lp(v, vp);
        it->p = lp_next(it->lp, vp);
        return true;
    }
    while (!it->next) {
        struct dict *d = it->d;
        if (it->table > 1) return false;
        if (it->bucket >= d->size[it->table]) {
            it->table++;
            it->bucket = 0;
            continue;
        }
        it->next = d->table[it->table][it->bucket++];
    }
    {
        struct hfield *h = (struct hfield *)it->next;
        it->next = h->node.next;
        if (f) hval_set(f, h->data, h->flen);
        if (v) hval_set(v, hfield_val(h), h->vlen);
    }
    return true;
}

void hash_iter_done(struct hash_iter *it)
{
    if (it->d) it->d->pauserehash--;
    it->d = NULL;
}

void hash_random(struct kv *e, struct hval *f, struct hval *v)
{
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *p;
        unsigned long n = lp_count(lp) / 2;
        p = lp_seek(lp, (long)(2 * (util_rand64() % n)));
        if (f) hval_lp(f, p);
        if (v) hval_lp(v, lp_next(lp, p));
    } else {
        struct hfield *h = (struct hfield *)dict_random(e->v.ptr);
        if (f) hval_set(f, h->data, h->flen);
        if (v) hval_set(v, hfield_val(h), h->vlen);
    }
}

void hash_views(struct kv *e, struct hval *fields, struct hval *vals)
{
    struct hash_iter it;
    size_t i = 0;
    hash_iter_init(&it, e);
    /* Listpack integers are formatted into each element's own buf. */
    while (hash_iter_next(&it, &fields[i], vals ? &vals[i] : NULL))
        i++;
    hash_iter_done(&it);
}

uint64_t hash_scan(struct kv *e, uint64_t cursor, dict_scan_fn fn, void *priv)
{
    return dict_scan(e->v.ptr, cursor, fn, priv);
}

/* ---------------------------------------------------------- value hooks */

void hash_free_value(void *ptr, int enc)
{
    if (enc == ENC_LISTPACK) {
        lp_free(ptr);
    } else {
        dict_release(ptr, hf_free);
        free(ptr);
    }
}

void *hash_dup_value(void *ptr, int enc)
{
    struct dict *src, *d;
    int t;
    uint64_t i;
    if (enc == ENC_LISTPACK) return xmemdup(ptr, lp_bytes(ptr));
    src = ptr;
    d = dict_sized(dict_size(src));
    for (t = 0; t <= 1; t++) {
        for (i = 0; i < src->size[t]; i++) {
            struct dnode *n;
            for (n = src->table[t][i]; n; n = n->next) {
                const struct hfield *h = (const struct hfield *)n;
                struct hfield *c = hf_new(h->data, h->flen, hfield_val(h), h->vlen);
                dict_add(d, &c->node, siphash(h->data, h->flen));
            }
        }
    }
    return d;
}

size_t hash_free_effort(void *ptr, int enc)
{
    return enc == ENC_HASHTABLE ? (size_t)dict_size(ptr) : 1;
}
