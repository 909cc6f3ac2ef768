/* object.c — keyspace entries and string values (see object.h). */
#include "object.h"

#include <stdlib.h>

#include "mem.h"
#include "util.h"

/* Each aggregate type's free and deep-copy hooks (strings need none), set
 * by core_init() from the types' own functions: the keyspace knows no type. */
struct obj_type_ops obj_ops[OBJ_TYPES];

void obj_set_type_ops(enum obj_type type, void (*free_value)(void *ptr, int enc),
                      void *(*dup_value)(void *ptr, int enc))
{
    obj_ops[type].free_value = free_value;
    obj_ops[type].dup_value = dup_value;
}

static struct kv *kv_alloc(const char *key, size_t klen, size_t extra)
{
    struct kv *e = xmalloc(sizeof(struct kv) + klen + extra);
    e->node.next = NULL;
    e->klen = (uint32_t)klen;
    e->type = OBJ_STRING;
    e->enc = ENC_RAW;
    e->has_expire = 0;
    e->lru = 0;
    memcpy(e->data, key, klen);
    return e;
}

struct rstr *rstr_new(const char *p, size_t n, size_t cap)
{
    struct rstr *s;
    if (cap < n) cap = n;
    s = xmalloc(sizeof(struct rstr) + cap);
    s->len = (uint32_t)n;
    s->cap = (uint32_t)cap;
    if (n) memcpy(s->buf, p, n);
    return s;
}

/* The room an sds of want bytes really has: its allocation's usable size
 * less the header of the type that length picks (type 8, 16 or 32: never
 * type 5 for these), capped at what that type can count. */
static size_t sds_room(size_t want)
{
    size_t hdr = want < 256 ? 3u : want < 65536 ? 5u : 9u;
    size_t max = want < 256 ? 255u : want < 65536 ? 65535u : 0xffffffffu;
    size_t cap = je_usable(hdr + want + 1) - hdr - 1;
    return cap < max ? cap : max;
}

size_t rstr_greedy_cap(size_t need)
{
    return sds_room(need < 1024 * 1024 ? need * 2 : need + 1024 * 1024);
}

size_t rstr_new_cap(size_t n)
{
    return n < 32 ? n : sds_room(n);
}

struct rstr *rstr_grow(struct rstr *s, size_t need)
{
    size_t cap;
    if (need <= s->cap) return s;
    cap = rstr_greedy_cap(need);
    s = xrealloc(s, sizeof(struct rstr) + cap);
    s->cap = (uint32_t)cap;
    return s;
}

struct kv *kv_new_int(const char *key, size_t klen, long long v)
{
    struct kv *e = kv_alloc(key, klen, 0);
    e->enc = ENC_INT;
    e->v.i = v;
    return e;
}

struct kv *kv_new_string(const char *key, size_t klen, const char *val, size_t vlen, bool encode)
{
    struct kv *e;
    long long iv;
    size_t cap;
    if (encode && vlen <= 20 && util_str2ll(val, vlen, &iv)) return kv_new_int(key, klen, iv);
    if (vlen <= EMBSTR_MAX) {
        e = kv_alloc(key, klen, vlen);
        e->enc = ENC_EMBSTR;
        e->v.len = vlen;
        if (vlen) memcpy(e->data + klen, val, vlen);
        return e;
    }
    e = kv_alloc(key, klen, 0);
    e->enc = ENC_RAW;
    cap = rstr_new_cap(vlen);
    if (encode && cap - vlen > vlen / 10) cap = vlen; /* trimStringObjectIfNeeded */
    e->v.ptr = rstr_new(val, vlen, cap);
    return e;
}

struct kv *kv_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr)
{
    struct kv *e = kv_alloc(key, klen, 0);
    e->type = (uint32_t)type;
    e->enc = (uint32_t)enc;
    e->v.ptr = ptr;
    return e;
}

void kv_string_view(struct kv *e, struct strview *sv)
{
    switch (e->enc) {
    case ENC_INT:
        sv->n = (size_t)util_ll2str(sv->buf, e->v.i);
        sv->p = sv->buf;
        break;
    case ENC_EMBSTR:
        sv->p = kv_key(e) + e->klen;
        sv->n = e->v.len;
        break;
    default: {
        struct rstr *s = e->v.ptr;
        sv->p = s->buf;
        sv->n = s->len;
    }
    }
}

size_t kv_string_len(struct kv *e)
{
    struct strview sv;
    if (e->enc == ENC_EMBSTR) return e->v.len;
    if (e->enc == ENC_RAW) return ((struct rstr *)e->v.ptr)->len;
    kv_string_view(e, &sv);
    return sv.n;
}

struct kv *kv_dup(struct kv *e, const char *key, size_t klen)
{
    struct kv *n;
    if (e->type == OBJ_STRING) {
        struct strview sv;
        if (e->enc == ENC_INT) return kv_new_int(key, klen, e->v.i);
        kv_string_view(e, &sv);
        n = kv_new_string(key, klen, sv.p, sv.n, false);
        return n;
    }
    n = kv_new_ptr(key, klen, e->type, e->enc,
                   obj_ops[e->type].dup_value ? obj_ops[e->type].dup_value(e->v.ptr, e->enc)
                                              : NULL);
    return n;
}

void kv_free_value(struct kv *e)
{
    if (e->type == OBJ_STRING) {
        if (e->enc == ENC_RAW) free(e->v.ptr);
    } else if (obj_ops[e->type].free_value) {
        obj_ops[e->type].free_value(e->v.ptr, e->enc);
    }
}

void kv_free(struct kv *e)
{
    kv_free_value(e);
    free(e);
}

const char *obj_type_name(int type)
{
    static const char *names[] = {"string", "list", "set", "zset", "hash", "stream"};
    return type >= 0 && type < OBJ_TYPES ? names[type] : "unknown";
}

const char *obj_enc_name(int enc)
{
    static const char *names[] = {"raw",       "int",    "embstr",   "hashtable", "listpack",
                                  "quicklist", "intset", "skiplist", "stream"};
    return enc >= 0 && enc <= ENC_STREAM ? names[enc] : "unknown";
}
