/* digest.c — DEBUG DIGEST and DIGEST-VALUE (digest.h): Redis 7.0's dataset
 * fingerprint. Each key's digest mixes the key bytes, the type number
 * (Redis's OBJ_* as a big-endian 32-bit word), the value's elements in
 * Redis's serialization (strings decoded; list elements mixed in order; set
 * members xored; zset member and score "%.17g" mixed into a per-element
 * digest that is xored; hash field and value likewise) and "!!expire!!"
 * when the key has a TTL; key digests are xored per database, each database
 * mixing its number first. SHA-1 is OpenSSL's. */
#include "digest.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_stream.h"
#include "t_zset.h"
#include "util.h"

/* Redis's type numbers (server.h OBJ_*), which the digest hashes. */
enum { R_STRING = 0, R_LIST = 1, R_SET = 2, R_ZSET = 3, R_HASH = 4, R_STREAM = 6 };

void digest_xor(unsigned char *d, const void *p, size_t n)
{
    unsigned char h[SHA_DIGEST_LENGTH];
    int i;
    SHA1(p, n, h);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        d[i] ^= h[i];
}

void digest_mix(unsigned char *d, const void *p, size_t n)
{
    unsigned char h[SHA_DIGEST_LENGTH];
    digest_xor(d, p, n);
    SHA1(d, SHA_DIGEST_LENGTH, h);
    memcpy(d, h, SHA_DIGEST_LENGTH);
}

static void digest_list(unsigned char *d, struct kv *e)
{
    struct ql_iter it;
    struct ql_val v;
    ql_iter_init(&it, e->v.ptr, 0, QL_TAIL);
    while (ql_iter_next(&it, &v))
        digest_mix(d, v.p, v.n);
    ql_iter_release(&it);
}

static void digest_set(unsigned char *d, struct kv *e)
{
    struct setv s = set_of(e);
    struct set_iter it;
    struct set_elem el;
    set_iter_init(&it, &s);
    while (set_iter_next(&it, &el))
        digest_xor(d, el.p, el.n);
    set_iter_release(&it);
}

static void digest_zset(unsigned char *d, struct kv *e)
{
    struct zset_iter it;
    for (zset_iter_rank(&it, e, 0, false); zset_iter_valid(&it); zset_iter_next(&it)) {
        unsigned char ed[SHA_DIGEST_LENGTH] = {0};
        char buf[128];
        size_t n;
        const char *m = zset_iter_member(&it, &n);
        int len = snprintf(buf, sizeof(buf), "%.17g", zset_iter_get_score(&it));
        digest_mix(ed, m, n);
        digest_mix(ed, buf, (size_t)len);
        digest_xor(d, ed, sizeof(ed));
    }
}

static void digest_hash(unsigned char *d, struct kv *e)
{
    struct hash_iter it;
    struct hval f, v;
    hash_iter_init(&it, e);
    while (hash_iter_next(&it, &f, &v)) {
        unsigned char ed[SHA_DIGEST_LENGTH] = {0};
        digest_mix(ed, f.p, f.n);
        digest_mix(ed, v.p, v.n);
        digest_xor(d, ed, sizeof(ed));
    }
    hash_iter_done(&it);
}

/* Streams as Redis 7.0 digests them: each entry's id as "<ms>.<seq>", then
 * its fields and values, all mixed in order (consumer groups are not part
 * of the digest). */
static void digest_stream(unsigned char *d, struct kv *e)
{
    struct stream_iter it;
    struct sid lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, id;
    long long nf;
    char fb[LP_INTBUF], vb[LP_INTBUF], idbuf[48];
    stream_iter_start(&it, e->v.ptr, &lo, &hi, false);
    while (stream_iter_next(&it, &id, &nf)) {
        const char *f, *v;
        size_t fl, vl;
        int n = snprintf(idbuf, sizeof(idbuf), "%llu.%llu", (unsigned long long)id.ms,
                         (unsigned long long)id.seq);
        digest_mix(d, idbuf, (size_t)n);
        while (stream_iter_field(&it, &f, &fl, fb, &v, &vl, vb)) {
            digest_mix(d, f, fl);
            digest_mix(d, v, vl);
        }
    }
    stream_iter_stop(&it);
}

static int redis_type(int t)
{
    switch (t) {
    case OBJ_LIST:
        return R_LIST;
    case OBJ_SET:
        return R_SET;
    case OBJ_ZSET:
        return R_ZSET;
    case OBJ_HASH:
        return R_HASH;
    case OBJ_STREAM:
        return R_STREAM;
    default:
        return R_STRING;
    }
}

void digest_value(unsigned char *d, struct kv *e)
{
    uint32_t aux = htonl((uint32_t)redis_type(e->type));
    digest_mix(d, &aux, sizeof(aux));
    switch (e->type) {
    case OBJ_STRING: {
        struct strview sv;
        kv_string_view(e, &sv);
        digest_mix(d, sv.p, sv.n);
        break;
    }
    case OBJ_LIST:
        digest_list(d, e);
        break;
    case OBJ_SET:
        digest_set(d, e);
        break;
    case OBJ_ZSET:
        digest_zset(d, e);
        break;
    case OBJ_HASH:
        digest_hash(d, e);
        break;
    case OBJ_STREAM:
        digest_stream(d, e);
        break;
    default:
        break;
    }
    if (e->has_expire) digest_xor(d, "!!expire!!", 10);
}

struct ds_ctx {
    unsigned char *final;
};

static void digest_key(void *priv, struct dnode *n)
{
    struct ds_ctx *c = priv;
    struct kv *e = (struct kv *)n;
    unsigned char d[SHA_DIGEST_LENGTH] = {0};
    digest_mix(d, kv_key(e), e->klen);
    digest_value(d, e);
    digest_xor(c->final, d, sizeof(d));
}

void digest_dataset(unsigned char *d)
{
    struct ds_ctx c = {d};
    int i;
    memset(d, 0, SHA_DIGEST_LENGTH);
    for (i = 0; i < g_store.ndb; i++) {
        struct db *db = &g_store.dbs[i];
        uint32_t aux;
        if (dict_size(&db->keys) == 0) continue;
        aux = htonl((uint32_t)i);
        digest_mix(d, &aux, sizeof(aux));
        dict_foreach(&db->keys, digest_key, &c);
    }
}

void digest_hex(const unsigned char *d, char *out)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 0; i < SHA_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[40] = 0;
}
