/* resp_conn.h — the RESP listener and connection life. */
#ifndef KEEL_RESP_CONN_H
#define KEEL_RESP_CONN_H

#include <stdbool.h>

struct event_base;

/* Listen on every address of `bind` (space separated; a leading '-' marks
 * an address that may fail) at port. Returns false if none could be bound. */
bool resp_listen(struct event_base *base, const char *bind, int port);
void resp_shutdown(void);

#endif
