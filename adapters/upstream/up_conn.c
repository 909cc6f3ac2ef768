/* up_conn.c — the upstream transport (upstream.h): connections to the
 * upstream nodes on libevent bufferevents, pooled and pipelined (replies
 * come back in order: each connection keeps a FIFO of what it waits for),
 * the handshake (AUTH, HELLO 3 for RESP3 clients' connections), dedicated
 * connections for blocking commands, the slot map (CLUSTER SLOTS),
 * reconnection with backoff, and the pub/sub relay. */
#include "upstream.h"

#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "kernel.h"
#include "log.h"
#include "pubsub.h"
#include "resp_encode.h"
#include "tracking.h"
#include "up_route.h"
#include "util.h"

static char *seeds_v, *user_v, *password_v;
static long long pool_v = 1;

const struct config_entry upstream_config_table[] = {
    {"upstream", NULL, CT_STRING, &seeds_v, "", 0, 0, false,
     "keel: upstream mode: seed nodes host:port ... of a Redis Cluster (or one redis-server) "
     "that stores the data; empty: local mode",
     NULL, NULL},
    {"upstream-user", NULL, CT_STRING, &user_v, "", 0, 0, false,
     "keel: ACL user Keel logs in as upstream (empty: default)", NULL, NULL},
    {"upstream-password", NULL, CT_STRING, &password_v, "", 0, 0, false,
     "keel: password Keel logs in with upstream (empty: none)", NULL, NULL},
    {"upstream-connections", NULL, CT_LL, &pool_v, "1", 1, 16, false,
     "keel: pipelined connections per upstream node and protocol", NULL, NULL},
    {"upstream-tls", NULL, CT_BOOL, &g_up_tls.on, "no", 0, 1, false,
     "keel: TLS to the upstream nodes (their tls-port; the cluster with tls-cluster yes)", NULL,
     NULL},
    {"upstream-tls-ca-cert-file", NULL, CT_STRING, &g_up_tls.ca_file, "", 0, 0, false,
     "keel: CA certificates the upstream nodes' certificates must chain to (empty: the system's)",
     NULL, NULL},
    {"upstream-tls-ca-cert-dir", NULL, CT_STRING, &g_up_tls.ca_dir, "", 0, 0, false,
     "keel: a directory of CA certificates for the upstream nodes", NULL, NULL},
    {"upstream-tls-cert-file", NULL, CT_STRING, &g_up_tls.cert_file, "", 0, 0, false,
     "keel: the client certificate Keel shows the upstream nodes (tls-auth-clients)", NULL, NULL},
    {"upstream-tls-key-file", NULL, CT_STRING, &g_up_tls.key_file, "", 0, 0, false,
     "keel: the key of upstream-tls-cert-file", NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

bool upstream_enabled(void)
{
    return seeds_v && seeds_v[0];
}

enum pend_kind { P_REQ, P_SKIP, P_SLOTS };

struct pend {
    enum pend_kind kind;
    struct up_req *q;
    int left; /* replies still expected for it */
    struct pend *next;
};

struct uconn {
    struct bufferevent *bev;
    int node, resp;
    bool dedicated, relay, connected;
    bool tracker; /* CLIENT TRACKING ON BCAST: the cluster's invalidations */
    bool closing; /* unpinned while its own reply was being read */
    struct pend *head, *tail;
    struct up_req *dq; /* a dedicated connection's request */
    void **pinref;     /* a client's WATCH connection: where the client keeps it */
};

#define POOL_MAX 16
static struct event_base *base;
static struct uconn *pool[UP_MAX_NODES][2][POOL_MAX];
static unsigned rr[UP_MAX_NODES][2];
static int consec_fail[UP_MAX_NODES];
static long long next_try_ms[UP_MAX_NODES];
/* The relays: per master, a RESP2 connection subscribed to the keyspace
 * notifications (PSUBSCRIBE __key*@*__:*) and to the shard channels Keel's
 * clients subscribed to whose slot it serves (SSUBSCRIBE); the first one
 * also to every channel (PSUBSCRIBE *: PUBLISH reaches every node). */
static struct uconn *relays[UP_MAX_NODES];
static int relay_main = -1; /* the node whose relay has PSUBSCRIBE * */
static struct {
    char *p;
    size_t n;
    int node; /* the relay it is subscribed on (-1: none yet) */
} * shard_ch;
static int nshard, capshard;
/* While Keel has tracking clients: per master, a RESP3 connection with
 * CLIENT TRACKING ON BCAST, whose invalidation pushes reach them. */
static struct uconn *trackers[UP_MAX_NODES];
static struct uconn *reading; /* the connection whose replies are being handled */
static struct event *cron_ev;
static bool refreshing;
static int refresh_rr;
static long long last_refresh_ms;

static void conn_fail(struct uconn *u, const char *why);
static void shard_dropped(struct uconn *u, const char *ch, size_t n);
static void shard_moved(struct uconn *u, const struct up_value *e);

static void pend_push(struct uconn *u, enum pend_kind kind, struct up_req *q, int left)
{
    struct pend *p = xcalloc(1, sizeof(*p));
    p->kind = kind;
    p->q = q;
    p->left = left;
    if (u->tail)
        u->tail->next = p;
    else
        u->head = p;
    u->tail = p;
}

static void write_words(struct uconn *u, int argc, const char *const *w)
{
    struct argv_ref av[8];
    int i;
    for (i = 0; i < argc; i++) {
        av[i].p = w[i];
        av[i].n = strlen(w[i]);
    }
    up_resp_write(bufferevent_get_output(u->bev), argc, av);
}

/* Detach u from the tables that point at it. */
static void forget(struct uconn *u)
{
    int k;
    if (u->relay && relays[u->node] == u) {
        relays[u->node] = NULL;
        if (relay_main == u->node) relay_main = -1;
        for (k = 0; k < nshard; k++)
            if (shard_ch[k].node == u->node) shard_ch[k].node = -1;
    }
    if (u->tracker && trackers[u->node] == u) trackers[u->node] = NULL;
    if (u->pinref) *u->pinref = NULL;
    u->pinref = NULL;
    if (u->dedicated || u->relay) return;
    for (k = 0; k < POOL_MAX; k++)
        if (pool[u->node][u->resp == 3][k] == u) pool[u->node][u->resp == 3][k] = NULL;
}

static void conn_free(struct uconn *u)
{
    struct pend *p, *next;
    forget(u);
    if (u->bev) bufferevent_free(u->bev);
    for (p = u->head; p; p = next) {
        next = p->next;
        if (p->kind == P_REQ) forward_drop(p->q);
        free(p);
    }
    free(u);
}

/* A reply for u's oldest wait. */
static void on_value(struct uconn *u, struct up_value *v)
{
    struct pend *p = u->head;
    if (u->relay && v->type == UV_ARRAY) {
        const struct up_value *e = v->elem;
        /* ["pmessage", pattern, channel, message]; ["smessage", channel,
         * message]; confirmations are dropped */
        if (v->i == 4 && e[0].type == UV_BULK && e[0].n == 8 &&
            memcmp(e[0].s, "pmessage", 8) == 0 && e[2].type == UV_BULK && e[3].type == UV_BULK) {
            /* a keyspace event comes from its own node's __key* pattern,
             * not again from the main relay's "*" */
            bool star = e[1].n == 1 && e[1].s[0] == '*';
            if (!(star && e[2].n >= 5 && memcmp(e[2].s, "__key", 5) == 0))
                pubsub_publish(e[2].s, e[2].n, e[3].s, e[3].n);
        } else if (v->i == 3 && e[0].type == UV_BULK && e[0].n == 8 &&
                   memcmp(e[0].s, "smessage", 8) == 0 && e[1].type == UV_BULK &&
                   e[2].type == UV_BULK) {
            pubsub_spublish(e[1].s, e[1].n, e[2].s, e[2].n);
        } else if (v->i == 3 && e[0].type == UV_BULK && e[0].n == 12 &&
                   memcmp(e[0].s, "sunsubscribe", 12) == 0 && e[1].type == UV_BULK) {
            /* Keel never unsubscribes a relay: the node gave the slot away */
            shard_dropped(u, e[1].s, e[1].n);
        }
        up_value_clear(v);
        return;
    }
    if (u->relay && v->type == UV_ERROR) {
        if (up_value_is_error(v, "MOVED")) shard_moved(u, v);
        up_value_clear(v);
        return;
    }
    if (u->tracker && v->type == UV_PUSH) {
        /* ["invalidate", [key, ...]] or ["invalidate", nil] (a flush) */
        const struct up_value *e = v->elem;
        long long k;
        if (v->i == 2 && e[0].type == UV_BULK && e[0].n == 10 &&
            memcmp(e[0].s, "invalidate", 10) == 0) {
            if (up_value_is_agg(&e[1])) {
                for (k = 0; k < e[1].i; k++)
                    if (e[1].elem[k].type == UV_BULK)
                        forward_invalidate(e[1].elem[k].s, e[1].elem[k].n);
            } else {
                forward_invalidate(NULL, 0);
            }
        }
        up_value_clear(v);
        return;
    }
    if (!p) {
        up_value_clear(v);
        return;
    }
    if (--p->left > 0) {
        /* a reply before the one delivered: ASKING's, MULTI's, QUEUED */
        if (p->q && v->type == UV_ERROR && !p->q->has_skipped_err) {
            p->q->skipped_err = *v;
            p->q->has_skipped_err = true;
        } else {
            up_value_clear(v);
        }
        return;
    }
    u->head = p->next;
    if (!u->head) u->tail = NULL;
    if (p->kind == P_REQ) {
        struct up_req *q = p->q;
        free(p);
        q->tx = NULL;
        if (u->dedicated) u->dq = NULL;
        forward_done(q, v);
        return;
    }
    if (p->kind == P_SLOTS) {
        refreshing = false;
        if (up_value_is_error(v, "ERR") && v->n > 0 && strstr(v->s, "cluster support disabled"))
            up_route_single(u->node);
        else if (!up_route_load_slots(v, g_up.nodes[u->node].host))
            log_warning("upstream %s: CLUSTER SLOTS: %.*s", g_up.nodes[u->node].addr,
                        v->type == UV_ERROR ? (int)v->n : 11,
                        v->type == UV_ERROR ? v->s : "not a map");
    } else if (v->type == UV_ERROR) {
        log_warning("upstream %s: %.*s", g_up.nodes[u->node].addr, (int)v->n, v->s);
    }
    free(p);
    up_value_clear(v);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct uconn *u = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct up_value v;
    int rc;
    reading = u;
    for (;;) {
        rc = up_resp_read(in, &v);
        if (rc <= 0) break;
        on_value(u, &v);
        if (u->closing || (u->dedicated && !u->pinref && !u->dq && !u->head)) {
            /* its one reply is in (or its client let go of it) */
            reading = NULL;
            conn_free(u);
            kernel_after_events();
            return;
        }
    }
    reading = NULL;
    if (rc < 0) conn_fail(u, "protocol error");
    kernel_after_events();
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct uconn *u = arg;
    if (what & BEV_EVENT_CONNECTED) {
        u->connected = true;
        g_up.nodes[u->node].up = true;
        g_up.nodes[u->node].down_since_ms = 0;
        consec_fail[u->node] = 0;
        return;
    }
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
        char why[160];
        int err = EVUTIL_SOCKET_ERROR();
        if (!up_tls_error(bev, why, sizeof(why)))
            snprintf(why, sizeof(why), "%s",
                     (what & BEV_EVENT_EOF) ? "connection closed"
                                            : evutil_socket_error_to_string(err));
        conn_fail(u, why);
        kernel_after_events();
    }
}

/* u is lost: its waits fail (each request decides: retry or error). */
static void conn_fail(struct uconn *u, const char *why)
{
    struct pend *p, *next;
    struct up_node *nd = &g_up.nodes[u->node];
    bool was_connected = u->connected;
    /* invalidations may have been missed: tracking clients drop it all */
    if (u->tracker) forward_invalidate(NULL, 0);
    forget(u);
    if (!u->dedicated || !was_connected) {
        if (nd->up) log_warning("upstream %s: %s", nd->addr, why);
        if (nd->up || !nd->down_since_ms) nd->down_since_ms = util_mstime();
        nd->up = false;
        nd->fails++;
        consec_fail[u->node]++;
        next_try_ms[u->node] =
            util_mstime() + (consec_fail[u->node] > 5 ? 1000 : 50LL << consec_fail[u->node]);
    }
    p = u->head;
    u->head = u->tail = NULL;
    if (u->bev) bufferevent_free(u->bev);
    u->bev = NULL;
    for (; p; p = next) {
        next = p->next;
        if (p->kind == P_SLOTS) refreshing = false;
        if (p->kind == P_REQ) {
            p->q->tx = NULL;
            if (!was_connected) p->q->sent = false;
            forward_failed(p->q, why);
        }
        free(p);
    }
    free(u);
}

static struct uconn *conn_open(int node, int resp, bool dedicated)
{
    struct up_node *nd = &g_up.nodes[node];
    struct uconn *u;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    char addr[96];
    if (util_mstime() < next_try_ms[node]) return NULL;
    u = xcalloc(1, sizeof(*u));
    u->node = node;
    u->resp = resp;
    u->dedicated = dedicated;
    u->bev = up_tls_bev(base, nd->host);
    if (!u->bev) {
        free(u);
        next_try_ms[node] = util_mstime() + 1000;
        return NULL;
    }
    bufferevent_setcb(u->bev, on_read, NULL, on_event, u);
    bufferevent_enable(u->bev, EV_READ | EV_WRITE);
    snprintf(addr, sizeof(addr), strchr(nd->host, ':') ? "[%s]:%d" : "%s:%d", nd->host, nd->port);
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sl) == 0) {
        if (bufferevent_socket_connect(u->bev, (struct sockaddr *)&ss, sl) < 0) {
            bufferevent_free(u->bev);
            free(u);
            consec_fail[node]++;
            next_try_ms[node] = util_mstime() + 100;
            return NULL;
        }
    } else if (bufferevent_socket_connect_hostname(u->bev, NULL, AF_UNSPEC, nd->host, nd->port) <
               0) {
        bufferevent_free(u->bev);
        free(u);
        next_try_ms[node] = util_mstime() + 1000;
        return NULL;
    }
    /* the handshake goes first; requests may follow before it is answered */
    if (password_v && password_v[0]) {
        const char *w[3] = {"AUTH", user_v && user_v[0] ? user_v : "default", password_v};
        write_words(u, 3, w);
        pend_push(u, P_SKIP, NULL, 1);
    }
    if (resp == 3) {
        const char *w[2] = {"HELLO", "3"};
        write_words(u, 2, w);
        pend_push(u, P_SKIP, NULL, 1);
    }
    return u;
}

/* A pooled connection to node speaking resp (opened if needed). */
static struct uconn *shared(int node, int resp)
{
    int r = resp == 3, k;
    if (node < 0 || node >= g_up.nnodes) return NULL;
    k = (int)(rr[node][r]++ % (unsigned)pool_v);
    if (!pool[node][r][k]) pool[node][r][k] = conn_open(node, resp, false);
    return pool[node][r][k];
}

/* A client's pinned (WATCH) connection to q's node, opened if needed. */
static struct uconn *pinned(struct up_req *q)
{
    struct uconn *u = *q->pin;
    if (u && u->node == q->node) return u;
    if (u) conn_free(u); /* another node: that WATCH is gone (EXEC answers nil) */
    u = conn_open(q->node, q->resp, true);
    if (u) {
        u->pinref = q->pin;
        *q->pin = u;
    }
    return u;
}

static void tp_send(struct up_req *q)
{
    struct uconn *u = q->pin         ? pinned(q)
                      : q->dedicated ? conn_open(q->node, q->resp, true)
                                     : shared(q->node, q->resp);
    struct evbuffer *out;
    int k;
    if (!u) {
        q->sent = false;
        forward_failed(q, g_up.nodes[q->node >= 0 ? q->node : 0].up ? "cannot connect"
                                                                    : "node down, reconnecting");
        return;
    }
    out = bufferevent_get_output(u->bev);
    if (q->asking) {
        const char *w[1] = {"ASKING"};
        write_words(u, 1, w);
    }
    for (k = 0; k < q->ncmd; k++)
        up_resp_write(out, q->cmds[k].argc, q->cmds[k].argv);
    pend_push(u, P_REQ, q, q->ncmd + (q->asking ? 1 : 0));
    q->tx = u;
    if (q->dedicated || q->pin) u->dq = q;
}

static void tp_unpin(void **pin)
{
    struct uconn *u = *pin;
    if (!u) return;
    *pin = NULL;
    u->pinref = NULL;
    if (u == reading)
        u->closing = true; /* freed once on_read is done with it */
    else
        conn_free(u);
}

static void tp_cancel(struct up_req *q)
{
    struct uconn *u = q->tx;
    if (q->pin) {
        tp_unpin(q->pin); /* its request is dropped with it */
        return;
    }
    if (!q->dedicated || !u) return;
    /* the blocked command's connection goes (its wait with it) */
    u->dq = NULL;
    u->connected = true; /* not a node failure */
    conn_fail(u, "client gone");
}

static void tp_refresh(void)
{
    int i, n = g_up.nnodes;
    if (refreshing || n == 0) return;
    for (i = 0; i < n; i++) {
        int node = (refresh_rr + i) % n;
        struct uconn *u;
        if (util_mstime() < next_try_ms[node]) continue;
        u = shared(node, 2);
        if (!u) continue;
        refresh_rr = node + 1;
        {
            const char *w[2] = {"CLUSTER", "SLOTS"};
            write_words(u, 2, w);
        }
        pend_push(u, P_SLOTS, NULL, 1);
        refreshing = true;
        last_refresh_ms = util_mstime();
        return;
    }
}

/* Requests waiting to be tried again (a list, for the shutdown). */
struct later {
    struct event *ev;
    struct up_req *q;
    struct later *prev, *next;
};
static struct later *laters;

static void later_unlink(struct later *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        laters = l->next;
    if (l->next) l->next->prev = l->prev;
    event_free(l->ev);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    struct later *l = arg;
    (void)fd, (void)what;
    later_unlink(l);
    forward_retry(l->q);
    free(l);
    kernel_after_events();
}

static void tp_later(struct up_req *q, int ms)
{
    struct later *l = xcalloc(1, sizeof(*l));
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    l->q = q;
    l->ev = evtimer_new(base, on_later, l);
    l->next = laters;
    if (laters) laters->prev = l;
    laters = l;
    evtimer_add(l->ev, &tv);
}

static void relay_ssubscribe(struct uconn *u, const char *ch, size_t n)
{
    struct argv_ref av[2] = {{"SSUBSCRIBE", 10}, {ch, n}};
    up_resp_write(bufferevent_get_output(u->bev), 2, av);
}

/* A relay for every master (and the main one), with its subscriptions. */
static void relays_open(void)
{
    int m[UP_MAX_NODES], n = up_route_masters(m, UP_MAX_NODES), i, k;
    for (i = 0; i < n; i++) {
        struct uconn *u;
        if (relays[m[i]]) continue;
        u = conn_open(m[i], 2, false);
        if (!u) continue;
        u->relay = true;
        relays[m[i]] = u;
        {
            const char *w[2] = {"PSUBSCRIBE", "__key*@*__:*"};
            write_words(u, 2, w);
        }
        if (relay_main < 0) {
            const char *w[2] = {"PSUBSCRIBE", "*"};
            write_words(u, 2, w);
            relay_main = m[i];
        }
        for (k = 0; k < nshard; k++)
            if (g_up.slot_node[up_keyslot(shard_ch[k].p, shard_ch[k].n)] == m[i]) {
                relay_ssubscribe(u, shard_ch[k].p, shard_ch[k].n);
                shard_ch[k].node = m[i];
            }
    }
}

/* Trackers while Keel has tracking clients, none otherwise. */
static void trackers_sync(void)
{
    int m[UP_MAX_NODES], n, i;
    if (tracking_clients() == 0) {
        for (i = 0; i < UP_MAX_NODES; i++)
            if (trackers[i]) conn_free(trackers[i]);
        return;
    }
    n = up_route_masters(m, UP_MAX_NODES);
    for (i = 0; i < n; i++) {
        struct argv_ref av[4] = {{"CLIENT", 6}, {"TRACKING", 8}, {"ON", 2}, {"BCAST", 5}};
        struct uconn *u;
        if (trackers[m[i]]) continue;
        u = conn_open(m[i], 3, false);
        if (!u) continue;
        u->tracker = true;
        trackers[m[i]] = u;
        up_resp_write(bufferevent_get_output(u->bev), 4, av);
        pend_push(u, P_SKIP, NULL, 1);
    }
}

static void tp_shard_subscribe(const char *ch, size_t n)
{
    int k, node;
    for (k = 0; k < nshard; k++)
        if (shard_ch[k].n == n && memcmp(shard_ch[k].p, ch, n) == 0) return;
    if (nshard == capshard) {
        capshard = capshard ? capshard * 2 : 16;
        shard_ch = xrealloc(shard_ch, sizeof(*shard_ch) * (size_t)capshard);
    }
    shard_ch[nshard].p = xmalloc(n ? n : 1);
    memcpy(shard_ch[nshard].p, ch, n);
    shard_ch[nshard].n = n;
    shard_ch[nshard].node = -1;
    node = g_up.slot_node[up_keyslot(ch, n)];
    if (node >= 0 && relays[node]) {
        relay_ssubscribe(relays[node], ch, n);
        shard_ch[nshard].node = node;
    }
    nshard++;
}

/* A slot moved (a reshard): its node unsubscribed relay u from shard
 * channel ch (Redis 7.0 tells a shard channel's subscribers so when the
 * node gives the slot away). Keel's subscribers stay subscribed: u asks
 * its node again, whose MOVED names the new owner (shard_moved); the map
 * is fetched again meanwhile. */
static void shard_dropped(struct uconn *u, const char *ch, size_t n)
{
    int k;
    for (k = 0; k < nshard; k++)
        if (shard_ch[k].n == n && memcmp(shard_ch[k].p, ch, n) == 0) {
            shard_ch[k].node = u->node;
            relay_ssubscribe(u, ch, n);
        }
    tp_refresh();
}

/* "MOVED <slot> <host:port>" for a relay's SSUBSCRIBE: the slot's channels
 * subscribed there follow it to the owner's relay (or, until that one is
 * open, wait for on_cron). */
static void shard_moved(struct uconn *u, const struct up_value *e)
{
    const char *sp1 = memchr(e->s, ' ', e->n), *sp2;
    long long slot;
    int node, k;
    if (!sp1) return;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(e->s + e->n - sp1 - 1));
    if (!sp2 || !util_str2ll(sp1 + 1, (size_t)(sp2 - sp1 - 1), &slot) || slot < 0 ||
        slot >= UP_SLOTS)
        return;
    node = up_node_parse(sp2 + 1, (size_t)(e->s + e->n - sp2 - 1));
    if (node < 0) return;
    g_up.slot_node[slot] = (int16_t)node;
    for (k = 0; k < nshard; k++) {
        if (shard_ch[k].node != u->node ||
            (long long)up_keyslot(shard_ch[k].p, shard_ch[k].n) != slot)
            continue;
        shard_ch[k].node = -1;
        if (relays[node]) {
            relay_ssubscribe(relays[node], shard_ch[k].p, shard_ch[k].n);
            shard_ch[k].node = node;
        }
    }
    tp_refresh();
}

/* Shard channels on no relay (theirs was lost, or had the slot no more):
 * subscribed on their slot's master's relay. */
static void shards_resubscribe(void)
{
    int k, node;
    for (k = 0; k < nshard; k++) {
        if (shard_ch[k].node >= 0) continue;
        node = g_up.slot_node[up_keyslot(shard_ch[k].p, shard_ch[k].n)];
        if (node >= 0 && relays[node]) {
            relay_ssubscribe(relays[node], shard_ch[k].p, shard_ch[k].n);
            shard_ch[k].node = node;
        }
    }
}

/* Every 100 ms: a missing map is fetched again (every 100 ms), a known
 * one every 5 s, or every second while a node is down; the relay is
 * reopened. */
static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    long long now = util_mstime(), every = 5000;
    int i;
    (void)fd, (void)what, (void)arg;
    if (!g_up.ready) every = 100;
    for (i = 0; i < g_up.nnodes; i++)
        if (g_up.nodes[i].master && !g_up.nodes[i].up) every = 1000;
    if (now - last_refresh_ms >= every) {
        if (refreshing && now - last_refresh_ms > 3000) refreshing = false; /* unanswered */
        tp_refresh();
    }
    if (g_up.ready) {
        relays_open();
        shards_resubscribe();
        trackers_sync();
    }
    kernel_after_events();
}

bool upstream_start(struct event_base *b)
{
    static const struct up_transport t = {tp_send,         tp_cancel, tp_refresh,        tp_later,
                                          &resp_reply_ops, tp_unpin,  tp_shard_subscribe};
    const char *p = seeds_v;
    struct timeval tv = {0, 100000};
    base = b;
    if (!up_tls_init()) return false;
    up_route_init();
    g_up.enabled = true;
    while (*p) {
        const char *e;
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        for (e = p; *e && *e != ' ' && *e != ','; e++) {
        }
        if (up_node_parse(p, (size_t)(e - p)) < 0) {
            log_warning("upstream: '%.*s' is not host:port", (int)(e - p), p);
            return false;
        }
        p = e;
    }
    forward_init(&t);
    kernel_set_forward(forward_submit);
    kernel_set_settle(forward_settle);
    cron_ev = event_new(base, -1, EV_PERSIST, on_cron, NULL);
    event_add(cron_ev, &tv);
    tp_refresh();
    log_notice("Upstream mode: seed nodes %s", seeds_v);
    return true;
}

void upstream_shutdown(void)
{
    int n, r, k;
    if (!base) return;
    if (cron_ev) event_free(cron_ev);
    cron_ev = NULL;
    while (laters) {
        struct later *l = laters;
        later_unlink(l);
        forward_drop(l->q);
        free(l);
    }
    for (n = 0; n < UP_MAX_NODES; n++) {
        if (relays[n]) conn_free(relays[n]);
        if (trackers[n]) conn_free(trackers[n]);
    }
    for (n = 0; n < nshard; n++)
        free(shard_ch[n].p);
    free(shard_ch);
    for (n = 0; n < UP_MAX_NODES; n++)
        for (r = 0; r < 2; r++)
            for (k = 0; k < POOL_MAX; k++)
                if (pool[n][r][k]) conn_free(pool[n][r][k]);
    up_tls_shutdown();
}
