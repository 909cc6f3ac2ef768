/* t_list.h — the list value: a quicklist, Redis 7.0's shape. A doubly linked
 * list of nodes, each holding a listpack (core/types/listpack.h) of consecutive
 * elements; node size is bounded by list-max-listpack-size (fill: > 0 at most
 * that many entries, -1..-5 at most 4/8/16/32/64 KB), nodes farther than
 * list-compress-depth from both ends are kept LZF-compressed. Push and pop
 * are O(1) at both ends; index, range and delete walk whole nodes by their
 * counts; inserting into a full node splits it and merges small neighbours.
 * Pure structure: no arguments, no replies. */
#ifndef KEEL_T_LIST_H
#define KEEL_T_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listpack.h"

enum ql_where { QL_HEAD = 0, QL_TAIL = 1 };

struct ql_node {
    struct ql_node *prev, *next;
    unsigned char *lp; /* the listpack, or its LZF form when compressed */
    uint32_t count;    /* entries in this node */
    uint32_t compressed : 1;
    uint32_t recompress : 1; /* opened for access: compress again on close */
    uint32_t plain : 1;      /* one large element alone (Redis's PLAIN container) */
    uint32_t clen : 29;      /* compressed: bytes of the LZF form */
};

struct quicklist {
    struct ql_node *head, *tail;
    unsigned long count; /* elements */
    unsigned long len;   /* nodes */
    int fill;            /* list-max-listpack-size when the list was created */
    int compress;        /* list-compress-depth when the list was created */
};

/* One element read from the list. p/n are valid until the list changes
 * (they point into a node or into buf for integers). */
struct ql_val {
    const char *p;
    size_t n;
    bool isint;
    long long v;
    char buf[LP_INTBUF];
};

/* A value to look for (LREM, LPOS, LINSERT): the integer form is computed
 * once so integer entries compare without formatting. */
struct ql_needle {
    const char *s;
    size_t n;
    bool isint;
    long long v;
};

struct quicklist *ql_new(int fill, int compress);
void ql_free(struct quicklist *ql);
struct quicklist *ql_dup(struct quicklist *ql);
static inline unsigned long ql_count(const struct quicklist *ql)
{
    return ql->count;
}

void ql_push(struct quicklist *ql, enum ql_where where, const char *s, size_t n);
/* Append s as a node of its own, marked plain (RDB PLAIN containers). */
void ql_push_plain(struct quicklist *ql, const char *s, size_t n);
/* Adopt listpack lp (count > 0 entries) as a new tail node, whatever its
 * size, compressed as the depth says: Redis's quicklistAppendListpack, how
 * an RDB's list nodes load. */
void ql_append_listpack(struct quicklist *ql, unsigned char *lp, uint32_t count);
/* Elements of at least this many bytes (default 1 GB) get a plain node of
 * their own, as Redis 7.0's packed_threshold. False (unchanged) above
 * 4 GB - 1 MB; 0 restores the default (DEBUG QUICKLIST-PACKED-THRESHOLD). */
bool ql_set_packed_threshold(unsigned long long sz);
/* The element at one end (false when empty). */
bool ql_peek(struct quicklist *ql, enum ql_where where, struct ql_val *v);
/* Remove the element at one end (no-op when empty). */
void ql_pop(struct quicklist *ql, enum ql_where where);
/* The element at index (negative from the tail); false when out of range. */
bool ql_index(struct quicklist *ql, long long idx, struct ql_val *v);
/* Overwrite the element at index; false when out of range. */
bool ql_replace(struct quicklist *ql, long long idx, const char *s, size_t n);
/* Delete count elements from start (negative from the tail), clipped to the
 * list; returns how many went. */
unsigned long ql_del_range(struct quicklist *ql, long long start, unsigned long count);

void ql_needle_init(struct ql_needle *nd, const char *s, size_t n);
bool ql_val_eq(const struct ql_val *v, const struct ql_needle *nd);

/* Iteration from an index towards the tail (QL_TAIL) or the head (QL_HEAD).
 * While iterating, only ql_iter_del / ql_iter_insert may change the list. */
struct ql_iter {
    struct quicklist *ql;
    struct ql_node *node;
    unsigned char *cur;  /* entry last returned (NULL once deleted) */
    unsigned char *pend; /* after a delete or at start: the next entry */
    enum ql_where dir;
    bool started, done;
};
void ql_iter_init(struct ql_iter *it, struct quicklist *ql, long long idx, enum ql_where dir);
bool ql_iter_next(struct ql_iter *it, struct ql_val *v);
/* Delete the entry last returned; iteration continues with the one after. */
void ql_iter_del(struct ql_iter *it);
/* Insert s before (QL_HEAD) or after (QL_TAIL) the entry last returned.
 * The iterator must not be used afterwards except for ql_iter_release. */
void ql_iter_insert(struct ql_iter *it, enum ql_where side, const char *s, size_t n);
/* End an iteration (recompresses the node it stopped in). */
void ql_iter_release(struct ql_iter *it);

/* The first element of node n without changing it: a compressed node is
 * decompressed into *tmp (freed by the caller; NULL when not needed). */
void ql_node_first(const struct ql_node *n, struct ql_val *v, unsigned char **tmp);

/* What Redis's nodes would hold uncompressed (DEBUG OBJECT's
 * ql_uncompressed_size): listpack bytes, or a plain node's element bytes. */
unsigned long ql_uncompressed_size(const struct quicklist *ql);

/* Internal sizes, for tests and memory accounting. */
size_t ql_node_bytes(const struct ql_node *n);
/* Check every invariant (counts, links, node limits, compression depth);
 * returns NULL or a description of the first problem. */
const char *ql_check(struct quicklist *ql);

/* LZF (the format Redis uses for compressed quicklist nodes). lzf_compress
 * returns 0 when out does not have room; lzf_decompress returns the
 * decompressed size or 0 on error. */
size_t ql_lzf_compress(const void *in, size_t inlen, void *out, size_t outlen);
size_t ql_lzf_decompress(const void *in, size_t inlen, void *out, size_t outlen);

/* The keyspace's hooks for list values (object.c's obj_ops). */
void list_free_value(void *ptr, int enc);
void *list_dup_value(void *ptr, int enc);
/* Lazy free effort (core/store/lazyfree.h): the node count. */
size_t list_free_effort(void *ptr, int enc);

#endif
