/* net.h — what every adapter's connections share at the socket level:
 * listening on a `bind` list (space separated; a leading '-' marks an
 * address that may fail), peer and local address text for CLIENT LIST. */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct evconnlistener;

typedef void (*net_accept_fn)(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen,
                              void *arg);

/* Listen on every address of `bind` at port, adding the listeners to
 * ls[*n] (at most max). `what` names the port in messages ("RESP",
 * "HTTP"). Returns false if a required address could not be bound or none
 * was. */
bool net_listen(struct event_base *base, const char *bind, int port, net_accept_fn cb,
                struct evconnlistener **ls, int *n, int max, const char *what);
/* "ip:port" of sa (IPv6 as ip:port too, as Redis prints it). */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t len);
/* The peer and local addresses of an accepted socket. */
void net_describe_fd(int fd, const struct sockaddr *peer, char *addr, size_t alen, char *laddr,
                     size_t llen);

#endif
