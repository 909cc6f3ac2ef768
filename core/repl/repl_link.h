/* repl_link.h — the replica's connection to its primary (repl_link.c):
 * a nonblocking socket on the event loop, the handshake (PING, AUTH,
 * REPLCONF, PSYNC), the RDB transfer into a file (or, diskless, into the
 * loader as it arrives), the stream handed to
 * repl_replica.c, REPLCONF ACK every second, timeouts and reconnection.
 * State is published in g_repl_master (repl.h). */
#ifndef KEEL_REPL_LINK_H
#define KEEL_REPL_LINK_H

#include <stdbool.h>
#include <stddef.h>

struct rdb_stream_src;

/* What the link hands to the replica logic (repl_replica.c registers it
 * with repl_link_set_ops, from repl_replica_init): the link knows bytes
 * and states, not what they mean. */
struct repl_link_ops {
    /* The handshake's AUTH and REPLCONF values ("" or NULL: none). */
    void (*handshake)(const char **user, const char **pass, const char **announce_ip,
                      int *announce_port);
    /* The RDB is complete at path: load it (false: the link is dropped). */
    bool (*load)(const char *path, const char *replid, long long offset);
    /* repl-diskless-load: whether this sync's RDB goes straight to the
     * loader, and loading it from src as it arrives (false: the link is
     * dropped; true: *rest, malloc'd, holds what came after it). */
    bool (*use_memory)(void);
    bool (*load_stream)(const struct rdb_stream_src *src, const char *replid, long long offset,
                        unsigned char **rest, size_t *nrest);
    /* +CONTINUE (replid: the primary's new id, or NULL). */
    void (*cont)(const char *replid);
    /* Stream bytes: how many were consumed, -1 on a protocol error. */
    long long (*apply)(const char *buf, size_t len);
    /* The link went down. */
    void (*lost)(void);
    /* Bytes consumed but not yet counted (an open transaction). */
    size_t (*pending)(void);
};
void repl_link_set_ops(const struct repl_link_ops *ops);

/* The link's transport: plain TCP, or what the TLS adapter provides for
 * tls-replication (server/main.c wires adapters/tls's; core knows only
 * these calls). */
struct repl_link_transport {
    bool (*enabled)(void); /* tls-replication yes */
    /* A connected socket wrapped (NULL: failed, logged). */
    void *(*wrap)(int fd);
    /* One handshake step: 1 done, 0 waiting for the socket (*want_write:
     * for writing), -1 failed (logged). */
    int (*handshake)(void *t, bool *want_write);
    /* As read(2) / write(2); -1 with errno EAGAIN while the layer waits. */
    long (*read)(void *t, void *buf, size_t n);
    long (*write)(void *t, const void *buf, size_t n);
    /* Bytes the layer holds already decrypted (read them before waiting). */
    size_t (*pending)(void *t);
    void (*free)(void *t); /* the socket is closed by the link */
};
void repl_link_set_transport(const struct repl_link_transport *t);

/* INFO replication on a replica: slave_read_repl_offset (what was read
 * from the primary, applied or not; slave_repl_offset is g_repl.offset). */
long long repl_link_read_offset(void);

/* Connect now (g_repl_master.host/port are set); starts the 1 s timer. */
void repl_link_connect(void);
/* Close the link whatever its state; the replica will reconnect from the
 * timer (state CONNECT). A link that was applying a stream leaves a cached
 * master (the next PSYNC continues it); one that was in a full sync does
 * not. */
void repl_link_cancel(void);
/* The same, after the current command (CLIENT KILL of the master client). */
void repl_link_drop_later(void);
/* Whether the next PSYNC names our replid/offset (true) or is "? -1". */
void repl_link_set_cached(bool cached);
/* Not a replica any more: the timer stops. */
void repl_link_stop_timer(void);
/* REPLCONF ACK <offset> now (REPLCONF GETACK). */
void repl_link_send_ack(void);
/* The socket's addresses, for the master client's CLIENT LIST line. */
void repl_link_describe(char *addr, size_t alen, char *laddr, size_t llen, int *fd);

#endif
