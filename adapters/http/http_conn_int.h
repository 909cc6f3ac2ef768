/* http_conn_int.h — what the HTTP adapter's own files share about a
 * connection: the request being answered (struct req_ctx), the connection
 * (struct http_conn, the base first) and the response writer
 * (http_response.c). Internal to adapters/http. */
#ifndef KEEL_HTTP_CONN_INT_H
#define KEEL_HTTP_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "http_format.h"
#include "http_parse.h"
#include "http_request.h"
#include "json_reply.h"
#include "msgpack_reply.h"
#include "obuf.h"
#include "stream_tail.h"
#include "upstash.h"
#include "ws_json.h"

/* What the response to the request being answered needs to know. */
struct req_ctx {
    bool active;     /* a request is being answered */
    bool head;       /* HEAD: no body */
    bool keep_alive; /* the request allows the connection to stay */
    int minor;
    enum http_fmt fmt;
    char ctype[128];
    char jsonp[128]; /* callback name, "" when none */
    char inm[40];    /* If-None-Match value ("" when none) */
    char origin[256];
    bool origin_refused; /* an Origin header that http-allowed-origins refuses */
    int restore_db;      /* -1, or the db to return to after a /7/ request */
    bool batch, atomic;
    bool atomic_parked; /* a step of an atomic batch waits (CLIENT PAUSE, upstream mode) */
    int astep;          /* atomic batch: the next step (0 MULTI, 1..ncmd, ncmd+1 EXEC) */
    int ncmd, cmd_i;    /* batch position */
    bool sse;           /* streaming as Server-Sent Events */
    bool upstash;       /* an Upstash REST request (adapters/web/upstash.c) */
    bool csp;           /* a dashboard file: Content-Security-Policy (http_assets.h) */
    bool readonly;      /* authorized by http-readonly-token: readonly commands only */
    char filename[160]; /* ?filename=: Content-Disposition: attachment ("" none) */
    char auth[256];     /* the Authorization header (webdis.json acl rules) */
    size_t authlen;
};

/* A batch command's reply still upstream (upstream mode's pipelining):
 * its place in the batch and its JSON-escaped name (http_defer.c). */
struct http_deferred {
    struct http_deferred *next;
    int cmd_i;
    size_t namelen;
    char name[];
};

struct http_conn {
    struct conn conn; /* the base: socket, in (request bytes), out (wire bytes), client */
    struct event *tev;
    struct obuf body; /* the response body being built (non-JSON formats) */
    struct json_sink js;
    struct bytes_sink bs;
    struct upstash_sink us;
    struct ws_json_req ujs; /* an Upstash JSON body, by the WebSocket adapter's fast decoder */
    struct msgpack_sink mp;
    struct http_parser parser;
    struct cmdbuf cb;
    struct req_ctx rq;
    /* JSON wrapping: names of the commands answered ({"GET": ...}). */
    struct obuf names;        /* the current command's name, JSON-escaped */
    struct obuf *batch_names; /* atomic batch: each command's escaped name */
    int nbatch_names;
    /* atomic batch while MULTI and the commands are queued: their replies
     * (OK, QUEUED) go to a scratch sink, the request's sink is kept aside */
    struct json_sink ascratch;
    struct reply asaved;
    bool ascratch_on;
    bool sent_continue;
    long long req_begin_ms, last_io_ms, last_beat_ms;
    struct stream_tail tail; /* GET /_stream/<key>: its position */
    struct json_sink tjs;    /* ... and its XREAD replies */
    struct http_deferred *dq_head, *dq_tail;
    struct obuf dnames; /* the current command's name while a deferred reply replays */
    int dcmd_i;
};

/* http_defer.c: client_adapter.defer (client.h), and the notes' release. */
bool http_defer(struct client *cl, enum defer_step step);
void http_deferred_free(struct http_conn *c);

/* http_tail.c: GET /_stream/<key> as Server-Sent Events. */
void http_tail_start(struct http_conn *c, const struct http_request *req, const char *k, size_t kn,
                     const char *q, size_t ql);
/* Write what the last XREAD read as events: >0 entries, 0 none, <0 an error. */
int http_tail_emit(struct http_conn *c);
/* Submit XREAD from the position until the client parks (or it ends). */
void http_tail_next(struct http_conn *c);

/* What a request's side buffers keep once its response is out; more goes
 * back (obuf_trim): a big response's memory is not kept. */
#define HTTP_SIDE_KEEP (16 * 1024)
#define OUT_LIT(c, s) obuf_append(&(c)->conn.out, s, sizeof(s) - 1)

/* Response bytes into the connection's output. */
void http_out_str(struct http_conn *c, const char *s);
void http_out_num(struct http_conn *c, unsigned long long v);
void http_out_fmt(struct http_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The CORS headers the request's Origin earns. */
void http_cors_headers(struct http_conn *c);
/* "HTTP/1.x status reason", Server, Allow and CORS headers. */
void http_status_line(struct http_conn *c, int status);
/* Connection: Keep-Alive or Close. */
void http_connection_header(struct http_conn *c);
/* A complete response with body p[0..n) (ETag / 304 for 200s,
 * Content-Disposition for ?filename=; closing unless keep-alive). */
void http_respond(struct http_conn *c, int status, const char *ctype, const char *p, size_t n);
/* An error response with a JSON body {"error": why}. */
void http_respond_error(struct http_conn *c, int status, const char *why);

#endif
