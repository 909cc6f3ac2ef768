/* histogram.c — the HdrHistogram-equivalent counter (histogram.h). Slots:
 * bucket 0 holds sub_bucket_count slots of unit width; every later bucket
 * holds the upper half of its sub-buckets at twice the previous width. */
#include "histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct histogram *hist_new(int64_t lowest, int64_t highest, int sigfigs)
{
    struct histogram *h;
    int64_t largest_single, smallest_untrackable;
    int sub_mag, buckets;
    if (lowest < 1 || sigfigs < 1 || sigfigs > 5 || lowest * 2 > highest) return NULL;
    h = xmalloc(sizeof(*h));
    memset(h, 0, sizeof(*h));
    h->lowest = lowest;
    h->highest = highest;
    largest_single = 2 * (int64_t)pow(10, sigfigs);
    sub_mag = (int)ceil(log2((double)largest_single));
    h->sub_bucket_half_count_magnitude = (sub_mag > 1 ? sub_mag : 1) - 1;
    h->unit_magnitude = (int)floor(log2((double)lowest));
    h->sub_bucket_count = (int32_t)1 << (h->sub_bucket_half_count_magnitude + 1);
    h->sub_bucket_half_count = h->sub_bucket_count / 2;
    h->sub_bucket_mask = ((int64_t)h->sub_bucket_count - 1) << h->unit_magnitude;
    smallest_untrackable = (int64_t)h->sub_bucket_count << h->unit_magnitude;
    buckets = 1;
    while (smallest_untrackable <= highest) {
        if (smallest_untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        smallest_untrackable <<= 1;
        buckets++;
    }
    h->bucket_count = buckets;
    h->counts_len = (buckets + 1) * h->sub_bucket_half_count;
    h->counts = xmalloc(sizeof(int64_t) * (size_t)h->counts_len);
    memset(h->counts, 0, sizeof(int64_t) * (size_t)h->counts_len);
    return h;
}

void hist_free(struct histogram *h)
{
    if (!h) return;
    free(h->counts);
    free(h);
}

void hist_reset(struct histogram *h)
{
    memset(h->counts, 0, sizeof(int64_t) * (size_t)h->counts_len);
    h->total_count = 0;
}

static int bucket_index(const struct histogram *h, int64_t v)
{
    int pow2ceiling = 64 - __builtin_clzll((unsigned long long)(v | h->sub_bucket_mask));
    return pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
}

static int32_t sub_bucket_index(const struct histogram *h, int64_t v, int bi)
{
    return (int32_t)(v >> (bi + h->unit_magnitude));
}

static int32_t counts_index(const struct histogram *h, int bi, int32_t sbi)
{
    return ((bi + 1) << h->sub_bucket_half_count_magnitude) + (sbi - h->sub_bucket_half_count);
}

static int64_t value_from(const struct histogram *h, int bi, int32_t sbi)
{
    return (int64_t)sbi << (bi + h->unit_magnitude);
}

static int64_t value_at_index(const struct histogram *h, int32_t idx)
{
    int bi = (idx >> h->sub_bucket_half_count_magnitude) - 1;
    int32_t sbi = (idx & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
    if (bi < 0) {
        sbi -= h->sub_bucket_half_count;
        bi = 0;
    }
    return value_from(h, bi, sbi);
}

static int32_t index_of(const struct histogram *h, int64_t v)
{
    int bi = bucket_index(h, v);
    return counts_index(h, bi, sub_bucket_index(h, v, bi));
}

int hist_record(struct histogram *h, int64_t v)
{
    int32_t idx;
    if (v < 0) return 0;
    idx = index_of(h, v);
    if (idx < 0 || idx >= h->counts_len) return 0;
    h->counts[idx]++;
    h->total_count++;
    return 1;
}

int64_t hist_lowest_equivalent(const struct histogram *h, int64_t v)
{
    int bi = bucket_index(h, v);
    return value_from(h, bi, sub_bucket_index(h, v, bi));
}

static int64_t range_size(const struct histogram *h, int64_t v)
{
    int bi = bucket_index(h, v);
    int32_t sbi = sub_bucket_index(h, v, bi);
    int adjusted = sbi >= h->sub_bucket_count ? bi + 1 : bi;
    return (int64_t)1 << (h->unit_magnitude + adjusted);
}

int64_t hist_highest_equivalent(const struct histogram *h, int64_t v)
{
    return hist_lowest_equivalent(h, v) + range_size(h, v) - 1;
}

int64_t hist_value_at_percentile(const struct histogram *h, double p)
{
    double req = p < 100.0 ? p : 100.0;
    int64_t want = (int64_t)((req / 100) * (double)h->total_count + 0.5), sum = 0, v = 0;
    int32_t i;
    if (want < 1) want = 1;
    for (i = 0; i < h->counts_len; i++) {
        sum += h->counts[i];
        if (sum >= want) {
            v = value_at_index(h, i);
            break;
        }
    }
    if (i == h->counts_len) return 0;
    return p == 0.0 ? hist_lowest_equivalent(h, v) : hist_highest_equivalent(h, v);
}

void hist_log_walk(const struct histogram *h, int64_t first, int base,
                   void (*fn)(void *priv, int64_t value, int64_t cumulative), void *priv)
{
    int64_t level = first, cum = 0, reported = 0;
    int32_t next = 0; /* the next slot to add to cum */
    if (h->total_count == 0 || first < 1 || base < 2) return;
    for (;;) {
        int32_t idx = index_of(h, hist_lowest_equivalent(h, level));
        /* A level past the last slot: the walk ends at the end of the
         * counts, reported with the previous level's value. */
        if (idx >= h->counts_len) {
            while (next < h->counts_len)
                cum += h->counts[next++];
            fn(priv, reported, cum);
            return;
        }
        while (next <= idx)
            cum += h->counts[next++];
        reported = hist_highest_equivalent(h, level);
        fn(priv, reported, cum);
        if (cum >= h->total_count) return;
        level *= base;
    }
}
