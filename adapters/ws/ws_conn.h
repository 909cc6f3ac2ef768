/* ws_conn.h — the WebSocket adapter (RFC 6455) on the HTTP port: the
 * upgrade handshake (ws_handshake.h), framing (ws_frame.h, wslay), and
 * WebSocket clients of the kernel in two modes:
 *   JSON mode (GET / or /.json, subprotocol "json"): text frames carry JSON
 *     commands (["SET","k","v"], {"id":7,"cmd":[...]}, batches, atomic
 *     batches; decoded by ws_json.h) and JSON replies of the HTTP adapter's shapes; pushes
 *     (pub/sub messages, keyspace notifications, tracking invalidations)
 *     arrive as {"push":[...]} frames. The client speaks RESP3 semantically.
 *   RESP mode (GET /.raw, subprotocols "resp2" / "resp3"): binary frames
 *     carry a RESP byte stream both ways.
 * The HTTP adapter checks network, auth and Origin, then hands the
 * connection over with ws_accept(). */
#ifndef KEEL_WS_CONN_H
#define KEEL_WS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "adapter.h"

struct conn;
struct http_request;

/* Answer the upgrade request `req` the HTTP connection `from` is running
 * (101 with Sec-WebSocket-Accept, or an HTTP error such as 400 for a
 * missing or bad Sec-WebSocket-Key / Sec-WebSocket-Version). On success
 * the WebSocket adapter takes over from's socket (conn_takeover: from is
 * left dead, without a socket, for its owner to free) and returns true;
 * `rest` holds bytes already read after the request (the first frames).
 * On failure the error response is in from's output and the caller closes
 * from once it is written. */
bool ws_accept(struct conn *from, const struct http_request *req, const char *rest,
               size_t rest_len);

/* The WebSocket adapter: no listener; at shutdown every connection's
 * pending output is written best-effort, then a close frame 1001. */
extern const struct adapter_def ws_adapter_def;

/* The /_console page (ws_page.c): a self-contained HTML+JS WebSocket
 * console. */
const char *ws_page(size_t *len);

#endif
