/* upstream.h — the upstream transport: Keel in front of a Redis Cluster
 * (or one redis-server). Its config entries (`upstream` seed nodes,
 * `upstream-user`, `upstream-password`, `upstream-connections`), pooled
 * pipelined connections per node and per protocol (RESP2, and RESP3 after
 * HELLO 3, so RESP2 clients get redis-server's RESP2 shapes and every
 * other sink RESP3's types), a connection of its own per blocking command
 * and per WATCHing client, the slot map fetched with CLUSTER SLOTS (at
 * start, on MOVED, after a lost node, every few seconds), reconnection
 * with backoff, and the relays (messages, keyspace notifications and
 * shard channels published to Keel's local subscribers). The routing
 * decisions are core/upstream/forward.c's. */
#ifndef KEEL_UPSTREAM_H
#define KEEL_UPSTREAM_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>

#include "config.h"
#include "forward.h"
#include "up_value.h"

/* Every upstream-* entry (one table: config.c takes few). */
extern const struct config_entry upstream_config_table[];
/* The upstream-tls* values (up_tls.c owns them). */
struct up_tls_config {
    int on;
    char *ca_file, *ca_dir, *cert_file, *key_file;
};
extern struct up_tls_config g_up_tls;

/* Whether `upstream` is set (upstream mode). */
bool upstream_enabled(void);
/* Start: the seed nodes, the first slot map, the relay, the kernel seam. */
bool upstream_start(struct event_base *base);
void upstream_shutdown(void);

/* TLS (up_tls.c): the client context when upstream-tls is on (false: a
 * file could not be used); a connection's bufferevent, through TLS when
 * it is on (host: what the node's certificate must name). */
struct bufferevent;
bool up_tls_init(void);
struct bufferevent *up_tls_bev(struct event_base *base, const char *host);
void up_tls_shutdown(void);
/* The TLS error that broke bev, as text (false: none). */
bool up_tls_error(struct bufferevent *bev, char *buf, size_t n);

/* The wire format (up_resp.c). up_resp_read: 1 a reply was taken from in,
 * 0 not complete yet, -1 a protocol error. */
void up_resp_write(struct evbuffer *out, int argc, const struct argv_ref *argv);
int up_resp_read(struct evbuffer *in, struct up_value *v);

#endif
