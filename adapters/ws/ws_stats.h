/* ws_stats.h — the stats push of Keel's WebSocket JSON protocol:
 * {"stats":1} subscribes a connection to one {"stats":{...}} frame a
 * second (the figures core/kernel/stats.h keeps), {"stats":0} stops. */
#ifndef KEEL_WS_STATS_H
#define KEEL_WS_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct obuf;

/* Write one frame's text to c and flush it; false if c was freed. */
typedef bool (*ws_stats_send_fn)(struct conn *c, const char *p, size_t n);

/* If msg is a {"stats":..} request: (un)subscribe c (the timer's pushes go
 * through send), put the answer's frame text in out (the figures now, or
 * {"stats":false}) for the caller to send, and return true. */
bool ws_stats_request(struct conn *c, const char *msg, size_t n, ws_stats_send_fn send,
                      struct obuf *out);
/* c is going away: no more pushes to it. */
void ws_stats_forget(struct conn *c);
/* The {"stats":{...}} frame's text (also used by tests). */
void ws_stats_json(struct obuf *o);

#endif
