/* test_histogram.c — unit tests for core/lib/histogram.c, the
 * HdrHistogram equivalent behind LATENCY HISTOGRAM and INFO latencystats:
 * its layout for Redis's parameters (1 ns .. 1 s, 2 significant digits),
 * equivalent-value ranges, percentiles and the logarithmic walk. Expected
 * figures are HdrHistogram's for the same inputs (checked against
 * redis-server 7.0: one command of 1 us shows p50=1.003 in INFO
 * latencystats and the bucket 1 in LATENCY HISTOGRAM). */
#include <stdlib.h>

#include "histogram.h"
#include "unit.h"

static struct histogram *redis_hist(void)
{
    return hist_new(1, 1000000000, 2);
}

START_TEST(layout_for_redis_parameters)
{
    struct histogram *h = redis_hist();
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->sub_bucket_count, 256);
    ck_assert_int_eq(h->sub_bucket_half_count, 128);
    ck_assert_int_eq(h->unit_magnitude, 0);
    ck_assert_int_eq(h->bucket_count, 23);
    ck_assert_int_eq(h->counts_len, 3072);
    hist_free(h);
    ck_assert_ptr_null(hist_new(0, 100, 2));
    ck_assert_ptr_null(hist_new(1, 100, 6));
}
END_TEST

START_TEST(equivalent_ranges)
{
    struct histogram *h = redis_hist();
    /* unit resolution below 256 */
    ck_assert_int_eq(hist_lowest_equivalent(h, 200), 200);
    ck_assert_int_eq(hist_highest_equivalent(h, 200), 200);
    /* 512..1023: width 4; 1024..2047: width 8 */
    ck_assert_int_eq(hist_lowest_equivalent(h, 1000), 1000);
    ck_assert_int_eq(hist_highest_equivalent(h, 1000), 1003);
    ck_assert_int_eq(hist_lowest_equivalent(h, 1027), 1024);
    ck_assert_int_eq(hist_highest_equivalent(h, 1024), 1031);
    ck_assert_int_eq(hist_highest_equivalent(h, 32768), 33023);
    ck_assert_int_eq(hist_lowest_equivalent(h, 60000000), 59768832);
    ck_assert_int_eq(hist_highest_equivalent(h, 60000000), 60030975);
    hist_free(h);
}
END_TEST

START_TEST(record_and_percentiles)
{
    struct histogram *h = redis_hist();
    int i;
    ck_assert_int_eq(hist_value_at_percentile(h, 50), 0);
    ck_assert_int_eq(hist_record(h, 1000), 1);
    ck_assert_int_eq(h->total_count, 1);
    ck_assert_int_eq(hist_value_at_percentile(h, 50), 1003);
    ck_assert_int_eq(hist_value_at_percentile(h, 99.9), 1003);
    ck_assert_int_eq(hist_value_at_percentile(h, 0), 1000);
    /* out of the trackable range: not counted */
    ck_assert_int_eq(hist_record(h, -1), 0);
    ck_assert_int_eq(hist_record(h, 4000000000000LL), 0);
    ck_assert_int_eq(h->total_count, 1);
    /* 99 more of 2 us, then one of 100 ms */
    for (i = 0; i < 98; i++)
        hist_record(h, 2000);
    hist_record(h, 100000000);
    ck_assert_int_eq(h->total_count, 100);
    ck_assert_int_eq(hist_value_at_percentile(h, 50), 2007);
    ck_assert_int_eq(hist_value_at_percentile(h, 99), 2007);
    ck_assert_int_eq(hist_value_at_percentile(h, 99.9), hist_highest_equivalent(h, 100000000));
    ck_assert_int_eq(hist_value_at_percentile(h, 100), hist_highest_equivalent(h, 100000000));
    ck_assert_int_eq(hist_value_at_percentile(h, 1), 1003);
    hist_reset(h);
    ck_assert_int_eq(h->total_count, 0);
    ck_assert_int_eq(hist_value_at_percentile(h, 50), 0);
    hist_free(h);
}
END_TEST

struct walk {
    int n;
    long long v[64], c[64];
};

static void collect(void *priv, int64_t value, int64_t cumulative)
{
    struct walk *w = priv;
    ck_assert_int_lt(w->n, 64);
    w->v[w->n] = value;
    w->c[w->n] = cumulative;
    w->n++;
}

START_TEST(log_walk)
{
    struct histogram *h = redis_hist();
    struct walk w = {0};
    hist_log_walk(h, 1024, 2, collect, &w);
    ck_assert_int_eq(w.n, 0); /* empty: nothing */
    hist_record(h, 1000);
    hist_record(h, 1000);
    hist_record(h, 1000);
    hist_record(h, 5000);
    hist_log_walk(h, 1024, 2, collect, &w);
    ck_assert_int_eq(w.n, 4);
    ck_assert_int_eq(w.v[0], 1031);
    ck_assert_int_eq(w.c[0], 3);
    ck_assert_int_eq(w.v[1], 2063);
    ck_assert_int_eq(w.c[1], 3);
    ck_assert_int_eq(w.v[2], 4127);
    ck_assert_int_eq(w.v[3], 8255);
    ck_assert_int_eq(w.c[3], 4);
    /* Redis's usec keys: 1 2 4 8 16 33 66 132 ... */
    hist_record(h, 1000000000);
    w.n = 0;
    hist_log_walk(h, 1024, 2, collect, &w);
    ck_assert_int_eq(w.v[4] / 1000, 16);
    ck_assert_int_eq(w.v[5] / 1000, 33);
    ck_assert_int_eq(w.v[6] / 1000, 66);
    ck_assert_int_eq(w.v[7] / 1000, 132);
    ck_assert_int_eq(w.c[w.n - 1], 5);
    /* the last level (1073741824) is past the counts: the walk ends with the
     * previous level's value and the total */
    ck_assert_int_eq(w.v[w.n - 1], w.v[w.n - 2]);
    hist_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("histogram");
    TCase *tc = unit_tcase("histogram", 60);
    tcase_add_test(tc, layout_for_redis_parameters);
    tcase_add_test(tc, equivalent_ranges);
    tcase_add_test(tc, record_and_percentiles);
    tcase_add_test(tc, log_walk);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
