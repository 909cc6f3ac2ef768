/* obuf.c — the byte buffer's growth and release, and text appended to it
 * (NUL-kept, printf-formatted) (obuf.h). */
#include "obuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void obuf_trim(struct obuf *o, size_t keep)
{
    if (o->len == 0 && o->cap > keep) obuf_free(o);
}

void obuf_cat(struct obuf *o, const char *p, size_t n)
{
    if (o->cap - o->len < n + 1) obuf_grow(o, n + 1);
    if (n) memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len] = 0;
}

void obuf_vprintf(struct obuf *o, const char *fmt, va_list ap)
{
    size_t room = o->cap - o->len;
    va_list again;
    int n;
    va_copy(again, ap);
    /* Straight into the free room; past it, once more with room made. */
    n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    if (n >= 0 && (size_t)n >= room) {
        obuf_grow(o, (size_t)n + 1);
        vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (n > 0)
        o->len += (size_t)n;
    else if (n < 0 && room)
        o->buf[o->len] = 0; /* an encoding error: nothing appended */
}

void obuf_printf(struct obuf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    obuf_vprintf(o, fmt, ap);
    va_end(ap);
}
