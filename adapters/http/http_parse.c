/* http_parse.c — the strict HTTP/1.x request parser (see http_parse.h).
 * Accepts exactly: a request line "METHOD SP target SP HTTP/1.x CRLF"
 * (a bare LF is tolerated as line end), header lines "name: value" with a
 * token name and no obsolete line folding, an empty line, then a body
 * sized by Content-Length or chunked. Anything else is 400 with a reason;
 * sizes beyond the limits are 413/414/431. */
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->lim = *lim;
}

void http_parser_free(struct http_parser *p)
{
    free(p->chunk_buf);
    p->chunk_buf = NULL;
    p->chunk_cap = 0;
}

static enum http_result bad(struct http_parser *p, int status, const char *why)
{
    p->status = status;
    p->error = why;
    return HTTP_BAD;
}

static bool is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The next line of buf[*pos..len): [*pos, end) without its CR LF. Returns
 * false when no line end is present yet. */
static bool next_line(const char *buf, size_t len, size_t *pos, size_t *end, size_t *next)
{
    const char *nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl) return false;
    *end = (size_t)(nl - buf);
    *next = *end + 1;
    if (*end > *pos && buf[*end - 1] == '\r') (*end)--;
    return true;
}

static bool eqci(const char *a, size_t n, const char *b)
{
    return util_eqci(a, n, b);
}

const struct http_header *http_header(const struct http_request *req, const char *name)
{
    int i;
    for (i = 0; i < req->nheaders; i++)
        if (eqci(req->headers[i].name, req->headers[i].nlen, name)) return &req->headers[i];
    return NULL;
}

bool http_header_has_token(const struct http_header *h, const char *token)
{
    size_t i = 0, tl = strlen(token);
    if (!h) return false;
    while (i < h->vlen) {
        size_t s, e;
        while (i < h->vlen && (h->value[i] == ' ' || h->value[i] == '\t' || h->value[i] == ','))
            i++;
        s = i;
        while (i < h->vlen && h->value[i] != ',')
            i++;
        e = i;
        while (e > s && (h->value[e - 1] == ' ' || h->value[e - 1] == '\t'))
            e--;
        if (e - s == tl && util_eqci(h->value + s, e - s, token)) return true;
    }
    return false;
}

static enum http_method method_of(const char *m, size_t n)
{
    static const struct {
        const char *s;
        enum http_method m;
    } t[] = {{"GET", HM_GET}, {"HEAD", HM_HEAD},       {"POST", HM_POST},
             {"PUT", HM_PUT}, {"OPTIONS", HM_OPTIONS}, {"DELETE", HM_DELETE}};
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strlen(t[i].s) == n && memcmp(t[i].s, m, n) == 0) return t[i].m;
    return HM_OTHER;
}

static enum http_result parse_request_line(struct http_parser *p, const char *s, size_t n,
                                           struct http_request *req)
{
    const char *sp1, *sp2;
    size_t i;
    sp1 = memchr(s, ' ', n);
    if (!sp1 || sp1 == s) return bad(p, 400, "malformed request line");
    for (i = 0; i < (size_t)(sp1 - s); i++)
        if (!is_tchar((unsigned char)s[i])) return bad(p, 400, "malformed method");
    req->method_str = s;
    req->method_len = (size_t)(sp1 - s);
    req->method = method_of(s, req->method_len);
    sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
    if (!sp2 || sp2 == sp1 + 1) return bad(p, 400, "malformed request line");
    req->target = sp1 + 1;
    req->target_len = (size_t)(sp2 - req->target);
    if (req->target_len > p->lim.max_url) return bad(p, 414, "URI too long");
    for (i = 0; i < req->target_len; i++) {
        unsigned char c = (unsigned char)req->target[i];
        if (c <= 0x20 || c == 0x7f) return bad(p, 400, "invalid character in the request target");
    }
    if (req->target[0] != '/' && !(req->target_len == 1 && req->target[0] == '*'))
        return bad(p, 400, "the request target must start with '/'");
    n -= (size_t)(sp2 + 1 - s);
    s = sp2 + 1;
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' ||
        s[7] < '0' || s[7] > '9')
        return bad(p, 400, "malformed HTTP version");
    if (s[5] != '1') return bad(p, 505, "HTTP version not supported");
    req->minor = s[7] - '0';
    return HTTP_DONE;
}

/* The checks a request line allows before it is complete, made in the
 * same order whether it is or not, so that a request gets the same answer
 * however it is split: the method's characters (400), then the target's
 * length so far (414). */
static enum http_result request_line_prefix(struct http_parser *p, const char *s, size_t n)
{
    const char *sp1 = memchr(s, ' ', n), *t, *sp2;
    size_t i, m = sp1 ? (size_t)(sp1 - s) : n;
    if (sp1 == s) return bad(p, 400, "malformed request line");
    for (i = 0; i < m; i++)
        if (!is_tchar((unsigned char)s[i])) return bad(p, 400, "malformed method");
    if (!sp1) return HTTP_MORE;
    t = sp1 + 1;
    sp2 = memchr(t, ' ', n - (size_t)(t - s));
    if ((size_t)((sp2 ? sp2 : s + n) - t) > p->lim.max_url) return bad(p, 414, "URI too long");
    return HTTP_MORE;
}

/* Content-Length: digits only, no overflow. */
static bool parse_length(const char *v, size_t n, long long *out)
{
    long long x = 0;
    size_t i;
    if (n == 0 || n > 18) return false;
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return false;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return true;
}

/* Decode a chunked body starting at buf[pos]. Returns HTTP_DONE with *end
 * set past the final CRLF, HTTP_MORE, or HTTP_BAD. A body arriving in many
 * reads is decoded once: each HTTP_MORE remembers the last chunk boundary
 * and the next call on the same request resumes there. */
static enum http_result parse_chunked(struct http_parser *p, const char *buf, size_t len,
                                      size_t pos, size_t *end, size_t *blen)
{
    size_t total = 0, body = pos;
    if (p->ck_valid && p->ck_body == body && p->ck_pos >= body && p->ck_pos <= len) {
        pos = p->ck_pos;
        total = p->ck_total;
    }
    p->ck_valid = false;
    for (;;) {
        size_t le, next, i;
        unsigned long long sz = 0;
        p->ck_body = body; /* a chunk boundary: where to resume after MORE */
        p->ck_pos = pos;
        p->ck_total = total;
        /* A size line (with extensions) of at most 1024 bytes, whether it
         * arrived whole or not (1025: it may end with the CR of CR LF). */
        if (!next_line(buf, len, &pos, &le, &next)) {
            if (len - pos > 1025) return bad(p, 400, "malformed chunk size");
            p->ck_valid = true;
            return HTTP_MORE;
        }
        if (le == pos || le - pos > 1024) return bad(p, 400, "malformed chunk size");
        for (i = pos; i < le && buf[i] != ';'; i++) {
            int d;
            char c = buf[i];
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                d = (c | 0x20) - 'a' + 10;
            else
                return bad(p, 400, "malformed chunk size");
            if (sz > (1ULL << 40)) return bad(p, 413, "request body too large");
            sz = sz * 16 + (unsigned)d;
        }
        if (i == pos) return bad(p, 400, "malformed chunk size");
        if (total + sz > p->lim.max_body) return bad(p, 413, "request body too large");
        pos = next;
        if (sz == 0) {
            /* Trailers: skip header lines up to the empty line (at most
             * max_header bytes of them). */
            size_t tstart = pos;
            for (;;) {
                if (!next_line(buf, len, &pos, &le, &next)) {
                    if (len - tstart > p->lim.max_header)
                        return bad(p, 431, "request trailers too large");
                    p->ck_valid = true;
                    return HTTP_MORE;
                }
                if (next - tstart > p->lim.max_header)
                    return bad(p, 431, "request trailers too large");
                if (le == pos) {
                    *end = next;
                    *blen = total;
                    return HTTP_DONE;
                }
                pos = next;
            }
        }
        if (len - pos < sz + 1) {
            p->ck_valid = true;
            return HTTP_MORE;
        }
        if (p->chunk_cap < total + sz) {
            size_t cap = p->chunk_cap ? p->chunk_cap : 4096;
            while (cap < total + sz)
                cap *= 2;
            p->chunk_buf = xrealloc(p->chunk_buf, cap);
            p->chunk_cap = cap;
        }
        memcpy(p->chunk_buf + total, buf + pos, sz);
        total += sz;
        pos += sz;
        if (buf[pos] == '\r') {
            if (len - pos < 2) {
                p->ck_valid = true; /* resumes before this chunk */
                return HTTP_MORE;
            }
            pos++;
        }
        if (buf[pos] != '\n') return bad(p, 400, "malformed chunk end");
        pos++;
    }
}

enum http_result http_parse(struct http_parser *p, const char *buf, size_t len,
                            struct http_request *req, size_t *used)
{
    size_t pos = 0, le, next;
    enum http_result r;
    const struct http_header *h;
    bool resume = p->ck_valid; /* chunked progress on this request, below */

    memset(req, 0, offsetof(struct http_request, headers));
    req->nheaders = 0;
    req->content_length = -1;
    req->body = NULL;
    req->body_len = 0;
    req->keep_alive = req->expect_continue = req->upgrade_ws = req->chunked = false;
    p->ck_valid = false;
    p->headers_done = false;
    p->status = 0;
    p->error = NULL;

    /* Robustness (RFC 9112 2.2): empty lines before a request are ignored. */
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    /* The request line's early checks look at what the header limit
     * allows of it, finished or not, so that the answer does not depend on
     * how the request was split: then 431 when it goes beyond. */
    if (!next_line(buf, len, &pos, &le, &next)) {
        size_t n = len - pos;
        if (len > p->lim.max_header)
            n = p->lim.max_header > pos ? p->lim.max_header - pos : 0;
        else if (n && buf[len - 1] == '\r')
            n--; /* maybe the line's end */
        if (request_line_prefix(p, buf + pos, n) == HTTP_BAD) return HTTP_BAD;
        if (len > p->lim.max_header) return bad(p, 431, "request headers too large");
        return HTTP_MORE;
    }
    {
        size_t n = le - pos;
        if (le > p->lim.max_header) n = p->lim.max_header > pos ? p->lim.max_header - pos : 0;
        if (request_line_prefix(p, buf + pos, n) == HTTP_BAD) return HTTP_BAD;
    }
    if (next > p->lim.max_header) return bad(p, 431, "request headers too large");
    r = parse_request_line(p, buf + pos, le - pos, req);
    if (r != HTTP_DONE) return r;
    pos = next;
    for (;;) {
        const char *s, *colon;
        size_t n, i, vs, ve;
        if (!next_line(buf, len, &pos, &le, &next)) {
            if (len > p->lim.max_header) return bad(p, 431, "request headers too large");
            return HTTP_MORE;
        }
        if (next > p->lim.max_header) return bad(p, 431, "request headers too large");
        if (le == pos) {
            pos = next;
            break;
        }
        s = buf + pos;
        n = le - pos;
        if (s[0] == ' ' || s[0] == '\t') return bad(p, 400, "obsolete header folding");
        colon = memchr(s, ':', n);
        if (!colon || colon == s) return bad(p, 400, "malformed header line");
        for (i = 0; i < (size_t)(colon - s); i++)
            if (!is_tchar((unsigned char)s[i])) return bad(p, 400, "malformed header name");
        for (i = (size_t)(colon - s) + 1; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return bad(p, 400, "invalid character in a header value");
        }
        if (req->nheaders == HTTP_MAX_HEADERS) return bad(p, 431, "too many request headers");
        vs = (size_t)(colon - s) + 1;
        ve = n;
        while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
            vs++;
        while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
            ve--;
        req->headers[req->nheaders].name = s;
        req->headers[req->nheaders].nlen = (size_t)(colon - s);
        req->headers[req->nheaders].value = s + vs;
        req->headers[req->nheaders].vlen = ve - vs;
        req->nheaders++;
        pos = next;
    }

    /* Derived fields. */
    h = http_header(req, "connection");
    if (req->minor >= 1)
        req->keep_alive = !http_header_has_token(h, "close");
    else
        req->keep_alive = http_header_has_token(h, "keep-alive");
    h = http_header(req, "expect");
    if (h) {
        if (!eqci(h->value, h->vlen, "100-continue")) return bad(p, 417, "unsupported expectation");
        req->expect_continue = true;
    }
    if (http_header_has_token(http_header(req, "upgrade"), "websocket") &&
        http_header_has_token(http_header(req, "connection"), "upgrade"))
        req->upgrade_ws = true;
    {
        int i, ncl = 0, nte = 0;
        for (i = 0; i < req->nheaders; i++) {
            struct http_header *hh = &req->headers[i];
            if (eqci(hh->name, hh->nlen, "content-length")) {
                long long v;
                if (!parse_length(hh->value, hh->vlen, &v))
                    return bad(p, 400, "bad Content-Length");
                if (ncl++ && v != req->content_length)
                    return bad(p, 400, "conflicting Content-Length headers");
                req->content_length = v;
            } else if (eqci(hh->name, hh->nlen, "transfer-encoding")) {
                nte++;
                if (!eqci(hh->value, hh->vlen, "chunked"))
                    return bad(p, 501, "unsupported transfer coding");
                req->chunked = true;
            }
        }
        if (nte > 1) return bad(p, 400, "repeated Transfer-Encoding");
        /* Both framings at once is a smuggling attempt (RFC 9112 6.3). */
        if (req->chunked && ncl) return bad(p, 400, "both Content-Length and Transfer-Encoding");
        if (req->chunked && req->minor == 0) return bad(p, 400, "chunked body in HTTP/1.0");
    }
    p->headers_done = true;
    if (req->chunked) {
        size_t end, blen;
        p->ck_valid = resume;
        r = parse_chunked(p, buf, len, pos, &end, &blen);
        if (r != HTTP_DONE) return r;
        req->body = p->chunk_buf ? p->chunk_buf : "";
        req->body_len = blen;
        *used = end;
        return HTTP_DONE;
    }
    if (req->content_length > 0) {
        if ((unsigned long long)req->content_length > p->lim.max_body)
            return bad(p, 413, "request body too large");
        if (len - pos < (size_t)req->content_length) return HTTP_MORE;
        req->body = buf + pos;
        req->body_len = (size_t)req->content_length;
        pos += (size_t)req->content_length;
    }
    *used = pos;
    return HTTP_DONE;
}
