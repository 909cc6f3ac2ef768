/* repl.h — replication state shared by the primary side (repl.c,
 * repl_primary.c: the replication id and offset, the backlog, the replicas
 * this server feeds) and the replica side (repl_replica.c: the link to the
 * primary this server replicates from). Redis 7.0's semantics: one
 * replication id + offset names a point in the stream; replid2 and
 * second_replid_offset let a promoted replica accept a partial resync from
 * its old siblings; the backlog is a ring of the last repl-backlog-size
 * bytes of the stream, created when the first replica attaches (or when
 * this server becomes a replica) and freed after repl-backlog-ttl with no
 * replica. */
#ifndef KEEL_REPL_H
#define KEEL_REPL_H

#include <stdbool.h>
#include <stddef.h>

#define REPL_ID_LEN 40

/* The point in the replication stream this server is at (as a primary,
 * or as a replica: then the primary's id and the offset applied so far). */
struct repl_info {
    char replid[REPL_ID_LEN + 1];
    char replid2[REPL_ID_LEN + 1];  /* all '0' when none */
    long long offset;               /* master_repl_offset */
    long long second_replid_offset; /* -1 when none */
};
extern struct repl_info g_repl;

/* The link to our primary, filled by the replica side; host[0] == 0 when
 * this server is a primary. Read by INFO replication and ROLE. */
enum repl_link_state {
    REPL_LINK_NONE = 0,   /* not a replica */
    REPL_LINK_CONNECT,    /* must connect */
    REPL_LINK_CONNECTING, /* connect() in flight */
    REPL_LINK_HANDSHAKE,  /* PING/AUTH/REPLCONF/PSYNC exchange */
    REPL_LINK_TRANSFER,   /* receiving the RDB */
    REPL_LINK_CONNECTED   /* applying the stream */
};
struct repl_master_link {
    char host[256];
    int port;
    enum repl_link_state state;
    long long last_io_ms;    /* last byte from the primary (ms clock) */
    long long down_since_ms; /* link down since (0 while up) */
    long long transfer_size; /* -1 unknown ($EOF: form) */
    long long transfer_read;
    long long transfer_last_io_ms;
    bool sync_in_progress;
};
extern struct repl_master_link g_repl_master;

static inline bool repl_is_replica(void)
{
    return g_repl_master.host[0] != 0;
}

/* Start-up: a fresh random replid, offset 0, no backlog. */
void repl_init(void);
/* A fresh random replid (restart as primary, REPLICAOF another primary
 * after a failed partial resync), replid2 cleared. */
void repl_new_replid(void);
/* Promotion (REPLICAOF NO ONE, FAILOVER): replid2 = replid,
 * second_replid_offset = offset + 1, then a new replid. */
void repl_shift_replid(void);
/* A replica adopting its primary's id and offset (after +FULLRESYNC, or
 * +CONTINUE with a new id). */
void repl_set_replid(const char *replid, long long offset);

/* The backlog. repl_backlog_ensure creates it (repl-backlog-size) if
 * missing; repl_backlog_free drops it. */
void repl_backlog_ensure(void);
void repl_backlog_free(void);
/* Can a PSYNC <replid> <offset> continue from our backlog? (Redis's rules:
 * replid matches ours, or matches replid2 with offset <=
 * second_replid_offset; offset within the backlog's window.) */
bool repl_can_continue(const char *replid, long long offset);

/* Feed raw bytes of the replication stream: appended to the backlog (when
 * there is one) and sent to every online replica; g_repl.offset grows by
 * n. A replica calls this with the bytes it applied from its primary, so
 * its own replicas (chained replication) get the stream verbatim. */
void repl_feed_stream(const void *p, size_t n);
/* The propagation sink's second consumer (a primary's own writes): one
 * command in RESP for database dbid (-1: no SELECT needed); a SELECT is
 * emitted first when the replication stream's current db differs. Does
 * nothing on a replica: what a replica applies reaches its own replicas
 * verbatim through repl_feed_stream, and its own expiries are not
 * propagated. Propagation (g_propagate_on) stays on while a backlog
 * exists, not only while the AOF is on. */
void repl_feed_command(int dbid, const void *p, size_t n);
/* (It also sets the running client's woff: the offset its WAIT waits for;
 * pings and GETACKs need no acknowledgement.) */
/* Force the next fed command to be preceded by SELECT (new replica, new
 * backlog, after a full sync). */
void repl_reset_selected_db(void);

/* Close every replica connection (this server became a replica of another). */
void repl_disconnect_replicas(void);
/* Number of replicas online (for INFO, ROLE, min-replicas-to-write). */
int repl_replicas_online(void);

/* Additions (primary side, repl.c / repl_config.c). */

/* The replication settings (core/repl/repl_config.c's table). */
struct repl_config {
    long long backlog_size;         /* repl-backlog-size */
    long long backlog_ttl;          /* repl-backlog-ttl, seconds */
    int diskless_sync;              /* repl-diskless-sync */
    int diskless_sync_delay;        /* repl-diskless-sync-delay, seconds */
    int diskless_sync_max_replicas; /* repl-diskless-sync-max-replicas */
    int ping_replica_period;        /* repl-ping-replica-period, seconds */
    int timeout;                    /* repl-timeout, seconds */
    int min_replicas_to_write;      /* min-replicas-to-write */
    int min_replicas_max_lag;       /* min-replicas-max-lag, seconds */
    int diskless_load;              /* repl-diskless-load: REPL_LOAD_* (replica side) */
};
enum { REPL_LOAD_DISABLED = 0, REPL_LOAD_ON_EMPTY_DB = 1, REPL_LOAD_SWAPDB = 2 };
extern struct repl_config g_repl_cfg;
/* Their config entries (server/main.c adds the table; an array of
 * config.h's struct config_entry). */
struct config_entry;
extern const struct config_entry *const repl_config_table;

/* INFO stats' replication counters. */
struct repl_stats {
    long long sync_full, sync_partial_ok, sync_partial_err;
    long long net_repl_output_bytes; /* total_net_repl_output_bytes */
    long long net_repl_input_bytes;  /* total_net_repl_input_bytes (replica side) */
};
extern struct repl_stats g_repl_stats;

/* The backlog as INFO shows it, and reading it from a stream offset:
 * repl_backlog_read calls fn with the bytes from `from` to the end (one
 * or two runs) and returns how many, or -1 when `from` is outside. */
bool repl_backlog_exists(void);
size_t repl_backlog_size(void);
size_t repl_backlog_histlen(void);
long long repl_backlog_first_offset(void);
typedef void (*repl_bytes_fn)(void *arg, const void *p, size_t n);
long long repl_backlog_read(long long from, repl_bytes_fn fn, void *arg);
/* Where the stream goes besides the backlog: the primary side's replicas
 * (core_init wires repl_primary.c's feed and count of attached replicas). */
void repl_set_replica_feed(void (*feed)(const void *p, size_t n), int (*count)(void));
/* The replicas' feed is skipped while the stream's offset after the new
 * bytes stays at or below this gate (the primary side sets it: LLONG_MIN
 * calls it for every write, LLONG_MAX never until it changes). A backlog
 * created, resized or freed opens it (LLONG_MIN). */
void repl_set_feed_gate(long long gate);
/* REPLCONF GETACK received from our primary: the replica side answers
 * with REPLCONF ACK (core_init wires its function). */
void repl_set_getack_hook(void (*fn)(void));
/* INFO's replication section, both roles (cmd_repl.c), without its
 * "# Replication" title line. */
struct sbuf;
void repl_info_text(struct sbuf *out);
/* master_failover_state: no-failover, waiting-for-sync, failover-in-progress. */
const char *repl_failover_state_name(void);
/* FAILOVER (repl_failover.c): the replica side's entry points it calls
 * (core_init wires repl_replica_start / repl_replica_stop); whether the
 * replica handshake must send PSYNC <replid> <offset> FAILOVER, and the
 * answer it got; the target side of PSYNC ... FAILOVER (NULL: promoted,
 * else the error text); the per-tick state machine. */
void repl_set_failover_hooks(void (*start)(const char *host, int port), void (*stop)(void));
bool repl_failover_in_progress(void);
void repl_failover_psync_done(bool accepted);
const char *repl_failover_accept(const char *replid);
void repl_failover_tick(void);
/* repl-backlog-size changed: keep the newest bytes that fit. */
void repl_backlog_resize(void);

#endif
