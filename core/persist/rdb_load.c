/* rdb_load.c — reading Redis 7.0's RDB format: a whole image (what Redis
 * 7.0 writes and the older encodings it still reads: ziplists, quicklist
 * v1, plain lists, string scores) into the keyspace, and the DUMP/RESTORE
 * payload of one value. Every read of an untrusted image is bounds-checked
 * and every compact blob (listpack, ziplist, intset) is validated before it
 * is adopted: a corrupt file is refused, never a crash. */
#include "rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crc64.h"
#include "evict.h"
#include "rdb_format.h"
#include "rdb_read.h"
#include "intset.h"
#include "listpack.h"
#include "loading.h"
#include "object.h"
#include "server.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_stream.h"
#include "t_zset.h"
#include "util.h"

/* ==================================================================== */
/*                               loading                                 */
/* ==================================================================== */

/* A ziplist (Redis < 7) converted into a fresh listpack; NULL if invalid. */
static unsigned char *ziplist_to_listpack(const unsigned char *zl, size_t size,
                                          unsigned long *count)
{
    const unsigned char *p, *end;
    unsigned char *lp;
    unsigned long n = 0;
    uint32_t zlbytes;
    uint16_t zllen;
    if (size < 11) return NULL;
    zlbytes =
        (uint32_t)zl[0] | (uint32_t)zl[1] << 8 | (uint32_t)zl[2] << 16 | (uint32_t)zl[3] << 24;
    zllen = (uint16_t)(zl[8] | zl[9] << 8);
    if (zlbytes != size || zl[size - 1] != 0xFF) return NULL;
    p = zl + 10;
    end = zl + size - 1;
    lp = lp_new(size + 16);
    while (p < end) {
        unsigned char b;
        size_t slen = 0;
        long long v = 0;
        bool isint = false;
        /* prevlen */
        if (p[0] == 0xFE) {
            if (end - p < 5) goto bad;
            p += 5;
        } else {
            p += 1;
        }
        if (p >= end) goto bad;
        b = p[0];
        switch (b >> 6) {
        case 0:
            slen = b & 0x3F;
            p += 1;
            break;
        case 1:
            if (end - p < 2) goto bad;
            slen = (size_t)(b & 0x3F) << 8 | p[1];
            p += 2;
            break;
        case 2:
            if (b != 0x80 || end - p < 5) goto bad;
            slen = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
            p += 5;
            break;
        default:
            isint = true;
            p += 1;
            if (b == 0xC0) { /* int16 */
                if (end - p < 2) goto bad;
                v = (int16_t)(uint16_t)(p[0] | p[1] << 8);
                p += 2;
            } else if (b == 0xD0) { /* int32 */
                if (end - p < 4) goto bad;
                v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                              (uint32_t)p[3] << 24);
                p += 4;
            } else if (b == 0xE0) { /* int64 */
                uint64_t u = 0;
                int i;
                if (end - p < 8) goto bad;
                for (i = 7; i >= 0; i--)
                    u = (u << 8) | p[i];
                v = (long long)u;
                p += 8;
            } else if (b == 0xF0) { /* int24 */
                int32_t t;
                if (end - p < 3) goto bad;
                t = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24);
                v = t >> 8;
                p += 3;
            } else if (b == 0xFE) { /* int8 */
                if (end - p < 1) goto bad;
                v = (int8_t)p[0];
                p += 1;
            } else if (b >= 0xF1 && b <= 0xFD) {
                v = (b & 0x0F) - 1;
            } else {
                goto bad;
            }
        }
        if (isint) {
            lp = lp_append_int(lp, v);
        } else {
            if ((size_t)(end - p) < slen) goto bad;
            lp = lp_append(lp, (const char *)p, slen);
            p += slen;
        }
        n++;
    }
    if (p != end) goto bad;
    if (zllen != 65535 && zllen != n) goto bad;
    *count = n;
    return lp;
bad:
    lp_free(lp);
    return NULL;
}

/* A copy of a listpack blob after full validation; NULL if invalid. */
static unsigned char *listpack_copy(const struct rstrv *s)
{
    unsigned char *lp;
    if (!lp_validate((const unsigned char *)s->p, s->n)) return NULL;
    lp = xmalloc(s->n);
    memcpy(lp, s->p, s->n);
    return lp;
}

struct span {
    const char *p;
    size_t n;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* True if the even-indexed entries (fields / members) of lp are distinct;
 * sets *maxlen to the longest entry of all. */
static bool lp_pairs_unique(unsigned char *lp, size_t *maxlen)
{
    unsigned long n = lp_count(lp) / 2, k = 0, i;
    struct span *v;
    char(*bufs)[LP_INTBUF];
    unsigned char *p;
    bool ok = true, even = true;
    *maxlen = 0;
    if (n == 0) return true;
    v = xmalloc(sizeof(*v) * n);
    bufs = xmalloc(sizeof(*bufs) * n);
    for (p = lp_first(lp); p; p = lp_next(lp, p), even = !even) {
        char tmp[LP_INTBUF];
        size_t len;
        const char *s = lp_get(p, &len, even && k < n ? bufs[k] : tmp, NULL, NULL);
        if (len > *maxlen) *maxlen = len;
        if (even && k < n) {
            v[k].p = s;
            v[k].n = len;
            k++;
        }
    }
    if (n > 1) {
        qsort(v, n, sizeof(*v), span_cmp);
        for (i = 1; i < n; i++)
            if (span_cmp(&v[i - 1], &v[i]) == 0) {
                ok = false;
                break;
            }
    }
    free(v);
    free(bufs);
    return ok;
}

/* A zset listpack: member,score pairs, scores valid numbers (not NaN),
 * sorted by (score, member), members distinct. */
static bool zset_lp_valid(unsigned char *lp, size_t *maxlen)
{
    unsigned char *p;
    double prev = 0;
    char pbuf[LP_INTBUF], mbuf[LP_INTBUF], sbuf_[LP_INTBUF];
    const char *pm = NULL;
    size_t pn = 0;
    bool first = true;
    if (lp_count(lp) % 2) return false;
    if (!lp_pairs_unique(lp, maxlen)) return false;
    for (p = lp_first(lp); p;) {
        size_t mn, sn;
        const char *m = lp_get(p, &mn, mbuf, NULL, NULL), *s;
        bool isint;
        long long iv;
        double d;
        unsigned char *q = lp_next(lp, p);
        if (!q) return false;
        s = lp_get(q, &sn, sbuf_, &isint, &iv);
        if (isint)
            d = (double)iv;
        else if (!util_str2d(s, sn, &d) || isnan(d))
            return false;
        if (!first) {
            int c;
            if (d < prev) return false;
            if (d == prev) {
                size_t k = pn < mn ? pn : mn;
                c = memcmp(pm, m, k);
                if (c > 0 || (c == 0 && pn >= mn)) return false;
            }
        }
        first = false;
        prev = d;
        memcpy(pbuf, mbuf, sizeof(pbuf));
        pm = m == mbuf ? pbuf : m;
        pn = mn;
        p = lp_next(lp, q);
    }
    return true;
}

/* ---- values ---- */

static void rd_free_kv(struct kv *e)
{
    if (e) kv_free(e);
}

/* Push every entry of listpack lp at the list's tail, then free lp. */
static void ql_push_all(struct quicklist *ql, unsigned char *lp)
{
    unsigned char *p;
    for (p = lp_first(lp); p; p = lp_next(lp, p)) {
        char buf[LP_INTBUF];
        size_t n;
        const char *v = lp_get(p, &n, buf, NULL, NULL);
        ql_push(ql, QL_TAIL, v, n);
    }
    lp_free(lp);
}

static struct kv *load_list_nodes(struct rd *r, int type, const char *key, size_t klen)
{
    struct quicklist *ql = ql_new(g_config.list_max_listpack_size, g_config.list_compress_depth);
    struct kv *e = kv_new_ptr(key, klen, OBJ_LIST, ENC_QUICKLIST, ql);
    uint64_t nodes, i;
    if (!r_len(r, &nodes)) goto err;
    for (i = 0; i < nodes; i++) {
        uint64_t container = QL_NODE_PACKED;
        struct rstrv s;
        unsigned char *lp;
        unsigned long cnt;
        if (type == T_LIST_QUICKLIST_2) {
            if (!r_len(r, &container)) goto err;
            if (container != QL_NODE_PLAIN && container != QL_NODE_PACKED) {
                rd_corrupt(r, "quicklist integrity check failed (bad container)");
                goto err;
            }
        }
        if (!r_string(r, &s)) goto err;
        if (container == QL_NODE_PLAIN) {
            ql_push_plain(ql, s.p, s.n);
            rd_sfree(&s);
            continue;
        }
        if (type == T_LIST_QUICKLIST_2) {
            lp = listpack_copy(&s);
            cnt = lp ? lp_count(lp) : 0;
        } else {
            lp = ziplist_to_listpack((const unsigned char *)s.p, s.n, &cnt);
        }
        rd_sfree(&s);
        if (!lp) {
            rd_corrupt(r, type == T_LIST_QUICKLIST_2 ? "listpack integrity check failed"
                                                     : "ziplist integrity check failed");
            goto err;
        }
        if (cnt == 0) { /* Redis skips empty nodes */
            lp_free(lp);
            continue;
        }
        /* adopt the listpack as a node whatever its size (and compress it
         * as the depth says), as Redis 7.0 does */
        if (cnt <= UINT32_MAX)
            ql_append_listpack(ql, lp, (uint32_t)cnt);
        else
            ql_push_all(ql, lp);
    }
    return e;
err:
    rd_free_kv(e);
    return NULL;
}

static struct kv *load_list_plain(struct rd *r, int type, const char *key, size_t klen)
{
    struct quicklist *ql = ql_new(g_config.list_max_listpack_size, g_config.list_compress_depth);
    struct kv *e = kv_new_ptr(key, klen, OBJ_LIST, ENC_QUICKLIST, ql);
    if (type == T_LIST) {
        uint64_t n, i;
        if (!r_len(r, &n)) goto err;
        for (i = 0; i < n; i++) {
            struct rstrv s;
            if (!r_string(r, &s)) goto err;
            ql_push(ql, QL_TAIL, s.p, s.n);
            rd_sfree(&s);
        }
    } else { /* T_LIST_ZIPLIST */
        struct rstrv s;
        unsigned long cnt;
        unsigned char *lp;
        if (!r_string(r, &s)) goto err;
        lp = ziplist_to_listpack((const unsigned char *)s.p, s.n, &cnt);
        rd_sfree(&s);
        if (!lp) {
            rd_corrupt(r, "ziplist integrity check failed");
            goto err;
        }
        ql_push_all(ql, lp);
    }
    return e;
err:
    rd_free_kv(e);
    return NULL;
}

static struct kv *load_set(struct rd *r, int type, const char *key, size_t klen)
{
    struct setv s;
    struct kv *e;
    if (type == T_SET_INTSET) {
        struct rstrv b;
        struct intset *is;
        uint32_t enc, len;
        if (!r_string(r, &b)) return NULL;
        if (b.n < 8) goto bad_is;
        memcpy(&enc, b.p, 4);
        memcpy(&len, b.p + 4, 4);
        if (enc != INTSET_ENC_INT16 && enc != INTSET_ENC_INT32 && enc != INTSET_ENC_INT64)
            goto bad_is;
        if ((uint64_t)len * enc + 8 != b.n) goto bad_is;
        is = xmalloc(b.n);
        memcpy(is, b.p, b.n);
        rd_sfree(&b);
        if (!intset_validate(is) || len == 0) {
            free(is);
            if (len == 0)
                r->empty = true;
            else
                rd_corrupt(r, "intset integrity check failed");
            return NULL;
        }
        s.ptr = is;
        s.enc = ENC_INTSET;
        if ((long long)len > g_config.set_max_intset_entries) set_convert_ht(&s, len);
        return kv_new_ptr(key, klen, OBJ_SET, s.enc, s.ptr);
    bad_is:
        rd_sfree(&b);
        rd_corrupt(r, "intset integrity check failed");
        return NULL;
    } else {
        uint64_t n, i;
        if (!r_len(r, &n)) return NULL;
        if (n == 0) {
            r->empty = true;
            return NULL;
        }
        if ((long long)n > g_config.set_max_intset_entries)
            s = set_new_ht(n > (1u << 24) ? (1u << 24) : (size_t)n);
        else
            s = set_new_intset();
        e = kv_new_ptr(key, klen, OBJ_SET, s.enc, s.ptr);
        for (i = 0; i < n; i++) {
            struct rstrv m;
            int added;
            if (!r_string(r, &m)) goto err;
            s = set_of(e);
            added = set_add(&s, m.p, m.n);
            set_store(e, s);
            rd_sfree(&m);
            if (!added) {
                rd_corrupt(r, "duplicate set members detected");
                goto err;
            }
        }
        return e;
    err:
        rd_free_kv(e);
        return NULL;
    }
}

static struct kv *load_zset(struct rd *r, int type, const char *key, size_t klen)
{
    struct kv *e;
    if (type == T_ZSET || type == T_ZSET_2) {
        uint64_t n, i;
        if (!r_len(r, &n)) return NULL;
        if (n == 0) {
            r->empty = true;
            return NULL;
        }
        e = zset_new_kv(key, klen, n > (1u << 30) ? (1u << 30) : (size_t)n, 0);
        for (i = 0; i < n; i++) {
            struct rstrv m;
            double score, ns;
            int out = 0;
            if (!r_string(r, &m)) goto err;
            if (!(type == T_ZSET_2 ? r_double_bin(r, &score) : r_double_str(r, &score))) {
                rd_sfree(&m);
                goto err;
            }
            if (isnan(score)) {
                rd_sfree(&m);
                rd_corrupt(r, "zset with NAN score detected");
                goto err;
            }
            zset_add(e, score, m.p, m.n, ZADD_IN_NX, &out, &ns);
            rd_sfree(&m);
            if (!(out & ZADD_OUT_ADDED)) {
                rd_corrupt(r, "duplicate zset fields detected");
                goto err;
            }
        }
        return e;
    err:
        rd_free_kv(e);
        return NULL;
    } else {
        struct rstrv b;
        unsigned char *lp;
        unsigned long cnt;
        size_t maxlen;
        if (!r_string(r, &b)) return NULL;
        lp = type == T_ZSET_LISTPACK ? listpack_copy(&b)
                                     : ziplist_to_listpack((const unsigned char *)b.p, b.n, &cnt);
        rd_sfree(&b);
        if (!lp || !zset_lp_valid(lp, &maxlen)) {
            if (lp) lp_free(lp);
            rd_corrupt(r, "zset listpack integrity check failed");
            return NULL;
        }
        if (lp_count(lp) == 0) {
            lp_free(lp);
            r->empty = true;
            return NULL;
        }
        e = kv_new_ptr(key, klen, OBJ_ZSET, ENC_LISTPACK, lp);
        /* Redis 7.0 converts a loaded listpack (or ziplist) zset on its
         * length only: long members (or scores) keep it a listpack */
        if ((long long)(lp_count(lp) / 2) > g_config.zset_max_listpack_entries)
            zset_convert(e, ENC_SKIPLIST);
        return e;
    }
}

static struct kv *load_hash(struct rd *r, int type, const char *key, size_t klen)
{
    struct kv *e;
    if (type == T_HASH) {
        uint64_t n, i;
        if (!r_len(r, &n)) return NULL;
        if (n == 0) {
            r->empty = true;
            return NULL;
        }
        e = hash_new_kv(key, klen);
        if ((long long)n > g_config.hash_max_listpack_entries) hash_convert(e);
        for (i = 0; i < n; i++) {
            struct rstrv f, v;
            bool fresh;
            if (!r_string(r, &f)) goto err;
            if (!r_string(r, &v)) {
                rd_sfree(&f);
                goto err;
            }
            fresh = hash_set(e, f.p, f.n, v.p, v.n);
            rd_sfree(&f);
            rd_sfree(&v);
            if (!fresh) {
                rd_corrupt(r, "duplicate hash fields detected");
                goto err;
            }
        }
        return e;
    err:
        rd_free_kv(e);
        return NULL;
    } else if (type == T_HASH_ZIPMAP) {
        rd_fail(r, "The RDB file holds a hash in the zipmap encoding (RDB type 9, Redis < 2.6), "
                   "which Keel does not read");
        return NULL;
    } else {
        struct rstrv b;
        unsigned char *lp;
        unsigned long cnt;
        size_t maxlen;
        if (!r_string(r, &b)) return NULL;
        lp = type == T_HASH_LISTPACK ? listpack_copy(&b)
                                     : ziplist_to_listpack((const unsigned char *)b.p, b.n, &cnt);
        rd_sfree(&b);
        if (!lp || lp_count(lp) % 2 || !lp_pairs_unique(lp, &maxlen)) {
            if (lp) lp_free(lp);
            rd_corrupt(r, "hash listpack integrity check failed");
            return NULL;
        }
        if (lp_count(lp) == 0) {
            lp_free(lp);
            r->empty = true;
            return NULL;
        }
        e = kv_new_ptr(key, klen, OBJ_HASH, ENC_LISTPACK, lp);
        if ((long long)(lp_count(lp) / 2) > g_config.hash_max_listpack_entries ||
            (long long)maxlen > g_config.hash_max_listpack_value)
            hash_convert(e);
        return e;
    }
}

static bool r_u64le(struct rd *r, uint64_t *v)
{
    int i;
    if (!r_need(r, 8)) return false;
    for (*v = 0, i = 7; i >= 0; i--)
        *v = (*v << 8) | r->p[i];
    r->p += 8;
    return true;
}

static bool r_sid(struct rd *r, struct sid *id)
{
    return r_len(r, &id->ms) && r_len(r, &id->seq);
}
static bool r_name(struct rd *r, char **p, size_t *n)
{
    struct rstrv v;
    if (!r_string(r, &v)) return false;
    *p = xmalloc(v.n + 1);
    memcpy(*p, v.p, v.n);
    *n = v.n;
    rd_sfree(&v);
    return true;
}

/* A stream: RDB types 15 (5.0-6.2), 19 (7.0) and 21 (7.2: consumers'
 * active time, read and dropped). Every PEL entry must have a consumer. */
static struct kv *load_stream(struct rd *r, int t, const char *key, size_t klen)
{
    struct stream *s = stream_new();
    struct kv *e = kv_new_ptr(key, klen, OBJ_STREAM, ENC_STREAM, s);
    uint64_t n, i, ng, v, np, nc, j, q, owned;
    char *nm = NULL;
    size_t nl;
    if (!r_len(r, &n)) goto err;
    for (i = 0; i < n; i++) {
        struct rstrv k, b;
        unsigned char *lp = NULL;
        bool ok = r_string(r, &k) && k.n == 16 && r_string(r, &b);
        if (ok) lp = listpack_copy(&b), rd_sfree(&b);
        if (!lp || !lp_first(lp) || !rax_try_insert(s->rax, (const unsigned char *)k.p, 16, lp)) {
            if (lp) lp_free(lp);
            rd_sfree(&k);
            rd_corrupt(r, "bad stream node");
            goto err;
        }
        rd_sfree(&k);
    }
    if (!r_len(r, &s->length) || !r_sid(r, &s->last_id)) goto err;
    if (t >= T_STREAM_LISTPACKS_2) {
        if (!r_sid(r, &s->first_id) || !r_sid(r, &s->max_deleted_id) ||
            !r_len(r, &s->entries_added))
            goto err;
    } else {
        s->entries_added = s->length;
    }
    /* the nodes whole, the length and the last id true to them (what
     * Redis's deep sanitization checks, and more): stream code trusts it */
    if (!stream_validate(s)) {
        rd_corrupt(r, "stream integrity check failed");
        goto err;
    }
    if (t < T_STREAM_LISTPACKS_2) stream_edge_id(s, true, &s->first_id);
    if (!r_len(r, &ng)) goto err;
    for (i = 0; i < ng; i++) {
        struct sgroup *g;
        struct sid gid;
        v = (uint64_t)SCG_INVALID_READ;
        if (!r_name(r, &nm, &nl) || !r_sid(r, &gid) || (t >= T_STREAM_LISTPACKS_2 && !r_len(r, &v)))
            goto err;
        g = stream_group_create(s, nm, nl, &gid, (long long)v);
        free(nm);
        nm = NULL;
        if (!g) goto bad;
        if (t < T_STREAM_LISTPACKS_2) g->entries_read = stream_estimate_distance(s, &gid);
        if (!r_len(r, &np)) goto err;
        for (j = 0; j < np; j++) {
            uint64_t dt, cnt;
            const unsigned char *id;
            struct snack *nack;
            if (!r_need(r, 16)) goto err;
            id = r->p; /* a streaming source keeps it until the key ends */
            if ((r->p += 16, !r_u64le(r, &dt)) || !r_len(r, &cnt)) goto err;
            nack = snack_new(NULL, (long long)dt);
            nack->delivery_count = cnt;
            if (!rax_try_insert(g->pel, id, 16, nack)) {
                free(nack);
                goto bad;
            }
        }
        if (!r_len(r, &nc)) goto err;
        for (owned = 0, j = 0; j < nc; j++) {
            struct sconsumer *c;
            uint64_t seen, active, cp;
            if (!r_name(r, &nm, &nl) || !r_u64le(r, &seen) ||
                (t >= T_STREAM_LISTPACKS_3 && !r_u64le(r, &active)))
                goto err;
            c = stream_consumer_get(g, nm, nl, (long long)seen, NULL);
            free(nm);
            nm = NULL;
            if (!r_len(r, &cp)) goto err;
            for (q = 0; q < cp; q++, owned++) {
                void *nv;
                if (!r_need(r, 16)) goto err;
                if (!rax_find(g->pel, r->p, 16, &nv) || ((struct snack *)nv)->consumer) goto bad;
                ((struct snack *)nv)->consumer = c;
                rax_insert(c->pel, r->p, 16, nv, NULL);
                r->p += 16;
            }
        }
        if (owned != rax_size(g->pel)) goto bad;
    }
    return e;
bad:
    rd_corrupt(r, "bad stream consumer group");
err:
    free(nm);
    rd_free_kv(e);
    return NULL;
}

static const char *rdb_type_name(int t)
{
    switch (t) {
    case T_MODULE_PRE_GA:
    case T_MODULE_2:
        return "module";
    case T_STREAM_LISTPACKS:
    case T_STREAM_LISTPACKS_2:
    case T_STREAM_LISTPACKS_3:
        return "stream";
    case T_SET_LISTPACK:
        return "set listpack (Redis 7.2)";
    default:
        return "unknown";
    }
}

/* A key as error messages show it: quoted and escaped (util_repr), its
 * first 128 bytes, so that a message stays one printable line. */
struct keytext {
    char s[560];
    size_t n;
};

static void keytext_put(void *ctx, const char *p, size_t len)
{
    struct keytext *b = ctx;
    size_t room = sizeof(b->s) - 1 - b->n;
    if (len > room) len = room;
    memcpy(b->s + b->n, p, len);
    b->n += len;
    b->s[b->n] = 0;
}

static const char *key_text(struct keytext *b, const char *key, size_t klen)
{
    b->n = 0;
    b->s[0] = 0;
    util_repr(key, klen > 128 ? 128 : klen, keytext_put, b);
    return b->s;
}

/* One value of RDB type t for key; NULL with r->failed on error. */
static struct kv *load_value(struct rd *r, int t, const char *key, size_t klen)
{
    switch (t) {
    case T_STRING: {
        struct rstrv s;
        struct kv *e;
        if (!r_string(r, &s)) return NULL;
        e = kv_new_string(key, klen, s.p, s.n, true);
        rd_sfree(&s);
        return e;
    }
    case T_LIST:
    case T_LIST_ZIPLIST:
    case T_LIST_QUICKLIST:
    case T_LIST_QUICKLIST_2: { /* an empty list is no key (as Redis) */
        struct kv *e = t == T_LIST || t == T_LIST_ZIPLIST ? load_list_plain(r, t, key, klen)
                                                          : load_list_nodes(r, t, key, klen);
        if (e && ql_count(e->v.ptr) == 0) {
            kv_free(e);
            r->empty = true;
            return NULL;
        }
        return e;
    }
    case T_SET:
    case T_SET_INTSET:
        return load_set(r, t, key, klen);
    case T_ZSET:
    case T_ZSET_2:
    case T_ZSET_ZIPLIST:
    case T_ZSET_LISTPACK:
        return load_zset(r, t, key, klen);
    case T_HASH:
    case T_HASH_ZIPMAP:
    case T_HASH_ZIPLIST:
    case T_HASH_LISTPACK:
        return load_hash(r, t, key, klen);
    case T_STREAM_LISTPACKS:
    case T_STREAM_LISTPACKS_2:
    case T_STREAM_LISTPACKS_3:
        return load_stream(r, t, key, klen);
    default: {
        struct keytext kt;
        rd_fail(r,
                "The RDB image holds a value of type %s (RDB type %d) for key %s, which Keel "
                "cannot load",
                rdb_type_name(t), t, key_text(&kt, key, klen));
        return NULL;
    }
    }
}

static bool is_value_type(int t)
{
    return (t >= 0 && t <= 7) || (t >= 9 && t <= 21);
}

/* The whole image; flags: merge (replace present keys). */
static bool repl_offset_seen;

/* The replication aux fields (rdb.h's rdb_loaded_repl). */
static void aux_repl(const struct rstrv *k, const struct rstrv *v)
{
    long long n;
    if (k->n == 7 && !memcmp(k->p, "repl-id", 7)) {
        if (v->n == 40) {
            memcpy(rdb_loaded_repl.id, v->p, 40);
            rdb_loaded_repl.id[40] = 0;
        }
    } else if (k->n == 11 && !memcmp(k->p, "repl-offset", 11)) {
        if (util_str2ll(v->p, v->n, &n)) {
            rdb_loaded_repl.offset = n;
            repl_offset_seen = true;
        }
    } else if (k->n == 14 && !memcmp(k->p, "repl-stream-db", 14)) {
        if (util_str2ll(v->p, v->n, &n) && n >= 0 && n < g_store.ndb)
            rdb_loaded_repl.stream_db = (int)n;
    }
}

/* repl-diskless-load swapdb: the databases and function libraries go to
 * the side set instead of the store (rdb_load_stream's into). */
static struct rdb_side *side;

static struct db *target_db(int id)
{
    return side ? &side->dbs[id] : store_db(id);
}

static bool load_image(struct rd *r, bool merge)
{
    struct db *db = target_db(0);
    long long expire = -1, lfu_freq = -1, lru_idle = -1;
    char magic[10];
    int ver;
    if (!r_need(r, 9)) return false;
    r->crc = 0;
    r->crc_p = r->p; /* the checksum covers the image from here */
    if (memcmp(r->p, "REDIS", 5) != 0)
        return rd_fail(r, "Wrong signature trying to load DB from file");
    memcpy(magic, r->p + 5, 4);
    magic[4] = 0;
    ver = atoi(magic);
    if (ver < 1 || ver > RDB_VERSION) return rd_fail(r, "Can't handle RDB format version %d", ver);
    r->version = ver;
    r->p += 9;
    for (;;) {
        int t;
        rd_boundary(r); /* nothing read so far is pointed to */
        if (!r_byte(r, &t)) return false;
        if (t == OP_EXPIRETIME) {
            if (!r_need(r, 4)) return false;
            expire = (long long)((uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
                                 (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24) *
                     1000;
            r->p += 4;
            continue;
        }
        if (t == OP_EXPIRETIME_MS) {
            uint64_t v = 0;
            int i;
            if (!r_need(r, 8)) return false;
            for (i = 7; i >= 0; i--)
                v = (v << 8) | r->p[i];
            r->p += 8;
            expire = (long long)v;
            continue;
        }
        if (t == OP_FREQ) {
            int b;
            if (!r_byte(r, &b)) return false;
            lfu_freq = b;
            continue;
        }
        if (t == OP_IDLE) {
            uint64_t idle;
            if (!r_len(r, &idle)) return false;
            lru_idle = idle > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)idle;
            continue;
        }
        if (t == OP_EOF) break;
        if (t == OP_SELECTDB) {
            uint64_t id;
            if (!r_len(r, &id)) return false;
            if (id >= (uint64_t)g_store.ndb)
                return rd_fail(r,
                               "FATAL: Data file was created with a Redis server configured to "
                               "handle more than %d databases. Exiting",
                               g_store.ndb);
            db = target_db((int)id);
            continue;
        }
        if (t == OP_RESIZEDB) {
            uint64_t a, b;
            if (!r_len(r, &a) || !r_len(r, &b)) return false;
            /* as Redis: the table sized once (a corrupt count is bounded
             * by what the image could hold: a key takes 3 bytes at least) */
            if (a <= rd_left_hint(r) / 3 && b <= a) store_reserve(db, a, b);
            continue;
        }
        if (t == OP_AUX) {
            struct rstrv k, v;
            if (!r_string(r, &k)) return false;
            if (!r_string(r, &v)) {
                rd_sfree(&k);
                return false;
            }
            aux_repl(&k, &v);
            if (k.n == 8 && !memcmp(k.p, "used-mem", 8)) {
                char num[32];
                size_t n = v.n < sizeof(num) - 1 ? v.n : sizeof(num) - 1;
                memcpy(num, v.p, n);
                num[n] = 0;
                loading_set_rdb_used_mem(strtoll(num, NULL, 10));
            }
            rd_sfree(&k);
            rd_sfree(&v);
            continue;
        }
        if (t == OP_FUNCTION2) { /* a function library (core/script creates it) */
            struct rstrv s;
            char ferr[256];
            if (!r_string(r, &s)) return false;
            if (side) { /* loaded when the side set is swapped in */
                side->fn = xrealloc(side->fn, (side->nfn + 1) * sizeof(*side->fn));
                side->fn[side->nfn].p = xmalloc(s.n ? s.n : 1);
                memcpy(side->fn[side->nfn].p, s.p, s.n);
                side->fn[side->nfn++].n = s.n;
            } else if (rdb_function_load &&
                       !rdb_function_load(s.p, s.n, true, ferr, sizeof(ferr))) {
                rd_sfree(&s);
                return rd_fail(r, "Failed loading library: %s", ferr);
            }
            rd_sfree(&s);
            continue;
        }
        if (t == OP_FUNCTION_PRE_GA)
            return rd_fail(r, "The RDB image holds functions in the pre-GA format, which Keel "
                              "cannot load");
        if (t == OP_MODULE_AUX)
            return rd_fail(r, "The RDB image holds module auxiliary data (opcode 247); Keel has "
                              "no modules and cannot load it");
        if (!is_value_type(t)) return rd_corrupt(r, "unknown RDB opcode or type");
        {
            struct rstrv k;
            struct kv *e;
            if (!r_string(r, &k)) return false;
            r->empty = false;
            e = load_value(r, t, k.p, k.n);
            if (!e) {
                rd_sfree(&k);
                if (r->failed || !r->empty) return false;
                r->empty_skipped++; /* Redis skips empty keys */
                expire = lfu_freq = lru_idle = -1;
                continue;
            }
            /* a replica keeps them: its primary's DELs will come */
            if (expire != -1 && expire < r->now && !g_store.replica) {
                kv_free(e);
                r->expired++;
            } else {
                uint64_t h = store_key_hash(k.p, k.n);
                struct kv *old = store_peek_hashed(db, k.p, k.n, h);
                if (old) {
                    if (!merge) {
                        struct keytext kt;
                        bool f = rd_fail(r, "RDB has duplicated key %s in DB %d",
                                         key_text(&kt, k.p, k.n), db->id);
                        kv_free(e);
                        rd_sfree(&k);
                        return f;
                    }
                    store_delete(db, k.p, k.n, NULL, 0);
                }
                e = store_add_expire_hashed(db, e, expire, h);
                /* the access data saved with the key, as the policy reads it */
                evict_set_lru_or_lfu(e, lfu_freq, lru_idle);
                r->loaded++;
            }
            rd_sfree(&k);
            expire = lfu_freq = lru_idle = -1;
            /* clients are served now and then, INFO sees the progress */
            loading_progress(r->base + rd_offset(r));
        }
    }
    /* the CRC64 trailer (version >= 5) */
    if (r->version >= 5) {
        uint64_t stored = 0, crc;
        int i;
        crc = rd_crc(r);
        if (!r_need(r, 8)) return false;
        for (i = 7; i >= 0; i--)
            stored = (stored << 8) | r->p[i];
        r->p += 8;
        if (g_config.rdbchecksum && !rdb_skip_checksum_validation && stored != 0) {
            if (crc != stored)
                return rd_fail(r, "Wrong RDB checksum expected: (%llx) got: (%llx). Aborting now.",
                               (unsigned long long)stored, (unsigned long long)crc);
        }
    }
    return true;
}

long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;
struct rdb_repl_info rdb_loaded_repl;

bool rdb_load_rd(struct rd *r, bool merge, struct rdb_side *into)
{
    bool ok;
    /* a load nested in a side load's event pump (DEBUG RELOAD) goes to
     * the store, the side load goes on after it */
    struct rdb_side *outer = side;
    long long dirty = g_store.stats.dirty;
    side = into;
    r->now = util_mstime();
    r->base = loading_loaded_bytes(); /* an AOF's base counts from where the load is */
    memset(&rdb_loaded_repl, 0, sizeof(rdb_loaded_repl));
    repl_offset_seen = false;
    ok = load_image(r, merge);
    /* the id and the offset together, or nothing */
    rdb_loaded_repl.valid = rdb_loaded_repl.id[0] && repl_offset_seen;
    rdb_last_load_keys_loaded = r->loaded;
    rdb_last_load_keys_expired = r->expired;
    g_store.stats.dirty = dirty; /* loading is not a change to save */
    side = outer;
    return ok;
}

static bool load_buffer(const unsigned char *p, size_t n, size_t *used, bool merge, char *err,
                        size_t errlen)
{
    struct rd r;
    bool ok;
    memset(&r, 0, sizeof(r));
    r.start = r.p = p;
    r.end = p + n;
    r.err = err;
    r.errlen = errlen;
    r.total = (long long)n;
    ok = rdb_load_rd(&r, merge, NULL);
    if (used) *used = (size_t)(r.p - r.start);
    return ok;
}

bool rdb_load_buffer(const unsigned char *p, size_t n, size_t *used, char *err, size_t errlen)
{
    return load_buffer(p, n, used, false, err, errlen);
}

void rdb_side_functions_free(struct rdb_side *s)
{
    size_t i;
    for (i = 0; i < s->nfn; i++)
        free(s->fn[i].p);
    free(s->fn);
    s->fn = NULL;
    s->nfn = 0;
}

bool rdb_load_file_ex(const char *path, bool merge, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    void *map;
    bool ok;
    if (fd < 0) {
        rdb_set_err(err, errlen, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        return false;
    }
    if (fstat(fd, &st) == -1) {
        rdb_set_err(err, errlen, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        close(fd);
        return false;
    }
    if (st.st_size == 0) {
        close(fd);
        rdb_set_err(err, errlen,
                    "Short read or OOM loading DB. Unrecoverable error, aborting now.");
        return false;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        rdb_set_err(err, errlen, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        return false;
    }
    madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    loading_start((long long)st.st_size);
    ok = load_buffer(map, (size_t)st.st_size, NULL, merge, err, errlen);
    g_server.loading_loaded_bytes = (long long)st.st_size;
    loading_end();
    munmap(map, (size_t)st.st_size);
    return ok;
}

bool rdb_load_file(const char *path, char *err, size_t errlen)
{
    return rdb_load_file_ex(path, false, err, errlen);
}

/* ---- DUMP / RESTORE ---- */

int rdb_skip_checksum_validation;

bool rdb_verify_dump_payload(const unsigned char *p, size_t n)
{
    const unsigned char *foot;
    unsigned ver;
    uint64_t crc, stored = 0;
    int i;
    if (n < 10) return false;
    foot = p + n - 10;
    ver = (unsigned)foot[0] | (unsigned)foot[1] << 8;
    if (ver > RDB_VERSION) return false;
    if (rdb_skip_checksum_validation) return true;
    crc = crc64(0, p, n - 8);
    for (i = 7; i >= 0; i--)
        stored = (stored << 8) | foot[2 + i];
    return crc == stored;
}

bool rdb_each_function_in_payload(const unsigned char *p, size_t n,
                                  bool (*fn)(void *ctx, const char *code, size_t n), void *ctx,
                                  char *err, size_t errlen)
{
    struct rd r;
    memset(&r, 0, sizeof(r));
    r.start = r.p = p;
    r.end = p + n - 10; /* without the footer */
    r.err = err;
    r.errlen = errlen;
    r.version = RDB_VERSION;
    while (r.p < r.end) {
        struct rstrv s;
        int t;
        bool ok;
        if (!r_byte(&r, &t)) return false;
        if (t != OP_FUNCTION2) {
            rdb_set_err(err, errlen, "given type is not a function");
            return false;
        }
        if (!r_string(&r, &s)) return false;
        ok = fn(ctx, s.p, s.n);
        rd_sfree(&s);
        if (!ok) return false;
    }
    return true;
}

struct kv *rdb_deserialize_value(const unsigned char *p, size_t n, const char *key, size_t klen)
{
    struct rd r;
    char err[256];
    int t;
    struct kv *e;
    memset(&r, 0, sizeof(r));
    r.start = r.p = p;
    r.end = p + n - 10; /* without the footer */
    r.err = err;
    r.errlen = sizeof(err);
    r.version = RDB_VERSION;
    if (!r_byte(&r, &t) || !is_value_type(t)) return NULL;
    /* What follows the value is not looked at (as Redis). */
    e = load_value(&r, t, key, klen);
    return e;
}
