/* propagate.h — command propagation: what reaches the append-only log
 * (and, later, replicas) after a command ran. The kernel brackets every
 * command with propagate_call_begin/end; a command that changed the
 * dataset (g_store.stats.dirty grew, expirations aside) is propagated as
 * the client sent it, unless its handler rewrote it, exactly as Redis 7.0
 * does (SET EX -> SET PXAT, EXPIRE -> PEXPIREAT, INCRBYFLOAT -> SET
 * KEEPTTL, SPOP -> SREM, BLPOP -> LPOP, ...). The commands one top-level
 * call propagates are emitted together: wrapped in MULTI/EXEC when there
 * are several (EXEC, SPOP with a count), with SELECT whenever the database
 * changes. Keys deleted by expiry or eviction are propagated as DEL (UNLINK
 * under lazyfree-lazy-expire / -eviction): at once outside a command (active
 * expiry), else with the command that met them (lazy expiry), in its
 * MULTI/EXEC (not SCAN's / RANDOMKEY's run directly), as Redis 7.0. Nothing is built while no
 * consumer (the AOF) is on. */
#ifndef KEEL_PROPAGATE_H
#define KEEL_PROPAGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

struct exec;
struct store_event;

/* True while something consumes propagation (appendonly on or starting,
 * or a replication backlog exists). */
extern bool g_propagate_on;
/* Each consumer says whether it is on; g_propagate_on is their union. */
enum { PROPAGATE_AOF = 1, PROPAGATE_REPL = 2 };
void propagate_set_consumer(unsigned which, bool on);
static inline bool propagating(void)
{
    return g_propagate_on;
}

/* Replace the running command's propagation by this command; each call
 * adds one (SPOP COUNT: one SREM per member). argv is copied. */
void propagate_rewrite(struct exec *x, int argc, const struct argv_ref *argv);
/* Same with C strings / byte runs: n pairs of (const char *p, size_t len). */
void propagate_rewritev(struct exec *x, int argc, ...);
/* Shorthands: SET key value PXAT when; PEXPIREAT key when; the running
 * EXPIRE-family command as PEXPIREAT with argv[2] = when (options kept). */
void propagate_set_pxat(struct exec *x, const char *key, size_t klen, const char *val, size_t vlen,
                        long long when);
void propagate_pexpireat(struct exec *x, const char *key, size_t klen, long long when);
void propagate_as_pexpireat(struct exec *x, long long when);
/* Propagate nothing for the running command. */
void propagate_prevent(struct exec *x);
/* Propagate the running command even if it changed nothing (FLUSHALL). */
void propagate_force(struct exec *x);

/* Where the pending list of the current top-level call stands, and
 * dropping what was added since (a script's redis.set_repl(REPL_NONE)). */
size_t propagate_mark(void);
void propagate_drop_since(size_t mark);

/* Kernel hooks around each command run (nested for EXEC). */
/* The consumer of the propagated stream: each command in the AOF's
 * format, with the db it ran in (-1: no SELECT needed). */
typedef void (*propagate_sink_fn)(int dbid, const void *p, size_t n);
void propagate_set_sink(propagate_sink_fn fn);
void propagate_call_begin(void);
void propagate_call_end(struct exec *x);

/* Store observer: expired keys -> DEL. */
void propagate_observer(const struct store_event *ev, void *priv);

/* Serialize argv as a RESP multibulk into a growable buffer. */
struct sbuf;
void propagate_format(struct sbuf *out, int argc, const struct argv_ref *argv);

#endif
