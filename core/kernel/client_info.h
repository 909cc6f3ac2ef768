/* client_info.h — CLIENT LIST / CLIENT INFO's line for one client (client_info.c). */
#ifndef KEEL_CLIENT_INFO_H
#define KEEL_CLIENT_INFO_H

#include <stddef.h>

struct client;

/* The line for c, without the trailing newline; returns its length. */
size_t client_info_line(struct client *c, char *buf, size_t len);
/* c's memory beyond its buffers, as Redis 7.0's getClientMemoryUsage
 * counts it: the command's arguments, MULTI's queue, the watched keys
 * (Redis's list node and watchedKey each), the subscriptions (the
 * per-client dict's entries and slots, the patterns' list nodes) and the
 * tracking prefixes (two rax nodes each: an estimate, as Redis's). CLIENT
 * LIST's tot-mem and maxmemory-clients both count it. */
size_t client_info_mem(struct client *c);

#endif
