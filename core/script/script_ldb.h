/* script_ldb.h — the Lua debugger (Redis 7.0's LDB): SCRIPT DEBUG
 * YES|SYNC|NO, the debugging session an EVAL runs in (forked or
 * synchronous), its line hook, its command loop and its log. The session
 * talks with its client through the adapter's blocking seam (struct
 * client_session_ops in client.h). */
#ifndef KEEL_SCRIPT_LDB_H
#define KEEL_SCRIPT_LDB_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel.h"

struct lua_State;

/* SCRIPT DEBUG: mode 0 YES, 1 SYNC, 2 NO. */
void ldb_script_debug(struct exec *x, int mode);
/* The client asked for a debugging session at its next EVAL. */
bool ldb_client_enabled(const struct client *c);
/* EVAL (EVAL_RO) with debugging: starts the session (forked: in the
 * child; the parent drops the client and gets false), runs the script
 * through run (with x->r catching what is replied before the script
 * runs), then ends the session (a forked child exits here). */
void ldb_eval(struct exec *x, void (*run)(struct exec *x));

/* For script_eval.c / script_call.c while a script runs. */
bool ldb_active(void);
/* Install the debugger's line hook instead of the busy hook. */
void ldb_hook(struct lua_State *L);
/* The script returned (or failed): the last logs and "<endsession>" are
 * written; returns where its reply goes. */
struct reply *ldb_before_reply(void);
/* redis.call while stepping: the command, then its reply ("<reply> ..."
 * written by a struct ldb_tee, script_ldb_text.h; its text is taken). */
bool ldb_stepping(void);
void ldb_log_command(int argc, const struct argv_ref *argv);
struct obuf;
void ldb_log_reply(struct obuf *t);
/* An error raised to the script while stepping ("<error> msg"). */
void ldb_log_error(const char *msg, size_t n);
/* redis.debug and redis.breakpoint. */
int ldb_lua_debug(struct lua_State *L);
int ldb_lua_breakpoint(struct lua_State *L);
/* Reap finished forked sessions (server cron). */
void ldb_reap(void);

#endif
