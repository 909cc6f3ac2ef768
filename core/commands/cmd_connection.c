/* cmd_connection.c — the connection group: PING ECHO QUIT RESET SELECT
 * HELLO AUTH and CLIENT's subcommands (ID SETNAME GETNAME LIST INFO KILL
 * NO-EVICT PAUSE UNPAUSE SETINFO HELP). Authentication is against the
 * ACL users (core/acl). */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "client_mem.h"
#include "config.h"
#include "commands_gen.h"
#include "client_info.h"
#include "kernel.h"
#include "pubsub.h"
#include "store.h"
#include "tracking.h"
#include "util.h"

/* ---- helpers ---- */

static bool default_user_nopass(void)
{
    return acl_default_user()->nopass;
}

/* As Redis's ACLAuthenticateUser: the user exists, is on, and the password
 * matches one of its hashes (core/acl, constant time). A failure is logged
 * in the ACL LOG. */
static bool authenticate(struct client *c, const char *user, size_t ulen, const char *pass,
                         size_t plen)
{
    return acl_authenticate(c, user, ulen, pass, plen);
}

/* Client names and library attributes: printable ASCII without spaces
 * ('!' .. '~'), as Redis's validateClientName. */
static bool valid_client_attr(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] < '!' || p[i] > '~') return false;
    return true;
}

/* Replace a client string attribute by p[0..n) (none when n is 0). */
static void set_attr(char **dst, const char *p, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (n == 0) return;
    *dst = xmalloc(n + 1);
    memcpy(*dst, p, n);
    (*dst)[n] = 0;
}

static const char E_CLIENT_NAME[] =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/* Set the client's name (empty: remove it). Replies the error and returns
 * false when the name has forbidden characters. */
static bool set_client_name(struct exec *x, const char *p, size_t n)
{
    if (!valid_client_attr(p, n)) {
        reply_error(x->r, E_CLIENT_NAME);
        return false;
    }
    set_attr(&x->c->name, p, n);
    return true;
}

static void set_resp(struct client *c, int resp)
{
    c->resp = resp;
    c->reply.resp = resp;
}

/* A client's CLIENT LIST / INFO line, appended with its '\n' to buf. */
struct text {
    char *p;
    size_t len, cap;
};

static void text_client_line(struct text *t, struct client *c)
{
    for (;;) {
        size_t room = t->cap - t->len, n;
        if (room >= 256) {
            n = client_info_line(c, t->p + t->len, room);
            if (n + 1 < room) {
                t->len += n;
                t->p[t->len++] = '\n';
                return;
            }
        }
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->p = xrealloc(t->p, t->cap);
    }
}

/* ---- PING ECHO QUIT SELECT ---- */

/* PING [message] */
void cmd_ping(struct exec *x)
{
    /* RESP2 subscribed mode: a ["pong", message] array, as Redis. */
    if (x->c->nsubs > 0 && x->c->resp == 2) {
        reply_array(x->r, 2);
        reply_bulk(x->r, "pong", 4);
        if (HAS(x, A_PING_message))
            reply_bulk(x->r, ARGP(x, A_PING_message), ARGN(x, A_PING_message));
        else
            reply_bulk(x->r, "", 0);
        return;
    }
    if (HAS(x, A_PING_message))
        reply_bulk(x->r, ARGP(x, A_PING_message), ARGN(x, A_PING_message));
    else
        reply_status(x->r, "PONG");
}

/* ECHO message */
void cmd_echo(struct exec *x)
{
    reply_bulk(x->r, ARGP(x, A_ECHO_message), ARGN(x, A_ECHO_message));
}

/* QUIT */
void cmd_quit(struct exec *x)
{
    reply_ok(x->r);
    x->c->flags |= CF_CLOSE_AFTER_REPLY;
}

/* SELECT index */
void cmd_select(struct exec *x)
{
    long long id = ARGI(x, A_SELECT_index);
    if (id < 0 || id >= g_store.ndb || !client_select(x->c, (int)id)) {
        reply_err(x->r, E_DB_INDEX);
        return;
    }
    reply_ok(x->r);
}

/* ---- HELLO AUTH RESET ---- */

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
void cmd_hello(struct exec *x)
{
    const struct argval *auth = ARG(x, A_HELLO_arguments_username_password);
    const struct argval *name = ARG(x, A_HELLO_arguments_clientname);
    long long ver = 0;
    int ia = 0, in = 0;

    /* protover is 2 or 3 (keel_min/keel_max: NOPROTO), checked first. */
    if (HAS(x, A_HELLO_arguments_protover)) ver = ARGI(x, A_HELLO_arguments_protover);
    /* Every AUTH and SETNAME (keel_keep_all) takes effect in the order
     * given, each even when a later one fails, as Redis applies them while
     * it reads them: they are keel_defer, so the matcher kept the first
     * error after them for A_HELLO_deferred, reported once they are done. */
    while (ia < auth->count || in < name->count) {
        if (in == name->count || (ia < auth->count && auth->list[ia] < name->list[in])) {
            const struct argv_ref *u = &x->argv[auth->list[ia] + 1], *p = u + 1;
            ia++;
            if (!authenticate(x->c, u->p, u->n, p->p, p->n)) {
                reply_err(x->r, E_WRONGPASS);
                return;
            }
        } else {
            const struct argv_ref *n = &x->argv[name->list[in++]];
            if (!set_client_name(x, n->p, n->n)) return;
        }
    }
    if (!arg_ok(x, A_HELLO_deferred)) return;
    if (!x->c->authenticated) {
        reply_error(x->r, "NOAUTH HELLO must be called with the client already authenticated, "
                          "otherwise the HELLO AUTH <user> <pass> option can be used to "
                          "authenticate the client and select the RESP protocol version at the "
                          "same time");
        return;
    }
    if (ver) set_resp(x->c, (int)ver);
    reply_map(x->r, 7);
    reply_cstr(x->r, "server");
    reply_cstr(x->r, "redis");
    reply_cstr(x->r, "version");
    reply_cstr(x->r, "7.0.15");
    reply_cstr(x->r, "proto");
    reply_int(x->r, x->c->resp);
    reply_cstr(x->r, "id");
    reply_int(x->r, (long long)x->c->id);
    reply_cstr(x->r, "mode");
    reply_cstr(x->r, "standalone");
    reply_cstr(x->r, "role");
    reply_cstr(x->r, "master");
    reply_cstr(x->r, "modules");
    reply_array(x->r, 0);
}

/* AUTH [username] password */
void cmd_auth(struct exec *x)
{
    const char *user = "default";
    size_t ulen = 7;
    if (HAS(x, A_AUTH_username)) {
        user = ARGP(x, A_AUTH_username);
        ulen = ARGN(x, A_AUTH_username);
    } else if (default_user_nopass()) {
        reply_err(x->r, E_AUTH_NOT_CONFIGURED);
        return;
    }
    if (authenticate(x->c, user, ulen, ARGP(x, A_AUTH_password), ARGN(x, A_AUTH_password)))
        reply_ok(x->r);
    else
        reply_err(x->r, E_WRONGPASS);
}

/* RESET */
void cmd_reset(struct exec *x)
{
    struct client *c = x->c;
    /* Under CLIENT REPLY OFF the kernel gave this call a silent sink; RESET
     * turns replies back on before it answers (Redis's resetCommand), so
     * its +RESET goes to the client. A skipped reply stays skipped. */
    struct reply *out = (c->flags & CF_REPLY_OFF) && !(c->flags & CF_REPLICA) ? &c->reply : x->r;
    /* As Redis 7.0's clearClientConnectionState (CLIENT NO-EVICT stays).
     * State that other modules keep per client (MULTI, WATCH, pub/sub,
     * tracking) is theirs to clear. */
    client_reset_state(c);
    if (c->flags & CF_TRACKING) tracking_disable(c);
    c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP_NEXT);
    client_select(c, 0);
    pubsub_reset(c); /* leaves every channel, pattern and shard channel silently */
    set_resp(c, 2);
    c->user = NULL;
    c->authenticated = acl_default_authenticates();
    set_attr(&c->name, NULL, 0);
    reply_status(out, "RESET");
}

/* ---- CLIENT ---- */

/* CLIENT ID */
void cmd_client_id(struct exec *x)
{
    reply_int(x->r, (long long)x->c->id);
}

/* CLIENT SETNAME connection-name */
void cmd_client_setname(struct exec *x)
{
    if (set_client_name(x, ARGP(x, A_CLIENT_SETNAME_connection_name),
                        ARGN(x, A_CLIENT_SETNAME_connection_name)))
        reply_ok(x->r);
}

/* CLIENT GETNAME */
void cmd_client_getname(struct exec *x)
{
    if (x->c->name)
        reply_cstr(x->r, x->c->name);
    else
        reply_null(x->r);
}

/* CLIENT INFO */
void cmd_client_info(struct exec *x)
{
    struct text t = {NULL, 0, 0};
    text_client_line(&t, x->c); /* cmd= is set by the kernel (EXEC inside MULTI) */
    reply_verbatim(x->r, t.p, t.len);
    free(t.p);
}

/* CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]] */
void cmd_client_list(struct exec *x)
{
    struct text t = {NULL, 0, 0};
    bool has_type = HAS(x, A_CLIENT_LIST_normal_master_replica_pubsub);
    bool has_id = HAS(x, A_CLIENT_LIST_id);
    struct client *c;
    int want;

    /* Redis takes one filter: exactly TYPE <type>, or ID <id>... */
    if ((has_type && has_id) || (has_type && x->argc != 4) ||
        (has_id && ARG(x, A_CLIENT_LIST_id)->pos != 2)) {
        reply_err(x->r, E_SYNTAX);
        return;
    }
    if (has_id) {
        const struct argval *ids = ARG(x, A_CLIENT_LIST_id_client_id);
        int k;
        for (k = 0; k < ids->count; k++) {
            long long id;
            const struct argv_ref *a = &x->argv[ids->list[k]];
            if (!util_str2ll(a->p, a->n, &id)) continue; /* the matcher parsed them all */
            c = id > 0 ? client_by_id((uint64_t)id) : NULL;
            if (c) text_client_line(&t, c);
        }
    } else {
        /* normal (0), master (1: core/repl's master client), replica (2), pubsub (3)
         * (4 is SLAVE, Redis's keel_hidden alias of REPLICA). */
        want = has_type ? ARG(x, A_CLIENT_LIST_normal_master_replica_pubsub)->choice : -1;
        if (want == 4) want = 2;
        for (c = g_clients.head; c; c = c->next)
            if (want < 0 || want == ((c->flags & CF_MASTER)    ? 1
                                     : (c->flags & CF_REPLICA) ? 2
                                     : c->nsubs > 0            ? 3
                                                               : 0))
                text_client_line(&t, c);
    }
    reply_verbatim(x->r, t.p ? t.p : "", t.len);
    free(t.p);
}

/* CLIENT KILL ip:port | CLIENT KILL [ID client-id] [TYPE type] [USER username]
 *   [ADDR ip:port] [LADDR ip:port] [SKIPME yes/no] ... */
void cmd_client_kill(struct exec *x)
{
    /* (the filter is absent when a deferred error cut its options short) */
    bool old_form = HAS(x, A_CLIENT_KILL_filter) && ARG(x, A_CLIENT_KILL_filter)->choice == 0;
    const struct argv_ref *addr = NULL, *laddr = NULL;
    long long id = 0;
    int type = -1; /* index of the TYPE token, -1: any */
    bool skipme = true, close_self = false;
    long long killed = 0;
    struct client *c, *next;
    struct acl_user *kuser = NULL;

    if (old_form) {
        addr = &x->argv[ARG(x, A_CLIENT_KILL_filter_ip_port)->pos];
        skipme = false; /* with the old form a client may kill itself */
    } else {
        if (HAS(x, A_CLIENT_KILL_filter_new_format_client_id)) {
            /* keel_min 1: "client-id should be greater than 0", in order */
            id = ARGI(x, A_CLIENT_KILL_filter_new_format_client_id);
        }
        if (HAS(x, A_CLIENT_KILL_filter_new_format_normal_master_slave_pubsub))
            type = ARG(x, A_CLIENT_KILL_filter_new_format_normal_master_slave_pubsub)->choice;
        if (HAS(x, A_CLIENT_KILL_filter_new_format_username)) {
            const char *u = ARGP(x, A_CLIENT_KILL_filter_new_format_username);
            size_t n = ARGN(x, A_CLIENT_KILL_filter_new_format_username);
            kuser = acl_find(u, n);
            if (!kuser) {
                reply_errorf(x->r, "ERR No such user '%.*s'", (int)n, u);
                return;
            }
        }
        /* USER is keel_defer: Redis checks the user before the words after it. */
        if (!arg_ok(x, A_CLIENT_KILL_deferred)) return;
        if (HAS(x, A_CLIENT_KILL_filter_new_format_ip_port))
            addr = &x->argv[ARG(x, A_CLIENT_KILL_filter_new_format_ip_port)->pos];
        if (HAS(x, A_CLIENT_KILL_filter_new_format_ip_port_laddr))
            laddr = &x->argv[ARG(x, A_CLIENT_KILL_filter_new_format_ip_port_laddr)->pos];
        /* SKIPME is keel_choices YES | NO */
        if (HAS(x, A_CLIENT_KILL_filter_new_format_yes_no))
            skipme = ARG(x, A_CLIENT_KILL_filter_new_format_yes_no)->choice == 0;
    }

    for (c = g_clients.head; c; c = next) {
        char a[128] = "", la[128] = "";
        int fd = -1;
        next = c->next;
        if ((addr || laddr) && c->adapter && c->adapter->describe)
            c->adapter->describe(c, a, sizeof(a), la, sizeof(la), &fd);
        if (addr && (strlen(a) != addr->n || memcmp(a, addr->p, addr->n) != 0)) continue;
        if (laddr && (strlen(la) != laddr->n || memcmp(la, laddr->p, laddr->n) != 0)) continue;
        /* A client is "pubsub" (choice 4) while it has subscriptions, else
         * "normal" (choice 0). */
        /* the master client (core/repl) is "master" (1); replicas are
         * "slave" (2) or "replica" (3) */
        if (type >= 0 && (type == 3 ? 2 : type) != ((c->flags & CF_MASTER)    ? 1
                                                    : (c->flags & CF_REPLICA) ? 2
                                                    : c->nsubs > 0            ? 4
                                                                              : 0))
            continue;
        if (id && c->id != (uint64_t)id) continue;
        if (kuser && acl_client_user(c) != kuser) continue;
        if (c == x->c && skipme) continue;
        if (c == x->c)
            close_self = true;
        else if (c->adapter && c->adapter->close)
            c->adapter->close(c, false);
        killed++;
    }
    /* This client closes once its reply is written. Through the kernel's
     * flag, not the adapter's close hook: when the command runs from the
     * resume path (parked by CLIENT PAUSE) the hook would free the client
     * under the kernel's feet. */
    if (close_self) x->c->flags |= CF_CLOSE_AFTER_REPLY;

    if (old_form) {
        if (killed == 0)
            reply_error(x->r, "ERR No such client");
        else
            reply_ok(x->r);
    } else {
        reply_int(x->r, killed);
    }
}

/* CLIENT NO-EVICT ON|OFF */
void cmd_client_no_evict(struct exec *x)
{
    if (ARG(x, A_CLIENT_NO_EVICT_enabled)->choice == 0)
        x->c->flags |= CF_NO_EVICT;
    else
        x->c->flags &= ~(unsigned)CF_NO_EVICT;
    client_mem_update(x->c); /* into or out of its eviction bucket */
    reply_ok(x->r);
}

/* CLIENT PAUSE timeout [WRITE|ALL] */
void cmd_client_pause(struct exec *x)
{
    long long t = ARGI(x, A_CLIENT_PAUSE_timeout), until;
    bool write_only = HAS(x, A_CLIENT_PAUSE_mode) && ARG(x, A_CLIENT_PAUSE_mode)->choice == 0;
    /* Redis checks the word count (keel_syntax_error), the mode, then the
     * timeout. */
    if (!arg_ok(x, A_CLIENT_PAUSE_mode) || !arg_ok(x, A_CLIENT_PAUSE_timeout)) return;
    if (t < 0) {
        reply_error(x->r, "ERR timeout is negative");
        return;
    }
    /* Redis adds the timeout to the clock unchecked: a huge one wraps to
     * the past, which ends the pause at once. Do the same without UB. */
    until = t > 0 ? (long long)((unsigned long long)t + (unsigned long long)util_mstime()) : 0;
    kernel_pause(until, write_only);
    reply_ok(x->r);
}

/* CLIENT UNPAUSE */
void cmd_client_unpause(struct exec *x)
{
    kernel_unpause();
    reply_ok(x->r);
}

/* CLIENT SETINFO LIB-NAME libname | LIB-VER libver (Redis 7.2) */
void cmd_client_setinfo(struct exec *x)
{
    bool name = ARG(x, A_CLIENT_SETINFO_attr)->choice == 0;
    int slot = name ? A_CLIENT_SETINFO_attr_libname : A_CLIENT_SETINFO_attr_libver;
    const char *v = ARGP(x, slot);
    size_t n = ARGN(x, slot);
    if (!valid_client_attr(v, n)) {
        /* Redis names the attribute as the client spelled it. */
        const struct argv_ref *attr = &x->argv[2];
        reply_errorf(x->r, "ERR %.*s cannot contain spaces, newlines or special characters.",
                     (int)attr->n, attr->p);
        return;
    }
    set_attr(name ? &x->c->lib_name : &x->c->lib_ver, v, n);
    reply_ok(x->r);
}

/* CLIENT HELP */
void cmd_client_help(struct exec *x)
{
    static const char *const lines[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        NULL,
    };
    reply_help(x->r, "CLIENT", lines);
}

/* CLIENT REPLY ON|OFF|SKIP */
void cmd_client_reply(struct exec *x)
{
    struct client *c = x->c;
    int mode = ARG(x, A_CLIENT_REPLY_on_off_skip)->choice;
    if (mode != 0 && c->adapter && c->adapter->replies_required) {
        reply_error(&c->reply, "ERR CLIENT REPLY OFF and SKIP are not available on this "
                               "connection: every request gets its reply");
        return;
    }
    switch (mode) {
    case 0: /* ON: answered even when it was OFF (the kernel chose a silent sink) */
        c->flags &= ~(CF_REPLY_OFF | CF_REPLY_SKIP_NEXT);
        reply_ok(&c->reply);
        break;
    case 1:
        c->flags |= CF_REPLY_OFF;
        break;
    case 2:
        if (!(c->flags & CF_REPLY_OFF)) c->flags |= CF_REPLY_SKIP_NEXT;
        break;
    }
}
