/* fuzz_hll.c — libFuzzer target for HyperLogLog values a client wrote
 * itself: a string key holding bytes that start with the HYLL header
 * (sparse or dense, cut short or too long, opcodes running past the end or
 * past the last register, a wrong encoding byte, any cached cardinality),
 * then PFADD, PFCOUNT, PFMERGE (with a second HLL, valid or from the input
 * too), PFDEBUG GETREG/DECODE/ENCODING/TODENSE, APPEND and SETRANGE
 * through the kernel (core/commands/cmd_hll.c, core/types/hyperloglog.c).
 *
 * Input: [flags] [nops] nops op bytes, then the body. flags & 3: the
 * encoding byte (0 dense, 1 sparse, 2 the body's first byte, 3 sparse);
 * flags & 4: the cached cardinality marked stale; flags & 8: the second
 * key h2 is built from the same body with the other encoding (else a
 * valid HLL of a few elements); flags & 16: a dense body is the registers
 * cut to the body's length (else the body repeated over all 12288 bytes).
 *
 * Every reply is a result or one of Redis 7.0's errors for a bad HLL
 * (INVALIDOBJ Corrupted HLL object detected, WRONGTYPE Key is not a valid
 * HyperLogLog string value., ERR HLL encoding is not sparse). For the
 * value as written: PFCOUNT of the key, PFCOUNT of the key twice (the
 * union, register by register) and PFDEBUG TODENSE all refuse it or all
 * take it, the two counts agree, and once dense the value is 12304 bytes
 * and counts the same. Nothing may crash, leak or read out of bounds. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_KERNEL
#include "fuzz_util.h"

#include "hyperloglog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_boot();
    return 0;
}

/* The error of the last command is one a bad HLL may get. */
static void check_error(void)
{
    if (fuzz_sink.nerr == 0) return;
    if (strcmp(fuzz_sink.err, "INVALIDOBJ Corrupted HLL object detected") == 0) return;
    if (strcmp(fuzz_sink.err, "WRONGTYPE Key is not a valid HyperLogLog string value.") == 0)
        return;
    if (strcmp(fuzz_sink.err, "ERR HLL encoding is not sparse") == 0) return;
    fprintf(stderr, "unexpected error: %s\n", fuzz_sink.err);
    CHECK(0);
}

static int run(const char *line, const struct argv_ref *bin)
{
    int e = fuzz_run(line, bin);
    check_error();
    return e;
}

/* value = header + body, as the flags say; malloc'd, length in *n. */
static uint8_t *build(int flags, int enc, const uint8_t *body, size_t blen, size_t *n)
{
    size_t len, i;
    uint8_t *v;
    if (enc == HLL_DENSE && !(flags & 16))
        len = HLL_DENSE_SIZE;
    else
        len = HLL_HDR_SIZE + blen;
    v = calloc(1, len ? len : 1);
    CHECK(v != NULL);
    memcpy(v, "HYLL", 4);
    v[4] = (uint8_t)enc;
    if (flags & 4) v[15] = 0x80; /* stale */
    if (enc == HLL_DENSE && !(flags & 16)) {
        for (i = HLL_HDR_SIZE; blen && i < len; i++)
            v[i] = body[(i - HLL_HDR_SIZE) % blen];
    } else if (blen) {
        memcpy(v + HLL_HDR_SIZE, body, blen);
    }
    *n = len;
    return v;
}

static const char *const OPS[] = {
    "PFADD h a b c",
    "PFCOUNT h",
    "PFCOUNT h h2",
    "PFMERGE h h2",
    "PFMERGE h2 h",
    "PFMERGE h3 h h2",
    "PFDEBUG GETREG h",
    "PFDEBUG DECODE h",
    "PFDEBUG ENCODING h",
    "PFDEBUG TODENSE h",
    "GET h",
    "APPEND h x",
    "SETRANGE h 4 $1",
    "PFADD h 1 2 3 4 5 6 7 8 9 10 11 12 13 14",
    "PFCOUNT h3",
    "PFDEBUG GETREG h2",
    "PFADD h2 x y",
    "PFMERGE h",
    "CONFIG SET hll-sparse-max-bytes 20",
    "CONFIG SET hll-sparse-max-bytes 3000",
    "SETRANGE h 15 $2",
};
#define NOPS (sizeof(OPS) / sizeof(OPS[0]))

/* The value as written: PFCOUNT k, PFCOUNT k k and PFDEBUG TODENSE agree. */
static void agree(const uint8_t *v, size_t n)
{
    struct argv_ref bin[1] = {{(const char *)v, n}};
    int e1, e2, e3;
    long long c1 = -1, c2 = -1;
    CHECK(fuzz_run("SET k $1", bin) == 0);
    e1 = run("PFCOUNT k k", NULL);
    if (!e1) c1 = atoll(fuzz_sink.out);
    /* the cache may hold anything: counted afresh */
    CHECK(fuzz_run("SETRANGE k 15 $1", (struct argv_ref[]){{"\x80", 1}}) == 0);
    e2 = run("PFCOUNT k", NULL);
    if (!e2) c2 = atoll(fuzz_sink.out);
    e3 = run("PFDEBUG TODENSE k", NULL);
    if (e1 != e2 || e2 != e3 || c1 != c2) {
        fprintf(stderr, "PFCOUNT k k: %d (%lld), PFCOUNT k: %d (%lld), TODENSE: %d\n", e1, c1, e2,
                c2, e3);
        CHECK(0);
    }
    if (e3) return;
    CHECK(run("STRLEN k", NULL) == 0 && atoll(fuzz_sink.out) == HLL_DENSE_SIZE);
    CHECK(run("PFDEBUG ENCODING k", NULL) == 0 && strcmp(fuzz_sink.out, "+dense") == 0);
    CHECK(fuzz_run("SETRANGE k 15 $1", (struct argv_ref[]){{"\x80", 1}}) == 0);
    CHECK(run("PFCOUNT k", NULL) == 0 && atoll(fuzz_sink.out) == c1);
    CHECK(run("PFDEBUG GETREG k", NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int flags, nops, enc, i;
    const uint8_t *ops, *body;
    size_t blen, n, n2;
    uint8_t *v, *v2;
    struct argv_ref bin[3];
    if (size < 2) return 0;
    flags = data[0];
    nops = data[1] % 12;
    if (size < 2 + (size_t)nops) return 0;
    ops = data + 2;
    body = ops + nops;
    blen = size - 2 - (size_t)nops;
    enc = (flags & 3) == 2 ? (blen ? body[0] : 7) : (flags & 3) == 0 ? HLL_DENSE : HLL_SPARSE;
    v = build(flags, enc, body, blen, &n);
    agree(v, n);

    bin[0].p = (const char *)v, bin[0].n = n;
    CHECK(fuzz_run("SET h $1", bin) == 0);
    if (flags & 8) {
        v2 = build(flags, enc == HLL_DENSE ? HLL_SPARSE : HLL_DENSE, body, blen, &n2);
        bin[0].p = (const char *)v2, bin[0].n = n2;
        CHECK(fuzz_run("SET h2 $1", bin) == 0);
        free(v2);
    } else {
        CHECK(run("PFADD h2 a x 1 2 3", NULL) == 0);
    }
    bin[0].p = "\x01", bin[0].n = 1; /* SETRANGE h 4: the encoding byte */
    bin[1].p = "\x00", bin[1].n = 1; /* SETRANGE h 15: the cache valid again */
    for (i = 0; i < nops; i++) {
        bin[0].p = ops[i] & 0x80 ? "\x00" : "\x01";
        run(OPS[ops[i] % NOPS], bin);
    }
    free(v);
    fuzz_run("CONFIG SET hll-sparse-max-bytes 3000", NULL);
    fuzz_run("FLUSHALL", NULL);
    return 0;
}
