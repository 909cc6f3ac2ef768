/* net.c — listeners, address text and the admission of connections shared
 * by the adapters (see net.h): the open-files limit and maxclients, accept
 * errors, protected mode. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "client.h"
#include "log.h"
#include "server.h"
#include "util.h"

/* After an accept() error other than "try again" (EMFILE, ENFILE, ENOBUFS
 * ...), every listener stops for this long (or until a client is freed),
 * and the error is logged at most once per NET_ACCEPT_LOG_MS. */
#define NET_ACCEPT_PAUSE_MS 100
#define NET_ACCEPT_LOG_MS 10000
#define NET_MAX_LISTENERS 64

static struct evconnlistener *all_listeners[NET_MAX_LISTENERS];
static net_accept_fn all_cbs[NET_MAX_LISTENERS]; /* each listener's accept callback */
static int nall_listeners;
static struct event *resume_ev;
static bool accept_paused;
/* The maxclients the open-files limit was last sized for (0: not yet). */
static int sized_maxclients;

void net_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%d", ip, ntohs(s->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%d", ip, ntohs(s->sin6_port));
    } else {
        snprintf(buf, len, "unix");
    }
}

void net_describe_fd(int fd, const struct sockaddr *peer, char *addr, size_t alen, char *laddr,
                     size_t llen)
{
    struct sockaddr_storage local;
    socklen_t sl = sizeof(local);
    net_format_addr(peer, addr, alen);
    laddr[0] = 0;
    if (getsockname(fd, (struct sockaddr *)&local, &sl) == 0)
        net_format_addr((struct sockaddr *)&local, laddr, llen);
}

/* ---- the open-files limit ---- */

/* Redis's adjustOpenFilesLimit, except that the hard limit is never
 * lowered: the soft limit goes up to maxclients + NET_RESERVED_FDS (the
 * hard limit too when the process may raise it); if the system refuses,
 * to the hard limit, and maxclients is lowered to what fits. */
static bool adjust_open_files(void)
{
    rlim_t maxfiles = (rlim_t)g_config.maxclients + NET_RESERVED_FDS, oldlimit, best;
    struct rlimit lim, want;
    int setrlimit_error = 0;

    if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
        log_warning("Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting "
                    "the max clients configuration accordingly.",
                    strerror(errno));
        g_config.maxclients = 1024 - NET_RESERVED_FDS;
        return true;
    }
    oldlimit = lim.rlim_cur;
    if (oldlimit >= maxfiles) return true;
    best = maxfiles;
    while (best > oldlimit) {
        want.rlim_cur = best;
        want.rlim_max = lim.rlim_max >= best ? lim.rlim_max : best; /* RLIM_INFINITY is max */
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) break;
        setrlimit_error = errno;
        if (best > lim.rlim_max)
            best = lim.rlim_max; /* not privileged: the hard limit */
        else if (best < 16)
            best = oldlimit;
        else
            best -= 16;
    }
    if (best < oldlimit) best = oldlimit;
    if (best >= maxfiles) {
        log_notice("Increased maximum number of open files to %llu (it was originally set to "
                   "%llu).",
                   (unsigned long long)maxfiles, (unsigned long long)oldlimit);
        return true;
    }
    if (best <= NET_RESERVED_FDS) {
        log_warning("Your current 'ulimit -n' of %llu is not enough for the server to start. "
                    "Please increase your open file limit to at least %llu. Exiting.",
                    (unsigned long long)oldlimit, (unsigned long long)maxfiles);
        return false;
    }
    log_warning("You requested maxclients of %d requiring at least %llu max file "
                "descriptors.",
                g_config.maxclients, (unsigned long long)maxfiles);
    log_warning("Server can't set maximum open files to %llu because of OS error: %s.",
                (unsigned long long)maxfiles, strerror(setrlimit_error));
    g_config.maxclients = (int)(best - NET_RESERVED_FDS);
    log_warning("Current maximum open files is %llu. maxclients has been reduced to %d to "
                "compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                (unsigned long long)best, g_config.maxclients);
    return true;
}

bool net_adjust_open_files(void)
{
    if (!adjust_open_files()) return false;
    sized_maxclients = g_config.maxclients;
    return true;
}

static const char *check_maxclients(const char *value)
{
    static char err[128];
    int want = g_config.maxclients, prev = sized_maxclients;
    if (prev == 0) return NULL; /* reading the configuration: sized at start */
    /* Redis 7.0's updateMaxclients: only a larger value needs descriptors. */
    if (want > prev) {
        adjust_open_files();
        if (g_config.maxclients != want) {
            snprintf(err, sizeof(err),
                     "The operating system is not able to handle the specified number of "
                     "clients, try with %d",
                     g_config.maxclients);
            if (g_config.maxclients > prev) {
                g_config.maxclients = prev;
                adjust_open_files();
            }
            return err; /* CONFIG SET puts the previous value back */
        }
    }
    sized_maxclients = g_config.maxclients;
    return NULL;
}

/* ---- accept errors ---- */

static void resume_accepting(void)
{
    int i;
    if (!accept_paused) return;
    accept_paused = false;
    if (resume_ev) event_del(resume_ev);
    for (i = 0; i < nall_listeners; i++)
        evconnlistener_enable(all_listeners[i]);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    resume_accepting();
}

/* A freed client gave its descriptor back: try again at once. */
static void on_client_free(struct client *c)
{
    (void)c;
    resume_accepting();
}

/* libevent calls this for an accept() error it does not retry itself
 * (anything but EINTR, EAGAIN, ECONNABORTED). The listening sockets are
 * level-triggered: returning with the connection still queued would call
 * accept() again at once, forever (and, without this callback, libevent
 * logs every failure). So every listener pauses, and the error is logged
 * at most once per NET_ACCEPT_LOG_MS. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    static long long last_log_ms, unlogged;
    int err = EVUTIL_SOCKET_ERROR(), i;
    long long now = util_mstime();
    struct timeval tv = {0, NET_ACCEPT_PAUSE_MS * 1000};
    (void)l, (void)arg;

    if (last_log_ms == 0 || now - last_log_ms >= NET_ACCEPT_LOG_MS) {
        if (unlogged)
            log_warning("Accepting client connection: %s (not accepting for %d ms; %lld more "
                        "errors in the last %lld s)",
                        strerror(err), NET_ACCEPT_PAUSE_MS, unlogged, (now - last_log_ms) / 1000);
        else
            log_warning("Accepting client connection: %s (not accepting for %d ms)", strerror(err),
                        NET_ACCEPT_PAUSE_MS);
        last_log_ms = now;
        unlogged = 0;
    } else {
        unlogged++;
    }
    if (!accept_paused) {
        accept_paused = true;
        for (i = 0; i < nall_listeners; i++)
            evconnlistener_disable(all_listeners[i]);
    }
    if (resume_ev) event_add(resume_ev, &tv);
}

/* ---- listeners ---- */

/* True for an address that means every interface ("*", 0.0.0.0, ::). */
static bool is_any_address(const char *a)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (strcmp(a, "*") == 0) return true;
    if (inet_pton(AF_INET, a, &v4) == 1) return v4.s_addr == htonl(INADDR_ANY);
    if (inet_pton(AF_INET6, a, &v6) == 1) return IN6_IS_ADDR_UNSPECIFIED(&v6);
    return false;
}

static void warn_exposed(const char *what, const char *spec)
{
    if (g_config.requirepass && g_config.requirepass[0]) return;
    if (g_config.protected_mode)
        log_warning(
            "WARNING: the %s port listens on every interface (%s) and no password is "
            "set: protected mode is on, so only loopback clients are served. Set requirepass "
            "(or protected-mode no on a trusted network) to serve other hosts.",
            what, spec);
    else
        log_warning("WARNING: the %s port listens on every interface (%s), no password is set "
                    "and protected mode is off: any host that reaches it can run any command.",
                    what, spec);
}

static void net_init(struct event_base *base)
{
    if (resume_ev) return;
    resume_ev = evtimer_new(base, on_resume, NULL);
    client_on_free(on_client_free);
}

bool net_listen(struct event_base *base, const char *bind, int port, net_accept_fn cb,
                struct evconnlistener **ls, int *n, int max, const char *what)
{
    char **w;
    size_t *wl;
    int nw, i, bound = 0;
    if (port == 0) return true;
    net_init(base);
    nw = util_split_args(bind, strlen(bind), &w, &wl);
    if (nw <= 0) return false;
    for (i = 0; i < nw && *n < max && nall_listeners < NET_MAX_LISTENERS; i++) {
        const char *a = w[i];
        bool optional = a[0] == '-';
        struct sockaddr_storage ss;
        int sslen = sizeof(ss);
        char spec[128];
        struct evconnlistener *l;
        if (optional) a++;
        if (strcmp(a, "*") == 0)
            snprintf(spec, sizeof(spec), "0.0.0.0:%d", port);
        else if (strchr(a, ':'))
            snprintf(spec, sizeof(spec), "[%s]:%d", a, port);
        else
            snprintf(spec, sizeof(spec), "%s:%d", a, port);
        if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
            log_warning("bad %s bind address '%s'", what, a);
            if (optional) continue;
            util_free_words(w, wl, nw);
            return false;
        }
        l = evconnlistener_new_bind(base, (evconnlistener_cb)cb, NULL,
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, g_config.tcp_backlog,
                                    (struct sockaddr *)&ss, sslen);
        if (!l) {
            log_warning("could not bind %s %s: %s", what, spec, strerror(errno));
            if (optional) continue;
            util_free_words(w, wl, nw);
            return false;
        }
        evconnlistener_set_error_cb(l, on_accept_error);
        if (accept_paused) evconnlistener_disable(l);
        if (is_any_address(a)) warn_exposed(what, spec);
        all_cbs[nall_listeners] = cb;
        all_listeners[nall_listeners++] = l;
        ls[(*n)++] = l;
        bound++;
    }
    util_free_words(w, wl, nw);
    return bound > 0;
}

void net_close_listeners(struct evconnlistener **ls, int n)
{
    int i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < nall_listeners; j++) {
            if (all_listeners[j] == ls[i]) {
                all_listeners[j] = all_listeners[--nall_listeners];
                all_cbs[j] = all_cbs[nall_listeners];
                break;
            }
        }
        evconnlistener_free(ls[i]);
    }
}

int net_pump_accept(void)
{
    int i, k, n = 0;
    if (accept_paused) return 0;
    for (i = 0; i < nall_listeners; i++) {
        int lfd = (int)evconnlistener_get_fd(all_listeners[i]);
        for (k = 0; k < 16; k++) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break;
            all_cbs[i](all_listeners[i], fd, (struct sockaddr *)&ss, (int)sl, NULL);
            n++;
        }
    }
    return n;
}

void net_shutdown(void)
{
    accept_paused = false;
    if (resume_ev) event_free(resume_ev);
    resume_ev = NULL;
}

/* ---- admission ---- */

bool net_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_UNIX) return true;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

enum net_verdict net_admit(const struct sockaddr *peer)
{
    if (g_clients.count >= g_config.maxclients) {
        g_server.rejected_connections++;
        return NET_REFUSE_MAXCLIENTS;
    }
    /* Redis 7.0: protected mode applies whatever the bind addresses are;
     * without ACL users, "the default user has no password" is an empty
     * requirepass. */
    if (g_config.protected_mode && (!g_config.requirepass || !g_config.requirepass[0]) &&
        !net_is_loopback(peer)) {
        g_server.rejected_connections++;
        return NET_REFUSE_PROTECTED;
    }
    g_server.total_connections++;
    return NET_ADMIT;
}

const char *net_refusal_reason(enum net_verdict v)
{
    switch (v) {
    case NET_REFUSE_MAXCLIENTS:
        return "max number of clients reached";
    case NET_REFUSE_PROTECTED:
        return "protected mode: no password is set, so only loopback clients are accepted (set "
               "requirepass, or protected-mode no)";
    case NET_ADMIT:
        break;
    }
    return "";
}

void net_register_config(void)
{
    config_register_check("maxclients", check_maxclients);
}

#define MAX_PROTOCOLS 16
static const char *protocols[MAX_PROTOCOLS + 1];
static int nprotocols;

void net_register_protocol(const char *name)
{
    if (nprotocols < MAX_PROTOCOLS) protocols[nprotocols++] = name;
}

const char *const *net_protocols(void)
{
    return protocols;
}
