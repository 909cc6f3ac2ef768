/* obuf.c — the byte buffer's growth and release (obuf.h). */
#include "obuf.h"

#include <stdlib.h>

#include "util.h"

void obuf_grow(struct obuf *o, size_t n)
{
    size_t cap = o->cap ? o->cap : 16384;
    while (cap < o->len + n)
        cap *= 2;
    o->buf = xrealloc(o->buf, cap);
    o->cap = cap;
}

void obuf_free(struct obuf *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = o->sent = 0;
}
