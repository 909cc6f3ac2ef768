/* kernel.c — the sequencer (kernel.h): resolve, authorize (protected
 * commands, AUTH, MISCONF, subscribed mode), match, run, count; park and
 * resume clients; CLIENT PAUSE. */
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct kernel_stats g_kstats;

/* The modules above the kernel that run around each command, wired by
 * core_init (kernel_set_hooks); a unit test may leave any of them unset. */
static struct kernel_hooks hooks;

void kernel_set_hooks(const struct kernel_hooks *h)
{
    hooks = *h;
}

static kernel_forward_fn forward;

void kernel_set_forward(kernel_forward_fn fn)
{
    forward = fn;
}

static kernel_settle_fn settle;

void kernel_set_settle(kernel_settle_fn fn)
{
    settle = fn;
}

enum kernel_status kernel_settle(struct client *c)
{
    return settle ? (enum kernel_status)settle(c) : KERNEL_DONE;
}

/* The clock at the end of the previous command of the current batch (0:
 * read it afresh). One clock read per command times it and stamps it. */
static long long clock_us;
static int run_depth; /* kernel_run's nesting (a script's or EXEC's commands) */

static struct client *current;
/* The last figures taken (kernel_run): a counter, the sink and its error
 * count then. */
static unsigned long long stats_gen;
static struct reply *stats_sink;
static unsigned stats_nerr;

/* The top-level command being run (CLIENT LIST argv-mem). */
static struct client *submitting;
static const struct argv_ref *submitting_argv;
static int submitting_argc;

/* The running command is a write (see kernel_run and store.h's paused). */
static bool running_write;

/* The busy-script pump (kernel_pump_events) and its depth. */
static void (*event_pump)(void);
static int pumping;

struct client *kernel_current(void)
{
    return current;
}

/* Clients to resume once the current command has finished. */
static struct client **resume_q;
static size_t resume_n, resume_cap;

static struct {
    long long until_ms;
    bool active;
    bool write_only;
} pause_state;

struct parked_cmd {
    int argc;
    struct argv_ref *argv;
    char *mem;
};

void kernel_init(void)
{
    memset(&g_kstats, 0, sizeof(g_kstats));
    pause_state.active = false;
}

bool kernel_pause_active(void)
{
    return pause_state.active;
}

bool kernel_paused_for(const struct command *cmd)
{
    if (!pause_state.active) return false;
    if (!pause_state.write_only) return true;
    return (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)) != 0;
}

uint32_t kernel_call_flags(const struct command *cmd, int argc, const struct argv_ref *argv)
{
    /* Only the script commands (EVAL*, FCALL*: Redis marks just them
     * NO_MANDATORY_KEYS) declare flags per call: the others skip the hook. */
    if (!(cmd->flags & CMD_NO_MANDATORY_KEYS) || !hooks.call_flags) return cmd->flags;
    return hooks.call_flags(cmd, argc, argv);
}

/* kernel_paused_for with the flags this call declares (hooks.call_flags). */
static bool paused_for_call(const struct command *cmd, int argc, const struct argv_ref *argv)
{
    if (!pause_state.active) return false;
    if (!pause_state.write_only) return true;
    return (kernel_call_flags(cmd, argc, argv) & (CMD_WRITE | CMD_MAY_REPLICATE)) != 0;
}

static void park_command(struct client *c, int argc, const struct argv_ref *argv)
{
    struct parked_cmd *pc = xmalloc(sizeof(*pc));
    size_t total = 0, off = 0;
    int i;
    for (i = 0; i < argc; i++)
        total += argv[i].n + 1;
    pc->argc = argc;
    pc->argv = xmalloc(sizeof(struct argv_ref) * (size_t)argc);
    pc->mem = xmalloc(total ? total : 1);
    for (i = 0; i < argc; i++) {
        memcpy(pc->mem + off, argv[i].p, argv[i].n);
        pc->mem[off + argv[i].n] = 0;
        pc->argv[i].p = pc->mem + off;
        pc->argv[i].n = argv[i].n;
        off += argv[i].n + 1;
    }
    c->parked_argc = argc;
    c->parked_argv = (struct argv_ref_owned *)pc;
    c->flags |= CF_PAUSED;
    c->state = CLIENT_PARKED;
}

static void free_parked(struct client *c)
{
    struct parked_cmd *pc = (struct parked_cmd *)c->parked_argv;
    if (!pc) return;
    free(pc->argv);
    free(pc->mem);
    free(pc);
    c->parked_argv = NULL;
    c->parked_argc = 0;
}

static bool subscribed_mode_allows(const struct command *cmd)
{
    static const char *const ok[] = {
        "subscribe",    "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe",
        "sunsubscribe", "ping",        "quit",       "reset",        NULL};
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    int i;
    for (i = 0; ok[i]; i++)
        if (strcmp(top->name, ok[i]) == 0) return true;
    return false;
}

/* Commands flagged PROTECTED in their schema run only as the option named
 * here allows (Redis 7.0's enable-debug-command / enable-module-command):
 * no, yes, or local = from a loopback connection. A protected command with
 * no entry here never runs (its error names enable-<command>-command, the
 * way Redis names these options). */
static const struct {
    const char *name, *option;
    const int *value;
} protected_options[] = {
    {"debug", "enable-debug-command", &g_config.enable_debug_cmd},
};

/* As Redis's islocalClient: the peer is 127.0.0.1 or ::1 (the adapter's
 * "ip:port" text); a client with no peer (internal) is local. */
bool kernel_client_is_local(struct client *c)
{
    char addr[128] = "", laddr[128] = "";
    const char *colon;
    int fd = -1;
    size_t n;
    if (!c->adapter || !c->adapter->describe) return true;
    c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    colon = strrchr(addr, ':');
    n = colon ? (size_t)(colon - addr) : strlen(addr);
    return (n == 9 && memcmp(addr, "127.0.0.1", 9) == 0) || (n == 3 && memcmp(addr, "::1", 3) == 0);
}

static bool protected_refused(struct client *c, const struct command *cmd, struct reply *r)
{
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    char upper[64], option[96];
    int value = 0; /* no */
    size_t i;
    if (!(cmd->flags & CMD_PROTECTED) && !(top->flags & CMD_PROTECTED)) return false;
    for (i = 0; i < sizeof(protected_options) / sizeof(protected_options[0]); i++) {
        if (strcmp(top->name, protected_options[i].name) == 0) {
            snprintf(option, sizeof(option), "%s", protected_options[i].option);
            value = *protected_options[i].value;
            break;
        }
    }
    if (i == sizeof(protected_options) / sizeof(protected_options[0]))
        snprintf(option, sizeof(option), "enable-%s-command", top->name);
    if (value == 1 || (value == 2 && kernel_client_is_local(c))) return false;
    for (i = 0; top->name[i] && i < sizeof(upper) - 1; i++)
        upper[i] =
            (char)(top->name[i] >= 'a' && top->name[i] <= 'z' ? top->name[i] - 32 : top->name[i]);
    upper[i] = 0;
    reply_errorf(r,
                 "ERR %s command not allowed. If the %s option is set to \"local\", you can run "
                 "it from a local connection, otherwise you need to set this option in the "
                 "configuration file, and then restart the server.",
                 upper, option);
    return true;
}

/* Commands run per adapter ("resp", "http", "ws"; scripts' and the AOF
 * loader's clients have none): the dashboard's ops/s by protocol. A few
 * pointer compares a command. */
#define KERNEL_MAX_ADAPTERS 8
static struct {
    const char *name;
    long long n;
} by_adapter[KERNEL_MAX_ADAPTERS];

static void count_adapter(const char *name)
{
    int i;
    for (i = 0; i < KERNEL_MAX_ADAPTERS && by_adapter[i].name; i++)
        if (by_adapter[i].name == name || strcmp(by_adapter[i].name, name) == 0) {
            by_adapter[i].n++;
            return;
        }
    if (i < KERNEL_MAX_ADAPTERS) {
        by_adapter[i].name = name;
        by_adapter[i].n = 1;
    }
}

long long kernel_commands_of(const char *name)
{
    long long n = 0;
    int i;
    for (i = 0; i < KERNEL_MAX_ADAPTERS && by_adapter[i].name; i++)
        if (strcmp(by_adapter[i].name, name) == 0) n += by_adapter[i].n;
    return n;
}

/* A command's figures once it ran (usec long, failed or not): the `ran`
 * hook (the slow log, the latency monitor and histograms, MONITOR), INFO
 * commandstats, the counters by adapter. */
static void ran(struct exec *x, long long usec, bool failed, bool again)
{
    struct command *cmd = (struct command *)x->cmd;
    if (hooks.ran) hooks.ran(x, usec); /* the slow log (core/events/slowlog.c) */
    x->c->last_usec = usec;
    cmd->usec += usec;
    if (!again) {
        cmd->calls++;
        g_kstats.commands_processed++;
        if (x->c->adapter) count_adapter(x->c->adapter->name);
        x->c->cmds++;
    }
    if (failed) {
        cmd->failed_calls++;
        g_kstats.failed_calls++;
    }
    stats_gen++;
    stats_sink = x->r;
    stats_nerr = x->r->nerr;
}

static bool run_again; /* the next kernel_run is kernel_run_again's */

/* Match and run one command with sink r, counting statistics. */
void kernel_run(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                struct reply *r)
{
    bool again = run_again;
    struct argval args[MAX_SLOTS];
    struct match_pool mp;
    struct exec x;
    unsigned nerr = r->nerr;
    unsigned long long gen = stats_gen;
    long long start = clock_us ? clock_us : util_ustime(), dur;
    struct client *outer = current;

    run_again = false;
    /* The outermost command fixes the time keys expire against for its
     * whole run (the commands of its script or transaction included). */
    if (run_depth++ == 0) g_store.fixed_now_ms = start / 1000;
    x.parked = false;
    x.c = c;
    x.db = c->db;
    x.cmd = cmd;
    x.argc = argc;
    x.argv = argv;
    x.args = args;
    x.r = r;
    if (registry_match_pool(cmd, argc, argv, args, r, &mp)) {
        bool outer_write = running_write;
        current = c;
        /* Under CLIENT PAUSE keys do not expire (store.h); a write that
         * runs all the same (one queued before the pause) still removes an
         * expired key before it replaces it. */
        running_write = (cmd->flags & CMD_WRITE) != 0;
        g_store.paused = pause_state.active && !running_write;
        if (hooks.call_begin) hooks.call_begin(); /* propagation (core/persist/propagate.c) */
        enum client_state before = c->state;
        cmd->fn(&x);
        x.parked = c->state == CLIENT_PARKED && before != CLIENT_PARKED;
        if (hooks.call_end) hooks.call_end(&x);
        if ((c->flags & CF_TRACKING) && hooks.tracked) hooks.tracked(&x);
        running_write = outer_write;
        g_store.paused = pause_state.active && !running_write;
        current = outer;
    }
    registry_match_done(&mp);
    if (--run_depth == 0) g_store.fixed_now_ms = 0;
    clock_us = util_ustime();
    dur = clock_us - start;
    /* Failed: an error written since the last command's figures were
     * taken, as Redis's incrCommandStatsOnError: EXEC is not failed by the
     * errors of the commands it ran, only by its own (EXECABORT). */
    if (gen != stats_gen && stats_sink == r) nerr = stats_nerr;
    ran(&x, dur, r->nerr != nerr, again);
}

void kernel_run_again(struct client *c, const struct command *cmd, int argc,
                      const struct argv_ref *argv, struct reply *r)
{
    run_again = true;
    kernel_run(c, cmd, argc, argv, r);
}

void kernel_count_unblocked(struct client *c, const struct command *cmd)
{
    struct exec x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.db = c->db;
    x.cmd = cmd;
    x.r = &c->reply;
    if (hooks.ran) hooks.ran(&x, c->last_usec);
    ((struct command *)cmd)->usec += c->last_usec;
    ((struct command *)cmd)->failed_calls++;
    g_kstats.failed_calls++;
    stats_gen++;
}

void kernel_ran_elsewhere(struct client *c, const struct command *cmd, int argc,
                          const struct argv_ref *argv, struct reply *r, long long usec, bool failed)
{
    struct exec x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.db = c->db;
    x.cmd = cmd;
    x.argc = argc;
    x.argv = argv;
    x.r = r;
    ran(&x, usec, failed, false);
}

static void reject(struct client *c, const struct command *cmd)
{
    if (cmd) ((struct command *)cmd)->rejected_calls++;
    g_kstats.rejected_calls++;
    /* A command refused between MULTI and EXEC dooms the transaction. */
    if (c->flags & CF_MULTI) c->flags |= CF_DIRTY_EXEC;
}

/* EXEC refused before it runs (a wrong arity, NOAUTH, ACL, BUSY, OOM,
 * MISCONF, ... in subscribed mode): as Redis's rejectCommand, the error
 * becomes EXECABORT's reason and the transaction is discarded, in MULTI or
 * not. The refusals write into a capture sink. */
/* A refusal: counted; EXEC's (er set) written to out as EXECABORT. */
static enum kernel_status refused(struct client *c, const struct command *cmd, struct reply *out,
                                  struct reply_capture *er)
{
    reject(c, cmd);
    if (er && er->got) {
        /* (a refusal that aborted it itself already says EXECABORT) */
        if (er->n >= 10 && !memcmp(er->text, "EXECABORT ", 10))
            reply_error(out, er->text);
        else /* the refusals Redis words without a code show none */
            reply_errorf(out, "EXECABORT Transaction discarded because of: %s",
                         er->text + (strncmp(er->text, "ERR ", 4) == 0 ? 4 : 0));
        if (hooks.exec_abort) hooks.exec_abort(c);
    }
    return KERNEL_DONE;
}

enum kernel_status kernel_submit(struct client *c, int argc, const struct argv_ref *argv)
{
    struct reply *r = &c->reply, quiet, *out;
    struct reply_capture refusal, *er = NULL;
    const struct command *cmd;
    bool is_exec, queue, skip = (c->flags & CF_REPLY_SKIP_NEXT) != 0;
    int i;

    if (argc <= 0) return KERNEL_DONE;
    if (!clock_us) clock_us = util_ustime();
    c->last_interaction_ms = clock_us / 1000;
    /* CLIENT REPLY OFF / SKIP: this command's replies go nowhere, but its
     * errors are counted (INFO errorstats), as Redis counts them: a copy of
     * the discarding sink, which reply.c does not take for an internal one.
     * A replica (CF_REPLICA) gets no replies either: only the stream. */
    if (c->flags & (CF_REPLY_OFF | CF_REPLY_SKIP_NEXT | CF_REPLICA)) {
        c->flags &= ~CF_REPLY_SKIP_NEXT;
        quiet = reply_discard;
        r = &quiet;
    }
    /* EXEC's refusals are captured, to be given as EXECABORT (refused). */
    out = r;
    if (argv[0].n == 4 && util_eqci(argv[0].p, 4, "exec")) {
        reply_capture_init(&refusal, out->resp);
        er = &refusal;
        r = &refusal.r;
    }
    cmd = registry_resolve(argc, argv, r);
    /* CLIENT LIST's cmd= is the last command looked up, run or not (NULL
     * when the name was unknown), as Redis's c->lastcmd. */
    c->last_cmd = cmd ? cmd->fullname : registry_rejected ? registry_rejected->fullname : "NULL";
    if (!cmd) return refused(c, registry_rejected, out, er);
    /* DEBUG and other PROTECTED commands, before authentication as in Redis. */
    if (protected_refused(c, cmd, r)) return refused(c, cmd, out, er);
    if (!c->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        reply_err(r, E_NOAUTH);
        return refused(c, cmd, out, er);
    }
    if (hooks.acl && !(c->flags & CF_MASTER) && hooks.acl(c, cmd, argc, argv, r))
        return refused(c, cmd, out, er);
    /* MISCONF: writes (and PING) refused while snapshots fail, or while
     * the AOF cannot be written (core/persist: the refusals core_init wires).
     * Our primary's stream (the master client) is never refused, as Redis's
     * obey_client. */
    {
        /* The refusals judge the flags the call declares: a script with a
         * shebang is a write (DENYOOM, not STALE...) or not by its flags,
         * as Redis's processCommand with getCommandFlags. */
        struct command declared;
        const struct command *judged = cmd;
        uint32_t flags = kernel_call_flags(cmd, argc, argv);
        if (flags != cmd->flags) {
            declared = *cmd;
            declared.flags = flags;
            judged = &declared;
        }
        for (i = 0; !(c->flags & CF_MASTER) && i < KERNEL_MAX_REFUSALS && hooks.refuse[i]; i++)
            if (hooks.refuse[i](c, judged, r)) return refused(c, cmd, out, er);
    }
    /* RESP2 subscribed mode: only the pub/sub commands, PING, QUIT, RESET. */
    if (c->nsubs > 0 && c->resp == 2 && !subscribed_mode_allows(cmd)) {
        reply_errorf(r,
                     "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                     "QUIT / RESET are allowed in this context",
                     cmd->fullname);
        return refused(c, cmd, out, er);
    }
    r = out;
    queue = (c->flags & CF_MULTI) && hooks.multi_queue && !hooks.multi_passthrough(cmd);
    if (queue && (cmd->flags & CMD_NO_MULTI)) {
        reply_error(r, "ERR Command not allowed inside a transaction");
        reject(c, cmd);
        return KERNEL_DONE;
    }
    /* CLIENT PAUSE, as Redis 7.0 checks it: before a command is queued
     * (a write sent inside MULTI waits too), EXEC when its queue holds a
     * write; clients that are never paused (monitors, Redis's replicas)
     * are not. */
    is_exec = hooks.exec && cmd->fn == hooks.exec;
    if (pause_state.active && !(c->flags & CF_MASTER) &&
        !(hooks.pause_exempt && hooks.pause_exempt(c)) &&
        (paused_for_call(cmd, argc, argv) || (is_exec && pause_state.write_only &&
                                              (c->flags & CF_MULTI) && hooks.multi_has_write(c)))) {
        park_command(c, argc, argv);
        /* Not run yet: CLIENT REPLY SKIP still applies to it when it is
         * submitted again on unpause (Redis keeps its SKIP flag while a
         * command is postponed). */
        if (skip) c->flags |= CF_REPLY_SKIP_NEXT;
        return KERNEL_PARKED;
    }
    /* Upstream mode (after CLIENT PAUSE has had its say): forwarded, or
     * queued in the forwarder's MULTI, unless answered here. */
    if (forward) {
        int st = forward(c, cmd, argc, argv, r);
        if (st >= 0) return (enum kernel_status)st;
    }
    if (queue) {
        hooks.multi_queue(c, cmd, argc, argv);
        reply_status(r, "QUEUED");
        return KERNEL_DONE;
    }
    submitting = c;
    submitting_argv = argv;
    submitting_argc = argc;
    kernel_run(c, cmd, argc, argv, r);
    submitting = NULL;
    /* Parked under CLIENT REPLY OFF/SKIP: its reply, when it comes, is
     * dropped too (kernel_parked_reply), as Redis's stays skipped. */
    if (r == &quiet && c->state == CLIENT_PARKED) c->flags |= CF_REPLY_QUIET;
    /* Keys this command made ready wake their waiting clients now (not
     * while a busy script pumps the loop: its writes are served after it). */
    if (!pumping && hooks.ready && hooks.ready()) hooks.serve_ready();
    if (c->flags & CF_CLOSE_AFTER_REPLY) return KERNEL_CLOSE;
    if (c->state == CLIENT_PARKED) return KERNEL_PARKED;
    return KERNEL_DONE;
}

bool kernel_exec_refused(struct client *c, const struct command *cmd, int argc,
                         const struct argv_ref *argv, struct reply *r)
{
    return hooks.acl_exec && hooks.acl_exec(c, cmd, argc, argv, r);
}

void kernel_park_command(struct client *c, int argc, const struct argv_ref *argv)
{
    park_command(c, argc, argv);
}

void kernel_park(struct client *c, int (*retry)(struct client *c))
{
    c->state = CLIENT_PARKED;
    c->parked_retry = retry;
}

struct reply *kernel_parked_reply(struct client *c, struct reply *scratch)
{
    if (!(c->flags & CF_REPLY_QUIET)) return &c->reply;
    *scratch = reply_discard; /* a copy: its errors are counted, as kernel_submit's */
    return scratch;
}

void kernel_resume(struct client *c)
{
    size_t i;
    if (c->state != CLIENT_PARKED) return;
    for (i = 0; i < resume_n; i++)
        if (resume_q[i] == c) return;
    if (resume_n == resume_cap) {
        resume_cap = resume_cap ? resume_cap * 2 : 16;
        resume_q = xrealloc(resume_q, sizeof(*resume_q) * resume_cap);
    }
    resume_q[resume_n++] = c;
}

/* Clients with pushed output waiting to be flushed. */
static struct client **touched;
static size_t ntouched, captouched;

void kernel_touch(struct client *c)
{
    if (c->flags & CF_TOUCHED) return;
    c->flags |= CF_TOUCHED;
    if (ntouched == captouched) {
        captouched = captouched ? captouched * 2 : 16;
        touched = xrealloc(touched, sizeof(*touched) * captouched);
    }
    touched[ntouched++] = c;
}

static void flush_touched(void)
{
    while (ntouched > 0) {
        struct client *c = touched[--ntouched];
        c->flags &= ~CF_TOUCHED;
        if (c->adapter->flush) c->adapter->flush(c);
    }
}

void client_kernel_forget(struct client *c);
void client_kernel_forget(struct client *c)
{
    size_t i;
    if (c->flags & CF_TOUCHED) {
        for (i = 0; i < ntouched; i++) {
            if (touched[i] == c) {
                touched[i] = touched[--ntouched];
                break;
            }
        }
    }
    for (i = 0; i < resume_n; i++) {
        if (resume_q[i] == c) {
            memmove(&resume_q[i], &resume_q[i + 1], (resume_n - i - 1) * sizeof(*resume_q));
            resume_n--;
            break;
        }
    }
    free_parked(c);
}

void kernel_pause(long long until_ms, bool write_only)
{
    /* A later PAUSE extends, and ALL wins over WRITE, as in Redis. */
    if (pause_state.active) {
        if (until_ms > pause_state.until_ms) pause_state.until_ms = until_ms;
        if (!write_only) pause_state.write_only = false;
        return;
    }
    pause_state.active = true;
    pause_state.until_ms = until_ms;
    pause_state.write_only = write_only;
    g_store.paused = true;
}

void kernel_unpause(void)
{
    struct client *c;
    pause_state.active = false;
    g_store.paused = false;
    for (c = g_clients.head; c; c = c->next)
        if (c->flags & CF_PAUSED) kernel_resume(c);
}

static void resume_one(struct client *c)
{
    c->state = CLIENT_ACTIVE;
    c->flags &= ~CF_REPLY_QUIET;
    if (c->flags & CF_PAUSED) {
        struct parked_cmd *pc = (struct parked_cmd *)c->parked_argv;
        enum kernel_status st;
        c->flags &= ~CF_PAUSED;
        c->parked_argv = NULL;
        st = kernel_submit(c, pc->argc, pc->argv);
        free(pc->argv);
        free(pc->mem);
        free(pc);
        if (st == KERNEL_CLOSE) {
            if (c->adapter->close) c->adapter->close(c, true);
            return;
        }
        if (st == KERNEL_PARKED) {
            if (c->adapter->resume) c->adapter->resume(c); /* flush the replies so far */
            return;
        }
    } else if (c->parked_retry) {
        int (*retry)(struct client *) = c->parked_retry;
        c->parked_retry = NULL;
        if (retry(c)) {
            c->state = CLIENT_PARKED;
            c->parked_retry = retry;
            return;
        }
    }
    if (c->adapter->resume) c->adapter->resume(c);
}

void kernel_set_event_pump(void (*pump)(void))
{
    event_pump = pump;
}

bool kernel_pumping(void)
{
    return pumping > 0;
}

void kernel_pump_events(void)
{
    long long saved = clock_us;
    if (!event_pump) return;
    pumping++;
    event_pump();
    pumping--;
    clock_us = saved;
}

void kernel_after_events(void)
{
    if (pumping) return;
    clock_us = 0;
    if (hooks.timers) hooks.timers(util_mstime());
    flush_touched();
    if (pause_state.active && util_mstime() >= pause_state.until_ms) kernel_unpause();
    while (resume_n > 0) {
        struct client *c = resume_q[0];
        memmove(&resume_q[0], &resume_q[1], (resume_n - 1) * sizeof(*resume_q));
        resume_n--;
        resume_one(c);
    }
    flush_touched();
}

void kernel_cron(void)
{
    struct client *c, *next;
    long long now = util_mstime();
    if (g_config.timeout <= 0) return;
    for (c = g_clients.head; c; c = next) {
        next = c->next;
        /* Parked (blocked) clients wait as long as their command says. */
        if (c->state == CLIENT_PARKED && !(c->flags & CF_PAUSED)) continue;
        /* Replicas and our primary's link have repl-timeout instead
         * (core/repl), as in Redis. */
        if (c->flags & (CF_REPLICA | CF_MASTER)) continue;
        if (now - c->last_interaction_ms > (long long)g_config.timeout * 1000 && c->adapter->close)
            c->adapter->close(c, false);
    }
}

size_t kernel_argv_mem(struct client *c)
{
    size_t n = 0;
    int i;
    if (c == submitting) {
        for (i = 0; i < submitting_argc; i++)
            n += submitting_argv[i].n;
    } else if ((c->flags & CF_PAUSED) && c->parked_argv) {
        struct parked_cmd *pc = (struct parked_cmd *)c->parked_argv;
        for (i = 0; i < pc->argc; i++)
            n += pc->argv[i].n;
    }
    return n;
}
