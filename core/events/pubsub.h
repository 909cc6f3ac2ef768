/* pubsub.h — channels, patterns and shard channels: who is subscribed to
 * what, and delivering messages. PUBLISH, keyspace notifications and
 * tracking invalidations (RESP2 redirect) all deliver through here.
 * Also the slow-consumer policy, client-output-buffer-limit, which every
 * adapter applies to the output it holds for a client. */
#ifndef KEEL_PUBSUB_H
#define KEEL_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct reply;

/* The three kinds of subscription, as Redis keeps them apart. */
enum pubsub_kind { PS_CHANNEL = 0, PS_PATTERN = 1, PS_SHARD = 2, PS_NKINDS = 3 };

/* Deliver msg on channel to its subscribers and matching patterns; returns
 * the number of receivers (PUBLISH's reply). */
long long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen);
/* The same for a shard channel (SPUBLISH). */
long long pubsub_spublish(const char *ch, size_t chlen, const char *msg, size_t mlen);
/* Write one ["message", channel, payload] push to c (RESP3 push / RESP2
 * array) and schedule its flush. */
void pubsub_message_to(struct client *c, const char *ch, size_t chlen, const char *msg,
                       size_t mlen);
bool pubsub_is_subscribed(struct client *c, const char *ch, size_t chlen);
/* Channels (not patterns) with at least one subscriber: for tests and INFO. */
long long pubsub_channel_count(void);
long long pubsub_pattern_count(void);
long long pubsub_shard_channel_count(void);

/* ---- subscriptions (core/commands/cmd_pubsub.c) ---- */

/* Subscribe c to name (a channel, pattern or shard channel) and write the
 * confirmation ["subscribe"|"psubscribe"|"ssubscribe", name, count] to r.
 * Returns true if it was not subscribed yet. */
bool pubsub_subscribe(struct client *c, enum pubsub_kind k, const char *name, size_t len,
                      struct reply *r);
/* Unsubscribe c from name, writing the confirmation to r (r NULL: none).
 * Returns true if it was subscribed. */
bool pubsub_unsubscribe(struct client *c, enum pubsub_kind k, const char *name, size_t len,
                        struct reply *r);
/* Unsubscribe c from every subscription of kind k, in subscription order,
 * with a confirmation each in r; when there was none and r is given, one
 * confirmation with a nil name. Returns how many were left. */
int pubsub_unsubscribe_all(struct client *c, enum pubsub_kind k, struct reply *r);
/* Leave everything silently (RESET, disconnect). */
void pubsub_reset(struct client *c);
/* Subscriptions of c of kind k (CLIENT LIST sub= psub= ssub=). */
/* Register the per-client hook (core_init). */
void pubsub_init(void);
int pubsub_client_count(struct client *c, enum pubsub_kind k);

/* Whether fn holds for every subscription of c of kind k, in order
 * (ACL: a user's clients whose channels were revoked). */
bool pubsub_client_all(struct client *c, enum pubsub_kind k,
                       bool (*fn)(void *priv, const char *name, size_t len), void *priv);
/* Subscribers of a channel / shard channel (PUBSUB NUMSUB, SHARDNUMSUB). */
long long pubsub_numsub(enum pubsub_kind k, const char *name, size_t len);
/* Visit the channels (or shard channels) with subscribers whose name
 * matches pat (pat NULL: all), in no particular order. */
void pubsub_foreach(enum pubsub_kind k, const char *pat, size_t plen,
                    void (*fn)(void *priv, const char *name, size_t len), void *priv);

/* ---- keyspace notifications (core/events/notify.c) ---- */

/* notify-keyspace-events: its normalised text (CONFIG GET) and setter. */
extern char *g_notify_keyspace_events;
struct config_entry;
const char *notify_config_set(const struct config_entry *e, const char *v);
/* The store observer that publishes keyspace events. */
struct store_event;
void notify_observer(const struct store_event *ev, void *priv);

#endif
