/* kernel.h — the sequencer. Every command from every adapter runs here,
 * one at a time on the event-loop thread, in arrival order: no command-path
 * locking exists, and each command, MULTI/EXEC and script is atomic by
 * construction. An adapter submits (client, argv); the kernel resolves the
 * command in the registry, checks auth, matches the arguments into typed
 * slots, runs the handler with a struct exec, counts statistics, and leaves
 * replies in the client's sink. A client can be parked (blocking commands,
 * CLIENT PAUSE) and resumed later without losing its pipelined commands:
 * while parked, its adapter holds later input unparsed. */
#ifndef KEEL_KERNEL_H
#define KEEL_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "client.h"
#include "reply.h"

struct db;

struct exec {
    struct client *c;
    struct db *db;
    const struct command *cmd;
    int argc;
    const struct argv_ref *argv;
    struct argval *args;
    struct reply *r;
    bool parked; /* the run parked its client (BLPOP, WAIT waiting): the
                  * slow log and the latency histogram wait for its end */
};

/* Typed-argument access: slots are generated from the schema (A_SET_key). */
#define ARG(x, slot) (&(x)->args[(slot)])
#define HAS(x, slot) ((x)->args[(slot)].present)
#define ARGP(x, slot) ((x)->argv[(x)->args[(slot)].pos].p)
#define ARGN(x, slot) ((x)->argv[(x)->args[(slot)].pos].n)
#define ARGI(x, slot) ((x)->args[(slot)].i)
#define ARGD(x, slot) ((x)->args[(slot)].d)
#define ARGLD(x, slot) ((x)->args[(slot)].ld)

/* For arguments declared keel_deferred_error: the matcher parsed the value
 * but left a bad one for the handler to report at the point Redis would
 * (e.g. after the key's type check). Replies the error and returns false. */
static inline bool arg_ok(struct exec *x, int slot)
{
    if (!x->args[slot].err) return true;
    reply_error(x->r, x->args[slot].err);
    return false;
}

enum kernel_status {
    KERNEL_DONE = 0, /* feed the next command */
    KERNEL_PARKED,   /* the client is parked: stop feeding until resume */
    KERNEL_CLOSE,    /* close the connection once replies are written */
};

/* The flags a call declares: the command's, or those of the script it
 * runs (EVAL / FCALL with a shebang or function flags; hooks.call_flags). */
uint32_t kernel_call_flags(const struct command *cmd, int argc, const struct argv_ref *argv);

void kernel_init(void);

/* The seams where modules above the kernel run around a command. The
 * kernel includes none of them: core_init fills this once (explicit
 * wiring), and a hook left NULL is skipped. */
#define KERNEL_MAX_REFUSALS 8
struct kernel_hooks {
    /* Checked in order before a command runs; true: refused, the error
     * written to r (MISCONF from snapshots, then from the AOF). */
    bool (*refuse[KERNEL_MAX_REFUSALS])(struct client *c, const struct command *cmd,
                                        struct reply *r);
    /* ACL: refused when the client's user may not run argv (NOPERM),
     * checked after NOAUTH and before the refusals above, as Redis. */
    bool (*acl)(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                struct reply *r);
    /* The same when EXEC runs a queued command (its own NOPERM text). */
    bool (*acl_exec)(struct client *c, const struct command *cmd, int argc,
                     const struct argv_ref *argv, struct reply *r);
    /* MULTI: which commands run at once between MULTI and EXEC, queueing
     * the others, whether a queue holds a write, and EXEC's handler. */
    bool (*multi_passthrough)(const struct command *cmd);
    void (*multi_queue)(struct client *c, const struct command *cmd, int argc,
                        const struct argv_ref *argv);
    bool (*multi_has_write)(struct client *c);
    cmd_fn exec;
    /* EXEC refused before it runs: leave MULTI, dropping the queue. */
    void (*exec_abort)(struct client *c);
    /* Around each handler (propagation to the AOF). */
    void (*call_begin)(void);
    void (*call_end)(struct exec *x);
    /* After each command that ran (matched or not), with its duration in
     * microseconds (the slow log). */
    void (*ran)(struct exec *x, long long usec);
    /* After a CLIENT TRACKING client's command (remember what it read). */
    void (*tracked)(struct exec *x);
    /* After each command: whether keys became ready, and serving the
     * clients blocked on them; at every loop iteration: their timeouts. */
    bool (*ready)(void);
    void (*serve_ready)(void);
    void (*timers)(long long now_ms);
    /* Clients CLIENT PAUSE never parks (monitors, as Redis's replicas). */
    bool (*pause_exempt)(struct client *c);
    /* A command's flags as this call declares them, where they depend on
     * its arguments (EVAL/FCALL: the script's flags, as Redis 7.0's
     * getCommandFlags); consulted only while CLIENT PAUSE WRITE is on. */
    uint32_t (*call_flags)(const struct command *cmd, int argc, const struct argv_ref *argv);
};
/* As Redis's islocalClient: the peer is 127.0.0.1 or ::1, or there is no
 * peer (an internal caller). Used by enable-*-command and protected configs. */
bool kernel_client_is_local(struct client *c);
void kernel_set_hooks(const struct kernel_hooks *h);
/* Upstream mode (core/upstream/forward.c): after the refusals, fn decides
 * whether a command runs here (-1) or is forwarded (its kernel_status; a
 * forwarded command parks its client until the reply is in). NULL, the
 * default, is local mode: one branch on the hot path. */
typedef int (*kernel_forward_fn)(struct client *c, const struct command *cmd, int argc,
                                 const struct argv_ref *argv, struct reply *r);
void kernel_set_forward(kernel_forward_fn fn);
/* Upstream mode: park c until the replies of its forwarded commands still
 * out are in (KERNEL_PARKED; resumed then), KERNEL_DONE when none are (and
 * always in local mode). An adapter whose request ends with a response
 * frame (a batch) settles before writing it. */
typedef int (*kernel_settle_fn)(struct client *c);
void kernel_set_settle(kernel_settle_fn fn);
enum kernel_status kernel_settle(struct client *c);
/* Run one command for c. argv entries must stay valid until it returns. */
enum kernel_status kernel_submit(struct client *c, int argc, const struct argv_ref *argv);

/* Match and run cmd for c with sink r (EXEC runs its queue with this). */
void kernel_run(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                struct reply *r);

/* A blocked command run again (blocking.c, a key it waits on is ready):
 * as kernel_run, but the call was counted when it first ran, as Redis
 * counts a blocked command once (calls, total_commands_processed). */
void kernel_run_again(struct client *c, const struct command *cmd, int argc,
                      const struct argv_ref *argv, struct reply *r);

/* A blocked command ended by CLIENT UNBLOCK (its reply written): a failed
 * call, its first run's time added, the `ran` hook told with no command
 * line, as Redis 7.0's updateStatsOnUnblock with had_errors (the slow log
 * gets an entry with no arguments, the latency histogram one sample). */
void kernel_count_unblocked(struct client *c, const struct command *cmd);

/* A command that ran elsewhere (upstream mode: forwarded, answered after
 * usec): counted as kernel_run counts one that ran here (the slow log,
 * latency, MONITOR, INFO commandstats; failed: it answered an error). */
void kernel_ran_elsewhere(struct client *c, const struct command *cmd, int argc,
                          const struct argv_ref *argv, struct reply *r, long long usec,
                          bool failed);

/* EXEC: whether a queued command is refused now (the acl_exec hook; the
 * error is written to r). */
bool kernel_exec_refused(struct client *c, const struct command *cmd, int argc,
                         const struct argv_ref *argv, struct reply *r);

/* Park c (from inside a handler or before running a command): the adapter
 * stops feeding it. retry, if given, is called on resume. */
void kernel_park(struct client *c, int (*retry)(struct client *c));
/* Where a parked command's late reply goes (a blocking command served or
 * timed out, WAIT): the client's sink, or `scratch` made a discarding one
 * when the command came under CLIENT REPLY OFF or SKIP. */
struct reply *kernel_parked_reply(struct client *c, struct reply *scratch);
/* Park c with a copy of argv, submitted again when c is resumed (CLIENT
 * PAUSE's way; the upstream forwarder's while earlier replies are out). */
void kernel_park_command(struct client *c, int argc, const struct argv_ref *argv);
/* Make a parked client active again; its adapter is told to continue
 * (deferred to after the current command). */
void kernel_resume(struct client *c);

/* CLIENT PAUSE: until `until_ms`, park clients (all, or only writers). */
void kernel_pause(long long until_ms, bool write_only);
void kernel_unpause(void);
bool kernel_paused_for(const struct command *cmd);
/* Whether a CLIENT PAUSE (ALL or WRITE) is in effect (eviction waits). */
bool kernel_pause_active(void);

/* The client whose command is running (NULL between commands). */
struct client *kernel_current(void);

/* CLIENT LIST argv-mem: the bytes of the arguments of c's command being
 * run at top level, or held while c is paused (0 otherwise). */
size_t kernel_argv_mem(struct client *c);

/* c's sink received output outside its own command (a push): flush it
 * through its adapter once the current command is done. */
void kernel_touch(struct client *c);

/* Work to run after each event-loop iteration: resumed clients. */
void kernel_after_events(void);
/* Periodic client housekeeping (server cron): idle `timeout`. */
void kernel_cron(void);

/* A long command (a script past busy-reply-threshold) keeps the server
 * serving: server/main.c installs a pump that runs one nonblocking pass of
 * the event loop; while it runs, kernel_after_events does nothing (no
 * resumed clients, no timers: the running command owns the dataset). */
void kernel_set_event_pump(void (*pump)(void));
void kernel_pump_events(void);
bool kernel_pumping(void);

/* Statistics for INFO. */
struct kernel_stats {
    long long commands_processed;
    long long rejected_calls, failed_calls;
    long long total_errors;
};
extern struct kernel_stats g_kstats;
/* Commands run by clients of the adapter named name ("resp", "http", "ws"). */
long long kernel_commands_of(const char *name);

#endif
