/* client_mem.h — maxmemory-clients (client_mem.c): every client's memory
 * kept in Redis 7.0's memory-usage buckets (powers of two, 32 KB up to
 * 8 GB), updated when a client's buffers change, and the eviction that
 * closes clients from the largest bucket down while all clients together
 * use more than the limit. Per command the work does not grow with the
 * number of connected clients. */
#ifndef KEEL_CLIENT_MEM_H
#define KEEL_CLIENT_MEM_H

#include <stdbool.h>
#include <stddef.h>

struct client;

/* Redis's CLIENT_MEM_USAGE_BUCKET_MIN_LOG / _MAX_LOG. */
#define CLIENT_MEM_BUCKET_MIN_LOG 15
#define CLIENT_MEM_BUCKET_MAX_LOG 33
#define CLIENT_MEM_BUCKETS (1 + CLIENT_MEM_BUCKET_MAX_LOG - CLIENT_MEM_BUCKET_MIN_LOG)

/* A client's memory as CLIENT LIST's tot-mem counts the buffers: its query
 * buffer, its output buffer and a fixed part for the client itself. */
size_t client_mem_of(struct client *c);
/* Its memory changed (input read, output queued or written): move it to
 * its bucket. Cheap; nothing while maxmemory-clients is 0. */
void client_mem_update(struct client *c);
/* Before a command of cur (and from the cron): past maxmemory-clients,
 * close clients from the largest bucket down until under it (CLIENT
 * NO-EVICT ones count but are spared). True when cur itself was closed:
 * its command must be dropped with no reply. */
bool client_mem_evict(struct client *cur);
/* The cron's share (Redis's clientsCron): a few clients' memory brought up
 * to date each call, every client about once a second; then eviction. */
void client_mem_cron(int hz);
/* Wiring (core_init.c): forget freed clients. */
void client_mem_init(void);

/* For tests and INFO: the clients' total memory, and how many clients the
 * accounting has looked at since start (updates plus eviction visits): it
 * grows with the work done, not with the number of idle clients. */
size_t client_mem_total(void);
unsigned long long client_mem_visits(void);

#endif
