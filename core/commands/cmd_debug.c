/* cmd_debug.c — DEBUG, the testing and diagnosis command: SLEEP, OBJECT,
 * SET-ACTIVE-EXPIRE, ERROR, LOG, RELOAD (core/persist/cmd_persist.c does the work),
 * PROTOCOL (a sample reply of each RESP3 type), DIGEST and DIGEST-VALUE
 * (core/persist/digest.c), LOADAOF (core/persist/aof.c), STRINGMATCH-TEST,
 * QUICKLIST-PACKED-THRESHOLD, REPLYBUFFER, POPULATE, SET-SKIP-CHECKSUM-VALIDATION and HELP, with
 * Redis 7.0's replies. Its grammar is declared under "keel_arguments" in
 * schemas/commands/debug.json (each subcommand takes any number of words, so that a wrong count
 * gets Redis's "unknown subcommand or wrong number of arguments" reply here). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aof.h"
#include "config.h"
#include "commands_gen.h"
#include "digest.h"
#include "kernel.h"
#include "log.h"
#include "rdb.h"
#include "reply_buffer.h"
#include "server.h"
#include "store.h"
#include "t_list.h" /* ql_lzf_compress, ql_set_packed_threshold */
#include "util.h"

/* "ERR unknown subcommand or wrong number of arguments for '<word>'. Try DEBUG HELP." */
static void debug_usage_error(struct exec *x)
{
    const struct argv_ref *w = &x->argv[1];
    int n = w->n > 128 ? 128 : (int)w->n;
    const char *nul = memchr(w->p, 0, (size_t)n);
    if (nul) n = (int)(nul - w->p);
    reply_errorf(x->r,
                 "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                 n, w->p);
}

/* The words given after a subcommand name (its block's trailing multiple). */
static int words(struct exec *x, int slot)
{
    return HAS(x, slot) ? ARG(x, slot)->count : 0;
}

static const struct argv_ref *word(struct exec *x, int slot)
{
    return &x->argv[ARG(x, slot)->list[0]];
}

/* A word as a NUL-terminated string (for strtod/atoi, as Redis uses them). */
static void cword(const struct argv_ref *a, char *buf, size_t cap)
{
    size_t n = a->n < cap - 1 ? a->n : cap - 1;
    memcpy(buf, a->p, n);
    buf[n] = 0;
}

/* ---- DEBUG OBJECT: Redis's rdbSavedObjectLen for strings ---- */

/* rdbEncodeInteger: bytes of an integer-encoded RDB string, 0 if too big. */
static size_t rdb_int_len(long long v)
{
    if (v >= -(1 << 7) && v <= (1 << 7) - 1) return 2;
    if (v >= -(1 << 15) && v <= (1 << 15) - 1) return 3;
    if (v >= -(1LL << 31) && v <= (1LL << 31) - 1) return 5;
    return 0;
}

static size_t rdb_len_len(unsigned long long n)
{
    if (n < (1 << 6)) return 1;
    if (n < (1 << 14)) return 2;
    if (n <= UINT32_MAX) return 5;
    return 9;
}

/* rdbSaveRawString's length (rdbcompression yes). */
static size_t rdb_raw_string_len(const char *s, size_t len)
{
    long long v;
    size_t n;
    if (len <= 11 && util_str2ll(s, len, &v) && (n = rdb_int_len(v)) > 0) return n;
    if (len > 20 && len <= UINT_MAX) {
        /* The same compressor as rdb.c (liblzf, as Redis). */
        size_t outlen = len - 4, clen;
        char *out = xmalloc(outlen + 1);
        clen = ql_lzf_compress(s, len, out, outlen);
        free(out);
        if (clen > 0) return 1 + rdb_len_len(clen) + rdb_len_len(len) + clen;
    }
    return rdb_len_len(len) + len;
}

static size_t serialized_len(struct kv *e)
{
    struct strview sv;
    if (e->type != OBJ_STRING) { /* the value's RDB encoding (core/persist/rdb.c) */
        struct sbuf b;
        size_t n;
        sbuf_init(&b);
        n = rdb_serialize_value(e, &b);
        sbuf_free(&b);
        return n - 1 - 10; /* without the type byte and the DUMP footer */
    }
    if (e->enc == ENC_INT) {
        size_t n = rdb_int_len(e->v.i);
        char buf[24];
        if (n) return n;
        n = (size_t)util_ll2str(buf, e->v.i);
        return rdb_len_len(n) + n;
    }
    kv_string_view(e, &sv);
    return rdb_raw_string_len(sv.p, sv.n);
}

/* Redis shares the integers 0..9999 (refcount INT_MAX) unless maxmemory
 * is set with an LRU/LFU policy. */
static int refcount(struct kv *e)
{
    /* policy indexes: volatile-lru, volatile-lfu, allkeys-lru, allkeys-lfu */
    int p = g_config.maxmemory_policy;
    bool no_shared = g_config.maxmemory && (p == 0 || p == 1 || p == 4 || p == 5);
    if (e->type == OBJ_STRING && e->enc == ENC_INT && e->v.i >= 0 && e->v.i < 10000 && !no_shared)
        return INT_MAX;
    return 1;
}

static void debug_object(struct exec *x)
{
    const struct argv_ref *k = word(x, A_DEBUG_subcommand_object_key);
    struct kv *e = store_peek(x->db, k->p, k->n);
    char buf[512];
    int n;
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return;
    }
    n = snprintf(buf, sizeof(buf),
                 "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u "
                 "lru_seconds_idle:%llu",
                 (void *)e, refcount(e), obj_enc_name(e->enc), serialized_len(e), (unsigned)e->lru,
                 store_idle_ms(e) / 1000);
    if (e->enc == ENC_QUICKLIST) {
        /* Redis adds the quicklist's shape */
        const struct quicklist *ql = e->v.ptr;
        snprintf(buf + n, sizeof(buf) - (size_t)n,
                 " ql_nodes:%lu ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d "
                 "ql_uncompressed_size:%lu",
                 ql->len, (double)ql->count / (double)ql->len, ql->fill, ql->compress != 0,
                 ql_uncompressed_size(ql));
    }
    reply_status(x->r, buf);
}

static void debug_sleep(struct exec *x)
{
    char buf[128];
    double secs;
    long long us;
    cword(word(x, A_DEBUG_subcommand_sleep_seconds), buf, sizeof(buf));
    secs = strtod(buf, NULL); /* as Redis: junk is 0, no error */
    /* Redis converts to microseconds as a long long; a value that does not
     * fit (inf, nan, huge) ends up negative there, and nanosleep refuses it. */
    if (secs > 0 && secs * 1000000.0 < 9.2e18) {
        struct timespec ts;
        us = (long long)(secs * 1000000.0);
        ts.tv_sec = (time_t)(us / 1000000);
        ts.tv_nsec = (long)(us % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
    reply_ok(x->r);
}

/* DEBUG PROTOCOL <type>: one sample reply of each type, as Redis 7.0. */
static void debug_protocol(struct exec *x)
{
    const struct argv_ref *t = word(x, A_DEBUG_subcommand_protocol_type);
    struct reply *r = x->r;
    int j;
    if (util_eqci(t->p, t->n, "string")) {
        reply_cstr(r, "Hello World");
    } else if (util_eqci(t->p, t->n, "integer")) {
        reply_int(r, 12345);
    } else if (util_eqci(t->p, t->n, "double")) {
        reply_double(r, 3.141);
    } else if (util_eqci(t->p, t->n, "bignum")) {
        reply_bignum(r, "1234567999999999999999999999999999999", 37);
    } else if (util_eqci(t->p, t->n, "null")) {
        reply_null(r);
    } else if (util_eqci(t->p, t->n, "array")) {
        reply_array(r, 3);
        for (j = 0; j < 3; j++)
            reply_int(r, j);
    } else if (util_eqci(t->p, t->n, "set")) {
        reply_set(r, 3);
        for (j = 0; j < 3; j++)
            reply_int(r, j);
    } else if (util_eqci(t->p, t->n, "map")) {
        reply_map(r, 3);
        for (j = 0; j < 3; j++) {
            reply_int(r, j);
            reply_bool(r, j == 1);
        }
    } else if (util_eqci(t->p, t->n, "attrib")) {
        if (r->resp >= 3) {
            reply_attribute(r, 1);
            reply_cstr(r, "key-popularity");
            reply_array(r, 2);
            reply_cstr(r, "key:123");
            reply_int(r, 90);
        }
        /* an attribute describes a reply: the real one follows */
        reply_cstr(r, "Some real reply following the attribute");
    } else if (util_eqci(t->p, t->n, "push")) {
        if (r->resp < 3) {
            reply_error(r, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push(r, 2);
        reply_cstr(r, "server-cpu-usage");
        reply_int(r, 42);
        reply_cstr(r, "Some real reply following the push reply");
    } else if (util_eqci(t->p, t->n, "true")) {
        reply_bool(r, true);
    } else if (util_eqci(t->p, t->n, "false")) {
        reply_bool(r, false);
    } else if (util_eqci(t->p, t->n, "verbatim")) {
        reply_verbatim(r, "This is a verbatim\nstring", 25);
    } else {
        reply_error(r, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|"
                       "verbatim|true|false");
    }
}

/* DEBUG DIGEST-VALUE key ...: one status line per key, zeros for a missing
 * key (a logically expired one still counts, as Redis). */
static void debug_digest_value(struct exec *x)
{
    int k, n = words(x, A_DEBUG_subcommand_digest_value_key);
    reply_array(x->r, n);
    for (k = 0; k < n; k++) {
        const struct argv_ref *a = &x->argv[ARG(x, A_DEBUG_subcommand_digest_value_key)->list[k]];
        struct kv *e = store_peek(x->db, a->p, a->n);
        unsigned char d[20] = {0};
        char hex[41];
        if (e) digest_value(d, e);
        digest_hex(d, hex);
        reply_status(x->r, hex);
    }
}

/* DEBUG STRINGMATCH-TEST: random patterns against random strings through
 * the glob matcher (Redis's stringmatchlen_fuzz_test; a crash is the
 * failure, so the sanitizer builds are where it means something). Keel runs
 * a million cycles where Redis runs ten (seconds of a blocked server). */
static void debug_stringmatch_test(struct exec *x)
{
    char str[32], pat[32];
    int cycles = 1000000, j;
    unsigned long long seed = (unsigned long long)util_ustime() | 1, total = 0;
    while (cycles--) {
        size_t slen, plen;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        slen = seed % sizeof(str);
        plen = (seed >> 8) % sizeof(pat);
        for (j = 0; j < (int)slen; j++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            str[j] = (char)(seed % 128);
        }
        for (j = 0; j < (int)plen; j++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            pat[j] = (char)(seed % 128);
        }
        total += util_glob(pat, plen, str, slen, false);
    }
    log_debug("DEBUG STRINGMATCH-TEST: %llu matches", total);
    reply_status(x->r, "Apparently Redis did not crash: test passed");
}

/* DEBUG REPLYBUFFER PEAK-RESET-TIME never|reset|<ms> | RESIZING <0|1>, as
 * Redis 7.0: the settings of the reply buffers' resizing by the cron
 * (core/kernel/reply_buffer.c). */

static bool debug_replybuffer(struct exec *x)
{
    const struct argv_ref *o, *v;
    char buf[64];
    if (words(x, A_DEBUG_subcommand_replybuffer_options) != 2) return false;
    o = &x->argv[ARG(x, A_DEBUG_subcommand_replybuffer_options)->list[0]];
    v = &x->argv[ARG(x, A_DEBUG_subcommand_replybuffer_options)->list[1]];
    if (util_eqci(o->p, o->n, "peak-reset-time")) {
        long long ms;
        if (util_eqci(v->p, v->n, "never")) {
            g_reply_buffer_peak_reset_ms = -1;
        } else if (util_eqci(v->p, v->n, "reset")) {
            g_reply_buffer_peak_reset_ms = REPLY_BUFFER_PEAK_RESET_DEFAULT;
        } else if (util_str2ll(v->p, v->n, &ms)) {
            g_reply_buffer_peak_reset_ms = ms;
        } else {
            reply_err(x->r, E_NOT_INT);
            return true;
        }
    } else if (util_eqci(o->p, o->n, "resizing")) {
        cword(v, buf, sizeof(buf));
        g_reply_buffer_resizing = atoi(buf) != 0;
    } else {
        return false;
    }
    reply_ok(x->r);
    return true;
}

/* DEBUG QUICKLIST-PACKED-THRESHOLD <size> (a memory value, 0 = default). */
static void debug_ql_threshold(struct exec *x)
{
    char buf[64];
    unsigned long long sz;
    const struct argv_ref *a = word(x, A_DEBUG_subcommand_quicklist_packed_threshold_size);
    cword(a, buf, sizeof(buf));
    if (a->n >= sizeof(buf) || !config_parse_memory(buf, &sz) || !ql_set_packed_threshold(sz))
        reply_error(x->r, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    else
        reply_ok(x->r);
}

/* DEBUG POPULATE count [prefix] [size]: string keys <prefix>:<n> (prefix
 * "key") holding "value:<n>", or that text cut or zero-padded to size
 * bytes; existing keys are left alone. As Redis: no keyspace notification
 * but "new", WATCH and tracking see the keys, and nothing is counted as a
 * change (not propagated, no save-rule credit). */
static void debug_populate(struct exec *x, int n)
{
    const struct argval *av = ARG(x, A_DEBUG_subcommand_populate_args);
    const struct argv_ref *cnt = &x->argv[av->list[0]];
    const struct argv_ref *pre = n >= 2 ? &x->argv[av->list[1]] : NULL;
    long long keys, size = 0, j;
    char kbuf[128], vbuf[64];
    /* one message for "not a number" and "negative", as Redis's
     * getPositiveLongFromObjectOrReply */
    if (!util_str2ll(cnt->p, cnt->n, &keys) || keys < 0) {
        reply_error(x->r, "ERR value is out of range, must be positive");
        return;
    }
    if (n == 3) {
        const struct argv_ref *sz = &x->argv[av->list[2]];
        if (!util_str2ll(sz->p, sz->n, &size) || size < 0) {
            reply_error(x->r, "ERR value is out of range, must be positive");
            return;
        }
    }
    for (j = 0; j < keys; j++) {
        int kl = pre ? snprintf(kbuf, sizeof(kbuf), "%.*s:%lld", (int)pre->n, pre->p, j)
                     : snprintf(kbuf, sizeof(kbuf), "key:%lld", j);
        int vl = snprintf(vbuf, sizeof(vbuf), "value:%lld", j);
        long long dirty = g_store.stats.dirty;
        struct kv *e;
        if (kl >= (int)sizeof(kbuf)) kl = (int)sizeof(kbuf) - 1; /* as Redis's 128-byte buffer */
        if (store_lookup_write(x->db, kbuf, (size_t)kl)) continue;
        if (size == 0) {
            e = kv_new_string(kbuf, (size_t)kl, vbuf, (size_t)vl, false);
        } else {
            char *v = xcalloc(1, (size_t)size);
            memcpy(v, vbuf, (size_t)(size < vl ? size : vl));
            e = kv_new_string(kbuf, (size_t)kl, v, (size_t)size, false);
            free(v);
        }
        store_add(x->db, e, "debug-populate", 0); /* klass 0: no notification */
        g_store.stats.dirty = dirty;
    }
    reply_ok(x->r);
}

static void debug_help(struct exec *x)
{
    /* Redis's lines for the subcommands Keel has. */
    static const char *const help[] = {
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the stringmatchlen() function.",
        "PAUSE-CRON <0|1>",
        "    Stop periodic cron job processing.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
        "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
        "    In case NEVER is provided the last observed peak will never be reset",
        "    In case RESET is provided the peak reset time will be restored to the default value",
        "REPLYBUFFER RESIZING <0|1>",
        "    Enable or disable the reply buffer resize cron job",
        NULL,
    };
    reply_help(x->r, "DEBUG", help);
}

/* DEBUG subcommand [arg ...]
 *   HELP | SLEEP seconds | OBJECT key | SET-ACTIVE-EXPIRE 0|1 | ERROR string | LOG message */
void cmd_debug(struct exec *x)
{
    int choice = ARG(x, A_DEBUG_subcommand)->choice;
    switch (choice) {
    case 0: /* HELP */
        if (words(x, A_DEBUG_subcommand_help_extra)) break;
        debug_help(x);
        return;
    case 1: /* SLEEP seconds */
        if (words(x, A_DEBUG_subcommand_sleep_seconds) != 1) break;
        debug_sleep(x);
        return;
    case 2: /* OBJECT key */
        if (words(x, A_DEBUG_subcommand_object_key) != 1) break;
        debug_object(x);
        return;
    case 3: { /* SET-ACTIVE-EXPIRE 0|1: atoi, as Redis (non-zero enables) */
        char buf[64];
        if (words(x, A_DEBUG_subcommand_set_active_expire_flag) != 1) break;
        cword(word(x, A_DEBUG_subcommand_set_active_expire_flag), buf, sizeof(buf));
        g_config.active_expire = atoi(buf) != 0;
        g_store.active_expire = g_config.active_expire != 0;
        reply_ok(x->r);
        return;
    }
    case 4: { /* ERROR string: "-<string>" verbatim, newlines as spaces */
        const struct argv_ref *m;
        char *s;
        size_t i;
        if (words(x, A_DEBUG_subcommand_error_message) != 1) break;
        m = word(x, A_DEBUG_subcommand_error_message);
        s = xmemdup(m->p, m->n ? m->n : 1);
        for (i = 0; i < m->n; i++)
            if (s[i] == '\r' || s[i] == '\n') s[i] = ' ';
        /* Raw protocol in Redis: not counted as an error reply. */
        x->r->ops->error(x->r, s, m->n);
        free(s);
        return;
    }
    case 5: { /* LOG message */
        const struct argv_ref *m;
        if (words(x, A_DEBUG_subcommand_log_message) != 1) break;
        m = word(x, A_DEBUG_subcommand_log_message);
        log_warning("DEBUG LOG: %.*s", (int)m->n, m->p);
        reply_ok(x->r);
        return;
    }
    case 6: { /* RELOAD [MERGE] [NOFLUSH] [NOSAVE] (core/persist/cmd_persist.c) */
        bool merge = false, flush = true, save = true;
        int k, n = words(x, A_DEBUG_subcommand_reload_options);
        for (k = 0; k < n; k++) {
            const struct argv_ref *o = &x->argv[ARG(x, A_DEBUG_subcommand_reload_options)->list[k]];
            if (util_eqci(o->p, o->n, "merge"))
                merge = true;
            else if (util_eqci(o->p, o->n, "noflush"))
                flush = false;
            else if (util_eqci(o->p, o->n, "nosave"))
                save = false;
            else {
                reply_error(
                    x->r, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        persist_debug_reload(x, merge, flush, save);
        return;
    }
    case 7: /* PROTOCOL type */
        if (words(x, A_DEBUG_subcommand_protocol_type) != 1) break;
        debug_protocol(x);
        return;
    case 8: { /* DIGEST */
        unsigned char d[20];
        char hex[41];
        if (words(x, A_DEBUG_subcommand_digest_extra)) break;
        digest_dataset(d);
        digest_hex(d, hex);
        reply_status(x->r, hex);
        return;
    }
    case 9: /* DIGEST-VALUE [key ...] */
        debug_digest_value(x);
        return;
    case 10: /* STRINGMATCH-TEST */
        if (words(x, A_DEBUG_subcommand_stringmatch_test_extra)) break;
        debug_stringmatch_test(x);
        return;
    case 11: /* REPLYBUFFER PEAK-RESET-TIME|RESIZING value */
        if (!debug_replybuffer(x)) break;
        return;
    case 12: /* LOADAOF */
        aof_debug_loadaof();
        reply_ok(x->r);
        return;
    case 13: /* QUICKLIST-PACKED-THRESHOLD size */
        if (words(x, A_DEBUG_subcommand_quicklist_packed_threshold_size) != 1) break;
        debug_ql_threshold(x);
        return;
    case 15: { /* SET-SKIP-CHECKSUM-VALIDATION 0|1: atoi, as Redis */
        char buf[64];
        if (words(x, A_DEBUG_subcommand_set_skip_checksum_validation_flag) != 1) break;
        cword(word(x, A_DEBUG_subcommand_set_skip_checksum_validation_flag), buf, sizeof(buf));
        rdb_skip_checksum_validation = atoi(buf);
        reply_ok(x->r);
        return;
    }
    case 16: { /* PAUSE-CRON 0|1: atoi, as Redis (the periodic work stops) */
        char buf[64];
        if (words(x, A_DEBUG_subcommand_pause_cron_flag) != 1) break;
        cword(word(x, A_DEBUG_subcommand_pause_cron_flag), buf, sizeof(buf));
        g_server.cron_paused = atoi(buf) != 0;
        reply_ok(x->r);
        return;
    }
    case 14: { /* POPULATE count [prefix] [size] */
        int n = words(x, A_DEBUG_subcommand_populate_args);
        if (n < 1 || n > 3) break;
        debug_populate(x, n);
        return;
    }
    default:
        break;
    }
    debug_usage_error(x);
}
