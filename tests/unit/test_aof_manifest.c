/* test_aof_manifest.c — unit tests for the pure part of core/persist/aof.c: the
 * manifest parser and writer in Redis 7.0's format (the text redis-server
 * writes, quoting, history files, Redis's error messages). */
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "unit.h"

static bool parse(const char *text, struct aof_manifest *m, char *err)
{
    return aof_manifest_parse(text, strlen(text), m, err, 256);
}

START_TEST(parses_redis_manifest)
{
    struct aof_manifest m;
    char err[256];
    size_t len;
    char *out;
    const char *text = "file appendonly.aof.2.base.rdb seq 2 type b\n"
                       "file appendonly.aof.1.incr.aof seq 1 type h\n"
                       "file appendonly.aof.2.incr.aof seq 2 type i\n"
                       "file appendonly.aof.3.incr.aof seq 3 type i\n";
    ck_assert(parse(text, &m, err));
    ck_assert_ptr_nonnull(m.base);
    ck_assert_str_eq(m.base->name, "appendonly.aof.2.base.rdb");
    ck_assert_int_eq(m.base_seq, 2);
    ck_assert_int_eq(m.nincr, 2);
    ck_assert_int_eq(m.incr_seq, 3);
    ck_assert_int_eq(m.nhist, 1);
    ck_assert_str_eq(m.incr[1].name, "appendonly.aof.3.incr.aof");
    out = aof_manifest_format(&m, &len);
    ck_assert_str_eq(out, text); /* base, history, incr: Redis's order */
    ck_assert_uint_eq(len, strlen(text));
    free(out);
    aof_manifest_free(&m);
}
END_TEST

START_TEST(comments_order_and_quotes)
{
    struct aof_manifest m;
    char err[256];
    size_t len;
    char *out;
    ck_assert(parse("# a comment\ntype i seq 1 file \"my file.aof\"\n", &m, err));
    ck_assert_int_eq(m.nincr, 1);
    ck_assert_str_eq(m.incr[0].name, "my file.aof");
    ck_assert_ptr_null(m.base);
    out = aof_manifest_format(&m, &len);
    ck_assert_str_eq(out, "file \"my file.aof\" seq 1 type i\n");
    free(out);
    aof_manifest_free(&m);
    /* trailing \r and spaces are trimmed; extra key/value pairs ignored */
    ck_assert(parse("file a.aof seq 4 type i startoffset 0 \r\n", &m, err));
    ck_assert_int_eq(m.incr_seq, 4);
    aof_manifest_free(&m);
}
END_TEST

START_TEST(errors_as_redis)
{
    struct aof_manifest m;
    char err[256];
    ck_assert(!parse("", &m, err));
    ck_assert_str_eq(err, "Found an empty AOF manifest");
    ck_assert(!parse("file x seq 1\n", &m, err));
    ck_assert_str_eq(err, "Invalid AOF manifest file format");
    ck_assert(!parse("file x seq 1 type b extra\n", &m, err));
    ck_assert_str_eq(err, "Invalid AOF manifest file format");
    ck_assert(!parse("\n", &m, err));
    ck_assert_str_eq(err, "Invalid AOF manifest file format");
    ck_assert(!parse("file a seq 1 type b\nfile b seq 2 type b\n", &m, err));
    ck_assert_str_eq(err, "Found duplicate base file information");
    ck_assert(!parse("file a seq 2 type i\nfile b seq 2 type i\n", &m, err));
    ck_assert_str_eq(err, "Found a non-monotonic sequence number");
    ck_assert(!parse("file a seq 1 type x\n", &m, err));
    ck_assert_str_eq(err, "Unknown AOF file type");
    ck_assert(!parse("file dir/a seq 1 type i\n", &m, err));
    ck_assert_str_eq(err, "File can't be a path, just a filename");
    ck_assert(!parse("file a seq 0 type i\n", &m, err));
    ck_assert_str_eq(err, "Invalid AOF manifest file format");
    ck_assert(!parse("file a seq 1 type i", &m, err)); /* no newline: cut short */
    ck_assert_str_eq(err, "The AOF manifest file contains too long line");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("aof_manifest");
    TCase *tc = unit_tcase("manifest", 30);
    tcase_add_test(tc, parses_redis_manifest);
    tcase_add_test(tc, comments_order_and_quotes);
    tcase_add_test(tc, errors_as_redis);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
