/* intset.h — Redis's intset: a sorted array of distinct integers stored in
 * the narrowest width (16, 32 or 64 bits, little endian) that holds every
 * member, upgraded in place when a wider value arrives, searched by
 * bisection. The blob layout is Redis's (encoding, length, contents), so a
 * small set of integers costs 8 bytes plus 2, 4 or 8 bytes per member. */
#ifndef KEEL_INTSET_H
#define KEEL_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTSET_ENC_INT16 ((uint32_t)sizeof(int16_t))
#define INTSET_ENC_INT32 ((uint32_t)sizeof(int32_t))
#define INTSET_ENC_INT64 ((uint32_t)sizeof(int64_t))

struct intset {
    uint32_t encoding; /* bytes per member: 2, 4 or 8 (little endian) */
    uint32_t length;   /* members */
    int8_t contents[];
};

/* An empty intset (16-bit). */
struct intset *intset_new(void);
/* Add v; *added tells whether it was absent. Returns the (possibly moved) set. */
struct intset *intset_add(struct intset *is, int64_t v, bool *added);
/* Remove v; *removed (may be NULL) tells whether it was present. */
struct intset *intset_remove(struct intset *is, int64_t v, bool *removed);
bool intset_find(const struct intset *is, int64_t v);
/* The member at pos (0-based, ascending order); false past the end. */
bool intset_get(const struct intset *is, uint32_t pos, int64_t *v);
/* A uniformly chosen member (the set must not be empty). */
int64_t intset_random(const struct intset *is);
static inline uint32_t intset_len(const struct intset *is)
{
    return is->length;
}
/* Bytes of the whole blob. */
size_t intset_blob_len(const struct intset *is);
struct intset *intset_dup(const struct intset *is);
/* The narrowest encoding that holds v. */
uint32_t intset_value_encoding(int64_t v);
/* Structural check (sorted, distinct, sane encoding) for tests. */
bool intset_validate(const struct intset *is);

#endif
