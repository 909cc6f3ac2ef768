/* up_value.h — one reply from an upstream server as a protocol-free tree
 * (the upstream adapter decodes the wire into it), and its replay through a
 * client's reply sink, so each client gets its own shape (RESP2/RESP3
 * bytes, JSON, WebSocket frames) of what the upstream answered. */
#ifndef KEEL_UP_VALUE_H
#define KEEL_UP_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"

enum up_type {
    UV_STATUS,
    UV_ERROR,
    UV_INT,
    UV_BULK,
    UV_NULL,       /* a null string (RESP2 $-1, RESP3 _) */
    UV_NULL_ARRAY, /* RESP2 *-1 */
    UV_ARRAY,
    UV_MAP,
    UV_SET,
    UV_PUSH,
    UV_DOUBLE, /* s: the text the server sent */
    UV_BOOL,
    UV_VERBATIM, /* fmt: the three-letter format */
    UV_BIGNUM,
};

struct up_value {
    enum up_type type;
    long long i;           /* INT, BOOL; aggregates: element count (MAP: pairs) */
    char *s;               /* STATUS, ERROR, BULK, DOUBLE, VERBATIM, BIGNUM */
    size_t n;              /* bytes of s */
    char fmt[4];           /* VERBATIM */
    struct up_value *elem; /* aggregates: i elements (MAP: 2 * i) */
};

/* Elements an aggregate holds (a map's keys and values both counted). */
static inline long long up_value_nelem(const struct up_value *v)
{
    return v->type == UV_MAP ? 2 * v->i : v->i;
}
static inline bool up_value_is_agg(const struct up_value *v)
{
    return v->type == UV_ARRAY || v->type == UV_MAP || v->type == UV_SET || v->type == UV_PUSH;
}
/* Free what v holds (not v itself). */
void up_value_clear(struct up_value *v);
/* Write v to r with reply_* calls (errors counted as the sink counts them). */
void up_value_replay(const struct up_value *v, struct reply *r);
/* Whether v is an error starting with the code pre ("MOVED", "ASK"). */
bool up_value_is_error(const struct up_value *v, const char *pre);

#endif
