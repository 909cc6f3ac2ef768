/* loading.c — the loading state of the process (Redis 7.0's startLoading,
 * loadingAbsProgress, stopLoading and processEventsWhileBlocked while a
 * load runs): g_server's loading_* figures for INFO, key-load-delay, the
 * clients served between keys through the kernel's event pump, and the
 * -LOADING refusal; an async load (a replica's repl-diskless-load swapdb
 * of the same history, Redis 7.0's async_loading) serves the old data and
 * refuses only NO_ASYNC_LOADING commands. It knows no protocol: the pump is whatever server/main.c
 * installed with kernel_set_event_pump. */
#include "loading.h"

#include <time.h>

#include "client.h"
#include "config.h"
#include "kernel.h"
#include "multi.h"
#include "registry.h"
#include "reply.h"
#include "server.h"
#include "store.h"
#include "util.h"

/* Redis 7.0 serves events every loading_process_events_interval_bytes
 * (2 MB) of input; a dataset of many small keys is served every 1024
 * keys too. */
#define LOADING_PUMP_BYTES (2LL * 1024 * 1024)
#define LOADING_PUMP_KEYS 1024

static int depth;
static bool async_load;
static long long keys_since_pump, last_pump_bytes;
static struct client *loader;
static long long rdb_used_mem;

void loading_start_async(long long total_bytes, bool async)
{
    if (depth == 0) async_load = async;
    loading_start(total_bytes);
    /* the old data is served as Redis serves it while loading: nothing
     * expires (keyIsExpired answers no while server.loading) */
    if (async_load) g_store.keep_expired = true;
}

bool loading_async(void)
{
    return g_server.loading && async_load;
}

void loading_start(long long total_bytes)
{
    if (depth++ > 0) return;
    g_server.loading = true;
    g_server.loading_start_time = (long long)time(NULL);
    g_server.loading_total_bytes = total_bytes;
    g_server.loading_loaded_bytes = 0;
    g_server.loading_loaded_keys = 0;
    keys_since_pump = 0;
    last_pump_bytes = 0;
    rdb_used_mem = 0;
}

void loading_end(void)
{
    if (depth == 0 || --depth > 0) return;
    g_server.loading = false;
    async_load = false;
    g_store.keep_expired = false;
    loader = NULL;
}

long long loading_loaded_bytes(void)
{
    return g_server.loading_loaded_bytes;
}

void loading_set_loader(struct client *c)
{
    loader = c;
}

void loading_set_rdb_used_mem(long long bytes)
{
    rdb_used_mem = bytes;
}

long long loading_rdb_used_mem(void)
{
    return rdb_used_mem;
}

/* key-load-delay: microseconds slept per key; a negative value -n sleeps
 * one microsecond every n keys (Redis's debugDelay). */
static void key_delay(void)
{
    static long long count;
    int d = g_config.key_load_delay;
    if (d > 0) {
        struct timespec ts = {d / 1000000, (long)(d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    } else if (d < 0 && (count++ % -(long long)d) == 0) {
        struct timespec ts = {0, 1000};
        nanosleep(&ts, NULL);
    }
}

void loading_progress(long long loaded_bytes)
{
    if (depth == 0) return;
    g_server.loading_loaded_bytes = loaded_bytes;
    g_server.loading_loaded_keys++;
    if (g_config.key_load_delay) key_delay();
    if (++keys_since_pump < LOADING_PUMP_KEYS &&
        loaded_bytes / LOADING_PUMP_BYTES == last_pump_bytes / LOADING_PUMP_BYTES)
        return;
    keys_since_pump = 0;
    last_pump_bytes = loaded_bytes;
    kernel_pump_events();
}

bool loading_refuse(struct client *c, const struct command *cmd, struct reply *r)
{
    bool exec = cmd->fn == cmd_exec && (c->flags & CF_MULTI);
    if (!g_server.loading || c == loader) return false;
    /* EXEC is judged by what it would run too (Redis's processCommand: the
     * queue's flags, queued before the load began). */
    if (async_load) {
        /* the old data is served: only what would act on the whole
         * dataset or the link waits (BGSAVE, REPLICAOF, ...) */
        if (!(cmd->flags & CMD_NO_ASYNC_LOADING) &&
            !(exec && multi_any_has(c, CMD_NO_ASYNC_LOADING)))
            return false;
    } else if ((cmd->flags & CMD_LOADING) && !(exec && multi_any_lacks(c, CMD_LOADING))) {
        /* a subcommand carries its own flags (CONFIG GET is LOADING, ...) */
        return false;
    }
    if (exec) {
        /* Redis's execCommandAbort: the transaction is discarded */
        reply_error(r, "EXECABORT Transaction discarded because of: LOADING Redis is loading the "
                       "dataset in memory");
        multi_discard(c);
        return true;
    }
    reply_error(r, "LOADING Redis is loading the dataset in memory");
    return true;
}

long long loading_eta_seconds(void)
{
    long long elapsed = (long long)time(NULL) - g_server.loading_start_time;
    long long remaining = g_server.loading_total_bytes
                              ? g_server.loading_total_bytes - g_server.loading_loaded_bytes
                              : 1;
    if (elapsed <= 0) return 1; /* Redis's figure when there is nothing to go by */
    return elapsed * remaining / (g_server.loading_loaded_bytes + 1);
}
