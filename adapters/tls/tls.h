/* tls.h — TLS over the connection base (adapters/conn.h): OpenSSL behind
 * the transport seam, for any adapter's listener. An adapter that accepts
 * on a TLS port calls tls_attach on its new connection; everything above
 * the seam (parsers, replies, WebSocket upgrades) is unchanged.
 *
 * Configuration as Redis 7.0 (tls-port, tls-cert-file, tls-key-file,
 * tls-key-file-pass, tls-ca-cert-file, tls-ca-cert-dir, tls-auth-clients,
 * tls-protocols, tls-ciphers, tls-ciphersuites, tls-prefer-server-ciphers,
 * tls-session-caching, tls-session-cache-size, tls-session-cache-timeout)
 * plus Keel's https-port (HTTPS and WSS with the same files). CONFIG SET
 * of any of them builds a new context for new connections; connections
 * already open keep theirs. */
#ifndef KEEL_TLS_H
#define KEEL_TLS_H

#include <stdbool.h>

#include "config.h"

struct conn;

/* The entries (added by server/main.c before config_table_compat, whose
 * stored-only twins they replace) and their flags. */
extern const struct config_entry tls_config_table[];
extern const struct config_flag tls_config_flags[];
/* Wire the CONFIG SET commit (server/main.c, with the adapters' checks). */
void tls_register_config(void);

/* The configured ports (0: none). */
int tls_port(void);
int tls_https_port(void);

/* A context from the current configuration, built if there is none yet or
 * the configuration changed. false (logged why) when it cannot be built. */
bool tls_ready(void);

/* Make c a TLS connection (server side, handshake on its first bytes)
 * with the current context. false: no context (c is left as it was). */
bool tls_attach(struct conn *c);

/* The verified peer certificate's subject CN of a TLS connection whose
 * handshake is done (NULL: no certificate, or not a TLS connection). */
const char *tls_peer_cn(struct conn *c);

/* The hook for mapping client certificates to users (ACL): called once per
 * connection when its handshake completes with a verified client
 * certificate that has a CN, before any of its commands runs. One hook,
 * wired by server/main.c; NULL removes it. */
typedef void (*tls_peer_fn)(struct conn *c, const char *cn);
/* tls-auth-clients-user: 1 (CN) when the hook should log the client in
 * as the ACL user the CN names, 0 (off). */
extern int g_tls_auth_clients_user;
void tls_set_peer_hook(tls_peer_fn fn);

/* A client context for outgoing connections (an SSL_CTX *; NULL: logged
 * why): the peer is verified against ca_file / ca_dir (the system's CAs
 * when neither is given), cert / key (pass: its passphrase) presented when
 * given. upstream-tls and tls-replication build theirs with it. */
void *tls_client_ctx_new(const char *ca_file, const char *ca_dir, const char *cert, const char *key,
                         const char *pass);
/* tls-replication's context: tls-ca-cert-file/-dir (required, as Redis),
 * tls-client-cert-file / -key-file / -key-file-pass, else tls-cert-file's. */
void *tls_repl_ctx_new(void);
extern int g_tls_replication;
/* The replica's link over TLS (tls_repl.c): core/repl's transport. */
struct repl_link_transport;
extern const struct repl_link_transport tls_repl_transport;

/* Free the context (at exit). */
void tls_shutdown(void);

/* For tls_conn.c: the current context (an SSL_CTX *), NULL if none. */
void *tls_ctx_current(void);
/* tls-auth-clients: 0 no, 1 yes, 2 optional. */
int tls_auth_clients(void);

#endif
