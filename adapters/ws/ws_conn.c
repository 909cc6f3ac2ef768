/* ws_conn.c — WebSocket connections (ws_conn.h) on the connection base
 * (adapters/conn.h, which owns the socket, the buffers, output limits and
 * the kernel's hooks): the connection's WebSocket states, the close
 * handshake and its linger, framing of replies, running JSON requests as
 * kernel jobs (RESP mode runs resp_serve), replies and pushes. The handshake
 * is ws_handshake.c, reading frames ws_frame.c (ping -> pong and the close
 * handshake are answered here), decoding JSON requests ws_json.c.
 * Outgoing data frames are written straight into the connection's output
 * buffer (one copy, one write per batch of replies); wslay's event API
 * queues the control frames (pong, close).
 *
 * A connection is in one named state at a time:
 *   OPEN     reading and running commands;
 *   PARKED   its client waits in the kernel (BLPOP, CLIENT PAUSE): input queued;
 *   CLOSING  a close frame is queued or sent: the client is gone (its
 *            kernel state freed), remaining output is written, then the
 *            socket closes (after the peer's close frame, or a timeout).
 *
 * JSON mode, one message = one request:
 *   ["SET","k","v"]                      -> {"SET":[true,"OK"]}
 *   {"id":7,"cmd":["GET","k"]}           -> {"id":7,"reply":"v"}
 *   [["SET","k","v"],["GET","k"]]        -> [{"SET":[true,"OK"]},{"GET":"v"}]
 *   {"id":8,"batch":[[..],[..]]}         -> {"id":8,"reply":[{..},{..}]}
 *   {"batch":[[..],[..]],"atomic":true}  -> the same, run in MULTI/EXEC; an
 *        aborted transaction answers {"EXEC":[false,"EXECABORT ..."]} and a
 *        failed WATCH {"EXEC":null} (inside {"id":..,"reply":..} with an id)
 *   malformed request                    -> {"error":"..."} ({"id":..,"error":..}
 *                                           when an id could be read)
 *   a disabled command (http-disabled-commands) -> {"FLUSHALL":[false,"ERR
 *        command 'FLUSHALL' is disabled over HTTP and WebSocket"]}
 *   {"tail":"key","from":"0-0"}         -> follows a stream (web/stream_tail.c):
 *        one frame per entry, {"tail":"key","id":"1-1","fields":{"f":"v"}},
 *        from the entry after "from" ("$" or none: only new ones); the
 *        connection then serves only the tail (its other requests wait)
 *        until it ends: {"tail":"key","error":..} (e.g. WRONGTYPE);
 *        as a group's consumer, with {"ack":[ids]}: ws_tail.h
 *   {"stats":1} / {"stats":0}            -> a {"stats":{..}} frame now and every second
 *                                           (ws_stats.c) / {"stats":false}, stopped
 *   pushes (pub/sub, keyspace events, invalidations)
 *                                        -> {"push":["message","chan","hi"]},
 *                                           {"push":["invalidate",["k"]]}
 *   after ["MONITOR"] ({"MONITOR":[true,"OK"]}), one push per command run
 *                                        -> {"push":["monitor","1733... [0
 *                                           127.0.0.1:5000] \"GET\" \"k\""]}
 *                                           (RESP mode: the +<line> status)
 * A command whose reply has several top-level values (SUBSCRIBE a b) gets
 * one frame (or batch entry) per value. A push that arrives while a batch
 * runs is sent in its own frame, before the batch's. The client is RESP3
 * (maps are objects, doubles numbers, pushes allowed while subscribed).
 *
 * RESP mode (/.raw: RESP2 until HELLO 3; subprotocols resp2/resp3): data
 * messages form one RESP stream; each write of replies is one binary frame
 * (text on /.raw without a subprotocol). /.json and /.raw without a
 * subprotocol speak Webdis's shapes (ws_webdis.h).
 *
 * Backpressure: one round of processing stops at WS_OUT_BATCH bytes of
 * output; if the peer does not take them, reading its requests stops until
 * it does (TCP pushes back on the sender), so a client that pipelines
 * without reading holds a bounded amount of memory. Output the client did
 * not ask for (pushes), and any single reply, are bounded by
 * client-output-buffer-limit (the pubsub class for subscribed clients):
 * past it the client is freed and the connection closed with 1008. Queued
 * input of a parked client is bounded by client-query-buffer-limit (1008). */
#include "ws_conn.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "client_limits.h"
#include "config.h"
#include "aof.h"
#include "client.h"
#include "kernel.h"
#include "log.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"
#include "http_access.h"
#include "http_request.h"
#include "json_reply.h"
#include "resp_encode.h"
#include "resp_parse.h"
#include "stream_tail.h"
#include "ws_tail.h"
#include "conn.h"
#include "resp_conn.h"
#include "http_parse.h"
#include "ws_frame.h"
#include "ws_stats.h"
#include "ws_handshake.h"
#include "ws_json.h"
#include "ws_webdis.h"

#define WS_LINGER_SEC 5 /* how long a closing connection waits for the peer */

#include "ws_conn_int.h"

/* JSON mode: processing stops once WS_OUT_BATCH of output waits to be
 * written (c->conn.out_full: reading pauses until it is). The batch being
 * assembled does not count: only finishing it lets it go (it counts for
 * client-output-buffer-limit, ops->pending). RESP mode uses
 * conn_out_full, the same figure there. */
bool ws_out_big(struct ws_conn *c)
{
    if (c->conn.out.len - c->conn.out.sent + c->rout.len < WS_OUT_BATCH) return false;
    c->conn.out_full = true;
    return true;
}

/* ---- output ---- */

static void frame_header(struct obuf *o, unsigned opcode, size_t n)
{
    unsigned char h[WS_FRAME_HEADER_MAX];
    obuf_append(o, (const char *)h, ws_frame_header(h, opcode, n));
}

/* One data frame whose payload is a + b + d. Nothing after a close frame. */
void ws_emit(struct ws_conn *c, unsigned opcode, const char *a, size_t an, const char *b, size_t bn,
             const char *d, size_t dn)
{
    struct obuf *o = &c->conn.out;
    size_t n = an + bn + dn;
    char *p;
    if (c->close_queued) return;
    frame_header(o, opcode, n);
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 16384;
        while (cap < o->len + n)
            cap *= 2;
        o->buf = xrealloc(o->buf, cap);
        o->cap = cap;
    }
    p = o->buf + o->len;
    if (an) memcpy(p, a, an);
    if (bn) memcpy(p + an, b, bn);
    if (dn) memcpy(p + an + bn, d, dn);
    o->len += n;
}

/* Size of the frame starting at off in the output buffer. */
static size_t frame_size_at(const struct obuf *o, size_t off)
{
    return ws_frame_size((const unsigned char *)o->buf + off);
}

static void advance_bound(struct ws_conn *c)
{
    while (c->fbound < c->conn.out.sent) {
        size_t f = frame_size_at(&c->conn.out, c->fbound);
        if (c->fbound + f > c->conn.out.sent) break;
        c->fbound += f;
    }
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    struct ws_conn *c = user;
    (void)ctx, (void)flags;
    obuf_append(&c->conn.out, (const char *)data, len);
    return (ssize_t)len;
}

static void arm_linger(struct ws_conn *c)
{
    struct timeval tv = {WS_LINGER_SEC, 0};
    if (c->tev && !evtimer_pending(c->tev, NULL)) evtimer_add(c->tev, &tv);
}

/* The connection is closing: its client leaves every kernel structure
 * now (subscriptions, tracking, a blocked command). Only at depth 0. */
static void detach_client(struct ws_conn *c)
{
    if (!c->conn.client) return;
    client_free(c->conn.client);
    c->conn.client = NULL;
    ws_reset_job(c);
    c->inq.len = c->inq_off = c->inq_done = 0;
    c->rx_data = false;
    c->qlen = 0;
}

/* Start the closing handshake with code and reason (a close frame after
 * what is already buffered). fail: also stop reading (a protocol error). */
void ws_enter_closing(struct ws_conn *c, uint16_t code, const char *reason, bool fail)
{
    if (c->mode == WS_RESP && c->rout.len && !c->close_queued) {
        ws_emit(c, c->wd.on ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME, c->rout.buf, c->rout.len, NULL,
                0, NULL, 0);
        c->rout.len = 0;
    }
    if (!c->close_queued && !wslay_event_get_close_sent(c->ws))
        wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
    c->close_queued = true;
    if (fail) c->rd_on = false;
    c->conn.state = CONN_CLOSING;
    conn_resume_read(&c->conn); /* to see the peer's close frame or EOF */
    arm_linger(c);
}

/* A close frame 1002 written by hand, wslay's queue abandoned. */
static void protocol_close(struct ws_conn *c)
{
    static const char reason[] = "protocol error";
    unsigned char code[2] = {WSLAY_CODE_PROTOCOL_ERROR >> 8, WSLAY_CODE_PROTOCOL_ERROR & 0xff};
    if (!wslay_event_get_close_sent(c->ws) && !c->close_written) {
        frame_header(&c->conn.out, WSLAY_CONNECTION_CLOSE, 2 + sizeof(reason) - 1);
        obuf_append(&c->conn.out, (const char *)code, 2);
        obuf_append(&c->conn.out, reason, sizeof(reason) - 1);
        c->close_written = true;
    }
    wslay_event_shutdown_write(c->ws);
    c->rd_on = false;
    c->close_queued = true;
    c->conn.state = CONN_CLOSING;
    conn_resume_read(&c->conn);
    arm_linger(c);
}

/* Past client-output-buffer-limit: drop what is not written yet (but the
 * rest of a frame already begun), send close 1008, free the client. */
static void overflow(struct ws_conn *c)
{
    size_t keep;
    advance_bound(c);
    if (c->conn.out.sent <= c->fbound)
        keep = c->fbound;
    else
        keep = c->fbound + frame_size_at(&c->conn.out, c->fbound);
    if (keep < c->conn.out.len) c->conn.out.len = keep;
    c->rout.len = 0;
    c->close_queued = false;
    ws_enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "output buffer limit reached", true);
    detach_client(c);
}

/* ---- output: the base's conn_flush hooks ---- */

/* Output held for the client outside conn.out: RESP replies not yet
 * framed, and the batch being assembled. */
static size_t pending(const struct conn *base)
{
    const struct ws_conn *c = (const struct ws_conn *)base;
    return c->rout.len + c->job.body.len;
}

/* Before the limits: the RESP replies become one binary frame; a closing
 * connection's client leaves the kernel. */
static void prepare(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    if (c->mode == WS_RESP && c->rout.len) {
        ws_emit(c, c->wd.on ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME, c->rout.buf, c->rout.len, NULL,
                0, NULL, 0);
        c->rout.len = 0;
        obuf_trim(&c->rout, WS_SIDE_KEEP);
    }
    if (c->conn.state == CONN_CLOSING) detach_client(c);
}

/* After the batch limit: wslay's queued control frames (pong, close). */
static bool pre_write(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    return !wslay_event_want_write(c->ws) || wslay_event_send(c->ws) == 0;
}

static bool on_overflow(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    overflow(c);
    if (wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
    return true;
}

/* Reclaim the written prefix from a frame boundary. */
static void reclaim(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    advance_bound(c);
    if (c->fbound <= c->conn.out.sent && conn_out_reclaim(&c->conn, c->fbound)) c->fbound = 0;
}

/* Everything is written: a closing connection closes once the close frames
 * crossed (else it drains the peer's input, half-closed). */
static bool drained(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    c->fbound = 0;
    if (c->conn.state == CONN_CLOSING && (wslay_event_get_close_sent(c->ws) || c->close_written)) {
        if (c->close_recv) return true;
        if (!c->rd_on && !c->wr_shut) {
            /* Failing the connection: no close frame will be read, but
             * closing with unread input would reset it and lose our close
             * frame. Half-close and drain until EOF (or the linger timer). */
            conn_sock_shutdown_write(&c->conn);
            c->wr_shut = true;
        }
    }
    return false;
}

/* A closing connection gets WS_LINGER_SEC to finish: more while its
 * remaining output still drains, none once the peer stalls. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    struct ws_conn *c = arg;
    (void)fd, (void)what;
    if (c->conn.out.sent < c->conn.out.len && c->conn.written != c->written_seen) {
        c->written_seen = c->conn.written;
        arm_linger(c);
        return;
    }
    conn_free(&c->conn);
    kernel_after_events();
}

/* ---- following a stream ({"tail":"key","from":"id"}, stream_tail.h) ---- */

static void tail_frame(struct ws_conn *c, const char *rest, size_t n)
{
    c->scratch.len = 0;
    obuf_append(&c->scratch, "{\"tail\":", 8);
    json_put_string_lossy(&c->scratch, c->tail.key, c->tail.klen);
    ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, rest, n, "}", 1);
}

static void tail_entry(void *arg, const char *id, const char *fields)
{
    struct ws_conn *c = arg;
    struct obuf o = {0};
    obuf_append(&o, ",\"id\":\"", 7);
    obuf_append(&o, id, strlen(id));
    obuf_append(&o, "\",\"fields\":", 11);
    obuf_append(&o, fields, strlen(fields));
    tail_frame(c, o.buf, o.len);
    obuf_free(&o);
}

static void tail_stop(struct ws_conn *c)
{
    if (c->conn.client) {
        c->conn.client->reply.ops = c->saved.ops;
        c->conn.client->reply.ctx = c->saved.ctx;
    }
    stream_tail_free(&c->tail);
}

/* The XREAD's reply in tjs → frames; false when the tail ends. */
static bool tail_read(struct ws_conn *c)
{
    int n = stream_tail_read(&c->tail, c->tjs.out.buf, c->tjs.out.len, tail_entry, c);
    if (n < 0) {
        struct obuf o = {0};
        obuf_append(&o, ",\"error\":", 9);
        obuf_append(&o, c->tjs.out.buf, c->tjs.out.len);
        tail_frame(c, o.buf, o.len);
        obuf_free(&o);
    }
    c->tjs.out.len = 0;
    obuf_trim(&c->tjs.out, WS_SIDE_KEEP);
    if (n <= 0) tail_stop(c);
    return n > 0;
}

/* Submit XREAD from the position until the client parks or the tail ends. */
static void tail_next(struct ws_conn *c)
{
    while (c->tail.on && c->conn.state == CONN_OPEN && !c->conn.dead && !ws_out_big(c)) {
        const struct argv_ref *argv;
        int argc = stream_tail_argv(&c->tail, &argv);
        enum kernel_status st;
        c->tjs.out.len = 0;
        st = kernel_submit(c->conn.client, argc, argv);
        if (st == KERNEL_PARKED) {
            c->conn.state = CONN_PARKED;
            return;
        }
        if (!tail_read(c)) return;
        if (st == KERNEL_CLOSE) {
            ws_enter_closing(c, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
            return;
        }
    }
}

/* A {"stats":1} push (ws_stats.h), from its timer: written now. */
static bool stats_send(struct conn *base, const char *p, size_t n)
{
    ws_emit((struct ws_conn *)base, WSLAY_TEXT_FRAME, p, n, NULL, 0, NULL, 0);
    return conn_flush(base);
}

/* A {"tail":...} request (ws_tail.h): true when msg was one (answered or started). */
static bool tail_request(struct ws_conn *c, const char *msg, size_t n)
{
    const char *why;
    int r = ws_tail_request(&c->tail, msg, n, &why);
    if (r <= 0) {
        if (r < 0) ws_error_frame(c, NULL, 0, why);
        return r < 0;
    }
    c->saved = c->conn.client->reply;
    json_sink_free(&c->tjs);
    json_sink_init(&c->tjs, c->conn.client->resp);
    c->conn.client->reply.ops = &json_reply_ops;
    c->conn.client->reply.ctx = &c->tjs;
    tail_next(c);
    return true;
}

/* A stats or tail request (answered by frames of the adapter's own). */
static bool special(const char *msg, size_t n)
{
    return n && msg[0] == '{' && (memmem(msg, n, "\"stats\"", 7) || memmem(msg, n, "\"tail\"", 6));
}

static void json_process(struct ws_conn *c)
{
    if (c->tail.on) {
        /* woken: the parked XREAD answered */
        if (tail_read(c)) tail_next(c);
        if (c->tail.on) return;
    }
    while (c->conn.state == CONN_OPEN && !c->conn.dead && !ws_out_big(c)) {
        size_t n;
        bool bad;
        if (c->job.active) {
            ws_job_run(c);
            if (c->job.active) break;
            continue;
        }
        if (c->inq_off >= c->inq_done) break;
        memcpy(&n, c->inq.buf + c->inq_off, sizeof(n));
        c->inq_off += sizeof(n) + 1;
        /* JSON is UTF-8: a binary message must be too. */
        bad = c->inq.buf[c->inq_off - 1] && !json_utf8_valid(c->inq.buf + c->inq_off, n);
        /* Upstream mode, earlier requests' replies still out: a frame not
         * written by a command (an error, stats, a tail) waits for them. */
        if (c->dq_head && (bad || special(c->inq.buf + c->inq_off, n)) && ws_settle(c)) {
            c->inq_off -= sizeof(n) + 1; /* read again once they are in */
            break;
        }
        if (bad)
            ws_error_frame(c, NULL, 0, "invalid JSON: a request must be UTF-8");
        else if (ws_stats_request(&c->conn, c->inq.buf + c->inq_off, n, stats_send, &c->scratch))
            ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, NULL, 0, NULL, 0);
        else if (!tail_request(c, c->inq.buf + c->inq_off, n) &&
                 !ws_job_start(c, c->inq.buf + c->inq_off, n) && c->conn.state == CONN_PARKED) {
            c->inq_off -= sizeof(n) + 1; /* malformed: its error after them */
            break;
        }
        c->inq_off += n;
        if (c->tail.on) break;
    }
    if (c->inq_off >= c->inq.len) {
        c->inq.len = c->inq_off = c->inq_done = 0;
        obuf_trim(&c->inq, 4 * WS_SIDE_KEEP);
    } else if (c->inq_off > c->inq.len / 2) {
        memmove(c->inq.buf, c->inq.buf + c->inq_off, c->inq.len - c->inq_off);
        c->inq.len -= c->inq_off;
        c->inq_done -= c->inq_off;
        if (c->rx_data) c->rx_hdr -= c->inq_off;
        c->inq_off = 0;
    }
}

/* ---- RESP mode ---- */

/* http-disabled-commands apply to WebSocket clients too. */
static enum resp_verdict disabled_filter(struct conn *base, int argc, const struct argv_ref *argv)
{
    struct client *cl = base->client;
    struct ws_conn *c = (struct ws_conn *)base;
    (void)argc;
    if (!http_command_refused(argv[0].p, argv[0].n, c->conn.addr, c->authlen ? c->auth : NULL,
                              c->authlen))
        return RESP_SUBMIT;
    if (c->wd.on) {
        static const char forbidden[] = WS_WEBDIS_FORBIDDEN_RAW;
        obuf_append(&c->rout, forbidden, sizeof(forbidden) - 1);
        if (cl->flags & CF_MULTI) cl->flags |= CF_DIRTY_EXEC;
        return RESP_SKIP;
    }
    http_refuse_disabled(cl, &cl->reply, argv[0].p, argv[0].n);
    return RESP_SKIP;
}

static void resp_process(struct ws_conn *c)
{
    if (!resp_serve(&c->conn, &c->parser, c->qbuf, &c->qlen, disabled_filter))
        ws_enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "RESP protocol error", true);
    if (c->qlen == 0 && c->qcap > 4 * CONN_READ) {
        free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
}

/* The base's process hook: run what can run, then notice a close. */
static void process(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    if (c->conn.state == CONN_OPEN && c->conn.client) {
        if (c->mode == WS_JSON)
            json_process(c);
        else
            resp_process(c);
    }
    if (c->conn.state != CONN_CLOSING && !c->rd_on && !c->conn.dead) {
        /* wslay queued a close: the peer's close, a protocol error
         * (1002) or a message over ws-max-message-size (1009). */
        c->close_queued = true;
        c->conn.state = CONN_CLOSING;
        arm_linger(c);
    }
}

/* ---- input ---- */

/* wslay's event layer never reads (frames are read with rx_frames). */
static ssize_t ev_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)buf, (void)len, (void)flags, (void)user;
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
}

static bool rx_keep(struct ws_conn *c)
{
    return c->conn.state != CONN_CLOSING && c->conn.client;
}

static void check_query_limit(struct ws_conn *c)
{
    size_t queued = c->mode == WS_JSON ? c->inq.len - c->inq_off : c->qlen;
    if ((long long)queued > g_config.client_query_buffer_limit) {
        log_warning("Closing WebSocket client that reached max query buffer length");
        ws_enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "query buffer limit reached", true);
    }
}

/* The peer broke the protocol (or sent a message over the limit): queue a
 * close with code and stop reading; process turns the connection to
 * CLOSING once what was received before has run. */
static void rx_fail(struct ws_conn *c, uint16_t code)
{
    c->rx_data = false;
    wslay_event_queue_close(c->ws, code, NULL, 0); /* refused if a close is queued already */
    c->rd_on = false;
}

/* A data message starts: in JSON mode, a header [len][binary?] before its
 * bytes in inq (its length is written at its end). */
static void rx_message_start(struct ws_conn *c, bool binary)
{
    c->rx_data = rx_keep(c);
    if (c->rx_data && c->mode == WS_JSON) {
        char hdr[sizeof(size_t) + 1] = {0};
        hdr[sizeof(size_t)] = binary;
        c->rx_hdr = c->inq.len;
        obuf_append(&c->inq, hdr, sizeof(hdr));
    }
}

/* A data message is complete. */
static void rx_message_end(struct ws_conn *c)
{
    bool keep = c->rx_data && rx_keep(c);
    size_t n = c->inq.len - c->rx_hdr - (sizeof(size_t) + 1);
    c->rx_data = false;
    if (!keep || c->mode != WS_JSON) return;
    if (c->tail.on && ws_tail_ack(&c->tail, c->conn.client, c->inq.buf + c->inq.len - n, n)) {
        c->inq.len = c->rx_hdr; /* an ack for the group tail: queued there */
        return;
    }
    memcpy(c->inq.buf + c->rx_hdr, &n, sizeof(n));
    c->inq_done = c->inq.len;
}

/* A chunk of a data message: appended to the message. */
static void rx_data_chunk(struct ws_conn *c, const unsigned char *data, size_t n)
{
    if (!c->rx_data) return;
    if (c->mode == WS_JSON) {
        if (n) obuf_append(&c->inq, (const char *)data, n);
    } else {
        if (c->qcap - c->qlen < n) {
            size_t cap = c->qcap ? c->qcap : CONN_READ;
            while (cap - c->qlen < n)
                cap *= 2;
            c->qbuf = xrealloc(c->qbuf, cap);
            c->qcap = cap;
        }
        if (n) memcpy(c->qbuf + c->qlen, data, n);
        c->qlen += n;
    }
    if (n) check_query_limit(c);
}

/* The frames in the bytes read, through the frame reader (ws_frame.c):
 * data messages reassembled into inq or qbuf, pings answered, the peer's
 * close echoed, a protocol error answered with its close code. */
static void rx_frames(struct ws_conn *c)
{
    struct ws_frame_ev ev;
    /* A closing connection runs nothing more: its messages are only read
     * past (their framing and size still checked), up to the close frame. */
    if (!rx_keep(c)) {
        c->rx_data = false;
        ws_frame_discard(&c->rd);
    }
    c->rd.max_message = (uint64_t)g_config.ws_max_message;
    ws_frame_feed(&c->rd, c->conn.in, c->conn.inlen);
    while (c->rd_on) {
        switch (ws_frame_next(&c->rd, &ev)) {
        case WS_FRAME_MORE:
            return;
        case WS_FRAME_DATA:
            if (ev.first) rx_message_start(c, ev.binary);
            rx_data_chunk(c, ev.data, ev.len);
            break;
        case WS_FRAME_END:
            rx_message_end(c);
            break;
        case WS_FRAME_PING: {
            struct wslay_event_msg pong = {WSLAY_PONG, ev.data, ev.len};
            wslay_event_queue_msg(c->ws, &pong); /* refused once a close is queued */
            break;
        }
        case WS_FRAME_PONG:
            break;
        case WS_FRAME_CLOSE:
            /* Echo the code and reason (none if the peer gave none), unless
             * our own close went first; read no further. */
            c->close_recv = true;
            wslay_event_queue_close(c->ws, ev.code, ev.len ? ev.data : NULL, ev.len);
            c->rd_on = false;
            break;
        case WS_FRAME_ERROR:
            /* A frame stream wslay cannot parse gets a close 1002 written
             * by hand (wslay's queue abandoned); other errors a close with
             * their code. */
            if (ev.broken)
                protocol_close(c);
            else
                rx_fail(c, ev.code);
            return;
        }
    }
}

/* The base's received hook: the bytes read go through the frame reader
 * (all of them: it keeps what a frame still lacks). */
static void received(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    if (c->rd_on) rx_frames(c);
    c->conn.inlen = 0;
}

/* ---- the base's other hooks ---- */

static void closing(struct conn *base)
{
    ws_enter_closing((struct ws_conn *)base, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
}

static void buffers(struct conn *base, size_t *qbuf, size_t *qfree, size_t *obl, size_t *omem)
{
    struct ws_conn *c = (struct ws_conn *)base;
    *qbuf += (c->inq.len - c->inq_off) + c->qlen;
    *qfree += c->qcap - c->qlen;
    *obl += c->rout.len;
    *omem += c->rout.cap + c->js.out.cap + c->job.body.cap;
}

/* Server shutdown: a close frame 1001 (going away) after what is pending,
 * one write, best effort. */
static void shutdown_conn(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    if (c->conn.state != CONN_CLOSING && c->conn.depth == 0)
        ws_enter_closing(c, WSLAY_CODE_GOING_AWAY, "server shutting down", true);
    if (c->conn.depth == 0 && wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
    if (c->conn.out.sent < c->conn.out.len) {
        ssize_t w = conn_sock_write(&c->conn, c->conn.out.buf + c->conn.out.sent,
                                    c->conn.out.len - c->conn.out.sent);
        (void)w;
    }
}

static void release(struct conn *base)
{
    struct ws_conn *c = (struct ws_conn *)base;
    ws_stats_forget(base);
    ws_deferred_free(c);
    if (c->tev) event_free(c->tev);
    if (c->ws) wslay_event_context_free(c->ws);
    ws_frame_free(&c->rd);
    free(c->qbuf);
    obuf_free(&c->inq);
    obuf_free(&c->rout);
    obuf_free(&c->scratch);
    ws_reset_job(c);
    obuf_free(&c->job.body);
    ws_json_req_free(&c->job.rq);
    json_sink_free(&c->js);
    json_sink_free(&c->tjs);
    stream_tail_free(&c->tail);
    resp_parser_free(&c->parser);
}

/* A MONITOR line (core/events/monitor.c): in JSON mode the push
 * {"push":["monitor","<line>"]}, in RESP mode a status line as on the RESP
 * port. */
static void ws_monitor_line(struct client *cl, const char *line, size_t n)
{
    struct ws_conn *c = (struct ws_conn *)cl->conn;
    struct reply *r = &cl->reply;
    if (c->mode == WS_JSON) {
        reply_push(r, 2);
        reply_bulk(r, "monitor", 7);
        reply_bulk(r, line, n);
    } else {
        r->ops->status(r, line, n);
    }
}

static const struct conn_ops ws_ops = {
    .ad = CONN_ADAPTER_DEFER("ws", true, ws_monitor_line, ws_defer),
    .out_high = WS_OUT_BATCH,
    .limit_batch = true,
    .process = process,
    .received = received,
    .closing = closing,
    .pending = pending,
    .prepare = prepare,
    .pre_write = pre_write,
    .overflow = on_overflow,
    .reclaim = reclaim,
    .drained = drained,
    .buffers = buffers,
    .shutdown = shutdown_conn,
    .release = release,
};

/* ---- life ---- */

bool ws_accept(struct conn *from, const struct http_request *req, const char *rest, size_t rest_len)
{
    /* wslay's event layer only sends (control frames): frames are read
     * with the frame reader (rx_frames). */
    static const struct wslay_event_callbacks cbs = {ev_recv, cb_send, NULL, NULL,
                                                     NULL,    NULL,    NULL};
    struct ws_handshake hs;
    struct ws_conn *c;
    char refusal[512];
    size_t n;

    if (!ws_handshake_check(req, &hs)) {
        n = ws_handshake_refusal(refusal, sizeof(refusal), hs.status, hs.reason, hs.error);
        obuf_append(&from->out, refusal, n);
        return false;
    }
    c = (struct ws_conn *)conn_takeover(from, sizeof(*c), &ws_ops,
                                        hs.mode == WS_JSON ? NULL : &resp_reply_ops);
    c->mode = hs.mode;
    c->wd.on = hs.webdis;
    {
        const struct http_header *h = http_header(req, "authorization");
        if (h && h->vlen < sizeof(c->auth)) {
            memcpy(c->auth, h->value, h->vlen);
            c->authlen = h->vlen;
        }
    }
    resp_parser_init(&c->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
    json_sink_init(&c->js, hs.resp);
    c->js.begin = ws_js_begin;
    c->js.end = ws_js_end;
    c->js.arg = c;
    c->jops = json_reply_ops;
    c->jops.aggregate = ws_js_aggregate;
    if (!ws_frame_init(&c->rd, (uint64_t)g_config.ws_max_message) ||
        wslay_event_context_server_init(&c->ws, &cbs, c) != 0) {
        /* Out of memory. The socket is ours already: the 500 goes out
         * directly, best effort. */
        ssize_t w;
        c->ws = NULL;
        n = ws_handshake_refusal(refusal, sizeof(refusal), 500, "Internal Server Error",
                                 "out of memory");
        w = conn_sock_write(&c->conn, refusal, n);
        (void)w;
        conn_free(&c->conn);
        return true;
    }
    c->rd_on = true;
    obuf_append(&c->conn.out, hs.response, hs.rlen);
    c->fbound = c->conn.out.len;
    if (hs.mode == WS_JSON) {
        c->conn.client->reply.ops = &c->jops;
        c->conn.client->reply.ctx = &c->js;
    } else {
        c->conn.client->reply.ctx = &c->rout;
    }
    c->conn.client->resp = hs.resp;
    c->conn.client->reply.resp = hs.resp;
    c->conn.client->authenticated = true; /* the HTTP adapter checked the credentials */
    c->conn.client->user = from->client ? from->client->user : NULL; /* and found the user */
    c->tev = evtimer_new(g_server.base, on_linger, c);
    if (!conn_flush(&c->conn)) return true;
    conn_feed(&c->conn, rest, rest_len);
    return true;
}

static void ws_shutdown(void)
{
    conn_shutdown(&ws_ops);
}

/* Reached through the HTTP adapter's upgrades: no listener of its own. */
const struct adapter_def ws_adapter_def = {"ws", NULL, NULL, ws_shutdown};
