/* stream_tail.h — following a stream from a browser, shared by the HTTP
 * and WebSocket adapters: the connection runs a loop of
 * XREAD COUNT 100 BLOCK 0 STREAMS <key> <last id> through the kernel (so
 * it blocks like any client and is woken by XADD in arrival order) and
 * hands each entry of each reply to its adapter: HTTP writes a Server-Sent
 * Event (GET /_stream/<key>), WebSocket a frame ({"tail":...}). The start
 * is an id (a reconnecting EventSource's Last-Event-ID, ?from=, "from") or
 * "$" (only new entries).
 * As a consumer of a group (stream_tail_start_group) the loop is
 * XREADGROUP GROUP <g> <c> COUNT 100 STREAMS <key> <id> from id 0 until the
 * consumer's pending entries are all re-delivered (as a consumer recovers
 * its PEL after a crash), then XREADGROUP ... BLOCK 0 STREAMS <key> >; ids
 * the browser acks (stream_tail_ack) go out as XACK <key> <g> <ids> before
 * the next read, waking the parked read first. Every command runs as the
 * connection's user, so ACL rules on XREAD/XREADGROUP/XACK apply. This file
 * owns the key, group and position, the commands it submits and reading
 * their replies; the adapters own their connections. */
#ifndef KEEL_STREAM_TAIL_H
#define KEEL_STREAM_TAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

struct client;

#define STREAM_TAIL_PREFIX "/_stream/"

struct stream_tail {
    bool on;
    char *key;
    size_t klen;
    char last[48]; /* the last id delivered ("$" before the first) */
    struct argv_ref *argv;
    int argv_cap;
    /* consumer-group delivery (group != NULL) */
    char *group, *consumer;
    size_t glen, clen;
    bool fresh;  /* past the pending entries: reading ">" */
    bool acking; /* the command in flight is the XACK of the acks sent */
    char **acks; /* ids acked by the browser, not yet sent */
    int nacks, acap;
    char **sent; /* ... and those the XACK in flight carries */
    int nsent;
};

/* Start on key (%XX-decoded when urlencoded) from id (NULL: "$"): false,
 * and nothing changed, when the key is empty or the id is not one. */
bool stream_tail_start(struct stream_tail *t, const char *key, size_t n, bool urlencoded,
                       const char *from, size_t flen);
/* The same as consumer of group (created by XGROUP CREATE beforehand):
 * pending entries first, then new ones (%XX-decoded when urlencoded). */
bool stream_tail_start_group(struct stream_tail *t, const char *key, size_t n, bool urlencoded,
                             const char *group, size_t glen, const char *consumer, size_t clen);
/* The browser acked id (group tails only: false otherwise): queued for
 * the next XACK. The caller wakes the parked read
 * (stream_tail_wake). */
bool stream_tail_ack(struct stream_tail *t, const char *id, size_t n);
/* Wake the client's read parked by the tail (it answers nil, and the
 * loop goes on with the XACK): after acks arrived. */
void stream_tail_wake(struct stream_tail *t, struct client *c);
/* The next command's arguments (valid until the next call). */
int stream_tail_argv(struct stream_tail *t, const struct argv_ref **argv);
/* One entry: its id and its fields as a JSON object (both NUL-ended). */
typedef void (*stream_tail_entry_fn)(void *arg, const char *id, const char *fields);
/* Read the reply to the command of stream_tail_argv (JSON text, as the
 * JSON sink writes it at resp 2 or 3): each entry to fn (fields "null" for
 * a pending entry since deleted), the position moved to the last. Returns
 * >0 when the loop goes on (the number of entries, or 1 when none came:
 * an XACK answered, the pending entries ran out, a woken group read), 0
 * when it ends (an XREAD answered nil), -1 when the reply is an error
 * (the adapter shows the JSON text it read). */
int stream_tail_read(struct stream_tail *t, const char *json, size_t n, stream_tail_entry_fn fn,
                     void *arg);
void stream_tail_free(struct stream_tail *t);

/* A browser's ack over HTTP: POST /_stream/<key>/ack?group=<g> with a JSON
 * array of ids as body, run as XACK <key> <g> <ids> (its reply as any
 * command's). Whether path is one ... */
bool stream_tail_is_ack(const char *path, size_t n);
/* ... and its command into b (false with why: a 400). */
struct cmdbuf;
bool stream_tail_ack_command(const char *path, size_t n, const char *q, size_t ql, const char *body,
                             size_t blen, struct cmdbuf *b, char *why, size_t wlen);

#endif
