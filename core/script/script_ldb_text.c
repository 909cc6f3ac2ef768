/* script_ldb_text.c — the Lua debugger's text (script_ldb_text.h): Redis's
 * quoting (sdscatrepr's), the "<reply>" line's
 * notation written by a sink that sits in front of the script sink while
 * the debugger steps (Redis's form of each reply type, as its RESP2 or
 * RESP3 conversion would show it, in the order the command replied), and
 * the sink catching an error replied before a debugged script runs. */
#include "script_ldb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void put_text(void *b, const char *s, size_t n)
{
    obuf_cat(b, s, n);
}

/* Quoted, with escapes, as Redis's sdscatrepr (util_repr). */
void ldbt_repr(struct obuf *b, const char *p, size_t n)
{
    util_repr(p, n, put_text, b);
}

/* ---- the "<reply>" notation ---- */

#define T(r) ((struct ldb_tee *)(r)->ctx)

/* An element starts: its separator in the aggregate it is in. */
static void elem_start(struct ldb_tee *t)
{
    struct ldb_tee_frame *f;
    if (!t->depth || t->broken) return;
    f = &t->stack[t->depth - 1];
    if (f->kind == AGG_MAP && t->resp >= 3) {
        if (f->idx % 2)
            obuf_cat(&t->text, " => ", 4);
        else if (f->idx)
            obuf_cat(&t->text, ",", 1);
    } else if (f->idx) {
        obuf_cat(&t->text, ",", 1);
    }
    f->idx++;
}

static void close_frame(struct ldb_tee *t)
{
    struct ldb_tee_frame *f = &t->stack[--t->depth];
    if (t->resp >= 3 && f->kind == AGG_MAP)
        obuf_cat(&t->text, "}", 1);
    else if (t->resp >= 3 && f->kind == AGG_SET)
        obuf_cat(&t->text, ")", 1);
    else
        obuf_cat(&t->text, "]", 1);
}

/* An element ended: aggregates it completes are closed. */
static void elem_end(struct ldb_tee *t)
{
    while (t->depth && !t->broken) {
        struct ldb_tee_frame *f = &t->stack[t->depth - 1];
        if (f->left < 0 || --f->left > 0) return;
        close_frame(t);
    }
}

static void open_frame(struct ldb_tee *t, enum reply_agg k, long long n, void *handle)
{
    if (t->broken) return;
    elem_start(t);
    if (t->resp >= 3 && k == AGG_MAP)
        obuf_cat(&t->text, "{", 1);
    else if (t->resp >= 3 && k == AGG_SET)
        obuf_cat(&t->text, "~(", 2);
    else
        obuf_cat(&t->text, "[", 1);
    if (t->depth == LDB_TEE_DEPTH) { /* deeper than any command replies: */
        t->broken = true;            /* the notation stops here */
        return;
    }
    t->stack[t->depth].kind = k;
    t->stack[t->depth].idx = 0;
    t->stack[t->depth].left = handle ? -1 : (k == AGG_MAP ? n * 2 : n);
    t->stack[t->depth].handle = handle;
    t->depth++;
    if (!handle && n == 0) {
        close_frame(t);
        elem_end(t);
    }
}

static void scalar(struct ldb_tee *t, const char *p, size_t n)
{
    if (t->broken) return;
    elem_start(t);
    obuf_cat(&t->text, p, n);
    elem_end(t);
}

static void quoted(struct ldb_tee *t, const char *sign, const char *p, size_t n)
{
    if (t->broken) return;
    elem_start(t);
    if (sign) {
        struct obuf s = {0};
        obuf_cats(&s, sign);
        obuf_cat(&s, p, n);
        ldbt_repr(&t->text, s.buf, s.len);
        free(s.buf);
    } else {
        ldbt_repr(&t->text, p, n);
    }
    elem_end(t);
}

static void t_status(struct reply *r, const char *s, size_t n)
{
    T(r)->next->ops->status(T(r)->next, s, n);
    quoted(T(r), "+", s, n);
}

static void t_error(struct reply *r, const char *s, size_t n)
{
    T(r)->next->ops->error(T(r)->next, s, n);
    quoted(T(r), "-", s, n);
}

static void t_integer(struct reply *r, long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    T(r)->next->ops->integer(T(r)->next, v);
    scalar(T(r), buf, (size_t)n);
}

static void t_bulk(struct reply *r, const char *p, size_t n)
{
    T(r)->next->ops->bulk(T(r)->next, p, n);
    quoted(T(r), NULL, p, n);
}

static void t_null(struct reply *r)
{
    T(r)->next->ops->null(T(r)->next);
    if (T(r)->resp >= 3)
        scalar(T(r), "(null)", 6);
    else
        scalar(T(r), "NULL", 4);
}

static void t_null_array(struct reply *r)
{
    T(r)->next->ops->null_array(T(r)->next);
    if (T(r)->resp >= 3)
        scalar(T(r), "(null)", 6);
    else
        scalar(T(r), "NULL", 4);
}

static void t_aggregate(struct reply *r, enum reply_agg k, long long n)
{
    T(r)->next->ops->aggregate(T(r)->next, k, n);
    open_frame(T(r), k, n, NULL);
}

static void dbl_text(struct ldb_tee *t, const char *p, size_t n)
{
    if (t->broken) return;
    if (t->resp >= 3) {
        elem_start(t);
        obuf_cat(&t->text, "(double) ", 9);
        obuf_cat(&t->text, p, n);
        elem_end(t);
    } else {
        quoted(t, NULL, p, n);
    }
}

static void t_dbl(struct reply *r, double d)
{
    char buf[64];
    int n = util_d2str(buf, sizeof(buf), d);
    T(r)->next->ops->dbl(T(r)->next, d);
    dbl_text(T(r), buf, (size_t)n);
}

static void t_dbl_text(struct reply *r, double d, const char *p, size_t n)
{
    reply_double_text(T(r)->next, d, p, n);
    dbl_text(T(r), p, n);
}

static void t_boolean(struct reply *r, bool b)
{
    T(r)->next->ops->boolean(T(r)->next, b);
    if (T(r)->resp >= 3)
        scalar(T(r), b ? "#true" : "#false", b ? 5 : 6);
    else
        scalar(T(r), b ? "1" : "0", 1);
}

/* RESP3's verbatim strings and big numbers have no notation in Redis's
 * debugger: nothing is shown. */
static void t_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    T(r)->next->ops->verbatim(T(r)->next, fmt, p, n);
    if (T(r)->resp >= 3)
        scalar(T(r), "", 0);
    else
        quoted(T(r), NULL, p, n);
}

static void t_bignum(struct reply *r, const char *p, size_t n)
{
    T(r)->next->ops->bignum(T(r)->next, p, n);
    if (T(r)->resp >= 3)
        scalar(T(r), "", 0);
    else
        quoted(T(r), NULL, p, n);
}

static void *t_defer(struct reply *r, enum reply_agg k)
{
    void *h = T(r)->next->ops->defer(T(r)->next, k);
    open_frame(T(r), k, 0, h ? h : (void *)T(r));
    return h;
}

static void t_set_deferred(struct reply *r, void *h, long long n)
{
    struct ldb_tee *t = T(r);
    t->next->ops->set_deferred(t->next, h, n);
    if (t->broken) return;
    if (t->depth && t->stack[t->depth - 1].left < 0) {
        close_frame(t);
        elem_end(t);
    }
}

static const struct reply_ops tee_ops = {
    .status = t_status,
    .error = t_error,
    .integer = t_integer,
    .bulk = t_bulk,
    .null = t_null,
    .null_array = t_null_array,
    .aggregate = t_aggregate,
    .dbl = t_dbl,
    .boolean = t_boolean,
    .verbatim = t_verbatim,
    .bignum = t_bignum,
    .defer = t_defer,
    .set_deferred = t_set_deferred,
    .dbl_text = t_dbl_text,
};

void ldb_tee_init(struct ldb_tee *t, struct reply *r, struct reply *next)
{
    memset(t, 0, sizeof(*t));
    t->next = next;
    t->resp = next->resp;
    obuf_cats(&t->text, "<reply> ");
    memset(r, 0, sizeof(*r));
    r->ops = &tee_ops;
    r->ctx = t;
    r->resp = next->resp;
}

/* ---- errors replied before a debugged script runs ---- */

static void c_error(struct reply *r, const char *s, size_t n)
{
    char **err = r->ctx;
    free(*err);
    *err = xmalloc(n + 1);
    memcpy(*err, s, n);
    (*err)[n] = 0;
}

static void c_text(struct reply *r, const char *s, size_t n)
{
    (void)r, (void)s, (void)n;
}

static void c_integer(struct reply *r, long long v)
{
    (void)r, (void)v;
}

static void c_none(struct reply *r)
{
    (void)r;
}

static void c_aggregate(struct reply *r, enum reply_agg k, long long n)
{
    (void)r, (void)k, (void)n;
}

static void c_dbl(struct reply *r, double d)
{
    (void)r, (void)d;
}

static void c_boolean(struct reply *r, bool b)
{
    (void)r, (void)b;
}

static void c_verbatim(struct reply *r, const char *f, const char *p, size_t n)
{
    (void)r, (void)f, (void)p, (void)n;
}

static void *c_defer(struct reply *r, enum reply_agg k)
{
    (void)r, (void)k;
    return NULL;
}

static void c_set_deferred(struct reply *r, void *h, long long n)
{
    (void)r, (void)h, (void)n;
}

static const struct reply_ops capture_ops = {
    .status = c_text,
    .error = c_error,
    .integer = c_integer,
    .bulk = c_text,
    .null = c_none,
    .null_array = c_none,
    .aggregate = c_aggregate,
    .dbl = c_dbl,
    .boolean = c_boolean,
    .verbatim = c_verbatim,
    .bignum = c_text,
    .defer = c_defer,
    .set_deferred = c_set_deferred,
};

void ldb_capture_init(struct reply *r, char **err, int resp)
{
    memset(r, 0, sizeof(*r));
    r->ops = &capture_ops;
    r->ctx = err;
    r->resp = resp;
}
