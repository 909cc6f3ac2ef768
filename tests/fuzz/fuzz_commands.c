/* fuzz_commands.c — libFuzzer target for the whole command path: short
 * sequences of any registered command, with words from a small vocabulary,
 * run through the kernel for three fake clients, so MULTI/EXEC, WATCH,
 * blocking commands that park, SELECT, CLIENT, pub/sub and tracking state
 * interleave.
 *
 * Input: a run of commands, each
 *   [client] [cmd hi] [cmd lo] [nargs] [arg]...
 * client % 3 is the client (a client that was closed comes back new);
 * (hi << 8 | lo) % the number of commands picks a command or subcommand
 * (every registered one but those that touch the process or files: the
 * EXCLUDED list); nargs % 14 arguments follow, each a byte: below 0xfe
 * the vocabulary word of that index (VOCAB: numbers and their extremes,
 * six key names, option words, stream ids, scores, glob patterns,
 * HLL-headed strings), 0xfe [i] the word 254 + i, 0xff [len] and len % 24
 * raw bytes. Integers between 4096 and 2^33 are
 * cut to below 4096 (offsets and counts stay small, one run stays fast);
 * EVAL's and FUNCTION LOAD's code comes from a fixed set of scripts,
 * CONFIG SET only sets a few parameters (WHITELIST) and ACL SETUSER and
 * DELUSER only touch the users u1 and u2.
 *
 * After each run: every client is freed (nothing may stay blocked or
 * subscribed), then each database is checked: DBSIZE is the number of
 * keys a full SCAN gives, every key's TYPE answers (after PERSIST: a key
 * that is about to expire would go between two reads), a container's
 * length is the number of elements a full read gives, and DUMP / RESTORE
 * gives the same DEBUG DIGEST-VALUE; then FLUSHALL, SCRIPT FLUSH, FUNCTION
 * FLUSH, the users and the parameters set back. Nothing may crash, leak
 * or trip a sanitizer. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "blocking.h"
#include "client.h"
#include "config.h"
#include "core_init.h"
#include "kernel.h"
#include "rec_sink.h"
#include "registry.h"
#include "store.h"

#define W(s)                                                                                       \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
struct word {
    const char *p;
    size_t n;
};

/* Commands left out: they stop the process, fork, write files, connect
 * elsewhere or change the server's role; PFSELFTEST is seconds long. */
static bool verbose; /* FUZZ_VERBOSE=1: every command and its reply on stderr */

static void show(const char *who, int argc, const struct argv_ref *argv, const struct rec_sink *s)
{
    int i;
    if (!verbose) return;
    fprintf(stderr, "%s>", who);
    for (i = 0; i < argc; i++)
        fprintf(stderr, " %.*s", (int)argv[i].n, argv[i].p);
    fprintf(stderr, "\n    %.300s\n", s->out);
}

static const char *const EXCLUDED[] = {
    "shutdown", "debug",          "save",       "bgsave", "bgrewriteaof", "replicaof",
    "slaveof",  "failover",       "sync",       "psync",  "migrate",      "acl|save",
    "acl|load", "config|rewrite", "pfselftest", "module", "replconf",
};

static const struct word VOCAB[] = {
    /* numbers */
    W("0"),
    W("1"),
    W("-1"),
    W("2"),
    W("3"),
    W("5"),
    W("10"),
    W("100"),
    W("-100"),
    W("4096"),
    W("2147483647"),
    W("2147483648"),
    W("-2147483649"),
    W("4294967296"),
    W("9223372036854775807"),
    W("-9223372036854775808"),
    W("9223372036854775808"),
    W("18446744073709551615"),
    W("1.5"),
    W("-0.5"),
    W("0.001"),
    W("1e308"),
    W("-1e308"),
    W("1e-320"),
    W("inf"),
    W("-inf"),
    W("+inf"),
    W("nan"),
    W("0x10"),
    W("007"),
    W(" 1"),
    W("1 "),
    W("-0"),
    W("17179869184"),
    W("1000000000000"),
    /* keys */
    W("k"),
    W("l"),
    W("h"),
    W("s"),
    W("z"),
    W("st"),
    W("k"),
    W("l"),
    W("h"),
    W("s"),
    W("z"),
    W("st"),
    /* option words */
    W("NX"),
    W("XX"),
    W("GT"),
    W("LT"),
    W("CH"),
    W("INCR"),
    W("WITHSCORES"),
    W("LIMIT"),
    W("COUNT"),
    W("MATCH"),
    W("TYPE"),
    W("EX"),
    W("PX"),
    W("EXAT"),
    W("PXAT"),
    W("KEEPTTL"),
    W("PERSIST"),
    W("GET"),
    W("BY"),
    W("BYSCORE"),
    W("BYLEX"),
    W("REV"),
    W("LEFT"),
    W("RIGHT"),
    W("BEFORE"),
    W("AFTER"),
    W("AGGREGATE"),
    W("SUM"),
    W("MIN"),
    W("MAX"),
    W("WEIGHTS"),
    W("STORE"),
    W("STOREDIST"),
    W("ALPHA"),
    W("ASC"),
    W("DESC"),
    W("IDX"),
    W("LEN"),
    W("MINMATCHLEN"),
    W("WITHMATCHLEN"),
    W("RANK"),
    W("MAXLEN"),
    W("MINID"),
    W("OVERFLOW"),
    W("FAIL"),
    W("SAT"),
    W("WRAP"),
    W("SET"),
    W("INCRBY"),
    W("u8"),
    W("i64"),
    W("u63"),
    W("i1"),
    W("#1"),
    W("#0"),
    W("ENCODING"),
    W("IDLETIME"),
    W("FREQ"),
    W("REFCOUNT"),
    W("REPLACE"),
    W("ABSTTL"),
    W("DB"),
    W("BIT"),
    W("BYTE"),
    W("AND"),
    W("OR"),
    W("XOR"),
    W("NOT"),
    W("g"),
    W("c"),
    W("c2"),
    W("JUSTID"),
    W("FORCE"),
    W("IDLE"),
    W("TIME"),
    W("NOMKSTREAM"),
    W("FULL"),
    W("STREAM"),
    W("GROUPS"),
    W("CONSUMERS"),
    W("CREATE"),
    W("SETID"),
    W("DESTROY"),
    W("DELCONSUMER"),
    W("CREATECONSUMER"),
    W("MKSTREAM"),
    W("ENTRIESREAD"),
    W("BYRADIUS"),
    W("BYBOX"),
    W("FROMMEMBER"),
    W("FROMLONLAT"),
    W("km"),
    W("m"),
    W("WITHDIST"),
    W("WITHCOORD"),
    W("WITHHASH"),
    W("ANY"),
    W("USAGE"),
    W("SAMPLES"),
    W("HELP"),
    W("LIST"),
    W("STATS"),
    W("RESET"),
    W("ID"),
    W("NUMSUB"),
    W("CHANNELS"),
    W("EXISTS"),
    W("DOCS"),
    W("HISTORY"),
    W("LATEST"),
    W("NOACK"),
    W("WITHVALUES"),
    W("ENTRIESADDED"),
    W("MAXDELETEDID"),
    W("RETRYCOUNT"),
    W("LASTID"),
    W("BLOCK"),
    W("STREAMS"),
    W("GROUP"),
    W("ON"),
    W("OFF"),
    W("SKIP"),
    W("YES"),
    W("NO"),
    W("BCAST"),
    W("PREFIX"),
    W("OPTIN"),
    W("OPTOUT"),
    W("NOLOOP"),
    W("REDIRECT"),
    W("ASYNC"),
    W("SYNC"),
    W("WRITE"),
    W("ALL"),
    W("KILL"),
    W("SKIPME"),
    W("USER"),
    W("ADDR"),
    W("LADDR"),
    W("NORMAL"),
    W("PUBSUB"),
    W("MASTER"),
    W("REPLICA"),
    W("ERROR"),
    W("TIMEOUT"),
    W("SETNAME"),
    W("AUTH"),
    W("default"),
    W("u1"),
    W("u2"),
    W("on"),
    W("off"),
    W("nopass"),
    W(">pw"),
    W("pw"),
    W("+@all"),
    W("-@all"),
    W("~*"),
    W("%R~k*"),
    W("&*"),
    W("resetchannels"),
    W("allkeys"),
    W("+get"),
    W("-set"),
    W("(~k +get)"),
    W("clearselectors"),
    W("reset"),
    W("LOAD"),
    W("FLUSH"),
    W("DELETE"),
    W("DUMP"),
    W("RESTORE"),
    W("APPEND"),
    W("LIBRARYNAME"),
    W("WITHCODE"),
    W("lib1"),
    W("lib2"),
    W("f1"),
    W("f2"),
    W("APPROX"),
    W("NOVALUES"),
    W("lru"),
    W("MEMORY"),
    W("lib-name"),
    W("lib-ver"),
    W("SCHEDULE"),
    W("SHARDCHANNELS"),
    W("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    /* stream ids, scores, ranges */
    W("0-0"),
    W("0-1"),
    W("1-1"),
    W("1-*"),
    W("*"),
    W("$"),
    W(">"),
    W("-"),
    W("+"),
    W("(0-1"),
    W("18446744073709551615-18446744073709551615"),
    W("1-18446744073709551615"),
    W("(1"),
    W("[a"),
    W("(a"),
    W("["),
    W("("),
    W("(-inf"),
    W("[z"),
    /* glob patterns */
    W("?"),
    W("[a-z]*"),
    W("k*"),
    W("\\*"),
    W("[^a]"),
    W("[!k]*"),
    W("*["),
    W("a\\"),
    W("*a*a*a*a*a*a*b"),
    W("[]]"),
    W("ch"),
    W("ch*"),
    W("__keyspace@0__:*"),
    /* values */
    W("a"),
    W("b"),
    W("x"),
    W("hello world"),
    W(""),
    W("\x00\xff\x01"),
    W("\x81\xa1\x61\x01"),
    W("\x93\x01\x02\x03"),
    /* HLL-headed strings: sparse empty, sparse cut short, dense cut short,
     * a wrong encoding byte */
    W("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"),
    W("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f"),
    W("HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff"),
    W("HYLL\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
    W("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\xfe"),
};
#define NVOCAB (sizeof(VOCAB) / sizeof(VOCAB[0]))

/* EVAL's and SCRIPT LOAD's code: none loops. */
static const char *const SCRIPTS[] = {
    "return 1",
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "return redis.call('GET', KEYS[1])",
    "return redis.pcall('INCR', KEYS[1])",
    "redis.call('LPUSH', KEYS[1], 'a'); return redis.call('LRANGE', KEYS[1], 0, -1)",
    "return {1, 'two', {3, 4.5}, redis.error_reply('E x')}",
    "return redis.status_reply('FINE')",
    "error('boom')",
    "redis.setresp(3); return redis.call('HGETALL', KEYS[1])",
    "return redis.call('EXPIRE', KEYS[1], ARGV[1])",
    "#!lua flags=no-writes\nreturn redis.call('TYPE', KEYS[1])",
    "return redis.call('XADD', KEYS[1], '*', 'f', ARGV[1])",
    "return cjson.encode({a = ARGV[1]})",
    "return cmsgpack.unpack(ARGV[1])",
    "return redis.sha1hex(ARGV[1])",
    "return tonumber(ARGV[1])",
    "return redis.call('PUBLISH', 'ch', ARGV[1])",
    "return redis.call('ZADD', KEYS[1], ARGV[1], 'm')",
    "return redis.call('BLPOP', KEYS[1], 0)",
    "return redis.call('PFADD', KEYS[1], ARGV[1])",
    "return redis.call('SPOP', KEYS[1])",
    "return redis.call('SINTERSTORE', KEYS[1], KEYS[2])",
    "return struct.unpack('>I2', ARGV[1])",
};
#define NSCRIPTS (sizeof(SCRIPTS) / sizeof(SCRIPTS[0]))

static const char *const FUNCTIONS[] = {
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return "
    "redis.call('SET', keys[1], args[1]) end)",
    "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, "
    "args) return #keys end, flags={'no-writes'}}",
    "#!lua name=lib3\nreturn 1",
    "#!lua\nredis.register_function('f3', function() return 1 end)",
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return "
    "redis.call('LPUSH', keys[1], args[1]) end)",
};
#define NFUNCTIONS (sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]))

/* The parameters CONFIG SET may set, put back after each run. */
static const char *const WHITELIST[] = {
    "maxmemory",
    "maxmemory-policy",
    "list-max-listpack-size",
    "hash-max-listpack-entries",
    "zset-max-listpack-entries",
    "set-max-intset-entries",
    "notify-keyspace-events",
    "list-compress-depth",
    "stream-node-max-entries",
    "hll-sparse-max-bytes",
    "maxmemory-clients",
    "slowlog-log-slower-than",
    "latency-monitor-threshold",
    "lfu-log-factor",
};
#define NWHITE (sizeof(WHITELIST) / sizeof(WHITELIST[0]))
static const struct word CONFIG_VALUES[] = {
    W("0"),
    W("1"),
    W("4"),
    W("-2"),
    W("100"),
    W("1mb"),
    W("allkeys-lru"),
    W("allkeys-lfu"),
    W("volatile-ttl"),
    W("allkeys-random"),
    W("noeviction"),
    W("KEA"),
    W("Elg$xz"),
    W("x"),
    W("1%"),
    W("-1"),
    W("yes"),
};
#define NCONFVAL (sizeof(CONFIG_VALUES) / sizeof(CONFIG_VALUES[0]))
static char defaults[NWHITE][128];

#define NCLIENTS 3
#define MAXARGS 16
#define MAXCMDS 24

struct fake {
    struct rec_sink sink;
    bool closed;
};

static struct fake fakes[NCLIENTS + 1];
static struct client *cls[NCLIENTS + 1]; /* the last is the checker */
static const struct command **table;
static size_t ntable;

static void fake_close(struct client *c, bool after_reply)
{
    (void)after_reply;
    ((struct fake *)c->conn)->closed = true;
}

static void fake_describe(struct client *c, char *addr, size_t alen, char *laddr, size_t llen,
                          int *fd)
{
    (void)c;
    snprintf(addr, alen, "127.0.0.1:1000");
    snprintf(laddr, llen, "127.0.0.1:6380");
    *fd = -1;
}

static void fake_buffers(struct client *c, size_t *qbuf, size_t *qbuf_free, size_t *obl,
                         size_t *oll, size_t *omem)
{
    (void)c;
    *qbuf = *qbuf_free = *obl = *oll = *omem = 0;
}

static const struct client_adapter fake_ad = {
    .name = "fake", .close = fake_close, .describe = fake_describe, .buffers = fake_buffers};

/* The checker's sink also keeps every bulk string it is given (KEYS). */
static struct reply_ops check_ops;
static struct word *bulks;
static size_t nbulks, capbulks;

static void check_bulk(struct reply *r, const char *p, size_t n)
{
    char *copy;
    rec_sink_ops.bulk(r, p, n);
    if (nbulks == capbulks) {
        capbulks = capbulks ? capbulks * 2 : 64;
        bulks = realloc(bulks, capbulks * sizeof(*bulks));
        CHECK(bulks != NULL);
    }
    copy = malloc(n + 1);
    CHECK(copy != NULL);
    memcpy(copy, p, n);
    copy[n] = 0;
    bulks[nbulks].p = copy;
    bulks[nbulks++].n = n;
}

/* ... and the length of the first deferred aggregate of a reply */
static int ndefer;
static long long first_deferred;

static void *check_defer(struct reply *r, enum reply_agg k)
{
    rec_sink_ops.defer(r, k);
    return (void *)(intptr_t)++ndefer;
}

static void check_set_deferred(struct reply *r, void *h, long long n)
{
    rec_sink_ops.set_deferred(r, h, n);
    if ((intptr_t)h == 1) first_deferred = n;
}

/* The length of the checker's first aggregate ("*3", or "*?" ... "(3)"). */
static long long agg_len(void)
{
    const char *o = fakes[NCLIENTS].sink.out;
    if (o[0] != '*' && o[0] != '~' && o[0] != '%') return -1;
    return o[1] == '?' ? first_deferred : atoll(o + 1);
}

static void forget_bulks(void)
{
    size_t i;
    for (i = 0; i < nbulks; i++)
        free((void *)bulks[i].p);
    nbulks = 0;
}

static bool excluded(const char *fullname)
{
    size_t i;
    for (i = 0; i < sizeof(EXCLUDED) / sizeof(EXCLUDED[0]); i++)
        if (strcmp(fullname, EXCLUDED[i]) == 0) return true;
    return false;
}

static int by_fullname(const void *a, const void *b)
{
    return strcmp((*(const struct command *const *)a)->fullname,
                  (*(const struct command *const *)b)->fullname);
}

static void build_table(void)
{
    size_t cap = 1024;
    int i, j;
    table = malloc(cap * sizeof(*table));
    CHECK(table != NULL);
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        if (excluded(c->fullname)) continue;
        if (c->nsub == 0) {
            CHECK(ntable < cap);
            table[ntable++] = c;
        }
        for (j = 0; j < c->nsub; j++) {
            if (excluded(c->subs[j]->fullname)) continue;
            CHECK(ntable < cap);
            table[ntable++] = c->subs[j];
        }
    }
    qsort(table, ntable, sizeof(*table), by_fullname);
}

static void new_client(int i)
{
    fakes[i].closed = false;
    rec_sink_reset(&fakes[i].sink);
    cls[i] = client_new(&fake_ad, &fakes[i], i == NCLIENTS ? &check_ops : &rec_sink_ops);
}

/* Run one command for the checker (NUL-free words, or argv given). */
static int check_argv(int argc, const struct argv_ref *argv)
{
    struct fake *f = &fakes[NCLIENTS];
    rec_sink_reset(&f->sink);
    forget_bulks();
    ndefer = 0;
    first_deferred = -1;
    CHECK(kernel_submit(cls[NCLIENTS], argc, argv) == KERNEL_DONE);
    kernel_after_events();
    show("check", argc, argv, &f->sink);
    CHECK(!f->closed);
    return f->sink.nerr;
}

static int check(const char *line)
{
    struct argv_ref argv[MAXARGS];
    static char words[512];
    char *save = NULL, *w;
    int n = 0;
    snprintf(words, sizeof(words), "%s", line);
    for (w = strtok_r(words, " ", &save); w && n < MAXARGS; w = strtok_r(NULL, " ", &save)) {
        argv[n].p = w;
        argv[n].n = strlen(w);
        n++;
    }
    return check_argv(n, argv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t i;
    (void)argc, (void)argv;
    fuzz_config_defaults();
    CHECK(config_set("enable-debug-command", "yes", true) == NULL);
    core_init(16);
    check_ops = rec_sink_ops;
    check_ops.bulk = check_bulk;
    check_ops.defer = check_defer;
    check_ops.set_deferred = check_set_deferred;
    build_table();
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    for (i = 0; i < NWHITE; i++) {
        const struct config_entry *e = config_find(WHITELIST[i], strlen(WHITELIST[i]));
        CHECK(e != NULL);
        config_get_text(e, defaults[i], sizeof(defaults[i]));
    }
    if (getenv("FUZZ_COMMANDS_LIST")) { /* the tables, for gen_command_seeds.py */
        for (i = 0; i < ntable; i++)
            printf("cmd %s\n", table[i]->fullname);
        for (i = 0; i < NVOCAB; i++) {
            size_t j;
            printf("word ");
            for (j = 0; j < VOCAB[i].n; j++)
                printf("%02x", (unsigned char)VOCAB[i].p[j]);
            printf("\n");
        }
        exit(0);
    }
    return 0;
}

/* Integers between 4096 and 2^33 are cut below 4096: offsets, counts and
 * sizes stay small (the extremes past 2^33 stay as they are). */
static size_t bound_number(char *p, size_t n)
{
    size_t i = 0, start;
    unsigned long long v = 0;
    if (n == 0 || n > 11) return n;
    if (p[0] == '-') i = 1;
    start = i;
    if (i == n) return n;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return n;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v <= 4096 || v >= (1ULL << 33)) return n;
    return start + (size_t)snprintf(p + start, 12, "%llu", v % 4096);
}

struct cursor {
    const uint8_t *p;
    size_t n;
};

static int next(struct cursor *c)
{
    if (c->n == 0) return -1;
    c->n--;
    return *c->p++;
}

static void free_clients(void)
{
    int i;
    for (i = 0; i < NCLIENTS; i++) {
        if (cls[i]) client_free(cls[i]);
        cls[i] = NULL;
    }
}

/* Every database: DBSIZE is what a full SCAN counts; each key's TYPE
 * answers, a container's length is what a full read gives, and DUMP /
 * RESTORE keeps the value's digest. */
static void check_db(int db)
{
    char cmd[64];
    struct word *keys;
    size_t nkeys, i;
    long long dbsize;
    snprintf(cmd, sizeof(cmd), "SELECT %d", db);
    CHECK(check(cmd) == 0);
    CHECK(check("SCAN 0 COUNT 100000") == 0);
    /* the cursor is the first bulk, the keys follow */
    CHECK(nbulks >= 1 && strcmp(bulks[0].p, "0") == 0);
    nkeys = nbulks - 1;
    keys = malloc((nkeys + 1) * sizeof(*keys));
    CHECK(keys != NULL);
    memcpy(keys, bulks + 1, nkeys * sizeof(*keys));
    free((void *)bulks[0].p);
    nbulks = 0;
    CHECK(check("DBSIZE") == 0);
    dbsize = atoll(fakes[NCLIENTS].sink.out);
    if (dbsize != (long long)nkeys) {
        fprintf(stderr, "db %d: DBSIZE %lld, SCAN %zu keys\n", db, dbsize, nkeys);
        CHECK(dbsize == (long long)nkeys);
    }
    for (i = 0; i < nkeys; i++) {
        struct argv_ref a[5] = {{"TYPE", 4}, {keys[i].p, keys[i].n}};
        const char *lencmd = NULL, *readcmd = NULL;
        char type[16], d1[64], d2[64], *dump;
        size_t dumpn;
        long long len;
        /* a key with an expiry is made persistent first (it would go
         * between two reads; the digest counts the expiry) */
        a[0].p = "PERSIST", a[0].n = 7;
        CHECK(check_argv(2, a) == 0);
        a[0].p = "TYPE", a[0].n = 4;
        CHECK(check_argv(2, a) == 0);
        snprintf(type, sizeof(type), "%s", fakes[NCLIENTS].sink.out);
        if (strcmp(type, "+none") == 0) { /* it expired since the SCAN */
            free((void *)keys[i].p);
            continue;
        }
        if (strcmp(type, "+list") == 0) lencmd = "LLEN", readcmd = "LRANGE";
        if (strcmp(type, "+set") == 0) lencmd = "SCARD", readcmd = "SMEMBERS";
        if (strcmp(type, "+zset") == 0) lencmd = "ZCARD", readcmd = "ZRANGE";
        if (strcmp(type, "+hash") == 0) lencmd = "HLEN", readcmd = "HKEYS";
        if (strcmp(type, "+stream") == 0) lencmd = "XLEN", readcmd = "XRANGE";
        if (lencmd) {
            a[0].p = lencmd, a[0].n = strlen(lencmd);
            CHECK(check_argv(2, a) == 0);
            len = atoll(fakes[NCLIENTS].sink.out);
            a[0].p = readcmd, a[0].n = strlen(readcmd);
            a[2].p = readcmd[0] == 'X' ? "-" : "0", a[2].n = 1;
            a[3].p = readcmd[0] == 'X' ? "+" : "-1", a[3].n = strlen(a[3].p);
            CHECK(check_argv(readcmd[0] == 'L' || readcmd[0] == 'Z' || readcmd[0] == 'X' ? 4 : 2,
                             a) == 0);
            CHECK(agg_len() == len);
        }
        /* DUMP → RESTORE as a scratch key: the same digest */
        a[0].p = "DUMP", a[0].n = 4;
        CHECK(check_argv(2, a) == 0);
        CHECK(nbulks == 1);
        dump = (char *)bulks[0].p;
        dumpn = bulks[0].n;
        nbulks = 0;
        a[0].p = "DEBUG", a[0].n = 5, a[1].p = "DIGEST-VALUE", a[1].n = 12;
        a[2].p = keys[i].p, a[2].n = keys[i].n;
        CHECK(check_argv(3, a) == 0);
        snprintf(d1, sizeof(d1), "%s", fakes[NCLIENTS].sink.out);
        a[0].p = "RESTORE", a[0].n = 7, a[1].p = "\x01scratch", a[1].n = 8;
        a[2].p = "0", a[2].n = 1, a[3].p = dump, a[3].n = dumpn;
        CHECK(check_argv(4, a) == 0);
        free(dump);
        a[0].p = "DEBUG", a[0].n = 5, a[1].p = "DIGEST-VALUE", a[1].n = 12;
        a[2].p = "\x01scratch", a[2].n = 8;
        CHECK(check_argv(3, a) == 0);
        snprintf(d2, sizeof(d2), "%s", fakes[NCLIENTS].sink.out);
        CHECK(strcmp(d1, d2) == 0);
        a[0].p = "DEL", a[0].n = 3, a[1].p = "\x01scratch", a[1].n = 8;
        CHECK(check_argv(2, a) == 0);
        free((void *)keys[i].p);
    }
    free(keys);
}

static void reset_all(void)
{
    size_t i;
    int db;
    free_clients();
    kernel_after_events();
    CHECK(blocking_count() == 0);
    if (kernel_pause_active()) kernel_unpause();
    /* the parameters back first (maxmemory-clients would evict the checker) */
    for (i = 0; i < NWHITE; i++) {
        const char *err = config_set(WHITELIST[i], defaults[i], false);
        if (err) fprintf(stderr, "%s %s: %s\n", WHITELIST[i], defaults[i], err);
        CHECK(err == NULL);
    }
    new_client(NCLIENTS);
    /* nobody is left subscribed or blocked */
    CHECK(check("PUBSUB NUMPAT") == 0 && strcmp(fakes[NCLIENTS].sink.out, "0") == 0);
    CHECK(check("PUBSUB CHANNELS") == 0 && nbulks == 0);
    CHECK(check("PUBSUB SHARDCHANNELS") == 0 && nbulks == 0);
    for (db = 0; db < 16; db++)
        check_db(db);
    CHECK(check("FLUSHALL") == 0);
    CHECK(check("SCRIPT FLUSH") == 0);
    CHECK(check("FUNCTION FLUSH") == 0);
    check("ACL DELUSER u1 u2");
    CHECK(check("ACL LOG RESET") == 0);
    CHECK(check("SLOWLOG RESET") == 0);
    CHECK(check("LATENCY RESET") == 0);
    client_free(cls[NCLIENTS]);
    cls[NCLIENTS] = NULL;
    forget_bulks();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor in = {data, size};
    static char bufs[MAXARGS][32];
    int i, ncmd = 0;
    /* the same ids every run (CLIENT KILL ID 1 replays) */
    if (g_clients.count == 0) g_clients.next_id = 1;
    for (i = 0; i < NCLIENTS; i++)
        new_client(i);
    while (ncmd++ < MAXCMDS) {
        struct argv_ref argv[MAXARGS];
        const struct command *cmd;
        int ci = next(&in), hi = next(&in), lo = next(&in), nargs = next(&in), argc = 0, k;
        struct client *c;
        if (ci < 0 || hi < 0 || lo < 0 || nargs < 0) break;
        ci %= NCLIENTS;
        if (fakes[ci].closed) { /* the adapter would free it: a new connection */
            client_free(cls[ci]);
            new_client(ci);
        }
        c = cls[ci];
        cmd = table[(size_t)(hi << 8 | lo) % ntable];
        nargs %= 14;
        if (cmd->container) argv[argc].p = cmd->container, argv[argc++].n = strlen(cmd->container);
        argv[argc].p = cmd->name, argv[argc++].n = strlen(cmd->name);
        for (k = 0; k < nargs && argc < MAXARGS; k++) {
            int b = next(&in);
            if (b < 0) break;
            if (b <= 0xfe) {
                size_t wi = (size_t)b;
                if (b == 0xfe) { /* the words past the first 254 */
                    int e = next(&in);
                    wi = 254 + (size_t)(e < 0 ? 0 : e);
                }
                argv[argc].p = VOCAB[wi % NVOCAB].p, argv[argc].n = VOCAB[wi % NVOCAB].n;
            } else {
                int len = next(&in);
                size_t n = len < 0 ? 0 : (size_t)len % 24;
                if (n > in.n) n = in.n;
                memcpy(bufs[k], in.p, n);
                bufs[k][n] = 0;
                in.p += n, in.n -= n;
                argv[argc].p = bufs[k];
                argv[argc].n = bound_number(bufs[k], n);
            }
            argc++;
        }
        /* code from the fixed sets; CONFIG SET and ACL on their own few names */
        {
            const char *fn = cmd->fullname;
            int first = cmd->container ? 2 : 1;
            size_t sel = (size_t)(hi ^ lo ^ nargs);
            if (argc > first) {
                if (!strcmp(fn, "eval") || !strcmp(fn, "eval_ro") || !strcmp(fn, "script|load")) {
                    argv[first].p = SCRIPTS[sel % NSCRIPTS];
                    argv[first].n = strlen(argv[first].p);
                } else if (!strcmp(fn, "function|load")) {
                    argv[argc - 1].p = FUNCTIONS[sel % NFUNCTIONS];
                    argv[argc - 1].n = strlen(argv[argc - 1].p);
                } else if (!strcmp(fn, "config|set")) {
                    for (k = first; k < argc; k += 2) {
                        argv[k].p = WHITELIST[(sel + (size_t)k) % NWHITE];
                        argv[k].n = strlen(argv[k].p);
                        if (k + 1 < argc) {
                            const struct word *v =
                                &CONFIG_VALUES[((size_t)argv[k + 1].n + sel) % NCONFVAL];
                            argv[k + 1].p = v->p, argv[k + 1].n = v->n;
                        }
                    }
                } else if (!strcmp(fn, "setbit") || !strcmp(fn, "setrange") ||
                           !strcmp(fn, "bitfield")) {
                    /* offsets from the vocabulary (2147483647 bits) stay small too */
                    for (k = first; k < argc; k++) {
                        const char *w = argv[k].p;
                        size_t wn = argv[k].n, d = wn && w[0] == '#';
                        if (wn - d >= 5 && wn - d <= 11 && w[d] >= '0' && w[d] <= '9' &&
                            strtoull(w + d, NULL, 10) < (1ULL << 33) &&
                            strspn(w + d, "0123456789") >= wn - d)
                            argv[k].p = d ? "#4096" : "4096", argv[k].n = d ? 5 : 4;
                    }
                } else if (!strcmp(fn, "acl|setuser")) {
                    argv[first].p = sel & 1 ? "u1" : "u2", argv[first].n = 2;
                } else if (!strcmp(fn, "acl|deluser")) {
                    for (k = first; k < argc; k++)
                        argv[k].p = (sel + (size_t)k) & 1 ? "u1" : "u2", argv[k].n = 2;
                }
            }
        }
        for (k = 0; k <= NCLIENTS; k++)
            if (cls[k]) rec_sink_reset(&fakes[k].sink);
        /* a parked client's adapter holds its input: this command is dropped */
        if (c->state != CLIENT_ACTIVE) continue;
        if (kernel_submit(c, argc, argv) == KERNEL_CLOSE) fakes[ci].closed = true;
        kernel_after_events();
        if (verbose) {
            char who[8];
            snprintf(who, sizeof(who), "c%d", ci);
            show(who, argc, argv, &fakes[ci].sink);
        }
    }
    reset_all();
    return 0;
}
