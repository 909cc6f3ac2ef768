/* resp_conn.c — RESP connections on the connection base (adapters/conn.h):
 * accept (admission, Redis's refusal texts), the RESP command loop
 * (resp_serve: parse with resp_parse.c, submit to the kernel one by one;
 * also the WebSocket RESP mode's), the cross-protocol scripting guard, and
 * the listener. Replies are encoded by resp_encode.c straight into the
 * connection's output buffer. The connection is in one of the base's
 * states:
 *   OPEN     reading and running commands;
 *   PARKED   its client waits in the kernel: input is buffered, not run;
 *   CLOSING  replies are being written, then the socket closes. */
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
#include "conn.h"
#include "resp_encode.h"
#include "resp_parse.h"

struct resp_conn {
    struct conn conn;
    struct resp_parser parser;
};

#define MAX_LISTENERS 16

static struct evconnlistener *listeners[MAX_LISTENERS];
static int nlisteners;

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
        st = kernel_submit(c->client, argc, argv);
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
    if (!util_eqci(argv[0].p, argv[0].n, "post") && !util_eqci(argv[0].p, argv[0].n, "host:"))
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
}

static const struct conn_ops resp_ops = {
    .ad = CONN_ADAPTER("resp", false),
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

static void on_accept(struct evconnlistener *l, int fd, struct sockaddr *sa, int slen, void *arg)
{
    static const char full[] = "-ERR max number of clients reached\r\n";
    struct resp_conn *rc;
    enum net_verdict v;
    (void)l, (void)slen, (void)arg;

    v = net_admit(sa);
    if (v == NET_REFUSE_PROTECTED) {
        conn_refuse_fd(fd, denied_msg, sizeof(denied_msg) - 1);
        return;
    }
    if (v != NET_ADMIT) {
        conn_refuse_fd(fd, full, sizeof(full) - 1);
        return;
    }
    rc = (struct resp_conn *)conn_new(sizeof(*rc), &resp_ops, fd, sa, &resp_reply_ops);
    resp_parser_init(&rc->parser, g_config.proto_max_bulk_len, g_config.max_multibulk_len);
}

/* What the listeners are bound to (set once listening): CONFIG SET port /
 * bind rebind them at runtime, as Redis's changeListenPort/changeBindAddr. */
static struct event_base *listen_base;
static char *bound_bind;
static int bound_port;

static bool resp_listen(struct event_base *base)
{
    if (!net_listen(base, g_config.bind, g_config.port, on_accept, listeners, &nlisteners,
                    MAX_LISTENERS, "RESP")) {
        log_warning("Could not create server TCP listening socket %s:%d", g_config.bind,
                    g_config.port);
        return false;
    }
    g_server.tcp_port_bound = g_config.port;
    listen_base = base;
    bound_port = g_config.port;
    free(bound_bind);
    bound_bind = xstrdup(g_config.bind ? g_config.bind : "");
    return true;
}

/* Listen on bind:port instead (nothing for port 0 or an empty bind): the
 * old listeners are closed first and put back if the new ones fail. NULL
 * before the server listens (the start binds) or when nothing changes. */
static const char *rebind(const char *bind, int port, const char *err)
{
    struct evconnlistener *fresh[MAX_LISTENERS];
    int nfresh = 0;
    if (!listen_base) return NULL;
    if (port == bound_port && strcmp(bind, bound_bind) == 0) return NULL;
    net_close_listeners(listeners, nlisteners);
    nlisteners = 0;
    if (port != 0 && *bind &&
        !net_listen(listen_base, bind, port, on_accept, fresh, &nfresh, MAX_LISTENERS, "RESP")) {
        net_close_listeners(fresh, nfresh);
        if (bound_port != 0 && *bound_bind &&
            !net_listen(listen_base, bound_bind, bound_port, on_accept, listeners, &nlisteners,
                        MAX_LISTENERS, "RESP"))
            log_warning("Failed to restore the old listening sockets %s:%d", bound_bind,
                        bound_port);
        return err;
    }
    memcpy(listeners, fresh, sizeof(fresh[0]) * (size_t)nfresh);
    nlisteners = nfresh;
    bound_port = port;
    free(bound_bind);
    bound_bind = xstrdup(bind);
    g_server.tcp_port_bound = port;
    return NULL;
}

static const char *check_port(const char *v)
{
    long long port;
    if (!util_str2ll(v, strlen(v), &port)) return NULL; /* the table refused it already */
    return rebind(g_config.bind ? g_config.bind : "", (int)port,
                  "Unable to listen on this port. Check server logs.");
}

static const char *check_bind(const char *v)
{
    return rebind(v, g_config.port, "Failed to bind to specified addresses.");
}

/* Checks for the config table's port and bind (wired by server/main.c). */
static void resp_register_config(void)
{
    config_register_check("port", check_port);
    config_register_check("bind", check_bind);
}

static void resp_shutdown(void)
{
    net_close_listeners(listeners, nlisteners);
    nlisteners = 0;
    listen_base = NULL;
    free(bound_bind);
    bound_bind = NULL;
    conn_shutdown(&resp_ops); /* what is pending goes out, as far as the socket takes it */
}

const struct adapter_def resp_adapter_def = {"resp", resp_register_config, resp_listen,
                                             resp_shutdown};
