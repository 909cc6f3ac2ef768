/* script_ldb_text.h — the Lua debugger's text and the reply sinks of a
 * debugging session (script_ldb_text.c). */
#ifndef KEEL_SCRIPT_LDB_TEXT_H
#define KEEL_SCRIPT_LDB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "obuf.h"
#include "reply.h"

/* The debugger's text is an obuf kept NUL-terminated ({0} is empty):
 * written with obuf_cat, obuf_cats, obuf_printf and ldbt_repr. */

/* Quoted with escapes, as Redis's sdscatrepr. */
void ldbt_repr(struct obuf *b, const char *p, size_t n);

/* A sink in front of next (the script sink) that also writes the reply in
 * the debugger's notation into text ("<reply> ..."). */
#define LDB_TEE_DEPTH 32
struct ldb_tee_frame {
    enum reply_agg kind;
    long long idx, left; /* elements seen; elements left (-1: deferred) */
    void *handle;
};
struct ldb_tee {
    struct reply *next;
    int resp;
    struct obuf text;
    struct ldb_tee_frame stack[LDB_TEE_DEPTH];
    int depth;
    bool broken; /* nested past LDB_TEE_DEPTH: the text stops */
};
void ldb_tee_init(struct ldb_tee *t, struct reply *r, struct reply *next);

/* A sink keeping the last error replied to it in *err (malloc'd). */
void ldb_capture_init(struct reply *r, char **err, int resp);

#endif
