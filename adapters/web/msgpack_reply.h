/* msgpack_reply.h — the MessagePack reply sink (.msg, application/x-msgpack,
 * as Webdis's msgpack format): each command's reply is a one-entry map
 * {name: value}; a status is [true, text], an error [false, text], a
 * string a raw/str (fixstr, str16, str32: the encodings old and new
 * decoders share), an integer the smallest int, nil nil, arrays arrays,
 * maps maps (HGETALL's flat array too, and INFO's text as a map of its
 * fields, as Webdis does). Unlike Webdis 0.1.x, which writes nil for a
 * nested array, nested arrays are kept. */
#ifndef KEEL_MSGPACK_REPLY_H
#define KEEL_MSGPACK_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"
#include "resp_encode.h" /* struct obuf */

#define MSGPACK_MAX_DEPTH 64

struct msgpack_sink {
    struct obuf out;
    char name[64]; /* the command answered now (as typed, cut at 63 bytes) */
    size_t nlen;
    int depth;
    struct msgpack_frame {
        long long left; /* values still to come (-1: deferred) */
        long long count;
        size_t hdr; /* deferred: offset of its 4-byte count */
        bool map;
    } st[MSGPACK_MAX_DEPTH];
};

extern const struct reply_ops msgpack_reply_ops; /* ctx: struct msgpack_sink * */

/* A new response; a batch of n commands is an array of n maps. */
void msgpack_sink_reset(struct msgpack_sink *s, bool batch, int n);
/* The name the next command's reply is wrapped in. */
void msgpack_sink_name(struct msgpack_sink *s, const char *p, size_t n);
void msgpack_sink_free(struct msgpack_sink *s);

#endif
