/* client.c — client creation and release, the client list, per-module
 * hooks, SELECT (client.h). CLIENT LIST lines are client_info.c's. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "store.h"
#include "util.h"

struct client_list g_clients = {NULL, NULL, 0, 1};

struct client *client_new(const struct client_adapter *ad, void *conn, const struct reply_ops *ops)
{
    struct client *c = xcalloc(1, sizeof(*c));
    c->id = g_clients.next_id++;
    c->dbid = 0;
    c->db = store_db(0);
    c->resp = 2;
    c->authenticated = acl_default_authenticates();
    c->state = CLIENT_ACTIVE;
    c->reply.ops = ops;
    c->reply.ctx = conn;
    c->reply.resp = 2;
    c->adapter = ad;
    c->conn = conn;
    c->ctime_ms = c->last_interaction_ms = util_mstime();
    c->last_cmd = "NULL";
    /* Redis's first reply buffer: 16 KB, its peak the whole buffer
     * (core/kernel/reply_buffer.c resizes it). */
    c->rb_size = c->rb_peak = 16384;
    c->rb_peak_reset_ms = c->ctime_ms;
    c->prev = g_clients.tail;
    if (g_clients.tail)
        g_clients.tail->next = c;
    else
        g_clients.head = c;
    g_clients.tail = c;
    g_clients.count++;
    return c;
}

void client_kernel_forget(struct client *c);

#define MAX_FREE_HOOKS 16
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
    for (i = 0; i < nreset_hooks; i++)
        reset_hooks[i](c);
}

void client_free(struct client *c)
{
    int i;
    for (i = 0; i < nfree_hooks; i++)
        free_hooks[i](c);
    client_kernel_forget(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        g_clients.head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        g_clients.tail = c->prev;
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
