/* http_format.h — the non-JSON response formats of the HTTP adapter (and
 * the reason phrases of its statuses):
 * Webdis's extensions and their content types, and the "bytes" reply sink
 * that turns a reply into the raw bytes of its value (.txt .html .bin ...:
 * a bulk or status as is, an integer in decimal, array elements joined by
 * ?sep=, nil -> not found). */
#ifndef KEEL_HTTP_FORMAT_H
#define KEEL_HTTP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"
#include "resp_encode.h"

enum http_fmt { FMT_JSON, FMT_RAW, FMT_BYTES, FMT_MSGPACK };

/* The reason phrase of an HTTP status ("Not Found"; "Unknown" for others). */
const char *http_reason(int status);

/* Format and default content type for an extension ("" -> JSON). */
enum http_fmt http_format_for(const char *ext, const char **content_type);

struct bytes_sink {
    struct obuf out;
    char sep[256]; /* ?sep=, copied in: it belongs to this request alone */
    size_t seplen;
    int depth; /* open aggregates */
    long long left[64];
    bool any;   /* an element was written (separator before the next) */
    bool nil;   /* the reply was nil (404) */
    bool error; /* the reply was an error */
    bool done;  /* the top-level value is complete */
};

extern const struct reply_ops bytes_reply_ops; /* ctx: struct bytes_sink * */
/* Start a new reply; sep (at most sizeof(s->sep) bytes are kept) is copied. */
void bytes_sink_reset(struct bytes_sink *s, const char *sep, size_t seplen);

#endif
