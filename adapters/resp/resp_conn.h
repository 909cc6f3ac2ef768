/* resp_conn.h — the RESP listener and connection life, and the RESP
 * command loop (resp_serve) the RESP port and the WebSocket RESP mode
 * share. */
#ifndef KEEL_RESP_CONN_H
#define KEEL_RESP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "adapter.h"
#include "registry.h" /* struct argv_ref */

struct conn;
struct event_base;
struct resp_parser;

/* The RESP port: listens on every address of `bind` (space separated; a
 * leading '-' marks an address that may fail) at `port`. */
extern const struct adapter_def resp_adapter_def;

/* What a resp_serve caller decides about a command before it runs. */
enum resp_verdict {
    RESP_SUBMIT, /* run it */
    RESP_SKIP,   /* answered by the filter (an error reply): go on */
    RESP_DROP,   /* the filter dropped the connection (conn_abort): stop */
};
typedef enum resp_verdict (*resp_filter_fn)(struct conn *c, int argc, const struct argv_ref *argv);

/* Run the RESP commands in buf[0..*len) for c's client: parse (p), filter,
 * kernel_submit, one by one, while c is OPEN, not dead and not
 * conn_out_full; the bytes consumed are removed from buf. A client that
 * parks leaves c PARKED (the rest of buf waits); one that must close
 * (QUIT) closes after its replies (conn_close_after_reply). Returns false
 * on a protocol error: its "ERR Protocol error: ..." reply is written and
 * the input dropped; the caller closes. */
bool resp_serve(struct conn *c, struct resp_parser *p, char *buf, size_t *len,
                resp_filter_fn filter);

#endif
