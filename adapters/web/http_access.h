/* http_access.h — who may use the HTTP port and what they may run there,
 * shared by the HTTP and WebSocket adapters: the network allow list
 * (http-allow-networks, IPv4/IPv6 CIDR), who a request runs as (an ACL
 * user: Basic "<user>:<pw>", "Authorization: Bearer <token>" or ?token=
 * (?_token= as Upstash) for browsers that cannot set headers, tokens mapped
 * by http-tokens), the read-only token (http-readonly-token), allowed CORS origins
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
/* The same, telling a full credential from http-readonly-token (checked
 * first), which runs as the default user and may run only the commands
 * whose schema flags them readonly. */
enum http_auth { HTTP_AUTH_NONE, HTTP_AUTH_FULL, HTTP_AUTH_READONLY };
enum http_auth http_authorize(struct client *c, const struct http_request *req, const char *token,
                              size_t token_len);
struct argv_ref;
/* Would a read-only credential be refused this command (known, and its
 * schema, or its subcommand's, lacks the readonly flag)? */
bool http_readonly_refused(const struct argv_ref *argv, int argc);
/* Redis's ACL wording of that refusal: "NOPERM this user has no
 * permissions to run the 'set' command". */
void http_readonly_text(char *buf, size_t len, const struct argv_ref *argv, int argc);
/* May c's ACL user read /_metrics and /_health? They show what INFO shows,
 * so the permission is INFO's: a monitoring user needs only "+info". */
bool http_may_read_stats(struct client *c);
/* Is `origin` (the Origin header's value) allowed? */
bool http_origin_allowed(const char *origin, size_t n);
/* Is the command (first argv word) disabled over HTTP and WebSocket? */
bool http_command_disabled(const char *name, size_t n);
/* Disabled, or refused to this client by a webdis.json acl rule
 * (webdis_conf.h)? addr: the peer's "ip:port"; auth: the request's (or
 * the WebSocket upgrade's) Authorization value, NULL when none. */
bool http_command_refused(const char *name, size_t n, const char *addr, const char *auth,
                          size_t authlen);
/* The one text of a refusal: "command 'NAME' is disabled over HTTP and
 * WebSocket" (a 403 body's error, or after "ERR " an error reply). */
void http_disabled_text(char *buf, size_t len, const char *name, size_t n);
/* Answer a disabled command with that error on c's sink r; inside MULTI
 * the transaction then aborts (EXECABORT), as for a command the kernel
 * rejects. */
void http_refuse_disabled(struct client *c, struct reply *r, const char *name, size_t n);

#endif
