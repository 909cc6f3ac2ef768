/* resp_encode.h — the RESP reply sink: typed replies into an output
 * buffer as RESP3, or degraded to RESP2 (map -> flat array, set/push ->
 * array, double/bignum/verbatim -> bulk, boolean -> integer, null -> $-1 or
 * *-1) according to the client's negotiated version. */
#ifndef KEEL_RESP_ENCODE_H
#define KEEL_RESP_ENCODE_H

#include <stddef.h>

#include "obuf.h"
#include "reply.h"

extern const struct reply_ops resp_reply_ops; /* ctx: struct obuf * */

#endif
