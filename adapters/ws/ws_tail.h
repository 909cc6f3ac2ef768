/* ws_tail.h — the WebSocket messages that follow a stream (the loop
 * itself is web/stream_tail.c, the frames ws_conn.c's):
 *   {"tail":"key","from":"0-0"}                -> every entry after "from"
 *   {"tail":"key","group":"g","consumer":"c"}  -> as consumer c of group g:
 *        its pending entries first (re-delivered after a reconnect), then
 *        new ones; each one a frame {"tail":"key","id":..,"fields":..}
 *   {"ack":["1-1","2-2"]}                      -> while a group tail runs:
 *        XACK key g 1-1 2-2, read before the tail's next read (a parked
 *        read is woken for it); a bad id ends the tail with XACK's error.
 * This file reads those messages; it owns no connection state. */
#ifndef KEEL_WS_TAIL_H
#define KEEL_WS_TAIL_H

#include <stdbool.h>
#include <stddef.h>

struct stream_tail;
struct client;

/* msg as a tail request: 0 when it is none, 1 when t is started, -1 when
 * it is a bad one (*why: the error to show). */
int ws_tail_request(struct stream_tail *t, const char *msg, size_t n, const char **why);
/* msg as an {"ack":[..]} for the group tail t runs: true when it is one
 * (queued, and c's parked read woken), false to handle msg otherwise. */
bool ws_tail_ack(struct stream_tail *t, struct client *c, const char *msg, size_t n);

#endif
