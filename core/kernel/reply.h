/* reply.h — the reply sink: how handlers answer. A handler writes typed
 * replies (integer, bulk, array, map, double, ...) through this interface;
 * each adapter implements `struct reply_ops` once (RESP into its output
 * buffer, JSON as JSON). Degrading RESP3 types for RESP2 clients is the RESP
 * encoder's business, not the handler's. Error texts live in one table with
 * Redis's exact wording and an HTTP status for the HTTP adapter. */
#ifndef KEEL_REPLY_H
#define KEEL_REPLY_H

#include <stdbool.h>
#include <stddef.h>

enum reply_agg { AGG_ARRAY, AGG_MAP, AGG_SET, AGG_PUSH, AGG_ATTR };

struct reply;

struct reply_ops {
    void (*status)(struct reply *r, const char *s, size_t n); /* +OK */
    void (*error)(struct reply *r, const char *s, size_t n);  /* "CODE message" */
    void (*integer)(struct reply *r, long long v);
    void (*bulk)(struct reply *r, const char *p, size_t n);
    void (*null)(struct reply *r);       /* $-1 / _ */
    void (*null_array)(struct reply *r); /* *-1 / _ */
    void (*aggregate)(struct reply *r, enum reply_agg kind, long long n);
    void (*dbl)(struct reply *r, double d);
    void (*boolean)(struct reply *r, bool b);
    void (*verbatim)(struct reply *r, const char *fmt, const char *p, size_t n);
    void (*bignum)(struct reply *r, const char *p, size_t n);
    /* An aggregate whose length is known only at the end (KEYS, SCAN). */
    void *(*defer)(struct reply *r, enum reply_agg kind);
    void (*set_deferred)(struct reply *r, void *handle, long long n);
    /* Optional: a double whose text the handler formatted (GEOPOS's
     * coordinates in Redis's long double form); NULL: dbl(d) is used. */
    void (*dbl_text)(struct reply *r, double d, const char *p, size_t n);
};

struct reply {
    const struct reply_ops *ops;
    void *ctx;
    int resp;      /* 2 or 3: what the client negotiated (the encoder uses it) */
    unsigned nerr; /* errors written (the kernel counts failed calls with it) */
};

/* A sink that keeps the first error written (its text; nothing else, and
 * nothing counted in INFO errorstats): for a refusal its caller rewrites. */
struct reply_capture {
    struct reply r;
    char text[512];
    size_t n;
    bool got;
};
void reply_capture_init(struct reply_capture *rc, int resp);

enum err_code {
    E_NONE = 0,
    E_SYNTAX,
    E_WRONGTYPE,
    E_NOT_INT,
    E_NOT_FLOAT,
    E_NOT_VALID_FLOAT,
    E_OVERFLOW,
    E_NO_SUCH_KEY,
    E_DB_INDEX,
    E_OUT_OF_RANGE,
    E_NOAUTH,
    E_WRONGPASS,
    E_AUTH_NOT_CONFIGURED,
    E_NOPROTO,
    E_SAME_OBJECT,
    E_STRING_TOO_LONG,
    E_OFFSET_RANGE,
    E_POSITIVE,
    E_MAX
};

struct err_def {
    const char *text; /* with its code: "ERR syntax error" */
    int http_status;
};
extern const struct err_def err_table[E_MAX];

static inline void reply_status(struct reply *r, const char *s)
{
    r->ops->status(r, s, __builtin_strlen(s));
}
static inline void reply_ok(struct reply *r)
{
    r->ops->status(r, "OK", 2);
}
static inline void reply_int(struct reply *r, long long v)
{
    r->ops->integer(r, v);
}
static inline void reply_bulk(struct reply *r, const char *p, size_t n)
{
    r->ops->bulk(r, p, n);
}
void reply_cstr(struct reply *r, const char *s);
void reply_bulk_ll(struct reply *r, long long v);
static inline void reply_null(struct reply *r)
{
    r->ops->null(r);
}
static inline void reply_null_array(struct reply *r)
{
    r->ops->null_array(r);
}
static inline void reply_array(struct reply *r, long long n)
{
    r->ops->aggregate(r, AGG_ARRAY, n);
}
static inline void reply_map(struct reply *r, long long n)
{
    r->ops->aggregate(r, AGG_MAP, n);
}
static inline void reply_set(struct reply *r, long long n)
{
    r->ops->aggregate(r, AGG_SET, n);
}
static inline void reply_push(struct reply *r, long long n)
{
    r->ops->aggregate(r, AGG_PUSH, n);
}
static inline void reply_double(struct reply *r, double d)
{
    r->ops->dbl(r, d);
}
/* A double sent as the given text (RESP3 ",text", RESP2 bulk text). */
static inline void reply_double_text(struct reply *r, double d, const char *p, size_t n)
{
    if (r->ops->dbl_text)
        r->ops->dbl_text(r, d, p, n);
    else
        r->ops->dbl(r, d);
}
static inline void reply_bool(struct reply *r, bool b)
{
    r->ops->boolean(r, b);
}
static inline void reply_verbatim(struct reply *r, const char *p, size_t n)
{
    r->ops->verbatim(r, "txt", p, n);
}
static inline void reply_bignum(struct reply *r, const char *p, size_t n)
{
    r->ops->bignum(r, p, n);
}
/* RESP3 attributes: n key/value pairs describing the reply that follows
 * (RESP2 clients never get one: callers check r->resp, as Redis does). */
static inline void reply_attribute(struct reply *r, long long n)
{
    r->ops->aggregate(r, AGG_ATTR, n);
}
static inline void *reply_defer(struct reply *r, enum reply_agg k)
{
    return r->ops->defer(r, k);
}
static inline void reply_set_deferred(struct reply *r, void *h, long long n)
{
    r->ops->set_deferred(r, h, n);
}
void reply_err(struct reply *r, enum err_code code);
/* An error text made one line, as Redis's addReplyErrorFormat: line
 * breaks at its end dropped, the others made spaces; its new length. */
size_t reply_error_line(char *p, size_t n);
/* A formatted error; fmt includes the code ("ERR unknown command '%s'"),
 * made one line by reply_error_line, as Redis does. */
void reply_errorf(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_error(struct reply *r, const char *text);
/* Lines of help text, as Redis's addReplyHelp: "<CMD> <subcommand> ..." header. */
void reply_help(struct reply *r, const char *cmd, const char *const *lines);

/* A sink that discards everything (for internal executions). */
extern struct reply reply_discard;

#endif
