/* test_geohash.c — core/types/geohash.c: scores, geohash texts, decoded
 * coordinates and distances against figures taken from redis-server 7.0.15
 * (GEOADD / ZSCORE / GEOHASH / GEOPOS / GEODIST), encode/decode round trips,
 * neighbours, and that the cells geohash_cover returns hold every point of
 * a random search circle or box. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geohash.h"
#include "unit.h"
#include "util.h"

struct vec {
    double lon, lat;
    uint64_t score;
    const char *hash;
};

/* From redis-server 7.0.15. */
static const struct vec vectors[] = {
    {13.361389, 38.115556, 3479099956230698ULL, "sqc8b49rny0"},
    {15.087269, 37.502669, 3479447370796909ULL, "sqdtr74hyu0"},
    {0, 0, 3377699720527872ULL, "s0000000000"},
    {180, 85.05112878, 13510798882111488ULL, "bp05b5048p0"},
    {-180, -85.05112878, 0ULL, "00bh0hbj200"},
    {-122.4194, 37.7749, 1367859919124626ULL, "9q8yyk8ytp0"},
    {151.2093, -33.8688, 3252046221964352ULL, "r3gx2f77bj0"},
};

START_TEST(redis_scores_and_hashes)
{
    size_t i;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char buf[12];
        uint64_t s = geohash_score(vectors[i].lon, vectors[i].lat);
        ck_assert_uint_eq(s, vectors[i].score);
        ck_assert(geohash_text((double)s, buf));
        ck_assert_str_eq(buf, vectors[i].hash);
    }
}
END_TEST

static void coord_text(double v, char *out)
{
    char buf[5 * 1024];
    util_ld2str(buf, sizeof(buf), (long double)v);
    strcpy(out, buf);
}

START_TEST(redis_positions)
{
    double xy[2];
    char a[64], b[64];
    ck_assert(geohash_decode_score(3479099956230698.0, xy));
    coord_text(xy[0], a);
    coord_text(xy[1], b);
    ck_assert_str_eq(a, "13.36138933897018433");
    ck_assert_str_eq(b, "38.11555639549629859");
    ck_assert(geohash_decode_score(1367859919124626.0, xy));
    coord_text(xy[0], a);
    coord_text(xy[1], b);
    ck_assert_str_eq(a, "-122.41940170526504517");
    ck_assert_str_eq(b, "37.77490001056577995");
    /* (180, max latitude) overflows 26 bits: clamped to the limits */
    ck_assert(geohash_decode_score(13510798882111488.0, xy));
    coord_text(xy[0], a);
    coord_text(xy[1], b);
    ck_assert_str_eq(a, "180");
    ck_assert_str_eq(b, "85.0511287799999991");
}
END_TEST

static void dist_text(double d, char *out)
{
    snprintf(out, 64, "%.4f", d);
}

START_TEST(redis_distances)
{
    double a[2], b[2];
    char t[64];
    geohash_decode_score(3479099956230698.0, a);
    geohash_decode_score(3479447370796909.0, b);
    dist_text(geohash_distance(a[0], a[1], b[0], b[1]), t);
    ck_assert_str_eq(t, "166274.1516");
    dist_text(geohash_distance(a[0], a[1], b[0], b[1]) / 1609.34, t);
    ck_assert_str_eq(t, "103.3182");
    geohash_decode_score(1367859919124626.0, a);
    geohash_decode_score(3252046221964352.0, b);
    dist_text(geohash_distance(a[0], a[1], b[0], b[1]) / 1000, t);
    ck_assert_str_eq(t, "11951.0315");
    geohash_decode_score(3377699720527872.0, a);
    geohash_decode_score(13510798882111488.0, b);
    dist_text(geohash_distance(a[0], a[1], b[0], b[1]) / 1000, t);
    ck_assert_str_eq(t, "10560.8115");
    /* same longitude: the latitude-only path */
    ck_assert(fabs(geohash_distance(10, 0, 10, 1) - GEO_EARTH_RADIUS_M * M_PI / 180) < 1e-6);
    ck_assert(geohash_distance(1, 2, 1, 2) == 0);
}
END_TEST

START_TEST(round_trip)
{
    unsigned seed = 12345;
    int i;
    for (i = 0; i < 100000; i++) {
        double lon, lat, xy[2];
        seed = seed * 1103515245u + 12345u;
        lon = -180 + 360.0 * (seed % 1000000) / 1000000.0;
        seed = seed * 1103515245u + 12345u;
        lat = GEO_LAT_MIN + (GEO_LAT_MAX - GEO_LAT_MIN) * (seed % 1000000) / 1000000.0;
        ck_assert(geohash_decode_score((double)geohash_score(lon, lat), xy));
        /* a 26-step cell is < 6e-6 degrees wide */
        ck_assert(fabs(xy[0] - lon) < 6e-6);
        ck_assert(fabs(xy[1] - lat) < 6e-6);
        /* re-encoding the centre gives the same cell */
        ck_assert_uint_eq(geohash_score(xy[0], xy[1]), geohash_score(lon, lat));
    }
}
END_TEST

START_TEST(encode_limits)
{
    struct geo_bits h;
    ck_assert(!geohash_encode_wgs84(180.1, 0, 26, &h));
    ck_assert(!geohash_encode_wgs84(0, 85.06, 26, &h));
    ck_assert(!geohash_encode_wgs84(0, 0, 0, &h));
    ck_assert(!geohash_encode_wgs84(0, 0, 33, &h));
    ck_assert(geohash_encode_wgs84(0, 0, 1, &h));
    ck_assert_uint_eq(h.step, 1);
    ck_assert_uint_eq(h.bits, 3); /* the north-east quarter of the world */
}
END_TEST

START_TEST(neighbours_touch)
{
    struct geo_shape s;
    struct geo_cover c;
    struct geo_area centre, n;
    const struct geo_range lon = {GEO_LONG_MIN, GEO_LONG_MAX}, lat = {GEO_LAT_MIN, GEO_LAT_MAX};
    memset(&s, 0, sizeof(s));
    s.type = GEO_CIRCLE;
    s.xy[0] = 13.36;
    s.xy[1] = 38.11;
    s.radius = 1;
    s.conversion = 1000;
    geohash_cover(&s, &c);
    geohash_decode(lon, lat, c.cells[0], &centre);
    /* any neighbour still present shares an edge or a corner with the centre */
    for (int i = 1; i < 9; i++) {
        if (c.cells[i].bits == 0 && c.cells[i].step == 0) continue;
        geohash_decode(lon, lat, c.cells[i], &n);
        ck_assert_uint_eq(c.cells[i].step, c.cells[0].step);
        ck_assert(n.lat.max >= centre.lat.min - 1e-9 && n.lat.min <= centre.lat.max + 1e-9);
        ck_assert(n.lon.max >= centre.lon.min - 1e-9 && n.lon.min <= centre.lon.max + 1e-9);
    }
}
END_TEST

/* Every point inside a random shape lies in one of the covering cells. */
START_TEST(cover_holds_the_shape)
{
    unsigned seed = 99;
    int t, i, k;
    for (t = 0; t < 300; t++) {
        struct geo_shape s;
        struct geo_cover c;
        memset(&s, 0, sizeof(s));
        seed = seed * 1103515245u + 12345u;
        s.xy[0] = -170 + 340.0 * (seed % 10000) / 10000.0;
        seed = seed * 1103515245u + 12345u;
        s.xy[1] = -80 + 160.0 * (seed % 10000) / 10000.0;
        s.conversion = 1;
        s.type = t % 2 ? GEO_BOX : GEO_CIRCLE;
        s.radius = 100.0 * (1 + t * 37 % 5000);
        s.width = s.radius * 2;
        s.height = s.radius * 1.5;
        geohash_cover(&s, &c);
        for (i = 0; i < 400; i++) {
            double p[2], xy[2], d;
            uint64_t score;
            bool found = false;
            seed = seed * 1103515245u + 12345u;
            p[0] = s.xy[0] + ((double)(seed % 20001) - 10000) / 10000.0 * 5;
            seed = seed * 1103515245u + 12345u;
            p[1] = s.xy[1] + ((double)(seed % 20001) - 10000) / 10000.0 * 5;
            if (p[0] < -180 || p[0] > 180 || p[1] < GEO_LAT_MIN || p[1] > GEO_LAT_MAX) continue;
            score = geohash_score(p[0], p[1]);
            geohash_decode_score((double)score, xy);
            if (!geohash_in_shape(&s, xy, &d)) continue;
            for (k = 0; k < 9 && !found; k++) {
                struct geo_bits next = c.cells[k];
                if (c.cells[k].bits == 0 && c.cells[k].step == 0) continue;
                next.bits++;
                found = score >= geohash_align52(c.cells[k]) && score < geohash_align52(next);
            }
            ck_assert_msg(found, "point %f,%f not covered (shape %d at %f,%f)", p[0], p[1], t,
                          s.xy[0], s.xy[1]);
        }
    }
}
END_TEST

START_TEST(box_and_circle)
{
    struct geo_shape s;
    double xy[2] = {0, 0.5}, d;
    memset(&s, 0, sizeof(s));
    s.type = GEO_BOX;
    s.conversion = 1000;
    s.width = 10;
    s.height = 200;
    ck_assert(geohash_in_shape(&s, xy, &d)); /* 55.6 km north, inside 100 km */
    ck_assert(fabs(d / 1000 - 55.6) < 0.1);
    xy[0] = 0.5;
    xy[1] = 0;
    ck_assert(!geohash_in_shape(&s, xy, &d)); /* 55.6 km east, outside 5 km */
    s.type = GEO_CIRCLE;
    s.radius = 56;
    ck_assert(geohash_in_shape(&s, xy, &d));
    s.radius = 55;
    ck_assert(!geohash_in_shape(&s, xy, &d));
}
END_TEST

/* geohash_prepare (the centre's cosine once, the latitude band shortcut)
 * changes no answer and no distance bit. */
START_TEST(prepared_shape_is_the_same)
{
    unsigned seed = 4242;
    int t, i;
    for (t = 0; t < 200; t++) {
        struct geo_shape a, b;
        memset(&a, 0, sizeof(a));
        seed = seed * 1103515245u + 12345u;
        a.xy[0] = -180 + 360.0 * (seed % 100000) / 100000.0;
        seed = seed * 1103515245u + 12345u;
        a.xy[1] = GEO_LAT_MIN + (GEO_LAT_MAX - GEO_LAT_MIN) * (seed % 100000) / 100000.0;
        a.type = t % 3 ? GEO_CIRCLE : GEO_BOX;
        a.conversion = t % 2 ? 1000 : 0.3048;
        a.radius = (t * 7919) % 3000;
        a.width = a.radius * 2;
        a.height = a.radius;
        b = a;
        geohash_prepare(&b);
        for (i = 0; i < 500; i++) {
            double xy[2], da = -1, db = -1;
            bool ia, ib;
            seed = seed * 1103515245u + 12345u;
            xy[0] = a.xy[0] + ((double)(seed % 20001) - 10000) / 1000.0;
            seed = seed * 1103515245u + 12345u;
            xy[1] = a.xy[1] + ((double)(seed % 20001) - 10000) / 1000.0;
            if (i % 10 == 0) xy[0] = a.xy[0]; /* the same-longitude path */
            ia = geohash_in_shape(&a, xy, &da);
            ib = geohash_in_shape(&b, xy, &db);
            ck_assert(ia == ib);
            if (ia) ck_assert(memcmp(&da, &db, sizeof(da)) == 0);
        }
    }
}
END_TEST

static Suite *geohash_suite(void)
{
    Suite *s = suite_create("geohash");
    TCase *tc = unit_tcase("core", 120);
    tcase_add_test(tc, redis_scores_and_hashes);
    tcase_add_test(tc, redis_positions);
    tcase_add_test(tc, redis_distances);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, encode_limits);
    tcase_add_test(tc, neighbours_touch);
    tcase_add_test(tc, cover_holds_the_shape);
    tcase_add_test(tc, box_and_circle);
    tcase_add_test(tc, prepared_shape_is_the_same);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(geohash_suite());
}
