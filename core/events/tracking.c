/* tracking.c — client-side caching (tracking.h): the tracking table (key
 * -> ids of the clients that read it, global across databases as in
 * Redis), the BCAST prefix table with the keys changed in the current
 * event-loop iteration, the store observer that turns key changes and
 * flushes into invalidations, and delivering them: a RESP3 push
 * ["invalidate", [key ...]] (nil instead of the array for a flush), or the
 * same payload as a ["message", "__redis__:invalidate", ...] pub/sub
 * message to a RESP2 redirect client in subscribed mode. The CLIENT
 * subcommands are in cmd_tracking.c. */
#include "tracking.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "dict.h"
#include "kernel.h"
#include "server.h"
#include "siphash.h"
#include "store.h"
#include "util.h"

long long tracking_table_max_keys = 1000000;

#define INVALIDATE_CHANNEL "__redis__:invalidate"

/* An invalidation held back for the client whose command is running: Redis
 * sends it after that command's reply (after EXEC's, inside a transaction). */
struct pending {
    char *key; /* NULL: a flush (nil payload) */
    size_t klen;
};

struct tprefix {
    char *p;
    size_t n;
};

struct tracking_state {
    struct dnode node; /* in `owners`, by client id */
    struct client *c;
    uint64_t id;
    unsigned flags; /* TRK_* */
    uint64_t redirect;
    struct client *redir_c; /* NULL once the redirect client is gone */
    struct tprefix *pfx;    /* BCAST prefixes, sorted */
    size_t npfx;
    struct pending *pend;
    size_t npend, cappend;
    /* CLIENT CACHING applies to the next command only: c->cmds and the
     * error count as of the last command that kept the flag. */
    long long caching_cmds;
    unsigned caching_nerr;
};

/* ---- the tracking table ---- */

struct tkey {
    struct dnode node;
    uint64_t hash;
    uint64_t *ids; /* sorted */
    uint32_t nids, capids;
    size_t klen;
    char key[];
};

static uint64_t tkey_hash(const struct dnode *n)
{
    return ((const struct tkey *)n)->hash;
}

static bool tkey_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct tkey *t = (const struct tkey *)n;
    return t->klen == len && memcmp(t->key, key, len) == 0;
}

static const struct dict_type tkey_type = {tkey_hash, tkey_eq};

static uint64_t owner_hash(const struct dnode *n)
{
    return siphash(&((const struct tracking_state *)n)->id, sizeof(uint64_t));
}

static bool owner_eq(const struct dnode *n, const void *key, size_t len)
{
    return len == sizeof(uint64_t) &&
           memcmp(&((const struct tracking_state *)n)->id, key, sizeof(uint64_t)) == 0;
}

static const struct dict_type owner_type = {owner_hash, owner_eq};

/* Redis creates its tables when the first client enables tracking; until
 * then events cost one branch. */
static bool inited;
static struct dict table;  /* struct tkey */
static struct dict owners; /* struct tracking_state of every client that has one */
static unsigned long long total_items;
static long long nclients;    /* clients with CF_TRACKING */
static long long nredirected; /* states whose redir_c is set */

/* ---- the BCAST prefix table ---- */

struct bkey {
    char *key;
    size_t klen;
    uint64_t by; /* id of the client that changed it last (0: none, e.g. expiry) */
    uint64_t seq;
};

struct bprefix {
    char *p;
    size_t n;
    struct client **clients;
    size_t nclients, capclients;
    struct bkey *keys; /* changed in this event-loop iteration */
    size_t nkeys, capkeys;
};

static struct bprefix *prefixes; /* sorted as Redis's rax: bytewise, shorter first */
static size_t nprefixes, capprefixes;
static uint64_t bkey_seq;
static bool bcast_scheduled;

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r) return r;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* A copy of n bytes (n may be 0). */
static char *dupbytes(const char *p, size_t n)
{
    char *d = xmalloc(n ? n : 1);
    if (n) memcpy(d, p, n);
    return d;
}

static void table_init(void)
{
    if (inited) return;
    inited = true;
    dict_init(&table, &tkey_type);
}

static struct tracking_state *state_of(struct client *c)
{
    struct tracking_state *ts = c->tstate;
    if (ts) return ts;
    ts = xcalloc(1, sizeof(*ts));
    ts->c = c;
    ts->id = c->id;
    c->tstate = ts;
    if (!owners.type) dict_init(&owners, &owner_type);
    dict_add(&owners, &ts->node, siphash(&ts->id, sizeof(uint64_t)));
    return ts;
}

static struct tracking_state *owner_by_id(uint64_t id)
{
    if (!owners.type) return NULL;
    return (struct tracking_state *)dict_find(&owners, &id, sizeof(id), siphash(&id, sizeof(id)));
}

/* ---- delivering messages ---- */

static void push_begin(struct client *to, unsigned *saved)
{
    *saved = to->flags & CF_PUSHING;
    to->flags |= CF_PUSHING;
}

static void push_end(struct client *to, unsigned saved)
{
    if (!saved) to->flags &= ~CF_PUSHING;
    kernel_touch(to);
}

/* Where c's invalidations go (c, or its redirect client), writing the
 * message header there; NULL when nothing can be sent (Redis's
 * sendTrackingMessage: a RESP2 client can only receive them through a
 * redirect client in subscribed mode). */
static struct client *message_begin(struct client *c, struct tracking_state *ts, unsigned *saved)
{
    struct client *to = c;
    bool redirected = false;
    if (ts->redirect) {
        if (!ts->redir_c) {
            /* The redirect client is gone: tell a RESP3 client each time. */
            ts->flags |= TRK_BROKEN_REDIR;
            if (c->resp > 2) {
                push_begin(c, saved);
                reply_push(&c->reply, 2);
                reply_bulk(&c->reply, "tracking-redir-broken", 21);
                reply_int(&c->reply, (long long)ts->redirect);
                push_end(c, *saved);
            }
            return NULL;
        }
        to = ts->redir_c;
        redirected = true;
    }
    if (to->resp > 2) {
        push_begin(to, saved);
        reply_push(&to->reply, 2);
        reply_bulk(&to->reply, "invalidate", 10);
        return to;
    }
    if (redirected && to->nsubs > 0) {
        push_begin(to, saved);
        reply_push(&to->reply, 3);
        reply_bulk(&to->reply, "message", 7);
        reply_bulk(&to->reply, INVALIDATE_CHANNEL, sizeof(INVALIDATE_CHANNEL) - 1);
        return to;
    }
    return NULL;
}

static void send_key(struct client *c, struct tracking_state *ts, const char *key, size_t klen)
{
    unsigned saved;
    struct client *to = message_begin(c, ts, &saved);
    if (!to) return;
    reply_array(&to->reply, 1);
    reply_bulk(&to->reply, key, klen);
    push_end(to, saved);
}

/* "Everything is invalid" after a flush. Redis writes the null of the
 * tracking client's protocol whatever the receiver speaks (a RESP3 client
 * redirecting to a RESP2 subscriber sends it "_"), so the payload is
 * encoded with c's version. */
static void send_flush(struct client *c, struct tracking_state *ts)
{
    unsigned saved;
    int resp;
    struct client *to = message_begin(c, ts, &saved);
    if (!to) return;
    resp = to->reply.resp;
    to->reply.resp = c->resp;
    reply_null(&to->reply);
    to->reply.resp = resp;
    push_end(to, saved);
}

static void add_pending(struct tracking_state *ts, const char *key, size_t klen)
{
    if (ts->npend == ts->cappend) {
        ts->cappend = ts->cappend ? ts->cappend * 2 : 4;
        ts->pend = xrealloc(ts->pend, ts->cappend * sizeof(*ts->pend));
    }
    ts->pend[ts->npend].key = key ? dupbytes(key, klen) : NULL;
    ts->pend[ts->npend].klen = klen;
    ts->npend++;
}

static void drop_pending(struct tracking_state *ts, bool deliver)
{
    size_t i;
    for (i = 0; i < ts->npend; i++) {
        if (deliver) {
            if (ts->pend[i].key)
                send_key(ts->c, ts, ts->pend[i].key, ts->pend[i].klen);
            else
                send_flush(ts->c, ts);
        }
        free(ts->pend[i].key);
    }
    ts->npend = 0;
    if (ts->cappend > 16) {
        free(ts->pend);
        ts->pend = NULL;
        ts->cappend = 0;
    }
}

/* ---- the tracking table ---- */

static void tkey_free(struct dnode *n)
{
    struct tkey *t = (struct tkey *)n;
    free(t->ids);
    free(t);
}

static void remember_key(const char *key, size_t klen, uint64_t id)
{
    uint64_t h = siphash(key, klen);
    struct tkey *t = (struct tkey *)dict_find(&table, key, klen, h);
    uint32_t lo, hi;
    if (!t) {
        t = xmalloc(sizeof(*t) + klen);
        t->hash = h;
        t->ids = NULL;
        t->nids = t->capids = 0;
        t->klen = klen;
        memcpy(t->key, key, klen);
        dict_add(&table, &t->node, h);
    }
    lo = 0;
    hi = t->nids;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->nids && t->ids[lo] == id) return;
    if (t->nids == t->capids) {
        t->capids = t->capids ? t->capids * 2 : 2;
        t->ids = xrealloc(t->ids, t->capids * sizeof(*t->ids));
    }
    memmove(&t->ids[lo + 1], &t->ids[lo], (t->nids - lo) * sizeof(*t->ids));
    t->ids[lo] = id;
    t->nids++;
    total_items++;
}

/* Send an invalidation for key to each client that read it, and forget the
 * key (Redis's trackingInvalidateKey without the BCAST half). */
static void invalidate_tracked(const char *key, size_t klen)
{
    uint64_t h;
    struct tkey *t;
    struct client *cur = kernel_current();
    uint32_t i;
    if (dict_size(&table) == 0) return;
    h = siphash(key, klen);
    t = (struct tkey *)dict_unlink(&table, key, klen, h);
    if (!t) return;
    total_items -= t->nids;
    for (i = 0; i < t->nids; i++) {
        struct tracking_state *ts = owner_by_id(t->ids[i]);
        struct client *target;
        if (!ts) continue;
        target = ts->c;
        /* A client that turned tracking off, or switched to BCAST since it
         * read the key, gets nothing. */
        if (!(target->flags & CF_TRACKING) || (ts->flags & TRK_BCAST)) continue;
        if (target == cur) {
            /* NOLOOP: not about its own writes; else after its reply. */
            if (!(ts->flags & TRK_NOLOOP)) add_pending(ts, t->key, t->klen);
            continue;
        }
        send_key(target, ts, t->key, t->klen);
    }
    tkey_free(&t->node);
}

static void free_table(void)
{
    dict_release(&table, tkey_free);
    total_items = 0;
}

/* tracking-table-max-keys: drop random keys, invalidating them for their
 * readers, until the table fits again; the effort grows each time it
 * does not (Redis's trackingLimitUsedSlots). */
static void limit_used_slots(void)
{
    static unsigned timeout_counter;
    int effort;
    unsigned long long max = (unsigned long long)tracking_table_max_keys;
    if (!inited) return;
    dict_maybe_shrink(&table); /* keeps dict_random quick after many invalidations */
    if (tracking_table_max_keys <= 0) return;
    if (dict_size(&table) <= max) {
        timeout_counter = 0;
        return;
    }
    effort = 100 * (int)(timeout_counter + 1);
    while (effort-- > 0) {
        struct tkey *t = (struct tkey *)dict_random(&table);
        char kbuf[128], *key;
        size_t klen;
        if (!t) break;
        klen = t->klen;
        key = klen <= sizeof(kbuf) ? kbuf : xmalloc(klen);
        memcpy(key, t->key, klen);
        invalidate_tracked(key, klen);
        if (key != kbuf) free(key);
        if (dict_size(&table) <= max) {
            timeout_counter = 0;
            dict_maybe_shrink(&table);
            return;
        }
    }
    dict_maybe_shrink(&table);
    timeout_counter++;
}

/* ---- BCAST ---- */

static size_t prefix_find(const char *p, size_t n, bool *found)
{
    size_t lo = 0, hi = nprefixes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = bytes_cmp(prefixes[mid].p, prefixes[mid].n, p, n);
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void bprefix_clear_keys(struct bprefix *bp)
{
    size_t i;
    for (i = 0; i < bp->nkeys; i++)
        free(bp->keys[i].key);
    bp->nkeys = 0;
    if (bp->capkeys > 64) {
        free(bp->keys);
        bp->keys = NULL;
        bp->capkeys = 0;
    }
}

static int bkey_cmp(const void *a, const void *b)
{
    const struct bkey *x = a, *y = b;
    int r = bytes_cmp(x->key, x->klen, y->key, y->klen);
    if (r) return r;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

/* Send one ["invalidate", [keys]] with the keys not last changed by `skip`
 * (NOLOOP; 0: all). */
static void send_bcast(struct client *c, struct tracking_state *ts, const struct bkey *keys,
                       size_t n, uint64_t skip)
{
    size_t i, count = 0;
    unsigned saved;
    struct client *to;
    for (i = 0; i < n; i++)
        if (!skip || keys[i].by != skip) count++;
    if (count == 0) return;
    to = message_begin(c, ts, &saved);
    if (!to) return;
    reply_array(&to->reply, (long long)count);
    for (i = 0; i < n; i++)
        if (!skip || keys[i].by != skip) reply_bulk(&to->reply, keys[i].key, keys[i].klen);
    push_end(to, saved);
}

/* Redis's trackingBroadcastInvalidationMessages (beforeSleep): for each
 * prefix, in order, the keys changed since the last run, sorted, each once. */
static void bcast_flush(void)
{
    size_t i, j, k;
    for (i = 0; i < nprefixes; i++) {
        struct bprefix *bp = &prefixes[i];
        size_t n = 0;
        if (bp->nkeys == 0) continue;
        qsort(bp->keys, bp->nkeys, sizeof(*bp->keys), bkey_cmp);
        /* Keep the last change of each key (whose author NOLOOP checks). */
        for (k = 0; k < bp->nkeys; k++) {
            if (k + 1 < bp->nkeys && bytes_cmp(bp->keys[k].key, bp->keys[k].klen,
                                               bp->keys[k + 1].key, bp->keys[k + 1].klen) == 0) {
                free(bp->keys[k].key);
                continue;
            }
            bp->keys[n++] = bp->keys[k];
        }
        bp->nkeys = n;
        for (j = 0; j < bp->nclients; j++) {
            struct client *c = bp->clients[j];
            struct tracking_state *ts = c->tstate;
            send_bcast(c, ts, bp->keys, bp->nkeys, (ts->flags & TRK_NOLOOP) ? c->id : 0);
        }
        bprefix_clear_keys(bp);
    }
}

static void bcast_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    bcast_scheduled = false;
    bcast_flush();
    kernel_after_events(); /* write the pushes out */
}

static void bcast_schedule(void)
{
    if (bcast_scheduled) return;
    if (g_server.base) {
        /* Once every callback ready in this loop iteration has run. */
        struct timeval now = {0, 0};
        if (event_base_once(g_server.base, -1, EV_TIMEOUT, bcast_cb, NULL, &now) == 0) {
            bcast_scheduled = true;
            return;
        }
    }
    bcast_flush(); /* no event loop (unit tests): right away */
}

static void bcast_remember(const char *key, size_t klen, uint64_t by)
{
    size_t i;
    bool any = false;
    for (i = 0; i < nprefixes; i++) {
        struct bprefix *bp = &prefixes[i];
        if (bp->n > klen || memcmp(bp->p, key, bp->n) != 0) continue;
        if (bp->nkeys == bp->capkeys) {
            bp->capkeys = bp->capkeys ? bp->capkeys * 2 : 8;
            bp->keys = xrealloc(bp->keys, bp->capkeys * sizeof(*bp->keys));
        }
        bp->keys[bp->nkeys].key = dupbytes(key, klen);
        bp->keys[bp->nkeys].klen = klen;
        bp->keys[bp->nkeys].by = by;
        bp->keys[bp->nkeys].seq = bkey_seq++;
        bp->nkeys++;
        any = true;
    }
    if (any) bcast_schedule();
}

static void bcast_add(struct client *c, struct tracking_state *ts, const char *p, size_t n)
{
    bool found;
    size_t i = prefix_find(p, n, &found), k;
    struct bprefix *bp;
    if (!found) {
        if (nprefixes == capprefixes) {
            capprefixes = capprefixes ? capprefixes * 2 : 8;
            prefixes = xrealloc(prefixes, capprefixes * sizeof(*prefixes));
        }
        memmove(&prefixes[i + 1], &prefixes[i], (nprefixes - i) * sizeof(*prefixes));
        nprefixes++;
        bp = &prefixes[i];
        memset(bp, 0, sizeof(*bp));
        bp->p = dupbytes(p, n);
        bp->n = n;
    }
    bp = &prefixes[i];
    for (k = 0; k < bp->nclients; k++)
        if (bp->clients[k] == c) return;
    if (bp->nclients == bp->capclients) {
        bp->capclients = bp->capclients ? bp->capclients * 2 : 4;
        bp->clients = xrealloc(bp->clients, bp->capclients * sizeof(*bp->clients));
    }
    bp->clients[bp->nclients++] = c;
    /* ... and in the client's own sorted list. */
    for (k = 0; k < ts->npfx && bytes_cmp(ts->pfx[k].p, ts->pfx[k].n, p, n) < 0; k++)
        ;
    ts->pfx = xrealloc(ts->pfx, (ts->npfx + 1) * sizeof(*ts->pfx));
    memmove(&ts->pfx[k + 1], &ts->pfx[k], (ts->npfx - k) * sizeof(*ts->pfx));
    ts->pfx[k].p = dupbytes(p, n);
    ts->pfx[k].n = n;
    ts->npfx++;
}

static void bcast_remove(struct client *c, struct tracking_state *ts)
{
    size_t i, k;
    for (i = 0; i < ts->npfx; i++) {
        bool found;
        size_t at = prefix_find(ts->pfx[i].p, ts->pfx[i].n, &found);
        if (found) {
            struct bprefix *bp = &prefixes[at];
            for (k = 0; k < bp->nclients; k++) {
                if (bp->clients[k] == c) {
                    bp->clients[k] = bp->clients[--bp->nclients];
                    break;
                }
            }
            if (bp->nclients == 0) {
                bprefix_clear_keys(bp);
                free(bp->keys);
                free(bp->clients);
                free(bp->p);
                memmove(&prefixes[at], &prefixes[at + 1], (nprefixes - at - 1) * sizeof(*prefixes));
                nprefixes--;
            }
        }
        free(ts->pfx[i].p);
    }
    free(ts->pfx);
    ts->pfx = NULL;
    ts->npfx = 0;
}

/* ---- enabling and disabling ---- */

void tracking_enable(struct client *c, uint64_t redirect, unsigned options, const char *const *pfx,
                     const size_t *pfxlen, size_t npfx)
{
    struct tracking_state *ts = state_of(c);
    size_t i;
    table_init();
    if (!(c->flags & CF_TRACKING)) nclients++;
    c->flags |= CF_TRACKING;
    ts->flags &= ~(TRK_BROKEN_REDIR | TRK_BCAST | TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP);
    if (ts->redir_c) nredirected--;
    ts->redirect = redirect;
    ts->redir_c = redirect ? client_by_id(redirect) : NULL;
    if (ts->redir_c) nredirected++;
    if (options & TRK_BCAST) {
        ts->flags |= TRK_BCAST;
        if (npfx == 0) bcast_add(c, ts, "", 0);
        for (i = 0; i < npfx; i++)
            bcast_add(c, ts, pfx[i], pfxlen[i]);
    }
    ts->flags |= options & (TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP);
}

static void disable(struct client *c, bool deliver)
{
    struct tracking_state *ts = c->tstate;
    if (!ts) return;
    if (ts->flags & TRK_BCAST) bcast_remove(c, ts);
    /* Invalidations held back for this client's reply go out now. */
    if (ts->npend) drop_pending(ts, deliver);
    if (c->flags & CF_TRACKING) {
        nclients--;
        c->flags &= ~CF_TRACKING;
        ts->flags &=
            ~(TRK_BROKEN_REDIR | TRK_BCAST | TRK_OPTIN | TRK_OPTOUT | TRK_CACHING | TRK_NOLOOP);
    }
}

void tracking_disable(struct client *c)
{
    disable(c, true);
}

static void forget_redirect_to(void *priv, struct dnode *n)
{
    struct tracking_state *ts = (struct tracking_state *)n;
    if (ts->redir_c == priv) {
        ts->redir_c = NULL;
        nredirected--;
    }
}

static void on_client_free(struct client *c)
{
    struct tracking_state *ts = c->tstate;
    /* Clients redirecting here now find their redirect broken. */
    if (nredirected > 0) dict_foreach(&owners, forget_redirect_to, c);
    if (!ts) return;
    disable(c, false);
    if (ts->redir_c) nredirected--;
    dict_unlink(&owners, &ts->id, sizeof(ts->id), siphash(&ts->id, sizeof(ts->id)));
    free(ts->pend);
    free(ts);
    c->tstate = NULL;
}

void tracking_init(void)
{
    client_on_free(on_client_free);
}

/* ---- the observer ---- */

/* FLUSHALL emits one "flushdb" per database; Redis sends one "all keys"
 * invalidation per FLUSHALL or FLUSHDB. The events of one FLUSHALL come
 * back to back, for databases 0, 1, 2, ... within the same command. */
static struct {
    bool valid;
    struct client *cur;
    long long cmds, processed, events;
    int dbid;
} last_flush;

static void flush_one(void *priv, struct dnode *n)
{
    struct tracking_state *ts = (struct tracking_state *)n;
    struct client *c = ts->c;
    (void)priv;
    if (!(c->flags & CF_TRACKING)) return;
    if (c == kernel_current())
        add_pending(ts, NULL, 0);
    else
        send_flush(c, ts);
}

static void on_flush(const struct store_event *ev)
{
    struct client *cur = kernel_current();
    long long cmds = cur ? cur->cmds : -1;
    bool same = last_flush.valid && last_flush.cur == cur && last_flush.cmds == cmds &&
                last_flush.processed == g_kstats.commands_processed &&
                last_flush.events + 1 == g_store.stats.events_emitted &&
                ev->db->id == last_flush.dbid + 1;
    last_flush.valid = true;
    last_flush.cur = cur;
    last_flush.cmds = cmds;
    last_flush.processed = g_kstats.commands_processed;
    last_flush.events = g_store.stats.events_emitted;
    last_flush.dbid = ev->db->id;
    if (same) return;
    if (nclients > 0) dict_foreach(&owners, flush_one, NULL);
    /* The table is global: any flush frees it all, as in Redis. */
    free_table();
}

void tracking_observer(const struct store_event *ev, void *priv)
{
    (void)priv;
    if (!inited) return;
    if (!ev->key) {
        /* a replica's new dataset swapped in (swapmain) invalidates all,
         * as Redis 7.0's swapMainDbWithTempDb; swapdb invalidates nothing */
        if (strcmp(ev->name, "flushdb") == 0 || strcmp(ev->name, "swapmain") == 0) on_flush(ev);
        return;
    }
    if (ev->klass & NOTIFY_KEY_MISS) return;
    if (nprefixes > 0) {
        /* Expiry and eviction have no author: NOLOOP does not hide them. */
        struct client *cur = kernel_current();
        uint64_t by = (ev->klass & (NOTIFY_EXPIRED | NOTIFY_EVICTED)) || !cur ? 0 : cur->id;
        bcast_remember(ev->key, ev->klen, by);
    }
    invalidate_tracked(ev->key, ev->klen);
}

/* ---- after each command of a tracking client ---- */

static bool caching_valid(const struct client *c, const struct tracking_state *ts)
{
    if (!(ts->flags & TRK_CACHING)) return false;
    if (c->flags & (CF_IN_EXEC | CF_MULTI)) return true;
    /* Given just before this command: no command (not even a rejected
     * one, which counts an error) came in between. */
    return c->cmds == ts->caching_cmds + 1 && c->reply.nerr == ts->caching_nerr;
}

static bool is_client_subcommand(const struct command *cmd)
{
    return cmd->parent && strcmp(cmd->parent->name, "client") == 0;
}

static void remember_keys(struct exec *x, uint64_t id)
{
    int small[16], *pos = small, n, i;
    n = registry_getkeys(x->cmd, x->argc, x->argv, pos, 16);
    if (n > 16) {
        pos = xmalloc(sizeof(int) * (size_t)n);
        n = registry_getkeys(x->cmd, x->argc, x->argv, pos, n);
    }
    for (i = 0; i < n; i++)
        remember_key(x->argv[pos[i]].p, x->argv[pos[i]].n, id);
    if (pos != small) free(pos);
}

void tracking_after_command(struct exec *x)
{
    struct client *c = x->c;
    struct tracking_state *ts = c->tstate;
    bool in_exec = (c->flags & CF_IN_EXEC) != 0;
    bool queuing = (c->flags & CF_MULTI) && !in_exec;
    const char *name = x->cmd->name;
    if (!ts || !(c->flags & CF_TRACKING)) return;
    /* The keys a read-only command fetched (read-only scripts are tracked
     * through the commands they run). */
    if (!queuing && !(ts->flags & TRK_BCAST) && (x->cmd->flags & CMD_READONLY) &&
        strcmp(name, "eval_ro") != 0 && strcmp(name, "evalsha_ro") != 0 &&
        strcmp(name, "fcall_ro") != 0) {
        bool caching = caching_valid(c, ts);
        bool optin = ts->flags & TRK_OPTIN, optout = ts->flags & TRK_OPTOUT;
        if (!((optin && !caching) || (optout && caching))) remember_keys(x, c->id);
    }
    if (in_exec) return; /* EXEC's own call finishes the job */
    /* CLIENT CACHING lasts for one command; CLIENT subcommands and queuing
     * inside MULTI keep it. */
    if (queuing || is_client_subcommand(x->cmd)) {
        ts->caching_cmds = c->cmds;
        ts->caching_nerr = c->reply.nerr;
    } else {
        ts->flags &= ~TRK_CACHING;
    }
    limit_used_slots();
    if (ts->npend) drop_pending(ts, true);
}

/* ---- queries ---- */

unsigned tracking_flags(const struct client *c)
{
    const struct tracking_state *ts = c->tstate;
    unsigned f;
    if (!ts) return 0;
    f = ts->flags & ~TRK_CACHING;
    if (caching_valid(c, ts)) f |= TRK_CACHING;
    return f;
}

long long tracking_redirect(const struct client *c)
{
    const struct tracking_state *ts = c->tstate;
    if (!(c->flags & CF_TRACKING)) return -1;
    return ts ? (long long)ts->redirect : 0;
}

size_t tracking_prefix_count(const struct client *c)
{
    const struct tracking_state *ts = c->tstate;
    return ts ? ts->npfx : 0;
}

const char *tracking_prefix(const struct client *c, size_t i, size_t *len)
{
    const struct tracking_state *ts = c->tstate;
    *len = ts->pfx[i].n;
    return ts->pfx[i].p;
}

void tracking_set_caching(struct client *c)
{
    struct tracking_state *ts = state_of(c);
    ts->flags |= TRK_CACHING;
    ts->caching_cmds = c->cmds - 1; /* refreshed by this command's after-call */
    ts->caching_nerr = c->reply.nerr;
}

long long tracking_clients(void)
{
    return nclients;
}
unsigned long long tracking_total_keys(void)
{
    return inited ? dict_size(&table) : 0;
}
unsigned long long tracking_total_items(void)
{
    return total_items;
}
unsigned long long tracking_total_prefixes(void)
{
    return nprefixes;
}
