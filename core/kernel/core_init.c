/* core_init.c — the core's wiring, in plain code and in one place: which
 * modules keep per-client state (their free/RESET hooks) and which observe
 * the store's events, in the order they run. Nothing registers itself
 * (no constructors, no weak symbols): a module that is not named here is
 * not wired. */
#include "core_init.h"

#include "registry.h"
#include "blocking.h"
#include "kernel.h"
#include "multi.h"
#include "pubsub.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "tracking.h"

void core_init_types(void)
{
    obj_set_type_ops(OBJ_LIST, list_free_value, list_dup_value);
    obj_set_type_ops(OBJ_SET, set_free_value, set_dup_value);
    obj_set_type_ops(OBJ_ZSET, zset_free_value, zset_dup_value);
    obj_set_type_ops(OBJ_HASH, hash_free_value, hash_dup_value);
}

void core_init(int databases)
{
    core_init_types();
    store_init(databases);
    registry_init();
    kernel_init();
    /* Per-client state: hooks run in this order when a client is freed. */
    multi_init();
    pubsub_init();
    tracking_init();
    blocking_init();
    /* watch, tracking, blocking, notify (kernel.c). */
    kernel_register_observers();
}
