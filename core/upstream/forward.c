/* forward.c — upstream mode's kernel seam (forward.h): which commands are
 * answered here, routing by key specs, MULTI/EXEC blocks, fan-out merges
 * (DBSIZE, KEYS, SCAN's composite cursor, FLUSHALL/FLUSHDB, SCRIPT
 * LOAD/FLUSH), redirects (MOVED, ASK), retries and errors in doubt. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel.h"
#include "store.h"
#include "tracking.h"
#include "up_route.h"
#include "util.h"

static struct up_transport tp;
static long long inflight;

/* How long a request may be retried (a failover, a restart) before its
 * client gets an error, and how many redirects it may follow. */
#define RETRY_FOR_US (10LL * 1000 * 1000)
#define RETRY_EVERY_MS 100
#define MAX_REDIRECTS 16

#define CROSSSLOT_ERR "CROSSSLOT Keys in request don't hash to the same slot"

/* A client's own state here: its MULTI queue and the request in flight. */
struct fwd_state {
    bool multi, dirty;
    int slot; /* the transaction's slot (-1: none yet) */
    int nq, capq;
    struct {
        int argc;
        struct argv_ref *argv;
        char *mem;
    } * q;
    struct up_req *req;   /* in flight (single request) */
    struct up_group *grp; /* in flight (fan-out) */
    /* WATCH: a connection of the client's own to the watched keys' node
     * (the transport's), until EXEC, DISCARD, UNWATCH or RESET; watching
     * with no connection left (it broke) makes EXEC answer nil. */
    void *pin;
    int pin_node;
    bool watching;
    /* Pipelining: requests sent while earlier ones are out, replayed in
     * order as they complete; a command that cannot join them waits
     * (parked with its argv) until they are all in. */
    struct up_req *ohead, *otail;
    int nout;
    bool parked_wait;
};

/* Requests one client may have out at once. */
#define MAX_PIPELINE 128

enum merge { M_SUM, M_CONCAT, M_ALL_OK };

struct up_group {
    struct client *c;
    const struct command *cmd;
    enum merge kind;
    bool quiet;
    int n, left;
    struct up_value *parts;
};

long long forward_inflight(void)
{
    return inflight;
}

static struct fwd_state *state_of(struct client *c)
{
    if (!c->fwstate) {
        c->fwstate = xcalloc(1, sizeof(struct fwd_state));
        c->fwstate->slot = -1;
    }
    return c->fwstate;
}

static void unwatch(struct fwd_state *fs)
{
    if (fs->pin) tp.unpin(&fs->pin);
    fs->watching = false;
}

static void queue_clear(struct fwd_state *fs)
{
    int i;
    for (i = 0; i < fs->nq; i++) {
        free(fs->q[i].argv);
        free(fs->q[i].mem);
    }
    fs->nq = 0;
    fs->multi = fs->dirty = false;
    fs->slot = -1;
}

/* ---- requests ---- */

/* A request sending the ncmd argument vectors of vs (copied). */
static struct up_req *req_new(struct client *c, const struct command *cmd, int ncmd,
                              const int *argcs, const struct argv_ref *const *vs, int resp)
{
    struct up_req *q = xcalloc(1, sizeof(*q));
    size_t total = 0, off = 0;
    int k, i, nargs = 0;
    struct argv_ref *av;
    for (k = 0; k < ncmd; k++) {
        nargs += argcs[k];
        for (i = 0; i < argcs[k]; i++)
            total += vs[k][i].n + 1;
    }
    q->c = c;
    q->cmd = cmd;
    q->ncmd = ncmd;
    q->cmds = xmalloc(sizeof(*q->cmds) * (size_t)ncmd + sizeof(struct argv_ref) * (size_t)nargs);
    av = (struct argv_ref *)(q->cmds + ncmd);
    q->mem = xmalloc(total ? total : 1);
    for (k = 0; k < ncmd; k++) {
        q->cmds[k].argc = argcs[k];
        q->cmds[k].argv = av;
        for (i = 0; i < argcs[k]; i++) {
            memcpy(q->mem + off, vs[k][i].p, vs[k][i].n);
            q->mem[off + vs[k][i].n] = 0;
            av[i].p = q->mem + off;
            av[i].n = vs[k][i].n;
            off += vs[k][i].n + 1;
        }
        av += argcs[k];
    }
    q->resp = resp;
    q->scan_pos = -1;
    q->slot = -1;
    q->first_us = util_ustime();
    return q;
}

static void req_free(struct up_req *q)
{
    up_value_clear(&q->result);
    up_value_clear(&q->skipped_err);
    free(q->cmds);
    free(q->mem);
    free(q);
}

static void send_req(struct up_req *q)
{
    q->start_us = util_ustime();
    q->sent = true;
    tp.send(q);
}

/* The reply reaches the client (or nobody), which resumes. */
static void deliver(struct client *c, bool quiet, struct up_value *v)
{
    if (c) {
        struct reply quietr = reply_discard;
        up_value_replay(v, quiet ? &quietr : &c->reply);
        if (c->fwstate) {
            c->fwstate->req = NULL;
            c->fwstate->grp = NULL;
        }
        kernel_resume(c);
    }
    up_value_clear(v);
}

static void error_value(struct up_value *v, const char *text)
{
    memset(v, 0, sizeof(*v));
    v->type = UV_ERROR;
    v->n = strlen(text);
    v->s = xmalloc(v->n + 1);
    memcpy(v->s, text, v->n + 1);
}

/* c's command q ran upstream: the slow log, latency, MONITOR and INFO
 * commandstats count it as one run here (the kernel's own accounting),
 * timed from its forwarding to its reply. A transaction is its EXEC. */
static void account(struct client *c, const struct up_req *q, long long usec, bool failed)
{
    const struct up_cmd *w = &q->cmds[q->shown ? q->shown : q->ncmd - 1];
    if (c) kernel_ran_elsewhere(c, q->cmd, w->argc, w->argv, &c->reply, usec, failed);
}

/* ---- fan-out merges ---- */

/* The merged reply reaches g's client; true: it is an error. */
static bool group_finish(struct up_group *g)
{
    struct up_value out;
    int k;
    long long total = 0, sum = 0;
    bool failed;
    memset(&out, 0, sizeof(out));
    for (k = 0; k < g->n; k++)
        if (g->parts[k].type == UV_ERROR) break;
    if (k < g->n) {
        out = g->parts[k];
        memset(&g->parts[k], 0, sizeof(g->parts[k]));
    } else if (g->kind == M_SUM) {
        for (k = 0; k < g->n; k++)
            sum += g->parts[k].type == UV_INT ? g->parts[k].i : 0;
        out.type = UV_INT;
        out.i = sum;
    } else if (g->kind == M_CONCAT) {
        long long at = 0;
        for (k = 0; k < g->n; k++)
            if (up_value_is_agg(&g->parts[k])) total += g->parts[k].i;
        out.type = UV_ARRAY;
        out.i = total;
        out.elem = xcalloc((size_t)(total ? total : 1), sizeof(struct up_value));
        for (k = 0; k < g->n; k++) {
            if (!up_value_is_agg(&g->parts[k])) continue;
            memcpy(out.elem + at, g->parts[k].elem,
                   sizeof(struct up_value) * (size_t)g->parts[k].i);
            at += g->parts[k].i;
            free(g->parts[k].elem);
            g->parts[k].elem = NULL;
            g->parts[k].i = 0;
        }
    } else {
        out = g->parts[0];
        memset(&g->parts[0], 0, sizeof(g->parts[0]));
    }
    failed = out.type == UV_ERROR;
    deliver(g->c, g->quiet, &out);
    for (k = 0; k < g->n; k++)
        up_value_clear(&g->parts[k]);
    free(g->parts);
    free(g);
    return failed;
}

/* ---- the transport's answers ---- */

static bool retryable_error(const struct up_value *v)
{
    return up_value_is_error(v, "TRYAGAIN") || up_value_is_error(v, "CLUSTERDOWN") ||
           up_value_is_error(v, "LOADING") || up_value_is_error(v, "READONLY") ||
           up_value_is_error(v, "MASTERDOWN");
}

/* Try q again after a pause, while its time lasts. */
static bool retry_later(struct up_req *q)
{
    if (util_ustime() - q->first_us > RETRY_FOR_US) return false;
    q->tries++;
    tp.later(q, RETRY_EVERY_MS);
    return true;
}

/* "MOVED 3999 127.0.0.1:6381": the slot and the node. */
static bool parse_redirect(const struct up_value *v, long long *slot, int *node)
{
    const char *sp1 = memchr(v->s, ' ', v->n), *sp2;
    if (!sp1) return false;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(v->s + v->n - sp1 - 1));
    if (!sp2 || !util_str2ll(sp1 + 1, (size_t)(sp2 - sp1 - 1), slot) || *slot < 0 ||
        *slot >= UP_SLOTS)
        return false;
    *node = up_node_parse(sp2 + 1, (size_t)(v->s + v->n - sp2 - 1));
    return *node >= 0;
}

/* SCAN's reply [cursor, keys] with the node's cursor made composite:
 * (node cursor << 8) | master position; 0 after the last master's end. */
static void scan_rewrite(struct up_req *q, struct up_value *v)
{
    int m[UP_MAX_NODES], n = up_route_masters(m, UP_MAX_NODES);
    unsigned long long nc, out;
    char buf[32];
    if (v->type != UV_ARRAY || v->i != 2 || v->elem[0].type != UV_BULK) return;
    nc = strtoull(v->elem[0].s, NULL, 10);
    if (nc == 0)
        out = q->scan_pos + 1 < n ? (unsigned long long)(q->scan_pos + 1) : 0;
    else
        out = (nc << 8) | (unsigned long long)q->scan_pos;
    snprintf(buf, sizeof(buf), "%llu", out);
    free(v->elem[0].s);
    v->elem[0].n = strlen(buf);
    v->elem[0].s = xmalloc(v->elem[0].n + 1);
    memcpy(v->elem[0].s, buf, v->elem[0].n + 1);
}

/* CLIENT TRACKING: what a tracking client's forwarded command read is
 * remembered once its reply is in (invalidations come from the cluster's
 * BCAST tracking through forward_invalidate). */
static void track(struct up_req *q)
{
    struct exec x;
    memset(&x, 0, sizeof(x));
    x.c = q->c;
    x.db = q->c->db;
    x.cmd = q->cmd;
    x.argc = q->cmds[0].argc;
    x.argv = q->cmds[0].argv;
    x.r = &q->c->reply;
    tracking_after_command(&x);
}

void forward_invalidate(const char *key, size_t n)
{
    struct store_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.db = store_db(0);
    ev.key = key;
    ev.klen = n;
    ev.name = key ? "set" : "flushdb";
    tracking_observer(&ev, NULL);
}

/* Replay c's pipelined replies that are in, in order; resume c when all
 * are (a command waited for them), else have its output flushed. */
static void drain(struct client *c)
{
    struct fwd_state *fs = c->fwstate;
    bool any = false;
    while (fs->ohead && fs->ohead->done) {
        struct up_req *h = fs->ohead;
        fs->ohead = h->onext;
        if (!fs->ohead) fs->otail = NULL;
        fs->nout--;
        if (h->noted) c->adapter->defer(c, DEFER_BEGIN);
        up_value_replay(&h->result, &c->reply);
        if (h->noted) c->adapter->defer(c, DEFER_END);
        account(c, h, h->usec, h->result.type == UV_ERROR);
        req_free(h);
        any = true;
    }
    if (fs->nout == 0 && fs->parked_wait) {
        fs->parked_wait = false;
        kernel_resume(c);
    } else if (any) {
        kernel_touch(c);
    }
}

static void finish(struct up_req *q, struct up_value *v)
{
    struct up_group *g = q->g;
    inflight--;
    q->usec = util_ustime() - q->first_us; /* what its client waited */
    if (q->piped) {
        if (!q->c) { /* its client went away */
            up_value_clear(v);
            req_free(q);
            return;
        }
        q->result = *v;
        memset(v, 0, sizeof(*v));
        q->done = true;
        drain(q->c);
        return;
    }
    if (q->pin && q->unpin) tp.unpin(q->pin); /* EXEC unwatches */
    if (q->pin && q->watch_first && q->c && q->c->fwstate)
        q->c->fwstate->pin_node = q->node; /* where the WATCH landed */
    if (q->scan_pos >= 0) scan_rewrite(q, v);
    if (g) {
        g->parts[g->n - g->left] = *v;
        memset(v, 0, sizeof(*v));
        if (--g->left == 0) {
            struct client *c = g->c;
            bool failed = group_finish(g);
            account(c, q, q->usec, failed);
        }
    } else {
        struct client *c = q->c;
        bool failed = v->type == UV_ERROR;
        deliver(c, q->quiet, v);
        account(c, q, q->usec, failed);
        if (c && (c->flags & CF_TRACKING) && q->ncmd == 1) track(q);
    }
    req_free(q);
}

/* Who waits for q's reply (NULL: nobody any more). */
static struct client *owner(const struct up_req *q)
{
    return q->g ? q->g->c : q->c;
}

/* A pinned request (WATCH, or EXEC after one) was redirected. The map
 * follows a MOVED. A WATCH with nothing watched on its connection yet
 * moves there: the old connection goes and the WATCH is sent to the new
 * owner (MOVED) or again once the migrating slot settled (ASK). A later
 * WATCH cannot: the keys watched
 * before are on the old node, and one client's watches span one node
 * (CROSSSLOT, as for a WATCH of another node's keys). EXEC's reply is
 * Redis's (EXECABORT: the queued command was refused, nothing ran, and
 * the watches went with the transaction). True: q was taken (sent
 * again, v cleared). */
static bool pinned_redirect(struct up_req *q, const struct up_value *e, struct up_value *v)
{
    bool ask = up_value_is_error(e, "ASK");
    long long slot;
    int node;
    if (!(up_value_is_error(e, "MOVED") || ask) || !parse_redirect(e, &slot, &node)) return false;
    g_up.redirects++;
    if (!ask) {
        g_up.slot_node[slot] = (int16_t)node;
        tp.refresh();
    }
    if (q->unpin || q->ncmd != 1) return false;
    if (!q->watch_first || q->tries >= MAX_REDIRECTS) {
        up_value_clear(v);
        error_value(v, CROSSSLOT_ERR);
        return false;
    }
    q->tries++;
    tp.unpin(q->pin); /* nothing is watched there */
    if (ask) {
        if (!retry_later(q)) return false; /* the slot did not settle: ASK's error */
    } else {
        q->node = node;
        q->asking = false;
        send_req(q);
    }
    up_value_clear(v);
    return true;
}

void forward_done(struct up_req *q, struct up_value *v)
{
    const struct up_value *e = q->has_skipped_err ? &q->skipped_err : v;
    long long slot;
    int node;
    up_node_count(q->node, util_ustime() - q->start_us, v->type == UV_ERROR);
    if ((!owner(q) && !q->g) || q->pin) {
        if (q->pin && pinned_redirect(q, e, v)) return; /* sent again */
        finish(q, v);
        return;
    }
    if ((up_value_is_error(e, "MOVED") || up_value_is_error(e, "ASK")) &&
        q->tries < MAX_REDIRECTS && parse_redirect(e, &slot, &node)) {
        bool ask = up_value_is_error(e, "ASK");
        g_up.redirects++;
        q->tries++;
        if (!ask) {
            g_up.slot_node[slot] = (int16_t)node;
            tp.refresh();
        }
        up_value_clear(&q->skipped_err);
        q->has_skipped_err = false;
        if (ask && q->ncmd > 1) {
            /* a transaction under migration: ASKING covers one command, so
             * wait for the slot to settle (nothing ran: EXECABORT) */
            if (retry_later(q)) {
                up_value_clear(v);
                return;
            }
        } else {
            up_value_clear(v);
            q->node = node;
            q->asking = ask;
            send_req(q);
            return;
        }
    }
    if (retryable_error(e) && retry_later(q)) {
        if (up_value_is_error(e, "READONLY") || up_value_is_error(e, "CLUSTERDOWN")) tp.refresh();
        up_value_clear(&q->skipped_err);
        q->has_skipped_err = false;
        up_value_clear(v);
        return;
    }
    finish(q, v);
}

void forward_failed(struct up_req *q, const char *why)
{
    struct up_value v;
    char buf[512];
    bool safe = !q->pin && (!q->sent || (q->ncmd == 1 && (q->cmd->flags & CMD_READONLY)));
    if (!owner(q) && !q->g) {
        inflight--;
        req_free(q);
        return;
    }
    if (q->node >= 0 && q->node < g_up.nnodes) up_node_count(q->node, 0, true);
    tp.refresh();
    if (safe && retry_later(q)) return;
    if (safe)
        snprintf(buf, sizeof(buf), "CLUSTERDOWN upstream unavailable (%s: %s)",
                 q->node >= 0 ? g_up.nodes[q->node].addr : "no node", why);
    else
        snprintf(buf, sizeof(buf),
                 "ERR upstream %s: %s; the command may or may not have been applied",
                 g_up.nodes[q->node].addr, why);
    error_value(&v, buf);
    finish(q, &v);
}

void forward_drop(struct up_req *q)
{
    inflight--;
    if (q->piped && q->c) { /* out of its client's queue */
        struct fwd_state *fs = q->c->fwstate;
        struct up_req **pp = &fs->ohead, *prev = NULL;
        while (*pp && *pp != q) {
            prev = *pp;
            pp = &(*pp)->onext;
        }
        if (*pp) {
            *pp = q->onext;
            if (fs->otail == q) fs->otail = prev;
            fs->nout--;
        }
    }
    if (q->g && --q->g->left == 0) {
        q->g->c = NULL;
        group_finish(q->g);
    }
    req_free(q);
}

/* Where q goes now: its slot's owner (the map may have changed), else any. */
static int target(int slot)
{
    if (slot >= 0 && g_up.slot_node[slot] >= 0) return g_up.slot_node[slot];
    return up_route_any();
}

void forward_retry(struct up_req *q)
{
    if (!owner(q) && !q->g) {
        inflight--;
        req_free(q);
        return;
    }
    q->sent = false;
    q->asking = false;
    if (g_up.ready) q->node = target(q->slot); /* the map may have changed */
    if (!g_up.ready || q->node < 0) {
        if (retry_later(q)) return;
        forward_failed(q, "no slot map");
        return;
    }
    send_req(q);
}

/* ---- routing ---- */

/* The one slot of argv's keys: -1 keyless, -2 CROSSSLOT. */
static int slot_of(const struct command *cmd, int argc, const struct argv_ref *argv)
{
    int pos[64], *p = pos, n, i, slot = -1;
    if (g_up.ready && !g_up.cluster) return -1; /* one server holds every key */
    n = registry_getkeys(cmd, argc, argv, pos, 64);
    if (n > 64) {
        p = xmalloc(sizeof(int) * (size_t)n);
        n = registry_getkeys(cmd, argc, argv, p, n);
    }
    for (i = 0; i < n; i++) {
        int s = (int)up_keyslot(argv[p[i]].p, argv[p[i]].n);
        if (slot >= 0 && s != slot) {
            slot = -2;
            break;
        }
        slot = s;
    }
    if (p != pos) free(p);
    return slot;
}

/* Commands Keel answers itself in upstream mode: the connection's own
 * state, Keel's users, its configuration and observability, the
 * subscriptions (messages come from the upstream through the relay), and
 * the cluster and module commands (Keel is one standalone server to its
 * clients: cmd_standalone.c). */
static bool answered_here(const char *name)
{
    static const char *const local[] = {
        "ping",      "echo",        "hello",      "auth",         "client",     "select",
        "info",      "command",     "quit",       "reset",        "acl",        "config",
        "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
        "pubsub",    "monitor",     "slowlog",    "latency",      "shutdown",   "lolwut",
        "unwatch",   "readonly",    "readwrite",  "asking",       "cluster",    "module",
        NULL};
    int i;
    for (i = 0; local[i]; i++)
        if (strcmp(name, local[i]) == 0) return true;
    return false;
}

static bool has_block_option(int argc, const struct argv_ref *argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (argv[i].n == 7 && strncasecmp(argv[i].p, "streams", 7) == 0) return false;
        if (argv[i].n == 5 && strncasecmp(argv[i].p, "block", 5) == 0) return true;
    }
    return false;
}

/* RESP2 upstream only for a RESP2 client whose replies are RESP bytes. */
static int resp_for(const struct reply *r)
{
    return r->resp == 2 && r->ops == tp.resp_ops ? 2 : 3;
}

static int park_and_send(struct client *c, struct up_req *q)
{
    inflight++;
    state_of(c)->req = q;
    kernel_park(c, NULL);
    if (!g_up.ready || q->node < 0) {
        if (!retry_later(q)) forward_failed(q, "no slot map");
        return KERNEL_PARKED;
    }
    send_req(q);
    return KERNEL_PARKED;
}

static int fan_out(struct client *c, const struct command *cmd, enum merge kind, int argc,
                   const struct argv_ref *argv, struct reply *r)
{
    bool quiet = r != &c->reply;
    int resp = resp_for(r);
    int m[UP_MAX_NODES], first[UP_MAX_NODES], n = up_route_masters_slots(m, first, UP_MAX_NODES);
    int k;
    struct up_group *g;
    if (n == 0) { /* every master is needed, and none is known yet */
        reply_error(r, "CLUSTERDOWN upstream unavailable (no slot map yet)");
        return KERNEL_DONE;
    }
    g = xcalloc(1, sizeof(*g));
    g->c = c;
    g->cmd = cmd;
    g->kind = kind;
    g->quiet = quiet;
    g->n = g->left = n;
    g->parts = xcalloc((size_t)n, sizeof(struct up_value));
    state_of(c)->grp = g;
    kernel_park(c, NULL);
    for (k = 0; k < n; k++) {
        struct up_req *q = req_new(c, cmd, 1, &argc, &argv, resp);
        q->c = NULL; /* a part answers its group, whose client it is */
        q->g = g;
        q->node = m[k];
        q->slot = first[k];
        inflight++;
        send_req(q);
    }
    return KERNEL_PARKED;
}

static int scan(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                bool quiet, struct reply *r)
{
    int m[UP_MAX_NODES], first[UP_MAX_NODES], n = up_route_masters_slots(m, first, UP_MAX_NODES);
    unsigned long long cur = strtoull(argv[1].p, NULL, 10);
    struct argv_ref av[argc];
    char buf[32];
    struct up_req *q;
    int pos = (int)(cur & 0xff);
    if (n > 0 && pos >= n) { /* a cursor past the last master: the scan is over */
        reply_array(r, 2);
        reply_bulk(r, "0", 1);
        reply_array(r, 0);
        return KERNEL_DONE;
    }
    memcpy(av, argv, sizeof(av));
    snprintf(buf, sizeof(buf), "%llu", cur >> 8);
    av[1].p = buf;
    av[1].n = strlen(buf);
    {
        /* the node's cursor is sent; the client's is what SLOWLOG and
         * MONITOR show (a second vector, not sent) */
        const struct argv_ref *vs[2] = {av, argv};
        int argcs[2] = {argc, argc};
        q = req_new(c, cmd, 2, argcs, vs, resp_for(r));
        q->ncmd = 1;
        q->shown = 1;
    }
    q->quiet = quiet;
    q->scan_pos = pos;
    q->node = n > 0 ? m[pos] : -1;
    q->slot = n > 0 ? first[pos] : -1;
    return park_and_send(c, q);
}

/* MULTI / EXEC / DISCARD / WATCH, and a command queued between them. */
static int transaction(struct client *c, const struct command *cmd, const char *name, int argc,
                       const struct argv_ref *argv, struct reply *r)
{
    struct fwd_state *fs = state_of(c);
    if (strcmp(name, "multi") == 0) {
        if (fs->multi) {
            reply_error(r, "ERR MULTI calls can not be nested");
            return KERNEL_DONE;
        }
        fs->multi = true;
        fs->slot = -1;
        c->flags |= CF_MULTI;
        reply_ok(r);
        kernel_ran_elsewhere(c, cmd, argc, argv, r, 0, false);
        return KERNEL_DONE;
    }
    if (strcmp(name, "discard") == 0) {
        if (!fs->multi) {
            reply_error(r, "ERR DISCARD without MULTI");
            return KERNEL_DONE;
        }
        queue_clear(fs);
        unwatch(fs);
        c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC);
        reply_ok(r);
        kernel_ran_elsewhere(c, cmd, argc, argv, r, 0, false);
        return KERNEL_DONE;
    }
    if (strcmp(name, "watch") == 0) {
        int s = slot_of(cmd, argc, argv), node;
        struct up_req *q;
        if (fs->multi) {
            reply_error(r, "ERR WATCH inside MULTI is not allowed");
            return KERNEL_DONE;
        }
        node = g_up.ready ? target(s) : -1;
        if (s == -2 || (fs->watching && node != fs->pin_node)) {
            reply_error(r, CROSSSLOT_ERR);
            return KERNEL_DONE;
        }
        q = req_new(c, cmd, 1, &argc, &argv, resp_for(r));
        q->pin = &fs->pin;
        q->node = node;
        q->slot = s;
        q->watch_first = !fs->watching;
        fs->pin_node = node;
        fs->watching = true;
        if (node < 0) { /* no map yet: nothing to pin to */
            fs->watching = false;
            reply_error(r, "CLUSTERDOWN upstream unavailable (no slot map)");
            inflight++;
            forward_drop(q);
            return KERNEL_DONE;
        }
        return park_and_send(c, q);
    }
    if (strcmp(name, "exec") == 0) {
        int n = fs->nq + 2, k, slot = fs->slot;
        int *argcs;
        const struct argv_ref **vs;
        static const struct argv_ref multi_w = {"MULTI", 5}, exec_w = {"EXEC", 4};
        const struct argv_ref *mw = &multi_w, *ew = &exec_w;
        struct up_req *q;
        if (!fs->multi) {
            reply_error(r, "ERR EXEC without MULTI");
            return KERNEL_DONE;
        }
        if (fs->dirty || (c->flags & CF_DIRTY_EXEC)) {
            queue_clear(fs);
            unwatch(fs);
            c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC);
            reply_error(r, "EXECABORT Transaction discarded because of previous errors.");
            return KERNEL_DONE;
        }
        if (fs->watching &&
            (!fs->pin || (slot >= 0 && g_up.ready && target(slot) != fs->pin_node))) {
            /* the watching connection broke: the watched keys cannot be
             * vouched for, as when one changed (nil); or the queued keys'
             * slot is not the watching node's (it moved, or never was):
             * that node would refuse them (MOVED) and abort, as Redis
             * does */
            bool moved = fs->pin != NULL;
            queue_clear(fs);
            unwatch(fs);
            c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC);
            if (moved)
                reply_error(r, "EXECABORT Transaction discarded because of previous errors.");
            else
                reply_null_array(r);
            return KERNEL_DONE;
        }
        argcs = xmalloc(sizeof(int) * (size_t)n);
        vs = xmalloc(sizeof(*vs) * (size_t)n);
        argcs[0] = 1;
        vs[0] = mw;
        for (k = 0; k < fs->nq; k++) {
            argcs[k + 1] = fs->q[k].argc;
            vs[k + 1] = fs->q[k].argv;
        }
        argcs[n - 1] = 1;
        vs[n - 1] = ew;
        q = req_new(c, cmd, n, argcs, vs, resp_for(r));
        free(argcs);
        free(vs);
        queue_clear(fs);
        c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC);
        q->slot = slot;
        q->node = g_up.ready ? target(slot) : -1;
        if (fs->watching) { /* on the watching connection, which EXEC releases */
            q->pin = &fs->pin;
            q->unpin = true;
            q->node = fs->pin_node;
            fs->watching = false;
        }
        return park_and_send(c, q);
    }
    /* queued */
    if (cmd->flags & CMD_NO_MULTI) {
        reply_error(r, "ERR Command not allowed inside a transaction");
        fs->dirty = true;
        return KERNEL_DONE;
    }
    {
        int s = slot_of(cmd, argc, argv), i;
        size_t total = 0, off = 0;
        if (s == -2 || (s >= 0 && fs->slot >= 0 && s != fs->slot)) {
            reply_error(r, CROSSSLOT_ERR);
            fs->dirty = true;
            return KERNEL_DONE;
        }
        if (s >= 0) fs->slot = s;
        if (fs->nq == fs->capq) {
            fs->capq = fs->capq ? fs->capq * 2 : 8;
            fs->q = xrealloc(fs->q, sizeof(*fs->q) * (size_t)fs->capq);
        }
        for (i = 0; i < argc; i++)
            total += argv[i].n + 1;
        fs->q[fs->nq].argc = argc;
        fs->q[fs->nq].argv = xmalloc(sizeof(struct argv_ref) * (size_t)argc);
        fs->q[fs->nq].mem = xmalloc(total);
        for (i = 0; i < argc; i++) {
            memcpy(fs->q[fs->nq].mem + off, argv[i].p, argv[i].n);
            fs->q[fs->nq].mem[off + argv[i].n] = 0;
            fs->q[fs->nq].argv[i].p = fs->q[fs->nq].mem + off;
            fs->q[fs->nq].argv[i].n = argv[i].n;
            off += argv[i].n + 1;
        }
        fs->nq++;
    }
    reply_status(r, "QUEUED");
    return KERNEL_DONE;
}

/* Commands that wait upstream get a connection of their own. */
static bool is_blocking(const struct command *cmd, const char *name, int argc,
                        const struct argv_ref *argv)
{
    return (cmd->flags & CMD_BLOCKING) &&
           ((strcmp(name, "xread") != 0 && strcmp(name, "xreadgroup") != 0) ||
            has_block_option(argc, argv));
}

/* may_pipeline for a command routed to one node (not answered here, not
 * a transaction's, not fanned out): the rest of its conditions. */
static bool may_join(struct client *c, const char *name, bool quiet)
{
    if (!c->adapter || (!c->adapter->defer && strcmp(c->adapter->name, "resp") != 0)) return false;
    if (quiet || (c->flags & (CF_TRACKING | CF_MULTI))) return false;
    if (c->fwstate && (c->fwstate->multi || c->fwstate->watching)) return false;
    /* SCRIPT and FUNCTION's other subcommands go one at a time */
    return !(name[0] == 's' && strcmp(name, "script") == 0) &&
           !(name[0] == 'f' && strcmp(name, "function") == 0);
}

/* Whether this command may be sent while c's earlier ones are out: a
 * plain forwarded command of a RESP-port client (whose replies are
 * written as they come) or of an adapter that notes where a later reply
 * belongs (client_adapter.defer: HTTP batches, WebSocket JSON requests),
 * outside MULTI and WATCH, with its replies on, untracked, and not fanned
 * out. */
static bool may_pipeline(struct client *c, const char *name, bool quiet)
{
    static const char *const serial[] = {"multi",    "exec",    "discard", "watch",
                                         "unwatch",  "select",  "dbsize",  "keys",
                                         "flushall", "flushdb", "scan",    NULL};
    int i;
    for (i = 0; serial[i]; i++)
        if (strcmp(name, serial[i]) == 0) return false;
    return !answered_here(name) && may_join(c, name, quiet);
}

/* c waits (its command parked with a copy of argv) until its pipelined
 * replies are all in. */
static int wait_turn(struct client *c, int argc, const struct argv_ref *argv)
{
    c->fwstate->parked_wait = true;
    kernel_park_command(c, argc, argv);
    return KERNEL_PARKED;
}

/* Send q now; its reply is replayed in its turn (drain). */
static int pipe_send(struct client *c, struct up_req *q)
{
    struct fwd_state *fs = state_of(c);
    q->piped = true;
    if (fs->otail)
        fs->otail->onext = q;
    else
        fs->ohead = q;
    fs->otail = q;
    fs->nout++;
    inflight++;
    if (!g_up.ready || q->node < 0) {
        if (!retry_later(q)) forward_failed(q, "no slot map");
        return KERNEL_DONE;
    }
    send_req(q);
    return KERNEL_DONE;
}

int forward_submit(struct client *c, const struct command *cmd, int argc,
                   const struct argv_ref *argv, struct reply *r)
{
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    const char *name = top->name;
    bool quiet = r != &c->reply;
    struct argval args[MAX_SLOTS];
    struct match_pool mp;
    struct up_req *q;
    bool ok, piping = c->fwstate && c->fwstate->nout > 0;
    int slot;

    /* Earlier pipelined replies are still out: only a plain forwarded
     * command may join them; anything else waits for them. */
    if (piping && !may_pipeline(c, name, quiet)) return wait_turn(c, argc, argv);
    if (c->fwstate && c->fwstate->multi && strcmp(name, "exec") != 0 &&
        strcmp(name, "discard") != 0 && strcmp(name, "multi") != 0 && strcmp(name, "watch") != 0 &&
        strcmp(name, "quit") != 0 && strcmp(name, "reset") != 0)
        return transaction(c, cmd, name, argc, argv, r);
    if (strcmp(name, "multi") == 0 || strcmp(name, "exec") == 0 || strcmp(name, "discard") == 0 ||
        strcmp(name, "watch") == 0)
        return transaction(c, cmd, name, argc, argv, r);
    if (strcmp(name, "select") == 0) {
        /* one keyspace upstream: Redis Cluster's answer for any other */
        if (!(argc == 2 && argv[1].n == 1 && argv[1].p[0] == '0')) {
            reply_error(r, "ERR SELECT is not allowed in cluster mode");
            return KERNEL_DONE;
        }
        return -1;
    }
    if (strcmp(name, "unwatch") == 0 && c->fwstate && c->fwstate->watching) {
        unwatch(c->fwstate);
        reply_ok(r);
        return KERNEL_DONE;
    }
    if (strcmp(name, "ssubscribe") == 0) {
        int i;
        for (i = 1; i < argc; i++)
            tp.shard_subscribe(argv[i].p, argv[i].n);
    }
    if (answered_here(name)) return -1;
    /* The schema still validates: Redis's syntax errors, without a trip. */
    if (piping) { /* an error reply would overtake the ones still out */
        struct reply scratch = reply_discard;
        ok = registry_match_pool(cmd, argc, argv, args, &scratch, &mp);
        registry_match_done(&mp);
        if (!ok || slot_of(cmd, argc, argv) == -2 || c->fwstate->nout >= MAX_PIPELINE ||
            is_blocking(cmd, name, argc, argv))
            return wait_turn(c, argc, argv);
    } else {
        ok = registry_match_pool(cmd, argc, argv, args, r, &mp);
        registry_match_done(&mp);
        if (!ok) {
            kernel_ran_elsewhere(c, cmd, argc, argv, r, 0, true);
            return KERNEL_DONE;
        }
    }

    if (strcmp(cmd->fullname, "dbsize") == 0) return fan_out(c, cmd, M_SUM, argc, argv, r);
    if (strcmp(cmd->fullname, "keys") == 0) return fan_out(c, cmd, M_CONCAT, argc, argv, r);
    if (strcmp(cmd->fullname, "flushall") == 0 || strcmp(cmd->fullname, "flushdb") == 0 ||
        strcmp(cmd->fullname, "script|load") == 0 || strcmp(cmd->fullname, "script|flush") == 0 ||
        strcmp(cmd->fullname, "function|load") == 0 ||
        strcmp(cmd->fullname, "function|delete") == 0 ||
        strcmp(cmd->fullname, "function|flush") == 0 ||
        strcmp(cmd->fullname, "function|restore") == 0)
        return fan_out(c, cmd, M_ALL_OK, argc, argv, r);
    if (strcmp(cmd->fullname, "scan") == 0) return scan(c, cmd, argc, argv, quiet, r);

    slot = slot_of(cmd, argc, argv);
    if (slot == -2) {
        reply_error(r, CROSSSLOT_ERR);
        /* refused before it ran, as Redis's cluster redirections */
        ((struct command *)cmd)->rejected_calls++;
        g_kstats.rejected_calls++;
        return KERNEL_DONE;
    }
    q = req_new(c, cmd, 1, &argc, &argv, resp_for(r));
    q->quiet = quiet;
    q->dedicated = is_blocking(cmd, name, argc, argv);
    q->slot = slot;
    q->node = g_up.ready ? target(slot) : -1;
    /* (may_pipeline's name checks are behind us: a command answered here,
     * a transaction's or a fan-out does not come this far) */
    if (!q->dedicated && may_join(c, name, quiet)) {
        if (!c->adapter->defer) return pipe_send(c, q);
        if (c->adapter->defer(c, DEFER_NOTE)) {
            q->noted = true;
            return pipe_send(c, q);
        }
        if (piping) { /* its reply cannot be placed: after the others */
            inflight++;
            forward_drop(q);
            return wait_turn(c, argc, argv);
        }
    }
    return park_and_send(c, q);
}

/* kernel_settle: c waits until its pipelined replies are all in. */
int forward_settle(struct client *c)
{
    if (!c->fwstate || c->fwstate->nout == 0) return KERNEL_DONE;
    c->fwstate->parked_wait = true;
    kernel_park(c, NULL);
    return KERNEL_PARKED;
}

/* ---- per-client hooks ---- */

static void on_free(struct client *c)
{
    struct fwd_state *fs = c->fwstate;
    if (!fs) return;
    if (fs->req) {
        fs->req->c = NULL;
        fs->req->pin = NULL; /* the state holding it goes below */
        if (tp.cancel) tp.cancel(fs->req);
    }
    if (fs->grp) fs->grp->c = NULL;
    while (fs->ohead) { /* pipelined: answered ones go, the others lose their client */
        struct up_req *h = fs->ohead;
        fs->ohead = h->onext;
        h->c = NULL;
        if (h->done) req_free(h);
    }
    unwatch(fs);
    queue_clear(fs);
    free(fs->q);
    free(fs);
    c->fwstate = NULL;
}

static void on_reset(struct client *c)
{
    if (!c->fwstate) return;
    queue_clear(c->fwstate);
    unwatch(c->fwstate);
    c->flags &= ~(CF_MULTI | CF_DIRTY_EXEC);
}

void forward_init(const struct up_transport *t)
{
    tp = *t;
    client_on_free(on_free);
    client_on_reset(on_reset);
}
