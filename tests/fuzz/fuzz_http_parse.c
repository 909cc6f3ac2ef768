/* fuzz_http_parse.c — libFuzzer target for adapters/http/http_parse.c and
 * the request decoders of adapters/web/http_request.c.
 *
 * Input: byte 0 picks the limits (small ones reach the 413/414/431 paths),
 * bytes 1-2 a split point; the rest is a stream of client bytes, parsed as
 * a keep-alive connection would: request after request while HTTP_DONE.
 * The stream is parsed twice — whole, and as two pieces (the connection
 * sees the first piece, then both) — and both must give the same sequence
 * of results (same kind, *used, status, request fields and body bytes).
 * Invariants on every result: *used <= len and > 0; every pointer in the
 * request lies inside the input, the body inside the input or the parser's
 * chunk buffer; Content-Length bodies have that length; HTTP_BAD carries a
 * status in {400,413,414,417,431,501,505} and a reason. For each request,
 * the target goes through http_decode_path (and the query through
 * http_query_get), a JSON-looking body through http_decode_json, and the
 * cmdbuf must be consistent; the target and body also go through
 * json_put_string, whose output must be JSON that decodes back to the same
 * bytes (directly, or via {"base64":..}). Any violation aborts. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "http_parse.h"
#include "http_request.h"
#include "json_reply.h"

static void put_num(struct out *o, long long v)
{
    put(o, &v, sizeof(v));
}
static void put_bytes(struct out *o, const char *p, size_t n)
{
    put_num(o, (long long)n);
    put(o, p, n);
}

static bool inside(const char *p, size_t n, const char *lo, size_t len)
{
    if (n == 0) return true;
    return p && lo && p >= lo && p + n <= lo + len;
}

static const char *const known_ext[] = {"",     "json", "raw", "txt", "html",  "xml", "png", "jpg",
                                        "jpeg", "css",  "bin", "js",  "xhtml", "msg", NULL};

static void check_cmdbuf(const struct cmdbuf *b)
{
    int i, total = 0;
    CHECK(b->argc >= 0 && b->ncmd >= 0);
    for (i = 0; i < b->ncmd; i++) {
        CHECK(b->cmd_start[i] == total);
        CHECK(b->cmd_argc[i] >= 0);
        total += b->cmd_argc[i];
    }
    CHECK(total == b->argc);
    for (i = 0; i < b->argc; i++)
        CHECK(inside(b->argv[i].p, b->argv[i].n, b->bytes, b->blen));
}

/* json_put_string(p) must read back (jansson) as exactly p. */
static void check_json_string(const char *p, size_t n)
{
    struct obuf o = {0};
    json_error_t je;
    json_t *v;
    json_put_string(&o, p, n);
    v = json_loadb(o.buf, o.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    CHECK(v != NULL);
    if (json_is_string(v)) {
        CHECK(json_utf8_valid(p, n));
        CHECK(json_string_length(v) == n && memcmp(json_string_value(v), p, n) == 0);
    } else {
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        json_t *b64 = json_object_get(v, "base64");
        const char *s;
        size_t sl, i, k = 0;
        unsigned acc = 0;
        int bits = 0;
        CHECK(!json_utf8_valid(p, n));
        CHECK(json_is_object(v) && json_object_size(v) == 1 && json_is_string(b64));
        s = json_string_value(b64);
        sl = json_string_length(b64);
        CHECK(sl % 4 == 0 && sl == (n + 2) / 3 * 4);
        for (i = 0; i < sl && s[i] != '='; i++) {
            const char *c = strchr(tab, s[i]);
            CHECK(c && s[i]);
            acc = (acc << 6) | (unsigned)(c - tab);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                CHECK(k < n && (unsigned char)p[k] == ((acc >> bits) & 0xff));
                k++;
            }
        }
        CHECK(k == n);
    }
    json_decref(v);
    obuf_free(&o);
}

/* The decoders on one parsed request. */
static void decode_request(const struct http_request *req)
{
    struct cmdbuf b = {0};
    const char *q = memchr(req->target, '?', req->target_len);
    size_t plen = q ? (size_t)(q - req->target) : req->target_len;
    int db, i;
    char ext[16];
    bool ok = http_decode_path(req->target, plen, &b, &db, ext, sizeof(ext));
    /* A PUT body is the last argument (appended before the fix-up). */
    if (req->method == HM_PUT) cmdbuf_add_arg(&b, req->body ? req->body : "", req->body_len, true);
    cmdbuf_finish(&b);
    check_cmdbuf(&b);
    CHECK(db >= -1 && db <= 999999999);
    for (i = 0; known_ext[i] && strcmp(known_ext[i], ext) != 0; i++) {
    }
    CHECK(known_ext[i] != NULL);
    if (ok) {
        CHECK(b.ncmd == 1 && b.cmd_argc[0] >= 1 && b.argv[0].n > 0);
        if (req->method == HM_PUT)
            CHECK(b.argv[b.argc - 1].n == req->body_len &&
                  (req->body_len == 0 ||
                   memcmp(b.argv[b.argc - 1].p, req->body, req->body_len) == 0));
        /* Each argument is at most as long as its encoded form. */
        for (i = 0; i < b.argc - (req->method == HM_PUT); i++)
            CHECK(b.argv[i].n <= plen);
    }
    cmdbuf_free(&b);
    if (q) {
        static const char *const names[] = {"type",   "sep",   "jsonp", "callback",
                                            "atomic", "token", ""};
        size_t ql = req->target_len - plen - 1, vl;
        for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
            const char *v = http_query_get(q + 1, ql, names[i], &vl);
            if (v) {
                char *dec = malloc(vl ? vl : 1);
                size_t dl;
                CHECK(v >= q + 1 && v + vl <= q + 1 + ql);
                dl = http_urldecode(v, vl, dec);
                CHECK(dl <= vl);
                free(dec);
            }
        }
    }
    if (req->body_len) {
        size_t k = 0;
        while (k < req->body_len && (req->body[k] == ' ' || req->body[k] == '\n' ||
                                     req->body[k] == '\r' || req->body[k] == '\t'))
            k++;
        if (k < req->body_len && (req->body[k] == '[' || req->body[k] == '{')) {
            char err[256];
            bool batch;
            struct cmdbuf jb = {0};
            err[0] = 0;
            if (http_decode_json(req->body, req->body_len, &jb, &batch, err, sizeof(err))) {
                cmdbuf_finish(&jb);
                check_cmdbuf(&jb);
                CHECK(jb.ncmd >= 1);
                for (i = 0; i < jb.ncmd; i++)
                    CHECK(jb.cmd_argc[i] >= 1);
                if (!batch) CHECK(jb.ncmd == 1);
            } else {
                CHECK(err[0] != 0);
            }
            cmdbuf_free(&jb);
        }
        if (req->body_len <= 4096) check_json_string(req->body, req->body_len);
    }
    check_json_string(req->target, req->target_len);
}

/* Check and record one non-MORE result. */
static void record(struct out *o, const struct http_parser *p, enum http_result r,
                   const struct http_request *req, const char *buf, size_t len, size_t used)
{
    int i;
    put_num(o, r);
    if (r == HTTP_BAD) {
        static const int ok[] = {400, 413, 414, 417, 431, 501, 505};
        bool found = false;
        for (i = 0; i < 7; i++)
            found |= p->status == ok[i];
        CHECK(found);
        CHECK(p->error != NULL && p->error[0]);
        put_num(o, p->status);
        return;
    }
    CHECK(used > 0 && used <= len);
    CHECK(inside(req->method_str, req->method_len, buf, used) && req->method_len > 0);
    CHECK(inside(req->target, req->target_len, buf, used) && req->target_len > 0);
    CHECK(req->target[0] == '/' || (req->target_len == 1 && req->target[0] == '*'));
    CHECK(req->target_len <= p->lim.max_url);
    CHECK(req->minor >= 0 && req->minor <= 9);
    CHECK(req->nheaders >= 0 && req->nheaders <= HTTP_MAX_HEADERS);
    for (i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        CHECK(h->nlen > 0 && inside(h->name, h->nlen, buf, used));
        CHECK(inside(h->value, h->vlen, buf, used));
        if (h->nlen < 64) {
            /* Lookup by name finds this header or an earlier one of that name. */
            char name[64];
            const struct http_header *f;
            memcpy(name, h->name, h->nlen);
            name[h->nlen] = 0;
            f = strlen(name) == h->nlen ? http_header(req, name) : h;
            CHECK(f != NULL && f <= h && f->nlen == h->nlen);
        }
    }
    if (req->chunked) {
        CHECK(req->content_length == -1);
        CHECK(req->body != NULL);
        CHECK(req->body_len <= p->lim.max_body);
        CHECK(req->body_len == 0 || inside(req->body, req->body_len, p->chunk_buf, p->chunk_cap));
    } else if (req->content_length > 0) {
        CHECK((unsigned long long)req->content_length == req->body_len);
        CHECK(req->body_len <= p->lim.max_body);
        CHECK(inside(req->body, req->body_len, buf, used));
    } else {
        CHECK(req->body_len == 0);
    }
    CHECK(!req->chunked || req->minor >= 1);
    put_num(o, (long long)used);
    put_num(o, req->method);
    put_bytes(o, req->method_str, req->method_len);
    put_bytes(o, req->target, req->target_len);
    put_num(o, req->minor);
    put_num(o, req->nheaders);
    for (i = 0; i < req->nheaders; i++) {
        put_bytes(o, req->headers[i].name, req->headers[i].nlen);
        put_bytes(o, req->headers[i].value, req->headers[i].vlen);
    }
    put_num(o,
            req->keep_alive | req->expect_continue << 1 | req->upgrade_ws << 2 | req->chunked << 3);
    put_num(o, req->content_length);
    put_bytes(o, req->body ? req->body : "", req->body_len);
}

#define MAX_REQS 16

/* Parse the stream as a connection would, given the bytes in `pieces`
 * (cumulative lengths): after each arrival, parse requests while DONE. */
static void run(struct out *o, const struct http_limits *lim, const char *data, size_t len,
                const size_t *ends, int nends, bool decode)
{
    struct http_parser p;
    size_t off = 0;
    int e, nreq = 0;
    bool stop = false;
    http_parser_init(&p, lim);
    for (e = 0; e < nends && !stop; e++) {
        /* The connection's buffer: a copy of exactly what has arrived. */
        size_t avail = ends[e];
        char *buf = malloc(avail ? avail : 1);
        CHECK(buf != NULL && avail <= len);
        memcpy(buf, data, avail);
        while (off < avail && nreq < MAX_REQS) {
            struct http_request req;
            size_t used = 0;
            enum http_result r = http_parse(&p, buf + off, avail - off, &req, &used);
            if (r == HTTP_MORE) break;
            record(o, &p, r, &req, buf + off, avail - off, used);
            if (r == HTTP_BAD) {
                stop = true;
                break;
            }
            if (decode) decode_request(&req);
            off += used;
            nreq++;
        }
        if (nreq >= MAX_REQS) stop = true;
        free(buf);
    }
    put_num(o, -1); /* end, and where the unconsumed bytes start */
    put_num(o, (long long)off);
    http_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_limits small = {64, 256, 512}, dflt = {16384, 32768, 1 << 20};
    static const struct http_limits tiny = {8, 40, 16};
    struct out whole = {0}, split = {0};
    const struct http_limits *lim;
    size_t len, k, ends[2];
    const char *in;
    if (size < 3) return 0;
    lim = data[0] % 3 == 0 ? &dflt : data[0] % 3 == 1 ? &small : &tiny;
    in = (const char *)data + 3;
    len = size - 3;
    k = ((size_t)data[1] << 8 | data[2]) % (len + 1);

    ends[0] = len;
    run(&whole, lim, in, len, ends, 1, true);
    ends[0] = k;
    ends[1] = len;
    run(&split, lim, in, len, ends, 2, false);
    if (whole.n != split.n || memcmp(whole.b, split.b, whole.n) != 0) {
        fprintf(stderr, "fuzz_http_parse: whole and split at %zu disagree\n", k);
        abort();
    }
    free(whole.b);
    free(split.b);
    return 0;
}
