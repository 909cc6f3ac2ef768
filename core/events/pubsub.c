/* pubsub.c — channels, patterns and shard channels (pubsub.h): the server's
 * name -> subscribers tables, each client's subscriptions, message
 * delivery with Redis 7.0's shapes, and the client-output-buffer-limit
 * policy that disconnects slow consumers.
 *
 * One `struct sub` is one (client, name) subscription and sits in two
 * lists at once: its channel's subscribers (the FIFO order Redis delivers
 * in) and its client's subscriptions of that kind (the order UNSUBSCRIBE
 * with no argument leaves them in). Patterns are also kept in one list, in
 * the order they were first subscribed, for PUBLISH to walk. */
#include "pubsub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "client.h"
#include "dict.h"
#include "kernel.h"
#include "reply.h"
#include "siphash.h"
#include "util.h"

struct sub;

struct chan {
    struct dnode node;
    struct sub *head, *tail; /* subscribers, in subscription order */
    long long nsubs;
    struct chan *pprev, *pnext; /* patterns: every pattern, first subscribed first */
    size_t len;
    char name[];
};

struct sub {
    struct chan *ch;
    struct client *c;
    struct sub *cprev, *cnext; /* in ch's subscribers */
    struct sub *lprev, *lnext; /* in c's subscriptions of this kind */
};

struct pubsub_state {
    struct sub *head[PS_NKINDS], *tail[PS_NKINDS];
    int count[PS_NKINDS];
};

static uint64_t chan_hash(const struct dnode *n)
{
    const struct chan *ch = (const struct chan *)n;
    return siphash(ch->name, ch->len);
}

static bool chan_eq(const struct dnode *n, const void *key, size_t len)
{
    const struct chan *ch = (const struct chan *)n;
    return ch->len == len && memcmp(ch->name, key, len) == 0;
}

static const struct dict_type chan_dict_type = {chan_hash, chan_eq};

static struct dict tables[PS_NKINDS];
static bool tables_ready;
static struct chan *patterns_head, *patterns_tail;

static void init_tables(void)
{
    int k;
    if (tables_ready) return;
    for (k = 0; k < PS_NKINDS; k++)
        dict_init(&tables[k], &chan_dict_type);
    tables_ready = true;
}

static struct chan *chan_find(enum pubsub_kind k, const char *name, size_t len)
{
    if (!tables_ready || dict_size(&tables[k]) == 0) return NULL;
    return (struct chan *)dict_find(&tables[k], name, len, siphash(name, len));
}

/* ---- replies: Redis's message and confirmation shapes ---- */

static const char *const subscribe_word[PS_NKINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsubscribe_word[PS_NKINDS] = {"unsubscribe", "punsubscribe",
                                                        "sunsubscribe"};

/* The count a confirmation carries: channels + patterns for the global
 * kinds, shard channels alone for the shard kind (as Redis 7.0). */
static int confirm_count(struct client *c, enum pubsub_kind k)
{
    struct pubsub_state *s = c->psstate;
    if (!s) return 0;
    if (k == PS_SHARD) return s->count[PS_SHARD];
    return s->count[PS_CHANNEL] + s->count[PS_PATTERN];
}

/* Pushes go out even when the client turned replies off (CLIENT REPLY). */
static unsigned begin_push(struct client *c)
{
    unsigned old = c->flags & CF_PUSHING;
    c->flags |= CF_PUSHING;
    return old;
}

static void end_push(struct client *c, unsigned old)
{
    if (!old) c->flags &= ~CF_PUSHING;
}

static void confirm(struct client *c, struct reply *r, const char *word, const char *name,
                    size_t len, int count)
{
    unsigned old = begin_push(c);
    reply_push(r, 3);
    reply_cstr(r, word);
    if (name)
        reply_bulk(r, name, len);
    else
        reply_null(r);
    reply_int(r, count);
    end_push(c, old);
}

/* After writing into another client's sink, have the kernel flush it. */
static void touch(struct client *c)
{
    if (c != kernel_current()) kernel_touch(c);
}

static void message_to(struct client *c, const char *word, size_t wlen, const char *ch,
                       size_t chlen, const char *msg, size_t mlen)
{
    unsigned old = begin_push(c);
    reply_push(&c->reply, 3);
    reply_bulk(&c->reply, word, wlen);
    reply_bulk(&c->reply, ch, chlen);
    reply_bulk(&c->reply, msg, mlen);
    end_push(c, old);
    touch(c);
}

void pubsub_message_to(struct client *c, const char *ch, size_t chlen, const char *msg, size_t mlen)
{
    message_to(c, "message", 7, ch, chlen, msg, mlen);
}

static void pmessage_to(struct client *c, const struct chan *pat, const char *ch, size_t chlen,
                        const char *msg, size_t mlen)
{
    unsigned old = begin_push(c);
    reply_push(&c->reply, 4);
    reply_bulk(&c->reply, "pmessage", 8);
    reply_bulk(&c->reply, pat->name, pat->len);
    reply_bulk(&c->reply, ch, chlen);
    reply_bulk(&c->reply, msg, mlen);
    end_push(c, old);
    touch(c);
}

/* ---- delivery ---- */

long long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen)
{
    long long receivers = 0;
    struct chan *c = chan_find(PS_CHANNEL, ch, chlen), *p;
    struct sub *s;
    if (c) {
        for (s = c->head; s; s = s->cnext) {
            message_to(s->c, "message", 7, ch, chlen, msg, mlen);
            receivers++;
        }
    }
    for (p = patterns_head; p; p = p->pnext) {
        if (!util_glob(p->name, p->len, ch, chlen, false)) continue;
        for (s = p->head; s; s = s->cnext) {
            pmessage_to(s->c, p, ch, chlen, msg, mlen);
            receivers++;
        }
    }
    return receivers;
}

long long pubsub_spublish(const char *ch, size_t chlen, const char *msg, size_t mlen)
{
    long long receivers = 0;
    struct chan *c = chan_find(PS_SHARD, ch, chlen);
    struct sub *s;
    if (!c) return 0;
    for (s = c->head; s; s = s->cnext) {
        message_to(s->c, "smessage", 8, ch, chlen, msg, mlen);
        receivers++;
    }
    return receivers;
}

/* ---- subscriptions ---- */

static struct pubsub_state *state_of(struct client *c)
{
    if (!c->psstate) c->psstate = xcalloc(1, sizeof(struct pubsub_state));
    return c->psstate;
}

/* c's subscription to ch, scanning whichever list is shorter. */
static struct sub *sub_find(struct client *c, enum pubsub_kind k, struct chan *ch)
{
    struct pubsub_state *st = c->psstate;
    struct sub *s;
    if (!st || !ch) return NULL;
    if (ch->nsubs <= st->count[k]) {
        for (s = ch->head; s; s = s->cnext)
            if (s->c == c) return s;
    } else {
        for (s = st->head[k]; s; s = s->lnext)
            if (s->ch == ch) return s;
    }
    return NULL;
}

bool pubsub_subscribe(struct client *c, enum pubsub_kind k, const char *name, size_t len,
                      struct reply *r)
{
    struct chan *ch;
    struct sub *s;
    struct pubsub_state *st;
    bool added = false;
    init_tables();
    ch = chan_find(k, name, len);
    if (!sub_find(c, k, ch)) {
        if (!ch) {
            ch = xcalloc(1, sizeof(*ch) + len + 1);
            memcpy(ch->name, name, len);
            ch->len = len;
            dict_add(&tables[k], &ch->node, siphash(name, len));
            if (k == PS_PATTERN) {
                ch->pprev = patterns_tail;
                if (patterns_tail)
                    patterns_tail->pnext = ch;
                else
                    patterns_head = ch;
                patterns_tail = ch;
            }
        }
        st = state_of(c);
        s = xcalloc(1, sizeof(*s));
        s->ch = ch;
        s->c = c;
        s->cprev = ch->tail;
        if (ch->tail)
            ch->tail->cnext = s;
        else
            ch->head = s;
        ch->tail = s;
        ch->nsubs++;
        s->lprev = st->tail[k];
        if (st->tail[k])
            st->tail[k]->lnext = s;
        else
            st->head[k] = s;
        st->tail[k] = s;
        st->count[k]++;
        c->nsubs++;
        added = true;
    }
    if (r) confirm(c, r, subscribe_word[k], name, len, confirm_count(c, k));
    return added;
}

static void chan_free_if_empty(enum pubsub_kind k, struct chan *ch)
{
    if (ch->nsubs > 0) return;
    dict_unlink(&tables[k], ch->name, ch->len, siphash(ch->name, ch->len));
    if (k == PS_PATTERN) {
        if (ch->pprev)
            ch->pprev->pnext = ch->pnext;
        else
            patterns_head = ch->pnext;
        if (ch->pnext)
            ch->pnext->pprev = ch->pprev;
        else
            patterns_tail = ch->pprev;
    }
    free(ch);
}

/* Unlink s from both its lists and free it; its channel stays (the caller
 * may still need its name) until chan_free_if_empty. */
static void sub_remove(enum pubsub_kind k, struct sub *s)
{
    struct chan *ch = s->ch;
    struct client *c = s->c;
    struct pubsub_state *st = c->psstate;
    if (s->cprev)
        s->cprev->cnext = s->cnext;
    else
        ch->head = s->cnext;
    if (s->cnext)
        s->cnext->cprev = s->cprev;
    else
        ch->tail = s->cprev;
    ch->nsubs--;
    if (s->lprev)
        s->lprev->lnext = s->lnext;
    else
        st->head[k] = s->lnext;
    if (s->lnext)
        s->lnext->lprev = s->lprev;
    else
        st->tail[k] = s->lprev;
    st->count[k]--;
    c->nsubs--;
    free(s);
}

bool pubsub_unsubscribe(struct client *c, enum pubsub_kind k, const char *name, size_t len,
                        struct reply *r)
{
    struct chan *ch = chan_find(k, name, len);
    struct sub *s = sub_find(c, k, ch);
    if (s) sub_remove(k, s);
    if (r) confirm(c, r, unsubscribe_word[k], name, len, confirm_count(c, k));
    if (s) chan_free_if_empty(k, ch);
    return s != NULL;
}

int pubsub_unsubscribe_all(struct client *c, enum pubsub_kind k, struct reply *r)
{
    struct pubsub_state *st = c->psstate;
    int n = 0;
    while (st && st->head[k]) {
        struct sub *s = st->head[k];
        struct chan *ch = s->ch;
        sub_remove(k, s);
        if (r) confirm(c, r, unsubscribe_word[k], ch->name, ch->len, confirm_count(c, k));
        chan_free_if_empty(k, ch);
        n++;
    }
    if (n == 0 && r) confirm(c, r, unsubscribe_word[k], NULL, 0, confirm_count(c, k));
    return n;
}

void pubsub_reset(struct client *c)
{
    int k;
    if (!c->psstate) return;
    for (k = 0; k < PS_NKINDS; k++)
        pubsub_unsubscribe_all(c, (enum pubsub_kind)k, NULL);
    free(c->psstate);
    c->psstate = NULL;
    c->nsubs = 0;
}

static void on_client_free(struct client *c)
{
    pubsub_reset(c);
}

void pubsub_init(void)
{
    client_on_free(on_client_free);
}

int pubsub_client_count(struct client *c, enum pubsub_kind k)
{
    struct pubsub_state *st = c->psstate;
    return st ? st->count[k] : 0;
}

bool pubsub_is_subscribed(struct client *c, const char *ch, size_t chlen)
{
    return sub_find(c, PS_CHANNEL, chan_find(PS_CHANNEL, ch, chlen)) != NULL;
}

long long pubsub_numsub(enum pubsub_kind k, const char *name, size_t len)
{
    struct chan *ch = chan_find(k, name, len);
    return ch ? ch->nsubs : 0;
}

long long pubsub_channel_count(void)
{
    return tables_ready ? (long long)dict_size(&tables[PS_CHANNEL]) : 0;
}

long long pubsub_pattern_count(void)
{
    return tables_ready ? (long long)dict_size(&tables[PS_PATTERN]) : 0;
}

long long pubsub_shard_channel_count(void)
{
    return tables_ready ? (long long)dict_size(&tables[PS_SHARD]) : 0;
}

struct foreach_ctx {
    const char *pat;
    size_t plen;
    void (*fn)(void *priv, const char *name, size_t len);
    void *priv;
};

static void foreach_one(void *priv, struct dnode *n)
{
    struct foreach_ctx *f = priv;
    struct chan *ch = (struct chan *)n;
    if (f->pat && !util_glob(f->pat, f->plen, ch->name, ch->len, false)) return;
    f->fn(f->priv, ch->name, ch->len);
}

void pubsub_foreach(enum pubsub_kind k, const char *pat, size_t plen,
                    void (*fn)(void *priv, const char *name, size_t len), void *priv)
{
    struct foreach_ctx f = {pat, plen, fn, priv};
    if (!tables_ready) return;
    dict_foreach(&tables[k], foreach_one, &f);
}

bool pubsub_client_all(struct client *c, enum pubsub_kind k,
                       bool (*fn)(void *priv, const char *name, size_t len), void *priv)
{
    struct pubsub_state *st = c->psstate;
    struct sub *s;
    if (!st) return true;
    for (s = st->head[k]; s; s = s->lnext)
        if (!fn(priv, s->ch->name, s->ch->len)) return false;
    return true;
}
