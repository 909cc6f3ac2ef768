/* dict.c — incremental-rehash chained hash table (see dict.h). */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void dict_init(struct dict *d, const struct dict_type *type)
{
    memset(d, 0, sizeof(*d));
    d->type = type;
    d->rehashidx = -1;
}

static void free_table(struct dnode **t, uint64_t size, void (*free_node)(struct dnode *))
{
    uint64_t i;
    if (!t) return;
    if (free_node) {
        for (i = 0; i < size; i++) {
            struct dnode *n = t[i];
            while (n) {
                struct dnode *next = n->next;
                free_node(n);
                n = next;
            }
        }
    }
    free(t);
}

void dict_release(struct dict *d, void (*free_node)(struct dnode *))
{
    free_table(d->table[0], d->size[0], free_node);
    free_table(d->table[1], d->size[1], free_node);
    dict_init(d, d->type);
}

void dict_move(struct dict *d, struct dict *out)
{
    *out = *d;
    dict_init(d, d->type);
}

static uint64_t next_pow2(uint64_t n)
{
    uint64_t s = DICT_INITIAL;
    while (s < n)
        s <<= 1;
    return s;
}

static void resize_to(struct dict *d, uint64_t size)
{
    if (dict_is_rehashing(d)) return;
    size = next_pow2(size);
    if (size == d->size[0]) return;
    if (d->table[0] == NULL) {
        d->table[0] = xcalloc(size, sizeof(struct dnode *));
        d->size[0] = size;
        return;
    }
    d->table[1] = xcalloc(size, sizeof(struct dnode *));
    d->size[1] = size;
    d->used[1] = 0;
    d->rehashidx = 0;
}

void dict_expand(struct dict *d, uint64_t n)
{
    if (dict_is_rehashing(d) || n <= d->size[0] || n < dict_size(d)) return;
    resize_to(d, n);
}

bool dict_rehash(struct dict *d, int n)
{
    int empty_visits = n * 10;
    if (!dict_is_rehashing(d)) return false;
    while (n-- && d->used[0] != 0) {
        struct dnode *e;
        while (d->table[0][d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--empty_visits == 0) return true;
        }
        e = d->table[0][d->rehashidx];
        while (e) {
            struct dnode *next = e->next;
            uint64_t idx = d->type->hash(e) & (d->size[1] - 1);
            e->next = d->table[1][idx];
            d->table[1][idx] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->table[0][d->rehashidx] = NULL;
        d->rehashidx++;
    }
    if (d->used[0] == 0) {
        free(d->table[0]);
        d->table[0] = d->table[1];
        d->size[0] = d->size[1];
        d->used[0] = d->used[1];
        d->table[1] = NULL;
        d->size[1] = 0;
        d->used[1] = 0;
        d->rehashidx = -1;
        return false;
    }
    return true;
}

int dict_rehash_ms(struct dict *d, int ms)
{
    long long start = util_monotonic_us();
    int steps = 0;
    if (d->pauserehash) return 0;
    while (dict_rehash(d, 100)) {
        steps += 100;
        if (util_monotonic_us() - start > (long long)ms * 1000) break;
    }
    return steps;
}

static void step(struct dict *d)
{
    if (d->pauserehash == 0) dict_rehash(d, 1);
}

void dict_maybe_shrink(struct dict *d)
{
    if (dict_is_rehashing(d) || d->pauserehash) return;
    if (d->size[0] > DICT_INITIAL && d->used[0] * 100 / d->size[0] < 10)
        resize_to(d, d->used[0] ? d->used[0] : 1);
}

struct dnode *dict_find(struct dict *d, const void *key, size_t len, uint64_t hash)
{
    int t;
    if (dict_size(d) == 0) return NULL;
    if (dict_is_rehashing(d)) step(d);
    for (t = 0; t <= 1; t++) {
        struct dnode *n;
        if (d->size[t] == 0) continue;
        n = d->table[t][hash & (d->size[t] - 1)];
        while (n) {
            if (d->type->eq(n, key, len)) return n;
            n = n->next;
        }
        if (!dict_is_rehashing(d)) break;
    }
    return NULL;
}

void dict_add(struct dict *d, struct dnode *n, uint64_t hash)
{
    int t;
    uint64_t idx;
    if (dict_is_rehashing(d)) step(d);
    if (d->size[0] == 0)
        resize_to(d, DICT_INITIAL);
    else if (!dict_is_rehashing(d) && d->used[0] >= d->size[0])
        resize_to(d, d->used[0] + 1 > d->size[0] * 2 ? d->used[0] + 1 : d->size[0] * 2);
    t = dict_is_rehashing(d) ? 1 : 0;
    idx = hash & (d->size[t] - 1);
    n->next = d->table[t][idx];
    d->table[t][idx] = n;
    d->used[t]++;
}

struct dnode *dict_unlink(struct dict *d, const void *key, size_t len, uint64_t hash)
{
    int t;
    if (dict_size(d) == 0) return NULL;
    if (dict_is_rehashing(d)) step(d);
    for (t = 0; t <= 1; t++) {
        struct dnode **pp;
        if (d->size[t] == 0) continue;
        pp = &d->table[t][hash & (d->size[t] - 1)];
        while (*pp) {
            struct dnode *n = *pp;
            if (d->type->eq(n, key, len)) {
                *pp = n->next;
                n->next = NULL;
                d->used[t]--;
                return n;
            }
            pp = &n->next;
        }
        if (!dict_is_rehashing(d)) break;
    }
    return NULL;
}

void dict_replace(struct dict *d, struct dnode *old, struct dnode *nw, uint64_t hash)
{
    int t;
    for (t = 0; t <= 1; t++) {
        struct dnode **pp;
        if (d->size[t] == 0) continue;
        pp = &d->table[t][hash & (d->size[t] - 1)];
        while (*pp) {
            if (*pp == old) {
                nw->next = old->next;
                *pp = nw;
                return;
            }
            pp = &(*pp)->next;
        }
    }
    abort(); /* old was not in the table: a bug in the caller */
}

static uint64_t rev(uint64_t v)
{
    uint64_t s = 64, mask = ~0ULL;
    while ((s >>= 1) > 0) {
        mask ^= (mask << s);
        v = ((v >> s) & mask) | ((v << s) & ~mask);
    }
    return v;
}

static void emit_bucket(struct dnode *n, dict_scan_fn fn, void *priv)
{
    while (n) {
        struct dnode *next = n->next;
        fn(priv, n);
        n = next;
    }
}

uint64_t dict_scan(struct dict *d, uint64_t v, dict_scan_fn fn, void *priv)
{
    uint64_t m0, m1;
    if (dict_size(d) == 0) return 0;
    d->pauserehash++;
    if (!dict_is_rehashing(d)) {
        m0 = d->size[0] - 1;
        emit_bucket(d->table[0][v & m0], fn, priv);
        v |= ~m0;
        v = rev(v);
        v++;
        v = rev(v);
    } else {
        int small = d->size[0] <= d->size[1] ? 0 : 1, big = 1 - small;
        m0 = d->size[small] - 1;
        m1 = d->size[big] - 1;
        emit_bucket(d->table[small][v & m0], fn, priv);
        do {
            emit_bucket(d->table[big][v & m1], fn, priv);
            v |= ~m1;
            v = rev(v);
            v++;
            v = rev(v);
        } while (v & (m0 ^ m1));
    }
    d->pauserehash--;
    return v;
}

struct dnode *dict_random(struct dict *d)
{
    struct dnode *he = NULL, *orig;
    uint64_t h;
    int len = 0, pick;
    if (dict_size(d) == 0) return NULL;
    if (dict_is_rehashing(d)) step(d);
    if (dict_is_rehashing(d)) {
        uint64_t s0 = d->size[0];
        do {
            h = (uint64_t)d->rehashidx +
                (util_rand64() % (s0 + d->size[1] - (uint64_t)d->rehashidx));
            he = h >= s0 ? d->table[1][h - s0] : d->table[0][h];
        } while (he == NULL);
    } else {
        do {
            h = util_rand64() & (d->size[0] - 1);
            he = d->table[0][h];
        } while (he == NULL);
    }
    orig = he;
    while (he) {
        he = he->next;
        len++;
    }
    pick = (int)(util_rand64() % (uint64_t)len);
    he = orig;
    while (pick--)
        he = he->next;
    return he;
}

size_t dict_sample(struct dict *d, struct dnode **out, size_t n)
{
    size_t got = 0, empty = 0, steps, j;
    uint64_t mask, i;
    int tables, t;
    if (dict_size(d) == 0 || n == 0) return 0;
    if (n > dict_size(d)) n = (size_t)dict_size(d);
    for (j = 0; j < n && dict_is_rehashing(d); j++)
        step(d);
    tables = dict_is_rehashing(d) ? 2 : 1;
    mask = d->size[0] - 1;
    if (tables == 2 && d->size[1] - 1 > mask) mask = d->size[1] - 1;
    i = util_rand64() & mask;
    for (steps = n * 10; got < n && steps > 0; steps--) {
        for (t = 0; t < tables; t++) {
            struct dnode *he;
            /* Buckets of table 0 below rehashidx are empty: moved to 1. */
            if (tables == 2 && t == 0 && i < (uint64_t)d->rehashidx) {
                if (i >= d->size[1])
                    i = (uint64_t)d->rehashidx;
                else
                    continue;
            }
            if (i >= d->size[t]) continue;
            he = d->table[t][i];
            if (!he) {
                /* A run of empty buckets: jump elsewhere. */
                if (++empty >= 5 && empty > n) {
                    i = util_rand64() & mask;
                    empty = 0;
                }
                continue;
            }
            empty = 0;
            for (; he && got < n; he = he->next)
                out[got++] = he;
            if (got == n) return got;
        }
        i = (i + 1) & mask;
    }
    return got;
}

void dict_foreach(struct dict *d, void (*fn)(void *priv, struct dnode *n), void *priv)
{
    int t;
    uint64_t i;
    d->pauserehash++;
    for (t = 0; t <= 1; t++) {
        for (i = 0; i < d->size[t]; i++)
            emit_bucket(d->table[t][i], fn, priv);
    }
    d->pauserehash--;
}
