/* evict.h — maxmemory's policy: Redis's sampled choice of a victim
 * through a pool of 16 candidates ranked by what kv->lru holds (lru.h),
 * and the eviction loop (Redis's performEvictions) the kernel runs before
 * each command. */
#ifndef KEEL_EVICT_H
#define KEEL_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lru.h"
#include "object.h"

#define EVPOOL_SIZE 16

enum evict_result { EVICT_OK, EVICT_RUNNING, EVICT_FAIL };

/* RESTORE/load: set the LFU counter (if LFU) or the idle time in seconds
 * (otherwise); a negative value sets nothing. */
void evict_set_lru_or_lfu(struct kv *e, long long freq, long long idle_s);

/* The eviction pool: candidates ordered by idleness (worst last). */
struct evpool_entry {
    unsigned long long idle; /* LRU idle ms, 255-freq, or ULLONG_MAX-ttl */
    char *heap;              /* a key longer than cached, else NULL */
    size_t klen;
    int dbid;
    bool used;       /* false: empty slot */
    char cached[47]; /* short keys are copied here, no allocation */
};
static inline const char *evpool_key(const struct evpool_entry *p)
{
    return p->heap ? p->heap : p->cached;
}
/* Insert a candidate as Redis's evictionPoolPopulate does: kept sorted by
 * idle ascending; when full, a candidate worse than everyone drops the
 * best (first) entry, one better than all is ignored. */
void evpool_insert(struct evpool_entry *pool, unsigned long long idle, const char *key, size_t klen,
                   int dbid);
void evpool_clear(struct evpool_entry *pool);

/* maxmemory state: true when over (used minus not_counted > maxmemory),
 * with the bytes to free in *tofree. */
bool evict_over_limit(size_t not_counted, size_t *used, size_t *tofree);
/* Evict until under maxmemory or the time limit of
 * maxmemory-eviction-tenacity (then EVICT_RUNNING: evict_continue goes on
 * from the loop). not_counted: bytes maxmemory ignores (the AOF buffer). */
enum evict_result evict_perform(size_t not_counted);
/* Whether an eviction cycle is left to finish (evict_continue's work). */
bool evict_pending(void);

/* The check before the command running now found memory still over
 * maxmemory after evicting (Redis's pre_command_oom_state): scripts refuse
 * their first DENYOOM command, and a flagged script without allow-oom
 * does not start. Set by maxmemory_refuse (core/commands/cmd_memory.c). */
extern bool g_pre_command_oom;

struct evict_stats {
    long long evicted_keys;
    long long evicted_clients;                 /* maxmemory-clients (core/commands/cmd_memory.c) */
    long long total_eviction_exceeded_time_ms; /* ms spent over maxmemory */
    long long over_since_ms;                   /* 0: not over */
};
extern struct evict_stats g_evict;
/* Current ms spent over maxmemory (INFO's current_eviction_exceeded_time). */
long long evict_exceeded_now_ms(void);

#endif
