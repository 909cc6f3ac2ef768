/* fuzz_matcher.c — libFuzzer target for the command registry's resolver,
 * argument matcher and key extraction (schemas/registry.c).
 *
 * Input: words separated by spaces or newlines. The first word picks a
 * command from the whole generated table (registry_commands, subcommands
 * included, implemented or not): by name when it names one, else by a
 * hash. The argv is that command's name (and subcommand name) followed by
 * the other words. It then goes through registry_resolve + registry_match
 * (as the kernel does), registry_match directly on the picked command, and
 * registry_getkeys. Nothing may crash, and: every failure writes exactly
 * one error with no CR/LF in it, success writes nothing, and every typed
 * slot and key index points inside argv. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "reply.h"
#include "registry.h"

void registry_link_subcommands(void);

/* ---- a sink that counts, and checks error texts ---- */

static int nerr, nother;
static void s_status(struct reply *r, const char *s, size_t n)
{
    (void)r, (void)s, (void)n;
    nother++;
}
static void s_error(struct reply *r, const char *s, size_t n)
{
    (void)r;
    CHECK(n > 0);
    CHECK(memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL);
    nerr++;
}
static void s_int(struct reply *r, long long v)
{
    (void)r, (void)v;
    nother++;
}
static void s_null(struct reply *r)
{
    (void)r;
    nother++;
}
static void s_agg(struct reply *r, enum reply_agg k, long long n)
{
    (void)r, (void)k, (void)n;
    nother++;
}
static void s_dbl(struct reply *r, double d)
{
    (void)r, (void)d;
    nother++;
}
static void s_bool(struct reply *r, bool b)
{
    (void)r, (void)b;
    nother++;
}
static void s_verb(struct reply *r, const char *f, const char *p, size_t n)
{
    (void)r, (void)f, (void)p, (void)n;
    nother++;
}
static void *s_defer(struct reply *r, enum reply_agg k)
{
    (void)r, (void)k;
    nother++;
    return NULL;
}
static void s_setdef(struct reply *r, void *h, long long n)
{
    (void)r, (void)h, (void)n;
    nother++;
}
static const struct reply_ops sink_ops = {s_status, s_error, s_int,    s_status, s_null,
                                          s_null,   s_agg,   s_dbl,    s_bool,   s_verb,
                                          s_status, s_defer, s_setdef, NULL};
static struct reply sink = {&sink_ops, NULL, 2, 0};

/* ---- every command, subcommands included ---- */

static struct command **all;
static int nall;

static void setup(void)
{
    int i, j, cap = 0;
    registry_link_subcommands(); /* before registry_init drops unimplemented subcommands */
    for (i = 0; registry_commands[i]; i++)
        cap += 1 + registry_commands[i]->nsub;
    all = malloc(sizeof(*all) * (size_t)cap);
    CHECK(all != NULL);
    for (i = 0; registry_commands[i]; i++) {
        struct command *c = registry_commands[i];
        all[nall++] = c;
        for (j = 0; j < c->nsub; j++)
            all[nall++] = c->subs[j];
    }
    registry_init();
}

static bool eqci(const char *a, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char x = a[i], y = word[i];
        if (!y) return false;
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return false;
    }
    return word[n] == 0;
}

static struct command *pick(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    int k;
    for (k = 0; k < nall; k++) {
        if (eqci(w, n, all[k]->fullname) || (!all[k]->parent && eqci(w, n, all[k]->name)))
            return all[k];
    }
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return all[h % (uint32_t)nall];
}

static void check_args(const struct command *c, int argc, const struct argval *args)
{
    int s, k;
    for (s = 0; s < c->nslots; s++) {
        const struct argval *v = &args[s];
        if (!v->present) continue;
        CHECK(v->pos >= 0 && v->pos < argc);
        CHECK(v->width >= 0 && v->pos + v->width <= argc + 1);
        CHECK(v->count >= 0 && v->count <= argc);
        if (v->count) {
            CHECK(v->list != NULL);
            for (k = 0; k < v->count; k++)
                CHECK(v->list[k] >= 1 && v->list[k] < argc);
        }
    }
}

#define MAXW 256

static void run(const struct command *c, int argc, const struct argv_ref *argv)
{
    struct argval args[MAX_SLOTS];
    int keys[MAXW], nkeys, k;
    bool ok;

    CHECK(c->nslots <= MAX_SLOTS);
    nerr = nother = 0;
    ok = registry_match(c, argc, argv, args, &sink);
    CHECK(nother == 0);
    CHECK(nerr == (ok ? 0 : 1));
    if (ok) check_args(c, argc, args);

    nkeys = registry_getkeys(c, argc, argv, keys, MAXW);
    CHECK(nkeys >= -1); /* -1: the arguments do not fit the key specs */
    for (k = 0; k < nkeys && k < MAXW; k++)
        CHECK(keys[k] >= 0 && keys[k] < argc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct argv_ref argv[MAXW + 2];
    const char *p = (const char *)data, *end = p + size;
    char *copy;
    int argc = 0, nwords = 0;
    struct command *c, *resolved;

    if (!ready) {
        setup();
        ready = true;
    }
    if (size == 0) return 0;
    /* An exact-size heap copy, so ASan catches reads past any word. */
    copy = malloc(size);
    CHECK(copy != NULL);
    memcpy(copy, data, size);
    p = copy;
    end = copy + size;

    /* the picking word */
    {
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        c = pick(w, (size_t)(p - w));
        if (p < end) p++;
    }
    if (c->parent) {
        argv[argc].p = c->parent->name;
        argv[argc++].n = strlen(c->parent->name);
    }
    argv[argc].p = c->name;
    argv[argc++].n = strlen(c->name);
    while (p < end && nwords < MAXW) {
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        argv[argc].p = w;
        argv[argc++].n = (size_t)(p - w);
        nwords++;
        if (p < end) p++;
    }

    /* As the kernel does: resolve (arity, subcommand), then match. */
    nerr = nother = 0;
    resolved = registry_resolve(argc, argv, &sink);
    CHECK(nother == 0);
    CHECK(nerr == (resolved ? 0 : 1));
    if (resolved) {
        CHECK(resolved->arity > 0 ? argc == resolved->arity : argc >= -resolved->arity);
        run(resolved, argc, argv);
    }
    /* The picked command directly, implemented or not (registry_resolve
     * only finds implemented ones), within the arity the kernel ensures. */
    if (c->arity > 0 ? argc == c->arity : argc >= -c->arity) run(c, argc, argv);

    free(copy);
    return 0;
}
