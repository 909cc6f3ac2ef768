/* test_latency.c — unit tests for core/events/latency.c: the threshold,
 * one sample per second keeping the worst, the all-time maximum, RESET by
 * name (any case) and of everything, the DOCTOR texts with and without
 * events, GRAPH's layout (header, 80 dashes, 4 rows of the sparkline, a
 * blank line, the vertical labels), and the percentiles setting. */
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "unit.h"

START_TEST(threshold_and_same_second)
{
    const struct latency_series *ts;
    latency_reset(NULL, 0);
    latency_monitor_threshold = 0;
    latency_add_sample_if_needed("command", 500);
    ck_assert_int_eq(latency_series_count(), 0); /* monitor off */
    latency_monitor_threshold = 100;
    latency_add_sample_if_needed("command", 99);
    ck_assert_int_eq(latency_series_count(), 0);
    latency_add_sample_if_needed("command", 150);
    latency_add_sample_if_needed("command", 120); /* same second: the worst stays */
    latency_add_sample_if_needed("command", 300);
    ts = latency_series_find("command", 7);
    ck_assert_ptr_nonnull(ts);
    ck_assert_int_eq(ts->idx, 1);
    ck_assert_int_eq(ts->samples[0].latency, 300);
    ck_assert_int_eq(ts->max, 300);
    ck_assert_ptr_null(latency_series_find("COMMAND", 7)); /* names are exact */
    latency_add_sample("fork", 7);                         /* no threshold here */
    ck_assert_int_eq(latency_series_count(), 2);
    ck_assert_int_eq(latency_reset("FORK", 4), 1); /* reset ignores case */
    ck_assert_int_eq(latency_reset("nosuch", 6), 0);
    ck_assert_int_eq(latency_reset(NULL, 0), 1);
    ck_assert_int_eq(latency_series_count(), 0);
    latency_monitor_threshold = 0;
}
END_TEST

START_TEST(doctor_texts)
{
    char *r;
    latency_reset(NULL, 0);
    latency_monitor_threshold = 0;
    r = latency_doctor_report();
    ck_assert(strncmp(r, "I'm sorry, Dave, I can't do that.", 33) == 0);
    free(r);
    latency_add_sample("fast-command", 40);
    r = latency_doctor_report();
    ck_assert(strstr(r, "Dave, I have observed latency spikes") == r);
    ck_assert(strstr(r, "1. fast-command: 1 latency spikes (average 40ms, mean deviation 0ms, "
                        "period 1.00 sec). Worst all time event 40ms.\n") != NULL);
    ck_assert(strstr(r, "  3) Check if you have a \"noisy neighbour\" problem.\n") != NULL);
    free(r);
    latency_reset(NULL, 0);
}
END_TEST

START_TEST(graph_layout)
{
    const struct latency_series *ts;
    char *g, *line;
    int rows = 0;
    latency_reset(NULL, 0);
    latency_add_sample("command", 250);
    ts = latency_series_find("command", 7);
    g = latency_graph(ts);
    ck_assert(strncmp(g, "command - high 250 ms, low 250 ms (all time high 250 ms)\n", 57) == 0);
    line = strchr(g, '\n') + 1;
    ck_assert_int_eq((int)(strchr(line, '\n') - line), 80);
    /* one sample at the minimum: three blank rows, '_', a blank line, "0", "s" */
    for (line = strchr(line, '\n') + 1; *line; line = strchr(line, '\n') + 1)
        rows++;
    ck_assert_int_eq(rows, 7);
    ck_assert(strstr(g, "\n_\n \n") != NULL);
    free(g);
    latency_reset(NULL, 0);
}
END_TEST

START_TEST(percentiles_setting)
{
    ck_assert_ptr_null(latency_percentiles_config_set(NULL, "50 99.990 100 0"));
    ck_assert_str_eq(latency_percentiles_text, "50 99.99 100 0");
    ck_assert_ptr_null(latency_percentiles_config_set(NULL, ""));
    ck_assert_str_eq(latency_percentiles_text, "");
    ck_assert_str_eq(latency_percentiles_config_set(NULL, "101"),
                     "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
    ck_assert_str_eq(latency_percentiles_config_set(NULL, "5x"),
                     "Invalid latency-tracking-info-percentiles parameters");
    ck_assert_ptr_null(latency_percentiles_config_set(NULL, "50 99 99.9"));
    ck_assert_str_eq(latency_percentiles_text, "50 99 99.9");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("latency");
    TCase *tc = unit_tcase("latency", 60);
    tcase_add_test(tc, threshold_and_same_second);
    tcase_add_test(tc, doctor_texts);
    tcase_add_test(tc, graph_layout);
    tcase_add_test(tc, percentiles_setting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
