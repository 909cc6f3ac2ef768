/* dict.h — an intrusive chained hash table with incremental rehashing, the
 * shape of Redis's dict: two tables while growing or shrinking, a few
 * buckets moved per operation and per cron tick so that no single command
 * stalls on a large rehash, and the reverse-binary SCAN cursor that visits
 * every element present for the whole scan at least once across resizes.
 * Nodes embed `struct dnode` first; the table never allocates per node. */
#ifndef KEEL_DICT_H
#define KEEL_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dnode {
    struct dnode *next;
};

struct dict_type {
    uint64_t (*hash)(const struct dnode *n);                        /* for rehashing */
    bool (*eq)(const struct dnode *n, const void *key, size_t len); /* lookup */
};

struct dict {
    const struct dict_type *type;
    struct dnode **table[2];
    uint64_t size[2]; /* 0 or a power of two */
    uint64_t used[2];
    int64_t rehashidx; /* -1 when not rehashing */
    int pauserehash;
};

#define DICT_INITIAL 4

void dict_init(struct dict *d, const struct dict_type *type);
/* Free the tables (not the nodes); call free_node on each node if given. */
void dict_release(struct dict *d, void (*free_node)(struct dnode *));
/* Detach everything into *out (for freeing elsewhere) and reset d. */
void dict_move(struct dict *d, struct dict *out);

static inline uint64_t dict_size(const struct dict *d)
{
    return d->used[0] + d->used[1];
}
static inline bool dict_is_rehashing(const struct dict *d)
{
    return d->rehashidx != -1;
}

struct dnode *dict_find(struct dict *d, const void *key, size_t len, uint64_t hash);
/* Add a node whose key is known to be absent. */
void dict_add(struct dict *d, struct dnode *n, uint64_t hash);
/* Unlink and return the node with this key, or NULL. */
struct dnode *dict_unlink(struct dict *d, const void *key, size_t len, uint64_t hash);
/* Replace node old (present, same key) by new in place. */
void dict_replace(struct dict *d, struct dnode *old, struct dnode *nw, uint64_t hash);

/* Make room for n elements in one table (Redis's dictExpand, which its RDB
 * loader calls with RESIZEDB's count): an empty dict gets its table at
 * once, a smaller one starts rehashing into it. Nothing while rehashing
 * or when the table is already that big. */
void dict_expand(struct dict *d, uint64_t n);
/* Do n bucket-steps of rehashing; returns true if more remain. */
bool dict_rehash(struct dict *d, int n);
/* Rehash for about ms milliseconds; returns steps*100 done. */
int dict_rehash_ms(struct dict *d, int ms);
/* Shrink when sparse (called from cron). */
void dict_maybe_shrink(struct dict *d);

typedef void (*dict_scan_fn)(void *priv, struct dnode *n);
uint64_t dict_scan(struct dict *d, uint64_t cursor, dict_scan_fn fn, void *priv);

/* A uniformly-chosen bucket's random element, or NULL when empty. */
struct dnode *dict_random(struct dict *d);
/* Up to n nodes from a run of buckets starting at a random one (the shape
 * of Redis's dictGetSomeKeys: cheaper than n dict_random calls, for
 * eviction sampling). Returns how many were stored in out (maybe < n). */
size_t dict_sample(struct dict *d, struct dnode **out, size_t n);

/* Visit every node; fn must not modify the dict. */
void dict_foreach(struct dict *d, void (*fn)(void *priv, struct dnode *n), void *priv);

#endif
