/* cmd_slowlog.c — SLOWLOG's subcommands (GET, LEN, RESET, HELP): the
 * replies over the log that core/events/slowlog.c keeps. */
#include <string.h>

#include "commands_gen.h"
#include "kernel.h"
#include "slowlog.h"

/* SLOWLOG GET [count] */
void cmd_slowlog_get(struct exec *x)
{
    long long count = 10, n, i;
    const struct slowlog_entry *e;
    /* Redis checks the number of words first, naming GET as typed. */
    if (x->argc > 3) {
        reply_errorf(x->r,
                     "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                     "SLOWLOG HELP.",
                     (int)x->argv[1].n, x->argv[1].p);
        return;
    }
    if (!arg_ok(x, A_SLOWLOG_GET_count)) return;
    if (HAS(x, A_SLOWLOG_GET_count)) count = ARGI(x, A_SLOWLOG_GET_count);
    n = slowlog_len();
    if (count >= 0 && count < n) n = count;
    reply_array(x->r, n);
    for (i = 0, e = slowlog_first(); i < n && e; i++, e = e->next) {
        int j;
        reply_array(x->r, 6);
        reply_int(x->r, e->id);
        reply_int(x->r, e->time);
        reply_int(x->r, e->duration);
        reply_array(x->r, e->argc);
        for (j = 0; j < e->argc; j++)
            reply_bulk(x->r, e->argv[j], e->argvlen[j]);
        reply_bulk(x->r, e->addr, strlen(e->addr));
        reply_bulk(x->r, e->name, strlen(e->name));
    }
}

/* SLOWLOG LEN */
void cmd_slowlog_len(struct exec *x)
{
    reply_int(x->r, slowlog_len());
}

/* SLOWLOG RESET */
void cmd_slowlog_reset(struct exec *x)
{
    slowlog_reset();
    reply_ok(x->r);
}

/* SLOWLOG HELP */
void cmd_slowlog_help(struct exec *x)
{
    static const char *const help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    reply_help(x->r, "SLOWLOG", help);
}
