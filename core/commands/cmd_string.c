/* cmd_string.c — the string group: GET SET SETNX SETEX PSETEX MGET MSET MSETNX
 * GETSET GETDEL GETEX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT
 * GETRANGE SETRANGE SUBSTR LCS, with Redis 7.0's replies, errors, encodings
 * (OBJECT ENCODING), TTL rules and keyspace-event names. Values are
 * `struct kv` strings (core/store/object.h); every mutation goes through the store. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "propagate.h" /* AOF rewrites of relative/non-deterministic commands */
#include "config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "util.h"

/* Redis's MAX_LONG_DOUBLE_CHARS: room for any long double in %.17Lf. */
#define LD_CHARS (5 * 1024)

/* Reply with e's string value. */
static void reply_string(struct reply *r, struct kv *e)
{
    struct strview sv;
    kv_string_view(e, &sv);
    reply_bulk(r, sv.p, sv.n);
}

/* True (and WRONGTYPE sent) when e exists and is not a string. */
static bool wrong_type(struct exec *x, struct kv *e)
{
    if (e && e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return true;
    }
    return false;
}

/* Redis's checkStringLength: a string of size + append bytes must fit
 * proto-max-bulk-len (and our 32-bit string lengths). */
static bool string_fits(struct exec *x, unsigned long long size, unsigned long long append)
{
    unsigned long long total = size + append;
    unsigned long long max = (unsigned long long)g_config.proto_max_bulk_len;
    /* struct rstr holds 32-bit lengths and grows by up to 1 MB of slack. */
    const unsigned long long hard = UINT32_MAX - (2u << 20);
    if (max > hard) max = hard;
    if (total > max || total < size) {
        reply_err(x->r, E_STRING_TOO_LONG);
        return false;
    }
    return true;
}

/* An expire argument to an absolute unix-ms time, as Redis's
 * getExpireMillisecondsOrReply: v must be > 0, seconds are scaled without
 * overflow, relative times are added to now without overflow. */
static bool expire_at(struct exec *x, long long v, bool secs, bool relative, long long *when)
{
    if (v <= 0 || (secs && v > LLONG_MAX / 1000)) goto bad;
    if (secs) v *= 1000;
    if (relative) {
        long long now = util_mstime();
        if (v > LLONG_MAX - now) goto bad;
        v += now;
    }
    *when = v;
    return true;
bad:
    reply_errorf(x->r, "ERR invalid expire time in '%s' command", x->cmd->fullname);
    return false;
}

/* Replace old (a live string entry) with nw and keep old's TTL exactly,
 * even if it falls due meanwhile (Redis's dbReplaceValue). Returns nw. */
static struct kv *replace_keep_ttl(struct db *db, struct kv *old, struct kv *nw, const char *ev)
{
    long long when = kv_expire(old);
    nw = store_set(db, nw, false, ev, NOTIFY_STRING);
    if (when != -1) nw = store_set_expire(db, nw, when, NULL);
    return nw;
}

/* The expire of a SET EX / SETEX / PSETEX: its "expire" event, but the set
 * and the expire are one change to Redis's dirty counter. */
static void set_expire_too(struct db *db, struct kv *e, long long when)
{
    long long mark = store_dirty_mark();
    store_set_expire(db, e, when, "expire");
    store_dirty_settle(mark, 0);
}

/* The common tail of SET / SETNX / SETEX / PSETEX / GETSET: store value under
 * key (as Redis's tryObjectEncoding would), dropping or keeping the TTL, then
 * apply an absolute expire time when != -1. */
static void set_value(struct exec *x, const char *key, size_t klen, const char *val, size_t vlen,
                      bool keepttl, long long when)
{
    struct kv *e = kv_new_string(key, klen, val, vlen, true);
    struct kv *old = keepttl ? store_peek(x->db, key, klen) : NULL;
    if (old)
        e = replace_keep_ttl(x->db, old, e, "set");
    else
        e = store_set(x->db, e, false, "set", NOTIFY_STRING);
    if (when != -1) set_expire_too(x->db, e, when);
}

/* set_value without KEEPTTL for MSET, SETEX and PSETEX: the key is looked
 * up for writing first, as Redis's setKey (an expired key is deleted,
 * notified and propagated as DEL before it is set), and that one search
 * serves the set too. */
static void set_value_looked_up(struct exec *x, const char *key, size_t klen, const char *val,
                                size_t vlen, long long when)
{
    uint64_t h;
    struct kv *old = store_lookup_write_h(x->db, key, klen, &h);
    struct kv *e = store_set_known(x->db, old, kv_new_string(key, klen, val, vlen, true), h, "set",
                                   NOTIFY_STRING);
    if (when != -1) set_expire_too(x->db, e, when);
}

/* GET's reply for SET ... GET, GETSET, GETDEL: false on WRONGTYPE. */
static bool get_generic(struct exec *x, const char *key, size_t klen, struct kv **out)
{
    struct kv *e = store_lookup_read(x->db, key, klen);
    *out = e;
    if (!e) {
        reply_null(x->r);
        return true;
    }
    if (wrong_type(x, e)) return false;
    reply_string(x->r, e);
    return true;
}

/* GET key */
void cmd_get(struct exec *x)
{
    struct kv *e;
    get_generic(x, ARGP(x, A_GET_key), ARGN(x, A_GET_key), &e);
}

/* SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
 *     EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
void cmd_set(struct exec *x)
{
    const char *key = ARGP(x, A_SET_key), *val = ARGP(x, A_SET_value);
    size_t klen = ARGN(x, A_SET_key), vlen = ARGN(x, A_SET_value);
    bool nx = HAS(x, A_SET_condition) && ARG(x, A_SET_condition)->choice == 0;
    bool xx = HAS(x, A_SET_condition) && ARG(x, A_SET_condition)->choice == 1;
    bool get = HAS(x, A_SET_get);
    struct argval *exp = ARG(x, A_SET_expiration);
    bool keepttl = exp->present && exp->choice == 4;
    long long when = -1;
    uint64_t h;
    struct kv *old;

    if (exp->present && !keepttl) {
        static const int slots[] = {A_SET_expiration_seconds, A_SET_expiration_milliseconds,
                                    A_SET_expiration_unix_time_seconds,
                                    A_SET_expiration_unix_time_milliseconds};
        int ch = exp->choice;
        if (!expire_at(x, ARGI(x, slots[ch]), ch == 0 || ch == 2, ch <= 1, &when)) return;
    }
    if (get && !get_generic(x, key, klen, &old)) return;
    old = store_lookup_write_h(x->db, key, klen, &h);
    if ((nx && old) || (xx && !old)) {
        if (!get) reply_null(x->r);
        return;
    }
    if (keepttl) {
        set_value(x, key, klen, val, vlen, true, when);
    } else {
        /* The hot path: the key was just looked up, no second search. */
        struct kv *e = store_set_known(x->db, old, kv_new_string(key, klen, val, vlen, true), h,
                                       "set", NOTIFY_STRING);
        if (when != -1) set_expire_too(x->db, e, when);
    }
    if (!get) reply_ok(x->r);
    /* AOF (core/persist/propagate.c): as Redis 7.0, SET ... PXAT, and without GET. */
    if (propagating()) {
        if (when != -1) { /* (PXAT too: its other options dropped) */
            propagate_set_pxat(x, key, klen, val, vlen, when);
        } else if (get && when == -1) {
            /* every GET dropped (keel_keep_all lists them) */
            const struct argval *g = ARG(x, A_SET_get);
            struct argv_ref v[16];
            int j, k, n = 0;
            for (j = 0; j < x->argc && n < 16; j++) {
                for (k = 0; k < g->count && g->list[k] != j; k++)
                    ;
                if (k == g->count) v[n++] = x->argv[j];
            }
            propagate_rewrite(x, n, v);
        }
    }
}

/* SETNX key value */
void cmd_setnx(struct exec *x)
{
    const char *key = ARGP(x, A_SETNX_key);
    size_t klen = ARGN(x, A_SETNX_key);
    if (store_lookup_write(x->db, key, klen)) {
        reply_int(x->r, 0);
        return;
    }
    set_value(x, key, klen, ARGP(x, A_SETNX_value), ARGN(x, A_SETNX_value), false, -1);
    reply_int(x->r, 1);
}

/* SETEX key seconds value */
void cmd_setex(struct exec *x)
{
    long long when;
    if (!expire_at(x, ARGI(x, A_SETEX_seconds), true, true, &when)) return;
    set_value_looked_up(x, ARGP(x, A_SETEX_key), ARGN(x, A_SETEX_key), ARGP(x, A_SETEX_value),
                        ARGN(x, A_SETEX_value), when);
    reply_ok(x->r);
    propagate_set_pxat(x, ARGP(x, A_SETEX_key), ARGN(x, A_SETEX_key), ARGP(x, A_SETEX_value),
                       ARGN(x, A_SETEX_value), when); /* AOF: SET key value PXAT ms */
}

/* PSETEX key milliseconds value */
void cmd_psetex(struct exec *x)
{
    long long when;
    if (!expire_at(x, ARGI(x, A_PSETEX_milliseconds), false, true, &when)) return;
    set_value_looked_up(x, ARGP(x, A_PSETEX_key), ARGN(x, A_PSETEX_key), ARGP(x, A_PSETEX_value),
                        ARGN(x, A_PSETEX_value), when);
    reply_ok(x->r);
    propagate_set_pxat(x, ARGP(x, A_PSETEX_key), ARGN(x, A_PSETEX_key), ARGP(x, A_PSETEX_value),
                       ARGN(x, A_PSETEX_value), when); /* AOF: SET key value PXAT ms */
}

/* GETSET key value */
void cmd_getset(struct exec *x)
{
    const char *key = ARGP(x, A_GETSET_key);
    size_t klen = ARGN(x, A_GETSET_key);
    struct kv *old;
    if (!get_generic(x, key, klen, &old)) return;
    set_value(x, key, klen, ARGP(x, A_GETSET_value), ARGN(x, A_GETSET_value), false, -1);
    propagate_rewritev(x, 3, "SET", (size_t)3, key, klen, ARGP(x, A_GETSET_value),
                       ARGN(x, A_GETSET_value)); /* AOF: as Redis 7.0, SET key value */
}

/* GETDEL key */
void cmd_getdel(struct exec *x)
{
    const char *key = ARGP(x, A_GETDEL_key);
    size_t klen = ARGN(x, A_GETDEL_key);
    struct kv *e;
    if (!get_generic(x, key, klen, &e) || !e) return;
    store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
    propagate_rewritev(x, 2, "DEL", (size_t)3, key, klen); /* AOF: DEL key */
}

/* GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
 *     PXAT unix-time-milliseconds | PERSIST] */
void cmd_getex(struct exec *x)
{
    static const int slots[] = {A_GETEX_expiration_seconds, A_GETEX_expiration_milliseconds,
                                A_GETEX_expiration_unix_time_seconds,
                                A_GETEX_expiration_unix_time_milliseconds};
    const char *key = ARGP(x, A_GETEX_key);
    size_t klen = ARGN(x, A_GETEX_key);
    struct argval *opt = ARG(x, A_GETEX_expiration);
    int ch = opt->present ? opt->choice : -1;
    long long when = -1;
    struct kv *e = store_lookup_read(x->db, key, klen);

    if (!e) {
        reply_null(x->r);
        return;
    }
    if (wrong_type(x, e)) return;
    if (ch >= 0 && ch <= 3 && !arg_ok(x, slots[ch])) return;
    if (ch >= 0 && ch <= 3 && !expire_at(x, ARGI(x, slots[ch]), ch == 0 || ch == 2, ch <= 1, &when))
        return;
    reply_string(x->r, e);
    if ((ch == 2 || ch == 3) && when <= util_mstime()) {
        /* An absolute time already past deletes the key. */
        store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
        propagate_rewritev(x, 2, "DEL", (size_t)3, key, klen); /* AOF: as Redis 7.0 */
    } else if (when != -1) {
        store_set_expire(x->db, e, when, "expire");
        propagate_pexpireat(x, key, klen, when);
    } else if (ch == 4 && e->has_expire) {
        store_persist(x->db, e, "persist");
        propagate_rewritev(x, 2, "PERSIST", (size_t)7, key, klen);
    }
}

/* MGET key [key ...] */
void cmd_mget(struct exec *x)
{
    struct argval *keys = ARG(x, A_MGET_key);
    int k;
    reply_array(x->r, keys->count);
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *a = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_read(x->db, a->p, a->n);
        if (!e || e->type != OBJ_STRING)
            reply_null(x->r);
        else
            reply_string(x->r, e);
    }
}

/* MSET and MSETNX: pairs from the key_value block (width 2). */
static void mset_generic(struct exec *x, int slot, bool nx)
{
    struct argval *kv = ARG(x, slot);
    int k;
    if (nx) {
        for (k = 0; k < kv->count; k++) {
            const struct argv_ref *a = &x->argv[kv->list[k]];
            if (store_lookup_write(x->db, a->p, a->n)) {
                reply_int(x->r, 0);
                return;
            }
        }
    }
    for (k = 0; k < kv->count; k++) {
        const struct argv_ref *a = &x->argv[kv->list[k]];
        if (nx) /* (every key was looked up above) */
            set_value(x, a->p, a->n, a[1].p, a[1].n, false, -1);
        else
            set_value_looked_up(x, a->p, a->n, a[1].p, a[1].n, -1);
    }
    if (nx)
        reply_int(x->r, 1);
    else
        reply_ok(x->r);
}

/* MSET key value [key value ...] */
void cmd_mset(struct exec *x)
{
    mset_generic(x, A_MSET_key_value, false);
}

/* MSETNX key value [key value ...] */
void cmd_msetnx(struct exec *x)
{
    mset_generic(x, A_MSETNX_key_value, true);
}

/* APPEND key value */
void cmd_append(struct exec *x)
{
    const char *key = ARGP(x, A_APPEND_key), *val = ARGP(x, A_APPEND_value);
    size_t klen = ARGN(x, A_APPEND_key), vlen = ARGN(x, A_APPEND_value);
    struct kv *e = store_lookup_write(x->db, key, klen);
    struct rstr *s;
    size_t olen;

    if (!e) {
        /* A new key holds the value as SET would store it (int, embstr, raw). */
        store_add(x->db, kv_new_string(key, klen, val, vlen, true), "append", NOTIFY_STRING);
        reply_int(x->r, (long long)vlen);
        return;
    }
    if (wrong_type(x, e)) return;
    olen = kv_string_len(e);
    if (!string_fits(x, olen, vlen)) return;
    /* Redis unshares the value even for an empty append: it becomes raw. */
    s = store_string_unshare(e, olen + vlen);
    if (vlen) memcpy(s->buf + s->len, val, vlen);
    s->len = (uint32_t)(olen + vlen);
    store_modified(x->db, e, "append", NOTIFY_STRING);
    reply_int(x->r, (long long)s->len);
}

/* STRLEN key */
void cmd_strlen(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_STRLEN_key), ARGN(x, A_STRLEN_key));
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (wrong_type(x, e)) return;
    reply_int(x->r, (long long)kv_string_len(e));
}

/* INCR / DECR / INCRBY / DECRBY on key by incr. */
static void incr_decr(struct exec *x, const char *key, size_t klen, long long incr)
{
    struct kv *e = store_lookup_write(x->db, key, klen);
    long long v = 0;

    if (wrong_type(x, e)) return;
    if (e) {
        if (e->enc == ENC_INT) {
            v = e->v.i;
        } else {
            struct strview sv;
            kv_string_view(e, &sv);
            if (!util_str2ll(sv.p, sv.n, &v)) {
                reply_err(x->r, E_NOT_INT);
                return;
            }
        }
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) ||
        (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        reply_err(x->r, E_OVERFLOW);
        return;
    }
    v += incr;
    /* The result is always int-encoded, as Redis's. */
    if (e && e->enc == ENC_INT) {
        e->v.i = v;
        store_modified(x->db, e, "incrby", NOTIFY_STRING);
    } else if (e) {
        replace_keep_ttl(x->db, e, kv_new_int(key, klen, v), "incrby");
    } else {
        store_add(x->db, kv_new_int(key, klen, v), "incrby", NOTIFY_STRING);
    }
    reply_int(x->r, v);
}

/* INCR key */
void cmd_incr(struct exec *x)
{
    incr_decr(x, ARGP(x, A_INCR_key), ARGN(x, A_INCR_key), 1);
}

/* DECR key */
void cmd_decr(struct exec *x)
{
    incr_decr(x, ARGP(x, A_DECR_key), ARGN(x, A_DECR_key), -1);
}

/* INCRBY key increment */
void cmd_incrby(struct exec *x)
{
    incr_decr(x, ARGP(x, A_INCRBY_key), ARGN(x, A_INCRBY_key), ARGI(x, A_INCRBY_increment));
}

/* DECRBY key decrement */
void cmd_decrby(struct exec *x)
{
    long long d = ARGI(x, A_DECRBY_decrement);
    if (d == LLONG_MIN) {
        reply_error(x->r, "ERR decrement would overflow");
        return;
    }
    incr_decr(x, ARGP(x, A_DECRBY_key), ARGN(x, A_DECRBY_key), -d);
}

/* INCRBYFLOAT key increment */
void cmd_incrbyfloat(struct exec *x)
{
    const char *key = ARGP(x, A_INCRBYFLOAT_key);
    size_t klen = ARGN(x, A_INCRBYFLOAT_key);
    struct kv *e = store_lookup_write(x->db, key, klen), *n;
    long double v = 0, incr;
    char buf[LD_CHARS];
    int len;

    if (wrong_type(x, e)) return;
    if (e) {
        if (e->enc == ENC_INT) {
            v = (long double)e->v.i;
        } else {
            struct strview sv;
            kv_string_view(e, &sv);
            if (!util_str2ld(sv.p, sv.n, &v)) {
                reply_err(x->r, E_NOT_FLOAT);
                return;
            }
        }
    }
    /* The increment is declared keel_long_double (10.5 + 0.1 must be 10.6)
     * and keel_deferred_error (a bad one is reported after the type check). */
    if (!arg_ok(x, A_INCRBYFLOAT_increment)) return;
    incr = ARGLD(x, A_INCRBYFLOAT_increment);
    v += incr;
    if (isnan(v) || isinf(v)) {
        reply_error(x->r, "ERR increment would produce NaN or Infinity");
        return;
    }
    len = util_ld2str(buf, sizeof(buf), v);
    /* Redis stores the formatted text as a plain string: embstr or raw, never int. */
    n = kv_new_string(key, klen, buf, (size_t)len, false);
    if (e)
        n = replace_keep_ttl(x->db, e, n, "incrbyfloat");
    else
        store_add(x->db, n, "incrbyfloat", NOTIFY_STRING);
    reply_bulk(x->r, buf, (size_t)len);
    /* AOF: the result, not the increment (float formatting may differ). */
    propagate_rewritev(x, 4, "SET", (size_t)3, key, klen, buf, (size_t)len, "KEEPTTL", (size_t)7);
}

/* GETRANGE / SUBSTR: Redis 7.0's index arithmetic, quirks included. */
static void getrange_generic(struct exec *x, const char *key, size_t klen, long long start,
                             long long end)
{
    struct kv *e = store_lookup_read(x->db, key, klen);
    struct strview sv;
    long long len;

    if (!e) {
        reply_bulk(x->r, "", 0);
        return;
    }
    if (wrong_type(x, e)) return;
    kv_string_view(e, &sv);
    len = (long long)sv.n;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(x->r, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if ((unsigned long long)end >= (unsigned long long)len) end = len - 1;
    if (start > end || len == 0)
        reply_bulk(x->r, "", 0);
    else
        reply_bulk(x->r, sv.p + start, (size_t)(end - start + 1));
}

/* GETRANGE key start end */
void cmd_getrange(struct exec *x)
{
    getrange_generic(x, ARGP(x, A_GETRANGE_key), ARGN(x, A_GETRANGE_key), ARGI(x, A_GETRANGE_start),
                     ARGI(x, A_GETRANGE_end));
}

/* SUBSTR key start end */
void cmd_substr(struct exec *x)
{
    getrange_generic(x, ARGP(x, A_SUBSTR_key), ARGN(x, A_SUBSTR_key), ARGI(x, A_SUBSTR_start),
                     ARGI(x, A_SUBSTR_end));
}

/* SETRANGE key offset value */
void cmd_setrange(struct exec *x)
{
    const char *key = ARGP(x, A_SETRANGE_key), *val = ARGP(x, A_SETRANGE_value);
    size_t klen = ARGN(x, A_SETRANGE_key), vlen = ARGN(x, A_SETRANGE_value);
    long long off = ARGI(x, A_SETRANGE_offset);
    struct kv *e;
    struct rstr *s;
    size_t olen, need;
    bool created = false;

    if (off < 0) {
        reply_err(x->r, E_OFFSET_RANGE);
        return;
    }
    e = store_lookup_write(x->db, key, klen);
    if (!e) {
        if (vlen == 0) {
            reply_int(x->r, 0);
            return;
        }
        if (!string_fits(x, (unsigned long long)off, vlen)) return;
        /* Redis creates a raw string here, whatever its length, of exactly
         * the length written, with sdsnewlen's room (MEMORY USAGE sees the
         * same size; an APPEND may fill the room without growing). */
        s = rstr_new("", 0, rstr_new_cap((size_t)off + vlen));
        e = kv_new_ptr(key, klen, OBJ_STRING, ENC_RAW, s);
        olen = 0;
        created = true;
    } else {
        if (wrong_type(x, e)) return;
        olen = kv_string_len(e);
        if (vlen == 0) {
            reply_int(x->r, (long long)olen);
            return;
        }
        if (!string_fits(x, (unsigned long long)off, vlen)) return;
        s = store_string_unshare(e, (size_t)off + vlen);
    }
    need = (size_t)off + vlen;
    if (need > olen) {
        memset(s->buf + olen, 0, need - olen);
        s->len = (uint32_t)need;
    }
    if (vlen <= UINT32_MAX) memcpy(s->buf + (size_t)off, val, vlen); /* (string_fits: always) */
    if (created)
        store_add(x->db, e, "setrange", NOTIFY_STRING);
    else
        store_modified(x->db, e, "setrange", NOTIFY_STRING);
    reply_int(x->r, (long long)s->len);
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN] */
void cmd_lcs(struct exec *x)
{
    struct kv *ea = store_lookup_read(x->db, ARGP(x, A_LCS_key1), ARGN(x, A_LCS_key1));
    struct kv *eb = store_lookup_read(x->db, ARGP(x, A_LCS_key2), ARGN(x, A_LCS_key2));
    bool getlen = HAS(x, A_LCS_len), getidx = HAS(x, A_LCS_idx);
    bool withmatchlen = HAS(x, A_LCS_withmatchlen);
    long long minmatchlen = HAS(x, A_LCS_len_minmatchlen) ? ARGI(x, A_LCS_len_minmatchlen) : 0;
    struct strview sva, svb;
    const char *a, *b;
    uint32_t alen, blen, i, j, idx, arange_start, arange_end = 0, brange_start = 0, brange_end = 0;
    unsigned long long cells;
    uint32_t *lcs;
    char *result = NULL;
    void *arr = NULL;
    long long nranges = 0;

    if ((ea && ea->type != OBJ_STRING) || (eb && eb->type != OBJ_STRING)) {
        reply_error(x->r, "ERR The specified keys must contain string values");
        return;
    }
    /* Redis parses the options after the keys' type check (keel_deferred_from). */
    if (!arg_ok(x, A_LCS_deferred)) return;
    if (minmatchlen < 0) minmatchlen = 0;
    if (getlen && getidx) {
        reply_error(x->r, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (ea)
        kv_string_view(ea, &sva);
    else
        sva.p = "", sva.n = 0;
    if (eb)
        kv_string_view(eb, &svb);
    else
        svb.p = "", svb.n = 0;
    if (sva.n >= UINT32_MAX - 1 || svb.n >= UINT32_MAX - 1) {
        reply_error(x->r, "ERR String too long for LCS");
        return;
    }
    a = sva.p;
    b = svb.p;
    alen = (uint32_t)sva.n;
    blen = (uint32_t)svb.n;
    cells = (unsigned long long)(alen + 1ULL) * (blen + 1ULL);
    if (cells > SIZE_MAX / sizeof(uint32_t) ||
        cells * sizeof(uint32_t) > (unsigned long long)g_config.proto_max_bulk_len) {
        reply_error(x->r,
                    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    lcs = malloc((size_t)cells * sizeof(uint32_t));
    if (!lcs) {
        reply_error(x->r, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
#define LCS(A, B) lcs[(size_t)(B) + (size_t)(A) * (blen + 1)]
    for (i = 0; i <= alen; i++) {
        for (j = 0; j <= blen; j++) {
            if (i == 0 || j == 0)
                LCS(i, j) = 0;
            else if (a[i - 1] == b[j - 1])
                LCS(i, j) = LCS(i - 1, j - 1) + 1;
            else
                LCS(i, j) = LCS(i - 1, j) > LCS(i, j - 1) ? LCS(i - 1, j) : LCS(i, j - 1);
        }
    }

    /* Walk back from the end, collecting the LCS string and the matching
     * ranges, exactly in Redis's order. */
    idx = LCS(alen, blen);
    arange_start = alen; /* alen: no range open */
    if (getidx || !getlen) result = xmalloc(idx + 1);
    if (getidx) {
        reply_map(x->r, 2);
        reply_cstr(x->r, "matches");
        arr = reply_defer(x->r, AGG_ARRAY);
    }
    i = alen;
    j = blen;
    while (result && i > 0 && j > 0) {
        bool emit = false;
        uint32_t match_len;
        if (a[i - 1] == b[j - 1]) {
            result[idx - 1] = a[i - 1];
            if (arange_start == alen) {
                arange_start = arange_end = i - 1;
                brange_start = brange_end = j - 1;
            } else if (arange_start == i && brange_start == j) {
                arange_start--;
                brange_start--;
            } else {
                emit = true;
            }
            if (arange_start == 0 || brange_start == 0) emit = true;
            idx--;
            i--;
            j--;
        } else {
            if (LCS(i - 1, j) > LCS(i, j - 1))
                i--;
            else
                j--;
            if (arange_start != alen) emit = true;
        }
        match_len = arange_end - arange_start + 1;
        if (emit) {
            if ((minmatchlen == 0 || match_len >= minmatchlen) && getidx) {
                reply_array(x->r, 2 + withmatchlen);
                reply_array(x->r, 2);
                reply_int(x->r, arange_start);
                reply_int(x->r, arange_end);
                reply_array(x->r, 2);
                reply_int(x->r, brange_start);
                reply_int(x->r, brange_end);
                if (withmatchlen) reply_int(x->r, match_len);
                nranges++;
            }
            arange_start = alen;
        }
    }
    if (getidx) {
        reply_cstr(x->r, "len");
        reply_int(x->r, LCS(alen, blen));
        reply_set_deferred(x->r, arr, nranges);
    } else if (getlen) {
        reply_int(x->r, LCS(alen, blen));
    } else {
        reply_bulk(x->r, result, LCS(alen, blen));
    }
#undef LCS
    free(result);
    free(lcs);
}
