/* client_limits.h — client-output-buffer-limit (client_limits.c): the
 * config entry's classes and limits, and the check every adapter makes
 * before and while it writes a client's output. */
#ifndef KEEL_CLIENT_LIMITS_H
#define KEEL_CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct config_entry;

enum obuf_class { OBUF_NORMAL = 0, OBUF_REPLICA = 1, OBUF_PUBSUB = 2, OBUF_NCLASSES = 3 };
struct obuf_limit {
    unsigned long long hard, soft; /* bytes; 0: no limit */
    long long soft_seconds;
};
extern struct obuf_limit g_obuf_limits[OBUF_NCLASSES];
/* The config's text form and its setter (config/config.c's table). */
extern char *g_obuf_limit_text;
const char *obuf_limit_config_set(const struct config_entry *e, const char *v);

/* Whether c, which holds `pending` bytes of output not yet written, must
 * be disconnected now: its hard limit is reached, or its soft limit has
 * been exceeded for longer than allowed. *soft_since_ms is the adapter's
 * per-connection memory of when the soft limit was first exceeded (0:
 * not exceeded). Logs the disconnection as Redis does. */
bool obuf_limit_reached(struct client *c, size_t pending, long long *soft_since_ms);

#endif
