/* upstash.h — the Upstash REST API's shapes, served under /_upstash on
 * the HTTP port (so that @upstash/redis works unchanged with the URL
 * http://host:port/_upstash): decoding its requests (a JSON command array
 * POSTed to the root, arrays of them to /pipeline and /multi-exec, or the
 * path form /set/k/v with a body as the last argument and query
 * parameters after it) and its reply sink ({"result":...} or
 * {"error":"..."}, status replies as plain strings, RESP2 shapes, and with
 * "Upstash-Encoding: base64" every string base64-encoded except a result
 * that is the status OK). */
#ifndef KEEL_UPSTASH_H
#define KEEL_UPSTASH_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"
#include "resp_encode.h" /* struct obuf */

struct cmdbuf;
struct http_request;

enum upstash_mode { UPSTASH_SINGLE, UPSTASH_PIPELINE, UPSTASH_MULTI_EXEC };

#define UPSTASH_PREFIX "/_upstash"
#define UPSTASH_MAX_DEPTH 64

/* Is the request target path (query excluded) an Upstash one? */
bool upstash_path(const char *path, size_t n);

/* The JSON endpoints: /_upstash (one command), /_upstash/pipeline,
 * /_upstash/multi-exec. True with *mode set when path (with its prefix) is
 * one: its POST body is a JSON command array, or an array of them (the
 * HTTP adapter decodes it). False: the path form (upstash_decode). */
bool upstash_json_route(const char *path, size_t plen, enum upstash_mode *mode);
/* Check a decoded JSON body's shape for the endpoint: false with err (a
 * 400) when a single command came to a pipeline or a batch to the root. */
bool upstash_json_shape(enum upstash_mode mode, bool batch, char *err, size_t errlen);

/* Decode a path-form request (/_upstash/cmd/arg..., query separate) into
 * b: the path's words, a body as the last argument, then the query's
 * parameters. Returns false with err set (a 400) on an empty command. */
bool upstash_decode(const struct http_request *req, const char *path, size_t plen, const char *q,
                    size_t ql, struct cmdbuf *b, char *err, size_t errlen);

struct upstash_sink {
    struct obuf out;
    enum upstash_mode mode;
    bool b64;
    bool top_error; /* a top-level reply was an error (single: HTTP 400) */
    int ntop;       /* top-level replies written */
    int depth;
    bool top_bare;        /* multi-exec: the EXEC array is the response itself */
    struct obuf attr_out; /* a RESP3 attribute is written here and dropped */
    struct obuf saved_out;
    struct upstash_frame {
        long long left; /* elements still to come (-1: deferred) */
        bool first, wrap, attr;
    } st[UPSTASH_MAX_DEPTH];
};

extern const struct reply_ops upstash_reply_ops; /* ctx: struct upstash_sink * */

/* Start a response: a pipeline's or multi-exec's '[' is written here. */
void upstash_sink_reset(struct upstash_sink *s, enum upstash_mode mode, bool b64);
/* End it (the closing ']'); returns the HTTP status. */
int upstash_sink_finish(struct upstash_sink *s);
void upstash_sink_free(struct upstash_sink *s);

#endif
