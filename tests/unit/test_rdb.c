/* test_rdb.c — unit tests for core/lib/crc64.c (Redis's CRC-64/Jones check
 * value, incremental use) and the pure parts of core/persist/rdb.c: DUMP payloads
 * (length encodings at every boundary, integer and LZF string forms, the
 * version + CRC footer), round trips of every type through
 * rdb_serialize_value / rdb_deserialize_value, refusal of bad payloads,
 * and a whole-keyspace save + load through a buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core_init.h"
#include "crc64.h"
#include "object.h"
#include "rdb.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"
#include "unit.h"

START_TEST(crc64_check_value)
{
    const unsigned char *s = (const unsigned char *)"123456789";
    ck_assert_uint_eq(crc64(0, s, 9), 0xe9c6d914c4b8d9caULL);
    /* incremental == one shot, at every split and alignment */
    unsigned char buf[200];
    size_t i;
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    uint64_t whole = crc64(0, buf + 1, 150);
    for (i = 0; i <= 150; i += 13)
        ck_assert_uint_eq(crc64(crc64(0, buf + 1, i), buf + 1 + i, 150 - i), whole);
    ck_assert_uint_eq(crc64(0, buf, 0), 0);
}
END_TEST

static struct kv *roundtrip(struct kv *e, struct sbuf *b)
{
    struct kv *back;
    sbuf_init(b);
    ck_assert_uint_gt(rdb_serialize_value(e, b), 10);
    ck_assert(rdb_verify_dump_payload(b->p, b->len));
    back = rdb_deserialize_value(b->p, b->len, "k2", 2);
    ck_assert_ptr_nonnull(back);
    return back;
}

START_TEST(string_lengths)
{
    static const size_t lens[] = {0, 1, 11, 12, 20, 21, 63, 64, 65, 16383, 16384, 70000};
    size_t i;
    int comp;
    for (comp = 0; comp < 2; comp++) {
        g_config.rdbcompression = comp;
        for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            char *v = xmalloc(lens[i] + 1);
            size_t j;
            struct sbuf b;
            struct strview sv;
            for (j = 0; j < lens[i]; j++)
                v[j] = (char)('a' + (j * 31 % 7) * (comp ? 0 : 1));
            struct kv *e = kv_new_string("k", 1, v, lens[i], false), *back = roundtrip(e, &b);
            /* header byte: type 0 then the length encoding */
            ck_assert_int_eq(b.p[0], 0);
            if (!comp || lens[i] <= 20) {
                if (lens[i] < 64)
                    ck_assert_int_eq(b.p[1], (int)lens[i]);
                else if (lens[i] < 16384)
                    ck_assert_int_eq(b.p[1] >> 6, 1);
                else
                    ck_assert_int_eq(b.p[1], 0x80);
            } else {
                ck_assert_int_eq(b.p[1], 0xC3); /* LZF */
            }
            kv_string_view(back, &sv);
            ck_assert_uint_eq(sv.n, lens[i]);
            ck_assert(memcmp(sv.p, v, lens[i]) == 0);
            kv_free(e);
            kv_free(back);
            sbuf_free(&b);
            free(v);
        }
    }
    g_config.rdbcompression = 1;
}
END_TEST

START_TEST(integer_strings)
{
    static const long long vals[] = {
        0,      -1,    127,        -128,          128,          32767,
        -32768, 32768, 2147483647, -2147483648LL, 2147483648LL, 9223372036854775807LL};
    static const size_t want[] = {2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 0, 0};
    size_t i;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct sbuf b;
        struct kv *e = kv_new_int("k", 1, vals[i]), *back = roundtrip(e, &b);
        ck_assert_int_eq(back->enc, ENC_INT);
        ck_assert_int_eq(back->v.i, vals[i]);
        if (want[i]) ck_assert_uint_eq(b.len, 1 + want[i] + 10);
        kv_free(e);
        kv_free(back);
        sbuf_free(&b);
    }
}
END_TEST

START_TEST(aggregates)
{
    struct sbuf b;
    struct kv *e, *back;
    struct ql_val v;
    struct setv s;
    struct hval hv;
    double sc;
    int i, out;
    char buf[32];
    /* list with several nodes */
    struct quicklist *ql = ql_new(-2, 0);
    for (i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "e%d", i);
        ql_push(ql, QL_TAIL, buf, strlen(buf));
    }
    e = kv_new_ptr("l", 1, OBJ_LIST, ENC_QUICKLIST, ql);
    back = roundtrip(e, &b);
    ck_assert_uint_eq(ql_count(back->v.ptr), 5000);
    ck_assert(ql_peek(back->v.ptr, QL_TAIL, &v));
    ck_assert(v.n == 5 && memcmp(v.p, "e4999", 5) == 0);
    ck_assert_ptr_null(ql_check(back->v.ptr));
    kv_free(e), kv_free(back), sbuf_free(&b);
    /* intset and hashtable sets */
    s = set_new_intset();
    for (i = 0; i < 10; i++) {
        snprintf(buf, sizeof(buf), "%d", i * 1000);
        set_add(&s, buf, strlen(buf));
    }
    e = kv_new_ptr("s", 1, OBJ_SET, s.enc, s.ptr);
    back = roundtrip(e, &b);
    ck_assert_int_eq(back->enc, ENC_INTSET);
    s = set_of(back);
    ck_assert(set_ismember(&s, "9000", 4));
    kv_free(e), kv_free(back), sbuf_free(&b);
    s = set_new_ht(0);
    set_add(&s, "a", 1), set_add(&s, "b", 1);
    e = kv_new_ptr("s", 1, OBJ_SET, s.enc, s.ptr);
    back = roundtrip(e, &b);
    s = set_of(back);
    ck_assert_uint_eq(set_size(&s), 2);
    kv_free(e), kv_free(back), sbuf_free(&b);
    /* zsets: listpack and skiplist */
    e = zset_new_kv("z", 1, 0, 0);
    for (i = 0; i < 300; i++) {
        snprintf(buf, sizeof(buf), "m%d", i);
        zset_add(e, i * 0.5, buf, strlen(buf), 0, &out, &sc);
    }
    ck_assert_int_eq(e->enc, ENC_SKIPLIST);
    back = roundtrip(e, &b);
    ck_assert_int_eq(back->enc, ENC_SKIPLIST);
    ck_assert(zset_score(back, "m299", 4, &sc) && sc == 149.5);
    ck_assert_int_eq(zset_rank(back, "m10", 3, false, NULL), 10);
    kv_free(e), kv_free(back), sbuf_free(&b);
    /* hashes */
    e = hash_new_kv("h", 1);
    hash_set(e, "f", 1, "v", 1);
    back = roundtrip(e, &b);
    ck_assert_int_eq(back->enc, ENC_LISTPACK);
    ck_assert(hash_get(back, "f", 1, &hv) && hv.n == 1 && hv.p[0] == 'v');
    kv_free(e), kv_free(back), sbuf_free(&b);
}
END_TEST

START_TEST(bad_payloads)
{
    struct sbuf b;
    struct kv *e = kv_new_string("k", 1, "hello", 5, false);
    sbuf_init(&b);
    rdb_serialize_value(e, &b);
    ck_assert(!rdb_verify_dump_payload(b.p, 9));
    b.p[b.len - 1] ^= 1; /* crc */
    ck_assert(!rdb_verify_dump_payload(b.p, b.len));
    b.p[b.len - 1] ^= 1;
    b.p[b.len - 10] = 11; /* version 11 */
    ck_assert(!rdb_verify_dump_payload(b.p, b.len));
    b.p[b.len - 10] = 10;
    /* a length past the end: refused by the decoder */
    b.p[1] = 0x3F;
    ck_assert_ptr_null(rdb_deserialize_value(b.p, b.len, "k", 1));
    /* unknown type */
    b.p[0] = 8;
    ck_assert_ptr_null(rdb_deserialize_value(b.p, b.len, "k", 1));
    kv_free(e);
    sbuf_free(&b);
}
END_TEST

/* Values well formed outside whose content lies (fuzz_rdb_payload's
 * finds): refused by the decoder, nothing leaked. */
static struct kv *decode_body(const unsigned char *body, size_t n)
{
    unsigned char p[64];
    uint64_t crc;
    int i;
    ck_assert_uint_le(n + 10, sizeof(p));
    memcpy(p, body, n);
    p[n] = 10;
    p[n + 1] = 0;
    crc = crc64(0, p, n + 2);
    for (i = 0; i < 8; i++)
        p[n + 2 + i] = (unsigned char)(crc >> (8 * i));
    ck_assert(rdb_verify_dump_payload(p, n + 10));
    return rdb_deserialize_value(p, n + 10, "k", 1);
}

START_TEST(lying_values)
{
    /* a plain list of no element: no key, as Redis */
    ck_assert_ptr_null(decode_body((const unsigned char *)"\x01\x00", 2));
    /* a stream of length 1 without a node */
    ck_assert_ptr_null(
        decode_body((const unsigned char *)"\x13\x00\x01\x03\x03\x00\x00\x03\x03\x01\x00", 11));
    /* a 5-byte LZF string said to expand to 3.7 GB */
    ck_assert_ptr_null(decode_body(
        (const unsigned char *)"\x00\xc3\x05\x80\xdc\xdc\xdc\xdc\x00\x61\x62\x63\x64", 13));
}
END_TEST

/* A refused image says why in one printable line: a key in the message
 * is quoted and escaped (fuzz_rdb_image's find: a newline in the key). */
START_TEST(error_text_one_line)
{
    static const unsigned char img[] = "REDIS0010\x06\x03"
                                       "a\nb";
    char err[512];
    ck_assert(!rdb_load_buffer(img, sizeof(img) - 1, NULL, err, sizeof(err)));
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_msg(strstr(err, "for key \"a\\nb\"") != NULL, "%s", err);
}
END_TEST

START_TEST(keyspace_through_a_pipe)
{
    int fds[2], i;
    char err[256], key[32];
    unsigned char *buf = xmalloc(1 << 22);
    size_t n = 0, used = 0;
    ssize_t r;
    store_shutdown(); /* a fresh keyspace (main() made one) */
    store_init(16);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        struct kv *e = kv_new_string(key, strlen(key), key, strlen(key), true);
        if (i % 10 == 0)
            e = store_add_expire(store_db(i % 3), e, util_mstime() + 100000, NULL, 0);
        else
            store_add(store_db(i % 3), e, NULL, 0);
    }
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert(rdb_save_fd(fds[1], err, sizeof(err)));
    close(fds[1]);
    while ((r = read(fds[0], buf + n, (1 << 22) - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    ck_assert(memcmp(buf, "REDIS0010", 9) == 0);
    store_shutdown();
    store_init(16);
    ck_assert_msg(rdb_load_buffer(buf, n, &used, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(used, n);
    ck_assert_uint_eq(dict_size(&store_db(0)->keys) + dict_size(&store_db(1)->keys) +
                          dict_size(&store_db(2)->keys),
                      1000);
    ck_assert_int_eq(rdb_last_load_keys_loaded, 1000);
    ck_assert_ptr_nonnull(store_peek(store_db(999 % 3), "key:999", 7));
    ck_assert_uint_eq(store_db(0)->nexp + store_db(1)->nexp + store_db(2)->nexp, 100);
    /* truncated: refused with a message */
    ck_assert(!rdb_load_buffer(buf, n / 2, &used, err, sizeof(err)));
    ck_assert(strlen(err) > 0);
    store_shutdown();
    free(buf);
}
END_TEST

int main(void)
{
    char *argv[] = {"test_rdb", NULL};
    Suite *s = suite_create("rdb");
    TCase *tc = unit_tcase("rdb", 60);
    config_init(config_table);
    if (!config_load(1, argv)) return EXIT_FAILURE;
    core_init_types();
    store_init(16);
    tcase_add_test(tc, crc64_check_value);
    tcase_add_test(tc, string_lengths);
    tcase_add_test(tc, integer_strings);
    tcase_add_test(tc, aggregates);
    tcase_add_test(tc, bad_payloads);
    tcase_add_test(tc, lying_values);
    tcase_add_test(tc, error_text_one_line);
    tcase_add_test(tc, keyspace_through_a_pipe);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
