/* repl_primary.c — the primary side of replication (repl_primary.h): the
 * clients that became replicas, the stream sent to them and the stream
 * held for them while their full sync runs. */
#include "repl_primary.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "rdb.h" /* struct sbuf */
#include "repl.h"
#include "util.h"

enum rstate {
    R_WAIT_BGSAVE_START, /* waits for a full-sync child to start */
    R_WAIT_BGSAVE_END,   /* the child writes the RDB; the stream is held */
    R_SEND_BULK,         /* the RDB file is being sent; the stream is held */
    R_ONLINE,            /* receives the stream */
};

struct replica {
    struct client *c;
    enum rstate state;
    struct sbuf held; /* the stream while not online */
    struct replica *next;
};

static struct replica *replicas;
static int nreplicas;

static void send_raw(struct replica *r, const void *p, size_t n)
{
    if (r->c->adapter->raw) r->c->adapter->raw(r->c, p, n);
    g_repl_stats.net_repl_output_bytes += (long long)n;
}

void repl_primary_feed(const void *p, size_t n)
{
    struct replica *r;
    for (r = replicas; r; r = r->next) {
        if (r->state == R_ONLINE)
            send_raw(r, p, n);
        else if (r->state != R_WAIT_BGSAVE_START)
            sbuf_append(&r->held, p, n);
    }
}

int repl_primary_count(void)
{
    return nreplicas;
}

int repl_replicas_online(void)
{
    struct replica *r;
    int n = 0;
    for (r = replicas; r; r = r->next)
        if (r->state == R_ONLINE) n++;
    return n;
}

static void on_client_free(struct client *c)
{
    struct replica **pp, *r;
    for (pp = &replicas; (r = *pp); pp = &r->next) {
        if (r->c == c) {
            *pp = r->next;
            sbuf_free(&r->held);
            free(r);
            nreplicas--;
            return;
        }
    }
}

void repl_disconnect_replicas(void)
{
    struct replica *r;
    for (r = replicas; r; r = r->next)
        r->c->adapter->close(r->c, false);
}

void repl_primary_init(void)
{
    client_on_free(on_client_free);
}
