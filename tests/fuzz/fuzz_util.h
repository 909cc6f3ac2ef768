/* fuzz_util.h — what the fuzz targets share: CHECK (an invariant that
 * aborts with the target's file and line, so libFuzzer keeps the input) and
 * a growable byte transcript (struct out, put) for comparing two ways of
 * parsing the same input, and fuzz_config_defaults (the configuration
 * `keel` with no arguments has, which a target's core_init needs). */
#ifndef KEEL_FUZZ_UTIL_H
#define KEEL_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s: check failed: %s (line %d)\n", __FILE__, #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct out {
    unsigned char *b;
    size_t n, cap;
};

static inline void put(struct out *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->n + n)
            cap *= 2;
        o->b = realloc(o->b, cap);
        CHECK(o->b != NULL);
        o->cap = cap;
    }
    if (n) memcpy(o->b + o->n, p, n);
    o->n += n;
}

/* The configuration `keel` with no arguments has. */
static inline void fuzz_config_defaults(void)
{
    char *cargv[] = {"keel", NULL};
    config_init(config_table);
    config_add_table(config_table_compat);
    CHECK(config_load(1, cargv));
}

#endif
