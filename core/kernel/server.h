/* server.h — the process: event loop, listeners of every adapter, the
 * periodic cron (active expiry, rehash, pause expiry), signals, start-up
 * and shutdown, and process-wide figures for INFO. */
#ifndef KEEL_SERVER_H
#define KEEL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;

struct server_state {
    struct event_base *base;
    long long start_ms;
    char run_id[41];
    bool shutdown_asap;
    /* SIGTERM / SIGINT received, acted on by the next cron (Redis's
     * shutdown_asap from its signal handler): 0 when none; SHUTDOWN ABORT
     * clears it. */
    int shutdown_signal;
    bool cron_paused; /* DEBUG PAUSE-CRON */
    int exit_code;
    long long total_connections;
    long long rejected_connections;
    long long net_input_bytes, net_output_bytes;
    long long stat_reads, stat_writes; /* socket reads and write rounds (INFO stats) */
    long long cron_loops;
    const char *executable;
    /* Connections use io_uring (adapters/uring.c sets it at start; INFO's
     * multiplexing_api says io_uring instead of libevent's method). */
    bool io_uring;
    int tcp_port_bound;
    /* ---- persistence (issue 7; RDB engineer: core/persist/rdb.c, cmd_persist.c) ----
     * One child at a time: child_type is CHILD_RDB or CHILD_AOF (core/persist/rdb.h),
     * child_pid 0 when none. */
    int child_pid;
    int child_type;
    long long child_start_ms;
    long long lastsave;            /* unix seconds of the last successful save */
    long long lastbgsave_try;      /* unix seconds of the last BGSAVE attempt */
    bool lastbgsave_failed;        /* rdb_last_bgsave_status:err */
    long long dirty_before_bgsave; /* g_store.stats.dirty when the child forked */
    bool bgsave_scheduled;         /* BGSAVE SCHEDULE waiting for the AOF child */
    long long rdb_save_time_last;  /* seconds, -1 if none */
    long long rdb_save_time_start; /* unix ms the current child started */
    long long rdb_saves;           /* successful saves */
    long long rdb_last_cow_size;
    bool loading; /* INFO loading: 1 while a load runs */
    long long loading_start_time;
    long long loading_total_bytes, loading_loaded_bytes, loading_loaded_keys;
    long long stat_fork_time_us, stat_total_forks;
};

extern struct server_state g_server;

/* Ask the loop to stop after the current command (SHUTDOWN, SIGTERM). */
void server_request_shutdown(int exit_code);
/* CONFIG RESETSTAT: zero INFO's counters (core/commands/cmd_server.c). */
void info_reset_stats(void);

#endif
