/* http_tail.h — the browser tail of a stream: GET /_stream/<key> with
 * Accept: text/event-stream. The connection runs a loop of
 * XREAD COUNT 100 BLOCK 0 STREAMS <key> <last id> through the kernel (so
 * it blocks like any client) and turns each reply into Server-Sent Events,
 * one per entry: "id: <entry id>" and "data: " a JSON object of its fields.
 * The first id is the Last-Event-ID header (a reconnecting EventSource),
 * else ?from=<id>, else "$" (only new entries). This file owns the
 * request's key and position, the XREAD it submits and the event text;
 * http_conn.c owns the connection around it. */
#ifndef KEEL_HTTP_TAIL_H
#define KEEL_HTTP_TAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "obuf.h"
#include "registry.h"

#define HTTP_TAIL_PREFIX "/_stream/"

struct http_tail {
    bool on;
    char *key;
    size_t klen;
    char last[48]; /* the last id sent ("$" before the first event) */
    struct argv_ref argv[8];
};

/* Start from the request's path (after the prefix, %XX-decoded) and its
 * position: false (nothing changed) when the key or the id is unusable. */
bool http_tail_start(struct http_tail *t, const char *path, size_t n, const char *from,
                     size_t flen);
/* The next XREAD's arguments (valid until the next call). */
int http_tail_argv(struct http_tail *t, const struct argv_ref **argv);
/* XREAD's reply as JSON (RESP2 shape) → SSE events appended to out; the
 * position moves to the last entry. Returns the number of events, or -1
 * when the reply was not entries (an error: an "error" event is written). */
int http_tail_events(struct http_tail *t, const char *json, size_t n, struct obuf *out);
void http_tail_free(struct http_tail *t);

#endif
