/* test_propagate_wire.c — unit tests for the seam through which an adapter
 * hands propagation a request's own bytes (client.h's wire): the RESP
 * parser's canonical-multibulk check (resp_parse_canonical: such bytes
 * are exactly propagate_format of their argv), and propagation using the bytes
 * only when the command propagates as it arrived: not rewritten (SET EX,
 * EXPIRE, INCRBYFLOAT), run from the argv the adapter submitted (not from
 * EXEC's queue), and only when it changed the dataset. The stream is
 * captured at the propagation sink (what the AOF and replication get). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "core_init.h"
#include "kernel.h"
#include "propagate.h"
#include "rdb.h" /* struct sbuf */
#include "rec_sink.h"
#include "resp_parse.h"
#include "unit.h"
#include "util.h"

/* ---- the parser's flag ---- */

static enum resp_result parse1(struct resp_parser *p, const char *buf, size_t len, int *argc,
                               struct argv_ref **argv, size_t *used)
{
    return resp_parse(p, buf, len, argc, argv, used);
}

/* Parse one command from buf (all of it): is it canonical? */
static bool canonical(struct resp_parser *p, const char *buf, size_t len, int *argc,
                      struct argv_ref **argv, size_t *used)
{
    ck_assert_int_eq(parse1(p, buf, len, argc, argv, used), RESP_CMD);
    ck_assert_uint_eq(*used, len);
    return resp_parse_canonical(buf, *argc, *argv);
}

START_TEST(parser_marks_canonical_multibulk)
{
    static const char canon[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n";
    struct resp_parser p;
    struct argv_ref *argv;
    struct sbuf f;
    int argc;
    size_t used;
    resp_parser_init(&p, 512 * 1024 * 1024LL, 1024 * 1024);
    sbuf_init(&f);
    ck_assert(canonical(&p, canon, sizeof(canon) - 1, &argc, &argv, &used));
    propagate_format(&f, argc, argv);
    ck_assert_uint_eq(f.len, used);
    ck_assert_mem_eq(f.p, canon, used);
    /* inline: not the stream's format */
    ck_assert(!canonical(&p, "SET k v\r\n", 9, &argc, &argv, &used));
    ck_assert_int_eq(argc, 3);
    /* accepted as Redis accepts them, but not canonical: any byte after a
     * header's \r, any two bytes after a bulk */
    ck_assert(!canonical(&p, "*1\rX$4\r\nPING\r\n", 14, &argc, &argv, &used));
    ck_assert_int_eq(argc, 1);
    ck_assert(!canonical(&p, "*1\r\n$4\rxPING\r\n", 14, &argc, &argv, &used));
    ck_assert(!canonical(&p, "*1\r\n$4\r\nPINGab", 14, &argc, &argv, &used));
    ck_assert(!canonical(&p, "*1\r\n$4\r\nPING\rb", 14, &argc, &argv, &used));
    ck_assert(!canonical(&p, "*2\r\n$4\r\nPING\r\n$1\r\nxYZ", 21, &argc, &argv, &used));
    ck_assert(!canonical(&p, "*2\r\n$4\r\nPING\r\n$1\rZx\r\n", 21, &argc, &argv, &used));
    ck_assert(canonical(&p, "*2\r\n$4\r\nPING\r\n$0\r\n\r\n", 20, &argc, &argv, &used));
    /* and canonical again after them */
    ck_assert(canonical(&p, canon, sizeof(canon) - 1, &argc, &argv, &used));
    sbuf_free(&f);
    resp_parser_free(&p);
}
END_TEST

START_TEST(canonical_bytes_are_the_format)
{
    /* commands of many shapes, formatted, fed in pieces: parsed back with
     * the flag set and the same bytes */
    static char text[400];
    struct resp_parser p;
    struct argv_ref in[40], *argv;
    struct sbuf f;
    int round, argc;
    size_t used, i;
    for (i = 0; i < sizeof(text); i++)
        text[i] = (char)(i * 7 % 256);
    resp_parser_init(&p, 512 * 1024 * 1024LL, 1024 * 1024);
    sbuf_init(&f);
    for (round = 1; round < 40; round++) {
        int k;
        size_t cut;
        enum resp_result res = RESP_MORE;
        f.len = 0;
        for (k = 0; k < round; k++) {
            in[k].p = text + k;
            in[k].n = (size_t)(k * 37 + round) % 280;
        }
        propagate_format(&f, round, in);
        /* the first call sees a prefix (incremental parsing) */
        cut = f.len / 2;
        if (parse1(&p, (const char *)f.p, cut, &argc, &argv, &used) == RESP_MORE)
            res = parse1(&p, (const char *)f.p, f.len, &argc, &argv, &used);
        ck_assert_int_eq(res, RESP_CMD);
        ck_assert(resp_parse_canonical((const char *)f.p, argc, argv));
        ck_assert_uint_eq(used, f.len);
        ck_assert_int_eq(argc, round);
        for (k = 0; k < round; k++) {
            ck_assert_uint_eq(argv[k].n, in[k].n);
            ck_assert_mem_eq(argv[k].p, in[k].p, in[k].n);
        }
    }
    /* a three-digit count, then the byte after its \r changed */
    f.len = 0;
    {
        struct argv_ref many[150];
        for (round = 0; round < 150; round++) {
            many[round].p = text + round;
            many[round].n = (size_t)round;
        }
        propagate_format(&f, 150, many);
    }
    ck_assert(parse1(&p, (const char *)f.p, f.len, &argc, &argv, &used) == RESP_CMD);
    ck_assert_int_eq(argc, 150);
    ck_assert(resp_parse_canonical((const char *)f.p, argc, argv));
    f.p[5] = 'X';
    ck_assert(parse1(&p, (const char *)f.p, f.len, &argc, &argv, &used) == RESP_CMD);
    ck_assert(!resp_parse_canonical((const char *)f.p, argc, argv));
    sbuf_free(&f);
    resp_parser_free(&p);
}
END_TEST

/* ---- propagation ---- */

static struct sbuf stream; /* "<db>|" then the bytes, per feed */
static struct rec_sink rsink;
static struct client *cli;

static void capture(int dbid, const void *p, size_t n)
{
    char h[16];
    sbuf_append(&stream, h, (size_t)snprintf(h, sizeof(h), "%d|", dbid));
    sbuf_append(&stream, p, n);
}

static void setup(void)
{
    sbuf_init(&stream);
    propagate_set_sink(capture);
    propagate_set_consumer(PROPAGATE_AOF, true);
    cli = client_new(NULL, &rsink, &rec_sink_ops);
}

static void teardown(void)
{
    client_free(cli);
    propagate_set_consumer(PROPAGATE_AOF, false);
    propagate_set_sink(NULL);
    sbuf_free(&stream);
}

/* Submit one command as the RESP adapter does: parsed from its canonical
 * bytes; with `wire` the client carries the request's bytes, replaced by
 * `marker` when given (so the test sees which bytes propagation took). */
static void submit(const char *line, bool wire, const char *marker)
{
    char **w;
    size_t *l;
    struct argv_ref v[32], *argv;
    struct resp_parser p;
    struct sbuf f;
    int n = util_split_args(line, strlen(line), &w, &l), i, argc;
    size_t used;
    ck_assert(n > 0 && n <= 32);
    for (i = 0; i < n; i++) {
        v[i].p = w[i];
        v[i].n = l[i];
    }
    sbuf_init(&f);
    propagate_format(&f, n, v);
    resp_parser_init(&p, 512 * 1024 * 1024LL, 1024 * 1024);
    ck_assert_int_eq(resp_parse(&p, (const char *)f.p, f.len, &argc, &argv, &used), RESP_CMD);
    ck_assert(resp_parse_canonical((const char *)f.p, argc, argv));
    if (wire) {
        cli->wire.argv = argv;
        cli->wire.argc = argc;
        cli->wire.p = marker ? marker : (const char *)f.p;
        cli->wire.n = marker ? strlen(marker) : used;
    }
    rec_sink_reset(&rsink);
    kernel_submit(cli, argc, argv);
    cli->wire.argv = NULL;
    resp_parser_free(&p);
    sbuf_free(&f);
    util_free_words(w, l, n);
}

static void expect_stream(const char *want)
{
    sbuf_append(&stream, "", 1);
    ck_assert_msg(strcmp((const char *)stream.p, want) == 0, "stream [%s], want [%s]",
                  (const char *)stream.p, want);
    stream.len = 0;
}

START_TEST(verbatim_when_propagated_as_received)
{
    submit("FLUSHALL", false, NULL);
    stream.len = 0;
    /* the adapter's bytes, not a formatting of argv */
    submit("set k v", true, "<as received>");
    expect_stream("0|<as received>");
    /* the same command without the adapter's bytes: formatted */
    submit("set k v", false, NULL);
    expect_stream("0|*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n");
    /* the real bytes give the same stream as formatting */
    submit("RPUSH l a b c", true, NULL);
    expect_stream("0|*5\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    /* another database: its id goes with the bytes (the sinks SELECT) */
    submit("SELECT 3", true, "<select>");
    expect_stream(""); /* SELECT changes nothing */
    submit("SET k3 v", true, "<in db 3>");
    expect_stream("3|<in db 3>");
    submit("SELECT 0", false, NULL);
}
END_TEST

START_TEST(nothing_when_nothing_changed)
{
    submit("FLUSHALL", false, NULL);
    stream.len = 0;
    submit("GET nokey", true, "<get>");
    submit("SET nokey v XX", true, "<set xx>");
    submit("DEL nokey", true, "<del>");
    expect_stream("");
}
END_TEST

START_TEST(rewritten_commands_are_formatted)
{
    const char *s;
    submit("FLUSHALL", false, NULL);
    stream.len = 0;
    submit("SET k v EX 100", true, "<set ex>");
    sbuf_append(&stream, "", 1);
    s = (const char *)stream.p;
    ck_assert_msg(strstr(s, "<set ex>") == NULL && strstr(s, "PXAT") != NULL, "%s", s);
    stream.len = 0;
    submit("EXPIRE k 200", true, "<expire>");
    sbuf_append(&stream, "", 1);
    s = (const char *)stream.p;
    ck_assert_msg(strstr(s, "<expire>") == NULL && strstr(s, "PEXPIREAT") != NULL, "%s", s);
    stream.len = 0;
    submit("INCRBYFLOAT f 1.5", true, "<incrbyfloat>");
    expect_stream("0|*4\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n");
}
END_TEST

START_TEST(exec_runs_copies)
{
    submit("FLUSHALL", false, NULL);
    stream.len = 0;
    submit("MULTI", true, "<multi>");
    submit("SET a 1", true, "<queued set a>");
    submit("SET b 2", true, "<queued set b>");
    submit("EXEC", true, "<exec>");
    expect_stream("0|*1\r\n$5\r\nMULTI\r\n0|*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
                  "0|*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n-1|*1\r\n$4\r\nEXEC\r\n");
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("propagate_wire");
    TCase *tc = unit_tcase("parser", 60);
    tcase_add_test(tc, parser_marks_canonical_multibulk);
    tcase_add_test(tc, canonical_bytes_are_the_format);
    suite_add_tcase(s, tc);
    tc = unit_tcase("propagation", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, verbatim_when_propagated_as_received);
    tcase_add_test(tc, nothing_when_nothing_changed);
    tcase_add_test(tc, rewritten_commands_are_formatted);
    tcase_add_test(tc, exec_runs_copies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    static char *argv[] = {"test_propagate_wire", NULL};
    config_init(config_table);
    if (!config_load(1, argv)) return EXIT_FAILURE;
    core_init(16); /* once: the registry and the kernel's hooks */
    return unit_run(wire_suite());
}
