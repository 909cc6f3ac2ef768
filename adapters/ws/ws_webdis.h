/* ws_webdis.h — Webdis's own WebSocket shapes, served on /.json and /.raw
 * (without a subprotocol) so that Webdis pages work unchanged, while "/"
 * keeps Keel's richer protocol (ids, batches, {"push":...}):
 *   /.json  RESP2 replies as Webdis's JSON ({"GET":"v"}); a pub/sub
 *           message is wrapped in the name of the connection's first
 *           (P|S)SUBSCRIBE as the client typed it:
 *           {"SUBSCRIBE":["message","chan","hi"]}; a command refused by
 *           the access rules (http-disabled-commands) answers
 *           {"error":true,"message":"Forbidden","http_status":403}.
 *   /.raw   RESP in text frames (Webdis's framing); a refused command
 *           answers -ERR Forbidden. Binary-safe RESP in binary frames is
 *           the resp2/resp3 subprotocol, on any endpoint.
 * ws_conn.c asks this file for those shapes. */
#ifndef KEEL_WS_WEBDIS_H
#define KEEL_WS_WEBDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"    /* struct argv_ref */
#include "resp_encode.h" /* struct obuf */

#define WS_WEBDIS_FORBIDDEN_JSON "{\"error\":true,\"message\":\"Forbidden\",\"http_status\":403}"
#define WS_WEBDIS_FORBIDDEN_RAW "-ERR Forbidden\r\n"

struct ws_webdis {
    bool on;          /* a Webdis endpoint (/.json or /.raw without subprotocol) */
    char subname[64]; /* the first (P|S)SUBSCRIBE's name as typed ("" none yet) */
    size_t sublen;
};

/* A command is about to run: remember the first subscribing command's name. */
void ws_webdis_command(struct ws_webdis *w, const struct argv_ref *name);
/* The prefix of a pushed message's frame: {"<subname>": ({"SUBSCRIBE":
 * when a push arrives before any subscription: keyspace events need one). */
void ws_webdis_push_prefix(const struct ws_webdis *w, struct obuf *o);

#endif
