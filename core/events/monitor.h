/* monitor.h — MONITOR: clients that receive a line for every command the
 * server runs, in Redis 7.0's format and cases. The core builds the line
 * text (`<secs>.<usecs> [<db> <addr>] "arg" ...`, arguments quoted as
 * Redis's sdscatrepr); the client's adapter delivers it (its
 * `monitor_line` hook, else as a status reply: `+<line>\r\n` over RESP). */
#ifndef KEEL_MONITOR_H
#define KEEL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

struct client;
struct exec;

/* Register the per-client hooks (RESET and disconnect leave monitor mode). */
void monitor_init(void);
/* MONITOR: c enters monitor mode (false: it already was). */
bool monitor_add(struct client *c);
bool monitor_is(const struct client *c);
long long monitor_count(void);
/* The kernel's pause_exempt hook: CLIENT PAUSE never parks a monitor. */
bool monitor_pause_exempt(struct client *c);
/* A kernel refusal (core_init): as Redis, which makes a monitor a replica,
 * a monitor may not run commands that read or write the keyspace ("ERR
 * Replica can't interact with the keyspace"). */
bool monitor_refuse(struct client *c, const struct command *cmd, struct reply *r);

/* The kernel's `ran` hook part: feed x's command to the monitors unless
 * Redis hides it (ADMIN and SKIP_MONITOR commands, the re-run of a served
 * blocked command, commands of internal callers such as the AOF loader). */
void monitor_after_command(struct exec *x);

/* The scripting hooks. A script's client whose adapter is named "lua"
 * is shown with the address `lua` by monitor_after_command, like Redis's
 * `[<db> lua]` lines, with no more work. EVAL, EVALSHA and FCALL are
 * SKIP_MONITOR in Redis 7.0, which feeds them itself before the script
 * runs (so the EVAL line precedes its commands' lines, and an EVALSHA
 * answered NOSCRIPT is shown too): their handlers call monitor_feed_now(x)
 * first. A caller with another kind of client can feed each command a
 * script ran with monitor_feed_script (address `lua`, database dbid). */
void monitor_feed_now(struct exec *x);
void monitor_feed_script(const struct command *cmd, int dbid, int argc,
                         const struct argv_ref *argv);

/* The line for one command without the "+" and CRLF (newly allocated,
 * *len set): exposed for tests. addr is "ip:port", "lua" or "unix:path". */
char *monitor_format(long long ustime, int dbid, const char *addr, int argc,
                     const struct argv_ref *argv, const bool *redact, size_t *len);

#endif
