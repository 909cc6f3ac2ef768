/* config_table.c — the configuration table: every entry Keel knows (name,
 * type, default, bounds, runtime-settable, help) and the setters that check
 * or apply a value. It sits above the modules it configures (the AOF,
 * keyspace notifications, output limits, tracking, HyperLogLog) and is
 * handed to config.c's machinery by config_init(): config.c itself knows no
 * module. Adapters add their checks with config_register_check(). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aof.h" /* appendonly: CONFIG SET starts/stops the log */
#include "client_limits.h"
#include "config.h"
#include "cmd_memory.h"  /* maxmemory evicts when lowered */
#include "hyperloglog.h" /* hll_sparse_max_bytes */
#include "lazyfree.h"    /* lazyfree-lazy-* */
#include "latency.h"     /* latency-monitor-threshold, latency-tracking* */
#include "pubsub.h"      /* notify-keyspace-events, client-output-buffer-limit */
#include "registry.h"    /* command-name lists are checked against the table */
#include "tracking.h"    /* tracking_table_max_keys */
#include "store.h"
#include "util.h"

static const char *const policy_names[] = {"volatile-lru",   "volatile-lfu", "volatile-random",
                                           "volatile-ttl",   "allkeys-lru",  "allkeys-lfu",
                                           "allkeys-random", "noeviction",   NULL};
/* Redis 7.0's levels ("nothing" came in 7.2). */
static const char *const appendfsync_names[] = {"everysec", "always", "no", NULL};
static const char *const io_backend_names[] = {"auto", "uring", "libevent", NULL};
static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};
/* Redis 7.0's protected-action values (enable-debug-command): local = only
 * from a loopback or unix-socket connection. */
static const char *const protected_action_names[] = {"no", "yes", "local", NULL};

static const char *apply_hz(const struct config_entry *e, const char *v);
static const char *apply_maxmemory(const struct config_entry *e, const char *v);
static const char *set_maxmemory_clients(const struct config_entry *e, const char *v);
static const char *apply_maxclients(const struct config_entry *e, const char *v);
static const char *run_checks(const struct config_entry *e, const char *v);
static const char *apply_listen(const struct config_entry *e, const char *v);
static const char *set_bind(const struct config_entry *e, const char *v);
static const char *set_save(const struct config_entry *e, const char *v);
static const char *set_http_networks(const struct config_entry *e, const char *v);
static const char *set_dir(const struct config_entry *e, const char *v);
static const char *set_command_list(const struct config_entry *e, const char *v);

#define LL_MAX_ LLONG_MAX

const struct config_entry config_table[] = {
    /* Runtime changes rebind the RESP listeners (the check adapters/resp registers). */
    {"bind", NULL, CT_SPECIAL, &g_config.bind, "127.0.0.1", 0, 0, true,
     "Addresses to listen on (space separated)", NULL, set_bind},
    {"port", NULL, CT_INT, &g_config.port, "6379", 0, 65535, true, "RESP TCP port (0: none)", NULL,
     apply_listen},
    {"tcp-backlog", NULL, CT_INT, &g_config.tcp_backlog, "511", 0, INT_MAX, false,
     "listen() backlog", NULL, NULL},
    {"timeout", NULL, CT_INT, &g_config.timeout, "0", 0, INT_MAX, true,
     "Close idle clients after this many seconds (0: never)", NULL, NULL},
    {"tcp-keepalive", NULL, CT_INT, &g_config.tcp_keepalive, "300", 0, INT_MAX, true,
     "TCP keepalive interval in seconds", NULL, NULL},
    {"databases", NULL, CT_INT, &g_config.databases, "16", 1, INT_MAX, false, "Number of databases",
     NULL, NULL},
    /* As Redis: any value is accepted, the effective one is clamped to 1..500. */
    {"hz", NULL, CT_INT, &g_config.hz, "10", 0, INT_MAX, true, "Background task frequency", NULL,
     apply_hz},
    /* Redis's bounds (unsigned int); values above INT_MAX are kept as INT_MAX. */
    {"maxclients", NULL, CT_INT, &g_config.maxclients, "10000", 1, 4294967295LL, true,
     "Most simultaneous clients", NULL, apply_maxclients},
    {"requirepass", NULL, CT_STRING, &g_config.requirepass, "", 0, 0, true,
     "Password clients must AUTH with (empty: none)", NULL, run_checks},
    /* Redis 7.0: refuse non-loopback clients while no password is set (adapters/net.c) */
    {"protected-mode", NULL, CT_BOOL, &g_config.protected_mode, "yes", 0, 1, true,
     "Without a password, serve loopback clients only", NULL, NULL},
    {"client-query-buffer-limit", NULL, CT_MEMORY, &g_config.client_query_buffer_limit, "1gb",
     1024 * 1024, LL_MAX_, true, "Most bytes one client's query buffer may hold", NULL, NULL},
    {"proto-max-bulk-len", NULL, CT_MEMORY, &g_config.proto_max_bulk_len, "512mb", 1024 * 1024,
     LL_MAX_, true, "Largest bulk string a client may send", NULL, NULL},
    {"maxmemory", NULL, CT_MEMORY, &g_config.maxmemory, "0", 0, LL_MAX_, true,
     "Memory limit (0: none)", NULL, apply_maxmemory},
    {"maxmemory-policy", NULL, CT_ENUM, &g_config.maxmemory_policy, "noeviction", 0, 0, true,
     "What to evict at maxmemory", policy_names, NULL},
    /* eviction (core/store/evict.c): Redis 7.0's types, defaults and bounds */
    {"maxmemory-samples", NULL, CT_INT, &g_config.maxmemory_samples, "5", 1, INT_MAX, true,
     "Keys sampled per database to pick an eviction victim", NULL, NULL},
    {"maxmemory-eviction-tenacity", NULL, CT_INT, &g_config.maxmemory_eviction_tenacity, "10", 0,
     100, true, "Time one eviction cycle may take (100: no limit)", NULL, NULL},
    {"lfu-log-factor", NULL, CT_INT, &g_config.lfu_log_factor, "10", 0, INT_MAX, true,
     "How slowly the LFU counter grows", NULL, NULL},
    {"lfu-decay-time", NULL, CT_INT, &g_config.lfu_decay_time, "1", 0, INT_MAX, true,
     "Minutes per decrement of an idle key's LFU counter", NULL, NULL},
    {"maxmemory-clients", NULL, CT_SPECIAL, &g_config.maxmemory_clients_text, "0", 0, 0, true,
     "Memory of all clients beyond which the biggest are disconnected (bytes or N% of maxmemory; "
     "0: none)",
     NULL, set_maxmemory_clients},
    {"lazyfree-lazy-eviction", NULL, CT_BOOL, &g_config.lazyfree_lazy_eviction, "no", 0, 1, true,
     "Free evicted values in the background", NULL, NULL},
    {"replica-ignore-maxmemory", "slave-ignore-maxmemory", CT_BOOL,
     &g_config.replica_ignore_maxmemory, "yes", 0, 1, true,
     "A replica does not evict (Keel has no replication)", NULL, NULL},
    {"loglevel", NULL, CT_ENUM, &g_config.loglevel, "notice", 0, 0, true, "Log verbosity",
     loglevel_names, NULL},
    {"logfile", NULL, CT_STRING, &g_config.logfile, "", 0, 0, false,
     "Log file (empty: standard output)", NULL, NULL},
    {"dir", NULL, CT_SPECIAL, &g_config.dir, "./", 0, 0, true,
     "Working directory (the process chdir()s to it)", NULL, set_dir},
    {"save", NULL, CT_SPECIAL, &g_config.save, "", 0, 0, true,
     "Snapshot points: seconds changes [seconds changes ...]", NULL, set_save},
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
     "Load a log whose last command is incomplete (truncating it) instead of refusing", NULL, NULL},
    {"aof-use-rdb-preamble", NULL, CT_BOOL, &g_config.aof_use_rdb_preamble, "yes", 0, 1, true,
     "Rewrites write the base file in RDB format", NULL, NULL},
    {"auto-aof-rewrite-percentage", NULL, CT_INT, &g_config.auto_aof_rewrite_percentage, "100", 0,
     INT_MAX, true, "Rewrite when the log grew by this percentage (0: never)", NULL, NULL},
    {"auto-aof-rewrite-min-size", NULL, CT_MEMORY, &g_config.auto_aof_rewrite_min_size, "64mb", 0,
     LL_MAX_, true, "... and is at least this large", NULL, NULL},
    {"aof-timestamp-enabled", NULL, CT_BOOL, &g_config.aof_timestamp_enabled, "no", 0, 1, true,
     "Accepted for compatibility (timestamp annotations are read, not written)", NULL, NULL},
    {"aof-rewrite-incremental-fsync", NULL, CT_BOOL, &g_config.aof_rewrite_incremental_fsync, "yes",
     0, 1, true, "Accepted for compatibility", NULL, NULL},
    {"no-appendfsync-on-rewrite", NULL, CT_BOOL, &g_config.no_appendfsync_on_rewrite, "no", 0, 1,
     true, "Accepted for compatibility", NULL, NULL},
    {"dbfilename", NULL, CT_STRING, &g_config.dbfilename, "dump.rdb", 0, 0, true,
     "Snapshot file name", NULL, NULL},
    {"rdbcompression", NULL, CT_BOOL, &g_config.rdbcompression, "yes", 0, 1, true,
     "LZF-compress strings longer than 20 bytes in snapshots", NULL, NULL},
    {"rdbchecksum", NULL, CT_BOOL, &g_config.rdbchecksum, "yes", 0, 1, false,
     "Write and check the CRC64 at the end of snapshots", NULL, NULL},
    {"stop-writes-on-bgsave-error", NULL, CT_BOOL, &g_config.stop_writes_on_bgsave_error, "yes", 0,
     1, true, "Refuse writes (MISCONF) while the last background save failed", NULL, NULL},
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
    {"io-backend", NULL, CT_ENUM, &g_config.io_backend, "libevent", 0, 0, false,
     "Connection I/O: libevent (the default), uring (io_uring), auto (uring when io_uring works)",
     io_backend_names, NULL},
    {"io-uring-test-fail", NULL, CT_BOOL, &g_config.io_uring_test_fail, "no", 0, 1, false,
     "Testing only: io_uring setup fails as where it is unavailable", NULL, NULL},
    {"slowlog-log-slower-than", NULL, CT_LL, &g_config.slowlog_log_slower_than, "10000", -1,
     LL_MAX_, true, "Log commands slower than this many microseconds (-1: none)", NULL, NULL},
    {"busy-reply-threshold", "lua-time-limit", CT_LL, &g_config.busy_reply_threshold, "5000", 0,
     LL_MAX_, true, "Milliseconds a script runs before other clients get -BUSY", NULL, NULL},
    {"slowlog-max-len", NULL, CT_LL, &g_config.slowlog_max_len, "128", 0, LL_MAX_, true,
     "Most entries the slow log keeps", NULL, NULL},
    /* latency monitor and tracking (core/events/latency.c) */
    {"latency-monitor-threshold", NULL, CT_LL, &latency_monitor_threshold, "0", 0, LL_MAX_, true,
     "Sample events that take at least this many milliseconds (0: off)", NULL, NULL},
    {"latency-tracking", NULL, CT_BOOL, &latency_tracking, "yes", 0, 1, true,
     "Keep a latency histogram per command (LATENCY HISTOGRAM, INFO latencystats)", NULL, NULL},
    {"latency-tracking-info-percentiles", NULL, CT_SPECIAL, &latency_percentiles_text, "50 99 99.9",
     0, 0, true, "Percentiles INFO latencystats reports", NULL, latency_percentiles_config_set},
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", CT_LL,
     &g_config.hash_max_listpack_entries, "512", 0, LL_MAX_, true,
     "Hashes with at most this many fields use a listpack", NULL, NULL},
    {"hash-max-listpack-value", "hash-max-ziplist-value", CT_MEMORY,
     &g_config.hash_max_listpack_value, "64", 0, LL_MAX_, true,
     "... and no field or value longer than this", NULL, NULL},
    {"stream-node-max-bytes", NULL, CT_MEMORY, &g_config.stream_node_max_bytes, "4096", 0, LL_MAX_,
     true, "A stream node's listpack grows to at most this many bytes", NULL, NULL},
    {"stream-node-max-entries", NULL, CT_LL, &g_config.stream_node_max_entries, "100", 0, LL_MAX_,
     true, "... and at most this many entries", NULL, NULL},
    {"set-max-intset-entries", NULL, CT_LL, &g_config.set_max_intset_entries, "512", 0, LL_MAX_,
     true, "Sets of at most this many integers use an intset", NULL, NULL},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", CT_LL,
     &g_config.zset_max_listpack_entries, "128", 0, LL_MAX_, true,
     "Sorted sets with at most this many members use a listpack", NULL, NULL},
    {"zset-max-listpack-value", "zset-max-ziplist-value", CT_MEMORY,
     &g_config.zset_max_listpack_value, "64", 0, LL_MAX_, true,
     "... and no member longer than this", NULL, NULL},
    {"list-max-listpack-size", "list-max-ziplist-size", CT_INT, &g_config.list_max_listpack_size,
     "-2", INT_MIN, INT_MAX, true, "List node size: >0 entries, -1..-5 = 4/8/16/32/64 KB", NULL,
     NULL},
    {"list-compress-depth", NULL, CT_INT, &g_config.list_compress_depth, "0", 0, INT_MAX, true,
     "List nodes kept uncompressed at each end (0: none compressed)", NULL, NULL},
    {"hll-sparse-max-bytes", NULL, CT_MEMORY, &hll_sparse_max_bytes, "3000", 0, LL_MAX_, true,
     "Sparse HyperLogLogs past this many bytes become dense", NULL, NULL},
    /* lazy free (core/store/lazyfree.c) */
    {"lazyfree-lazy-expire", NULL, CT_BOOL, &lazyfree_lazy_expire, "no", 0, 1, true,
     "Free big expired values on the lazy-free thread", NULL, NULL},
    {"lazyfree-lazy-server-del", NULL, CT_BOOL, &lazyfree_lazy_server_del, "no", 0, 1, true,
     "Free big overwritten or implicitly deleted values on the lazy-free thread", NULL, NULL},
    {"lazyfree-lazy-user-del", NULL, CT_BOOL, &lazyfree_lazy_user_del, "no", 0, 1, true,
     "DEL frees big values on the lazy-free thread, as UNLINK", NULL, NULL},
    {"lazyfree-lazy-user-flush", NULL, CT_BOOL, &lazyfree_lazy_user_flush, "no", 0, 1, true,
     "FLUSHALL/FLUSHDB without SYNC or ASYNC free asynchronously", NULL, NULL},
    {"replica-lazy-flush", "slave-lazy-flush", CT_BOOL, &lazyfree_replica_flush, "no", 0, 1, true,
     "A replica empties its dataset on the lazy-free thread before a full sync", NULL, NULL},
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
    {"http-allow-networks", NULL, CT_SPECIAL, &g_config.http_allow_networks, "0.0.0.0/0 ::/0", 0, 0,
     true, "Networks (CIDR, space separated) allowed to use the HTTP port", NULL,
     set_http_networks},
    {"http-allowed-origins", NULL, CT_STRING, &g_config.http_allowed_origins, "*", 0, 0, true,
     "Origins allowed by CORS and WebSocket upgrades (space separated; * any)", NULL, NULL},
    {"http-tokens", NULL, CT_STRING, &g_config.http_tokens, "", 0, 0, true,
     "Bearer tokens and the ACL user each runs as: <token> <user> pairs", NULL, NULL},
    {"http-disabled-commands", NULL, CT_SPECIAL, &g_config.http_disabled_commands,
     "FLUSHALL FLUSHDB CONFIG DEBUG SHUTDOWN KEYS", 0, 0, true,
     "Commands refused over HTTP and WebSocket (exact names)", NULL, set_command_list},
    {"http-readonly-token", NULL, CT_STRING, &g_config.http_readonly_token, "", 0, 0, true,
     "A second HTTP credential that may run only read-only commands (empty: none)", NULL, NULL},
    {"http-default-root", NULL, CT_STRING, &g_config.http_default_root, "", 0, 0, true,
     "The Webdis URL a GET of / runs (Webdis's default_root, e.g. /GET/index.html)", NULL, NULL},
    {"http-assets-dir", NULL, CT_STRING, &g_config.http_assets_dir, "", 0, 0, true,
     "Serve the dashboard's files from this folder (developing; empty: built in)", NULL, NULL},
    {"http-database", NULL, CT_INT, &g_config.http_database, "0", 0, INT_MAX, true,
     "The database HTTP and WebSocket clients start in (Webdis's database)", NULL, NULL},
    {"http-websockets", NULL, CT_BOOL, &g_config.http_websockets, "yes", 0, 1, true,
     "Accept WebSocket upgrades on the HTTP port (Webdis's websockets)", NULL, NULL},
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
    {"ws-max-message-size", NULL, CT_MEMORY, &g_config.ws_max_message, "64mb", 1024, LL_MAX_, true,
     "Largest WebSocket message (close 1009 beyond)", NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

/* Redis's flags of the entries above: dir and dbfilename are protected;
 * rdb-key-save-delay is hidden in Redis. Keel's own entries (http-*, ws-*,
 * max-multibulk-len, active-expire-enabled) stay visible: an operator finds
 * them with CONFIG GET * or CONFIG GET http-*, and CONFIG GET * lists
 * Redis's names plus those. */
const struct config_flag config_table_flags[] = {
    {"dir", CF_PROTECTED},
    {"dbfilename", CF_PROTECTED},
    {"rdb-key-save-delay", CF_HIDDEN},
    {"io-uring-test-fail", CF_HIDDEN},
    {NULL, 0},
};

static const char *apply_hz(const struct config_entry *e, const char *v)
{
    int *hz = e->ptr;
    (void)v;
    if (*hz < 1) *hz = 1;
    if (*hz > 500) *hz = 500;
    return NULL;
}

/* maxmemory: a lower limit evicts at once, as Redis's CONFIG SET does
 * (core/store/evict.c); not before the store exists (config file). */
static const char *apply_maxmemory(const struct config_entry *e, const char *v)
{
    (void)e, (void)v;
    if (g_store.dbs) maxmemory_apply(); /* core/commands/cmd_memory.c */
    return NULL;
}

/* maxmemory-clients: a memory value, or a percentage of maxmemory ("10%",
 * kept negative in maxmemory_clients), as Redis's percent configs. */
static const char *set_maxmemory_clients(const struct config_entry *e, const char *v)
{
    char **text = e->ptr, buf[32];
    size_t n = strlen(v);
    long long val;
    if (n > 1 && v[n - 1] == '%') {
        long long pct;
        if (!util_str2ll(v, n - 1, &pct) || pct < 0)
            return "argument must be a memory or percent value";
        if (pct > 100) return "percentage argument must be less or equal to 100";
        val = -pct;
        snprintf(buf, sizeof(buf), "%lld%%", pct);
    } else {
        unsigned long long u;
        if (!config_parse_memory(v, &u) || u > (unsigned long long)LLONG_MAX)
            return "argument must be a memory or percent value";
        val = (long long)u;
        snprintf(buf, sizeof(buf), "%lld", val);
    }
    g_config.maxmemory_clients = val;
    free(*text);
    *text = xstrdup(buf);
    return NULL;
}

/* requirepass: the default ACL user's password follows it (the check
 * core_init registers). */
static const char *run_checks(const struct config_entry *e, const char *v)
{
    return config_run_checks(e, v);
}

/* maxclients: a larger value first raises the open-files limit (the
 * check adapters/net.c registers). */
static const char *apply_maxclients(const struct config_entry *e, const char *v)
{
    return config_run_checks(e, v);
}

/* port: a new value moves the RESP listeners (the check adapters/resp
 * registers), as Redis's CONFIG SET port. */
static const char *apply_listen(const struct config_entry *e, const char *v)
{
    return config_run_checks(e, v);
}

/* bind: the RESP listeners move to the new addresses first (the adapter's
 * check); the text is kept only if they could. */
static const char *set_bind(const struct config_entry *e, const char *v)
{
    const char *err = config_run_checks(e, v);
    if (err) return err;
    free(*(char **)e->ptr);
    *(char **)e->ptr = xstrdup(v);
    return NULL;
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

/* http-allow-networks: the HTTP adapter's check (every word an address or
 * CIDR), then the text is kept. */
static const char *set_http_networks(const struct config_entry *e, const char *v)
{
    const char *err = config_run_checks(e, v);
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
            snprintf(err, sizeof(err),
                     "Unknown command '%.*s' in the list (command names are separated by spaces)",
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
