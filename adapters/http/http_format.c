/* http_format.c — the HTTP adapter's non-JSON formats (see http_format.h) and the
 * reason phrases of its statuses. */
#include "http_format.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

enum http_fmt http_format_for(const char *ext, const char **ct)
{
    static const struct {
        const char *ext, *ct;
        enum http_fmt fmt;
    } t[] = {
        {"json", "application/json", FMT_JSON},
        {"raw", "binary/octet-stream", FMT_RAW},
        {"txt", "text/plain", FMT_BYTES},
        {"html", "text/html", FMT_BYTES},
        {"xml", "text/xml", FMT_BYTES},
        {"png", "image/png", FMT_BYTES},
        {"jpg", "image/jpeg", FMT_BYTES},
        {"jpeg", "image/jpeg", FMT_BYTES},
        {"css", "text/css", FMT_BYTES},
        {"js", "application/javascript", FMT_JSON},
        {"xhtml", "application/xhtml+xml", FMT_BYTES},
        {"bin", "binary/octet-stream", FMT_BYTES},
        {"msg", "application/x-msgpack", FMT_MSGPACK},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(ext, t[i].ext) == 0) {
            *ct = t[i].ct;
            return t[i].fmt;
        }
    *ct = "application/json";
    return FMT_JSON;
}

void bytes_sink_reset(struct bytes_sink *s, const char *sep, size_t seplen)
{
    s->out.len = s->out.sent = 0;
    if (seplen > sizeof(s->sep)) seplen = sizeof(s->sep);
    if (seplen) memcpy(s->sep, sep, seplen);
    s->seplen = seplen;
    s->depth = 0;
    s->any = s->nil = s->error = s->done = false;
}

static inline struct bytes_sink *B(struct reply *r)
{
    return r->ctx;
}

static void elem_end(struct bytes_sink *s)
{
    while (s->depth > 0) {
        if (s->left[s->depth - 1] < 0) return;
        if (--s->left[s->depth - 1] > 0) return;
        s->depth--;
    }
    s->done = true;
}

static void put(struct bytes_sink *s, const char *p, size_t n)
{
    if (s->done) return; /* only the first top-level value counts */
    if (s->depth > 0 && s->any && s->seplen) obuf_append(&s->out, s->sep, s->seplen);
    obuf_append(&s->out, p, n);
    s->any = true;
    elem_end(s);
}

/* Webdis's text forms: a status as "+OK", an error as "-ERR ...". */
static void put_prefixed(struct bytes_sink *s, char c, const char *p, size_t n)
{
    char *t = xmalloc(n + 1);
    t[0] = c;
    memcpy(t + 1, p, n);
    put(s, t, n + 1);
    free(t);
}
static void b_status(struct reply *r, const char *p, size_t n)
{
    put_prefixed(B(r), '+', p, n);
}
static void b_error(struct reply *r, const char *p, size_t n)
{
    struct bytes_sink *s = B(r);
    if (s->depth == 0 && !s->done) s->error = true;
    put_prefixed(s, '-', p, n);
}
static void b_int(struct reply *r, long long v)
{
    char buf[32];
    put(B(r), buf, (size_t)util_ll2str(buf, v));
}
static void b_bulk(struct reply *r, const char *p, size_t n)
{
    put(B(r), p, n);
}
static void b_null(struct reply *r)
{
    struct bytes_sink *s = B(r);
    if (s->depth == 0 && !s->done) s->nil = true;
    if (s->done) return;
    if (s->depth > 0 && s->any && s->seplen) obuf_append(&s->out, s->sep, s->seplen);
    s->any = true;
    elem_end(s);
}
static void b_agg(struct reply *r, enum reply_agg kind, long long n)
{
    struct bytes_sink *s = B(r);
    if (s->done) return;
    if (kind == AGG_MAP || kind == AGG_ATTR) n *= 2;
    if (n <= 0 || s->depth == 64) {
        elem_end(s);
        return;
    }
    s->left[s->depth++] = n;
}
static void b_double(struct reply *r, double d)
{
    char buf[128];
    put(B(r), buf, (size_t)util_d2str(buf, sizeof(buf), d));
}
static void b_double_text(struct reply *r, double d, const char *p, size_t n)
{
    (void)d;
    put(B(r), p, n);
}
static void b_bool(struct reply *r, bool v)
{
    put(B(r), v ? "1" : "0", 1);
}
static void b_verbatim(struct reply *r, const char *f, const char *p, size_t n)
{
    (void)f;
    put(B(r), p, n);
}
static void *b_defer(struct reply *r, enum reply_agg kind)
{
    struct bytes_sink *s = B(r);
    (void)kind;
    if (s->done || s->depth == 64) return NULL;
    s->left[s->depth++] = -1;
    return (void *)(long)s->depth;
}
static void b_set_deferred(struct reply *r, void *h, long long n)
{
    struct bytes_sink *s = B(r);
    (void)n;
    if (!h || (long)h != s->depth) return;
    s->depth--;
    elem_end(s);
}

const struct reply_ops bytes_reply_ops = {
    b_status, b_error, b_int,      b_bulk, b_null,  b_null,         b_agg,
    b_double, b_bool,  b_verbatim, b_bulk, b_defer, b_set_deferred, b_double_text,
};

const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
