/* json_reply.c — the JSON reply sink (see json_reply.h): typed replies to
 * JSON text, with a nesting stack so arrays, objects and deferred-length
 * aggregates get their commas, colons and closing brackets, and begin/end
 * callbacks around each top-level value so adapters can wrap and frame it. */
#include "json_reply.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

static inline struct json_sink *S(struct reply *r)
{
    return r->ctx;
}

static inline void put(struct json_sink *s, const char *p, size_t n)
{
    obuf_append(&s->out, p, n);
}
static inline void putc1(struct json_sink *s, char c)
{
    obuf_append(&s->out, &c, 1);
}

bool json_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e) {
        unsigned c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            if (e - s < 2 || (s[1] & 0xc0) != 0x80) return false;
            s += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (e - s < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return false;
            if (c == 0xe0 && s[1] < 0xa0) return false; /* overlong */
            if (c == 0xed && s[1] > 0x9f) return false; /* surrogate */
            s += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (e - s < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
                (s[3] & 0xc0) != 0x80)
                return false;
            if (c == 0xf0 && s[1] < 0x90) return false;
            if (c == 0xf4 && s[1] > 0x8f) return false;
            s += 4;
        } else {
            return false;
        }
    }
    return true;
}

/* Escape valid UTF-8 (or, lossy, any bytes: those >= 0x80 in invalid
 * sequences become \u00XX). */
static void put_escaped(struct obuf *o, const char *p, size_t n, bool lossy)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson writes \u001F */
    size_t i, run = 0;
    obuf_append(o, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        size_t el = 0;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) continue;
        if (c >= 0x80) {
            if (!lossy) continue;
            {
                /* Lossy mode: keep valid sequences, escape stray bytes. */
                size_t k = 1;
                if (c >= 0xc2 && c <= 0xdf)
                    k = 2;
                else if (c >= 0xe0 && c <= 0xef)
                    k = 3;
                else if (c >= 0xf0 && c <= 0xf4)
                    k = 4;
                if (k > 1 && i + k <= n && json_utf8_valid(p + i, k)) {
                    i += k - 1;
                    continue;
                }
                el = 6;
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
        } else if (c == '"') {
            el = 2, esc[0] = '\\', esc[1] = '"';
        } else if (c == '\\') {
            el = 2, esc[0] = '\\', esc[1] = '\\';
        } else if (c == '\n') {
            el = 2, esc[0] = '\\', esc[1] = 'n';
        } else if (c == '\r') {
            el = 2, esc[0] = '\\', esc[1] = 'r';
        } else if (c == '\t') {
            el = 2, esc[0] = '\\', esc[1] = 't';
        } else if (c == '\b') {
            el = 2, esc[0] = '\\', esc[1] = 'b';
        } else if (c == '\f') {
            el = 2, esc[0] = '\\', esc[1] = 'f';
        } else {
            el = 6;
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        obuf_append(o, p + run, i - run);
        obuf_append(o, esc, el);
        run = i + 1;
    }
    obuf_append(o, p + run, n - run);
    obuf_append(o, "\"", 1);
}

static void put_base64(struct obuf *o, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    size_t i;
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = tab[v >> 18], q[1] = tab[(v >> 12) & 63], q[2] = tab[(v >> 6) & 63],
        q[3] = tab[v & 63];
        obuf_append(o, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        q[0] = tab[v >> 18], q[1] = tab[(v >> 12) & 63], q[2] = '=', q[3] = '=';
        obuf_append(o, q, 4);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        q[0] = tab[v >> 18], q[1] = tab[(v >> 12) & 63], q[2] = tab[(v >> 6) & 63], q[3] = '=';
        obuf_append(o, q, 4);
    }
}

void json_put_string(struct obuf *o, const char *p, size_t n)
{
    if (json_utf8_valid(p, n)) {
        put_escaped(o, p, n, false);
        return;
    }
    obuf_append(o, "{\"base64\":\"", 11);
    put_base64(o, (const unsigned char *)p, n);
    obuf_append(o, "\"}", 2);
}

void json_put_string_lossy(struct obuf *o, const char *p, size_t n)
{
    put_escaped(o, p, n, true);
}

/* ---- structure ---- */

/* Before a value: separators, map keys, or the top-level begin hook.
 * Returns true when this value is a map key (scalars must be quoted). */
static bool value_begin(struct json_sink *s, int agg, bool is_err)
{
    if (s->depth == 0) {
        s->elem_idx = 0;
        if (s->begin) s->begin(s, agg, is_err, s->arg);
        return false;
    }
    {
        struct json_frame *f = &s->st[s->depth - 1];
        if (f->map && !f->key_next) {
            putc1(s, ':');
            return false;
        }
        if (!f->first) putc1(s, ',');
        f->first = 0;
        if (s->depth == 1 && s->elem_names) {
            putc1(s, '{');
            if (s->elem_idx < s->nelem_names)
                put(s, s->elem_names[s->elem_idx].buf, s->elem_names[s->elem_idx].len);
            else
                put(s, "\"?\"", 3);
            putc1(s, ':');
        }
        return f->map && f->key_next;
    }
}

static void value_end(struct json_sink *s)
{
    while (s->depth > 0) {
        struct json_frame *f = &s->st[s->depth - 1];
        if (s->depth == 1 && s->elem_names) {
            putc1(s, '}');
            s->elem_idx++;
        }
        if (f->map) {
            if (f->key_next) {
                f->key_next = 0; /* the key is written; its value comes next */
                return;
            }
            f->key_next = 1;
        }
        if (f->left < 0) return; /* deferred: closed by set_deferred */
        if (--f->left > 0) return;
        if (s->depth == s->attr_depth) {
            /* an attribute is complete: drop it; it was not a value */
            s->out.len = s->attr_mark;
            s->attr_depth = 0;
            s->depth--;
            return;
        }
        putc1(s, f->map ? '}' : ']');
        s->depth--;
    }
    if (s->end) s->end(s, s->arg);
}

/* A scalar already formatted as JSON (number, true, null...). */
static void scalar_raw(struct json_sink *s, const char *p, size_t n)
{
    bool key = value_begin(s, -1, false);
    if (key) putc1(s, '"');
    put(s, p, n);
    if (key) putc1(s, '"');
    value_end(s);
}

static void j_status(struct reply *r, const char *p, size_t n)
{
    struct json_sink *s = S(r);
    bool key = value_begin(s, -1, false);
    if (key || s->plain_status) {
        put_escaped(&s->out, p, n, true);
    } else {
        put(s, "[true,", 6);
        put_escaped(&s->out, p, n, true);
        putc1(s, ']');
    }
    value_end(s);
}

static void j_error(struct reply *r, const char *p, size_t n)
{
    struct json_sink *s = S(r);
    bool key = value_begin(s, -1, true);
    if (key) {
        put_escaped(&s->out, p, n, true);
    } else {
        put(s, "[false,", 7);
        put_escaped(&s->out, p, n, true);
        putc1(s, ']');
    }
    value_end(s);
}

static void j_integer(struct reply *r, long long v)
{
    char buf[32];
    scalar_raw(S(r), buf, (size_t)util_ll2str(buf, v));
}

static void j_bulk(struct reply *r, const char *p, size_t n)
{
    struct json_sink *s = S(r);
    bool key = value_begin(s, -1, false);
    if (key)
        put_escaped(&s->out, p, n, true);
    else
        json_put_string(&s->out, p, n);
    value_end(s);
}

static void j_null(struct reply *r)
{
    struct json_sink *s = S(r);
    bool key = value_begin(s, -1, false);
    put(s, key ? "\"\"" : "null", key ? 2 : 4);
    value_end(s);
}

/* An attribute: its pairs are written and then cut off (value_end). */
static void attribute_begin(struct json_sink *s, long long n)
{
    if (n <= 0 || s->depth == JSON_MAX_DEPTH) return;
    if (!s->attr_depth) {
        s->attr_depth = s->depth + 1;
        s->attr_mark = s->out.len;
    }
    s->st[s->depth].left = n * 2; /* keys and values, counted as a list */
    s->st[s->depth].map = 0;
    s->st[s->depth].key_next = 0;
    s->st[s->depth].first = 1;
    s->depth++;
}

static void j_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    struct json_sink *s = S(r);
    bool map = kind == AGG_MAP;
    if (kind == AGG_ATTR) {
        attribute_begin(s, n);
        return;
    }
    value_begin(s, (int)kind, false);
    if (n <= 0) {
        put(s, map ? "{}" : "[]", 2);
        value_end(s);
        return;
    }
    if (s->depth == JSON_MAX_DEPTH) {
        /* Deeper than any Redis reply nests: flatten (never happens). */
        return;
    }
    putc1(s, map ? '{' : '[');
    s->st[s->depth].left = n;
    s->st[s->depth].map = map;
    s->st[s->depth].key_next = 1;
    s->st[s->depth].first = 1;
    s->depth++;
}

static void j_double(struct reply *r, double d)
{
    struct json_sink *s = S(r);
    char buf[128];
    int n = util_d2str(buf, sizeof(buf), d);
    bool key = value_begin(s, -1, false);
    if (key || s->resp == 2 || isinf(d) || isnan(d)) {
        putc1(s, '"');
        put(s, buf, (size_t)n);
        putc1(s, '"');
    } else {
        put(s, buf, (size_t)n);
    }
    value_end(s);
}

/* A double with the handler's text (GEOPOS): as j_double, that text. */
static void j_double_text(struct reply *r, double d, const char *p, size_t n)
{
    struct json_sink *s = S(r);
    bool key = value_begin(s, -1, false);
    if (key || s->resp == 2 || isinf(d) || isnan(d)) {
        putc1(s, '"');
        put(s, p, n);
        putc1(s, '"');
    } else {
        put(s, p, n);
    }
    value_end(s);
}

static void j_bool(struct reply *r, bool b)
{
    struct json_sink *s = S(r);
    if (s->resp == 2)
        scalar_raw(s, b ? "1" : "0", 1);
    else
        scalar_raw(s, b ? "true" : "false", b ? 4 : 5);
}

static void j_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    (void)fmt;
    j_bulk(r, p, n);
}

static void j_bignum(struct reply *r, const char *p, size_t n)
{
    struct json_sink *s = S(r);
    value_begin(s, -1, false);
    put_escaped(&s->out, p, n, true);
    value_end(s);
}

static void *j_defer(struct reply *r, enum reply_agg kind)
{
    struct json_sink *s = S(r);
    bool map = kind == AGG_MAP || kind == AGG_ATTR;
    value_begin(s, (int)kind, false);
    if (s->depth == JSON_MAX_DEPTH) return NULL;
    putc1(s, map ? '{' : '[');
    s->st[s->depth].left = -1;
    s->st[s->depth].map = map;
    s->st[s->depth].key_next = 1;
    s->st[s->depth].first = 1;
    s->depth++;
    return (void *)(intptr_t)s->depth;
}

static void j_set_deferred(struct reply *r, void *h, long long n)
{
    struct json_sink *s = S(r);
    (void)n;
    if (!h || (intptr_t)h != s->depth) return;
    putc1(s, s->st[s->depth - 1].map ? '}' : ']');
    s->depth--;
    value_end(s);
}

const struct reply_ops json_reply_ops = {
    j_status, j_error, j_integer,  j_bulk,   j_null,  j_null,         j_aggregate,
    j_double, j_bool,  j_verbatim, j_bignum, j_defer, j_set_deferred, j_double_text,
};

void json_sink_init(struct json_sink *s, int resp)
{
    memset(s, 0, sizeof(*s));
    s->resp = resp;
}

void json_sink_free(struct json_sink *s)
{
    obuf_free(&s->out);
}
