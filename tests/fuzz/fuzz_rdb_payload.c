/* fuzz_rdb_payload.c — libFuzzer target for RESTORE's payload: the DUMP
 * footer check (rdb_verify_dump_payload) and the value loader behind it
 * (rdb_deserialize_value, core/persist/rdb_load.c), every RDB value type
 * and encoding.
 *
 * Input: a DUMP payload without its footer (type byte + value); the
 * target appends a valid footer (RDB version, CRC64) so the fuzzer does
 * not spend itself on the checksum, and also checks the raw input as a
 * whole payload. The value goes in through a real RESTORE (kernel_submit,
 * the whole command path). Nothing may crash or leak, and a value RESTORE
 * accepted must be whole: its length (LLEN/HLEN/SCARD/ZCARD/XLEN) is the
 * number of elements a full read gives, reads and writes of every kind
 * work on it, and DUMP → RESTORE gives back a value of the same digest
 * (DEBUG DIGEST-VALUE) and the same DUMP bytes (in any order, for a hash
 * table). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "client.h"
#include "config.h"
#include "core_init.h"
#include "crc64.h"
#include "kernel.h"
#include "object.h"
#include "rdb.h"
#include "rec_sink.h"
#include "store.h"

static struct rec_sink sink;
static struct client *cli;

/* The recording sink, with the length of the first deferred aggregate of
 * a reply kept (the recording sink hands out no handles). */
static struct reply_ops ops;
static int ndefer;
static long long first_deferred;

static void *defer_rec(struct reply *r, enum reply_agg k)
{
    rec_sink_ops.defer(r, k);
    return (void *)(intptr_t)++ndefer;
}

static void set_deferred_rec(struct reply *r, void *h, long long n)
{
    rec_sink_ops.set_deferred(r, h, n);
    if ((intptr_t)h == 1) first_deferred = n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_config_defaults();
    CHECK(config_set("enable-debug-command", "yes", true) == NULL);
    core_init(16);
    ops = rec_sink_ops;
    ops.defer = defer_rec;
    ops.set_deferred = set_deferred_rec;
    cli = client_new(NULL, &sink, &ops);
    return 0;
}

/* Run one command given as NUL-free words (bin: one binary argument that
 * replaces the word "$"). Returns the sink's error count. */
static int run_bin(const char *line, const unsigned char *bin, size_t binlen)
{
    struct argv_ref argv[16];
    char words[512], *save = NULL, *w;
    int n = 0;
    snprintf(words, sizeof(words), "%s", line);
    for (w = strtok_r(words, " ", &save); w && n < 16; w = strtok_r(NULL, " ", &save)) {
        if (bin && strcmp(w, "$") == 0) {
            argv[n].p = (const char *)bin;
            argv[n].n = binlen;
        } else {
            argv[n].p = w;
            argv[n].n = strlen(w);
        }
        n++;
    }
    rec_sink_reset(&sink);
    ndefer = 0;
    first_deferred = -1;
    kernel_submit(cli, n, argv);
    return sink.nerr;
}

static int run(const char *line)
{
    return run_bin(line, NULL, 0);
}

/* The length of the first aggregate in the sink ("*3" or "*?" ... "(3)"). */
static long long agg_len(void)
{
    if (sink.out[0] != '*' && sink.out[0] != '~' && sink.out[0] != '%') return -1;
    return sink.out[1] == '?' ? first_deferred : atoll(sink.out + 1);
}

static long long int_reply(void)
{
    return atoll(sink.out);
}

static void exercise(const char *key)
{
    char cmd[256];
    long long n;
    int type;
    struct kv *e = store_peek(store_db(0), key, strlen(key));
    CHECK(e != NULL);
    type = e->type;
#define R(...) (snprintf(cmd, sizeof(cmd), __VA_ARGS__), run(cmd))
    R("OBJECT ENCODING %s", key);
    R("MEMORY USAGE %s", key);
    switch (type) {
    case OBJ_LIST:
        CHECK(R("LLEN %s", key) == 0);
        n = int_reply();
        CHECK(n > 0);
        CHECK(R("LRANGE %s 0 -1", key) == 0 && agg_len() == n);
        R("LINDEX %s -1", key);
        R("LPOS %s x COUNT 0", key);
        R("LINSERT %s BEFORE x y", key);
        R("LSET %s 0 zz", key);
        R("RPUSH %s a 123", key);
        R("LREM %s 0 a", key);
        R("LTRIM %s 1 -2", key);
        R("LPOP %s", key);
        break;
    case OBJ_SET:
        CHECK(R("SCARD %s", key) == 0);
        n = int_reply();
        CHECK(n > 0);
        CHECK(R("SMEMBERS %s", key) == 0 && agg_len() == n);
        R("SRANDMEMBER %s -5", key);
        R("SISMEMBER %s 1", key);
        R("SSCAN %s 0 COUNT 1000", key);
        R("SADD %s x 7", key);
        R("SREM %s 7", key);
        R("SPOP %s", key);
        break;
    case OBJ_ZSET:
        CHECK(R("ZCARD %s", key) == 0);
        n = int_reply();
        CHECK(n > 0);
        CHECK(R("ZRANGE %s 0 -1", key) == 0 && agg_len() == n);
        CHECK(R("ZRANGEBYSCORE %s -inf +inf", key) == 0 && agg_len() == n);
        CHECK(R("ZCOUNT %s -inf +inf", key) == 0 && int_reply() == n);
        CHECK(R("ZREVRANGE %s 0 -1 WITHSCORES", key) == 0 && agg_len() == 2 * n);
        R("ZRANGEBYLEX %s - +", key);
        R("ZRANK %s a", key);
        R("ZSCORE %s a", key);
        R("ZSCAN %s 0 COUNT 1000", key);
        R("ZADD %s 1.5 a", key);
        R("ZINCRBY %s 2 b", key);
        R("ZREM %s a", key);
        R("ZPOPMIN %s", key);
        break;
    case OBJ_HASH:
        CHECK(R("HLEN %s", key) == 0);
        n = int_reply();
        CHECK(n > 0);
        CHECK(R("HKEYS %s", key) == 0 && agg_len() == n);
        CHECK(R("HVALS %s", key) == 0 && agg_len() == n);
        R("HGETALL %s", key);
        R("HRANDFIELD %s -5 WITHVALUES", key);
        R("HSCAN %s 0 COUNT 1000", key);
        R("HGET %s a", key);
        R("HSET %s a 1", key);
        R("HINCRBY %s a 2", key);
        R("HDEL %s a", key);
        break;
    case OBJ_STREAM:
        CHECK(R("XLEN %s", key) == 0);
        n = int_reply();
        CHECK(R("XRANGE %s - +", key) == 0 && agg_len() == n);
        CHECK(R("XREVRANGE %s + -", key) == 0 && agg_len() == n);
        CHECK(R("XINFO STREAM %s FULL", key) == 0);
        R("XINFO STREAM %s", key);
        R("XINFO GROUPS %s", key);
        R("XPENDING %s g", key);
        R("XPENDING %s g - + 10", key);
        R("XINFO CONSUMERS %s g", key);
        R("XAUTOCLAIM %s g c 0 0-0 COUNT 5", key);
        R("XREADGROUP GROUP g c COUNT 5 STREAMS %s >", key);
        R("XCLAIM %s g c 0 0-1 FORCE", key);
        R("XACK %s g 0-1", key);
        R("XDEL %s 0-1", key);
        R("XADD %s * f v", key);
        R("XTRIM %s MINID 1", key);
        R("XTRIM %s MAXLEN 1", key);
        R("XSETID %s 0-1", key);
        break;
    default:
        R("STRLEN %s", key);
        R("GETRANGE %s 0 -1", key);
        R("APPEND %s x", key);
        break;
    }
#undef R
}

/* DUMP of key (the value's own bytes) → RESTORE as key2: the same digest
 * and the same DUMP bytes. */
static void round_trip(const char *key, const char *key2)
{
    struct sbuf a, b;
    struct kv *e = store_peek(store_db(0), key, strlen(key)), *e2;
    char cmd[128], d1[64], d2[64];
    CHECK(e != NULL);
    sbuf_init(&a);
    rdb_serialize_value(e, &a);
    snprintf(cmd, sizeof(cmd), "RESTORE %s 0 $ REPLACE", key2);
    CHECK(run_bin(cmd, a.p, a.len) == 0);
    e2 = store_peek(store_db(0), key2, strlen(key2));
    CHECK(e2 != NULL && e2->type == e->type);
    sbuf_init(&b);
    rdb_serialize_value(e2, &b);
    /* a hash table's order is its own: only the digest compares there */
    CHECK(a.len == b.len);
    if (strcmp(obj_enc_name(e->enc), "hashtable") != 0) CHECK(memcmp(a.p, b.p, a.len) == 0);
    snprintf(cmd, sizeof(cmd), "DEBUG DIGEST-VALUE %s", key);
    CHECK(run(cmd) == 0);
    snprintf(d1, sizeof(d1), "%s", sink.out);
    snprintf(cmd, sizeof(cmd), "DEBUG DIGEST-VALUE %s", key2);
    CHECK(run(cmd) == 0);
    snprintf(d2, sizeof(d2), "%s", sink.out);
    CHECK(strcmp(d1, d2) == 0);
    sbuf_free(&a);
    sbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *p = malloc(size + 10);
    uint64_t crc;
    int i;
    /* the raw input as a whole payload (footer and all) */
    if (rdb_verify_dump_payload(data, size)) {
        struct kv *e = rdb_deserialize_value(data, size, "r", 1);
        if (e) kv_free(e);
    }
    memcpy(p, data, size);
    p[size] = RDB_VERSION & 0xff;
    p[size + 1] = 0;
    crc = crc64(0, p, size + 2);
    for (i = 0; i < 8; i++)
        p[size + 2 + i] = (unsigned char)(crc >> (8 * i));
    CHECK(rdb_verify_dump_payload(p, size + 10));
    /* small limits half the time: conversions to the big encodings */
    config_set("list-max-listpack-size", size & 1 ? "4" : "-2", false);
    config_set("hash-max-listpack-entries", size & 1 ? "4" : "128", false);
    config_set("zset-max-listpack-entries", size & 1 ? "4" : "128", false);
    config_set("set-max-intset-entries", size & 1 ? "4" : "512", false);
    if (run_bin("RESTORE k 0 $", p, size + 10) == 0) {
        CHECK(strcmp(sink.out, "+OK") == 0);
        round_trip("k", "k2");
        exercise("k");
        exercise("k2");
    } else {
        CHECK(strcmp(sink.err, "ERR Bad data format") == 0);
    }
    free(p);
    run("FLUSHALL");
    return 0;
}
