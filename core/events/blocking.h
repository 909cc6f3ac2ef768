/* blocking.h — blocking commands (BLPOP, BZPOPMIN, ...) as observers of
 * store events. A handler that cannot serve now calls blocking_wait(): the
 * client is parked on its keys (FIFO per key) with its command kept. Any
 * event on such a key marks it ready; after the current command the kernel
 * calls blocking_serve(), which re-runs each waiting client's command in
 * FIFO order, and a command that now replies unblocks its client (whose
 * later pipelined commands then run). Inside MULTI/EXEC nothing blocks. */
#ifndef KEEL_BLOCKING_H
#define KEEL_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

struct exec;
struct client;
struct store_event;

enum block_timeout_reply {
    BT_NULL_ARRAY, /* every blocking command times out with *-1 / _ (BLMOVE too, as 7.0) */
    BT_NULL,
};

/* Parse a blocking timeout (seconds as a double, as Redis 6+): on success
 * sets *deadline_ms (0: wait forever; seconds are rounded up to whole
 * milliseconds, so a positive timeout waits at least 1 ms, never forever)
 * and returns true; else replies
 * Redis's error ("ERR timeout is not a float or out of range", "ERR timeout
 * is negative") and returns false. */
bool blocking_deadline(struct exec *x, long double seconds, long long *deadline_ms);
/* True while a waiting client's command is being re-run for a ready key:
 * a key of the wrong type then means "not ready" (Redis 7.0 serves only
 * keys of the type the client waits for), not WRONGTYPE. */
bool blocking_is_retry(struct exec *x);
/* While x is re-run for a ready key: that key (true), so a command that
 * serves one key per wake-up (XREAD, as Redis 7.0) can pick it. */
bool blocking_ready_key(struct exec *x, const char **key, size_t *klen);
/* After x's command ran: whether its client is (still) waiting, i.e. the
 * command has not completed yet (the slow log logs it once served). */
bool blocking_still_waiting(struct exec *x);
/* A waiting command's own state beside the arguments it was sent with
 * (XREAD's "$" as the ids it meant when the wait began): set once
 * blocking_wait took the client, read back by its re-runs (NULL
 * otherwise). The arguments stay as sent: the slow log shows them. */
void blocking_set_aux(struct exec *x, const void *p, size_t n);
const void *blocking_aux(struct exec *x, size_t *n);

/* The handler found nothing to serve. Returns true when the client now
 * waits (or keeps waiting, in a retry): the handler must return without
 * replying. Returns false when it must not block (inside MULTI/EXEC): the
 * handler replies with its timeout reply at once. keys: argv indexes. */
bool blocking_wait(struct exec *x, const int *key_pos, int nkeys, long long deadline_ms,
                   enum block_timeout_reply tr);

/* Serve clients waiting on keys that became ready (kernel, after each command). */
void blocking_serve(void);
bool blocking_has_ready(void);
/* Time out waiting clients whose deadline passed (kernel tick). */
void blocking_cron(long long now_ms);
/* CLIENT UNBLOCK: false if c was not blocked. */
bool blocking_unblock(struct client *c, bool with_error);
long long blocking_count(void); /* INFO blocked_clients */
/* What CLIENT UNBLOCK tries for a client not blocked here (WAIT's parked
 * clients, core/repl/repl_primary.c): true when it woke c. */
void blocking_set_unblock_other(bool (*fn)(struct client *c, bool with_error));
/* CLIENT LIST argv-mem of a blocked client: its waiting command's bytes. */
size_t blocking_argv_mem(struct client *c);

/* Register the per-client hook (core_init). */
void blocking_init(void);
void blocking_observer(const struct store_event *ev, void *priv);

#endif
