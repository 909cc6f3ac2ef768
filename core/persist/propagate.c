/* propagate.c — command propagation to the append-only log (propagate.h):
 * per-call frames (nested for EXEC), handler rewrites, the pending list of
 * one top-level call, MULTI/EXEC wrapping, expired keys as DEL. */
#include "propagate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "kernel.h"
#include "lazyfree.h"
#include "rdb.h" /* struct sbuf */
#include "store.h"
#include "util.h"

/* Where the stream goes (core_init wires a fan-out: the AOF, replication). */
static propagate_sink_fn sink;

void propagate_set_sink(propagate_sink_fn fn)
{
    sink = fn;
}

static void feed(int dbid, const void *p, size_t n)
{
    if (sink) sink(dbid, p, n);
}

bool g_propagate_on;
static unsigned consumers;

void propagate_set_consumer(unsigned which, bool on)
{
    if (on)
        consumers |= which;
    else
        consumers &= ~which;
    g_propagate_on = consumers != 0;
}

#define MAX_DEPTH 16

struct frame {
    long long dirty0; /* g_store.stats.dirty at the start */
    size_t pend0;     /* pending ops at the start */
    bool rewritten;   /* the handler chose what to propagate */
    bool forced;
};

struct pop {
    int dbid;
    size_t off, len;
    bool expiry; /* a key's expiry (DEL) met during the call: always kept */
};

static struct frame frames[MAX_DEPTH];
static int depth;
static struct sbuf pend;
static struct pop *pops;
static size_t npops, cappops;

void cmd_exec(struct exec *x);

/* "<c><n>\r\n" into p (no printf: this runs for every propagated
 * argument while the AOF or a backlog is on). Lengths under 100, the
 * usual case, are written without util_ll2str. */
static size_t format_head(unsigned char *p, char c, long long n)
{
    size_t l;
    p[0] = (unsigned char)c;
    if (n >= 0 && n < 10) {
        p[1] = (unsigned char)('0' + n);
        l = 2;
    } else if (n >= 10 && n < 100) {
        p[1] = (unsigned char)('0' + n / 10);
        p[2] = (unsigned char)('0' + n % 10);
        l = 3;
    } else {
        l = 1 + (size_t)util_ll2str((char *)p + 1, n);
    }
    p[l++] = '\r';
    p[l++] = '\n';
    return l;
}

/* One reservation for the whole command (a header is at most 1 + 20 + 2
 * bytes), then the bytes written in place: no per-piece append calls. */
void propagate_format(struct sbuf *out, int argc, const struct argv_ref *argv)
{
    size_t total = 24, i;
    unsigned char *w;
    for (i = 0; i < (size_t)argc; i++)
        total += argv[i].n + 25;
    sbuf_reserve(out, total);
    w = out->p + out->len;
    w += format_head(w, '*', argc);
    for (i = 0; i < (size_t)argc; i++) {
        w += format_head(w, '$', (long long)argv[i].n);
        if (argv[i].n) memcpy(w, argv[i].p, argv[i].n);
        w += argv[i].n;
        *w++ = '\r';
        *w++ = '\n';
    }
    out->len = (size_t)(w - out->p);
}

static void add_op(int dbid, size_t off)
{
    if (npops == cappops) {
        cappops = cappops ? cappops * 2 : 16;
        pops = xrealloc(pops, sizeof(*pops) * cappops);
    }
    pops[npops].dbid = dbid;
    pops[npops].off = off;
    pops[npops].len = pend.len - off;
    pops[npops].expiry = false;
    npops++;
}

/* Drop the ops from index `from` on, but the expiries among them (Redis
 * propagates a key's deletion whatever becomes of the command). */
static void drop_ops_from(size_t from)
{
    size_t i, n = from, w;
    if (from >= npops) return;
    w = pops[from].off;
    for (i = from; i < npops; i++) {
        if (!pops[i].expiry) continue;
        memmove(pend.p + w, pend.p + pops[i].off, pops[i].len);
        pops[n] = pops[i];
        pops[n].off = w;
        w += pops[i].len;
        n++;
    }
    pend.len = w;
    npops = n;
}

static void add_pending(int dbid, int argc, const struct argv_ref *argv)
{
    size_t off = pend.len;
    propagate_format(&pend, argc, argv);
    add_op(dbid, off);
}

/* The running command as it arrived: the adapter's bytes when it has them
 * in the stream's format (client.h's wire; the same bytes formatting argv
 * would give), else argv formatted. A top-level command with nothing
 * pending before it goes straight to the sink, with no staging copy. */
static void add_received(struct exec *x)
{
    const struct client *c = x->c;
    if (c->wire.argv != x->argv || c->wire.argc != x->argc || !x->argv) {
        add_pending(x->db->id, x->argc, x->argv);
    } else if (depth == 0 && npops == 0) {
        feed(x->db->id, c->wire.p, c->wire.n);
    } else {
        size_t off = pend.len;
        sbuf_append(&pend, c->wire.p, c->wire.n);
        add_op(x->db->id, off);
    }
}

static struct frame *top(void)
{
    return depth > 0 && depth <= MAX_DEPTH ? &frames[depth - 1] : NULL;
}

void propagate_rewrite(struct exec *x, int argc, const struct argv_ref *argv)
{
    struct frame *f = top();
    if (!g_propagate_on || !f) return;
    f->rewritten = true;
    if (argc > 0) add_pending(x->db->id, argc, argv);
}

void propagate_rewritev(struct exec *x, int argc, ...)
{
    struct argv_ref v[16];
    va_list ap;
    int i;
    if (!g_propagate_on || argc > 16) return;
    va_start(ap, argc);
    for (i = 0; i < argc; i++) {
        v[i].p = va_arg(ap, const char *);
        v[i].n = va_arg(ap, size_t);
    }
    va_end(ap);
    propagate_rewrite(x, argc, v);
}

void propagate_set_pxat(struct exec *x, const char *key, size_t klen, const char *val, size_t vlen,
                        long long when)
{
    char ms[24];
    int l;
    if (!g_propagate_on) return;
    l = util_ll2str(ms, when);
    propagate_rewritev(x, 5, "SET", (size_t)3, key, klen, val, vlen, "PXAT", (size_t)4, ms,
                       (size_t)l);
}

void propagate_pexpireat(struct exec *x, const char *key, size_t klen, long long when)
{
    char ms[24];
    int l;
    if (!g_propagate_on) return;
    l = util_ll2str(ms, when);
    propagate_rewritev(x, 3, "PEXPIREAT", (size_t)9, key, klen, ms, (size_t)l);
}

void propagate_as_pexpireat(struct exec *x, long long when)
{
    struct argv_ref v[8];
    char ms[24];
    int i, n = x->argc < 8 ? x->argc : 8;
    if (!g_propagate_on || n < 3) return;
    if (util_eqci(x->argv[0].p, x->argv[0].n, "pexpireat")) return; /* already absolute */
    for (i = 0; i < n; i++)
        v[i] = x->argv[i];
    v[0].p = "PEXPIREAT";
    v[0].n = 9;
    v[2].p = ms;
    v[2].n = (size_t)util_ll2str(ms, when);
    propagate_rewrite(x, n, v);
}

void propagate_prevent(struct exec *x)
{
    struct frame *f = top();
    (void)x;
    if (f) f->rewritten = true;
}

void propagate_force(struct exec *x)
{
    struct frame *f = top();
    (void)x;
    if (f) f->forced = true;
}

size_t propagate_mark(void)
{
    return npops;
}

void propagate_drop_since(size_t mark)
{
    drop_ops_from(mark);
}

void propagate_call_begin(void)
{
    if (depth < MAX_DEPTH) {
        struct frame *f = &frames[depth];
        f->dirty0 = g_store.stats.dirty;
        f->pend0 = npops;
        f->rewritten = f->forced = false;
    }
    depth++;
}

static void emit_pending(bool wrap)
{
    static const struct argv_ref multi = {"MULTI", 5}, exec = {"EXEC", 4};
    size_t i;
    if (npops == 0) return;
    wrap = wrap && npops > 1;
    if (wrap) {
        struct sbuf b;
        sbuf_init(&b);
        propagate_format(&b, 1, &multi);
        feed(pops[0].dbid, b.p, b.len);
        sbuf_free(&b);
    }
    for (i = 0; i < npops; i++)
        feed(pops[i].dbid, pend.p + pops[i].off, pops[i].len);
    if (wrap) {
        struct sbuf b;
        sbuf_init(&b);
        propagate_format(&b, 1, &exec);
        feed(-1, b.p, b.len);
        sbuf_free(&b);
    }
    npops = 0;
    pend.len = 0;
    if (pend.cap > 1024 * 1024) {
        sbuf_free(&pend);
        sbuf_init(&pend);
    }
}

void propagate_call_end(struct exec *x)
{
    struct frame *f;
    depth--;
    if (depth >= MAX_DEPTH) return;
    f = &frames[depth];
    if (g_propagate_on) {
        /* (keys expired or evicted meanwhile count no change) */
        long long delta = g_store.stats.dirty - f->dirty0;
        if (x->cmd->fn == cmd_exec) {
            /* EXEC itself is never propagated: its commands were. */
        } else if (delta > 0 || f->forced) {
            if (!f->rewritten) add_received(x);
        } else {
            /* Nothing changed: drop what the handler prepared. */
            drop_ops_from(f->pend0);
        }
    }
    if (depth == 0) {
        /* (SCAN and RANDOMKEY run directly: the keys they found expired
         * are not one transaction, as Redis's CMD_TOUCHES_ARBITRARY_KEYS) */
        if (g_propagate_on) emit_pending(!x->cmd->arbitrary_keys);
        npops = 0;
        pend.len = 0;
    }
}

void propagate_observer(const struct store_event *ev, void *priv)
{
    struct argv_ref v[2];
    struct sbuf b;
    (void)priv;
    /* Keys deleted by expiry or eviction are logged as DEL (or UNLINK). */
    if (!(ev->klass & (NOTIFY_EXPIRED | NOTIFY_EVICTED)) || !ev->key) return;
    if (!g_propagate_on) return;
    /* (UNLINK when the deletion is lazy: lazyfree-lazy-expire /
     * lazyfree-lazy-eviction, as Redis's propagateDeletion) */
    if ((ev->klass & NOTIFY_EXPIRED) ? lazyfree_lazy_expire : g_config.lazyfree_lazy_eviction) {
        v[0].p = "UNLINK";
        v[0].n = 6;
    } else {
        v[0].p = "DEL";
        v[0].n = 3;
    }
    v[1].p = ev->key;
    v[1].n = ev->klen;
    if (depth > 0 && depth <= MAX_DEPTH) {
        /* Met by a command (a lookup found the key expired): it joins the
         * command's own propagation, in one MULTI/EXEC with it, as Redis
         * 7.0 (also_propagate) does. */
        add_pending(ev->db->id, 2, v);
        pops[npops - 1].expiry = true;
        return;
    }
    sbuf_init(&b);
    propagate_format(&b, 2, v);
    feed(ev->db->id, b.p, b.len);
    sbuf_free(&b);
}
