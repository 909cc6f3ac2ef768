/* cmd_memory.h — maxmemory as commands meet it (the OOM refusal and the
 * eviction run before each command, wired by core_init) and the memory
 * figures INFO's memory section and MEMORY STATS share. */
#ifndef KEEL_CMD_MEMORY_H
#define KEEL_CMD_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;
struct reply;
struct kv;

/* Redis's getMemoryOverheadData: where used_memory goes. */
struct mem_overhead {
    size_t total, startup, peak;
    size_t clients_normal, aof_buffer;
    size_t overhead_total, dataset;
    long long keys;
    size_t bytes_per_key;
    double dataset_perc, peak_perc;
    size_t rss, allocator_allocated, allocator_active, allocator_resident;
};
void memory_overhead(struct mem_overhead *mh);
/* Per-database overhead (MEMORY STATS db.N): 0 when the db is empty. */
size_t memory_db_overhead_main(int db);
size_t memory_db_overhead_expires(int db);

/* Remember used memory after start-up (INFO used_memory_startup). */
void memory_mark_startup(void);
/* The kernel's refusal hook: evict what maxmemory asks for, then refuse
 * with -OOM a DENYOOM command (or EXEC of a queue holding one, or any
 * command queued in MULTI) while memory stays over the limit. */
bool maxmemory_refuse(struct client *c, const struct command *cmd, struct reply *r);
/* From the loop: go on with an eviction cycle cut by its time limit. */
void maxmemory_continue(void);
/* CONFIG SET maxmemory: evict at once down to the new limit (Redis's
 * updateMaxmemory), unless loading or paused. */
void maxmemory_apply(void);
/* MEMORY USAGE's estimate of one entry, key included (Redis's figures for
 * jemalloc: the same numbers redis-server gives for the same data). */
size_t memory_usage(struct kv *e, long long samples);

#endif
