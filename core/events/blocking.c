/* blocking.c — waiting clients, ready keys, timeouts (blocking.h). */
#include "blocking.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "dict.h"
#include "kernel.h"
#include "siphash.h"
#include "store.h"
#include "util.h"

struct bkey { /* a key of one database with clients waiting on it, FIFO */
    struct dnode node;
    struct client **clients;
    int n, cap;
    bool ready;
    uint32_t klen;
    char key[];
};

struct blocking_state {
    int dbid;
    long long deadline; /* unix ms, 0 = none */
    enum block_timeout_reply tr;
    const struct command *cmd;
    int argc;
    struct argv_ref *argv;
    char *mem;
    void *aux; /* the command's own state beside its arguments */
    size_t auxlen;
    struct bkey **keys;
    int nkeys;
    struct client *prev, *next; /* all blocked clients */
};

static uint64_t bk_hash(const struct dnode *n)
{
    const struct bkey *b = (const struct bkey *)n;
    return siphash(b->key, b->klen);
}

static bool bk_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct bkey *b = (const struct bkey *)n;
    return b->klen == len && memcmp(b->key, key, len) == 0;
}

static const struct dict_type bk_type = {bk_hash, bk_eq};
static struct dict *bkeys; /* per database */
static int nbk_dbs;
static long long nblocked;
static struct client *blocked_head, *blocked_tail;

/* Ready keys, in the order they became ready. */
static struct ready {
    int dbid;
    struct bkey *bk;
} * ready;
static int nready, capready;

/* Set while a waiting client's command is being re-run. */
static struct client *retrying;
static bool retry_still_blocked;
static struct bkey *retry_key; /* the ready key being served */

bool blocking_deadline(struct exec *x, long double seconds, long long *deadline_ms)
{
    /* As Redis 7.0's getTimeoutFromObjectOrReply: milliseconds =
     * (long long)ceill(seconds * 1000), so any positive timeout is at least
     * 1 ms (0.0001 times out, it does not wait forever) while -0.5 ms rounds
     * up to 0 (forever). A value no long long holds (inf, 1e400) comes out
     * negative on x86, so it is "negative" here too. A deadline past the end
     * of time (now + ms overflowing) is kept as the last representable
     * instant: Redis wraps, and never times such a client out either. */
    long double ms = ceill(seconds * 1000.0L);
    long long t, now;
    if (isnan(ms) || ms >= 0x1p63L || ms < -0x1p63L) /* outside long long */
        t = LLONG_MIN;
    else
        t = (long long)ms;
    if (t < 0) {
        reply_error(x->r, "ERR timeout is negative");
        return false;
    }
    if (t == 0) {
        *deadline_ms = 0;
        return true;
    }
    now = util_mstime();
    *deadline_ms = t > LLONG_MAX - now ? LLONG_MAX : now + t;
    return true;
}

bool blocking_is_retry(struct exec *x)
{
    return x->c == retrying;
}

bool blocking_ready_key(struct exec *x, const char **key, size_t *klen)
{
    if (x->c != retrying || !retry_key) return false;
    *key = retry_key->key;
    *klen = retry_key->klen;
    return true;
}

size_t blocking_argv_mem(struct client *c)
{
    size_t n = 0;
    int j;
    if (!(c->flags & CF_BLOCKED) || !c->bstate) return 0;
    for (j = 0; j < c->bstate->argc; j++)
        n += c->bstate->argv[j].n;
    return n;
}

void blocking_set_aux(struct exec *x, const void *p, size_t n)
{
    struct blocking_state *b = x->c->bstate;
    if (!b || x->c == retrying) return;
    free(b->aux);
    b->aux = xmalloc(n ? n : 1);
    memcpy(b->aux, p, n);
    b->auxlen = n;
}

const void *blocking_aux(struct exec *x, size_t *n)
{
    if (x->c != retrying || !x->c->bstate || !x->c->bstate->aux) return NULL;
    *n = x->c->bstate->auxlen;
    return x->c->bstate->aux;
}

bool blocking_still_waiting(struct exec *x)
{
    if (!(x->c->flags & CF_BLOCKED)) return false;
    return x->c != retrying || retry_still_blocked;
}

static struct dict *db_dict(int dbid)
{
    if (dbid >= nbk_dbs) {
        int n = g_store.ndb, i;
        bkeys = xrealloc(bkeys, sizeof(struct dict) * (size_t)n);
        for (i = nbk_dbs; i < n; i++)
            dict_init(&bkeys[i], &bk_type);
        nbk_dbs = n;
    }
    return &bkeys[dbid];
}

bool blocking_wait(struct exec *x, const int *key_pos, int nkeys, long long deadline_ms,
                   enum block_timeout_reply tr)
{
    struct client *c = x->c;
    struct blocking_state *b;
    size_t total = 0, off = 0;
    int i;
    if (c == retrying) {
        retry_still_blocked = true;
        return true;
    }
    if (c->flags & (CF_IN_EXEC | CF_MULTI)) return false;
    b = xcalloc(1, sizeof(*b));
    b->dbid = c->dbid;
    b->deadline = deadline_ms;
    b->tr = tr;
    b->cmd = x->cmd;
    b->argc = x->argc;
    for (i = 0; i < x->argc; i++)
        total += x->argv[i].n + 1;
    b->argv = xmalloc(sizeof(struct argv_ref) * (size_t)x->argc);
    b->mem = xmalloc(total ? total : 1);
    for (i = 0; i < x->argc; i++) {
        memcpy(b->mem + off, x->argv[i].p, x->argv[i].n);
        b->mem[off + x->argv[i].n] = 0;
        b->argv[i].p = b->mem + off;
        b->argv[i].n = x->argv[i].n;
        off += x->argv[i].n + 1;
    }
    b->keys = xmalloc(sizeof(struct bkey *) * (size_t)nkeys);
    for (i = 0; i < nkeys; i++) {
        const struct argv_ref *k = &x->argv[key_pos[i]];
        struct dict *d = db_dict(c->dbid);
        uint64_t h = siphash(k->p, k->n);
        struct bkey *bk = (struct bkey *)dict_find(d, k->p, k->n, h);
        int j;
        if (!bk) {
            bk = xcalloc(1, sizeof(struct bkey) + k->n);
            bk->klen = (uint32_t)k->n;
            memcpy(bk->key, k->p, k->n);
            dict_add(d, &bk->node, h);
        }
        for (j = 0; j < bk->n; j++)
            if (bk->clients[j] == c) break;
        if (j < bk->n) continue; /* the same key twice: wait once */
        if (bk->n == bk->cap) {
            bk->cap = bk->cap ? bk->cap * 2 : 4;
            bk->clients = xrealloc(bk->clients, sizeof(*bk->clients) * (size_t)bk->cap);
        }
        bk->clients[bk->n++] = c;
        b->keys[b->nkeys++] = bk;
    }
    b->prev = blocked_tail;
    if (blocked_tail)
        blocked_tail->bstate->next = c;
    else
        blocked_head = c;
    blocked_tail = c;
    c->bstate = b;
    c->flags |= CF_BLOCKED;
    nblocked++;
    kernel_park(c, NULL);
    return true;
}

static void drop_ready(struct bkey *bk)
{
    int i;
    for (i = 0; i < nready; i++) {
        if (ready[i].bk == bk) {
            memmove(&ready[i], &ready[i + 1], sizeof(*ready) * (size_t)(nready - i - 1));
            nready--;
            i--;
        }
    }
}

/* Remove c from every waiting structure (it stays parked: the caller
 * resumes it). */
static void forget(struct client *c)
{
    struct blocking_state *b = c->bstate;
    int i, j;
    if (!b) return;
    for (i = 0; i < b->nkeys; i++) {
        struct bkey *bk = b->keys[i];
        for (j = 0; j < bk->n; j++) {
            if (bk->clients[j] == c) {
                memmove(&bk->clients[j], &bk->clients[j + 1],
                        sizeof(*bk->clients) * (size_t)(bk->n - j - 1));
                bk->n--;
                break;
            }
        }
        if (bk->n == 0) {
            drop_ready(bk);
            dict_unlink(&bkeys[b->dbid], bk->key, bk->klen, siphash(bk->key, bk->klen));
            free(bk->clients);
            free(bk);
        }
    }
    if (b->prev)
        b->prev->bstate->next = b->next;
    else
        blocked_head = b->next;
    if (b->next)
        b->next->bstate->prev = b->prev;
    else
        blocked_tail = b->prev;
    free(b->keys);
    free(b->argv);
    free(b->mem);
    free(b->aux);
    free(b);
    c->bstate = NULL;
    c->flags &= ~CF_BLOCKED;
    nblocked--;
}

static void wake(struct client *c)
{
    forget(c);
    kernel_touch(c);
    kernel_resume(c);
}

static void mark_ready(int dbid, struct bkey *bk)
{
    if (bk->ready) return;
    bk->ready = true;
    if (nready == capready) {
        capready = capready ? capready * 2 : 8;
        ready = xrealloc(ready, sizeof(*ready) * (size_t)capready);
    }
    ready[nready].dbid = dbid;
    ready[nready].bk = bk;
    nready++;
}

static void mark_one(void *priv, struct dnode *n)
{
    mark_ready(*(int *)priv, (struct bkey *)n);
}

/* Every waited-on key of database dbid: its serving re-checks each. */
static void mark_db_ready(int dbid)
{
    if (dbid < nbk_dbs) dict_foreach(&bkeys[dbid], mark_one, &dbid);
}

void blocking_observer(const struct store_event *ev, void *priv)
{
    struct bkey *bk;
    int dbid = ev->db->id;
    (void)priv;
    if (nblocked == 0 || ev->klass == NOTIFY_KEY_MISS) return;
    if (!ev->key) {
        /* SWAPDB (db2 set): a waited-on key of either database may now hold
         * data, as Redis 7.0 rescans both. FLUSHDB / FLUSHALL: every
         * waited-on key is gone (Redis's signalFlushedDb signals them as
         * deleted): XREADGROUP's waiters leave with an error, the others
         * find nothing and wait on. */
        mark_db_ready(dbid);
        if (ev->db2) mark_db_ready(ev->db2->id);
        return;
    }
    if (dbid >= nbk_dbs) return;
    /* Of a stream's own changes Redis 7.0 signals waiters on XADD and
     * XGROUP DESTROY only (a new key, "new", and a deleted one do too):
     * XSETID, XGROUP SETID, XDEL, ... wake no one, the next XADD does (a
     * stream's raised last id alone serves XREAD an empty list) */
    if (ev->klass == NOTIFY_STREAM && strcmp(ev->name, "xadd") != 0 &&
        strcmp(ev->name, "xgroup-destroy") != 0)
        return;
    bk = (struct bkey *)dict_find(&bkeys[dbid], ev->key, ev->klen, siphash(ev->key, ev->klen));
    if (bk) mark_ready(dbid, bk);
}

bool blocking_has_ready(void)
{
    return nready > 0;
}

void blocking_serve(void)
{
    while (nready > 0) {
        struct bkey *bk = ready[0].bk;
        struct client **snap;
        int n, i;
        memmove(&ready[0], &ready[1], sizeof(*ready) * (size_t)(nready - 1));
        nready--;
        bk->ready = false;
        /* Serve in FIFO order; the list changes as clients are served. */
        n = bk->n;
        snap = xmalloc(sizeof(*snap) * (size_t)n);
        memcpy(snap, bk->clients, sizeof(*snap) * (size_t)n);
        for (i = 0; i < n; i++) {
            struct client *c = snap[i];
            struct blocking_state *b = c->bstate;
            struct reply quiet;
            int saved_db = c->dbid;
            long long start_us;
            if (!b) continue; /* served through another key meanwhile */
            start_us = util_monotonic_us();
            retrying = c;
            retry_key = bk;
            retry_still_blocked = false;
            client_select(c, b->dbid);
            kernel_run_again(c, b->cmd, b->argc, b->argv, kernel_parked_reply(c, &quiet));
            retrying = NULL;
            retry_key = NULL;
            client_select(c, saved_db);
            /* bk is freed when its last client leaves: only snap is used. */
            if (!retry_still_blocked) {
                /* LATENCY's command-unblocking: the time to serve the woken
                 * command (Redis's updateStatsOnUnblock reply time). */
                store_latency_sample("command-unblocking", (util_monotonic_us() - start_us) / 1000);
                wake(c);
            }
        }
        free(snap);
    }
}

static void reply_timeout(struct client *c, enum block_timeout_reply tr)
{
    struct reply quiet;
    (void)tr; /* Redis 7.0 times every blocked client out with a null array */
    reply_null_array(kernel_parked_reply(c, &quiet));
}

void blocking_cron(long long now_ms)
{
    struct client *c = blocked_head, *next;
    while (c) {
        next = c->bstate->next;
        if (c->bstate->deadline && c->bstate->deadline <= now_ms) {
            reply_timeout(c, c->bstate->tr);
            wake(c);
        }
        c = next;
    }
}

bool blocking_unblock(struct client *c, bool with_error)
{
    const struct command *cmd;
    struct reply quiet;
    if (!(c->flags & CF_BLOCKED) || !c->bstate) return false;
    cmd = c->bstate->cmd;
    if (with_error)
        reply_error(kernel_parked_reply(c, &quiet),
                    "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        reply_timeout(c, c->bstate->tr);
    wake(c);
    /* Counted as Redis 7.0 counts it: failed, either way. */
    kernel_count_unblocked(c, cmd);
    return true;
}

long long blocking_count(void)
{
    return nblocked;
}

static void on_free(struct client *c)
{
    if (c->bstate) forget(c);
}

void blocking_init(void)
{
    client_on_free(on_free);
}

/* Clients parked elsewhere that CLIENT UNBLOCK also wakes (WAIT's). */
static bool (*unblock_other)(struct client *c, bool with_error);

void blocking_set_unblock_other(bool (*fn)(struct client *c, bool with_error))
{
    unblock_other = fn;
}

/* CLIENT UNBLOCK client-id [TIMEOUT | ERROR] */
void cmd_client_unblock(struct exec *x)
{
    struct client *c = client_by_id((uint64_t)ARGI(x, A_CLIENT_UNBLOCK_client_id));
    bool err = HAS(x, A_CLIENT_UNBLOCK_timeout_error) &&
               ARG(x, A_CLIENT_UNBLOCK_timeout_error)->choice == 1;
    if (ARGI(x, A_CLIENT_UNBLOCK_client_id) < 0) c = NULL;
    reply_int(x->r,
              c && (blocking_unblock(c, err) || (unblock_other && unblock_other(c, err))) ? 1 : 0);
}
