/* client_mem.c — maxmemory-clients (client_mem.h), as Redis 7.0 does it:
 * while the limit is set, every connected client is counted in the total
 * of client memory and, unless CLIENT NO-EVICT, listed in the bucket of
 * its memory's power of two (below 32 KB: the first; 8 GB and up: the
 * last). A client moves between buckets when its memory changes (the
 * connection base reports reads, queued pushes and writes; the cron
 * refreshes every client about once a second), so a command costs the
 * same whatever the number of idle clients: eviction walks the buckets
 * from the largest down and closes clients until the total is under the
 * limit. */
#include "client_mem.h"

#include "client.h"
#include "client_info.h"
#include "config.h"
#include "evict.h"
#include "log.h"

struct bucket {
    struct client *head, *tail;
};

static struct bucket buckets[CLIENT_MEM_BUCKETS];
static bool enabled;          /* maxmemory-clients is not 0: buckets kept */
static size_t total;          /* every counted client's mem_last */
static struct client *cursor; /* the cron's next client */
static unsigned long long visits;

size_t client_mem_of(struct client *c)
{
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
    if (c->adapter && c->adapter->buffers) c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
    return qbuf + qfree + omem + client_info_mem(c) + 1024;
}

/* Redis's getMemUsageBucket: the bit length of mem, clamped. */
static int bucket_of(size_t mem)
{
    int bits = mem ? 64 - __builtin_clzll((unsigned long long)mem) : 0;
    if (bits > CLIENT_MEM_BUCKET_MAX_LOG) bits = CLIENT_MEM_BUCKET_MAX_LOG;
    if (bits < CLIENT_MEM_BUCKET_MIN_LOG) bits = CLIENT_MEM_BUCKET_MIN_LOG;
    return bits - CLIENT_MEM_BUCKET_MIN_LOG;
}

static void unlink_bucket(struct client *c)
{
    struct bucket *b;
    if (!c->mem_bucket) return;
    b = &buckets[c->mem_bucket - 1];
    if (c->mem_prev)
        c->mem_prev->mem_next = c->mem_next;
    else
        b->head = c->mem_next;
    if (c->mem_next)
        c->mem_next->mem_prev = c->mem_prev;
    else
        b->tail = c->mem_prev;
    c->mem_prev = c->mem_next = NULL;
    c->mem_bucket = 0;
}

static void link_bucket(struct client *c, int idx)
{
    struct bucket *b = &buckets[idx];
    c->mem_bucket = idx + 1;
    c->mem_next = NULL;
    c->mem_prev = b->tail;
    if (b->tail)
        b->tail->mem_next = c;
    else
        b->head = c;
    b->tail = c;
}

/* Out of the total and the buckets. */
static void forget(struct client *c)
{
    unlink_bucket(c);
    total -= c->mem_last;
    c->mem_last = 0;
}

static void update(struct client *c)
{
    size_t m;
    int want;
    /* Only connections count (Redis: a client with a connection); the
     * AOF loader's caller has no buffers and cannot be closed. */
    if (!c->adapter || !c->adapter->close || !c->adapter->buffers || c->mem_evicted) return;
    /* A primary's link and replicas are neither counted nor evicted (Redis
     * counts the normal and pub/sub client types only). */
    if (c->flags & (CF_MASTER | CF_REPLICA)) {
        total -= c->mem_last;
        c->mem_last = 0;
        unlink_bucket(c);
        return;
    }
    visits++;
    m = client_mem_of(c);
    total = total - c->mem_last + m;
    c->mem_last = m;
    want = (c->flags & CF_NO_EVICT) ? 0 : bucket_of(m) + 1;
    if (want == c->mem_bucket) return;
    unlink_bucket(c);
    if (want) link_bucket(c, want - 1);
}

/* maxmemory-clients turned on: count every client; off: forget them. */
static void sync_enabled(void)
{
    bool want = g_config.maxmemory_clients != 0;
    struct client *c;
    if (want == enabled) return;
    enabled = want;
    for (c = g_clients.head; c; c = c->next) {
        if (want)
            update(c);
        else
            forget(c);
    }
}

void client_mem_update(struct client *c)
{
    if (enabled && c) update(c);
}

static long long limit_bytes(void)
{
    long long l = g_config.maxmemory_clients;
    /* a percentage of maxmemory is kept negative (config_table.c) */
    if (l < 0) l = g_config.maxmemory * -l / 100;
    return l;
}

bool client_mem_evict(struct client *cur)
{
    long long limit;
    bool closed_cur = false;
    int b = CLIENT_MEM_BUCKETS - 1;
    sync_enabled();
    if (!enabled) return false;
    if (cur) client_mem_update(cur);
    limit = limit_bytes();
    if (limit <= 0) return false;
    while (total >= (size_t)limit) {
        struct client *c;
        char line[1024];
        while (b >= 0 && !buckets[b].head)
            b--;
        if (b < 0) {
            log_warning("Over client maxmemory after evicting all evictable clients");
            break;
        }
        c = buckets[b].head;
        visits++;
        client_info_line(c, line, sizeof(line));
        log_notice("Evicting client: %s", line);
        g_evict.evicted_clients++;
        forget(c);
        c->mem_evicted = true; /* closed below, maybe freed later */
        if (c == cur) closed_cur = true;
        c->adapter->close(c, false);
    }
    return closed_cur;
}

void client_mem_cron(int hz)
{
    long long n, i;
    sync_enabled();
    if (!enabled) return;
    /* Redis's clientsCron: numclients / hz clients a call, at least 5. */
    n = hz > 0 ? g_clients.count / hz : g_clients.count;
    if (n < 5) n = g_clients.count < 5 ? g_clients.count : 5;
    for (i = 0; i < n && g_clients.count > 0; i++) {
        if (!cursor) cursor = g_clients.head;
        update(cursor);
        cursor = cursor->next;
    }
    client_mem_evict(NULL);
}

static void on_client_free(struct client *c)
{
    if (cursor == c) cursor = c->next;
    forget(c);
}

void client_mem_init(void)
{
    client_on_free(on_client_free);
}

size_t client_mem_total(void)
{
    return total;
}

unsigned long long client_mem_visits(void)
{
    return visits;
}
