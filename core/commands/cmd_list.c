/* cmd_list.c — the list group: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN
 * LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS RPOPLPUSH LMOVE LMPOP, with
 * Redis 7.0's replies (nil shapes per protocol), errors and keyspace events
 * (lpush rpush lpop rpop lset linsert lrem ltrim, then "del" when a command
 * empties a list). Values are quicklists (core/types/t_list.h), created with the
 * list-max-listpack-size and list-compress-depth in force at the time. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "propagate.h" /* AOF rewrites of blocking pops and LMPOP */
#include "config.h"
#include "commands_gen.h"
#include "blocking.h"
#include "kernel.h"
#include "store.h"
#include "t_list.h"
#include "util.h"

/* Redis's LIST_MAX_ITEM_SIZE: elements must fit a listpack entry. */
#define LIST_MAX_ITEM_SIZE ((1ULL << 32) - 1024)

static inline struct quicklist *QL(struct kv *e)
{
    return e->v.ptr;
}

/* True (and WRONGTYPE sent) when e exists and is not a list. */
static bool not_list(struct exec *x, struct kv *e)
{
    if (e && e->type != OBJ_LIST) {
        reply_err(x->r, E_WRONGTYPE);
        return true;
    }
    return false;
}

static bool too_large(struct exec *x, size_t n)
{
    if (n > LIST_MAX_ITEM_SIZE) {
        reply_error(x->r, "ERR Element too large");
        return true;
    }
    return false;
}

static struct kv *list_new(const char *key, size_t klen)
{
    return kv_new_ptr(key, klen, OBJ_LIST, ENC_QUICKLIST,
                      ql_new(g_config.list_max_listpack_size, g_config.list_compress_depth));
}

static const char *push_event(enum ql_where w)
{
    return w == QL_HEAD ? "lpush" : "rpush";
}
static const char *pop_event(enum ql_where w)
{
    return w == QL_HEAD ? "lpop" : "rpop";
}

/* The tail of every command that removed elements: its event, then the
 * key's deletion when the list is empty (Redis's listElementsRemoved).
 * Redis counts n changes (the elements removed; one for a pop), the
 * deletion none. */
static void elements_removed(struct exec *x, struct kv *e, const char *ev, long long n)
{
    long long mark = store_dirty_mark();
    store_modified(x->db, e, ev, NOTIFY_LIST);
    if (ql_count(QL(e)) == 0) store_delete(x->db, kv_key(e), e->klen, "del", NOTIFY_GENERIC);
    store_dirty_settle(mark, n);
}

/* A blocked BLPOP / BRPOP / BLMOVE / BRPOPLPUSH being served: Redis 7.0
 * counts its pop as no change to the dirty counter but propagates it. */
static bool served_blocked(struct exec *x)
{
    if (!blocking_is_retry(x)) return false;
    propagate_force(x);
    return true;
}

static inline void reply_val(struct exec *x, const struct ql_val *v)
{
    reply_bulk(x->r, v->p, v->n);
}

/* Redis's addListRangeReply: start/end as LRANGE takes them; reverse walks
 * from end to start (RPOP with a count). */
static void reply_range(struct exec *x, struct quicklist *ql, long long start, long long end,
                        bool reverse)
{
    long long llen = (long long)ql_count(ql), n;
    struct ql_iter it;
    struct ql_val v;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        reply_array(x->r, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    n = end - start + 1;
    reply_array(x->r, n);
    ql_iter_init(&it, ql, reverse ? end : start, reverse ? QL_HEAD : QL_TAIL);
    while (n-- > 0 && ql_iter_next(&it, &v))
        reply_val(x, &v);
    ql_iter_release(&it);
}

/* Pop up to count elements from one end of e's list, replying with them as
 * an array (in pop order), then the events. */
static void pop_range(struct exec *x, struct kv *e, enum ql_where where, long long count)
{
    struct quicklist *ql = QL(e);
    long long llen = (long long)ql_count(ql);
    long long n = count > llen ? llen : count;
    if (where == QL_HEAD) {
        reply_range(x, ql, 0, n - 1, false);
        ql_del_range(ql, 0, (unsigned long)n);
    } else {
        reply_range(x, ql, -n, -1, true);
        ql_del_range(ql, -n, (unsigned long)n);
    }
    elements_removed(x, e, pop_event(where), n);
}

/* LPUSH / RPUSH / LPUSHX / RPUSHX */
static void push_generic(struct exec *x, int keyslot, int elslot, enum ql_where where, bool xx)
{
    const char *key = ARGP(x, keyslot);
    size_t klen = ARGN(x, keyslot);
    const struct argval *el = ARG(x, elslot);
    struct quicklist *ql;
    struct kv *e;
    bool created = false;
    long long mark;
    int k;
    for (k = 0; k < el->count; k++)
        if (too_large(x, x->argv[el->list[k]].n)) return;
    e = store_lookup_write(x->db, key, klen);
    if (not_list(x, e)) return;
    if (!e && xx) {
        reply_int(x->r, 0);
        return;
    }
    if (!e) {
        e = list_new(key, klen);
        created = true;
    }
    ql = QL(e);
    for (k = 0; k < el->count; k++) {
        const struct argv_ref *a = &x->argv[el->list[k]];
        ql_push(ql, where, a->p, a->n);
    }
    reply_int(x->r, (long long)ql_count(ql));
    mark = store_dirty_mark();
    if (created)
        store_add(x->db, e, push_event(where), NOTIFY_LIST);
    else
        store_modified(x->db, e, push_event(where), NOTIFY_LIST);
    store_dirty_settle(mark, el->count); /* Redis: one change per element */
}

/* LPUSH key element [element ...] */
void cmd_lpush(struct exec *x)
{
    push_generic(x, A_LPUSH_key, A_LPUSH_element, QL_HEAD, false);
}

/* RPUSH key element [element ...] */
void cmd_rpush(struct exec *x)
{
    push_generic(x, A_RPUSH_key, A_RPUSH_element, QL_TAIL, false);
}

/* LPUSHX key element [element ...] */
void cmd_lpushx(struct exec *x)
{
    push_generic(x, A_LPUSHX_key, A_LPUSHX_element, QL_HEAD, true);
}

/* RPUSHX key element [element ...] */
void cmd_rpushx(struct exec *x)
{
    push_generic(x, A_RPUSHX_key, A_RPUSHX_element, QL_TAIL, true);
}

/* LPOP / RPOP: one element as a bulk, or with a count an array. */
static void pop_generic(struct exec *x, int keyslot, int countslot, enum ql_where where)
{
    bool hascount = HAS(x, countslot);
    long long count = hascount ? ARGI(x, countslot) : 0;
    struct kv *e;
    struct ql_val v;
    if (count < 0) {
        reply_err(x->r, E_POSITIVE);
        return;
    }
    e = store_lookup_write(x->db, ARGP(x, keyslot), ARGN(x, keyslot));
    if (!e) {
        if (hascount)
            reply_null_array(x->r);
        else
            reply_null(x->r);
        return;
    }
    if (not_list(x, e)) return;
    if (hascount && count == 0) {
        reply_array(x->r, 0);
        return;
    }
    if (!hascount) {
        ql_peek(QL(e), where, &v);
        reply_val(x, &v);
        ql_pop(QL(e), where);
        elements_removed(x, e, pop_event(where), 1);
        return;
    }
    pop_range(x, e, where, count);
}

/* LPOP key [count] */
void cmd_lpop(struct exec *x)
{
    pop_generic(x, A_LPOP_key, A_LPOP_count, QL_HEAD);
}

/* RPOP key [count] */
void cmd_rpop(struct exec *x)
{
    pop_generic(x, A_RPOP_key, A_RPOP_count, QL_TAIL);
}

/* LLEN key */
void cmd_llen(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_LLEN_key), ARGN(x, A_LLEN_key));
    if (not_list(x, e)) return;
    reply_int(x->r, e ? (long long)ql_count(QL(e)) : 0);
}

/* LRANGE key start stop */
void cmd_lrange(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_LRANGE_key), ARGN(x, A_LRANGE_key));
    if (!e) {
        reply_array(x->r, 0);
        return;
    }
    if (not_list(x, e)) return;
    reply_range(x, QL(e), ARGI(x, A_LRANGE_start), ARGI(x, A_LRANGE_stop), false);
}

/* LINDEX key index */
void cmd_lindex(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_LINDEX_key), ARGN(x, A_LINDEX_key));
    struct ql_iter it;
    struct ql_val v;
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (not_list(x, e) || !arg_ok(x, A_LINDEX_index)) return;
    ql_iter_init(&it, QL(e), ARGI(x, A_LINDEX_index), QL_TAIL);
    if (ql_iter_next(&it, &v))
        reply_val(x, &v);
    else
        reply_null(x->r);
    ql_iter_release(&it);
}

/* LSET key index element */
void cmd_lset(struct exec *x)
{
    struct kv *e = store_lookup_write(x->db, ARGP(x, A_LSET_key), ARGN(x, A_LSET_key));
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return;
    }
    if (not_list(x, e) || !arg_ok(x, A_LSET_index)) return;
    if (too_large(x, ARGN(x, A_LSET_element))) return;
    if (!ql_replace(QL(e), ARGI(x, A_LSET_index), ARGP(x, A_LSET_element),
                    ARGN(x, A_LSET_element))) {
        reply_err(x->r, E_OUT_OF_RANGE);
        return;
    }
    reply_ok(x->r);
    store_modified(x->db, e, "lset", NOTIFY_LIST);
}

/* LINSERT key <BEFORE | AFTER> pivot element */
void cmd_linsert(struct exec *x)
{
    enum ql_where side = ARG(x, A_LINSERT_where)->choice == 0 ? QL_HEAD : QL_TAIL;
    struct ql_needle nd;
    struct ql_iter it;
    struct ql_val v;
    struct kv *e;
    bool inserted = false;
    if (too_large(x, ARGN(x, A_LINSERT_element))) return;
    e = store_lookup_write(x->db, ARGP(x, A_LINSERT_key), ARGN(x, A_LINSERT_key));
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_list(x, e)) return;
    ql_needle_init(&nd, ARGP(x, A_LINSERT_pivot), ARGN(x, A_LINSERT_pivot));
    ql_iter_init(&it, QL(e), 0, QL_TAIL);
    while (ql_iter_next(&it, &v)) {
        if (ql_val_eq(&v, &nd)) {
            ql_iter_insert(&it, side, ARGP(x, A_LINSERT_element), ARGN(x, A_LINSERT_element));
            inserted = true;
            break;
        }
    }
    ql_iter_release(&it);
    if (!inserted) {
        reply_int(x->r, -1);
        return;
    }
    store_modified(x->db, e, "linsert", NOTIFY_LIST);
    reply_int(x->r, (long long)ql_count(QL(e)));
}

/* LREM key count element */
void cmd_lrem(struct exec *x)
{
    long long toremove = ARGI(x, A_LREM_count), removed = 0;
    struct ql_needle nd;
    struct ql_iter it;
    struct ql_val v;
    struct kv *e = store_lookup_write(x->db, ARGP(x, A_LREM_key), ARGN(x, A_LREM_key));
    bool all;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (not_list(x, e)) return;
    ql_needle_init(&nd, ARGP(x, A_LREM_element), ARGN(x, A_LREM_element));
    /* count LLONG_MIN has no positive form: Redis ends up removing them all */
    all = toremove == 0 || toremove == LLONG_MIN;
    if (toremove < 0) {
        toremove = toremove == LLONG_MIN ? 0 : -toremove;
        ql_iter_init(&it, QL(e), -1, QL_HEAD);
    } else {
        ql_iter_init(&it, QL(e), 0, QL_TAIL);
    }
    while (ql_iter_next(&it, &v)) {
        if (ql_val_eq(&v, &nd)) {
            ql_iter_del(&it);
            removed++;
            if (!all && removed == toremove) break;
        }
    }
    ql_iter_release(&it);
    if (removed) elements_removed(x, e, "lrem", removed);
    reply_int(x->r, removed);
}

/* LTRIM key start stop */
void cmd_ltrim(struct exec *x)
{
    long long start = ARGI(x, A_LTRIM_start), end = ARGI(x, A_LTRIM_stop), llen, ltrim, rtrim;
    struct kv *e = store_lookup_write(x->db, ARGP(x, A_LTRIM_key), ARGN(x, A_LTRIM_key));
    if (!e) {
        reply_ok(x->r);
        return;
    }
    if (not_list(x, e)) return;
    llen = (long long)ql_count(QL(e));
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = 0;
        rtrim = llen;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    ql_del_range(QL(e), 0, (unsigned long)ltrim);
    if (rtrim) ql_del_range(QL(e), -rtrim, (unsigned long)rtrim);
    elements_removed(x, e, "ltrim", ltrim + rtrim);
    reply_ok(x->r);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
void cmd_lpos(struct exec *x)
{
    /* RANK (keel_nonzero), COUNT and MAXLEN (keel_min 0) were range-checked
     * by the matcher as Redis's loop meets them. */
    long long rank = HAS(x, A_LPOS_rank) ? ARGI(x, A_LPOS_rank) : 1;
    long long count = HAS(x, A_LPOS_num_matches) ? ARGI(x, A_LPOS_num_matches) : -1;
    long long maxlen = HAS(x, A_LPOS_len) ? ARGI(x, A_LPOS_len) : 0;
    long long index = 0, matches = 0, matchindex = -1, arraylen = 0, llen;
    enum ql_where dir = QL_TAIL;
    struct ql_needle nd;
    struct ql_iter it;
    struct ql_val v;
    void *deferred = NULL;
    struct kv *e;

    if (rank < 0) {
        /* -LLONG_MIN wraps to itself in Redis: it stays "every match". */
        if (rank != LLONG_MIN) rank = -rank;
        dir = QL_HEAD;
    }
    e = store_lookup_read(x->db, ARGP(x, A_LPOS_key), ARGN(x, A_LPOS_key));
    if (!e) {
        if (count != -1)
            reply_array(x->r, 0);
        else
            reply_null(x->r);
        return;
    }
    if (not_list(x, e)) return;
    if (count != -1) deferred = reply_defer(x->r, AGG_ARRAY);
    ql_needle_init(&nd, ARGP(x, A_LPOS_element), ARGN(x, A_LPOS_element));
    llen = (long long)ql_count(QL(e));
    ql_iter_init(&it, QL(e), dir == QL_HEAD ? -1 : 0, dir);
    while ((maxlen == 0 || index < maxlen) && ql_iter_next(&it, &v)) {
        if (ql_val_eq(&v, &nd)) {
            matches++;
            matchindex = dir == QL_TAIL ? index : llen - index - 1;
            if (matches >= rank) {
                if (deferred) {
                    arraylen++;
                    reply_int(x->r, matchindex);
                    /* matches-rank+1 >= count, with Redis's wrap-around */
                    if (count && (long long)((unsigned long long)matches -
                                             (unsigned long long)rank + 1ULL) >= count)
                        break;
                } else {
                    break;
                }
            }
        }
        index++;
        matchindex = -1;
    }
    ql_iter_release(&it);
    if (deferred)
        reply_set_deferred(x->r, deferred, arraylen);
    else if (matchindex != -1)
        reply_int(x->r, matchindex);
    else
        reply_null(x->r);
}

/* The pushing half of LMOVE / RPOPLPUSH: into dst (created when absent). */
static void move_push(struct exec *x, const char *dkey, size_t dlen, struct kv *de,
                      enum ql_where to, const char *p, size_t n)
{
    if (!de) {
        de = list_new(dkey, dlen);
        ql_push(QL(de), to, p, n);
        store_add(x->db, de, push_event(to), NOTIFY_LIST);
    } else {
        ql_push(QL(de), to, p, n);
        store_modified(x->db, de, push_event(to), NOTIFY_LIST);
    }
}

static void move_generic(struct exec *x, int srcslot, int dstslot, enum ql_where from,
                         enum ql_where to)
{
    const char *skey = ARGP(x, srcslot), *dkey = ARGP(x, dstslot);
    size_t slen = ARGN(x, srcslot), dlen = ARGN(x, dstslot);
    struct kv *se = store_lookup_write(x->db, skey, slen), *de;
    struct ql_val v;
    long long mark;
    char small[128], *copy;
    if (!se) {
        reply_null(x->r);
        return;
    }
    if (not_list(x, se)) return;
    de = store_lookup_write(x->db, dkey, dlen);
    if (not_list(x, de)) return;
    ql_peek(QL(se), from, &v);
    /* the value outlives the pop (the push may be into the same list) */
    copy = v.n <= sizeof(small) ? small : xmalloc(v.n);
    memcpy(copy, v.p, v.n);
    ql_pop(QL(se), from);
    mark = store_dirty_mark();
    move_push(x, dkey, dlen, de, to, copy, v.n);
    reply_bulk(x->r, copy, v.n);
    if (copy != small) free(copy);
    elements_removed(x, se, pop_event(from), 1);
    /* The pop and the push: one change to Redis, none when it serves a
     * blocked BLMOVE / BRPOPLPUSH (propagated all the same). */
    store_dirty_settle(mark, served_blocked(x) ? 0 : 1);
}

/* RPOPLPUSH source destination */
void cmd_rpoplpush(struct exec *x)
{
    move_generic(x, A_RPOPLPUSH_source, A_RPOPLPUSH_destination, QL_TAIL, QL_HEAD);
}

/* LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> */
void cmd_lmove(struct exec *x)
{
    move_generic(x, A_LMOVE_source, A_LMOVE_destination,
                 ARG(x, A_LMOVE_wherefrom)->choice == 0 ? QL_HEAD : QL_TAIL,
                 ARG(x, A_LMOVE_whereto)->choice == 0 ? QL_HEAD : QL_TAIL);
}

/* AOF: [B]LMPOP propagates as LPOP/RPOP key n (n: what was popped), as
 * Redis 7.0 (core/persist/propagate.c). */
static void mpop_propagate(struct exec *x, const struct argv_ref *key, enum ql_where where,
                           long long count, long long len)
{
    char num[24];
    int l;
    if (!propagating()) return;
    l = util_ll2str(num, count < len ? count : len);
    propagate_rewritev(x, 3, where == QL_HEAD ? "LPOP" : "RPOP", (size_t)4, key->p, key->n, num,
                       (size_t)l);
}

/* LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
void cmd_lmpop(struct exec *x)
{
    const struct argval *keys = ARG(x, A_LMPOP_key);
    enum ql_where where = ARG(x, A_LMPOP_where)->choice == 0 ? QL_HEAD : QL_TAIL;
    /* numkeys (keel_numkeys) sized the key list; COUNT is keel_once with
     * keel_min 1, checked as Redis's loop meets it. */
    long long count = HAS(x, A_LMPOP_count) ? ARGI(x, A_LMPOP_count) : 1;
    int k;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_write(x->db, key->p, key->n);
        if (!e) continue;
        if (not_list(x, e)) return;
        if (ql_count(QL(e)) == 0) continue;
        reply_array(x->r, 2);
        reply_bulk(x->r, key->p, key->n);
        mpop_propagate(x, key, where, count, (long long)ql_count(QL(e)));
        pop_range(x, e, where, count);
        return;
    }
    reply_null_array(x->r);
}

/* ---- blocking variants (core/events/blocking.h) ---- */

/* BLPOP / BRPOP key [key ...] timeout */
static void bpop_generic(struct exec *x, int keyslot, int timeoutslot, enum ql_where where)
{
    const struct argval *keys = ARG(x, keyslot);
    long long deadline;
    int k;
    if (!arg_ok(x, timeoutslot) || !blocking_deadline(x, ARGLD(x, timeoutslot), &deadline)) return;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_write(x->db, key->p, key->n);
        struct ql_val v;
        if (!e || (e->type != OBJ_LIST && blocking_is_retry(x))) continue;
        if (not_list(x, e)) return;
        if (!ql_peek(QL(e), where, &v)) continue;
        reply_array(x->r, 2);
        reply_bulk(x->r, key->p, key->n);
        reply_val(x, &v);
        ql_pop(QL(e), where);
        /* (Redis counts no change when it serves a blocked BLPOP / BRPOP) */
        elements_removed(x, e, pop_event(where), served_blocked(x) ? 0 : 1);
        /* AOF: LPOP/RPOP key, as Redis 7.0 (core/persist/propagate.c) */
        propagate_rewritev(x, 2, where == QL_HEAD ? "LPOP" : "RPOP", (size_t)4, key->p, key->n);
        return;
    }
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY)) reply_null_array(x->r);
}

/* BLPOP key [key ...] timeout */
void cmd_blpop(struct exec *x)
{
    bpop_generic(x, A_BLPOP_key, A_BLPOP_timeout, QL_HEAD);
}

/* BRPOP key [key ...] timeout */
void cmd_brpop(struct exec *x)
{
    bpop_generic(x, A_BRPOP_key, A_BRPOP_timeout, QL_TAIL);
}

/* BLMOVE / BRPOPLPUSH: LMOVE once the source has an element; plain is the
 * command the AOF gets (LMOVE or RPOPLPUSH). */
static void bmove_generic(struct exec *x, int srcslot, int dstslot, int timeoutslot,
                          enum ql_where from, enum ql_where to, const char *plain)
{
    long long deadline;
    struct kv *se;
    int pos;
    if (!arg_ok(x, timeoutslot) || !blocking_deadline(x, ARGLD(x, timeoutslot), &deadline)) return;
    se = store_lookup_write(x->db, ARGP(x, srcslot), ARGN(x, srcslot));
    if (se && !(se->type != OBJ_LIST && blocking_is_retry(x))) {
        move_generic(x, srcslot, dstslot, from, to);
        if (propagating()) { /* AOF: LMOVE / RPOPLPUSH without the timeout
                                (core/persist/propagate.c) */
            struct argv_ref v[5];
            int i;
            for (i = 1; i < x->argc - 1 && i < 5; i++)
                v[i] = x->argv[i];
            v[0].p = plain;
            v[0].n = strlen(plain);
            propagate_rewrite(x, i, v);
        }
        return;
    }
    pos = ARG(x, srcslot)->pos;
    if (!blocking_wait(x, &pos, 1, deadline, BT_NULL_ARRAY)) reply_null(x->r);
}

/* BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout */
void cmd_blmove(struct exec *x)
{
    bmove_generic(x, A_BLMOVE_source, A_BLMOVE_destination, A_BLMOVE_timeout,
                  ARG(x, A_BLMOVE_wherefrom)->choice == 0 ? QL_HEAD : QL_TAIL,
                  ARG(x, A_BLMOVE_whereto)->choice == 0 ? QL_HEAD : QL_TAIL, "LMOVE");
}

/* BRPOPLPUSH source destination timeout */
void cmd_brpoplpush(struct exec *x)
{
    bmove_generic(x, A_BRPOPLPUSH_source, A_BRPOPLPUSH_destination, A_BRPOPLPUSH_timeout, QL_TAIL,
                  QL_HEAD, "RPOPLPUSH");
}

/* BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
void cmd_blmpop(struct exec *x)
{
    const struct argval *keys = ARG(x, A_BLMPOP_key);
    enum ql_where where = ARG(x, A_BLMPOP_where)->choice == 0 ? QL_HEAD : QL_TAIL;
    long long count = HAS(x, A_BLMPOP_count) ? ARGI(x, A_BLMPOP_count) : 1, deadline;
    int k;
    /* Redis reads the timeout after the options (which the matcher checked). */
    if (!arg_ok(x, A_BLMPOP_timeout) ||
        !blocking_deadline(x, ARGLD(x, A_BLMPOP_timeout), &deadline))
        return;
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_write(x->db, key->p, key->n);
        if (!e || (e->type != OBJ_LIST && blocking_is_retry(x))) continue;
        if (not_list(x, e)) return;
        if (ql_count(QL(e)) == 0) continue;
        reply_array(x->r, 2);
        reply_bulk(x->r, key->p, key->n);
        mpop_propagate(x, key, where, count, (long long)ql_count(QL(e)));
        pop_range(x, e, where, count);
        return;
    }
    if (!blocking_wait(x, keys->list, keys->count, deadline, BT_NULL_ARRAY)) reply_null_array(x->r);
}
