/* adapters.h — the list of adapters (adapters.c) that server/main.c
 * starts and stops; what each one gives is adapter.h. Adding an
 * adapter is its own folder, one line in adapters.c, and its entries in
 * the config table. */
#ifndef KEEL_ADAPTERS_H
#define KEEL_ADAPTERS_H

#include "adapter.h"

/* Every adapter, NULL-terminated, in start-up order. */
extern const struct adapter_def *const adapters[];

#endif
