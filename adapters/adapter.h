/* adapter.h — what a protocol adapter gives the server: its definition,
 * which each adapter exports and adapters.c lists. */
#ifndef KEEL_ADAPTER_H
#define KEEL_ADAPTER_H

#include <stdbool.h>

struct event_base;

struct adapter_def {
    const char *name; /* its clients' adapter name: CLIENT LIST, /_metrics' protocol label */
    /* Before the configuration is read: checks of its config entries
     * (config_register_check). Optional. */
    void (*register_config)(void);
    /* Listen as its config entries say; false (having logged why) stops
     * the server. Optional: an adapter reached through another's
     * connections (WebSocket, upgraded from HTTP) has no listener. */
    bool (*listen)(struct event_base *base);
    /* At exit, in reverse order: close listeners, write what is pending and
     * free its connections. Optional. */
    void (*shutdown)(void);
};

#endif
