/* rec_sink.c — the recording reply sink of rec_sink.h. */
#include "rec_sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SINK(r) ((struct rec_sink *)(r)->ctx)

void rec_sink_reset(struct rec_sink *s)
{
    s->outn = 0;
    s->out[0] = 0;
    s->err[0] = 0;
    s->nerr = s->nother = 0;
}

/* Append one reply's text, after a space if something came before. */
static void put(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct reply *r, const char *fmt, ...)
{
    struct rec_sink *s = SINK(r);
    va_list ap;
    if (s->outn && s->outn < sizeof(s->out) - 1) s->out[s->outn++] = ' ';
    va_start(ap, fmt);
    s->outn += (size_t)vsnprintf(s->out + s->outn, sizeof(s->out) - s->outn, fmt, ap);
    va_end(ap);
    if (s->outn >= sizeof(s->out)) s->outn = sizeof(s->out) - 1;
}

static char agg_char(enum reply_agg k)
{
    return k == AGG_SET ? '~' : k == AGG_MAP ? '%' : '*';
}

static void o_status(struct reply *r, const char *s, size_t n)
{
    SINK(r)->nother++;
    put(r, "+%.*s", (int)n, s);
}
static void o_error(struct reply *r, const char *s, size_t n)
{
    struct rec_sink *k = SINK(r);
    size_t m = n < sizeof(k->err) - 1 ? n : sizeof(k->err) - 1;
    memcpy(k->err, s, m);
    k->err[m] = 0;
    k->nerr++;
    put(r, "-%.*s", (int)n, s);
}
static void o_int(struct reply *r, long long v)
{
    SINK(r)->nother++;
    put(r, "%lld", v);
}
static void o_bulk(struct reply *r, const char *p, size_t n)
{
    SINK(r)->nother++;
    put(r, "\"%.*s\"", (int)n, p);
}
static void o_null(struct reply *r)
{
    SINK(r)->nother++;
    put(r, "nil");
}
static void o_agg(struct reply *r, enum reply_agg k, long long n)
{
    SINK(r)->nother++;
    put(r, "%c%lld", agg_char(k), n);
}
static void o_dbl(struct reply *r, double d)
{
    SINK(r)->nother++;
    put(r, "%.17g", d);
}
static void o_bool(struct reply *r, bool b)
{
    SINK(r)->nother++;
    put(r, "#%d", b);
}
static void o_verb(struct reply *r, const char *f, const char *p, size_t n)
{
    (void)f;
    SINK(r)->nother++;
    put(r, "=%.*s", (int)n, p);
}
static void *o_defer(struct reply *r, enum reply_agg k)
{
    SINK(r)->nother++;
    put(r, "%c?", agg_char(k));
    return NULL;
}
static void o_setdef(struct reply *r, void *h, long long n)
{
    (void)h;
    SINK(r)->nother++;
    put(r, "(%lld)", n);
}

const struct reply_ops rec_sink_ops = {
    .status = o_status,
    .error = o_error,
    .integer = o_int,
    .bulk = o_bulk,
    .null = o_null,
    .null_array = o_null,
    .aggregate = o_agg,
    .dbl = o_dbl,
    .boolean = o_bool,
    .verbatim = o_verb,
    .bignum = o_bulk,
    .defer = o_defer,
    .set_deferred = o_setdef,
};
