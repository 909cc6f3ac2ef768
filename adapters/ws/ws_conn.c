/* ws_conn.c — WebSocket connections (ws_conn.h): the RFC 6455 handshake
 * (SHA1 + base64 with OpenSSL), framing with wslay: incoming frames are
 * parsed by its frame API (wslay_frame_recv) and this file does what its
 * event layer would (reassembly of fragmented messages, control frames
 * between fragments, ping/pong, the close handshake and its codes, the
 * maximum message size, RSV/opcode/masking rules, UTF-8 validation of text
 * messages across fragments) without the event layer's per-byte work and
 * copies; the two modes (JSON commands and replies; a RESP byte stream in
 * binary frames), pushes, output limits and connection life. Outgoing data
 * frames are written straight into the connection's output buffer (one
 * copy, one write per batch of replies); wslay's event API queues the
 * control frames (pong, close).
 *
 * A connection is in one named state at a time:
 *   OPEN     reading and running commands;
 *   PARKED   its client waits in the kernel (BLPOP, CLIENT PAUSE): input
 *            is queued, not run;
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
 *   a disabled command (http-disabled-commands)
 *                                        -> {"FLUSHALL":[false,"ERR command
 *                                           'FLUSHALL' is disabled over HTTP
 *                                           and WebSocket"]}
 *   pushes (pub/sub, keyspace events, invalidations)
 *                                        -> {"push":["message","chan","hi"]},
 *                                           {"push":["invalidate",["k"]]}
 * A command whose reply has several top-level values (SUBSCRIBE a b) gets
 * one frame (or batch entry) per value. A push that arrives while a batch
 * runs is sent in its own frame, before the batch's. The client is RESP3
 * (maps are objects, doubles numbers, pushes allowed while subscribed).
 *
 * RESP mode (/.raw: RESP2 until HELLO 3; subprotocols resp2/resp3): the
 * payloads of all data messages form one RESP stream, parsed as the RESP
 * adapter does; each write of replies is one binary frame.
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
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "../../config/config.h"
#include "../../core/aof.h"
#include "../../core/client.h"
#include "../../core/kernel.h"
#include "../../core/pubsub.h"
#include "../../core/server.h"
#include "../../core/util.h"
#include "../http/http_access.h"
#include "../http/http_parse.h"
#include "../http/http_request.h"
#include "../http/json_reply.h"
#include "../resp/resp_encode.h"
#include "../resp/resp_parse.h"

#define WS_READ 16384
#define WS_LINGER_SEC 5 /* how long a closing connection waits for the peer */
/* Output one round of processing may produce before it is written (and
 * client-output-buffer-limit applied): later input waits for the next round. */
#define WS_OUT_BATCH (256 * 1024)

enum ws_mode { WS_JSON, WS_RESP };
enum conn_state { CONN_OPEN, CONN_PARKED, CONN_CLOSING };

/* The JSON request being run: its commands, where it stands, and the
 * reply being assembled for a batch. */
struct job {
    bool active;
    struct cmdbuf cb;
    int ncmd;
    int nsteps; /* ncmd, or ncmd + 2 (MULTI, the commands, EXEC) when atomic */
    int next;   /* the next step to submit */
    int cur;    /* the command whose replies arrive now (-1: MULTI/EXEC) */
    bool batch, atomic;
    bool queueing;    /* atomic: MULTI's OK and the QUEUED replies are swallowed */
    bool exec_expect; /* atomic: EXEC's answer comes next */
    bool exec_array;  /* atomic: EXEC answered an array: its elements follow */
    bool exec_other;  /* atomic: EXEC answered an error or null (in body) */
    int exec_idx;
    char *id; /* the request's id as raw JSON text (NULL: none): idbuf or malloc'd */
    char idbuf[48];
    size_t idlen;
    struct obuf body; /* batch: the entries so far */
    int nentries;
};

struct ws_conn {
    int fd;
    enum ws_mode mode;
    enum conn_state state;
    struct event *rev, *wev, *tev;
    struct client *client;
    wslay_event_context_ptr ws; /* sends the control frames */
    wslay_frame_context_ptr fr; /* parses the incoming frames */
    /* bytes read from the socket, not yet handed to wslay */
    char *ibuf;
    size_t ilen, ioff, icap;
    /* JSON mode: complete messages waiting to run, each [len (size_t)][binary?][bytes] */
    struct obuf inq;
    size_t inq_off;
    size_t inq_done; /* end of the last complete message (a partial one may follow) */
    /* reading frames: off once a close is queued after a protocol error
     * or the peer's close frame */
    bool rd_on;
    bool close_recv; /* the peer's close frame arrived */
    /* the frame being received (wslay_frame_recv hands over its payload in
     * chunks) */
    bool fr_mid;             /* inside a frame: more of its payload follows */
    uint8_t fr_op;           /* its opcode */
    bool fr_fin;             /* its FIN bit */
    uint64_t fr_left;        /* payload bytes still to come */
    unsigned char ctrl[125]; /* a control frame's payload */
    size_t ctrl_len;
    /* the data message being received (reassembled straight into inq or
     * qbuf) */
    int rx_op;       /* its opcode (text or binary), -1 between messages */
    bool rx_data;    /* the message in progress is one we keep */
    uint64_t rx_len; /* bytes of the message so far */
    size_t rx_unval; /* text: bytes at the end of inq/qbuf not UTF-8-checked yet */
    size_t rx_hdr;   /* JSON: its header's offset in inq */
    struct json_sink js;
    struct reply_ops jops; /* json_reply_ops with EXEC's array intercepted */
    struct job job;
    struct obuf scratch; /* a wrapper prefix being built */
    int vagg;            /* the aggregate kind of the top-level value in progress */
    /* RESP mode: the byte stream of the messages, its parser, the replies */
    char *qbuf;
    size_t qlen, qcap;
    struct resp_parser parser;
    struct obuf rout;
    /* frames (and first the 101 response) for the socket */
    struct obuf out;
    size_t fbound; /* a frame boundary at or before out.sent */
    bool close_queued;
    bool close_written; /* our own close frame (not wslay's) is in out */
    bool wr_shut;       /* closing: our side is shut down, input is drained */
    bool out_full;      /* processing stopped at WS_OUT_BATCH of output */
    bool rd_paused;     /* ... and it is not written yet: reading stops */
    int depth;          /* >0 while running commands: freeing is deferred */
    bool dead;          /* close requested while depth > 0 */
    long long obuf_soft_since;
    unsigned long long written, written_seen; /* bytes written; as of the last linger check */
    char addr[64], laddr[64];
    struct ws_conn *prev, *next;
};

static struct ws_conn *conns;

/* Output held for the client: frames not yet written, RESP replies not yet
 * framed, and the batch being assembled. */
static size_t pending_out(const struct ws_conn *c)
{
    return c->out.len - c->out.sent + c->rout.len + c->job.body.len;
}

static bool out_big(struct ws_conn *c)
{
    if (pending_out(c) <= WS_OUT_BATCH) return false;
    c->out_full = true;
    return true;
}

static void conn_free(struct ws_conn *c);
static bool flush_out(struct ws_conn *c);
static void process(struct ws_conn *c);
static void after_input(struct ws_conn *c);
static void resume_reading(struct ws_conn *c);

/* ---- handshake ---- */

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *key, size_t klen, char out[29])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char buf[128];
    if (klen > sizeof(buf) - sizeof(ws_guid)) klen = sizeof(buf) - sizeof(ws_guid);
    memcpy(buf, key, klen);
    memcpy(buf + klen, ws_guid, sizeof(ws_guid) - 1);
    SHA1((const unsigned char *)buf, klen + sizeof(ws_guid) - 1, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    out[28] = 0;
}

/* A valid key is the base64 form of 16 bytes: 22 characters and "==". */
static bool key_valid(const char *k, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    if (n != 24 || k[22] != '=' || k[23] != '=') return false;
    for (i = 0; i < 22; i++)
        if (!memchr(b64, k[i], sizeof(b64) - 1)) return false;
    /* The last character carries 2 bits: the 4 low bits must be zero. */
    return strchr("AQgw", k[21]) != NULL;
}

static bool header_is(const struct http_header *h, const char *v)
{
    size_t n = strlen(v);
    const char *p = h->value;
    size_t l = h->vlen;
    while (l && (*p == ' ' || *p == '\t'))
        p++, l--;
    while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
        l--;
    return l == n && strncasecmp(p, v, n) == 0;
}

static void http_error(int fd, int status, const char *reason, const char *msg)
{
    char buf[512], body[256];
    int bl = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
    int n =
        snprintf(buf, sizeof(buf),
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n%s",
                 status, reason, bl, body);
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
}

/* ---- output ---- */

static void frame_header(struct obuf *o, unsigned opcode, size_t n)
{
    unsigned char h[10];
    size_t hl;
    int i;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
        hl = 2;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    obuf_append(o, (const char *)h, hl);
}

/* One data frame whose payload is a + b + d. Nothing after a close frame. */
static void emit(struct ws_conn *c, unsigned opcode, const char *a, size_t an, const char *b,
                 size_t bn, const char *d, size_t dn)
{
    struct obuf *o = &c->out;
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
    const unsigned char *p = (const unsigned char *)o->buf + off;
    size_t len = p[1] & 0x7f, hl = 2;
    int i;
    if (len == 126) {
        len = (size_t)p[2] << 8 | p[3];
        hl = 4;
    } else if (len == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        hl = 10;
    }
    return hl + len;
}

static void advance_bound(struct ws_conn *c)
{
    while (c->fbound < c->out.sent) {
        size_t f = frame_size_at(&c->out, c->fbound);
        if (c->fbound + f > c->out.sent) break;
        c->fbound += f;
    }
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    struct ws_conn *c = user;
    (void)ctx, (void)flags;
    obuf_append(&c->out, (const char *)data, len);
    return (ssize_t)len;
}

static void arm_linger(struct ws_conn *c)
{
    struct timeval tv = {WS_LINGER_SEC, 0};
    if (c->tev && !evtimer_pending(c->tev, NULL)) evtimer_add(c->tev, &tv);
}

static void reset_job(struct ws_conn *c)
{
    struct job *j = &c->job;
    j->active = false;
    if (j->id != j->idbuf) free(j->id);
    j->id = NULL;
    j->idlen = 0;
    j->body.len = 0;
    j->nentries = 0;
    j->batch = j->atomic = j->queueing = j->exec_expect = j->exec_array = j->exec_other = false;
}

/* The connection is closing: its client leaves every kernel structure
 * now (subscriptions, tracking, a blocked command). Only at depth 0. */
static void detach_client(struct ws_conn *c)
{
    if (!c->client) return;
    client_free(c->client);
    c->client = NULL;
    reset_job(c);
    c->inq.len = c->inq_off = c->inq_done = 0;
    c->rx_data = false;
    c->qlen = 0;
}

/* Start the closing handshake with code and reason (a close frame after
 * what is already buffered). fail: also stop reading (a protocol error). */
static void enter_closing(struct ws_conn *c, uint16_t code, const char *reason, bool fail)
{
    if (c->mode == WS_RESP && c->rout.len && !c->close_queued) {
        emit(c, WSLAY_BINARY_FRAME, c->rout.buf, c->rout.len, NULL, 0, NULL, 0);
        c->rout.len = 0;
    }
    if (!c->close_queued && !wslay_event_get_close_sent(c->ws))
        wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
    c->close_queued = true;
    if (fail) c->rd_on = false;
    c->state = CONN_CLOSING;
    resume_reading(c); /* to see the peer's close frame or EOF */
    arm_linger(c);
}

/* A close frame 1002 written by hand, wslay's queue abandoned. */
static void protocol_close(struct ws_conn *c)
{
    static const char reason[] = "protocol error";
    unsigned char code[2] = {WSLAY_CODE_PROTOCOL_ERROR >> 8, WSLAY_CODE_PROTOCOL_ERROR & 0xff};
    if (!wslay_event_get_close_sent(c->ws) && !c->close_written) {
        frame_header(&c->out, WSLAY_CONNECTION_CLOSE, 2 + sizeof(reason) - 1);
        obuf_append(&c->out, (const char *)code, 2);
        obuf_append(&c->out, reason, sizeof(reason) - 1);
        c->close_written = true;
    }
    wslay_event_shutdown_write(c->ws);
    c->rd_on = false;
    c->close_queued = true;
    c->state = CONN_CLOSING;
    resume_reading(c);
    arm_linger(c);
}

/* Past client-output-buffer-limit: drop what is not written yet (but the
 * rest of a frame already begun), send close 1008, free the client. */
static void overflow(struct ws_conn *c)
{
    size_t keep;
    advance_bound(c);
    if (c->out.sent <= c->fbound)
        keep = c->fbound;
    else
        keep = c->fbound + frame_size_at(&c->out, c->fbound);
    if (keep < c->out.len) c->out.len = keep;
    c->rout.len = 0;
    c->close_queued = false;
    enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "output buffer limit reached", true);
    detach_client(c);
}

/* Write what is buffered. Returns false if the connection was freed. */
static bool flush_out(struct ws_conn *c)
{
    aof_flush_before_reply(); /* the AOF is written (and fsynced) before replies go out */
    if (c->mode == WS_RESP && c->rout.len) {
        emit(c, WSLAY_BINARY_FRAME, c->rout.buf, c->rout.len, NULL, 0, NULL, 0);
        c->rout.len = 0;
    }
    if (c->state == CONN_CLOSING) detach_client(c);
    /* As the RESP adapter: what one batch produced counts, past 16 KB. */
    if (c->client && pending_out(c) > 16384 &&
        obuf_limit_reached(c->client, pending_out(c) - 16384, &c->obuf_soft_since))
        overflow(c);
    if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
        conn_free(c);
        return false;
    }
    while (c->out.sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.buf + c->out.sent, c->out.len - c->out.sent);
        if (n > 0) {
            c->out.sent += (size_t)n;
            c->written += (unsigned long long)n;
            g_server.net_output_bytes += n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->client && obuf_limit_reached(c->client, pending_out(c), &c->obuf_soft_since)) {
                overflow(c);
                if (wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
            }
            advance_bound(c);
            /* Reclaim the written prefix (from a frame boundary) once it
             * outweighs the rest. */
            if (c->fbound > 0 && c->fbound >= c->out.len - c->fbound) {
                memmove(c->out.buf, c->out.buf + c->fbound, c->out.len - c->fbound);
                c->out.len -= c->fbound;
                c->out.sent -= c->fbound;
                c->fbound = 0;
            }
            event_add(c->wev, NULL);
            return true;
        }
        conn_free(c);
        return false;
    }
    c->out.len = c->out.sent = c->fbound = 0;
    c->obuf_soft_since = 0;
    if (c->out.cap > 1024 * 1024) obuf_free(&c->out);
    if (c->state == CONN_CLOSING && (wslay_event_get_close_sent(c->ws) || c->close_written)) {
        if (c->close_recv) {
            conn_free(c);
            return false;
        }
        if (!c->rd_on && !c->wr_shut) {
            /* Failing the connection: no close frame will be read, but
             * closing with unread input would reset it and lose our close
             * frame. Half-close and drain until EOF (or the linger timer). */
            shutdown(c->fd, SHUT_WR);
            c->wr_shut = true;
        }
    }
    return true;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct ws_conn *c = arg;
    (void)fd, (void)what;
    if (!flush_out(c)) goto done;
    if (c->out.sent == c->out.len) {
        event_del(c->wev);
        resume_reading(c);
        if (c->out_full && c->state == CONN_OPEN) after_input(c); /* input held back */
    }
done:
    kernel_after_events();
}

/* A closing connection gets WS_LINGER_SEC to finish: more while its
 * remaining output still drains, none once the peer stalls. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    struct ws_conn *c = arg;
    (void)fd, (void)what;
    if (c->out.sent < c->out.len && c->written != c->written_seen) {
        c->written_seen = c->written;
        arm_linger(c);
        return;
    }
    conn_free(c);
    kernel_after_events();
}

/* ---- JSON replies ---- */

static const struct argv_ref *cmd_name(struct ws_conn *c, int k)
{
    return &c->job.cb.argv[c->job.cb.cmd_start[k]];
}

/* {"<name>": */
static void name_prefix(struct obuf *o, const struct argv_ref *name)
{
    char buf[72];
    size_t i;
    if (name->n <= 64) {
        /* The usual case, a plain ASCII name: no escaping, one append. */
        for (i = 0; i < name->n; i++) {
            unsigned char ch = (unsigned char)name->p[i];
            if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') break;
        }
        if (i == name->n) {
            buf[0] = '{', buf[1] = '"';
            memcpy(buf + 2, name->p, name->n);
            buf[2 + name->n] = '"', buf[3 + name->n] = ':';
            obuf_append(o, buf, name->n + 4);
            return;
        }
    }
    obuf_append(o, "{", 1);
    json_put_string_lossy(o, name->p, name->n);
    obuf_append(o, ":", 1);
}

/* {"id":<id>,"reply": */
static void id_prefix(struct ws_conn *c, struct obuf *o)
{
    char buf[6 + sizeof(c->job.idbuf) + 9];
    if (c->job.idlen <= sizeof(c->job.idbuf)) {
        memcpy(buf, "{\"id\":", 6);
        memcpy(buf + 6, c->job.id, c->job.idlen);
        memcpy(buf + 6 + c->job.idlen, ",\"reply\":", 9);
        obuf_append(o, buf, c->job.idlen + 15);
        return;
    }
    obuf_append(o, "{\"id\":", 6);
    obuf_append(o, c->job.id, c->job.idlen);
    obuf_append(o, ",\"reply\":", 9);
}

static void error_frame(struct ws_conn *c, const char *id, size_t idlen, const char *msg)
{
    c->scratch.len = 0;
    obuf_append(&c->scratch, "{", 1);
    if (id) {
        obuf_append(&c->scratch, "\"id\":", 5);
        obuf_append(&c->scratch, id, idlen);
        obuf_append(&c->scratch, ",", 1);
    }
    obuf_append(&c->scratch, "\"error\":", 8);
    json_put_string_lossy(&c->scratch, msg, strlen(msg));
    obuf_append(&c->scratch, "}", 1);
    emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, NULL, 0, NULL, 0);
}

/* A batch entry {"<name>":<value>}. */
static void add_entry(struct ws_conn *c, const struct argv_ref *name, const char *v, size_t n)
{
    struct job *j = &c->job;
    if (j->nentries++) obuf_append(&j->body, ",", 1);
    name_prefix(&j->body, name);
    obuf_append(&j->body, v, n);
    obuf_append(&j->body, "}", 1);
}

/* A top-level reply value of the running request. */
static void route_reply(struct ws_conn *c, const char *v, size_t n)
{
    struct job *j = &c->job;
    static const struct argv_ref exec_name = {"EXEC", 4};
    if (!j->active) {
        emit(c, WSLAY_TEXT_FRAME, "{\"reply\":", 9, v, n, "}", 1);
        return;
    }
    if (j->atomic) {
        if (j->queueing) return;
        if (j->exec_array) {
            add_entry(c, j->exec_idx < j->ncmd ? cmd_name(c, j->exec_idx) : &exec_name, v, n);
            j->exec_idx++;
            return;
        }
        /* EXEC's error (EXECABORT) or null (a WATCHed key changed). */
        j->exec_expect = false;
        j->exec_other = true;
        j->body.len = 0;
        obuf_append(&j->body, v, n);
        return;
    }
    if (j->batch) {
        add_entry(c, cmd_name(c, j->cur), v, n);
        return;
    }
    if (j->id && j->idlen <= sizeof(j->idbuf)) {
        /* {"id":<id>,"reply":<v>}, the pipelining form: no scratch copy */
        char buf[6 + sizeof(j->idbuf) + 9];
        memcpy(buf, "{\"id\":", 6);
        memcpy(buf + 6, j->id, j->idlen);
        memcpy(buf + 6 + j->idlen, ",\"reply\":", 9);
        emit(c, WSLAY_TEXT_FRAME, buf, j->idlen + 15, v, n, "}", 1);
        return;
    }
    c->scratch.len = 0;
    if (j->id)
        id_prefix(c, &c->scratch);
    else
        name_prefix(&c->scratch, cmd_name(c, j->cur));
    emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, v, n, "}", 1);
}

static bool is_confirmation(const char *v, size_t n)
{
    static const char *const words[] = {"[\"subscribe\",",
                                        "[\"psubscribe\",",
                                        "[\"ssubscribe\",",
                                        "[\"unsubscribe\",",
                                        "[\"punsubscribe\",",
                                        "[\"sunsubscribe\",",
                                        NULL};
    int i;
    for (i = 0; words[i]; i++) {
        size_t l = strlen(words[i]);
        if (n >= l && memcmp(v, words[i], l) == 0) return true;
    }
    return false;
}

static void js_begin(struct json_sink *s, int agg, bool is_error, void *arg)
{
    struct ws_conn *c = arg;
    (void)s, (void)is_error;
    c->vagg = agg;
}

static void js_end(struct json_sink *s, void *arg)
{
    struct ws_conn *c = arg;
    const char *v = s->out.buf;
    size_t n = s->out.len;
    /* A push is out-of-band, unless it is the confirmation a (P|S)SUBSCRIBE
     * or UNSUBSCRIBE of this client answers (RESP3 sends those as pushes). */
    if (c->vagg == AGG_PUSH &&
        !(c->client && kernel_current() == c->client && is_confirmation(v, n)))
        emit(c, WSLAY_TEXT_FRAME, "{\"push\":", 8, v, n, "}", 1);
    else
        route_reply(c, v, n);
    s->out.len = 0;
}

/* EXEC's array of an atomic batch is not written: its elements become the
 * batch's entries, each one a top-level value of the sink. */
static void js_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    struct json_sink *s = r->ctx;
    struct ws_conn *c = s->arg;
    if (c->job.exec_expect && s->depth == 0 && kind == AGG_ARRAY && n >= 0) {
        c->job.exec_expect = false;
        c->job.exec_array = true;
        c->job.exec_idx = 0;
        return;
    }
    json_reply_ops.aggregate(r, kind, n);
}

/* The request is complete: send the batch's frame. */
static void job_finish(struct ws_conn *c)
{
    struct job *j = &c->job;
    if (j->atomic && j->exec_other) {
        static const char pre[] = "{\"EXEC\":";
        c->scratch.len = 0;
        if (j->id) id_prefix(c, &c->scratch);
        obuf_append(&c->scratch, pre, sizeof(pre) - 1);
        emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, j->body.buf, j->body.len,
             j->id ? "}}" : "}", j->id ? 2 : 1);
    } else if (j->batch) {
        c->scratch.len = 0;
        if (j->id) id_prefix(c, &c->scratch);
        obuf_append(&c->scratch, "[", 1);
        emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, j->body.buf, j->body.len,
             j->id ? "]}" : "]", j->id ? 2 : 1);
    }
    reset_job(c);
    if (j->body.cap > 1024 * 1024) obuf_free(&j->body);
}

/* ---- JSON requests ---- */

static const char *jws(const char *p, const char *e)
{
    if (p < e && (unsigned char)*p > ' ') return p; /* the usual case: no space */
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *jstring(const char *p, const char *e)
{
    p++;
    while (p < e) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') return p + 1;
        if (ch < 0x20) return NULL;
        if (ch == '\\') {
            int i;
            if (++p >= e) return NULL;
            if (*p == 'u') {
                if (e - p < 5) return NULL;
                for (i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i]) return NULL;
                p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", *p) || !*p) return NULL;
        }
        p++;
    }
    return NULL;
}

static const char *jdigits(const char *p, const char *e)
{
    const char *s = p;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    return p > s ? p : NULL;
}

static const char *jnumber(const char *p, const char *e)
{
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0')
        p++;
    else if (!(p = jdigits(p, e)))
        return NULL;
    if (p < e && *p == '.' && !(p = jdigits(p + 1, e))) return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p = jdigits(p, e))) return NULL;
    }
    return p;
}

static const char *jvalue(const char *p, const char *e, int depth);

static const char *jcontainer(const char *p, const char *e, int depth)
{
    char close = *p == '[' ? ']' : '}';
    bool obj = *p == '{';
    if (depth > 64) return NULL;
    p = jws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
        if (obj) {
            if (p >= e || *p != '"' || !(p = jstring(p, e))) return NULL;
            p = jws(p, e);
            if (p >= e || *p != ':') return NULL;
            p = jws(p + 1, e);
        }
        if (!(p = jvalue(p, e, depth + 1))) return NULL;
        p = jws(p, e);
        if (p < e && *p == ',') {
            p = jws(p + 1, e);
            continue;
        }
        if (p < e && *p == close) return p + 1;
        return NULL;
    }
}

static const char *jvalue(const char *p, const char *e, int depth)
{
    if (p >= e) return NULL;
    switch (*p) {
    case '"':
        return jstring(p, e);
    case '[':
    case '{':
        return jcontainer(p, e, depth);
    case 't':
        return e - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return e - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return e - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return jnumber(p, e);
    }
}

static int hex4(const char *p)
{
    int i, v = 0;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            v |= (ch | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

/* A JSON string with escapes, decoded into tmp; returns the end or NULL. */
static const char *fast_escaped(const char *p, const char *e, struct obuf *tmp)
{
    tmp->len = 0;
    while (p < e && *p != '"') {
        const char *run = p;
        char out[4];
        size_t on = 0;
        while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p > run) obuf_append(tmp, run, (size_t)(p - run));
        if (p >= e || *p == '"') break;
        if (*p != '\\' || ++p >= e) return NULL;
        switch (*p) {
        case '"':
        case '\\':
        case '/':
            out[0] = *p;
            on = 1;
            break;
        case 'b':
            out[0] = '\b';
            on = 1;
            break;
        case 'f':
            out[0] = '\f';
            on = 1;
            break;
        case 'n':
            out[0] = '\n';
            on = 1;
            break;
        case 'r':
            out[0] = '\r';
            on = 1;
            break;
        case 't':
            out[0] = '\t';
            on = 1;
            break;
        case 'u': {
            long cp;
            if (e - p < 5 || (cp = hex4(p + 1)) < 0) return NULL;
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo;
                if (e - p < 7 || p[1] != '\\' || p[2] != 'u' || (lo = hex4(p + 3)) < 0xdc00 ||
                    lo > 0xdfff)
                    return NULL;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return NULL;
            }
            if (cp < 0x80) {
                out[0] = (char)cp;
                on = 1;
            } else if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 63));
                on = 2;
            } else if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12), out[1] = (char)(0x80 | ((cp >> 6) & 63));
                out[2] = (char)(0x80 | (cp & 63));
                on = 3;
            } else {
                out[0] = (char)(0xf0 | cp >> 18), out[1] = (char)(0x80 | ((cp >> 12) & 63));
                out[2] = (char)(0x80 | ((cp >> 6) & 63)), out[3] = (char)(0x80 | (cp & 63));
                on = 4;
            }
            break;
        }
        default:
            return NULL;
        }
        obuf_append(tmp, out, on);
        p++;
    }
    return p < e ? p + 1 : NULL;
}

/* The first byte in [p, e) that ends a plain JSON string run: '"', '\\'
 * or a control character. Eight bytes at a time (a zero byte of w ^ '"'..
 * found with the borrow trick: the lowest flagged byte is exact). */
static const char *str_stop(const char *p, const char *e)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t w, q, b, t;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        t = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs;
        if (t) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(t) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

/* The fast path of request decoding: one command array of strings and
 * integers (up to 18 digits: exact in every form), appended to b. NULL
 * when the input needs the general decoder (http_decode_json: reals, long
 * integers, and every error message) or is invalid. */
static const char *fast_cmd(const char *p, const char *e, struct cmdbuf *b, struct obuf *tmp)
{
    p = jws(p + 1, e);
    if (p >= e || *p == ']') return NULL;
    cmdbuf_begin(b);
    for (;;) {
        if (p >= e) return NULL;
        if (*p == '"') {
            const char *s = ++p;
            p = str_stop(p, e);
            if (p < e && *p == '"') {
                cmdbuf_add_arg(b, s, (size_t)(p - s), true);
                p++;
            } else {
                if (!(p = fast_escaped(s, e, tmp))) return NULL;
                cmdbuf_add_arg(b, tmp->buf ? tmp->buf : "", tmp->len, true);
            }
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *s = p, *d;
            if (*p == '-') p++;
            d = p;
            while (p < e && *p >= '0' && *p <= '9')
                p++;
            if (p == d || p - d > 18 || (*d == '0' && (p - d > 1 || s != d))) return NULL;
            if (p < e && (*p == '.' || *p == 'e' || *p == 'E')) return NULL;
            cmdbuf_add_arg(b, s, (size_t)(p - s), true);
        } else {
            return NULL;
        }
        p = jws(p, e);
        if (p < e && *p == ',') {
            p = jws(p + 1, e);
            continue;
        }
        return p < e && *p == ']' ? p + 1 : NULL;
    }
}

/* A command array or a batch of them (fast path); *batch tells which. */
static const char *fast_commands(const char *p, const char *e, struct cmdbuf *b, bool *batch,
                                 struct obuf *tmp)
{
    const char *q = jws(p + 1, e);
    if (q >= e || *q != '[') {
        *batch = false;
        return fast_cmd(p, e, b, tmp);
    }
    *batch = true;
    for (;;) {
        if (!(q = fast_cmd(q, e, b, tmp))) return NULL;
        q = jws(q, e);
        if (q < e && *q == ',') {
            q = jws(q + 1, e);
            if (q >= e || *q != '[') return NULL;
            continue;
        }
        return q < e && *q == ']' ? q + 1 : NULL;
    }
}

static bool key_is(const char *k, size_t kn, const char *w)
{
    return kn == strlen(w) && memcmp(k, w, kn) == 0;
}

/* The fast path of {"id":<integer>,"cmd":[..]}, the pipelining form,
 * spelled so (no spaces before "cmd"): the command decoded into the job's
 * cmdbuf, the id's span returned. false: the general path decides. */
static bool fast_id_cmd(struct ws_conn *c, const char *p, const char *e, const char **id,
                        size_t *idlen)
{
    const char *d = p + 6, *s, *q;
    bool batch;
    if (e - p < 16 || memcmp(p, "{\"id\":", 6) != 0) return false;
    q = d;
    if (*q == '-') q++;
    s = q;
    while (q < e && *q >= '0' && *q <= '9')
        q++;
    if (q == s || (*s == '0' && q - s > 1) || q - s > 20) return false;
    if (e - q < 8 || memcmp(q, ",\"cmd\":[", 8) != 0) return false;
    *id = d;
    *idlen = (size_t)(q - d);
    q = fast_commands(q + 7, e, &c->job.cb, &batch, &c->scratch);
    if (q && !batch) {
        q = jws(q, e);
        if (q < e && *q == '}' && jws(q + 1, e) == e) return true;
    }
    cmdbuf_reset(&c->job.cb);
    return false;
}

/* Decode one request message into c->job. Answers malformed ones with an
 * error frame and returns false. */
static bool job_start(struct ws_conn *c, const char *msg, size_t len)
{
    struct job *j = &c->job;
    const char *p = msg, *e = msg + len, *span = NULL, *id = NULL;
    size_t spanlen = 0, idlen = 0;
    bool obj = false, want_batch = false, batch = false, atomic = false, decoded = false;
    char err[256];

    reset_job(c);
    cmdbuf_reset(&j->cb);
    p = jws(p, e);
    if (p < e && *p == '[') {
        const char *end = fast_commands(p, e, &j->cb, &batch, &c->scratch);
        span = msg;
        spanlen = len;
        decoded = end && jws(end, e) == e;
    } else if (p < e && *p == '{' && fast_id_cmd(c, p, e, &span, &spanlen)) {
        obj = true;
        decoded = true;
        id = span;
        idlen = spanlen;
    } else if (p < e && *p == '{') {
        span = NULL; /* fast_id_cmd may have set it */
        spanlen = 0;
        obj = true;
        p = jws(p + 1, e);
        if (p < e && *p == '}') p = NULL;
        while (p) {
            const char *k, *v, *ve;
            size_t kn;
            if (p >= e || *p != '"' || !(v = jstring(p, e))) goto bad_json;
            k = p + 1;
            kn = (size_t)(v - p - 2);
            p = jws(v, e);
            if (p >= e || *p != ':') goto bad_json;
            v = jws(p + 1, e);
            ve = NULL;
            if (!span && v < e && *v == '[' && (key_is(k, kn, "cmd") || key_is(k, kn, "batch"))) {
                ve = fast_commands(v, e, &j->cb, &batch, &c->scratch);
                decoded = ve != NULL;
                if (!decoded) cmdbuf_reset(&j->cb);
            }
            if (!ve && !(ve = jvalue(v, e, 1))) goto bad_json;
            if (key_is(k, kn, "id")) {
                if (*v != '"' && *v != '-' && (*v < '0' || *v > '9')) {
                    error_frame(c, NULL, 0, "\"id\" must be a number or a string");
                    return false;
                }
                id = v;
                idlen = (size_t)(ve - v);
            } else if (key_is(k, kn, "cmd") || key_is(k, kn, "batch")) {
                if (span) {
                    error_frame(c, id, idlen, "give either \"cmd\" or \"batch\", once");
                    return false;
                }
                want_batch = key_is(k, kn, "batch");
                span = v;
                spanlen = (size_t)(ve - v);
            } else if (key_is(k, kn, "atomic")) {
                if (*v != 't' && *v != 'f') {
                    error_frame(c, id, idlen, "\"atomic\" must be true or false");
                    return false;
                }
                atomic = *v == 't';
            } else {
                snprintf(err, sizeof(err),
                         "unknown field \"%.*s\" (expected id, cmd, batch, atomic)",
                         (int)(kn > 32 ? 32 : kn), k);
                error_frame(c, id, idlen, err);
                return false;
            }
            p = jws(ve, e);
            if (p < e && *p == ',') {
                p = jws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') break;
            goto bad_json;
        }
        if (p && jws(p + 1, e) != e) goto bad_json;
        if (!span) {
            error_frame(c, id, idlen, "a request object needs \"cmd\" or \"batch\"");
            return false;
        }
        if (atomic && !want_batch) {
            error_frame(c, id, idlen, "\"atomic\" goes with \"batch\"");
            return false;
        }
    } else {
        error_frame(c, NULL, 0,
                    "a request is a JSON array (a command or a batch of commands) or an object "
                    "{\"id\":..,\"cmd\":[..]} / {\"id\":..,\"batch\":[[..],..],\"atomic\":true}");
        return false;
    }
    if (!decoded) cmdbuf_reset(&j->cb);
    if (!decoded && !http_decode_json(span, spanlen, &j->cb, &batch, err, sizeof(err))) {
        error_frame(c, id, idlen, err);
        return false;
    }
    cmdbuf_finish(&j->cb);
    if (obj && batch != want_batch) {
        error_frame(c, id, idlen,
                    want_batch ? "\"batch\" must be an array of command arrays"
                               : "\"cmd\" must be one command array (use \"batch\" for several)");
        return false;
    }
    if (atomic) {
        const char *why = cmdbuf_atomic_refusal(&j->cb, (c->client->flags & CF_MULTI) != 0);
        if (why) {
            error_frame(c, id, idlen, why);
            return false;
        }
    }
    if (id) {
        j->id = idlen <= sizeof(j->idbuf) ? j->idbuf : xmalloc(idlen);
        memcpy(j->id, id, idlen);
        j->idlen = idlen;
    }
    j->active = true;
    j->batch = batch || atomic;
    j->atomic = atomic;
    j->ncmd = j->cb.ncmd;
    j->nsteps = atomic ? j->ncmd + 2 : j->ncmd;
    j->next = 0;
    j->cur = -1;
    return true;

bad_json:
    snprintf(err, sizeof(err), "invalid JSON request (at byte %zu)", p ? (size_t)(p - msg) : len);
    error_frame(c, id, idlen, err);
    return false;
}

static enum kernel_status submit_step(struct ws_conn *c, int step)
{
    static const struct argv_ref multi_argv = {"MULTI", 5}, exec_argv = {"EXEC", 4};
    struct job *j = &c->job;
    struct client *cl = c->client;
    const struct argv_ref *argv;
    int k = step, argc;
    c->js.resp = cl->resp;
    if (j->atomic) {
        if (step == 0) {
            j->queueing = true;
            j->cur = -1;
            return kernel_submit(cl, 1, &multi_argv);
        }
        if (step == j->nsteps - 1) {
            j->queueing = false;
            j->exec_expect = true;
            j->cur = -1;
            return kernel_submit(cl, 1, &exec_argv);
        }
        k = step - 1;
    }
    j->cur = k;
    argv = &j->cb.argv[j->cb.cmd_start[k]];
    argc = j->cb.cmd_argc[k];
    if (http_command_disabled(argv[0].p, argv[0].n)) {
        reply_errorf(&cl->reply, "ERR command '%.*s' is disabled over HTTP and WebSocket",
                     (int)(argv[0].n > 64 ? 64 : argv[0].n), argv[0].p);
        if (cl->flags & CF_MULTI) cl->flags |= CF_DIRTY_EXEC;
        return KERNEL_DONE;
    }
    return kernel_submit(cl, argc, argv);
}

/* Run the current request's steps until it is done or the client parks. */
static void job_run(struct ws_conn *c)
{
    struct job *j = &c->job;
    while (j->next < j->nsteps) {
        enum kernel_status st;
        if (c->state != CONN_OPEN || c->dead || out_big(c)) return;
        st = submit_step(c, j->next++);
        if (st == KERNEL_PARKED) {
            c->state = CONN_PARKED;
            return;
        }
        if (st == KERNEL_CLOSE) {
            job_finish(c);
            enter_closing(c, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
            return;
        }
    }
    if (c->state == CONN_OPEN) job_finish(c);
}

static void json_process(struct ws_conn *c)
{
    while (c->state == CONN_OPEN && !c->dead && !out_big(c)) {
        size_t n;
        if (c->job.active) {
            job_run(c);
            if (c->job.active) break;
            continue;
        }
        if (c->inq_off >= c->inq_done) break;
        memcpy(&n, c->inq.buf + c->inq_off, sizeof(n));
        c->inq_off += sizeof(n) + 1;
        /* JSON is UTF-8: a binary message must be too. */
        if (c->inq.buf[c->inq_off - 1] && !json_utf8_valid(c->inq.buf + c->inq_off, n))
            error_frame(c, NULL, 0, "invalid JSON: a request must be UTF-8");
        else
            job_start(c, c->inq.buf + c->inq_off, n);
        c->inq_off += n;
    }
    if (c->inq_off >= c->inq.len) {
        c->inq.len = c->inq_off = c->inq_done = 0;
        if (c->inq.cap > 1024 * 1024) obuf_free(&c->inq);
    } else if (c->inq_off > c->inq.len / 2) {
        memmove(c->inq.buf, c->inq.buf + c->inq_off, c->inq.len - c->inq_off);
        c->inq.len -= c->inq_off;
        c->inq_done -= c->inq_off;
        if (c->rx_data) c->rx_hdr -= c->inq_off;
        c->inq_off = 0;
    }
}

/* ---- RESP mode ---- */

static void resp_process(struct ws_conn *c)
{
    size_t off = 0;
    while (c->state == CONN_OPEN && !c->dead && off < c->qlen && !out_big(c)) {
        int argc;
        struct argv_ref *argv;
        size_t used = 0;
        enum kernel_status st;
        enum resp_result res;
        c->parser.authenticated = c->client->authenticated;
        res = resp_parse(&c->parser, c->qbuf + off, c->qlen - off, &argc, &argv, &used);
        if (res == RESP_MORE) break;
        if (res == RESP_ERROR) {
            reply_errorf(&c->client->reply, "ERR %s", c->parser.err);
            off = c->qlen;
            enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "RESP protocol error", true);
            break;
        }
        off += used;
        if (res == RESP_EMPTY) continue;
        if (http_command_disabled(argv[0].p, argv[0].n)) {
            reply_errorf(&c->client->reply,
                         "ERR command '%.*s' is disabled over HTTP and WebSocket",
                         (int)(argv[0].n > 64 ? 64 : argv[0].n), argv[0].p);
            if (c->client->flags & CF_MULTI) c->client->flags |= CF_DIRTY_EXEC;
            continue;
        }
        st = kernel_submit(c->client, argc, argv);
        if (st == KERNEL_CLOSE) {
            enter_closing(c, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
            break;
        }
        if (st == KERNEL_PARKED) {
            c->state = CONN_PARKED;
            break;
        }
    }
    if (off) {
        if (off < c->qlen) memmove(c->qbuf, c->qbuf + off, c->qlen - off);
        c->qlen -= off;
    }
    if (c->qlen == 0 && c->qcap > 4 * WS_READ) {
        free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
}

static void process(struct ws_conn *c)
{
    if (!c->client) return;
    c->depth++;
    if (c->mode == WS_JSON)
        json_process(c);
    else
        resp_process(c);
    c->depth--;
}

/* ---- input ---- */

/* wslay's event layer never reads (frames are read with rx_frames). */
static ssize_t ev_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)buf, (void)len, (void)flags, (void)user;
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
}

/* wslay's frame parser pulls the bytes read from the socket. */
static ssize_t fr_recv(uint8_t *buf, size_t len, int flags, void *user)
{
    struct ws_conn *c = user;
    size_t n = c->ilen - c->ioff;
    (void)flags;
    if (n == 0) return -1; /* wslay_frame_recv answers WSLAY_ERR_WANT_READ */
    if (n > len) n = len;
    memcpy(buf, c->ibuf + c->ioff, n);
    c->ioff += n;
    return (ssize_t)n;
}

static bool rx_keep(struct ws_conn *c)
{
    return c->state != CONN_CLOSING && c->client;
}

static void check_query_limit(struct ws_conn *c)
{
    size_t queued = c->mode == WS_JSON ? c->inq.len - c->inq_off : c->qlen;
    if ((long long)queued > g_config.client_query_buffer_limit) {
        fprintf(stderr, "keel: closing WebSocket client that reached max query buffer length\n");
        enter_closing(c, WSLAY_CODE_POLICY_VIOLATION, "query buffer limit reached", true);
    }
}

/* The peer broke the protocol (or sent a message over the limit): queue a
 * close with code and stop reading; after_input turns the connection to
 * CLOSING once what was received before has run. */
static void rx_fail(struct ws_conn *c, uint16_t code)
{
    c->rx_data = false;
    wslay_event_queue_close(c->ws, code, NULL, 0); /* refused if a close is queued already */
    c->rd_on = false;
}

/* Close codes a peer may send (RFC 6455 7.4; 1004-1006 and 1015 are never
 * sent in a frame). */
static bool close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006) ||
           (code >= 3000 && code <= 4999);
}

/* Length of the prefix of p[0..n) that does not end inside a UTF-8
 * sequence: an incomplete one at the end waits for the next chunk. */
static size_t utf8_whole(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k;
    for (k = 1; k <= 3 && k <= n; k++) {
        unsigned char b = p[n - k];
        if ((b & 0xc0) == 0x80) continue;
        if (b >= 0xc0 && (size_t)(b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k) return n - k;
        return n;
    }
    return n;
}

/* UTF-8 check with an ASCII fast path (8 bytes at a time). */
static bool utf8_valid(const char *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    return json_utf8_valid(p + i, n - i);
}

/* A text message's bytes so far end at `end`: check those not checked yet
 * (all of them when the message is complete). */
static bool rx_utf8(struct ws_conn *c, const char *end, size_t avail, size_t n, bool last)
{
    size_t m = c->rx_unval + n, ok;
    if (m > avail) m = avail;
    ok = last ? m : utf8_whole(end - m, m);
    if (!utf8_valid(end - m, ok)) return false;
    c->rx_unval = m - ok;
    return true;
}

/* A frame starts: what the event layer of wslay checked, checked here. */
static bool rx_frame_start(struct ws_conn *c, const struct wslay_frame_iocb *io)
{
    uint8_t op = io->opcode;
    /* No extension is negotiated: RSV bits must be clear; a client masks
     * its frames. (wslay_frame_recv rejected control frames over 125 bytes
     * or fragmented.) */
    if (io->rsv || !io->mask) {
        rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
        return false;
    }
    if (op & 0x8) {
        if (op != WSLAY_CONNECTION_CLOSE && op != WSLAY_PING && op != WSLAY_PONG) {
            rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
            return false;
        }
        c->ctrl_len = 0; /* control frames may come between fragments */
    } else if (op == WSLAY_CONTINUATION_FRAME) {
        if (c->rx_op < 0) { /* nothing to continue */
            rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
            return false;
        }
    } else if (op == WSLAY_TEXT_FRAME || op == WSLAY_BINARY_FRAME) {
        if (c->rx_op >= 0) { /* a new message inside a fragmented one */
            rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
            return false;
        }
        c->rx_op = op;
        c->rx_len = 0;
        c->rx_unval = 0;
        c->rx_data = rx_keep(c);
        if (c->rx_data && c->mode == WS_JSON) {
            char hdr[sizeof(size_t) + 1] = {0};
            hdr[sizeof(size_t)] = op == WSLAY_BINARY_FRAME;
            c->rx_hdr = c->inq.len;
            obuf_append(&c->inq, hdr, sizeof(hdr));
        }
    } else {
        rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
        return false;
    }
    /* The whole message counts against ws-max-message-size. */
    if (!(op & 0x8) && c->rx_len + io->payload_length > (uint64_t)g_config.ws_max_message) {
        rx_fail(c, WSLAY_CODE_MESSAGE_TOO_BIG);
        return false;
    }
    c->fr_op = op;
    c->fr_fin = io->fin;
    c->fr_left = io->payload_length;
    c->fr_mid = true;
    return true;
}

/* A complete control frame. */
static void rx_control(struct ws_conn *c)
{
    if (c->fr_op == WSLAY_PING) {
        struct wslay_event_msg pong = {WSLAY_PONG, c->ctrl, c->ctrl_len};
        wslay_event_queue_msg(c->ws, &pong); /* refused once a close is queued */
    } else if (c->fr_op == WSLAY_CONNECTION_CLOSE) {
        uint16_t code = 0;
        if (c->ctrl_len == 1) {
            rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
            return;
        }
        if (c->ctrl_len >= 2) {
            code = (uint16_t)(c->ctrl[0] << 8 | c->ctrl[1]);
            if (!close_code_valid(code)) {
                rx_fail(c, WSLAY_CODE_PROTOCOL_ERROR);
                return;
            }
            if (!json_utf8_valid((const char *)c->ctrl + 2, c->ctrl_len - 2)) {
                rx_fail(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA);
                return;
            }
        }
        /* Echo the code and reason (none if the peer gave none), unless
         * our own close went first; read no further. */
        c->close_recv = true;
        wslay_event_queue_close(c->ws, code, c->ctrl_len > 2 ? c->ctrl + 2 : NULL,
                                c->ctrl_len > 2 ? c->ctrl_len - 2 : 0);
        c->rd_on = false;
    }
}

/* A data message is complete. */
static void rx_message_end(struct ws_conn *c)
{
    bool keep = c->rx_data && rx_keep(c);
    c->rx_op = -1;
    c->rx_data = false;
    if (!keep || c->mode != WS_JSON) return;
    {
        size_t n = (size_t)c->rx_len;
        memcpy(c->inq.buf + c->rx_hdr, &n, sizeof(n));
        c->inq_done = c->inq.len;
    }
}

/* A chunk of a data frame's payload: appended to the message. */
static bool rx_data_chunk(struct ws_conn *c, const uint8_t *data, size_t n, bool last)
{
    const char *end;
    size_t avail;
    c->rx_len += n;
    if (!c->rx_data) return true;
    if (!rx_keep(c)) {
        c->rx_data = false;
        return true;
    }
    if (c->mode == WS_JSON) {
        if (n) obuf_append(&c->inq, (const char *)data, n);
        end = c->inq.buf + c->inq.len;
        avail = c->inq.len - c->rx_hdr - (sizeof(size_t) + 1);
    } else {
        if (c->qcap - c->qlen < n) {
            size_t cap = c->qcap ? c->qcap : WS_READ;
            while (cap - c->qlen < n)
                cap *= 2;
            c->qbuf = xrealloc(c->qbuf, cap);
            c->qcap = cap;
        }
        if (n) memcpy(c->qbuf + c->qlen, data, n);
        c->qlen += n;
        end = c->qbuf + c->qlen;
        avail = c->qlen;
    }
    /* Text messages must be UTF-8 (checked across fragments). */
    if (c->rx_op == WSLAY_TEXT_FRAME && (n || last) && !rx_utf8(c, end, avail, n, last)) {
        rx_fail(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA);
        return false;
    }
    if (n) check_query_limit(c);
    return true;
}

/* Frames read with wslay's frame API; the reassembly of fragments, control
 * frames (ping -> pong, the close handshake) and the checks of RFC 6455
 * that wslay's event layer would do are done here, without its copies and
 * per-byte work. */
static void rx_frames(struct ws_conn *c)
{
    struct wslay_frame_iocb io;
    while (c->rd_on) {
        ssize_t r = wslay_frame_recv(c->fr, &io);
        bool end;
        if (r < 0) {
            /* WSLAY_ERR_PROTO: a control frame over 125 bytes or
             * fragmented, or a bad length encoding: close 1002. */
            if (r != WSLAY_ERR_WANT_READ) protocol_close(c);
            return;
        }
        if (!c->fr_mid && !rx_frame_start(c, &io)) return;
        if (io.data_length > c->fr_left) { /* cannot happen: wslay keeps frame alignment */
            protocol_close(c);
            return;
        }
        c->fr_left -= io.data_length;
        end = c->fr_left == 0;
        if (end) c->fr_mid = false;
        if (c->fr_op & 0x8) {
            memcpy(c->ctrl + c->ctrl_len, io.data, io.data_length);
            c->ctrl_len += io.data_length;
            if (end) rx_control(c);
            continue;
        }
        if (!rx_data_chunk(c, io.data, io.data_length, end && c->fr_fin)) return;
        if (end && c->fr_fin) rx_message_end(c);
    }
}

/* After input or a resume: run what can run, notice a close, write. */
static void after_input(struct ws_conn *c)
{
    for (;;) {
        c->out_full = false;
        if (c->state == CONN_OPEN) process(c);
        if (c->dead) {
            conn_free(c);
            return;
        }
        if (c->state != CONN_CLOSING && !c->rd_on) {
            /* wslay queued a close: the peer's close, a protocol error
             * (1002) or a message over ws-max-message-size (1009). */
            c->close_queued = true;
            c->state = CONN_CLOSING;
            arm_linger(c);
        }
        if (!flush_out(c)) return;
        if (!c->out_full || c->state != CONN_OPEN) return;
        if (c->out.sent < c->out.len) {
            /* The client does not read its replies: stop reading its
             * requests until they are written (TCP pushes back). */
            if (!c->rd_paused) event_del(c->rev);
            c->rd_paused = true;
            return;
        }
        /* Stopped at WS_OUT_BATCH and all of it written: run more. */
    }
}

static void resume_reading(struct ws_conn *c)
{
    if (!c->rd_paused) return;
    c->rd_paused = false;
    event_add(c->rev, NULL);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct ws_conn *c = arg;
    ssize_t n;
    (void)what;
    if (c->ioff == c->ilen) c->ioff = c->ilen = 0;
    if (c->icap - c->ilen < WS_READ) {
        c->icap = c->ilen + WS_READ;
        c->ibuf = xrealloc(c->ibuf, c->icap);
    }
    n = read(fd, c->ibuf + c->ilen, c->icap - c->ilen);
    if (n == 0) {
        conn_free(c);
        goto done;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_free(c);
            goto done;
        }
        if (c->ilen == c->ioff) goto done;
    } else {
        c->ilen += (size_t)n;
        g_server.net_input_bytes += n;
    }
    if (c->rd_on) {
        c->depth++;
        rx_frames(c);
        c->depth--;
    }
    c->ioff = c->ilen = 0;
    if (c->icap > 4 * WS_READ) {
        free(c->ibuf);
        c->ibuf = NULL;
        c->icap = 0;
    }
    after_input(c);
done:
    kernel_after_events();
}

/* ---- kernel hooks ---- */

static void ad_resume(struct client *cl)
{
    struct ws_conn *c = cl->conn;
    if (c->state == CONN_PARKED && cl->state == CLIENT_ACTIVE) c->state = CONN_OPEN;
    after_input(c);
}

static void ad_flush(struct client *cl)
{
    struct ws_conn *c = cl->conn;
    if (c->depth == 0) flush_out(c);
}

static void ad_close(struct client *cl, bool after_reply)
{
    struct ws_conn *c = cl->conn;
    if (after_reply) {
        enter_closing(c, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
        if (c->depth == 0) flush_out(c);
        return;
    }
    if (c->depth > 0) {
        c->dead = true;
        return;
    }
    conn_free(c);
}

static void ad_describe(struct client *cl, char *addr, size_t alen, char *laddr, size_t llen,
                        int *fd)
{
    struct ws_conn *c = cl->conn;
    snprintf(addr, alen, "%s", c->addr);
    snprintf(laddr, llen, "%s", c->laddr);
    *fd = c->fd;
}

static void ad_buffers(struct client *cl, size_t *qbuf, size_t *qfree, size_t *obl, size_t *oll,
                       size_t *omem)
{
    struct ws_conn *c = cl->conn;
    *qbuf = (c->ilen - c->ioff) + (c->inq.len - c->inq_off) + c->qlen;
    *qfree = (c->icap - c->ilen) + (c->qcap - c->qlen);
    *obl = c->out.len - c->out.sent + c->rout.len;
    *oll = 0;
    *omem = c->out.cap + c->rout.cap + c->js.out.cap + c->job.body.cap;
}

static const struct client_adapter ws_adapter = {"ws",     ad_resume,   ad_close,
                                                 ad_flush, ad_describe, ad_buffers, true};

/* ---- life ---- */

static void conn_free(struct ws_conn *c)
{
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    if (c->tev) event_free(c->tev);
    close(c->fd);
    if (c->client) client_free(c->client);
    if (c->ws) wslay_event_context_free(c->ws);
    if (c->fr) wslay_frame_context_free(c->fr);
    free(c->ibuf);
    free(c->qbuf);
    obuf_free(&c->inq);
    obuf_free(&c->out);
    obuf_free(&c->rout);
    obuf_free(&c->scratch);
    reset_job(c);
    obuf_free(&c->job.body);
    cmdbuf_free(&c->job.cb);
    json_sink_free(&c->js);
    resp_parser_free(&c->parser);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
}

/* The path of the request target, without the query. */
static size_t target_path(const struct http_request *req)
{
    const char *q = memchr(req->target, '?', req->target_len);
    return q ? (size_t)(q - req->target) : req->target_len;
}

/* The first of the client's subprotocols that Keel speaks ("" if none). */
static const char *pick_protocol(const struct http_request *req)
{
    static const char *const known[] = {"json", "resp3", "resp2", NULL};
    const struct http_header *h = http_header(req, "Sec-WebSocket-Protocol");
    const char *p, *e;
    if (!h) return "";
    p = h->value;
    e = h->value + h->vlen;
    while (p < e) {
        const char *s, *t;
        int i;
        while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        s = p;
        while (p < e && *p != ',')
            p++;
        t = p;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        for (i = 0; known[i]; i++)
            if ((size_t)(t - s) == strlen(known[i]) &&
                strncasecmp(s, known[i], (size_t)(t - s)) == 0)
                return known[i];
    }
    return "";
}

bool ws_accept(int fd, const struct http_request *req, const char *addr, const char *laddr,
               const char *rest, size_t rest_len)
{
    /* wslay's event layer only sends (control frames): frames are read
     * with its frame API (rx_frames). */
    static const struct wslay_event_callbacks cbs = {ev_recv, cb_send, NULL, NULL,
                                                     NULL,    NULL,    NULL};
    static const struct wslay_frame_callbacks fcbs = {NULL, fr_recv, NULL};
    const struct http_header *key = http_header(req, "Sec-WebSocket-Key");
    const struct http_header *ver = http_header(req, "Sec-WebSocket-Version");
    size_t plen = target_path(req);
    const char *proto;
    enum ws_mode mode;
    int resp;
    struct ws_conn *c;
    char accept[29], hs[256];
    int hn;

    if (req->method != HM_GET || !req->upgrade_ws) {
        http_error(fd, 400, "Bad Request", "a WebSocket upgrade is a GET with Upgrade: websocket");
        return false;
    }
    if (!ver || !header_is(ver, "13")) {
        http_error(fd, 400, "Bad Request", "Sec-WebSocket-Version must be 13");
        return false;
    }
    if (!key || !key_valid(key->value, key->vlen)) {
        http_error(fd, 400, "Bad Request", "missing or invalid Sec-WebSocket-Key");
        return false;
    }
    if ((plen == 1 && req->target[0] == '/') || (plen == 6 && !memcmp(req->target, "/.json", 6))) {
        mode = WS_JSON;
        resp = 3;
    } else if (plen == 5 && !memcmp(req->target, "/.raw", 5)) {
        mode = WS_RESP;
        resp = 2;
    } else {
        http_error(fd, 404, "Not Found", "WebSocket endpoints are /, /.json and /.raw");
        return false;
    }
    proto = pick_protocol(req);
    if (!strcmp(proto, "json")) {
        mode = WS_JSON;
        resp = 3;
    } else if (!strcmp(proto, "resp3")) {
        mode = WS_RESP;
        resp = 3;
    } else if (!strcmp(proto, "resp2")) {
        mode = WS_RESP;
        resp = 2;
    }

    ws_accept_key(key->value, key->vlen, accept);
    hn =
        snprintf(hs, sizeof(hs),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                 accept, proto[0] ? "Sec-WebSocket-Protocol: " : "", proto, proto[0] ? "\r\n" : "");

    c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->mode = mode;
    c->state = CONN_OPEN;
    snprintf(c->addr, sizeof(c->addr), "%s", addr ? addr : "?");
    snprintf(c->laddr, sizeof(c->laddr), "%s", laddr ? laddr : "?");
    evutil_make_socket_nonblocking(fd);
    if (wslay_event_context_server_init(&c->ws, &cbs, c) != 0) {
        free(c);
        http_error(fd, 500, "Internal Server Error", "out of memory");
        return false;
    }
    if (wslay_frame_context_init(&c->fr, &fcbs, c) != 0) {
        wslay_event_context_free(c->ws);
        free(c);
        http_error(fd, 500, "Internal Server Error", "out of memory");
        return false;
    }
    c->rd_on = true;
    c->rx_op = -1;
    obuf_append(&c->out, hs, (size_t)hn);
    c->fbound = (size_t)hn;
    resp_parser_init(&c->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
    json_sink_init(&c->js, resp);
    c->js.begin = js_begin;
    c->js.end = js_end;
    c->js.arg = c;
    c->jops = json_reply_ops;
    c->jops.aggregate = js_aggregate;
    if (mode == WS_JSON)
        c->client = client_new(&ws_adapter, c, &c->jops);
    else
        c->client = client_new(&ws_adapter, c, &resp_reply_ops);
    c->client->reply.ctx = mode == WS_JSON ? (void *)&c->js : (void *)&c->rout;
    c->client->resp = resp;
    c->client->reply.resp = resp;
    c->client->authenticated = true; /* the HTTP adapter checked the password */
    if (rest_len) {
        c->ibuf = xmalloc(rest_len > WS_READ ? rest_len : WS_READ);
        c->icap = rest_len > WS_READ ? rest_len : WS_READ;
        memcpy(c->ibuf, rest, rest_len);
        c->ilen = rest_len;
    }
    c->rev = event_new(g_server.base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(g_server.base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->tev = evtimer_new(g_server.base, on_linger, c);
    c->next = conns;
    if (conns) conns->prev = c;
    conns = c;
    event_add(c->rev, NULL);
    if (!flush_out(c)) return true;
    if (rest_len) event_active(c->rev, EV_READ, 0);
    return true;
}

void ws_shutdown(void)
{
    while (conns) {
        struct ws_conn *c = conns;
        if (c->state != CONN_CLOSING && c->depth == 0)
            enter_closing(c, WSLAY_CODE_GOING_AWAY, "server shutting down", true);
        if (c->depth == 0 && wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
        if (c->out.sent < c->out.len) {
            ssize_t w = write(c->fd, c->out.buf + c->out.sent, c->out.len - c->out.sent);
            (void)w;
        }
        conn_free(c);
    }
}
