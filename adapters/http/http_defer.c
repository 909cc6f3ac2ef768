/* http_defer.c — an HTTP batch's commands pipelined in upstream mode
 * (client.h's defer hook): a JSON batch's or an Upstash pipeline's command
 * forwarded while earlier ones are out has its reply written later, in its
 * turn; the note keeps its place in the batch and its name, put back while
 * the reply replays. The batch's response waits for them (kernel_settle,
 * in http_conn.c's run_commands). */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_conn_int.h"
#include "util.h"

bool http_defer(struct client *cl, enum defer_step step)
{
    struct http_conn *c = cl->conn;
    struct http_deferred *d;
    if (step == DEFER_NOTE) {
        if (!c->rq.active || c->rq.atomic || c->conn.state == CONN_STREAMING || c->tail.on)
            return false;
        if (c->rq.upstash ? c->cb.ncmd < 2 : !(c->rq.batch && c->rq.fmt == FMT_JSON)) return false;
        d = xmalloc(sizeof(*d) + c->names.len);
        d->next = NULL;
        d->cmd_i = c->rq.cmd_i;
        d->namelen = c->names.len;
        memcpy(d->name, c->names.buf, c->names.len);
        if (c->dq_tail)
            c->dq_tail->next = d;
        else
            c->dq_head = d;
        c->dq_tail = d;
        return true;
    }
    if (step == DEFER_BEGIN) {
        d = c->dq_head;
        if (!d) return true;
        c->dcmd_i = c->rq.cmd_i;
        c->dnames.len = 0;
        obuf_append(&c->dnames, c->names.buf, c->names.len);
        c->rq.cmd_i = d->cmd_i;
        c->names.len = 0;
        obuf_append(&c->names, d->name, d->namelen);
        return true;
    }
    d = c->dq_head;
    if (!d) return true;
    c->dq_head = d->next;
    if (!c->dq_head) c->dq_tail = NULL;
    free(d);
    c->rq.cmd_i = c->dcmd_i;
    c->names.len = 0;
    obuf_append(&c->names, c->dnames.buf, c->dnames.len);
    return true;
}

void http_deferred_free(struct http_conn *c)
{
    while (c->dq_head) {
        struct http_deferred *d = c->dq_head;
        c->dq_head = d->next;
        free(d);
    }
    c->dq_tail = NULL;
    obuf_free(&c->dnames);
}
