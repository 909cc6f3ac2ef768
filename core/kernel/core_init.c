/* core_init.c — the core's wiring, in plain code and in one place: which
 * modules keep per-client state (their free/RESET hooks) and which observe
 * the store's events, in the order they run. Nothing registers itself
 * (no constructors, no weak symbols): a module that is not named here is
 * not wired. */
#include "core_init.h"

#include "acl.h"
#include "aof.h"
#include "blocking.h"
#include "client_mem.h"
#include "cmd_memory.h"
#include "config.h"
#include "kernel.h"
#include "function.h"
#include "lazyfree.h"
#include "latency.h"
#include "loading.h"
#include "monitor.h"
#include "mem.h"
#include "multi.h"
#include "propagate.h"
#include "pubsub.h"
#include "rdb.h"
#include "script.h"
#include "script_busy.h"
#include "registry.h"
#include "reply_buffer.h"
#include "repl.h"
#include "repl_primary.h"
#include "repl_link.h"
#include "repl_replica.h"
#include "slowlog.h"
#include "store.h"
#include "t_hash.h"
#include "t_stream.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "tracking.h"

/* After each command that ran (kernel.h's `ran`): the slow log, the
 * latency monitor and histograms, then the MONITOR feed. */
static void after_command(struct exec *x, long long usec)
{
    slowlog_after_command(x, usec);
    latency_after_command(x, usec);
    monitor_after_command(x);
}

/* At every loop iteration (a branch when idle): blocked clients'
 * timeouts, and an eviction cycle cut short by its time limit. */
static void loop_timers(long long now_ms)
{
    if (blocking_count() > 0) blocking_cron(now_ms);
    maxmemory_continue();
    repl_primary_tick();
    repl_primary_cron();
}

/* The propagation sink's consumers: the AOF, then replication (each
 * emits its own SELECTs). */
static void propagate_fanout(int dbid, const void *p, size_t n)
{
    aof_feed(dbid, p, n);
    repl_feed_command(dbid, p, n);
}

/* CLIENT PAUSE never parks monitors, nor replicas (as Redis). */
static bool pause_exempt(struct client *c)
{
    return (c->flags & CF_REPLICA) || monitor_pause_exempt(c);
}

void core_init_types(void)
{
    obj_set_type_ops(OBJ_LIST, list_free_value, list_dup_value);
    obj_set_type_ops(OBJ_SET, set_free_value, set_dup_value);
    obj_set_type_ops(OBJ_ZSET, zset_free_value, zset_dup_value);
    obj_set_type_ops(OBJ_HASH, hash_free_value, hash_dup_value);
    obj_set_type_ops(OBJ_STREAM, stream_free_value, stream_dup_value);
    /* what freeing each costs, for the lazy-free threshold (core/store/lazyfree.c) */
    lazyfree_set_effort(OBJ_LIST, list_free_effort);
    lazyfree_set_effort(OBJ_SET, set_free_effort);
    lazyfree_set_effort(OBJ_ZSET, zset_free_effort);
    lazyfree_set_effort(OBJ_HASH, hash_free_effort);
    lazyfree_set_effort(OBJ_STREAM, stream_free_effort);
}

void core_init(int databases)
{
    mem_set_main_thread(); /* core/lib/mem.c: this thread's allocations counted without atomics */
    core_init_types();
    store_init(databases);
    registry_init();
    kernel_init();
    acl_init();
    config_register_check("requirepass", acl_requirepass_check);
    /* Per-client state: hooks run in this order when a client is freed. */
    multi_init();
    pubsub_init();
    tracking_init();
    blocking_init();
    client_mem_init(); /* maxmemory-clients' buckets forget freed clients */
    reply_buffer_init();
    /* Function libraries live in RDB files (core/script/function.c). */
    rdb_set_functions(function_rdb_each, function_rdb_load);
    rdb_set_functions_flush(function_flush);
    /* A replica's snapshots name its primary's stream (core/repl). */
    rdb_set_repl_info(repl_replica_save_info);
    repl_replica_init(); /* the link to a primary calls back into the replica side */
    monitor_init();
    /* Replication: a fresh replid; the replicas' per-client hook. */
    repl_init();
    repl_primary_init();
    repl_set_replica_feed(repl_primary_feed, repl_primary_count);
    blocking_set_unblock_other(repl_primary_unblock_wait); /* CLIENT UNBLOCK of a WAIT */
    persist_set_child_done(repl_primary_child_exit);
    /* FAILOVER turns this server into a replica and back (the replica
     * side); REPLCONF GETACK from our primary is answered by the link. */
    repl_set_failover_hooks(repl_replica_start, repl_replica_stop);
    repl_set_getack_hook(repl_link_send_ack);
    /* Propagated commands go to the AOF and to replication. */
    propagate_set_sink(propagate_fanout);
    /* What runs around each command (kernel.h's seams). */
    {
        struct kernel_hooks h = {
            /* a busy script refuses first (and nothing is evicted while it
             * runs); -OOM before MISCONF, as in Redis's processCommand */
            .refuse = {script_busy_refuse, maxmemory_refuse, persist_reject, aof_reject,
                       monitor_refuse, repl_primary_refuse, repl_replica_refuse,
                       loading_refuse /* -LOADING, after MASTERDOWN as Redis */},
            .acl = acl_refuse,
            .acl_exec = acl_refuse_in_exec,
            .multi_passthrough = multi_passthrough,
            .multi_queue = multi_queue,
            .multi_has_write = multi_has_write,
            .exec = cmd_exec,
            .exec_abort = multi_discard,
            .call_begin = propagate_call_begin,
            .call_end = propagate_call_end,
            .ran = after_command,
            .tracked = tracking_after_command,
            .ready = blocking_has_ready,
            .serve_ready = blocking_serve,
            .timers = loop_timers,
            .pause_exempt = pause_exempt,
            .call_flags = script_call_flags,
        };
        kernel_set_hooks(&h);
    }
    /* The store's observers, in their fixed order: WATCH marks transactions
     * dirty, tracking queues invalidations, blocking marks keys ready,
     * notify publishes keyspace events. */
    store_observe(watch_observer, NULL);
    store_observe(tracking_observer, NULL);
    store_observe(blocking_observer, NULL);
    store_observe(notify_observer, NULL);
    /* The store's own latency events (expire-del) go to the latency monitor. */
    store_set_latency_hook(latency_add_sample_if_needed);
    memory_mark_startup(); /* INFO used_memory_startup */
}
