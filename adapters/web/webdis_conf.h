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
 *   acl                            -> http-disabled-commands: the commands a
 *      rule without "ip" or "http_basic_auth" disables ("*": every
 *      command), less those such a rule enables; a rule with "ip" or
 *      "http_basic_auth" is applied to everyone when it disables (never
 *      less strict than Webdis) and ignored when it enables, with a
 *      warning each
 *   redis_auth, threads, pool_size_per_thread, user, group, ssl, hiredis
 *   options                        -> warned about and ignored (what they
 *                                     configure does not exist in Keel)
 *   any other key                  -> "unknown key" warning, ignored. */
#ifndef KEEL_WEBDIS_CONF_H
#define KEEL_WEBDIS_CONF_H

#include <stdbool.h>

/* The config loader (config_register_json_loader). */
bool webdis_conf_load(const char *path);

#endif
