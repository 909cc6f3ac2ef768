/* client.h — one connected client as the kernel sees it, whatever its
 * protocol: identity, selected database, negotiated RESP version, name,
 * authentication, its reply sink and the adapter hooks the kernel calls.
 * Connection life (sockets, buffers, framing) belongs to the adapter. */
#ifndef KEEL_CLIENT_H
#define KEEL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

struct argv_ref;
struct client;
struct db;

enum defer_step { DEFER_NOTE, DEFER_BEGIN, DEFER_END };

/* A session that talks with its client outside the event loop, blocking
 * (the Lua debugger, core/script/script_ldb.c). */
struct client_session_ops {
    /* Whether this connection can carry a session now. */
    bool (*usable)(struct client *c);
    /* Read the next request, blocking: 1 with its words (*argv and *lens
     * malloc'd, free with free_request), 0 when the connection is gone,
     * -1 on a protocol error, -2 past the input limit. */
    int (*read)(struct client *c, int *argc, char ***argv, size_t **lens);
    void (*free_request)(int argc, char **argv, size_t *lens);
    /* Write what the client's sink holds now, blocking (false: the
     * connection failed; the session goes on without its client). */
    bool (*write)(struct client *c);
    /* Where the sink's output ends now; write_since writes what the sink
     * got since that mark now, ahead of older unwritten output (which
     * stays, for later), and forgets it. */
    size_t (*mark)(struct client *c);
    bool (*write_since)(struct client *c, size_t mark);
    /* In a forked child that runs the session: every other socket
     * (listeners, other clients, links) is closed without a byte written
     * to it; only this client's connection stays. */
    void (*fork_child)(struct client *c);
    /* In the parent of that child: drop this client without writing to it. */
    void (*drop)(struct client *c);
};

/* What an adapter provides to the kernel for each of its clients. */
struct client_adapter {
    const char *name; /* "resp", "http", "ws" */
    /* The kernel resumed a parked client: feed it its next commands. */
    void (*resume)(struct client *c);
    /* Close the connection (after the pending replies are written when
     * after_reply). Must be safe to call from inside a command. */
    void (*close)(struct client *c, bool after_reply);
    /* Write what the client's sink holds (pushes to a client other than the
     * one whose command is running: pub/sub, invalidations, woken BLPOPs). */
    void (*flush)(struct client *c);
    /* Describe the peer for CLIENT LIST/INFO: addr, laddr, fd. */
    void (*describe)(struct client *c, char *addr, size_t alen, char *laddr, size_t llen, int *fd);
    /* Bytes in the query and output buffers (CLIENT LIST qbuf/omem). */
    void (*buffers)(struct client *c, size_t *qbuf, size_t *qbuf_free, size_t *obl, size_t *oll,
                    size_t *omem);
    /* Every request must be answered (a response per request, a reply per
     * message): CLIENT REPLY OFF and SKIP are refused. */
    bool replies_required;
    /* Deliver one MONITOR line (core/events/monitor.c; no "+" or CRLF).
     * NULL: written to the client's sink as a status reply. */
    void (*monitor_line)(struct client *c, const char *line, size_t n);
    /* Resize the reply buffer to size bytes (core/kernel/reply_buffer.c
     * decides when). NULL: the adapter has none. */
    void (*resize_reply_buffer)(struct client *c, size_t size);
    /* Write bytes as they are, after what the client's sink holds (a
     * replica's RDB payload and replication stream; core/repl). NULL: the
     * protocol cannot carry them (PSYNC refuses). */
    void (*raw)(struct client *c, const void *p, size_t n);
    /* The socket a child process may write to directly (a diskless full
     * sync), or -1 (TLS, no socket): the bytes must go through raw. */
    int (*raw_fd)(struct client *c);
    /* Upstream mode's pipelining (core/upstream/forward.c): a command's
     * reply may come after commands submitted since. DEFER_NOTE: this
     * command's reply will come later; the adapter notes where it belongs
     * (false: it cannot, and the command waits its turn). DEFER_BEGIN and
     * DEFER_END bracket each noted reply's replay, in the order noted.
     * NULL: only an adapter whose replies are one byte stream (RESP)
     * pipelines, with no notes. */
    bool (*defer)(struct client *c, enum defer_step step);
    /* Blocking sessions (SCRIPT DEBUG YES|SYNC). NULL: the protocol cannot
     * carry one (refused). */
    const struct client_session_ops *session;
};

enum client_state {
    CLIENT_ACTIVE = 0, /* may run commands */
    CLIENT_PARKED,     /* waiting (blocking command, CLIENT PAUSE): adapter holds later input */
    CLIENT_CLOSING,    /* closing after its last reply */
};

enum {
    CF_NO_EVICT = 1 << 0,
    CF_CLOSE_AFTER_REPLY = 1 << 1,
    CF_PAUSED = 1 << 2,           /* parked by CLIENT PAUSE */
    CF_MULTI = 1 << 3,            /* between MULTI and EXEC: commands are queued */
    CF_DIRTY_EXEC = 1 << 4,       /* a queued command was rejected: EXEC aborts */
    CF_DIRTY_CAS = 1 << 5,        /* a WATCHed key changed: EXEC fails */
    CF_IN_EXEC = 1 << 6,          /* running EXEC's queue (blocking commands don't block) */
    CF_TOUCHED = 1 << 7,          /* has output to flush after the current command */
    CF_BLOCKED = 1 << 8,          /* parked by a blocking command */
    CF_TRACKING = 1 << 9,         /* CLIENT TRACKING on */
    CF_PUSHING = 1 << 10,         /* writing a push into another client's sink */
    CF_REPLY_OFF = 1 << 11,       /* CLIENT REPLY OFF */
    CF_REPLY_SKIP_NEXT = 1 << 12, /* CLIENT REPLY SKIP: the next command is silent */
    CF_REPLICA = 1 << 13,         /* a replica (core/repl): no replies, only the stream */
    CF_MASTER = 1 << 15,          /* applies our primary's stream (core/repl): never refused */
    CF_LUA_DEBUG = 1 << 16,       /* SCRIPT DEBUG YES|SYNC: its next EVAL is debugged */
    CF_LUA_DEBUG_SYNC = 1 << 17,  /* SCRIPT DEBUG SYNC (not forked) */
    CF_REPLY_QUIET = 1 << 18,     /* its parked command came under CLIENT REPLY OFF/SKIP */
    CF_SCRIPT = 1 << 19,          /* the client scripts run their commands as (core/script) */
};

struct client {
    uint64_t id;
    /* The replication offset after this client's last propagated command
     * (WAIT waits for replicas to acknowledge it; core/repl). */
    long long woff;
    int dbid;
    struct db *db;
    int resp;
    char *name;
    char *lib_name, *lib_ver;
    bool authenticated;
    struct acl_user *user; /* core/acl: NULL is the default user */
    enum client_state state;
    unsigned flags;
    struct reply reply;
    const struct client_adapter *adapter;
    void *conn;
    /* The request being submitted in the replication stream's own format,
     * when the adapter has it: `p`/`n` are the bytes that formatting `argv`
     * (the argc arguments the adapter submits) as a RESP2 multibulk would
     * give. Set by the adapter just around kernel_submit (argv NULL
     * otherwise; the bytes live in its read buffer). Propagation copies
     * them instead of formatting a command that propagates as it arrived
     * (core/persist/propagate.c). */
    struct {
        const struct argv_ref *argv;
        int argc;
        const char *p;
        size_t n;
    } wire;
    long long ctime_ms; /* created */
    long long last_interaction_ms;
    const char *last_cmd; /* fullname of the last command run */
    long long cmds;       /* commands run */
    long long last_usec;  /* the last run's duration (a blocked command's first
                           * run, for CLIENT UNBLOCK's figures) */
    struct client *prev, *next;
    /* Per-feature state owned by the modules of issue 4 (opaque here). */
    struct multi_state *mstate;    /* core/kernel/multi.c: queued commands, watched keys */
    struct pubsub_state *psstate;  /* core/events/pubsub.c: channels and patterns */
    int nsubs;                     /* channels + patterns + shard channels */
    struct tracking_state *tstate; /* core/events/tracking.c */
    struct blocking_state *bstate; /* core/events/blocking.c */
    struct fwd_state *fwstate;     /* core/upstream/forward.c (upstream mode) */
    /* A parked command, kept until the client is resumed. */
    int parked_argc;
    struct argv_ref_owned *parked_argv;
    int (*parked_retry)(struct client *c); /* called on resume; nonzero: still parked */
    /* core/kernel/client_mem.c (maxmemory-clients): memory at the last
     * update, its bucket (0: none, else index + 1) and the bucket's list,
     * and whether eviction already closed it (freed later). */
    size_t mem_last;
    int mem_bucket;
    bool mem_evicted;
    struct client *mem_prev, *mem_next;
    /* core/kernel/reply_buffer.c: the reply buffer's size, its peak use
     * since the last reset (CLIENT LIST rbs / rbp), and when that was. */
    size_t rb_size, rb_peak;
    long long rb_peak_reset_ms;
};

struct client_list {
    struct client *head, *tail;
    long long count;
    uint64_t next_id;
};
extern struct client_list g_clients;

/* Create a client for an adapter's new connection (starts authenticated
 * unless requirepass is set). */
struct client *client_new(const struct client_adapter *ad, void *conn, const struct reply_ops *ops);
/* Remove from every kernel structure and free. Modules that keep per-client
 * state register a hook, run before the client is freed. */
void client_free(struct client *c);
void client_on_free(void (*hook)(struct client *c));
/* RESET: modules with per-client state (MULTI, pub/sub, tracking) register
 * a hook that returns the client to a fresh connection's state. */
void client_on_reset(void (*hook)(struct client *c));
void client_reset_state(struct client *c);
struct client *client_by_id(uint64_t id);
bool client_select(struct client *c, int dbid);

#endif
