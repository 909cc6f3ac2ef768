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
    int exit_code;
    long long total_connections;
    long long rejected_connections;
    long long net_input_bytes, net_output_bytes;
    long long cron_loops;
    const char *executable;
    int tcp_port_bound;
};

extern struct server_state g_server;

/* Ask the loop to stop after the current command (SHUTDOWN, SIGTERM). */
void server_request_shutdown(int exit_code);

#endif
