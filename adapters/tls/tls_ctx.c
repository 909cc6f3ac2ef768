/* tls_ctx.c — TLS configuration (tls.h): the tls-* config entries and
 * Keel's https-port, and the OpenSSL server context built from them. A
 * CONFIG SET of any entry marks the context stale; the CONFIG SET commit
 * (or the next tls_ready) builds a new one, which new connections get;
 * open connections keep the context they were made with (OpenSSL counts
 * its references). */
#include "tls.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

static int port_v, https_port_v;
static char *cert_file, *key_file, *key_file_pass, *ca_cert_file, *ca_cert_dir;
static char *protocols, *ciphers, *ciphersuites;
/* Outgoing connections (tls-replication's link): the client certificate,
 * else tls-cert-file's. */
static char *client_cert_file, *client_key_file, *client_key_file_pass;
int g_tls_replication;
static int auth_clients = 1; /* yes */
static int prefer_server_ciphers, session_caching = 1;
static int session_cache_size = 20480, session_cache_timeout = 300;

static SSL_CTX *ctx;           /* the current context, NULL until built */
static bool stale = true;      /* the entries changed since ctx was built */
static const char *stale_name; /* the first entry changed (CONFIG SET's error) */

static const char *const enum_auth_clients[] = {"no", "yes", "optional", NULL};
int g_tls_auth_clients_user; /* 0 off, 1 CN */
static const char *const enum_cert_user[] = {"off", "CN", NULL};

static void mark_stale(const struct config_entry *e)
{
    if (!stale || !stale_name) stale_name = e->name;
    stale = true;
}

static const char *set_text(const struct config_entry *e, const char *v)
{
    char **p = e->ptr;
    free(*p);
    *p = xstrdup(v);
    mark_stale(e);
    return NULL;
}

static const char *set_value(const struct config_entry *e, const char *v)
{
    (void)v;
    mark_stale(e);
    return NULL;
}

/* tls-port: the RESP adapter's check builds the context and rebinds. */
static const char *set_port(const struct config_entry *e, const char *v)
{
    return config_run_checks(e, v);
}

#define TLS_HELP "TLS (adapters/tls)"
const struct config_entry tls_config_table[] = {
    {"tls-port", NULL, CT_INT, &port_v, "0", 0, 65535, true, "TLS port speaking RESP (0: none)",
     NULL, set_port},
    {"https-port", NULL, CT_INT, &https_port_v, "0", 0, 65535, false,
     "keel: HTTPS and WSS port of the HTTP adapter on http-bind (0: none), the tls-* files", NULL,
     NULL},
    {"tls-cert-file", NULL, CT_SPECIAL, &cert_file, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-key-file", NULL, CT_SPECIAL, &key_file, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-key-file-pass", NULL, CT_SPECIAL, &key_file_pass, "", 0, 0, true, TLS_HELP, NULL,
     set_text},
    {"tls-ca-cert-file", NULL, CT_SPECIAL, &ca_cert_file, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-ca-cert-dir", NULL, CT_SPECIAL, &ca_cert_dir, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-client-cert-file", NULL, CT_SPECIAL, &client_cert_file, "", 0, 0, true, TLS_HELP, NULL,
     set_text},
    {"tls-client-key-file", NULL, CT_SPECIAL, &client_key_file, "", 0, 0, true, TLS_HELP, NULL,
     set_text},
    {"tls-client-key-file-pass", NULL, CT_SPECIAL, &client_key_file_pass, "", 0, 0, true, TLS_HELP,
     NULL, set_text},
    {"tls-replication", NULL, CT_BOOL, &g_tls_replication, "no", 0, 1, true,
     "the replica's link to its primary uses TLS (core/repl, adapters/tls/tls_repl.c)", NULL,
     set_value},
    {"tls-auth-clients", NULL, CT_ENUM, &auth_clients, "yes", 0, 0, true,
     "TLS client certificates: yes (required), optional, no", enum_auth_clients, NULL},
    {"tls-auth-clients-user", NULL, CT_ENUM, &g_tls_auth_clients_user, "off", 0, 0, true,
     "CN: a verified client certificate logs in as the ACL user its CN names; off: none",
     enum_cert_user, NULL},
    {"tls-protocols", NULL, CT_SPECIAL, &protocols, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-ciphers", NULL, CT_SPECIAL, &ciphers, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-ciphersuites", NULL, CT_SPECIAL, &ciphersuites, "", 0, 0, true, TLS_HELP, NULL, set_text},
    {"tls-prefer-server-ciphers", NULL, CT_BOOL, &prefer_server_ciphers, "no", 0, 1, true, TLS_HELP,
     NULL, set_value},
    {"tls-session-caching", NULL, CT_BOOL, &session_caching, "yes", 0, 1, true, TLS_HELP, NULL,
     set_value},
    {"tls-session-cache-size", NULL, CT_INT, &session_cache_size, "20480", 0, INT_MAX, true,
     TLS_HELP, NULL, set_value},
    {"tls-session-cache-timeout", NULL, CT_INT, &session_cache_timeout, "300", 0, INT_MAX, true,
     TLS_HELP, NULL, set_value},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

const struct config_flag tls_config_flags[] = {
    {NULL, 0},
};

int tls_port(void)
{
    return port_v;
}

int tls_https_port(void)
{
    return https_port_v;
}

int tls_auth_clients(void)
{
    return auth_clients;
}

void *tls_ctx_current(void)
{
    return ctx;
}

/* As Redis logs it: what failed, the file, OpenSSL's first error. */
static void log_ssl_errors(const char *what, const char *file)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof(buf));
    if (file)
        log_warning("%s: %s: %s", what, file, e ? buf : "unknown error");
    else
        log_warning("%s: %s", what, e ? buf : "unknown error");
    ERR_clear_error();
}

/* tls-protocols: the protocols not named are turned off (Redis's
 * parseProtocolsConfig). -1: a word it does not know. */
static int protocol_mask(void)
{
    char buf[256], *w, *save = NULL;
    int mask = 0;
    if (!protocols || !*protocols) return (1 << 2) | (1 << 3); /* TLSv1.2 and TLSv1.3 */
    snprintf(buf, sizeof(buf), "%s", protocols);
    for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (!strcasecmp(w, "tlsv1"))
            mask |= 1 << 0;
        else if (!strcasecmp(w, "tlsv1.1"))
            mask |= 1 << 1;
        else if (!strcasecmp(w, "tlsv1.2"))
            mask |= 1 << 2;
        else if (!strcasecmp(w, "tlsv1.3"))
            mask |= 1 << 3;
        else {
            log_warning("Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                        "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
            return -1;
        }
    }
    return mask;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pass = u;
    int n = (int)strlen(pass);
    (void)rwflag;
    if (n > size) n = size;
    memcpy(buf, pass, (size_t)n);
    return n;
}

/* The certificate chain and its private key (unlocked with pass, if any;
 * the pass is dropped from the context once loaded); errors logged as
 * Redis logs them. */
static bool load_cert_key(SSL_CTX *c, const char *cert, const char *key, const char *pass)
{
    bool ok = false;
    if (pass && *pass) {
        SSL_CTX_set_default_passwd_cb(c, pass_cb);
        SSL_CTX_set_default_passwd_cb_userdata(c, (void *)pass);
    }
    if (SSL_CTX_use_certificate_chain_file(c, cert) <= 0)
        log_ssl_errors("Failed to load certificate", cert);
    else if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) <= 0 ||
             SSL_CTX_check_private_key(c) <= 0)
        log_ssl_errors("Failed to load private key", key);
    else
        ok = true;
    SSL_CTX_set_default_passwd_cb_userdata(c, NULL);
    return ok;
}

/* A new context from the entries, as Redis's tlsConfigure; NULL (logged). */
static SSL_CTX *build(void)
{
    SSL_CTX *c;
    int mask;
    long opts = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE |
                SSL_OP_SINGLE_ECDH_USE;
    static const unsigned char sid[] = "keel";

    if (!cert_file || !*cert_file) {
        log_warning("No tls-cert-file configured!");
        return NULL;
    }
    if (!key_file || !*key_file) {
        log_warning("No tls-key-file configured!");
        return NULL;
    }
    if (auth_clients != 0 && (!ca_cert_file || !*ca_cert_file) && (!ca_cert_dir || !*ca_cert_dir)) {
        log_warning("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                    "tls-cluster, tls-replication or tls-auth-clients are enabled!");
        return NULL;
    }
    if ((mask = protocol_mask()) < 0) return NULL;
    c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        log_ssl_errors("Failed to create the TLS context", NULL);
        return NULL;
    }
    if (!(mask & (1 << 0))) opts |= SSL_OP_NO_TLSv1;
    if (!(mask & (1 << 1))) opts |= SSL_OP_NO_TLSv1_1;
    if (!(mask & (1 << 2))) opts |= SSL_OP_NO_TLSv1_2;
    if (!(mask & (1 << 3))) opts |= SSL_OP_NO_TLSv1_3;
    if (prefer_server_ciphers) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    /* A peer that closes without close_notify has just closed (EOF), not
     * failed. */
    opts |= SSL_OP_IGNORE_UNEXPECTED_EOF;
    SSL_CTX_set_options(c, (uint64_t)opts);
    /* conn.c's output buffer may move between retries of one write. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* One read() takes what the socket has, several records at once (not
     * a record header, then its body): tls_conn.c reports what waits in
     * OpenSSL's buffer as pending. */
    SSL_CTX_set_read_ahead(c, 1);
    if (session_caching) {
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(c, session_cache_size);
        SSL_CTX_set_timeout(c, session_cache_timeout);
        SSL_CTX_set_session_id_context(c, sid, sizeof(sid) - 1);
    } else {
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    }
    if (!load_cert_key(c, cert_file, key_file, key_file_pass)) goto fail;
    if (((ca_cert_file && *ca_cert_file) || (ca_cert_dir && *ca_cert_dir)) &&
        SSL_CTX_load_verify_locations(c, ca_cert_file && *ca_cert_file ? ca_cert_file : NULL,
                                      ca_cert_dir && *ca_cert_dir ? ca_cert_dir : NULL) <= 0) {
        log_ssl_errors("Failed to configure CA certificate(s) file/directory", NULL);
        goto fail;
    }
    if (ciphers && *ciphers && !SSL_CTX_set_cipher_list(c, ciphers)) {
        log_ssl_errors("Failed to configure ciphers", NULL);
        goto fail;
    }
    if (ciphersuites && *ciphersuites && !SSL_CTX_set_ciphersuites(c, ciphersuites)) {
        log_ssl_errors("Failed to configure ciphersuites", NULL);
        goto fail;
    }
    return c;
fail:
    SSL_CTX_free(c);
    return NULL;
}

static bool set_str(const char *s)
{
    return s && *s;
}

void *tls_client_ctx_new(const char *ca_file, const char *ca_dir, const char *cert, const char *key,
                         const char *pass)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c) {
        log_ssl_errors("Failed to create the TLS client context", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    if (set_str(ca_file) || set_str(ca_dir)) {
        if (SSL_CTX_load_verify_locations(c, set_str(ca_file) ? ca_file : NULL,
                                          set_str(ca_dir) ? ca_dir : NULL) <= 0) {
            log_ssl_errors("Failed to configure CA certificate(s) file/directory", NULL);
            goto fail;
        }
    } else if (!SSL_CTX_set_default_verify_paths(c)) {
        log_ssl_errors("Failed to load the system's CA certificates", NULL);
        goto fail;
    }
    if ((set_str(cert) || set_str(key)) && !load_cert_key(c, cert, key, pass)) goto fail;
    return c;
fail:
    SSL_CTX_free(c);
    return NULL;
}

void *tls_repl_ctx_new(void)
{
    if (!set_str(ca_cert_file) && !set_str(ca_cert_dir)) {
        log_warning("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                    "tls-cluster, tls-replication or tls-auth-clients are enabled!");
        return NULL;
    }
    if (set_str(client_cert_file))
        return tls_client_ctx_new(ca_cert_file, ca_cert_dir, client_cert_file, client_key_file,
                                  client_key_file_pass);
    return tls_client_ctx_new(ca_cert_file, ca_cert_dir, cert_file, key_file, key_file_pass);
}

static bool repl_ctx_ok(void)
{
    SSL_CTX *c = tls_repl_ctx_new();
    SSL_CTX_free(c);
    return c != NULL;
}

bool tls_ready(void)
{
    SSL_CTX *fresh;
    if (ctx && !stale) return true;
    if (!(fresh = build())) return false;
    SSL_CTX_free(ctx); /* connections made with it hold their own reference */
    ctx = fresh;
    stale = false;
    stale_name = NULL;
    return true;
}

/* After every value of one CONFIG SET: a new context when TLS is served
 * and an entry changed (Redis's applyTlsCfg). */
static const char *commit(const char **name)
{
    const char *first = stale_name;
    bool serving = (port_v || https_port_v) && ctx;
    if (!stale) return NULL;
    if (!serving && !g_tls_replication) {
        stale_name = NULL; /* built later; the next CONFIG SET names its own entry */
        return NULL;
    }
    /* tls-replication on: Redis builds its contexts too (and its link's) */
    if (tls_ready() && (!g_tls_replication || repl_ctx_ok())) return NULL;
    *name = first;
    stale = false; /* the old context stays; a rollback marks it again */
    stale_name = NULL;
    return "Unable to update TLS configuration. Check server logs.";
}

void tls_register_config(void)
{
    config_register_commit(commit);
}

void tls_shutdown(void)
{
    SSL_CTX_free(ctx);
    ctx = NULL;
    stale = true;
}
