/* cmd_keys.c — the generic (keyspace) group: DEL UNLINK EXISTS TYPE TOUCH,
 * the EXPIRE family and TTL/PTTL/EXPIRETIME/PEXPIRETIME/PERSIST, KEYS
 * RANDOMKEY, RENAME RENAMENX COPY MOVE, and OBJECT's subcommands. Every
 * mutation goes through the store (core/store/store.h) with Redis's event name. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "propagate.h" /* AOF rewrites (EXPIRE -> PEXPIREAT) */
#include "config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "lazyfree.h"
#include "store.h"
#include "util.h"

#define E_OUT_OF_INT_RANGE                                                                         \
    "ERR value is out of range, value must between -2147483648 and 2147483647"

/* Redis's OBJ_SHARED_INTEGERS and the refcount of a shared object. */
#define SHARED_INTEGERS 10000
#define SHARED_REFCOUNT 2147483647LL

/* The argv bytes of a typed slot. */
#define SLOT_REF(x, slot) (&(x)->argv[(x)->args[(slot)].pos])

/* A multiple key argument: repetition k. */
#define KEY_AT(x, slot, k) (&(x)->argv[ARG(x, slot)->list[k]])

/* ------------------------------------------------------------------ DEL */

static void del_generic(struct exec *x, int slot, bool lazy)
{
    struct argval *keys = ARG(x, slot);
    long long n = 0;
    int k;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *a = KEY_AT(x, slot, k);
        /* Expire first (it emits "expired"), as Redis's expireIfNeeded. */
        if (!store_lookup_write(x->db, a->p, a->n)) continue;
        if (store_delete_lazy(x->db, a->p, a->n, "del", NOTIFY_GENERIC, lazy)) n++;
    }
    reply_int(x->r, n);
}

/* DEL key [key ...] */
void cmd_del(struct exec *x)
{
    del_generic(x, A_DEL_key, lazyfree_lazy_user_del);
}

/* UNLINK key [key ...] */
void cmd_unlink(struct exec *x)
{
    del_generic(x, A_UNLINK_key, true); /* big values: the lazy-free thread */
}

/* EXISTS key [key ...] */
void cmd_exists(struct exec *x)
{
    struct argval *keys = ARG(x, A_EXISTS_key);
    long long n = 0;
    int k;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *a = KEY_AT(x, A_EXISTS_key, k);
        if (store_lookup_read_notouch(x->db, a->p, a->n)) n++;
    }
    reply_int(x->r, n);
}

/* TYPE key */
void cmd_type(struct exec *x)
{
    struct kv *e = store_lookup_read_notouch(x->db, ARGP(x, A_TYPE_key), ARGN(x, A_TYPE_key));
    reply_status(x->r, e ? obj_type_name(e->type) : "none");
}

/* TOUCH key [key ...] */
void cmd_touch(struct exec *x)
{
    struct argval *keys = ARG(x, A_TOUCH_key);
    long long n = 0;
    int k;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *a = KEY_AT(x, A_TOUCH_key, k);
        if (store_lookup_read(x->db, a->p, a->n)) n++;
    }
    reply_int(x->r, n);
}

/* --------------------------------------------------------------- EXPIRE */

enum { COND_NX = 1, COND_XX = 2, COND_GT = 4, COND_LT = 8 }; /* schema order */

/* The shared body of EXPIRE PEXPIRE EXPIREAT PEXPIREAT, as Redis's
 * expireGenericCommand: options are checked before the number (whose parse
 * error the schema defers to here, keel_deferred_error). */
static void expire_generic(struct exec *x, int s_key, int s_num, int s_cond, long long basetime,
                           bool seconds)
{
    const char *key = ARGP(x, s_key);
    size_t klen = ARGN(x, s_key);
    unsigned cond = HAS(x, s_cond) ? ARG(x, s_cond)->mask : 0;
    long long when, cur;
    struct kv *e;

    if ((cond & COND_NX) && (cond & (COND_XX | COND_GT | COND_LT))) {
        reply_error(x->r, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((cond & COND_GT) && (cond & COND_LT)) {
        reply_error(x->r, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    if (ARG(x, s_num)->err) {
        reply_error(x->r, ARG(x, s_num)->err);
        return;
    }
    when = ARGI(x, s_num);
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_errorf(x->r, "ERR invalid expire time in '%s' command", x->cmd->fullname);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        reply_errorf(x->r, "ERR invalid expire time in '%s' command", x->cmd->fullname);
        return;
    }
    when += basetime;

    e = store_lookup_write(x->db, key, klen);
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    cur = kv_expire(e);
    if (((cond & COND_NX) && cur != -1) || ((cond & COND_XX) && cur == -1) ||
        ((cond & COND_GT) && (when <= cur || cur == -1)) ||
        ((cond & COND_LT) && cur != -1 && when >= cur)) {
        reply_int(x->r, 0);
        return;
    }
    if (when <= util_mstime()) {
        /* Already expired: Redis deletes the key (and replicates a DEL). */
        store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
        propagate_rewritev(x, 2, "DEL", (size_t)3, key, klen); /* AOF (core/persist/propagate.c) */
    } else {
        store_set_expire(x->db, e, when, "expire");
        propagate_as_pexpireat(x, when); /* AOF: PEXPIREAT key ms [options] */
    }
    reply_int(x->r, 1);
}

/* EXPIRE key seconds [NX | XX | GT | LT] */
void cmd_expire(struct exec *x)
{
    expire_generic(x, A_EXPIRE_key, A_EXPIRE_seconds, A_EXPIRE_condition, util_mstime(), true);
}

/* PEXPIRE key milliseconds [NX | XX | GT | LT] */
void cmd_pexpire(struct exec *x)
{
    expire_generic(x, A_PEXPIRE_key, A_PEXPIRE_milliseconds, A_PEXPIRE_condition, util_mstime(),
                   false);
}

/* EXPIREAT key unix-time-seconds [NX | XX | GT | LT] */
void cmd_expireat(struct exec *x)
{
    expire_generic(x, A_EXPIREAT_key, A_EXPIREAT_unix_time_seconds, A_EXPIREAT_condition, 0, true);
}

/* PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] */
void cmd_pexpireat(struct exec *x)
{
    expire_generic(x, A_PEXPIREAT_key, A_PEXPIREAT_unix_time_milliseconds, A_PEXPIREAT_condition, 0,
                   false);
}

/* TTL PTTL EXPIRETIME PEXPIRETIME, as Redis's ttlGenericCommand: -2 for a
 * missing key, -1 without a TTL; seconds are rounded to the nearest. */
static void ttl_generic(struct exec *x, int slot, bool ms, bool abs)
{
    struct kv *e = store_lookup_read_notouch(x->db, ARGP(x, slot), ARGN(x, slot));
    long long when, ttl;
    if (!e) {
        reply_int(x->r, -2);
        return;
    }
    when = kv_expire(e);
    if (when == -1) {
        reply_int(x->r, -1);
        return;
    }
    ttl = abs ? when : when - util_mstime();
    if (ttl < 0) ttl = 0;
    /* (ttl + 500) / 1000 without overflowing near LLONG_MAX */
    reply_int(x->r, ms ? ttl : ttl / 1000 + (ttl % 1000 + 500) / 1000);
}

/* TTL key */
void cmd_ttl(struct exec *x)
{
    ttl_generic(x, A_TTL_key, false, false);
}

/* PTTL key */
void cmd_pttl(struct exec *x)
{
    ttl_generic(x, A_PTTL_key, true, false);
}

/* EXPIRETIME key */
void cmd_expiretime(struct exec *x)
{
    ttl_generic(x, A_EXPIRETIME_key, false, true);
}

/* PEXPIRETIME key */
void cmd_pexpiretime(struct exec *x)
{
    ttl_generic(x, A_PEXPIRETIME_key, true, true);
}

/* PERSIST key */
void cmd_persist(struct exec *x)
{
    struct kv *e = store_lookup_write(x->db, ARGP(x, A_PERSIST_key), ARGN(x, A_PERSIST_key));
    if (!e || !e->has_expire) {
        reply_int(x->r, 0);
        return;
    }
    store_persist(x->db, e, "persist");
    reply_int(x->r, 1);
}

/* ----------------------------------------------------------------- KEYS */

struct keys_ctx {
    const char *pat;
    size_t plen;
    bool all;
    long long n;
    struct reply *r;
};

static void keys_one(void *priv, struct dnode *node)
{
    struct keys_ctx *k = priv;
    struct kv *e = (struct kv *)node;
    if (!k->all && !util_glob(k->pat, k->plen, kv_key(e), e->klen, false)) return;
    if (store_is_expired(e)) return; /* hidden; not deleted while iterating */
    reply_bulk(k->r, kv_key(e), e->klen);
    k->n++;
}

/* KEYS pattern */
void cmd_keys(struct exec *x)
{
    struct keys_ctx k;
    void *h;
    k.pat = ARGP(x, A_KEYS_pattern);
    k.plen = ARGN(x, A_KEYS_pattern);
    k.all = k.plen == 1 && k.pat[0] == '*';
    k.n = 0;
    k.r = x->r;
    h = reply_defer(x->r, AGG_ARRAY);
    dict_foreach(&x->db->keys, keys_one, &k);
    reply_set_deferred(x->r, h, k.n);
}

/* ------------------------------------------------------------ RANDOMKEY */

/* RANDOMKEY */
void cmd_randomkey(struct exec *x)
{
    int tries = 0;
    for (;;) {
        struct kv *e = (struct kv *)dict_random(&x->db->keys);
        if (!e) {
            reply_null(x->r);
            return;
        }
        /* A replica deletes nothing itself: after some tries an expired
         * key is returned all the same, as Redis 7.0 does. */
        if (store_is_expired(e) && !(g_store.replica && ++tries > 100)) {
            char small[256], *k = e->klen <= sizeof(small) ? small : xmalloc(e->klen);
            size_t kn = e->klen;
            memcpy(k, kv_key(e), kn);
            store_lookup_write(x->db, k, kn); /* expires it; try another */
            if (k != small) free(k);
            continue;
        }
        reply_bulk(x->r, kv_key(e), e->klen);
        return;
    }
}

/* ------------------------------------------------------- RENAME / MOVE */

static void rename_generic(struct exec *x, const struct argv_ref *src, const struct argv_ref *dst,
                           bool nx)
{
    bool same = src->n == dst->n && memcmp(src->p, dst->p, src->n) == 0;
    struct kv *e = store_lookup_write(x->db, src->p, src->n);
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return;
    }
    if (same) {
        if (nx)
            reply_int(x->r, 0);
        else
            reply_ok(x->r);
        return;
    }
    if (store_lookup_write(x->db, dst->p, dst->n)) {
        if (nx) {
            reply_int(x->r, 0);
            return;
        }
        /* Overwritten: no event of its own (rename_to covers it), and no
         * change of its own to Redis's dirty counter. */
        long long mark = store_dirty_mark();
        store_delete(x->db, dst->p, dst->n, NULL, 0);
        store_dirty_settle(mark, 0);
    }
    store_rename(x->db, e, dst->p, dst->n, "rename_from", "rename_to");
    if (nx)
        reply_int(x->r, 1);
    else
        reply_ok(x->r);
}

/* RENAME key newkey */
void cmd_rename(struct exec *x)
{
    rename_generic(x, SLOT_REF(x, A_RENAME_key), SLOT_REF(x, A_RENAME_newkey), false);
}

/* RENAMENX key newkey */
void cmd_renamenx(struct exec *x)
{
    rename_generic(x, SLOT_REF(x, A_RENAMENX_key), SLOT_REF(x, A_RENAMENX_newkey), true);
}

/* Resolve a database index as Redis's getIntFromObjectOrReply + selectDb. */
static struct db *db_arg(struct exec *x, long long id)
{
    struct db *db;
    if (id < INT_MIN || id > INT_MAX) {
        reply_error(x->r, E_OUT_OF_INT_RANGE);
        return NULL;
    }
    db = store_db((int)id);
    if (!db) reply_err(x->r, E_DB_INDEX);
    return db;
}

/* MOVE key db */
void cmd_move(struct exec *x)
{
    const char *key = ARGP(x, A_MOVE_key);
    size_t klen = ARGN(x, A_MOVE_key);
    struct db *dst = db_arg(x, ARGI(x, A_MOVE_db));
    struct kv *e;
    if (!dst) return;
    if (dst == x->db) {
        reply_err(x->r, E_SAME_OBJECT);
        return;
    }
    e = store_lookup_write(x->db, key, klen);
    if (!e || store_lookup_write(dst, key, klen)) {
        reply_int(x->r, 0);
        return;
    }
    store_move(x->db, e, dst, "move_from", "move_to");
    reply_int(x->r, 1);
}

/* A deep copy of e's value under key, with the encoding Redis's COPY gives
 * (dupStringObject keeps raw/embstr/int, a raw copy with sdsnewlen's room;
 * the other types their own dup). */
static struct kv *copy_value(struct kv *e, const char *key, size_t klen)
{
    if (e->type == OBJ_STRING && e->enc == ENC_RAW) {
        struct strview sv;
        kv_string_view(e, &sv);
        return kv_new_ptr(key, klen, OBJ_STRING, ENC_RAW, rstr_new(sv.p, sv.n, rstr_new_cap(sv.n)));
    }
    return kv_dup(e, key, klen);
}

/* keel_check copy_db (schemas/commands/copy.json): Redis's COPY selects
 * the DB as its option loop meets it, so an index out of range is the
 * error even when a later word is a syntax error. */
const char *keel_check_copy_db(const struct argv_ref *w, struct argval *v,
                               const struct argval *prev)
{
    (void)w;
    (void)prev;
    return store_db((int)v->i) ? NULL : err_table[E_DB_INDEX].text;
}

/* COPY source destination [DB destination-db] [REPLACE] */
void cmd_copy(struct exec *x)
{
    const char *src = ARGP(x, A_COPY_source), *dstk = ARGP(x, A_COPY_destination);
    size_t slen = ARGN(x, A_COPY_source), dlen = ARGN(x, A_COPY_destination);
    struct db *dst = x->db;
    struct kv *e, *n;
    long long when, mark;

    if (HAS(x, A_COPY_destination_db)) {
        dst = db_arg(x, ARGI(x, A_COPY_destination_db));
        if (!dst) return;
    }
    if (dst == x->db && slen == dlen && memcmp(src, dstk, slen) == 0) {
        reply_err(x->r, E_SAME_OBJECT);
        return;
    }
    e = store_lookup_read(x->db, src, slen);
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    when = kv_expire(e);
    if (store_lookup_write(dst, dstk, dlen)) {
        if (!HAS(x, A_COPY_replace)) {
            reply_int(x->r, 0);
            return;
        }
        mark = store_dirty_mark();
        store_delete(dst, dstk, dlen, NULL, 0);
        store_dirty_settle(mark, 0); /* Redis: the replace and the copy are one change */
    }
    n = copy_value(e, dstk, dlen);
    store_add_expire(dst, n, when, "copy_to", NOTIFY_GENERIC);
    reply_int(x->r, 1);
}

/* --------------------------------------------------------------- OBJECT */

static bool policy_has(const char *what)
{
    const struct config_entry *ce = config_find("maxmemory-policy", 16);
    if (!ce || !ce->enum_names) return false;
    return strstr(ce->enum_names[g_config.maxmemory_policy], what) != NULL;
}

/* OBJECT ENCODING key */
void cmd_object_encoding(struct exec *x)
{
    struct kv *e = store_lookup_read_quiet(x->db, ARGP(x, A_OBJECT_ENCODING_key),
                                           ARGN(x, A_OBJECT_ENCODING_key));
    if (!e)
        reply_null(x->r);
    else
        reply_cstr(x->r, obj_enc_name(e->enc));
}

/* OBJECT FREQ key */
void cmd_object_freq(struct exec *x)
{
    struct kv *e =
        store_lookup_read_quiet(x->db, ARGP(x, A_OBJECT_FREQ_key), ARGN(x, A_OBJECT_FREQ_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (!policy_has("lfu")) {
        reply_error(x->r, "ERR An LFU maxmemory policy is not selected, access frequency not "
                          "tracked. Please note that when switching between policies at runtime "
                          "LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(x->r, (long long)lru_freq(e));
}

/* OBJECT IDLETIME key */
void cmd_object_idletime(struct exec *x)
{
    struct kv *e = store_lookup_read_quiet(x->db, ARGP(x, A_OBJECT_IDLETIME_key),
                                           ARGN(x, A_OBJECT_IDLETIME_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (policy_has("lfu")) {
        reply_error(x->r, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                          "note that when switching between policies at runtime LRU and LFU data "
                          "will take some time to adjust.");
        return;
    }
    reply_int(x->r, (long long)(store_idle_ms(e) / 1000));
}

/* OBJECT REFCOUNT key */
void cmd_object_refcount(struct exec *x)
{
    struct kv *e = store_lookup_read_quiet(x->db, ARGP(x, A_OBJECT_REFCOUNT_key),
                                           ARGN(x, A_OBJECT_REFCOUNT_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    /* Redis 7.0 shares the integers 0..9999 unless maxmemory is set with an
     * LRU/LFU policy (MAXMEMORY_FLAG_NO_SHARED_INTEGERS). */
    if (e->type == OBJ_STRING && e->enc == ENC_INT && e->v.i >= 0 && e->v.i < SHARED_INTEGERS &&
        (g_config.maxmemory == 0 || !(policy_has("lru") || policy_has("lfu"))))
        reply_int(x->r, SHARED_REFCOUNT);
    else
        reply_int(x->r, 1);
}

/* OBJECT HELP */
void cmd_object_help(struct exec *x)
{
    static const char *const help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    reply_help(x->r, "OBJECT", help);
}
