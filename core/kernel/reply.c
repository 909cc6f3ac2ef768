/* reply.c — the error table and the helpers every sink shares (reply.h). */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const struct err_def err_table[E_MAX] = {
    [E_NONE] = {"ERR", 500},
    [E_SYNTAX] = {"ERR syntax error", 400},
    [E_WRONGTYPE] = {"WRONGTYPE Operation against a key holding the wrong kind of value", 400},
    [E_NOT_INT] = {"ERR value is not an integer or out of range", 400},
    [E_NOT_FLOAT] = {"ERR value is not a valid float", 400},
    [E_NOT_VALID_FLOAT] = {"ERR value is not a valid float", 400},
    [E_OVERFLOW] = {"ERR increment or decrement would overflow", 400},
    [E_NO_SUCH_KEY] = {"ERR no such key", 404},
    [E_DB_INDEX] = {"ERR DB index is out of range", 400},
    [E_OUT_OF_RANGE] = {"ERR index out of range", 400},
    [E_NOAUTH] = {"NOAUTH Authentication required.", 401},
    [E_WRONGPASS] = {"WRONGPASS invalid username-password pair or user is disabled.", 401},
    [E_AUTH_NOT_CONFIGURED] = {"ERR AUTH <password> called without any password configured for "
                               "the default user. Are you sure your configuration is correct?",
                               400},
    [E_NOPROTO] = {"NOPROTO unsupported protocol version", 400},
    [E_SAME_OBJECT] = {"ERR source and destination objects are the same", 400},
    [E_STRING_TOO_LONG] = {"ERR string exceeds maximum allowed size (proto-max-bulk-len)", 400},
    [E_OFFSET_RANGE] = {"ERR offset is out of range", 400},
    [E_POSITIVE] = {"ERR value is out of range, must be positive", 400},
};

/* INFO errorstats counts every error a client is sent (core/commands/cmd_server.c). */
void info_count_error(const char *text, size_t n);

static const struct reply_ops capture_ops;

static void error_out(struct reply *r, const char *t, size_t n)
{
    r->nerr++;
    if (r != &reply_discard && r->ops != &capture_ops) info_count_error(t, n);
    r->ops->error(r, t, n);
}

void reply_err(struct reply *r, enum err_code code)
{
    const char *t = err_table[code].text;
    error_out(r, t, strlen(t));
}

void reply_error(struct reply *r, const char *text)
{
    error_out(r, text, strlen(text));
}

size_t reply_error_line(char *p, size_t n)
{
    size_t i;
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    for (i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
    return n;
}

void reply_errorf(struct reply *r, const char *fmt, ...)
{
    char buf[1024], *p = buf;
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof(buf)) {
        p = xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    error_out(r, p, reply_error_line(p, (size_t)n));
    if (p != buf) free(p);
}

void reply_cstr(struct reply *r, const char *s)
{
    r->ops->bulk(r, s, strlen(s));
}

void reply_bulk_ll(struct reply *r, long long v)
{
    char buf[24];
    int n = util_ll2str(buf, v);
    r->ops->bulk(r, buf, (size_t)n);
}

void reply_help(struct reply *r, const char *cmd, const char *const *lines)
{
    char buf[256];
    int n = 0, i;
    while (lines[n])
        n++;
    reply_array(r, n + 3);
    snprintf(buf, sizeof(buf), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    r->ops->status(r, buf, strlen(buf));
    for (i = 0; i < n; i++)
        r->ops->status(r, lines[i], strlen(lines[i]));
    r->ops->status(r, "HELP", 4);
    r->ops->status(r, "    Prints this help.", 21);
    /* Redis ends every help with these two lines (HELP and its text). */
}

static void d_status(struct reply *r, const char *s, size_t n)
{
    (void)r, (void)s, (void)n;
}
static void d_int(struct reply *r, long long v)
{
    (void)r, (void)v;
}
static void d_null(struct reply *r)
{
    (void)r;
}
static void d_agg(struct reply *r, enum reply_agg k, long long n)
{
    (void)r, (void)k, (void)n;
}
static void d_dbl(struct reply *r, double d)
{
    (void)r, (void)d;
}
static void d_bool(struct reply *r, bool b)
{
    (void)r, (void)b;
}
static void d_verb(struct reply *r, const char *f, const char *p, size_t n)
{
    (void)r, (void)f, (void)p, (void)n;
}
static void *d_defer(struct reply *r, enum reply_agg k)
{
    (void)r, (void)k;
    return NULL;
}
static void d_setdef(struct reply *r, void *h, long long n)
{
    (void)r, (void)h, (void)n;
}

static const struct reply_ops discard_ops = {d_status, d_status, d_int,    d_status, d_null,
                                             d_null,   d_agg,    d_dbl,    d_bool,   d_verb,
                                             d_status, d_defer,  d_setdef, NULL};
struct reply reply_discard = {&discard_ops, NULL, 2, 0};

static void capture_error(struct reply *r, const char *s, size_t n)
{
    struct reply_capture *rc = r->ctx;
    if (rc->got) return;
    rc->got = true;
    rc->n = n < sizeof(rc->text) ? n : sizeof(rc->text) - 1;
    memcpy(rc->text, s, rc->n);
    rc->text[rc->n] = 0;
}

static const struct reply_ops capture_ops = {d_status, capture_error, d_int,    d_status, d_null,
                                             d_null,   d_agg,         d_dbl,    d_bool,   d_verb,
                                             d_status, d_defer,       d_setdef, NULL};

void reply_capture_init(struct reply_capture *rc, int resp)
{
    memset(rc, 0, sizeof(*rc));
    rc->r.ops = &capture_ops;
    rc->r.ctx = rc;
    rc->r.resp = resp;
}
