/* upstash.c — the Upstash REST API (see upstash.h): its request forms
 * decoded into a cmdbuf, and its reply sink ({"result":...}/{"error":...},
 * pipelines as arrays of those, multi-exec as the EXEC array with each
 * element wrapped, optional base64 strings). The HTTP adapter routes
 * /_upstash requests here and runs the commands as it runs any. */
#include "upstash.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "http_request.h"
#include "json_reply.h"
#include "util.h"

/* ---- requests ---- */

bool upstash_path(const char *path, size_t n)
{
    size_t pl = sizeof(UPSTASH_PREFIX) - 1;
    return n >= pl && memcmp(path, UPSTASH_PREFIX, pl) == 0 && (n == pl || path[pl] == '/');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

/* %XX-decoded, '+' kept (a path segment, as RFC 3986 reads it). */
static void add_pct(struct cmdbuf *b, const char *p, size_t n, bool plus_space)
{
    char *tmp = xmalloc(n + 1);
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            tmp[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else if (p[i] == '+' && plus_space) {
            tmp[o++] = ' ';
        } else {
            tmp[o++] = p[i];
        }
    }
    cmdbuf_add_arg(b, tmp, o, true);
    free(tmp);
}

static bool seg_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p, w, n) == 0;
}

bool upstash_json_route(const char *path, size_t plen, enum upstash_mode *mode)
{
    const char *r = path + sizeof(UPSTASH_PREFIX) - 1;
    size_t rn = plen - (sizeof(UPSTASH_PREFIX) - 1);
    if (rn && r[0] == '/') r++, rn--;
    *mode = UPSTASH_SINGLE;
    if (rn == 0) return true;
    if (seg_is(r, rn, "pipeline")) {
        *mode = UPSTASH_PIPELINE;
        return true;
    }
    if (seg_is(r, rn, "multi-exec")) {
        *mode = UPSTASH_MULTI_EXEC;
        return true;
    }
    return false;
}

bool upstash_json_shape(enum upstash_mode mode, bool batch, char *err, size_t errlen)
{
    if (mode == UPSTASH_SINGLE && batch) {
        snprintf(err, errlen,
                 "ERR one command is one JSON array: send several to /pipeline or /multi-exec");
        return false;
    }
    if (mode != UPSTASH_SINGLE && !batch) {
        snprintf(err, errlen, "ERR a pipeline is a JSON array of command arrays");
        return false;
    }
    return true;
}

bool upstash_decode(const struct http_request *req, const char *path, size_t plen, const char *q,
                    size_t ql, struct cmdbuf *b, char *err, size_t errlen)
{
    const char *r = path + sizeof(UPSTASH_PREFIX) - 1, *body = req->body ? req->body : "";
    size_t rn = plen - (sizeof(UPSTASH_PREFIX) - 1), i;
    if (rn && r[0] == '/') r++, rn--;
    /* The path form: /cmd/arg1/...; a body is the last argument, then the
     * query's parameters (but the credentials) as name, value. */
    cmdbuf_begin(b);
    for (i = 0;;) {
        const char *slash = memchr(r + i, '/', rn - i);
        size_t e = slash ? (size_t)(slash - r) : rn;
        if (!(e == i && !slash && i > 0)) add_pct(b, r + i, e - i, false);
        if (!slash) break;
        i = e + 1;
    }
    if ((req->method == HM_POST || req->method == HM_PUT) && req->body_len > 0)
        cmdbuf_add_arg(b, body, req->body_len, true);
    for (i = 0; i < ql;) {
        const char *amp = memchr(q + i, '&', ql - i);
        size_t e = amp ? (size_t)(amp - q) : ql;
        const char *eq = memchr(q + i, '=', e - i);
        size_t kl = eq ? (size_t)(eq - q) - i : e - i;
        if (kl > 0 && !seg_is(q + i, kl, "_token") && !seg_is(q + i, kl, "token")) {
            add_pct(b, q + i, kl, true);
            if (eq) add_pct(b, eq + 1, e - (size_t)(eq - q) - 1, true);
        }
        i = e + 1;
    }
    if (b->argv[b->cmd_start[0]].n == 0) {
        snprintf(err, errlen, "ERR empty command");
        return false;
    }
    return true;
}

/* ---- the reply sink ---- */

static inline struct upstash_sink *S(struct reply *r)
{
    return r->ctx;
}

#define PUT(s, lit) obuf_append(&(s)->out, lit, sizeof(lit) - 1)

void upstash_sink_reset(struct upstash_sink *s, enum upstash_mode mode, bool b64)
{
    s->out.len = 0;
    s->mode = mode;
    s->b64 = b64;
    s->top_error = false;
    s->top_bare = false;
    s->ntop = 0;
    s->depth = 0;
    if (mode == UPSTASH_PIPELINE) PUT(s, "[");
}

int upstash_sink_finish(struct upstash_sink *s)
{
    if (s->mode == UPSTASH_PIPELINE) PUT(s, "]");
    return s->top_error ? 400 : 200;
}

void upstash_sink_free(struct upstash_sink *s)
{
    obuf_free(&s->out);
    obuf_free(&s->attr_out);
    obuf_free(&s->saved_out);
}

/* Before a value: separators and wrappers. Returns true when the value is
 * a result's root (where the status OK stays plain in base64 mode). An
 * error at a root gets the {"error": wrapper; elsewhere err_obj says the
 * caller writes a whole {"error":...} object. */
static bool vbegin(struct upstash_sink *s, bool is_err, bool bare_array)
{
    if (s->depth == 0) {
        if (s->mode == UPSTASH_PIPELINE && s->ntop > 0) PUT(s, ",");
        if (bare_array && s->mode == UPSTASH_MULTI_EXEC) {
            s->top_bare = true;
            return false;
        }
        s->top_bare = false;
        if (is_err) {
            PUT(s, "{\"error\":");
            if (s->mode != UPSTASH_PIPELINE) s->top_error = true;
        } else {
            PUT(s, "{\"result\":");
        }
        return true;
    }
    {
        struct upstash_frame *f = &s->st[s->depth - 1];
        if (!f->first) PUT(s, ",");
        f->first = false;
        if (f->wrap) {
            if (is_err)
                PUT(s, "{\"error\":");
            else
                PUT(s, "{\"result\":");
            return true;
        }
        return false;
    }
}

static void vend(struct upstash_sink *s)
{
    while (s->depth > 0) {
        struct upstash_frame *f = &s->st[s->depth - 1];
        if (f->attr) return; /* inside a dropped attribute: closed by its count */
        if (f->wrap) PUT(s, "}");
        if (f->left < 0) return; /* deferred: closed by set_deferred */
        if (--f->left > 0) return;
        PUT(s, "]");
        s->depth--;
    }
    if (!s->top_bare) PUT(s, "}");
    s->ntop++;
}

static void put_str(struct upstash_sink *s, const char *p, size_t n, bool root_status)
{
    if (root_status && n == 2 && p[0] == 'O' && p[1] == 'K') {
        PUT(s, "\"OK\"");
    } else if (s->b64) {
        size_t need = 4 * ((n + 2) / 3) + 1, at;
        PUT(s, "\"");
        at = s->out.len;
        if (s->out.cap - s->out.len < need) obuf_grow(&s->out, need);
        s->out.len = at + (size_t)EVP_EncodeBlock((unsigned char *)s->out.buf + at,
                                                  (const unsigned char *)p, (int)n);
        PUT(s, "\"");
    } else {
        json_put_string_lossy(&s->out, p, n);
    }
}

/* A value inside an attribute being dropped: count it, close the
 * attribute when its last value is in (no value_end for the parent). */
static bool in_attr(struct upstash_sink *s)
{
    return s->depth > 0 && s->st[s->depth - 1].attr;
}
static void attr_value_done(struct upstash_sink *s)
{
    struct upstash_frame *f = &s->st[s->depth - 1];
    if (--f->left > 0) return;
    s->depth--;
    s->attr_out = s->out;
    s->out = s->saved_out;
    memset(&s->saved_out, 0, sizeof(s->saved_out));
    s->attr_out.len = 0;
}

static void scalar(struct upstash_sink *s, const char *p, size_t n, bool quoted, bool status)
{
    bool root;
    if (in_attr(s)) {
        attr_value_done(s);
        return;
    }
    root = vbegin(s, false, false);
    if (quoted)
        put_str(s, p, n, root && status);
    else
        obuf_append(&s->out, p, n);
    vend(s);
}

static void u_status(struct reply *r, const char *p, size_t n)
{
    scalar(S(r), p, n, true, true);
}

static void u_bulk(struct reply *r, const char *p, size_t n)
{
    scalar(S(r), p, n, true, false);
}

static void u_error(struct reply *r, const char *p, size_t n)
{
    struct upstash_sink *s = S(r);
    bool root;
    if (in_attr(s)) {
        attr_value_done(s);
        return;
    }
    root = vbegin(s, true, false);
    if (!root) PUT(s, "{\"error\":");
    json_put_string_lossy(&s->out, p, n);
    if (!root) PUT(s, "}");
    vend(s);
}

static void u_integer(struct reply *r, long long v)
{
    char buf[32];
    scalar(S(r), buf, (size_t)util_ll2str(buf, v), false, false);
}

static void u_null(struct reply *r)
{
    scalar(S(r), "null", 4, false, false);
}

static void open_agg(struct upstash_sink *s, enum reply_agg kind, long long n)
{
    bool bare;
    if (kind == AGG_ATTR) {
        /* RESP3 attributes are not part of the RESP2 shapes Upstash
         * answers with: written aside and dropped. */
        if (n <= 0 || s->depth == UPSTASH_MAX_DEPTH || in_attr(s)) return;
        s->saved_out = s->out;
        s->out = s->attr_out;
        memset(&s->attr_out, 0, sizeof(s->attr_out));
        s->st[s->depth].left = 2 * n;
        s->st[s->depth].first = true;
        s->st[s->depth].wrap = false;
        s->st[s->depth].attr = true;
        s->depth++;
        return;
    }
    if (in_attr(s)) {
        /* An aggregate inside an attribute (never in Redis's replies). */
        attr_value_done(s);
        return;
    }
    if (kind == AGG_MAP) n = n < 0 ? n : 2 * n; /* RESP2: a flat array */
    bare = s->depth == 0 && kind != AGG_MAP;
    vbegin(s, false, bare);
    bare = bare && s->top_bare;
    if (n == 0 || s->depth == UPSTASH_MAX_DEPTH) {
        PUT(s, "[]");
        vend(s);
        return;
    }
    PUT(s, "[");
    s->st[s->depth].left = n;
    s->st[s->depth].first = true;
    s->st[s->depth].wrap = bare;
    s->st[s->depth].attr = false;
    s->depth++;
}

static void u_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    open_agg(S(r), kind, n);
}

static void u_double(struct reply *r, double d)
{
    char buf[128];
    int n = util_d2str(buf, sizeof(buf), d); /* RESP2: a bulk string */
    scalar(S(r), buf, (size_t)n, true, false);
}

static void u_bool(struct reply *r, bool b)
{
    scalar(S(r), b ? "1" : "0", 1, false, false);
}

static void u_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    (void)fmt;
    u_bulk(r, p, n);
}

static void *u_defer(struct reply *r, enum reply_agg kind)
{
    struct upstash_sink *s = S(r);
    if (in_attr(s) || s->depth == UPSTASH_MAX_DEPTH - 1) return NULL;
    open_agg(s, kind == AGG_ATTR ? AGG_ARRAY : kind, -1);
    return (void *)(intptr_t)s->depth;
}

static void u_set_deferred(struct reply *r, void *h, long long n)
{
    struct upstash_sink *s = S(r);
    (void)n;
    if (!h || (intptr_t)h != s->depth) return;
    PUT(s, "]");
    s->depth--;
    vend(s);
}

/* A double the handler formatted (GEOPOS): its text, as RESP2 sends it. */
static void u_double_text(struct reply *r, double d, const char *p, size_t n)
{
    (void)d;
    u_bulk(r, p, n);
}

const struct reply_ops upstash_reply_ops = {
    u_status, u_error, u_integer,  u_bulk, u_null,  u_null,         u_aggregate,
    u_double, u_bool,  u_verbatim, u_bulk, u_defer, u_set_deferred, u_double_text,
};
