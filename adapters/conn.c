/* conn.c — the connection base (conn.h): socket I/O for every adapter
 * (the only raw read()/write() calls of the adapters), input and output
 * buffers and their limits, the AOF before replies, deferred close, read
 * pause, the kernel's client_adapter hooks, byte counts, and the list of
 * connections. */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "aof.h"
#include "kernel.h"
#include "log.h"
#include "client_limits.h"
#include "server.h"
#include "util.h"
#include "net.h"

static struct conn *conns; /* every connection, newest first */
/* Connections whose output waits for the end of the loop iteration, in
 * the order they were named (conn_flush_later). */
static struct conn *wq_head, *wq_tail;

static void wq_remove(struct conn *c)
{
    if (!c->wpending) return;
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        wq_head = c->wnext;
    if (c->wnext)
        c->wnext->wprev = c->wprev;
    else
        wq_tail = c->wprev;
    c->wprev = c->wnext = NULL;
    c->wpending = false;
}

/* ---- the transport seam ---- */

ssize_t conn_sock_read(struct conn *c, void *buf, size_t n)
{
    if (c->tr) return c->tr->read(c, buf, n);
    return read(c->fd, buf, n);
}

ssize_t conn_sock_write(struct conn *c, const void *buf, size_t n)
{
    if (c->tr) return c->tr->write(c, buf, n);
    return write(c->fd, buf, n);
}

void conn_sock_shutdown_write(struct conn *c)
{
    if (c->tr)
        c->tr->shutdown_write(c);
    else
        shutdown(c->fd, SHUT_WR);
}

static void sock_close(struct conn *c)
{
    if (c->tr && c->fd >= 0) c->tr->close(c);
    c->tr = NULL;
    c->tr_ctx = NULL;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

void conn_refuse_fd(int fd, const char *msg, size_t len)
{
    ssize_t w = write(fd, msg, len);
    (void)w;
    close(fd);
}

/* ---- life ---- */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

static struct conn *conn_alloc(size_t size, const struct conn_ops *ops, int fd,
                               const struct reply_ops *sink)
{
    struct conn *c = xcalloc(1, size);
    c->ops = ops;
    c->fd = fd;
    c->state = CONN_OPEN;
    c->client = client_new(&ops->ad, c, sink);
    c->client->reply.ctx = &c->out;
    c->rev = event_new(g_server.base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(g_server.base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->next = conns;
    if (conns) conns->prev = c;
    conns = c;
    return c;
}

struct conn *conn_new(size_t size, const struct conn_ops *ops, int fd, const struct sockaddr *peer,
                      const struct reply_ops *sink)
{
    struct conn *c;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (g_config.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    c = conn_alloc(size, ops, fd, sink);
    net_describe_fd(fd, peer, c->addr, sizeof(c->addr), c->laddr, sizeof(c->laddr));
    event_add(c->rev, NULL);
    return c;
}

struct conn *conn_takeover(struct conn *from, size_t size, const struct conn_ops *ops,
                           const struct reply_ops *sink)
{
    struct conn *c = conn_alloc(size, ops, from->fd, sink);
    memcpy(c->addr, from->addr, sizeof(c->addr));
    memcpy(c->laddr, from->laddr, sizeof(c->laddr));
    c->tr = from->tr; /* the transport (TLS) goes with the socket */
    c->tr_ctx = from->tr_ctx;
    from->tr = NULL;
    from->tr_ctx = NULL;
    /* What from has not written yet goes out first. */
    c->out = from->out;
    memset(&from->out, 0, sizeof(from->out));
    wq_remove(from);
    from->fd = -1;
    from->dead = true;
    event_add(c->rev, NULL);
    /* Input that came with the upgrade may wait inside the transport. */
    if (c->tr && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
    return c;
}

void conn_free(struct conn *c)
{
    wq_remove(c);
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    sock_close(c);
    if (c->client) client_free(c->client);
    c->client = NULL;
    if (c->ops->release) c->ops->release(c);
    free(c->in);
    obuf_free(&c->out);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
}

void conn_close(struct conn *c)
{
    if (c->depth > 0)
        c->dead = true;
    else
        conn_free(c);
}

void conn_close_after_reply(struct conn *c)
{
    if (c->ops->closing)
        c->ops->closing(c);
    else
        c->state = CONN_CLOSING;
}

void conn_abort(struct conn *c)
{
    c->out.len = c->out.sent = 0;
    conn_close(c);
}

void conn_shutdown(const struct conn_ops *ops)
{
    struct conn *c, *next;
    for (c = conns; c; c = next) {
        next = c->next;
        if (c->ops != ops) continue;
        if (ops->shutdown) {
            ops->shutdown(c);
            conn_free(c);
        } else if (conn_flush(c)) {
            conn_free(c);
        }
    }
}

/* ---- input ---- */

/* Room for at least want more bytes in c->in. */
static void in_reserve(struct conn *c, size_t want)
{
    size_t cap;
    if (c->incap - c->inlen >= want) return;
    cap = c->incap ? c->incap : CONN_READ;
    while (cap - c->inlen < want)
        cap *= 2;
    c->in = xrealloc(c->in, cap);
    c->incap = cap;
}

void conn_feed(struct conn *c, const char *p, size_t n)
{
    if (!n) return;
    in_reserve(c, n);
    memcpy(c->in + c->inlen, p, n);
    c->inlen += n;
    c->in_fed = true;
    event_active(c->rev, EV_READ, 0);
}

void conn_pause_read(struct conn *c)
{
    if (c->read_paused) return;
    c->read_paused = true;
    event_del(c->rev);
}

void conn_resume_read(struct conn *c)
{
    if (!c->read_paused) return;
    c->read_paused = false;
    event_add(c->rev, NULL);
    /* Input the transport holds counts although the socket is not readable. */
    if (c->tr && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    size_t want = CONN_READ, hint;
    ssize_t n;
    (void)fd, (void)what;

    /* Its own command is still running (a busy script pumps the loop):
     * its next commands wait until that one is done. */
    if (c->depth > 0) return;
    /* A write waited for the peer's data (TLS): it goes first. */
    if (c->tr && c->tr->write_needs_read(c) && !conn_flush(c)) goto done;
    hint = c->ops->in_hint ? c->ops->in_hint(c) : 0;
    if (hint > c->inlen && hint - c->inlen > want) want = hint - c->inlen;
    in_reserve(c, want);
    g_server.stat_reads++; /* INFO total_reads_processed */
    n = conn_sock_read(c, c->in + c->inlen, c->incap - c->inlen);
    if (n == 0) {
        conn_free(c);
        goto done;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_free(c);
            goto done;
        }
        if (!c->in_fed) goto done;
    } else {
        c->inlen += (size_t)n;
        g_server.net_input_bytes += n;
        /* More is decrypted already than the buffer took: read again. */
        if (c->tr && !c->read_paused && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
    }
    c->in_fed = false;
    if ((long long)c->inlen > g_config.client_query_buffer_limit) {
        log_warning("Closing client that reached max query buffer length (qbuf=%zu)", c->inlen);
        conn_free(c);
        goto done;
    }
    if (c->ops->received) {
        c->depth++;
        c->ops->received(c);
        c->depth--;
    }
    conn_serve(c);
done:
    kernel_after_events();
}

/* A busy script's pump (kernel_pump_events, wired by server/main.c): the
 * event loop is running the script, so libevent cannot be entered again;
 * read and serve every open connection with input waiting, found with one
 * poll() that does not wait. The connection running the script (depth >
 * 0) waits. New connections wait in the listen backlog. */
void conn_pump(void)
{
    struct conn *c, **cs;
    struct pollfd *pf;
    size_t n = 0, i;
    for (c = conns; c; c = c->next)
        n++;
    if (n == 0) return;
    cs = xmalloc(sizeof(*cs) * n);
    pf = xmalloc(sizeof(*pf) * n);
    n = 0;
    for (c = conns; c; c = c->next) {
        if (c->fd < 0 || c->depth > 0 || c->read_paused || c->state != CONN_OPEN) continue;
        cs[n] = c;
        pf[n].fd = c->fd;
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        n++;
    }
    if (n > 0 && poll(pf, (nfds_t)n, 0) > 0) {
        for (i = 0; i < n; i++) {
            struct conn *x;
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            for (x = conns; x && x != cs[i]; x = x->next) /* still there? */
                ;
            if (x && x->fd == pf[i].fd && x->state == CONN_OPEN) on_read(x->fd, EV_READ, x);
        }
    }
    free(cs);
    free(pf);
}

/* ---- processing and output ---- */

bool conn_serve(struct conn *c)
{
    for (;;) {
        c->out_full = false;
        c->depth++;
        c->ops->process(c);
        c->depth--;
        if (c->dead) {
            conn_free(c);
            return false;
        }
        /* Shrink an idle large input buffer. */
        if (c->inlen == 0 && c->incap > 4 * CONN_READ) {
            free(c->in);
            c->in = NULL;
            c->incap = 0;
        }
        if (!c->out_full) {
            /* The usual case: written with every other connection's
             * output before the loop sleeps (one write per connection and
             * iteration, the AOF once before all of them). */
            conn_flush_later(c);
            return true;
        }
        if (!conn_flush(c)) return false;
        if (c->state != CONN_OPEN) return true;
        if (c->out.sent < c->out.len) {
            /* The peer does not read its replies: stop reading its
             * requests until they are written (TCP pushes back). */
            conn_pause_read(c);
            return true;
        }
        /* Stopped at out_high and all of it written: run more. */
    }
}

void conn_flush_later(struct conn *c)
{
    if (c->wpending || c->fd < 0) return;
    c->wpending = true;
    c->wnext = NULL;
    c->wprev = wq_tail;
    if (wq_tail)
        wq_tail->wnext = c;
    else
        wq_head = c;
    wq_tail = c;
}

void conn_flush_pending(void)
{
    struct conn *c;
    while ((c = wq_head) != NULL) {
        wq_remove(c);
        /* Inside its command: queued again at its end. Without a socket
         * (taken over, closing): nothing to write. */
        if (c->depth > 0 || c->dead || c->fd < 0) continue;
        conn_flush(c);
    }
}

bool conn_out_reclaim(struct conn *c, size_t upto)
{
    if (upto > c->out.sent) upto = c->out.sent;
    if (upto == 0 || upto < c->out.len - upto) return false;
    memmove(c->out.buf, c->out.buf + upto, c->out.len - upto);
    c->out.len -= upto;
    c->out.sent -= upto;
    return true;
}

/* client-output-buffer-limit reached: the adapter's answer, or close now.
 * false if c was freed. */
static bool overflow(struct conn *c)
{
    if (c->ops->overflow && c->ops->overflow(c)) return true;
    conn_free(c);
    return false;
}

bool conn_flush(struct conn *c)
{
    const struct conn_ops *ops = c->ops;
    wq_remove(c);             /* written now: no need at the end of the iteration */
    aof_flush_before_reply(); /* the AOF is written (and fsynced) before replies go out */
    if (ops->prepare) ops->prepare(c);
    /* As Redis checks at every append: what one batch of commands produced
     * counts before the kernel's socket buffers swallow part of it. Like
     * Redis, the first 16 KB (its static reply buffer) do not count. */
    if (ops->limit_batch && c->client) {
        size_t pending = conn_pending(c);
        if (pending > CONN_STATIC_REPLY &&
            obuf_limit_reached(c->client, pending - CONN_STATIC_REPLY, &c->obuf_soft_since) &&
            !overflow(c))
            return false;
    }
    if (ops->pre_write && !ops->pre_write(c)) {
        conn_free(c);
        return false;
    }
    if (c->out.sent < c->out.len) g_server.stat_writes++; /* INFO total_writes_processed */
    while (c->out.sent < c->out.len) {
        ssize_t n = conn_sock_write(c, c->out.buf + c->out.sent, c->out.len - c->out.sent);
        if (n > 0) {
            c->out.sent += (size_t)n;
            c->written += (unsigned long long)n;
            g_server.net_output_bytes += n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The peer is not reading fast enough: apply
             * client-output-buffer-limit to what is still pending, and
             * reclaim the written prefix once it outweighs the rest. */
            if (c->client && obuf_limit_reached(c->client, conn_pending(c), &c->obuf_soft_since) &&
                !overflow(c))
                return false;
            if (ops->reclaim)
                ops->reclaim(c);
            else
                conn_out_reclaim(c, c->out.sent);
            /* A TLS write waiting for input is retried by the read event. */
            if (!c->tr || !c->tr->write_needs_read(c)) event_add(c->wev, NULL);
            return true;
        }
        conn_free(c);
        return false;
    }
    c->out.len = c->out.sent = 0;
    c->obuf_soft_since = 0;
    if (c->out.cap > 1024 * 1024 && !g_server.reply_buffer_keep) obuf_free(&c->out);
    if (ops->drained ? ops->drained(c) : c->state == CONN_CLOSING) {
        conn_free(c);
        return false;
    }
    return true;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    /* A read waited for the socket to take output (TLS): retry it. */
    if (c->tr && c->tr->read_needs_write(c) && !c->read_paused) event_active(c->rev, EV_READ, 0);
    if (conn_flush(c) && c->out.sent == c->out.len) {
        event_del(c->wev);
        if (c->read_paused) {
            /* The backlog is gone: take the requests still waiting. */
            conn_resume_read(c);
            if (c->state == CONN_OPEN) conn_serve(c);
        }
    }
    kernel_after_events();
}

/* ---- the kernel's hooks ---- */

void conn_ad_resume(struct client *cl)
{
    struct conn *c = cl->conn;
    if (c->state == CONN_PARKED && cl->state == CLIENT_ACTIVE) {
        c->state = CONN_OPEN;
        if (c->ops->unparked) {
            c->depth++;
            c->ops->unparked(c);
            c->depth--;
        }
    }
    conn_serve(c);
}

void conn_ad_close(struct client *cl, bool after_reply)
{
    struct conn *c = cl->conn;
    if (after_reply) {
        conn_close_after_reply(c);
        if (c->depth == 0) conn_flush_later(c);
        return;
    }
    conn_close(c);
}

void conn_ad_flush(struct client *cl)
{
    struct conn *c = cl->conn;
    if (c->ops->push && !c->ops->push(c)) return;
    /* Inside its own command: written at its end; else with the others
     * before the loop sleeps (a PUBLISH to many: one write each). */
    if (c->depth == 0) conn_flush_later(c);
}

void conn_ad_raw(struct client *cl, const void *p, size_t n)
{
    struct conn *c = cl->conn;
    if (c->state == CONN_CLOSING || c->dead) return;
    obuf_append(&c->out, p, n);
    if (c->depth == 0) conn_flush_later(c);
}

int conn_ad_raw_fd(struct client *cl)
{
    struct conn *c = cl->conn;
    /* Only plain TCP: a transport (TLS) must frame every byte itself. */
    if (c->tr || c->fd < 0) return -1;
    return c->fd;
}

void conn_ad_describe(struct client *cl, char *addr, size_t alen, char *laddr, size_t llen, int *fd)
{
    struct conn *c = cl->conn;
    snprintf(addr, alen, "%s", c->addr);
    snprintf(laddr, llen, "%s", c->laddr);
    *fd = c->fd;
}

void conn_ad_buffers(struct client *cl, size_t *qbuf, size_t *qfree, size_t *obl, size_t *oll,
                     size_t *omem)
{
    struct conn *c = cl->conn;
    *qbuf = c->inlen;
    *qfree = c->incap - c->inlen;
    *obl = c->out.len - c->out.sent;
    *oll = 0;
    *omem = c->out.cap;
    if (c->ops->buffers) c->ops->buffers(c, qbuf, qfree, obl, omem);
}
