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
#include "tracking.h"

void core_init(int databases)
{
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
