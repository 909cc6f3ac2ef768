/* cmd_monitor.c — MONITOR: turn the calling client into a monitor
 * (core/events/monitor.c feeds it). */
#include "client.h"
#include "kernel.h"
#include "monitor.h"

/* MONITOR */
void cmd_monitor(struct exec *x)
{
    struct client *c = x->c;
    /* As Redis: a client that expects one reply per command (inside EXEC;
     * here also an HTTP request, whose adapter cannot stream lines) cannot
     * monitor. */
    if ((c->flags & CF_IN_EXEC) ||
        (c->adapter && c->adapter->replies_required && !c->adapter->monitor_line)) {
        reply_error(x->r, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    /* Already monitoring: Redis ignores the command without a reply; an
     * adapter that needs a reply per request gets +OK. */
    if (!monitor_add(c)) {
        if (c->adapter && c->adapter->replies_required) reply_ok(x->r);
        return;
    }
    reply_ok(x->r);
}
