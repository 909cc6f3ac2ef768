/* cmd_debug.c — DEBUG, the testing and diagnosis command: SLEEP, OBJECT,
 * SET-ACTIVE-EXPIRE, ERROR, LOG, RELOAD (core/persist/cmd_persist.c does the work)
 * and HELP, with Redis 7.0's replies. Its
 * grammar is declared under "keel_arguments" in schemas/commands/debug.json
 * (each subcommand takes any number of words, so that a wrong count gets
 * Redis's "unknown subcommand or wrong number of arguments" reply here). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "log.h"
#include "rdb.h"
#include "store.h"
#include "t_list.h" /* ql_lzf_compress */
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
    char buf[256];
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return;
    }
    snprintf(buf, sizeof(buf),
             "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u "
             "lru_seconds_idle:%llu",
             (void *)e, refcount(e), obj_enc_name(e->enc), serialized_len(e), (unsigned)e->lru,
             store_idle_ms(e) / 1000);
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

static void debug_help(struct exec *x)
{
    /* Redis's lines for the subcommands Keel has. */
    static const char *const help[] = {
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
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
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
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
    default:
        break;
    }
    debug_usage_error(x);
}
