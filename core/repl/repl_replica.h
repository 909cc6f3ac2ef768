/* repl_replica.h — the replica side of replication: REPLICAOF / SLAVEOF,
 * the replica's configuration (replicaof, masterauth, masteruser,
 * replica-read-only, replica-serve-stale-data, replica-announce-*,
 * replica-priority), the master client that applies the primary's stream
 * through the kernel, the full-sync load, promotion, and the kernel
 * refusals a replica adds (-READONLY, -MASTERDOWN). The connection to the
 * primary (handshake, RDB transfer, reading the stream, ACKs) is
 * repl_link.c, behind repl_link.h. */
#ifndef KEEL_REPL_REPLICA_H
#define KEEL_REPL_REPLICA_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;
struct reply;
struct config_entry;

/* The replica's settings (repl_replica_config, added by server/main.c
 * before the compat table). */
struct repl_replica_config {
    char *replicaof; /* "host port" or "" (CONFIG GET replicaof) */
    char *masterauth;
    char *masteruser;
    int read_only;        /* replica-read-only */
    int serve_stale_data; /* replica-serve-stale-data */
    char *announce_ip;    /* replica-announce-ip */
    int announce_port;    /* replica-announce-port (0: our port) */
    int announced;        /* replica-announced */
    int priority;         /* replica-priority */
};
extern struct repl_replica_config g_repl_replica_cfg;
extern const struct config_entry *const repl_replica_config;

/* Start-up wiring (core_init): hands the link (repl_link.c) its
 * callbacks into this file. */
void repl_replica_init(void);
/* Become a replica of host:port (REPLICAOF host port, FAILOVER); the link
 * is started at once. Already a replica of another: the link is dropped
 * and the cached master kept, so the new primary can continue it. */
void repl_replica_start(const char *host, int port);
/* Become a primary (REPLICAOF NO ONE, FAILOVER): the link is dropped, the
 * replication id shifted (repl_shift_replid), the dataset kept. */
void repl_replica_stop(void);
/* Start-up, before the dataset is loaded: a replica keeps the keys the
 * file holds expired (its primary deletes them). */
void repl_replica_preload(void);
/* RDB snapshots of a replica name its primary's stream (rdb.h's
 * rdb_set_repl_info, wired by core_init). */
struct rdb_repl_info;
bool repl_replica_save_info(struct rdb_repl_info *out);
/* Start-up, after the dataset is loaded: `replicaof` from the
 * configuration starts the link. */
void repl_replica_startup(void);

/* The kernel's refusal for clients of a replica: -MASTERDOWN while the
 * link is down and replica-serve-stale-data is no (commands not flagged
 * STALE), -READONLY for writes while replica-read-only is yes. The master
 * client is never refused. */
bool repl_replica_refuse(struct client *c, const struct command *cmd, struct reply *r);

/* The same -READONLY alone, for a script's write (Redis 7.0's
 * scriptVerifyWriteCommandAllow): true with the error in r. */
/* A replica whose link to its primary is down, set not to serve stale
 * data (replica-serve-stale-data no): only commands flagged STALE run. */
bool repl_replica_stale(void);
bool repl_replica_refuse_write(struct client *c, const struct command *cmd, struct reply *r);

/* The bytes of a transaction read but not yet counted (its EXEC not
 * applied yet). */
size_t repl_replica_pending(void);

/* The master client (NULL when the link is not applying a stream). */
struct client *repl_replica_master_client(void);

/* ---- used by repl_link.c ---- */
/* The RDB the primary sent is complete at path: flush, load, adopt replid
 * and offset, create the backlog and the master client. False when the
 * image could not be loaded (the dataset is then empty). */
bool repl_replica_load_sync(const char *path, const char *replid, long long offset);
/* +CONTINUE: the same stream goes on (replid: the primary's new id, or
 * NULL/ours when unchanged); creates the master client. */
void repl_replica_continue(const char *replid);
/* Apply complete commands from buf (the primary's stream); returns how
 * many bytes were consumed (applied, or queued inside MULTI: those count
 * once EXEC is applied). -1: a protocol error (the link is dropped). */
long long repl_replica_apply(const char *buf, size_t len);
/* The link went down: the master client is freed (a transaction in
 * progress discarded); what was applied stays the cached master. */
void repl_replica_link_lost(void);

#endif
