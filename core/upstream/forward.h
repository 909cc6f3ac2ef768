/* forward.h — upstream mode's side of the kernel seam. After the kernel
 * has resolved a command, checked the client's ACL user and its refusals,
 * forward_submit decides: answered here (PING, HELLO, AUTH, CLIENT, INFO,
 * SELECT 0, pub/sub subscriptions...: -1, the kernel runs its handler), or
 * matched against the schema (syntax errors as Redis), routed by its key
 * specs (CRC16 slots, CROSSSLOT refused, keyless commands to one node or
 * fanned out and merged) and handed to the transport while the client is
 * parked; the reply comes back as an up_value tree, is replayed through the
 * client's sink, and the client resumes, so per-client order holds.
 * MULTI/EXEC are queued here and sent as one block to the slot's node.
 * MOVED/ASK/TRYAGAIN/CLUSTERDOWN and lost connections are followed here;
 * the transport (adapters/upstream) owns sockets and the wire format. */
#ifndef KEEL_FORWARD_H
#define KEEL_FORWARD_H

#include <stdbool.h>

#include "client.h"
#include "registry.h"
#include "up_value.h"

struct up_group;

/* One command as sent (argv owned by its request). */
struct up_cmd {
    int argc;
    struct argv_ref *argv;
};

struct up_req {
    struct client *c;          /* NULL once the client went away */
    struct up_group *g;        /* a fan-out's part, or NULL */
    const struct command *cmd; /* the client's command (EXEC for a transaction) */
    int ncmd;                  /* commands sent in a row (MULTI ... EXEC: several) */
    struct up_cmd *cmds;
    char *mem;
    int node;         /* where it goes (g_up.nodes) */
    int slot;         /* the slot it follows when retried (-1: any master) */
    int resp;         /* 2 or 3: the connection speaking the client's protocol */
    bool asking;      /* send ASKING first (an ASK redirect) */
    bool dedicated;   /* a connection of its own (blocking commands) */
    void **pin;       /* the client's WATCH connection (its slot in the client's state) */
    bool unpin;       /* let go of it once answered (EXEC) */
    bool watch_first; /* a WATCH with nothing watched on the pin yet: a
                       * redirect moves the pin to the slot's owner */
    bool quiet;       /* CLIENT REPLY OFF/SKIP: the reply is dropped */
    bool sent;        /* written to a connection at least once */
    int tries;        /* redirects and retries so far */
    int scan_pos;     /* SCAN: which master (-1: not a SCAN) */
    long long first_us, start_us;
    long long usec; /* from forwarding to the reply (the slow log's time) */
    /* Set by the transport: the first error among the replies it did not
     * deliver (a queued command's MOVED inside MULTI ... EXEC). */
    struct up_value skipped_err;
    bool has_skipped_err;
    void *tx; /* the transport's handle */
    /* Pipelined (a RESP client's commands while earlier ones are out):
     * its place in the client's queue, and its reply once in. */
    bool piped, done;
    bool noted; /* its adapter noted where the reply goes (DEFER_NOTE) */
    int shown;  /* cmds[shown] is the client's command as shown (0: the last sent) */
    struct up_req *onext;
    struct up_value result;
};

struct up_transport {
    /* Send q->cmds to q->node (ASKING first when q->asking; a connection
     * of its own when q->dedicated); the reply comes back through
     * forward_done, or forward_failed. */
    void (*send)(struct up_req *q);
    /* q's client went away: a dedicated connection is closed (the request
     * itself is freed by forward_done/forward_failed as usual). */
    void (*cancel)(struct up_req *q);
    /* The slot map looks stale (MOVED, a lost node): fetch it again. */
    void (*refresh)(void);
    /* Call forward_retry(q) in ms milliseconds. */
    void (*later)(struct up_req *q, int ms);
    /* The sink that writes RESP bytes: its RESP2 clients' commands go on
     * RESP2 connections (redis-server's RESP2 shapes, WITHSCORES flat);
     * every other sink gets RESP3's typed replies (maps, doubles), which
     * it renders as it renders Keel's own. */
    const struct reply_ops *resp_ops;
    /* Close a client's pinned (WATCH) connection; *pin becomes NULL. */
    void (*unpin)(void **pin);
    /* A Keel client subscribed to a shard channel: relay its messages
     * from the master serving its slot. */
    void (*shard_subscribe)(const char *ch, size_t n);
};

/* Wiring (server/main.c, in upstream mode only): the transport, the
 * per-client hooks, then kernel_set_forward(forward_submit). */
void forward_init(const struct up_transport *t);
/* The kernel seam: -1 = not forwarded (run here), else the status. */
int forward_submit(struct client *c, const struct command *cmd, int argc,
                   const struct argv_ref *argv, struct reply *r);
/* The transport's answers. forward_done takes v's contents. */
void forward_done(struct up_req *q, struct up_value *v);
void forward_failed(struct up_req *q, const char *why);
void forward_retry(struct up_req *q);
/* Shutdown: q is freed unanswered. */
void forward_drop(struct up_req *q);
/* The cluster invalidated key (NULL: every key, or the invalidations may
 * have been lost): Keel's tracking clients are told, as after a local
 * write or flush. */
void forward_invalidate(const char *key, size_t n);
/* kernel_settle's upstream side. */
int forward_settle(struct client *c);
/* Requests waiting on the upstream now (INFO). */
long long forward_inflight(void);

#endif
