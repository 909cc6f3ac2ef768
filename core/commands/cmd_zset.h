/* cmd_zset.h — helpers the sorted set handlers share (core/commands/cmd_zset.c,
 * core/commands/cmd_zset_range.c): the typed argument of a slot, the WRONGTYPE check,
 * member replies and the "del" of an emptied set. Internal to those files. */
#ifndef KEEL_CMD_ZSET_H
#define KEEL_CMD_ZSET_H

#include "kernel.h"
#include "store.h"
#include "t_zset.h"
#include "util.h"

static inline const struct argv_ref *slot_ref(struct exec *x, int slot)
{
    return &x->argv[ARG(x, slot)->pos];
}

/* e is missing, or a sorted set; otherwise WRONGTYPE is replied. */
static inline bool not_zset(struct exec *x, struct kv *e)
{
    if (e && e->type != OBJ_ZSET) {
        reply_err(x->r, E_WRONGTYPE);
        return true;
    }
    return false;
}

static inline void reply_empty_array(struct exec *x)
{
    reply_array(x->r, 0);
}

static inline bool parse_ll(const struct argv_ref *a, long long *v)
{
    return util_str2ll(a->p, a->n, v);
}

/* A member and, optionally, its score: [m, s] pairs in RESP3 (pairs true),
 * flat in RESP2. */
static inline void reply_member(struct reply *r, const char *m, size_t n, bool withscores,
                                double score, bool pairs)
{
    if (pairs) reply_array(r, 2);
    reply_bulk(r, m, n);
    if (withscores) reply_double(r, score);
}

/* Delete key if its sorted set is empty, with Redis's "del" event. */
static inline void delete_if_empty(struct exec *x, struct kv *e, const char *key, size_t klen)
{
    if (zset_length(e) == 0) store_delete(x->db, key, klen, "del", NOTIFY_GENERIC);
}

#endif
