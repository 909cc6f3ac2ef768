/* webdis_conf.h — Webdis's webdis.json read as Keel's configuration file,
 * so that a Webdis user points Keel at the file they have. Each key is
 * mapped to Keel's setting (config_set), or warned about:
 *   http_host, http_port           -> http-bind, http-port
 *   redis_host, redis_port         -> bind, port (Keel is the Redis server:
 *                                     its RESP port takes Redis's place)
 *   database                       -> http-database
 *   default_root                   -> http-default-root
 *   websockets                     -> http-websockets
 *   http_max_request_size          -> http-max-body-size
 *   daemonize, pidfile, logfile    -> the same settings
 *   verbosity (0-8)                -> loglevel (<=2 warning, 3-4 notice,
 *                                     5-7 verbose, 8 debug)
 *   acl                            -> Webdis's rules, applied as Webdis
 *      applies them to every HTTP request and WebSocket command
 *      (webdis_acl_allows): a rule matches a client by "http_basic_auth"
 *      ("user:password", sent as Authorization: Basic) and "ip" (IPv4
 *      CIDR), then its "enabled" and "disabled" lists ("*": every command)
 *      decide, later rules over earlier ones, "disabled" over "enabled";
 *      with an acl, http-disabled-commands starts empty (what the file does
 *      not disable is allowed, as under Webdis)
 *   redis_auth, threads, pool_size_per_thread, user, group, ssl, hiredis
 *   options                        -> warned about and ignored (what they
 *                                     configure does not exist in Keel)
 *   any other key                  -> "unknown key" warning, ignored. */
#ifndef KEEL_WEBDIS_CONF_H
#define KEEL_WEBDIS_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* The config loader (config_register_json_loader). */
bool webdis_conf_load(const char *path);

/* May a client run command name[0..n)? addr: its "ip:port" text; auth:
 * its Authorization header value (NULL when none). Always true without
 * acl rules. */
bool webdis_acl_allows(const char *name, size_t n, const char *addr, const char *auth,
                       size_t authlen);

/* Does a webdis.json rule name an "http_basic_auth"? Then, as under
 * Webdis, "Authorization: Basic" selects rules and is not a Keel user's
 * password (Keel users authenticate with Bearer / ?token= there). */
bool webdis_acl_uses_basic(void);

#endif
