/* conn.c — the connection base (conn.h): socket I/O for every adapter
 * (the only raw read()/write() calls of the adapters), input and output
 * buffers and their limits, the AOF before replies, deferred close, read
 * pause, the kernel's client_adapter hooks, byte counts, the list of
 * connections, and the blocking I/O of a Lua debugging session (outside
 * the loop; in a forked child, every other socket isolated). */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "reply_buffer.h"
#include "aof.h"
#include "kernel.h"
#include "log.h"
#include "client_limits.h"
#include "client_mem.h"
#include "server.h"
#include "util.h"
#include "net.h"
#include "uring.h"

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

/* Connections with held input to deliver (conn_uring_attend), and new
 * connections to start on the ring or libevent before the loop sleeps
 * (start_new; NULL: freed meanwhile). */
static struct conn *at_head, *at_tail;
static struct conn **starts;
static size_t nstarts, capstarts;
/* Loop iterations (conn_flush_pending): like a libevent read, a
 * connection gets one receive's bytes per iteration; more wait for the
 * next (replies and the AOF are written in between). */
static unsigned long long iteration;
/* Connections whose send is in this iteration's submission. */
static struct conn *sq_head, *sq_tail;

static void attn_add(struct conn *c)
{
    if (c->uattn) return;
    c->uattn = true;
    c->anext = NULL;
    c->aprev = at_tail;
    if (at_tail)
        at_tail->anext = c;
    else
        at_head = c;
    at_tail = c;
}

static void attn_remove(struct conn *c)
{
    if (!c->uattn) return;
    if (c->aprev)
        c->aprev->anext = c->anext;
    else
        at_head = c->anext;
    if (c->anext)
        c->anext->aprev = c->aprev;
    else
        at_tail = c->aprev;
    c->aprev = c->anext = NULL;
    c->uattn = false;
}

static void sq_add(struct conn *c)
{
    c->usending = true;
    c->snext = NULL;
    c->sprev = sq_tail;
    if (sq_tail)
        sq_tail->snext = c;
    else
        sq_head = c;
    sq_tail = c;
}

static void sq_remove(struct conn *c)
{
    if (!c->usending) return;
    if (c->sprev)
        c->sprev->snext = c->snext;
    else
        sq_head = c->snext;
    if (c->snext)
        c->snext->sprev = c->sprev;
    else
        sq_tail = c->sprev;
    c->sprev = c->snext = NULL;
    c->usending = false;
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
static bool flush_begin(struct conn *c);
static bool flush_write(struct conn *c);
static void out_sent(struct conn *c, size_t n);
static void start_new(void);
static void conn_uring_attend(void);

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
    if (uring_on()) {
        /* On the ring unless the adapter attaches a transport (TLS) first:
         * decided before the loop sleeps (conn_uring_attend). */
        c->ustart = true;
        if (nstarts == capstarts) {
            capstarts = capstarts ? capstarts * 2 : 16;
            starts = xrealloc(starts, sizeof(*starts) * capstarts);
        }
        starts[nstarts++] = c;
    } else {
        event_add(c->rev, NULL);
    }
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
    if (from->uslot) {
        /* The ring's receive goes with the socket, and what it held. */
        c->uslot = from->uslot;
        from->uslot = 0;
        uring_slot_move(c->uslot, c);
        c->uheld = from->uheld;
        c->uheldlen = from->uheldlen;
        c->uheldoff = from->uheldoff;
        c->uheldcap = from->uheldcap;
        c->uheld_end = from->uheld_end;
        c->uheld_full = from->uheld_full;
        from->uheld = NULL;
        from->uheldlen = from->uheldoff = from->uheldcap = 0;
        from->uheld_end = 0;
        attn_remove(from);
        if (!c->uheld_full && !uring_recv_armed(c->uslot)) uring_recv_arm(c->uslot, c->fd);
        if (c->uheldlen || c->uheld_end) attn_add(c);
        return c;
    }
    event_add(c->rev, NULL);
    /* Input that came with the upgrade may wait inside the transport. */
    if (c->tr && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
    return c;
}

void conn_free(struct conn *c)
{
    wq_remove(c);
    attn_remove(c);
    sq_remove(c);
    if (c->ustart) {
        size_t i;
        for (i = 0; i < nstarts; i++)
            if (starts[i] == c) starts[i] = NULL;
    }
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    if (c->uslot) uring_slot_release(c->uslot); /* before close: the ring holds the socket */
    c->uslot = 0;
    free(c->uheld);
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
    if (c->uslot)
        attn_add(c);
    else if (!c->ustart)
        event_active(c->rev, EV_READ, 0);
}

void conn_pause_read(struct conn *c)
{
    if (c->read_paused) return;
    c->read_paused = true;
    if (c->uslot)
        uring_recv_cancel(c->uslot); /* TCP pushes back, as with libevent */
    else
        event_del(c->rev);
}

void conn_resume_read(struct conn *c)
{
    if (!c->read_paused) return;
    c->read_paused = false;
    if (c->uslot || c->ustart) {
        if (c->uslot && !c->uheld_full && !uring_recv_armed(c->uslot))
            uring_recv_arm(c->uslot, c->fd);
        /* What arrived meanwhile is delivered as if read now. */
        if (c->uheldlen || c->uheld_end || c->in_fed) attn_add(c);
        return;
    }
    event_add(c->rev, NULL);
    /* Input the transport holds counts although the socket is not readable. */
    if (c->tr && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
}

/* New input is in c->in (read, received or fed): the query buffer limit,
 * the adapter's received hook, then the commands. false if c was freed. */
static bool in_arrived(struct conn *c)
{
    c->in_fed = false;
    if ((long long)c->inlen > g_config.client_query_buffer_limit) {
        log_warning("Closing client that reached max query buffer length (qbuf=%zu)", c->inlen);
        conn_free(c);
        return false;
    }
    if (c->ops->received) {
        c->depth++;
        c->ops->received(c);
        c->depth--;
    }
    if (!conn_serve(c)) return false;
    /* its query buffer changed: maxmemory-clients' accounting */
    if (c->client) client_mem_update(c->client);
    return true;
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
        /* TLS: the read waits for the socket to take output (on_write
         * retries it). */
        if (c->tr && c->tr->read_needs_write(c)) event_add(c->wev, NULL);
        if (!c->in_fed) goto done;
    } else {
        c->inlen += (size_t)n;
        g_server.net_input_bytes += n;
        /* More is decrypted already than the buffer took: read again. */
        if (c->tr && !c->read_paused && c->tr->has_pending(c)) event_active(c->rev, EV_READ, 0);
    }
    in_arrived(c);
done:
    kernel_after_events();
}

/* A busy script's pump (kernel_pump_events, wired by server/main.c): the
 * event loop is running the script, so libevent cannot be entered again;
 * read and serve every open connection with input waiting, found with one
 * poll() that does not wait. The connection running the script (depth >
 * 0) waits. New connections wait in the listen backlog. */
bool conn_pump(void)
{
    struct conn *c, **cs;
    struct pollfd *pf;
    size_t n = 0, i;
    bool any = false;
    if (uring_on()) {
        /* The ring's connections: what it received. */
        any = nstarts > 0;
        conn_uring_attend();
        any |= uring_poll(true) > 0;
    }
    for (c = conns; c; c = c->next)
        n++;
    if (n == 0) return any;
    cs = xmalloc(sizeof(*cs) * n);
    pf = xmalloc(sizeof(*pf) * n);
    n = 0;
    for (c = conns; c; c = c->next) {
        if (c->fd < 0 || c->depth > 0 || c->read_paused || c->state != CONN_OPEN || c->uslot ||
            c->ustart)
            continue;
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
            any = true;
            for (x = conns; x && x != cs[i]; x = x->next) /* still there? */
                ;
            if (x && x->fd == pf[i].fd && x->state == CONN_OPEN) on_read(x->fd, EV_READ, x);
        }
    }
    free(cs);
    free(pf);
    return any;
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
        /* Received while it ran (a busy script's pump): next. */
        if (c->uheldlen || c->uheld_end) attn_add(c);
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

/* Every queued connection's output on the ring: a send each (completing
 * during the submission: MSG_DONTWAIT), or written as conn_flush writes
 * (TLS, no slot). What a send leaves is written when its completion is
 * seen (conn_uring_sent). The AOF is written before the first send is
 * queued. true if sends were queued. */
static bool queue_pending_ring(void)
{
    struct conn *c;
    bool sends = false;
    start_new();
    iteration++;
    while ((c = wq_head) != NULL) {
        wq_remove(c);
        if (c->depth > 0 || c->dead || c->fd < 0 || c->usending) continue;
        if (!c->uslot || c->tr) {
            conn_flush(c);
            continue;
        }
        if (!flush_begin(c)) continue;
        if (c->out.sent < c->out.len &&
            uring_send(c->uslot, c->fd, c->out.buf + c->out.sent, c->out.len - c->out.sent)) {
            c->usent = 0;
            sq_add(c);
            sends = true;
            continue;
        }
        flush_write(c);
    }
    return sends;
}

/* conn_flush_pending on the ring, now: the sends are submitted and their
 * completions seen before it returns (a busy script's pump, shutdown). */
static void flush_pending_ring(void)
{
    /* Sends of the loop's last submission not seen yet: first. */
    if (sq_head) uring_submit_sends();
    if (queue_pending_ring())
        uring_submit_sends();
    else
        uring_submit();
}

bool conn_loop_prepare(void)
{
    if (!uring_on()) {
        conn_flush_pending();
        return true;
    }
    queue_pending_ring();
    /* Held input or new connections: the loop must not sleep. */
    return at_head == NULL && nstarts == 0;
}

void conn_loop_attend(void)
{
    if (uring_on()) conn_uring_attend();
}

void conn_flush_pending(void)
{
    struct conn *c;
    if (uring_on()) {
        flush_pending_ring();
        return;
    }
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

/* c->out's allocation made size bytes, when nothing waits in it (an
 * adapter may remember offsets in it while output is pending: ws frames). */
static void resize_out(struct conn *c, size_t size)
{
    if (c->out.len != 0 || c->out.cap == size || c->out.cap == 0) return;
    c->out.buf = xrealloc(c->out.buf, size);
    c->out.cap = size;
}

/* client-output-buffer-limit reached: the adapter's answer, or close now.
 * false if c was freed. */
static bool overflow(struct conn *c)
{
    if (c->ops->overflow && c->ops->overflow(c)) return true;
    conn_free(c);
    return false;
}

/* conn_flush's first half: the AOF, the adapter's held output, the batch
 * limit, pre_write. false if c was freed. */
static bool flush_begin(struct conn *c)
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
    /* the reply buffer's peak use (CLIENT LIST rbp, its resizing) */
    if (c->client && c->out.len > c->out.sent)
        reply_buffer_note(c->client, c->out.len - c->out.sent);
    if (c->out.sent < c->out.len) g_server.stat_writes++; /* INFO total_writes_processed */
    return true;
}

/* Bytes of c->out the socket took. */
static void out_sent(struct conn *c, size_t n)
{
    c->out.sent += n;
    c->written += (unsigned long long)n;
    g_server.net_output_bytes += (long long)n;
}

/* conn_flush's second half: write until done or the socket takes no more
 * (the write event finishes), then CLOSING closes. false if c was freed. */
static bool flush_write(struct conn *c)
{
    const struct conn_ops *ops = c->ops;
    while (c->out.sent < c->out.len) {
        ssize_t n = conn_sock_write(c, c->out.buf + c->out.sent, c->out.len - c->out.sent);
        if (n > 0) {
            out_sent(c, (size_t)n);
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
            if (c->client) client_mem_update(c->client);
            return true;
        }
        conn_free(c);
        return false;
    }
    c->out.len = c->out.sent = 0;
    c->obuf_soft_since = 0;
    /* A buffer grown past the reply buffer for a big reply goes back to
     * its size once written, as Redis frees its reply list's blocks once
     * written: memory a client no longer uses must not count for
     * maxmemory or maxmemory-clients (a redis-cli session's COMMAND DOCS
     * kept 240 KB). Replies regularly past the buffer grow the buffer
     * itself at the cron (reply_buffer.c), which ends the churn. */
    if (c->client && c->out.cap > c->client->rb_size) resize_out(c, c->client->rb_size);
    if (ops->drained ? ops->drained(c) : c->state == CONN_CLOSING) {
        conn_free(c);
        return false;
    }
    if (c->client) client_mem_update(c->client); /* output written: maxmemory-clients */
    return true;
}

bool conn_flush(struct conn *c)
{
    return flush_begin(c) && flush_write(c);
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

/* ---- the io_uring path (adapters/uring.c) ---- */

/* Input may be handed to c's commands now. */
static bool can_deliver(const struct conn *c)
{
    /* Not while its send is in flight (seen with the wake that follows it):
     * its output offsets are not final yet. */
    return c->depth == 0 && !c->read_paused && !c->dead && c->fd >= 0 && !c->usending;
}

/* Append n received bytes to c->in, the buffer sized as on_read sizes it
 * (the adapter's in_hint: a big argument's whole length at once, as Redis
 * sizes its query buffer; client memory and its limits see the same). */
static void in_append(struct conn *c, const char *p, size_t n)
{
    size_t want = CONN_READ, hint = c->ops->in_hint ? c->ops->in_hint(c) : 0;
    if (hint > c->inlen && hint - c->inlen > want) want = hint - c->inlen;
    if (n > want) want = n;
    in_reserve(c, want);
    memcpy(c->in + c->inlen, p, n);
    c->inlen += n;
}

/* Most bytes held for a connection before its receive stops. */
#define HELD_MAX (256 * 1024)

static void held_add(struct conn *c, const char *p, size_t n)
{
    if (c->uheldoff && c->uheldcap - c->uheldlen < n) {
        memmove(c->uheld, c->uheld + c->uheldoff, c->uheldlen - c->uheldoff);
        c->uheldlen -= c->uheldoff;
        c->uheldoff = 0;
    }
    if (c->uheldcap - c->uheldlen < n) {
        size_t cap = c->uheldcap ? c->uheldcap : CONN_READ;
        while (cap - c->uheldlen < n)
            cap *= 2;
        c->uheld = xrealloc(c->uheld, cap);
        c->uheldcap = cap;
    }
    memcpy(c->uheld + c->uheldlen, p, n);
    c->uheldlen += n;
}

/* Deliver what c holds (held bytes, fed bytes, the receive's end) as
 * on_read delivers what it reads. */
static void held_deliver(struct conn *c)
{
    int end = c->uheld_end;
    bool fresh = c->in_fed;
    if (c->uheldlen) {
        /* One read's worth per iteration, as on_read. */
        size_t n = CONN_READ, hint = c->ops->in_hint ? c->ops->in_hint(c) : 0;
        if (hint > c->inlen && hint - c->inlen > n) n = hint - c->inlen;
        if (n > c->uheldlen - c->uheldoff) n = c->uheldlen - c->uheldoff;
        in_append(c, c->uheld + c->uheldoff, n);
        c->uheldoff += n;
        fresh = true;
        if (c->uheld_full && c->uheldlen - c->uheldoff <= HELD_MAX / 2) {
            /* Drained enough: receive again. */
            c->uheld_full = false;
            if (c->uslot && !c->read_paused && !uring_recv_armed(c->uslot))
                uring_recv_arm(c->uslot, c->fd);
        }
        if (c->uheldoff == c->uheldlen) {
            c->uheldlen = c->uheldoff = 0;
            if (c->uheldcap > 4 * CONN_READ) {
                free(c->uheld);
                c->uheld = NULL;
                c->uheldcap = 0;
            }
        }
    }
    if (c->uheldlen) {
        end = 0; /* the end comes after the rest */
        attn_add(c);
    } else {
        c->uheld_end = 0;
    }
    c->uiter = iteration;
    if (fresh && !in_arrived(c)) return;
    if (end) conn_free(c); /* EOF or an error after the last bytes */
}

static void conn_uring_recv(struct conn *c, const char *p, size_t n, bool deliver)
{
    g_server.stat_reads++; /* INFO total_reads_processed */
    g_server.net_input_bytes += (long long)n;
    if (!deliver || !can_deliver(c) || c->uheldlen || c->uheld_end || c->uiter == iteration) {
        /* Held bytes stand for bytes left in the socket by a libevent
         * read: not query buffer yet. Past HELD_MAX the receive stops, so
         * TCP pushes back, until they are delivered. */
        held_add(c, p, n);
        if (c->uheldlen - c->uheldoff > HELD_MAX && !c->uheld_full) {
            c->uheld_full = true;
            uring_recv_cancel(c->uslot);
        }
        attn_add(c);
        return;
    }
    c->uiter = iteration;
    in_append(c, p, n);
    in_arrived(c);
    kernel_after_events();
}

static void conn_uring_recv_end(struct conn *c, int next, bool deliver)
{
    bool wanted = !c->read_paused && !c->uheld_full && !c->dead && c->fd >= 0;
    switch ((enum uring_recv_next)next) {
    case URING_RECV_MORE:
        return;
    case URING_RECV_REARM:
    case URING_RECV_ENDED:
        if (wanted) uring_recv_arm(c->uslot, c->fd);
        return;
    case URING_RECV_NOTSUP:
        /* This kernel cannot: the connection goes back to libevent. */
        uring_slot_release(c->uslot);
        c->uslot = 0;
        if (!c->read_paused) event_add(c->rev, NULL);
        if (c->uheldlen) attn_add(c);
        return;
    case URING_RECV_EOF:
    case URING_RECV_ERROR:
        if (deliver && can_deliver(c) && !c->uheldlen) {
            conn_free(c);
            kernel_after_events();
            return;
        }
        c->uheld_end = next == URING_RECV_EOF ? 1 : 2;
        attn_add(c);
        return;
    }
}

/* c's send completed with res: what it left is written as conn_flush
 * writes (a slow reader: the write event); input held meanwhile is
 * delivered next. */
static void conn_uring_sent(struct conn *c, int res)
{
    c->usent = res;
    if (!c->usending) return;
    sq_remove(c);
    if (res > 0) {
        out_sent(c, (size_t)res);
    } else if (res < 0 && res != -EAGAIN && res != -EINTR) {
        conn_free(c); /* as a failed write() */
        return;
    }
    if (!flush_write(c)) return;
    if (c->uheldlen || c->uheld_end || c->in_fed) attn_add(c);
}

/* New connections: on the ring, or on libevent with a transport (TLS). */
static void start_new(void)
{
    size_t i;
    for (i = 0; i < nstarts; i++) {
        struct conn *c = starts[i];
        if (!c) continue;
        c->ustart = false;
        if (!c->tr && c->fd >= 0) c->uslot = uring_slot_new(c);
        if (!c->uslot) {
            if (!c->read_paused) event_add(c->rev, NULL);
            if (c->in_fed) event_active(c->rev, EV_READ, 0);
            continue;
        }
        if (!c->read_paused) uring_recv_arm(c->uslot, c->fd);
        if (c->in_fed) attn_add(c);
    }
    nstarts = 0;
}

static void conn_uring_attend(void)
{
    struct conn *c;
    size_t n = 0;
    start_new();
    for (c = at_head; c; c = c->anext)
        n++;
    /* One pass: what is added meanwhile waits for the next. */
    while (n-- > 0 && (c = at_head) != NULL) {
        attn_remove(c);
        /* Still running, or paused: delivered when that ends. */
        if (!can_deliver(c)) continue;
        if (c->uiter == iteration) {
            attn_add(c); /* had its read this iteration */
            continue;
        }
        if (c->uheldlen || c->uheld_end || c->in_fed) {
            held_deliver(c);
            kernel_after_events();
        }
    }
}

const struct uring_handlers conn_uring_handlers = {conn_uring_recv, conn_uring_recv_end,
                                                   conn_uring_sent, conn_uring_attend};

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
    client_mem_update(cl); /* a push grew its output (maxmemory-clients) */
    /* Inside its own command: written at its end; else with the others
     * before the loop sleeps (a PUBLISH to many: one write each). */
    if (c->depth == 0) conn_flush_later(c);
}

/* Raw bytes with nothing waiting before them, outside any command (a
 * replica's stream taken from the backlog once a loop iteration): written
 * to the socket at once, as the flush would write them, with no copy into
 * c->out of what the socket takes. Plain TCP without a ring slot only. */
static bool raw_direct(struct conn *c)
{
    return c->depth == 0 && c->out.sent == c->out.len && c->fd >= 0 && !c->tr && !c->uslot &&
           !c->usending && !c->ops->prepare && !c->ops->pre_write && kernel_current() == NULL;
}

void conn_ad_raw(struct client *cl, const void *p, size_t n)
{
    struct conn *c = cl->conn;
    if (c->state == CONN_CLOSING || c->dead) return;
    if (n > 0 && raw_direct(c)) {
        ssize_t w;
        aof_flush_before_reply(); /* as flush_begin: the AOF first */
        g_server.stat_writes++;
        w = write(c->fd, p, n);
        if (w > 0) {
            c->written += (unsigned long long)w;
            g_server.net_output_bytes += (long long)w;
            p = (const char *)p + w;
            n -= (size_t)w;
        }
        if (n == 0) return;
        /* the rest (or all of it: EAGAIN, an error) as usual */
    }
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

void conn_ad_resize(struct client *cl, size_t size)
{
    struct conn *c = cl->conn;
    /* Not while its command runs (a busy script pumping the loop). */
    if (c->depth > 0 || c->dead) return;
    resize_out(c, size);
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

/* ---- blocking sessions (the Lua debugger) ---- */

bool conn_block_write(struct conn *c, int timeout_ms)
{
    while (c->fd >= 0 && c->out.sent < c->out.len) {
        ssize_t w = conn_sock_write(c, c->out.buf + c->out.sent, c->out.len - c->out.sent);
        if (w > 0) {
            c->out.sent += (size_t)w;
            c->written += (unsigned long long)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
            if (c->tr && c->tr->write_needs_read && c->tr->write_needs_read(c)) pfd.events = POLLIN;
            if (poll(&pfd, 1, timeout_ms) <= 0) return false;
            continue;
        }
        return false;
    }
    c->out.len = c->out.sent = 0;
    return c->fd >= 0;
}

bool conn_block_write_since(struct conn *c, size_t mark, int timeout_ms)
{
    size_t off = mark, end = c->out.len;
    bool ok = c->fd >= 0;
    while (ok && off < end) {
        ssize_t w = conn_sock_write(c, c->out.buf + off, end - off);
        if (w > 0) {
            off += (size_t)w;
            c->written += (unsigned long long)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
            if (c->tr && c->tr->write_needs_read && c->tr->write_needs_read(c)) pfd.events = POLLIN;
            ok = poll(&pfd, 1, timeout_ms) > 0;
            continue;
        }
        ok = false;
    }
    c->out.len = mark;
    if (c->out.sent >= c->out.len) c->out.len = c->out.sent = 0;
    return ok;
}

ssize_t conn_block_read(struct conn *c, void *buf, size_t n)
{
    for (;;) {
        ssize_t r;
        if (c->fd < 0) return 0;
        r = conn_sock_read(c, buf, n);
        if (r > 0) return r;
        if (r == 0) return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            if (c->tr && c->tr->read_needs_write && c->tr->read_needs_write(c))
                pfd.events = POLLOUT;
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return 0;
            continue;
        }
        return 0;
    }
}

static void isolate_fd(int fd, int null, int keep)
{
    struct stat st;
    if (fd == null || fd == keep) return;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) return;
    dup2(null, fd);
}

void conn_child_isolate(struct conn *keep, int send_timeout_ms)
{
    int null = open("/dev/null", O_RDWR), fd, fl = fcntl(keep->fd, F_GETFL);
    struct timeval tv = {send_timeout_ms / 1000, (send_timeout_ms % 1000) * 1000};
    DIR *d;
    /* keep's socket blocks (Redis's connBlock + connSendTimeout): the
     * session's writes wait in the kernel, never on the event loop whose
     * epoll instance the child shares with its parent. */
    if (fl >= 0) fcntl(keep->fd, F_SETFL, fl & ~O_NONBLOCK);
    setsockopt(keep->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (null < 0) return;
    /* Every socket but keep's now points at /dev/null: nothing the child
     * does reaches the parent's peers, listeners stop being held, and a
     * descriptor number is never reused for something else. */
    d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        int dfd = dirfd(d);
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            fd = atoi(e->d_name);
            if (fd != dfd) isolate_fd(fd, null, keep->fd);
        }
        closedir(d);
    } else {
        long max = sysconf(_SC_OPEN_MAX);
        for (fd = 0; fd < (max > 0 && max < 1048576 ? max : 65536); fd++)
            isolate_fd(fd, null, keep->fd);
    }
    close(null);
}
