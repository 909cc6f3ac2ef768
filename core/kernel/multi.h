/* multi.h — transactions: MULTI/EXEC/DISCARD queueing and WATCH, whose
 * observer marks a client's transaction dirty when a watched key changes. */
#ifndef KEEL_MULTI_H
#define KEEL_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

struct client;
struct store_event;

/* Commands that run at once even between MULTI and EXEC. */
bool multi_passthrough(const struct command *cmd);
/* EXEC's handler: the kernel recognises EXEC by it (CLIENT PAUSE WRITE). */
struct exec;
void cmd_exec(struct exec *x);
/* Queue a command for EXEC (argv is copied). */
void multi_queue(struct client *c, const struct command *cmd, int argc,
                 const struct argv_ref *argv);
/* True if the queued commands include a write (CLIENT PAUSE WRITE holds EXEC). */
bool multi_has_write(struct client *c);
/* Whether c's queue holds a DENYOOM command (EXEC refused at OOM). */
bool multi_has_denyoom(struct client *c);
/* Inside MULTI: whether any queued command has flag (a CMD_* of
 * registry.h), whether any lacks it (EXEC refused while loading). */
bool multi_any_has(struct client *c, uint32_t flag);
bool multi_any_lacks(struct client *c, uint32_t flag);
/* Commands queued so far, or -1 outside MULTI (CLIENT LIST multi=). */
int multi_queued(struct client *c);
/* CLIENT LIST multi-mem: the queued arguments' bytes plus a pointer per
 * argument (Redis's mstate.argv_len_sums). */
size_t multi_mem(struct client *c);
/* How many keys c watches. */
size_t multi_watch_count(struct client *c);
/* Redis's is_write_command: a write, or EXEC of a queue holding one. */
bool multi_exec_is_write(struct client *c, const struct command *cmd);
/* A refusal's error: EXEC inside MULTI is aborted instead (EXECABORT
 * naming the error, the transaction discarded), as Redis's rejectCommand. */
void multi_refuse(struct client *c, const struct command *cmd, struct reply *r, const char *err);
/* Leave MULTI state, dropping queued commands (DISCARD, RESET). */
void multi_discard(struct client *c);
void multi_unwatch_all(struct client *c);

/* Register the per-client hooks: free, RESET (core_init). */
void multi_init(void);
void watch_observer(const struct store_event *ev, void *priv);

#endif
