/* stats.c — the server's figures (stats.h): memory from the allocator and
 * /proc/self/statm, a 100 ms sampler for the instantaneous rates Redis
 * reports (averages of the last 16 samples) and the memory peak, and the
 * kernel's, the store's and the clients' counters gathered in one place. */
#include "stats.h"

#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "client.h"
#include "dict.h"
#include "kernel.h"
#include "mem.h"
#include "server.h"
#include "store.h"
#include "util.h"

size_t stats_mem_used(void)
{
    return mem_used(); /* core/lib/mem.c: the allocator's count */
}

size_t stats_mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#define SAMPLES 16
enum { SAMPLE_OPS, SAMPLE_NET_IN, SAMPLE_NET_OUT, NSAMPLE };

static struct {
    struct event *ev;
    long long last_ms, last[NSAMPLE];
    long long rate[NSAMPLE][SAMPLES];
    int idx;
    size_t peak_mem;
} sampler;

static void sample_now(void)
{
    long long now = util_mstime(), cur[NSAMPLE];
    long long dt = now - sampler.last_ms;
    size_t used = stats_mem_used();
    int k;
    cur[SAMPLE_OPS] = g_kstats.commands_processed;
    cur[SAMPLE_NET_IN] = g_server.net_input_bytes;
    cur[SAMPLE_NET_OUT] = g_server.net_output_bytes;
    if (used > sampler.peak_mem) sampler.peak_mem = used;
    if (sampler.last_ms && dt > 0) {
        for (k = 0; k < NSAMPLE; k++)
            sampler.rate[k][sampler.idx] = (cur[k] - sampler.last[k]) * 1000 / dt;
        sampler.idx = (sampler.idx + 1) % SAMPLES;
    }
    sampler.last_ms = now;
    for (k = 0; k < NSAMPLE; k++)
        sampler.last[k] = cur[k];
}

void stats_note_peak(void)
{
    size_t used = stats_mem_used();
    if (used > sampler.peak_mem) sampler.peak_mem = used;
}

static void on_sample(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    sample_now();
}

static void sampler_start(void)
{
    struct timeval tv = {0, 100000};
    if (sampler.ev || !g_server.base) return;
    sampler.ev = event_new(g_server.base, -1, EV_PERSIST, on_sample, NULL);
    if (sampler.ev) event_add(sampler.ev, &tv);
    sample_now();
}

static long long sample_avg(int k)
{
    long long sum = 0;
    int i;
    for (i = 0; i < SAMPLES; i++)
        sum += sampler.rate[k][i];
    return sum / SAMPLES;
}

void stats_reset_rates(void)
{
    memset(sampler.rate, 0, sizeof(sampler.rate));
    sampler.idx = 0;
    sampler.last_ms = 0;
    if (sampler.ev) sample_now(); /* rebase on the counters just reset */
}

void stats_read(struct stats *s)
{
    int i;
    sampler_start();
    memset(s, 0, sizeof(*s));
    s->uptime_s = (util_mstime() - g_server.start_ms) / 1000;
    s->connected_clients = g_clients.count;
    s->total_connections = g_server.total_connections;
    s->rejected_connections = g_server.rejected_connections;
    s->commands_processed = g_kstats.commands_processed;
    s->total_errors = g_kstats.total_errors;
    s->keyspace_hits = g_store.stats.keyspace_hits;
    s->keyspace_misses = g_store.stats.keyspace_misses;
    s->expired_keys = g_store.stats.expired_keys;
    for (i = 0; i < g_store.ndb; i++)
        s->keys += (long long)dict_size(&g_store.dbs[i].keys);
    s->net_input_bytes = g_server.net_input_bytes;
    s->net_output_bytes = g_server.net_output_bytes;
    s->used_memory = stats_mem_used();
    s->used_memory_rss = stats_mem_rss();
    if (s->used_memory > sampler.peak_mem) sampler.peak_mem = s->used_memory;
    s->used_memory_peak = sampler.peak_mem;
    s->ops_per_sec = sample_avg(SAMPLE_OPS);
    s->input_kbps = (double)sample_avg(SAMPLE_NET_IN) / 1024;
    s->output_kbps = (double)sample_avg(SAMPLE_NET_OUT) / 1024;
}

long long stats_clients_of(const char *name)
{
    long long n = 0;
    struct client *c;
    for (c = g_clients.head; c; c = c->next)
        if (c->adapter && strcmp(c->adapter->name, name) == 0) n++;
    return n;
}

void stats_db(int db, long long *keys, long long *expires)
{
    struct db *d = store_db(db);
    *keys = (long long)dict_size(&d->keys);
    *expires = (long long)d->nexp;
}

void stats_foreach_command(void (*fn)(void *priv, const struct command *c), void *priv)
{
    int i, j;
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        fn(priv, c);
        for (j = 0; j < c->nsub; j++)
            fn(priv, c->subs[j]);
    }
}
