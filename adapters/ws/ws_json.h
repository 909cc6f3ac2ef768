/* ws_json.h — decoding a JSON-mode WebSocket request (one message) into
 * commands, without a connection:
 *   ["SET","k","v"]                      one command
 *   [["SET","k","v"],["GET","k"]]        a batch
 *   {"id":7,"cmd":["GET","k"]}           one command with an id
 *   {"id":8,"batch":[[..],..],"atomic":true}
 * Arguments are strings and numbers (64-bit integers exact, reals in their
 * shortest round-trip form). A fast scanner decodes the usual shapes
 * (strings, with escapes, and integers up to 18 digits) straight from the
 * message; anything else, and every error message, comes from the general
 * decoder (http_decode_json, jansson). The message must be UTF-8 (the
 * caller checks). Whether an atomic batch may run (not inside MULTI, no
 * MULTI/EXEC/DISCARD/WATCH in it) is the caller's business. */
#ifndef KEEL_WS_JSON_H
#define KEEL_WS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "http_request.h" /* struct cmdbuf */
#include "resp_encode.h"  /* struct obuf */

struct ws_json_req {
    struct cmdbuf cb; /* the commands (finished: argv points into cb.bytes) */
    bool batch;       /* a batch ([[..],..] or "batch"), else one command */
    bool atomic;      /* "atomic":true (only with "batch") */
    /* The id's JSON text (a number or a string, as sent), pointing into
     * the message; NULL when none. Also set on failure when the id was
     * read before the error: the answer carries it. */
    const char *id;
    size_t idlen;
    bool fast;       /* the commands were decoded by the fast scanner */
    char err[256];   /* on failure: the message for {"error":..} */
    struct obuf tmp; /* scratch: strings with escapes */
};

/* ws_json_decode flags. */
#define WS_JSON_NO_FAST 1 /* decode with the general decoder only */

/* Decode the request msg[0..len) into rq (its previous contents are
 * dropped; a zeroed struct is a valid start). Returns false, with rq->err
 * (and rq->id when known), for a malformed request. */
bool ws_json_decode(struct ws_json_req *rq, const char *msg, size_t len, int flags);
void ws_json_req_free(struct ws_json_req *rq);

#endif
