/* script.h — Lua scripting's shared state (core/script/): the one Lua
 * interpreter, the run in progress (the caller, the script's own client
 * with its Lua-building reply sink, flags, timing, kill state) and the
 * functions the room's files give each other. A script is a kernel caller
 * with no socket: redis.call runs commands through kernel_run with the
 * script client, whose sink turns replies into Lua values. */
#ifndef KEEL_SCRIPT_H
#define KEEL_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

typedef struct lua_State lua_State;
struct client;
struct command;
struct exec;
struct argv_ref;

/* What redis.REDIS_VERSION / REDIS_VERSION_NUM answer (INFO's version). */
#define KEEL_REDIS_VERSION "7.0.15"
#define KEEL_REDIS_VERSION_NUM 0x07000F

/* Script flags (shebang "#!lua flags=..." / register_function flags). */
enum {
    SF_NO_WRITES = 1 << 0,
    SF_ALLOW_OOM = 1 << 1,
    SF_ALLOW_STALE = 1 << 2,
    SF_NO_CLUSTER = 1 << 3,
    SF_EVAL_COMPAT = 1 << 4, /* no shebang: EVAL as before 7.0 */
    SF_ALLOW_CROSS_SLOT = 1 << 5,
    /* Upstash's flag (@upstash/ratelimit's scripts carry it): accepted in
     * shebangs and without effect, since a Keel script runs alone anyway */
    SF_ALLOW_KEY_LOCKING = 1 << 6,
};

/* One frame of an aggregate being built by the script sink. */
struct ssink_frame {
    int kind;            /* enum reply_agg, or -1 for a RESP2-degraded array */
    long long remaining; /* values still expected (-1: deferred) */
    int idx;             /* next array index */
    bool have_key;       /* map: a key waits on the Lua stack */
};

#define SSINK_MAX_DEPTH 64

/* The script client's reply sink: replies become Lua values on the stack. */
struct script_sink {
    lua_State *L;
    struct ssink_frame frames[SSINK_MAX_DEPTH];
    int depth;
    int overflow;   /* frames past SSINK_MAX_DEPTH (values dropped) */
    int nvalues;    /* complete top-level values pushed */
    bool top_error; /* the (first) top-level value is an error */
};

/* The run in progress (one at a time: the kernel is single-threaded). */
struct script_run {
    lua_State *L;
    struct client *caller;
    const char *name; /* the script's sha or the function's name (errors) */
    bool is_function; /* FCALL (FUNCTION KILL, -BUSY's text) */
    bool read_only;   /* _RO command or no-writes flag */
    int flags;        /* SF_* */
    bool wrote;       /* a write command ran (UNKILLABLE) */
    bool busy;        /* past busy-reply-threshold: the loop is pumped */
    bool killed;      /* SCRIPT KILL / FUNCTION KILL asked */
    long long start_ms;
    int repl; /* REPL_* flags from redis.set_repl */
    int resp; /* redis.setresp */
    int argc; /* the command running it (FUNCTION STATS) */
    const struct argv_ref *argv;
};

extern struct script_run *g_script_run; /* NULL between scripts */
extern struct client *g_script_client;
extern struct script_sink g_script_sink;
extern const struct reply_ops script_sink_ops;

/* script_lua.c: the interpreter. */
lua_State *script_lua_new(void); /* libraries, sandbox, redis object */
void script_lua_close(lua_State *L);
/* Give the table at idx a metatable raising Redis's errors for a missing
 * key ("Script attempted to access nonexistent global variable") and for
 * a write; it becomes read-only. */
void script_lua_guard_table(lua_State *L, int idx);
/* Push a read-only environment table whose misses go to the globals (its
 * metatable's __index, which the functions engine switches). */
void script_lua_env_table(lua_State *L);
void script_srand48(int32_t seed);
/* Push the real globals table (scripts see a read-only view of it): where
 * KEYS and ARGV are set. */
void script_lua_push_globals(lua_State *L);
/* luaL_loadbuffer, but a precompiled chunk is parsed as text (refused
 * with the syntax error Redis's Lua gives), as every loader in scripts. */
int script_lua_load(lua_State *L, const char *p, size_t n, const char *chunkname);
/* The readonly-table check shared by the sandbox's wrappers. */
int script_lua_protect_table(lua_State *L, int idx);
/* Push an error table {err="CODE msg"} from "-CODE msg" or "msg". */
void script_push_error(lua_State *L, const char *msg, size_t n);
/* Raise the error table on top of the stack (never returns). */
int script_raise(lua_State *L);

/* script_call.c: the redis object's functions (installed by script_lua_new). */
void script_call_register(lua_State *L);

/* script_convert.c: replies <-> Lua. */
void script_sink_reset(lua_State *L);
/* Write the Lua value on top of the stack to r (and pop it). */
void script_lua_to_reply(lua_State *L, struct reply *r, int lua_resp);
/* An error reply; counted: a command's error already in INFO errorstats. */
void script_reply_error(struct reply *r, const char *text, bool counted);

/* script_eval.c: run a compiled function (on top of the stack) for EVAL or
 * FCALL; keys and args from argv. Replies to x->r. */
void script_run_function(struct exec *x, lua_State *L, const char *name, bool is_function,
                         int flags, bool ro, int nkeys, int keys_at, int nargs, int args_at);
/* SCRIPT FLUSH / the cache's interpreter. */
lua_State *script_eval_lua(void);
/* INFO memory's scripting lines (used_memory_lua ... used_memory_scripts_human). */
void script_info_memory(char *buf, size_t n);
/* -OOM (past maxmemory, without allow-oom) or MISCONF for a script that may
 * write (a shebang without no-writes), as Redis refuses it before it runs:
 * the error written to r. */
bool script_may_write_refused(struct client *c, int flags, struct reply *r);
/* The kernel's call_flags hook: EVAL/EVALSHA/FCALL (and _RO) declare the
 * flags of their script (a shebang's, a cached script's, a function's), as
 * Redis 7.0's getCommandFlags; other commands their own. */
uint32_t script_call_flags(const struct command *cmd, int argc, const struct argv_ref *argv);
/* Their handlers (named by the command table; compared by script_call_flags). */
void cmd_eval(struct exec *x);
void cmd_evalsha(struct exec *x);
void cmd_eval_ro(struct exec *x);
void cmd_evalsha_ro(struct exec *x);
void cmd_fcall(struct exec *x);
void cmd_fcall_ro(struct exec *x);
/* Parse a script flag name ("no-writes"): SF_*, 0 if unknown. */
int script_parse_flag(const char *p, size_t n);

/* function.c: libraries (FUNCTION LOAD, RDB, FUNCTION RESTORE). */
bool function_load(const char *code, size_t n, bool replace, char **err);
void function_rdb_each(void (*emit)(void *ctx, const char *code, size_t n), void *ctx);
bool function_rdb_load(const char *code, size_t n, bool replace, char *err, size_t errlen);

#endif
