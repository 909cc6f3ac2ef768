/* resp_encode.h — the RESP reply sink: typed replies into an output
 * buffer as RESP3, or degraded to RESP2 (map -> flat array, set/push ->
 * array, double/bignum/verbatim -> bulk, boolean -> integer, null -> $-1 or
 * *-1) according to the client's negotiated version. */
#ifndef KEEL_RESP_ENCODE_H
#define KEEL_RESP_ENCODE_H

#include <stddef.h>

#include "../../core/reply.h"

struct obuf {
    char *buf;
    size_t len, cap, sent;
};

extern const struct reply_ops resp_reply_ops; /* ctx: struct obuf * */

/* Make room for n more bytes (the slow path of obuf_append). */
void obuf_grow(struct obuf *o, size_t n);
/* Inline: adapters append many small pieces per reply. */
static inline void obuf_append(struct obuf *o, const char *p, size_t n)
{
    if (o->cap - o->len < n) obuf_grow(o, n);
    if (n) __builtin_memcpy(o->buf + o->len, p, n);
    o->len += n;
}
void obuf_free(struct obuf *o);

#endif
