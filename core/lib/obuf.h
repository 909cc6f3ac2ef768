/* obuf.h — the byte buffer every writer shares (obuf.c): replies being
 * encoded, output waiting for a socket, files being built, text being
 * formatted. `sent` marks how much of it a writer has already handed on. */
#ifndef KEEL_OBUF_H
#define KEEL_OBUF_H

#include <stdarg.h>
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
/* An empty buffer grown past keep bytes gives its memory back (a big
 * reply's buffer once written: Redis frees its reply blocks once sent, and
 * memory a client no longer uses must not count for maxmemory). */
void obuf_trim(struct obuf *o, size_t keep);

/* Text: appended as obuf_append does, with a NUL kept after the last byte
 * (not counted in len), so a buffer written only by these is a C string
 * in buf once anything was written ({0} stays buf == NULL). */
void obuf_cat(struct obuf *o, const char *p, size_t n);
static inline void obuf_cats(struct obuf *o, const char *s)
{
    obuf_cat(o, s, __builtin_strlen(s));
}
/* Formatted as printf formats, of any length. */
void obuf_printf(struct obuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void obuf_vprintf(struct obuf *o, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
