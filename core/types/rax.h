/* rax.h — a radix tree keyed by byte strings (keys compared as unsigned
 * bytes, a prefix before its extensions), with path compression: each node
 * holds the bytes of the edge that leads to it, so a chain of single-child
 * nodes is one node. Values are opaque pointers. Streams keep their nodes,
 * consumer groups, pending entries and consumers in it (t_stream.c), keyed
 * by 128-bit big-endian ids or by names. Lookups, inserts and removals are
 * O(key length); ordered walks seek from a key (rax_seek), so a walk
 * survives changes to the tree between its steps. */
#ifndef KEEL_RAX_H
#define KEEL_RAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rax_node;

struct rax {
    struct rax_node *head;
    uint64_t numele;
    uint64_t numnodes;
};

struct rax *rax_new(void);
/* Free the tree; free_val (if given) is called on every value. */
void rax_free(struct rax *r, void (*free_val)(void *));
/* Insert or replace: returns true when the key is new; *old (if given) gets
 * the replaced value (NULL when new). */
bool rax_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old);
/* Insert only when absent: false (and nothing changed) if it exists. */
bool rax_try_insert(struct rax *r, const unsigned char *key, size_t len, void *val);
/* Find: true and *val when present. */
bool rax_find(const struct rax *r, const unsigned char *key, size_t len, void **val);
/* The value slot of a present key (NULL when absent): valid until the
 * next rax_remove on r (a removal may merge nodes; inserts never move a
 * present key's slot). */
void **rax_slot(struct rax *r, const unsigned char *key, size_t len);
/* Remove: true when it was present (*old gets its value). */
bool rax_remove(struct rax *r, const unsigned char *key, size_t len, void **old);
static inline uint64_t rax_size(const struct rax *r)
{
    return r->numele;
}

/* Ordered access. An iterator holds the key it is at (a copy); each step
 * seeks again from it, so the tree may change between steps. */
enum rax_op { RAX_FIRST, RAX_LAST, RAX_GE, RAX_GT, RAX_LE, RAX_LT, RAX_EQ };
struct rax_iter {
    const struct rax *r;
    unsigned char *key; /* the current key (valid after a true seek/next/prev) */
    size_t key_len;
    void *data;
    unsigned char keybuf[32];
    size_t key_cap;
    bool valid;
};
void rax_iter_start(struct rax_iter *it, const struct rax *r);
/* Position on the key op names relative to key (ignored for FIRST/LAST). */
bool rax_seek(struct rax_iter *it, enum rax_op op, const unsigned char *key, size_t len);
/* Step to the next greater / next smaller key from the current one. */
bool rax_next(struct rax_iter *it);
bool rax_prev(struct rax_iter *it);
void rax_iter_stop(struct rax_iter *it);

#endif
