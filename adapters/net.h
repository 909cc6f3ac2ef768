/* net.h — what every adapter's connections share at the socket level:
 * listening on a `bind` list (space separated; a leading '-' marks an
 * address that may fail), peer and local address text for CLIENT LIST,
 * and who may connect: the open-files limit sized for maxclients, accept()
 * errors (EMFILE) that pause listening instead of spinning, maxclients and
 * protected mode. The adapters only render a refusal in their protocol. */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct evconnlistener;

/* Redis's CONFIG_MIN_RESERVED_FDS: descriptors kept for everything that is
 * not a client (listeners, the event loop, persistence files, pipes). */
#define NET_RESERVED_FDS 32

typedef void (*net_accept_fn)(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen,
                              void *arg);

/* Listen on every address of `bind` at port, adding the listeners to
 * ls[*n] (at most max). `what` names the port in messages ("RESP",
 * "HTTP"). Returns false if a required address could not be bound or none
 * was. Warns once when an address is every interface and no password is
 * set. */
bool net_listen(struct event_base *base, const char *bind, int port, net_accept_fn cb,
                struct evconnlistener **ls, int *n, int max, const char *what);
/* Accept what waits on every listener, outside the event loop (a busy
 * script keeps the server answering: conn_pump's companion). How many. */
int net_pump_accept(void);
/* Free an adapter's listeners (at shutdown). */
void net_close_listeners(struct evconnlistener **ls, int n);
/* After every adapter's net_close_listeners: the accept-pause timer. */
void net_shutdown(void);
/* "ip:port" of sa (IPv6 as ip:port too, as Redis prints it). */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t len);
/* The peer and local addresses of an accepted socket. */
void net_describe_fd(int fd, const struct sockaddr *peer, char *addr, size_t alen, char *laddr,
                     size_t llen);

/* ---- who may connect ---- */

/* At start, after the configuration is read: Redis's adjustOpenFilesLimit.
 * Raises the soft RLIMIT_NOFILE toward maxclients + NET_RESERVED_FDS (as
 * far as the hard limit allows, further when privileged); when that is not
 * enough, lowers maxclients to fit and logs it. Returns false (logged) when
 * the limit leaves no room for a single client. */
bool net_adjust_open_files(void);
/* Register the maxclients check with the config table: after a new value
 * is stored, as Redis 7.0, a larger one first raises the open-files limit,
 * or CONFIG SET fails when the system cannot take that many clients. */
void net_register_config(void);

/* The protocols' names, registered by server/main.c from the list of
 * adapters (labels of /_metrics' per-protocol client counts). */
void net_register_protocol(const char *name);
/* The registered names, NULL-terminated. */
const char *const *net_protocols(void);

enum net_verdict {
    NET_ADMIT,             /* serve it (counted in total_connections_received) */
    NET_REFUSE_MAXCLIENTS, /* maxclients reached */
    NET_REFUSE_PROTECTED,  /* protected mode: no password and not a loopback peer */
};
/* Every adapter's accept path asks this first, with the peer's address.
 * Redis 7.0's order: maxclients, then protected mode (on, requirepass
 * empty, peer not loopback). A refusal counts in rejected_connections; the
 * adapter writes its protocol's answer and closes. */
enum net_verdict net_admit(const struct sockaddr *peer);
/* The reason of a refusal in a few words, for protocols that have no Redis
 * text of their own (HTTP's JSON error body). */
const char *net_refusal_reason(enum net_verdict v);
/* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, or a unix socket. */
bool net_is_loopback(const struct sockaddr *sa);

#endif
