/* resp_encode.c — RESP2/RESP3 encoding of typed replies (resp_encode.h). */
#include "resp_encode.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static inline void reserve(struct obuf *o, size_t n)
{
    if (o->len + n > o->cap) obuf_grow(o, n);
}

#define OB(r) ((struct obuf *)(r)->ctx)

/* "<c><n>\r\n" */
static inline void header(struct obuf *o, char c, long long n)
{
    char *p;
    reserve(o, 24);
    p = o->buf + o->len;
    *p++ = c;
    if (n >= 0 && n < 10) {
        *p++ = (char)('0' + n);
    } else {
        p += util_ll2str(p, n);
    }
    *p++ = '\r';
    *p++ = '\n';
    o->len = (size_t)(p - o->buf);
}

static void e_status(struct reply *r, const char *s, size_t n)
{
    struct obuf *o = OB(r);
    reserve(o, n + 3);
    o->buf[o->len++] = '+';
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len++] = '\r';
    o->buf[o->len++] = '\n';
}

static void e_error(struct reply *r, const char *s, size_t n)
{
    struct obuf *o = OB(r);
    reserve(o, n + 3);
    o->buf[o->len++] = '-';
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len++] = '\r';
    o->buf[o->len++] = '\n';
}

static void e_integer(struct reply *r, long long v)
{
    header(OB(r), ':', v);
}

static void e_bulk(struct reply *r, const char *p, size_t n)
{
    struct obuf *o = OB(r);
    header(o, '$', (long long)n);
    reserve(o, n + 2);
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len++] = '\r';
    o->buf[o->len++] = '\n';
}

static void e_null(struct reply *r)
{
    if (r->resp >= 3)
        obuf_append(OB(r), "_\r\n", 3);
    else
        obuf_append(OB(r), "$-1\r\n", 5);
}

static void e_null_array(struct reply *r)
{
    if (r->resp >= 3)
        obuf_append(OB(r), "_\r\n", 3);
    else
        obuf_append(OB(r), "*-1\r\n", 5);
}

static char agg_char(struct reply *r, enum reply_agg k, long long *n)
{
    if (r->resp >= 3) {
        switch (k) {
        case AGG_ARRAY:
            return '*';
        case AGG_MAP:
            return '%';
        case AGG_SET:
            return '~';
        case AGG_PUSH:
            return '>';
        case AGG_ATTR:
            return '|';
        }
    }
    if (k == AGG_MAP) *n *= 2;
    return '*';
}

static void e_aggregate(struct reply *r, enum reply_agg k, long long n)
{
    char c = agg_char(r, k, &n);
    header(OB(r), c, n);
}

static void e_double_text(struct reply *r, double d, const char *buf, size_t n)
{
    (void)d;
    if (r->resp >= 3) {
        struct obuf *o = OB(r);
        reserve(o, n + 3);
        o->buf[o->len++] = ',';
        memcpy(o->buf + o->len, buf, n);
        o->len += n;
        o->buf[o->len++] = '\r';
        o->buf[o->len++] = '\n';
    } else {
        e_bulk(r, buf, n);
    }
}

static void e_double(struct reply *r, double d)
{
    char buf[64];
    int n = util_d2str(buf, sizeof(buf), d);
    if (r->resp >= 3) {
        struct obuf *o = OB(r);
        reserve(o, (size_t)n + 3);
        o->buf[o->len++] = ',';
        memcpy(o->buf + o->len, buf, (size_t)n);
        o->len += (size_t)n;
        o->buf[o->len++] = '\r';
        o->buf[o->len++] = '\n';
    } else {
        e_bulk(r, buf, (size_t)n);
    }
}

static void e_bool(struct reply *r, bool b)
{
    if (r->resp >= 3)
        obuf_append(OB(r), b ? "#t\r\n" : "#f\r\n", 4);
    else
        obuf_append(OB(r), b ? ":1\r\n" : ":0\r\n", 4);
}

static void e_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    if (r->resp >= 3) {
        struct obuf *o = OB(r);
        header(o, '=', (long long)n + 4);
        obuf_append(o, fmt, 3);
        obuf_append(o, ":", 1);
        obuf_append(o, p, n);
        obuf_append(o, "\r\n", 2);
    } else {
        e_bulk(r, p, n);
    }
}

static void e_bignum(struct reply *r, const char *p, size_t n)
{
    if (r->resp >= 3) {
        struct obuf *o = OB(r);
        obuf_append(o, "(", 1);
        obuf_append(o, p, n);
        obuf_append(o, "\r\n", 2);
    } else {
        e_bulk(r, p, n);
    }
}

/* A deferred header: remember where it goes; insert it when known. */
static void *e_defer(struct reply *r, enum reply_agg k)
{
    struct obuf *o = OB(r);
    return (void *)(uintptr_t)((o->len << 3) | (size_t)k | ((size_t)1 << 62));
}

static void e_set_deferred(struct reply *r, void *h, long long n)
{
    struct obuf *o = OB(r);
    uintptr_t v = (uintptr_t)h & ~((uintptr_t)1 << 62);
    size_t off = v >> 3;
    enum reply_agg k = (enum reply_agg)(v & 7);
    char hdr[32];
    char c = agg_char(r, k, &n);
    int hl = snprintf(hdr, sizeof(hdr), "%c%lld\r\n", c, n);
    reserve(o, (size_t)hl);
    memmove(o->buf + off + hl, o->buf + off, o->len - off);
    memcpy(o->buf + off, hdr, (size_t)hl);
    o->len += (size_t)hl;
}

const struct reply_ops resp_reply_ops = {
    e_status, e_error, e_integer,  e_bulk,   e_null,  e_null_array,   e_aggregate,
    e_double, e_bool,  e_verbatim, e_bignum, e_defer, e_set_deferred, e_double_text,
};
