/* cmd_connection.c — the connection group: PING ECHO QUIT RESET SELECT
 * HELLO AUTH and CLIENT's subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "server.h"
#include "store.h"
#include "util.h"

/* PING [message] */
void cmd_ping(struct exec *x)
{
    if (HAS(x, A_PING_message)) reply_bulk(x->r, ARGP(x, A_PING_message), ARGN(x, A_PING_message));
    else reply_status(x->r, "PONG");
}

/* ECHO message */
void cmd_echo(struct exec *x) { reply_bulk(x->r, ARGP(x, A_ECHO_message), ARGN(x, A_ECHO_message)); }

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
