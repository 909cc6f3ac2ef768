/* repl_primary.h — the primary side's replicas (repl_primary.c): the
 * clients that became replicas (PSYNC/SYNC), their sync state, what the
 * stream sends them, their acknowledged offsets (WAIT,
 * min-replicas-to-write), the full-sync child, the replication cron. */
#ifndef KEEL_REPL_PRIMARY_H
#define KEEL_REPL_PRIMARY_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;
struct reply;

/* A replica's sync state (INFO's state= names them: wait_bgsave,
 * send_bulk, online). */
enum repl_rstate {
    REPL_R_WAIT_BGSAVE_START, /* waits for a full-sync child to start */
    REPL_R_WAIT_BGSAVE_END,   /* the child writes the RDB; the stream is held */
    REPL_R_SEND_BULK,         /* the RDB file is being sent; the stream is held */
    REPL_R_ONLINE,            /* receives the stream */
};

/* Wiring (core_init): per-client free hook. */
void repl_primary_init(void);
/* Bytes of the stream (repl.c's repl_feed_stream, before they enter the
 * backlog): buffered for replicas waiting for their full sync; online
 * replicas read them from the backlog at repl_primary_flush (Redis 7.0
 * shares its replication buffer between the backlog and the replicas
 * the same way), unless the ring would lose bytes they have not got. */
void repl_primary_feed(const void *p, size_t n);
/* Before the loop writes (server/main.c, once an iteration): each online
 * replica's new stream bytes, from the backlog into its output. */
void repl_primary_flush(void);
/* After the loop's writes: a replica is being sent its RDB file and its
 * socket took everything so far, so the loop must not sleep (the next
 * repl_primary_flush sends more; a full socket wakes the loop itself). */
bool repl_primary_sending(void);
/* Replicas attached, whatever their state. */
int repl_primary_count(void);
/* The replication cron (called often; runs once a second): backlog TTL,
 * pings, timeouts, WAIT timeouts. */
void repl_primary_cron(void);
/* Every loop iteration: start full syncs, move RDB files to replicas,
 * output limits, GETACKs (a branch when there is no replica). */
void repl_primary_tick(void);
/* The kernel's refusal seam: -NOREPLICAS when min-replicas-to-write is
 * not met for a write command. */
bool repl_primary_refuse(struct client *c, const struct command *cmd, struct reply *r);
/* A persistence child ended (persist_cron's hook): ours is the diskless
 * full-sync child (CHILD_REPL) or the BGSAVE of a disk full sync. */
void repl_primary_child_exit(int type, int pid, int exitcode, int bysignal);

/* REPLCONF from a replica, before or after PSYNC. */
void repl_primary_set_listening_port(struct client *c, int port);
void repl_primary_set_ip(struct client *c, const char *ip, size_t n);
void repl_primary_set_capa(struct client *c, bool eof, bool psync2);
void repl_primary_ack(struct client *c, long long offset);
/* REPLCONF rdb-only 1: the replica wants the RDB only, then is closed. */
void repl_primary_set_rdb_only(struct client *c, bool on);
/* PSYNC replid offset (offset_ok: the offset parsed) or SYNC (replid
 * NULL): c becomes a replica, continued from the backlog or fully synced. */
void repl_primary_sync(struct client *c, const char *replid, long long offset, bool offset_ok);
/* WAIT: true when c was parked until numreplicas acknowledge the current
 * offset or timeout_ms (0: never) passes; false: reply *now_acked now. */
bool repl_primary_wait(struct client *c, const struct command *cmd, int numreplicas,
                       long long timeout_ms, int *now_acked);
/* CLIENT UNBLOCK of a client parked by WAIT: it is answered now (the
 * replicas that acknowledged so far, or -UNBLOCKED with with_error), as
 * Redis. False: c is not waiting. */
bool repl_primary_unblock_wait(struct client *c, bool with_error);
/* Replicas online whose last ACK is at most min-replicas-max-lag old. */
int repl_primary_good_replicas(void);

/* FAILOVER's progress (INFO master_failover_state). */
enum failover_state { FAILOVER_NONE = 0, FAILOVER_WAIT_FOR_SYNC, FAILOVER_IN_PROGRESS };
extern enum failover_state g_failover_state;

/* Shutdown, as Redis 7.0: replicas that have not acknowledged the whole
 * stream get shutdown-timeout seconds to catch up, writes paused meanwhile.
 * The process calls repl_shutdown_wait after its loop ended and runs the
 * loop again while it answers true. SHUTDOWN NOW skips the wait. */
bool repl_shutdown_wait(void);
void repl_shutdown_now(void);

/* The replicas as INFO (slaveN:) and ROLE show them. */
struct repl_replica_view {
    char ip[256];
    int port;
    enum repl_rstate state;
    long long offset; /* acknowledged */
    long long lag;    /* seconds since the last ACK */
};
size_t repl_primary_list(struct repl_replica_view *out, size_t max);

#endif
