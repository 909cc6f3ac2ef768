/* conn.h — the connection base every protocol adapter builds on: one
 * socket and what every protocol does with it the same way. It owns the
 * socket (every raw read and write goes through conn_sock_read /
 * conn_sock_write, where a transport such as adapters/tls plugs in), the libevent
 * read and write events, the input buffer (growth, client-query-buffer-
 * limit, EOF and errors), the output buffer (the AOF written before any
 * reply leaves, client-output-buffer-limit, partial writes, reclaiming the
 * written prefix, close once the last byte is out), deferred close (depth /
 * dead), pausing reading while output backs up, the kernel's
 * client_adapter hooks (implemented once here, dispatching to the
 * adapter's ops), the net input/output byte counts, and the list of
 * connections (shutdown).
 *
 * An adapter embeds struct conn as the first member of its connection and
 * supplies a struct conn_ops: its decoder (process: bytes -> argv ->
 * kernel_submit), its reply sink (given to conn_new), and its protocol's
 * states and timers through the optional hooks. A kernel caller with no
 * socket (Lua, the AOF loader, a forwarder) stays a plain struct client:
 * core/ knows nothing of conn. */
#ifndef KEEL_CONN_H
#define KEEL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "client.h"
#include "resp_encode.h" /* struct obuf */
#include "uring.h"       /* struct uring_handlers */

struct event;
struct reply_ops;
struct conn;

/* A transport other than plain TCP over the socket (adapters/tls/): every
 * raw read and write of a connection goes through it when c->tr is set.
 * read/write return as read()/write() do (-1 with errno EAGAIN: later). */
struct conn_transport {
    ssize_t (*read)(struct conn *c, void *buf, size_t n);
    ssize_t (*write)(struct conn *c, const void *buf, size_t n);
    void (*shutdown_write)(struct conn *c);
    /* Free the transport's state (c->tr_ctx) before the socket closes. */
    void (*close)(struct conn *c);
    /* Input held inside the transport: read() returns it without the
     * socket becoming readable. */
    bool (*has_pending)(struct conn *c);
    /* The last read waits for the socket to become writable; the last
     * write waits for it to become readable (a TLS handshake or
     * renegotiation in the middle). */
    bool (*read_needs_write)(struct conn *c);
    bool (*write_needs_read)(struct conn *c);
    /* The session goes on in another process (a forked Lua debugging
     * session): close without a word to the peer (no close_notify). */
    void (*forget)(struct conn *c);
};

/* Redis's static reply buffer: what one round of commands produced is
 * held against client-output-buffer-limit only past this (limit_batch). */
#define CONN_STATIC_REPLY 16384
/* The read size, and the input buffer's first size. */
#define CONN_READ 16384

enum conn_state {
    CONN_OPEN,      /* reading and running commands */
    CONN_PARKED,    /* the client waits in the kernel: input is held, not run */
    CONN_STREAMING, /* output only (HTTP's pub/sub streams): input is ignored */
    CONN_CLOSING,   /* the last replies are being written, then the socket
                     * closes (when ops->drained says so, if it is given) */
};

struct conn {
    const struct conn_ops *ops;
    int fd;                          /* -1 once another connection took the socket over */
    const struct conn_transport *tr; /* NULL: plain TCP */
    void *tr_ctx;                    /* the transport's state */
    enum conn_state state;
    struct event *rev, *wev;
    struct client *client; /* NULL once an adapter detached it (closing) */
    char *in;              /* bytes read, not consumed yet */
    size_t inlen, incap;
    struct obuf out;  /* bytes for the socket; out.sent of them written */
    int depth;        /* >0 while the adapter runs commands: freeing is deferred */
    bool dead;        /* close requested while depth > 0 */
    bool read_paused; /* output backed up: reading waits until it is written */
    bool out_full;    /* processing stopped at ops->out_high (conn_out_full) */
    bool in_fed;      /* input was put in by conn_feed, not read yet */
    /* client-output-buffer-limit: when the soft limit was first exceeded (ms, 0: not) */
    long long obuf_soft_since;
    unsigned long long written; /* bytes written to the socket */
    char addr[64], laddr[64];   /* peer and local "ip:port" (CLIENT LIST) */
    struct conn *prev, *next;   /* every connection (conn_shutdown) */
    /* Output waits for the end of the loop iteration (conn_flush_pending). */
    bool wpending;
    struct conn *wprev, *wnext;
    /* The io_uring path (adapters/uring.c): the connection's slot in the
     * ring (0: the libevent path), joining it before the loop sleeps
     * (ustart), bytes received but not delivered yet (running a command,
     * reading paused) and the receive's end behind them (1 EOF, 2 error),
     * the attention list (conn_uring_attend), the send of this iteration. */
    unsigned uslot;
    bool ustart, uattn, usending;
    bool uheld_full; /* held past HELD_MAX: the receive stopped */
    char *uheld;
    size_t uheldlen, uheldoff, uheldcap; /* held: uheld[uheldoff..uheldlen) */
    int uheld_end;
    int usent;
    unsigned long long uiter; /* the loop iteration it last got input in */
    struct conn *aprev, *anext, *sprev, *snext;
};

struct conn_ops {
    /* The kernel's hooks: CONN_ADAPTER(name, replies_required). The name
     * ("resp", "http", "ws") names the protocol in per-protocol figures
     * (stats_clients_of). */
    struct client_adapter ad;
    /* Output backpressure (0: none). When this much output waits,
     * conn_out_full() tells process to stop; what it left waits until the
     * output is written, reading paused meanwhile. */
    size_t out_high;
    /* Hold what one round of processing produced against
     * client-output-buffer-limit before writing it (past
     * CONN_STATIC_REPLY), as Redis checks at every append. */
    bool limit_batch;

    /* Required: run the commands the input holds, as far as the state
     * allows (called after input and on resume, in any state, with
     * depth > 0: closing is deferred). */
    void (*process)(struct conn *c);

    /* Optional hooks; NULL: the default in brackets. */
    /* Bytes the input buffer needs in total for the next decode step (read
     * size hint) [0: unknown]. */
    size_t (*in_hint)(struct conn *c);
    /* New input is in c->in (depth > 0), before process: decode a framing
     * layer, time the request, drop ignored input [nothing]. */
    void (*received)(struct conn *c);
    /* The client was resumed (PARKED -> OPEN), depth > 0 [nothing]. */
    void (*unparked)(struct conn *c);
    /* Close once the replies are written (QUIT, CLIENT KILL after reply)
     * [state = CONN_CLOSING]. */
    void (*closing)(struct conn *c);
    /* Another client's command wrote into this client's sink (a push):
     * false drops it, nothing is written [true]. */
    bool (*push)(struct conn *c);
    /* Output held outside c->out (replies not framed yet, a batch being
     * assembled), counted for the limits and out_high [0]. */
    size_t (*pending)(const struct conn *c);
    /* conn_flush, before the limits are applied: move held output into
     * c->out [nothing]. */
    void (*prepare)(struct conn *c);
    /* conn_flush, after the batch limit, before writing: queue control
     * data. false: a fatal error, the connection is freed [true]. */
    bool (*pre_write)(struct conn *c);
    /* client-output-buffer-limit reached: false to free the connection
     * now, true when the hook dealt with it (a close frame) [false]. */
    bool (*overflow)(struct conn *c);
    /* The socket takes no more: drop the written prefix of c->out, at the
     * latest at out.sent (conn_out_reclaim) [conn_out_reclaim(c, sent)]. */
    void (*reclaim)(struct conn *c);
    /* Every byte is written: true closes the connection now
     * [state == CONN_CLOSING]. */
    bool (*drained)(struct conn *c);
    /* Add the adapter's buffers to CLIENT LIST's figures (the base's input
     * and output buffers are counted already) [nothing]. */
    void (*buffers)(struct conn *c, size_t *qbuf, size_t *qfree, size_t *obl, size_t *omem);
    /* Server shutdown: write what can be written, best effort; the base
     * frees c after [conn_flush]. */
    void (*shutdown)(struct conn *c);
    /* Free the adapter's part of c (the client is already freed) [nothing]. */
    void (*release)(struct conn *c);
};

/* The kernel's hooks, implemented once for every adapter (use through
 * CONN_ADAPTER only). */
void conn_ad_resume(struct client *cl);
void conn_ad_close(struct client *cl, bool after_reply);
void conn_ad_flush(struct client *cl);
void conn_ad_describe(struct client *cl, char *addr, size_t alen, char *laddr, size_t llen,
                      int *fd);
void conn_ad_buffers(struct client *cl, size_t *qbuf, size_t *qfree, size_t *obl, size_t *oll,
                     size_t *omem);
void conn_ad_resize(struct client *cl, size_t size);
/* Designated fields: a field added to struct client_adapter is NULL here
 * until an adapter sets it (and clang's -Wmissing-field-initializers stays
 * quiet). */
#define CONN_ADAPTER(n, req)                                                                       \
    {                                                                                              \
        .name = (n), .resume = conn_ad_resume, .close = conn_ad_close, .flush = conn_ad_flush,     \
        .describe = conn_ad_describe, .buffers = conn_ad_buffers, .replies_required = (req),       \
        .resize_reply_buffer = conn_ad_resize                                                      \
    }
/* The same for an adapter whose clients may become replicas: raw bytes
 * (the replication stream) are appended to the output buffer. */
void conn_ad_raw(struct client *cl, const void *p, size_t n);
int conn_ad_raw_fd(struct client *cl);
#define CONN_ADAPTER_RAW(n, req)                                                                   \
    {                                                                                              \
        .name = (n), .resume = conn_ad_resume, .close = conn_ad_close, .flush = conn_ad_flush,     \
        .describe = conn_ad_describe, .buffers = conn_ad_buffers, .replies_required = (req),       \
        .resize_reply_buffer = conn_ad_resize, .raw = conn_ad_raw, .raw_fd = conn_ad_raw_fd        \
    }
/* The same for an adapter that delivers MONITOR lines itself (or NULL)
 * and notes where its later (pipelined upstream) replies go. */
#define CONN_ADAPTER_DEFER(n, req, mline, dfr)                                                     \
    {                                                                                              \
        .name = (n), .resume = conn_ad_resume, .close = conn_ad_close, .flush = conn_ad_flush,     \
        .describe = conn_ad_describe, .buffers = conn_ad_buffers, .replies_required = (req),       \
        .resize_reply_buffer = conn_ad_resize, .monitor_line = (mline), .defer = (dfr)             \
    }
/* The same for an adapter that delivers MONITOR lines itself. */
#define CONN_ADAPTER_MONITOR(n, req, mline)                                                        \
    {                                                                                              \
        .name = (n), .resume = conn_ad_resume, .close = conn_ad_close, .flush = conn_ad_flush,     \
        .describe = conn_ad_describe, .buffers = conn_ad_buffers, .replies_required = (req),       \
        .resize_reply_buffer = conn_ad_resize, .monitor_line = (mline)                             \
    }

/* The same for an adapter whose clients may become replicas and may run
 * blocking sessions (the Lua debugger). */
#define CONN_ADAPTER_SESSION(n, req, sess)                                                         \
    {                                                                                              \
        .name = (n), .resume = conn_ad_resume, .close = conn_ad_close, .flush = conn_ad_flush,     \
        .describe = conn_ad_describe, .buffers = conn_ad_buffers, .replies_required = (req),       \
        .resize_reply_buffer = conn_ad_resize, .raw = conn_ad_raw, .raw_fd = conn_ad_raw_fd,       \
        .session = (sess)                                                                          \
    }

/* ---- life ---- */

/* A connection for an accepted socket fd from peer: TCP_NODELAY,
 * SO_KEEPALIVE when tcp-keepalive is set, nonblocking; its addresses; a
 * kernel client whose reply sink is sink writing into c->out (the adapter
 * may point it elsewhere); reading starts. size: the adapter's struct,
 * whose first member is struct conn; the rest is zeroed. */
struct conn *conn_new(size_t size, const struct conn_ops *ops, int fd, const struct sockaddr *peer,
                      const struct reply_ops *sink);
/* Another protocol takes the socket of from (an HTTP connection upgraded
 * while it runs a request, depth > 0): a new connection with from's
 * socket, addresses and unwritten output, a new client as conn_new. from
 * is left without a socket and dead (its owner frees it). */
struct conn *conn_takeover(struct conn *from, size_t size, const struct conn_ops *ops,
                           const struct reply_ops *sink);
/* Free c now: events, socket, client, the adapter's part (ops->release),
 * buffers. Not while it runs commands (use conn_close). */
void conn_free(struct conn *c);
/* Close c: now, or when its commands are done (depth > 0). */
void conn_close(struct conn *c);
/* Close c once its replies are written (ops->closing or CONN_CLOSING). */
void conn_close_after_reply(struct conn *c);
/* Drop what c would still write and close it (inside its commands: when
 * they are done). */
void conn_abort(struct conn *c);
/* A connection refused before it became one (maxclients, protected mode,
 * a network not allowed): write msg, best effort, and close fd. */
void conn_refuse_fd(int fd, const char *msg, size_t len);
/* Server shutdown: every connection of ops writes what it can
 * (ops->shutdown or conn_flush) and is freed. */
void conn_shutdown(const struct conn_ops *ops);
/* Serve connections with input waiting, outside the event loop (a busy
 * script keeps the server answering: kernel_pump_events). true when it
 * found input or started connections (another pass may find more: a new
 * connection's first receive on the ring completes at the next pass). */
bool conn_pump(void);

/* ---- input ---- */

/* Bytes another connection already read (an upgrade's first frames): put
 * in c's input, handled as if just read, from the event loop. */
void conn_feed(struct conn *c, const char *p, size_t n);
/* Stop reading until conn_resume_read (idempotent). */
void conn_pause_read(struct conn *c);
void conn_resume_read(struct conn *c);

/* ---- processing and output ---- */

/* Output waiting: the unwritten part of c->out and what ops->pending holds. */
static inline size_t conn_pending(const struct conn *c)
{
    size_t n = c->out.len - c->out.sent;
    if (c->ops->pending) n += c->ops->pending(c);
    return n;
}
/* For process loops: stop, ops->out_high of output waits (remembered in
 * c->out_full: reading pauses until it is written). */
static inline bool conn_out_full(struct conn *c)
{
    if (!c->ops->out_high || conn_pending(c) < c->ops->out_high) return false;
    c->out_full = true;
    return true;
}
/* After input or a resume: process (deferred close), shrink an idle input
 * buffer, write; with out_high, run more while the output drains at once,
 * else pause reading. false if c was freed. */
bool conn_serve(struct conn *c);
/* Write what is buffered: the AOF first (aof_flush_before_reply), then
 * client-output-buffer-limit, then the socket until it takes no more (the
 * write event finishes), then CLOSING closes. false if c was freed. */
bool conn_flush(struct conn *c);
/* Write c's output at the end of this loop iteration, with every other
 * connection's (conn_flush_pending), instead of now. */
void conn_flush_later(struct conn *c);
/* Before the loop sleeps (and after a busy script's pump): conn_flush
 * every connection conn_flush_later named, oldest first. */
void conn_flush_pending(void);
/* Before the loop sleeps (adapters/loop.c): conn_flush_pending, except
 * that on the ring the sends are only queued, submitted by the loop's
 * wait. false: the loop must not sleep (held input, new connections). */
bool conn_loop_prepare(void);
/* After the loop's wait: input held by the ring's connections is
 * delivered (one read's worth each, as a libevent read). */
void conn_loop_attend(void);
/* Drop the first upto bytes of c->out (at most out.sent), when they
 * outweigh the rest. true if it did. */
bool conn_out_reclaim(struct conn *c, size_t upto);

/* ---- blocking sessions (the Lua debugger: struct client_session_ops) ---- */

/* Write c's unwritten output now, waiting up to timeout_ms each time the
 * socket takes no more (no AOF flush, no limits: a session's own writes).
 * false when the connection failed or timed out. */
bool conn_block_write(struct conn *c, int timeout_ms);
/* Write c->out[mark..len) now, ahead of the unwritten output before it
 * (which stays), then drop it from c->out. */
bool conn_block_write_since(struct conn *c, size_t mark, int timeout_ms);
/* Read from c's socket now, waiting for input: bytes read, 0 at EOF or on
 * an error. c's input buffer is left alone. */
ssize_t conn_block_read(struct conn *c, void *buf, size_t n);
/* In a forked child: every socket but keep's is replaced by /dev/null
 * (closed for the peers without a byte written; no event is touched), and
 * keep's is made blocking with a send timeout (its writes never register
 * an event on the loop the child shares with its parent). */
void conn_child_isolate(struct conn *keep, int send_timeout_ms);

/* ---- the io_uring path ---- */

/* What the ring's completions do to connections (adapters/uring.c; given
 * to uring_start by server/main.c). */
extern const struct uring_handlers conn_uring_handlers;

/* ---- the transport seam (plain TCP, or c->tr: TLS) ---- */

ssize_t conn_sock_read(struct conn *c, void *buf, size_t n);
ssize_t conn_sock_write(struct conn *c, const void *buf, size_t n);
/* Half-close: no more output (the peer sees EOF), input still read. */
void conn_sock_shutdown_write(struct conn *c);

#endif
