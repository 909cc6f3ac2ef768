/* cmd_server.c — the server group: DBSIZE FLUSHDB FLUSHALL SWAPDB TIME
 * SHUTDOWN and INFO. INFO reports real figures, laid out exactly as Redis
 * 7.0 lays them out: the process (RSS from /proc/self/statm, heap from
 * mallinfo2, CPU from getrusage), the kernel's and the store's counters,
 * per-command statistics from the registry, and per-error-code counts
 * (info_count_error). The figures come from the stats API (stats.h), which
 * the HTTP adapter's /_metrics and /_health read too. */
#include <event2/event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "latency.h"
#include "loading.h"
#include "log.h"
#include "server.h"
#include "stats.h"
#include "aof.h"
#include "blocking.h"
#include "cmd_memory.h"
#include "evict.h"
#include "propagate.h"
#include "pubsub.h"
#include "rdb.h"
#include "reply_buffer.h"
#include "repl.h"
#include "repl_primary.h"
#include "lazyfree.h"
#include "script.h"
#include "store.h"
#include "tracking.h"
#include "forward.h"
#include "up_route.h"
#include "util.h"

/* ---- DBSIZE FLUSHDB FLUSHALL SWAPDB TIME SHUTDOWN ---- */

/* DBSIZE */
void cmd_dbsize(struct exec *x)
{
    reply_int(x->r, (long long)dict_size(&x->db->keys));
}

/* FLUSHDB [ASYNC|SYNC] */
void cmd_flushdb(struct exec *x)
{
    /* Redis takes one mode word: "FLUSHDB ASYNC ASYNC" is a syntax error. */
    if (x->argc > 2) {
        reply_err(x->r, E_SYNTAX);
        return;
    }
    store_flushdb(x->db, HAS(x, A_FLUSHDB_async) ? ARG(x, A_FLUSHDB_async)->choice == 0
                                                 : lazyfree_lazy_user_flush != 0);
    propagate_force(x); /* AOF: even when the db was empty, as Redis (core/persist/propagate.c) */
    reply_ok(x->r);
}

/* FLUSHALL [ASYNC|SYNC] */
void cmd_flushall(struct exec *x)
{
    bool async = HAS(x, A_FLUSHALL_async) ? ARG(x, A_FLUSHALL_async)->choice == 0
                                          : lazyfree_lazy_user_flush != 0;
    int i;
    if (x->argc > 2) {
        reply_err(x->r, E_SYNTAX);
        return;
    }
    for (i = 0; i < g_store.ndb; i++)
        store_flushdb(store_db(i), async);
    /* As Redis: an RDB child is killed and, with save rules, the empty
     * dataset is saved at once (core/persist/cmd_persist.c). */
    /* (Redis 7.0 counts the keys removed, no more: an empty FLUSHALL is
     * no change, but it is propagated all the same) */
    persist_after_flushall();
    propagate_force(x); /* AOF: always propagated, as Redis (core/persist/propagate.c) */
    reply_ok(x->r);
}

/* SWAPDB index1 index2 */
void cmd_swapdb(struct exec *x)
{
    long long a = ARGI(x, A_SWAPDB_index1), b = ARGI(x, A_SWAPDB_index2);
    /* Redis reads both as C ints, the first before the second (index2's
     * parse error is deferred to here). */
    if (a < INT_MIN || a > INT_MAX) {
        reply_error(x->r, "ERR invalid first DB index");
        return;
    }
    if (!arg_ok(x, A_SWAPDB_index2)) return; /* "invalid second DB index" */
    if (b < INT_MIN || b > INT_MAX) {
        reply_error(x->r, "ERR invalid second DB index");
        return;
    }
    if (a < 0 || a >= g_store.ndb || b < 0 || b >= g_store.ndb) {
        reply_err(x->r, E_DB_INDEX);
        return;
    }
    if (a != b)
        store_swapdb((int)a, (int)b);
    else
        g_store.stats.dirty++;
    reply_ok(x->r);
}

/* TIME */
void cmd_time(struct exec *x)
{
    long long us = util_ustime();
    reply_array(x->r, 2);
    reply_bulk_ll(x->r, us / 1000000);
    reply_bulk_ll(x->r, us % 1000000);
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] */
void cmd_shutdown(struct exec *x)
{
    if (HAS(x, A_SHUTDOWN_abort)) {
        /* ABORT combines with no other flag; what it cancels is a signal's
         * shutdown the cron has not begun yet (Redis's shutdown_asap). */
        if (HAS(x, A_SHUTDOWN_nosave_save) || HAS(x, A_SHUTDOWN_now) || HAS(x, A_SHUTDOWN_force)) {
            reply_err(x->r, E_SYNTAX);
        } else if (g_server.shutdown_signal) {
            g_server.shutdown_signal = 0;
            log_notice("Shutdown manually aborted.");
            reply_ok(x->r);
        } else {
            reply_error(x->r, "ERR No shutdown in progress.");
        }
        return;
    }
    /* A busy script runs (this command came through its event pump): only
     * SHUTDOWN NOSAVE stops the server then, as Redis. */
    if (kernel_pumping() &&
        !(HAS(x, A_SHUTDOWN_nosave_save) && ARG(x, A_SHUTDOWN_nosave_save)->choice == 0)) {
        reply_error(x->r, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                          "SHUTDOWN NOSAVE.");
        return;
    }
    /* The save step (core/persist/cmd_persist.c): SAVE forces it, NOSAVE skips it,
     * by default it happens when save rules are configured. A failed save
     * stops the shutdown unless FORCE. On success there is no reply: the
     * connection closes with the process, as in Redis. */
    {
        int how = !HAS(x, A_SHUTDOWN_nosave_save)               ? 0
                  : ARG(x, A_SHUTDOWN_nosave_save)->choice == 0 ? -1
                                                                : 1;
        if (!persist_prepare_shutdown(how) && !HAS(x, A_SHUTDOWN_force)) {
            reply_error(x->r, "ERR Errors trying to SHUTDOWN. Check logs.");
            return;
        }
    }
    log_warning("User requested shutdown... (client id %llu)", (unsigned long long)x->c->id);
    if (HAS(x, A_SHUTDOWN_now)) repl_shutdown_now(); /* no wait for lagging replicas */
    x->c->flags |= CF_CLOSE_AFTER_REPLY;
    server_request_shutdown(0);
}

/* ---- error statistics ---- */

#define MAX_ERROR_CODES 128

static struct {
    char code[33];
    long long count;
} err_stats[MAX_ERROR_CODES];
static int n_err_stats;

/* Count one error reply by its code (its first word, as Redis's
 * afterErrorReply: up to the first space within 32 bytes, else "ERR"),
 * and in total_error_replies. Called for every error written to a client
 * (replies turned off included), never for internal executions. */
void info_count_error(const char *text, size_t n);
void info_count_error(const char *text, size_t n)
{
    g_kstats.total_errors++; /* total_error_replies: every error, as errorstats */
    /* (Redis looks at 32 bytes of "-CODE ...": 31 of the text; a text that
     * starts with '-' is "--CODE" on the wire, its code "-CODE") */
    const char *sp = memchr(text, ' ', n < 31 ? n : 31);
    size_t len = sp ? (size_t)(sp - text) : 3;
    const char *code = sp ? text : "ERR";
    int lo = 0, hi = n_err_stats - 1, i;
    while (lo <= hi) { /* kept sorted by code, as Redis's rax */
        int mid = (lo + hi) / 2;
        int c = strncmp(err_stats[mid].code, code, len);
        if (c == 0 && err_stats[mid].code[len] != 0) c = 1;
        if (c == 0) {
            err_stats[mid].count++;
            return;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    if (n_err_stats == MAX_ERROR_CODES) return;
    for (i = n_err_stats; i > lo; i--)
        err_stats[i] = err_stats[i - 1];
    memcpy(err_stats[lo].code, code, len);
    err_stats[lo].code[len] = 0;
    err_stats[lo].count = 1;
    n_err_stats++;
}

/* ---- INFO ---- */

struct info {
    char *p;
    size_t len, cap;
    int sections;
};

static void info_catf(struct info *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info_catf(struct info *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        size_t room = s->cap - s->len;
        va_start(ap, fmt);
        n = vsnprintf(s->p ? s->p + s->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < room) {
            s->len += (size_t)n;
            return;
        }
        s->cap = (s->cap ? s->cap * 2 : 4096) + (size_t)n;
        s->p = xrealloc(s->p, s->cap);
    }
}

/* "\r\n" between sections, then the header. */
static void info_section(struct info *s, const char *title)
{
    if (s->sections++) info_catf(s, "\r\n");
    info_catf(s, "# %s\r\n", title);
}

/* As Redis's bytesToHuman. */
static void bytes_human(char *buf, size_t len, unsigned long long n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    int u = -1;
    if (n < 1024) {
        snprintf(buf, len, "%lluB", n);
        return;
    }
    while (u < 4 && d >= 1024) {
        d /= 1024;
        u++;
    }
    if (d >= 1024)
        snprintf(buf, len, "%lluB", n);
    else
        snprintf(buf, len, "%.2f%c", d, units[u]);
}

/* CONFIG RESETSTAT (config/cmd_config.c): clear what INFO keeps here, as
 * Redis's resetErrorTableStats and its instantaneous-metric reset. */
void info_reset_stats(void)
{
    n_err_stats = 0;
    stats_reset_rates();
    lazyfree_reset_stats(); /* lazyfreed_objects */
    latency_reset_histograms();
    g_server.stat_reads = g_server.stat_writes = 0;
    g_server.stat_fork_time_us = g_server.stat_total_forks = 0;
    g_evict.evicted_keys = 0; /* core/store/evict.c */
    g_evict.evicted_clients = 0;
    g_reply_buffer_shrinks = g_reply_buffer_expands = 0; /* core/kernel/reply_buffer.c */
    g_evict.total_eviction_exceeded_time_ms = 0;
    if (g_evict.over_since_ms) g_evict.over_since_ms = util_mstime();
}

static void info_server(struct info *s)
{
    struct utsname un;
    char exe[PATH_MAX] = "";
    long long now_us = util_ustime(), up = (now_us / 1000 - g_server.start_ms) / 1000;
    /* io_uring when connections use the ring (adapters/uring.c), else
     * libevent's method (epoll). */
    const char *api = g_server.io_uring ? "io_uring"
                      : g_server.base   ? event_base_get_method(g_server.base)
                                        : "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    if (uname(&un) != 0) memset(&un, 0, sizeof(un));
    info_section(s, "Server");
    info_catf(s,
              "redis_version:7.0.15\r\n"
              "redis_git_sha1:00000000\r\n"
              "redis_git_dirty:0\r\n"
              "redis_build_id:0\r\n"
              "redis_mode:standalone\r\n"
              "os:%s %s %s\r\n"
              "arch_bits:%d\r\n"
              "monotonic_clock:POSIX clock_gettime\r\n"
              "multiplexing_api:%s\r\n"
              "atomicvar_api:c11-builtin\r\n"
              "gcc_version:%d.%d.%d\r\n"
              "process_id:%ld\r\n"
              "process_supervised:no\r\n"
              "run_id:%s\r\n"
              "tcp_port:%d\r\n"
              "server_time_usec:%lld\r\n"
              "uptime_in_seconds:%lld\r\n"
              "uptime_in_days:%lld\r\n"
              "hz:%d\r\n"
              "configured_hz:%d\r\n"
              "lru_clock:%u\r\n"
              "executable:%s\r\n"
              "config_file:%s\r\n"
              "io_threads_active:0\r\n"
              "keel_mode:%s\r\n",
              un.sysname, un.release, un.machine, (int)(sizeof(long) * 8), api,
#ifdef __GNUC__
              __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
              0, 0, 0,
#endif
              (long)getpid(), g_server.run_id, g_config.port, now_us, up, up / 86400, g_config.hz,
              g_config.hz, g_store.lruclock, exe, g_config_file ? g_config_file : "",
              g_up.enabled ? "upstream" : "local");
}

static void info_clients(struct info *s)
{
    struct client *c;
    size_t max_in = 0, max_out = 0;
    long long blocked = 0;
    for (c = g_clients.head; c; c = c->next) {
        size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
        if (c->adapter && c->adapter->buffers)
            c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
        if (qbuf > max_in) max_in = qbuf;
        if (omem > max_out) max_out = omem;
        /* clients parked by CLIENT PAUSE count, as Redis's postponed ones */
        if (c->state == CLIENT_PARKED) blocked++;
    }
    info_section(s, "Clients");
    info_catf(s,
              "connected_clients:%lld\r\n"
              "cluster_connections:0\r\n"
              "maxclients:%d\r\n"
              "client_recent_max_input_buffer:%zu\r\n"
              "client_recent_max_output_buffer:%zu\r\n"
              "blocked_clients:%lld\r\n"
              "tracking_clients:%lld\r\n"
              "clients_in_timeout_table:%lld\r\n",
              /* replicas are not counted, as Redis (connected_slaves) */
              g_clients.count - repl_primary_count(), g_config.maxclients, max_in, max_out, blocked,
              tracking_clients(), blocking_count());
}

static void info_memory(struct info *s)
{
    struct mem_overhead mh;
    size_t total = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
    char h_used[32], h_rss[32], h_peak[32], h_total[32], h_max[32], policy[64] = "";
    const struct config_entry *pe = config_find("maxmemory-policy", 16);
    char lua_lines[1024];
    script_info_memory(lua_lines, sizeof(lua_lines));
    memory_overhead(&mh); /* core/commands/cmd_memory.c, as MEMORY STATS */
    if (pe) config_get_text(pe, policy, sizeof(policy));
    bytes_human(h_used, sizeof(h_used), mh.total);
    bytes_human(h_rss, sizeof(h_rss), mh.rss);
    bytes_human(h_peak, sizeof(h_peak), mh.peak);
    bytes_human(h_total, sizeof(h_total), total);
    bytes_human(h_max, sizeof(h_max), (unsigned long long)g_config.maxmemory);
    info_section(s, "Memory");
    info_catf(
        s,
        "used_memory:%zu\r\n"
        "used_memory_human:%s\r\n"
        "used_memory_rss:%zu\r\n"
        "used_memory_rss_human:%s\r\n"
        "used_memory_peak:%zu\r\n"
        "used_memory_peak_human:%s\r\n"
        "used_memory_peak_perc:%.2f%%\r\n"
        "used_memory_overhead:%zu\r\n"
        "used_memory_startup:%zu\r\n"
        "used_memory_dataset:%zu\r\n"
        "used_memory_dataset_perc:%.2f%%\r\n"
        "allocator_allocated:%zu\r\n"
        "allocator_active:%zu\r\n"
        "allocator_resident:%zu\r\n"
        "total_system_memory:%zu\r\n"
        "total_system_memory_human:%s\r\n"
        "%s" /* scripting: core/script/script_eval.c */
        "maxmemory:%lld\r\n"
        "maxmemory_human:%s\r\n"
        "maxmemory_policy:%s\r\n"
        "allocator_frag_ratio:%.2f\r\n"
        "allocator_frag_bytes:%lld\r\n"
        "allocator_rss_ratio:%.2f\r\n"
        "allocator_rss_bytes:%lld\r\n"
        "rss_overhead_ratio:%.2f\r\n"
        "rss_overhead_bytes:%lld\r\n"
        "mem_fragmentation_ratio:%.2f\r\n"
        "mem_fragmentation_bytes:%lld\r\n"
        "mem_not_counted_for_evict:%zu\r\n"
        "mem_replication_backlog:%zu\r\n"
        "mem_total_replication_buffers:0\r\n"
        "mem_clients_slaves:0\r\n"
        "mem_clients_normal:%zu\r\n"
        "mem_cluster_links:0\r\n"
        "mem_aof_buffer:%zu\r\n"
        "mem_allocator:libc\r\n"
        "active_defrag_running:0\r\n"
        "lazyfree_pending_objects:%llu\r\n"
        "lazyfreed_objects:%llu\r\n",
        mh.total, h_used, mh.rss, h_rss, mh.peak, h_peak, mh.peak_perc, mh.overhead_total,
        mh.startup, mh.dataset, mh.dataset_perc, mh.allocator_allocated, mh.allocator_active,
        mh.allocator_resident, total, h_total, lua_lines, g_config.maxmemory, h_max, policy,
        mh.allocator_allocated ? (double)mh.allocator_active / (double)mh.allocator_allocated : 0.0,
        (long long)mh.allocator_active - (long long)mh.allocator_allocated,
        mh.allocator_active ? (double)mh.allocator_resident / (double)mh.allocator_active : 0.0,
        (long long)mh.allocator_resident - (long long)mh.allocator_active,
        mh.allocator_resident ? (double)mh.rss / (double)mh.allocator_resident : 0.0,
        (long long)mh.rss - (long long)mh.allocator_resident,
        mh.total ? (double)mh.rss / (double)mh.total : 0.0, (long long)mh.rss - (long long)mh.total,
        mh.aof_buffer, repl_backlog_exists() ? repl_backlog_size() : (size_t)0, mh.clients_normal,
        mh.aof_buffer, lazyfree_pending_objects(), lazyfree_freed_objects());
}

static void info_persistence(struct info *s)
{
    /* a diskless full sync (CHILD_REPL) is an RDB child too, as in Redis */
    bool rdb_child = g_server.child_pid > 0 &&
                     (g_server.child_type == CHILD_RDB || g_server.child_type == CHILD_REPL);
    info_section(s, "Persistence");
    info_catf(s,
              /* loading and rdb_* fields: the RDB side (core/persist/cmd_persist.c) */
              "loading:%d\r\n"
              "async_loading:%d\r\n"
              "current_cow_peak:0\r\n"
              "current_cow_size:0\r\n"
              "current_cow_size_age:0\r\n"
              "current_fork_perc:0.00\r\n"
              "current_save_keys_processed:0\r\n"
              "current_save_keys_total:0\r\n"
              "rdb_changes_since_last_save:%lld\r\n"
              "rdb_bgsave_in_progress:%d\r\n"
              "rdb_last_save_time:%lld\r\n"
              "rdb_last_bgsave_status:%s\r\n"
              "rdb_last_bgsave_time_sec:%lld\r\n"
              "rdb_current_bgsave_time_sec:%lld\r\n"
              "rdb_saves:%lld\r\n"
              "rdb_last_cow_size:%lld\r\n"
              "rdb_last_load_keys_expired:%lld\r\n"
              "rdb_last_load_keys_loaded:%lld\r\n",
              g_server.loading && !loading_async() ? 1 : 0, loading_async() ? 1 : 0,
              g_store.stats.dirty, rdb_child ? 1 : 0,
              g_server.lastsave ? g_server.lastsave : g_server.start_ms / 1000,
              g_server.lastbgsave_failed ? "err" : "ok", g_server.rdb_save_time_last,
              rdb_child ? (util_mstime() - g_server.rdb_save_time_start) / 1000 : -1LL,
              g_server.rdb_saves, g_server.rdb_last_cow_size, rdb_last_load_keys_expired,
              rdb_last_load_keys_loaded);
    /* aof_* fields: the AOF side (core/persist/aof.c) */
    {
        char ab[2048];
        aof_info_text(ab, sizeof(ab));
        info_catf(s, "%s", ab);
    }
    if (g_server.loading)
        info_catf(s,
                  "loading_start_time:%lld\r\n"
                  "loading_total_bytes:%lld\r\n"
                  "loading_rdb_used_mem:%lld\r\n"
                  "loading_loaded_bytes:%lld\r\n"
                  "loading_loaded_perc:%.2f\r\n"
                  "loading_eta_seconds:%lld\r\n",
                  g_server.loading_start_time, g_server.loading_total_bytes, loading_rdb_used_mem(),
                  g_server.loading_loaded_bytes,
                  g_server.loading_total_bytes ? 100.0 * (double)g_server.loading_loaded_bytes /
                                                     (double)g_server.loading_total_bytes
                                               : 0.0,
                  loading_eta_seconds()); /* core/persist/loading.c */
}

static void info_stats(struct info *s)
{
    struct stats st;
    stats_read(&st);
    info_section(s, "Stats");
    info_catf(
        s,
        "total_connections_received:%lld\r\n"
        "total_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:%lld\r\n"
        "total_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\n"
        "total_net_repl_input_bytes:%lld\r\n"
        "total_net_repl_output_bytes:%lld\r\n"
        "instantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\n"
        "instantaneous_input_repl_kbps:0.00\r\n"
        "instantaneous_output_repl_kbps:0.00\r\n"
        "rejected_connections:%lld\r\n"
        "sync_full:%lld\r\n"
        "sync_partial_ok:%lld\r\n"
        "sync_partial_err:%lld\r\n"
        "expired_keys:%lld\r\n"
        "expired_stale_perc:%.2f\r\n"
        "expired_time_cap_reached_count:%lld\r\n"
        "expire_cycle_cpu_milliseconds:%lld\r\n"
        "evicted_keys:%lld\r\n"
        "evicted_clients:%lld\r\n"
        "total_eviction_exceeded_time:%lld\r\n"
        "current_eviction_exceeded_time:%lld\r\n"
        "keyspace_hits:%lld\r\n"
        "keyspace_misses:%lld\r\n"
        "pubsub_channels:%lld\r\n"
        "pubsub_patterns:%lld\r\n"
        "pubsubshard_channels:%lld\r\n"
        "latest_fork_usec:%lld\r\n"
        "total_forks:%lld\r\n"
        "migrate_cached_sockets:0\r\n"
        "slave_expires_tracked_keys:0\r\n"
        "active_defrag_hits:0\r\n"
        "active_defrag_misses:0\r\n"
        "active_defrag_key_hits:0\r\n"
        "active_defrag_key_misses:0\r\n"
        "total_active_defrag_time:0\r\n"
        "current_active_defrag_time:0\r\n"
        "tracking_total_keys:%llu\r\n"
        "tracking_total_items:%llu\r\n"
        "tracking_total_prefixes:%llu\r\n"
        "unexpected_error_replies:0\r\n"
        "total_error_replies:%lld\r\n"
        "dump_payload_sanitizations:0\r\n"
        "total_reads_processed:%lld\r\n"
        "total_writes_processed:%lld\r\n"
        "io_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\n"
        "reply_buffer_shrinks:%lld\r\n"
        "reply_buffer_expands:%lld\r\n",
        st.total_connections, st.commands_processed, st.ops_per_sec, st.net_input_bytes,
        st.net_output_bytes, g_repl_stats.net_repl_input_bytes, g_repl_stats.net_repl_output_bytes,
        st.input_kbps, st.output_kbps, st.rejected_connections, g_repl_stats.sync_full,
        g_repl_stats.sync_partial_ok, g_repl_stats.sync_partial_err, st.expired_keys,
        (double)g_store.stats.expired_stale_perc, g_store.stats.expired_time_cap_reached,
        g_store.stats.expire_cycle_us / 1000, g_evict.evicted_keys, g_evict.evicted_clients,
        g_evict.total_eviction_exceeded_time_ms + evict_exceeded_now_ms(), evict_exceeded_now_ms(),
        st.keyspace_hits, st.keyspace_misses, pubsub_channel_count(), pubsub_pattern_count(),
        pubsub_shard_channel_count(), g_server.stat_fork_time_us, g_server.stat_total_forks,
        tracking_total_keys(), tracking_total_items(), tracking_total_prefixes(), st.total_errors,
        g_server.stat_reads, g_server.stat_writes, g_reply_buffer_shrinks, g_reply_buffer_expands);
}

static void info_replication(struct info *s)
{
    /* Both roles' fields come from core/repl (cmd_repl.c). */
    struct sbuf b;
    sbuf_init(&b);
    repl_info_text(&b);
    info_section(s, "Replication");
    info_catf(s, "%.*s", (int)b.len, (const char *)b.p);
    sbuf_free(&b);
}

static void info_cpu(struct info *s)
{
    struct rusage self, children, thread;
    memset(&thread, 0, sizeof(thread));
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
    getrusage(RUSAGE_THREAD, &thread); /* INFO runs on the main thread */
#endif
    info_section(s, "CPU");
    info_catf(s,
              "used_cpu_sys:%ld.%06ld\r\n"
              "used_cpu_user:%ld.%06ld\r\n"
              "used_cpu_sys_children:%ld.%06ld\r\n"
              "used_cpu_user_children:%ld.%06ld\r\n"
              "used_cpu_sys_main_thread:%ld.%06ld\r\n"
              "used_cpu_user_main_thread:%ld.%06ld\r\n",
              (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
              (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec,
              (long)children.ru_stime.tv_usec, (long)children.ru_utime.tv_sec,
              (long)children.ru_utime.tv_usec, (long)thread.ru_stime.tv_sec,
              (long)thread.ru_stime.tv_usec, (long)thread.ru_utime.tv_sec,
              (long)thread.ru_utime.tv_usec);
}

static void info_cmdstat(void *priv, const struct command *c)
{
    struct info *s = priv;
    if (c->calls || c->failed_calls || c->rejected_calls)
        info_catf(s,
                  "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
                  "failed_calls=%lld\r\n",
                  c->fullname, c->calls, c->usec,
                  c->calls ? (double)(float)((float)c->usec / (float)c->calls) : 0.0,
                  c->rejected_calls, c->failed_calls);
}

static void info_commandstats(struct info *s)
{
    info_section(s, "Commandstats");
    stats_foreach_command(info_cmdstat, s);
}

static void info_errorstats(struct info *s)
{
    int i;
    info_section(s, "Errorstats");
    for (i = 0; i < n_err_stats; i++)
        info_catf(s, "errorstat_%s:count=%lld\r\n", err_stats[i].code, err_stats[i].count);
}

static void info_latency_line(void *priv, const char *line)
{
    info_catf(priv, "%s", line);
}

static void info_latencystats(struct info *s)
{
    info_section(s, "Latencystats");
    latency_info(info_latency_line, s); /* core/events/latency.c */
}

static void info_keyspace(struct info *s)
{
    int i;
    info_section(s, "Keyspace");
    for (i = 0; i < g_store.ndb; i++) {
        long long keys, exp;
        stats_db(i, &keys, &exp);
        if (keys || exp)
            info_catf(s, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", i, keys, exp,
                      store_db(i)->avg_ttl);
    }
}

/* Keel's upstream mode (core/upstream): the cluster map and each node's
 * figures; nothing in local mode. */
static void info_upstream(struct info *s)
{
    int i;
    if (!g_up.enabled) return;
    info_section(s, "Upstream");
    info_catf(s,
              "upstream_state:%s\r\nupstream_cluster:%d\r\nupstream_slots_assigned:%d\r\n"
              "upstream_nodes:%d\r\nupstream_inflight:%lld\r\nupstream_slot_map_loads:%lld\r\n"
              "upstream_redirects:%lld\r\n",
              up_route_state(), g_up.cluster, g_up.slots_ok, g_up.nnodes, forward_inflight(),
              g_up.refreshes, g_up.redirects);
    for (i = 0; i < g_up.nnodes; i++) {
        const struct up_node *nd = &g_up.nodes[i];
        info_catf(s,
                  "upstream_node%d:addr=%s,role=%s,state=%s,calls=%lld,errors=%lld,fails=%lld,"
                  "avg_latency_us=%lld\r\n",
                  i, nd->addr, nd->master ? "master" : "other", nd->up ? "up" : "down", nd->calls,
                  nd->errors, nd->fails, nd->calls ? nd->usec / nd->calls : 0);
    }
}

/* The sections, in Redis's order. "default" takes those marked so; "all"
 * and "everything" take every one. */
static const struct {
    const char *name, *alias;
    bool deflt;
    void (*fn)(struct info *s);
} info_sections[] = {
    {"server", NULL, true, info_server},
    {"clients", NULL, true, info_clients},
    {"memory", NULL, true, info_memory},
    {"persistence", NULL, true, info_persistence},
    {"stats", NULL, true, info_stats},
    {"replication", NULL, true, info_replication},
    {"cpu", NULL, true, info_cpu},
    {"modules", "module_list", true, NULL},
    {"commandstats", NULL, false, info_commandstats},
    {"errorstats", NULL, true, info_errorstats},
    {"latencystats", NULL, false, info_latencystats},
    {"cluster", NULL, true, NULL},
    {"keyspace", NULL, true, info_keyspace},
    {"upstream", NULL, true, info_upstream}, /* Keel's (upstream mode only) */
};
#define NSECTIONS (sizeof(info_sections) / sizeof(info_sections[0]))

static void info_empty_section(struct info *s, size_t k)
{
    static const char *const titles[NSECTIONS] = {
        [7] = "Modules", [10] = "Latencystats", [11] = "Cluster"};
    info_section(s, titles[k]);
    if (k == 11) info_catf(s, "cluster_enabled:0\r\n");
}

/* INFO [section [section ...]] */
void cmd_info(struct exec *x)
{
    bool want[NSECTIONS] = {false}, all = false;
    struct info s = {NULL, 0, 0, 0};
    const struct argval *sec = ARG(x, A_INFO_section);
    size_t k;
    int i;

    if (!HAS(x, A_INFO_section)) {
        for (k = 0; k < NSECTIONS; k++)
            want[k] = info_sections[k].deflt;
    } else {
        for (i = 0; i < sec->count; i++) {
            const struct argv_ref *a = &x->argv[sec->list[i]];
            if (util_eqci(a->p, a->n, "all") || util_eqci(a->p, a->n, "everything")) {
                all = true;
            } else if (util_eqci(a->p, a->n, "default")) {
                for (k = 0; k < NSECTIONS; k++)
                    want[k] |= info_sections[k].deflt;
            } else {
                for (k = 0; k < NSECTIONS; k++)
                    if (util_eqci(a->p, a->n, info_sections[k].name) ||
                        (info_sections[k].alias && util_eqci(a->p, a->n, info_sections[k].alias)))
                        want[k] = true;
            }
        }
    }
    for (k = 0; k < NSECTIONS; k++) {
        if (!all && !want[k]) continue;
        if (info_sections[k].fn)
            info_sections[k].fn(&s);
        else
            info_empty_section(&s, k);
    }
    reply_verbatim(x->r, s.p ? s.p : "", s.len);
    free(s.p);
}
