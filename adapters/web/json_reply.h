/* json_reply.h — the JSON reply sink (HTTP and WebSocket JSON modes): typed
 * replies become JSON text. Status -> [true,"OK"], error -> [false,"ERR .."],
 * integer -> number, bulk -> string, nil -> null, array/set/push -> array,
 * map -> object (keys as strings), double -> number (a string for RESP2
 * clients, as Webdis shows it; "inf"/"-inf"/"nan" strings always), boolean
 * -> true/false, verbatim/bignum -> string. A RESP3 attribute (metadata
 * about the reply that follows it, e.g. DEBUG PROTOCOL attrib) is dropped:
 * JSON clients get the reply itself, as RESP2 clients do. A bulk string that is not valid
 * UTF-8 is written losslessly as {"base64":"..."}; valid UTF-8 (NUL
 * included, as \u0000) stays a plain JSON string, escaped as jansson (and
 * so Webdis) escapes it.
 * Each top-level value is announced: begin() before its first byte (the
 * adapter writes a wrapper prefix such as {"GET": or {"id":7,"reply":) and
 * end() after its last (the adapter closes the wrapper and frames it). */
#ifndef KEEL_JSON_REPLY_H
#define KEEL_JSON_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"
#include "resp_encode.h" /* struct obuf */

#define JSON_MAX_DEPTH 64

struct json_sink {
    struct obuf out;   /* the JSON text; adapters take it from here */
    int resp;          /* 2: doubles as strings (Webdis); 3: doubles as numbers */
    bool plain_status; /* status replies as plain strings (not [true,..]) */
    int depth;
    struct json_frame {
        long long left; /* elements still to come (-1: deferred, unknown) */
        unsigned char map, key_next, first;
    } st[JSON_MAX_DEPTH];
    /* Called around each top-level value; agg is its aggregate kind, or -1
     * for a scalar. May be NULL. */
    void (*begin)(struct json_sink *s, int agg, bool is_error, void *arg);
    void (*end)(struct json_sink *s, void *arg);
    void *arg;
    /* When set (by begin), the elements of the top-level array are each
     * wrapped as {<name k>: element} (an atomic batch's EXEC results). */
    struct obuf *elem_names;
    int nelem_names, elem_idx;
    /* An attribute being dropped: its frame's depth (0: none) and where
     * the output goes back to when it is complete. */
    int attr_depth;
    size_t attr_mark;
};

extern const struct reply_ops json_reply_ops; /* ctx: struct json_sink * */

void json_sink_init(struct json_sink *s, int resp);
void json_sink_free(struct json_sink *s);
/* Append p as a JSON string (or {"base64":..} when not valid UTF-8). */
void json_put_string(struct obuf *o, const char *p, size_t n);
/* Append p as a JSON string, invalid UTF-8 bytes as \u00XX (for keys and names). */
void json_put_string_lossy(struct obuf *o, const char *p, size_t n);
bool json_utf8_valid(const char *p, size_t n);

#endif
