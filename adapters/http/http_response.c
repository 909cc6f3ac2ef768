/* http_response.c — writing an HTTP response into a connection's output:
 * the status line with Keel's Server/Allow headers, CORS, keep-alive, ETags
 * (304 on a matching If-None-Match), Content-Disposition, and JSON error
 * bodies (http_conn_int.h). */
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "http_access.h"
#include "http_assets.h"
#include "http_conn_int.h"
#include "md5.h"
#include "util.h"

void http_out_str(struct http_conn *c, const char *s)
{
    obuf_append(&c->conn.out, s, strlen(s));
}
void http_out_num(struct http_conn *c, unsigned long long v)
{
    char b[24];
    obuf_append(&c->conn.out, b, (size_t)util_ull2str(b, v));
}

void http_out_fmt(struct http_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    obuf_vprintf(&c->conn.out, fmt, ap);
    va_end(ap);
}

/* CORS: the request's Origin when allowed, "*" when any origin is. */
void http_cors_headers(struct http_conn *c)
{
    const char *l = g_config.http_allowed_origins;
    if (l && l[0] == '*' && l[1] == 0) {
        OUT_LIT(c, "Access-Control-Allow-Origin: *\r\n");
    } else if (c->rq.origin[0] && http_origin_allowed(c->rq.origin, strlen(c->rq.origin))) {
        if (l && strcmp(l, "*") == 0)
            http_out_str(c, "Access-Control-Allow-Origin: *\r\n");
        else
            http_out_fmt(c, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", c->rq.origin);
    } else if (!c->rq.origin[0] && l && strcmp(l, "*") == 0) {
        http_out_str(c, "Access-Control-Allow-Origin: *\r\n");
    }
}

void http_status_line(struct http_conn *c, int status)
{
    const char *why = http_reason(status);
    if (c->rq.minor >= 1)
        OUT_LIT(c, "HTTP/1.1 ");
    else
        OUT_LIT(c, "HTTP/1.0 ");
    http_out_num(c, (unsigned long long)status);
    OUT_LIT(c, " ");
    obuf_append(&c->conn.out, why, strlen(why));
    OUT_LIT(c, "\r\nServer: Keel/0.1.0\r\n");
    if (status != 204) /* a preflight writes its own */
        http_out_str(
            c, "Allow: GET,POST,PUT,OPTIONS\r\n"
               "Access-Control-Allow-Methods: GET,POST,PUT,OPTIONS\r\n"
               "Access-Control-Allow-Headers: X-Requested-With, Content-Type, Authorization\r\n");
    http_cors_headers(c);
}

void http_connection_header(struct http_conn *c)
{
    if (c->rq.keep_alive)
        OUT_LIT(c, "Connection: Keep-Alive\r\n");
    else
        OUT_LIT(c, "Connection: Close\r\n");
}

/* A complete response with body p[0..n). */
void http_respond(struct http_conn *c, int status, const char *ctype, const char *p, size_t n)
{
    char etag[33];
    if (status == 200 && !c->rq.upstash) { /* Upstash's POSTs are not cached */
        md5_hex(p, n, etag);
        if (c->rq.inm[0] && strlen(c->rq.inm) == 34 && c->rq.inm[0] == '"' &&
            memcmp(c->rq.inm + 1, etag, 32) == 0) {
            http_status_line(c, 304);
            http_connection_header(c);
            http_out_str(c, "\r\n");
            goto done;
        }
    }
    http_status_line(c, status);
    if (status == 401) http_out_str(c, "WWW-Authenticate: Basic realm=\"keel\"\r\n");
    if (ctype) {
        OUT_LIT(c, "Content-Type: ");
        obuf_append(&c->conn.out, ctype, strlen(ctype));
        OUT_LIT(c, "\r\n");
    }
    if (c->rq.csp)
        http_out_str(c, "Content-Security-Policy: " HTTP_ASSETS_CSP "\r\n"
                        "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n");
    if (status == 200 && c->rq.filename[0])
        http_out_fmt(c, "Content-Disposition: attachment; filename=\"%s\"\r\n", c->rq.filename);
    if (status == 200 && !c->rq.upstash) {
        OUT_LIT(c, "ETag: \"");
        obuf_append(&c->conn.out, etag, 32);
        OUT_LIT(c, "\"\r\n");
    }
    OUT_LIT(c, "Content-Length: ");
    http_out_num(c, n);
    OUT_LIT(c, "\r\n");
    http_connection_header(c);
    http_out_str(c, "\r\n");
    if (!c->rq.head) obuf_append(&c->conn.out, p, n);
done:
    if (!c->rq.keep_alive) c->conn.state = CONN_CLOSING;
}

/* An error response with a JSON body {"error": why}. */
void http_respond_error(struct http_conn *c, int status, const char *why)
{
    struct obuf b = {0};
    obuf_append(&b, "{\"error\":", 9);
    json_put_string_lossy(&b, why, strlen(why));
    obuf_append(&b, "}", 1);
    http_respond(c, status, "application/json", b.buf, b.len);
    obuf_free(&b);
}
