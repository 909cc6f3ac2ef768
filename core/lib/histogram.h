/* histogram.h — a small HdrHistogram equivalent: integer values counted in
 * buckets whose width grows with the value, so that each value is kept to
 * a fixed number of significant decimal digits. The layout (bucket and
 * sub-bucket counts, equivalent-value ranges), percentiles and the
 * logarithmic walk are those of HdrHistogram's C library, so that the
 * figures Redis 7.0 derives from it (INFO latencystats percentiles,
 * LATENCY HISTOGRAM buckets) come out the same for the same samples. */
#ifndef KEEL_HISTOGRAM_H
#define KEEL_HISTOGRAM_H

#include <stdint.h>

struct histogram {
    int64_t lowest, highest;
    int unit_magnitude;
    int sub_bucket_half_count_magnitude;
    int32_t sub_bucket_count, sub_bucket_half_count;
    int64_t sub_bucket_mask;
    int32_t bucket_count, counts_len;
    int64_t total_count;
    int64_t *counts;
};

/* A histogram for values in [lowest, highest] kept to sigfigs (1..5)
 * significant digits. NULL when the parameters make no sense. */
struct histogram *hist_new(int64_t lowest, int64_t highest, int sigfigs);
void hist_free(struct histogram *h);
void hist_reset(struct histogram *h);
/* Count v once. Values outside the trackable range are not counted
 * (false), as hdr_record_value. */
int hist_record(struct histogram *h, int64_t v);
/* The smallest and largest value counted in the same slot as v. */
int64_t hist_lowest_equivalent(const struct histogram *h, int64_t v);
int64_t hist_highest_equivalent(const struct histogram *h, int64_t v);
/* The value at percentile p (0..100): the highest value equivalent to the
 * slot where the cumulative count reaches p% of the total (the lowest one
 * for p = 0), as hdr_value_at_percentile. 0 when empty. */
int64_t hist_value_at_percentile(const struct histogram *h, double p);
/* The logarithmic walk (hdr_iter_log_init(first, base) / hdr_iter_next):
 * calls fn(priv, highest equivalent value of the level, cumulative count
 * up to it) at each reporting level first, first*base, ... until every
 * counted value has been reported. */
void hist_log_walk(const struct histogram *h, int64_t first, int base,
                   void (*fn)(void *priv, int64_t value, int64_t cumulative), void *priv);

#endif
