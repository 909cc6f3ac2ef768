/* http_conn.h — the HTTP listener and connection life (HTTP/1.1 with
 * Webdis's request forms; WebSocket upgrades are handed to adapters/ws). */
#ifndef KEEL_HTTP_CONN_H
#define KEEL_HTTP_CONN_H

#include <stdbool.h>

#include "adapter.h"

/* The HTTP port: every address of `http-bind` at `http-port` (0: none). */
extern const struct adapter_def http_adapter_def;
extern long long g_http_requests;

#endif
