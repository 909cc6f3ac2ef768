/* tls_repl.c — the replica's link to its primary over TLS (tls-replication,
 * as Redis 7.0): core/repl's link transport (repl_link.h) on an OpenSSL
 * client connection. The context is tls_repl_ctx_new's, built at each
 * connect from the current tls-* entries (a CONFIG SET applies to the next
 * link); the primary's certificate is verified against tls-ca-cert-file /
 * -dir and, as Redis does, not against the host name. */
#include <errno.h>
#include <stdint.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "repl_link.h"
#include "tls.h"

static bool repl_enabled(void)
{
    return g_tls_replication != 0;
}

static void *repl_wrap(int fd)
{
    SSL_CTX *ctx = tls_repl_ctx_new();
    SSL *ssl;
    if (!ctx) return NULL;
    ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the connection holds its own reference */
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        log_warning("Error creating the TLS connection to MASTER");
        SSL_free(ssl);
        return NULL;
    }
    /* the link's output buffer may move between retries of one write */
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_set_connect_state(ssl);
    return ssl;
}

static int repl_handshake(void *t, bool *want_write)
{
    SSL *ssl = t;
    int r, e;
    char buf[256];
    ERR_clear_error();
    r = SSL_do_handshake(ssl);
    if (r == 1) return 1;
    e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_WANT_WRITE) {
        *want_write = true;
        return 0;
    }
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    log_warning("Error condition on socket for SYNC: TLS handshake with MASTER failed: %s", buf);
    return -1;
}

/* SSL_read / SSL_write as read(2) / write(2). */
static long result(SSL *ssl, int r)
{
    int e;
    if (r > 0) return r;
    e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;           /* the primary closed */
    if (e == SSL_ERROR_SYSCALL && errno == 0) return 0; /* EOF without close_notify */
    if (e != SSL_ERROR_SYSCALL) errno = EIO;
    return -1;
}

static long repl_read(void *t, void *buf, size_t n)
{
    ERR_clear_error();
    return result(t, SSL_read(t, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

static long repl_write(void *t, const void *buf, size_t n)
{
    ERR_clear_error();
    return result(t, SSL_write(t, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

static size_t repl_pending(void *t)
{
    return (size_t)SSL_pending(t);
}

static void repl_free(void *t)
{
    SSL_free(t);
}

const struct repl_link_transport tls_repl_transport = {
    .enabled = repl_enabled,
    .wrap = repl_wrap,
    .handshake = repl_handshake,
    .read = repl_read,
    .write = repl_write,
    .pending = repl_pending,
    .free = repl_free,
};
