/* cmd_hll.c — the hyperloglog group: PFADD PFCOUNT PFMERGE, with Redis
 * 7.0's replies, errors and events. An HLL is a string value in Redis's
 * exact format (core/types/hyperloglog.c), so GET returns the same bytes as
 * Redis and a value DUMPed from Redis works here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "hyperloglog.h"
#include "kernel.h"
#include "store.h"
#include "util.h"

static const char invalid_hll_err[] = "INVALIDOBJ Corrupted HLL object detected";

/* Redis's isHLLObjectOrReply: e is a string holding a valid HLL header.
 * On false the error was replied. */
static bool hll_check(struct exec *x, struct kv *e)
{
    struct strview sv;
    if (e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return false;
    }
    if (e->enc != ENC_INT) {
        kv_string_view(e, &sv);
        if (hll_valid((const uint8_t *)sv.p, sv.n)) return true;
    }
    reply_error(x->r, "WRONGTYPE Key is not a valid HyperLogLog string value.");
    return false;
}

/* The value of e as a raw string of its own (dbUnshareStringValue). */
static struct rstr *unshare(struct kv *e)
{
    return store_string_unshare(e, kv_string_len(e));
}

/* PFADD key [element [element ...]] */
void cmd_pfadd(struct exec *x)
{
    const char *key = ARGP(x, A_PFADD_key);
    size_t klen = ARGN(x, A_PFADD_key);
    const struct argval *els = ARG(x, A_PFADD_element);
    struct kv *e = store_lookup_write(x->db, key, klen);
    struct rstr *s;
    bool created = false;
    int updated = 0, k;

    if (!e) {
        s = hll_new();
        e = kv_new_ptr(key, klen, OBJ_STRING, ENC_RAW, s);
        created = true;
        updated++;
    } else {
        if (!hll_check(x, e)) return;
        s = unshare(e);
    }
    for (k = 0; k < els->count; k++) {
        const struct argv_ref *a = &x->argv[els->list[k]];
        int ret = hll_add(&s, a->p, a->n);
        e->v.ptr = s;
        if (ret == 1) updated++;
        if (ret == -1) {
            reply_error(x->r, invalid_hll_err);
            return;
        }
    }
    if (updated) {
        long long mark = store_dirty_mark();
        hll_invalidate((uint8_t *)s->buf);
        if (created)
            store_add(x->db, e, "pfadd", NOTIFY_STRING);
        else
            store_modified(x->db, e, "pfadd", NOTIFY_STRING);
        /* Redis: one change for the creation and one per register raised */
        store_dirty_settle(mark, updated);
    }
    reply_int(x->r, updated ? 1 : 0);
}

/* PFCOUNT key [key ...] */
void cmd_pfcount(struct exec *x)
{
    const struct argval *keys = ARG(x, A_PFCOUNT_key);
    struct kv *e;
    struct rstr *s;
    uint64_t card;

    if (keys->count > 1) {
        /* The cardinality of the union: registers M[i] = MAX(M[i] of each). */
        uint8_t max[HLL_REGISTERS];
        int k;
        memset(max, 0, sizeof(max));
        for (k = 0; k < keys->count; k++) {
            const struct argv_ref *a = &x->argv[keys->list[k]];
            struct strview sv;
            e = store_lookup_read(x->db, a->p, a->n);
            if (!e) continue; /* an empty HLL */
            if (!hll_check(x, e)) return;
            kv_string_view(e, &sv);
            if (hll_merge(max, (const uint8_t *)sv.p, sv.n) == -1) {
                reply_error(x->r, invalid_hll_err);
                return;
            }
        }
        reply_int(x->r, (long long)hll_count_raw(max));
        return;
    }

    e = store_lookup_read(x->db, ARGP(x, A_PFCOUNT_key), ARGN(x, A_PFCOUNT_key));
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (!hll_check(x, e)) return;
    s = unshare(e);
    if (hll_cache_valid((uint8_t *)s->buf)) {
        card = hll_cache_get((uint8_t *)s->buf);
    } else {
        int invalid = 0;
        card = hll_count((uint8_t *)s->buf, s->len, &invalid);
        if (invalid) {
            reply_error(x->r, invalid_hll_err);
            return;
        }
        hll_cache_set((uint8_t *)s->buf, card);
        /* Redis signals the key modified (WATCH, tracking) without a
         * keyspace notification: an event of no notification class. */
        store_modified(x->db, e, "pfcount", 0);
    }
    reply_int(x->r, (long long)card);
}

/* PFMERGE destkey [sourcekey [sourcekey ...]]
 * (keel_raw_arguments: Redis accepts no source under arity -2, while its
 * declared grammar wants one; the keys are argv[1..].) */
void cmd_pfmerge(struct exec *x)
{
    const char *dkey = x->argv[1].p;
    size_t dklen = x->argv[1].n;
    uint8_t max[HLL_REGISTERS];
    bool use_dense = false, created = false;
    struct kv *e;
    struct rstr *s;
    int k, j;

    memset(max, 0, sizeof(max));
    /* As Redis: the destination is merged too, then each source. */
    for (k = 1; k < x->argc; k++) {
        struct strview sv;
        e = store_lookup_read(x->db, x->argv[k].p, x->argv[k].n);
        if (!e) continue;
        if (!hll_check(x, e)) return;
        kv_string_view(e, &sv);
        if (hll_encoding((const uint8_t *)sv.p) == HLL_DENSE) use_dense = true;
        if (hll_merge(max, (const uint8_t *)sv.p, sv.n) == -1) {
            reply_error(x->r, invalid_hll_err);
            return;
        }
    }

    e = store_lookup_write(x->db, dkey, dklen);
    if (!e) {
        s = hll_new();
        e = kv_new_ptr(dkey, dklen, OBJ_STRING, ENC_RAW, s);
        created = true;
    } else {
        /* Checked as a source above. */
        s = unshare(e);
    }
    if (use_dense && hll_to_dense(&s) == -1) {
        if (created) kv_free(e);
        reply_error(x->r, invalid_hll_err);
        return;
    }
    e->v.ptr = s;
    if (hll_encoding((uint8_t *)s->buf) == HLL_DENSE) {
        /* max[] already holds the destination's own registers (merged
         * above): writing them all is Redis's register-by-register raise. */
        hll_dense_store((uint8_t *)s->buf + HLL_HDR_SIZE, max);
    } else {
        for (j = 0; j < HLL_REGISTERS; j++) {
            if (max[j] == 0) continue;
            hll_set(&s, j, max[j]);
            e->v.ptr = s;
        }
    }
    hll_invalidate((uint8_t *)s->buf);
    /* Redis sends "pfadd" for PFMERGE (a mass add of elements). */
    if (created)
        store_add(x->db, e, "pfadd", NOTIFY_STRING);
    else
        store_modified(x->db, e, "pfadd", NOTIFY_STRING);
    reply_ok(x->r);
}

/* PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key */
void cmd_pfdebug(struct exec *x)
{
    const char *sub = ARGP(x, A_PFDEBUG_subcommand);
    size_t sublen = ARGN(x, A_PFDEBUG_subcommand);
    const char *key = ARGP(x, A_PFDEBUG_key);
    size_t klen = ARGN(x, A_PFDEBUG_key);
    struct kv *e = store_lookup_write(x->db, key, klen);
    struct rstr *s;
    if (!e) {
        reply_error(x->r, "ERR The specified key does not exist");
        return;
    }
    if (!hll_check(x, e)) return;
    s = unshare(e);
    if (util_eqci(sub, sublen, "getreg") || util_eqci(sub, sublen, "todense")) {
        bool conv = false;
        if (hll_encoding((const uint8_t *)s->buf) == HLL_SPARSE) {
            if (hll_to_dense(&s) < 0) {
                reply_error(x->r, invalid_hll_err);
                return;
            }
            e->v.ptr = s;
            conv = true;
            /* as Redis: counted as a change (propagated) with no event,
             * the value it holds being the same */
            g_store.stats.dirty++;
        }
        if (util_eqci(sub, sublen, "todense")) {
            reply_int(x->r, conv ? 1 : 0);
        } else {
            long j;
            reply_array(x->r, HLL_REGISTERS);
            for (j = 0; j < HLL_REGISTERS; j++)
                reply_int(x->r, hll_dense_get((const uint8_t *)s->buf + HLL_HDR_SIZE, j));
        }
    } else if (util_eqci(sub, sublen, "decode")) {
        size_t n;
        char *d;
        if (hll_encoding((const uint8_t *)s->buf) != HLL_SPARSE) {
            reply_error(x->r, "ERR HLL encoding is not sparse");
            return;
        }
        d = hll_sparse_decode((const uint8_t *)s->buf, s->len, &n);
        reply_bulk(x->r, d, n);
        free(d);
    } else if (util_eqci(sub, sublen, "encoding")) {
        reply_status(x->r,
                     hll_encoding((const uint8_t *)s->buf) == HLL_SPARSE ? "sparse" : "dense");
    } else {
        int n = sublen > 128 ? 128 : (int)sublen;
        reply_errorf(x->r, "ERR Unknown PFDEBUG subcommand '%.*s'", n, sub);
    }
}

/* PFSELFTEST */
void cmd_pfselftest(struct exec *x)
{
    char err[256];
    /* Redis feeds 10 million elements; a million keeps the sanitizer
     * builds quick and still checks the error at 1 .. 10^6. */
    if (hll_selftest(err, sizeof(err), 1000000))
        reply_ok(x->r);
    else
        reply_error(x->r, err);
}
