/* tracking.h — client-side caching (CLIENT TRACKING): the table of keys
 * each tracking client has read, the BCAST prefix table, and invalidation
 * messages (RESP3 pushes, or `__redis__:invalidate` pub/sub messages to a
 * RESP2 redirect client). The store's events feed tracking_observer; the
 * kernel calls tracking_after_command after each command of a CF_TRACKING
 * client. The CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO handlers
 * live in core/commands/cmd_tracking.c. */
#ifndef KEEL_TRACKING_H
#define KEEL_TRACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct exec;
struct store_event;

/* Per-client tracking options (struct tracking_state's flags). */
enum {
    TRK_BCAST = 1 << 0,
    TRK_OPTIN = 1 << 1,
    TRK_OPTOUT = 1 << 2,
    TRK_NOLOOP = 1 << 3,
    TRK_CACHING = 1 << 4,      /* CLIENT CACHING yes|no given for the next command */
    TRK_BROKEN_REDIR = 1 << 5, /* the redirect client is gone */
};

/* CONFIG tracking-table-max-keys (0: no limit). */
extern long long tracking_table_max_keys;

/* Store observer (registered by the kernel, order: watch, tracking, ...). */
/* Register the per-client hook (core_init). */
void tracking_init(void);
void tracking_observer(const struct store_event *ev, void *priv);

/* After each command of a CF_TRACKING client: remember the keys a READONLY
 * command read, keep or drop the CLIENT CACHING flag, enforce
 * tracking-table-max-keys and send the client the invalidations of its own
 * writes (which follow its reply, as in Redis).
 * MULTI/EXEC contract: while commands are only being queued (CF_MULTI
 * without CF_IN_EXEC) nothing is remembered; EXEC should call this for
 * every queued command it runs, with CF_IN_EXEC set, and the kernel's call
 * for EXEC itself (CF_IN_EXEC cleared) then delivers what was held back. */
void tracking_after_command(struct exec *x);

/* Enable (options = TRK_BCAST|TRK_OPTIN|TRK_OPTOUT|TRK_NOLOOP) with an
 * optional redirect client id (0: none) and BCAST prefixes. */
void tracking_enable(struct client *c, uint64_t redirect, unsigned options, const char *const *pfx,
                     const size_t *pfxlen, size_t npfx);
/* CLIENT TRACKING off, RESET, disconnect. */
void tracking_disable(struct client *c);

/* Per-client state for CLIENT TRACKINGINFO / GETREDIR / CLIENT LIST. */
unsigned tracking_flags(const struct client *c);
/* The redirect id when tracking is on (0: none), else -1 (CLIENT LIST
 * redir=, CLIENT GETREDIR). */
long long tracking_redirect(const struct client *c);
size_t tracking_prefix_count(const struct client *c);
/* The i-th of c's BCAST prefixes, in Redis's (lexicographic) order. */
const char *tracking_prefix(const struct client *c, size_t i, size_t *len);
/* Set the CLIENT CACHING flag (the handler checked the mode). */
void tracking_set_caching(struct client *c);

/* INFO: tracking_clients, tracking_total_keys/items/prefixes. */
long long tracking_clients(void);
unsigned long long tracking_total_keys(void);
unsigned long long tracking_total_items(void);
unsigned long long tracking_total_prefixes(void);

#endif
