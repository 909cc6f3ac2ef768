/* test_hll.c — core/types/hyperloglog.c: MurmurHash64A values, Redis's exact
 * sparse bytes and estimates (reference figures taken from redis-server
 * 7.0.15), the sparse -> dense switch at hll-sparse-max-bytes, dense
 * register packing, merging, the cached cardinality, corrupt values, and
 * a randomized check that the sparse and dense forms always agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperloglog.h"
#include "unit.h"

static uint64_t fnv1a(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    while (n--)
        h = (h ^ *b++) * 0x100000001b3ULL;
    return h;
}

/* The sum of the run lengths of a sparse value (16384 when well formed). */
static long sparse_span(const struct rstr *s)
{
    const uint8_t *p = (const uint8_t *)s->buf + HLL_HDR_SIZE,
                  *end = (const uint8_t *)s->buf + s->len;
    long n = 0;
    while (p < end) {
        if ((*p & 0xc0) == 0) {
            n += (*p & 0x3f) + 1;
            p++;
        } else if ((*p & 0xc0) == 0x40) {
            n += (((*p & 0x3f) << 8) | p[1]) + 1;
            p += 2;
        } else {
            n += (*p & 3) + 1;
            p++;
        }
    }
    return n;
}

static struct rstr *add_numbers(struct rstr *s, long from, long to)
{
    char buf[32];
    long i;
    for (i = from; i < to; i++) {
        int n = snprintf(buf, sizeof(buf), "%ld", i);
        ck_assert_int_ge(hll_add(&s, buf, (size_t)n), 0);
    }
    return s;
}

START_TEST(murmur_values)
{
    /* Reference values of MurmurHash64A with Redis's seed. */
    ck_assert_uint_eq(hll_murmur64a("", 0, 0xadc83b19U), 0xd8dfea6585bc9732ULL);
    ck_assert_uint_eq(hll_murmur64a("a", 1, 0xadc83b19U), 0x53d2470a9b43b1a7ULL);
    ck_assert_uint_eq(hll_murmur64a("hello world", 11, 0xadc83b19U), 0xa919bc3051f624b7ULL);
    ck_assert_uint_eq(hll_murmur64a("12345678", 8, 0xadc83b19U), 0x95ebb86389132953ULL);
    ck_assert_uint_eq(hll_murmur64a("123456789abcdef", 15, 0xadc83b19U), 0x0a295e5895af07b9ULL);
    ck_assert_uint_eq(hll_murmur64a("\x00\xff\x80", 3, 0xadc83b19U), 0x0b3a88b2d350bf7fULL);
}
END_TEST

START_TEST(empty_value)
{
    static const uint8_t want[] = {'H', 'Y', 'L', 'L', 1, 0, 0, 0,    0,
                                   0,   0,   0,   0,   0, 0, 0, 0x7f, 0xff};
    struct rstr *s = hll_new();
    ck_assert_uint_eq(s->len, sizeof(want));
    ck_assert_mem_eq(s->buf, want, sizeof(want));
    ck_assert(hll_valid((uint8_t *)s->buf, s->len));
    ck_assert(hll_cache_valid((uint8_t *)s->buf));
    ck_assert_uint_eq(hll_count((uint8_t *)s->buf, s->len, NULL), 0);
    ck_assert_int_eq(sparse_span(s), HLL_REGISTERS);
    free(s);
}
END_TEST

START_TEST(redis_sparse_bytes)
{
    /* PFADD abc a b c d e f g in redis-server 7.0.15, then GET abc. */
    static const uint8_t want[] = {72,  89, 76,  76,  1,   0,   0,   0,  0,   0,   0,  0,   0,
                                   0,   0,  128, 70,  109, 128, 86,  12, 128, 68,  60, 132, 56,
                                   128, 80, 177, 132, 73,  140, 128, 66, 109, 128, 66, 90};
    struct rstr *s = hll_new();
    const char *els = "abcdefg";
    int i, changed = 0;
    for (i = 0; i < 7; i++)
        changed += hll_add(&s, els + i, 1);
    ck_assert_int_eq(changed, 7);
    hll_invalidate((uint8_t *)s->buf);
    ck_assert_uint_eq(s->len, sizeof(want));
    ck_assert_mem_eq(s->buf, want, sizeof(want));
    /* adding them again changes nothing */
    for (i = 0; i < 7; i++)
        ck_assert_int_eq(hll_add(&s, els + i, 1), 0);
    ck_assert_uint_eq(hll_count((uint8_t *)s->buf, s->len, NULL), 7);
    free(s);
}
END_TEST

START_TEST(redis_estimates_and_bytes)
{
    /* PFADD of "0".."n-1", GET, PFCOUNT: length, encoding, the FNV-1a of
     * the bytes (stale cached cardinality) and the count from redis-server. */
    static const struct {
        long n;
        uint64_t count;
        uint32_t len;
        int enc;
        uint64_t fnv;
    } ref[] = {
        {1, 1, 21, HLL_SPARSE, 0x9b3a6ffa7c56d77ULL},
        {10, 10, 48, HLL_SPARSE, 0x9d80bd346ef07c36ULL},
        {100, 100, 287, HLL_SPARSE, 0xf1f9664fb7b774bcULL},
        {1000, 1001, 1923, HLL_SPARSE, 0x6331df2d5fdcbe26ULL},
        {10000, 9987, 12304, HLL_DENSE, 0xbbbc3c7c9222bf34ULL},
        {100000, 99565, 12304, HLL_DENSE, 0x6ec04028d59d8fa6ULL},
    };
    size_t k;
    hll_sparse_max_bytes = 3000;
    for (k = 0; k < sizeof(ref) / sizeof(ref[0]); k++) {
        struct rstr *s = add_numbers(hll_new(), 0, ref[k].n);
        uint64_t c;
        int invalid = 0;
        hll_invalidate((uint8_t *)s->buf); /* as PFADD leaves it */
        ck_assert_uint_eq(s->len, ref[k].len);
        ck_assert_int_eq(hll_encoding((uint8_t *)s->buf), ref[k].enc);
        ck_assert_uint_eq(fnv1a(s->buf, s->len), ref[k].fnv);
        c = hll_count((uint8_t *)s->buf, s->len, &invalid);
        ck_assert_int_eq(invalid, 0);
        ck_assert_uint_eq(c, ref[k].count);
        ck_assert(hll_valid((uint8_t *)s->buf, s->len));
        free(s);
    }
}
END_TEST

START_TEST(sparse_limit_promotes)
{
    struct rstr *s;
    long i;
    /* With a tiny limit the first split that grows the value promotes it. */
    hll_sparse_max_bytes = 18;
    s = hll_new();
    ck_assert_int_eq(hll_add(&s, "x", 1), 1);
    ck_assert_int_eq(hll_encoding((uint8_t *)s->buf), HLL_DENSE);
    ck_assert_uint_eq(s->len, HLL_DENSE_SIZE);
    free(s);

    /* With the default the value stays sparse below 3000 bytes, always. */
    hll_sparse_max_bytes = 3000;
    s = hll_new();
    for (i = 0; hll_encoding((uint8_t *)s->buf) == HLL_SPARSE; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "e%ld", i);
        ck_assert_uint_le(s->len, 3000);
        ck_assert_int_eq(sparse_span(s), HLL_REGISTERS);
        ck_assert_int_ge(hll_add(&s, buf, (size_t)n), 0);
    }
    ck_assert_uint_eq(s->len, HLL_DENSE_SIZE);
    ck_assert_int_gt(i, 100);
    free(s);
}
END_TEST

START_TEST(register_overflow_promotes)
{
    /* A register value above 32 cannot be sparse: set it directly. */
    struct rstr *s = hll_new();
    ck_assert_int_eq(hll_set(&s, 5, 33), 1);
    ck_assert_int_eq(hll_encoding((uint8_t *)s->buf), HLL_DENSE);
    ck_assert_uint_eq(hll_dense_get((uint8_t *)s->buf + HLL_HDR_SIZE, 5), 33);
    ck_assert_int_eq(hll_set(&s, 5, 20), 0);
    free(s);
}
END_TEST

START_TEST(dense_registers_round_trip)
{
    struct rstr *s = hll_new();
    uint8_t *regs;
    long i;
    ck_assert_int_eq(hll_to_dense(&s), 0);
    regs = (uint8_t *)s->buf + HLL_HDR_SIZE;
    for (i = 0; i < HLL_REGISTERS; i++)
        ck_assert_int_eq(hll_set(&s, i, (uint8_t)(1 + i % 63)), 1);
    for (i = 0; i < HLL_REGISTERS; i++)
        ck_assert_uint_eq(hll_dense_get(regs, i), 1 + i % 63);
    /* the bulk form gives the same bytes as register-by-register writes */
    {
        static uint8_t vals[HLL_REGISTERS], copy[HLL_DENSE_SIZE];
        static uint8_t max[HLL_REGISTERS];
        for (i = 0; i < HLL_REGISTERS; i++)
            vals[i] = (uint8_t)(1 + i % 63);
        memcpy(copy, s->buf, HLL_DENSE_SIZE);
        memset(regs, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
        hll_dense_store(regs, vals);
        ck_assert_mem_eq(copy, s->buf, HLL_DENSE_SIZE);
        memset(max, 0, sizeof(max));
        ck_assert_int_eq(hll_merge(max, (uint8_t *)s->buf, s->len), 0);
        ck_assert_mem_eq(max, vals, sizeof(vals));
    }
    /* the header is untouched */
    ck_assert_mem_eq(s->buf, "HYLL", 4);
    ck_assert_int_eq(hll_encoding((uint8_t *)s->buf), HLL_DENSE);
    free(s);
}
END_TEST

START_TEST(sparse_and_dense_agree)
{
    /* The same random registers through the sparse code and the dense
     * code: same registers (merge), same estimate. */
    unsigned seed = 12345;
    int round;
    hll_sparse_max_bytes = 1 << 20; /* keep the sparse form as long as possible */
    for (round = 0; round < 20; round++) {
        struct rstr *sp = hll_new(), *dn = hll_new();
        static uint8_t m1[HLL_REGISTERS], m2[HLL_REGISTERS];
        int i, n = 1 + (int)(rand_r(&seed) % 3000);
        ck_assert_int_eq(hll_to_dense(&dn), 0);
        for (i = 0; i < n; i++) {
            long idx = (long)(rand_r(&seed) % HLL_REGISTERS);
            uint8_t v = (uint8_t)(1 + rand_r(&seed) % 32);
            int a = hll_set(&sp, idx, v), b = hll_set(&dn, idx, v);
            ck_assert_int_eq(a, b);
        }
        ck_assert_int_eq(sparse_span(sp), HLL_REGISTERS);
        memset(m1, 0, sizeof(m1));
        memset(m2, 0, sizeof(m2));
        ck_assert_int_eq(hll_merge(m1, (uint8_t *)sp->buf, sp->len), 0);
        ck_assert_int_eq(hll_merge(m2, (uint8_t *)dn->buf, dn->len), 0);
        ck_assert_mem_eq(m1, m2, sizeof(m1));
        ck_assert_uint_eq(hll_count((uint8_t *)sp->buf, sp->len, NULL),
                          hll_count((uint8_t *)dn->buf, dn->len, NULL));
        ck_assert_uint_eq(hll_count_raw(m1), hll_count((uint8_t *)dn->buf, dn->len, NULL));
        /* converting the sparse one gives the dense bytes exactly */
        ck_assert_int_eq(hll_to_dense(&sp), 0);
        ck_assert_mem_eq(sp->buf + HLL_HDR_SIZE, dn->buf + HLL_HDR_SIZE,
                         HLL_DENSE_SIZE - HLL_HDR_SIZE);
        free(sp);
        free(dn);
    }
    hll_sparse_max_bytes = 3000;
}
END_TEST

START_TEST(merge_is_union)
{
    struct rstr *a = add_numbers(hll_new(), 0, 5000), *b = add_numbers(hll_new(), 2500, 7500);
    struct rstr *u = add_numbers(hll_new(), 0, 7500);
    static uint8_t max[HLL_REGISTERS];
    memset(max, 0, sizeof(max));
    ck_assert_int_eq(hll_merge(max, (uint8_t *)a->buf, a->len), 0);
    ck_assert_int_eq(hll_merge(max, (uint8_t *)b->buf, b->len), 0);
    ck_assert_uint_eq(hll_count_raw(max), hll_count((uint8_t *)u->buf, u->len, NULL));
    free(a);
    free(b);
    free(u);
}
END_TEST

START_TEST(cache_field)
{
    struct rstr *s = hll_new();
    uint8_t *p = (uint8_t *)s->buf;
    hll_cache_set(p, 0x0102030405060708ULL);
    ck_assert(hll_cache_valid(p));
    ck_assert_uint_eq(hll_cache_get(p), 0x0102030405060708ULL);
    ck_assert_uint_eq(p[8], 0x08);
    ck_assert_uint_eq(p[15], 0x01);
    hll_invalidate(p);
    ck_assert(!hll_cache_valid(p));
    ck_assert_uint_eq(p[15], 0x81);
    free(s);
}
END_TEST

START_TEST(validation_and_corruption)
{
    uint8_t buf[HLL_DENSE_SIZE + 1];
    struct rstr *s = hll_new();
    int invalid = 0;
    static uint8_t max[HLL_REGISTERS];

    ck_assert(!hll_valid((const uint8_t *)"HYLL", 4));
    memcpy(buf, s->buf, s->len);
    buf[0] = 'h';
    ck_assert(!hll_valid(buf, s->len));
    memcpy(buf, s->buf, s->len);
    buf[4] = 2; /* unknown encoding */
    ck_assert(!hll_valid(buf, s->len));
    buf[4] = HLL_DENSE; /* dense but short */
    ck_assert(!hll_valid(buf, s->len));
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "HYLL", 4);
    ck_assert(hll_valid(buf, HLL_DENSE_SIZE));
    ck_assert(!hll_valid(buf, HLL_DENSE_SIZE - 1));

    /* a sparse value that covers too few registers */
    s->buf[HLL_HDR_SIZE + 1] = 0; /* XZERO 16384 -> XZERO 1..256 */
    s->buf[HLL_HDR_SIZE] = 0x40;
    ck_assert(hll_valid((uint8_t *)s->buf, s->len));
    (void)hll_count((uint8_t *)s->buf, s->len, &invalid);
    ck_assert_int_eq(invalid, 1);
    memset(max, 0, sizeof(max));
    ck_assert_int_eq(hll_merge(max, (uint8_t *)s->buf, s->len), -1);
    ck_assert_int_eq(hll_to_dense(&s), -1);
    ck_assert_int_eq(hll_set(&s, 10000, 1), -1);  /* past the covered registers */
    ck_assert_int_eq(hll_set(&s, 10000, 40), -1); /* promotion fails too */
    free(s);
}
END_TEST

/* PFDEBUG DECODE's text, as redis-server 7.0.15 printed it for the same
 * values; PFSELFTEST's checks pass. */
START_TEST(pfdebug_decode_and_selftest)
{
    struct rstr *s = hll_new();
    const char *els = "abcdefg";
    char err[256] = "";
    size_t n;
    char *d = hll_sparse_decode((uint8_t *)s->buf, s->len, &n);
    int i;
    ck_assert_str_eq(d, "Z:16384");
    ck_assert_uint_eq(n, 7);
    free(d);
    for (i = 0; i < 7; i++)
        hll_add(&s, els + i, 1);
    d = hll_sparse_decode((uint8_t *)s->buf, s->len, &n);
    ck_assert_str_eq(d, "Z:1646 v:1,1 Z:5645 v:1,1 Z:1085 v:2,1 z:57 v:1,1 Z:4274 v:2,1 "
                        "Z:2445 v:1,1 Z:622 v:1,1 Z:603");
    ck_assert_uint_eq(n, strlen(d));
    free(d);
    free(s);
    ck_assert_msg(hll_selftest(err, sizeof(err), 100000), "%s", err);
}
END_TEST

START_TEST(truncated_values_stay_in_bounds)
{
    /* A value cut inside an XZERO opcode, in a buffer of exactly its size
     * (ASan would see a read past it): corrupt, never read beyond. */
    static const uint8_t v[] = {'H', 'Y', 'L', 'L', 1, 0,    0,    0,    0,   0,
                                0,   0,   0,   0,   0, 0x80, 0x7f, 0xff, 0x40};
    static uint8_t max[HLL_REGISTERS];
    uint8_t *p = malloc(sizeof(v));
    int invalid = 0;
    memcpy(p, v, sizeof(v));
    ck_assert(hll_valid(p, sizeof(v)));
    (void)hll_count(p, sizeof(v), &invalid);
    ck_assert_int_eq(invalid, 1);
    memset(max, 0, sizeof(max));
    ck_assert_int_eq(hll_merge(max, p, sizeof(v)), -1);
    /* a VAL run crossing the last register is corrupt too */
    p[16] = 0x7f;
    p[17] = 0xfd; /* XZERO 16382 */
    p[18] = 0x87; /* VAL 2 x4 */
    ck_assert_int_eq(hll_merge(max, p, sizeof(v)), -1);
    free(p);
}
END_TEST

START_TEST(registers_past_the_estimator)
{
    /* Every register 63 (above the 51 a real element can set): the
     * estimate is infinite, and the count 2^63 as Redis 7.0 gives it on
     * x86-64 (PFCOUNT -9223372036854775808), not an undefined cast. */
    static uint8_t regs[HLL_REGISTERS];
    uint8_t *p = calloc(1, HLL_DENSE_SIZE);
    memset(regs, 63, sizeof(regs));
    ck_assert_uint_eq(hll_count_raw(regs), 1ULL << 63);
    memcpy(p, "HYLL", 4);
    hll_dense_store(p + HLL_HDR_SIZE, regs);
    ck_assert_uint_eq(hll_count(p, HLL_DENSE_SIZE, NULL), 1ULL << 63);
    /* all 40: z is tiny, the estimate finite (from about 49 it is not) */
    memset(regs, 40, sizeof(regs));
    ck_assert_uint_lt(hll_count_raw(regs), 1ULL << 63);
    free(p);
}
END_TEST

START_TEST(sparse_merge_at_the_buffer_end)
{
    /* XZERO 300, VAL 1, VAL 1, XZERO 16082 in a buffer with exactly the 3
     * spare bytes hll_set asks for: setting register 150 splits the first
     * XZERO in three (+3 bytes: the value now fills the buffer), then the
     * two VALs merge; moving the bytes after them must stop at the end
     * (fuzz_hll: ASan saw a read one byte past the buffer). */
    static const uint8_t v[] = {'H', 'Y', 'L', 'L', 1,    0,    0,    0,    0,    0,    0,
                                0,   0,   0,   0,   0x80, 0x41, 0x2b, 0x80, 0x80, 0x7e, 0xd1};
    struct rstr *s = malloc(sizeof(struct rstr) + sizeof(v) + 3);
    uint8_t max[HLL_REGISTERS];
    int invalid = 0;
    s->len = sizeof(v);
    s->cap = sizeof(v) + 3;
    memcpy(s->buf, v, sizeof(v));
    ck_assert_int_eq(hll_set(&s, 150, 5), 1);
    /* XZERO 150, VAL 5, XZERO 149, VAL 1 x2, XZERO 16082 */
    ck_assert_uint_eq(s->len, sizeof(v) + 2);
    memset(max, 0, sizeof(max));
    ck_assert_int_eq(hll_merge(max, (uint8_t *)s->buf, s->len), 0);
    ck_assert_int_eq(max[150], 5);
    ck_assert_int_eq(max[300], 1);
    ck_assert_int_eq(max[301], 1);
    ck_assert_int_eq(max[302], 0);
    (void)hll_count((uint8_t *)s->buf, s->len, &invalid);
    ck_assert_int_eq(invalid, 0);
    free(s);
}
END_TEST

START_TEST(sparse_cut_xzero_at_the_buffer_end)
{
    /* XZERO 255, then an XZERO cut short (its first byte, the value's last:
     * 16129 registers), in a buffer with 3 spare bytes: setting register
     * 1000 replaces it with XZERO-VAL-XZERO written from that last byte,
     * one byte further than the 3 (fuzz_hll: a write past the buffer). */
    static const uint8_t v[] = {'H', 'Y', 'L', 'L', 1, 0,    0,    0,    0,   0,
                                0,   0,   0,   0,   0, 0x80, 0x40, 0xfe, 0x7f};
    struct rstr *s = malloc(sizeof(struct rstr) + sizeof(v) + 3);
    s->len = sizeof(v);
    s->cap = sizeof(v) + 3;
    memcpy(s->buf, v, sizeof(v));
    ck_assert_int_eq(hll_set(&s, 1000, 3), 1);
    ck_assert_uint_eq(s->len, sizeof(v) + 3); /* as Redis: counted as 2 bytes replaced by 5 */
    free(s);
}
END_TEST

static Suite *hll_suite(void)
{
    Suite *s = suite_create("hyperloglog");
    TCase *tc = unit_tcase("core", 120);
    tcase_add_test(tc, murmur_values);
    tcase_add_test(tc, empty_value);
    tcase_add_test(tc, redis_sparse_bytes);
    tcase_add_test(tc, redis_estimates_and_bytes);
    tcase_add_test(tc, sparse_limit_promotes);
    tcase_add_test(tc, register_overflow_promotes);
    tcase_add_test(tc, dense_registers_round_trip);
    tcase_add_test(tc, sparse_and_dense_agree);
    tcase_add_test(tc, merge_is_union);
    tcase_add_test(tc, cache_field);
    tcase_add_test(tc, validation_and_corruption);
    tcase_add_test(tc, truncated_values_stay_in_bounds);
    tcase_add_test(tc, pfdebug_decode_and_selftest);
    tcase_add_test(tc, registers_past_the_estimator);
    tcase_add_test(tc, sparse_merge_at_the_buffer_end);
    tcase_add_test(tc, sparse_cut_xzero_at_the_buffer_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(hll_suite());
}
