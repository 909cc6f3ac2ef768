/* test_listpack.c — core/types/listpack.c: Redis's byte format, navigation both
 * ways, insert/replace/delete, find, validation, and a randomized model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listpack.h"
#include "unit.h"

static size_t get(unsigned char *p, char *out)
{
    char ib[LP_INTBUF];
    size_t n;
    const char *s = lp_get(p, &n, ib, NULL, NULL);
    memcpy(out, s, n);
    out[n] = 0;
    return n;
}

START_TEST(redis_bytes)
{
    /* HSET h a 1 in redis-server 7.0 dumps this listpack. */
    static const unsigned char want[] = {0x0c, 0, 0, 0, 2, 0, 0x81, 'a', 0x02, 0x01, 0x01, 0xff};
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, "a", 1);
    lp = lp_append(lp, "1", 1);
    ck_assert_uint_eq(lp_bytes(lp), sizeof(want));
    ck_assert_mem_eq(lp, want, sizeof(want));
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}
END_TEST

START_TEST(integers_round_trip)
{
    static const long long vals[] = {0,
                                     127,
                                     128,
                                     -1,
                                     4095,
                                     -4096,
                                     4096,
                                     -4097,
                                     32767,
                                     -32768,
                                     32768,
                                     8388607,
                                     -8388608,
                                     8388608,
                                     2147483647LL,
                                     -2147483648LL,
                                     2147483648LL,
                                     9223372036854775807LL,
                                     (-9223372036854775807LL - 1)};
    unsigned char *lp = lp_new(0), *p;
    size_t i, n = sizeof(vals) / sizeof(vals[0]);
    for (i = 0; i < n; i++)
        lp = lp_append_int(lp, vals[i]);
    ck_assert_uint_eq(lp_count(lp), n);
    for (i = 0, p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        char ib[LP_INTBUF];
        size_t len;
        bool isint;
        long long v;
        lp_get(p, &len, ib, &isint, &v);
        ck_assert(isint);
        ck_assert_int_eq(v, vals[i]);
    }
    ck_assert_uint_eq(i, n);
    /* backwards */
    for (i = n, p = lp_last(lp); p; p = lp_prev(lp, p))
        i--;
    ck_assert_uint_eq(i, 0);
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}
END_TEST

START_TEST(strings_of_every_length_class)
{
    static const size_t lens[] = {0, 1, 63, 64, 4095, 4096, 70000};
    unsigned char *lp = lp_new(0), *p;
    size_t i, n = sizeof(lens) / sizeof(lens[0]);
    char *buf = malloc(70001), *out = malloc(70001);
    for (i = 0; i < n; i++) {
        memset(buf, 'a' + (int)i, lens[i]);
        lp = lp_append(lp, buf, lens[i]);
    }
    for (i = n, p = lp_last(lp); p; p = lp_prev(lp, p)) {
        i--;
        ck_assert_uint_eq(get(p, out), lens[i]);
        if (lens[i]) ck_assert_int_eq(out[0], 'a' + (int)i);
    }
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    free(buf);
    free(out);
    lp_free(lp);
}
END_TEST

START_TEST(insert_replace_delete_find)
{
    unsigned char *lp = lp_new(0), *p, *np;
    char out[64];
    lp = lp_append(lp, "b", 1);
    lp = lp_prepend(lp, "a", 1);
    lp = lp_append(lp, "d", 1);
    lp = lp_insert(lp, "c", 1, lp_seek(lp, 2), LP_BEFORE, &np);
    get(np, out);
    ck_assert_str_eq(out, "c");
    lp = lp_insert(lp, "e", 1, lp_seek(lp, -1), LP_AFTER, NULL);
    ck_assert_uint_eq(lp_count(lp), 5);
    get(lp_seek(lp, 4), out);
    ck_assert_str_eq(out, "e");
    lp = lp_insert(lp, "12345", 5, lp_seek(lp, 0), LP_REPLACE, NULL);
    get(lp_seek(lp, 0), out);
    ck_assert_str_eq(out, "12345");
    ck_assert_ptr_nonnull(lp_find(lp, lp_first(lp), "12345", 5, 0));
    ck_assert_ptr_null(lp_find(lp, lp_first(lp), "1234", 4, 0));
    /* skip=1 looks only at even positions (fields of field/value pairs) */
    ck_assert_ptr_nonnull(lp_find(lp, lp_first(lp), "c", 1, 1));
    ck_assert_ptr_null(lp_find(lp, lp_first(lp), "b", 1, 1));
    lp = lp_delete(lp, lp_seek(lp, 1), &p);
    get(p, out);
    ck_assert_str_eq(out, "c");
    lp = lp_delete_range(lp, 1, 10);
    ck_assert_uint_eq(lp_count(lp), 1);
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}
END_TEST

START_TEST(count_past_65535)
{
    unsigned char *lp = lp_new(0);
    long i;
    for (i = 0; i < 70000; i++)
        lp = lp_append_int(lp, i);
    ck_assert_uint_eq(lp_count(lp), 70000);
    lp = lp_delete_range(lp, 0, 10000);
    ck_assert_uint_eq(lp_count(lp), 60000);
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}
END_TEST

START_TEST(append_items_same_bytes_as_one_by_one)
{
    /* lp_append_items (one reallocation) builds the very listpack that
     * appending each item does: integers of every width, strings that read
     * as integers, strings of every length class, the 65535 count cap */
    static const long long ints[] = {
        0, 127, -1, 4095, -4097, 32768, 8388608, 2147483648LL, -9223372036854775807LL - 1};
    static const size_t lens[] = {0, 1, 63, 64, 4095, 4096, 70000};
    char *buf = malloc(70001);
    struct lp_item items[40];
    unsigned char *a = lp_new(0), *b = lp_new(0);
    size_t k = 0, i;
    int round;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        items[k++] = (struct lp_item){NULL, 0, ints[i]};
    items[k++] = (struct lp_item){"12345", 5, 0};
    items[k++] = (struct lp_item){"-7", 2, 0};
    items[k++] = (struct lp_item){"007", 3, 0};
    memset(buf, 'x', 70000);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        items[k++] = (struct lp_item){buf, lens[i], 0};
    for (round = 0; round < 3; round++) {
        for (i = 0; i < k; i++)
            a = items[i].s ? lp_append(a, items[i].s, items[i].n) : lp_append_int(a, items[i].v);
        b = lp_append_items(b, items, k);
        ck_assert_uint_eq(lp_bytes(a), lp_bytes(b));
        ck_assert_mem_eq(a, b, lp_bytes(a));
        ck_assert(lp_validate(b, lp_bytes(b)));
    }
    ck_assert_uint_eq(lp_count(b), 3 * k);
    lp_free(a);
    lp_free(b);
    a = lp_new(0);
    b = lp_new(0);
    for (i = 0; i < 70000; i++)
        a = lp_append_int(a, 1);
    for (i = 0; i < 70000; i += 10)
        b = lp_append_items(b,
                            (struct lp_item[]){{NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1},
                                               {NULL, 0, 1}},
                            10);
    ck_assert_mem_eq(a, b, lp_bytes(a));
    ck_assert_uint_eq(lp_count(b), 70000);
    lp_free(a);
    lp_free(b);
    free(buf);
}
END_TEST

START_TEST(validate_rejects_damage)
{
    unsigned char *lp = lp_new(0);
    size_t n, i;
    lp = lp_append(lp, "hello", 5);
    lp = lp_append_int(lp, 300);
    n = lp_bytes(lp);
    ck_assert(lp_validate(lp, n));
    ck_assert(!lp_validate(lp, n - 1));
    for (i = 6; i < n - 1; i++) {
        unsigned char save = lp[i];
        lp[i] ^= 0x55;
        (void)lp_validate(lp, n); /* must not crash; may or may not be valid */
        lp[i] = save;
    }
    lp[n - 1] = 0;
    ck_assert(!lp_validate(lp, n));
    lp_free(lp);
}
END_TEST

/* Random inserts/deletes mirrored in an array model. */
START_TEST(randomized_against_model)
{
    char model[300][24];
    int mlen = 0, step, i;
    unsigned char *lp = lp_new(0), *p;
    srand(12345);
    for (step = 0; step < 20000; step++) {
        int op = rand() % 3;
        if (op < 2 && mlen < 300) {
            char v[24];
            int pos = mlen ? rand() % (mlen + 1) : 0;
            if (rand() % 2)
                snprintf(v, sizeof(v), "%d", rand() % 100000 - 50000);
            else
                snprintf(v, sizeof(v), "s%d", rand());
            if (pos == mlen)
                lp = lp_append(lp, v, strlen(v));
            else
                lp = lp_insert(lp, v, strlen(v), lp_seek(lp, pos), LP_BEFORE, NULL);
            memmove(model[pos + 1], model[pos], sizeof(model[0]) * (size_t)(mlen - pos));
            strcpy(model[pos], v);
            mlen++;
        } else if (mlen > 0) {
            int pos = rand() % mlen;
            lp = lp_delete(lp, lp_seek(lp, pos), NULL);
            memmove(model[pos], model[pos + 1], sizeof(model[0]) * (size_t)(mlen - pos - 1));
            mlen--;
        }
    }
    ck_assert_uint_eq(lp_count(lp), (unsigned long)mlen);
    for (i = 0, p = lp_first(lp); p; p = lp_next(lp, p), i++) {
        char out[64];
        get(p, out);
        ck_assert_str_eq(out, model[i]);
    }
    ck_assert(lp_validate(lp, lp_bytes(lp)));
    lp_free(lp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listpack");
    TCase *tc = unit_tcase("listpack", 60);
    tcase_add_test(tc, redis_bytes);
    tcase_add_test(tc, integers_round_trip);
    tcase_add_test(tc, strings_of_every_length_class);
    tcase_add_test(tc, insert_replace_delete_find);
    tcase_add_test(tc, count_past_65535);
    tcase_add_test(tc, append_items_same_bytes_as_one_by_one);
    tcase_add_test(tc, validate_rejects_damage);
    tcase_add_test(tc, randomized_against_model);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
