/* cmd_pubsub.c — the pubsub group: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE
 * PUNSUBSCRIBE PUBLISH SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and PUBSUB's
 * subcommands (CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP).
 * The tables and message shapes are core/events/pubsub.c's. */
#include "commands_gen.h"
#include "kernel.h"
#include "pubsub.h"

/* Where (un)subscribe confirmations go: they are pushes, which Redis sends
 * even when the client turned its replies off (CLIENT REPLY OFF / SKIP). */
static struct reply *confirm_sink(struct exec *x)
{
    /* the kernel gives such a command a copy of reply_discard */
    return x->r->ops == reply_discard.ops ? &x->c->reply : x->r;
}

/* Subscribe to, or leave, each repetition of a multiple argument. */
static void subscribe_each(struct exec *x, int slot, enum pubsub_kind k)
{
    const struct argval *a = ARG(x, slot);
    int i;
    for (i = 0; i < a->count; i++) {
        const struct argv_ref *w = &x->argv[a->list[i]];
        pubsub_subscribe(x->c, k, w->p, w->n, confirm_sink(x));
    }
}

static void unsubscribe_each(struct exec *x, int slot, enum pubsub_kind k)
{
    const struct argval *a = ARG(x, slot);
    int i;
    if (!a->present || a->count == 0) {
        pubsub_unsubscribe_all(x->c, k, confirm_sink(x));
        return;
    }
    for (i = 0; i < a->count; i++) {
        const struct argv_ref *w = &x->argv[a->list[i]];
        pubsub_unsubscribe(x->c, k, w->p, w->n, confirm_sink(x));
    }
}

/* SUBSCRIBE channel [channel ...] */
void cmd_subscribe(struct exec *x)
{
    /* Redis refuses it to DENY BLOCKING clients (scripts), but lets MULTI
     * have it for compatibility: nothing to refuse in Keel yet. */
    subscribe_each(x, A_SUBSCRIBE_channel, PS_CHANNEL);
}

/* UNSUBSCRIBE [channel [channel ...]] */
void cmd_unsubscribe(struct exec *x)
{
    unsubscribe_each(x, A_UNSUBSCRIBE_channel, PS_CHANNEL);
}

/* PSUBSCRIBE pattern [pattern ...] */
void cmd_psubscribe(struct exec *x)
{
    subscribe_each(x, A_PSUBSCRIBE_pattern, PS_PATTERN);
}

/* PUNSUBSCRIBE [pattern [pattern ...]] */
void cmd_punsubscribe(struct exec *x)
{
    unsubscribe_each(x, A_PUNSUBSCRIBE_pattern, PS_PATTERN);
}

/* SSUBSCRIBE shardchannel [shardchannel ...] */
void cmd_ssubscribe(struct exec *x)
{
    /* Unlike SUBSCRIBE, Redis 7.0 refuses it inside a transaction. */
    if (x->c->flags & CF_IN_EXEC) {
        reply_error(x->r, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_each(x, A_SSUBSCRIBE_shardchannel, PS_SHARD);
}

/* SUNSUBSCRIBE [shardchannel [shardchannel ...]] */
void cmd_sunsubscribe(struct exec *x)
{
    unsubscribe_each(x, A_SUNSUBSCRIBE_shardchannel, PS_SHARD);
}

/* PUBLISH channel message */
void cmd_publish(struct exec *x)
{
    reply_int(x->r, pubsub_publish(ARGP(x, A_PUBLISH_channel), ARGN(x, A_PUBLISH_channel),
                                   ARGP(x, A_PUBLISH_message), ARGN(x, A_PUBLISH_message)));
}

/* SPUBLISH shardchannel message */
void cmd_spublish(struct exec *x)
{
    reply_int(x->r,
              pubsub_spublish(ARGP(x, A_SPUBLISH_shardchannel), ARGN(x, A_SPUBLISH_shardchannel),
                              ARGP(x, A_SPUBLISH_message), ARGN(x, A_SPUBLISH_message)));
}

/* ---- PUBSUB ---- */

struct list_ctx {
    struct reply *r;
    long long n;
};

static void list_one(void *priv, const char *name, size_t len)
{
    struct list_ctx *l = priv;
    reply_bulk(l->r, name, len);
    l->n++;
}

static void channel_list(struct exec *x, enum pubsub_kind k, int slot)
{
    struct list_ctx l = {x->r, 0};
    void *h = reply_defer(x->r, AGG_ARRAY);
    if (HAS(x, slot))
        pubsub_foreach(k, ARGP(x, slot), ARGN(x, slot), list_one, &l);
    else
        pubsub_foreach(k, NULL, 0, list_one, &l);
    reply_set_deferred(x->r, h, l.n);
}

static void numsub(struct exec *x, enum pubsub_kind k, int slot)
{
    const struct argval *a = ARG(x, slot);
    int n = a->present ? a->count : 0, i;
    /* A flat array of name, count pairs (not a map) in Redis 7.0. */
    reply_array(x->r, 2LL * n);
    for (i = 0; i < n; i++) {
        const struct argv_ref *w = &x->argv[a->list[i]];
        reply_bulk(x->r, w->p, w->n);
        reply_int(x->r, pubsub_numsub(k, w->p, w->n));
    }
}

/* PUBSUB CHANNELS [pattern] */
void cmd_pubsub_channels(struct exec *x)
{
    channel_list(x, PS_CHANNEL, A_PUBSUB_CHANNELS_pattern);
}

/* PUBSUB SHARDCHANNELS [pattern] */
void cmd_pubsub_shardchannels(struct exec *x)
{
    channel_list(x, PS_SHARD, A_PUBSUB_SHARDCHANNELS_pattern);
}

/* PUBSUB NUMSUB [channel [channel ...]] */
void cmd_pubsub_numsub(struct exec *x)
{
    numsub(x, PS_CHANNEL, A_PUBSUB_NUMSUB_channel);
}

/* PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]] */
void cmd_pubsub_shardnumsub(struct exec *x)
{
    numsub(x, PS_SHARD, A_PUBSUB_SHARDNUMSUB_shardchannel);
}

/* PUBSUB NUMPAT */
void cmd_pubsub_numpat(struct exec *x)
{
    reply_int(x->r, pubsub_pattern_count());
}

/* PUBSUB HELP */
void cmd_pubsub_help(struct exec *x)
{
    static const char *const lines[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: "
        "'*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL};
    reply_help(x->r, "PUBSUB", lines);
}
