/* lru.c — the access clock in kv->lru (lru.h): the LRU stamp or the LFU
 * counter with its decay, updated on each access. */
#include "lru.h"

#include "config.h"
#include "util.h"

bool lru_policy_lfu(void)
{
    return g_config.maxmemory_policy == MM_VOLATILE_LFU ||
           g_config.maxmemory_policy == MM_ALLKEYS_LFU;
}

/* ---- LFU arithmetic ---- */

unsigned long lru_lfu_minutes(void)
{
    return (unsigned long)(util_mstime() / 60000) & 65535;
}

unsigned long lru_lfu_elapsed(unsigned long ldt, unsigned long now)
{
    if (now >= ldt) return now - ldt;
    return 65535 - ldt + now;
}

uint8_t lru_lfu_incr(uint8_t counter, long long log_factor, double r)
{
    double baseval, p;
    if (counter == 255) return 255;
    baseval = (double)counter - LFU_INIT_VAL;
    if (baseval < 0) baseval = 0;
    p = 1.0 / (baseval * (double)log_factor + 1);
    if (r < p) counter++;
    return counter;
}

unsigned long lru_lfu_decr(unsigned lru, unsigned long now, long long decay_time)
{
    unsigned long ldt = lru >> 8, counter = lru & 255;
    unsigned long periods =
        decay_time > 0 ? lru_lfu_elapsed(ldt, now) / (unsigned long)decay_time : 0;
    if (periods) counter = periods > counter ? 0 : counter - periods;
    return counter;
}

/* A uniform draw in [0,1) from the process's generator (xorshift64*,
 * seeded from util_rand64: no lock, unlike rand()). */
static double uniform(void)
{
    static uint64_t s;
    if (!s) s = util_rand64() | 1;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (double)((s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

unsigned lru_new(unsigned clock)
{
    if (lru_policy_lfu()) return (unsigned)((lru_lfu_minutes() << 8) | LFU_INIT_VAL);
    return clock;
}

void lru_touch(struct kv *e, unsigned clock)
{
    if (lru_policy_lfu()) {
        unsigned long now = lru_lfu_minutes();
        unsigned long c = lru_lfu_decr(e->lru, now, g_config.lfu_decay_time);
        c = lru_lfu_incr((uint8_t)c, g_config.lfu_log_factor, uniform());
        e->lru = (unsigned)((now << 8) | c);
    } else {
        e->lru = clock;
    }
}

unsigned long lru_freq(struct kv *e)
{
    return lru_lfu_decr(e->lru, lru_lfu_minutes(), g_config.lfu_decay_time);
}
