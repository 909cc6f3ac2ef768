/* monitor.c — owns MONITOR mode (monitor.h): the list of monitoring
 * clients, the line each command becomes (Redis 7.0's
 * replicationFeedMonitors: time, database, client address, then every
 * argument quoted as sdscatrepr quotes it, AUTH and HELLO passwords as
 * "(redacted)"), and its delivery through each monitor's adapter. The
 * kernel calls monitor_after_command through its `ran` hook (after the
 * command ran, as 7.0 does, so a transaction shows MULTI, its commands,
 * then EXEC). */
#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "client.h"
#include "kernel.h"
#include "server.h"
#include "slowlog.h"
#include "util.h"

static struct client **monitors;
static long long nmon, capmon;

bool monitor_is(const struct client *c)
{
    long long i;
    for (i = 0; i < nmon; i++)
        if (monitors[i] == c) return true;
    return false;
}

long long monitor_count(void)
{
    return nmon;
}

bool monitor_add(struct client *c)
{
    if (monitor_is(c)) return false;
    if (nmon == capmon) {
        capmon = capmon ? capmon * 2 : 8;
        monitors = xrealloc(monitors, sizeof(*monitors) * (size_t)capmon);
    }
    monitors[nmon++] = c;
    return true;
}

static void monitor_remove(struct client *c)
{
    long long i;
    for (i = 0; i < nmon; i++) {
        if (monitors[i] == c) {
            memmove(&monitors[i], &monitors[i + 1], sizeof(*monitors) * (size_t)(nmon - i - 1));
            nmon--;
            return;
        }
    }
}

void monitor_init(void)
{
    client_on_free(monitor_remove);
    client_on_reset(monitor_remove);
}

bool monitor_refuse(struct client *c, const struct command *cmd, struct reply *r)
{
    if (nmon == 0 || !(cmd->flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE))) return false;
    if (!monitor_is(c)) return false;
    reply_error(r, "ERR Replica can't interact with the keyspace");
    return true;
}

bool monitor_pause_exempt(struct client *c)
{
    return nmon > 0 && monitor_is(c);
}

/* ---- the line ---- */

struct line {
    char *p;
    size_t len, cap;
};

static void cat(struct line *l, const char *s, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        l->cap = (l->len + n + 1) * 2 + 64;
        l->p = xrealloc(l->p, l->cap);
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    l->p[l->len] = 0;
}

static void put_line(void *l, const char *s, size_t n)
{
    cat(l, s, n);
}

/* As sdscatrepr (util_repr). */
static void cat_repr(struct line *l, const char *p, size_t n)
{
    util_repr(p, n, put_line, l);
}

char *monitor_format(long long ustime, int dbid, const char *addr, int argc,
                     const struct argv_ref *argv, const bool *redact, size_t *len)
{
    struct line l = {NULL, 0, 0};
    char head[192];
    int n = snprintf(head, sizeof(head), "%lld.%06lld [%d %s] ", ustime / 1000000, ustime % 1000000,
                     dbid, addr);
    int j;
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof(head)) n = (int)sizeof(head) - 1;
    cat(&l, head, (size_t)n);
    for (j = 0; j < argc; j++) {
        if (redact && redact[j])
            cat_repr(&l, "(redacted)", 10);
        else
            cat_repr(&l, argv[j].p, argv[j].n);
        if (j != argc - 1) cat(&l, " ", 1);
    }
    *len = l.len;
    return l.p;
}

/* ---- delivery ---- */

static void deliver(const char *line, size_t n)
{
    struct client *cur = kernel_current();
    long long i;
    for (i = 0; i < nmon; i++) {
        struct client *m = monitors[i];
        unsigned old = m->flags & CF_PUSHING;
        m->flags |= CF_PUSHING;
        if (m->adapter && m->adapter->monitor_line)
            m->adapter->monitor_line(m, line, n);
        else
            m->reply.ops->status(&m->reply, line, n);
        if (!old) m->flags &= ~CF_PUSHING;
        if (m != cur) kernel_touch(m);
    }
}

static void feed(int dbid, const char *addr, int argc, const struct argv_ref *argv,
                 const bool *redact)
{
    size_t n;
    char *line = monitor_format(util_ustime(), dbid, addr, argc, argv, redact, &n);
    deliver(line, n);
    free(line);
}

/* Feed x's command with its client's address ("lua" for a script's
 * client, whose adapter is named so), unless its caller is internal (no
 * adapter: the AOF loader) or the AOF is loading. */
static void feed_exec(struct exec *x)
{
    struct client *c = x->c;
    char addr[128] = "", laddr[128] = "", full[160];
    bool redact_small[16], *redact = redact_small;
    int fd = -1, j;
    if (!c->adapter || g_server.loading) return;
    if (strcmp(c->adapter->name, "lua") == 0)
        snprintf(full, sizeof(full), "lua");
    else {
        if (c->adapter->describe)
            c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
        if (addr[0] == '/')
            snprintf(full, sizeof(full), "unix:%s", addr);
        else
            snprintf(full, sizeof(full), "%s", addr);
    }
    if (x->argc > (int)(sizeof(redact_small) / sizeof(redact_small[0])))
        redact = xmalloc(sizeof(bool) * (size_t)x->argc);
    for (j = 0; j < x->argc; j++)
        redact[j] = slowlog_arg_redacted(x, j);
    feed(c->dbid, full, x->argc, x->argv, redact);
    if (redact != redact_small) free(redact);
}

void monitor_after_command(struct exec *x)
{
    if (nmon == 0) return;
    if (x->cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR)) return;
    /* A served blocked command was shown when it first ran; one ended by
     * CLIENT UNBLOCK is counted with no command line (nothing to show). */
    if (blocking_is_retry(x) || x->argc == 0) return;
    feed_exec(x);
}

void monitor_feed_now(struct exec *x)
{
    if (nmon == 0) return;
    feed_exec(x);
}

void monitor_feed_script(const struct command *cmd, int dbid, int argc, const struct argv_ref *argv)
{
    if (nmon == 0 || (cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR))) return;
    feed(dbid, "lua", argc, argv, NULL);
}
