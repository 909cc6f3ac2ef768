/* client_info.h — CLIENT LIST / CLIENT INFO's line for one client (client_info.c). */
#ifndef KEEL_CLIENT_INFO_H
#define KEEL_CLIENT_INFO_H

#include <stddef.h>

struct client;

/* The line for c, without the trailing newline; returns its length. */
size_t client_info_line(struct client *c, char *buf, size_t len);

#endif
