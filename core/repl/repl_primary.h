/* repl_primary.h — the primary side's replicas (repl_primary.c): the
 * clients that became replicas (PSYNC/SYNC), their sync state, what the
 * stream sends them, their acknowledged offsets (WAIT,
 * min-replicas-to-write), the full-sync child, the replication cron. */
#ifndef KEEL_REPL_PRIMARY_H
#define KEEL_REPL_PRIMARY_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;
struct reply;

/* Wiring (core_init): per-client free hook. */
void repl_primary_init(void);
/* Bytes of the stream (repl.c's repl_feed_stream): sent to online
 * replicas, buffered for those waiting for their full sync. */
void repl_primary_feed(const void *p, size_t n);
/* Replicas attached, whatever their state. */
int repl_primary_count(void);
/* The replication cron (each server cron tick): backlog TTL, pings,
 * timeouts, starting full syncs, feeding RDB files. */
void repl_primary_cron(void);
/* Every loop iteration: move finished transfers along (cheap when idle). */
void repl_primary_tick(void);
/* The kernel's refusal seam: -NOREPLICAS when min-replicas-to-write is
 * not met for a write command. */
bool repl_primary_refuse(struct client *c, const struct command *cmd, struct reply *r);
/* A child process of ours ended (persist_cron): true if it was the
 * replication child (handled). */
bool repl_primary_child_done(int pid, int exitcode, int bysignal);

#endif
