/* lru.h — what kv->lru holds and how an access updates it: Redis's 24-bit
 * LRU clock in seconds, or, under an LFU maxmemory policy, 16 bits of
 * minutes and an 8-bit logarithmic access counter (lfu-log-factor,
 * lfu-decay-time). The store calls it on every access; the eviction
 * policy (evict.c) reads it to rank candidates. */
#ifndef KEEL_LRU_H
#define KEEL_LRU_H

#include <stdbool.h>
#include <stdint.h>

#include "object.h"

/* maxmemory-policy values, in config_table.c's policy_names order. */
enum {
    MM_VOLATILE_LRU,
    MM_VOLATILE_LFU,
    MM_VOLATILE_RANDOM,
    MM_VOLATILE_TTL,
    MM_ALLKEYS_LRU,
    MM_ALLKEYS_LFU,
    MM_ALLKEYS_RANDOM,
    MM_NOEVICTION,
};

#define LFU_INIT_VAL 5

/* Whether the configured policy is an LFU one (kv->lru holds LFU data). */
bool lru_policy_lfu(void);

/* kv->lru for a new entry: the LRU clock, or (now in minutes, LFU_INIT_VAL). */
unsigned lru_new(unsigned clock);
/* A look-up that is an access: LRU takes the clock, LFU decays then
 * increments the counter (Redis's updateLFU). */
void lru_touch(struct kv *e, unsigned clock);

/* LFU arithmetic (Redis's LFUGetTimeInMinutes, LFUTimeElapsed,
 * LFULogIncr, LFUDecrAndReturn). `r` is a uniform draw in [0,1). */
unsigned long lru_lfu_minutes(void);
unsigned long lru_lfu_elapsed(unsigned long ldt, unsigned long now);
uint8_t lru_lfu_incr(uint8_t counter, long long log_factor, double r);
unsigned long lru_lfu_decr(unsigned lru, unsigned long now, long long decay_time);
/* The entry's current counter, decayed (OBJECT FREQ). */
unsigned long lru_freq(struct kv *e);

#endif
