/* http_conn.c — HTTP connections: accept (network allow list), read,
 * parse requests (http_parse.c) and answer them in order, one at a time:
 * Webdis's URL/POST/PUT forms and JSON bodies (http_request.c) become
 * commands submitted to the kernel with this connection's client, whose
 * reply sink is the JSON, RESP (.raw) or bytes (.txt ...) encoder of the
 * request's format; the reply becomes a response with ETag, CORS and
 * keep-alive headers. SUBSCRIBE/PSUBSCRIBE turn the connection into a
 * stream (chunked JSON, or Server-Sent Events). WebSocket upgrades are
 * handed to adapters/ws. https-port: the same over adapters/tls. GET /_stream/<key> tails a stream
 * as Server-Sent Events (http_tail.c). Also: /_commands, /_health,
 * /_metrics, /_console,
 * limits and timeouts. Socket I/O, buffers, output limits and the
 * kernel's hooks are the connection base's (adapters/conn.h); this file
 * owns the HTTP states, keep-alive, pipelining (paused at OUT_HIGH of
 * unwritten output), streaming, and the header and idle timers. A
 * connection is in one of the base's states at a time:
 *   OPEN      reading and answering requests;
 *   PARKED    its client waits in the kernel (BLPOP): input is held;
 *   STREAMING a pub/sub stream: input is ignored, pushes are written;
 *   CLOSING   the last response is being written, then the socket closes. */
#include "http_conn.h"
#include "http_conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_limits.h"
#include "config.h"
#include "aof.h"
#include "client.h"
#include "kernel.h"
#include "log.h"
#include "pubsub.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "net.h"
#include "tls.h"
#include "resp_encode.h"
#include "conn.h"
#include "ws_conn.h"
#include "ws_json.h"
#include "http_access.h"
#include "http_assets.h"
#include "http_endpoints.h"
#include "http_format.h"
#include "http_parse.h"
#include "http_request.h"
#include "json_reply.h"
#include "stream_tail.h"
#include "md5.h"
#include "upstash.h"
#include "webdis_info.h"
#include "msgpack_reply.h"

/* Pipelined requests are answered until this much output waits unsent
 * (the base's out_high); the rest wait, reading paused, until the peer has
 * taken it (fairness between clients, and bounded memory for one that
 * never reads). */
#define OUT_HIGH (256 * 1024)
#define MAX_LISTENERS 16

static struct evconnlistener *listeners[MAX_LISTENERS];
static int nlisteners;
long long g_http_requests;

static void finish_response(struct http_conn *c);

/* ---- JSON wrapping of replies ---- */

/* Top-level value begins: {"<name>": */
static void js_begin(struct json_sink *s, int agg, bool is_err, void *arg)
{
    struct http_conn *c = arg;
    (void)is_err;
    if (c->rq.batch && c->rq.cmd_i > 0 && !c->rq.atomic) obuf_append(&s->out, ",", 1);
    if (c->rq.atomic && agg == AGG_ARRAY && c->batch_names) {
        s->elem_names = c->batch_names;
        s->nelem_names = c->nbatch_names;
        return;
    }
    obuf_append(&s->out, "{", 1);
    obuf_append(&s->out, c->names.buf, c->names.len);
    obuf_append(&s->out, ":", 1);
}

static void js_end(struct json_sink *s, void *arg)
{
    struct http_conn *c = arg;
    if (s->elem_names) {
        s->elem_names = NULL;
        s->nelem_names = 0;
    } else {
        obuf_append(&s->out, "}", 1);
    }
    if (c->conn.state == CONN_STREAMING) {
        /* One pub/sub message: one chunk, or one SSE event. */
        size_t jl = strlen(c->rq.jsonp);
        if (c->rq.sse) {
            http_out_str(c, "data: ");
            obuf_append(&c->conn.out, s->out.buf, s->out.len);
            http_out_str(c, "\n\n");
        } else if (jl) {
            /* As Webdis: each message its own "cb(<json>);\n" chunk. */
            http_out_fmt(c, "%zx\r\n%s(", s->out.len + jl + 4, c->rq.jsonp);
            obuf_append(&c->conn.out, s->out.buf, s->out.len);
            http_out_str(c, ");\n\r\n");
        } else {
            http_out_fmt(c, "%zx\r\n", s->out.len);
            obuf_append(&c->conn.out, s->out.buf, s->out.len);
            http_out_str(c, "\r\n");
        }
        s->out.len = 0;
    }
}

static void set_name(struct http_conn *c, const struct argv_ref *a)
{
    c->names.len = 0;
    json_put_string_lossy(&c->names, a->p, a->n);
    msgpack_sink_name(&c->mp, a->p, a->n);
}

/* ---- requests ---- */

static void copy_header(const struct http_request *req, const char *name, char *dst, size_t n)
{
    const struct http_header *h = http_header(req, name);
    dst[0] = 0;
    if (h && h->vlen < n) {
        memcpy(dst, h->value, h->vlen);
        dst[h->vlen] = 0;
    }
}

static bool valid_callback(const char *p, size_t n)
{
    size_t i;
    if (n == 0 || n >= 128) return false;
    for (i = 0; i < n; i++) {
        char ch = p[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '$';
        if (!(alpha || (i > 0 && ((ch >= '0' && ch <= '9') || ch == '.')))) return false;
    }
    return true;
}

/* Point the client's sink at the request's format. */
static void use_sink(struct http_conn *c)
{
    struct reply *r = &c->conn.client->reply;
    if (c->rq.upstash) {
        r->ops = &upstash_reply_ops;
        r->ctx = &c->us;
        return;
    }
    switch (c->rq.fmt) {
    case FMT_JSON:
        r->ops = &json_reply_ops;
        if (!c->rq.batch && c->cb.ncmd == 1 &&
            util_eqci(c->cb.argv[0].p, c->cb.argv[0].n, "info")) {
            /* As today's Webdis: INFO's text as an object of its fields. */
            static struct reply_ops info_ops;
            if (!info_ops.bulk) webdis_info_ops(&info_ops);
            r->ops = &info_ops;
        }
        r->ctx = &c->js;
        c->js.resp = c->conn.client->resp;
        break;
    case FMT_RAW:
        r->ops = &resp_reply_ops;
        r->ctx = &c->body;
        break;
    case FMT_BYTES:
        r->ops = &bytes_reply_ops;
        r->ctx = &c->bs;
        break;
    case FMT_MSGPACK:
        r->ops = &msgpack_reply_ops;
        r->ctx = &c->mp;
        break;
    }
}

static bool is_subscribe(const struct argv_ref *a)
{
    return util_eqci(a->p, a->n, "subscribe") || util_eqci(a->p, a->n, "psubscribe") ||
           util_eqci(a->p, a->n, "ssubscribe");
}

static void start_stream(struct http_conn *c)
{
    c->conn.state = CONN_STREAMING;
    c->rq.keep_alive = false;
    http_status_line(c, 200);
    if (c->rq.sse) {
        http_out_str(c, "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "Connection: close\r\n\r\n");
    } else {
        http_out_fmt(c, "Content-Type: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
                     c->rq.ctype);
        if (c->rq.filename[0])
            http_out_fmt(c, "Content-Disposition: attachment; filename=\"%s\"\r\n", c->rq.filename);
        http_out_str(c, "\r\n");
    }
    c->last_beat_ms = util_mstime();
}

/* A command refused over HTTP is, for a transaction in progress, a
 * rejected command: EXEC will abort (as the kernel does for the ones it
 * rejects, and as the WebSocket adapter does). */
static void refused_in_multi(struct http_conn *c)
{
    if (c->conn.client->flags & CF_MULTI) c->conn.client->flags |= CF_DIRTY_EXEC;
}

/* Submit command k of the cmdbuf. Returns the kernel's status. */
static enum kernel_status submit_cmd(struct http_conn *c, int k)
{
    const struct argv_ref *argv = &c->cb.argv[c->cb.cmd_start[k]];
    int argc = c->cb.cmd_argc[k];
    set_name(c, &argv[0]);
    c->rq.cmd_i = k;
    if (http_command_refused(argv[0].p, argv[0].n, c->conn.addr, c->rq.auth, c->rq.authlen)) {
        /* Within a batch an error reply; a single command gets 403. */
        http_refuse_disabled(c->conn.client, &c->conn.client->reply, argv[0].p, argv[0].n);
        return KERNEL_DONE;
    }
    if (c->rq.readonly && http_readonly_refused(argv, argc)) {
        char why[200];
        http_readonly_text(why, sizeof(why), argv, argc);
        reply_errorf(&c->conn.client->reply, "%s", why);
        refused_in_multi(c);
        return KERNEL_DONE;
    }
    g_http_requests++;
    return kernel_submit(c->conn.client, argc, argv);
}

/* ---- one request ---- */

/* Decide format, callback, separators from extension and query. */
static bool setup_format(struct http_conn *c, const char *ext, const char *q, size_t ql)
{
    const char *ct, *v;
    size_t vl;
    c->rq.fmt = http_format_for(ext, &ct);
    snprintf(c->rq.ctype, sizeof(c->rq.ctype), "%s", ct);
    c->rq.jsonp[0] = 0;
    /* As Webdis: ?type= and ?sep= are taken verbatim; ?type= asks for the
     * value's raw bytes whatever the extension (Webdis answers
     * /GET/k.json?type=text/plain and .raw?type= with the bare value too). */
    if ((v = http_query_get(q, ql, "type", &vl)) && vl > 0 && vl < sizeof(c->rq.ctype)) {
        memcpy(c->rq.ctype, v, vl);
        c->rq.ctype[vl] = 0;
        c->rq.fmt = FMT_BYTES;
    }
    if (((v = http_query_get(q, ql, "jsonp", &vl)) ||
         (v = http_query_get(q, ql, "callback", &vl))) &&
        c->rq.fmt == FMT_JSON) {
        if (!valid_callback(v, vl)) {
            http_respond_error(c, 400, "invalid JSONP callback name");
            return false;
        }
        memcpy(c->rq.jsonp, v, vl);
        c->rq.jsonp[vl] = 0;
        snprintf(c->rq.ctype, sizeof(c->rq.ctype), "application/javascript");
    }
    if ((v = http_query_get(q, ql, "filename", &vl)) && vl > 0) {
        /* As Webdis: Content-Disposition: attachment; filename="<value>". */
        size_t n = http_urldecode(v, vl < sizeof(c->rq.filename) ? vl : 0, c->rq.filename), i;
        c->rq.filename[n] = 0;
        for (i = 0; i < n; i++)
            if (c->rq.filename[i] == '"' || (unsigned char)c->rq.filename[i] < 0x20 ||
                c->rq.filename[i] == '\\' || c->rq.filename[i] == 0x7f)
                break;
        if (n == 0 || i < n) {
            c->rq.filename[0] = 0;
            http_respond_error(c, 400, "invalid filename");
            return false;
        }
    }
    if (!(v = http_query_get(q, ql, "sep", &vl))) vl = 0;
    bytes_sink_reset(&c->bs, v, vl);
    c->js.out.len = 0;
    c->body.len = 0;
    c->js.depth = 0;
    return true;
}

/* The request's replies are complete: build the response. */
static void finish_response(struct http_conn *c)
{
    if (!c->rq.active || c->conn.state == CONN_STREAMING) return;
    c->rq.active = false;
    if (c->rq.restore_db >= 0) {
        client_select(c->conn.client, c->rq.restore_db);
        c->rq.restore_db = -1;
    }
    if (c->conn.state == CONN_PARKED) c->conn.state = CONN_OPEN;
    if (c->rq.upstash) {
        int status = upstash_sink_finish(&c->us);
        http_respond(c, status, "application/json", c->us.out.buf, c->us.out.len);
        c->us.out.len = 0;
        c->conn.client->reply.ops = &json_reply_ops;
        c->conn.client->reply.ctx = &c->js;
        return;
    }
    switch (c->rq.fmt) {
    case FMT_JSON:
        if (c->rq.batch && !c->rq.atomic) {
            /* [ written before the first command */
            obuf_append(&c->js.out, "]", 1);
        }
        if (c->rq.jsonp[0]) {
            struct obuf b = {0};
            obuf_append(&b, c->rq.jsonp, strlen(c->rq.jsonp));
            obuf_append(&b, "(", 1);
            obuf_append(&b, c->js.out.buf, c->js.out.len);
            obuf_append(&b, ");\n", 3);
            http_respond(c, 200, c->rq.ctype, b.buf, b.len);
            obuf_free(&b);
        } else {
            http_respond(c, 200, c->rq.ctype, c->js.out.buf, c->js.out.len);
        }
        c->js.out.len = 0;
        break;
    case FMT_RAW:
        http_respond(c, 200, c->rq.ctype, c->body.buf, c->body.len);
        c->body.len = 0;
        break;
    case FMT_MSGPACK:
        http_respond(c, 200, c->rq.ctype, c->mp.out.buf, c->mp.out.len);
        c->mp.out.len = 0;
        break;
    case FMT_BYTES:
        if (c->bs.nil)
            http_respond(c, 404, NULL, "", 0);
        else
            http_respond(c, 200, c->rq.ctype, c->bs.out.buf, c->bs.out.len);
        c->bs.out.len = 0;
        break;
    }
    /* A big response's buffers, once copied to the connection's output. */
    obuf_trim(&c->js.out, HTTP_SIDE_KEEP);
    obuf_trim(&c->body, HTTP_SIDE_KEEP);
    obuf_trim(&c->mp.out, HTTP_SIDE_KEEP);
    obuf_trim(&c->bs.out, HTTP_SIDE_KEEP);
    obuf_trim(&c->us.out, HTTP_SIDE_KEEP);
    c->conn.client->reply.ops = &json_reply_ops;
    c->conn.client->reply.ctx = &c->js;
}

/* Run the request's commands from k on; stops when the client parks. */
static void run_commands(struct http_conn *c, int k)
{
    for (; k < c->cb.ncmd; k++) {
        enum kernel_status st = submit_cmd(c, k);
        if (st == KERNEL_CLOSE) c->rq.keep_alive = false;
        if (st == KERNEL_PARKED) {
            c->conn.state = CONN_PARKED;
            c->rq.cmd_i = k;
            return;
        }
    }
    /* upstream mode: the batch's replies still out come first */
    if (c->dq_head && kernel_settle(c->conn.client) == KERNEL_PARKED) {
        c->conn.state = CONN_PARKED;
        c->rq.cmd_i = c->cb.ncmd - 1;
        return;
    }
    finish_response(c);
}

/* An atomic batch's EXEC has replied: the response. */
static void atomic_done(struct http_conn *c)
{
    int k;
    for (k = 0; k < c->nbatch_names; k++)
        obuf_free(&c->batch_names[k]);
    free(c->batch_names);
    c->batch_names = NULL;
    c->nbatch_names = 0;
    finish_response(c);
}

/* The queueing of an atomic batch is over: its sink back. */
static void atomic_unscratch(struct http_conn *c)
{
    if (!c->ascratch_on) return;
    c->conn.client->reply = c->asaved;
    json_sink_free(&c->ascratch);
    c->ascratch_on = false;
}

/* Run an atomic batch's steps from c->rq.astep on: MULTI, the commands
 * (their QUEUED replies dropped, a rejected one reported), EXEC with each
 * result named. Any step may park (CLIENT PAUSE parks a write before it is
 * queued, and EXEC; upstream mode's EXEC replies later): the batch goes on
 * from the next step when the client is resumed (unparked). */
static void atomic_steps(struct http_conn *c)
{
    static const struct argv_ref multi = {"MULTI", 5}, exec = {"EXEC", 4};
    struct client *cl = c->conn.client;
    int n = c->cb.ncmd;
    while (c->rq.astep <= n + 1) {
        int step = c->rq.astep++;
        enum kernel_status st;
        if (step == 0) {
            st = kernel_submit(cl, 1, &multi);
        } else if (step <= n) {
            const struct argv_ref *argv = &c->cb.argv[c->cb.cmd_start[step - 1]];
            if (http_command_refused(argv[0].p, argv[0].n, c->conn.addr, c->rq.auth,
                                     c->rq.authlen) ||
                (c->rq.readonly && http_readonly_refused(argv, c->cb.cmd_argc[step - 1]))) {
                refused_in_multi(c); /* refused before queueing: EXEC aborts */
                continue;
            }
            st = kernel_submit(cl, c->cb.cmd_argc[step - 1], argv);
        } else {
            atomic_unscratch(c);
            set_name(c, &exec);
            st = kernel_submit(cl, 1, &exec);
        }
        if (st == KERNEL_PARKED) {
            c->conn.state = CONN_PARKED;
            c->rq.atomic_parked = true;
            return;
        }
    }
    atomic_done(c);
}

/* ?atomic=1 batches (and Upstash's /multi-exec): see atomic_steps. */
static void run_atomic(struct http_conn *c)
{
    int k;
    c->asaved = c->conn.client->reply;
    json_sink_init(&c->ascratch, c->conn.client->resp);
    c->ascratch_on = true;
    c->conn.client->reply.ops = &json_reply_ops;
    c->conn.client->reply.ctx = &c->ascratch;
    c->batch_names = xcalloc((size_t)c->cb.ncmd, sizeof(struct obuf));
    c->nbatch_names = c->cb.ncmd;
    for (k = 0; k < c->cb.ncmd; k++) {
        const struct argv_ref *argv = &c->cb.argv[c->cb.cmd_start[k]];
        json_put_string_lossy(&c->batch_names[k], argv[0].p, argv[0].n);
    }
    c->rq.astep = 0;
    atomic_steps(c);
}

static void handle_upgrade(struct http_conn *c, const struct http_request *req, size_t used)
{
    if (c->rq.origin_refused) {
        http_respond_error(c, 403, "origin not allowed");
        c->conn.state = CONN_CLOSING;
        return;
    }
    /* The WebSocket adapter takes the socket and any bytes after the
     * request (this connection is left dead, without a socket). */
    if (ws_accept(&c->conn, req, c->conn.in + used, c->conn.inlen - used)) {
        c->conn.inlen = used;
        return;
    }
    c->conn.state = CONN_CLOSING; /* ws_accept put its 400 in our output */
}

/* An Upstash REST request (/_upstash...): decoded by upstash.c, run as
 * any request, answered by the Upstash sink. */
static void handle_upstash(struct http_conn *c, const struct http_request *req, const char *path,
                           size_t plen, const char *q, size_t ql)
{
    char err[256];
    enum upstash_mode mode;
    const struct http_header *enc = http_header(req, "upstash-encoding");
    int k;
    if (upstash_json_route(path, plen, &mode)) {
        /* A JSON command array, or an array of them: decoded as the
         * WebSocket adapter decodes its messages (a fast scanner for the
         * usual shapes, jansson for the rest); only arrays are Upstash's. */
        const char *b = req->body ? req->body : "";
        size_t bl = req->body_len, k0 = 0;
        struct cmdbuf t;
        while (k0 < bl && (b[k0] == ' ' || b[k0] == '\t' || b[k0] == '\r' || b[k0] == '\n'))
            k0++;
        if (req->method != HM_POST || k0 == bl || b[k0] != '[') {
            http_respond_error(c, 400, "ERR send the command as a JSON array in a POST body");
            return;
        }
        if (!json_utf8_valid(b, bl)) {
            http_respond_error(c, 400, "ERR invalid JSON: the body must be UTF-8");
            return;
        }
        if (!ws_json_decode(&c->ujs, b, bl, 0)) {
            http_respond_error(c, 400, c->ujs.err);
            return;
        }
        if (!upstash_json_shape(mode, c->ujs.batch, err, sizeof(err))) {
            http_respond_error(c, 400, err);
            return;
        }
        t = c->cb; /* the decoded (finished) commands become the request's */
        c->cb = c->ujs.cb;
        c->ujs.cb = t;
    } else {
        mode = UPSTASH_SINGLE;
        if (!upstash_decode(req, path, plen, q, ql, &c->cb, err, sizeof(err))) {
            http_respond_error(c, 400, err);
            return;
        }
        cmdbuf_finish(&c->cb);
    }
    for (k = 0; k < c->cb.ncmd; k++) {
        const struct argv_ref *a = &c->cb.argv[c->cb.cmd_start[k]];
        if (is_subscribe(a) || util_eqci(a->p, a->n, "monitor")) {
            snprintf(err, sizeof(err),
                     "ERR %.*s is not served by the Upstash REST API here: use the Webdis form "
                     "(/SUBSCRIBE/<channel>) or a WebSocket",
                     (int)(a->n > 32 ? 32 : a->n), a->p);
            http_respond_error(c, 400, err);
            return;
        }
        if (mode == UPSTASH_MULTI_EXEC && c->rq.readonly &&
            http_readonly_refused(a, c->cb.cmd_argc[k])) {
            http_readonly_text(err, sizeof(err), a, c->cb.cmd_argc[k]);
            http_respond_error(c, 400, err);
            return;
        }
    }
    if (mode == UPSTASH_MULTI_EXEC) {
        const char *why = cmdbuf_atomic_refusal(&c->cb, (c->conn.client->flags & CF_MULTI) != 0);
        if (why) {
            http_respond_error(c, 400, why);
            return;
        }
    }
    c->rq.upstash = true;
    c->rq.ncmd = c->cb.ncmd;
    c->rq.active = true;
    upstash_sink_reset(&c->us, mode, enc && enc->vlen == 6 && util_eqci(enc->value, 6, "base64"));
    use_sink(c);
    if (mode == UPSTASH_MULTI_EXEC)
        run_atomic(c);
    else
        run_commands(c, 0);
}

/* The dashboard's files (http_assets.h), before auth: they hold no data,
 * and the page asks for a token itself. "/" is the dashboard for a browser
 * (Accept: text/html) unless http-default-root gives "/" a Webdis URL. */
static bool serve_asset(struct http_conn *c, const struct http_request *req, const char *path,
                        size_t plen)
{
    const char *ctype, *data;
    size_t len;
    char *buf;
    if (plen == 1 && !(g_config.http_default_root && g_config.http_default_root[0] == '/' &&
                       g_config.http_default_root[1])) {
        const struct http_header *acc = http_header(req, "accept");
        if (!acc || !http_asset_wants_page(acc->value, acc->vlen)) return false;
        path = "/_dashboard";
        plen = 11;
    }
    if (!http_asset_find(path, plen, &ctype, &data, &len, &buf)) return false;
    c->rq.csp = true;
    http_respond(c, 200, ctype, data, len);
    free(buf);
    return true;
}

static void handle_request(struct http_conn *c, const struct http_request *req, size_t used)
{
    const char *path = req->target, *q = "", *tok;
    size_t plen = req->target_len, ql = 0, tl;
    const char *qm = memchr(path, '?', plen);
    char ext[16];
    int db = -1;
    bool batch = false, sack;

    memset(&c->rq, 0, sizeof(c->rq));
    c->rq.restore_db = -1;
    c->rq.minor = req->minor;
    c->rq.keep_alive = req->keep_alive;
    c->rq.head = req->method == HM_HEAD;
    copy_header(req, "origin", c->rq.origin, sizeof(c->rq.origin));
    {
        const struct http_header *o = http_header(req, "origin");
        c->rq.origin_refused = o && !http_origin_allowed(o->value, o->vlen);
    }
    copy_header(req, "if-none-match", c->rq.inm, sizeof(c->rq.inm));
    copy_header(req, "authorization", c->rq.auth, sizeof(c->rq.auth));
    c->rq.authlen = strlen(c->rq.auth);
    snprintf(c->rq.ctype, sizeof(c->rq.ctype), "application/json");
    if (qm) {
        q = qm + 1;
        ql = plen - (size_t)(qm + 1 - path);
        plen = (size_t)(qm - path);
    }
    cmdbuf_reset(&c->cb);

    /* A page from an origin that is not allowed may not act, only read
     * nothing: refused before anything runs (not just hidden by CORS). */
    if (c->rq.origin_refused) {
        http_respond_error(c, 403, "origin not allowed");
        return;
    }
    if (req->method == HM_OPTIONS) {
        const struct http_header *h = http_header(req, "access-control-request-headers");
        http_status_line(c, 204);
        http_out_str(c, "Access-Control-Allow-Methods: GET, POST, PUT, OPTIONS\r\n");
        if (h)
            http_out_fmt(c, "Access-Control-Allow-Headers: %.*s\r\n",
                         (int)(h->vlen > 512 ? 512 : h->vlen), h->value);
        else
            http_out_str(c, "Access-Control-Allow-Headers: Content-Type, Authorization\r\n");
        http_out_str(c, "Access-Control-Max-Age: 86400\r\nAllow: GET, POST, PUT, OPTIONS\r\n"
                        "Content-Length: 0\r\n");
        http_connection_header(c);
        http_out_str(c, "\r\n");
        if (!c->rq.keep_alive) c->conn.state = CONN_CLOSING;
        return;
    }
    if (req->method != HM_GET && req->method != HM_POST && req->method != HM_PUT) {
        http_respond_error(c, 405, "method not allowed");
        return;
    }
    if (req->method == HM_GET && !req->upgrade_ws && serve_asset(c, req, path, plen)) return;
    if (!(tok = http_query_get(q, ql, "token", &tl))) tok = http_query_get(q, ql, "_token", &tl);
    switch (http_authorize(c->conn.client, req, tok, tl)) {
    case HTTP_AUTH_NONE:
        http_respond_error(c, 401, "authentication required");
        return;
    case HTTP_AUTH_READONLY:
        c->rq.readonly = true;
        break;
    case HTTP_AUTH_FULL:
        break;
    }
    /* Each request carries its own credentials: the connection's client is
     * authenticated by them, as their user, whatever an earlier request did
     * (RESET, AUTH). */
    c->conn.client->authenticated = true;
    if (req->upgrade_ws) {
        if (!g_config.http_websockets) {
            http_respond_error(c, 404, "WebSocket upgrades are off (http-websockets no)");
            return;
        }
        if (c->rq.readonly) {
            http_respond_error(c, 403, "the read-only token cannot open a WebSocket");
            return;
        }
        handle_upgrade(c, req, used);
        return;
    }
    sack = req->method == HM_POST && stream_tail_is_ack(path, plen);
    if (!sack && plen > sizeof(STREAM_TAIL_PREFIX) - 1 &&
        memcmp(path, STREAM_TAIL_PREFIX, sizeof(STREAM_TAIL_PREFIX) - 1) == 0) {
        http_tail_start(c, req, path + sizeof(STREAM_TAIL_PREFIX) - 1,
                        plen - (sizeof(STREAM_TAIL_PREFIX) - 1), q, ql);
        return;
    }
    if (upstash_path(path, plen)) {
        handle_upstash(c, req, path, plen, q, ql);
        return;
    }
    if (plen == 16 && memcmp(path, "/crossdomain.xml", 16) == 0) {
        static const char policy[] =
            "<?xml version=\"1.0\"?>\n<!DOCTYPE cross-domain-policy SYSTEM "
            "\"http://www.macromedia.com/xml/dtds/cross-domain-policy.dtd\">\n"
            "<cross-domain-policy>\n  <allow-access-from domain=\"*\" />\n</cross-domain-policy>\n";
        http_respond(c, 200, "application/xml", policy, sizeof(policy) - 1);
        return;
    }
    if (plen == 1 && req->method != HM_POST && g_config.http_default_root &&
        g_config.http_default_root[0] == '/' && g_config.http_default_root[1]) {
        /* Webdis's default_root: "/" runs the configured URL. */
        path = g_config.http_default_root;
        plen = strlen(path);
    }
    if (plen >= 2 && path[1] == '_' && !sack) {
        int status;
        const char *ctype;
        struct obuf body = {0};
        if (((plen == 8 && memcmp(path, "/_health", 8) == 0) ||
             (plen == 9 && memcmp(path, "/_metrics", 9) == 0)) &&
            !http_may_read_stats(c->conn.client)) {
            http_respond_error(c, 403,
                               "NOPERM this user has no permissions to run the 'info' "
                               "command, which /_metrics and /_health need");
        } else if (http_endpoint(path, plen, &status, &ctype, &body)) {
            http_respond(c, status, ctype, body.buf, body.len);
        } else if (plen == 9 && memcmp(path, "/_console", 9) == 0) {
            size_t n;
            const char *page = ws_page(&n);
            http_respond(c, 200, "text/html; charset=utf-8", page, n);
        } else {
            http_respond_error(c, 404, "no such endpoint");
        }
        obuf_free(&body);
        return;
    }
    /* The command: from the path (GET, PUT), or the body (POST). */
    ext[0] = 0;
    if (sack) {
        char why[160];
        if (!stream_tail_ack_command(path, plen, q, ql, req->body, req->body_len, &c->cb, why,
                                     sizeof(why))) {
            http_respond_error(c, 400, why);
            return;
        }
    } else if (req->method == HM_POST) {
        const struct http_header *ct = http_header(req, "content-type");
        const char *b = req->body ? req->body : "";
        size_t bl = req->body_len;
        char why[256];
        /* The URL path of a POST may give the database and the format
         * (/7/.raw), never a command: the body carries the command(s). */
        if (!http_path_db_format(path, plen, &db, ext, sizeof(ext), why, sizeof(why))) {
            http_respond_error(c, 400, why);
            return;
        }
        if (http_body_is_json(ct ? ct->value : NULL, ct ? ct->vlen : 0, b, bl)) {
            if (!http_decode_json(b, bl, &c->cb, &batch, why, sizeof(why))) {
                http_respond_error(c, 400, why);
                return;
            }
        } else {
            /* Webdis: the body is "CMD/arg1/..." in the URL syntax. */
            int bdb = -1;
            char bext[16];
            while (bl && (b[bl - 1] == '\n' || b[bl - 1] == '\r'))
                bl--;
            if (!http_decode_path(b, bl, &c->cb, &bdb, bext, sizeof(bext))) {
                http_respond_error(c, 403, "empty command");
                return;
            }
            if (bdb >= 0) db = bdb;
            if (bext[0]) memcpy(ext, bext, sizeof(ext));
        }
    } else {
        if (!http_decode_path(path, plen, &c->cb, &db, ext, sizeof(ext))) {
            http_respond_error(c, 403, "empty command");
            return;
        }
        if (req->method == HM_PUT)
            cmdbuf_add_arg(&c->cb, req->body ? req->body : "", req->body_len, true);
    }
    cmdbuf_finish(&c->cb);
    if (!setup_format(c, ext, q, ql)) return;
    {
        const char *v;
        size_t vl;
        c->rq.atomic =
            batch && (v = http_query_get(q, ql, "atomic", &vl)) && vl == 1 && v[0] == '1';
    }
    c->rq.batch = batch;
    c->rq.ncmd = c->cb.ncmd;
    msgpack_sink_reset(&c->mp, batch && !c->rq.atomic, c->cb.ncmd);
    /* A single disabled command is refused with 403. */
    if (!batch) {
        const struct argv_ref *a = &c->cb.argv[0];
        if (http_command_refused(a->p, a->n, c->conn.addr, c->rq.auth, c->rq.authlen)) {
            char why[160];
            http_disabled_text(why, sizeof(why), a->p, a->n);
            refused_in_multi(c);
            http_respond_error(c, 403, why);
            return;
        }
        if (c->rq.readonly && http_readonly_refused(a, c->cb.cmd_argc[0])) {
            char why[200];
            http_readonly_text(why, sizeof(why), a, c->cb.cmd_argc[0]);
            refused_in_multi(c);
            http_respond_error(c, 403, why);
            return;
        }
    }
    if (c->rq.atomic) {
        const char *why = cmdbuf_atomic_refusal(&c->cb, (c->conn.client->flags & CF_MULTI) != 0);
        if (why) {
            http_respond_error(c, 400, why);
            return;
        }
    }
    if (db >= 0) {
        if (db >= g_store.ndb) {
            /* As SELECT would answer, for every command (a batch keeps its
             * shape: one answer per command, or EXEC's). */
            int k;
            c->rq.active = true;
            use_sink(c);
            if (c->rq.atomic) {
                c->names.len = 0;
                json_put_string_lossy(&c->names, "EXEC", 4);
                reply_err(&c->conn.client->reply, E_DB_INDEX);
            } else {
                if (batch) obuf_append(&c->js.out, "[", 1);
                for (k = 0; k < c->cb.ncmd; k++) {
                    c->rq.cmd_i = k;
                    set_name(c, &c->cb.argv[c->cb.cmd_start[k]]);
                    reply_err(&c->conn.client->reply, E_DB_INDEX);
                }
            }
            finish_response(c);
            return;
        }
        c->rq.restore_db = c->conn.client->dbid;
        client_select(c->conn.client, db);
    }
    c->rq.active = true;
    use_sink(c);
    /* A stream needs a channel: without one the command's arity error is
     * an ordinary response. */
    if (!batch && is_subscribe(&c->cb.argv[0]) && c->cb.cmd_argc[0] >= 2 &&
        (c->rq.fmt == FMT_JSON || c->rq.fmt == FMT_RAW)) {
        const struct http_header *acc = http_header(req, "accept");
        /* .raw: the RESP of each message in its own chunk (raw_stream). */
        c->rq.sse = c->rq.fmt == FMT_JSON && acc && http_header_has_token(acc, "text/event-stream");
        start_stream(c);
        set_name(c, &c->cb.argv[0]);
        g_http_requests++;
        kernel_submit(c->conn.client, c->cb.cmd_argc[0], c->cb.argv);
        /* Commands of the stream's name wrap every message. */
        return;
    }
    if (batch && !c->rq.atomic) obuf_append(&c->js.out, "[", 1);
    if (c->rq.atomic)
        run_atomic(c);
    else
        run_commands(c, 0);
}

/* ---- the base's hooks ---- */

static void process(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    size_t off = 0;
    if (c->conn.state != CONN_OPEN) return;
    while (c->conn.state == CONN_OPEN && !c->conn.dead && off < c->conn.inlen &&
           !conn_out_full(&c->conn)) {
        struct http_request req;
        size_t used = 0;
        enum http_result r =
            http_parse(&c->parser, c->conn.in + off, c->conn.inlen - off, &req, &used);
        if (r == HTTP_MORE) {
            if (c->parser.headers_done && req.expect_continue && !c->sent_continue) {
                http_out_fmt(c, "HTTP/1.1 100 Continue\r\n\r\n");
                c->sent_continue = true;
            }
            break;
        }
        if (r == HTTP_BAD) {
            memset(&c->rq, 0, sizeof(c->rq));
            c->rq.minor = 1;
            c->rq.keep_alive = false;
            http_respond_error(c, c->parser.status, c->parser.error);
            c->conn.state = CONN_CLOSING;
            off = c->conn.inlen;
            break;
        }
        c->sent_continue = false;
        handle_request(c, &req, off + used);
        if (c->conn.dead) {
            off = c->conn.inlen;
            break;
        }
        off += used;
        c->req_begin_ms = 0;
    }
    if (off) {
        if (off < c->conn.inlen) memmove(c->conn.in, c->conn.in + off, c->conn.inlen - off);
        c->conn.inlen -= off;
    }
    if (c->conn.inlen && !c->req_begin_ms) c->req_begin_ms = util_mstime();
}

/* Bytes arrived: the idle clock, the request's clock, the size limit. */
static void received(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    c->last_io_ms = util_mstime();
    if (c->conn.state == CONN_STREAMING) {
        c->conn.inlen = 0; /* a stream's client has nothing more to say */
        return;
    }
    if (c->conn.inlen > (size_t)g_config.http_max_header + (size_t)g_config.http_max_body + 65536) {
        memset(&c->rq, 0, sizeof(c->rq));
        c->rq.minor = 1;
        http_respond_error(c, 413, "request too large");
        c->conn.state = CONN_CLOSING;
        c->conn.inlen = 0;
    }
    if (c->conn.inlen && !c->req_begin_ms) c->req_begin_ms = c->last_io_ms;
}

/* The parked command has replied: go on with the request's others. */
static void unparked(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    if (c->tail.on) {
        if (http_tail_emit(c) <= 0)
            c->conn.state = CONN_CLOSING;
        else
            http_tail_next(c);
        return;
    }
    if (c->rq.atomic_parked) {
        c->rq.atomic_parked = false;
        atomic_steps(c);
        return;
    }
    if (c->rq.active) run_commands(c, c->rq.cmd_i + 1);
}

/* Close after the response being answered (or now, between requests). */
static void closing(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    c->rq.keep_alive = false;
    if (!c->rq.active) c->conn.state = CONN_CLOSING;
}

static bool push(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    if (c->conn.state != CONN_STREAMING && !c->rq.active) {
        /* A push outside any request (e.g. tracking): nowhere to go. */
        c->js.out.len = 0;
        c->js.depth = 0;
        return false;
    }
    return true;
}

/* Before a flush: a .raw stream's RESP output becomes one chunk. */
static void prepare(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    if (c->conn.state == CONN_STREAMING && c->rq.fmt == FMT_RAW && c->body.len) {
        http_out_fmt(c, "%zx\r\n", c->body.len);
        obuf_append(&c->conn.out, c->body.buf, c->body.len);
        http_out_str(c, "\r\n");
        c->body.len = 0;
    }
}

static void buffers(struct conn *base, size_t *qbuf, size_t *qfree, size_t *obl, size_t *omem)
{
    struct http_conn *c = (struct http_conn *)base;
    (void)qbuf, (void)qfree, (void)obl;
    *omem += c->js.out.cap + c->body.cap;
}

static void release(struct conn *base)
{
    struct http_conn *c = (struct http_conn *)base;
    if (c->tev) event_free(c->tev);
    obuf_free(&c->body);
    obuf_free(&c->names);
    obuf_free(&c->bs.out);
    json_sink_free(&c->js);
    upstash_sink_free(&c->us);
    msgpack_sink_free(&c->mp);
    ws_json_req_free(&c->ujs);
    http_parser_free(&c->parser);
    cmdbuf_free(&c->cb);
    stream_tail_free(&c->tail);
    json_sink_free(&c->tjs);
    if (c->ascratch_on) json_sink_free(&c->ascratch); /* closed while a batch queued */
    while (c->nbatch_names > 0)                       /* an atomic batch's EXEC still upstream */
        obuf_free(&c->batch_names[--c->nbatch_names]);
    free(c->batch_names);
    http_deferred_free(c);
}

static const struct conn_ops http_ops = {
    .ad = CONN_ADAPTER_DEFER("http", true, NULL, http_defer),
    .out_high = OUT_HIGH,
    .process = process,
    .received = received,
    .unparked = unparked,
    .closing = closing,
    .push = push,
    .prepare = prepare,
    .buffers = buffers,
    .release = release,
};

/* Timeouts: header (408), idle keep-alive (silent close), SSE heartbeat. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    long long now = util_mstime();
    (void)fd, (void)what;
    if (c->conn.state == CONN_STREAMING || (c->tail.on && c->conn.state == CONN_PARKED)) {
        if (c->rq.sse && now - c->last_beat_ms >= (long long)g_config.http_sse_heartbeat * 1000) {
            http_out_str(c, ": keepalive\n\n");
            c->last_beat_ms = now;
            conn_flush(&c->conn);
        }
        goto done;
    }
    if (c->conn.state == CONN_OPEN && c->conn.inlen > 0 && c->req_begin_ms &&
        now - c->req_begin_ms >= (long long)g_config.http_header_timeout * 1000) {
        memset(&c->rq, 0, sizeof(c->rq));
        c->rq.minor = 1;
        http_respond_error(c, 408, "request timeout");
        c->conn.state = CONN_CLOSING;
        c->conn.inlen = 0;
        conn_flush(&c->conn);
        goto done;
    }
    if (c->conn.state == CONN_OPEN && c->conn.inlen == 0 && c->conn.out.len == 0 &&
        g_config.http_idle_timeout > 0 &&
        now - c->last_io_ms >= (long long)g_config.http_idle_timeout * 1000) {
        conn_free(&c->conn);
        goto done;
    }
done:
    kernel_after_events();
}

/* ---- life ---- */

/* Refused at accept, before any request (WebSocket upgrades too): JSON error, close. */
static void refuse(int fd, int status, const char *why)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nServer: Keel/0.1.0\r\nAccess-Control-Allow-Origin: *\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n{\"error\":\"%s\"}",
                     status, http_reason(status), strlen(why) + 12, why);
    conn_refuse_fd(fd, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* A connection on the HTTP port, or over TLS on https-port (tls: its
 * transport first; a refused TLS peer just sees the close). */
static void accept_http(int fd, struct sockaddr *sa, bool tls)
{
    struct http_conn *c;
    struct http_limits lim;
    struct timeval tv = {1, 0};
    enum net_verdict v;

    if (!http_network_allowed(sa)) {
        if (tls)
            conn_refuse_fd(fd, "", 0);
        else
            refuse(fd, 403, "network not allowed");
        g_server.rejected_connections++;
        return;
    }
    if ((v = net_admit(sa)) != NET_ADMIT) { /* maxclients, protected mode (adapters/net.c) */
        if (tls)
            conn_refuse_fd(fd, "", 0);
        else
            refuse(fd, v == NET_REFUSE_MAXCLIENTS ? 503 : 403, net_refusal_reason(v));
        return;
    }
    c = (struct http_conn *)conn_new(sizeof(*c), &http_ops, fd, sa, &json_reply_ops);
    lim.max_url = (size_t)g_config.http_max_url;
    lim.max_header = (size_t)g_config.http_max_header;
    lim.max_body = (size_t)g_config.http_max_body;
    http_parser_init(&c->parser, &lim);
    json_sink_init(&c->js, 2);
    c->js.begin = js_begin;
    c->js.end = js_end;
    c->js.arg = c;
    c->conn.client->reply.ctx = &c->js;
    /* No password over HTTP means each request proves itself (header or
     * token): the kernel sees an authenticated client. */
    c->conn.client->authenticated = true;
    if (g_config.http_database > 0 && g_config.http_database < g_store.ndb)
        client_select(c->conn.client, g_config.http_database); /* Webdis's database */
    c->last_io_ms = util_mstime();
    c->tev = event_new(g_server.base, -1, EV_PERSIST, on_timer, c);
    event_add(c->tev, &tv);
    if (tls && !tls_attach(&c->conn)) conn_free(&c->conn);
}

static void on_accept(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen, void *arg)
{
    (void)l, (void)slen, (void)arg;
    accept_http(fd, sa, false);
}

static void on_accept_tls(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen,
                          void *arg)
{
    (void)l, (void)slen, (void)arg;
    accept_http(fd, sa, true);
}

static bool http_listen(struct event_base *base)
{
    if (!net_listen(base, g_config.http_bind, g_config.http_port, on_accept, listeners, &nlisteners,
                    MAX_LISTENERS, "HTTP")) {
        log_warning("Could not create HTTP listening socket %s:%d", g_config.http_bind,
                    g_config.http_port);
        return false;
    }
    if (!tls_https_port()) return true;
    if (!tls_ready()) {
        log_warning("Failed to configure TLS. Check logs for more info.");
        return false;
    }
    if (!net_listen(base, g_config.http_bind, tls_https_port(), on_accept_tls, listeners,
                    &nlisteners, MAX_LISTENERS, "HTTPS")) {
        log_warning("Could not create HTTPS listening socket %s:%d", g_config.http_bind,
                    tls_https_port());
        return false;
    }
    log_notice("HTTPS and WSS on %s port %d", g_config.http_bind, tls_https_port());
    return true;
}

/* WebSocket connections were upgraded from this port: the WebSocket
 * adapter, after this one in the list, has closed them (1001) already. */
static void http_shutdown(void)
{
    net_close_listeners(listeners, nlisteners);
    nlisteners = 0;
    conn_shutdown(&http_ops);
    http_endpoints_free();
}

const struct adapter_def http_adapter_def = {"http", http_access_register_config, http_listen,
                                             http_shutdown};
