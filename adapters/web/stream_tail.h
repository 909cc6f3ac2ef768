/* stream_tail.h — following a stream from a browser, shared by the HTTP
 * and WebSocket adapters: the connection runs a loop of
 * XREAD COUNT 100 BLOCK 0 STREAMS <key> <last id> through the kernel (so
 * it blocks like any client and is woken by XADD in arrival order) and
 * hands each entry of each reply to its adapter: HTTP writes a Server-Sent
 * Event (GET /_stream/<key>), WebSocket a frame ({"tail":...}). The start
 * is an id (a reconnecting EventSource's Last-Event-ID, ?from=, "from") or
 * "$" (only new entries). This file owns the key and position, the XREAD
 * it submits and reading its replies; the adapters own their connections. */
#ifndef KEEL_STREAM_TAIL_H
#define KEEL_STREAM_TAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

#define STREAM_TAIL_PREFIX "/_stream/"

struct stream_tail {
    bool on;
    char *key;
    size_t klen;
    char last[48]; /* the last id delivered ("$" before the first) */
    struct argv_ref argv[8];
};

/* Start on key (%XX-decoded when urlencoded) from id (NULL: "$"): false,
 * and nothing changed, when the key is empty or the id is not one. */
bool stream_tail_start(struct stream_tail *t, const char *key, size_t n, bool urlencoded,
                       const char *from, size_t flen);
/* The next XREAD's arguments (valid until the next call). */
int stream_tail_argv(struct stream_tail *t, const struct argv_ref **argv);
/* One entry: its id and its fields as a JSON object (both NUL-ended). */
typedef void (*stream_tail_entry_fn)(void *arg, const char *id, const char *fields);
/* Read XREAD's reply (JSON text of the RESP2 shape: the JSON sink at
 * resp 2): each entry to fn, the position moved to the last. Returns the
 * number of entries, or -1 when the reply is not entries (an error
 * reply: *err points at its JSON text). */
int stream_tail_read(struct stream_tail *t, const char *json, size_t n, stream_tail_entry_fn fn,
                     void *arg);
void stream_tail_free(struct stream_tail *t);

#endif
