/* http_tail.c — GET /_stream/<key>: a stream tailed as Server-Sent Events
 * (web/stream_tail.c builds the XREAD / XREADGROUP loop; this file submits
 * it with the connection's client until it parks, and writes each entry as
 * an event with its id). */
#include "http_conn_int.h"

#include <string.h>

#include "client.h"
#include "http_access.h"
#include "http_conn.h"
#include "http_parse.h"
#include "json_reply.h"
#include "kernel.h"
#include "stream_tail.h"
#include "util.h"

/* One entry as a Server-Sent Event. */
static void sse_entry(void *arg, const char *id, const char *fields)
{
    struct http_conn *c = arg;
    http_out_fmt(c, "id: %s\ndata: %s\n\n", id, fields);
}

int http_tail_emit(struct http_conn *c)
{
    int n = stream_tail_read(&c->tail, c->tjs.out.buf, c->tjs.out.len, sse_entry, c);
    if (n < 0) {
        http_out_str(c, "event: error\ndata: ");
        obuf_append(&c->conn.out, c->tjs.out.buf, c->tjs.out.len);
        http_out_str(c, "\n\n");
    }
    c->tjs.out.len = 0;
    if (n > 0) c->last_beat_ms = util_mstime();
    return n;
}

/* Submit XREAD from the position until the client parks (or it ends). */
void http_tail_next(struct http_conn *c)
{
    for (;;) {
        const struct argv_ref *argv;
        int argc = stream_tail_argv(&c->tail, &argv);
        enum kernel_status st;
        c->tjs.out.len = 0;
        g_http_requests++;
        st = kernel_submit(c->conn.client, argc, argv);
        if (st == KERNEL_PARKED) {
            c->conn.state = CONN_PARKED;
            return;
        }
        if (http_tail_emit(c) <= 0 || st == KERNEL_CLOSE) {
            c->conn.state = CONN_CLOSING;
            return;
        }
    }
}

void http_tail_start(struct http_conn *c, const struct http_request *req, const char *k, size_t kn,
                     const char *q, size_t ql)
{
    const struct http_header *lei = http_header(req, "last-event-id");
    const char *from;
    size_t fl = 0, gl = 0, cl = 0;
    if (lei) {
        from = lei->value;
        fl = lei->vlen;
    } else {
        from = http_query_get(q, ql, "from", &fl);
    }
    const char *g = http_query_get(q, ql, "group", &gl),
               *cn = http_query_get(q, ql, "consumer", &cl);
    if (req->method != HM_GET || (c->conn.client->flags & CF_MULTI) ||
        !(g || cn ? stream_tail_start_group(&c->tail, k, kn, true, g, gl, cn, cl)
                  : stream_tail_start(&c->tail, k, kn, true, from, fl))) {
        http_respond_error(c, 400,
                           "a stream tail is GET /_stream/<key>[?from=<id>] or "
                           "/_stream/<key>?group=<g>&consumer=<c>");
        return;
    }
    if (http_command_disabled(g ? "XREADGROUP" : "XREAD", g ? 10 : 5)) {
        stream_tail_free(&c->tail);
        http_respond_error(c, 403,
                           g ? "XREADGROUP is disabled over HTTP" : "XREAD is disabled over HTTP");
        return;
    }
    c->rq.sse = true;
    c->rq.keep_alive = false;
    http_status_line(c, 200);
    /* a cut EventSource comes back within a second, with Last-Event-ID */
    http_out_str(c, "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    "Connection: close\r\n\r\nretry: 1000\n\n");
    c->last_beat_ms = util_mstime();
    json_sink_free(&c->tjs);
    json_sink_init(&c->tjs, 2);
    c->conn.client->reply.ops = &json_reply_ops;
    c->conn.client->reply.ctx = &c->tjs;
    http_tail_next(c);
}
