/* client.c — client creation, the client list, CLIENT LIST lines (client.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "multi.h"
#include "pubsub.h"
#include "store.h"
#include "tracking.h"
#include "util.h"



struct client_list g_clients = {NULL, NULL, 0, 1};

struct client *client_new(const struct client_adapter *ad, void *conn, const struct reply_ops *ops)
{
    struct client *c = xcalloc(1, sizeof(*c));
    c->id = g_clients.next_id++;
    c->dbid = 0;
    c->db = store_db(0);
    c->resp = 2;
    c->authenticated = g_config.requirepass == NULL || g_config.requirepass[0] == 0;
    c->state = CLIENT_ACTIVE;
    c->reply.ops = ops;
    c->reply.ctx = conn;
    c->reply.resp = 2;
    c->adapter = ad;
    c->conn = conn;
    c->ctime_ms = c->last_interaction_ms = util_mstime();
    c->last_cmd = "NULL";
    c->prev = g_clients.tail;
    if (g_clients.tail) g_clients.tail->next = c;
    else g_clients.head = c;
    g_clients.tail = c;
    g_clients.count++;
    return c;
}

void client_kernel_forget(struct client *c);

#define MAX_FREE_HOOKS 8
static void (*free_hooks[MAX_FREE_HOOKS])(struct client *c);
static int nfree_hooks;

void client_on_free(void (*hook)(struct client *c))
{
    if (nfree_hooks == MAX_FREE_HOOKS) abort();
    free_hooks[nfree_hooks++] = hook;
}

static void (*reset_hooks[MAX_FREE_HOOKS])(struct client *c);
static int nreset_hooks;

void client_on_reset(void (*hook)(struct client *c))
{
    if (nreset_hooks == MAX_FREE_HOOKS) abort();
    reset_hooks[nreset_hooks++] = hook;
}

void client_reset_state(struct client *c)
{
    int i;
    for (i = 0; i < nreset_hooks; i++) reset_hooks[i](c);
}

void client_free(struct client *c)
{
    int i;
    for (i = 0; i < nfree_hooks; i++) free_hooks[i](c);
    client_kernel_forget(c);
    if (c->prev) c->prev->next = c->next;
    else g_clients.head = c->next;
    if (c->next) c->next->prev = c->prev;
    else g_clients.tail = c->prev;
    g_clients.count--;
    free(c->name);
    free(c->lib_name);
    free(c->lib_ver);
    free(c);
}

struct client *client_by_id(uint64_t id)
{
    struct client *c;
    for (c = g_clients.head; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

bool client_select(struct client *c, int dbid)
{
    struct db *db = store_db(dbid);
    if (!db) return false;
    c->dbid = dbid;
    c->db = db;
    return true;
}

size_t client_info_line(struct client *c, char *buf, size_t len)
{
    char addr[128] = "", laddr[128] = "";
    int fd = -1;
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
    long long now = util_mstime();
    char flags[24];
    int nf = 0;
    int n;
    long sub = pubsub_client_count(c, PS_CHANNEL), psub = pubsub_client_count(c, PS_PATTERN),
         ssub = pubsub_client_count(c, PS_SHARD);
    if (c->adapter && c->adapter->describe)
        c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    if (c->adapter && c->adapter->buffers)
        c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
    {
        unsigned tf = (c->flags & CF_TRACKING) ? tracking_flags(c) : 0;
        if (c->nsubs > 0) flags[nf++] = 'P';
        if (c->flags & CF_MULTI) flags[nf++] = 'x';
        if (c->flags & CF_BLOCKED) flags[nf++] = 'b';
        if (c->flags & CF_TRACKING) flags[nf++] = 't';
        if (tf & TRK_BROKEN_REDIR) flags[nf++] = 'R';
        if (tf & TRK_BCAST) flags[nf++] = 'B';
        if (c->flags & CF_DIRTY_CAS) flags[nf++] = 'd';
        if (c->flags & CF_CLOSE_AFTER_REPLY) flags[nf++] = 'c';
    }
    if (c->flags & CF_NO_EVICT) flags[nf++] = 'e';
    if (nf == 0) flags[nf++] = 'N';
    flags[nf] = 0;
    n = snprintf(buf, len,
                 "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
                 "sub=%ld psub=%ld ssub=%ld multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 "
                 "multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=r cmd=%s "
                 "user=default redir=%lld resp=%d lib-name=%s lib-ver=%s",
                 (unsigned long long)c->id, addr, laddr, fd, c->name ? c->name : "",
                 (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000, flags, c->dbid,
                 sub, psub, ssub, multi_queued(c), qbuf, qfree, qbuf + qfree, qbuf, obl, oll,
                 omem, qbuf + qfree + omem + 1024, c->last_cmd,
                 (c->flags & CF_TRACKING) ? tracking_redirect(c) : -1LL, c->resp,
                 c->lib_name ? c->lib_name : "",
                 c->lib_ver ? c->lib_ver : "");
    if (n < 0) n = 0;
    if ((size_t)n >= len) n = (int)len - 1;
    return (size_t)n;
}
