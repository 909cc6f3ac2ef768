/* msgpack_reply.c — the MessagePack reply sink (see msgpack_reply.h). */
#include "msgpack_reply.h"

#include <stdint.h>
#include <string.h>

#include "util.h"
#include "webdis_info.h"

static inline struct msgpack_sink *S(struct reply *r)
{
    return r->ctx;
}

static void put(struct msgpack_sink *s, const void *p, size_t n)
{
    obuf_append(&s->out, p, n);
}

static void put_be(struct msgpack_sink *s, unsigned char tag, unsigned long long v, int bytes)
{
    unsigned char b[9];
    int i;
    b[0] = tag;
    for (i = 0; i < bytes; i++)
        b[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    put(s, b, (size_t)bytes + 1);
}

static void put_str(struct msgpack_sink *s, const char *p, size_t n)
{
    if (n < 32) {
        unsigned char t = (unsigned char)(0xa0 | n);
        put(s, &t, 1);
    } else if (n < 65536) {
        put_be(s, 0xda, n, 2);
    } else {
        put_be(s, 0xdb, n, 4);
    }
    put(s, p, n);
}

static void put_int(struct msgpack_sink *s, long long v)
{
    unsigned char t;
    if (v >= 0) {
        if (v < 128) {
            t = (unsigned char)v;
            put(s, &t, 1);
        } else if (v < 256) {
            put_be(s, 0xcc, (unsigned long long)v, 1);
        } else if (v < 65536) {
            put_be(s, 0xcd, (unsigned long long)v, 2);
        } else if (v <= 0xffffffffLL) {
            put_be(s, 0xce, (unsigned long long)v, 4);
        } else {
            put_be(s, 0xcf, (unsigned long long)v, 8);
        }
    } else if (v >= -32) {
        t = (unsigned char)(0xe0 | (v + 32));
        put(s, &t, 1);
    } else if (v >= -128) {
        put_be(s, 0xd0, (unsigned long long)v & 0xff, 1);
    } else if (v >= -32768) {
        put_be(s, 0xd1, (unsigned long long)v & 0xffff, 2);
    } else if (v >= -2147483648LL) {
        put_be(s, 0xd2, (unsigned long long)v & 0xffffffffULL, 4);
    } else {
        put_be(s, 0xd3, (unsigned long long)v, 8);
    }
}

static void put_hdr(struct msgpack_sink *s, bool map, long long n)
{
    if (n < 16) {
        unsigned char t = (unsigned char)((map ? 0x80 : 0x90) | n);
        put(s, &t, 1);
    } else if (n < 65536) {
        put_be(s, map ? 0xde : 0xdc, (unsigned long long)n, 2);
    } else {
        put_be(s, map ? 0xdf : 0xdd, (unsigned long long)n, 4);
    }
}

void msgpack_sink_reset(struct msgpack_sink *s, bool batch, int n)
{
    s->out.len = 0;
    s->depth = 0;
    if (batch) put_hdr(s, false, n);
}

void msgpack_sink_name(struct msgpack_sink *s, const char *p, size_t n)
{
    if (n >= sizeof(s->name)) n = sizeof(s->name) - 1;
    memcpy(s->name, p, n);
    s->nlen = n;
}

void msgpack_sink_free(struct msgpack_sink *s)
{
    obuf_free(&s->out);
}

/* Before a value: at the top, the {name: wrapper. */
static void vbegin(struct msgpack_sink *s)
{
    if (s->depth == 0) {
        put_hdr(s, true, 1);
        put_str(s, s->name, s->nlen);
    }
}

static void vend(struct msgpack_sink *s)
{
    while (s->depth > 0) {
        struct msgpack_frame *f = &s->st[s->depth - 1];
        if (f->left < 0) {
            f->count++;
            return;
        }
        if (--f->left > 0) return;
        s->depth--;
    }
}

static bool named(const struct msgpack_sink *s, const char *w)
{
    return util_eqci(s->name, s->nlen, w);
}

static void m_pair(struct msgpack_sink *s, bool ok, const char *p, size_t n)
{
    vbegin(s);
    put_hdr(s, false, 2);
    put(s, ok ? "\xc3" : "\xc2", 1);
    put_str(s, p, n);
    vend(s);
}

static void m_status(struct reply *r, const char *p, size_t n)
{
    m_pair(S(r), true, p, n);
}

static void m_error(struct reply *r, const char *p, size_t n)
{
    m_pair(S(r), false, p, n);
}

static void m_integer(struct reply *r, long long v)
{
    vbegin(S(r));
    put_int(S(r), v);
    vend(S(r));
}

static void info_field(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    put_str(arg, k, kl);
    put_str(arg, v, vl);
}

static void m_bulk(struct reply *r, const char *p, size_t n)
{
    struct msgpack_sink *s = S(r);
    bool top = s->depth == 0;
    vbegin(s);
    if (top && named(s, "info")) {
        put_hdr(s, true, (long long)webdis_info_fields(p, n, NULL, NULL));
        webdis_info_fields(p, n, info_field, s);
    } else {
        put_str(s, p, n);
    }
    vend(s);
}

static void m_null(struct reply *r)
{
    vbegin(S(r));
    put(S(r), "\xc0", 1);
    vend(S(r));
}

static void m_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    struct msgpack_sink *s = S(r);
    bool map = kind == AGG_MAP || kind == AGG_ATTR;
    /* HGETALL's flat array (RESP2) is a map, as Webdis packs it. */
    bool pairs = !map && s->depth == 0 && named(s, "hgetall") && n % 2 == 0;
    vbegin(s);
    put_hdr(s, map || pairs, map ? n : pairs ? n / 2 : n);
    if (n <= 0 || s->depth == MSGPACK_MAX_DEPTH) {
        vend(s);
        return;
    }
    s->st[s->depth].left = map ? 2 * n : n;
    s->st[s->depth].map = map || pairs;
    s->depth++;
}

static void m_double(struct reply *r, double d)
{
    char buf[128];
    int n = util_d2str(buf, sizeof(buf), d); /* a string, as RESP2 sends it */
    vbegin(S(r));
    put_str(S(r), buf, (size_t)n);
    vend(S(r));
}

static void m_bool(struct reply *r, bool b)
{
    vbegin(S(r));
    put(S(r), b ? "\xc3" : "\xc2", 1);
    vend(S(r));
}

static void m_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    (void)fmt;
    m_bulk(r, p, n);
}

static void *m_defer(struct reply *r, enum reply_agg kind)
{
    struct msgpack_sink *s = S(r);
    bool map = kind == AGG_MAP || kind == AGG_ATTR;
    if (s->depth == MSGPACK_MAX_DEPTH) return NULL;
    vbegin(s);
    put_be(s, map ? 0xdf : 0xdd, 0, 4);
    s->st[s->depth].left = -1;
    s->st[s->depth].count = 0;
    s->st[s->depth].map = map;
    s->st[s->depth].hdr = s->out.len - 4;
    s->depth++;
    return (void *)(intptr_t)s->depth;
}

static void m_set_deferred(struct reply *r, void *h, long long n)
{
    struct msgpack_sink *s = S(r);
    struct msgpack_frame *f;
    unsigned long long c;
    int i;
    (void)n;
    if (!h || (intptr_t)h != s->depth) return;
    f = &s->st[s->depth - 1];
    c = (unsigned long long)(f->map ? f->count / 2 : f->count);
    for (i = 0; i < 4; i++)
        s->out.buf[f->hdr + (size_t)i] = (char)(c >> (8 * (3 - i)));
    s->depth--;
    vend(s);
}

/* A double the handler formatted (GEOPOS): its text, as RESP2 sends it. */
static void m_double_text(struct reply *r, double d, const char *p, size_t n)
{
    (void)d;
    m_bulk(r, p, n);
}

const struct reply_ops msgpack_reply_ops = {
    m_status, m_error, m_integer,  m_bulk, m_null,  m_null,         m_aggregate,
    m_double, m_bool,  m_verbatim, m_bulk, m_defer, m_set_deferred, m_double_text,
};
