/* script_busy.h — a script past busy-reply-threshold (script_busy.c): the
 * Lua count hook that notices it, keeps the server serving (the kernel's
 * event pump), refuses other commands with -BUSY, and stops the script
 * when SCRIPT KILL / FUNCTION KILL asked. */
#ifndef KEEL_SCRIPT_BUSY_H
#define KEEL_SCRIPT_BUSY_H

#include <stdbool.h>

typedef struct lua_State lua_State;
struct client;
struct command;
struct exec;
struct reply;
struct script_run;

void script_busy_begin(lua_State *L, struct script_run *run);
void script_busy_end(lua_State *L, struct script_run *run);
/* SCRIPT KILL (function = false) / FUNCTION KILL. */
void script_busy_kill(struct exec *x, bool function);
/* The kernel's refusal while a script is busy: -BUSY for every command
 * not flagged ALLOW_BUSY. */
bool script_busy_refuse(struct client *c, const struct command *cmd, struct reply *r);

#endif
