/* core_init.c — the core's wiring, in plain code and in one place: which
 * modules keep per-client state (their free/RESET hooks) and which observe
 * the store's events, in the order they run. Nothing registers itself
 * (no constructors, no weak symbols): a module that is not named here is
 * not wired. */
#include "core_init.h"

#include "acl.h"
#include "aof.h"
#include "blocking.h"
#include "config.h"
#include "kernel.h"
#include "lazyfree.h"
#include "multi.h"
#include "propagate.h"
#include "pubsub.h"
#include "rdb.h"
#include "registry.h"
#include "slowlog.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "tracking.h"

/* Blocked clients' timeouts, at every loop iteration (a branch when none). */
static void blocking_timers(long long now_ms)
{
    if (blocking_count() > 0) blocking_cron(now_ms);
}

void core_init_types(void)
{
    obj_set_type_ops(OBJ_LIST, list_free_value, list_dup_value);
    obj_set_type_ops(OBJ_SET, set_free_value, set_dup_value);
    obj_set_type_ops(OBJ_ZSET, zset_free_value, zset_dup_value);
    obj_set_type_ops(OBJ_HASH, hash_free_value, hash_dup_value);
    /* what freeing each costs, for the lazy-free threshold (core/store/lazyfree.c) */
    lazyfree_set_effort(OBJ_LIST, list_free_effort);
    lazyfree_set_effort(OBJ_SET, set_free_effort);
    lazyfree_set_effort(OBJ_ZSET, zset_free_effort);
    lazyfree_set_effort(OBJ_HASH, hash_free_effort);
}

void core_init(int databases)
{
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
    /* Propagated commands go to the AOF. */
    propagate_set_sink(aof_feed);
    /* What runs around each command (kernel.h's seams). */
    {
        struct kernel_hooks h = {
            .refuse = {persist_reject, aof_reject},
            .acl = acl_refuse,
            .acl_exec = acl_refuse_in_exec,
            .multi_passthrough = multi_passthrough,
            .multi_queue = multi_queue,
            .multi_has_write = multi_has_write,
            .exec = cmd_exec,
            .call_begin = propagate_call_begin,
            .call_end = propagate_call_end,
            .ran = slowlog_after_command,
            .tracked = tracking_after_command,
            .ready = blocking_has_ready,
            .serve_ready = blocking_serve,
            .timers = blocking_timers,
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
}
