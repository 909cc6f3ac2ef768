/* http_parse.h — a small strict HTTP/1.x request parser, shared by the HTTP
 * and WebSocket adapters. Stateless over the connection's input buffer: give
 * it everything received since the request began; it answers "need more",
 * "here is a complete request (and how many bytes it took)" or "bad request
 * with this status". Bodies may be sized by Content-Length or chunked
 * (decoded into a buffer the parser owns). Every size has a limit. */
#ifndef KEEL_HTTP_PARSE_H
#define KEEL_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 64

enum http_method { HM_GET, HM_HEAD, HM_POST, HM_PUT, HM_OPTIONS, HM_DELETE, HM_OTHER };

struct http_header {
    const char *name, *value;
    size_t nlen, vlen;
};

struct http_request {
    enum http_method method;
    const char *method_str, *target;
    size_t method_len, target_len;
    int minor; /* HTTP/1.<minor> */
    struct http_header headers[HTTP_MAX_HEADERS];
    int nheaders;
    /* Derived from the headers. */
    bool keep_alive;      /* 1.1 unless "Connection: close"; 1.0 only with keep-alive */
    bool expect_continue; /* "Expect: 100-continue" */
    bool upgrade_ws;      /* "Upgrade: websocket" with "Connection: upgrade" */
    bool chunked;
    long long content_length; /* -1 when absent */
    const char *body;
    size_t body_len;
};

struct http_limits {
    size_t max_url;    /* request-target bytes (414) */
    size_t max_header; /* request line + headers bytes (431) */
    size_t max_body;   /* body bytes (413) */
};

struct http_parser {
    struct http_limits lim;
    bool headers_done; /* the last HTTP_MORE came after complete headers */
    int status;        /* on HTTP_BAD: 400, 413, 414, 431, 501, 505 */
    const char *error; /* on HTTP_BAD: a short reason */
    char *chunk_buf;   /* decoded chunked body (owned, reused) */
    size_t chunk_cap;
    /* Private: how far a chunked body was decoded when HTTP_MORE was
     * answered (offsets from the request's start), so the next call on the
     * same request resumes there instead of decoding it all again. */
    bool ck_valid;
    size_t ck_body, ck_pos, ck_total;
};

enum http_result { HTTP_MORE, HTTP_DONE, HTTP_BAD };

void http_parser_init(struct http_parser *p, const struct http_limits *lim);
void http_parser_free(struct http_parser *p);
/* Parse one request at buf[0..len). On HTTP_DONE, *used is the request's
 * size (headers and body) and req points into buf (and the parser's chunk
 * buffer) until the next call. After HTTP_MORE, the next call must be for
 * the same request: the same bytes from its start, and more. */
enum http_result http_parse(struct http_parser *p, const char *buf, size_t len,
                            struct http_request *req, size_t *used);
/* The value of header `name` (case-insensitive), or NULL. */
const struct http_header *http_header(const struct http_request *req, const char *name);
/* Does a comma-separated header value contain `token` (case-insensitive)? */
bool http_header_has_token(const struct http_header *h, const char *token);

#endif
