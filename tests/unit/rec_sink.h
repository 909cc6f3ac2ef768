/* rec_sink.h — the recording reply sink the unit tests share (rec_sink.c,
 * compiled into every suite by meson.build). A handler's replies are
 * rendered as text into one buffer, separated by spaces:
 *
 *   +OK  -ERR msg  5  "bulk"  nil  *2 %3 ~1 (aggregates)  1.5  #1  =verbatim
 *   *? ~? (a deferred aggregate)  (3) (its length, when set)
 *
 * and counted: errors (with the last one's text) and every other call. The
 * sink is the reply's ctx: client_new(NULL, &sink, &rec_sink_ops), or
 * struct reply r = {&rec_sink_ops, &sink, 2, 0}. */
#ifndef KEEL_TESTS_REC_SINK_H
#define KEEL_TESTS_REC_SINK_H

#include <stddef.h>

#include "reply.h"

struct rec_sink {
    char out[65536]; /* the replies as text (truncated when full) */
    size_t outn;
    char err[1024]; /* the last error's text */
    int nerr;       /* errors written */
    int nother;     /* every other call */
};

extern const struct reply_ops rec_sink_ops;

/* Forget everything recorded (before the next command). */
void rec_sink_reset(struct rec_sink *s);

#endif
