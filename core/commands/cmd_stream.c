/* cmd_stream.c — the stream group's entry commands: XADD XRANGE XREVRANGE
 * XLEN XDEL XTRIM XSETID and XREAD / XREADGROUP's shared body (blocking
 * through core/events/blocking.c), with Redis 7.0's replies, errors,
 * keyspace events (xadd xtrim xdel xsetid) and propagation (XADD's id and
 * approximate trim made exact). Consumer groups: cmd_stream_group.c. */
#include "cmd_stream.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "commands_gen.h"
#include "config.h"
#include "listpack.h"
#include "propagate.h"
#include "server.h"
#include "store.h"
#include "util.h"

#define SLOT_REF(x, slot) (&(x)->argv[(x)->args[(slot)].pos])

struct stream *stream_of(struct kv *e)
{
    return e->v.ptr;
}

struct kv *xlookup(struct exec *x, const char *key, size_t n, bool write, bool *bad)
{
    struct kv *e = write ? store_lookup_write(x->db, key, n) : store_lookup_read(x->db, key, n);
    *bad = false;
    if (e && e->type != OBJ_STREAM) {
        reply_err(x->r, E_WRONGTYPE);
        *bad = true;
        return NULL;
    }
    return e;
}

bool xparse_id(struct exec *x, const char *p, size_t n, uint64_t missing_seq, struct sid *id)
{
    if (sid_parse(p, n, missing_seq, false, false, id, NULL)) return true;
    reply_error(x->r, ERR_INVALID_ID);
    return false;
}

void xreply_id(struct reply *r, const struct sid *id)
{
    char buf[48];
    int n = sid_format(buf, id);
    reply_bulk(r, buf, (size_t)n);
}

static void reply_entry_fields(struct exec *x, struct stream_iter *it, long long nf)
{
    char fb[LP_INTBUF], vb[LP_INTBUF];
    const char *f, *v;
    size_t fl, vl;
    reply_array(x->r, nf * 2);
    while (stream_iter_field(it, &f, &fl, fb, &v, &vl, vb)) {
        reply_bulk(x->r, f, fl);
        reply_bulk(x->r, v, vl);
    }
}

void xpropagate_claim(struct exec *x, const char *key, size_t klen, const char *gname, size_t glen,
                      const struct sgroup *g, const struct sid *id, const struct snack *nack)
{
    char ids[48], tm[24], cnt[24], last[48];
    int in, tn, cn, ln;
    if (!propagating() || !nack->consumer) return;
    in = sid_format(ids, id);
    tn = util_ll2str(tm, nack->delivery_time);
    cn = util_ll2str(cnt, (long long)nack->delivery_count);
    ln = sid_format(last, &g->last_id);
    propagate_rewritev(x, 14, "XCLAIM", (size_t)6, key, klen, gname, glen, nack->consumer->name,
                       nack->consumer->nlen, "0", (size_t)1, ids, (size_t)in, "TIME", (size_t)4, tm,
                       (size_t)tn, "RETRYCOUNT", (size_t)10, cnt, (size_t)cn, "FORCE", (size_t)5,
                       "JUSTID", (size_t)6, "LASTID", (size_t)6, last, (size_t)ln);
}

static void propagate_setid(struct exec *x, const char *key, size_t klen, const char *gname,
                            size_t glen, struct sgroup *g)
{
    char last[48], er[24];
    int ln, en;
    if (!propagating()) return;
    ln = sid_format(last, &g->last_id);
    en = util_ll2str(er, g->entries_read);
    propagate_rewritev(x, 7, "XGROUP", (size_t)6, "SETID", (size_t)5, key, klen, gname, glen, last,
                       (size_t)ln, "ENTRIESREAD", (size_t)11, er, (size_t)en);
}

long long xreply_range(struct exec *x, struct stream *s, const struct sid *start,
                       const struct sid *end, long long count, bool rev, struct sgroup *g,
                       struct sconsumer *c, int flags, const char *key, size_t klen,
                       const char *gname, size_t glen)
{
    struct stream_iter it;
    struct sid id;
    long long nf, n = 0;
    void *h;
    bool propagate_last = false;
    if (g && (flags & XRANGE_HISTORY)) {
        /* The consumer's own pending entries from start on. */
        struct rax_iter ri;
        unsigned char k[16];
        bool ok;
        long long now = util_mstime();
        h = reply_defer(x->r, AGG_ARRAY);
        sid_encode(k, start);
        rax_iter_start(&ri, c->pel);
        for (ok = rax_seek(&ri, RAX_GE, k, 16); ok && (!count || n < count); ok = rax_next(&ri)) {
            struct snack *nack = ri.data;
            sid_decode(ri.key, &id);
            stream_iter_start(&it, s, &id, &id, false);
            reply_array(x->r, 2);
            xreply_id(x->r, &id);
            if (stream_iter_next(&it, &id, &nf)) {
                reply_entry_fields(x, &it, nf);
                nack->delivery_count++;
                nack->delivery_time = now;
                xpropagate_claim(x, key, klen, gname, glen, g, &id, nack);
            } else {
                /* deleted meanwhile: the id with a nil entry, left as it is */
                reply_null_array(x->r);
            }
            stream_iter_stop(&it);
            n++;
        }
        rax_iter_stop(&ri);
        reply_set_deferred(x->r, h, n);
        return n;
    }
    h = reply_defer(x->r, AGG_ARRAY);
    stream_iter_start(&it, s, start, end, rev);
    while ((!count || n < count) && stream_iter_next(&it, &id, &nf)) {
        if (g && sid_cmp(&id, &g->last_id) > 0) {
            if (g->entries_read != SCG_INVALID_READ && !stream_range_has_tombstones(s, &id, NULL))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = stream_estimate_distance(s, &id);
            g->last_id = id;
            /* Redis 7.0 propagates the group's last id only with NOACK:
             * otherwise each entry's XCLAIM carries it (LASTID) */
            if (flags & XRANGE_NOACK) propagate_last = true;
        }
        reply_array(x->r, 2);
        xreply_id(x->r, &id);
        reply_entry_fields(x, &it, nf);
        n++;
        if (g && !(flags & XRANGE_NOACK)) {
            unsigned char k[16];
            struct snack *nack = snack_new(c, util_mstime()), *old;
            void *ov;
            sid_encode(k, &id);
            if (!rax_try_insert(g->pel, k, 16, nack)) {
                /* Already pending (for another consumer): move it here. */
                rax_find(g->pel, k, 16, &ov);
                old = ov;
                rax_remove(old->consumer->pel, k, 16, NULL);
                old->consumer = c;
                old->delivery_time = nack->delivery_time;
                old->delivery_count = 1;
                free(nack);
                nack = old;
            }
            rax_insert(c->pel, k, 16, nack, NULL);
            xpropagate_claim(x, key, klen, gname, glen, g, &id, nack);
        }
    }
    stream_iter_stop(&it);
    reply_set_deferred(x->r, h, n);
    if (g && propagate_last && (flags & XRANGE_NEW_CONSUMER) && propagating())
        /* NOACK leaves no XCLAIM to make the consumer on a replica: Redis
         * propagates its creation before the last id */
        propagate_rewritev(x, 5, "XGROUP", (size_t)6, "CREATECONSUMER", (size_t)14, key, klen,
                           gname, glen, c->name, c->nlen);
    if (g && propagate_last) propagate_setid(x, key, klen, gname, glen, g);
    return n;
}

/* ----------------------------------------------------------------- XADD */

struct trim_args {
    enum stream_trim_strategy how;
    bool approx;
    long long maxlen, limit;
    struct sid minid;
};

/* The trim options' slots (the schemas' keel_grammar: a MAXLEN or MINID
 * block, each with its own operator and threshold, and LIMIT). */
struct trim_slots {
    int trim, max_op, max_thr, min_op, min_thr, limit;
};

/* The trim options' values: the matcher converted them in the order of
 * their words, as Redis's option loop meets them (keel_parse_in_order), and
 * checked MINID's id (keel_check stream_minid). */
static void trim_values(struct exec *x, const struct trim_slots *sl, struct trim_args *t)
{
    memset(t, 0, sizeof(*t));
    t->how = TRIM_NONE;
    if (HAS(x, sl->limit)) t->limit = ARGI(x, sl->limit);
    if (!HAS(x, sl->trim)) return;
    if (ARG(x, sl->trim)->choice == 0) {
        t->how = TRIM_MAXLEN;
        t->approx = HAS(x, sl->max_op) && ARG(x, sl->max_op)->choice == 1;
        t->maxlen = ARGI(x, sl->max_thr);
    } else {
        const struct argv_ref *thr = SLOT_REF(x, sl->min_thr);
        t->how = TRIM_MINID;
        t->approx = HAS(x, sl->min_op) && ARG(x, sl->min_op)->choice == 1;
        sid_parse(thr->p, thr->n, 0, false, false, &t->minid, NULL);
    }
}

/* keel_check stream_minid (xadd.json, xtrim.json): MINID's threshold is a
 * stream id, judged where the matcher meets it. */
const char *keel_check_stream_minid(const struct argv_ref *w, struct argval *v,
                                    const struct argval *prev)
{
    struct sid id;
    (void)v;
    (void)prev;
    return sid_parse(w->p, w->n, 0, false, false, &id, NULL) ? NULL : ERR_INVALID_ID;
}

/* What Redis checks once its option loop is done: LIMIT needs a strategy
 * (XTRIM needs one anyway) and the ~ operator; false after replying. */
static bool trim_checks(struct exec *x, int limit_slot, bool xtrim, struct trim_args *t)
{
    if (t->limit && t->how == TRIM_NONE) {
        reply_error(
            x->r, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return false;
    }
    if (xtrim && t->how == TRIM_NONE) {
        reply_error(x->r, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return false;
    }
    if (HAS(x, limit_slot)) {
        if (!t->approx && !g_server.loading) {
            reply_error(x->r,
                        "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return false;
        }
    } else if (t->approx) {
        t->limit = 100 * g_config.stream_node_max_entries;
        if (t->limit <= 0 || t->limit > 1000000) t->limit = 10000;
    }
    /* Replaying an AOF (Redis logs approximate trims as "= <exact>" with
     * LIMIT kept): trim exactly as logged, as Redis obeys its AOF client. */
    if (g_server.loading) t->limit = 0;
    return true;
}

/* Propagate "<cmd> key [NOMKSTREAM] <MAXLEN|MINID> = <exact> [id f v ...]". */
static void propagate_trimmed(struct exec *x, const char *cmd, struct stream *s,
                              const struct trim_args *t, bool nomk, const struct sid *id,
                              const struct argval *pairs)
{
    struct argv_ref *v;
    char thr[48], idb[48];
    int n = 0, k;
    if (!propagating()) return;
    v = xmalloc(sizeof(*v) * (size_t)(x->argc + 8));
    v[n].p = cmd;
    v[n++].n = strlen(cmd);
    v[n++] = x->argv[1];
    if (nomk) {
        v[n].p = "NOMKSTREAM";
        v[n++].n = 10;
    }
    if (t->how != TRIM_NONE) {
        v[n].p = t->how == TRIM_MAXLEN ? "MAXLEN" : "MINID";
        v[n].n = strlen(v[n].p);
        n++;
        v[n].p = "=";
        v[n++].n = 1;
        v[n].p = thr;
        if (!t->approx)
            v[n].n = (size_t)(t->how == TRIM_MAXLEN ? util_ll2str(thr, t->maxlen)
                                                    : sid_format(thr, &t->minid));
        else
            v[n].n = (size_t)(t->how == TRIM_MAXLEN ? util_ll2str(thr, (long long)s->length)
                                                    : sid_format(thr, &s->first_id));
        n++;
    }
    if (id) {
        v[n].p = idb;
        v[n++].n = (size_t)sid_format(idb, id);
        for (k = 0; k < pairs->count; k++) {
            v[n++] = x->argv[pairs->list[k]];
            v[n++] = x->argv[pairs->list[k] + 1];
        }
    }
    propagate_rewrite(x, n, v);
    free(v);
}

/* XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value
 * [field value ...] (options in any order, as Redis's loop: the schema's
 * keel_grammar) */
void cmd_xadd(struct exec *x)
{
    const struct argval *pairs = ARG(x, A_XADD_field_value);
    const struct argv_ref *key = SLOT_REF(x, A_XADD_key);
    struct trim_args t = {TRIM_NONE, false, 0, 0, {0, 0}};
    struct sid id = {0, 0}, added;
    bool id_given = false, seq_given = true, bad, created = false;
    const char **fields;
    size_t *lens;
    struct kv *e;
    struct stream *s;
    int k, rc;
    long long mark;
    static const struct trim_slots sl = {A_XADD_trim,
                                         A_XADD_trim_maxlen_operator,
                                         A_XADD_trim_maxlen_threshold,
                                         A_XADD_trim_minid_operator,
                                         A_XADD_trim_minid_threshold,
                                         A_XADD_trim_count};
    trim_values(x, &sl, &t);
    if (HAS(x, A_XADD_id_or_auto) && ARG(x, A_XADD_id_or_auto)->choice == 1) {
        const struct argv_ref *w = SLOT_REF(x, A_XADD_id_or_auto_id);
        if (!sid_parse(w->p, w->n, 0, false, true, &id, &seq_given)) {
            reply_error(x->r, ERR_INVALID_ID);
            return;
        }
        id_given = true;
    }
    if (!trim_checks(x, A_XADD_trim_count, false, &t)) return;
    /* the fields are counted after the id is read; an odd count or none
     * (the only errors the deferred part can hold: the words may have run
     * out before the id) is Redis's arity error */
    if (HAS(x, A_XADD_deferred)) {
        reply_error(x->r, "ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if (id_given && seq_given && id.ms == 0 && id.seq == 0) {
        reply_error(x->r, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    e = xlookup(x, key->p, key->n, true, &bad);
    if (bad) return;
    mark = store_dirty_mark();
    if (!e) {
        if (HAS(x, A_XADD_nomkstream)) {
            reply_null(x->r);
            return;
        }
        e = kv_new_ptr(key->p, key->n, OBJ_STREAM, ENC_STREAM, stream_new());
        created = true;
    }
    s = stream_of(e);
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(x->r, "ERR The stream has exhausted the last possible ID, unable to add more "
                          "items");
        if (created) kv_free(e);
        return;
    }
    fields = xmalloc(sizeof(*fields) * (size_t)pairs->count * 2);
    lens = xmalloc(sizeof(*lens) * (size_t)pairs->count * 2);
    for (k = 0; k < pairs->count; k++) {
        const struct argv_ref *a = &x->argv[pairs->list[k]];
        fields[2 * k] = a[0].p;
        lens[2 * k] = a[0].n;
        fields[2 * k + 1] = a[1].p;
        lens[2 * k + 1] = a[1].n;
    }
    rc = stream_append(s, fields, lens, pairs->count, id_given ? &id : NULL, seq_given, &added);
    free(fields);
    free(lens);
    if (rc) {
        if (rc == EDOM)
            reply_error(x->r, "ERR The ID specified in XADD is equal or smaller than the target "
                              "stream top item");
        else
            reply_error(x->r, "ERR Elements are too large to be stored");
        if (created) kv_free(e);
        return;
    }
    xreply_id(x->r, &added);
    if (created)
        store_add(x->db, e, "xadd", NOTIFY_STREAM);
    else
        store_modified(x->db, e, "xadd", NOTIFY_STREAM);
    if (t.how != TRIM_NONE) {
        if (stream_trim(s, t.how, t.maxlen, &t.minid, t.approx, t.limit))
            store_modified(x->db, e, "xtrim", NOTIFY_STREAM);
    }
    store_dirty_settle(mark, 1); /* Redis: one change, trimmed or not */
    if (t.how != TRIM_NONE || !id_given || !seq_given)
        propagate_trimmed(x, "XADD", s, &t, HAS(x, A_XADD_nomkstream), &added, pairs);
}

/* XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count] (options in any
 * order, as Redis's loop: the schema's keel_grammar) */
void cmd_xtrim(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XTRIM_key);
    struct trim_args t;
    struct kv *e;
    bool bad;
    long long n, mark;
    static const struct trim_slots sl = {A_XTRIM_trim,
                                         A_XTRIM_trim_maxlen_operator,
                                         A_XTRIM_trim_maxlen_threshold,
                                         A_XTRIM_trim_minid_operator,
                                         A_XTRIM_trim_minid_threshold,
                                         A_XTRIM_trim_count};
    trim_values(x, &sl, &t);
    if (!trim_checks(x, A_XTRIM_trim_count, true, &t)) return;
    e = xlookup(x, key->p, key->n, true, &bad);
    if (bad) return;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    mark = store_dirty_mark();
    n = stream_trim(stream_of(e), t.how, t.maxlen, &t.minid, t.approx, t.limit);
    reply_int(x->r, n);
    if (n) {
        store_modified(x->db, e, "xtrim", NOTIFY_STREAM);
        store_dirty_settle(mark, n); /* Redis: one change per entry removed */
        if (t.approx) propagate_trimmed(x, "XTRIM", stream_of(e), &t, false, NULL, NULL);
    }
}

/* ------------------------------------------------------ XRANGE XREVRANGE */

/* A range bound: "-", "+", "(id" (exclusive), "ms" or "ms-seq". */
static bool parse_bound(struct exec *x, const struct argv_ref *w, uint64_t missing_seq, bool *excl,
                        struct sid *id)
{
    *excl = false;
    if (w->n > 1 && w->p[0] == '(') {
        *excl = true;
        return xparse_id(x, w->p + 1, w->n - 1, missing_seq, id);
    }
    if (sid_parse(w->p, w->n, missing_seq, true, false, id, NULL)) return true;
    reply_error(x->r, ERR_INVALID_ID);
    return false;
}

static void range_generic(struct exec *x, int key_slot, int start_slot, int end_slot,
                          int count_slot, int deferred_slot, bool rev)
{
    const struct argv_ref *key = SLOT_REF(x, key_slot);
    struct sid start, end;
    bool sx, ex, bad;
    long long count = -1;
    struct kv *e;
    if (!parse_bound(x, SLOT_REF(x, start_slot), 0, &sx, &start)) return;
    if (sx && !sid_incr(&start)) {
        reply_error(x->r, "ERR invalid start ID for the interval");
        return;
    }
    if (!parse_bound(x, SLOT_REF(x, end_slot), UINT64_MAX, &ex, &end)) return;
    if (ex && !sid_decr(&end)) {
        reply_error(x->r, "ERR invalid end ID for the interval");
        return;
    }
    /* Redis reads the ids, then the options, then the key */
    if (!arg_ok(x, deferred_slot)) return;
    if (HAS(x, count_slot)) {
        count = ARGI(x, count_slot);
        if (count < 0) count = 0;
    }
    e = xlookup(x, key->p, key->n, false, &bad);
    if (bad) return;
    if (!e) {
        reply_array(x->r, 0);
        return;
    }
    if (count == 0) {
        reply_null_array(x->r);
        return;
    }
    if (count == -1) count = 0;
    xreply_range(x, stream_of(e), &start, &end, count, rev, NULL, NULL, 0, NULL, 0, NULL, 0);
}

/* XRANGE key start end [COUNT count] */
void cmd_xrange(struct exec *x)
{
    range_generic(x, A_XRANGE_key, A_XRANGE_start, A_XRANGE_end, A_XRANGE_count, A_XRANGE_deferred,
                  false);
}

/* XREVRANGE key end start [COUNT count] */
void cmd_xrevrange(struct exec *x)
{
    range_generic(x, A_XREVRANGE_key, A_XREVRANGE_start, A_XREVRANGE_end, A_XREVRANGE_count,
                  A_XREVRANGE_deferred, true);
}

/* XLEN key */
void cmd_xlen(struct exec *x)
{
    bool bad;
    struct kv *e = xlookup(x, ARGP(x, A_XLEN_key), ARGN(x, A_XLEN_key), false, &bad);
    if (bad) return;
    reply_int(x->r, e ? (long long)stream_of(e)->length : 0);
}

/* XDEL key id [id ...] */
void cmd_xdel(struct exec *x)
{
    const struct argval *ids = ARG(x, A_XDEL_id);
    const struct argv_ref *key = SLOT_REF(x, A_XDEL_key);
    struct sid *parsed;
    long long deleted = 0;
    struct kv *e;
    bool bad;
    int k;
    /* Redis looks the key up first: no key is 0 whatever the ids */
    e = xlookup(x, key->p, key->n, true, &bad);
    if (bad) return;
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    parsed = xmalloc(sizeof(*parsed) * (size_t)ids->count);
    for (k = 0; k < ids->count; k++) {
        const struct argv_ref *w = &x->argv[ids->list[k]];
        if (!xparse_id(x, w->p, w->n, 0, &parsed[k])) {
            free(parsed);
            return;
        }
    }
    for (k = 0; k < ids->count; k++)
        if (stream_delete(stream_of(e), &parsed[k])) deleted++;
    free(parsed);
    reply_int(x->r, deleted);
    if (deleted) {
        long long mark = store_dirty_mark();
        store_modified(x->db, e, "xdel", NOTIFY_STREAM);
        store_dirty_settle(mark, deleted); /* Redis: one change per entry deleted */
    }
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
void cmd_xsetid(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XSETID_key), *w = SLOT_REF(x, A_XSETID_last_id);
    struct sid id, maxdel = {0, 0};
    long long added = -1;
    struct stream *s;
    struct kv *e;
    bool bad;
    if (!xparse_id(x, w->p, w->n, 0, &id)) return;
    if (!arg_ok(x, A_XSETID_deferred)) return; /* the options, read after the id */
    if (HAS(x, A_XSETID_entries_added)) {
        added = ARGI(x, A_XSETID_entries_added);
        if (added < 0) {
            reply_error(x->r, "ERR entries_added must be positive");
            return;
        }
    }
    if (HAS(x, A_XSETID_max_deleted_entry_id)) {
        w = SLOT_REF(x, A_XSETID_max_deleted_entry_id);
        if (!xparse_id(x, w->p, w->n, 0, &maxdel)) return;
        if (sid_cmp(&id, &maxdel) < 0) {
            reply_error(x->r, "ERR The ID specified in XSETID is smaller than the provided "
                              "max_deleted_entry_id");
            return;
        }
    }
    e = xlookup(x, key->p, key->n, true, &bad);
    if (bad) return;
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return;
    }
    s = stream_of(e);
    if (s->length > 0) {
        struct sid top;
        stream_edge_id(s, false, &top);
        if (sid_cmp(&id, &top) < 0) {
            reply_error(x->r, "ERR The ID specified in XSETID is smaller than the target stream "
                              "top item");
            return;
        }
        if (added != -1 && s->length > (uint64_t)added) {
            reply_error(x->r, "ERR The entries_added specified in XSETID is smaller than the "
                              "target stream length");
            return;
        }
    }
    s->last_id = id;
    if (added != -1) s->entries_added = (uint64_t)added;
    if (maxdel.ms || maxdel.seq) s->max_deleted_id = maxdel;
    reply_ok(x->r);
    store_modified(x->db, e, "xsetid", NOTIFY_STREAM);
}

/* ---------------------------------------------------------------- XREAD */

void xread_generic(struct exec *x, const struct xread_args *a)
{
    const struct argval *keys = ARG(x, a->streams_slot), *idv = ARG(x, a->ids_slot);
    int n = keys->count, k, served = 0;
    struct sid *ids = xmalloc(sizeof(*ids) * (size_t)n);
    struct sgroup **groups = a->group ? xcalloc((size_t)n, sizeof(*groups)) : NULL;
    long long deadline = 0, count = a->count;
    bool retry = blocking_is_retry(x), any_dollar = false;
    size_t auxlen = 0;
    const struct sid *aux = blocking_aux(x, &auxlen);
    const char *ready_key = NULL;
    size_t ready_klen = 0;
    void *h = NULL;
    if (a->block && (x->c->flags & CF_SCRIPT)) { /* the name as the script wrote it */
        reply_errorf(x->r, "ERR %.*s command is not allowed with BLOCK option from scripts",
                     (int)x->argv[0].n, x->argv[0].p);
        goto done;
    }
    if (a->block) {
        if (a->block_ms < 0) {
            reply_error(x->r, "ERR timeout is negative");
            goto done;
        }
        if (a->block_ms) { /* past the end of time: never (as blocking_deadline) */
            long long now = util_mstime();
            deadline = a->block_ms > LLONG_MAX - now ? LLONG_MAX : now + a->block_ms;
        }
    }
    for (k = 0; k < n; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]], *w = &x->argv[idv->list[k]];
        bool bad;
        struct kv *e = store_lookup_read(x->db, key->p, key->n);
        bad = e && e->type != OBJ_STREAM;
        if (a->group && retry && (!e || bad)) {
            reply_error(x->r, "UNBLOCKED the stream key no longer exists");
            goto done;
        }
        if (a->group && retry && !stream_group_find(stream_of(e), a->group, a->glen)) {
            reply_error(x->r, "NOGROUP the consumer group this client was blocked on no longer "
                              "exists");
            goto done;
        }
        if (bad && retry) e = NULL;
        if (bad && !retry) {
            reply_err(x->r, E_WRONGTYPE);
            goto done;
        }
        if (a->group) {
            if (!e || !(groups[k] = stream_group_find(stream_of(e), a->group, a->glen))) {
                reply_errorf(x->r,
                             "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP "
                             "with GROUP option",
                             (int)key->n, key->p, (int)a->glen, a->group);
                goto done;
            }
        }
        if (w->n == 1 && w->p[0] == '$') {
            if (a->group) {
                reply_error(x->r, "ERR The $ ID is meaningless in the context of XREADGROUP: you "
                                  "want to read the history of this consumer by specifying a "
                                  "proper ID, or use the > ID to get new messages. The $ ID would "
                                  "just return an empty result set.");
                goto done;
            }
            ids[k] = e ? stream_of(e)->last_id : (struct sid){0, 0};
            /* woken: "$" means the last id when the wait began */
            if (aux && auxlen == sizeof(*ids) * (size_t)n) ids[k] = aux[k];
            any_dollar = true;
            continue;
        }
        if (w->n == 1 && w->p[0] == '>') {
            if (!a->group) {
                reply_error(x->r, "ERR The > ID can be specified only when calling XREADGROUP "
                                  "using the GROUP <group> <consumer> option.");
                goto done;
            }
            ids[k].ms = ids[k].seq = UINT64_MAX;
            continue;
        }
        if (!xparse_id(x, w->p, w->n, 0, &ids[k])) goto done;
    }
    if (retry && !count) count = XREAD_BLOCKED_DEFAULT_COUNT;
    /* woken: Redis 7.0 serves the key that became ready, alone */
    if (retry && !blocking_ready_key(x, &ready_key, &ready_klen)) ready_key = NULL;
    for (k = 0; k < n; k++) {
        const struct argv_ref *key = &x->argv[keys->list[k]];
        struct kv *e = store_lookup_read(x->db, key->p, key->n);
        struct stream *s;
        struct sid gt = ids[k], start, top;
        bool sync = false, history = false, created;
        struct sconsumer *c = NULL;
        if (!e || e->type != OBJ_STREAM) continue;
        if (ready_key && (key->n != ready_klen || memcmp(key->p, ready_key, ready_klen) != 0))
            continue;
        s = stream_of(e);
        if (ready_key) {
            /* woken, as Redis 7.0's serveClientsBlockedOnStreamKey: the key
             * once (its first id decides), served when the stream's last id
             * passed the id waited for, even if those entries are already
             * deleted or trimmed (an empty list then) */
            if (groups) gt = groups[k]->last_id;
            sync = sid_cmp(&s->last_id, &gt) > 0;
        } else if (groups) {
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                sync = history = true;
            } else if (s->length) {
                stream_edge_id(s, false, &top);
                if (sid_cmp(&top, &groups[k]->last_id) > 0) {
                    sync = true;
                    gt = groups[k]->last_id;
                }
            }
        } else if (s->length) {
            stream_edge_id(s, false, &top);
            sync = sid_cmp(&top, &gt) > 0;
        }
        if (!sync) {
            if (ready_key) break;
            continue;
        }
        if (!served++) h = reply_defer(x->r, x->r->resp == 2 ? AGG_ARRAY : AGG_MAP);
        start = gt;
        sid_incr(&start);
        if (x->r->resp == 2) reply_array(x->r, 2);
        reply_bulk(x->r, key->p, key->n);
        created = false;
        if (groups) {
            c = stream_consumer_get(groups[k], a->consumer, a->clen, util_mstime(), &created);
            c->seen_time = util_mstime();
            if (created) store_modified(x->db, e, "xgroup-createconsumer", NOTIFY_STREAM);
            /* Redis propagates XREADGROUP as what it did (XCLAIMs, XGROUP
             * SETID, XGROUP CREATECONSUMER), never as itself */
            propagate_prevent(x);
        }
        xreply_range(x, s, &start, NULL, count, false, groups ? groups[k] : NULL, c,
                     (a->noack ? XRANGE_NOACK : 0) | (history ? XRANGE_HISTORY : 0) |
                         (created ? XRANGE_NEW_CONSUMER : 0),
                     key->p, key->n, a->group, a->glen);
        if (groups) g_store.stats.dirty++;
        if (ready_key) break;
    }
    if (served) {
        reply_set_deferred(x->r, h, served);
        goto done;
    }
    if (a->block) {
        /* Wait with "$" kept as the ids it meant now. */
        if (!blocking_wait(x, keys->list, n, deadline, BT_NULL_ARRAY))
            reply_null_array(x->r);
        else if (any_dollar)
            blocking_set_aux(x, ids, sizeof(*ids) * (size_t)n);
        goto done;
    }
    reply_null_array(x->r);
done:
    free(ids);
    free(groups);
}

/* XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] */
void cmd_xread(struct exec *x)
{
    struct xread_args a;
    /* words Redis's loop takes only to refuse them */
    if (HAS(x, A_XREAD_group_consumer) || HAS(x, A_XREAD_noack)) {
        reply_errorf(x->r,
                     "ERR The %s option is only supported by XREADGROUP. You called XREAD "
                     "instead.",
                     HAS(x, A_XREAD_group_consumer) ? "GROUP" : "NOACK");
        return;
    }
    if (!arg_ok(x, A_XREAD_deferred)) return; /* never set without them (keel_defer) */
    memset(&a, 0, sizeof(a));
    a.count = HAS(x, A_XREAD_count) ? ARGI(x, A_XREAD_count) : 0;
    if (a.count < 0) a.count = 0;
    a.block = HAS(x, A_XREAD_milliseconds);
    a.block_ms = a.block ? ARGI(x, A_XREAD_milliseconds) : 0;
    a.streams_slot = A_XREAD_streams_key;
    a.ids_slot = A_XREAD_streams_id;
    xread_generic(x, &a);
}
