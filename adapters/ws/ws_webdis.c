/* ws_webdis.c — Webdis's WebSocket shapes (see ws_webdis.h): the name
 * pub/sub messages are wrapped in on /.json. */
#include "ws_webdis.h"

#include <string.h>

#include "json_reply.h"
#include "util.h"

void ws_webdis_command(struct ws_webdis *w, const struct argv_ref *name)
{
    if (!w->on || w->sublen || name->n >= sizeof(w->subname)) return;
    if (util_eqci(name->p, name->n, "subscribe") || util_eqci(name->p, name->n, "psubscribe") ||
        util_eqci(name->p, name->n, "ssubscribe")) {
        memcpy(w->subname, name->p, name->n);
        w->sublen = name->n;
    }
}

void ws_webdis_push_prefix(const struct ws_webdis *w, struct obuf *o)
{
    obuf_append(o, "{", 1);
    if (w->sublen)
        json_put_string_lossy(o, w->subname, w->sublen);
    else
        obuf_append(o, "\"SUBSCRIBE\"", 11);
    obuf_append(o, ":", 1);
}
