/* http_conn.h — the HTTP listener and connection life (HTTP/1.1 with
 * Webdis's request forms; WebSocket upgrades are handed to adapters/ws). */
#ifndef KEEL_HTTP_CONN_H
#define KEEL_HTTP_CONN_H

#include <stdbool.h>

struct event_base;

/* Listen on every address of `bind` at port (0: HTTP disabled). */
bool http_listen(struct event_base *base, const char *bind, int port);
void http_shutdown(void);
extern long long g_http_requests;

#endif
