/* net.c — listeners and address text shared by the adapters (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../config/config.h"
#include "../core/util.h"

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

bool net_listen(struct event_base *base, const char *bind, int port, net_accept_fn cb,
                struct evconnlistener **ls, int *n, int max, const char *what)
{
    char **w;
    size_t *wl;
    int nw, i, bound = 0;
    if (port == 0) return true;
    nw = util_split_args(bind, strlen(bind), &w, &wl);
    if (nw <= 0) return false;
    for (i = 0; i < nw && *n < max; i++) {
        const char *a = w[i];
        bool optional = a[0] == '-';
        struct sockaddr_storage ss;
        int sslen = sizeof(ss);
        char spec[128];
        struct evconnlistener *l;
        if (optional) a++;
        if (strcmp(a, "*") == 0) snprintf(spec, sizeof(spec), "0.0.0.0:%d", port);
        else if (strchr(a, ':')) snprintf(spec, sizeof(spec), "[%s]:%d", a, port);
        else snprintf(spec, sizeof(spec), "%s:%d", a, port);
        if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
            fprintf(stderr, "keel: bad %s bind address '%s'\n", what, a);
            if (optional) continue;
            util_free_words(w, wl, nw);
            return false;
        }
        l = evconnlistener_new_bind(base, (evconnlistener_cb)cb, NULL,
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, g_config.tcp_backlog,
                                    (struct sockaddr *)&ss, sslen);
        if (!l) {
            fprintf(stderr, "keel: could not bind %s %s: %s\n", what, spec, strerror(errno));
            if (optional) continue;
            util_free_words(w, wl, nw);
            return false;
        }
        ls[(*n)++] = l;
        bound++;
    }
    util_free_words(w, wl, nw);
    return bound > 0;
}
