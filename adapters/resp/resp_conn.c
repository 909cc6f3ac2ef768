/* resp_conn.c — RESP connections on the connection base (adapters/conn.h):
 * accept (admission, Redis's refusal texts), the RESP command loop
 * (resp_serve: parse with resp_parse.c, submit to the kernel one by one;
 * also the WebSocket RESP mode's), the cross-protocol scripting guard, the
 * blocking session seam the Lua debugger talks through (client_session_ops),
 * and the listeners (the RESP port, and tls-port over adapters/tls). Replies are encoded by
 * resp_encode.c straight into the connection's output buffer. The connection is in one of the
 * base's states: OPEN     reading and running commands; PARKED   its client waits in the kernel:
 * input is buffered, not run; CLOSING  replies are being written, then the socket closes. */
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
#include "propagate.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"
#include "net.h"
#include "conn.h"
#include "resp_encode.h"
#include "resp_ldb.h"
#include "resp_parse.h"
#include "tls.h"

struct resp_conn {
    struct conn conn;
    struct resp_parser parser;
    /* A Lua debugging session's input (read outside the event loop). */
    char *lbuf;
    size_t llen, lcap;
};

#define MAX_LISTENERS 16

/* ---- the command loop ---- */

bool resp_serve(struct conn *c, struct resp_parser *p, char *buf, size_t *len,
                resp_filter_fn filter)
{
    size_t off = 0, n = *len;
    bool ok = true;
    while (c->state == CONN_OPEN && !c->dead && off < n && !conn_out_full(c)) {
        int argc;
        struct argv_ref *argv;
        size_t used = 0;
        enum kernel_status st;
        enum resp_result res;
        p->authenticated = c->client->authenticated;
        res = resp_parse(p, buf + off, n - off, &argc, &argv, &used);
        if (res == RESP_MORE) break;
        if (res == RESP_ERROR) {
            reply_errorf(&c->client->reply, "ERR %s", p->err);
            off = n;
            ok = false;
            break;
        }
        if (res == RESP_EMPTY) {
            off += used;
            continue;
        }
        switch (filter(c, argc, argv)) {
        case RESP_SUBMIT:
            break;
        case RESP_SKIP:
            off += used;
            continue;
        case RESP_DROP:
            off = n;
            goto out;
        }
        /* The request's own bytes, when they are the stream's format and
         * something consumes the stream (client.h's wire: propagation
         * copies them) */
        if (propagating() && resp_parse_canonical(buf + off, argc, argv)) {
            c->client->wire.argv = argv;
            c->client->wire.argc = argc;
            c->client->wire.p = buf + off;
            c->client->wire.n = used;
            st = kernel_submit(c->client, argc, argv);
            c->client->wire.argv = NULL;
        } else {
            st = kernel_submit(c->client, argc, argv);
        }
        off += used;
        if (st == KERNEL_CLOSE) {
            conn_close_after_reply(c);
            break;
        }
        if (st == KERNEL_PARKED) {
            c->state = CONN_PARKED;
            break;
        }
    }
out:
    if (off) {
        if (off < n) memmove(buf, buf + off, n - off);
        *len = n - off;
    }
    return ok;
}

/* A browser or HTTP client talking to the RESP port (cross-protocol
 * scripting) sends POST or Host: — dropped without a reply. */
static enum resp_verdict http_probe_filter(struct conn *c, int argc, const struct argv_ref *argv)
{
    (void)argc;
    if ((argv[0].n != 4 || !util_eqci(argv[0].p, 4, "post")) &&
        (argv[0].n != 5 || !util_eqci(argv[0].p, 5, "host:")))
        return RESP_SUBMIT;
    log_warning("Possible SECURITY ATTACK detected. It looks like somebody is sending "
                "POST or Host: commands to Redis. This is likely due to an attacker "
                "attempting to use Cross Protocol Scripting to compromise your Redis "
                "instance. Connection aborted.");
    conn_abort(c);
    return RESP_DROP;
}

/* ---- the base's hooks ---- */

static void process(struct conn *c)
{
    struct resp_conn *rc = (struct resp_conn *)c;
    if (!resp_serve(c, &rc->parser, c->in, &c->inlen, http_probe_filter))
        c->state = CONN_CLOSING; /* after the protocol error's reply */
}

static size_t in_hint(struct conn *c)
{
    return resp_parse_hint(&((struct resp_conn *)c)->parser);
}

static void release(struct conn *c)
{
    resp_parser_free(&((struct resp_conn *)c)->parser);
    free(((struct resp_conn *)c)->lbuf);
}

/* ---- blocking sessions (the Lua debugger, struct client_session_ops) ---- */

#define SESSION_MAX_INPUT (1 << 20) /* Redis: past 1MB of unparsed input the session fails */
#define SESSION_WRITE_TIMEOUT_MS 5000

/* The libevent path (plain TCP or TLS): the ring's receives are not ours
 * to read outside the loop. */
static bool session_usable(struct client *cl)
{
    struct conn *c = cl->conn;
    return c && !c->uslot && c->fd >= 0;
}

/* As Redis's debugger: a request is read from the socket alone (input
 * already buffered for the command loop is not the debugger's), and once
 * one is parsed, whatever followed it in the buffer is dropped. */
static int session_read(struct client *cl, int *argc, char ***argv, size_t **lens)
{
    struct resp_conn *rc = cl->conn;
    for (;;) {
        enum resp_ldb_result r = resp_ldb_parse(rc->lbuf, rc->llen, argc, argv, lens);
        char tmp[1024];
        ssize_t n;
        if (r != RESP_LDB_MORE) {
            rc->llen = 0;
            return r == RESP_LDB_OK ? 1 : -1;
        }
        n = conn_block_read(&rc->conn, tmp, sizeof(tmp));
        if (n <= 0) return 0;
        if (rc->llen + (size_t)n > rc->lcap) {
            rc->lcap = (rc->llen + (size_t)n) * 2;
            rc->lbuf = xrealloc(rc->lbuf, rc->lcap);
        }
        memcpy(rc->lbuf + rc->llen, tmp, (size_t)n);
        rc->llen += (size_t)n;
        if (rc->llen > SESSION_MAX_INPUT) {
            rc->llen = 0;
            return -2;
        }
    }
}

static bool session_write(struct client *cl)
{
    return conn_block_write(cl->conn, SESSION_WRITE_TIMEOUT_MS);
}

static size_t session_mark(struct client *cl)
{
    return ((struct conn *)cl->conn)->out.len;
}

static bool session_write_since(struct client *cl, size_t mark)
{
    return conn_block_write_since(cl->conn, mark, SESSION_WRITE_TIMEOUT_MS);
}

static void session_fork_child(struct client *cl)
{
    conn_child_isolate(cl->conn, SESSION_WRITE_TIMEOUT_MS);
}

static void session_drop(struct client *cl)
{
    struct conn *c = cl->conn;
    if (c->tr && c->tr->forget) c->tr->forget(c);
    conn_abort(c);
}

static const struct client_session_ops resp_session = {
    .usable = session_usable,
    .read = session_read,
    .free_request = resp_ldb_free,
    .write = session_write,
    .mark = session_mark,
    .write_since = session_write_since,
    .fork_child = session_fork_child,
    .drop = session_drop,
};

static const struct conn_ops resp_ops = {
    .ad = CONN_ADAPTER_SESSION("resp", false, &resp_session),
    .limit_batch = true,
    .process = process,
    .in_hint = in_hint,
    .release = release,
};

/* ---- accept ---- */

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

/* Admission (net_admit), then a RESP connection; over TLS (tls) its
 * transport first. As Redis: maxclients refuses before the handshake (a
 * TLS peer just sees the close), protected mode after it (-DENIED over
 * TLS). */
static void accept_resp(int fd, struct sockaddr *sa, bool tls)
{
    static const char full[] = "-ERR max number of clients reached\r\n";
    struct resp_conn *rc;
    enum net_verdict v;

    v = net_admit(sa);
    if (v == NET_REFUSE_PROTECTED && tls) {
        /* As Redis: the text goes out over TLS once the handshake is
         * done, then the connection closes; no command runs. */
        rc = (struct resp_conn *)conn_new(sizeof(*rc), &resp_ops, fd, sa, &resp_reply_ops);
        resp_parser_init(&rc->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
        if (!tls_attach(&rc->conn)) {
            conn_free(&rc->conn);
            return;
        }
        obuf_append(&rc->conn.out, denied_msg, sizeof(denied_msg) - 1);
        rc->conn.state = CONN_CLOSING;
        conn_flush(&rc->conn);
        return;
    }
    if (v == NET_REFUSE_PROTECTED) {
        conn_refuse_fd(fd, denied_msg, sizeof(denied_msg) - 1);
        return;
    }
    if (v != NET_ADMIT) {
        conn_refuse_fd(fd, full, tls ? 0 : sizeof(full) - 1);
        return;
    }
    rc = (struct resp_conn *)conn_new(sizeof(*rc), &resp_ops, fd, sa, &resp_reply_ops);
    resp_parser_init(&rc->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
    if (tls && !tls_attach(&rc->conn)) conn_free(&rc->conn);
}

static void on_accept(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen, void *arg)
{
    (void)l, (void)slen, (void)arg;
    accept_resp(fd, sa, false);
}

static void on_accept_tls(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen,
                          void *arg)
{
    (void)l, (void)slen, (void)arg;
    accept_resp(fd, sa, true);
}

/* A set of listeners and what it is bound to (set once listening): CONFIG
 * SET port / tls-port / bind rebind them at runtime, as Redis's
 * changeListenPort/changeBindAddr. */
struct lset {
    struct evconnlistener *ls[MAX_LISTENERS];
    int n;
    char *bind;
    int port;
    net_accept_fn cb;
    const char *what;
};
static struct lset plain = {.cb = on_accept, .what = "RESP"};
static struct lset secure = {.cb = on_accept_tls, .what = "TLS"};
static struct event_base *listen_base;

static bool lset_listen(struct lset *s, const char *bind, int port)
{
    if (port != 0 &&
        !net_listen(listen_base, bind, port, s->cb, s->ls, &s->n, MAX_LISTENERS, s->what)) {
        log_warning("Could not create server TCP listening socket %s:%d", bind, port);
        return false;
    }
    s->port = port;
    free(s->bind);
    s->bind = xstrdup(bind ? bind : "");
    return true;
}

static bool resp_listen(struct event_base *base)
{
    listen_base = base;
    if (!lset_listen(&plain, g_config.bind, g_config.port)) return false;
    g_server.tcp_port_bound = g_config.port;
    if (tls_port() && !tls_ready()) {
        log_warning("Failed to configure TLS. Check logs for more info.");
        return false;
    }
    if (!lset_listen(&secure, g_config.bind, tls_port())) return false;
    if (tls_port()) log_notice("RESP over TLS on %s port %d", g_config.bind, tls_port());
    return true;
}

/* Listen on bind:port instead (nothing for port 0 or an empty bind): the
 * old listeners are closed first and put back if the new ones fail. NULL
 * before the server listens (the start binds) or when nothing changes. */
static const char *rebind(struct lset *s, const char *bind, int port, const char *err)
{
    struct evconnlistener *fresh[MAX_LISTENERS];
    int nfresh = 0;
    if (!listen_base) return NULL;
    if (port == s->port && strcmp(bind, s->bind) == 0) return NULL;
    net_close_listeners(s->ls, s->n);
    s->n = 0;
    if (port != 0 && *bind &&
        !net_listen(listen_base, bind, port, s->cb, fresh, &nfresh, MAX_LISTENERS, s->what)) {
        net_close_listeners(fresh, nfresh);
        if (s->port != 0 && *s->bind &&
            !net_listen(listen_base, s->bind, s->port, s->cb, s->ls, &s->n, MAX_LISTENERS, s->what))
            log_warning("Failed to restore the old listening sockets %s:%d", s->bind, s->port);
        return err;
    }
    memcpy(s->ls, fresh, sizeof(fresh[0]) * (size_t)nfresh);
    s->n = nfresh;
    s->port = port;
    free(s->bind);
    s->bind = xstrdup(bind);
    return NULL;
}

static const char *check_port(const char *v)
{
    long long port;
    const char *err;
    if (!util_str2ll(v, strlen(v), &port)) return NULL; /* the table refused it already */
    err = rebind(&plain, g_config.bind ? g_config.bind : "", (int)port,
                 "Unable to listen on this port. Check server logs.");
    if (!err && listen_base) g_server.tcp_port_bound = (int)port;
    return err;
}

static const char *check_tls_port(const char *v)
{
    long long port;
    if (!util_str2ll(v, strlen(v), &port)) return NULL;
    if (!listen_base) return NULL;
    if (port != 0 && !tls_ready()) return "Unable to update TLS configuration. Check server logs.";
    return rebind(&secure, g_config.bind ? g_config.bind : "", (int)port,
                  "Unable to listen on this port. Check server logs.");
}

static const char *check_bind(const char *v)
{
    const char *err = rebind(&plain, v, g_config.port, "Failed to bind to specified addresses.");
    if (!err) err = rebind(&secure, v, tls_port(), "Failed to bind to specified addresses.");
    return err;
}

/* Checks for the config table's port, tls-port and bind (wired by
 * server/main.c). */
static void resp_register_config(void)
{
    config_register_check("port", check_port);
    config_register_check("tls-port", check_tls_port);
    config_register_check("bind", check_bind);
}

static void lset_close(struct lset *s)
{
    net_close_listeners(s->ls, s->n);
    s->n = 0;
    free(s->bind);
    s->bind = NULL;
}

static void resp_shutdown(void)
{
    lset_close(&plain);
    lset_close(&secure);
    listen_base = NULL;
    conn_shutdown(&resp_ops); /* what is pending goes out, as far as the socket takes it */
}

const struct adapter_def resp_adapter_def = {"resp", resp_register_config, resp_listen,
                                             resp_shutdown};
