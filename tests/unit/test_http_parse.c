/* test_http_parse.c — unit tests for adapters/http/http_parse.c, the strict
 * HTTP/1.x request parser: request-line forms (methods, versions, targets,
 * control characters), header parsing (case-insensitive lookup, trimming,
 * folding, count and size limits), the keep-alive rules of 1.0 and 1.1,
 * Expect: 100-continue, Upgrade detection, Content-Length framing (absent,
 * zero, duplicates, garbage, split across calls), chunked framing (several
 * chunks, extensions, trailers, bad sizes, limits, smuggling attempts) and
 * pipelining. Every accepted request is also fed in every possible split
 * (a prefix first, then the whole) and must give HTTP_MORE and then the
 * same result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "unit.h"

static const struct http_limits LIM = {16384, 32768, 1 << 20};

struct pr {
    struct http_parser p;
    struct http_request req;
    size_t used;
    enum http_result r;
};

static void pr_init(struct pr *x, const struct http_limits *lim)
{
    memset(x, 0, sizeof(*x));
    http_parser_init(&x->p, lim ? lim : &LIM);
}

static enum http_result pr_parse(struct pr *x, const char *buf, size_t len)
{
    x->used = (size_t)-1;
    x->r = http_parse(&x->p, buf, len, &x->req, &x->used);
    if (x->r == HTTP_DONE) ck_assert_uint_le(x->used, len);
    if (x->r == HTTP_BAD) ck_assert_int_ne(x->p.status, 0);
    return x->r;
}

/* Parse a NUL-terminated request with the default limits; the caller
 * frees with pr_free. */
static enum http_result parse_s(struct pr *x, const char *s)
{
    pr_init(x, NULL);
    return pr_parse(x, s, strlen(s));
}

static void pr_free(struct pr *x)
{
    http_parser_free(&x->p);
}

static bool eq(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* The status of a bad request (asserts it is bad). */
static int bad_status(const char *s)
{
    struct pr x;
    int st;
    enum http_result r = parse_s(&x, s);
    ck_assert_msg(r == HTTP_BAD, "expected HTTP_BAD for [%s], got %d", s, (int)r);
    ck_assert_ptr_nonnull(x.p.error);
    st = x.p.status;
    pr_free(&x);
    return st;
}

static enum http_result result_of(const char *s)
{
    struct pr x;
    enum http_result r = parse_s(&x, s);
    pr_free(&x);
    return r;
}

/* Feed buf[0..n) as every prefix then the whole: each proper prefix must
 * answer HTTP_MORE, or (for inputs holding more than one request) the same
 * DONE as the whole. Returns the whole's result in *out. */
static void all_splits_lim(const char *buf, size_t n, const struct http_limits *lim, struct pr *out)
{
    size_t k;
    struct pr whole;
    pr_init(&whole, lim);
    pr_parse(&whole, buf, n);
    for (k = 0; k < n; k++) {
        struct pr x;
        char *copy = malloc(k ? k : 1);
        memcpy(copy, buf, k);
        pr_init(&x, lim);
        pr_parse(&x, copy, k);
        if (x.r == HTTP_DONE) {
            ck_assert_msg(whole.r == HTTP_DONE && whole.used == x.used,
                          "prefix %zu: DONE used %zu, whole gave %d used %zu", k, x.used,
                          (int)whole.r, whole.used);
        } else if (x.r == HTTP_BAD) {
            ck_assert_msg(whole.r == HTTP_BAD && whole.p.status == x.p.status,
                          "prefix %zu: BAD %d, whole gave %d status %d", k, x.p.status,
                          (int)whole.r, whole.p.status);
        }
        /* A complete request is never reported before its last byte. */
        if (whole.r == HTTP_DONE && k < whole.used)
            ck_assert_msg(x.r == HTTP_MORE, "prefix %zu of a %zu-byte request: %d", k, whole.used,
                          (int)x.r);
        free(copy);
        pr_free(&x);
    }
    *out = whole;
}

static void all_splits(const char *buf, size_t n, struct pr *out)
{
    all_splits_lim(buf, n, NULL, out);
}

/* ---- request line ---- */

START_TEST(request_line_methods)
{
    static const struct {
        const char *m;
        enum http_method e;
    } t[] = {{"GET", HM_GET},         {"HEAD", HM_HEAD},     {"POST", HM_POST},   {"PUT", HM_PUT},
             {"OPTIONS", HM_OPTIONS}, {"DELETE", HM_DELETE}, {"PATCH", HM_OTHER}, {"get", HM_OTHER},
             {"BREW", HM_OTHER},      {"M-SEARCH", HM_OTHER}};
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char buf[128];
        struct pr x;
        snprintf(buf, sizeof(buf), "%s /x HTTP/1.1\r\n\r\n", t[i].m);
        ck_assert_int_eq(parse_s(&x, buf), HTTP_DONE);
        ck_assert_int_eq(x.req.method, t[i].e);
        ck_assert(eq(x.req.method_str, x.req.method_len, t[i].m));
        ck_assert(eq(x.req.target, x.req.target_len, "/x"));
        ck_assert_int_eq(x.req.minor, 1);
        ck_assert_uint_eq(x.used, strlen(buf));
        ck_assert_int_eq(x.req.nheaders, 0);
        ck_assert_int_eq(x.req.content_length, -1);
        ck_assert_ptr_null(x.req.body);
        ck_assert_uint_eq(x.req.body_len, 0);
        pr_free(&x);
    }
}
END_TEST

START_TEST(request_line_targets)
{
    struct pr x;
    ck_assert_int_eq(parse_s(&x, "GET /SET/k/v%20x?type=text/plain&a=b HTTP/1.1\r\n\r\n"),
                     HTTP_DONE);
    ck_assert(eq(x.req.target, x.req.target_len, "/SET/k/v%20x?type=text/plain&a=b"));
    pr_free(&x);
    ck_assert_int_eq(parse_s(&x, "OPTIONS * HTTP/1.1\r\n\r\n"), HTTP_DONE);
    ck_assert(eq(x.req.target, x.req.target_len, "*"));
    pr_free(&x);
    /* UTF-8 and other high bytes are allowed in the target. */
    ck_assert_int_eq(parse_s(&x, "GET /GET/caf\xc3\xa9 HTTP/1.1\r\n\r\n"), HTTP_DONE);
    pr_free(&x);
    /* A bare LF ends lines too; leading empty lines are skipped. */
    ck_assert_int_eq(parse_s(&x, "\r\n\nGET / HTTP/1.1\nHost: a\n\n"), HTTP_DONE);
    ck_assert_uint_eq(x.used, strlen("\r\n\nGET / HTTP/1.1\nHost: a\n\n"));
    ck_assert(eq(x.req.target, x.req.target_len, "/"));
    ck_assert_int_eq(x.req.nheaders, 1);
    ck_assert(eq(x.req.headers[0].value, x.req.headers[0].vlen, "a"));
    pr_free(&x);

    /* Missing pieces and wrong shapes: 400. */
    ck_assert_int_eq(bad_status("GET HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(" / HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET  / HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1 \r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET /  HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET x HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET http://h/ HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET ** HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("G(T / HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GE\x01T / HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("\x16\x03\x01\x02 / HTTP/1.1\r\n\r\n"), 400);
    /* Control characters in the target. */
    ck_assert_int_eq(bad_status("GET /a\tb HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET /a\x7f HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET /a\x01 HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET /a\rb HTTP/1.1\r\n\r\n"), 400);
    {
        static const char nul[] = "GET /a\0b HTTP/1.1\r\n\r\n";
        pr_init(&x, NULL);
        ck_assert_int_eq(pr_parse(&x, nul, sizeof(nul) - 1), HTTP_BAD);
        ck_assert_int_eq(x.p.status, 400);
        pr_free(&x);
    }
}
END_TEST

START_TEST(request_line_versions)
{
    struct pr x;
    ck_assert_int_eq(parse_s(&x, "GET / HTTP/1.0\r\n\r\n"), HTTP_DONE);
    ck_assert_int_eq(x.req.minor, 0);
    pr_free(&x);
    ck_assert_int_eq(parse_s(&x, "GET / HTTP/1.9\r\n\r\n"), HTTP_DONE);
    ck_assert_int_eq(x.req.minor, 9);
    pr_free(&x);
    /* Another major version: 505. */
    ck_assert_int_eq(bad_status("GET / HTTP/2.0\r\n\r\n"), 505);
    ck_assert_int_eq(bad_status("GET / HTTP/0.9\r\n\r\n"), 505);
    ck_assert_int_eq(bad_status("GET / HTTP/3.0\r\n\r\n"), 505);
    /* Not a version at all: 400. */
    ck_assert_int_eq(bad_status("GET / HTTP/1.10\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / http/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1,1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/a.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.x\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTPS/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / FTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/2\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / \r\n\r\n"), 400);
}
END_TEST

START_TEST(keep_alive_rules)
{
    static const struct {
        const char *req;
        bool ka;
    } t[] = {
        {"GET / HTTP/1.1\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nconnection: CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: Upgrade, Keep-Alive \r\n\r\n", true},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct pr x;
        ck_assert_int_eq(parse_s(&x, t[i].req), HTTP_DONE);
        ck_assert_msg(x.req.keep_alive == t[i].ka, "keep_alive for [%s]", t[i].req);
        pr_free(&x);
    }
}
END_TEST

/* ---- headers ---- */

START_TEST(headers_lookup_and_trim)
{
    struct pr x;
    const struct http_header *h;
    ck_assert_int_eq(parse_s(&x, "GET / HTTP/1.1\r\n"
                                 "Host:example.com\r\n"
                                 "X-Custom:   padded value \t \r\n"
                                 "X-Empty:\r\n"
                                 "X-Blank:    \r\n"
                                 "x-custom: second\r\n"
                                 "X-Utf8: caf\xc3\xa9\r\n"
                                 "X-Tab:\tin\tside\r\n"
                                 "\r\n"),
                     HTTP_DONE);
    ck_assert_int_eq(x.req.nheaders, 7);
    h = http_header(&x.req, "host");
    ck_assert_ptr_nonnull(h);
    ck_assert(eq(h->name, h->nlen, "Host"));
    ck_assert(eq(h->value, h->vlen, "example.com"));
    h = http_header(&x.req, "X-CUSTOM");
    ck_assert_ptr_nonnull(h);
    ck_assert(eq(h->value, h->vlen, "padded value")); /* the first of two */
    h = http_header(&x.req, "x-empty");
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->vlen, 0);
    h = http_header(&x.req, "X-Blank");
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->vlen, 0);
    h = http_header(&x.req, "x-utf8");
    ck_assert(eq(h->value, h->vlen, "caf\xc3\xa9"));
    h = http_header(&x.req, "x-tab");
    ck_assert(eq(h->value, h->vlen, "in\tside"));
    ck_assert_ptr_null(http_header(&x.req, "missing"));
    ck_assert_ptr_null(http_header(&x.req, "X-Custo"));
    ck_assert_ptr_null(http_header(&x.req, "X-Customs"));
    pr_free(&x);
}
END_TEST

START_TEST(header_tokens)
{
    struct http_header h;
    h.name = "Connection";
    h.nlen = 10;
    h.value = "keep-alive, Upgrade";
    h.vlen = strlen(h.value);
    ck_assert(http_header_has_token(&h, "upgrade"));
    ck_assert(http_header_has_token(&h, "KEEP-ALIVE"));
    ck_assert(!http_header_has_token(&h, "keep"));
    ck_assert(!http_header_has_token(&h, "alive"));
    ck_assert(!http_header_has_token(&h, "close"));
    h.value = " , a ,\tb\t,,c ";
    h.vlen = strlen(h.value);
    ck_assert(http_header_has_token(&h, "a"));
    ck_assert(http_header_has_token(&h, "b"));
    ck_assert(http_header_has_token(&h, "c"));
    ck_assert(!http_header_has_token(&h, ""));
    h.value = "";
    h.vlen = 0;
    ck_assert(!http_header_has_token(&h, "a"));
    ck_assert(!http_header_has_token(NULL, "a"));
    /* Values are not NUL-terminated: only vlen bytes count. */
    h.value = "closed";
    h.vlen = 5;
    ck_assert(http_header_has_token(&h, "close"));
}
END_TEST

START_TEST(headers_malformed)
{
    /* Obsolete line folding is rejected. */
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
    /* Names: a token, no space before the colon, not empty. */
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX(y): a\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX\x80: a\r\n\r\n"), 400);
    /* Control characters in values (tab is fine). */
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX-A: a\rz\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nX-A: a\x7fz\r\n\r\n"), 400);
    ck_assert_int_eq(result_of("GET / HTTP/1.1\r\nX-A: a\tz\r\n\r\n"), HTTP_DONE);
    {
        static const char nul[] = "GET / HTTP/1.1\r\nX-A: a\0z\r\n\r\n";
        struct pr x;
        pr_init(&x, NULL);
        ck_assert_int_eq(pr_parse(&x, nul, sizeof(nul) - 1), HTTP_BAD);
        ck_assert_int_eq(x.p.status, 400);
        pr_free(&x);
    }
}
END_TEST

START_TEST(headers_limits)
{
    char *buf = malloc(200000);
    size_t n;
    int i;
    struct pr x;

    /* Exactly HTTP_MAX_HEADERS headers are fine, one more is 431. */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(buf + n, "X-H%d: %d\r\n", i, i);
    strcpy(buf + n, "\r\n");
    ck_assert_int_eq(parse_s(&x, buf), HTTP_DONE);
    ck_assert_int_eq(x.req.nheaders, HTTP_MAX_HEADERS);
    ck_assert_ptr_nonnull(http_header(&x.req, "x-h63"));
    pr_free(&x);
    n += (size_t)sprintf(buf + n, "X-Last: 1\r\n\r\n");
    ck_assert_int_eq(bad_status(buf), 431);

    /* Headers larger than max_header: 431, complete or not. */
    {
        struct http_limits lim = {1000, 200, 1000};
        n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX-Big: ");
        memset(buf + n, 'a', 300);
        n += 300;
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_BAD); /* no line end yet */
        ck_assert_int_eq(x.p.status, 431);
        pr_free(&x);
        memcpy(buf + n, "\r\n\r\n", 4);
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, buf, n + 4), HTTP_BAD);
        ck_assert_int_eq(x.p.status, 431);
        pr_free(&x);
        /* Below the limit: waits for more. */
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, buf, 150), HTTP_MORE);
        ck_assert(!x.p.headers_done);
        pr_free(&x);
        /* Many small headers adding up beyond the limit. */
        n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
        for (i = 0; i < 30; i++)
            n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
        strcpy(buf + n, "\r\n");
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, buf, n + 2), HTTP_BAD);
        ck_assert_int_eq(x.p.status, 431);
        pr_free(&x);
    }

    /* Default limit: a 40000-byte header is 431. */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX-Big: ");
    memset(buf + n, 'b', 40000);
    n += 40000;
    strcpy(buf + n, "\r\n\r\n");
    ck_assert_int_eq(bad_status(buf), 431);
    free(buf);
}
END_TEST

START_TEST(url_limits)
{
    char *buf = malloc(100000);
    size_t n;
    struct pr x;
    struct http_limits lim = {100, 4096, 1000};

    /* A target of exactly max_url is fine, one more byte is 414. */
    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'u', 99);
    n += 99;
    strcpy(buf + n, " HTTP/1.1\r\n\r\n");
    pr_init(&x, &lim);
    ck_assert_int_eq(pr_parse(&x, buf, strlen(buf)), HTTP_DONE);
    ck_assert_uint_eq(x.req.target_len, 100);
    pr_free(&x);
    buf[n] = 'u';
    strcpy(buf + n + 1, " HTTP/1.1\r\n\r\n");
    pr_init(&x, &lim);
    ck_assert_int_eq(pr_parse(&x, buf, strlen(buf)), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 414);
    pr_free(&x);

    /* An overlong target is reported before the request line ends. */
    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'u', 300);
    n += 300;
    pr_init(&x, &lim);
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 414);
    pr_free(&x);

    /* Default limits: a 20000-byte URL is 414, whole or partial. */
    n = (size_t)sprintf(buf, "GET /GET/");
    memset(buf + n, 'k', 20000);
    n += 20000;
    pr_init(&x, NULL);
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 414);
    pr_free(&x);
    strcpy(buf + n, " HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(bad_status(buf), 414);
    free(buf);
}
END_TEST

/* ---- Expect, Upgrade ---- */

START_TEST(expect_continue)
{
    struct pr x;
    const char *h = "POST /SET/k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    char buf[256];
    ck_assert_int_eq(parse_s(&x, h), HTTP_MORE);
    ck_assert(x.p.headers_done);
    ck_assert(x.req.expect_continue);
    ck_assert_int_eq(x.req.content_length, 5);
    /* Half the body: still MORE, headers still done. */
    snprintf(buf, sizeof(buf), "%shel", h);
    ck_assert_int_eq(pr_parse(&x, buf, strlen(buf)), HTTP_MORE);
    ck_assert(x.p.headers_done);
    snprintf(buf, sizeof(buf), "%shello", h);
    ck_assert_int_eq(pr_parse(&x, buf, strlen(buf)), HTTP_DONE);
    ck_assert(x.req.expect_continue);
    ck_assert(eq(x.req.body, x.req.body_len, "hello"));
    ck_assert_uint_eq(x.used, strlen(buf));
    /* Before the headers end, headers_done is false. */
    ck_assert_int_eq(pr_parse(&x, h, strlen(h) - 2), HTTP_MORE);
    ck_assert(!x.p.headers_done);
    pr_free(&x);

    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\nexpect: 100-Continue\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n"),
                     HTTP_MORE);
    ck_assert(x.p.headers_done);
    ck_assert(x.req.expect_continue);
    ck_assert(x.req.chunked);
    pr_free(&x);

    ck_assert_int_eq(parse_s(&x, "GET / HTTP/1.1\r\n\r\n"), HTTP_DONE);
    ck_assert(!x.req.expect_continue);
    pr_free(&x);
    /* Any other expectation: 417. */
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n"), 417);
    ck_assert_int_eq(bad_status("GET / HTTP/1.1\r\nExpect:\r\n\r\n"), 417);
}
END_TEST

START_TEST(upgrade_detection)
{
    static const struct {
        const char *req;
        bool up;
    } t[] = {
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nUpgrade: websockets\r\nConnection: Upgrade\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\n\r\n", false},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct pr x;
        ck_assert_int_eq(parse_s(&x, t[i].req), HTTP_DONE);
        ck_assert_msg(x.req.upgrade_ws == t[i].up, "upgrade_ws for [%s]", t[i].req);
        pr_free(&x);
    }
}
END_TEST

/* ---- Content-Length ---- */

START_TEST(content_length_forms)
{
    struct pr x;
    /* Absent: no body, the next bytes are not consumed. */
    ck_assert_int_eq(parse_s(&x, "POST /PING HTTP/1.1\r\n\r\nextra"), HTTP_DONE);
    ck_assert_int_eq(x.req.content_length, -1);
    ck_assert_ptr_null(x.req.body);
    ck_assert_uint_eq(x.used, strlen("POST /PING HTTP/1.1\r\n\r\n"));
    pr_free(&x);
    /* Zero. */
    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET"), HTTP_DONE);
    ck_assert_int_eq(x.req.content_length, 0);
    ck_assert_uint_eq(x.req.body_len, 0);
    ck_assert_uint_eq(x.used, strlen("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
    pr_free(&x);
    /* A body, surrounded by whitespace in the header; case-insensitive name. */
    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\ncontent-LENGTH:  3 \r\n\r\nabcdef"),
                     HTTP_DONE);
    ck_assert_int_eq(x.req.content_length, 3);
    ck_assert(eq(x.req.body, x.req.body_len, "abc"));
    ck_assert_uint_eq(x.used, strlen("POST / HTTP/1.1\r\ncontent-LENGTH:  3 \r\n\r\nabc"));
    pr_free(&x);
    /* Leading zeros are digits. */
    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n1234567"),
                     HTTP_DONE);
    ck_assert_uint_eq(x.req.body_len, 7);
    pr_free(&x);
    /* Identical duplicates are tolerated. */
    ck_assert_int_eq(
        parse_s(&x, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
        HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "ab"));
    pr_free(&x);
    /* A body holding NUL and CRLF bytes is binary-safe. */
    {
        static const char b[] = "PUT /SET/k HTTP/1.1\r\nContent-Length: 5\r\n\r\na\0\r\nb";
        pr_init(&x, NULL);
        ck_assert_int_eq(pr_parse(&x, b, sizeof(b) - 1), HTTP_DONE);
        ck_assert_uint_eq(x.req.body_len, 5);
        ck_assert(memcmp(x.req.body, "a\0\r\nb", 5) == 0);
        ck_assert_uint_eq(x.used, sizeof(b) - 1);
        pr_free(&x);
    }
}
END_TEST

START_TEST(content_length_bad)
{
    ck_assert_int_eq(
        bad_status("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 1a\r\n\r\na"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 1.0\r\n\r\n"), 400);
    /* Overflowing numbers are refused, not wrapped. */
    ck_assert_int_eq(
        bad_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 18446744073709551617\r\n\r\n"),
                     400);
    /* Beyond max_body: 413 at once, before the body arrives. */
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n"), 413);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n"),
                     413);
    {
        struct pr x;
        ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n"),
                         HTTP_MORE);
        ck_assert(x.p.headers_done);
        pr_free(&x);
    }
}
END_TEST

START_TEST(content_length_split)
{
    const char *r = "POST /SET/k HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
    size_t n = strlen(r), k;
    struct pr x;
    pr_init(&x, NULL);
    for (k = 0; k < n; k++) {
        ck_assert_int_eq(pr_parse(&x, r, k), HTTP_MORE);
        ck_assert(x.p.headers_done == (k >= n - 11));
    }
    ck_assert_int_eq(pr_parse(&x, r, n), HTTP_DONE);
    ck_assert_uint_eq(x.used, n);
    ck_assert(eq(x.req.body, x.req.body_len, "hello world"));
    ck_assert(x.req.body >= r && x.req.body + x.req.body_len <= r + n);
    pr_free(&x);
    all_splits(r, n, &x);
    ck_assert_int_eq(x.r, HTTP_DONE);
    pr_free(&x);
}
END_TEST

/* ---- chunked ---- */

START_TEST(chunked_basic)
{
    struct pr x;
    const char *r = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n"
                    "1;name=value;x\r\n \r\n"
                    "A\r\n0123456789\r\n"
                    "0\r\n\r\nNEXT";
    ck_assert_int_eq(parse_s(&x, r), HTTP_DONE);
    ck_assert(x.req.chunked);
    ck_assert_int_eq(x.req.content_length, -1);
    ck_assert(eq(x.req.body, x.req.body_len, "hello 0123456789"));
    ck_assert_uint_eq(x.used, strlen(r) - 4);
    /* The body lives in the parser's buffer. */
    ck_assert(x.req.body >= x.p.chunk_buf &&
              x.req.body + x.req.body_len <= x.p.chunk_buf + x.p.chunk_cap);
    pr_free(&x);

    /* Upper-case and lower-case hex, leading zeros, bare LF line ends. */
    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n"
                                 "0a\r\nabcdefghij\r\n00B\nABCDEFGHIJK\n000\n\n"),
                     HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "abcdefghijABCDEFGHIJK"));
    pr_free(&x);

    /* An empty chunked body. */
    ck_assert_int_eq(parse_s(&x, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     HTTP_DONE);
    ck_assert_uint_eq(x.req.body_len, 0);
    ck_assert_ptr_nonnull(x.req.body);
    pr_free(&x);

    /* Trailers are skipped. */
    r = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n";
    ck_assert_int_eq(parse_s(&x, r), HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "abc"));
    ck_assert_uint_eq(x.used, strlen(r));
    pr_free(&x);

    /* Binary chunk data (CR LF and NUL inside a chunk). */
    {
        static const char b[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "4\r\n\r\n\0\n\r\n0\r\n\r\n";
        pr_init(&x, NULL);
        ck_assert_int_eq(pr_parse(&x, b, sizeof(b) - 1), HTTP_DONE);
        ck_assert_uint_eq(x.req.body_len, 4);
        ck_assert(memcmp(x.req.body, "\r\n\0\n", 4) == 0);
        pr_free(&x);
    }
}
END_TEST

START_TEST(chunked_split)
{
    const char *r = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n";
    struct pr x;
    size_t n = strlen(r), k, hdr = strlen("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    all_splits(r, n, &x);
    ck_assert_int_eq(x.r, HTTP_DONE);
    ck_assert_uint_eq(x.used, n);
    ck_assert(eq(x.req.body, x.req.body_len, "hello world"));
    pr_free(&x);
    pr_init(&x, NULL);
    for (k = hdr; k < n; k++) {
        ck_assert_int_eq(pr_parse(&x, r, k), HTTP_MORE);
        ck_assert(x.p.headers_done);
    }
    /* The parser's buffer is reused across requests. */
    ck_assert_int_eq(pr_parse(&x, r, n), HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "hello world"));
    ck_assert_int_eq(pr_parse(&x, r, n), HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "hello world"));
    pr_free(&x);
}
END_TEST

START_TEST(chunked_large)
{
    /* Many chunks growing the parser's buffer past its first size. */
    size_t cap = 200000, n, i;
    char *buf = malloc(cap);
    struct pr x;
    n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (i = 0; i < 100; i++) {
        n += (size_t)sprintf(buf + n, "%x\r\n", 1000);
        memset(buf + n, 'a' + (int)(i % 26), 1000);
        n += 1000;
        memcpy(buf + n, "\r\n", 2);
        n += 2;
    }
    n += (size_t)sprintf(buf + n, "0\r\n\r\n");
    pr_init(&x, NULL);
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_DONE);
    ck_assert_uint_eq(x.req.body_len, 100000);
    ck_assert_uint_eq(x.used, n);
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(x.req.body[i * 1000 + 999], 'a' + (int)(i % 26));
    pr_free(&x);
    free(buf);
}
END_TEST

START_TEST(chunked_bad)
{
#define TE "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    ck_assert_int_eq(bad_status(TE "g\r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE "\r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE "-1\r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE "0x1\r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE " 1\r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE "1 \r\nx\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE ";ext\r\nx\r\n0\r\n\r\n"), 400);
    /* Chunk data not followed by its line end. */
    ck_assert_int_eq(bad_status(TE "1\r\nxy\r\n0\r\n\r\n"), 400);
    ck_assert_int_eq(bad_status(TE "1\r\nx\rz0\r\n\r\n"), 400);
    /* A chunk-size line that never ends. */
    {
        char buf[4096];
        size_t n = (size_t)sprintf(buf, TE "1;");
        memset(buf + n, 'e', 2000);
        buf[n + 2000] = 0;
        ck_assert_int_eq(bad_status(buf), 400);
    }
    /* Sizes beyond the limit: 413 without waiting for the data. */
    ck_assert_int_eq(bad_status(TE "100001\r\n"), 413);
    ck_assert_int_eq(bad_status(TE "FFFFFFFFFFFFFFFFFFFFFFFF\r\n"), 413);
    ck_assert_int_eq(bad_status(TE "fffffffffffffffff1\r\n"), 413);
    {
        /* The sum of chunks over the limit. */
        struct http_limits lim = {100, 1000, 10};
        struct pr x;
        const char *r = TE "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, r, strlen(r)), HTTP_BAD);
        ck_assert_int_eq(x.p.status, 413);
        pr_free(&x);
        r = TE "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n";
        pr_init(&x, &lim);
        ck_assert_int_eq(pr_parse(&x, r, strlen(r)), HTTP_DONE);
        ck_assert_uint_eq(x.req.body_len, 10);
        pr_free(&x);
    }
    /* Framing conflicts. */
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Length: 5\r\n\r\n0\r\n\r\n"),
                     400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
    ck_assert_int_eq(bad_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
    /* Other codings: 501. */
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                     501);
    ck_assert_int_eq(bad_status("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"), 501);
#undef TE
}
END_TEST

/* ---- pipelining ---- */

START_TEST(pipelined)
{
    const char *r = "GET /PING HTTP/1.1\r\n\r\n"
                    "POST /SET/k HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                    "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
                    "GET /GET/k HTTP/1.1\r\nConnection: close\r\n\r\n"
                    "GET /partial HTTP/1.1\r\n";
    const char *want_target[] = {"/PING", "/SET/k", "/x", "/GET/k"};
    const char *want_body[] = {NULL, "abc", "xy", NULL};
    size_t off = 0, n = strlen(r);
    int i;
    struct pr x;
    pr_init(&x, NULL);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(pr_parse(&x, r + off, n - off), HTTP_DONE);
        ck_assert(eq(x.req.target, x.req.target_len, want_target[i]));
        if (want_body[i])
            ck_assert(eq(x.req.body, x.req.body_len, want_body[i]));
        else
            ck_assert_uint_eq(x.req.body_len, 0);
        ck_assert(x.req.keep_alive == (i < 3));
        off += x.used;
    }
    ck_assert_int_eq(pr_parse(&x, r + off, n - off), HTTP_MORE);
    ck_assert(eq(r + off, n - off, "GET /partial HTTP/1.1\r\n"));
    pr_free(&x);
}
END_TEST

START_TEST(state_reset_between_calls)
{
    /* A bad request followed by a good one with the same parser: no stale
     * status, error or derived fields. */
    struct pr x;
    const char *bad = "GET / HTTP/2.0\r\n\r\n";
    const char *good = "GET / HTTP/1.0\r\n\r\n";
    pr_init(&x, NULL);
    ck_assert_int_eq(pr_parse(&x, bad, strlen(bad)), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 505);
    ck_assert_int_eq(pr_parse(&x, good, strlen(good)), HTTP_DONE);
    ck_assert_int_eq(x.p.status, 0);
    ck_assert_ptr_null(x.p.error);
    ck_assert(!x.req.keep_alive);
    ck_assert(!x.req.chunked);
    pr_free(&x);
    /* Empty input and only blank lines: MORE. */
    pr_init(&x, NULL);
    ck_assert_int_eq(pr_parse(&x, "", 0), HTTP_MORE);
    ck_assert_int_eq(pr_parse(&x, "\r\n\r\n", 4), HTTP_MORE);
    ck_assert(!x.p.headers_done);
    pr_free(&x);
    /* http_parser_free twice is harmless. */
    pr_init(&x, NULL);
    http_parser_free(&x.p);
    http_parser_free(&x.p);
}
END_TEST

START_TEST(every_split_agrees)
{
    static const char *const reqs[] = {
        "GET /GET/k HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "\r\nGET / HTTP/1.1\nX: y\n\n",
        "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\na\n0\nTr: x\n\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        "GET / HTTP/1.1\r\nExpect: nothing\r\n\r\n",
    };
    size_t i;
    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct pr x;
        all_splits(reqs[i], strlen(reqs[i]), &x);
        ck_assert_int_ne(x.r, HTTP_MORE);
        pr_free(&x);
    }
}
END_TEST

/* Regressions: requests whose answer depended on where they were split. */
START_TEST(split_independent_limits)
{
    char *buf = malloc(10000);
    size_t n;
    struct pr x;
    struct http_limits lim = {50, 300, 1000};
#define TE "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    /* A chunk-size line with a long extension: 400 whole or split (it was
     * accepted whole but refused when its first 1025 bytes came alone). */
    n = (size_t)sprintf(buf, TE "1;");
    memset(buf + n, 'e', 2000);
    n += 2000;
    n += (size_t)sprintf(buf + n, "\r\nx\r\n0\r\n\r\n");
    all_splits(buf, n, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 400);
    pr_free(&x);
    /* Exactly 1024 bytes of size line are fine, 1025 are not. */
    n = (size_t)sprintf(buf, TE "1;");
    memset(buf + n, 'e', 1022);
    n += 1022;
    n += (size_t)sprintf(buf + n, "\r\nx\r\n0\r\n\r\n");
    all_splits(buf, n, &x);
    ck_assert_int_eq(x.r, HTTP_DONE);
    ck_assert(eq(x.req.body, x.req.body_len, "x"));
    pr_free(&x);
    n = (size_t)sprintf(buf, TE "1;");
    memset(buf + n, 'e', 1023);
    n += 1023;
    n += (size_t)sprintf(buf + n, "\nx\n0\n\n");
    all_splits(buf, n, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 400);
    pr_free(&x);
#undef TE
    /* A long method with a short target within the header limit: accepted
     * whole, so never refused in part (it was 431 while incomplete). */
    memset(buf, 'M', 200);
    n = 200 + (size_t)sprintf(buf + 200, " / HTTP/1.1\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_DONE);
    ck_assert_int_eq(x.req.method, HM_OTHER);
    ck_assert_uint_eq(x.req.method_len, 200);
    pr_free(&x);
    /* Longer than the header limit: 431 either way. */
    memset(buf, 'M', 400);
    n = 400 + (size_t)sprintf(buf + 400, " / HTTP/1.1\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 431);
    pr_free(&x);
    /* A long target: 414 either way, with or without a version. */
    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'u', 100);
    n += 100;
    n += (size_t)sprintf(buf + n, " HTTP/1.1\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 414);
    pr_free(&x);
    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'u', 100);
    n += 100;
    n += (size_t)sprintf(buf + n, "\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 414);
    pr_free(&x);
    /* A target of exactly max_url followed by the CR of a version-less line. */
    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'u', 49);
    n += 49;
    n += (size_t)sprintf(buf + n, "\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 400);
    pr_free(&x);
    /* A bad method is refused at once, without waiting for the line end
     * (a TLS handshake on the HTTP port), and the same when whole. */
    pr_init(&x, NULL);
    ck_assert_int_eq(pr_parse(&x, "\x16\x03\x01", 3), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 400);
    ck_assert_int_eq(pr_parse(&x, "GET", 3), HTTP_MORE);
    ck_assert_int_eq(pr_parse(&x, " /", 2), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 400);
    pr_free(&x);
    all_splits("G{T / HTTP/1.1\r\n\r\n", 19, &x);
    ck_assert_int_eq(x.p.status, 400);
    pr_free(&x);
    free(buf);
}
END_TEST

/* A chunked body arriving in many reads is decoded incrementally (the
 * parser resumes at the last chunk boundary): same answers as whole. */
START_TEST(chunked_incremental)
{
    size_t cap = 100000, n = 0, i, k, hdr, want_len = 0;
    char *buf = malloc(cap), *want = malloc(cap);
    struct pr x;
    n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    hdr = n;
    for (i = 1; i < 60; i++) {
        size_t sz = (i * 37) % 500 + 1, j;
        n += (size_t)sprintf(buf + n, i % 3 ? "%zx\r\n" : "%zX;ext=%zu\n", sz, i);
        for (j = 0; j < sz; j++)
            want[want_len++] = buf[n++] = (char)('a' + (i + j) % 26);
        memcpy(buf + n, i % 2 ? "\r\n" : "\n", i % 2 ? 2 : 1);
        n += i % 2 ? 2 : 1;
    }
    n += (size_t)sprintf(buf + n, "0\r\nX-T: 1\r\n\r\n");
    pr_init(&x, NULL);
    for (k = 0; k < n; k++) {
        ck_assert_int_eq(pr_parse(&x, buf, k), HTTP_MORE);
        if (k % 7 == 0) ck_assert_int_eq(pr_parse(&x, buf, k), HTTP_MORE); /* same length again */
    }
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_DONE);
    ck_assert_uint_eq(x.used, n);
    ck_assert_uint_eq(x.req.body_len, want_len);
    ck_assert(memcmp(x.req.body, want, want_len) == 0);
    /* Again on the same parser (after DONE nothing is resumed), in big
     * steps, and from a buffer at another address. */
    {
        char *copy = malloc(n);
        memcpy(copy, buf, n);
        for (k = hdr; k < n; k += 1000)
            ck_assert_int_eq(pr_parse(&x, k % 2 ? buf : copy, k), HTTP_MORE);
        ck_assert_int_eq(pr_parse(&x, copy, n), HTTP_DONE);
        ck_assert_uint_eq(x.req.body_len, want_len);
        ck_assert(memcmp(x.req.body, want, want_len) == 0);
        free(copy);
    }
    /* A shorter buffer after MORE (less than was decoded): decoded afresh. */
    ck_assert_int_eq(pr_parse(&x, buf, n - 10), HTTP_MORE);
    ck_assert_int_eq(pr_parse(&x, buf, hdr + 3), HTTP_MORE);
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_DONE);
    ck_assert(memcmp(x.req.body, want, want_len) == 0);
    /* Another request after MORE (headers of another length): not resumed. */
    ck_assert_int_eq(pr_parse(&x, buf, n - 10), HTTP_MORE);
    {
        const char *other = "POST /other HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nxyz\r\n0\r\n\r\n";
        ck_assert_int_eq(pr_parse(&x, other, strlen(other)), HTTP_DONE);
        ck_assert(eq(x.req.body, x.req.body_len, "xyz"));
    }
    /* A non-chunked request after a chunked MORE. */
    ck_assert_int_eq(pr_parse(&x, buf, n - 10), HTTP_MORE);
    ck_assert_int_eq(pr_parse(&x, "GET / HTTP/1.1\r\n\r\n", 18), HTTP_DONE);
    ck_assert_ptr_null(x.req.body);
    pr_free(&x);
    free(buf);
    free(want);
}
END_TEST

START_TEST(chunked_trailer_limit)
{
    char *buf = malloc(4000);
    size_t n;
    int i;
    struct pr x;
    struct http_limits lim = {100, 200, 1000};
    n = (size_t)sprintf(buf,
                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n");
    for (i = 0; i < 30; i++)
        n += (size_t)sprintf(buf + n, "X-Trailer-%d: v\r\n", i);
    n += (size_t)sprintf(buf + n, "\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_BAD);
    ck_assert_int_eq(x.p.status, 431);
    pr_free(&x);
    /* One endless trailer line. */
    n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ");
    memset(buf + n, 'v', 300);
    n += 300;
    pr_init(&x, &lim);
    ck_assert_int_eq(pr_parse(&x, buf, n), HTTP_BAD);
    ck_assert_int_eq(x.p.status, 431);
    pr_free(&x);
    /* Within the limit: fine. */
    n = (size_t)sprintf(buf,
                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n\r\n");
    all_splits_lim(buf, n, &lim, &x);
    ck_assert_int_eq(x.r, HTTP_DONE);
    pr_free(&x);
    free(buf);
}
END_TEST

static Suite *http_parse_suite(void)
{
    Suite *s = suite_create("http_parse");
    TCase *tc = unit_tcase("parse", 120);
    tcase_add_test(tc, request_line_methods);
    tcase_add_test(tc, request_line_targets);
    tcase_add_test(tc, request_line_versions);
    tcase_add_test(tc, keep_alive_rules);
    tcase_add_test(tc, headers_lookup_and_trim);
    tcase_add_test(tc, header_tokens);
    tcase_add_test(tc, headers_malformed);
    tcase_add_test(tc, headers_limits);
    tcase_add_test(tc, url_limits);
    tcase_add_test(tc, expect_continue);
    tcase_add_test(tc, upgrade_detection);
    tcase_add_test(tc, content_length_forms);
    tcase_add_test(tc, content_length_bad);
    tcase_add_test(tc, content_length_split);
    tcase_add_test(tc, chunked_basic);
    tcase_add_test(tc, chunked_split);
    tcase_add_test(tc, chunked_large);
    tcase_add_test(tc, chunked_bad);
    tcase_add_test(tc, pipelined);
    tcase_add_test(tc, state_reset_between_calls);
    tcase_add_test(tc, every_split_agrees);
    tcase_add_test(tc, split_independent_limits);
    tcase_add_test(tc, chunked_incremental);
    tcase_add_test(tc, chunked_trailer_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(http_parse_suite());
}
