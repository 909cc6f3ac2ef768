/* multi.c — MULTI EXEC DISCARD WATCH UNWATCH (multi.h). The kernel queues a
 * MULTI client's commands here; EXEC runs them back to back through the
 * kernel with the client's own sink, so their replies arrive in its
 * protocol. WATCH is an observer of store events: any event on a watched
 * key (write, expiry, deletion, FLUSHALL of an existing key, SWAPDB) marks
 * the watching clients' transactions dirty. */
#include "multi.h"

#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "dict.h"
#include "kernel.h"
#include "siphash.h"
#include "store.h"
#include "util.h"

struct queued {
    const struct command *cmd;
    int argc;
    struct argv_ref *argv;
    char *mem;
};

struct wkey { /* a watched key of one database, with its watchers */
    struct dnode node;
    struct client **clients;
    int n, cap;
    uint32_t klen;
    char key[];
};

struct wref { /* one key a client watches */
    int dbid;
    struct wkey *wk;
    bool expired; /* already expired when WATCH ran */
};

struct multi_state {
    struct queued *q;
    int nq, capq;
    bool has_write;
    bool has_denyoom; /* a queued command is DENYOOM (EXEC may be refused at OOM) */
    /* Redis's mstate.cmd_flags / cmd_inv_flags: what any queued command
     * has, what any lacks (EXEC refused while loading) */
    uint32_t flags_any, flags_lacking;
    struct wref *w;
    int nw, capw;
};

static uint64_t wk_hash(const struct dnode *n)
{
    const struct wkey *w = (const struct wkey *)n;
    return siphash(w->key, w->klen);
}

static bool wk_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct wkey *w = (const struct wkey *)n;
    return w->klen == len && memcmp(w->key, key, len) == 0;
}

static const struct dict_type wk_type = {wk_hash, wk_eq};
static struct dict *watched; /* one per database, created on first WATCH */
static int nwatched_dbs;
static long long total_watched; /* watched (db, key) pairs: 0 = observer does nothing */

static struct multi_state *state(struct client *c)
{
    if (!c->mstate) c->mstate = xcalloc(1, sizeof(struct multi_state));
    return c->mstate;
}

bool multi_passthrough(const struct command *cmd)
{
    const char *n = cmd->parent ? cmd->parent->name : cmd->name;
    return !strcmp(n, "exec") || !strcmp(n, "discard") || !strcmp(n, "multi") ||
           !strcmp(n, "watch") || !strcmp(n, "quit") || !strcmp(n, "reset");
}

void multi_queue(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv)
{
    struct multi_state *m = state(c);
    struct queued *q;
    size_t total = 0, off = 0;
    uint32_t flags;
    int i;
    if (m->nq == m->capq) {
        m->capq = m->capq ? m->capq * 2 : 8;
        m->q = xrealloc(m->q, sizeof(*m->q) * (size_t)m->capq);
    }
    q = &m->q[m->nq++];
    for (i = 0; i < argc; i++)
        total += argv[i].n + 1;
    q->cmd = cmd;
    q->argc = argc;
    q->argv = xmalloc(sizeof(struct argv_ref) * (size_t)argc);
    q->mem = xmalloc(total ? total : 1);
    for (i = 0; i < argc; i++) {
        memcpy(q->mem + off, argv[i].p, argv[i].n);
        q->mem[off + argv[i].n] = 0;
        q->argv[i].p = q->mem + off;
        q->argv[i].n = argv[i].n;
        off += argv[i].n + 1;
    }
    flags = kernel_call_flags(cmd, argc, argv);
    if (flags & (CMD_WRITE | CMD_MAY_REPLICATE)) m->has_write = true;
    if (flags & CMD_DENYOOM) m->has_denyoom = true;
    m->flags_any |= flags;
    m->flags_lacking |= ~flags;
}

bool multi_exec_is_write(struct client *c, const struct command *cmd)
{
    return (cmd->flags & CMD_WRITE) ||
           (cmd->fn == cmd_exec && (c->flags & CF_MULTI) && multi_any_has(c, CMD_WRITE));
}

void multi_refuse(struct client *c, const struct command *cmd, struct reply *r, const char *err)
{
    if (cmd->fn == cmd_exec && (c->flags & CF_MULTI)) {
        /* Redis's execCommandAbort: the transaction is discarded. */
        reply_errorf(r, "EXECABORT Transaction discarded because of: %s", err);
        multi_discard(c);
        return;
    }
    reply_error(r, err);
}

bool multi_has_write(struct client *c)
{
    return c->mstate && c->mstate->has_write;
}

bool multi_has_denyoom(struct client *c)
{
    return c->mstate && c->mstate->has_denyoom;
}

bool multi_any_has(struct client *c, uint32_t flag)
{
    return (c->flags & CF_MULTI) && c->mstate && (c->mstate->flags_any & flag);
}

bool multi_any_lacks(struct client *c, uint32_t flag)
{
    return (c->flags & CF_MULTI) && c->mstate && (c->mstate->flags_lacking & flag);
}

int multi_queued(struct client *c)
{
    /* Redis keeps the transaction (and shows it) while EXEC runs it. */
    if (!(c->flags & (CF_MULTI | CF_IN_EXEC))) return -1;
    return c->mstate ? c->mstate->nq : 0;
}

size_t multi_mem(struct client *c)
{
    size_t n = 0;
    int i, j;
    if (!(c->flags & (CF_MULTI | CF_IN_EXEC)) || !c->mstate) return 0;
    for (i = 0; i < c->mstate->nq; i++) {
        const struct queued *q = &c->mstate->q[i];
        for (j = 0; j < q->argc; j++)
            n += q->argv[j].n;
        n += sizeof(void *) * (size_t)q->argc;
    }
    return n;
}

size_t multi_watch_count(struct client *c)
{
    return c->mstate ? (size_t)c->mstate->nw : 0;
}

static void free_queue(struct multi_state *m)
{
    int i;
    for (i = 0; i < m->nq; i++) {
        free(m->q[i].argv);
        free(m->q[i].mem);
    }
    m->nq = 0;
    m->has_write = false;
    m->has_denyoom = false;
    m->flags_any = m->flags_lacking = 0;
}

void multi_discard(struct client *c)
{
    if (c->mstate) free_queue(c->mstate);
    c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC | CF_DIRTY_CAS);
    multi_unwatch_all(c);
}

/* ---- WATCH ---- */

static void watch_key(struct client *c, int dbid, const char *key, size_t klen)
{
    struct multi_state *m = state(c);
    struct wkey *wk;
    struct kv *e;
    uint64_t h = siphash(key, klen);
    int i;
    for (i = 0; i < m->nw; i++)
        if (m->w[i].dbid == dbid && m->w[i].wk->klen == klen && !memcmp(m->w[i].wk->key, key, klen))
            return; /* already watched */
    if (dbid >= nwatched_dbs) {
        int n = g_store.ndb;
        watched = xrealloc(watched, sizeof(struct dict) * (size_t)n);
        for (i = nwatched_dbs; i < n; i++)
            dict_init(&watched[i], &wk_type);
        nwatched_dbs = n;
    }
    wk = (struct wkey *)dict_find(&watched[dbid], key, klen, h);
    if (!wk) {
        wk = xcalloc(1, sizeof(struct wkey) + klen);
        wk->klen = (uint32_t)klen;
        memcpy(wk->key, key, klen);
        dict_add(&watched[dbid], &wk->node, h);
    }
    if (wk->n == wk->cap) {
        wk->cap = wk->cap ? wk->cap * 2 : 2;
        wk->clients = xrealloc(wk->clients, sizeof(*wk->clients) * (size_t)wk->cap);
    }
    wk->clients[wk->n++] = c;
    if (m->nw == m->capw) {
        m->capw = m->capw ? m->capw * 2 : 4;
        m->w = xrealloc(m->w, sizeof(*m->w) * (size_t)m->capw);
    }
    e = store_peek(store_db(dbid), key, klen);
    m->w[m->nw].dbid = dbid;
    m->w[m->nw].wk = wk;
    m->w[m->nw].expired = e && store_is_expired(e);
    m->nw++;
    total_watched++;
}

void multi_unwatch_all(struct client *c)
{
    struct multi_state *m = c->mstate;
    int i, j;
    if (!m) return;
    for (i = 0; i < m->nw; i++) {
        struct wkey *wk = m->w[i].wk;
        for (j = 0; j < wk->n; j++) {
            if (wk->clients[j] == c) {
                memmove(&wk->clients[j], &wk->clients[j + 1],
                        sizeof(*wk->clients) * (size_t)(wk->n - j - 1));
                wk->n--;
                break;
            }
        }
        if (wk->n == 0) {
            dict_unlink(&watched[m->w[i].dbid], wk->key, wk->klen, siphash(wk->key, wk->klen));
            free(wk->clients);
            free(wk);
        }
        total_watched--;
    }
    m->nw = 0;
}

static struct wref *find_ref(struct client *c, int dbid, struct wkey *wk)
{
    struct multi_state *m = c->mstate;
    int i;
    for (i = 0; i < m->nw; i++)
        if (m->w[i].dbid == dbid && m->w[i].wk == wk) return &m->w[i];
    return NULL;
}

static void touch_key(int dbid, struct wkey *wk, struct db *db)
{
    int i;
    for (i = 0; i < wk->n; i++) {
        struct client *c = wk->clients[i];
        struct wref *ref = find_ref(c, dbid, wk);
        if (ref && ref->expired) {
            /* Expired already at WATCH: its deletion is no change. */
            if (!store_peek(db, wk->key, wk->klen)) {
                ref->expired = false;
                continue;
            }
        }
        c->flags |= CF_DIRTY_CAS;
    }
}

struct touch_all_ctx {
    int dbid;
    struct db *emptied, *replaced; /* what the db held, what it holds now (swapdb) */
};

/* Redis 7.0's touchAllWatchedKeysInDb: a watched key present (even stale)
 * in the emptied content or in what replaces it breaks the transaction,
 * except that a key already expired at WATCH whose stale copy goes away
 * (or is replaced by another expired one) is no change, and a missing key
 * replaced by an expired one only becomes "expired at WATCH". */
static void touch_if_exists(void *priv, struct dnode *n)
{
    struct touch_all_ctx *t = priv;
    struct wkey *wk = (struct wkey *)n;
    struct kv *e1 = store_peek(t->emptied, wk->key, wk->klen);
    struct kv *e2 = t->replaced ? store_peek(t->replaced, wk->key, wk->klen) : NULL;
    int i;
    if (!e1 && !e2) return;
    for (i = 0; i < wk->n; i++) {
        struct client *c = wk->clients[i];
        struct wref *ref = find_ref(c, t->dbid, wk);
        if (ref && ref->expired) {
            if (!e2) {
                ref->expired = false;
                continue;
            }
            if (store_is_expired(e2)) continue;
        } else if (ref && !e1 && store_is_expired(e2)) {
            ref->expired = true;
            continue;
        }
        c->flags |= CF_DIRTY_CAS;
    }
}

void watch_observer(const struct store_event *ev, void *priv)
{
    int dbid = ev->db->id;
    (void)priv;
    if (total_watched == 0) return;
    if (ev->klass == NOTIFY_KEY_MISS) return; /* a read, not a change */
    if (ev->key) {
        struct wkey *wk;
        if (dbid >= nwatched_dbs) return;
        wk =
            (struct wkey *)dict_find(&watched[dbid], ev->key, ev->klen, siphash(ev->key, ev->klen));
        if (wk) touch_key(dbid, wk, ev->db);
        return;
    }
    if (!strcmp(ev->name, "flushdb")) {
        struct touch_all_ctx t = {dbid, ev->db, NULL};
        if (dbid < nwatched_dbs) dict_foreach(&watched[dbid], touch_if_exists, &t);
    } else if (!strcmp(ev->name, "swapmain") && ev->db2) {
        /* a replica's new dataset in place (store_swap_main): ev->db holds
         * it, ev->db2 the old one (same id) */
        struct touch_all_ctx t = {dbid, ev->db2, ev->db};
        if (dbid < nwatched_dbs) dict_foreach(&watched[dbid], touch_if_exists, &t);
    } else if (!strcmp(ev->name, "swapdb") && ev->db2) {
        /* Sent after the swap: ev->db now holds what ev->db2 held. */
        struct touch_all_ctx t = {dbid, ev->db2, ev->db};
        if (dbid < nwatched_dbs) dict_foreach(&watched[dbid], touch_if_exists, &t);
        if (ev->db2->id < nwatched_dbs) {
            t.dbid = ev->db2->id;
            t.emptied = ev->db;
            t.replaced = ev->db2;
            dict_foreach(&watched[ev->db2->id], touch_if_exists, &t);
        }
    }
}

static bool watched_key_expired(struct client *c)
{
    struct multi_state *m = c->mstate;
    int i;
    if (!m) return false;
    for (i = 0; i < m->nw; i++) {
        struct kv *e;
        if (m->w[i].expired) continue;
        e = store_peek(store_db(m->w[i].dbid), m->w[i].wk->key, m->w[i].wk->klen);
        if (e && store_is_expired(e)) return true;
    }
    return false;
}

static void on_client_free(struct client *c)
{
    if (!c->mstate) return;
    multi_discard(c);
    free(c->mstate->q);
    free(c->mstate->w);
    free(c->mstate);
    c->mstate = NULL;
}

void multi_init(void)
{
    client_on_free(on_client_free);
    client_on_reset(multi_discard);
}

/* ---- commands ---- */

/* MULTI */
void cmd_multi(struct exec *x)
{
    if (x->c->flags & CF_MULTI) {
        reply_error(x->r, "ERR MULTI calls can not be nested");
        return;
    }
    x->c->flags |= CF_MULTI;
    reply_ok(x->r);
}

/* DISCARD */
void cmd_discard(struct exec *x)
{
    if (!(x->c->flags & CF_MULTI)) {
        reply_error(x->r, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(x->c);
    reply_ok(x->r);
}

/* EXEC */
void cmd_exec(struct exec *x)
{
    struct client *c = x->c;
    struct multi_state *m;
    int i, n;
    if (!(c->flags & CF_MULTI)) {
        reply_error(x->r, "ERR EXEC without MULTI");
        return;
    }
    if (watched_key_expired(c)) c->flags |= CF_DIRTY_CAS;
    if (c->flags & CF_DIRTY_EXEC) {
        reply_error(x->r, "EXECABORT Transaction discarded because of previous errors.");
        multi_discard(c);
        return;
    }
    if (c->flags & CF_DIRTY_CAS) {
        reply_null_array(x->r);
        multi_discard(c);
        return;
    }
    m = state(c);
    multi_unwatch_all(c); /* nothing can break it any more */
    c->flags &= ~CF_MULTI;
    c->flags |= CF_IN_EXEC;
    n = m->nq;
    reply_array(x->r, n);
    for (i = 0; i < n; i++) {
        /* ACL rules may have changed since the command was queued. */
        if (kernel_exec_refused(c, m->q[i].cmd, m->q[i].argc, m->q[i].argv, x->r)) continue;
        kernel_run(c, m->q[i].cmd, m->q[i].argc, m->q[i].argv, x->r);
    }
    c->flags &= ~CF_IN_EXEC;
    free_queue(m);
    c->flags &= ~(CF_DIRTY_EXEC | CF_DIRTY_CAS);
}

/* WATCH key [key ...] */
void cmd_watch(struct exec *x)
{
    struct argval *keys = ARG(x, A_WATCH_key);
    int k;
    if (x->c->flags & CF_MULTI) {
        reply_error(x->r, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (k = 0; k < keys->count; k++) {
        const struct argv_ref *a = &x->argv[keys->list[k]];
        watch_key(x->c, x->c->dbid, a->p, a->n);
    }
    reply_ok(x->r);
}

/* UNWATCH */
void cmd_unwatch(struct exec *x)
{
    multi_unwatch_all(x->c);
    x->c->flags &= ~CF_DIRTY_CAS;
    reply_ok(x->r);
}
