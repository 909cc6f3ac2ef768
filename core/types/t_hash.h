/* t_hash.h — the hash value type: a listpack of field,value,field,value...
 * while it is small (at most hash-max-listpack-entries fields, every field
 * and value at most hash-max-listpack-value bytes), a hash table of
 * `struct hfield` (field and value bytes in one allocation) past either
 * limit. Like Redis, a hash never converts back. This is structure only:
 * no arguments, no replies (cmd_hash.c uses it). The value hangs off
 * kv->v.ptr: the listpack buffer (ENC_LISTPACK) or a struct dict *
 * (ENC_HASHTABLE). */
#ifndef KEEL_T_HASH_H
#define KEEL_T_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "listpack.h"
#include "object.h"

/* One field of a hashtable-encoded hash. */
struct hfield {
    struct dnode node; /* hash chain: must be first */
    uint32_t flen, vlen;
    char data[]; /* field bytes, then value bytes */
};

static inline const char *hfield_val(const struct hfield *h)
{
    return h->data + h->flen;
}

/* A field or value read from either encoding. Integers stored by the
 * listpack are formatted into buf (p then points at buf); isint/ll tell the
 * integer when the listpack held one (callers like HINCRBY use it). */
struct hval {
    const char *p;
    size_t n;
    bool isint;
    long long ll;
    char buf[LP_INTBUF];
};

/* A new empty hash value (a listpack) and the kv holding it. */
struct kv *hash_new_kv(const char *key, size_t klen);

unsigned long hash_len(struct kv *e);
/* Look field up; true (and *v filled) when present. */
bool hash_get(struct kv *e, const char *f, size_t fn, struct hval *v);
bool hash_exists(struct kv *e, const char *f, size_t fn);
/* Length of field's value (0 when absent), as HSTRLEN counts it. */
size_t hash_strlen(struct kv *e, const char *f, size_t fn);

/* Before adding strings to a listpack-encoded hash: convert to a hash table
 * if one of them (longest `maxlen` bytes, `total` bytes together) would not
 * fit the listpack limits — Redis's hashTypeTryConversion. */
void hash_try_convert(struct kv *e, size_t maxlen, size_t total);
/* Set field to value, converting past the thresholds (Redis's hashTypeSet:
 * a long field or value converts first, too many fields after). Returns
 * true when the field was new, false when its value was replaced. */
bool hash_set(struct kv *e, const char *f, size_t fn, const char *v, size_t vn);
/* Remove field; true if it was there. The caller deletes an emptied key. */
bool hash_delete(struct kv *e, const char *f, size_t fn);
/* Listpack -> hash table (no-op when already one). */
void hash_convert(struct kv *e);

/* Iteration over every field,value pair (no mutation while iterating). */
struct hash_iter {
    struct kv *e;
    unsigned char *lp, *p; /* listpack: the next field entry */
    struct dict *d;        /* hashtable */
    int table;
    uint64_t bucket;
    struct dnode *next;
};
void hash_iter_init(struct hash_iter *it, struct kv *e);
/* Next pair into *f and *v (either may be NULL); false at the end. */
bool hash_iter_next(struct hash_iter *it, struct hval *f, struct hval *v);
void hash_iter_done(struct hash_iter *it);

/* One uniformly chosen pair (hash non-empty). */
void hash_random(struct kv *e, struct hval *f, struct hval *v);

/* Every pair as views, for sampling: fills arrays of len hash_len(e)
 * (values may be NULL). Views of listpack integers use the hval's buf, so
 * the arrays are of struct hval. */
void hash_views(struct kv *e, struct hval *fields, struct hval *vals);

/* HSCAN step over a hashtable-encoded hash: calls fn for each field of the
 * visited buckets; returns the next cursor (0 at the end). */
uint64_t hash_scan(struct kv *e, uint64_t cursor, dict_scan_fn fn, void *priv);

/* Value hooks (registered in obj_ops[OBJ_HASH]). */
void hash_free_value(void *ptr, int enc);
void *hash_dup_value(void *ptr, int enc);
/* Lazy free effort (core/store/lazyfree.h): fields of a hash table, else 1. */
size_t hash_free_effort(void *ptr, int enc);

#endif
