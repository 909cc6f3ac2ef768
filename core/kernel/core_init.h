/* core_init.h — the core's explicit wiring (core_init.c). */
#ifndef KEEL_CORE_INIT_H
#define KEEL_CORE_INIT_H

/* Build the store with `databases` databases and the command table, and
 * connect the core's modules: per-client hooks and the store's observers,
 * in their fixed order. Once, before any client exists. */
void core_init(int databases);
/* Only the value types' free and deep-copy hooks (unit tests that build a
 * store without the rest). */
void core_init_types(void);

#endif
