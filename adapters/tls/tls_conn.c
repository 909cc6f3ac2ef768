/* tls_conn.c — the TLS transport (tls.h, conn.h's struct conn_transport):
 * one SSL object per connection over its nonblocking socket, server side,
 * the handshake made by the first reads. SSL_ERROR_WANT_READ and
 * WANT_WRITE become EAGAIN for the connection base, with the cross cases
 * remembered (a read that needs the socket writable, a write that needs it
 * readable) so conn.c waits on the right event; bytes read but not
 * taken yet (decrypted or not) are reported as pending. Closing sends close_notify, best
 * effort. Failures (bad certificates, garbage bytes) close only that
 * connection, logged as Redis logs them. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "util.h"

struct tls_state {
    SSL *ssl;
    bool read_needs_write, write_needs_read;
    bool failed;  /* a fatal error: no close_notify */
    char cn[256]; /* the verified client certificate's CN, "" if none */
    bool cn_known;
    bool announced; /* the handshake is done and the peer hook was called */
};

static tls_peer_fn peer_hook;

void tls_set_peer_hook(tls_peer_fn fn)
{
    peer_hook = fn;
}

/* Once per connection, when the handshake is done: the peer hook. */
static void announce(struct conn *c, struct tls_state *s)
{
    const char *cn;
    if (s->announced || !SSL_is_init_finished(s->ssl)) return;
    s->announced = true;
    if (peer_hook && (cn = tls_peer_cn(c)) != NULL) peer_hook(c, cn);
}

static struct tls_state *st(struct conn *c)
{
    return c->tr_ctx;
}

/* Turn an SSL result into read()/write()'s: -1 and errno. */
static ssize_t fail_io(struct conn *c, int ret, bool reading)
{
    struct tls_state *s = st(c);
    int err = SSL_get_error(s->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        if (!reading) s->write_needs_read = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        /* conn.c waits for writability (the loop's write event, or poll()
         * in a blocking session): no event is touched from here, so a
         * forked child's reads never reach the loop it shares with its
         * parent. */
        if (reading) s->read_needs_write = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* the peer's close_notify */
        if (reading) return 0;
        errno = EPIPE;
        return -1;
    case SSL_ERROR_SYSCALL:
        s->failed = true;
        if (reading && errno == 0) return 0; /* EOF without close_notify */
        if (errno == 0) errno = EPIPE;
        return -1;
    default: {
        char buf[256];
        s->failed = true;
        ERR_error_string_n(ERR_peek_error(), buf, sizeof(buf));
        if (!SSL_is_init_finished(s->ssl))
            log_warning("Error accepting a client connection: %s (addr=%s laddr=%s)", buf, c->addr,
                        c->laddr);
        else
            log_verbose("TLS error on a client connection: %s (addr=%s laddr=%s)", buf, c->addr,
                        c->laddr);
        ERR_clear_error();
        errno = ECONNRESET;
        return -1;
    }
    }
}

static ssize_t tls_read(struct conn *c, void *buf, size_t n)
{
    struct tls_state *s = st(c);
    int r;
    if (n > INT32_MAX) n = INT32_MAX;
    s->read_needs_write = false;
    ERR_clear_error();
    errno = 0;
    r = SSL_read(s->ssl, buf, (int)n);
    if (!s->announced) announce(c, s);
    if (r > 0) return r;
    return fail_io(c, r, true);
}

static ssize_t tls_write(struct conn *c, const void *buf, size_t n)
{
    struct tls_state *s = st(c);
    int r;
    if (n == 0) return 0;
    if (n > INT32_MAX) n = INT32_MAX;
    s->write_needs_read = false;
    ERR_clear_error();
    errno = 0;
    r = SSL_write(s->ssl, buf, (int)n);
    if (r > 0) return r;
    return fail_io(c, r, false);
}

static void tls_shutdown_write(struct conn *c)
{
    struct tls_state *s = st(c);
    ERR_clear_error();
    if (SSL_is_init_finished(s->ssl)) SSL_shutdown(s->ssl);
    ERR_clear_error();
    shutdown(c->fd, SHUT_WR);
}

static void tls_close(struct conn *c)
{
    struct tls_state *s = st(c);
    if (!s) return;
    ERR_clear_error();
    /* close_notify, best effort (the socket is nonblocking). */
    if (!s->failed && SSL_is_init_finished(s->ssl)) SSL_shutdown(s->ssl);
    ERR_clear_error();
    SSL_free(s->ssl);
    free(s);
    c->tr_ctx = NULL;
}

/* Decrypted bytes not taken yet, or (read-ahead) records read from the
 * socket and not decrypted yet. */
static bool tls_has_pending(struct conn *c)
{
    return SSL_has_pending(st(c)->ssl);
}

static bool tls_read_needs_write(struct conn *c)
{
    return st(c)->read_needs_write;
}

static bool tls_write_needs_read(struct conn *c)
{
    return st(c)->write_needs_read;
}

/* A forked child carries the session on: no close_notify from here. */
static void tls_forget(struct conn *c)
{
    st(c)->failed = true;
}

static const struct conn_transport tls_transport = {
    tls_read,
    tls_write,
    tls_shutdown_write,
    tls_close,
    tls_has_pending,
    tls_read_needs_write,
    tls_write_needs_read,
    tls_forget,
};

bool tls_attach(struct conn *c)
{
    SSL_CTX *ctx = tls_ctx_current();
    struct tls_state *s;
    SSL *ssl;
    if (!ctx || c->fd < 0) return false;
    if (!(ssl = SSL_new(ctx))) {
        ERR_clear_error();
        return false;
    }
    switch (tls_auth_clients()) {
    case 0:
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
        break;
    case 2:
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        break;
    default:
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        break;
    }
    SSL_set_fd(ssl, c->fd);
    SSL_set_accept_state(ssl);
    s = xcalloc(1, sizeof(*s));
    s->ssl = ssl;
    c->tr = &tls_transport;
    c->tr_ctx = s;
    return true;
}

const char *tls_peer_cn(struct conn *c)
{
    struct tls_state *s;
    X509 *peer;
    if (!c->tr || c->tr != &tls_transport) return NULL;
    s = st(c);
    if (!SSL_is_init_finished(s->ssl)) return NULL;
    if (!s->cn_known) {
        s->cn_known = true;
        s->cn[0] = 0;
        peer = SSL_get1_peer_certificate(s->ssl);
        if (peer) {
            if (SSL_get_verify_result(s->ssl) == X509_V_OK)
                X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, s->cn,
                                          sizeof(s->cn));
            X509_free(peer);
        }
    }
    return s->cn[0] ? s->cn : NULL;
}
