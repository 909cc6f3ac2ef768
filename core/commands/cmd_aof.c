/* cmd_aof.c — BGREWRITEAOF (the rewrite itself lives in core/persist/aof.c). */
#include <stdio.h>

#include "aof.h"
#include "kernel.h"
#include "rdb.h"
#include "server.h"

/* BGREWRITEAOF */
void cmd_bgrewriteaof(struct exec *x)
{
    char err[256];
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_AOF) {
        reply_error(x->r, "ERR Background append only file rewriting already in progress");
    } else if (g_server.child_pid > 0 || (x->c->flags & CF_IN_EXEC)) {
        g_aof_rewrite_scheduled = true;
        /* A manual rewrite resets the failure count so it runs at once. */
        g_aofrw_consecutive_failures = 0;
        reply_status(x->r, "Background append only file rewriting scheduled");
    } else if (aof_rewrite_start(err, sizeof(err))) {
        reply_status(x->r, "Background append only file rewriting started");
    } else {
        reply_error(x->r, "ERR Can't execute an AOF background rewriting. Please check the "
                          "server logs for more information.");
    }
}
