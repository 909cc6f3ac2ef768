/* object.h — the keyspace entry (`struct kv`): one allocation holding the
 * hash-chain link, the key bytes, an optional expire time and, for small
 * strings, the value bytes too. Type and encoding tags use Redis's names so
 * OBJECT ENCODING and TYPE answer as Redis does. String values live here;
 * the aggregate types add their own structures behind kv->v.ptr. */
#ifndef KEEL_OBJECT_H
#define KEEL_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dict.h"

enum obj_type { OBJ_STRING = 0, OBJ_LIST, OBJ_SET, OBJ_ZSET, OBJ_HASH, OBJ_STREAM, OBJ_TYPES };

enum obj_enc {
    ENC_RAW = 0, /* string: v.ptr -> struct rstr */
    ENC_INT,     /* string: v.i holds the integer */
    ENC_EMBSTR,  /* string: bytes after the key; v.len holds the length */
    ENC_HASHTABLE,
    ENC_LISTPACK,
    ENC_QUICKLIST,
    ENC_INTSET,
    ENC_SKIPLIST,
    ENC_STREAM,
};

/* Strings of at most this many bytes are created embedded (Redis's embstr
 * limit), so OBJECT ENCODING agrees with Redis. */
#define EMBSTR_MAX 44
#define KV_LRU_BITS 24
#define KV_LRU_MAX ((1u << KV_LRU_BITS) - 1)

/* A growable string value: len bytes of buf are the value, cap are
 * allocated. Not NUL-terminated: exactly cap bytes follow the header, so a
 * 1 KB value is a 1032-byte allocation, inside glibc's per-thread cache. */
struct rstr {
    uint32_t len, cap;
    char buf[];
};

struct kv {
    struct dnode node; /* hash chain: must be first */
    union {
        void *ptr;
        long long i;
        uint64_t len;
    } v;
    uint32_t klen;
    uint32_t type : 3, enc : 4, has_expire : 1, lru : KV_LRU_BITS;
    /* if has_expire: struct kv_exp; then key bytes; then embedded value */
    char data[];
};

struct kv_exp {
    long long when; /* unix ms */
    uint64_t idx;   /* position in the db's expire vector */
};

static inline struct kv_exp *kv_exp(struct kv *e)
{
    return (struct kv_exp *)e->data;
}
static inline char *kv_key(struct kv *e)
{
    return e->data + (e->has_expire ? sizeof(struct kv_exp) : 0);
}
static inline long long kv_expire(struct kv *e)
{
    return e->has_expire ? kv_exp(e)->when : -1;
}

/* A read-only view of a string value (for ENC_INT, formatted into buf). */
struct strview {
    const char *p;
    size_t n;
    char buf[24];
};
void kv_string_view(struct kv *e, struct strview *sv);
size_t kv_string_len(struct kv *e);

/* Allocate an entry for key with a string value chosen as Redis would:
 * <=44 bytes embedded, else raw with sdsnewlen's room (rstr_new_cap).
 * `encode` is Redis's tryObjectEncoding (SET, APPEND of a new key, loading):
 * an integer that round-trips becomes ENC_INT, and a raw string's room is
 * trimmed away when over a tenth of its length; false (COPY, INCRBYFLOAT,
 * DEBUG POPULATE, which Redis stores as created) does neither. */
struct kv *kv_new_string(const char *key, size_t klen, const char *val, size_t vlen, bool encode);
struct kv *kv_new_int(const char *key, size_t klen, long long v);
/* A new entry for key holding a non-string value (ptr, type, enc). */
struct kv *kv_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr);
/* Copy of e under a new key (deep copy of the value); expire not copied. */
struct kv *kv_dup(struct kv *e, const char *key, size_t klen);
/* Free e and its value. */
void kv_free(struct kv *e);
void kv_free_value(struct kv *e);
/* Make a string value ENC_RAW with room for at least need bytes (for APPEND,
 * SETRANGE). Returns the rstr; e may be reallocated if it was embedded, so
 * the caller passes the owning dict to fix the chain: see store_unshare. */
struct rstr *rstr_new(const char *p, size_t n, size_t cap);
/* Room for at least need bytes, grown as rstr_greedy_cap says. */
struct rstr *rstr_grow(struct rstr *s, size_t need);
/* The room Redis 7.0's sdsMakeRoomFor leaves a string grown to need bytes:
 * twice need below 1 MB (need + 1 MB above), rounded up to the usable size
 * of jemalloc's allocation for it (header included), at most the header
 * type's maximum; MEMORY USAGE sizes a grown string from it. */
size_t rstr_greedy_cap(size_t need);
/* The room Redis 7.0's sdsnewlen leaves a string of n bytes it creates
 * (SETRANGE, SETBIT and BITFIELD on a new key, BITOP's result): n below 32
 * bytes (an sds type 5 has no room), else the usable size of jemalloc's
 * allocation less the header, at most the header type's maximum. */
size_t rstr_new_cap(size_t n);

const char *obj_type_name(int type);
const char *obj_enc_name(int enc);

/* Value-type hooks of the aggregate types: free and deep copy (object.c). */
struct obj_type_ops {
    void (*free_value)(void *ptr, int enc);
    void *(*dup_value)(void *ptr, int enc);
};
extern struct obj_type_ops obj_ops[OBJ_TYPES];
void obj_set_type_ops(enum obj_type type, void (*free_value)(void *ptr, int enc),
                      void *(*dup_value)(void *ptr, int enc));

#endif
