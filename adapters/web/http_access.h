/* http_access.h — who may use the HTTP port and what they may run there,
 * shared by the HTTP and WebSocket adapters: the network allow list
 * (http-allow-networks, IPv4/IPv6 CIDR), who a request runs as (an ACL
 * user: Basic "<user>:<pw>", "Authorization: Bearer <token>" or ?token=
 * for browsers that cannot set headers, tokens mapped by http-tokens), allowed CORS origins
 * (http-allowed-origins) and commands disabled over HTTP
 * (http-disabled-commands, matched exactly, case-insensitively). */
#ifndef KEEL_HTTP_ACCESS_H
#define KEEL_HTTP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct http_request;

/* Is the peer address inside http-allow-networks? */
bool http_network_allowed(const struct sockaddr *sa);
/* Register the http-allow-networks check with the config table. */
void http_access_register_config(void);
struct client;
struct reply;

/* Who the request runs as, set in c->user (ACL users): Basic
 * "user:password" authenticates as that user; a Bearer or ?token= value
 * mapped by http-tokens runs as its user, any other value is the default
 * user's password; no credentials: the default user if it needs none.
 * False: 401 (a failed password is in the ACL LOG). */
bool http_authorized(struct client *c, const struct http_request *req, const char *token,
                     size_t token_len);
/* Is `origin` (the Origin header's value) allowed? */
bool http_origin_allowed(const char *origin, size_t n);
/* Is the command (first argv word) disabled over HTTP and WebSocket? */
bool http_command_disabled(const char *name, size_t n);
/* The one text of a refusal: "command 'NAME' is disabled over HTTP and
 * WebSocket" (a 403 body's error, or after "ERR " an error reply). */
void http_disabled_text(char *buf, size_t len, const char *name, size_t n);
/* Answer a disabled command with that error on c's sink r; inside MULTI
 * the transaction then aborts (EXECABORT), as for a command the kernel
 * rejects. */
void http_refuse_disabled(struct client *c, struct reply *r, const char *name, size_t n);

#endif
