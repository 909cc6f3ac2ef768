/* up_tls.c — TLS towards the upstream nodes (upstream.h): the values of
 * its config entries (`upstream-tls`, the CA that signs the nodes'
 * certificates, a client certificate for nodes that ask for one; the rows
 * are in up_conn.c's table) and the OpenSSL client context; each connection is a libevent OpenSSL
 * bufferevent that checks the node's certificate and its name (the host or IP Keel dials). */
#include "upstream.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "log.h"
#include "tls.h"

struct up_tls_config g_up_tls;
static SSL_CTX *ctx;

bool up_tls_init(void)
{
    if (!g_up_tls.on) return true;
    /* adapters/tls builds it (the replication link's is built the same way) */
    ctx = tls_client_ctx_new(g_up_tls.ca_file, g_up_tls.ca_dir, g_up_tls.cert_file,
                             g_up_tls.key_file, NULL);
    if (!ctx) {
        log_warning("upstream TLS: the upstream-tls-* files could not be used");
        return false;
    }
    return true;
}

struct bufferevent *up_tls_bev(struct event_base *base, const char *host)
{
    unsigned char addr[16];
    X509_VERIFY_PARAM *param;
    SSL *ssl;
    struct bufferevent *bev;
    if (!ctx) return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    param = SSL_get0_param(ssl);
    /* the certificate must name what Keel dialled: an IP, or a host name */
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host);
    } else {
        X509_VERIFY_PARAM_set1_host(param, host, 0);
        SSL_set_tlsext_host_name(ssl, host);
    }
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

bool up_tls_error(struct bufferevent *bev, char *buf, size_t n)
{
    unsigned long e;
    if (!ctx) return false;
    e = bufferevent_get_openssl_error(bev);
    if (!e) return false;
    memcpy(buf, "TLS: ", 5);
    ERR_error_string_n(e, buf + 5, n - 5);
    return true;
}

void up_tls_shutdown(void)
{
    if (ctx) SSL_CTX_free(ctx);
    ctx = NULL;
}
