/* obuf.h — the byte buffer every writer shares (obuf.c): replies being
 * encoded, output waiting for a socket, files being built. `sent` marks how
 * much of it a writer has already handed on. */
#ifndef KEEL_OBUF_H
#define KEEL_OBUF_H

#include <stddef.h>

struct obuf {
    char *buf;
    size_t len, cap, sent;
};

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
