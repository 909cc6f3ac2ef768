/* stats.h — the server's figures behind one API: INFO (cmd_server.c), the
 * HTTP adapter's /_metrics and /_health read the same numbers here, so
 * none of them parses another's text. */
#ifndef KEEL_STATS_H
#define KEEL_STATS_H

#include <stddef.h>

struct command;

struct stats {
    long long uptime_s;
    long long connected_clients, total_connections, rejected_connections;
    long long commands_processed, total_errors;
    long long keyspace_hits, keyspace_misses, expired_keys, keys;
    long long net_input_bytes, net_output_bytes;
    size_t used_memory, used_memory_rss, used_memory_peak;
    long long ops_per_sec;          /* averaged over the last 1.6 s */
    double input_kbps, output_kbps; /* the same */
};

/* Fill s with the current figures (starts the rate sampler on first use). */
void stats_read(struct stats *s);
/* Heap in use (the allocator's view) and resident set size, in bytes. */
size_t stats_mem_used(void);
size_t stats_mem_rss(void);
/* Take the memory peak into account now (the cron's sampling does it too). */
void stats_note_peak(void);
/* Clients connected through the adapter named name ("resp", "http", "ws"). */
long long stats_clients_of(const char *name);
/* Keys and keys with an expiry in database db. */
void stats_db(int db, long long *keys, long long *expires);
/* Visit every command and subcommand of the table (per-command figures:
 * calls, usec, rejected_calls, failed_calls are fields of struct command). */
void stats_foreach_command(void (*fn)(void *priv, const struct command *c), void *priv);
/* CONFIG RESETSTAT: forget the instantaneous rates. */
void stats_reset_rates(void);

#endif
