/* loading.h — the dataset being loaded (Redis 7.0's loading state): an RDB
 * or AOF load at start-up, a replica's full sync, DEBUG RELOAD/LOADAOF
 * bracket their work with loading_start/loading_end and report progress
 * per key or command; INFO's loading_* figures come from here (through
 * g_server), clients are served while it lasts (every 2 MB or 1024 keys,
 * through the kernel's event pump, as Redis's processEventsWhileBlocked),
 * and the kernel refusal answers -LOADING to commands not flagged LOADING
 * (to NO_ASYNC_LOADING ones during an async load). */
#ifndef KEEL_LOADING_H
#define KEEL_LOADING_H

#include <stdbool.h>

struct client;
struct command;
struct reply;

/* A load begins: total_bytes is the size of what will be read (INFO's
 * loading_total_bytes). Loads nest (an AOF's RDB base): only the outer
 * one sets and clears the state. */
void loading_start(long long total_bytes);
/* The same for a replica's async load (Redis 7.0's async_loading: true
 * when the sync continues the history the old data belongs to): clients
 * keep being served from the old data meanwhile; only NO_ASYNC_LOADING
 * commands get -LOADING. INFO shows loading:0, async_loading:1. */
void loading_start_async(long long total_bytes, bool async);
/* A load is running and it is an async one. */
bool loading_async(void);
/* One key (or AOF command) loaded; loaded_bytes: how far the load is in
 * the total. Sleeps key-load-delay and serves clients now and then. */
void loading_progress(long long loaded_bytes);
/* The load ended (loaded or failed). */
void loading_end(void);
/* Where the current load is (the base an inner load counts from). */
long long loading_loaded_bytes(void);
/* The client replaying the AOF: its commands are not refused. */
void loading_set_loader(struct client *c);

/* The kernel's refusal: while loading, commands without the LOADING flag
 * get "-LOADING Redis is loading the dataset in memory". */
bool loading_refuse(struct client *c, const struct command *cmd, struct reply *r);

/* INFO persistence's loading_eta_seconds (Redis 7.0's estimate) and
 * loading_rdb_used_mem (the image's used-mem aux field). */
long long loading_eta_seconds(void);
void loading_set_rdb_used_mem(long long bytes);
long long loading_rdb_used_mem(void);

#endif
