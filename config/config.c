/* config.c — the config table, file and argv parsing, get/set/rewrite
 * (config.h). CONFIG command handlers live in config/cmd_config.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "registry.h" /* command-name lists are checked against the table */
#include "aof.h"     /* appendonly: CONFIG SET starts/stops the log */
#include "hyperloglog.h" /* hll_sparse_max_bytes */
#include "tracking.h"    /* tracking_table_max_keys */
#include "pubsub.h"      /* notify-keyspace-events, client-output-buffer-limit */

struct keel_config g_config;
char *g_config_file;

static const char *const policy_names[] = {"volatile-lru",    "volatile-lfu",   "volatile-random",
                                           "volatile-ttl",    "allkeys-lru",    "allkeys-lfu",
                                           "allkeys-random",  "noeviction",     NULL};
/* Redis 7.0's levels ("nothing" came in 7.2). */
static const char *const appendfsync_names[] = {"always", "everysec", "no", NULL};
static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};
/* Redis 7.0's protected-action values (enable-debug-command): local = only
 * from a loopback or unix-socket connection. */
static const char *const protected_action_names[] = {"no", "yes", "local", NULL};

static const char *apply_hz(const struct config_entry *e, const char *v);
static const char *apply_maxclients(const struct config_entry *e, const char *v);
static const char *set_save(const struct config_entry *e, const char *v);
static const char *set_http_networks(const struct config_entry *e, const char *v);
static const char *set_dir(const struct config_entry *e, const char *v);
static const char *set_command_list(const struct config_entry *e, const char *v);

#define LL_MAX_ LLONG_MAX

const struct config_entry config_table[] = {
    {"bind", NULL, CT_STRING, &g_config.bind, "127.0.0.1", 0, 0, false,
     "Addresses to listen on (space separated)", NULL, NULL},
    {"port", NULL, CT_INT, &g_config.port, "6379", 0, 65535, false, "RESP TCP port (0: none)",
     NULL, NULL},
    {"tcp-backlog", NULL, CT_INT, &g_config.tcp_backlog, "511", 0, INT_MAX, false,
     "listen() backlog", NULL, NULL},
    {"timeout", NULL, CT_INT, &g_config.timeout, "0", 0, INT_MAX, true,
     "Close idle clients after this many seconds (0: never)", NULL, NULL},
    {"tcp-keepalive", NULL, CT_INT, &g_config.tcp_keepalive, "300", 0, INT_MAX, true,
     "TCP keepalive interval in seconds", NULL, NULL},
    {"databases", NULL, CT_INT, &g_config.databases, "16", 1, INT_MAX, false,
     "Number of databases", NULL, NULL},
    /* As Redis: any value is accepted, the effective one is clamped to 1..500. */
    {"hz", NULL, CT_INT, &g_config.hz, "10", 0, INT_MAX, true, "Background task frequency", NULL,
     apply_hz},
    /* Redis's bounds (unsigned int); values above INT_MAX are kept as INT_MAX. */
    {"maxclients", NULL, CT_INT, &g_config.maxclients, "10000", 1, 4294967295LL, true,
     "Most simultaneous clients", NULL, apply_maxclients},
    {"requirepass", NULL, CT_STRING, &g_config.requirepass, "", 0, 0, true,
     "Password clients must AUTH with (empty: none)", NULL, NULL},
    /* Redis 7.0: refuse non-loopback clients while no password is set (adapters/net.c) */
    {"protected-mode", NULL, CT_BOOL, &g_config.protected_mode, "yes", 0, 1, true,
     "Without a password, serve loopback clients only", NULL, NULL},
    {"client-query-buffer-limit", NULL, CT_MEMORY, &g_config.client_query_buffer_limit, "1gb",
     1024 * 1024, LL_MAX_, true, "Most bytes one client's query buffer may hold", NULL, NULL},
    {"proto-max-bulk-len", NULL, CT_MEMORY, &g_config.proto_max_bulk_len, "512mb", 1024 * 1024,
     LL_MAX_, true, "Largest bulk string a client may send", NULL, NULL},
    {"maxmemory", NULL, CT_MEMORY, &g_config.maxmemory, "0", 0, LL_MAX_, true,
     "Memory limit (0: none)", NULL, NULL},
    {"maxmemory-policy", NULL, CT_ENUM, &g_config.maxmemory_policy, "noeviction", 0, 0, true,
     "What to evict at maxmemory", policy_names, NULL},
    {"loglevel", NULL, CT_ENUM, &g_config.loglevel, "notice", 0, 0, true, "Log verbosity",
     loglevel_names, NULL},
    {"logfile", NULL, CT_STRING, &g_config.logfile, "", 0, 0, false,
     "Log file (empty: standard output)", NULL, NULL},
    {"dir", NULL, CT_SPECIAL, &g_config.dir, "./", 0, 0, true,
     "Working directory (the process chdir()s to it)", NULL, set_dir},
    {"save", NULL, CT_SPECIAL, &g_config.save, "", 0, 0, true,
     "Snapshot points: seconds changes [seconds changes ...]",
     NULL, set_save},
    {"appendonly", NULL, CT_BOOL, &g_config.appendonly, "no", 0, 1, true,
     "Append-only log (CONFIG SET appendonly yes starts it with a rewrite)", NULL,
     aof_config_appendonly},
    /* append-only log (core/persist/aof.c) */
    {"appendfsync", NULL, CT_ENUM, &g_config.appendfsync, "everysec", 0, 0, true,
     "When the log is fsynced: always (before replies), everysec, no (the OS decides)",
     appendfsync_names, NULL},
    {"appenddirname", NULL, CT_STRING, &g_config.appenddirname, "appendonlydir", 0, 0, false,
     "Directory (in dir) of the append-only log's files", NULL, NULL},
    {"appendfilename", NULL, CT_STRING, &g_config.appendfilename, "appendonly.aof", 0, 0, false,
     "Base name of the append-only log's files", NULL, NULL},
    {"aof-load-truncated", NULL, CT_BOOL, &g_config.aof_load_truncated, "yes", 0, 1, true,
     "Load a log whose last command is incomplete (truncating it) instead of refusing",
     NULL, NULL},
    {"aof-use-rdb-preamble", NULL, CT_BOOL, &g_config.aof_use_rdb_preamble, "yes", 0, 1, true,
     "Rewrites write the base file in RDB format", NULL, NULL},
    {"auto-aof-rewrite-percentage", NULL, CT_INT, &g_config.auto_aof_rewrite_percentage, "100",
     0, INT_MAX, true, "Rewrite when the log grew by this percentage (0: never)", NULL, NULL},
    {"auto-aof-rewrite-min-size", NULL, CT_MEMORY, &g_config.auto_aof_rewrite_min_size, "64mb",
     0, LL_MAX_, true, "... and is at least this large", NULL, NULL},
    {"aof-timestamp-enabled", NULL, CT_BOOL, &g_config.aof_timestamp_enabled, "no", 0, 1, true,
     "Accepted for compatibility (timestamp annotations are read, not written)", NULL, NULL},
    {"aof-rewrite-incremental-fsync", NULL, CT_BOOL, &g_config.aof_rewrite_incremental_fsync,
     "yes", 0, 1, true, "Accepted for compatibility", NULL, NULL},
    {"no-appendfsync-on-rewrite", NULL, CT_BOOL, &g_config.no_appendfsync_on_rewrite, "no", 0, 1,
     true, "Accepted for compatibility", NULL, NULL},
    {"dbfilename", NULL, CT_STRING, &g_config.dbfilename, "dump.rdb", 0, 0, true,
     "Snapshot file name", NULL, NULL},
    {"rdbcompression", NULL, CT_BOOL, &g_config.rdbcompression, "yes", 0, 1, true,
     "LZF-compress strings longer than 20 bytes in snapshots", NULL, NULL},
    {"rdbchecksum", NULL, CT_BOOL, &g_config.rdbchecksum, "yes", 0, 1, false,
     "Write and check the CRC64 at the end of snapshots", NULL, NULL},
    {"stop-writes-on-bgsave-error", NULL, CT_BOOL, &g_config.stop_writes_on_bgsave_error, "yes",
     0, 1, true, "Refuse writes (MISCONF) while the last background save failed", NULL, NULL},
    {"rdb-key-save-delay", NULL, CT_LL, &g_config.rdb_key_save_delay, "0", INT_MIN, INT_MAX, true,
     "Microseconds to sleep per key saved (testing only)", NULL, NULL},
    {"pidfile", NULL, CT_STRING, &g_config.pidfile, "", 0, 0, false, "Write the PID here", NULL,
     NULL},
    {"active-expire-enabled", NULL, CT_BOOL, &g_config.active_expire, "yes", 0, 1, true,
     "Expire keys in the background as well as on access", NULL, NULL},
    {"enable-debug-command", NULL, CT_ENUM, &g_config.enable_debug_cmd, "no", 0, 0, false,
     "Allow DEBUG: no, yes, local (only from 127.0.0.1 / ::1 connections)", protected_action_names,
     NULL},
    {"max-multibulk-len", NULL, CT_LL, &g_config.max_multibulk_len, "1048576", 1, INT_MAX, true,
     "Most arguments in one command", NULL, NULL},
    {"io-threads", NULL, CT_INT, &g_config.io_threads, "1", 1, 128, false,
     "Accepted for compatibility; Keel runs one thread", NULL, NULL},
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", CT_LL,
     &g_config.hash_max_listpack_entries, "512", 0, LL_MAX_, true,
     "Hashes with at most this many fields use a listpack", NULL, NULL},
    {"hash-max-listpack-value", "hash-max-ziplist-value", CT_LL,
     &g_config.hash_max_listpack_value, "64", 0, LL_MAX_, true,
     "... and no field or value longer than this", NULL, NULL},
    {"set-max-intset-entries", NULL, CT_LL, &g_config.set_max_intset_entries, "512", 0, LL_MAX_,
     true, "Sets of at most this many integers use an intset", NULL, NULL},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", CT_LL,
     &g_config.zset_max_listpack_entries, "128", 0, LL_MAX_, true,
     "Sorted sets with at most this many members use a listpack", NULL, NULL},
    {"zset-max-listpack-value", "zset-max-ziplist-value", CT_LL,
     &g_config.zset_max_listpack_value, "64", 0, LL_MAX_, true,
     "... and no member longer than this", NULL, NULL},
    {"list-max-listpack-size", "list-max-ziplist-size", CT_INT, &g_config.list_max_listpack_size,
     "-2", INT_MIN, INT_MAX, true,
     "List node size: >0 entries, -1..-5 = 4/8/16/32/64 KB", NULL, NULL},
    {"list-compress-depth", NULL, CT_INT, &g_config.list_compress_depth, "0", 0, INT_MAX, true,
     "List nodes kept uncompressed at each end (0: none compressed)", NULL, NULL},
    {"hll-sparse-max-bytes", NULL, CT_MEMORY, &hll_sparse_max_bytes, "3000", 0, LL_MAX_, true,
     "Sparse HyperLogLogs past this many bytes become dense", NULL, NULL},
    /* pub/sub (core/events/notify.c, core/events/pubsub.c) */
    {"notify-keyspace-events", NULL, CT_SPECIAL, &g_notify_keyspace_events, "", 0, 0, true,
     "Keyspace event classes to publish (K E g $ l s h z x e t m d n A)", NULL, notify_config_set},
    {"client-output-buffer-limit", NULL, CT_SPECIAL, &g_obuf_limit_text,
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 0, 0, true,
     "Per class: hard limit, soft limit and soft seconds of a client's pending output", NULL,
     obuf_limit_config_set},
    {"tracking-table-max-keys", NULL, CT_LL, &tracking_table_max_keys, "1000000", 0, LL_MAX_, true,
     "Keys remembered for client-side caching (0: no limit)", NULL, NULL},
    /* HTTP and WebSocket adapters (adapters/http, adapters/ws) */
    {"http-port", NULL, CT_INT, &g_config.http_port, "7379", 0, 65535, false,
     "HTTP/JSON and WebSocket port (0: disabled)", NULL, NULL},
    {"http-bind", NULL, CT_STRING, &g_config.http_bind, "127.0.0.1", 0, 0, false,
     "Addresses the HTTP port listens on (space separated)", NULL, NULL},
    {"http-allow-networks", NULL, CT_SPECIAL, &g_config.http_allow_networks, "0.0.0.0/0 ::/0", 0,
     0, true, "Networks (CIDR, space separated) allowed to use the HTTP port", NULL,
     set_http_networks},
    {"http-allowed-origins", NULL, CT_STRING, &g_config.http_allowed_origins, "*", 0, 0, true,
     "Origins allowed by CORS and WebSocket upgrades (space separated; * any)", NULL, NULL},
    {"http-disabled-commands", NULL, CT_SPECIAL, &g_config.http_disabled_commands,
     "FLUSHALL FLUSHDB CONFIG DEBUG SHUTDOWN KEYS", 0, 0, true,
     "Commands refused over HTTP and WebSocket (exact names)", NULL, set_command_list},
    {"http-max-url-length", NULL, CT_LL, &g_config.http_max_url, "16384", 16, LL_MAX_, true,
     "Longest request target (414 beyond)", NULL, NULL},
    {"http-max-header-size", NULL, CT_MEMORY, &g_config.http_max_header, "32768", 256, LL_MAX_,
     true, "Largest request line plus headers (431 beyond)", NULL, NULL},
    {"http-max-body-size", NULL, CT_MEMORY, &g_config.http_max_body, "64mb", 0, LL_MAX_, true,
     "Largest request body (413 beyond)", NULL, NULL},
    {"http-header-timeout", NULL, CT_INT, &g_config.http_header_timeout, "10", 1, INT_MAX, true,
     "Seconds to receive a request's headers once it has begun (408)", NULL, NULL},
    {"http-idle-timeout", NULL, CT_INT, &g_config.http_idle_timeout, "300", 0, INT_MAX, true,
     "Seconds an idle keep-alive connection is kept (0: forever)", NULL, NULL},
    {"http-sse-heartbeat", NULL, CT_INT, &g_config.http_sse_heartbeat, "15", 1, INT_MAX, true,
     "Seconds between heartbeat comments on Server-Sent Events streams", NULL, NULL},
    {"ws-max-message-size", NULL, CT_MEMORY, &g_config.ws_max_message, "64mb", 1024, LL_MAX_,
     true, "Largest WebSocket message (close 1009 beyond)", NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

const struct config_entry *config_find(const char *name, size_t len)
{
    const struct config_entry *e;
    for (e = config_table; e->name; e++) {
        if (util_eqci(name, len, e->name)) return e;
        if (e->alias && util_eqci(name, len, e->alias)) return e;
    }
    return NULL;
}

/* Redis's memtoull: digits with an optional b/k/kb/m/mb/g/gb unit (any
 * case). As Redis, "" and a bare unit are 0, and the product is not checked
 * for overflow (it wraps); a sign is refused. */
static bool parse_memory(const char *v, unsigned long long *out)
{
    char buf[128], *end;
    unsigned long long mul, n;
    const char *u = v;
    size_t digits;
    if (*u == '-') return false;
    while (*u && isdigit((unsigned char)*u))
        u++;
    if (*u == 0 || !strcasecmp(u, "b"))
        mul = 1;
    else if (!strcasecmp(u, "k"))
        mul = 1000;
    else if (!strcasecmp(u, "kb"))
        mul = 1024;
    else if (!strcasecmp(u, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(u, "g"))
        mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb"))
        mul = 1024ULL * 1024 * 1024;
    else
        return false;
    digits = (size_t)(u - v);
    if (digits >= sizeof(buf)) return false;
    memcpy(buf, v, digits);
    buf[digits] = 0;
    errno = 0;
    n = strtoull(buf, &end, 10);
    if ((n == 0 && errno == EINVAL) || *end != 0) return false;
    *out = n * mul;
    return true;
}

static const char *apply_hz(const struct config_entry *e, const char *v)
{
    int *hz = e->ptr;
    (void)v;
    if (*hz < 1) *hz = 1;
    if (*hz > 500) *hz = 500;
    return NULL;
}

/* Checks the adapters register for their entries (server/main.c wires them
 * before the config is read): the config table knows no adapter. */
#define MAX_CHECKS 16
static struct {
    const char *name;
    config_check_fn fn;
} checks[MAX_CHECKS];
static int nchecks;

void config_register_check(const char *name, config_check_fn fn)
{
    if (nchecks < MAX_CHECKS) {
        checks[nchecks].name = name;
        checks[nchecks].fn = fn;
        nchecks++;
    }
}

static const char *run_checks(const struct config_entry *e, const char *v)
{
    int i;
    for (i = 0; i < nchecks; i++) {
        if (strcmp(checks[i].name, e->name) == 0) {
            const char *err = checks[i].fn(v);
            if (err) return err;
        }
    }
    return NULL;
}

/* maxclients: a larger value first raises the open-files limit (the
 * check adapters/net.c registers). */
static const char *apply_maxclients(const struct config_entry *e, const char *v)
{
    return run_checks(e, v);
}

/* save: "" or pairs "seconds changes", words separated by single spaces
 * (Redis splits CONFIG SET's value on each space); kept normalized. */
static const char *set_save(const struct config_entry *e, const char *v)
{
    char **p = e->ptr, *norm;
    const char *w = v;
    size_t cap = strlen(v) * 2 + 2, off = 0;
    int j = 0;
    if (*v == 0) {
        free(*p);
        *p = xstrdup("");
        return NULL;
    }
    norm = xmalloc(cap + 64);
    for (;;) {
        const char *sp = strchr(w, ' ');
        size_t len = sp ? (size_t)(sp - w) : strlen(w);
        char word[64], *end;
        long long val;
        if (len >= sizeof(word)) len = sizeof(word) - 1;
        memcpy(word, w, len);
        word[len] = 0;
        val = strtoll(word, &end, 10);
        if (*end != 0 || ((j & 1) == 0 && val < 1) || ((j & 1) == 1 && val < 0)) {
            free(norm);
            return "Invalid save parameters";
        }
        if ((j & 1) == 1 && val > INT_MAX) val = (int)val; /* Redis keeps an int */
        off += (size_t)snprintf(norm + off, cap + 64 - off, "%s%lld", j ? " " : "", val);
        j++;
        if (!sp) break;
        w = sp + 1;
    }
    if (j & 1) {
        free(norm);
        return "Invalid save parameters";
    }
    free(*p);
    *p = norm;
    return NULL;
}

/* dir: chdir() to it, as Redis; the value kept (and shown) is the
 * resulting working directory. */
static const char *set_dir(const struct config_entry *e, const char *v)
{
    char **p = e->ptr, *cwd;
    if (chdir(v) == -1) return strerror(errno);
    cwd = getcwd(NULL, 0);
    free(*p);
    *p = cwd ? cwd : xstrdup(v);
    return NULL;
}

unsigned long g_config_version; /* bumped by every set: caches of parsed values compare it */

static const char *set_entry(const struct config_entry *e, const char *v)
{
    g_config_version++;
    static char err[512];
    long long n;
    switch (e->type) {
    case CT_BOOL:
        if (!strcasecmp(v, "yes")) *(int *)e->ptr = 1;
        else if (!strcasecmp(v, "no")) *(int *)e->ptr = 0;
        else return "argument must be 'yes' or 'no'";
        return e->set ? e->set(e, v) : NULL;
    case CT_INT:
    case CT_LL:
        if (!util_str2ll(v, strlen(v), &n)) return "argument couldn't be parsed into an integer";
        if (n < e->min || n > e->max) {
            snprintf(err, sizeof(err), "argument must be between %lld and %lld inclusive",
                     e->min, e->max);
            return err;
        }
        if (e->type == CT_INT) *(int *)e->ptr = n > INT_MAX ? INT_MAX : (int)n;
        else *(long long *)e->ptr = n;
        return e->set ? e->set(e, v) : NULL;
    case CT_MEMORY: {
        unsigned long long u;
        if (!parse_memory(v, &u)) return "argument must be a memory value";
        /* Redis's signed memory configs see the wrapped product as negative. */
        n = u > (unsigned long long)LLONG_MAX ? (long long)(u - (unsigned long long)LLONG_MAX - 1) +
                                                    LLONG_MIN
                                              : (long long)u;
        if (n < e->min || n > e->max) {
            snprintf(err, sizeof(err), "argument must be between %lld and %lld inclusive",
                     e->min, e->max);
            return err;
        }
        *(long long *)e->ptr = n;
        return e->set ? e->set(e, v) : NULL;
    }
    case CT_STRING: {
        char **p = e->ptr;
        free(*p);
        *p = xstrdup(v);
        return NULL;
    }
    case CT_ENUM: {
        int i;
        size_t off = 0;
        for (i = 0; e->enum_names[i]; i++) {
            if (!strcasecmp(v, e->enum_names[i])) {
                *(int *)e->ptr = i;
                return NULL;
            }
        }
        off = (size_t)snprintf(err, sizeof(err), "argument(s) must be one of the following: ");
        for (i = 0; e->enum_names[i] && off < sizeof(err); i++)
            off += (size_t)snprintf(err + off, sizeof(err) - off, "%s%s", i ? ", " : "",
                                    e->enum_names[i]);
        return err;
    }
    case CT_SPECIAL: return e->set ? e->set(e, v) : "unsupported";
    }
    return "unsupported";
}

const char *config_set(const char *name, const char *value, bool startup)
{
    const struct config_entry *e = config_find(name, strlen(name));
    if (!e) return "Unknown option";
    if (!startup && !e->mutable_) return "can't set immutable config";
    return set_entry(e, value);
}

size_t config_get_text(const struct config_entry *e, char *buf, size_t len)
{
    int n = 0;
    switch (e->type) {
    case CT_BOOL: n = snprintf(buf, len, "%s", *(int *)e->ptr ? "yes" : "no"); break;
    case CT_INT: n = snprintf(buf, len, "%d", *(int *)e->ptr); break;
    case CT_LL:
    case CT_MEMORY: n = snprintf(buf, len, "%lld", *(long long *)e->ptr); break;
    case CT_STRING: {
        char *s = *(char **)e->ptr;
        n = snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    case CT_ENUM: n = snprintf(buf, len, "%s", e->enum_names[*(int *)e->ptr]); break;
    case CT_SPECIAL: {
        char *s = e->ptr ? *(char **)e->ptr : NULL;
        n = snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    }
    if (n < 0) n = 0;
    if ((size_t)n >= len) n = (int)len - 1;
    return (size_t)n;
}

static bool apply_words(char **w, size_t *wl, int n, const char *where, int lineno)
{
    const struct config_entry *e;
    const char *err;
    char *joined;
    size_t total = 0, off = 0;
    int i;
    if (n == 0) return true;
    e = config_find(w[0], wl[0]);
    if (!e) {
        fprintf(stderr, "keel: %s:%d: unknown option '%s'\n", where, lineno, w[0]);
        return false;
    }
    /* Multi-word values (bind, save) are joined by spaces. */
    for (i = 1; i < n; i++) total += wl[i] + 1;
    joined = xmalloc(total + 1);
    for (i = 1; i < n; i++) {
        if (i > 1) joined[off++] = ' ';
        memcpy(joined + off, w[i], wl[i]);
        off += wl[i];
    }
    joined[off] = 0;
    err = set_entry(e, joined);
    if (err) fprintf(stderr, "keel: %s:%d: '%s': %s\n", where, lineno, w[0], err);
    free(joined);
    return err == NULL;
}

static bool load_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    int lineno = 0;
    bool ok = true;
    if (!f) {
        fprintf(stderr, "keel: cannot open config file '%s'\n", path);
        return false;
    }
    while (fgets(line, sizeof(line), f)) {
        char **w;
        size_t *wl;
        int n;
        char *p = line;
        lineno++;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == 0) continue;
        n = util_split_args(p, strlen(p), &w, &wl);
        if (n < 0) {
            fprintf(stderr, "keel: %s:%d: unbalanced quotes\n", path, lineno);
            ok = false;
            break;
        }
        if (!apply_words(w, wl, n, path, lineno)) ok = false;
        util_free_words(w, wl, n);
        if (!ok) break;
    }
    fclose(f);
    return ok;
}

bool config_load(int argc, char **argv)
{
    const struct config_entry *e;
    int i = 1;
    for (e = config_table; e->name; e++) {
        if (e->type == CT_STRING || (e->type == CT_SPECIAL && e->ptr)) *(char **)e->ptr = NULL;
        if (set_entry(e, e->deflt)) {
            fprintf(stderr, "keel: bad default for %s\n", e->name);
            return false;
        }
    }
    if (i < argc && strncmp(argv[i], "--", 2) != 0) {
        char *abs = realpath(argv[i], NULL);
        if (!abs) {
            fprintf(stderr, "keel: cannot open config file '%s'\n", argv[i]);
            return false;
        }
        g_config_file = abs;
        if (!load_file(abs)) return false;
        i++;
    }
    while (i < argc) {
        char *words[64];
        size_t lens[64];
        int n = 0;
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == 0) {
            fprintf(stderr, "keel: unexpected argument '%s' (options are --name value)\n", argv[i]);
            return false;
        }
        words[n] = argv[i] + 2;
        lens[n] = strlen(words[n]);
        n++;
        i++;
        while (i < argc && strncmp(argv[i], "--", 2) != 0 && n < 64) {
            words[n] = argv[i];
            lens[n] = strlen(argv[i]);
            n++;
            i++;
        }
        if (n == 1) { /* "--save" with no value means empty */
            words[n] = "";
            lens[n] = 0;
            n++;
        }
        if (!apply_words(words, lens, n, "command line", 0)) return false;
    }
    return true;
}

static void quote_value(FILE *f, const char *v)
{
    const char *p;
    bool plain = *v != 0;
    for (p = v; *p; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '\'' || *p == '\\' ||
            !isprint((unsigned char)*p))
            plain = false;
    if (plain) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (p = v; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (isprint((unsigned char)*p)) fputc(*p, f);
        else fprintf(f, "\\x%02x", (unsigned char)*p);
    }
    fputc('"', f);
}

const char *config_rewrite(void)
{
    /* Keep every line of the file; replace the first line of each known
     * option by its current value, drop its later duplicates, and append
     * options that differ from their defaults and were not in the file. */
    static char err[512];
    FILE *in, *out;
    char tmp[PATH_MAX + 16], line[65536];
    bool *seen;
    const struct config_entry *e;
    size_t nent = 0;
    if (!g_config_file) return "The server is running without a config file";
    for (e = config_table; e->name; e++) nent++;
    seen = xcalloc(nent, sizeof(bool));
    in = fopen(g_config_file, "r");
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", g_config_file, (int)getpid());
    out = fopen(tmp, "w");
    if (!out) {
        snprintf(err, sizeof(err), "Rewriting config file: %s", strerror(errno));
        if (in) fclose(in);
        free(seen);
        return err;
    }
    while (in && fgets(line, sizeof(line), in)) {
        char *p = line, name[128];
        size_t k = 0;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == 0) {
            fputs(line, out);
            continue;
        }
        while (p[k] && !isspace((unsigned char)p[k]) && k < sizeof(name) - 1) {
            name[k] = p[k];
            k++;
        }
        name[k] = 0;
        e = config_find(name, k);
        if (!e) {
            fputs(line, out);
            continue;
        }
        if (!seen[e - config_table]) {
            char v[4096];
            config_get_text(e, v, sizeof(v));
            fprintf(out, "%s ", e->name);
            if (!strcmp(e->name, "bind") || !strcmp(e->name, "save")) fputs(*v ? v : "\"\"", out);
            else quote_value(out, v);
            fputc('\n', out);
            seen[e - config_table] = true;
        }
    }
    for (e = config_table; e->name; e++) {
        char v[4096];
        if (seen[e - config_table]) continue;
        config_get_text(e, v, sizeof(v));
        if (strcmp(v, e->deflt) == 0) continue;
        if (e->type == CT_MEMORY) {
            unsigned long long d;
            if (parse_memory(e->deflt, &d) && (long long)d == *(long long *)e->ptr) continue;
        }
        fprintf(out, "%s ", e->name);
        if (!strcmp(e->name, "bind") || !strcmp(e->name, "save")) fputs(*v ? v : "\"\"", out);
        else quote_value(out, v);
        fputc('\n', out);
    }
    free(seen);
    if (in) fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 ||
        rename(tmp, g_config_file) != 0) {
        snprintf(err, sizeof(err), "Rewriting config file: %s", strerror(errno));
        unlink(tmp);
        return err;
    }
    return NULL;
}

/* http-allow-networks: the HTTP adapter's check (every word an address or
 * CIDR), then the text is kept. */
static const char *set_http_networks(const struct config_entry *e, const char *v)
{
    const char *err = run_checks(e, v);
    if (err) return err;
    free(*(char **)e->ptr);
    *(char **)e->ptr = xstrdup(v);
    return NULL;
}

/* A list of command names (http-disabled-commands): it must split as words
 * and every word must name a command, or the value is refused. A list that
 * does not parse is never taken as "nothing disabled" (fail closed). */
static const char *set_command_list(const struct config_entry *e, const char *v)
{
    static char err[256];
    char **w;
    size_t *wl;
    int n, i;
    registry_init(); /* idempotent: the table may be needed before main() builds it */
    n = util_split_args(v, strlen(v), &w, &wl);
    if (n < 0) return "Invalid list of command names (unbalanced quotes)";
    for (i = 0; i < n; i++) {
        if (!registry_lookup(w[i], wl[i])) {
            snprintf(err, sizeof(err), "Unknown command '%.*s' in the list (command names are separated by spaces)",
                     wl[i] > 64 ? 64 : (int)wl[i], w[i]);
            util_free_words(w, wl, n);
            return err;
        }
    }
    util_free_words(w, wl, n);
    free(*(char **)e->ptr);
    *(char **)e->ptr = xstrdup(v);
    return NULL;
}
