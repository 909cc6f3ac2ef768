/* slowlog.h — the slow log (SLOWLOG): the commands that took at least
 * slowlog-log-slower-than microseconds, newest first, at most
 * slowlog-max-len of them, each with Redis 7.0's fields. */
#ifndef KEEL_SLOWLOG_H
#define KEEL_SLOWLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel.h"

struct slowlog_entry {
    long long id;
    long long time;     /* unix seconds */
    long long duration; /* microseconds */
    int argc;
    char **argv;
    size_t *argvlen;
    char *addr;                 /* ip:port */
    char *name;                 /* client name ("" when none) */
    struct slowlog_entry *next; /* older */
};

/* The kernel's `ran` hook: log x's command if it took usec or more. */
void slowlog_after_command(struct exec *x, long long usec);
/* Entries, newest first; their number. */
const struct slowlog_entry *slowlog_first(void);
long long slowlog_len(void);
void slowlog_reset(void);
/* Whether argument j of x is a secret Redis 7.0 shows as "(redacted)"
 * (AUTH's arguments, HELLO's AUTH username and password). */
bool slowlog_arg_redacted(struct exec *x, int j);

#endif
