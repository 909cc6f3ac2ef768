/* fuzz_util.h — what the fuzz targets share: CHECK (an invariant that
 * aborts with the target's file and line, so libFuzzer keeps the input) and
 * a growable byte transcript (struct out, put) for comparing two ways of
 * parsing the same input, and fuzz_config_defaults (the configuration
 * `keel` with no arguments has, which a target's core_init needs).
 * A target that runs commands through the kernel (built with
 * tests/unit/rec_sink.c) defines FUZZ_KERNEL before including this and
 * gets fuzz_boot (the defaults, DEBUG allowed, core_init, one client
 * whose replies a recording sink keeps) and fuzz_run (one command). */
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

#ifdef FUZZ_KERNEL
#include "client.h"
#include "core_init.h"
#include "kernel.h"
#include "rec_sink.h"

static struct rec_sink fuzz_sink;
static struct client *fuzz_cli;

static inline void fuzz_boot(void)
{
    fuzz_config_defaults();
    CHECK(config_set("enable-debug-command", "yes", true) == NULL);
    core_init(16);
    fuzz_cli = client_new(NULL, &fuzz_sink, &rec_sink_ops);
}

/* Run one command given as space-separated words, each "$1".."$3" standing
 * for bin[0..2] (binary arguments). Returns the sink's error count; the
 * reply is in fuzz_sink.out (the last error's text in fuzz_sink.err). */
static inline int fuzz_run(const char *line, const struct argv_ref *bin)
{
    struct argv_ref argv[16];
    char words[512], *save = NULL, *w;
    int n = 0;
    snprintf(words, sizeof(words), "%s", line);
    for (w = strtok_r(words, " ", &save); w && n < 16; w = strtok_r(NULL, " ", &save)) {
        if (bin && w[0] == '$' && w[1] >= '1' && w[1] <= '3' && !w[2]) {
            argv[n] = bin[w[1] - '1'];
        } else {
            argv[n].p = w;
            argv[n].n = strlen(w);
        }
        n++;
    }
    rec_sink_reset(&fuzz_sink);
    kernel_submit(fuzz_cli, n, argv);
    return fuzz_sink.nerr;
}
#endif

#endif
