/* test_resp_parse.c — unit tests for proto/resp_parse.c: every valid
 * input parses to the same commands whether it arrives whole, split at any
 * byte boundary, or one byte at a time; malformed input gives Redis 7.0's
 * exact protocol-error text; *0, *-1 and blank lines are empty commands;
 * the bulk, multibulk, inline and unauthenticated limits hold. */
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "resp_parse.h"
#include "util.h"
#include "unit.h"

#define MAX_BULK (512LL * 1024 * 1024)
#define MAX_MBULK (1024LL * 1024)

/* ---- a transcript of what a parse produced ---- */

#define MAX_STEPS 64
#define MAX_ARGS 16
struct step {
    enum resp_result res;
    size_t consumed;
    int argc;
    size_t lens[MAX_ARGS];
    char *args[MAX_ARGS]; /* copies */
    char err[128];
};
struct transcript {
    int n;
    struct step s[MAX_STEPS];
};

static void transcript_free(struct transcript *t)
{
    int i, j;
    for (i = 0; i < t->n; i++)
        for (j = 0; j < t->s[i].argc && j < MAX_ARGS; j++)
            free(t->s[i].args[j]);
    t->n = 0;
}

/* Record one result (CMD / EMPTY / ERROR) and check argv's bounds. */
static void record(struct transcript *t, struct resp_parser *p, enum resp_result res,
                   const char *buf, size_t len, int argc, struct argv_ref *argv, size_t consumed)
{
    struct step *s;
    int j;
    ck_assert_int_lt(t->n, MAX_STEPS);
    s = &t->s[t->n++];
    memset(s, 0, sizeof(*s));
    s->res = res;
    if (res == RESP_ERROR) {
        snprintf(s->err, sizeof(s->err), "%s", p->err);
        return;
    }
    ck_assert_uint_gt(consumed, 0);
    ck_assert_uint_le(consumed, len);
    s->consumed = consumed;
    if (res != RESP_CMD) return;
    ck_assert_int_gt(argc, 0);
    ck_assert_int_le(argc, MAX_ARGS);
    s->argc = argc;
    for (j = 0; j < argc; j++) {
        if (buf[0] == '*') { /* multibulk: zero-copy, inside the command's bytes */
            ck_assert(argv[j].p >= buf && argv[j].p + argv[j].n <= buf + consumed);
        }
        s->lens[j] = argv[j].n;
        s->args[j] = xmemdup(argv[j].p, argv[j].n);
    }
}

/* Parse everything in buf whole; stop at the first MORE or ERROR. Returns
 * bytes consumed; the transcript gets every result but MORE. */
static size_t parse_whole(struct resp_parser *p, const char *buf, size_t len, struct transcript *t)
{
    size_t pos = 0;
    for (;;) {
        int argc = 0;
        struct argv_ref *argv = NULL;
        size_t used = 0;
        enum resp_result r = resp_parse(p, buf + pos, len - pos, &argc, &argv, &used);
        if (r == RESP_MORE) return pos;
        record(t, p, r, buf + pos, len - pos, argc, argv, used);
        if (r == RESP_ERROR) return pos;
        pos += used;
    }
}

static void expect_same(const struct transcript *a, const struct transcript *b, const char *what,
                        size_t k)
{
    int i, j;
    ck_assert_msg(a->n == b->n, "%s (split at %zu): %d results, whole parse gave %d", what, k, b->n,
                  a->n);
    for (i = 0; i < a->n; i++) {
        const struct step *x = &a->s[i], *y = &b->s[i];
        ck_assert_msg(x->res == y->res, "%s (split at %zu): result %d differs", what, k, i);
        ck_assert_msg(x->consumed == y->consumed, "%s (split at %zu): consumed %zu vs %zu", what, k,
                      y->consumed, x->consumed);
        ck_assert_str_eq(x->err, y->err);
        ck_assert_int_eq(x->argc, y->argc);
        for (j = 0; j < x->argc; j++) {
            ck_assert_uint_eq(x->lens[j], y->lens[j]);
            ck_assert_msg(memcmp(x->args[j], y->args[j], x->lens[j]) == 0,
                          "%s (split at %zu): command %d arg %d differs", what, k, i, j);
        }
    }
}

/* The input split in two at k: feed [0,k) (commands complete within it
 * come out), then the whole buffer from where the first half stopped. */
static void parse_split(const char *buf, size_t len, size_t k, struct transcript *t)
{
    struct resp_parser p;
    size_t pos;
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    pos = parse_whole(&p, buf, k, t);
    if (t->n == 0 || t->s[t->n - 1].res != RESP_ERROR)
        pos += parse_whole(&p, buf + pos, len - pos, t);
    resp_parser_free(&p);
}

/* Bytes arriving one at a time: the parser is re-called with one more. */
static void parse_trickle(const char *buf, size_t len, struct transcript *t)
{
    struct resp_parser p;
    size_t start = 0, have;
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    for (have = 1; have <= len && start < len; have++) {
        for (;;) {
            int argc = 0;
            struct argv_ref *argv = NULL;
            size_t used = 0;
            enum resp_result r = resp_parse(&p, buf + start, have - start, &argc, &argv, &used);
            if (r == RESP_MORE) break;
            record(t, &p, r, buf + start, have - start, argc, argv, used);
            if (r == RESP_ERROR) {
                resp_parser_free(&p);
                return;
            }
            start += used;
            if (start >= have) break;
        }
    }
    resp_parser_free(&p);
}

/* Whole, every split and trickle all agree; returns the whole transcript's
 * size and leaves it in *out (caller frees). */
static void check_all_splits(const char *what, const char *buf, size_t len, struct transcript *out)
{
    struct resp_parser p;
    size_t k, used;
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    out->n = 0;
    used = parse_whole(&p, buf, len, out);
    resp_parser_free(&p);
    ck_assert_msg(used == len || (out->n && out->s[out->n - 1].res == RESP_ERROR),
                  "%s: only %zu of %zu bytes consumed", what, used, len);
    for (k = 0; k <= len; k++) {
        struct transcript t = {0};
        parse_split(buf, len, k, &t);
        expect_same(out, &t, what, k);
        transcript_free(&t);
    }
    {
        struct transcript t = {0};
        parse_trickle(buf, len, &t);
        expect_same(out, &t, what, (size_t)-1);
        transcript_free(&t);
    }
}

#define S(lit) lit, sizeof(lit) - 1

static void expect_cmd(const struct transcript *t, int i, int argc, ...)
{
    va_list ap;
    int j;
    ck_assert_int_lt(i, t->n);
    ck_assert_int_eq(t->s[i].res, RESP_CMD);
    ck_assert_int_eq(t->s[i].argc, argc);
    va_start(ap, argc);
    for (j = 0; j < argc; j++) {
        const char *a = va_arg(ap, const char *);
        size_t n = va_arg(ap, size_t);
        ck_assert_uint_eq(t->s[i].lens[j], n);
        ck_assert_mem_eq(t->s[i].args[j], a, n);
    }
    va_end(ap);
}

/* ---- valid input ---- */

START_TEST(multibulk_simple)
{
    struct transcript t;
    check_all_splits("SET", S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), &t);
    ck_assert_int_eq(t.n, 1);
    expect_cmd(&t, 0, 3, S("SET"), S("key"), S("value"));
    ck_assert_uint_eq(t.s[0].consumed, 33);
    transcript_free(&t);
}
END_TEST

START_TEST(multibulk_binary)
{
    /* CRLF, NUL, '*' and '$' inside bulks; an empty bulk; a long bulk. */
    static const char in[] = "*4\r\n$3\r\nSET\r\n$4\r\n\r\n\r\n\r\n$6\r\na\0b*$\n\r\n$0\r\n\r\n";
    struct transcript t;
    check_all_splits("binary", in, sizeof(in) - 1, &t);
    ck_assert_int_eq(t.n, 1);
    expect_cmd(&t, 0, 4, S("SET"), S("\r\n\r\n"), S("a\0b*$\n"), S(""));
    transcript_free(&t);
}
END_TEST

START_TEST(multibulk_large_bulk)
{
    size_t n = 3000, len;
    char *buf = xmalloc(n + 64);
    struct transcript t;
    len = (size_t)snprintf(buf, 64, "*2\r\n$4\r\nECHO\r\n$%zu\r\n", n);
    memset(buf + len, 'z', n);
    len += n;
    memcpy(buf + len, "\r\n", 2);
    len += 2;
    check_all_splits("large bulk", buf, len, &t);
    ck_assert_int_eq(t.n, 1);
    ck_assert_uint_eq(t.s[0].lens[1], n);
    transcript_free(&t);
    free(buf);
}
END_TEST

START_TEST(inline_commands)
{
    struct transcript t;
    check_all_splits("inline", S("SET \"a b\" 'c d' \"\\x41\\n\"\r\n"), &t);
    ck_assert_int_eq(t.n, 1);
    expect_cmd(&t, 0, 4, S("SET"), S("a b"), S("c d"), S("A\n"));
    transcript_free(&t);

    /* LF only, extra spaces, and a trailing CR belongs to the line ending */
    check_all_splits("inline lf", S("  PING   hello \n"), &t);
    ck_assert_int_eq(t.n, 1);
    expect_cmd(&t, 0, 2, S("PING"), S("hello"));
    ck_assert_uint_eq(t.s[0].consumed, 16);
    transcript_free(&t);
}
END_TEST

START_TEST(empty_commands)
{
    struct transcript t;
    check_all_splits("empties", S("\r\n\n   \r\n*0\r\n*-1\r\n*-5\r\n"), &t);
    ck_assert_int_eq(t.n, 6);
    {
        static const size_t used[] = {2, 1, 5, 4, 5, 5};
        int i;
        for (i = 0; i < 6; i++) {
            ck_assert_int_eq(t.s[i].res, RESP_EMPTY);
            ck_assert_uint_eq(t.s[i].consumed, used[i]);
        }
    }
    transcript_free(&t);
}
END_TEST

START_TEST(pipeline)
{
    static const char in[] = "*1\r\n$4\r\nPING\r\n"
                             "PING\r\n"
                             "*2\r\n$4\r\nECHO\r\n$2\r\n\r\n\r\n"
                             "\r\n"
                             "*0\r\n"
                             "GET 'k'\n"
                             "*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n";
    struct transcript t;
    check_all_splits("pipeline", in, sizeof(in) - 1, &t);
    ck_assert_int_eq(t.n, 7);
    expect_cmd(&t, 0, 1, S("PING"));
    expect_cmd(&t, 1, 1, S("PING"));
    expect_cmd(&t, 2, 2, S("ECHO"), S("\r\n"));
    ck_assert_int_eq(t.s[3].res, RESP_EMPTY);
    ck_assert_int_eq(t.s[4].res, RESP_EMPTY);
    expect_cmd(&t, 5, 2, S("GET"), S("k"));
    expect_cmd(&t, 6, 3, S("DEL"), S("a"), S("b"));
    transcript_free(&t);
}
END_TEST

START_TEST(hint)
{
    struct resp_parser p;
    int argc;
    struct argv_ref *argv;
    size_t used;
    static const char in[] = "*2\r\n$4\r\nECHO\r\n$100\r\nabc";
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_uint_eq(resp_parse_hint(&p), 0);
    ck_assert_int_eq(resp_parse(&p, in, sizeof(in) - 1, &argc, &argv, &used), RESP_MORE);
    /* 4 + 10 + 6 (header) + 100 + 2 */
    ck_assert_uint_eq(resp_parse_hint(&p), 122);
    resp_parser_free(&p);
}
END_TEST

/* ---- malformed input ---- */

static void expect_error(const char *what, const char *buf, size_t len, const char *err,
                         struct resp_parser *p)
{
    struct transcript t = {0};
    parse_whole(p, buf, len, &t);
    ck_assert_msg(t.n >= 1 && t.s[t.n - 1].res == RESP_ERROR, "%s: no protocol error", what);
    ck_assert_msg(strcmp(t.s[t.n - 1].err, err) == 0, "%s: got \"%s\", want \"%s\"", what,
                  t.s[t.n - 1].err, err);
    transcript_free(&t);
}

static void expect_error_default(const char *what, const char *buf, size_t len, const char *err)
{
    struct resp_parser p;
    size_t k;
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    expect_error(what, buf, len, err, &p);
    resp_parser_free(&p);
    /* Split anywhere, the same error (or, for a prefix, nothing yet). */
    for (k = 0; k <= len; k++) {
        struct transcript t = {0}, w = {0};
        parse_split(buf, len, k, &t);
        resp_parser_init(&p, MAX_BULK, MAX_MBULK);
        parse_whole(&p, buf, len, &w);
        resp_parser_free(&p);
        expect_same(&w, &t, what, k);
        transcript_free(&t);
        transcript_free(&w);
    }
}

START_TEST(protocol_errors)
{
    expect_error_default("mbulk abc", S("*abc\r\n"), "Protocol error: invalid multibulk length");
    expect_error_default("mbulk empty", S("*\r\n"), "Protocol error: invalid multibulk length");
    expect_error_default("mbulk -0", S("*-0\r\n"), "Protocol error: invalid multibulk length");
    expect_error_default("mbulk 01", S("*01\r\n"), "Protocol error: invalid multibulk length");
    expect_error_default("mbulk > INT_MAX", S("*2147483648\r\n"),
                         "Protocol error: invalid multibulk length");
    expect_error_default("mbulk +1", S("*+1\r\n"), "Protocol error: invalid multibulk length");
    expect_error_default("bulk abc", S("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length");
    expect_error_default("bulk -1", S("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
    expect_error_default("bulk empty", S("*1\r\n$\r\n"), "Protocol error: invalid bulk length");
    expect_error_default("bulk > max", S("*1\r\n$536870913\r\n"),
                         "Protocol error: invalid bulk length");
    expect_error_default("expected $", S("*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
    expect_error_default("expected $ (2nd)", S("*2\r\n$3\r\nGET\r\n:1\r\n"),
                         "Protocol error: expected '$', got ':'");
    expect_error_default("unbalanced", S("SET \"k v\r\n"),
                         "Protocol error: unbalanced quotes in request");
    expect_error_default("quote then char", S("SET \"k\"v\r\n"),
                         "Protocol error: unbalanced quotes in request");
    expect_error_default("single unbalanced", S("SET 'k\n"),
                         "Protocol error: unbalanced quotes in request");
    /* An error after good commands: the good ones come out first. */
    {
        struct resp_parser p;
        struct transcript t = {0};
        resp_parser_init(&p, MAX_BULK, MAX_MBULK);
        parse_whole(&p, S("PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n"), &t);
        ck_assert_int_eq(t.n, 3);
        expect_cmd(&t, 0, 1, S("PING"));
        expect_cmd(&t, 1, 1, S("PING"));
        ck_assert_int_eq(t.s[2].res, RESP_ERROR);
        ck_assert_str_eq(t.s[2].err, "Protocol error: invalid multibulk length");
        transcript_free(&t);
        resp_parser_free(&p);
    }
}
END_TEST

/* The counts a header reads in one pass (0, or up to 18 digits) and the
 * ones that take the exact way (19 digits, a leading 0, a sign): the same
 * value either way, as the hint shows. */
START_TEST(header_counts)
{
    static const struct {
        const char *in;
        size_t hint; /* 0: not a wait for the bulk */
    } cases[] = {
        {"*1\r\n$7\r\nab", 4 + 4 + 7 + 2},
        {"*1\r\n$99999\r\nab", 4 + 8 + 99999 + 2},
        {"*1\r\n$123456789012345678\r\nab", 4 + 21 + 123456789012345678ULL + 2},
        {"*1\r\n$1234567890123456789\r\nab", 4 + 22 + 1234567890123456789ULL + 2},
        {"*1\r\n$9000000000000000000\r\nab", 4 + 22 + 9000000000000000000ULL + 2},
    };
    struct resp_parser p;
    int argc;
    struct argv_ref *argv;
    size_t used, i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        resp_parser_init(&p, LLONG_MAX - 4, MAX_MBULK);
        ck_assert_int_eq(resp_parse(&p, cases[i].in, strlen(cases[i].in), &argc, &argv, &used),
                         RESP_MORE);
        ck_assert_msg(resp_parse_hint(&p) == cases[i].hint, "case %zu: hint %zu", i,
                      resp_parse_hint(&p));
        resp_parser_free(&p);
    }
    expect_error_default("bulk 19 digits over", S("*1\r\n$9223372036854775808\r\n"),
                         "Protocol error: invalid bulk length");
    expect_error_default("bulk 00", S("*1\r\n$00\r\n"), "Protocol error: invalid bulk length");
    expect_error_default("bulk 0 then digit", S("*1\r\n$05\r\nhello\r\n"),
                         "Protocol error: invalid bulk length");
    expect_error_default("bulk +3", S("*1\r\n$+3\r\nabc\r\n"),
                         "Protocol error: invalid bulk length");
    expect_error_default("bulk digits then x", S("*1\r\n$3x\r\nabc\r\n"),
                         "Protocol error: invalid bulk length");
    expect_error_default("mbulk 18 digits", S("*123456789012345678\r\n"),
                         "Protocol error: invalid multibulk length");
    {
        struct transcript t;
        check_all_splits("empty bulk", S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), &t);
        ck_assert_int_eq(t.n, 1);
        expect_cmd(&t, 0, 2, S("ECHO"), S(""));
        transcript_free(&t);
        check_all_splits("zero count", S("*0\r\n*1\r\n$4\r\nPING\r\n"), &t);
        ck_assert_int_eq(t.n, 2);
        ck_assert_int_eq(t.s[0].res, RESP_EMPTY);
        expect_cmd(&t, 1, 1, S("PING"));
        transcript_free(&t);
    }
}
END_TEST

/* As Redis 7.0 (strchr on its query buffer): a request is judged only once
 * its line end is there, and a NUL byte before the line end hides it. */
static enum resp_result parse_once(const char *buf, size_t len, struct resp_parser *p)
{
    int argc;
    struct argv_ref *argv;
    size_t used;
    return resp_parse(p, buf, len, &argc, &argv, &used);
}

START_TEST(waits_for_line_end)
{
    static const struct {
        const char *in;
        size_t n;
    } more[] = {
        {S("*1\r\nx")},   /* no '\r' yet: not judged ('$' or not) */
        {S("*1\r\nx\r")}, /* the byte after '\r' is not there */
        {S("*2\r\n$3\r\nGET\r\nk")},
        {S("*1\0\r\n")},               /* NUL in the multibulk count line */
        {S("*1\r\n$4\0\r\nPING\r\n")}, /* NUL in a bulk count line */
        {S("*1\r\nx\0\r\n")},          /* NUL before '\r': the '$' is not judged */
        {S("PING\0\r\n")},             /* NUL in an inline line */
        {S("\0\n")},
        {S("PI\0NG\r\nPING\r\n")},
    };
    struct resp_parser p;
    size_t i;
    for (i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        resp_parser_init(&p, MAX_BULK, MAX_MBULK);
        ck_assert_msg(parse_once(more[i].in, more[i].n, &p) == RESP_MORE, "case %zu", i);
        resp_parser_free(&p);
    }
    /* a NUL after the line end does not matter; the bulk data may hold NULs */
    expect_error_default("expected $ then NUL", S("*1\r\nx\r\n\0"),
                         "Protocol error: expected '$', got 'x'");
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_int_eq(parse_once(S("PING\r\n\0"), &p), RESP_CMD);
    ck_assert_int_eq(parse_once(S("*1\r\n$2\r\n\0\0\r\n"), &p), RESP_CMD);
    resp_parser_free(&p);
}
END_TEST

START_TEST(too_big_errors)
{
    size_t n = RESP_INLINE_MAX + 10;
    char *buf = xmalloc(n + 16);
    struct resp_parser p;
    int argc;
    struct argv_ref *argv;
    size_t used;

    /* Inline without a newline: fine up to the limit, then an error. */
    memset(buf, 'a', n);
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_int_eq(resp_parse(&p, buf, RESP_INLINE_MAX, &argc, &argv, &used), RESP_MORE);
    ck_assert_int_eq(resp_parse(&p, buf, RESP_INLINE_MAX + 1, &argc, &argv, &used), RESP_ERROR);
    ck_assert_str_eq(p.err, "Protocol error: too big inline request");
    resp_parser_free(&p);

    /* A multibulk count that never ends. */
    buf[0] = '*';
    memset(buf + 1, '1', n - 1);
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_int_eq(resp_parse(&p, buf, 1000, &argc, &argv, &used), RESP_MORE);
    ck_assert_int_eq(resp_parse(&p, buf, n, &argc, &argv, &used), RESP_ERROR);
    ck_assert_str_eq(p.err, "Protocol error: too big mbulk count string");
    resp_parser_free(&p);

    /* A bulk count that never ends. */
    memcpy(buf, "*1\r\n$", 5);
    memset(buf + 5, '1', n - 5);
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_int_eq(resp_parse(&p, buf, 1000, &argc, &argv, &used), RESP_MORE);
    ck_assert_int_eq(resp_parse(&p, buf, n, &argc, &argv, &used), RESP_ERROR);
    ck_assert_str_eq(p.err, "Protocol error: too big bulk count string");
    resp_parser_free(&p);
    free(buf);
}
END_TEST

START_TEST(limits)
{
    struct resp_parser p;
    struct transcript t = {0};

    /* max_bulk */
    resp_parser_init(&p, 10, MAX_MBULK);
    parse_whole(&p, S("*1\r\n$10\r\n0123456789\r\n"), &t);
    ck_assert_int_eq(t.n, 1);
    ck_assert_int_eq(t.s[0].res, RESP_CMD);
    transcript_free(&t);
    expect_error("bulk 11 > 10", S("*1\r\n$11\r\n01234567890\r\n"),
                 "Protocol error: invalid bulk length", &p);
    resp_parser_free(&p);

    /* max_multibulk */
    resp_parser_init(&p, MAX_BULK, 3);
    parse_whole(&p, S("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), &t);
    ck_assert_int_eq(t.n, 1);
    ck_assert_int_eq(t.s[0].argc, 3);
    transcript_free(&t);
    expect_error("4 args > 3", S("*4\r\n"), "Protocol error: invalid multibulk length", &p);
    resp_parser_free(&p);

    /* Unauthenticated clients: at most 10 arguments of at most 16384 bytes. */
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    p.authenticated = false;
    expect_error("unauth mbulk", S("*11\r\n"), "Protocol error: unauthenticated multibulk length",
                 &p);
    expect_error("unauth bulk", S("*1\r\n$16385\r\n"),
                 "Protocol error: unauthenticated bulk length", &p);
    parse_whole(&p, S("*10\r\n$16384\r\n"), &t); /* at the limits: fine so far */
    ck_assert_int_eq(t.n, 0);
    resp_parser_free(&p);
    /* Authenticated: no such limit. */
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    parse_whole(&p, S("*11\r\n$16385\r\n"), &t);
    ck_assert_int_eq(t.n, 0);
    resp_parser_free(&p);
}
END_TEST

START_TEST(reusable_after_error)
{
    /* After an error the parser starts clean on the next buffer (the
     * connection is closed in practice, but state must not leak). */
    struct resp_parser p;
    struct transcript t = {0};
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    parse_whole(&p, S("*2\r\n$3\r\nGET\r\nx\r\n"), &t);
    ck_assert_int_eq(t.s[t.n - 1].res, RESP_ERROR);
    transcript_free(&t);
    parse_whole(&p, S("*1\r\n$4\r\nPING\r\n"), &t);
    ck_assert_int_eq(t.n, 1);
    expect_cmd(&t, 0, 1, S("PING"));
    transcript_free(&t);
    resp_parser_free(&p);
}
END_TEST

START_TEST(many_args)
{
    /* More arguments than the initial argv capacity (grows). */
    char buf[20000];
    size_t len;
    int i, n = 1500;
    struct resp_parser p;
    int argc;
    struct argv_ref *argv;
    size_t used;
    len = (size_t)snprintf(buf, sizeof(buf), "*%d\r\n", n);
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "$1\r\n%c\r\n", 'a' + i % 26);
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    ck_assert_int_eq(resp_parse(&p, buf, len, &argc, &argv, &used), RESP_CMD);
    ck_assert_int_eq(argc, n);
    ck_assert_uint_eq(used, len);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(argv[i].n, 1);
        ck_assert_int_eq(argv[i].p[0], 'a' + i % 26);
    }
    /* and in pieces */
    resp_parser_free(&p);
    resp_parser_init(&p, MAX_BULK, MAX_MBULK);
    {
        size_t have;
        enum resp_result r = RESP_MORE;
        for (have = 1; have <= len && r == RESP_MORE; have += 7)
            r = resp_parse(&p, buf, have, &argc, &argv, &used);
        if (r == RESP_MORE) r = resp_parse(&p, buf, len, &argc, &argv, &used);
        ck_assert_int_eq(r, RESP_CMD);
        ck_assert_int_eq(argc, n);
        ck_assert_int_eq(argv[n - 1].p[0], 'a' + (n - 1) % 26);
    }
    resp_parser_free(&p);
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("resp_parse");
    TCase *tc = unit_tcase("valid", 120);
    tcase_add_test(tc, multibulk_simple);
    tcase_add_test(tc, multibulk_binary);
    tcase_add_test(tc, multibulk_large_bulk);
    tcase_add_test(tc, inline_commands);
    tcase_add_test(tc, waits_for_line_end);
    tcase_add_test(tc, empty_commands);
    tcase_add_test(tc, pipeline);
    tcase_add_test(tc, hint);
    tcase_add_test(tc, many_args);
    suite_add_tcase(s, tc);
    tc = unit_tcase("errors", 120);
    tcase_add_test(tc, protocol_errors);
    tcase_add_test(tc, header_counts);
    tcase_add_test(tc, too_big_errors);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, reusable_after_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(parse_suite());
}
