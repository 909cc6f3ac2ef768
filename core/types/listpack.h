/* listpack.h — the compact sequence every small aggregate uses (small
 * hashes, sorted sets, list nodes): one allocation holding entries back to
 * back, in Redis's listpack byte format (so snapshots can carry it as is):
 *   <total-bytes u32 LE> <count u16 LE, 65535 = unknown> <entry>* <0xFF>
 *   entry = <encoding+data> <backlen: size of encoding+data, 1-5 bytes>
 * Strings that are canonical integers are stored as integers (7/13/16/24/
 * 32/64-bit); others with a 6-, 12- or 32-bit length. Entry pointers (unsigned
 * char *) are positions inside the buffer; any call that returns a new
 * buffer invalidates them. */
#ifndef KEEL_LISTPACK_H
#define KEEL_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LP_INTBUF 21 /* room to format any stored integer */

unsigned char *lp_new(size_t capacity_hint);
void lp_free(unsigned char *lp);
size_t lp_bytes(const unsigned char *lp);
unsigned long lp_count(const unsigned char *lp);

/* Navigation: NULL past either end. */
unsigned char *lp_first(unsigned char *lp);
unsigned char *lp_last(unsigned char *lp);
unsigned char *lp_next(unsigned char *lp, unsigned char *p);
unsigned char *lp_prev(unsigned char *lp, unsigned char *p);
/* Entry at index (negative counts from the end), or NULL. */
unsigned char *lp_seek(unsigned char *lp, long index);

/* Read an entry: returns a pointer to its bytes and sets *len. Integers are
 * formatted into ibuf (LP_INTBUF bytes) and ibuf is returned. If isint is
 * given it is set, and *ival holds the integer when it is one. */
const char *lp_get(const unsigned char *p, size_t *len, char *ibuf, bool *isint, long long *ival);
/* Compare an entry with a string (true when equal). */
bool lp_eq(const unsigned char *p, const char *s, size_t n);

/* Mutations return the (possibly moved) buffer. */
enum lp_where { LP_BEFORE, LP_AFTER, LP_REPLACE };
/* Insert s before/after entry p, or replace p; *newp (if given) is set to
 * the inserted entry. */
unsigned char *lp_insert(unsigned char *lp, const char *s, size_t n, unsigned char *p,
                         enum lp_where where, unsigned char **newp);
unsigned char *lp_insert_int(unsigned char *lp, long long v, unsigned char *p, enum lp_where where,
                             unsigned char **newp);
unsigned char *lp_append(unsigned char *lp, const char *s, size_t n);
unsigned char *lp_prepend(unsigned char *lp, const char *s, size_t n);
unsigned char *lp_append_int(unsigned char *lp, long long v);
/* Append cnt entries with one reallocation: a string (s; stored as an
 * integer when it reads as one, as lp_append does) or, with s NULL, the
 * integer v. The same listpack as appending them one by one. */
struct lp_item {
    const char *s;
    size_t n;
    long long v;
};
unsigned char *lp_append_items(unsigned char *lp, const struct lp_item *items, size_t cnt);
/* Delete entry p; *next (if given) is set to the entry that followed it. */
unsigned char *lp_delete(unsigned char *lp, unsigned char *p, unsigned char **next);
/* Delete count entries starting at index (negative from the end). */
unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count);

/* Find s starting at p, comparing every (skip+1)-th entry (skip=1 walks the
 * fields of a field/value listpack). NULL if absent. */
unsigned char *lp_find(unsigned char *lp, unsigned char *p, const char *s, size_t n, int skip);

/* Validate a buffer from an untrusted source (snapshots). */
bool lp_validate(const unsigned char *lp, size_t size);

#endif
