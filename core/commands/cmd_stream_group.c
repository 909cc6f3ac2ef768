/* cmd_stream_group.c — stream consumer groups: XGROUP CREATE / SETID /
 * DESTROY / CREATECONSUMER / DELCONSUMER, XREADGROUP (the body is XREAD's,
 * cmd_stream.c), XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO GROUPS /
 * CONSUMERS / STREAM, with Redis 7.0's replies, errors, keyspace events
 * (xgroup-*) and propagation (claims as XCLAIM ... FORCE JUSTID LASTID). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_stream.h"
#include "commands_gen.h"
#include "listpack.h"
#include "propagate.h"
#include "store.h"
#include "util.h"

#define SLOT_REF(x, slot) (&(x)->argv[(x)->args[(slot)].pos])

static void nogroup(struct exec *x, const struct argv_ref *key, const struct argv_ref *g)
{
    reply_errorf(x->r, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)key->n, key->p,
                 (int)g->n, g->p);
}

/* The key's stream and its group for XGROUP's subcommands (Redis's checks
 * in order); NULL after replying. need_group: SETID / *CONSUMER. */
static struct stream *xgroup_lookup(struct exec *x, const struct argv_ref *key,
                                    const struct argv_ref *gname, bool mkstream, bool need_group,
                                    struct kv **ep, struct sgroup **gp)
{
    bool bad;
    struct kv *e = xlookup(x, key->p, key->n, true, &bad);
    struct stream *s;
    *ep = e;
    *gp = NULL;
    if (bad) return NULL;
    if (!e) {
        if (mkstream) return NULL;
        reply_error(x->r, "ERR The XGROUP subcommand requires the key to exist. Note that for "
                          "CREATE you may want to use the MKSTREAM option to create an empty "
                          "stream automatically.");
        return NULL;
    }
    s = stream_of(e);
    *gp = stream_group_find(s, gname->p, gname->n);
    if (!*gp && need_group) {
        reply_errorf(x->r, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)gname->n, gname->p, (int)key->n, key->p);
        return NULL;
    }
    return s;
}

static bool entries_read_arg(struct exec *x, int slot, long long *er)
{
    *er = SCG_INVALID_READ;
    if (!HAS(x, slot)) return true;
    *er = ARGI(x, slot);
    if (*er < 0 && *er != SCG_INVALID_READ) {
        reply_error(x->r, "ERR value for ENTRIESREAD must be positive or -1");
        return false;
    }
    return true;
}

/* XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read] */
void cmd_xgroup_create(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XGROUP_CREATE_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XGROUP_CREATE_groupname);
    bool mk = HAS(x, A_XGROUP_CREATE_mkstream);
    long long er;
    struct kv *e;
    struct sgroup *g;
    struct stream *s;
    struct sid id = {0, 0};
    unsigned nerr = x->r->nerr;
    if (!entries_read_arg(x, A_XGROUP_CREATE_entries_read, &er)) return;
    s = xgroup_lookup(x, key, gname, mk, false, &e, &g);
    if (x->r->nerr != nerr) return; /* replied an error */
    if (ARG(x, A_XGROUP_CREATE_id)->choice == 1) {
        if (s) id = s->last_id;
    } else {
        const struct argv_ref *w = SLOT_REF(x, A_XGROUP_CREATE_id_id);
        if (!xparse_id(x, w->p, w->n, 0, &id)) return;
    }
    if (!s) {
        e = kv_new_ptr(key->p, key->n, OBJ_STREAM, ENC_STREAM, stream_new());
        s = stream_of(e);
        store_add(x->db, e, "xgroup-create", NOTIFY_STREAM);
        stream_group_create(s, gname->p, gname->n, &id, er);
        reply_ok(x->r);
        return;
    }
    if (!stream_group_create(s, gname->p, gname->n, &id, er)) {
        reply_error(x->r, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    reply_ok(x->r);
    store_modified(x->db, e, "xgroup-create", NOTIFY_STREAM);
}

/* XGROUP SETID key group <id | $> [ENTRIESREAD entries-read] */
void cmd_xgroup_setid(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XGROUP_SETID_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XGROUP_SETID_groupname);
    long long er;
    struct kv *e;
    struct sgroup *g;
    struct stream *s;
    struct sid id;
    if (!entries_read_arg(x, A_XGROUP_SETID_entries_read, &er)) return;
    s = xgroup_lookup(x, key, gname, false, true, &e, &g);
    if (!s) return;
    if (ARG(x, A_XGROUP_SETID_id)->choice == 1) {
        id = s->last_id;
    } else {
        const struct argv_ref *w = SLOT_REF(x, A_XGROUP_SETID_id_id);
        if (!sid_parse(w->p, w->n, 0, true, false, &id, NULL)) {
            reply_error(x->r, ERR_INVALID_ID);
            return;
        }
    }
    g->last_id = id;
    g->entries_read = er;
    reply_ok(x->r);
    store_modified(x->db, e, "xgroup-setid", NOTIFY_STREAM);
}

/* XGROUP DESTROY key group */
void cmd_xgroup_destroy(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XGROUP_DESTROY_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XGROUP_DESTROY_groupname);
    struct kv *e;
    struct sgroup *g;
    struct stream *s = xgroup_lookup(x, key, gname, false, false, &e, &g);
    if (!s) return;
    if (!g) {
        reply_int(x->r, 0);
        return;
    }
    stream_group_destroy(s, gname->p, gname->n);
    reply_int(x->r, 1);
    /* the event also wakes XREADGROUP clients of the group (-NOGROUP) */
    store_modified(x->db, e, "xgroup-destroy", NOTIFY_STREAM);
}

/* XGROUP CREATECONSUMER key group consumer */
void cmd_xgroup_createconsumer(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XGROUP_CREATECONSUMER_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XGROUP_CREATECONSUMER_groupname);
    const struct argv_ref *cname = SLOT_REF(x, A_XGROUP_CREATECONSUMER_consumername);
    struct kv *e;
    struct sgroup *g;
    bool created;
    if (!xgroup_lookup(x, key, gname, false, true, &e, &g)) return;
    stream_consumer_get(g, cname->p, cname->n, util_mstime(), &created);
    reply_int(x->r, created ? 1 : 0);
    if (created) store_modified(x->db, e, "xgroup-createconsumer", NOTIFY_STREAM);
}

/* XGROUP DELCONSUMER key group consumer */
void cmd_xgroup_delconsumer(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XGROUP_DELCONSUMER_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XGROUP_DELCONSUMER_groupname);
    const struct argv_ref *cname = SLOT_REF(x, A_XGROUP_DELCONSUMER_consumername);
    struct kv *e;
    struct sgroup *g;
    long long pending;
    if (!xgroup_lookup(x, key, gname, false, true, &e, &g)) return;
    pending = stream_consumer_delete(g, cname->p, cname->n);
    reply_int(x->r, pending < 0 ? 0 : pending);
    if (pending >= 0) store_modified(x->db, e, "xgroup-delconsumer", NOTIFY_STREAM);
}

/* XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
 * STREAMS key [key ...] id [id ...] */
void cmd_xreadgroup(struct exec *x)
{
    struct xread_args a;
    if (!HAS(x, A_XREADGROUP_group_consumer)) {
        reply_error(x->r, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    memset(&a, 0, sizeof(a));
    a.count = HAS(x, A_XREADGROUP_count) ? ARGI(x, A_XREADGROUP_count) : 0;
    if (a.count < 0) a.count = 0;
    a.block = HAS(x, A_XREADGROUP_milliseconds);
    a.block_ms = a.block ? ARGI(x, A_XREADGROUP_milliseconds) : 0;
    a.streams_slot = A_XREADGROUP_streams_key;
    a.ids_slot = A_XREADGROUP_streams_id;
    a.group = ARGP(x, A_XREADGROUP_group_consumer_group);
    a.glen = ARGN(x, A_XREADGROUP_group_consumer_group);
    a.consumer = ARGP(x, A_XREADGROUP_group_consumer_consumer);
    a.clen = ARGN(x, A_XREADGROUP_group_consumer_consumer);
    a.noack = HAS(x, A_XREADGROUP_noack);
    xread_generic(x, &a);
}

/* XACK key group id [id ...] */
void cmd_xack(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XACK_key), *gname = SLOT_REF(x, A_XACK_group);
    const struct argval *ids = ARG(x, A_XACK_id);
    struct sid *parsed;
    struct sgroup *g = NULL;
    long long acked = 0;
    bool bad;
    int k;
    struct kv *e = xlookup(x, key->p, key->n, true, &bad);
    if (bad) return;
    if (e) g = stream_group_find(stream_of(e), gname->p, gname->n);
    if (!g) { /* no key or group: nothing to ack, the ids unread (as Redis) */
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
    for (k = 0; k < ids->count; k++) {
        unsigned char kb[16];
        void *v;
        sid_encode(kb, &parsed[k]);
        if (rax_remove(g->pel, kb, 16, &v)) {
            struct snack *n = v;
            rax_remove(n->consumer->pel, kb, 16, NULL);
            free(n);
            acked++;
        }
    }
    free(parsed);
    reply_int(x->r, acked);
    if (acked) g_store.stats.dirty++;
}

/* A range bound of XPENDING / XAUTOCLAIM: "-", "+", "(id", "id". */
static bool bound(struct exec *x, const struct argv_ref *w, uint64_t missing, bool start,
                  struct sid *id)
{
    bool excl = false;
    const char *p = w->p;
    size_t n = w->n;
    if (n > 1 && p[0] == '(') {
        excl = true;
        p++;
        n--;
    }
    if (!sid_parse(p, n, missing, !excl, false, id, NULL)) {
        reply_error(x->r, ERR_INVALID_ID);
        return false;
    }
    if (excl && !(start ? sid_incr(id) : sid_decr(id))) {
        reply_error(x->r, start ? "ERR invalid start ID for the interval"
                                : "ERR invalid end ID for the interval");
        return false;
    }
    return true;
}

/* XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
void cmd_xpending(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XPENDING_key),
                          *gname = SLOT_REF(x, A_XPENDING_group);
    bool ext = HAS(x, A_XPENDING_filters), bad;
    long long minidle = 0, count = 0, now = util_mstime(), n = 0;
    struct sid start = {0, 0}, end = {0, 0};
    struct sgroup *g = NULL;
    struct rax_iter ri;
    struct kv *e;
    unsigned char kb[16], ke[16];
    struct rax *pel;
    void *h;
    bool ok;
    if (ext) {
        if (HAS(x, A_XPENDING_filters_min_idle_time))
            minidle = ARGI(x, A_XPENDING_filters_min_idle_time);
        count = ARGI(x, A_XPENDING_filters_count);
        if (count < 0) count = 0;
        if (!bound(x, SLOT_REF(x, A_XPENDING_filters_start), 0, true, &start) ||
            !bound(x, SLOT_REF(x, A_XPENDING_filters_end), UINT64_MAX, false, &end))
            return;
    }
    e = xlookup(x, key->p, key->n, false, &bad);
    if (bad) return;
    if (e) g = stream_group_find(stream_of(e), gname->p, gname->n);
    if (!g) {
        nogroup(x, key, gname);
        return;
    }
    if (!ext) {
        reply_array(x->r, 4);
        reply_int(x->r, (long long)rax_size(g->pel));
        if (!rax_size(g->pel)) {
            reply_null(x->r);
            reply_null(x->r);
            reply_null_array(x->r);
            return;
        }
        rax_iter_start(&ri, g->pel);
        rax_seek(&ri, RAX_FIRST, NULL, 0);
        sid_decode(ri.key, &start);
        rax_seek(&ri, RAX_LAST, NULL, 0);
        sid_decode(ri.key, &end);
        rax_iter_stop(&ri);
        xreply_id(x->r, &start);
        xreply_id(x->r, &end);
        h = reply_defer(x->r, AGG_ARRAY);
        rax_iter_start(&ri, g->consumers);
        for (ok = rax_seek(&ri, RAX_FIRST, NULL, 0); ok; ok = rax_next(&ri)) {
            struct sconsumer *c = ri.data;
            if (!rax_size(c->pel)) continue;
            reply_array(x->r, 2);
            reply_bulk(x->r, (const char *)ri.key, ri.key_len);
            reply_bulk_ll(x->r, (long long)rax_size(c->pel));
            n++;
        }
        rax_iter_stop(&ri);
        reply_set_deferred(x->r, h, n);
        return;
    }
    pel = g->pel;
    if (HAS(x, A_XPENDING_filters_consumer)) {
        const struct argv_ref *cn = SLOT_REF(x, A_XPENDING_filters_consumer);
        struct sconsumer *c = stream_consumer_find(g, cn->p, cn->n);
        if (!c) {
            reply_array(x->r, 0);
            return;
        }
        pel = c->pel;
    }
    sid_encode(kb, &start);
    sid_encode(ke, &end);
    h = reply_defer(x->r, AGG_ARRAY);
    rax_iter_start(&ri, pel);
    for (ok = rax_seek(&ri, RAX_GE, kb, 16); count && ok && memcmp(ri.key, ke, 16) <= 0;
         ok = rax_next(&ri)) {
        struct snack *nack = ri.data;
        long long idle = now - nack->delivery_time;
        struct sid id;
        if (minidle && idle < minidle) continue;
        n++;
        count--;
        sid_decode(ri.key, &id);
        reply_array(x->r, 4);
        xreply_id(x->r, &id);
        reply_bulk(x->r, nack->consumer->name, nack->consumer->nlen);
        reply_int(x->r, idle < 0 ? 0 : idle);
        reply_int(x->r, (long long)nack->delivery_count);
    }
    rax_iter_stop(&ri);
    reply_set_deferred(x->r, h, n);
}

/* One entry as XCLAIM / XAUTOCLAIM reply it: [id, [f, v, ...]] or nil. */
static void reply_one(struct exec *x, struct stream *s, const struct sid *id)
{
    struct stream_iter it;
    struct sid got;
    long long nf;
    stream_iter_start(&it, s, id, id, false);
    if (stream_iter_next(&it, &got, &nf)) {
        char fb[LP_INTBUF], vb[LP_INTBUF];
        const char *f, *v;
        size_t fl, vl;
        reply_array(x->r, 2);
        xreply_id(x->r, &got);
        reply_array(x->r, nf * 2);
        while (stream_iter_field(&it, &f, &fl, fb, &v, &vl, vb)) {
            reply_bulk(x->r, f, fl);
            reply_bulk(x->r, v, vl);
        }
    } else {
        reply_null(x->r);
    }
    stream_iter_stop(&it);
}

static void drop_nack(struct sgroup *g, const unsigned char *k, struct snack *n)
{
    rax_remove(g->pel, k, 16, NULL);
    if (n->consumer) rax_remove(n->consumer->pel, k, 16, NULL);
    free(n);
}

static void give(struct sconsumer *c, const unsigned char *k, struct snack *n)
{
    if (n->consumer == c) return;
    if (n->consumer) rax_remove(n->consumer->pel, k, 16, NULL);
    rax_insert(c->pel, k, 16, n, NULL);
    n->consumer = c;
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
 * [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid] */
void cmd_xclaim(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XCLAIM_key), *gname = SLOT_REF(x, A_XCLAIM_group);
    const struct argv_ref *cname = SLOT_REF(x, A_XCLAIM_consumer);
    const struct argval *ids = ARG(x, A_XCLAIM_id);
    const struct argv_ref *mi = SLOT_REF(x, A_XCLAIM_min_idle_time);
    long long minidle, now = util_mstime(), dtime = -1, retry = -1, n = 0;
    bool justid = HAS(x, A_XCLAIM_justid), force = HAS(x, A_XCLAIM_force), bad, prop_last = false;
    struct sid *parsed, last = {0, 0};
    struct sconsumer *c = NULL;
    struct sgroup *g = NULL;
    struct stream *s;
    struct kv *e = xlookup(x, key->p, key->n, false, &bad);
    void *h;
    int k;
    if (bad) return;
    if (e) g = stream_group_find(stream_of(e), gname->p, gname->n);
    if (!g) {
        nogroup(x, key, gname);
        return;
    }
    s = stream_of(e);
    if (!util_str2ll(mi->p, mi->n, &minidle)) {
        reply_error(x->r, "ERR Invalid min-idle-time argument for XCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    parsed = xmalloc(sizeof(*parsed) * (size_t)ids->count);
    for (k = 0; k < ids->count; k++) {
        /* Redis reads ids up to the first word that is not one, then
         * options: a word here that is no id is an unknown option */
        const struct argv_ref *w = &x->argv[ids->list[k]];
        if (!sid_parse(w->p, w->n, 0, false, false, &parsed[k], NULL)) {
            reply_errorf(x->r, "ERR Unrecognized XCLAIM option '%.*s'", (int)w->n, w->p);
            free(parsed);
            return;
        }
    }
    if (!arg_ok(x, A_XCLAIM_deferred)) { /* the options, read after the ids */
        free(parsed);
        return;
    }
    if (HAS(x, A_XCLAIM_ms)) dtime = now - ARGI(x, A_XCLAIM_ms);
    if (HAS(x, A_XCLAIM_unix_time_milliseconds)) dtime = ARGI(x, A_XCLAIM_unix_time_milliseconds);
    if (HAS(x, A_XCLAIM_count)) retry = ARGI(x, A_XCLAIM_count);
    if (HAS(x, A_XCLAIM_id_lastid)) {
        const struct argv_ref *w = SLOT_REF(x, A_XCLAIM_id_lastid);
        if (!xparse_id(x, w->p, w->n, 0, &last)) {
            free(parsed);
            return;
        }
    }
    if (sid_cmp(&last, &g->last_id) > 0) {
        g->last_id = last;
        prop_last = true;
    }
    if (dtime == -1 || dtime < 0 || dtime > now) dtime = now;
    propagate_prevent(x);
    h = reply_defer(x->r, AGG_ARRAY);
    for (k = 0; k < ids->count; k++) {
        unsigned char kb[16];
        void *v = NULL;
        struct snack *nack;
        sid_encode(kb, &parsed[k]);
        nack = rax_find(g->pel, kb, 16, &v) ? v : NULL;
        if (!stream_has_entry(s, &parsed[k])) {
            if (nack) {
                xpropagate_claim(x, key->p, key->n, gname->p, gname->n, g, &parsed[k], nack);
                prop_last = false;
                g_store.stats.dirty++;
                drop_nack(g, kb, nack);
            }
            continue;
        }
        if (force && !nack) {
            nack = snack_new(NULL, now);
            rax_insert(g->pel, kb, 16, nack, NULL);
        }
        if (!nack) continue;
        if (nack->consumer && minidle && now - nack->delivery_time < minidle) continue;
        if (!c) {
            bool created;
            c = stream_consumer_get(g, cname->p, cname->n, now, &created);
            if (created) store_modified(x->db, e, "xgroup-createconsumer", NOTIFY_STREAM);
        }
        give(c, kb, nack);
        nack->delivery_time = dtime;
        if (retry >= 0)
            nack->delivery_count = (uint64_t)retry;
        else if (!justid)
            nack->delivery_count++;
        if (justid)
            xreply_id(x->r, &parsed[k]);
        else
            reply_one(x, s, &parsed[k]);
        n++;
        c->seen_time = now;
        xpropagate_claim(x, key->p, key->n, gname->p, gname->n, g, &parsed[k], nack);
        prop_last = false;
        g_store.stats.dirty++;
    }
    if (prop_last) {
        char lb[48];
        int ln = sid_format(lb, &g->last_id);
        if (propagating())
            propagate_rewritev(x, 5, "XGROUP", (size_t)6, "SETID", (size_t)5, key->p, key->n,
                               gname->p, gname->n, lb, (size_t)ln);
        g_store.stats.dirty++;
    }
    reply_set_deferred(x->r, h, n);
    free(parsed);
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
void cmd_xautoclaim(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XAUTOCLAIM_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XAUTOCLAIM_group);
    const struct argv_ref *cname = SLOT_REF(x, A_XAUTOCLAIM_consumer);
    const struct argv_ref *mi = SLOT_REF(x, A_XAUTOCLAIM_min_idle_time);
    long long minidle, count = 100;
    long long attempts, now = util_mstime(), n = 0, ndel = 0;
    size_t cap;
    bool justid = HAS(x, A_XAUTOCLAIM_justid), bad, ok;
    struct sid start, endid = {0, 0}, *deleted;
    struct sconsumer *c = NULL;
    struct sgroup *g = NULL;
    struct rax_iter ri;
    unsigned char kb[16];
    struct stream *s;
    struct kv *e;
    void *h;
    /* Redis's order: min-idle-time, start, the options, then the key's
     * type and the group */
    if (!util_str2ll(mi->p, mi->n, &minidle)) {
        reply_error(x->r, "ERR Invalid min-idle-time argument for XAUTOCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    if (!bound(x, SLOT_REF(x, A_XAUTOCLAIM_start), 0, true, &start)) return;
    if (!arg_ok(x, A_XAUTOCLAIM_deferred)) return;
    if (HAS(x, A_XAUTOCLAIM_count)) count = ARGI(x, A_XAUTOCLAIM_count);
    e = xlookup(x, key->p, key->n, false, &bad);
    if (bad) return;
    if (e) g = stream_group_find(stream_of(e), gname->p, gname->n);
    if (!g) {
        nogroup(x, key, gname);
        return;
    }
    s = stream_of(e);
    attempts = count * 10;
    propagate_prevent(x);
    reply_array(x->r, 3);
    /* every step takes one PEL entry (claimed, deleted or skipped): no more
     * ids than the PEL holds, whatever COUNT asks for */
    cap = (size_t)count < rax_size(g->pel) ? (size_t)count : rax_size(g->pel);
    deleted = xmalloc(sizeof(*deleted) * (cap ? cap : 1));
    sid_encode(kb, &start);
    rax_iter_start(&ri, g->pel);
    ok = rax_seek(&ri, RAX_GE, kb, 16);
    /* the reply's first element, the cursor, is known at the end: collect */
    {
        struct sid *claimed = xmalloc(sizeof(*claimed) * (cap ? cap : 1));
        long long k;
        while (attempts-- && count && ok) {
            struct snack *nack = ri.data;
            struct sid id;
            unsigned char cur[16];
            sid_decode(ri.key, &id);
            memcpy(cur, ri.key, 16);
            if (!stream_has_entry(s, &id)) {
                xpropagate_claim(x, key->p, key->n, gname->p, gname->n, g, &id, nack);
                g_store.stats.dirty++;
                drop_nack(g, cur, nack);
                deleted[ndel++] = id;
                count--;
                ok = rax_seek(&ri, RAX_GT, cur, 16);
                continue;
            }
            if (minidle && now - nack->delivery_time < minidle) {
                ok = rax_next(&ri);
                continue;
            }
            if (!c) {
                bool created;
                c = stream_consumer_get(g, cname->p, cname->n, now, &created);
                if (created) store_modified(x->db, e, "xgroup-createconsumer", NOTIFY_STREAM);
            }
            give(c, cur, nack);
            nack->delivery_time = now;
            if (!justid) nack->delivery_count++;
            claimed[n++] = id;
            count--;
            c->seen_time = now;
            xpropagate_claim(x, key->p, key->n, gname->p, gname->n, g, &id, nack);
            g_store.stats.dirty++;
            ok = rax_next(&ri);
        }
        if (ok) sid_decode(ri.key, &endid);
        xreply_id(x->r, &endid);
        h = reply_defer(x->r, AGG_ARRAY);
        for (k = 0; k < n; k++) {
            if (justid)
                xreply_id(x->r, &claimed[k]);
            else
                reply_one(x, s, &claimed[k]);
        }
        reply_set_deferred(x->r, h, n);
        free(claimed);
    }
    rax_iter_stop(&ri);
    reply_array(x->r, ndel);
    for (long long k = 0; k < ndel; k++)
        xreply_id(x->r, &deleted[k]);
    free(deleted);
}
