/* repl_pipe.h — the relay of a diskless full sync to replicas whose
 * connection has no socket a child may write to (TLS: every byte goes
 * through the transport), as Redis 7.0's rdb_pipe_conns: the child writes
 * $EOF:<mark>, the RDB and the mark into a pipe; the parent reads it on
 * the event loop and hands each chunk to every such replica through its
 * adapter's raw hook, reading on only once each replica's output has
 * drained below REPL_PIPE_MAX_PENDING (a slow replica slows the transfer,
 * a closed one leaves it, one that takes nothing for repl-timeout is
 * dropped). repl_primary.c owns the replicas and the child; this file
 * owns the pipe. */
#ifndef KEEL_REPL_PIPE_H
#define KEEL_REPL_PIPE_H

#include <stdbool.h>

struct client;

#define REPL_PIPE_MAX 8
#define REPL_PIPE_MAX_PENDING (1024 * 1024)

/* A new pipe before the fork: *wfd is the end the child writes (the
 * child calls repl_pipe_child to close the parent's end). False: none
 * (logged). */
bool repl_pipe_create(int *wfd);
/* In the child, after the fork: the parent's end closed (a parent that
 * stops reading makes the child's writes fail, not block). */
void repl_pipe_child(void);
/* In the parent, after the fork: the child's end closed, the n clients
 * fed from now on; done(ok) runs once the pipe reached its end (ok) or
 * failed, or no client is left (not ok). */
void repl_pipe_start(struct client *const *cs, int n, void (*done)(bool ok));
/* The pipe closed before its end (the fork failed, the child died):
 * done is not called. */
void repl_pipe_abort(void);
/* A relay is running (the pipe is open). */
bool repl_pipe_active(void);
/* A client is gone (closed, freed): it is fed no more. */
void repl_pipe_forget(struct client *c);
/* Every loop iteration (repl_primary_flush): reading resumes when every
 * client's output has drained below the limit. */
void repl_pipe_flush(void);
/* The loop must not sleep: reading waits for nothing but the next
 * iteration (repl_primary_sending). */
bool repl_pipe_busy(void);
/* Once a second: clients whose output took nothing for timeout_ms are
 * fed no more and handed to timedout (which drops them). */
void repl_pipe_cron(long long timeout_ms, void (*timedout)(struct client *c));

#endif
