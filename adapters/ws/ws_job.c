/* ws_job.c — JSON-mode requests on a WebSocket connection: a decoded
 * message (ws_json.c) run as a job of kernel submissions (one command, a
 * batch, or an atomic batch wrapped in MULTI/EXEC), and the frames its
 * replies become: {"<CMD>":value}, {"id":..,"reply":..}, a batch's array,
 * EXEC's array turned into batch entries, pushes out of band. The shapes
 * are listed at the top of ws_conn.c. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http_access.h"
#include "kernel.h"
#include "util.h"
#include "ws_conn_int.h"

void ws_reset_job(struct ws_conn *c)
{
    struct job *j = &c->job;
    j->active = false;
    if (j->id != j->idbuf) free(j->id);
    j->id = NULL;
    j->idlen = 0;
    j->body.len = 0;
    j->nentries = 0;
    j->batch = j->atomic = false;
    j->phase = AT_NONE;
}

static const struct argv_ref *cmd_name(struct ws_conn *c, int k)
{
    return &c->job.rq.cb.argv[c->job.rq.cb.cmd_start[k]];
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

void ws_error_frame(struct ws_conn *c, const char *id, size_t idlen, const char *msg)
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
    ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, NULL, 0, NULL, 0);
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

/* A deferred reply (ws_defer) in its turn. */
static void route_deferred(struct ws_conn *c, const struct ws_deferred *d, const char *v, size_t n)
{
    struct argv_ref name = {d->bytes + d->idlen, d->namelen};
    if (d->batch) {
        add_entry(c, &name, v, n);
        return;
    }
    c->scratch.len = 0;
    if (d->idlen) {
        obuf_append(&c->scratch, "{\"id\":", 6);
        obuf_append(&c->scratch, d->bytes, d->idlen);
        obuf_append(&c->scratch, ",\"reply\":", 9);
    } else {
        name_prefix(&c->scratch, &name);
    }
    ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, v, n, "}", 1);
}

/* A top-level reply value of the running request. */
static void route_reply(struct ws_conn *c, const char *v, size_t n)
{
    struct job *j = &c->job;
    static const struct argv_ref exec_name = {"EXEC", 4};
    if (c->replaying) {
        route_deferred(c, c->replaying, v, n);
        return;
    }
    if (!j->active) {
        ws_emit(c, WSLAY_TEXT_FRAME, "{\"reply\":", 9, v, n, "}", 1);
        return;
    }
    if (j->atomic) {
        if (j->phase == AT_QUEUEING) return;
        if (j->phase == AT_EXEC_ARRAY) {
            add_entry(c, j->exec_idx < j->ncmd ? cmd_name(c, j->exec_idx) : &exec_name, v, n);
            j->exec_idx++;
            return;
        }
        /* EXEC's error (EXECABORT) or null (a WATCHed key changed). */
        j->phase = AT_EXEC_OTHER;
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
        ws_emit(c, WSLAY_TEXT_FRAME, buf, j->idlen + 15, v, n, "}", 1);
        return;
    }
    c->scratch.len = 0;
    if (j->id)
        id_prefix(c, &c->scratch);
    else
        name_prefix(&c->scratch, cmd_name(c, j->cur));
    ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, v, n, "}", 1);
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

void ws_js_begin(struct json_sink *s, int agg, bool is_error, void *arg)
{
    struct ws_conn *c = arg;
    (void)s, (void)is_error;
    c->vagg = agg;
}

void ws_js_end(struct json_sink *s, void *arg)
{
    struct ws_conn *c = arg;
    const char *v = s->out.buf;
    size_t n = s->out.len;
    /* A push is out-of-band, unless it is the confirmation a (P|S)SUBSCRIBE
     * or UNSUBSCRIBE of this client answers (RESP3 sends those as pushes). */
    if (c->vagg == AGG_PUSH &&
        !(c->conn.client && kernel_current() == c->conn.client && is_confirmation(v, n))) {
        if (c->wd.on) {
            c->scratch.len = 0;
            ws_webdis_push_prefix(&c->wd, &c->scratch);
            ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, v, n, "}", 1);
        } else {
            ws_emit(c, WSLAY_TEXT_FRAME, "{\"push\":", 8, v, n, "}", 1);
        }
    } else
        route_reply(c, v, n);
    s->out.len = 0;
    obuf_trim(&s->out, WS_SIDE_KEEP);
}

/* EXEC's array of an atomic batch is not written: its elements become the
 * batch's entries, each one a top-level value of the sink. */
void ws_js_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    struct json_sink *s = r->ctx;
    struct ws_conn *c = s->arg;
    if (c->job.phase == AT_EXEC_NEXT && !c->replaying && s->depth == 0 && kind == AGG_ARRAY &&
        n >= 0) {
        c->job.phase = AT_EXEC_ARRAY;
        c->job.exec_idx = 0;
        return;
    }
    json_reply_ops.aggregate(r, kind, n);
}

/* The request is complete: send the batch's frame. */
static void job_finish(struct ws_conn *c)
{
    struct job *j = &c->job;
    if (j->atomic && j->phase == AT_EXEC_OTHER) {
        static const char pre[] = "{\"EXEC\":";
        c->scratch.len = 0;
        if (j->id) id_prefix(c, &c->scratch);
        obuf_append(&c->scratch, pre, sizeof(pre) - 1);
        ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, j->body.buf, j->body.len,
                j->id ? "}}" : "}", j->id ? 2 : 1);
    } else if (j->batch) {
        c->scratch.len = 0;
        if (j->id) id_prefix(c, &c->scratch);
        obuf_append(&c->scratch, "[", 1);
        ws_emit(c, WSLAY_TEXT_FRAME, c->scratch.buf, c->scratch.len, j->body.buf, j->body.len,
                j->id ? "]}" : "]", j->id ? 2 : 1);
    }
    ws_reset_job(c);
    obuf_trim(&j->body, WS_SIDE_KEEP);
}

/* ---- JSON requests ---- */

/* Decode one request message into c->job. Answers malformed ones with an
 * error frame and returns false. */
bool ws_job_start(struct ws_conn *c, const char *msg, size_t len)
{
    struct job *j = &c->job;
    struct ws_json_req *rq = &j->rq;

    ws_reset_job(c);
    if (!ws_json_decode(rq, msg, len, 0)) {
        if (c->dq_head && ws_settle(c)) return false; /* after the replies still out */
        ws_error_frame(c, rq->id, rq->idlen, rq->err);
        return false;
    }
    if (rq->atomic) {
        const char *why = cmdbuf_atomic_refusal(&rq->cb, (c->conn.client->flags & CF_MULTI) != 0);
        if (why) {
            if (c->dq_head && ws_settle(c)) return false;
            ws_error_frame(c, rq->id, rq->idlen, why);
            return false;
        }
    }
    /* The id is copied: the message's bytes may move while the job runs. */
    if (rq->id) {
        j->id = rq->idlen <= sizeof(j->idbuf) ? j->idbuf : xmalloc(rq->idlen);
        memcpy(j->id, rq->id, rq->idlen);
        j->idlen = rq->idlen;
    }
    j->active = true;
    j->batch = rq->batch || rq->atomic;
    j->atomic = rq->atomic;
    j->ncmd = rq->cb.ncmd;
    j->nsteps = j->atomic ? j->ncmd + 2 : j->ncmd;
    j->next = 0;
    j->cur = -1;
    return true;
}

static enum kernel_status submit_step(struct ws_conn *c, int step)
{
    static const struct argv_ref multi_argv = {"MULTI", 5}, exec_argv = {"EXEC", 4};
    struct job *j = &c->job;
    struct client *cl = c->conn.client;
    const struct argv_ref *argv;
    int k = step, argc;
    c->js.resp = cl->resp;
    if (j->atomic) {
        if (step == 0) {
            j->phase = AT_QUEUEING;
            j->cur = -1;
            return kernel_submit(cl, 1, &multi_argv);
        }
        if (step == j->nsteps - 1) {
            j->phase = AT_EXEC_NEXT;
            j->cur = -1;
            return kernel_submit(cl, 1, &exec_argv);
        }
        k = step - 1;
    }
    j->cur = k;
    argv = &j->rq.cb.argv[j->rq.cb.cmd_start[k]];
    argc = j->rq.cb.cmd_argc[k];
    if (http_command_refused(argv[0].p, argv[0].n, c->conn.addr, c->authlen ? c->auth : NULL,
                             c->authlen)) {
        if (c->wd.on && !j->batch) {
            /* Webdis's words for a refusal by its access rules. */
            static const char forbidden[] = WS_WEBDIS_FORBIDDEN_JSON;
            ws_emit(c, WSLAY_TEXT_FRAME, forbidden, sizeof(forbidden) - 1, NULL, 0, NULL, 0);
            if (cl->flags & CF_MULTI) cl->flags |= CF_DIRTY_EXEC;
            return KERNEL_DONE;
        }
        http_refuse_disabled(cl, &cl->reply, argv[0].p, argv[0].n);
        return KERNEL_DONE;
    }
    ws_webdis_command(&c->wd, &argv[0]);
    return kernel_submit(cl, argc, argv);
}

/* Run the current request's steps until it is done or the client parks. */
void ws_job_run(struct ws_conn *c)
{
    struct job *j = &c->job;
    while (j->next < j->nsteps) {
        enum kernel_status st;
        if (c->conn.state != CONN_OPEN || c->conn.dead || ws_out_big(c)) return;
        st = submit_step(c, j->next++);
        if (st == KERNEL_PARKED) {
            c->conn.state = CONN_PARKED;
            return;
        }
        if (st == KERNEL_CLOSE) {
            job_finish(c);
            ws_enter_closing(c, WSLAY_CODE_NORMAL_CLOSURE, NULL, false);
            return;
        }
    }
    /* a batch's entries still upstream: its frame once they are in */
    if (c->conn.state == CONN_OPEN && c->dq_head && j->batch && ws_settle(c)) return;
    if (c->conn.state == CONN_OPEN) job_finish(c);
}

/* Upstream mode: the running request's command is forwarded while earlier
 * ones are out; its reply comes later (client.h's defer). Noted for
 * single commands and plain batches of the JSON mode. */
bool ws_defer(struct client *cl, enum defer_step step)
{
    struct ws_conn *c = cl->conn;
    struct job *j = &c->job;
    struct ws_deferred *d;
    if (step == DEFER_NOTE) {
        const struct argv_ref *name;
        size_t idlen;
        if (c->mode != WS_JSON || c->wd.on || c->tail.on || !j->active || j->atomic || j->cur < 0)
            return false;
        name = cmd_name(c, j->cur);
        idlen = j->batch || !j->id ? 0 : j->idlen;
        if (c->dq_spare && c->dq_spare->cap >= idlen + name->n) {
            d = c->dq_spare;
            c->dq_spare = NULL;
        } else {
            size_t cap = idlen + name->n < 48 ? 48 : idlen + name->n;
            d = xmalloc(sizeof(*d) + cap);
            d->cap = cap;
        }
        d->next = NULL;
        d->batch = j->batch;
        d->idlen = idlen;
        d->namelen = name->n;
        if (idlen) memcpy(d->bytes, j->id, idlen);
        memcpy(d->bytes + idlen, name->p, name->n);
        if (c->dq_tail)
            c->dq_tail->next = d;
        else
            c->dq_head = d;
        c->dq_tail = d;
        return true;
    }
    if (step == DEFER_BEGIN) {
        /* into the JSON sink, whatever the client's is now (a tail's) */
        c->replaying = c->dq_head;
        c->dsaved = cl->reply;
        cl->reply.ops = &c->jops;
        cl->reply.ctx = &c->js;
        return true;
    }
    d = c->dq_head;
    if (d) {
        c->dq_head = d->next;
        if (!c->dq_head) c->dq_tail = NULL;
        if (!c->dq_spare)
            c->dq_spare = d;
        else
            free(d);
    }
    c->replaying = NULL;
    cl->reply.ops = c->dsaved.ops;
    cl->reply.ctx = c->dsaved.ctx;
    return true;
}

bool ws_settle(struct ws_conn *c)
{
    if (kernel_settle(c->conn.client) != KERNEL_PARKED) return false;
    c->conn.state = CONN_PARKED;
    return true;
}

void ws_deferred_free(struct ws_conn *c)
{
    while (c->dq_head) {
        struct ws_deferred *d = c->dq_head;
        c->dq_head = d->next;
        free(d);
    }
    free(c->dq_spare);
    c->dq_tail = c->replaying = c->dq_spare = NULL;
}
