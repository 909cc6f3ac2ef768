/* test_http_request.c — unit tests for adapters/web/http_request.c: the
 * Webdis URL form (%XX decoding binary-safe incl. %00 and %2F, '+' as a
 * space, malformed escapes kept literally, the /<db>/ prefix, known and
 * unknown extensions, empty segments, POST-body paths), the cmdbuf arena
 * (several commands, raw PUT bodies, growth, reset), query strings, and
 * JSON command bodies (single and batch, 64-bit integers exact, reals in
 * their shortest round-trip form, everything else rejected with a
 * message). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"
#include "unit.h"

static bool arg_is(const struct cmdbuf *b, int i, const char *p, size_t n)
{
    return i < b->argc && b->argv[i].n == n && memcmp(b->argv[i].p, p, n) == 0;
}
#define ARG_IS(b, i, lit) arg_is(b, i, lit, sizeof(lit) - 1)

/* Decode path into a fresh cmdbuf (finished); returns the decoder's answer. */
static bool decode(const char *path, struct cmdbuf *b, int *db, char *ext)
{
    bool ok;
    memset(b, 0, sizeof(*b));
    ok = http_decode_path(path, strlen(path), b, db, ext, 16);
    cmdbuf_finish(b);
    return ok;
}

/* The command's arguments joined by '|' (NULs shown as '0'), for compact
 * comparisons. */
static const char *joined(const struct cmdbuf *b, int cmd)
{
    static char out[4096];
    size_t o = 0;
    int i;
    for (i = 0; i < b->cmd_argc[cmd]; i++) {
        const struct argv_ref *a = &b->argv[b->cmd_start[cmd] + i];
        size_t k;
        if (i) out[o++] = '|';
        for (k = 0; k < a->n && o < sizeof(out) - 2; k++)
            out[o++] = a->p[k] ? a->p[k] : '0';
    }
    out[o] = 0;
    return out;
}

/* ---- URL decoding ---- */

START_TEST(urldecode)
{
    char out[64];
    size_t n;
    n = http_urldecode("a%20b+c", 7, out);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(out, "a b c", 5) == 0);
    n = http_urldecode("%41%4a%4A%7e%2B%25", 18, out);
    ck_assert(n == 6 && memcmp(out, "AJJ~+%", 6) == 0);
    n = http_urldecode("%00%ff%0D%0a", 12, out);
    ck_assert(n == 4 && memcmp(out, "\0\xff\r\n", 4) == 0);
    /* Malformed escapes are kept as they are. */
    n = http_urldecode("%", 1, out);
    ck_assert(n == 1 && out[0] == '%');
    n = http_urldecode("%4", 2, out);
    ck_assert(n == 2 && memcmp(out, "%4", 2) == 0);
    n = http_urldecode("%zz%4g%g4", 9, out);
    ck_assert(n == 9 && memcmp(out, "%zz%4g%g4", 9) == 0);
    n = http_urldecode("100%", 4, out);
    ck_assert(n == 4 && memcmp(out, "100%", 4) == 0);
    n = http_urldecode("%%41", 4, out);
    ck_assert(n == 2 && memcmp(out, "%A", 2) == 0);
    /* Only n bytes are read: an escape cut by n stays literal. */
    n = http_urldecode("%41", 2, out);
    ck_assert(n == 2 && memcmp(out, "%4", 2) == 0);
    n = http_urldecode("", 0, out);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(path_basic)
{
    struct cmdbuf b;
    int db;
    char ext[16];
    ck_assert(decode("/GET/k", &b, &db, ext));
    ck_assert_int_eq(db, -1);
    ck_assert_str_eq(ext, "");
    ck_assert_int_eq(b.ncmd, 1);
    ck_assert_int_eq(b.argc, 2);
    ck_assert_int_eq(b.cmd_start[0], 0);
    ck_assert_int_eq(b.cmd_argc[0], 2);
    ck_assert(ARG_IS(&b, 0, "GET"));
    ck_assert(ARG_IS(&b, 1, "k"));
    cmdbuf_free(&b);

    ck_assert(decode("/SET/key/hello+world%21", &b, &db, ext));
    ck_assert_str_eq(joined(&b, 0), "SET|key|hello world!");
    cmdbuf_free(&b);

    ck_assert(decode("/PING", &b, &db, ext));
    ck_assert_str_eq(joined(&b, 0), "PING");
    cmdbuf_free(&b);

    /* Without the leading slash (a POST body in the URL syntax). */
    ck_assert(decode("SET/k/v", &b, &db, ext));
    ck_assert_str_eq(joined(&b, 0), "SET|k|v");
    cmdbuf_free(&b);
}
END_TEST

START_TEST(path_binary_safe)
{
    struct cmdbuf b;
    int db;
    char ext[16];
    ck_assert(decode("/SET/a%2Fb/x%00y%0D%0A", &b, &db, ext));
    ck_assert_int_eq(b.argc, 3);
    ck_assert(ARG_IS(&b, 1, "a/b")); /* %2F is data, not a separator */
    ck_assert(ARG_IS(&b, 2, "x\0y\r\n"));
    cmdbuf_free(&b);
    ck_assert(decode("/SET/%ff%FE/%2B+%20", &b, &db, ext));
    ck_assert(ARG_IS(&b, 1, "\xff\xfe"));
    ck_assert(ARG_IS(&b, 2, "+  "));
    cmdbuf_free(&b);
    /* Malformed escapes stay literal. */
    ck_assert(decode("/SET/100%/%zz%4", &b, &db, ext));
    ck_assert(ARG_IS(&b, 1, "100%"));
    ck_assert(ARG_IS(&b, 2, "%zz%4"));
    cmdbuf_free(&b);
    /* %2E is not an extension dot, and %2F in the last segment does not
     * start a new one. */
    ck_assert(decode("/GET/k%2Ejson", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert(ARG_IS(&b, 1, "k.json"));
    cmdbuf_free(&b);
    /* The command name is decoded too. */
    ck_assert(decode("/G%45T/k", &b, &db, ext));
    ck_assert(ARG_IS(&b, 0, "GET"));
    cmdbuf_free(&b);
}
END_TEST

START_TEST(path_db_prefix)
{
    struct cmdbuf b;
    int db;
    char ext[16];
    ck_assert(decode("/7/GET/k", &b, &db, ext));
    ck_assert_int_eq(db, 7);
    ck_assert_str_eq(joined(&b, 0), "GET|k");
    cmdbuf_free(&b);
    ck_assert(decode("/0/PING.txt", &b, &db, ext));
    ck_assert_int_eq(db, 0);
    ck_assert_str_eq(ext, "txt");
    ck_assert_str_eq(joined(&b, 0), "PING");
    cmdbuf_free(&b);
    ck_assert(decode("/007/GET/k", &b, &db, ext));
    ck_assert_int_eq(db, 7);
    cmdbuf_free(&b);
    ck_assert(decode("/123456789/GET/k", &b, &db, ext));
    ck_assert_int_eq(db, 123456789);
    cmdbuf_free(&b);
    /* Too many digits: not a db, the segment is the command. */
    ck_assert(decode("/1234567890/GET", &b, &db, ext));
    ck_assert_int_eq(db, -1);
    ck_assert_str_eq(joined(&b, 0), "1234567890|GET");
    cmdbuf_free(&b);
    /* A number alone is a command (not a db). */
    ck_assert(decode("/7", &b, &db, ext));
    ck_assert_int_eq(db, -1);
    ck_assert_str_eq(joined(&b, 0), "7");
    cmdbuf_free(&b);
    /* Only the first segment; digits with letters are no db. */
    ck_assert(decode("/7a/GET", &b, &db, ext));
    ck_assert_int_eq(db, -1);
    ck_assert_str_eq(joined(&b, 0), "7a|GET");
    cmdbuf_free(&b);
    ck_assert(decode("/GET/7/k", &b, &db, ext));
    ck_assert_int_eq(db, -1);
    ck_assert_str_eq(joined(&b, 0), "GET|7|k");
    cmdbuf_free(&b);
    /* A db and no command. */
    ck_assert(!decode("/7/", &b, &db, ext));
    ck_assert_int_eq(db, 7);
    cmdbuf_free(&b);
    ck_assert(!decode("/3/.json", &b, &db, ext));
    ck_assert_int_eq(db, 3);
    ck_assert_str_eq(ext, "json");
    cmdbuf_free(&b);
}
END_TEST

START_TEST(path_extensions)
{
    static const char *const known[] = {"json", "raw",  "txt", "html", "xml", "png",
                                        "jpg",  "jpeg", "css", "bin",  "js",  "xhtml"};
    struct cmdbuf b;
    int db;
    char ext[16], path[64];
    size_t i;
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        snprintf(path, sizeof(path), "/GET/k.%s", known[i]);
        ck_assert(decode(path, &b, &db, ext));
        ck_assert_str_eq(ext, known[i]);
        ck_assert_str_eq(joined(&b, 0), "GET|k");
        cmdbuf_free(&b);
    }
    /* Unknown extensions stay in the argument. */
    ck_assert(decode("/GET/file.foo", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert_str_eq(joined(&b, 0), "GET|file.foo");
    cmdbuf_free(&b);
    ck_assert(decode("/GET/k.JSON", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert_str_eq(joined(&b, 0), "GET|k.JSON");
    cmdbuf_free(&b);
    ck_assert(decode("/GET/k.", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert_str_eq(joined(&b, 0), "GET|k.");
    cmdbuf_free(&b);
    /* Only the last dot of the last segment counts. */
    ck_assert(decode("/GET/a.b.json", &b, &db, ext));
    ck_assert_str_eq(ext, "json");
    ck_assert_str_eq(joined(&b, 0), "GET|a.b");
    cmdbuf_free(&b);
    ck_assert(decode("/GET/a.json.foo", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert_str_eq(joined(&b, 0), "GET|a.json.foo");
    cmdbuf_free(&b);
    ck_assert(decode("/GET/a.txt/b", &b, &db, ext));
    ck_assert_str_eq(ext, "");
    ck_assert_str_eq(joined(&b, 0), "GET|a.txt|b");
    cmdbuf_free(&b);
    ck_assert(decode("/PING.raw", &b, &db, ext));
    ck_assert_str_eq(ext, "raw");
    ck_assert_str_eq(joined(&b, 0), "PING");
    cmdbuf_free(&b);
    /* An extension leaving an empty last argument. */
    ck_assert(decode("/GET/.json", &b, &db, ext));
    ck_assert_str_eq(ext, "json");
    ck_assert_str_eq(joined(&b, 0), "GET|");
    ck_assert_int_eq(b.argc, 2);
    cmdbuf_free(&b);
    /* The extension buffer's size is respected. */
    memset(&b, 0, sizeof(b));
    memset(ext, 'x', sizeof(ext));
    ck_assert(http_decode_path("/GET/k.jpeg", 11, &b, &db, ext, 3));
    ck_assert_str_eq(ext, "jp");
    ck_assert_int_eq(ext[3], 'x');
    cmdbuf_free(&b);
}
END_TEST

START_TEST(path_empty_segments)
{
    struct cmdbuf b;
    int db;
    char ext[16];
    ck_assert(decode("/GET//x", &b, &db, ext));
    ck_assert_int_eq(b.argc, 3);
    ck_assert(ARG_IS(&b, 1, ""));
    cmdbuf_free(&b);
    ck_assert(decode("/SET/k/", &b, &db, ext));
    ck_assert_int_eq(b.argc, 3);
    ck_assert(ARG_IS(&b, 2, ""));
    cmdbuf_free(&b);
    ck_assert(decode("/ECHO/", &b, &db, ext));
    ck_assert_str_eq(joined(&b, 0), "ECHO|");
    cmdbuf_free(&b);
    /* No command at all. */
    ck_assert(!decode("/", &b, &db, ext));
    cmdbuf_free(&b);
    ck_assert(!decode("", &b, &db, ext));
    cmdbuf_free(&b);
    ck_assert(!decode("//GET", &b, &db, ext));
    cmdbuf_free(&b);
    ck_assert(!decode("/.json", &b, &db, ext));
    ck_assert_str_eq(ext, "json");
    cmdbuf_free(&b);
    ck_assert(decode("/%zz", &b, &db, ext)); /* literal: a command named "%zz" */
    ck_assert(ARG_IS(&b, 0, "%zz"));
    cmdbuf_free(&b);
    ck_assert(decode("/%20", &b, &db, ext));
    ck_assert(ARG_IS(&b, 0, " "));
    cmdbuf_free(&b);
}
END_TEST

START_TEST(cmdbuf_several)
{
    struct cmdbuf b;
    int db, i;
    char ext[16];
    memset(&b, 0, sizeof(b));
    /* Two paths into one buffer, a raw PUT body appended to the second. */
    ck_assert(http_decode_path("/SET/a/1", 8, &b, &db, ext, sizeof(ext)));
    ck_assert(http_decode_path("/SET/b", 6, &b, &db, ext, sizeof(ext)));
    cmdbuf_add_arg(&b, "raw%20+body", 11, true);
    cmdbuf_begin(&b);
    cmdbuf_add_arg(&b, "GET", 3, false);
    cmdbuf_add_arg(&b, "a%20b", 5, false);
    cmdbuf_finish(&b);
    ck_assert_int_eq(b.ncmd, 3);
    ck_assert_int_eq(b.argc, 8);
    ck_assert_str_eq(joined(&b, 0), "SET|a|1");
    ck_assert_str_eq(joined(&b, 1), "SET|b|raw%20+body");
    ck_assert_str_eq(joined(&b, 2), "GET|a b");
    ck_assert_int_eq(b.cmd_start[1], 3);
    ck_assert_int_eq(b.cmd_start[2], 6);

    /* Reset and reuse: many arguments and many bytes (growth). */
    cmdbuf_reset(&b);
    cmdbuf_begin(&b);
    for (i = 0; i < 1000; i++) {
        char v[32];
        int n = snprintf(v, sizeof(v), "value-%d", i);
        cmdbuf_add_arg(&b, v, (size_t)n, false);
    }
    {
        char *big = malloc(100000);
        memset(big, 'z', 100000);
        cmdbuf_add_arg(&b, big, 100000, true);
        free(big);
    }
    for (i = 0; i < 20; i++) {
        cmdbuf_begin(&b);
        cmdbuf_add_arg(&b, "PING", 4, false);
    }
    cmdbuf_finish(&b);
    ck_assert_int_eq(b.ncmd, 21);
    ck_assert_int_eq(b.argc, 1021);
    ck_assert_int_eq(b.cmd_argc[0], 1001);
    ck_assert(ARG_IS(&b, 0, "value-0"));
    ck_assert(ARG_IS(&b, 999, "value-999"));
    ck_assert_uint_eq(b.argv[1000].n, 100000);
    ck_assert_int_eq(b.argv[1000].p[99999], 'z');
    ck_assert(ARG_IS(&b, 1020, "PING"));
    ck_assert_int_eq(b.cmd_start[20], 1020);
    cmdbuf_free(&b);
    ck_assert_ptr_null(b.bytes);
    ck_assert_int_eq(b.argc, 0);

    /* An argument added before any begin starts a command. */
    memset(&b, 0, sizeof(b));
    cmdbuf_add_arg(&b, "PING", 4, true);
    cmdbuf_finish(&b);
    ck_assert_int_eq(b.ncmd, 1);
    ck_assert_int_eq(b.cmd_argc[0], 1);
    cmdbuf_free(&b);
    cmdbuf_free(&b); /* twice is harmless */
}
END_TEST

/* ---- query strings ---- */

START_TEST(query_strings)
{
    const char *q = "type=text/plain&sep=%2C&flag&empty=&x=1=2&type=second&jsonp=cb";
    size_t ql = strlen(q), vl = 99;
    const char *v;
    v = http_query_get(q, ql, "type", &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert(vl == 10 && memcmp(v, "text/plain", 10) == 0); /* the first wins */
    v = http_query_get(q, ql, "sep", &vl);
    ck_assert(v && vl == 3 && memcmp(v, "%2C", 3) == 0); /* still encoded */
    v = http_query_get(q, ql, "flag", &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(vl, 0);
    v = http_query_get(q, ql, "empty", &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(vl, 0);
    v = http_query_get(q, ql, "x", &vl);
    ck_assert(v && vl == 3 && memcmp(v, "1=2", 3) == 0);
    v = http_query_get(q, ql, "jsonp", &vl);
    ck_assert(v && vl == 2 && memcmp(v, "cb", 2) == 0);
    ck_assert_ptr_null(http_query_get(q, ql, "missing", &vl));
    ck_assert_ptr_null(http_query_get(q, ql, "typ", &vl));
    ck_assert_ptr_null(http_query_get(q, ql, "types", &vl));
    ck_assert_ptr_null(http_query_get(q, ql, "TYPE", &vl));
    ck_assert_ptr_null(http_query_get("", 0, "a", &vl));
    /* Only qlen bytes are looked at. */
    ck_assert_ptr_null(http_query_get("a=1&b=2", 3, "b", &vl));
    v = http_query_get("a=1&b=2", 6, "b", &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(vl, 0);
    v = http_query_get("&&atomic=1&", 11, "atomic", &vl);
    ck_assert(v && vl == 1 && v[0] == '1');
}
END_TEST

/* ---- JSON bodies ---- */

static bool djson(const char *s, struct cmdbuf *b, bool *batch, char *err)
{
    bool ok;
    memset(b, 0, sizeof(*b));
    err[0] = 0;
    ok = http_decode_json(s, strlen(s), b, batch, err, 256);
    if (ok) cmdbuf_finish(b);
    return ok;
}

START_TEST(json_single_and_batch)
{
    struct cmdbuf b;
    bool batch = true;
    char err[256];
    ck_assert(djson("[\"SET\",\"k\",\"v\"]", &b, &batch, err));
    ck_assert(!batch);
    ck_assert_int_eq(b.ncmd, 1);
    ck_assert_str_eq(joined(&b, 0), "SET|k|v");
    cmdbuf_free(&b);

    ck_assert(
        djson(" \n[ [\"SET\", \"k\", \"v\"] , [\"GET\",\"k\"],[\"PING\"] ]\t", &b, &batch, err));
    ck_assert(batch);
    ck_assert_int_eq(b.ncmd, 3);
    ck_assert_str_eq(joined(&b, 0), "SET|k|v");
    ck_assert_str_eq(joined(&b, 1), "GET|k");
    ck_assert_str_eq(joined(&b, 2), "PING");
    cmdbuf_free(&b);

    /* Strings: escapes decoded, NUL kept, no %-decoding, empty allowed. */
    ck_assert(
        djson("[\"SET\",\"a%20b+c\",\"x\\u0000y\\n\\u00e9\\ud83d\\ude00\",\"\"]", &b, &batch, err));
    ck_assert(ARG_IS(&b, 1, "a%20b+c"));
    ck_assert(ARG_IS(&b, 2, "x\0y\n\xc3\xa9\xf0\x9f\x98\x80"));
    ck_assert(ARG_IS(&b, 3, ""));
    cmdbuf_free(&b);
    /* Raw UTF-8 in the body. */
    ck_assert(djson("[\"ECHO\",\"caf\xc3\xa9\"]", &b, &batch, err));
    ck_assert(ARG_IS(&b, 1, "caf\xc3\xa9"));
    cmdbuf_free(&b);
}
END_TEST

START_TEST(json_numbers)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"0", "0"},
        {"-0", "0"},
        {"42", "42"},
        {"-5", "-5"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9007199254740993", "9007199254740993"}, /* not representable as a double */
        {"1.5", "1.5"},
        {"-2.25", "-2.25"},
        {"0.1", "0.1"},
        {"3.0", "3"},
        {"1e3", "1000"},
        {"1.0e-7", "1e-07"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"3.141592653589793", "3.141592653589793"},
        {"1e300", "1e+300"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"100.0", "100"},
        {"1e21", "1e+21"},
        {"2.2250738585072014e-308", "2.2250738585072014e-308"},
        /* Subnormals: 15 digits at least (round-trip, not the very shortest). */
        {"5e-324", "4.94065645841247e-324"},
        {"-0.0", "-0"},
        {"123456789.125", "123456789.125"},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cmdbuf b;
        bool batch;
        char err[256], in[128];
        snprintf(in, sizeof(in), "[\"ECHO\",%s]", t[i].in);
        ck_assert_msg(djson(in, &b, &batch, err), "%s: %s", in, err);
        ck_assert_msg(arg_is(&b, 1, t[i].out, strlen(t[i].out)), "%s -> [%.*s], want %s", t[i].in,
                      (int)b.argv[1].n, b.argv[1].p, t[i].out);
        /* Reals read back as the same double. */
        if (strpbrk(t[i].in, ".eE")) {
            char tmp[64];
            memcpy(tmp, b.argv[1].p, b.argv[1].n);
            tmp[b.argv[1].n] = 0;
            ck_assert(strtod(tmp, NULL) == strtod(t[i].in, NULL));
        }
        cmdbuf_free(&b);
    }
}
END_TEST

START_TEST(json_rejected)
{
    static const struct {
        const char *in, *err;
    } t[] = {
        {"[\"SET\",\"k\",true]", "command arguments must be strings or numbers (argument 3)"},
        {"[\"SET\",\"k\",false]", "command arguments must be strings or numbers (argument 3)"},
        {"[\"GET\",null]", "command arguments must be strings or numbers (argument 2)"},
        {"[\"GET\",{\"a\":1}]", "command arguments must be strings or numbers (argument 2)"},
        {"[\"GET\",[\"k\"]]", "command arguments must be strings or numbers (argument 2)"},
        {"[true]", "command arguments must be strings or numbers (argument 1)"},
        {"[]", "a command must be a non-empty array of strings and numbers"},
        {"[[]]", "a command must be a non-empty array of strings and numbers"},
        {"[[\"GET\",\"k\"],[]]", "a command must be a non-empty array of strings and numbers"},
        {"[[\"GET\",\"k\"],\"PING\"]",
         "a command must be a non-empty array of strings and numbers"},
        {"[[\"GET\",\"k\"],[\"SET\",\"k\",null]]",
         "command arguments must be strings or numbers (argument 3)"},
        {"{\"cmd\":\"PING\"}", "a command must be a non-empty array of strings and numbers"},
        {"\"PING\"", "a command must be a non-empty array of strings and numbers"},
        {"42", "a command must be a non-empty array of strings and numbers"},
        {"null", "a command must be a non-empty array of strings and numbers"},
    };
    static const char *const invalid[] = {
        "",
        "[",
        "[\"GET\",]",
        "[\"GET\" \"k\"]",
        "[\"PING\"] x",
        "[GET]",
        "['GET']",
        "[\"a\\x\"]",
        "[01]",
        "[1.]",
        "[NaN]",
        "[Infinity]",
        "[\"unterminated]",
        "[\"\xff\"]",
        "[\"PING\"][\"PING\"]",
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cmdbuf b;
        bool batch;
        char err[256];
        ck_assert_msg(!djson(t[i].in, &b, &batch, err), "%s accepted", t[i].in);
        ck_assert_msg(strcmp(err, t[i].err) == 0, "%s: [%s]", t[i].in, err);
        cmdbuf_free(&b);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        struct cmdbuf b;
        bool batch;
        char err[256];
        ck_assert_msg(!djson(invalid[i], &b, &batch, err), "%s accepted", invalid[i]);
        ck_assert_msg(strncmp(err, "invalid JSON: ", 14) == 0, "%s: [%s]", invalid[i], err);
        cmdbuf_free(&b);
    }
    {
        /* Out of 64-bit range: refused, never rounded. */
        struct cmdbuf b;
        bool batch;
        char err[256];
        ck_assert(!djson("[\"ECHO\",9223372036854775808]", &b, &batch, err));
        ck_assert(strstr(err, "invalid JSON") != NULL);
        cmdbuf_free(&b);
        ck_assert(!djson("[\"ECHO\",-9223372036854775809]", &b, &batch, err));
        cmdbuf_free(&b);
        /* A small error buffer is not overrun. */
        memset(&b, 0, sizeof(b));
        memset(err, 'x', sizeof(err));
        ck_assert(!http_decode_json("[true]", 6, &b, &batch, err, 8));
        ck_assert_uint_eq(strlen(err), 7);
        ck_assert_int_eq(err[8], 'x');
        cmdbuf_free(&b);
        /* The length is honoured: no NUL terminator needed. */
        memset(&b, 0, sizeof(b));
        ck_assert(http_decode_json("[\"PING\"]garbage", 8, &b, &batch, err, sizeof(err)));
        cmdbuf_finish(&b);
        ck_assert(ARG_IS(&b, 0, "PING"));
        cmdbuf_free(&b);
    }
}
END_TEST

static Suite *http_request_suite(void)
{
    Suite *s = suite_create("http_request");
    TCase *tc = unit_tcase("request", 120);
    tcase_add_test(tc, urldecode);
    tcase_add_test(tc, path_basic);
    tcase_add_test(tc, path_binary_safe);
    tcase_add_test(tc, path_db_prefix);
    tcase_add_test(tc, path_extensions);
    tcase_add_test(tc, path_empty_segments);
    tcase_add_test(tc, cmdbuf_several);
    tcase_add_test(tc, query_strings);
    tcase_add_test(tc, json_single_and_batch);
    tcase_add_test(tc, json_numbers);
    tcase_add_test(tc, json_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(http_request_suite());
}
