/* t_set.h — the set value, as Redis 7.0 keeps it: an intset (core/types/intset.h)
 * while every member is an integer and there are at most
 * set-max-intset-entries of them, else a hash table (core/store/dict.h) whose
 * nodes hold the member bytes. A set never goes back from hashtable to
 * intset by itself (Redis neither). No arguments, no replies: the set group's
 * handlers (core/commands/cmd_set.c) use these primitives. */
#ifndef KEEL_T_SET_H
#define KEEL_T_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "intset.h"
#include "object.h"

/* A set value: what a `struct kv` of type OBJ_SET holds in (v.ptr, enc). */
struct setv {
    void *ptr; /* struct intset * (ENC_INTSET) or struct dict * (ENC_HASHTABLE) */
    int enc;
};

static inline struct setv set_of(const struct kv *e)
{
    struct setv s = {e->v.ptr, (int)e->enc};
    return s;
}
static inline void set_store(struct kv *e, struct setv s)
{
    e->v.ptr = s.ptr;
    e->enc = (uint32_t)s.enc;
}

/* A hash-table member: the dict node and the member bytes. */
struct smember {
    struct dnode node;
    uint32_t len;
    char data[];
};

/* One member as seen by an iterator or a random pick. For intset members
 * is_int is set, ll holds the value and p/n its decimal text (in buf). */
struct set_elem {
    const char *p;
    size_t n;
    int64_t ll;
    bool is_int;
    struct smember *owned; /* set_pop: an unlinked node, freed by set_elem_release */
    char buf[24];
};

/* Redis's setTypeCreate: an intset if the first member is an integer. */
struct setv set_new_for(const char *p, size_t n);
struct setv set_new_intset(void);
/* An empty hash-table set with room for n members without rehashing. */
struct setv set_new_ht(size_t n);
void set_free(struct setv *s);
/* A deep copy with the same encoding (COPY). */
struct setv set_dup(const struct setv *s);

size_t set_size(const struct setv *s);
/* 1 if added, 0 if already there. May convert intset -> hashtable (a
 * non-integer member, or more than set-max-intset-entries members). */
int set_add(struct setv *s, const char *p, size_t n);
/* set_add of an element taken from another set (integer fast path). */
int set_add_elem(struct setv *s, const struct set_elem *el);
/* 1 if removed. A hash table is shrunk when it gets sparse. */
int set_remove(struct setv *s, const char *p, size_t n);
bool set_ismember(const struct setv *s, const char *p, size_t n);
bool set_ismember_elem(const struct setv *s, const struct set_elem *el);
/* Convert an intset to a hash table presized for n members (n >= size). */
void set_convert_ht(struct setv *s, size_t n);

/* A random member (the set must not be empty); el points into the set. */
void set_random(const struct setv *s, struct set_elem *el);
/* Remove a random member and hand it over in el (the set must not be
 * empty); call set_elem_release(el) once done with it. */
void set_pop(struct setv *s, struct set_elem *el);
void set_elem_release(struct set_elem *el);

/* Iteration in the set's own order (ascending for an intset, bucket order
 * for a hash table). The set must not be modified meanwhile; a hash
 * table's incremental rehash is paused until set_iter_release. */
struct set_iter {
    struct setv s;
    uint32_t pos;       /* intset */
    int table;          /* hash table: 0 or 1 */
    uint64_t bucket;    /* next bucket to visit */
    struct dnode *next; /* next node in the current chain */
};
void set_iter_init(struct set_iter *it, const struct setv *s);
bool set_iter_next(struct set_iter *it, struct set_elem *el);
void set_iter_release(struct set_iter *it);

/* SSCAN on a hash table: one dict_scan step, fn called per member. */
typedef void (*set_scan_fn)(void *priv, const char *p, size_t n);
uint64_t set_scan_ht(const struct setv *s, uint64_t cursor, set_scan_fn fn, void *priv);

/* The keyspace's hooks for set values (object.c's obj_ops). */
void set_free_value(void *ptr, int enc);
void *set_dup_value(void *ptr, int enc);
/* Lazy free effort (core/store/lazyfree.h): members of a hash table, else 1. */
size_t set_free_effort(void *ptr, int enc);

#endif
