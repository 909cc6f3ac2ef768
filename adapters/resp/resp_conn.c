/* resp_conn.c — RESP connections: accept, read into a query buffer, parse
 * commands (resp_parse.c), submit them to the kernel one by one, write the
 * replies the encoder (resp_encode.c) buffered, close. A connection is in
 * one named state at a time:
 *   OPEN     reading and running commands;
 *   PARKED   its client waits in the kernel: input is buffered, not run;
 *   CLOSING  replies are being written, then the socket closes;
 *   CLOSED   freed (never observed from outside). */
#include "resp_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_limits.h"
#include "config.h"
#include "aof.h"
#include "client.h"
#include "kernel.h"
#include "log.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"
#include "net.h"
#include "resp_encode.h"
#include "resp_parse.h"

enum conn_state { CONN_OPEN, CONN_PARKED, CONN_CLOSING };

struct resp_conn {
    int fd;
    enum conn_state state;
    struct event *rev, *wev;
    struct client *client;
    char *qbuf;
    size_t qlen, qcap;
    struct obuf out;
    struct resp_parser parser;
    int depth;       /* >0 while inside process(): closing is deferred */
    bool dead;       /* close requested while depth > 0 */
    /* client-output-buffer-limit: when the soft limit was first exceeded (ms, 0: not) */
    long long obuf_soft_since;
    char addr[64], laddr[64];
};

#define QBUF_READ 16384
#define MAX_LISTENERS 16

static struct evconnlistener *listeners[MAX_LISTENERS];
static int nlisteners;

static void conn_free(struct resp_conn *c);
static void process(struct resp_conn *c);

/* ---- kernel hooks ---- */

static void ad_resume(struct client *cl);
static void ad_close(struct client *cl, bool after_reply);
static void ad_describe(struct client *cl, char *addr, size_t alen, char *laddr, size_t llen,
                        int *fd)
{
    struct resp_conn *c = cl->conn;
    snprintf(addr, alen, "%s", c->addr);
    snprintf(laddr, llen, "%s", c->laddr);
    *fd = c->fd;
}
static void ad_buffers(struct client *cl, size_t *qbuf, size_t *qfree, size_t *obl, size_t *oll,
                       size_t *omem)
{
    struct resp_conn *c = cl->conn;
    *qbuf = c->qlen;
    *qfree = c->qcap - c->qlen;
    *obl = c->out.len - c->out.sent;
    *oll = 0;
    *omem = c->out.cap;
}

static void ad_flush(struct client *cl);
static const struct client_adapter resp_adapter = {"resp",      ad_resume,   ad_close, ad_flush,
                                                   ad_describe, ad_buffers, false};

/* ---- output ---- */

/* Write what is buffered. Returns false if the connection was freed. */
static bool flush_out(struct resp_conn *c)
{
    aof_flush_before_reply(); /* the AOF is written (and fsynced) before replies go out */
    /* As Redis checks at every append: what one batch of commands produced
     * counts before the kernel's socket buffers swallow part of it. Like
     * Redis, the first 16 KB (its static reply buffer) do not count. */
    if (c->client && c->out.len - c->out.sent > 16384 &&
        obuf_limit_reached(c->client, c->out.len - c->out.sent - 16384, &c->obuf_soft_since)) {
        conn_free(c);
        return false;
    }
    while (c->out.sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.buf + c->out.sent, c->out.len - c->out.sent);
        if (n > 0) {
            c->out.sent += (size_t)n;
            g_server.net_output_bytes += n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The peer is not reading fast enough: apply
             * client-output-buffer-limit to what is still pending, and
             * reclaim the written prefix once it outweighs the rest. */
            size_t pending = c->out.len - c->out.sent;
            if (c->client && obuf_limit_reached(c->client, pending, &c->obuf_soft_since)) {
                conn_free(c);
                return false;
            }
            if (c->out.sent >= pending) {
                memmove(c->out.buf, c->out.buf + c->out.sent, pending);
                c->out.len = pending;
                c->out.sent = 0;
            }
            event_add(c->wev, NULL);
            return true;
        }
        conn_free(c);
        return false;
    }
    c->out.len = c->out.sent = 0;
    c->obuf_soft_since = 0;
    if (c->out.cap > 1024 * 1024) obuf_free(&c->out);
    if (c->state == CONN_CLOSING) {
        conn_free(c);
        return false;
    }
    return true;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct resp_conn *c = arg;
    (void)fd, (void)what;
    if (!flush_out(c)) goto done;
    if (c->out.sent == c->out.len) event_del(c->wev);
done:
    kernel_after_events();
}

/* ---- input ---- */

static void protocol_error(struct resp_conn *c, const char *msg)
{
    struct reply *r = &c->client->reply;
    reply_errorf(r, "ERR %s", msg);
    c->state = CONN_CLOSING;
}

static bool is_http_probe(const struct argv_ref *a)
{
    return util_eqci(a->p, a->n, "post") || util_eqci(a->p, a->n, "host:");
}

static void process(struct resp_conn *c)
{
    size_t off = 0;
    c->depth++;
    while (c->state == CONN_OPEN && !c->dead && off < c->qlen) {
        int argc;
        struct argv_ref *argv;
        size_t used = 0;
        enum kernel_status st;
        enum resp_result res;
        c->parser.authenticated = c->client->authenticated;
        res = resp_parse(&c->parser, c->qbuf + off, c->qlen - off, &argc, &argv, &used);
        if (res == RESP_MORE) break;
        if (res == RESP_ERROR) {
            protocol_error(c, c->parser.err);
            off = c->qlen;
            break;
        }
        if (res == RESP_EMPTY) {
            off += used;
            continue;
        }
        if (is_http_probe(&argv[0])) {
            /* A browser or HTTP client is talking to the RESP port
             * (cross-protocol scripting): drop it without a reply. */
            log_warning("Possible SECURITY ATTACK detected. It looks like somebody is sending "
                        "POST or Host: commands to Redis. This is likely due to an attacker "
                        "attempting to use Cross Protocol Scripting to compromise your Redis "
                        "instance. Connection aborted.");
            c->out.len = c->out.sent = 0;
            c->dead = true;
            off = c->qlen;
            break;
        }
        st = kernel_submit(c->client, argc, argv);
        off += used;
        if (st == KERNEL_CLOSE) {
            c->state = CONN_CLOSING;
            break;
        }
        if (st == KERNEL_PARKED) {
            c->state = CONN_PARKED;
            break;
        }
    }
    if (off) {
        if (off < c->qlen) memmove(c->qbuf, c->qbuf + off, c->qlen - off);
        c->qlen -= off;
    }
    c->depth--;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct resp_conn *c = arg;
    size_t want = QBUF_READ, hint;
    ssize_t n;
    (void)what;

    hint = resp_parse_hint(&c->parser);
    if (hint > c->qlen && hint - c->qlen > want) want = hint - c->qlen;
    if (c->qcap - c->qlen < want) {
        size_t cap = c->qcap ? c->qcap : QBUF_READ;
        while (cap - c->qlen < want) cap *= 2;
        c->qbuf = xrealloc(c->qbuf, cap);
        c->qcap = cap;
    }
    n = read(fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n == 0) {
        conn_free(c);
        goto done;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) goto done;
        conn_free(c);
        goto done;
    }
    c->qlen += (size_t)n;
    g_server.net_input_bytes += n;
    if ((long long)c->qlen > g_config.client_query_buffer_limit) {
        log_warning("Closing client that reached max query buffer length (qbuf=%zu)", c->qlen);
        conn_free(c);
        goto done;
    }
    if (c->state == CONN_OPEN) process(c);
    if (c->dead) {
        conn_free(c);
        goto done;
    }
    /* Shrink an idle large query buffer. */
    if (c->qlen == 0 && c->qcap > 4 * QBUF_READ) {
        free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
    flush_out(c);
done:
    kernel_after_events();
}

/* ---- kernel hooks ---- */

static void ad_resume(struct client *cl)
{
    struct resp_conn *c = cl->conn;
    if (c->state == CONN_PARKED && cl->state == CLIENT_ACTIVE) c->state = CONN_OPEN;
    if (c->state == CONN_OPEN) process(c);
    if (c->dead) {
        conn_free(c);
        return;
    }
    flush_out(c);
}

static void ad_flush(struct client *cl)
{
    struct resp_conn *c = cl->conn;
    if (c->depth == 0) flush_out(c); /* inside its own command: written at its end */
}

static void ad_close(struct client *cl, bool after_reply)
{
    struct resp_conn *c = cl->conn;
    if (after_reply) {
        c->state = CONN_CLOSING;
        if (c->depth == 0) flush_out(c);
        return;
    }
    if (c->depth > 0) {
        c->dead = true;
        return;
    }
    conn_free(c);
}

/* ---- life ---- */

static void conn_free(struct resp_conn *c)
{
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    close(c->fd);
    if (c->client) client_free(c->client);
    free(c->qbuf);
    obuf_free(&c->out);
    resp_parser_free(&c->parser);
    free(c);
}

/* Redis 7.0's answer to a client protected mode refuses (networking.c). */
static const char denied_msg[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

/* A connection net_admit() refused: its error, best effort, and close. */
static void refuse(int fd, enum net_verdict v)
{
    static const char full[] = "-ERR max number of clients reached\r\n";
    const char *msg = v == NET_REFUSE_PROTECTED ? denied_msg : full;
    size_t len = v == NET_REFUSE_PROTECTED ? sizeof(denied_msg) - 1 : sizeof(full) - 1;
    ssize_t w = write(fd, msg, len);
    (void)w;
    close(fd);
}

static void on_accept(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen, void *arg)
{
    struct resp_conn *c;
    enum net_verdict v;
    int one = 1;
    (void)l, (void)slen, (void)arg;

    v = net_admit(sa);
    if (v != NET_ADMIT) {
        refuse(fd, v);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (g_config.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->state = CONN_OPEN;
    net_describe_fd(fd, sa, c->addr, sizeof(c->addr), c->laddr, sizeof(c->laddr));
    resp_parser_init(&c->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
    c->client = client_new(&resp_adapter, c, &resp_reply_ops);
    c->client->reply.ctx = &c->out;
    c->rev = event_new(g_server.base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(g_server.base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    event_add(c->rev, NULL);
}

bool resp_listen(struct event_base *base, const char *bind, int port)
{
    return net_listen(base, bind, port, on_accept, listeners, &nlisteners, MAX_LISTENERS, "RESP");
}

void resp_shutdown(void)
{
    struct client *cl, *next;
    net_close_listeners(listeners, nlisteners);
    nlisteners = 0;
    for (cl = g_clients.head; cl; cl = next) {
        next = cl->next;
        /* What is pending goes out, as far as the socket takes it. */
        if (cl->adapter == &resp_adapter && flush_out(cl->conn)) conn_free(cl->conn);
    }
}
