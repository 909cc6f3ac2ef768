/* server.c — process-wide state shared by every module (server.h). */
#include "server.h"

#include <event2/event.h>

struct server_state g_server;

void server_request_shutdown(int exit_code)
{
    g_server.shutdown_asap = true;
    g_server.exit_code = exit_code;
    if (g_server.base) event_base_loopbreak(g_server.base);
}
